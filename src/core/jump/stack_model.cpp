// jump/stack_model.cpp: see stack_model.hpp. Kept as CPython's Objects/frameobject.c models the
// stack (mark_stacks(), compatible_stack(), explain_incompatible_stack()), version by version
// through the capabilities of compat/bytecode.hpp, so that verdicts and messages are the same.
#include "jump/stack_model.hpp"

#include "compat/bytecode.hpp"

#include <algorithm>

namespace fs::jump::stacks {
namespace {

constexpr uint64_t kWillOverflow = 1ULL << ((kMaxEntries - 1) * kBits);

int64_t push(int64_t stack, int64_t kind) {
    if (static_cast<uint64_t>(stack) >= kWillOverflow) {
        return kOverflowed;
    }
    return (stack << kBits) | kind;
}
int64_t peek(int64_t stack, int n) { return (stack >> (kBits * (n - 1))) & kMask; }

int64_t swap(int64_t stack, int n) {
    int64_t to_swap = peek(stack, n);
    int64_t t = top(stack);
    int shift = kBits * (n - 1);
    int64_t replaced_low = (stack & ~(kMask << shift)) | (t << shift);
    // CPython's stack_swap() returns its result as a Kind, an enum without negative values,
    // which the compilers CPython is built with make an unsigned int: a stack deeper than ten
    // entries loses its bottom entries there (and an overflowed one becomes a large positive
    // value). The setter's verdicts, and its debug build's assertions, follow from that
    // (Objects/frameobject.c, stack_swap(), 3.11 and later).
    return static_cast<int64_t>(static_cast<uint32_t>((replaced_low & ~kMask) | to_swap));
}

int64_t pop_to_level(int64_t stack, int level) {
    if (level <= 0) {
        return 0;
    }
    if (level >= kMaxEntries) {
        return stack;  // deeper than the model holds (only hand-made code gets here)
    }
    int64_t level_max = kMask << ((level - 1) * kBits);
    while (stack > level_max) {
        stack = pop(stack);
    }
    return stack;
}

bool compatible_kind(int64_t from, int64_t to) {
    if (to == 0) {
        return false;
    }
    if (to == Object) {
        return from != Null;
    }
    if (to == Null) {
        return true;
    }
    return from == to;
}

bool compatible_stack(int64_t from, int64_t to) {
    if (from < 0 || to < 0) {
        return false;
    }
    while (from > to) {
        from = pop(from);
    }
    while (from) {
        if (!compatible_kind(top(from), top(to))) {
            return false;
        }
        from = pop(from);
        to = pop(to);
    }
    return to == 0;
}

const char* explain_stack(int64_t to) {
    if (to == kOverflowed) {
        return "stack is too deep to analyze";
    }
    if (to == kUninitialized) {
        return "can't jump into an exception handler, or code may be unreachable";
    }
    switch (top(to)) {
        case Except:
            return "can't jump into an 'except' block as there's no exception";
        case Lasti:
            return "can't jump into a re-raising block as there's no location";
        case Iterator:
            return "can't jump into the body of a for loop";
        default:
            return "incompatible stacks";
    }
}

// A call's callable with its NULL (or self) beside it: 3.13+ put the NULL above the callable.
int64_t push_callable_and_null(int64_t stack) {
    if constexpr (compat::kNullAboveCallable) {
        return push(push(stack, Object), Null);
    }
    return push(push(stack, Null), Object);
}

// Whether this version's setter has a rule of its own for `opcode`; the others take their stack
// effect.
constexpr int kNoRule = -1000;
constexpr bool has_rule(int opcode) {
    switch (opcode) {
        case LOAD_GLOBAL:
            return compat::kModelsLoadGlobalNull;
        case LOAD_ATTR:
            return compat::kHasLoadAttrMethod;
        case compat::op::call:
            return compat::kModelsCall || compat::kModelsCallAfterPrecall;
        case compat::op::swap:
        case compat::op::copy:
            return compat::kModelsSwapCopy;
        default:
            return true;
    }
}

}  // namespace

void mark_stacks(PyCodeObject* co, const Code& c, std::vector<int64_t>& stacks,
                 int* assertion_at) {
    namespace op = compat::op;
    int len = c.len();
    stacks.assign(len + 1, kUninitialized);
    stacks[0] = 0;
    if constexpr (compat::kSeedsGeneratorStartValue) {
        if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
            stacks[0] = push(0, Object);  // the value the first send() pushes
        }
    }
    std::vector<Handler> table = handlers(co, len);
    int at = 0;  // the instruction being modelled, for assertion_at
    auto expect = [&](bool holds) {
        if (!holds && assertion_at != nullptr && *assertion_at < 0) {
            *assertion_at = at;
        }
    };
    // The kinds a debug build's setter asserts at some instructions (3.12+).
    auto expect_kind = [&](bool holds) {
        if constexpr (compat::kSetterAssertsKinds) {
            expect(holds);
        }
    };
    // A jump target's model, where CPython's debug build asserts that it is consistent.
    auto set = [&](int j, int64_t value) {
        expect(j >= 0 && j < len && (stacks[j] == kUninitialized || stacks[j] == value));
        if (j >= 0 && j <= len) {
            stacks[j] = value;
        }
    };
    bool todo = true;
    while (todo) {
        todo = false;
        for (int i = 0; i < len;) {
            int64_t next_stack = stacks[i];
            int opcode = c.ops[i];
            while (opcode == EXTENDED_ARG && i + 1 < len) {
                i++;
                opcode = c.ops[i];
                stacks[i] = next_stack;
            }
            int oparg = static_cast<int>(instruction_arg(c, i));
            int next_i = next_instruction(c, i);
            if (next_stack == kUninitialized) {
                i = next_i;
                continue;
            }
            at = i;
            // The jump target, where the instruction has one (within +-2**31: see oparg).
            int j = static_cast<int>(flow(opcode, i, next_i, oparg).target);
            switch (has_rule(opcode) ? opcode : kNoRule) {
                case op::jump_if_false_or_pop:  // 3.11
                case op::jump_if_true_or_pop:
                    set(j, next_stack);  // the tested value stays when the jump is taken
                    stacks[next_i] = pop(next_stack);
                    break;
                case op::pop_jump_backward_if_false:  // 3.11
                case op::pop_jump_backward_if_true:
                case op::pop_jump_backward_if_none:
                case op::pop_jump_backward_if_not_none:
                    next_stack = pop(next_stack);
                    if (j >= 0 && j < i && stacks[j] == kUninitialized) {
                        todo = true;
                    }
                    set(j, next_stack);
                    stacks[next_i] = next_stack;
                    break;
                case op::pop_jump_forward_if_false:  // 3.11's names for 3.12's forward-only jumps
                case op::pop_jump_forward_if_true:
                case op::pop_jump_forward_if_none:
                case op::pop_jump_forward_if_not_none:
                case op::pop_jump_if_false:  // 3.12+
                case op::pop_jump_if_true:
                case op::pop_jump_if_none:
                case op::pop_jump_if_not_none:
                    next_stack = pop(next_stack);
                    set(j, next_stack);
                    stacks[next_i] = next_stack;
                    break;
                case op::send:
                    set(j, compat::kSendExitPops ? pop(next_stack) : next_stack);
                    stacks[next_i] = next_stack;
                    break;
                case JUMP_FORWARD:
                    set(j, next_stack);
                    break;
                case op::jump_backward:
                case op::jump_backward_no_interrupt:
                    if (j >= 0 && j < i && stacks[j] == kUninitialized) {
                        todo = true;
                    }
                    set(j, next_stack);
                    break;
                case GET_ITER:
                    next_stack = push(pop(next_stack), Iterator);
                    if constexpr (compat::kGetIterPushesIndex) {
                        next_stack = push(next_stack, Iterator);
                    }
                    stacks[next_i] = next_stack;
                    break;
                case GET_AITER:
                    stacks[next_i] = push(pop(next_stack), Iterator);
                    break;
                case FOR_ITER:
                    if constexpr (compat::kForIterExitPops) {
                        set(j, pop(next_stack));
                        stacks[next_i] = push(next_stack, Object);
                    } else {
                        int64_t target = push(next_stack, Object);
                        stacks[next_i] = target;
                        set(j, target);
                    }
                    break;
                case END_ASYNC_FOR:
                    stacks[next_i] = pop(pop(next_stack));
                    break;
                case op::push_exc_info:
                    stacks[next_i] = push(next_stack, Except);
                    break;
                case POP_EXCEPT:
                    expect_kind(top(next_stack) == Except);
                    stacks[next_i] = pop(next_stack);
                    break;
                case RETURN_VALUE:
                    expect_kind(pop(next_stack) == 0 && top(next_stack) == Object);
                    break;
                case op::return_const:  // 3.12, 3.13
                case RAISE_VARARGS:
                    break;
                case RERAISE:
                    expect_kind(top(next_stack) == Except);
                    break;
                case op::push_null:
                    stacks[next_i] = push(next_stack, Null);
                    break;
                case LOAD_GLOBAL:
                    if constexpr (compat::kNullAboveCallable) {
                        next_stack = push(next_stack, Object);
                        if (oparg & 1) {
                            next_stack = push(next_stack, Null);
                        }
                    } else {
                        if (oparg & 1) {
                            next_stack = push(next_stack, Null);
                        }
                        next_stack = push(next_stack, Object);
                    }
                    stacks[next_i] = next_stack;
                    break;
                case LOAD_ATTR:
                    expect_kind(top(next_stack) == Object);
                    if (oparg & 1) {
                        next_stack = push_callable_and_null(pop(next_stack));
                    }
                    stacks[next_i] = next_stack;
                    break;
                case op::load_method:  // 3.11
                    expect_kind(top(next_stack) == Object);
                    stacks[next_i] = push_callable_and_null(pop(next_stack));
                    break;
                case op::call:
                    if constexpr (compat::kModelsCallAfterPrecall) {
                        // 3.11: PRECALL's stack effect has taken the arguments; the callable and
                        // the NULL (or self) beneath it become the result (gh-94438).
                        next_stack = pop(pop(next_stack));
                    } else {
                        for (int k = 0; k < oparg + 2; k++) {
                            next_stack = pop(next_stack);
                        }
                    }
                    stacks[next_i] = push(next_stack, Object);
                    break;
                case op::swap:
                    // (Bounds only matter for hand-made code: a shift past 63 bits is undefined.)
                    stacks[next_i] =
                        oparg >= 1 && oparg <= kMaxEntries ? swap(next_stack, oparg) : next_stack;
                    break;
                case op::copy:
                    stacks[next_i] = oparg >= 1 && oparg <= kMaxEntries
                                         ? push(next_stack, peek(next_stack, oparg))
                                         : push(next_stack, Object);
                    break;
                default: {
                    int delta = compat::stack_effect(opcode, oparg);
                    if (delta == PY_INVALID_STACK_EFFECT) {
                        PyErr_Clear();
                        delta = 0;
                    }
                    // Past kMaxEntries + 1 steps the model no longer changes (empty or
                    // overflowed); hand-made code can ask for a billion.
                    delta = std::clamp(delta, -(kMaxEntries + 1), kMaxEntries + 1);
                    while (delta < 0) {
                        next_stack = pop(next_stack);
                        delta++;
                    }
                    while (delta > 0) {
                        next_stack = push(next_stack, Object);
                        delta--;
                    }
                    stacks[next_i] = next_stack;
                }
            }
            i = next_i;
        }
        // Exception handlers: the stack at the start of a protected range, cut to the handler's
        // depth, plus the re-raise location where the entry asks for one, plus the exception.
        for (const Handler& h : table) {
            if (stacks[h.start] != kUninitialized && stacks[h.target] == kUninitialized) {
                todo = true;
                int64_t target = pop_to_level(stacks[h.start], h.depth);
                if (h.lasti) {
                    target = push(target, Lasti);
                }
                stacks[h.target] = push(target, Except);
            }
        }
    }
}

