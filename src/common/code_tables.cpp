// common/code_tables.cpp: see code_tables.hpp.
#include "code_tables.hpp"

#include <algorithm>
#include <limits>

namespace fs::code_tables {
namespace {

// A line number computed in 64 bits, or -1 when no real table could have produced it.
int as_line(int64_t line) {
    return line >= 0 && line <= std::numeric_limits<int>::max() ? static_cast<int>(line) : -1;
}

// The exception table's varint at `p` (most significant chunk first).
const char* read_table_varint(const char* p, const char* end, int& out) {
    auto byte = [](const char* at) { return static_cast<uint8_t>(*at); };
    uint32_t value = byte(p) & 63;
    while ((byte(p) & 64) && p + 1 < end) {
        p++;
        value = (value << 6) | (byte(p) & 63);
    }
    out = static_cast<int>(std::min<uint32_t>(value, 1u << 30));
    return p + 1;
}

void append_table_varint(std::string& out, unsigned value, bool entry_start) {
    int chunks = 1;
    while (chunks < 6 && (value >> (6 * chunks)) != 0) {
        chunks++;
    }
    for (int i = chunks - 1; i >= 0; i--) {
        unsigned byte = (value >> (6 * i)) & 63;
        if (i > 0) {
            byte |= 0x40;
        }
        if (entry_start && i == chunks - 1) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    }
}

// The location table's varint (least significant chunk first).
void append_location_varint(std::string& out, unsigned value) {
    while (value >= 64) {
        out.push_back(static_cast<char>(0x40 | (value & 63)));
        value >>= 6;
    }
    out.push_back(static_cast<char>(value));
}

// Reads a location table from the start; past its end every byte reads as 0.
struct LocationReader {
    std::string_view table;
    size_t pos = 0;

