// jump/can_jump.cpp: the jump checker.
//
// CPython decides whether `frame.f_lineno = n` is allowed by modelling the frame at every
// instruction: 3.10 models the block stack (which try/with/for blocks are open), 3.11 and later
// the kinds of the values on the evaluation stack (an iterator, an exception, a "lasti" to
// re-raise with, a NULL, any other object). A jump is allowed when the model at some instruction
// of the target line can be reached from the model at the current instruction by popping
// entries. This file builds the same models from the same bytecode and applies the same
// comparison, so that the verdict and the message are CPython's; the version differences are the
// capabilities of compat/bytecode.hpp.
#include "jump/can_jump.hpp"

#include "compat/bytecode.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

namespace fs::jump {
namespace {

// Refusals of our own: jumps CPython accepts and does not survive.
//
// A generator or coroutine's first instructions (3.11+: RETURN_GENERATOR, POP_TOP before the
// first RESUME) run once, when the generator object is made. Jumping back onto them makes the
// running generator build a second generator around its own frame and end, returning it; the
// interpreter then often crashes (segfaults seen on 3.11, 3.14 and 3.15) or hangs.
constexpr const char* kPrologueMessage =
    "line %d is the start of a generator or coroutine, which runs only when it is created: "
    "CPython accepts this jump, but the generator then ends by returning a second generator "
    "on its own frame, and the interpreter may crash or hang";

// A debug build of CPython (Py_DEBUG) asserts, while its setter models the code, that the model
// is consistent; where it is not (code the model gets wrong, such as 3.10's `break` out of a
// loop), every jump in that code aborts the interpreter. Release builds accept or refuse as
// usual.
[[maybe_unused]] constexpr const char* kAssertionMessage =
    "CPython accepts this jump in a release build, but this debug build aborts on any jump in "
    "this code: the setter's model of it is inconsistent at offset %d, which it asserts";

[[maybe_unused]] constexpr const char* kUntaggedMessage =
    "the jump to line %d would leave a loop's iterator index or a re-raise location where that "
    "line expects an object: CPython accepts this jump, and the interpreter crashes when the "
    "line uses it";

struct Code {
    std::vector<uint8_t> ops;
    std::vector<uint8_t> args;
    int len() const { return static_cast<int>(ops.size()); }
};

bool read_code(PyCodeObject* co, Code& out) {
    Owned<> bytes =
        Owned<>::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(co), "co_code"));
    if (!bytes) {
        return false;
    }
    if (!PyBytes_Check(bytes.get())) {
        PyErr_SetString(PyExc_TypeError, "co_code is not bytes");
        return false;
    }
    const auto* data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(bytes.get()));
    Py_ssize_t n = PyBytes_GET_SIZE(bytes.get()) / 2;
    out.ops.resize(n);
    out.args.resize(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        out.ops[i] = data[2 * i];
        out.args[i] = data[2 * i + 1];
    }
    return true;
}

// The first instruction of each line, as CPython's setter sees them (-1 elsewhere), from the
// code's own line table (co_lines()). 3.10 marks the start of every range of the table; 3.11+
// marks a range only when its line differs from the last line marked, and skips ranges
// without a line.
bool line_starts(PyCodeObject* co, int len, std::vector<int>& lines) {
    lines.assign(len, -1);
    Owned<> it = Owned<>::steal(
        PyObject_CallMethod(reinterpret_cast<PyObject*>(co), "co_lines", nullptr));
    if (!it) {
        return false;
    }
    Owned<> iter = Owned<>::steal(PyObject_GetIter(it.get()));
    if (!iter) {
        return false;
    }
    [[maybe_unused]] int last_line = -1;
    while (Owned<> item = Owned<>::steal(PyIter_Next(iter.get()))) {
        long start = 0;
        long line = -1;
        PyObject* pystart = PyTuple_GetItem(item.get(), 0);
        PyObject* pyline = PyTuple_GetItem(item.get(), 2);
        if (pystart == nullptr || pyline == nullptr) {
            return false;
        }
        start = PyLong_AsLong(pystart);
        if (pyline != Py_None) {
            line = PyLong_AsLong(pyline);
        }
        if (PyErr_Occurred()) {
            return false;
        }
        long index = start / 2;
        if (index < 0 || index >= len) {
            continue;
        }
#if FS_HAS_BLOCK_STACK
        lines[index] = static_cast<int>(line);
#else
        if (line != last_line && line != -1) {
            lines[index] = static_cast<int>(line);
            last_line = static_cast<int>(line);
        }
#endif
    }
    return !PyErr_Occurred();
}