Decision decide(PyCodeObject* co, const Code& c, const std::vector<int>& lines, int from,
                int new_lineno) {
    std::vector<int64_t> stacks;
    mark_stacks(co, c, stacks);
    Decision d;
    d.start = stacks[from];
    d.best = kOverflowed;
    int err = -1;
    const char* msg = "cannot find bytecode for specified line";
    for (int i = 0; i < c.len(); i++) {
        if (lines[i] != new_lineno) {
            continue;
        }
        int64_t target = stacks[i];
        if (compatible_stack(d.start, target)) {
            err = 0;
            if (target > d.best) {
                d.best = target;
                d.best_addr = i;
            }
        } else if (err < 0) {
            // The first incompatible instruction explains, unless the start itself is the
            // problem. ("to deep" is CPython's spelling.)
            if (d.start == kOverflowed) {
                msg = "stack to deep to analyze";
            } else if (d.start == kUninitialized) {
                msg = "can't jump from unreachable code";
            } else {
                msg = explain_stack(target);
                err = 1;
            }
        }
    }
    if (err != 0) {
        d.refusal = msg;
    }
    return d;
}

void pops(int64_t start, int64_t best, std::string& popped, int& depth) {
    depth = 0;
    for (int64_t st = start; st > 0; st = pop(st)) {
        if (st > best) {
            popped.push_back(kind_letter(top(st)));
        }
        depth++;
    }
}

std::string describe(int64_t stack) {
    if (stack == kUninitialized) {
        return "-";
    }
    if (stack == kOverflowed) {
        return "overflowed";
    }
    std::string text;
    for (int64_t st = stack; st > 0; st = pop(st)) {
        text.insert(text.begin(), kind_letter(top(st)));
    }
    return text;
}

}  // namespace fs::jump::stacks
