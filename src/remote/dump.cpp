// dump.cpp: the retry loop around one consistent read.
#include "dump.hpp"

#include "error.hpp"
#include "memory.hpp"
#include "process.hpp"

#include <algorithm>
#include <cerrno>
#include <thread>

namespace fs::remote {

namespace {

// Why a read failed, once the decoder gave up: gone, refused, or memory that changed.
[[noreturn]] void report_failure(pid_t pid, const ProcessMemory& mem, const std::string& detail,
                                 int attempts) {
    if (!process_exists(pid) || mem.last_error() == ESRCH) {
        throw Error(ErrorKind::exited, "process " + std::to_string(pid) + " exited while being read");
    }
    if (mem.last_error() == EPERM || mem.last_error() == EACCES) {
        throw Error(ErrorKind::permission,
                    "permission denied reading the memory of process " + std::to_string(pid) +
                        ": reading another process needs ptrace rights over it (the same user, "
                        "or CAP_SYS_PTRACE)");
    }
    throw Error(ErrorKind::changed,
                "the memory of process " + std::to_string(pid) + " changed while being read (" +
                    std::to_string(attempts) + " attempts; last: " + detail + ")");
}

struct Snapshot {
    std::vector<ThreadRecord> threads;
    uint64_t stopped_ns = 0;
    uint64_t stopping_ns = 0;
    size_t pages = 0;
    std::map<uint64_t, std::string> captured;
};

Snapshot one_snapshot(ProcessMemory& mem, const Target& target, const DumpOptions& options,
                      bool keep_pages) {
    Snapshot snap;
    PageCache cache(mem);
    DecodeOptions decode{options.locals};
    if (options.block) {
        // A first pass while the target runs, to learn which pages the dump reads.
        std::vector<uint64_t> wanted;
        {
            PageCache scout(mem);
            try {
                Layout layout = layout_for(scout, target);
                decode_threads(scout, target, layout, decode);
            } catch (const InvalidMemory&) {
                // Caught mid-change: the stopped pass reads whatever the scout missed.
            }
            wanted = scout.page_addresses();
        }
        SignalBlock signals;  // Ctrl-C and SIGTERM wait until the target runs again
        ThreadStopper stopper(target.pid);
        cache.prefetch(wanted);
        Layout layout = layout_for(cache, target);
        snap.threads = decode_threads(cache, target, layout, decode);
        if (options.hold_stopped_ns != 0) {
            std::this_thread::sleep_for(std::chrono::nanoseconds(options.hold_stopped_ns));
        }
        stopper.resume();
        snap.stopped_ns = stopper.stopped_ns();
        snap.stopping_ns = stopper.stopping_ns();
    } else {
        Layout layout = layout_for(cache, target);
        snap.threads = decode_threads(cache, target, layout, decode);
    }
    if (keep_pages) {
        snap.captured = cache.pages();
    }
    snap.pages = cache.page_count();
    return snap;
}

}  // namespace

DumpResult dump(pid_t pid, const DumpOptions& options) {
    ProcessMemory mem(pid);
    Target target = locate(pid, mem);
    DumpResult result;
    result.pid = pid;
    result.python_version = target.version_string();
    std::string last_problem;
    int attempts = std::max(1, options.attempts);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        result.attempts = attempt;
        try {
            Snapshot snap = one_snapshot(mem, target, options, false);
            result.threads = std::move(snap.threads);
            result.stopped_ns = snap.stopped_ns;
            result.stopping_ns = snap.stopping_ns;
            result.pages = snap.pages;
            result.read_syscalls = mem.syscalls();
            if (!target.micro_known()) {
                // No Py_Version (3.10; bpo-43931 added it in 3.11): sys.version says which 3.10.
                PageCache cache(mem);
                try {
                    std::string v = version_from_sys(cache, target, layout_for(cache, target));
                    if (v.rfind(result.python_version + ".", 0) == 0 && v.size() < 32) {
                        result.python_version = v;
                    }
                } catch (const InvalidMemory&) {
                    // keep "3.10"
                }
            }
            std::vector<pid_t> tasks = list_threads(pid);
            for (ThreadRecord& t : result.threads) {
                if (t.native_id > 0 &&
                    std::find(tasks.begin(), tasks.end(), static_cast<pid_t>(t.native_id)) ==
                        tasks.end()) {
                    t.native_id = -1;  // 3.10's guess from glibc's struct was wrong, or gone
                }
                if (t.native_id > 0) {
                    t.name = thread_name(pid, static_cast<pid_t>(t.native_id));
                }
            }
            return result;
        } catch (const InvalidMemory& e) {
            last_problem = e.what();
            if (!process_exists(pid) || mem.last_error() == ESRCH) {
                break;
            }
        }
    }
    report_failure(pid, mem, last_problem, result.attempts);
}

Layout effective_layout(pid_t pid) {
    ProcessMemory mem(pid);
    Target target = locate(pid, mem);
    PageCache cache(mem);
    try {
        return layout_for(cache, target);
    } catch (const InvalidMemory& e) {
        report_failure(pid, mem, e.what(), 1);
    }
}

Capture capture(pid_t pid, bool locals) {
    ProcessMemory mem(pid);
    Capture c;
    c.target = locate(pid, mem);
    DumpOptions options;
    options.locals = locals;
    for (int attempt = 1;; ++attempt) {
        try {
            c.pages = one_snapshot(mem, c.target, options, true).captured;
            return c;
        } catch (const InvalidMemory& e) {
            if (attempt == 3) {
                report_failure(pid, mem, e.what(), attempt);
            }
        }
    }
}

std::vector<ThreadRecord> decode_capture(const Target& target,
                                         std::map<uint64_t, std::string> pages, bool locals) {
    SnapshotMemory mem(std::move(pages));
    Layout layout = layout_for(mem, target);
    return decode_threads(mem, target, layout, DecodeOptions{locals});
}

}  // namespace fs::remote
