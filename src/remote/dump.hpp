// dump.hpp: one dump of another process: find the interpreter, stop the threads, decode, resume.
#pragma once

#include "decode.hpp"
#include "target.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fs::remote {

struct DumpOptions {
    bool locals = false;
    bool block = true;          // stop the threads for a consistent snapshot
    int attempts = 3;           // snapshots tried before reporting that memory kept changing
    uint64_t hold_stopped_ns = 0;  // tests only: keep the threads stopped this long
};

struct DumpResult {
    pid_t pid = 0;
    std::string python_version;
    std::vector<ThreadRecord> threads;
    // Statistics: how long the threads were stopped (0 with block=false), how many snapshots
    // were taken, how many system calls read memory, and the page count of the last snapshot.
    uint64_t stopped_ns = 0;
    uint64_t stopping_ns = 0;  // of stopped_ns: until the last thread had stopped
    int attempts = 0;
    size_t read_syscalls = 0;
    size_t pages = 0;
};

// Throws Error.
DumpResult dump(pid_t pid, const DumpOptions& options);

// The layout a dump of `pid` uses (3.13+: with the target's debug offsets applied).
Layout effective_layout(pid_t pid);

// A captured image for the tests: what a dump read, to decode again (mutated) offline.
struct Capture {
    Target target;
    std::map<uint64_t, std::string> pages;
};
Capture capture(pid_t pid, bool locals);
std::vector<ThreadRecord> decode_capture(const Target& target,
                                         std::map<uint64_t, std::string> pages, bool locals);

}  // namespace fs::remote
