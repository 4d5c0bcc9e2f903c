// decode.cpp: the walk (interpreters -> threads -> frames), line numbers, and value reprs.
#include "decode.hpp"

#include "code_tables.hpp"

#include "error.hpp"
#include "memory.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace fs::remote {

namespace {

// glibc's `struct pthread` (nptl/descr.h) keeps the kernel thread id at this offset on x86-64;
// a thread's pthread_t is the address of that struct. Used on 3.10 only, whose thread states do
// not record the native id; the dump checks the value against /proc/PID/task.
constexpr uint64_t glibc_pthread_tid_offset = 0x2d0;

std::string hex_address(uint64_t addr) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, addr, 16);
    (void)ec;
    return "0x" + std::string(buf, end);
}


std::string to_utf8(const std::u32string& s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) {
        append_utf8(out, c);
    }
    return out;
}

// What str.isprintable() says for a non-ASCII character, for the characters that matter in
// practice: control (Cc), format (Cf), separators other than the space (Zs, Zl, Zp), surrogates
// (Cs) and private use (Co) are not printable; other characters are taken as printable (this
// misses unassigned code points, which need Unicode's database).
bool printable_non_ascii(char32_t c) {
    if (c <= 0xA0 || c == 0xAD) {
        return false;  // C1 controls, NO-BREAK SPACE, SOFT HYPHEN
    }
    struct Range {
        char32_t lo, hi;
    };
    static constexpr Range not_printable[] = {
        {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
        {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x1680, 0x1680}, {0x180E, 0x180E},
        {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F},
        {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
        {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
        {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
    };
    for (const Range& r : not_printable) {
        if (c >= r.lo && c <= r.hi) {
            return false;
        }
    }
    return true;
}

void append_hex_escape(std::string& out, const char* prefix, uint32_t value, int digits) {
    static const char hex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += hex[(value >> shift) & 0xF];
    }
}

struct CodeInfo {
    std::string filename;
    std::string function;
    int firstlineno = 0;
    uint32_t flags = 0;
    std::string linetable;
    int64_t firsttraceable = 0;
    int64_t code_units = 0;
    bool have_locals = false;
    std::vector<std::string> local_names;
    std::string local_kinds;  // 3.11+
    size_t nlocals = 0, ncells = 0;  // 3.10: varnames, then cellvars, then freevars
};

class Decoder {
public:
    Decoder(Memory& mem, const Target& target, const Layout& layout, const DecodeOptions& opts)
        : mem_(mem), t_(target), l_(layout), opts_(opts) {}

    std::vector<ThreadRecord> threads();
    std::string sys_version();

private:
    // --- reading ---
    void raw(uint64_t addr, void* out, size_t size) {
        if (addr < 4096 || !mem_.read(addr, out, size)) {
            throw InvalidMemory("unreadable memory at " + hex_address(addr));
        }
    }
    template <class T>
    T at(uint64_t base, int64_t offset) {
        if (offset < 0) {
            throw InvalidMemory("the layout has no such field");
        }
        T value;
        raw(base + static_cast<uint64_t>(offset), &value, sizeof value);
        return value;
    }
    uint64_t ptr(uint64_t base, int64_t offset) { return at<uint64_t>(base, offset); }
    // A reference slot: a PyObject*, or on 3.14+ a _PyStackRef (tag bits cleared; a tagged int
    // is not an object and reads as null).
    uint64_t ref(uint64_t addr) {
        uint64_t bits = at<uint64_t>(addr, 0);
        if (!l_.stackrefs()) {
            return bits;
        }
        if ((bits & 3) == 3) {
            return 0;
        }
        return bits & ~uint64_t{1};
    }
    uint64_t type_of(uint64_t obj) { return ptr(obj, l_.object_type); }
    int64_t size_of(uint64_t obj, int64_t limit) {
        int64_t n = at<int64_t>(obj, l_.var_size);
        if (n < 0 || n > limit) {
            throw InvalidMemory("implausible size " + std::to_string(n));
        }
        return n;
    }

    std::u32string text(uint64_t str, size_t max_chars, bool* cut);
    std::string name(uint64_t str) {
        bool cut = false;
        return to_utf8(text(str, Limits::name_chars, &cut));
    }
    std::string bytes(uint64_t obj, size_t max_bytes, bool* cut);
    std::string type_name(uint64_t type);
    std::vector<uint64_t> tuple_items(uint64_t tuple, size_t limit);

    const CodeInfo& code_info(uint64_t code);
    void load_local_names(uint64_t code, CodeInfo& info);

    // --- the walk ---
    void thread_frames(uint64_t tstate, ThreadRecord& out);
    bool frame(uint64_t frame, FrameRecord& out, uint64_t* previous);
    void frame_locals(uint64_t frame, uint64_t code, CodeInfo& info, FrameRecord& out);

    // --- values ---
    std::string repr(uint64_t obj, int depth);
    std::string repr_checked(uint64_t obj);
    std::string int_repr(uint64_t obj);
    std::string items_repr(uint64_t obj, uint64_t type, int depth);
    // A dict's (key, value) pairs in order, at most `limit` of them; `more` tells if there
    // were others.
    std::vector<std::pair<uint64_t, uint64_t>> dict_items(uint64_t dict, size_t limit, bool* more);

    Memory& mem_;
    const Target& t_;
    const Layout& l_;
    const DecodeOptions& opts_;
    std::unordered_map<uint64_t, CodeInfo> codes_;
    std::vector<uint64_t> repr_path_;
    size_t frames_seen_ = 0;  // containers being shown (for recursive ones)
};

std::u32string Decoder::text(uint64_t str, size_t max_chars, bool* cut) {
    if (type_of(str) != t_.types.str_type) {
        throw InvalidMemory("expected a str at " + hex_address(str));
    }
    int64_t length = at<int64_t>(str, l_.str_length);
    uint32_t state = at<uint32_t>(str, l_.str_state);
    if (length < 0 || length > (int64_t{1} << 40) || l_.str_kind_mask <= 0) {
        throw InvalidMemory("implausible str");
    }
    auto mask = static_cast<uint32_t>(l_.str_kind_mask);
    uint32_t kind = (state & mask) >> std::countr_zero(mask);
    bool compact = (state & static_cast<uint32_t>(l_.str_compact_mask)) != 0;
    bool ascii = (state & static_cast<uint32_t>(l_.str_ascii_mask)) != 0;
    if (kind != 1 && kind != 2 && kind != 4) {
        throw InvalidMemory("implausible str kind");
    }
    uint64_t data;
    if (!compact) {  // a legacy string (none are made since 3.12): data.any follows the struct
        data = ptr(str, l_.str_compact_size);
    } else {
        data = str + static_cast<uint64_t>(ascii ? l_.str_ascii_size : l_.str_compact_size);
    }
    size_t n = std::min(static_cast<size_t>(length), max_chars);
    *cut = static_cast<size_t>(length) > max_chars;
    std::string buf(n * kind, '\0');
    raw(data, buf.data(), buf.size());
    std::u32string out(n, U'\0');
    for (size_t i = 0; i < n; ++i) {
        if (kind == 1) {
            out[i] = static_cast<unsigned char>(buf[i]);
        } else if (kind == 2) {
            uint16_t c;
            std::memcpy(&c, buf.data() + 2 * i, 2);
            out[i] = c;
        } else {
            uint32_t c;
            std::memcpy(&c, buf.data() + 4 * i, 4);
            if (c > 0x10FFFF) {
                throw InvalidMemory("implausible character");
            }
            out[i] = c;
        }
    }
    return out;
}

std::string Decoder::bytes(uint64_t obj, size_t max_bytes, bool* cut) {
    if (type_of(obj) != t_.types.bytes_type) {
        throw InvalidMemory("expected bytes at " + hex_address(obj));
    }
    int64_t size = size_of(obj, int64_t{1} << 40);
    size_t n = std::min(static_cast<size_t>(size), max_bytes);
    *cut = static_cast<size_t>(size) > max_bytes;
    std::string out(n, '\0');
    raw(obj + static_cast<uint64_t>(l_.bytes_data), out.data(), n);
    return out;
}

std::string Decoder::type_name(uint64_t type) {
    uint64_t name = ptr(type, l_.type_name);
    std::string out;
    char chunk[64];
    while (out.size() < 200) {
        // Read up to the end of the page at most: the name may end just before unmapped memory.
        uint64_t room = PageCache::page_size - (name + out.size()) % PageCache::page_size;
        size_t take = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, room));
        raw(name + out.size(), chunk, take);
        const void* nul = std::memchr(chunk, '\0', take);
        size_t n = nul != nullptr ? static_cast<size_t>(static_cast<const char*>(nul) - chunk) : take;
        for (size_t i = 0; i < n; ++i) {
            auto c = static_cast<unsigned char>(chunk[i]);
            out += c < 0x20 || c == 0x7F ? '?' : chunk[i];  // one line, whatever memory holds
        }
        if (nul != nullptr) {
            return out;
        }
    }
    return out;
}

std::vector<uint64_t> Decoder::tuple_items(uint64_t tuple, size_t limit) {
    if (type_of(tuple) != t_.types.tuple_type) {
        throw InvalidMemory("expected a tuple at " + hex_address(tuple));
    }
    size_t n = static_cast<size_t>(size_of(tuple, int64_t{1} << 32));
    n = std::min(n, limit);
    std::vector<uint64_t> items(n);
    if (n != 0) {
        raw(tuple + static_cast<uint64_t>(l_.tuple_items), items.data(), n * sizeof(uint64_t));
    }
    return items;
}

const CodeInfo& Decoder::code_info(uint64_t code) {
    auto found = codes_.find(code);
    if (found != codes_.end()) {
        return found->second;
    }
    CodeInfo info;
    info.filename = name(ptr(code, l_.code_filename));
    info.function = name(ptr(code, l_.code_qualname >= 0 ? l_.code_qualname : l_.code_name));
    info.firstlineno = at<int32_t>(code, l_.code_firstlineno);
    info.flags = at<uint32_t>(code, l_.code_flags);
    bool cut = false;
    info.linetable = bytes(ptr(code, l_.code_linetable), Limits::table_bytes, &cut);
    if (!l_.frame_is_object()) {
        info.firsttraceable = at<int32_t>(code, l_.code_firsttraceable);
        info.code_units = size_of(code, int64_t{1} << 32);
    }
    return codes_.emplace(code, std::move(info)).first->second;
}

void Decoder::load_local_names(uint64_t code, CodeInfo& info) {
    if (info.have_locals) {
        return;
    }
    info.have_locals = true;
    auto names_of = [&](uint64_t tuple) {
        for (uint64_t item : tuple_items(tuple, Limits::locals)) {
            info.local_names.push_back(name(item));
        }
    };
    if (l_.localsplus_kinds()) {
        names_of(ptr(code, l_.code_localsplusnames));
        bool cut = false;
        info.local_kinds = bytes(ptr(code, l_.code_localspluskinds), Limits::locals, &cut);
    } else {
        names_of(ptr(code, l_.code_varnames));
        info.nlocals = info.local_names.size();
        names_of(ptr(code, l_.code_cellvars));
        info.ncells = info.local_names.size() - info.nlocals;
        names_of(ptr(code, l_.code_freevars));
    }
}

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
        return false;  // 3.12+: a frame whose executable is not a code object
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
                continue;  // 3.12+: a comprehension's inlined variable, not the frame's own
            }
            cell = (kind & l_.kind_free) != 0 || (kind & l_.kind_cell) != 0;
        } else {
            cell = i >= info.nlocals;
        }
        uint64_t value = ref(slots + 8 * i);
        if (value == 0) {
            continue;  // unbound
        }
        // A cell variable's slot holds its cell once the frame has made it (3.11+: MAKE_CELL;
        // until then an argument's slot holds the argument itself).
        if (cell && type_of(value) == t_.types.cell_type) {
            value = ptr(value, l_.cell_ref);
            if (value == 0) {
                continue;
            }
        }
        out.locals.emplace_back(info.local_names[i], repr_checked(value));
    }
}

