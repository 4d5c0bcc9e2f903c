// jump/code.hpp: a code object as the jump checker reads it — its code units, the first
// instruction of each line, where each instruction can go next, and its exception table.
// Internal to jump/.
#pragma once

#include "compat/python.hpp"
#include "code_tables.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fs::jump {

// co_code (deoptimised: specialised and instrumented opcodes read as their base opcode, inline
// caches as CACHE), split into opcodes and arguments, one entry per code unit.
struct Code {
    std::vector<uint8_t> ops;
    std::vector<uint8_t> args;
    int len() const { return static_cast<int>(ops.size()); }
};

// False with a Python exception set when co_code cannot be read.
bool read_code(PyCodeObject* co, Code& out);

// The first instruction of each line, as CPython's setter sees them (-1 elsewhere), from the
// code's own line table (co_lines()).
bool line_starts(PyCodeObject* co, int len, std::vector<int>& lines);

// The first line in `lines` at or after `line`, or -1.
int first_line_not_before(const std::vector<int>& lines, int line);

// `fmt` with its one %d replaced by `value`.
std::string format(const char* fmt, long value);

// The argument of the instruction at `i` as 3.10's setter reads it (get_arg(): up to three
// EXTENDED_ARG prefixes).
unsigned arg_310(const Code& c, int i);

// The argument of the instruction at `i` (after its EXTENDED_ARG prefixes) as the version's
// setter reads it; 3.11+ clamped at 2**30, beyond which no target is inside the code.
int64_t instruction_arg(const Code& c, int i);

// The code unit after the instruction at `i` and its inline caches.
int next_instruction(const Code& c, int i);

// Where an instruction goes when it completes normally. Every model of the checker takes its
// jump targets from here, and framescope.jump() follows it to the next line events
// (_core._successors).
struct Flow {
    bool next = true;      // falls through to the next instruction
    bool jumps = false;    // may continue at `target`
    bool handler = false;  // 3.10's SETUP_*: `target` is the handler, reached by an exception only
    int64_t target = 0;    // a code unit; may be outside the code (hand-made code)
};
Flow flow(int opcode, int i, int next_i, int64_t oparg);

// The successors of the instruction at code unit `i` in normal flow, as code units: the next
// instruction first, then the jump target.
std::vector<int64_t> successors(const Code& c, int i);

// 3.11+: the entries of a code object's exception table, in code units, in table order. Entries
// that do not fit the code (hand-made tables) are left out; an entry's end is cut to the code.
struct Handler {
    int start;
    int end;  // exclusive
    int target;
    int depth;
    bool lasti;
};
std::vector<Handler> handlers(PyCodeObject* co, int len);

// CPython's verdict from one of the models (block_model.hpp, stack_model.hpp), before framescope's
// own rules (rules.hpp).
struct Decision {
    const char* refusal = nullptr;  // CPython's message, or nullptr when it accepts the jump
    int64_t start = 0;              // the model at the origin
    int64_t best = 0;               // the model at the instruction the setter lands on
    int best_addr = -1;             // that instruction
};

}  // namespace fs::jump
