// jump/rules.cpp: see rules.hpp.
#include "jump/rules.hpp"

#include "compat/bytecode.hpp"
#include "jump/block_model.hpp"
#include "jump/stack_model.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <utility>

namespace fs::jump::rules {
namespace {

// A generator or coroutine's first instructions (3.11+: RETURN_GENERATOR, POP_TOP before the
// first RESUME) run once, when the generator object is made. Jumping back onto them makes the
// running generator build a second generator around its own frame and end, returning it; the
// interpreter then often crashes (segfaults seen on 3.11, 3.14 and 3.15) or hangs. CPython's
// gh-140802 (open) is such a crash: a jump onto an `async def` line, its RETURN_GENERATOR.
constexpr const char* kPrologueMessage =
    "line %d is the start of a generator or coroutine, which runs only when it is created: "
    "CPython accepts this jump, but the generator then ends by returning a second generator "
    "on its own frame, and the interpreter may crash or hang";

// A debug build of CPython (Py_DEBUG) asserts, while its setter models the code, that the model
// is consistent; where it is not (code the model gets wrong, such as 3.10's `break` out of a
// loop), every jump in that code aborts the interpreter. Release builds accept or refuse as
// usual.
constexpr const char* kAssertionMessage =
    "CPython accepts this jump in a release build, but this debug build aborts on any jump in "
    "this code: the setter's model of it is inconsistent at offset %d, which it asserts";

constexpr const char* kUntaggedMessage =
    "the jump to line %d would leave a loop's iterator index or a re-raise location where that "
    "line expects an object: CPython accepts this jump, and the interpreter crashes when the "
    "line uses it";

constexpr const char* kRealStateMessage =
    "the jump to line %d would leave the frame with %s: CPython accepts this jump, and the frame "
    "then runs on a corrupted stack, which can crash the interpreter";

// Where a generator or coroutine's prologue ends: the first instruction that may be jumped to.
// 0 for other code.
int prologue_end(PyCodeObject* co, const Code& code) {
    if (!(co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))) {
        return 0;
    }
    if constexpr (compat::kHasReturnGenerator) {
        for (int i = 0; i < code.len(); i++) {
            if (code.ops[i] == compat::op::resume) {
                return i;
            }
        }
        return 0;
    }
    return code.len() > 0 && code.ops[0] == compat::op::gen_start ? 1 : 0;
}

// ---- 3.10: the frame's real state -----------------------------------------------------------
//
// 3.10's block model (block_model.cpp, kept exactly as CPython has it so that the verdicts are
// the same) is not always the frame's real state: where a `break` leaves a loop, the model keeps
// the loop's block open, and because a later write wins, that stale block spreads to the code
// after the loop and, through a `while` back edge, to the top of the loop. The setter then pops
// values and blocks that are not there. And it never looks at the evaluation stack, so jumping
// into or out of a `match` (whose subject sits on the stack) leaves one value too few or too
// many. Both end in a crash (Objects/frameobject.c, frame_setlineno() and markblocks(), 3.10).
// (gh-92311 was another, until 3.10.5: a comprehension's GET_ITER opened a "loop" the model
// never closed, and a jump back over the comprehension segfaulted; the model now leaves it
// out, and so does block_model.cpp.)
//
// So the real state is modelled too: the depth of the evaluation stack, and the blocks the
// interpreter really has (for loops have none; try and with blocks record the stack level to
// restore; an exception handler has one while it runs). A jump is refused when what the
// setter's unwinding leaves is not what the target instruction expects.
enum RealBlock : int { Setup = 1, Handler = 2 };
struct Real {
    bool reached = false;
    std::string stack;                        // one letter per value: 'I' an iterator, 'O' other
    std::vector<std::pair<int, int>> blocks;  // (RealBlock, stack level)
};

std::vector<Real> mark_real(PyCodeObject* co, const Code& c) {
    namespace op = compat::op;
    int len = c.len();
    std::vector<Real> st(len + 1);
    st[0].reached = true;
    if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
        st[0].stack = "O";  // the value of the first send(), which GEN_START pops
    }
    std::vector<int> work{0};
    auto flow_to = [&](int64_t j, std::string stack,
                       const std::vector<std::pair<int, int>>& blocks) {
        if (j < 0 || j >= len || st[j].reached) {
            return;
        }
        st[j].reached = true;
        st[j].stack = std::move(stack);
        st[j].blocks = blocks;
        work.push_back(j);
    };
    // The stack after an instruction with stack effect `e`: values popped, or objects pushed.
    auto apply = [](std::string stack, int e) {
        if (e > 0 && stack.size() + size_t(e) > 1u << 16) {
            e = 0;  // only hand-made code grows a stack this deep
        }
        if (e < 0) {
            stack.resize(stack.size() > size_t(-e) ? stack.size() + e : 0);
        } else {
            stack.append(size_t(e), 'O');
        }
        return stack;
    };
    while (!work.empty()) {
        int i = work.back();
        work.pop_back();
        int opcode = c.ops[i];
        int64_t arg = arg_310(c, i);  // unsigned 32-bit: targets below cannot overflow
        Flow f = flow(opcode, i, i + 1, arg);
        const std::string here = st[i].stack;
        auto blocks = st[i].blocks;
        auto effect = [&](int jump) {
            int oparg = opcode >= HAVE_ARGUMENT ? int(std::min<int64_t>(arg, INT_MAX)) : 0;
            int e = PyCompile_OpcodeStackEffectWithJump(opcode, oparg, jump);
            if (e == PY_INVALID_STACK_EFFECT) {
                PyErr_Clear();
                return 0;
            }
            return e;
        };
        std::string next = apply(here, effect(0));
        switch (opcode) {
            case GET_ITER:
            case GET_AITER:
                if (!next.empty()) {
                    next.back() = 'I';
                }
                flow_to(i + 1, next, blocks);
                break;
            case op::setup_finally:
            case op::setup_with:
            case op::setup_async_with: {
                // SETUP_ASYNC_WITH sets its block up below the value it keeps on top.
                int level = int(here.size()) - (opcode == op::setup_async_with ? 1 : 0);
                auto handler = blocks;
                handler.push_back({Handler, level});
                std::string at_handler(here.begin(),
                                       here.begin() + std::clamp(level, 0, int(here.size())));
                at_handler.append(6, 'O');  // the exception state the handler starts with
                flow_to(f.target, std::move(at_handler), handler);
                blocks.push_back({Setup, level});
                flow_to(i + 1, next, blocks);
                break;
            }
            case op::pop_block:
            case POP_EXCEPT:
            case END_ASYNC_FOR:
                if (!blocks.empty()) blocks.pop_back();
                flow_to(i + 1, next, blocks);
                break;
            default:  // jumps (taken first), the next instruction, or neither (returns, raises)
                if (f.jumps) {
                    flow_to(f.target, apply(here, effect(1)), blocks);
                }
                if (f.next) {
                    flow_to(i + 1, next, blocks);
                }
        }
    }
    return st;
}

