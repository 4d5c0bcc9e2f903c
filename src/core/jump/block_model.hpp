// jump/block_model.hpp: 3.10's model of a frame for the f_lineno setter — the block stack (which
// with, loop, try and except blocks are open) at every instruction. Internal to jump/.
#pragma once

#include "jump/code.hpp"

#include <cstdint>
#include <vector>

namespace fs::jump::blocks {

// A block stack is an int64_t, kBlockBits per block, the innermost lowest; -1 unreachable.
enum BlockKind : int64_t { With = 1, Loop = 2, Try = 3, ExceptBlock = 4 };
constexpr int kBlockBits = 3;

inline int64_t pop_block(int64_t stack) { return stack >> kBlockBits; }
inline int64_t top_block(int64_t stack) { return stack & ((1 << kBlockBits) - 1); }

// The block stack at every code unit (and one past the end), as CPython 3.10's markblocks()
// builds it. With `assertion_at`, the first instruction where a debug build's setter would find
// its model inconsistent (a jump target reached with two different stacks) is stored there.
std::vector<int64_t> mark_blocks(const Code& c, int* assertion_at = nullptr);

// CPython's verdict for jumping from code unit `from` to `new_lineno`.
Decision decide(const Code& c, const std::vector<int>& lines, int from, int new_lineno);

// A block stack as text: W with, L loop, T try, E except, innermost last.
std::string describe(int64_t stack);

}  // namespace fs::jump::blocks