int first_line_not_before(const std::vector<int>& lines, int line) {
    int result = INT_MAX;
    for (int l : lines) {
        if (l < result && l >= line) {
            result = l;
        }
    }
    return result == INT_MAX ? -1 : result;
}

std::string format(const char* fmt, long value) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, static_cast<int>(value));
    return buf;
}

// Where a generator or coroutine's prologue ends: the first instruction that may be jumped to.
// 0 for other code.
int prologue_end(PyCodeObject* co, const Code& code) {
    if (!(co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))) {
        return 0;
    }
#if FS_HAS_RETURN_GENERATOR
    for (int i = 0; i < code.len(); i++) {
        if (code.ops[i] == RESUME) {
            return i;
        }
    }
    return 0;
#else
    return code.len() > 0 && code.ops[0] == GEN_START ? 1 : 0;
#endif
}

#if FS_HAS_BLOCK_STACK
// ---- 3.10: the block stack ------------------------------------------------------------------

enum BlockKind : int64_t { With = 1, Loop = 2, Try = 3, ExceptBlock = 4 };
constexpr int kBlockBits = 3;

// (Real code nests at most 20 blocks; hand-made code may claim more: the model then stops
// growing instead of overflowing.)
int64_t push_block(int64_t stack, BlockKind kind) {
    return stack >= (int64_t{1} << 59) ? stack : (stack << kBlockBits) | kind;
}
int64_t pop_block(int64_t stack) { return stack >> kBlockBits; }
int64_t top_block(int64_t stack) { return stack & ((1 << kBlockBits) - 1); }

unsigned block_arg(const Code& c, int i) {
    unsigned arg = c.args[i];
    if (i >= 1 && c.ops[i - 1] == EXTENDED_ARG) {
        arg |= unsigned(c.args[i - 1]) << 8;
        if (i >= 2 && c.ops[i - 2] == EXTENDED_ARG) {
            arg |= unsigned(c.args[i - 2]) << 16;
            if (i >= 3 && c.ops[i - 3] == EXTENDED_ARG) {
                arg |= unsigned(c.args[i - 3]) << 24;
            }
        }
    }
    return arg;
}

