// layouts.cpp: the per-version tables, and reading a 3.13+ target's _Py_DebugOffsets.
//
// The numbers below are offsets in CPython's structs on x86-64 Linux (GIL builds), printed by
// tools/remote_layouts.py from each version's installed headers (3.10.13, 3.11.7, 3.12.1,
// 3.13.0, 3.14.x, 3.15.x). Py_DEBUG does not move any of them on these versions (the 3.14 debug
// build's headers give the same numbers). 3.10's dict keys object is declared in
// Objects/dict-common.h, which is not installed: those three offsets come from that file.
// Each table after 3.10's starts from the previous version's and sets what differs (-1: a field
// the version no longer has); the tests compare every table, whole, with its version's headers.
#include "layouts.hpp"

#include "error.hpp"
#include "memory.hpp"

#include <cstring>

namespace fs::remote {

namespace {

Layout layout_3_10() {
    Layout l;
    l.minor = 10;
    l.interp_sysdict = 872;
    l.runtime_interpreters_head = 32;
    l.interp_next = 0;
    l.interp_threads_head = 8;
    l.tstate_next = 8;
    l.tstate_interp = 16;
    l.tstate_frame = 24;
    l.tstate_thread_id = 176;
    l.frame_previous = 24;
    l.frame_code = 32;
    l.frame_instr = 96;
    l.frame_localsplus = 352;
    l.code_filename = 104;
    l.code_name = 112;
    l.code_firstlineno = 40;
    l.code_flags = 36;
    l.code_linetable = 120;
    l.code_varnames = 72;
    l.code_cellvars = 88;
    l.code_freevars = 80;
    l.code_nlocals = 28;
    l.co_optimized = 1;
    l.object_type = 8;
    l.var_size = 16;
    l.type_name = 24;
    l.tuple_items = 24;
    l.list_items = 24;
    l.float_value = 16;
    l.long_digits = 24;
    l.bytes_data = 32;
    l.str_length = 16;
    l.str_state = 32;
    l.str_ascii_size = 48;
    l.str_compact_size = 72;
    l.str_kind_mask = 28;
    l.str_compact_mask = 32;
    l.str_ascii_mask = 64;
    l.dict_used = 16;
    l.dict_keys = 32;
    l.dict_values = 40;
    l.set_used = 24;
    l.set_mask = 32;
    l.set_table = 40;
    l.cell_ref = 16;
    l.keys_nentries = 32;
    l.keys_indices = 40;
    l.values_items = 0;
    l.keys_size = 8;
    return l;
}

Layout layout_3_11() {
    Layout l = layout_3_10();  // then what 3.11 changed
    l.interp_sysdict = -1;  // gone in 3.11
    l.code_varnames = -1;  // gone in 3.11
    l.code_cellvars = -1;  // gone in 3.11
    l.code_freevars = -1;  // gone in 3.11
    l.code_nlocals = -1;  // gone in 3.11
    l.keys_size = -1;  // gone in 3.11
    l.minor = 11;
    l.runtime_interpreters_head = 40;
    l.interp_threads_head = 16;
    l.tstate_frame = 56;
    l.tstate_thread_id = 152;
    l.frame_previous = 48;
    l.frame_instr = 56;
    l.frame_localsplus = 72;
    l.code_filename = 112;
    l.code_name = 120;
    l.code_firstlineno = 72;
    l.code_flags = 48;
    l.code_linetable = 136;
    l.cframe_current_frame = 8;
    l.tstate_native_thread_id = 160;
    l.frame_owner = 69;
    l.owner_generator = 1;
    l.code_qualname = 128;
    l.code_adaptive = 184;
    l.code_firsttraceable = 168;
    l.code_localsplusnames = 96;
    l.code_localspluskinds = 104;
    l.kind_local = 32;
    l.kind_cell = 64;
    l.kind_free = 128;
    l.keys_log2_size = 8;
    l.keys_log2_index_bytes = 9;
    l.keys_kind = 10;
    l.keys_nentries = 24;
    l.keys_indices = 32;
    return l;
}

Layout layout_3_12() {
    Layout l = layout_3_11();  // then what 3.12 changed
    l.minor = 12;
    l.interp_threads_head = 72;
    l.tstate_thread_id = 136;
    l.frame_previous = 8;
    l.frame_code = 0;
    l.code_firstlineno = 68;
    l.str_ascii_size = 40;
    l.str_compact_size = 56;
    l.cframe_current_frame = 0;
    l.tstate_native_thread_id = 144;
    l.frame_owner = 70;
    l.code_adaptive = 192;
    l.code_firsttraceable = 176;
    l.owner_internal = 3;
    l.kind_hidden = 16;
    l.long_tag = 16;
    return l;
}

Layout layout_3_13() {
    Layout l = layout_3_12();  // then what 3.13 changed
    l.cframe_current_frame = -1;  // gone in 3.13
    l.minor = 13;
    l.runtime_interpreters_head = 632;
    l.interp_next = 7264;
    l.interp_threads_head = 7344;
    l.tstate_next = 8;
    l.tstate_interp = 16;
    l.tstate_frame = 72;
    l.tstate_thread_id = 152;
    l.frame_instr = 56;
    l.frame_localsplus = 72;
    l.code_filename = 112;
    l.code_name = 120;
    l.code_flags = 48;
    l.code_linetable = 136;
    l.co_optimized = 1;
    l.object_type = 8;
    l.var_size = 16;
    l.type_name = 24;
    l.tuple_items = 24;
    l.list_items = 24;
    l.float_value = 16;
    l.long_digits = 24;
    l.bytes_data = 32;
    l.str_length = 16;
    l.str_state = 32;
    l.str_kind_mask = 28;
    l.str_compact_mask = 32;
    l.str_ascii_mask = 64;
    l.dict_used = 16;
    l.dict_keys = 32;
    l.dict_values = 40;
    l.set_used = 24;
    l.set_mask = 32;
    l.set_table = 40;
    l.cell_ref = 16;
    l.tstate_native_thread_id = 160;
    l.owner_generator = 1;
    l.code_qualname = 128;
    l.code_adaptive = 200;
    l.code_firsttraceable = 184;
    l.code_localsplusnames = 96;
    l.code_localspluskinds = 104;
    l.kind_local = 32;
    l.kind_cell = 64;
    l.kind_free = 128;
    l.keys_log2_size = 8;
    l.keys_log2_index_bytes = 9;
    l.keys_kind = 10;
    l.keys_nentries = 24;
    l.keys_indices = 32;
    l.values_items = 8;
    l.debug.runtime_interpreters_head = 40;
    l.debug.interp_next = 64;
    l.debug.interp_threads_head = 72;
    l.debug.tstate_next = 168;
    l.debug.tstate_interp = 176;
    l.debug.tstate_frame = 184;
    l.debug.tstate_thread_id = 192;
    l.debug.tstate_native_thread_id = 200;
    l.debug.frame_previous = 232;
    l.debug.frame_code = 240;
    l.debug.frame_instr = 248;
    l.debug.frame_localsplus = 256;
    l.debug.frame_owner = 264;
    l.debug.code_filename = 280;
    l.debug.code_name = 288;
    l.debug.code_qualname = 296;
    l.debug.code_linetable = 304;
    l.debug.code_firstlineno = 312;
    l.debug.code_localsplusnames = 328;
    l.debug.code_localspluskinds = 336;
    l.debug.code_adaptive = 344;
    l.debug.object_type = 360;
    l.debug.type_name = 376;
    l.debug.tuple_items = 408;
    l.debug.list_items = 432;
    l.debug.dict_keys = 456;
    l.debug.dict_values = 464;
    l.debug.float_value = 480;
    l.debug.long_tag = 496;
    l.debug.long_digits = 504;
    l.debug.bytes_data = 528;
    l.debug.str_state = 544;
    l.debug.str_length = 552;
    l.debug.str_ascii_size = 560;
    return l;
}

Layout layout_3_14() {
    Layout l = layout_3_13();  // then what 3.14 changed
    l.minor = 14;
    l.runtime_interpreters_head = 808;
    l.interp_next = 7272;
    l.frame_localsplus = 80;
    l.tuple_items = 32;
    l.frame_owner = 74;
    l.code_adaptive = 208;
    l.code_firsttraceable = 192;
    l.debug.tstate_next = 192;
    l.debug.tstate_interp = 200;
    l.debug.tstate_frame = 208;
    l.debug.tstate_thread_id = 216;
    l.debug.tstate_native_thread_id = 224;
    l.debug.frame_previous = 256;
    l.debug.frame_code = 264;
    l.debug.frame_instr = 272;
    l.debug.frame_localsplus = 280;
    l.debug.frame_owner = 288;
    l.debug.code_filename = 320;
    l.debug.code_name = 328;
    l.debug.code_qualname = 336;
    l.debug.code_linetable = 344;
    l.debug.code_firstlineno = 352;
    l.debug.code_localsplusnames = 368;
    l.debug.code_localspluskinds = 376;
    l.debug.code_adaptive = 384;
    l.debug.object_type = 408;
    l.debug.type_name = 424;
    l.debug.tuple_items = 456;
    l.debug.list_items = 480;
    l.debug.dict_keys = 536;
    l.debug.dict_values = 544;
    l.debug.float_value = 560;
    l.debug.long_tag = 576;
    l.debug.long_digits = 584;
    l.debug.bytes_data = 608;
    l.debug.str_state = 624;
    l.debug.str_length = 632;
    l.debug.str_ascii_size = 640;
    return l;
}

Layout layout_3_15() {
    Layout l = layout_3_14();  // then what 3.15 changed
    l.minor = 15;
    l.runtime_interpreters_head = 936;
    l.interp_next = 7264;
    l.interp_threads_head = 7336;
    l.tstate_next = 8;
    l.tstate_interp = 16;
    l.tstate_frame = 72;
    l.tstate_thread_id = 176;
    l.frame_previous = 8;
    l.frame_code = 0;
    l.frame_instr = 56;
    l.code_filename = 112;
    l.code_name = 120;
    l.code_firstlineno = 68;
    l.code_flags = 48;
    l.code_linetable = 136;
    l.co_optimized = 1;
    l.object_type = 8;
    l.var_size = 16;
    l.type_name = 24;
    l.list_items = 24;
    l.float_value = 16;
    l.long_digits = 24;
    l.bytes_data = 32;
    l.str_length = 16;
    l.str_state = 32;
    l.str_ascii_size = 40;
    l.str_compact_size = 56;
    l.str_kind_mask = 28;
    l.str_compact_mask = 32;
    l.str_ascii_mask = 64;
    l.dict_used = 16;
    l.dict_keys = 32;
    l.dict_values = 40;
    l.set_used = 24;
    l.set_mask = 32;
    l.set_table = 40;
    l.cell_ref = 16;
    l.tstate_native_thread_id = 184;
    l.owner_generator = 1;
    l.code_qualname = 128;
    l.code_localsplusnames = 96;
    l.code_localspluskinds = 104;
    l.kind_local = 32;
    l.kind_cell = 64;
    l.kind_free = 128;
    l.keys_log2_size = 8;
    l.keys_log2_index_bytes = 9;
    l.keys_kind = 10;
    l.keys_nentries = 24;
    l.keys_indices = 32;
    l.values_items = 8;
    l.owner_internal = 3;
    l.kind_hidden = 16;
    l.long_tag = 16;
    l.debug.runtime_interpreters_head = 40;
    l.debug.interp_next = 64;
    l.debug.interp_threads_head = 72;
    l.debug.tstate_thread_id = 240;
    l.debug.tstate_native_thread_id = 248;
    l.debug.frame_previous = 320;
    l.debug.frame_code = 328;
    l.debug.frame_instr = 336;
    l.debug.frame_localsplus = 344;
    l.debug.frame_owner = 352;
    l.debug.code_filename = 384;
    l.debug.code_name = 392;
    l.debug.code_qualname = 400;
    l.debug.code_linetable = 408;
    l.debug.code_firstlineno = 416;
    l.debug.code_localsplusnames = 432;
    l.debug.code_localspluskinds = 440;
    l.debug.code_adaptive = 448;
    l.debug.object_type = 472;
    l.debug.type_name = 488;
    l.debug.tuple_items = 552;
    l.debug.list_items = 576;
    l.debug.dict_keys = 632;
    l.debug.dict_values = 640;
    l.debug.float_value = 656;
    l.debug.long_tag = 672;
    l.debug.long_digits = 680;
    l.debug.bytes_data = 704;
    l.debug.str_state = 720;
    l.debug.str_length = 728;
    l.debug.str_ascii_size = 736;
    return l;
}
const Layout* const* all_layouts() {
    static const Layout l10 = layout_3_10(), l11 = layout_3_11(), l12 = layout_3_12(),
                        l13 = layout_3_13(), l14 = layout_3_14(), l15 = layout_3_15();
    static const Layout* const table[] = {&l10, &l11, &l12, &l13, &l14, &l15};
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

const Layout* compiled_layout(int minor) {
    if (minor < 10 || minor > 15) {
        return nullptr;
    }
    return all_layouts()[minor - 10];
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
