// common/elf.hpp: symbols, sections and probe notes of an ELF file, read with elfutils' libelf.
//
// Shared by the remote reader (which finds _PyRuntime in another process's files) and the core
// (which finds its own interpreter's python:audit probe, compat/audit.cpp). Plain C++: no
// CPython header, nothing of either side.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fs {

struct ElfInfo {
    // Link-time addresses (add the load bias for the running process's addresses).
    std::map<std::string, uint64_t> symbols;  // only the names asked for
    std::optional<uint64_t> pyruntime_section;  // the .PyRuntime section, where there is one
    uint64_t first_load_vaddr = 0;              // p_vaddr of the first PT_LOAD segment
    // SystemTap/DTrace probes ("provider:name") that have a semaphore: the semaphore's
    // link-time address (a prelinked file's shift already applied). Probes in the
    // .note.stapsdt section; a probe listed at several places has one semaphore.
    std::map<std::string, uint64_t> probe_semaphores;
};

// Reads the ELF file at `path`, looks up `names` in its dynamic symbol table (then its full
// symbol table, for names not found there) and lists its probe semaphores. Returns nullopt when
// the file is not a readable ELF file.
std::optional<ElfInfo> read_elf(const std::string& path, const std::vector<std::string>& names);

}  // namespace fs