std::vector<int64_t> mark_blocks(const Code& c, int* assertion_at = nullptr) {
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
            int64_t j;  // a jump target: from an unsigned argument, never negative
            switch (c.ops[i]) {
                case JUMP_IF_FALSE_OR_POP:
                case JUMP_IF_TRUE_OR_POP:
                case POP_JUMP_IF_FALSE:
                case POP_JUMP_IF_TRUE:
                case JUMP_IF_NOT_EXC_MATCH:
                    j = int64_t{block_arg(c, i)};
                    if (j < len && blocks[j] == -1 && j < i) {
                        todo = true;
                    }
                    set(j, block_stack);
                    blocks[i + 1] = block_stack;
                    break;
                case JUMP_ABSOLUTE:
                    j = int64_t{block_arg(c, i)};
                    if (j < len && blocks[j] == -1 && j < i) {
                        todo = true;
                    }
                    set(j, block_stack);
                    break;
                case SETUP_FINALLY:
                    j = int64_t{block_arg(c, i)} + i + 1;
                    set(j, push_block(block_stack, ExceptBlock));
                    blocks[i + 1] = push_block(block_stack, Try);
                    break;
                case SETUP_WITH:
                case SETUP_ASYNC_WITH:
                    j = int64_t{block_arg(c, i)} + i + 1;
                    set(j, push_block(block_stack, ExceptBlock));
                    blocks[i + 1] = push_block(block_stack, With);
                    break;
                case JUMP_FORWARD:
                    j = int64_t{block_arg(c, i)} + i + 1;
                    set(j, block_stack);
                    break;
                case GET_ITER:
                case GET_AITER:
                    blocks[i + 1] = push_block(block_stack, Loop);
                    break;
                case FOR_ITER:
                    blocks[i + 1] = block_stack;
                    j = int64_t{block_arg(c, i)} + i + 1;
                    set(j, pop_block(block_stack));
                    break;
                case POP_BLOCK:
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

// What 3.10's setter does not check. Its block model (mark_blocks above, kept exactly as CPython
// has it so that the verdicts are the same) is not always the frame's real state: where a
// `break` leaves a loop, the model keeps the loop's block open, and because a later write wins,
// that stale block spreads to the code after the loop and, through a `while` back edge, to the
// top of the loop. The setter then pops values and blocks that are not there. And it never
// looks at the evaluation stack, so jumping into or out of a `match` (whose subject sits on the
// stack) leaves one value too few or too many. Both end in a crash.
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
    int len = c.len();
    std::vector<Real> st(len + 1);
    st[0].reached = true;
    if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
        st[0].stack = "O";  // the value of the first send(), which GEN_START pops
    }
    std::vector<int> work{0};
    auto flow = [&](int64_t j, std::string stack, const std::vector<std::pair<int, int>>& blocks) {
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
        int op = c.ops[i];
        int64_t arg = block_arg(c, i);  // unsigned 32-bit: targets below cannot overflow
        const std::string here = st[i].stack;
        auto blocks = st[i].blocks;
        auto effect = [&](int jump) {
            int oparg = op >= HAVE_ARGUMENT ? int(std::min<int64_t>(arg, INT_MAX)) : 0;
            int e = PyCompile_OpcodeStackEffectWithJump(op, oparg, jump);
            if (e == PY_INVALID_STACK_EFFECT) {
                PyErr_Clear();
                return 0;
            }
            return e;
        };
        std::string next = apply(here, effect(0));
        switch (op) {
            case JUMP_IF_FALSE_OR_POP:
            case JUMP_IF_TRUE_OR_POP:
            case POP_JUMP_IF_FALSE:
            case POP_JUMP_IF_TRUE:
            case JUMP_IF_NOT_EXC_MATCH:
                flow(arg, apply(here, effect(1)), blocks);
                flow(i + 1, next, blocks);
                break;
            case JUMP_ABSOLUTE:
                flow(arg, apply(here, effect(1)), blocks);
                break;
            case JUMP_FORWARD:
                flow(i + 1 + arg, apply(here, effect(1)), blocks);
                break;
            case FOR_ITER:
                flow(i + 1 + arg, apply(here, effect(1)), blocks);
                flow(i + 1, next, blocks);
                break;
            case GET_ITER:
            case GET_AITER:
                if (!next.empty()) {
                    next.back() = 'I';
                }
                flow(i + 1, next, blocks);
                break;
            case SETUP_FINALLY:
            case SETUP_WITH:
            case SETUP_ASYNC_WITH: {
                // SETUP_ASYNC_WITH sets its block up below the value it keeps on top.
                int level = int(here.size()) - (op == SETUP_ASYNC_WITH ? 1 : 0);
                auto handler = blocks;
                handler.push_back({Handler, level});
                std::string at_handler(here.begin(),
                                       here.begin() + std::clamp(level, 0, int(here.size())));
                at_handler.append(6, 'O');  // the exception state the handler starts with
                flow(i + 1 + arg, std::move(at_handler), handler);
                blocks.push_back({Setup, level});
                flow(i + 1, next, blocks);
                break;
            }
            case POP_BLOCK:
            case POP_EXCEPT:
            case END_ASYNC_FOR:
                if (!blocks.empty()) blocks.pop_back();
                flow(i + 1, next, blocks);
                break;
            case RETURN_VALUE:
            case RAISE_VARARGS:
            case RERAISE:
                break;
            default:
                flow(i + 1, next, blocks);
        }
    }
    return st;
}