std::string describe_stack(const std::string& stack) {
    std::string out = std::to_string(stack.size()) + " values on its evaluation stack";
    if (stack.find('I') != std::string::npos) {
        out += " (" + std::to_string(std::count(stack.begin(), stack.end(), 'I')) +
               " of them loop iterators)";
    }
    return out;
}

// What the setter's unwinding of `start` down to `best` (model block stacks) really leaves,
// against what the target expects. Empty when they agree.
std::string real_state_problem(PyCodeObject* co, const Code& c, int from, int to,
                               int64_t start, int64_t best) {
    using namespace blocks;
    std::vector<Real> real = mark_real(co, c);
    if (!real[from].reached || !real[to].reached) {
        return {};
    }
    std::string stack = real[from].stack;
    auto open = real[from].blocks;
    for (; start > best; start = pop_block(start)) {
        switch (top_block(start)) {
            case Loop:
                if (stack.empty()) {
                    return "a value popped from an empty evaluation stack";
                }
                stack.pop_back();
                break;
            case Try:
            case With:
                if (open.empty()) {
                    return "a block popped from an empty block stack";
                }
                if (stack.size() > size_t(open.back().second)) {
                    stack.resize(size_t(std::max(open.back().second, 0)));
                }
                open.pop_back();
                if (top_block(start) == With) {  // and the block's __exit__
                    if (stack.empty()) {
                        return "a value popped from an empty evaluation stack";
                    }
                    stack.pop_back();
                }
                break;
            default:
                break;
        }
    }
    const std::string& want = real[to].stack;
    if (stack != want) {
        return describe_stack(stack) + " where the line expects " + describe_stack(want);
    }
    if (open != real[to].blocks) {
        return std::to_string(open.size()) + " open blocks where the line expects " +
               std::to_string(real[to].blocks.size()) +
               (open.size() == real[to].blocks.size() ? " of other kinds or levels" : "");
    }
    return {};
}

}  // namespace

