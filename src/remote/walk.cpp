// walk.cpp: the walk, written once against Layout: interpreters -> thread states -> frames,
// and each frame's variables.
#include "decoder.hpp"

#include <algorithm>
#include <unordered_set>

namespace fs::remote {

namespace {

// glibc's `struct pthread` (nptl/descr.h) keeps the kernel thread id at this offset on x86-64;
// a thread's pthread_t is the address of that struct. Used where thread states do not record
// the native id (3.10; bpo-43879 added PyThreadState.native_thread_id in 3.11); the dump checks
// the value against /proc/PID/task.
constexpr uint64_t glibc_pthread_tid_offset = 0x2d0;

}  // namespace

std::vector<ThreadRecord> Decoder::threads() {
    std::vector<ThreadRecord> out;
    std::unordered_set<uint64_t> seen_interps, seen_threads;
    uint64_t interp = ptr(t_.runtime, l_.runtime_interpreters_head);
    for (size_t i = 0; interp != 0; ++i) {
        if (i >= Limits::interpreters || !seen_interps.insert(interp).second) {
            throw InvalidMemory("the interpreter list does not end");
        }
        uint64_t tstate = ptr(interp, l_.interp_threads_head);
        while (tstate != 0 && out.size() < Limits::threads) {
            if (!seen_threads.insert(tstate).second) {
                throw InvalidMemory("the thread list has a cycle");
            }
            if (ptr(tstate, l_.tstate_interp) != interp) {
                throw InvalidMemory("a thread state of another interpreter in the list");
            }
            ThreadRecord rec;
            rec.thread_id = at<uint64_t>(tstate, l_.tstate_thread_id);
            if (l_.tstate_native_thread_id >= 0) {
                rec.native_id = static_cast<int64_t>(at<uint64_t>(tstate, l_.tstate_native_thread_id));
            } else {
                int32_t tid = 0;
                if (rec.thread_id != 0 &&
                    mem_.read(rec.thread_id + glibc_pthread_tid_offset, &tid, sizeof tid) &&
                    tid > 0) {
                    rec.native_id = tid;
                }
            }
            thread_frames(tstate, rec);
            out.push_back(std::move(rec));
            tstate = ptr(tstate, l_.tstate_next);
        }
        interp = ptr(interp, l_.interp_next);
    }
    return out;
}

void Decoder::thread_frames(uint64_t tstate, ThreadRecord& out) {
    uint64_t current = ptr(tstate, l_.tstate_frame);
    if (l_.frame_via_cframe() && current != 0) {
        current = ptr(current, l_.cframe_current_frame);
    }
    std::unordered_set<uint64_t> seen;
    while (current != 0) {
        if (++frames_seen_ > Limits::total_frames) {
            throw InvalidMemory("more frames than any process has");
        }
        if (out.frames.size() >= Limits::frames) {
            out.truncated = true;
            return;
        }
        if (!seen.insert(current).second) {
            throw InvalidMemory("a thread's frames form a cycle");
        }
        FrameRecord rec;
        uint64_t previous = 0;
        if (frame(current, rec, &previous)) {
            out.frames.push_back(std::move(rec));
        }
        current = previous;
    }
}

// Fills `out` from one frame; false for a frame CPython does not show (C-stack shims, the
// interpreter's entry frames, frames still in their prologue).
bool Decoder::frame(uint64_t frame, FrameRecord& out, uint64_t* previous) {
    *previous = ptr(frame, l_.frame_previous);
    uint64_t code;
    int64_t index;  // of the instruction the frame is at, in code units
    uint8_t owner = 0;
    if (l_.frame_is_object()) {
        code = ptr(frame, l_.frame_code);
        index = at<int32_t>(frame, l_.frame_instr);
    } else {
        owner = at<uint8_t>(frame, l_.frame_owner);
        if (l_.owner_internal >= 0 && owner >= l_.owner_internal) {
            return false;
        }
        code = ref(frame + static_cast<uint64_t>(l_.frame_code));
        if (code == 0) {
            return false;
        }
        index = 0;  // below, once the code object is known
    }
    if (code == 0 || type_of(code) != t_.types.code_type) {
        if (l_.frame_is_object()) {
            throw InvalidMemory("a frame without a code object");
        }
        return false;  // f_executable (3.13+, HAS_FRAME_EXECUTABLE) need not be a code object
    }
    const CodeInfo& info = code_info(code);
    if (!l_.frame_is_object()) {
        uint64_t start = code + static_cast<uint64_t>(l_.code_adaptive);
        uint64_t instr = ptr(frame, l_.frame_instr);
        index = static_cast<int64_t>(instr - start) / 2;  // unsigned: no overflow on bad data
        if (owner != l_.owner_generator && index < info.firsttraceable) {
            return false;  // not started yet: CPython's _PyFrame_IsIncomplete
        }
    }
    if (index < -1 || index > (int64_t{1} << 32) ||
        (!l_.frame_is_object() && index > info.code_units)) {
        throw InvalidMemory("an instruction outside its code object");
    }
    out.filename = info.filename;
    out.function = info.function;
    if (index < 0) {
        out.lineno = info.firstlineno;
    } else if (l_.location_table()) {
        out.lineno = line_from_location_table(info.linetable, info.firstlineno, index);
    } else {
        out.lineno = line_from_310_table(info.linetable, info.firstlineno, index * 2);
    }
    if (opts_.locals && (info.flags & static_cast<uint32_t>(l_.co_optimized)) != 0) {
        frame_locals(frame, code, codes_.at(code), out);
    }
    return true;
}

void Decoder::frame_locals(uint64_t frame, uint64_t code, CodeInfo& info, FrameRecord& out) {
    load_local_names(code, info);
    uint64_t slots = frame + static_cast<uint64_t>(l_.frame_localsplus);
    size_t n = info.local_names.size();
    if (l_.localsplus_kinds()) {
        n = std::min(n, info.local_kinds.size());
    }
    for (size_t i = 0; i < n; ++i) {
        bool cell;
        if (l_.localsplus_kinds()) {
            auto kind = static_cast<uint8_t>(info.local_kinds[i]);
            if (l_.kind_hidden >= 0 && (kind & l_.kind_hidden) != 0) {
                continue;  // 3.12+ (PEP 709): an inlined comprehension's variable, not the frame's
            }
            cell = (kind & l_.kind_free) != 0 || (kind & l_.kind_cell) != 0;
        } else {
            cell = i >= info.nlocals;
        }
        uint64_t value = ref(slots + 8 * i);
        if (value == 0) {
            continue;  // unbound
        }
        // A cell variable's slot holds its cell once the frame has made it (3.11+: MAKE_CELL,
        // bpo-43693; until then an argument's slot holds the argument itself).
        if (cell && type_of(value) == t_.types.cell_type) {
            value = ptr(value, l_.cell_ref);
            if (value == 0) {
                continue;
            }
        }
        out.locals.emplace_back(info.local_names[i], repr_checked(value));
    }
}

std::string Decoder::sys_version() {
    if (l_.interp_sysdict < 0) {
        return {};
    }
    uint64_t interp = ptr(t_.runtime, l_.runtime_interpreters_head);
    uint64_t sysdict = ptr(interp, l_.interp_sysdict);
    bool more = false;
    for (const auto& [key, value] : dict_items(sysdict, 4096, &more)) {
        if (type_of(key) != t_.types.str_type || name(key) != "version") {
            continue;
        }
        std::string version = name(value);
        return version.substr(0, version.find(' '));
    }
    return {};
}

std::string version_from_sys(Memory& mem, const Target& target, const Layout& layout) {
    DecodeOptions none;
    return Decoder(mem, target, layout, none).sys_version();
}

std::vector<ThreadRecord> decode_threads(Memory& mem, const Target& target, const Layout& layout,
                                         const DecodeOptions& options) {
    return Decoder(mem, target, layout, options).threads();
}

}  // namespace fs::remote
