// decode.hpp: turning an interpreter's memory into stacks: threads, frames, lines, variables.
// (walk.cpp, code.cpp, objects.cpp and value_repr.cpp through the Decoder of decoder.hpp; line
// tables in common/code_tables.cpp, shared with the core.)
//
// Written once against `Layout` (layouts.hpp) and `Memory` (memory.hpp): no version test here
// beyond the Layout's named capabilities. Nothing read is trusted: every pointer is read through
// Memory (which fails cleanly on unmapped addresses), every count is capped, every linked list
// is checked for cycles, and anything that is not what the layout says it should be throws
// InvalidMemory, which the caller turns into a retry.
#pragma once

#include "code_tables.hpp"
#include "layouts.hpp"
#include "target.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fs::remote {

class Memory;

struct FrameRecord {
    std::string filename;
    std::string function;  // co_qualname on 3.11+, co_name on 3.10
    int lineno = -1;       // -1: the instruction has no line (None)
    std::vector<std::pair<std::string, std::string>> locals;  // name, repr
};

struct ThreadRecord {
    uint64_t thread_id = 0;   // threading.get_ident()
    int64_t native_id = -1;   // the kernel's thread id (-1: unknown)
    std::string name;
    std::vector<FrameRecord> frames;  // innermost first
    bool truncated = false;           // more frames than the decoder reads
};

struct DecodeOptions {
    bool locals = false;
};

// Limits on what remote memory can make us do.
struct Limits {
    static constexpr size_t interpreters = 64;
    static constexpr size_t threads = 4096;
    static constexpr size_t frames = 20000;     // per thread
    static constexpr size_t total_frames = 200000;
    static constexpr size_t name_chars = 4096;  // file and function names
    static constexpr size_t table_bytes = 1 << 20;  // a line table
    static constexpr size_t locals = 4096;      // per frame
    static constexpr size_t repr_chars = 200;   // a str or bytes shown in full up to this
    static constexpr size_t repr_items = 10;    // items of a container shown
    static constexpr int repr_depth = 3;        // containers inside containers
    static constexpr size_t int_digits = 1500;  // 30-bit digits of an int shown exactly
};

// Reads every thread of every interpreter. Throws InvalidMemory.
std::vector<ThreadRecord> decode_threads(Memory& mem, const Target& target, const Layout& layout,
                                         const DecodeOptions& options);

// The target's sys.version up to its first space ("3.10.13"), read from the main interpreter's
// sys module; for 3.10, which has no Py_Version. Empty when not found. Throws InvalidMemory.
std::string version_from_sys(Memory& mem, const Target& target, const Layout& layout);

// The pure parts, exposed for the tests.
// Lines from the location table (3.11+) and 3.10's line table: common/code_tables.hpp.
using code_tables::line_from_location_table;
using code_tables::line_from_310_table;
std::string float_repr(double value);
// Appends code point `c` as UTF-8 (a lone surrogate as U+FFFD, which UTF-8 cannot hold).
void append_utf8(std::string& out, char32_t c);
std::string str_repr(const std::u32string& text, bool cut);
std::string bytes_repr(const std::string& data, bool cut);

}  // namespace fs::remote
