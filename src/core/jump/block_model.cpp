// jump/block_model.cpp: see block_model.hpp. Kept exactly as CPython 3.10's
// Objects/frameobject.c models the block stack, so that verdicts and messages are the same.
#include "jump/block_model.hpp"

#include "compat/bytecode.hpp"

namespace fs::jump::blocks {
namespace {

// (Real code nests at most 20 blocks; hand-made code may claim more: the model then stops
// growing instead of overflowing.)
int64_t push_block(int64_t stack, BlockKind kind) {
    return stack >= (int64_t{1} << 59) ? stack : (stack << kBlockBits) | kind;
}

bool compatible_blocks(int64_t from, int64_t to) {
    if (to < 0) {
        return false;
    }
    while (from > to) {
        from = pop_block(from);
    }
    return from == to;
}

const char* explain_blocks(int64_t to) {
    switch (top_block(to)) {
        case ExceptBlock:
            return "can't jump into an 'except' block as there's no exception";
        case Try:
            return "can't jump into the body of a try statement";
        case With:
            return "can't jump into the body of a with statement";
        case Loop:
        default:
            return "can't jump into the body of a for loop";
    }
}

}  // namespace

std::vector<int64_t> mark_blocks(const Code& c, int* assertion_at) {
    namespace op = compat::op;
    int len = c.len();
    std::vector<int64_t> blocks(len + 1, -1);
    blocks[0] = 0;
    int at = 0;  // the instruction being modelled, for assertion_at
    // A jump target's model, where CPython's debug build asserts that it is consistent.
    auto set = [&](int64_t j, int64_t value) {
        bool consistent = j >= 0 && j < len && (blocks[j] == -1 || blocks[j] == value);
        if (!consistent && assertion_at != nullptr && *assertion_at < 0) {
            *assertion_at = at;
        }
        if (j >= 0 && j <= len) {
            blocks[j] = value;
        }
    };
    bool todo = true;
    while (todo) {
        todo = false;
        for (int i = 0; i < len; i++) {
            int64_t block_stack = blocks[i];
            if (block_stack == -1) {
                continue;
            }
            at = i;
            int opcode = c.ops[i];
            // A jump target: from an unsigned argument, never negative.
            int64_t j = flow(opcode, i, i + 1, int64_t{arg_310(c, i)}).target;
            switch (opcode) {
                case op::jump_if_false_or_pop:
                case op::jump_if_true_or_pop:
                case op::pop_jump_if_false:
                case op::pop_jump_if_true:
                case op::jump_if_not_exc_match:
                    if (j < len && blocks[j] == -1 && j < i) {
                        todo = true;
                    }
                    set(j, block_stack);
                    blocks[i + 1] = block_stack;
                    break;
                case op::jump_absolute:
                    if (j < len && blocks[j] == -1 && j < i) {
                        todo = true;
                    }
                    set(j, block_stack);
                    break;
                case op::setup_finally:
                    set(j, push_block(block_stack, ExceptBlock));
                    blocks[i + 1] = push_block(block_stack, Try);
                    break;
                case op::setup_with:
                case op::setup_async_with:
                    set(j, push_block(block_stack, ExceptBlock));
                    blocks[i + 1] = push_block(block_stack, With);
                    break;
                case JUMP_FORWARD:
                    set(j, block_stack);
                    break;
                case GET_ITER:
                case GET_AITER:
                    // gh-92311 (3.10.5): a comprehension's GET_ITER, which feeds the iterator
                    // to the comprehension's own code object (CALL_FUNCTION next), opens no
                    // loop of this frame; a `for` loop's does.
                    blocks[i + 1] = i + 1 < len && c.ops[i + 1] == op::call_function
                                        ? block_stack
                                        : push_block(block_stack, Loop);
                    break;
                case FOR_ITER:
                    blocks[i + 1] = block_stack;
                    set(j, pop_block(block_stack));
                    break;
                case op::pop_block:
                case POP_EXCEPT:
                    blocks[i + 1] = pop_block(block_stack);
                    break;
                case END_ASYNC_FOR:
                    blocks[i + 1] = pop_block(pop_block(block_stack));
                    break;
                case RETURN_VALUE:
                case RAISE_VARARGS:
                case RERAISE:
                    break;
                default:
                    blocks[i + 1] = block_stack;
            }
        }
    }
    return blocks;
}

Decision decide(const Code& c, const std::vector<int>& lines, int from, int new_lineno) {
    std::vector<int64_t> blocks = mark_blocks(c);
    Decision d;
    d.start = blocks[from];
    d.best = -1;
    const char* msg = "cannot find bytecode for specified line";
    for (int i = 0; i < c.len(); i++) {
        if (lines[i] != new_lineno) {
            continue;
        }
        int64_t target = blocks[i];
        if (compatible_blocks(d.start, target)) {
            msg = nullptr;
            if (target > d.best) {
                d.best = target;
                d.best_addr = i;
            }
        } else if (msg != nullptr) {
            // 3.10 keeps the explanation of the last incompatible instruction of the line.
            msg = target >= 0 ? explain_blocks(target) : "code may be unreachable.";
        }
    }
    if (msg != nullptr) {
        d.refusal = msg;
        return d;
    }
    // The setter unwinds the blocks it leaves, and refuses to leave an 'except' block then.
    for (int64_t s = d.start; s > d.best; s = pop_block(s)) {
        if (top_block(s) == ExceptBlock) {
            d.refusal = "can't jump out of an 'except' block";
            return d;
        }
    }
    return d;
}

std::string describe(int64_t stack) {
    std::string text;
    for (int64_t b = stack; b > 0; b = pop_block(b)) {
        text.insert(text.begin(), "?WLTE"[top_block(b)]);
    }
    return text;
}

}  // namespace fs::jump::blocks