constexpr const char* kRealStateMessage =
    "the jump to line %d would leave the frame with %s: CPython accepts this jump, and the frame "
    "then runs on a corrupted stack, which can crash the interpreter";

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
    std::vector<Real> real = mark_real(co, c);
    if (!real[from].reached || !real[to].reached) {
        return {};
    }
    std::string stack = real[from].stack;
    auto blocks = real[from].blocks;
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
                if (blocks.empty()) {
                    return "a block popped from an empty block stack";
                }
                if (stack.size() > size_t(blocks.back().second)) {
                    stack.resize(size_t(std::max(blocks.back().second, 0)));
                }
                blocks.pop_back();
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
    if (blocks != real[to].blocks) {
        return std::to_string(blocks.size()) + " open blocks where the line expects " +
               std::to_string(real[to].blocks.size()) +
               (blocks.size() == real[to].blocks.size() ? " of other kinds or levels" : "");
    }
    return {};
}

void decide(PyCodeObject* co, const Code& c, const std::vector<int>& lines, int from,
            int new_lineno, Verdict& v, int& best_addr) {
    std::vector<int64_t> blocks = mark_blocks(c);
    int64_t start = blocks[from];
    int64_t best = -1;
    best_addr = -1;
    const char* msg = "cannot find bytecode for specified line";
    for (int i = 0; i < c.len(); i++) {
        if (lines[i] != new_lineno) {
            continue;
        }
        int64_t target = blocks[i];
        if (compatible_blocks(start, target)) {
            msg = nullptr;
            if (target > best) {
                best = target;
                best_addr = i;
            }
        } else if (msg != nullptr) {
            // 3.10 keeps the explanation of the last incompatible instruction of the line.
            msg = target >= 0 ? explain_blocks(target) : "code may be unreachable.";
        }
    }
    if (msg != nullptr) {
        v.message = msg;
        return;
    }
    // The setter unwinds the blocks it leaves, and refuses to leave an 'except' block then.
    for (int64_t s = start; s > best; s = pop_block(s)) {
        if (top_block(s) == ExceptBlock) {
            v.message = "can't jump out of an 'except' block";
            return;
        }
    }
    std::string problem = real_state_problem(co, c, from, best_addr, start, best);
    if (!problem.empty()) {
        v.ours = true;
        char buf[400];
        snprintf(buf, sizeof buf, kRealStateMessage, new_lineno, problem.c_str());
        v.message = buf;
        return;
    }
    v.ok = true;
}

#else
// ---- 3.11+: the kinds of the values on the evaluation stack --------------------------------

enum Kind : int64_t { Iterator = 1, Except = 2, Object = 3, Null = 4, Lasti = 5 };
constexpr int kBits = 3;
constexpr int64_t kUninitialized = -2;
constexpr int64_t kOverflowed = -1;
constexpr int kMaxEntries = 63 / kBits;
constexpr uint64_t kWillOverflow = 1ULL << ((kMaxEntries - 1) * kBits);
constexpr int64_t kMask = (1 << kBits) - 1;

int64_t push(int64_t stack, int64_t kind) {
    if (static_cast<uint64_t>(stack) >= kWillOverflow) {
        return kOverflowed;
    }
    return (stack << kBits) | kind;
}
int64_t pop(int64_t stack) { return stack >> kBits; }  // arithmetic: -1 and -2 stay negative
int64_t top(int64_t stack) { return stack & kMask; }
[[maybe_unused]] int64_t peek(int64_t stack, int n) { return (stack >> (kBits * (n - 1))) & kMask; }

