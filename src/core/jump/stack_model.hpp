// jump/stack_model.hpp: the model of a frame that the f_lineno setter of 3.11 and later uses — the
// kinds of the values on the evaluation stack at every instruction, with the exception table's
// handlers. Internal to jump/.
#pragma once

#include "jump/code.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fs::jump::stacks {

// A stack is an int64_t, kBits per entry, the top lowest; kUninitialized where no flow reaches,
// kOverflowed deeper than kMaxEntries.
enum Kind : int64_t { Iterator = 1, Except = 2, Object = 3, Null = 4, Lasti = 5 };
constexpr int kBits = 3;
constexpr int64_t kUninitialized = -2;
constexpr int64_t kOverflowed = -1;
constexpr int kMaxEntries = 63 / kBits;
constexpr int64_t kMask = (1 << kBits) - 1;

inline int64_t pop(int64_t stack) { return stack >> kBits; }  // arithmetic: -1, -2 stay negative
inline int64_t top(int64_t stack) { return stack & kMask; }

// The letters of the kinds, as model() and Verdict::popped show them.
inline char kind_letter(int64_t kind) { return "?IEONL"[kind]; }

// The stack at every code unit (and one past the end), as CPython's mark_stacks() builds it.
// With `assertion_at`, the first instruction where a debug build's setter would find its model
// inconsistent is stored there.
void mark_stacks(PyCodeObject* co, const Code& c, std::vector<int64_t>& stacks,
                 int* assertion_at = nullptr);

// CPython's verdict for jumping from code unit `from` to `new_lineno`.
Decision decide(PyCodeObject* co, const Code& c, const std::vector<int>& lines, int from,
                int new_lineno);

// The entries an accepted jump pops from `start` down to `best` (top first, as kind letters),
// and the depth of `start`.
void pops(int64_t start, int64_t best, std::string& popped, int& depth);

// A stack as text, bottom first; "-" unreachable.
std::string describe(int64_t stack);

}  // namespace fs::jump::stacks
