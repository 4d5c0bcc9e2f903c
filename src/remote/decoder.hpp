// decoder.hpp: the Decoder, which reads one target's interpreter state through its Layout.
//
// Internal to the reader (decode.hpp is its interface). One class, its methods in one file per
// concept: walk.cpp (interpreters -> thread states -> frames -> variables), code.cpp (code
// objects), objects.cpp (the contents of str, bytes, tuple, dict and type objects) and
// value_repr.cpp (the repr of a value). Nothing read is trusted: see decode.hpp.
#pragma once

#include "decode.hpp"
#include "error.hpp"
#include "memory.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fs::remote {

inline std::string hex_address(uint64_t addr) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, addr, 16);
    (void)ec;
    return "0x" + std::string(buf, end);
}

// `s` as UTF-8 (value_repr.cpp).
std::string to_utf8(const std::u32string& s);

// What the reader keeps of a code object (code.cpp).
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
    // A reference slot: a PyObject*, or on 3.14+ a _PyStackRef (gh-117139; tag bits cleared; a tagged int
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
    std::vector<uint64_t> repr_path_;  // containers being shown (for recursive ones)
    size_t frames_seen_ = 0;
};

}  // namespace fs::remote
