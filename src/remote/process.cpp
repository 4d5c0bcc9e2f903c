// process.cpp: /proc parsing and the ptrace stop.
#include "process.hpp"

#include "error.hpp"
#include "memory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <pthread.h>
#include <sstream>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs::remote {

namespace {

std::string proc_path(pid_t pid, const char* what) {
    return "/proc/" + std::to_string(pid) + "/" + what;
}

std::string read_small_file(const std::string& path, bool* ok) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        *ok = false;
        return {};
    }
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            *ok = n == 0;
            return out;
        }
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (64u << 20)) {  // no /proc file of ours is this big
            *ok = false;
            return out;
        }
    }
}

[[noreturn]] void permission_error(pid_t pid, const std::string& what) {
    throw Error(ErrorKind::permission,
                "permission denied " + what + " process " + std::to_string(pid) +
                    ": reading another process needs ptrace rights over it (the same user and "
                    "kernel.yama.ptrace_scope allowing it, or CAP_SYS_PTRACE)");
}

// TracerPid in /proc/PID/status: who ptraces the process (0: nobody).
pid_t tracer_of(pid_t pid) {
    bool ok = true;
    std::string status = read_small_file(proc_path(pid, "status"), &ok);
    size_t at = status.find("TracerPid:");
    if (!ok || at == std::string::npos) {
        return 0;
    }
    return static_cast<pid_t>(std::strtol(status.c_str() + at + 10, nullptr, 10));
}

}  // namespace

bool process_exists(pid_t pid) {
    struct stat st;
    return ::stat(proc_path(pid, "").c_str(), &st) == 0;
}

void check_process_exists(pid_t pid) {
    if (pid <= 0 || !process_exists(pid)) {
        throw Error(ErrorKind::no_such_process, "no process with id " + std::to_string(pid));
    }
}

std::vector<Mapping> read_maps(pid_t pid) {
    bool ok = true;
    std::string text = read_small_file(proc_path(pid, "maps"), &ok);
    if (!ok) {
        int err = errno;
        if (!process_exists(pid)) {
            throw Error(ErrorKind::exited, "process " + std::to_string(pid) + " exited");
        }
        if (err == EACCES || err == EPERM) {
            permission_error(pid, "reading the memory map of");
        }
        throw Error(ErrorKind::os, "cannot read /proc/" + std::to_string(pid) + "/maps: " +
                                       std::strerror(err));
    }
    std::vector<Mapping> maps;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        Mapping m;
        unsigned long long start = 0, end = 0, offset = 0;
        char perms[8] = {};
        int path_at = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms,
                        &offset, &path_at) < 4) {
            continue;
        }
        m.start = start;
        m.end = end;
        m.offset = offset;
        m.perms = perms;
        if (path_at > 0 && static_cast<size_t>(path_at) < line.size()) {
            m.path = line.substr(static_cast<size_t>(path_at));
        }
        maps.push_back(std::move(m));
    }
    return maps;
}

std::vector<pid_t> list_threads(pid_t pid) {
    std::vector<pid_t> tids;
    DIR* dir = ::opendir(proc_path(pid, "task").c_str());
    if (dir == nullptr) {
        return tids;
    }
    while (struct dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        long tid = std::strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && tid > 0) {
            tids.push_back(static_cast<pid_t>(tid));
        }
    }
    ::closedir(dir);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::string thread_name(pid_t pid, pid_t tid) {
    bool ok = true;
    std::string name = read_small_file(
        "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm", &ok);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\0')) {
        name.pop_back();
    }
    return ok ? name : std::string();
}

char process_state(pid_t pid) {
    bool ok = true;
    std::string stat = read_small_file(proc_path(pid, "stat"), &ok);
    // "PID (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'.
    size_t close = stat.rfind(')');
    if (!ok || close == std::string::npos || close + 2 >= stat.size()) {
        return 0;
    }
    return stat[close + 2];
}

SignalBlock::SignalBlock() {
    sigset_t block;
    sigemptyset(&block);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        sigaddset(&block, sig);
    }
    pthread_sigmask(SIG_BLOCK, &block, &old_);
}

SignalBlock::~SignalBlock() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

