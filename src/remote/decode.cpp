// decode.cpp: line numbers from CPython's line tables (3.10's PEP 626 table, the 3.11+
// location table of PEP 657).
#include "decode.hpp"

#include <limits>

namespace fs::remote {

// A line number computed in 64 bits, or -1 when no real table could have produced it.
static int as_line(int64_t line) {
    return line >= 0 && line <= std::numeric_limits<int>::max() ? static_cast<int>(line) : -1;
}

int line_from_location_table(const std::string& table, int firstlineno, int64_t index) {
    // PEP 657's location table: entries of a header byte (1, code:4, length-1:3) and, by code,
    // a line delta (signed varint) and columns. See CPython's Objects/locations.md.
    size_t pos = 0;
    int64_t unit = 0;  // first code unit of the entry
    int64_t line = firstlineno;  // wide: deltas from damaged memory must not overflow
    auto byte = [&]() -> unsigned { return pos < table.size() ? static_cast<unsigned char>(table[pos++]) : 0; };
    auto varint = [&]() -> uint32_t {
        uint32_t b = byte();
        uint32_t value = b & 63;
        unsigned shift = 0;
        while ((b & 64) && shift < 28 && pos < table.size()) {
            b = byte();
            shift += 6;
            value |= (b & 63) << shift;
        }
        return value;
    };
    auto svarint = [&]() -> int {
        uint32_t v = varint();
        return (v & 1) ? -static_cast<int>(v >> 1) : static_cast<int>(v >> 1);
    };
    while (pos < table.size()) {
        unsigned head = byte();
        if ((head & 0x80) == 0) {
            return -1;  // not at an entry's start: not a table CPython wrote
        }
        unsigned code = (head >> 3) & 15;
        int64_t length = (head & 7) + 1;
        bool has_line = true;
        if (code == 15) {  // no location
            has_line = false;
        } else if (code == 14) {  // long form: line delta, end line delta, columns
            line += svarint();
            varint();
            varint();
            varint();
        } else if (code == 13) {  // no column
            line += svarint();
        } else if (code >= 10) {  // one-line forms: delta in the code, two column bytes
            line += static_cast<int>(code) - 10;
            byte();
            byte();
        } else {  // short forms: same line, one column byte
            byte();
        }
        if (index < unit + length) {
            return has_line ? as_line(line) : -1;
        }
        unit += length;
    }
    return -1;
}

int line_from_310_table(const std::string& table, int firstlineno, int64_t addr) {
    // PEP 626 as 3.10 implements it: byte pairs (address delta, signed line delta); a line
    // delta of -128 means the range has no line.
    int64_t start = 0;
    int64_t line = firstlineno;
    for (size_t pos = 0; pos + 1 < table.size(); pos += 2) {
        int64_t end = start + static_cast<unsigned char>(table[pos]);
        auto delta = static_cast<signed char>(table[pos + 1]);
        bool has_line = delta != -128;
        if (has_line) {
            line += delta;
        }
        if (start <= addr && addr < end) {
            return has_line ? as_line(line) : -1;
        }
        start = end;
    }
    return -1;
}

}  // namespace fs::remote
