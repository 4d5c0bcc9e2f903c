// memory.cpp: reading another process's memory, and the page cache in front of it.
#include "memory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <climits>
#include <cstdlib>
#include <sys/uio.h>
#include <unistd.h>

namespace fs::remote {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

ProcessMemory::ProcessMemory(pid_t pid) : pid_(pid) {
    const char* choice = std::getenv("FRAMESCOPE_REMOTE_MEMORY");
    if (choice != nullptr && std::strcmp(choice, "proc-mem") == 0) {
        use_vm_readv_ = false;
    }
}

void Memory::read_many(const std::vector<uint64_t>& addrs, size_t size,
                       std::vector<std::string>& out) {
    out.assign(addrs.size(), std::string());
    for (size_t i = 0; i < addrs.size(); ++i) {
        out[i].resize(size);
        if (!read(addrs[i], out[i].data(), size)) {
            out[i].clear();
        }
    }
}

void ProcessMemory::read_many(const std::vector<uint64_t>& addrs, size_t size,
                              std::vector<std::string>& out) {
    if (!use_vm_readv_) {
        Memory::read_many(addrs, size, out);
        return;
    }
    out.assign(addrs.size(), std::string(size, '\0'));
    size_t next = 0;
    while (next < addrs.size()) {
        size_t count = std::min<size_t>(addrs.size() - next, IOV_MAX);
        std::vector<struct iovec> local(count), remote(count);
        for (size_t i = 0; i < count; ++i) {
            local[i] = {out[next + i].data(), size};
            remote[i] = {reinterpret_cast<void*>(addrs[next + i]), size};
        }
        ++syscalls_;
        ssize_t n = ::process_vm_readv(pid_, local.data(), count, remote.data(), count, 0);
        if (n < 0) {  // not even the first range: read that one alone, then go on
            last_error_ = errno;
            n = 0;
        }
        // Ranges are read in order and the transfer stops at the first that fails.
        size_t done = static_cast<size_t>(n) / size;
        if (done < count) {
            out[next + done].clear();  // unreadable (or partly): the decoder reads it exactly
            done += 1;
        }
        next += done;
    }
}

bool ProcessMemory::read(uint64_t addr, void* out, size_t size) {
    if (size == 0) {
        return true;
    }
    if (use_vm_readv_) {
        struct iovec local {out, size};
        struct iovec remote {reinterpret_cast<void*>(addr), size};
        ++syscalls_;
        ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
        if (n == static_cast<ssize_t>(size)) {
            return true;
        }
        if (n >= 0) {  // a partial read: the range runs into unmapped memory
            last_error_ = EFAULT;
            return false;
        }
        if (errno != ENOSYS && errno != EPERM) {
            last_error_ = errno;
            return false;
        }
        // ENOSYS: no such system call here; EPERM: a seccomp filter may refuse the system call
        // while /proc/PID/mem (checked with the same ptrace rules) is still allowed.
        use_vm_readv_ = false;
    }
    return read_proc_mem(addr, out, size);
}

bool ProcessMemory::read_proc_mem(uint64_t addr, void* out, size_t size) {
    if (!mem_fd_) {
        std::string path = "/proc/" + std::to_string(pid_) + "/mem";
        mem_fd_ = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!mem_fd_) {
            last_error_ = errno == ENOENT ? ESRCH : errno;
            return false;
        }
    }
    size_t done = 0;
    while (done < size) {
        ++syscalls_;
        ssize_t n = ::pread(mem_fd_.get(), static_cast<char*>(out) + done, size - done,
                            static_cast<off_t>(addr + done));
        if (n <= 0) {
            last_error_ = n == 0 ? EFAULT : errno;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

const std::string* PageCache::page(uint64_t page_addr) {
    auto it = pages_.find(page_addr);
    if (it == pages_.end()) {
        std::string data(page_size, '\0');
        if (!source_.read(page_addr, data.data(), page_size)) {
            data.clear();
        }
        it = pages_.emplace(page_addr, std::move(data)).first;
    }
    return it->second.empty() ? nullptr : &it->second;
}

bool PageCache::read(uint64_t addr, void* out, size_t size) {
    if (size == 0) {
        return true;
    }
    if (addr + size < addr) {
        return false;
    }
    auto* dest = static_cast<char*>(out);
    uint64_t at = addr;
    uint64_t end = addr + size;
    while (at < end) {
        uint64_t base = at & ~(page_size - 1);
        uint64_t take = std::min(end, base + page_size) - at;
        const std::string* p = page(base);
        if (p == nullptr) {
            // The page as a whole is not readable (e.g. the last page of a mapping that ends
            // mid-page cannot be: mappings are page-aligned). Fall back to the exact range.
            return source_.read(at, dest, end - at);
        }
        std::memcpy(dest, p->data() + (at - base), take);
        dest += take;
        at += take;
    }
    return true;
}

std::vector<uint64_t> PageCache::page_addresses() const {
    std::vector<uint64_t> out;
    for (const auto& [addr, data] : pages_) {
        if (!data.empty()) {
            out.push_back(addr);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void PageCache::prefetch(const std::vector<uint64_t>& page_addrs) {
    std::vector<std::string> data;
    source_.read_many(page_addrs, page_size, data);
    for (size_t i = 0; i < page_addrs.size(); ++i) {
        pages_[page_addrs[i]] = std::move(data[i]);
    }
}

size_t PageCache::page_count() const {
    return static_cast<size_t>(std::count_if(pages_.begin(), pages_.end(),
                                             [](const auto& p) { return !p.second.empty(); }));
}

std::map<uint64_t, std::string> PageCache::pages() const {
    std::map<uint64_t, std::string> out;
    for (const auto& [addr, data] : pages_) {
        if (!data.empty()) {
            out.emplace(addr, data);
        }
    }
    return out;
}

bool SnapshotMemory::read(uint64_t addr, void* out, size_t size) {
    auto* dest = static_cast<char*>(out);
    uint64_t at = addr;
    uint64_t end = addr + size;
    if (end < addr) {
        return false;
    }
    while (at < end) {
        auto it = regions_.upper_bound(at);
        if (it == regions_.begin()) {
            return false;
        }
        --it;
        uint64_t start = it->first;
        uint64_t stop = start + it->second.size();
        if (at >= stop) {
            return false;
        }
        uint64_t take = std::min(end, stop) - at;
        std::memcpy(dest, it->second.data() + (at - start), take);
        dest += take;
        at += take;
    }
    return true;
}

}  // namespace fs::remote
