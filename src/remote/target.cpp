// target.cpp: locating _PyRuntime and the interpreter's version in another process.
#include "target.hpp"

#include "elf.hpp"
#include "error.hpp"
#include "layouts.hpp"
#include "memory.hpp"
#include "process.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace fs::remote {

namespace {

const std::vector<std::string>& wanted_symbols() {
    static const std::vector<std::string> names = {
        "_PyRuntime", "Py_Version", "PyLong_Type", "PyBool_Type", "PyFloat_Type",
        "PyUnicode_Type", "PyBytes_Type", "PyTuple_Type", "PyList_Type", "PyDict_Type",
        "PySet_Type", "PyFrozenSet_Type", "_PyNone_Type", "PyCode_Type", "PyCell_Type",
        "_Py_NoneStruct", "_Py_TrueStruct", "_Py_FalseStruct", "_PySet_Dummy"};
    return names;
}

// "python3.12", "libpython3.12d.so.1.0", ... -> 12; -1 when the name says nothing.
int minor_from_name(const std::string& path) {
    std::string base = path.substr(path.rfind('/') + 1);
    for (size_t at = base.find("python3."); at != std::string::npos;
         at = base.find("python3.", at + 1)) {
        size_t digits = at + 8;
        int minor = 0;
        size_t n = 0;
        while (digits + n < base.size() && n < 3 && base[digits + n] >= '0' &&
               base[digits + n] <= '9') {
            minor = minor * 10 + (base[digits + n] - '0');
            ++n;
        }
        if (n > 0) {
            return minor;
        }
    }
    return -1;
}

bool is_libpython(const std::string& path) {
    std::string base = path.substr(path.rfind('/') + 1);
    return base.rfind("libpython", 0) == 0;
}

}  // namespace

std::string Target::version_string() const {
    char buf[32];
    unsigned level = (version_hex >> 4) & 0xf;
    const char* suffix = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (!micro_known()) {
        std::snprintf(buf, sizeof buf, "3.%d", minor());
    } else if (*suffix != '\0') {
        std::snprintf(buf, sizeof buf, "3.%d.%u%s%u", minor(), (version_hex >> 8) & 0xff, suffix,
                      version_hex & 0xf);
    } else {
        std::snprintf(buf, sizeof buf, "3.%d.%u", minor(), (version_hex >> 8) & 0xff);
    }
    return buf;
}