std::string Decoder::repr_checked(uint64_t obj) {
    try {
        return repr(obj, 0);
    } catch (const InvalidMemory&) {
        repr_path_.clear();
        return "<unreadable at " + hex_address(obj) + ">";
    }
}

std::string Decoder::repr(uint64_t obj, int depth) {
    const TypeAddresses& ty = t_.types;
    if (obj == ty.none) {
        return "None";
    }
    if (obj == ty.true_) {
        return "True";
    }
    if (obj == ty.false_) {
        return "False";
    }
    uint64_t type = type_of(obj);
    if (type == ty.long_type) {
        return int_repr(obj);
    }
    if (type == ty.float_type) {
        return float_repr(at<double>(obj, l_.float_value));
    }
    if (type == ty.str_type) {
        bool cut = false;
        std::u32string s = text(obj, Limits::repr_chars, &cut);
        return str_repr(s, cut);
    }
    if (type == ty.bytes_type) {
        bool cut = false;
        std::string b = bytes(obj, Limits::repr_chars, &cut);
        return bytes_repr(b, cut);
    }
    if (type == ty.tuple_type || type == ty.list_type || type == ty.dict_type ||
        type == ty.set_type || type == ty.frozenset_type) {
        if (std::find(repr_path_.begin(), repr_path_.end(), obj) != repr_path_.end()) {
            // A container inside itself: Python shows these as [...], {...}, (...).
            return type == ty.list_type ? "[...]" : type == ty.tuple_type ? "(...)" : "{...}";
        }
        if (depth < Limits::repr_depth) {
            repr_path_.push_back(obj);
            std::string s = items_repr(obj, type, depth + 1);
            repr_path_.pop_back();
            return s;
        }
    }
    return "<" + type_name(type) + " at " + hex_address(obj) + ">";
}

