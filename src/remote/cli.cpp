// cli.cpp: the `framescope` command, as installed into the environment's bin/ directory.
//
// `framescope dump PID [--locals] [--json] [--no-block] [--stats]` runs here, natively: a dump
// is usually wanted in a hurry, and starting a Python interpreter (10+ ms, before any import)
// would cost several times the dump itself. Everything else — help, `demo`, mistakes — is
// handed to the Python command line (framescope/__main__.py), by exec'ing the interpreter that
// framescope was installed for with `-m framescope`. The output is the Python command line's,
// byte for byte in text mode and the same document in JSON mode (tests/test_remote.py runs
// both).
#include "decode.hpp"
#include "dump.hpp"
#include "error.hpp"

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

// Decodes UTF-8 (invalid bytes as U+FFFD, as the Python side decodes with errors="replace").
std::u32string decode_utf8(const std::string& s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            ok = (cc >> 6) == 2;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {
            out += U'\uFFFD';
            i += 1;
            continue;
        }
        out += cp;
        i += static_cast<size_t>(len);
    }
    return out;
}

void utf8_replace(std::string& out, const std::string& s) {
    for (char32_t c : decode_utf8(s)) {
        append_utf8(out, c);
    }
}

// A JSON string as Python's json.dumps writes it (ensure_ascii).
void json_string(std::string& out, const std::string& s) {
    out += '"';
    char buf[16];
    for (char32_t c : decode_utf8(s)) {
        switch (c) {
            case U'"': out += "\\\""; continue;
            case U'\\': out += "\\\\"; continue;
            case U'\n': out += "\\n"; continue;
            case U'\r': out += "\\r"; continue;
            case U'\t': out += "\\t"; continue;
            case U'\b': out += "\\b"; continue;
            case U'\f': out += "\\f"; continue;
            default: break;
        }
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else if (c < 0x10000) {
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            char32_t v = c - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
            out += buf;
        }
    }
    out += '"';
}

std::string number_or_null(int64_t n) { return n < 0 ? std::string("null") : std::to_string(n); }

std::string to_json(const DumpResult& r, bool locals) {
    // The layout of json.dumps(document, indent=2).
    std::string o = "{\n  \"pid\": ";
    o += std::to_string(r.pid);
    o += ",\n  \"python_version\": ";
    json_string(o, r.python_version);
    o += ",\n  \"threads\": [";
    for (size_t t = 0; t < r.threads.size(); ++t) {
        const ThreadRecord& th = r.threads[t];
        o += t ? ",\n    {\n" : "\n    {\n";
        o += "      \"thread_id\": ";
        o += std::to_string(th.thread_id);
        o += ",\n      \"native_id\": ";
        o += number_or_null(th.native_id);
        o += ",\n";
        o += "      \"name\": ";
        if (th.name.empty()) {
            o += "null";
        } else {
            json_string(o, th.name);
        }
        o += ",\n      \"frames\": [";
        for (size_t f = 0; f < th.frames.size(); ++f) {
            const FrameRecord& fr = th.frames[f];
            o += f ? ",\n        {\n" : "\n        {\n";
            o += "          \"filename\": ";
            json_string(o, fr.filename);
            o += ",\n          \"lineno\": ";
            o += number_or_null(fr.lineno);
            o += ",\n          \"function\": ";
            json_string(o, fr.function);
            if (locals) {
                o += ",\n          \"locals\": ";
                if (fr.locals.empty()) {
                    o += "{}";
                } else {
                    o += "{";
                    for (size_t v = 0; v < fr.locals.size(); ++v) {
                        o += v ? ",\n            " : "\n            ";
                        json_string(o, fr.locals[v].first);
                        o += ": ";
                        json_string(o, fr.locals[v].second);
                    }
                    o += "\n          }";
                }
            }
            o += "\n        }";
        }
        o += th.frames.empty() ? "]" : "\n      ]";
        o += "\n    }";
    }
    o += r.threads.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return o;
}

std::string to_text(const DumpResult& r, bool locals) {
    std::string o = "Process ";
    o += std::to_string(r.pid);
    o += ": Python ";
    o += r.python_version;
    o += ", ";
    o += std::to_string(r.threads.size());
    o += r.threads.size() == 1 ? " thread\n" : " threads\n";
    for (const ThreadRecord& th : r.threads) {
        o += "\nThread ";
        o += std::to_string(th.thread_id);
        if (th.native_id >= 0) {
            o += ", native id ";
            o += std::to_string(th.native_id);
        }
        if (!th.name.empty()) {
            o += " \"";
            utf8_replace(o, th.name);
            o += "\"";
        }
        o += "\n";
        if (th.frames.empty()) {
            o += "    (no Python frames)\n";
        }
        for (const FrameRecord& fr : th.frames) {
            o += "    ";
            utf8_replace(o, fr.function);
            o += "  (";
            utf8_replace(o, fr.filename);
            o += ":";
            o += fr.lineno < 0 ? std::string("?") : std::to_string(fr.lineno);
            o += ")\n";
            if (locals) {
                for (const auto& [name, value] : fr.locals) {
                    o += "        ";
                    utf8_replace(o, name);
                    o += " = ";
                    utf8_replace(o, value);
                    o += "\n";
                }
            }
        }
    }
    return o;
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
        std::fprintf(stderr,
                     "framescope dump: target stopped %.3f ms; %d snapshot(s), %zu read system "
                     "calls, %zu pages\n",
                     static_cast<double>(r.stopped_ns) / 1e6, r.attempts, r.read_syscalls,
                     r.pages);
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
