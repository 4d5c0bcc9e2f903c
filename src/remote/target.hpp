// target.hpp: finding the interpreter in another process: which file holds _PyRuntime, where it
// is loaded, which CPython version it is, and where its builtin types are.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace fs::remote {

class Memory;

// Addresses, in the target, of the builtin objects the decoder recognises values by. Exact
// types only: a subclass of int is shown as any other object.
struct TypeAddresses {
    uint64_t long_type = 0, bool_type = 0, float_type = 0, str_type = 0, bytes_type = 0,
             tuple_type = 0, list_type = 0, dict_type = 0, set_type = 0, frozenset_type = 0,
             none_type = 0, code_type = 0, cell_type = 0;
    uint64_t none = 0, true_ = 0, false_ = 0;
    uint64_t set_dummy = 0;  // the address of the pointer _PySet_Dummy (deleted set entries)
};

struct Target {
    pid_t pid = 0;
    uint64_t runtime = 0;      // &_PyRuntime in the target
    // As PY_VERSION_HEX. A target that exports no Py_Version (3.10: bpo-43931 added it in
    // 3.11) has only its minor version here, 0x03MM0000, until the dump reads its sys.version.
    uint32_t version_hex = 0;
    std::string binary;        // the file that holds the interpreter (libpython or executable)
    TypeAddresses types;

    int minor() const { return static_cast<int>((version_hex >> 16) & 0xff); }
    // Whether version_hex holds more than the minor version.
    bool micro_known() const { return (version_hex & 0xffff) != 0; }
    std::string version_string() const;
};

// Finds the interpreter in process `pid` (through /proc/PID/maps and the ELF files mapped
// there, opened through /proc/PID/root so a target in a chroot or container is found too).
// Reads Py_Version from `mem` where the version has it. Throws Error: not_python, unsupported,
// no_such_process, exited, permission.
Target locate(pid_t pid, Memory& mem);

}  // namespace fs::remote