std::string Decoder::items_repr(uint64_t obj, uint64_t type, int depth) {
    // Hash tables may hold long runs of empty slots: look at this many at most.
    constexpr int64_t scan_limit = 1 << 16;
    const TypeAddresses& ty = t_.types;
    std::vector<std::string> parts;
    bool more = false;
    auto add = [&](std::string s) {
        if (parts.size() >= Limits::repr_items) {
            more = true;
            return false;
        }
        parts.push_back(std::move(s));
        return true;
    };
    auto join = [&](const char* open, const char* close) {
        std::string s = open;
        for (size_t i = 0; i < parts.size(); ++i) {
            s += i ? ", " : "";
            s += parts[i];
        }
        if (more) {
            s += ", ...";
        }
        return s + close;
    };
    if (type == ty.tuple_type || type == ty.list_type) {
        size_t n = static_cast<size_t>(size_of(obj, int64_t{1} << 40));
        uint64_t items = type == ty.tuple_type ? obj + static_cast<uint64_t>(l_.tuple_items)
                                               : ptr(obj, l_.list_items);
        for (size_t i = 0; i < n; ++i) {
            if (!add(repr(at<uint64_t>(items, static_cast<int64_t>(8 * i)), depth))) {
                break;
            }
        }
        if (type == ty.list_type) {
            return join("[", "]");
        }
        return n == 1 ? join("(", ",)") : join("(", ")");
    }
    if (type == ty.dict_type) {
        bool cut = false;
        for (const auto& [key, value] : dict_items(obj, Limits::repr_items, &cut)) {
            parts.push_back(repr(key, depth) + ": " + repr(value, depth));
        }
        more = cut;
        return join("{", "}");
    }
    // set, frozenset: a hash table of (key, hash) entries; empty and deleted slots skipped.
    int64_t mask = at<int64_t>(obj, l_.set_mask);
    uint64_t table = ptr(obj, l_.set_table);
    if (mask < 0 || mask > (int64_t{1} << 40)) {
        throw InvalidMemory("implausible set");
    }
    uint64_t dummy = ty.set_dummy != 0 ? at<uint64_t>(ty.set_dummy, 0) : 0;
    for (int64_t i = 0; i <= std::min<int64_t>(mask, scan_limit); ++i) {
        uint64_t key = at<uint64_t>(table, 16 * i);
        if (key == 0 || key == dummy) {
            continue;
        }
        if (!add(repr(key, depth))) {
            break;
        }
    }
    bool frozen = type == ty.frozenset_type;
    if (parts.empty()) {
        return frozen ? "frozenset()" : "set()";
    }
    return frozen ? join("frozenset({", "})") : join("{", "}");
}