    bool more() const { return pos < table.size(); }
    unsigned byte() { return pos < table.size() ? static_cast<unsigned char>(table[pos++]) : 0; }
    uint32_t varint() {
        uint32_t b = byte();
        uint32_t value = b & 63;
        unsigned shift = 0;
        while ((b & 64) && shift < 28 && pos < table.size()) {
            b = byte();
            shift += 6;
            value |= (b & 63) << shift;
        }
        return value;
    }
    int svarint() {
        uint32_t v = varint();
        return (v & 1) ? -static_cast<int>(v >> 1) : static_cast<int>(v >> 1);
    }
};

// Location entry kinds (the header's code): 13 a line and no column, 14 the long form, 15 no
// location; 10-12 one-line forms with the line delta in the code; 0-9 short forms.
constexpr unsigned kNoColumn = 13;
constexpr unsigned kLongForm = 14;
constexpr unsigned kNoLocation = 15;

}  // namespace

std::vector<ExceptionEntry> read_exception_table(std::string_view table) {
    std::vector<ExceptionEntry> out;
    const char* p = table.data();
    const char* end = p + table.size();
    while (p < end) {
        int start, size, target, depth_lasti;
        p = read_table_varint(p, end, start);
        if (p >= end) break;
        p = read_table_varint(p, end, size);
        if (p >= end) break;
        p = read_table_varint(p, end, target);
        if (p >= end) break;
        p = read_table_varint(p, end, depth_lasti);
        out.push_back({start, size, target, depth_lasti >> 1, (depth_lasti & 1) != 0});
    }
    return out;
}

void append_exception_entry(std::string& table, const ExceptionEntry& entry) {
    append_table_varint(table, static_cast<unsigned>(entry.start), true);
    append_table_varint(table, static_cast<unsigned>(entry.size), false);
    append_table_varint(table, static_cast<unsigned>(entry.target), false);
    append_table_varint(table, static_cast<unsigned>(entry.depth * 2 + (entry.lasti ? 1 : 0)),
                        false);
}

namespace {

// Calls visit(first unit, units, line or -1) for each entry of a location table, in order, until
// visit returns true. Returns false when the table is not one CPython could have written.
template <class Visit>
bool for_each_location(std::string_view table, int firstlineno, Visit&& visit) {
    LocationReader r{table};
    int64_t unit = 0;            // first code unit of the entry
    int64_t line = firstlineno;  // wide: deltas from damaged memory must not overflow
    while (r.more()) {
        unsigned head = r.byte();
        if ((head & 0x80) == 0) {
            return false;  // not at an entry's start: not a table CPython wrote
        }
        unsigned code = (head >> 3) & 15;
        int64_t length = (head & 7) + 1;
        bool has_line = true;
        if (code == kNoLocation) {
            has_line = false;
        } else if (code == kLongForm) {  // line delta, end line delta, columns
            line += r.svarint();
            r.varint();
            r.varint();
            r.varint();
        } else if (code == kNoColumn) {
            line += r.svarint();
        } else if (code >= 10) {  // one-line forms: delta in the code, two column bytes
            line += static_cast<int>(code) - 10;
            r.byte();
            r.byte();
        } else {  // short forms: same line, one column byte
            r.byte();
        }
        if (visit(unit, length, has_line ? as_line(line) : -1)) {
            return true;
        }
        unit += length;
    }
    return true;
}

// The same for 3.10's line table, whose ranges are in bytes (visit gets code units).
template <class Visit>
void for_each_310_range(std::string_view table, int firstlineno, Visit&& visit) {
    // A line delta of -128 means the range has no line.
    int64_t start = 0;
    int64_t line = firstlineno;
    for (size_t pos = 0; pos + 1 < table.size(); pos += 2) {
        int64_t length = static_cast<unsigned char>(table[pos]);
        auto delta = static_cast<signed char>(table[pos + 1]);
        bool has_line = delta != -128;
        if (has_line) {
            line += delta;
        }
        if (visit(start, length, has_line ? as_line(line) : -1)) {
            return;
        }
        start += length;
    }
}

// Appends a range to `out` unless it continues the last one's line.
void add_range(std::vector<LineRange>& out, int64_t start, int line) {
    if (out.empty() || out.back().line != line) {
        out.push_back({static_cast<int>(start), line});
    }
}

}  // namespace

int line_from_location_table(std::string_view table, int firstlineno, int64_t index) {
    int found = -1;
    for_each_location(table, firstlineno, [&](int64_t unit, int64_t length, int line) {
        if (index < unit + length) {
            found = line;
            return true;
        }
        return false;
    });
    return found;
}

std::vector<LineRange> line_ranges_from_location_table(std::string_view table, int firstlineno) {
    std::vector<LineRange> out;
    int64_t end = 0;
    if (!for_each_location(table, firstlineno, [&](int64_t unit, int64_t length, int line) {
            add_range(out, unit, line);
            end = unit + length;
            return false;
        })) {
        out.clear();
        end = 0;
    }
    add_range(out, end, -1);
    return out;
}

void append_line_locations(std::string& table, int count, int line, int& running) {
    while (count > 0) {
        int n = count < 8 ? count : 8;
        if (line < 0) {
            table.push_back(static_cast<char>(0x80 | (kNoLocation << 3) | (n - 1)));
        } else {
            int delta = line - running;
            unsigned zigzag = delta < 0 ? (static_cast<unsigned>(-delta) << 1) | 1
                                        : static_cast<unsigned>(delta) << 1;
            table.push_back(static_cast<char>(0x80 | (kNoColumn << 3) | (n - 1)));
            append_location_varint(table, zigzag);
            running = line;
        }
        count -= n;
    }
}

int line_from_310_table(std::string_view table, int firstlineno, int64_t addr) {
    int found = -1;
    for_each_310_range(table, firstlineno, [&](int64_t start, int64_t length, int line) {
        if (start <= addr && addr < start + length) {
            found = line;
            return true;
        }
        return false;
    });
    return found;
}

std::vector<LineRange> line_ranges_from_310_table(std::string_view table, int firstlineno) {
    std::vector<LineRange> out;
    int64_t end = 0;
    for_each_310_range(table, firstlineno, [&](int64_t start, int64_t length, int line) {
        add_range(out, start / 2, line);  // (instructions are two bytes)
        end = start + length;
        return false;
    });
    add_range(out, end / 2, -1);
    return out;
}

}  // namespace fs::code_tables
