// layouts.hpp: where things are in a CPython of each version, behind one version-neutral record.
//
// The reader never includes CPython's headers: it reads any supported version whatever Python
// runs it. What it needs from each version's structs is a `Layout`: offsets (facts taken from
// that version's headers by tools/remote_layouts.py, kept in layouts.toml) and named
// capabilities for the differences that are more than an offset, asked of the version registry
// (versions.toml, fs_registry.h). This is the reader's one place for version questions: other
// files ask a Layout or the functions below, never a version number. On 3.13+ the target's own
// `_Py_DebugOffsets` (at the start of `_PyRuntime`) overrides the offsets it describes, which
// makes debug builds and later patch releases right by construction; the compiled table still
// supplies what the debug offsets do not describe, and tests check the two agree.
#pragma once

#include "fs_registry.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fs::remote {

class Memory;
struct Target;

// Every offset a Layout holds. -1: the version has no such field.
#define FS_LAYOUT_FIELDS(X)                                                                      \
    X(runtime_interpreters_head) X(interp_next) X(interp_threads_head) X(interp_sysdict)         \
    X(tstate_next) X(tstate_interp) X(tstate_frame) X(cframe_current_frame)                      \
    X(tstate_thread_id) X(tstate_native_thread_id)                                               \
    X(frame_previous) X(frame_code) X(frame_instr) X(frame_localsplus) X(frame_owner)            \
    X(owner_generator) X(owner_internal)                                                         \
    X(code_filename) X(code_name) X(code_qualname) X(code_firstlineno) X(code_flags)             \
    X(code_linetable) X(code_adaptive) X(code_firsttraceable) X(code_localsplusnames)            \
    X(code_localspluskinds) X(code_varnames) X(code_cellvars) X(code_freevars) X(code_nlocals)   \
    X(co_optimized) X(kind_local) X(kind_cell) X(kind_free) X(kind_hidden)                       \
    X(object_type) X(var_size) X(type_name) X(tuple_items) X(list_items) X(float_value)          \
    X(long_digits) X(long_tag) X(bytes_data)                                                     \
    X(str_length) X(str_state) X(str_ascii_size) X(str_compact_size) X(str_kind_mask)            \
    X(str_compact_mask) X(str_ascii_mask)                                                        \
    X(dict_used) X(dict_keys) X(dict_values) X(keys_size) X(keys_log2_size)                      \
    X(keys_log2_index_bytes) X(keys_kind) X(keys_nentries) X(keys_indices) X(values_items)       \
    X(set_used) X(set_mask) X(set_table) X(cell_ref)

// The offsets that a 3.13+ `_Py_DebugOffsets` describes; `debug.X` is where inside that struct
// the target keeps its value of X.
#define FS_DEBUG_FIELDS(X)                                                                       \
    X(runtime_interpreters_head) X(interp_next) X(interp_threads_head) X(tstate_next)            \
    X(tstate_interp) X(tstate_frame) X(tstate_thread_id) X(tstate_native_thread_id)              \
    X(frame_previous) X(frame_code) X(frame_instr) X(frame_localsplus) X(frame_owner)            \
    X(code_filename) X(code_name) X(code_qualname) X(code_linetable) X(code_firstlineno)         \
    X(code_localsplusnames) X(code_localspluskinds) X(code_adaptive) X(object_type)              \
    X(type_name) X(tuple_items) X(list_items) X(dict_keys) X(dict_values) X(float_value)         \
    X(long_tag) X(long_digits) X(bytes_data) X(str_state) X(str_length) X(str_ascii_size)

struct DebugOffsetPositions {
#define FS_DECLARE(name) int64_t name = -1;
    FS_DEBUG_FIELDS(FS_DECLARE)
#undef FS_DECLARE
};

struct Layout {
    int minor = 0;  // 3.minor

#define FS_DECLARE(name) int64_t name = -1;
    FS_LAYOUT_FIELDS(FS_DECLARE)
#undef FS_DECLARE

    DebugOffsetPositions debug;

    // --- Capabilities: what differs between versions beyond an offset (versions.toml) ---
    // 3.10: a thread's frames are PyFrameObjects linked by f_back, f_lasti an instruction index.
    // 3.11+ (bpo-44590): _PyInterpreterFrames linked by `previous`, the instruction a pointer
    // into the code.
    bool frame_is_object() const { return !has(registry::Cap::has_interpreter_frame); }
    // 3.11-3.12: PyThreadState.cframe->current_frame; otherwise (gh-108035 in 3.13) the thread
    // state points at it.
    bool frame_via_cframe() const { return has(registry::Cap::has_cframe_current_frame); }
    // 3.14+ (gh-117139): f_executable and the local slots are _PyStackRefs: tagged pointers.
    bool stackrefs() const { return has(registry::Cap::has_stackrefs); }
    // 3.11+: co_linetable is the location table (PEP 657); 3.10: PEP 626's line table.
    bool location_table() const { return has(registry::Cap::has_location_table); }
    // 3.12+ (gh-101291): PyLongObject keeps sign and size in lv_tag; before, in ob_size.
    bool long_has_tag() const { return has(registry::Cap::has_compact_long); }
    // 3.11+: dict keys with dk_log2_size and dk_kind; 3.10: dk_size and one entry layout.
    bool keys_log2() const { return keys_log2_size >= 0; }
    // 3.11+: a code object's locals are co_localsplusnames with kinds in co_localspluskinds.
    bool localsplus_kinds() const { return code_localsplusnames >= 0; }
    // 3.13+: _PyRuntime starts with _Py_DebugOffsets, which the layout is taken from.
    bool has_debug_offsets() const {
        const registry::Version* v = registry::version(minor);
        return v != nullptr && v->debug_offsets;
    }
    // name -> offset, for the tests and the debug output.
    std::vector<std::pair<std::string, int64_t>> fields() const;

private:
    bool has(registry::Cap cap) const { return registry::has(minor, cap); }
};

// Whether the reader reads CPython 3.minor (the version registry's range).
inline bool supported(int minor) { return registry::version(minor) != nullptr; }
// The supported versions, for messages: "3.10 to 3.15".
std::string supported_range();

// The compiled table for 3.minor, or nullptr when that version is not supported.
const Layout* compiled_layout(int minor);

// The layout for `target`: the compiled table, corrected from the debug offsets on 3.13+.
// Throws Error(unsupported) for a version the reader does not read, or InvalidMemory.
Layout layout_for(Memory& mem, const Target& target);

// The layout for a 3.13+ target: the compiled table, with every offset that the target's
// _Py_DebugOffsets (at `runtime`) describes taken from there. Validates the cookie, the version
// (against `version_hex`, the target's Py_Version) and refuses free-threaded builds.
// Throws Error(unsupported) or InvalidMemory.
Layout layout_from_debug_offsets(const Layout& compiled, Memory& mem, uint64_t runtime,
                                 uint32_t version_hex);

}  // namespace fs::remote