[[maybe_unused]] int64_t swap(int64_t stack, int n) {
    int64_t to_swap = peek(stack, n);
    int64_t t = top(stack);
    int shift = kBits * (n - 1);
    int64_t replaced_low = (stack & ~(kMask << shift)) | (t << shift);
    // CPython's stack_swap() returns its result as a Kind, an enum without negative values,
    // which the compilers CPython is built with make an unsigned int: a stack deeper than ten
    // entries loses its bottom entries there (and an overflowed one becomes a large positive
    // value). The setter's verdicts, and its debug build's assertions, follow from that.
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

const uint8_t* read_varint(const uint8_t* p, const uint8_t* end, int& out) {
    uint32_t value = p[0] & 63;
    while ((p[0] & 64) && p + 1 < end) {
        p++;
        value = (value << 6) | (p[0] & 63);
    }
    out = static_cast<int>(std::min<uint32_t>(value, 1u << 30));  // a real table stays far below
    return p + 1;
}

void mark_stacks(PyCodeObject* co, const Code& c, std::vector<int64_t>& stacks,
                 int* assertion_at = nullptr) {
    int len = c.len();
    stacks.assign(len + 1, kUninitialized);
    stacks[0] = 0;
#if FS_SEEDS_GENERATOR_START_VALUE
    if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
        stacks[0] = push(0, Object);  // the value the first send() pushes
    }
#endif
    std::vector<Handler> table = handlers(co, len);
    int at = 0;  // the instruction being modelled, for assertion_at
    auto expect = [&](bool holds) {
        if (!holds && assertion_at != nullptr && *assertion_at < 0) {
            *assertion_at = at;
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
            uint32_t wide = 0;  // unsigned: hand-made code may chain any number of EXTENDED_ARGs
            while (opcode == EXTENDED_ARG && i + 1 < len) {
                wide = (wide << 8) | c.args[i];
                i++;
                opcode = c.ops[i];
                stacks[i] = next_stack;
            }
            wide = (wide << 8) | c.args[i];
            // Beyond 2**30 no target is inside the code and no stack effect fits the model.
            int oparg = static_cast<int>(std::min<uint32_t>(wide, 1u << 30));
            int next_i = i + 1;
            while (next_i < len && c.ops[next_i] == compat::kCacheOpcode) {
                next_i++;
            }
            if (next_stack == kUninitialized) {
                i = next_i;
                continue;
            }
            at = i;
            int j;
            switch (opcode) {
#if FS_HAS_DIRECTED_CONDITIONAL_JUMPS
                case JUMP_IF_FALSE_OR_POP:
                case JUMP_IF_TRUE_OR_POP:
                    j = next_i + oparg;
                    set(j, next_stack);  // the tested value stays when the jump is taken
                    stacks[next_i] = pop(next_stack);
                    break;
                case POP_JUMP_BACKWARD_IF_FALSE:
                case POP_JUMP_BACKWARD_IF_TRUE:
                case POP_JUMP_BACKWARD_IF_NONE:
                case POP_JUMP_BACKWARD_IF_NOT_NONE:
                    j = next_i - oparg;
                    next_stack = pop(next_stack);
                    if (j >= 0 && j < i && stacks[j] == kUninitialized) {
                        todo = true;
                    }
                    set(j, next_stack);
                    stacks[next_i] = next_stack;
                    break;
                case POP_JUMP_FORWARD_IF_FALSE:  // 3.11's names for 3.12's forward-only jumps
                case POP_JUMP_FORWARD_IF_TRUE:
                case POP_JUMP_FORWARD_IF_NONE:
                case POP_JUMP_FORWARD_IF_NOT_NONE:
#else
                case POP_JUMP_IF_FALSE:
                case POP_JUMP_IF_TRUE:
                case POP_JUMP_IF_NONE:
                case POP_JUMP_IF_NOT_NONE:
#endif
                    next_stack = pop(next_stack);
                    set(next_i + oparg, next_stack);
                    stacks[next_i] = next_stack;
                    break;
                case SEND:
#if FS_SEND_EXIT_POPS
                    set(i + 1 + compat::kSendCaches + oparg, pop(next_stack));
#else
                    set(i + 1 + compat::kSendCaches + oparg, next_stack);
#endif
                    stacks[next_i] = next_stack;
                    break;
                case JUMP_FORWARD:
                    set(i + 1 + oparg, next_stack);
                    break;
                case JUMP_BACKWARD:
                case JUMP_BACKWARD_NO_INTERRUPT:
                    j = next_i - oparg;
                    if (j >= 0 && j < i && stacks[j] == kUninitialized) {
                        todo = true;
                    }
                    set(j, next_stack);
                    break;
                case GET_ITER:
                    next_stack = push(pop(next_stack), Iterator);
#if FS_GET_ITER_PUSHES_INDEX
                    next_stack = push(next_stack, Iterator);
#endif
                    stacks[next_i] = next_stack;
                    break;
                case GET_AITER:
                    stacks[next_i] = push(pop(next_stack), Iterator);
                    break;
                case FOR_ITER: {
                    j = i + 1 + compat::kForIterCaches + oparg;
#if FS_FOR_ITER_EXIT_POPS
                    set(j, pop(next_stack));
                    stacks[next_i] = push(next_stack, Object);
#else
                    int64_t target = push(next_stack, Object);
                    stacks[next_i] = target;
                    set(j, target);
#endif
                    break;
                }
                case END_ASYNC_FOR:
                    stacks[next_i] = pop(pop(next_stack));
                    break;
                case PUSH_EXC_INFO:
                    stacks[next_i] = push(next_stack, Except);
                    break;
                case POP_EXCEPT:
#if FS_SETTER_ASSERTS_KINDS
                    expect(top(next_stack) == Except);
#endif
                    stacks[next_i] = pop(next_stack);
                    break;
                case RETURN_VALUE:
#if FS_SETTER_ASSERTS_KINDS
                    expect(pop(next_stack) == 0 && top(next_stack) == Object);
#endif
                    break;
#if FS_HAS_RETURN_CONST
                case RETURN_CONST:
#endif
                case RAISE_VARARGS:
                    break;
                case RERAISE:
#if FS_SETTER_ASSERTS_KINDS
                    expect(top(next_stack) == Except);
#endif
                    break;
                case PUSH_NULL:
                    stacks[next_i] = push(next_stack, Null);
                    break;
#if FS_MODELS_LOAD_GLOBAL_NULL
                case LOAD_GLOBAL:
#if FS_NULL_ABOVE_CALLABLE
                    next_stack = push(next_stack, Object);
                    if (oparg & 1) {
                        next_stack = push(next_stack, Null);
                    }
#else
                    if (oparg & 1) {
                        next_stack = push(next_stack, Null);
                    }
                    next_stack = push(next_stack, Object);
#endif
                    stacks[next_i] = next_stack;
                    break;
#endif
#if FS_HAS_LOAD_ATTR_METHOD
                case LOAD_ATTR:
#if FS_SETTER_ASSERTS_KINDS
                    expect(top(next_stack) == Object);
#endif
                    if (oparg & 1) {
                        next_stack = pop(next_stack);
#if FS_NULL_ABOVE_CALLABLE
                        next_stack = push(push(next_stack, Object), Null);
#else
                        next_stack = push(push(next_stack, Null), Object);
#endif
                    }
                    stacks[next_i] = next_stack;
                    break;
#endif
#if FS_MODELS_CALL
                case CALL:
                    for (int k = 0; k < oparg + 2; k++) {
                        next_stack = pop(next_stack);
                    }
                    stacks[next_i] = push(next_stack, Object);
                    break;
#endif
#if FS_MODELS_SWAP_COPY
                case SWAP:
                    // (Bounds only matter for hand-made code: a shift past 63 bits is undefined.)
                    stacks[next_i] =
                        oparg >= 1 && oparg <= kMaxEntries ? swap(next_stack, oparg) : next_stack;
                    break;
                case COPY:
                    stacks[next_i] = oparg >= 1 && oparg <= kMaxEntries
                                         ? push(next_stack, peek(next_stack, oparg))
                                         : push(next_stack, Object);
                    break;
#endif
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

void decide(PyCodeObject* co, const Code& c, const std::vector<int>& lines, int from,
            int new_lineno, Verdict& v, int& best_addr) {
    std::vector<int64_t> stacks;
    mark_stacks(co, c, stacks);
    int64_t start = stacks[from];
    int64_t best = kOverflowed;
    best_addr = -1;
    int err = -1;
    const char* msg = "cannot find bytecode for specified line";
    for (int i = 0; i < c.len(); i++) {
        if (lines[i] != new_lineno) {
            continue;
        }
        int64_t target = stacks[i];
        if (compatible_stack(start, target)) {
            err = 0;
            if (target > best) {
                best = target;
                best_addr = i;
            }
        } else if (err < 0) {
            // The first incompatible instruction explains, unless the start itself is the
            // problem. ("to deep" is CPython's spelling.)
            if (start == kOverflowed) {
                msg = "stack to deep to analyze";
            } else if (start == kUninitialized) {
                msg = "can't jump from unreachable code";
            } else {
                msg = explain_stack(target);
                err = 1;
            }
        }
    }
    if (err != 0) {
        v.message = msg;
        return;
    }
    // The entries the jump keeps are matched kind for kind, but CPython lets an object-shaped
    // slot of the target take any kind but NULL. Some kinds are not objects: 3.15's loop index
    // (the second half of an iterator pair) and, from 3.14, the re-raise location are tagged
    // integers. Handed to code that expects an object, they crash the interpreter (found by
    // tests/jumpfuzz_api.py on 3.15: a jump from two nested loops into a `finally` copy that
    // holds a return value split an iterator pair).
    int64_t kept = start;
    int64_t expected = best;
    while (kept > expected) {
        kept = pop(kept);
    }
    for (; kept > 0 && expected > 0; kept = pop(kept), expected = pop(expected)) {
        int64_t have = top(kept), want = top(expected);
        bool not_an_object = (FS_GET_ITER_PUSHES_INDEX && have == Iterator && want != Iterator) ||
                             (FS_TAGGED_LASTI && have == Lasti && want != Lasti);
        if (not_an_object) {
            v.ours = true;
            v.message = format(kUntaggedMessage, new_lineno);
            return;
        }
    }
    v.ok = true;
    v.start_depth = 0;
    for (int64_t st = start; st > 0; st = pop(st)) {
        if (st > best) {
            v.popped.push_back("?IEONL"[top(st)]);
        }
        v.start_depth++;
    }
}
#endif

}  // namespace


// For tests and debugging: the model at every instruction, as text.
std::optional<std::vector<ModelRow>> model(PyCodeObject* co) {
    Code c;
    std::vector<int> lines;
    if (!read_code(co, c) || !line_starts(co, c.len(), lines)) {
        return std::nullopt;
    }
    std::vector<ModelRow> rows;
#if FS_HAS_BLOCK_STACK
    std::vector<int64_t> blocks = mark_blocks(c);
    std::vector<Real> real = mark_real(co, c);
    for (int i = 0; i < c.len(); i++) {
        std::string text;
        if (blocks[i] < 0) {
            text = "-";
        } else {
            for (int64_t b = blocks[i]; b > 0; b = pop_block(b)) {
                text.insert(text.begin(), "?WLTE"[top_block(b)]);
            }
            text = "[" + text + "] " + (real[i].reached ? real[i].stack : std::string("?"));
        }
        rows.push_back({2 * i, lines[i], text});
    }
#else
    std::vector<int64_t> stacks;
    mark_stacks(co, c, stacks);
    for (int i = 0; i < c.len(); i++) {
        std::string text;
        if (stacks[i] == kUninitialized) {
            text = "-";
        } else if (stacks[i] == kOverflowed) {
            text = "overflowed";
        } else {
            for (int64_t st = stacks[i]; st > 0; st = pop(st)) {
                text.insert(text.begin(), "?IEONL"[top(st)]);
            }
        }
        rows.push_back({2 * i, lines[i], text});
    }
#endif
    return rows;
}

std::optional<Verdict> check(PyCodeObject* co, long from_lasti, long to_lineno) {
    Code c;
    if (!read_code(co, c)) {
        return std::nullopt;
    }
    if (from_lasti < 0 || from_lasti % 2 != 0 || from_lasti / 2 >= c.len()) {
        PyErr_Format(PyExc_ValueError,
                     "from_lasti must be the offset of an instruction of %U (an even number from "
                     "0 to %d), got %ld",
                     co->co_name, 2 * (c.len() - 1), from_lasti);
        return std::nullopt;
    }
    Verdict v;
    if (to_lineno > INT_MAX || to_lineno < INT_MIN) {
        v.message = "lineno out of range";
        return v;
    }
    if (to_lineno < co->co_firstlineno) {
        v.message = format("line %d comes before the current code block", to_lineno);
        return v;
    }
    std::vector<int> lines;
    if (!line_starts(co, c.len(), lines)) {
        return std::nullopt;
    }
    int new_lineno = first_line_not_before(lines, static_cast<int>(to_lineno));
    if (new_lineno < 0) {
        v.message = format("line %d comes after the current code block", to_lineno);
        return v;
    }
#if FS_SETTER_ASSERTS
    // A debug build's setter checks its own model as it builds it, and aborts the interpreter
    // where that model is inconsistent — before any verdict, whatever the target.
    int assertion_at = -1;
#if FS_HAS_BLOCK_STACK
    mark_blocks(c, &assertion_at);
#else
    {
        std::vector<int64_t> ignored;
        mark_stacks(co, c, ignored, &assertion_at);
    }
#endif
    if (assertion_at >= 0) {
        v.ours = true;
        v.message = format(kAssertionMessage, 2L * assertion_at);
        return v;
    }
#endif
    int best_addr = -1;
    decide(co, c, lines, static_cast<int>(from_lasti / 2), new_lineno, v, best_addr);
    if (v.ok && best_addr >= 0 && best_addr < prologue_end(co, c)) {
        v.ok = false;
        v.ours = true;
        v.message = format(kPrologueMessage, new_lineno);
        return v;
    }
    if (v.ok) {
        v.line = new_lineno;
        v.landing = best_addr;
    }
    return v;
}

#if FS_HAS_EXCEPTION_TABLE
std::vector<Handler> handlers(PyCodeObject* co, int len) {
    std::vector<Handler> out;
    PyObject* table = compat::exception_table(co);
    if (table == nullptr || !PyBytes_Check(table)) {
        return out;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(table));
    const uint8_t* end = p + PyBytes_GET_SIZE(table);
    while (p < end) {
        int start, size, target, depth_lasti;
        p = read_varint(p, end, start);
        if (p >= end) break;
        p = read_varint(p, end, size);
        if (p >= end) break;
        p = read_varint(p, end, target);
        if (p >= end) break;
        p = read_varint(p, end, depth_lasti);
        if (start < 0 || start >= len || target < 0 || target >= len) {
            continue;
        }
        out.push_back({start, std::min(start + size, len), target, depth_lasti >> 1,
                       (depth_lasti & 1) != 0});
    }
    return out;
}
#endif

}  // namespace fs::jump