std::string setter_assertion(PyCodeObject* co, const Code& c) {
    if constexpr (!compat::kSetterAsserts) {
        return {};
    }
    int assertion_at = -1;
    if constexpr (compat::kHasBlockStack) {
        blocks::mark_blocks(c, &assertion_at);
    } else {
        std::vector<int64_t> ignored;
        stacks::mark_stacks(co, c, ignored, &assertion_at);
    }
    return assertion_at >= 0 ? format(kAssertionMessage, 2L * assertion_at) : std::string();
}

std::string prologue(PyCodeObject* co, const Code& c, const Decision& d, int new_lineno) {
    if (d.best_addr >= 0 && d.best_addr < prologue_end(co, c)) {
        return format(kPrologueMessage, new_lineno);
    }
    return {};
}

// The entries the jump keeps are matched kind for kind, but CPython lets an object-shaped slot
// of the target take any kind but NULL (Objects/frameobject.c, compatible_kind(), 3.11 and
// later). Some kinds are not objects: 3.15's loop index (the second half of an iterator pair)
// and, from 3.14, the re-raise location are tagged integers. Handed to code that expects an
// object, they crash the interpreter (found by tests/jumpfuzz_api.py on 3.15: a jump from two
// nested loops into a `finally` copy that holds a return value split an iterator pair).
std::string untagged(const Decision& d, int new_lineno) {
    using namespace stacks;
    int64_t kept = d.start;
    int64_t expected = d.best;
    while (kept > expected) {
        kept = pop(kept);
    }
    for (; kept > 0 && expected > 0; kept = pop(kept), expected = pop(expected)) {
        int64_t have = top(kept), want = top(expected);
        bool not_an_object =
            (compat::kGetIterPushesIndex && have == Iterator && want != Iterator) ||
            (compat::kTaggedLasti && have == Lasti && want != Lasti);
        if (not_an_object) {
            return format(kUntaggedMessage, new_lineno);
        }
    }
    return {};
}

std::string real_state(PyCodeObject* co, const Code& c, int from, const Decision& d,
                       int new_lineno) {
    std::string problem = real_state_problem(co, c, from, d.best_addr, d.start, d.best);
    if (problem.empty()) {
        return {};
    }
    char buf[400];
    snprintf(buf, sizeof buf, kRealStateMessage, new_lineno, problem.c_str());
    return buf;
}

std::vector<std::string> real_stacks(PyCodeObject* co, const Code& c) {
    std::vector<Real> real = mark_real(co, c);
    std::vector<std::string> out;
    for (int i = 0; i < c.len(); i++) {
        out.push_back(real[i].reached ? real[i].stack : std::string("?"));
    }
    return out;
}

}  // namespace fs::jump::rules
