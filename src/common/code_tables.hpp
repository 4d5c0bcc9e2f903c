// common/code_tables.hpp: CPython's tables beside a code object's bytecode, read and written in
// one place for the in-process core (the jump checker, 3.11's resume tail) and the remote reader.
//
// Everything here works on bytes (a table copied out of a code object, here or in another
// process) and never includes CPython's headers: the remote reader reads any version whatever
// Python runs it. Offsets are in code units (2 bytes) unless a name says bytes.
//
// - the exception table (3.11+, bpo-40222 "zero-cost" exceptions): entries of four varints,
//   6-bit chunks most significant first, 0x40 on all but the last chunk, 0x80 on an entry's
//   first byte (CPython: Objects/exception_handling_notes.txt);
// - the location table (3.11+, PEP 657): entries of a header byte and, by kind, a line delta and
//   columns in varints of 6-bit chunks, least significant first (CPython: Objects/locations.md);
// - the line table (3.10, PEP 626): byte pairs of an address delta and a signed line delta.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fs::code_tables {

// ---- exception table (3.11+) ---------------------------------------------------------------

struct ExceptionEntry {
    int start;   // first code unit covered
    int size;    // code units covered
    int target;  // the handler's first code unit
    int depth;   // the stack depth the handler starts from
    bool lasti;  // whether the handler starts with the re-raise location pushed
};

// Every complete entry, in table order; a value beyond 2**30 reads as 2**30 (a real table stays far
// below). Entries are not checked against any code: the caller knows its length.
std::vector<ExceptionEntry> read_exception_table(std::string_view table);

// Appends `entry` to `table`.
void append_exception_entry(std::string& table, const ExceptionEntry& entry);

// ---- location table (3.11+) ----------------------------------------------------------------

// The line of the code unit at `index`, or -1 for none (or a table CPython could not have
// written).
int line_from_location_table(std::string_view table, int firstlineno, int64_t index);

// Appends entries for `count` code units at `line` (-1: no location), `running` being the line
// the table's entries so far end on (updated).
void append_line_locations(std::string& table, int count, int line, int& running);

// The lines of every code unit, as ranges: each entry's line (-1: none) holds from its `start`
// (a code unit) to the next entry's; the last entry, with line -1, is where the table ends.
// Consecutive ranges of one line are merged. A table CPython could not have written gives just
// that last entry, at 0.
struct LineRange {
    int start;
    int line;
};
std::vector<LineRange> line_ranges_from_location_table(std::string_view table, int firstlineno);

// ---- line table (3.10) ---------------------------------------------------------------------

// The line of the instruction at byte offset `addr`, or -1 for none.
int line_from_310_table(std::string_view table, int firstlineno, int64_t addr);
// Its lines of every code unit, as line_ranges_from_location_table() gives them.
std::vector<LineRange> line_ranges_from_310_table(std::string_view table, int firstlineno);

}  // namespace fs::code_tables
