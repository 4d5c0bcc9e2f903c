// process.hpp: the target process as the kernel shows it: its threads, its mappings, and the
// ptrace stop that makes a consistent snapshot.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fs::remote {

struct Mapping {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t offset = 0;
    std::string perms;
    std::string path;
};

// Throws Error(no_such_process) when there is no /proc/PID.
void check_process_exists(pid_t pid);
bool process_exists(pid_t pid);
std::vector<Mapping> read_maps(pid_t pid);
std::vector<pid_t> list_threads(pid_t pid);
// /proc/PID/task/TID/comm: the kernel's thread name (Python 3.14+ sets it from
// threading.Thread.name, gh-59705; before, every thread shows the executable's name unless the program
// set it).
std::string thread_name(pid_t pid, pid_t tid);
// The process state letter of /proc/PID/stat ('R', 'S', 't', 'T', ...); 0 if unreadable.
char process_state(pid_t pid);

// Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT in the calling thread for its lifetime, so that
// Ctrl-C or a kill arriving while the target is stopped is handled after it has been resumed
// (the signals stay pending and are delivered when the mask is restored). A signal directed at
// another thread of this process, or SIGKILL, still ends us while the target is stopped: the
// kernel then detaches, and threads stopped with PTRACE_SEIZE + PTRACE_INTERRUPT resume.
class SignalBlock {
public:
    SignalBlock();
    ~SignalBlock();
    SignalBlock(const SignalBlock&) = delete;
    SignalBlock& operator=(const SignalBlock&) = delete;

private:
    sigset_t old_;
};

// Stops every thread of the target with ptrace (PTRACE_SEIZE, then PTRACE_INTERRUPT) and
// resumes them all (PTRACE_DETACH) in resume() or, whatever happens, in the destructor. Threads
// that start while we attach are attached too (the task list is read until it is stable);
// threads that exit meanwhile are dropped. A signal that arrives for a stopped thread is handed
// back to it when it is resumed.
class ThreadStopper {
public:
    explicit ThreadStopper(pid_t pid);
    ~ThreadStopper();
    ThreadStopper(const ThreadStopper&) = delete;
    ThreadStopper& operator=(const ThreadStopper&) = delete;

    void resume() noexcept;
    // From the first PTRACE_INTERRUPT to the last PTRACE_DETACH (0 until resume()).
    uint64_t stopped_ns() const noexcept { return stopped_ns_; }
    // Of that, the time until every thread had stopped (the rest is the read).
    uint64_t stopping_ns() const noexcept { return stopping_ns_; }
    size_t thread_count() const noexcept { return threads_.size(); }

private:
    struct Attached {
        pid_t tid;
        int pending_signal;  // to hand back at detach
    };
    bool attach(pid_t tid);
    bool wait_stopped(Attached& t);

    pid_t pid_;
    std::vector<Attached> threads_;
    std::chrono::steady_clock::time_point first_stop_{};
    bool started_ = false;
    uint64_t stopped_ns_ = 0;
    uint64_t stopping_ns_ = 0;
};

}  // namespace fs::remote