std::vector<std::pair<uint64_t, uint64_t>> Decoder::dict_items(uint64_t dict, size_t limit,
                                                               bool* more) {
    // Entries may be long runs of deleted ones: look at this many at most.
    constexpr int64_t scan_limit = 1 << 16;
    if (type_of(dict) != t_.types.dict_type) {
        throw InvalidMemory("expected a dict at " + hex_address(dict));
    }
    uint64_t keys = ptr(dict, l_.dict_keys);
    uint64_t values = ptr(dict, l_.dict_values);
    int64_t nentries = at<int64_t>(keys, l_.keys_nentries);
    uint64_t entries;
    uint64_t entry_size = 24;  // hash, key, value
    uint64_t key_at = 8;
    if (l_.keys_log2()) {
        auto log2_index_bytes = at<uint8_t>(keys, l_.keys_log2_index_bytes);
        auto kind = at<uint8_t>(keys, l_.keys_kind);
        if (log2_index_bytes > 40 || kind > 2) {
            throw InvalidMemory("implausible dict keys");
        }
        entries = keys + static_cast<uint64_t>(l_.keys_indices) + (uint64_t{1} << log2_index_bytes);
        if (kind != 0) {  // DICT_KEYS_UNICODE, DICT_KEYS_SPLIT: entries are key, value
            entry_size = 16;
            key_at = 0;
        }
    } else {
        int64_t size = at<int64_t>(keys, l_.keys_size);
        if (size <= 0 || size > (int64_t{1} << 40)) {
            throw InvalidMemory("implausible dict keys");
        }
        uint64_t index_bytes = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
        entries = keys + static_cast<uint64_t>(l_.keys_indices) +
                  static_cast<uint64_t>(size) * index_bytes;
    }
    if (nentries < 0 || nentries > (int64_t{1} << 40)) {
        throw InvalidMemory("implausible dict size");
    }
    std::vector<std::pair<uint64_t, uint64_t>> out;
    *more = false;
    nentries = std::min<int64_t>(nentries, scan_limit);
    for (int64_t i = 0; i < nentries; ++i) {
        uint64_t entry = entries + static_cast<uint64_t>(i) * entry_size;
        uint64_t key = at<uint64_t>(entry, static_cast<int64_t>(key_at));
        uint64_t value = values != 0
            ? at<uint64_t>(values + static_cast<uint64_t>(l_.values_items), 8 * i)
            : at<uint64_t>(entry, static_cast<int64_t>(key_at + 8));
        if (key == 0 || value == 0) {
            continue;  // deleted
        }
        if (out.size() >= limit) {
            *more = true;
            break;
        }
        out.emplace_back(key, value);
    }
    return out;
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

std::string Decoder::int_repr(uint64_t obj) {
    size_t ndigits;
    bool negative;
    if (l_.long_has_tag()) {
        // 3.12+: lv_tag = digit count << 3 | sign (0: positive, 1: zero, 2: negative).
        uint64_t tag = at<uint64_t>(obj, l_.long_tag);
        unsigned sign = tag & 3;
        if (sign == 1) {
            return "0";
        }
        if (sign == 3) {
            throw InvalidMemory("implausible int");
        }
        negative = sign == 2;
        ndigits = static_cast<size_t>(tag >> 3);
    } else {
        int64_t size = at<int64_t>(obj, l_.var_size);
        negative = size < 0;
        ndigits = static_cast<size_t>(size < 0 ? -size : size);
    }
    if (ndigits == 0) {
        return "0";
    }
    if (ndigits > Limits::int_digits) {
        return "<int of " + std::to_string(ndigits * 30) + " bits at " + hex_address(obj) + ">";
    }
    std::vector<uint32_t> digits(ndigits);  // base 2**30, least significant first
    raw(obj + static_cast<uint64_t>(l_.long_digits), digits.data(), ndigits * 4);
    // To base 10**9, most significant 30-bit digit first.
    std::vector<uint32_t> out;  // base 10**9, least significant first
    for (size_t i = ndigits; i-- > 0;) {
        if (digits[i] >= (1u << 30)) {
            throw InvalidMemory("implausible int digit");
        }
        uint64_t carry = digits[i];
        for (uint32_t& limb : out) {
            uint64_t v = (uint64_t{limb} << 30) + carry;
            limb = static_cast<uint32_t>(v % 1000000000u);
            carry = v / 1000000000u;
        }
        while (carry != 0) {
            out.push_back(static_cast<uint32_t>(carry % 1000000000u));
            carry /= 1000000000u;
        }
    }
    if (out.empty()) {
        return "0";
    }
    std::string s = negative ? "-" : "";
    s += std::to_string(out.back());
    for (size_t i = out.size() - 1; i-- > 0;) {
        std::string part = std::to_string(out[i]);
        s += std::string(9 - part.size(), '0') + part;
    }
    return s;
}

}  // namespace

