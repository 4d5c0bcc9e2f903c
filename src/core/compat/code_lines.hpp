// compat/code_lines.hpp: the line of a code unit, from line ranges decoded once per code object.
//
// PyCode_Addr2Line() decodes a code object's line table from its start on every call, and a
// walk asks for the line of every frame. Here each code object's table is decoded once, the
// first time a line of it is asked for, into sorted ranges kept in the code object's extra slot
// (PEP 523's co_extra, freed with the code object); a line is then a binary search. The table
// never changes while the code object lives, so the ranges stay right.
#pragma once

#include "compat/python.hpp"

namespace fs::compat {

// Reserves the code-extra slot, once, when the core loads. -1 with an exception set on failure.
int init_code_lines();

// The line of code unit `unit` of `co`, as PyCode_Addr2Line(co, 2 * unit) gives it:
// co_firstlineno for a negative unit, -1 where the instruction has none. Never raises; where the
// ranges cannot be kept (no memory; an exception is pending, which must stay as it is) it asks
// PyCode_Addr2Line instead.
int code_line(PyCodeObject* co, int unit) noexcept;

}  // namespace fs::compat
