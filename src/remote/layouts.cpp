// layouts.cpp: the per-version tables, and reading a 3.13+ target's _Py_DebugOffsets.
//
// The numbers are not here: they are offsets in CPython's structs on x86-64 Linux (GIL builds),
// facts from each version's own headers kept in layouts.toml (tools/remote_layouts.py writes
// it, and checks it against the headers), which the build turns into fs_layouts.h: for each
// version, what differs from the version before it. Py_DEBUG does not move any of them on these
// versions (the 3.14 debug build's headers give the same numbers).
#include "layouts.hpp"

#include "error.hpp"
#include "memory.hpp"
#include "target.hpp"

#include <array>
#include <cstring>

namespace fs::remote {

#include "fs_layouts.h"

namespace {

namespace reg = fs::registry;

static_assert(generated::kFirstMinor == reg::kFirstMinor &&
                  std::size(generated::kLayoutChanges) == std::size(reg::kVersions),
              "layouts.toml and versions.toml must cover the same versions");

using Table = std::array<Layout, std::size(reg::kVersions)>;

Table make_table() {
    Table table;
    Layout l;
    for (size_t i = 0; i < table.size(); ++i) {
        generated::kLayoutChanges[i](l);  // what this version changed from the one before
        l.minor = reg::kVersions[i].minor;
        table[i] = l;
    }
    return table;
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> Layout::fields() const {
    std::vector<std::pair<std::string, int64_t>> out;
#define FS_LIST(name) out.emplace_back(#name, name);
    FS_LAYOUT_FIELDS(FS_LIST)
#undef FS_LIST
#define FS_LIST(name) out.emplace_back("debug." #name, debug.name);
    FS_DEBUG_FIELDS(FS_LIST)
#undef FS_LIST
    return out;
}

std::string supported_range() {
    return "3." + std::to_string(reg::kFirstMinor) + " to 3." + std::to_string(reg::kLastMinor);
}

const Layout* compiled_layout(int minor) {
    static const Table table = make_table();
    if (reg::version(minor) == nullptr) {
        return nullptr;
    }
    return &table[static_cast<size_t>(minor - reg::kFirstMinor)];
}

Layout layout_for(Memory& mem, const Target& target) {
    const Layout* compiled = compiled_layout(target.minor());
    if (compiled == nullptr) {
        throw Error(ErrorKind::unsupported,
                    "Python " + target.version_string() + " is not supported (" +
                        supported_range() + " are)");
    }
    if (compiled->has_debug_offsets()) {
        return layout_from_debug_offsets(*compiled, mem, target.runtime, target.version_hex);
    }
    return *compiled;
}

Layout layout_from_debug_offsets(const Layout& compiled, Memory& mem, uint64_t runtime,
                                 uint32_t version_hex) {
    // _Py_DebugOffsets begins with char cookie[8], uint64_t version, uint64_t free_threaded.
    char head[24];
    if (!mem.read(runtime, head, sizeof head)) {
        throw InvalidMemory("cannot read _Py_DebugOffsets");
    }
    if (std::memcmp(head, "xdebugpy", 8) != 0) {
        throw InvalidMemory("_PyRuntime does not start with the _Py_DebugOffsets cookie");
    }
    uint64_t version = 0, free_threaded = 0;
    std::memcpy(&version, head + 8, 8);
    std::memcpy(&free_threaded, head + 16, 8);
    // Same major and minor as Py_Version: the struct's shape is per minor version.
    if ((version >> 16) != (version_hex >> 16)) {
        throw Error(ErrorKind::unsupported,
                    "the interpreter's debug offsets are for version " +
                        std::to_string(version >> 24) + "." +
                        std::to_string((version >> 16) & 0xff) + ", not the version it reports");
    }
    if (free_threaded != 0) {
        throw Error(ErrorKind::unsupported,
                    "free-threaded CPython builds are not supported (GIL builds only)");
    }
    Layout l = compiled;
    auto take = [&](int64_t position, int64_t& field) {
        if (position < 0) {
            return;
        }
        uint64_t value = 0;
        if (!mem.read(runtime + static_cast<uint64_t>(position), &value, sizeof value)) {
            throw InvalidMemory("cannot read _Py_DebugOffsets");
        }
        // An offset inside a struct: anything huge is not a value CPython wrote.
        if (value > (1u << 20)) {
            throw InvalidMemory("implausible offset in _Py_DebugOffsets");
        }
        field = static_cast<int64_t>(value);
    };
#define FS_TAKE(name) take(compiled.debug.name, l.name);
    FS_DEBUG_FIELDS(FS_TAKE)
#undef FS_TAKE
    return l;
}

}  // namespace fs::remote
