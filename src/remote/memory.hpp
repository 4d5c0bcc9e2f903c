// memory.hpp: where the decoder's bytes come from.
//
// The decoder reads through the abstract `Memory`, never from a process directly, so the tests
// can feed it a captured and then mutated image (SnapshotMemory) as well as a live process
// (ProcessMemory, behind a PageCache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace fs::remote {

class Memory {
public:
    virtual ~Memory() = default;
    // Copies `size` bytes at remote address `addr` to `out`. False if any of them is unreadable.
    virtual bool read(uint64_t addr, void* out, size_t size) = 0;
    // Reads `size` bytes at each of `addrs` into out[i] (resized to `size`, or emptied where
    // unreadable). Sources that can read many ranges in one system call override this.
    virtual void read_many(const std::vector<uint64_t>& addrs, size_t size,
                           std::vector<std::string>& out);
};

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    int get() const noexcept { return fd_; }
    int release() noexcept { int fd = fd_; fd_ = -1; return fd; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// A live process's memory: process_vm_readv, or /proc/PID/mem where that system call is not
// available (seccomp, old kernels, some container runtimes).
class ProcessMemory : public Memory {
public:
    // FRAMESCOPE_REMOTE_MEMORY=proc-mem in the environment: read through /proc/PID/mem only
    // (to compare the two paths, or where process_vm_readv misbehaves).
    explicit ProcessMemory(pid_t pid);
    bool read(uint64_t addr, void* out, size_t size) override;
    // One process_vm_readv for up to IOV_MAX ranges.
    void read_many(const std::vector<uint64_t>& addrs, size_t size,
                   std::vector<std::string>& out) override;
    // errno of the last failed read (ESRCH: the process is gone; EPERM/EACCES: refused).
    int last_error() const noexcept { return last_error_; }
    size_t syscalls() const noexcept { return syscalls_; }

private:
    bool read_proc_mem(uint64_t addr, void* out, size_t size);

    pid_t pid_;
    bool use_vm_readv_ = true;
    Fd mem_fd_;
    int last_error_ = 0;
    size_t syscalls_ = 0;
};

// Reads whole pages from another Memory and keeps them: the stack of one thread, a code object
// and its strings mostly share a few pages, so a dump costs a few dozen system calls instead of
// thousands. The cached pages are also what a snapshot captures.
class PageCache : public Memory {
public:
    static constexpr uint64_t page_size = 4096;
    explicit PageCache(Memory& source) : source_(source) {}
    bool read(uint64_t addr, void* out, size_t size) override;
    std::map<uint64_t, std::string> pages() const;
    std::vector<uint64_t> page_addresses() const;
    size_t page_count() const;  // of the pages that could be read
    // Reads these pages now, in as few system calls as the source allows. A dump learns which
    // pages it needs from a first pass without stopping the target, then refreshes them all in
    // one go once the target is stopped: the stop lasts one system call instead of one per page.
    void prefetch(const std::vector<uint64_t>& page_addrs);

private:
    const std::string* page(uint64_t page_addr);

    Memory& source_;
    // A page that could not be read is remembered as an empty string.
    std::unordered_map<uint64_t, std::string> pages_;
};

// A captured image: pages of memory at their addresses; everything else is unreadable.
class SnapshotMemory : public Memory {
public:
    explicit SnapshotMemory(std::map<uint64_t, std::string> regions) : regions_(std::move(regions)) {}
    bool read(uint64_t addr, void* out, size_t size) override;

private:
    std::map<uint64_t, std::string> regions_;
};

}  // namespace fs::remote