Target locate(pid_t pid, Memory& mem) {
    check_process_exists(pid);
    char state = process_state(pid);
    if (state == 'Z' || state == 'X') {
        throw Error(ErrorKind::exited, "process " + std::to_string(pid) +
                                           " has exited (its parent has not collected it yet)");
    }
    std::vector<Mapping> maps = read_maps(pid);

    // Candidates: libpython first (pyenv's shared builds), then the executable (Debian's
    // python3.x, which links the interpreter in statically).
    std::vector<std::string> candidates;
    for (const Mapping& m : maps) {
        if (!m.path.empty() && m.path[0] == '/' && is_libpython(m.path) &&
            std::find(candidates.begin(), candidates.end(), m.path) == candidates.end()) {
            candidates.push_back(m.path);
        }
    }
    for (const Mapping& m : maps) {
        if (!m.path.empty() && m.path[0] == '/' && m.offset == 0 &&
            std::find(candidates.begin(), candidates.end(), m.path) == candidates.end() &&
            m.path.find(".so") == std::string::npos) {
            candidates.push_back(m.path);
        }
    }

    const std::string root = "/proc/" + std::to_string(pid) + "/root";
    for (const std::string& path : candidates) {
        std::optional<ElfInfo> elf = read_elf(root + path, wanted_symbols());
        if (!elf) {
            elf = read_elf(path, wanted_symbols());
        }
        if (!elf) {
            continue;
        }
        auto sym = [&](const char* name) -> uint64_t {
            auto it = elf->symbols.find(name);
            return it == elf->symbols.end() ? 0 : it->second;
        };
        uint64_t runtime = sym("_PyRuntime");
        if (runtime == 0 && elf->pyruntime_section) {
            runtime = *elf->pyruntime_section;
        }
        if (runtime == 0) {
            continue;
        }
        // The load bias: where the file's first page is mapped, minus where the file says its
        // first segment goes (0 for shared objects and PIE executables).
        uint64_t lowest = UINT64_MAX;
        for (const Mapping& m : maps) {
            if (m.path == path && m.offset == 0) {
                lowest = std::min(lowest, m.start);
            }
        }
        if (lowest == UINT64_MAX) {
            continue;
        }
        uint64_t bias = lowest - (elf->first_load_vaddr & ~uint64_t{0xfff});
        auto at = [&](const char* name) -> uint64_t {
            uint64_t v = sym(name);
            return v == 0 ? 0 : v + bias;
        };

        Target t;
        t.pid = pid;
        t.binary = path;
        t.runtime = runtime + bias;
        if (uint64_t version_at = at("Py_Version")) {  // 3.11+ (bpo-43931)
            uint32_t v = 0;
            if (!mem.read(version_at, &v, sizeof v)) {
                if (!process_exists(pid)) {
                    throw Error(ErrorKind::exited, "process " + std::to_string(pid) + " exited");
                }
                throw Error(ErrorKind::permission,
                            "permission denied reading the memory of process " +
                                std::to_string(pid) +
                                ": reading another process needs ptrace rights over it (the "
                                "same user, or CAP_SYS_PTRACE)");
            }
            t.version_hex = v;
        } else {
            int minor = minor_from_name(path);
            if (minor < 0) {
                for (const Mapping& m : maps) {  // the executable's name, for a libpython
                    if (minor < 0 && !m.path.empty()) {
                        minor = minor_from_name(m.path);
                    }
                }
            }
            if (minor < 0) {
                throw Error(ErrorKind::unsupported,
                            "cannot tell the Python version of process " + std::to_string(pid) +
                                " (" + path + " has no Py_Version)");
            }
            t.version_hex = 0x03000000u | (static_cast<uint32_t>(minor) << 16);
        }
        if ((t.version_hex >> 24) != 3 || !supported(t.minor())) {
            throw Error(ErrorKind::unsupported,
                        "process " + std::to_string(pid) + " runs Python " +
                            std::to_string(t.version_hex >> 24) + "." +
                            std::to_string(t.minor()) + ", which framescope does not read (it reads " +
                            supported_range() + ")");
        }
        TypeAddresses& ty = t.types;
        ty.long_type = at("PyLong_Type");
        ty.bool_type = at("PyBool_Type");
        ty.float_type = at("PyFloat_Type");
        ty.str_type = at("PyUnicode_Type");
        ty.bytes_type = at("PyBytes_Type");
        ty.tuple_type = at("PyTuple_Type");
        ty.list_type = at("PyList_Type");
        ty.dict_type = at("PyDict_Type");
        ty.set_type = at("PySet_Type");
        ty.frozenset_type = at("PyFrozenSet_Type");
        ty.none_type = at("_PyNone_Type");
        ty.code_type = at("PyCode_Type");
        ty.cell_type = at("PyCell_Type");
        ty.none = at("_Py_NoneStruct");
        ty.true_ = at("_Py_TrueStruct");
        ty.false_ = at("_Py_FalseStruct");
        ty.set_dummy = at("_PySet_Dummy");
        if (ty.code_type == 0 || ty.str_type == 0) {
            throw Error(ErrorKind::unsupported,
                        path + " has _PyRuntime but not the symbols of CPython's builtin types");
        }
        return t;
    }
    if (!process_exists(pid)) {
        throw Error(ErrorKind::exited, "process " + std::to_string(pid) + " exited");
    }
    throw Error(ErrorKind::not_python,
                "process " + std::to_string(pid) +
                    " is not a Python process (no CPython interpreter found in its executable "
                    "or libraries)");
}

}  // namespace fs::remote