void append_utf8(std::string& out, char32_t c) {
    if (c >= 0xD800 && c <= 0xDFFF) {
        c = 0xFFFD;  // a lone surrogate has no UTF-8 form
    }
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string float_repr(double value) {
    // repr(float): the shortest digits that read back as the same double (std::to_chars gives
    // those), laid out as Python does: scientific when the exponent is < -4 or >= 16, with a
    // sign and at least two exponent digits; otherwise positional, with ".0" when integral.
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    (void)ec;
    std::string sci(buf, end);  // e.g. "-1.2345e+02"
    size_t e = sci.find('e');
    int exponent = std::stoi(sci.substr(e + 1));
    std::string mantissa = sci.substr(0, e);
    bool negative = mantissa[0] == '-';
    if (negative) {
        mantissa.erase(0, 1);
    }
    std::string digits;
    for (char c : mantissa) {
        if (c != '.') {
            digits += c;
        }
    }
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1);
        if (digits.size() > 1) {
            out += "." + digits.substr(1);
        }
        std::string exp = std::to_string(exponent < 0 ? -exponent : exponent);
        if (exp.size() < 2) {
            exp = "0" + exp;
        }
        out += (exponent < 0 ? "e-" : "e+") + exp;
    } else if (exponent < 0) {
        out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
        auto point = static_cast<size_t>(exponent + 1);
        if (digits.size() <= point) {
            out += digits + std::string(point - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, point) + "." + digits.substr(point);
        }
    }
    return out;
}

