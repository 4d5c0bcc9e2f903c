// jump/rules.hpp: framescope's own refusals — jumps that CPython's setter accepts and that the
// interpreter does not survive. Each returns an empty string when its rule does not apply, else
// the message (they say "CPython accepts this jump, ..."). Internal to jump/.
#pragma once

#include "jump/code.hpp"

#include <string>

namespace fs::jump::rules {

// A debug build's setter asserts that its own model is consistent and aborts the interpreter
// where it is not, before any verdict: every jump in such code. (Release builds: never.)
std::string setter_assertion(PyCodeObject* co, const Code& c);

// 3.11+: landing before a generator's or coroutine's first RESUME, in its prologue.
std::string prologue(PyCodeObject* co, const Code& c, const Decision& d, int new_lineno);

// 3.14+: a tagged integer (3.15's loop index, 3.14's re-raise location) left where the target
// expects an object.
std::string untagged(const Decision& d, int new_lineno);

// 3.10: what the setter's unwinding really leaves of the frame's evaluation stack and blocks,
// against what the target expects.
std::string real_state(PyCodeObject* co, const Code& c, int from, const Decision& d,
                       int new_lineno);

// 3.10: the real state at every code unit as text (the evaluation stack, one letter per value:
// I an iterator, O another object; "?" unreachable), for model().
std::vector<std::string> real_stacks(PyCodeObject* co, const Code& c);

}  // namespace fs::jump::rules
