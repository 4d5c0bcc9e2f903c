// cli.cpp: the `framescope` command, as installed into the environment's bin/ directory.
//
// `framescope dump PID [--locals] [--json] [--no-block] [--stats]` runs here, natively: a dump
// is usually wanted in a hurry, and starting a Python interpreter (10+ ms, before any import)
// would cost several times the dump itself. Everything else — help, `demo`, mistakes — is
// handed to the Python command line (framescope/__main__.py), by exec'ing the interpreter that
// framescope was installed for with `-m framescope`. The output is the Python command line's,
// both print what format.hpp formats (tests/test_remote.py compares them).
#include "dump.hpp"
#include "error.hpp"
#include "format.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#ifndef FS_PYTHON_NAME
#error "FS_PYTHON_NAME (e.g. python3.12) must be defined by the build"
#endif

using namespace fs::remote;

namespace {

struct Args {
    pid_t pid = 0;
    bool locals = false, json = false, no_block = false, stats = false;
};

// The grammar the Python command line accepts for a dump, without abbreviations; anything
// else goes to argparse (which explains mistakes).
bool quick_args(int argc, char** argv, Args& out) {
    if (argc < 3 || std::strcmp(argv[1], "dump") != 0) {
        return false;
    }
    const char* pid = argv[2];
    if (*pid == '\0' || std::strspn(pid, "0123456789") != std::strlen(pid) ||
        std::strlen(pid) > 9) {
        return false;
    }
    out.pid = static_cast<pid_t>(std::stol(pid));
    for (int i = 3; i < argc; ++i) {
        bool* flag = std::strcmp(argv[i], "--locals") == 0     ? &out.locals
                     : std::strcmp(argv[i], "--json") == 0     ? &out.json
                     : std::strcmp(argv[i], "--no-block") == 0 ? &out.no_block
                     : std::strcmp(argv[i], "--stats") == 0    ? &out.stats
                                                               : nullptr;
        if (flag == nullptr || *flag) {
            return false;
        }
        *flag = true;
    }
    return true;
}

int run_dump(const Args& a) {
    DumpOptions options;
    options.locals = a.locals;
    options.block = !a.no_block;
    DumpResult r;
    try {
        r = dump(a.pid, options);
    } catch (const Error& e) {
        std::fprintf(stderr, "framescope dump: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "framescope dump: %s\n", e.what());
        return 1;
    }
    std::string out = a.json ? to_json(r, a.locals) : to_text(r, a.locals);
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (a.stats) {
        std::string line = stats_line(r);
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}

// Runs the Python command line with the same arguments.
int exec_python(int argc, char** argv) {
    std::string self;
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        self.assign(buf, static_cast<size_t>(n));
    }
    std::string dir = self.substr(0, self.rfind('/') + 1);
    std::vector<std::string> candidates = {dir + FS_PYTHON_NAME, dir + "python3", dir + "python"};
    for (const std::string& python : candidates) {
        if (::access(python.c_str(), X_OK) != 0) {
            continue;
        }
        std::vector<char*> args;
        args.push_back(const_cast<char*>(python.c_str()));
        args.push_back(const_cast<char*>("-m"));
        args.push_back(const_cast<char*>("framescope"));
        for (int i = 1; i < argc; ++i) {
            args.push_back(argv[i]);
        }
        args.push_back(nullptr);
        ::execv(python.c_str(), args.data());
    }
    // Not beside its interpreter: the one on PATH, if it is the right version.
    std::vector<char*> args = {const_cast<char*>(FS_PYTHON_NAME), const_cast<char*>("-m"),
                               const_cast<char*>("framescope")};
    for (int i = 1; i < argc; ++i) {
        args.push_back(argv[i]);
    }
    args.push_back(nullptr);
    ::execvp(FS_PYTHON_NAME, args.data());
    std::fprintf(stderr, "framescope: cannot run %s -m framescope: %s\n", FS_PYTHON_NAME,
                 std::strerror(errno));
    return 127;
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (quick_args(argc, argv, args)) {
        return run_dump(args);
    }
    return exec_python(argc, argv);
}
