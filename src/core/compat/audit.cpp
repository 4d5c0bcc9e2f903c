// compat/audit.cpp: finding the python:audit probe's semaphore in this process.
#include "compat/audit.hpp"

#include "elf.hpp"

#include <link.h>

#include <string>

namespace fs::compat {

namespace {

constexpr unsigned short kAlwaysAudit = 1;

}  // namespace

const volatile unsigned short* audit_probe_semaphore = &kAlwaysAudit;

uintptr_t find_audit_probe() noexcept {
#ifdef WITH_DTRACE
    try {
        // The loaded object that holds the interpreter (the python executable, or libpython
        // where the interpreter is built as a shared library), and its load bias.
        struct Object {
            uintptr_t code = 0;  // an address inside it
            std::string path;
            uintptr_t bias = 0;
            bool found = false;
            std::vector<std::pair<uintptr_t, uintptr_t>> writable;  // [start, end) of its RW segments
        } object;
        object.code = reinterpret_cast<uintptr_t>(&PySys_Audit);
        dl_iterate_phdr(
            [](dl_phdr_info* info, size_t, void* data) {
                auto* o = static_cast<Object*>(data);
                bool holds = false;
                for (int i = 0; i < info->dlpi_phnum; ++i) {
                    const auto& ph = info->dlpi_phdr[i];
                    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
                    if (ph.p_type == PT_LOAD && o->code >= start && o->code < start + ph.p_memsz) {
                        holds = true;
                    }
                }
                if (!holds) {
                    return 0;
                }
                o->found = true;
                o->path = info->dlpi_name != nullptr ? info->dlpi_name : "";
                o->bias = info->dlpi_addr;
                for (int i = 0; i < info->dlpi_phnum; ++i) {
                    const auto& ph = info->dlpi_phdr[i];
                    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) != 0) {
                        uintptr_t start = info->dlpi_addr + ph.p_vaddr;
                        o->writable.emplace_back(start, start + ph.p_memsz);
                    }
                }
                return 1;
            },
            &object);
        if (!object.found) {
            return 0;
        }
        // The main program is listed without a name; /proc/self/exe is its file even after the
        // path was replaced on disk.
        auto elf = read_elf(object.path.empty() ? "/proc/self/exe" : object.path, {});
        if (!elf) {
            return 0;
        }
        auto probe = elf->probe_semaphores.find("python:audit");
        if (probe == elf->probe_semaphores.end()) {
            return 0;
        }
        uintptr_t address = object.bias + probe->second;
        // A file that is not the one loaded (replaced on disk) could name any address: only a
        // place inside the object's own writable segments is believed.
        for (auto [start, end] : object.writable) {
            if (address >= start && address + sizeof(unsigned short) <= end) {
                audit_probe_semaphore = reinterpret_cast<const volatile unsigned short*>(address);
                return address;
            }
        }
    } catch (...) {  // out of memory: keep sending every event to PySys_Audit
    }
#endif
    return 0;
}

}  // namespace fs::compat
