// jump/can_jump.hpp: the jump checker — CPython's own rules for `frame.f_lineno = n`, as a pure
// function of a code object, the instruction a 'line' event stops at, and the target line.
//
// Verdicts are CPython's, message for message, with one deliberate difference: jumps that the
// setter accepts but that crash or hang the interpreter afterwards are refused, with a message of
// ours saying why (jump/rules.hpp).
#pragma once

#include "compat/python.hpp"
#include "refs.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fs::jump {

struct Verdict {
    bool ok = false;
    std::string message;  // CPython's message (or ours), when !ok
    int line = -1;        // the line the jump lands on (the first line with code at or after
                          // the target), when ok
    bool ours = false;    // refused by framescope although CPython would accept it
    // 3.11+, when ok: where CPython's setter would land (a code unit), the depth of the model's
    // stack at the origin, and the kinds the jump pops from it, top first (kind letters as in
    // model(): 'E' an exception to restore, anything else a value to drop).
    int landing = -1;
    int start_depth = -1;
    std::string popped;
};

// The verdict for jumping, from the 'line' event whose frame.f_lasti is `from_lasti`, to
// `to_lineno`. Returns std::nullopt with a Python exception set on bad input (not a code
// object's instruction) or when the interpreter fails (memory).
std::optional<Verdict> check(PyCodeObject* code, long from_lasti, long to_lineno);

// The checker's model of `code`, one row per code unit: its offset (as f_lasti counts), the line
// it starts (-1 if none), and the model there as text: 3.11+ the kinds on the stack, bottom
// first (I iterator, E exception, O object, N NULL, L re-raise location; "-" unreachable);
// 3.10 the block stack (W with, L loop, T try, E except) and the real evaluation stack.
struct ModelRow {
    int offset;
    int line;
    std::string state;
};
std::optional<std::vector<ModelRow>> model(PyCodeObject* code);

// Where the instruction at byte offset `offset` continues when it completes normally: the byte
// offsets of the next instruction (unless it ends the flow) and of its jump target, in that
// order. 3.10's SETUP_* blocks have only the next instruction (their target is a handler). The
// models of check() propagate along the same edges. std::nullopt with ValueError set for an
// offset that is not a code unit of `code`.
std::optional<std::vector<int>> successors(PyCodeObject* code, long offset);

}  // namespace fs::jump