ThreadStopper::ThreadStopper(pid_t pid) : pid_(pid) {
    try {
        // Threads may start while we attach: read the task list again until it has nothing
        // new (bounded: a process that starts threads faster than we attach still gets a
        // snapshot of the ones we caught).
        for (int round = 0; round < 16; ++round) {
            // Interrupt every new thread first, then wait for them: they stop in parallel.
            size_t first_new = threads_.size();
            for (pid_t tid : list_threads(pid_)) {
                bool known = std::any_of(threads_.begin(), threads_.end(),
                                         [tid](const Attached& a) { return a.tid == tid; });
                if (!known) {
                    attach(tid);
                }
            }
            if (threads_.size() == first_new) {
                break;
            }
            for (size_t i = first_new; i < threads_.size();) {
                if (wait_stopped(threads_[i])) {
                    ++i;
                } else {
                    threads_.erase(threads_.begin() + static_cast<std::ptrdiff_t>(i));
                }
            }
        }
        stopping_ns_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::steady_clock::now() - first_stop_)
                                                  .count());
        if (threads_.empty()) {
            if (!process_exists(pid_)) {
                throw Error(ErrorKind::exited, "process " + std::to_string(pid_) + " exited");
            }
            throw Error(ErrorKind::os, "could not stop any thread of process " +
                                           std::to_string(pid_));
        }
    } catch (...) {
        resume();
        throw;
    }
}

ThreadStopper::~ThreadStopper() { resume(); }

bool ThreadStopper::attach(pid_t tid) {
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        if (errno == ESRCH) {
            return false;  // exited meanwhile
        }
        if (errno == EPERM || errno == EACCES) {
            if (tid == pid_ || threads_.empty()) {
                pid_t tracer = tracer_of(pid_);
                if (tracer > 0) {
                    throw Error(ErrorKind::permission,
                                "process " + std::to_string(pid_) +
                                    " is already being traced (by process " +
                                    std::to_string(tracer) +
                                    ", a debugger?): read it without stopping (--no-block, "
                                    "block=False)");
                }
                if (::getpid() == pid_) {
                    throw Error(ErrorKind::permission,
                                "a process cannot stop its own threads with ptrace; read it "
                                "without stopping (--no-block, block=False)");
                }
                permission_error(pid_, "stopping");
            }
            return false;
        }
        throw Error(ErrorKind::os, "ptrace(PTRACE_SEIZE, " + std::to_string(tid) +
                                       "): " + std::strerror(errno));
    }
    if (!started_) {
        started_ = true;
        first_stop_ = std::chrono::steady_clock::now();
    }
    threads_.push_back({tid, 0});
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
        threads_.pop_back();
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        return false;
    }
    return true;
}

bool ThreadStopper::wait_stopped(Attached& t) {
    // A thread in uninterruptible sleep may take a moment to stop; do not wait forever.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (unsigned spin = 0;; ++spin) {
        int status = 0;
        pid_t r = ::waitpid(t.tid, &status, __WALL | WNOHANG);
        if (r == t.tid) {
            if (WIFEXITED(status) || WIFSIGNALED(status)) {
                return false;  // the thread is gone; nothing to detach
            }
            if (WIFSTOPPED(status)) {
                int sig = WSTOPSIG(status);
                bool event_stop = (status >> 16) == PTRACE_EVENT_STOP;
                // A signal-delivery stop came before our interrupt: the signal is handed back
                // at detach. An event stop (our interrupt, or a group stop) carries none.
                t.pending_signal = event_stop ? 0 : sig;
                return true;
            }
        } else if (r < 0 && errno != EINTR) {
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::ptrace(PTRACE_DETACH, t.tid, nullptr, nullptr);
            throw Error(ErrorKind::os, "thread " + std::to_string(t.tid) +
                                           " did not stop within 2 s (uninterruptible sleep?)");
        }
        if (spin < 64) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}

void ThreadStopper::resume() noexcept {
    for (const Attached& t : threads_) {
        ::ptrace(PTRACE_DETACH, t.tid, nullptr,
                 reinterpret_cast<void*>(static_cast<intptr_t>(t.pending_signal)));
    }
    if (started_ && stopped_ns_ == 0) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now() - first_stop_);
        stopped_ns_ = static_cast<uint64_t>(std::max<int64_t>(1, ns.count()));
    }
    threads_.clear();
}

}  // namespace fs::remote