std::string str_repr(const std::u32string& text, bool cut) {
    // As unicode_repr: single quotes unless the text has a ' and no ".
    bool has_single = text.find(U'\'') != std::u32string::npos;
    bool has_double = text.find(U'"') != std::u32string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (char32_t c : text) {
        if (c == static_cast<char32_t>(quote) || c == U'\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == U'\t') {
            out += "\\t";
        } else if (c == U'\n') {
            out += "\\n";
        } else if (c == U'\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            append_hex_escape(out, "\\x", c, 2);
        } else if (c < 0x7F) {
            out += static_cast<char>(c);
        } else if (printable_non_ascii(c)) {
            append_utf8(out, c);
        } else if (c <= 0xFF) {
            append_hex_escape(out, "\\x", c, 2);
        } else if (c <= 0xFFFF) {
            append_hex_escape(out, "\\u", c, 4);
        } else {
            append_hex_escape(out, "\\U", c, 8);
        }
    }
    out += quote;
    if (cut) {
        out += "...";
    }
    return out;
}

std::string bytes_repr(const std::string& data, bool cut) {
    bool has_single = data.find('\'') != std::string::npos;
    bool has_double = data.find('"') != std::string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out = "b";
    out += quote;
    for (char ch : data) {
        auto c = static_cast<unsigned char>(ch);
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7F) {
            append_hex_escape(out, "\\x", c, 2);
        } else {
            out += ch;
        }
    }
    out += quote;
    if (cut) {
        out += "...";
    }
    return out;
}

Layout layout_for(Memory& mem, const Target& target) {
    const Layout* compiled = compiled_layout(target.minor());
    if (compiled == nullptr) {
        throw Error(ErrorKind::unsupported,
                    "Python " + target.version_string() + " is not supported (3.10 to 3.15 are)");
    }
    if (compiled->has_debug_offsets()) {
        return layout_from_debug_offsets(*compiled, mem, target.runtime, target.version_hex);
    }
    return *compiled;
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
