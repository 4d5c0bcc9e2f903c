// compat/bytecode.hpp: what the jump checker needs to know about each version's bytecode.
//
// The checker (jump/) models the frame the way CPython's f_lineno setter does, and that model
// changed with almost every release. Each change is named here as a capability, a constexpr bool
// that the checker tests with `if constexpr`; no code above compat/ tests a version. Opcode
// numbers come from the interpreter's own opcode.h, so the checker is always compiled against the
// bytecode of the interpreter it runs in; an opcode that only some versions have is named in
// compat::op, where the others get a negative number no instruction has, so that every rule
// compiles on every version and the ones for opcodes a version lacks never match.
#pragma once

#include "compat/python.hpp"

#include <opcode.h>

// The capabilities below compat/ branches on (FS_HAS_EXCEPTION_TABLE, FS_MODELS_CALL, ...) are the
// version registry's (versions.toml), each with the CPython change that made it.

// A debug build's setter asserts that its model is consistent at every jump target, and from
// 3.12 also the kinds it expects at POP_EXCEPT, RERAISE, RETURN_VALUE and LOAD_ATTR.
#ifdef Py_DEBUG
#define FS_SETTER_ASSERTS 1
#else
#define FS_SETTER_ASSERTS 0
#endif
#define FS_SETTER_ASSERTS_KINDS (FS_SETTER_ASSERTS && FS_DEBUG_SETTER_CHECKS_KINDS)

// (INLINE_CACHE_ENTRIES_FOR_ITER and _SEND, 3.12+, come from pycore_code.h, which
// compat/python.hpp includes.)

namespace fs::compat {

// ---- Capabilities (versions.toml; each entry says which CPython change made it) ------------

// 3.10 keeps try/with/loop nesting on a block stack (SETUP_FINALLY, POP_BLOCK), which its setter
// models; the exception table that replaced it (bpo-40222) came with a model of the value stack.
inline constexpr bool kHasBlockStack = !FS_HAS_EXCEPTION_TABLE;
inline constexpr bool kSeedsGeneratorStartValue = FS_SEEDS_GENERATOR_START_VALUE;
inline constexpr bool kSendExitPops = FS_SEND_EXIT_POPS;
inline constexpr bool kForIterExitPops = FS_FOR_ITER_EXIT_POPS;
inline constexpr bool kHasLoadAttrMethod = FS_HAS_LOAD_ATTR_METHOD;
inline constexpr bool kModelsCall = FS_MODELS_CALL;
inline constexpr bool kModelsCallAfterPrecall = FS_MODELS_CALL_AFTER_PRECALL;
inline constexpr bool kModelsLoadGlobalNull = FS_MODELS_LOAD_GLOBAL_NULL;
inline constexpr bool kNullAboveCallable = FS_NULL_ABOVE_CALLABLE;
inline constexpr bool kModelsSwapCopy = FS_MODELS_SWAP_COPY;
inline constexpr bool kGetIterPushesIndex = FS_GET_ITER_PUSHES_INDEX;
inline constexpr bool kTaggedLasti = FS_TAGGED_LASTI;
inline constexpr bool kHasReturnGenerator = FS_HAS_RETURN_GENERATOR;
inline constexpr bool kHasResumeTail = FS_HAS_RESUME_TAIL;
inline constexpr bool kSetterAsserts = FS_SETTER_ASSERTS;
inline constexpr bool kSetterAssertsKinds = FS_SETTER_ASSERTS_KINDS;

// 3.10's conditional jumps and JUMP_ABSOLUTE name their target's code unit; from 3.11 every jump
// counts from the instruction after it (bpo-47120 / gh-91276, "Make all jump opcodes relative").
// It is the same boundary as the block stack's.
inline constexpr bool kAbsoluteJumps = kHasBlockStack;

// ---- Opcodes that only some versions have ------------------------------------------------
// (3.12+ keep SETUP_FINALLY, SETUP_WITH and POP_BLOCK as compiler pseudo-opcodes, numbered from
// 256: no instruction of co_code has them either.)
namespace op {
#ifdef JUMP_IF_FALSE_OR_POP
inline constexpr int jump_if_false_or_pop = JUMP_IF_FALSE_OR_POP;
#else
inline constexpr int jump_if_false_or_pop = -1;
#endif
#ifdef JUMP_IF_TRUE_OR_POP
inline constexpr int jump_if_true_or_pop = JUMP_IF_TRUE_OR_POP;
#else
inline constexpr int jump_if_true_or_pop = -2;
#endif
#ifdef POP_JUMP_IF_FALSE
inline constexpr int pop_jump_if_false = POP_JUMP_IF_FALSE;
#else
inline constexpr int pop_jump_if_false = -3;
#endif
#ifdef POP_JUMP_IF_TRUE
inline constexpr int pop_jump_if_true = POP_JUMP_IF_TRUE;
#else
inline constexpr int pop_jump_if_true = -4;
#endif
#ifdef POP_JUMP_IF_NONE
inline constexpr int pop_jump_if_none = POP_JUMP_IF_NONE;
#else
inline constexpr int pop_jump_if_none = -5;
#endif
#ifdef POP_JUMP_IF_NOT_NONE
inline constexpr int pop_jump_if_not_none = POP_JUMP_IF_NOT_NONE;
#else
inline constexpr int pop_jump_if_not_none = -6;
#endif
#ifdef JUMP_IF_NOT_EXC_MATCH
inline constexpr int jump_if_not_exc_match = JUMP_IF_NOT_EXC_MATCH;
#else
inline constexpr int jump_if_not_exc_match = -7;
#endif
#ifdef JUMP_ABSOLUTE
inline constexpr int jump_absolute = JUMP_ABSOLUTE;
#else
inline constexpr int jump_absolute = -8;
#endif
#ifdef SETUP_FINALLY
inline constexpr int setup_finally = SETUP_FINALLY;
#else
inline constexpr int setup_finally = -9;
#endif
#ifdef SETUP_WITH
inline constexpr int setup_with = SETUP_WITH;
#else
inline constexpr int setup_with = -10;
#endif
#ifdef SETUP_ASYNC_WITH
inline constexpr int setup_async_with = SETUP_ASYNC_WITH;
#else
inline constexpr int setup_async_with = -11;
#endif
#ifdef POP_BLOCK
inline constexpr int pop_block = POP_BLOCK;
#else
inline constexpr int pop_block = -12;
#endif
#ifdef GEN_START
inline constexpr int gen_start = GEN_START;
#else
inline constexpr int gen_start = -13;
#endif
#ifdef RESUME
inline constexpr int resume = RESUME;
#else
inline constexpr int resume = -14;
#endif
#ifdef POP_JUMP_BACKWARD_IF_FALSE
inline constexpr int pop_jump_backward_if_false = POP_JUMP_BACKWARD_IF_FALSE;
#else
inline constexpr int pop_jump_backward_if_false = -15;
#endif
#ifdef POP_JUMP_BACKWARD_IF_TRUE
inline constexpr int pop_jump_backward_if_true = POP_JUMP_BACKWARD_IF_TRUE;
#else
inline constexpr int pop_jump_backward_if_true = -16;
#endif
#ifdef POP_JUMP_BACKWARD_IF_NONE
inline constexpr int pop_jump_backward_if_none = POP_JUMP_BACKWARD_IF_NONE;
#else
inline constexpr int pop_jump_backward_if_none = -17;
#endif
#ifdef POP_JUMP_BACKWARD_IF_NOT_NONE
inline constexpr int pop_jump_backward_if_not_none = POP_JUMP_BACKWARD_IF_NOT_NONE;
#else
inline constexpr int pop_jump_backward_if_not_none = -18;
#endif
#ifdef POP_JUMP_FORWARD_IF_FALSE
inline constexpr int pop_jump_forward_if_false = POP_JUMP_FORWARD_IF_FALSE;
#else
inline constexpr int pop_jump_forward_if_false = -19;
#endif
#ifdef POP_JUMP_FORWARD_IF_TRUE
inline constexpr int pop_jump_forward_if_true = POP_JUMP_FORWARD_IF_TRUE;
#else
inline constexpr int pop_jump_forward_if_true = -20;
#endif
#ifdef POP_JUMP_FORWARD_IF_NONE
inline constexpr int pop_jump_forward_if_none = POP_JUMP_FORWARD_IF_NONE;
#else
inline constexpr int pop_jump_forward_if_none = -21;
#endif
#ifdef POP_JUMP_FORWARD_IF_NOT_NONE
inline constexpr int pop_jump_forward_if_not_none = POP_JUMP_FORWARD_IF_NOT_NONE;
#else
inline constexpr int pop_jump_forward_if_not_none = -22;
#endif
#ifdef SEND
inline constexpr int send = SEND;
#else
inline constexpr int send = -23;
#endif
#ifdef JUMP_BACKWARD
inline constexpr int jump_backward = JUMP_BACKWARD;
#else
inline constexpr int jump_backward = -24;
#endif
#ifdef JUMP_BACKWARD_NO_INTERRUPT
inline constexpr int jump_backward_no_interrupt = JUMP_BACKWARD_NO_INTERRUPT;
#else
inline constexpr int jump_backward_no_interrupt = -25;
#endif
#ifdef PUSH_EXC_INFO
inline constexpr int push_exc_info = PUSH_EXC_INFO;
#else
inline constexpr int push_exc_info = -26;
#endif
#ifdef RETURN_CONST
inline constexpr int return_const = RETURN_CONST;
#else
inline constexpr int return_const = -27;
#endif
#ifdef PUSH_NULL
inline constexpr int push_null = PUSH_NULL;
#else
inline constexpr int push_null = -28;
#endif
#ifdef CALL
inline constexpr int call = CALL;
#else
inline constexpr int call = -29;
#endif
#ifdef SWAP
inline constexpr int swap = SWAP;
#else
inline constexpr int swap = -30;
#endif
#ifdef COPY
inline constexpr int copy = COPY;
#else
inline constexpr int copy = -31;
#endif
#ifdef CACHE
inline constexpr int cache = CACHE;
#else
inline constexpr int cache = -32;
#endif
#ifdef CALL_FUNCTION
inline constexpr int call_function = CALL_FUNCTION;
#else
inline constexpr int call_function = -33;
#endif
// (3.12+ keep LOAD_METHOD as a compiler pseudo-opcode, numbered from 256.)
#if defined(LOAD_METHOD) && LOAD_METHOD < 256
inline constexpr int load_method = LOAD_METHOD;
#else
inline constexpr int load_method = -34;
#endif
}  // namespace op

// Cache entries that follow an instruction in co_code, where the version has them. co_code is
// the deoptimised form (specialised and instrumented opcodes replaced by their base opcode, caches
// zeroed), so a cache entry reads as the CACHE opcode.
inline constexpr int kCacheOpcode = op::cache;  // 3.10 has no inline caches

// How many code units the value of FOR_ITER's and SEND's jump is counted from, past the
// instruction itself (their inline caches, on versions that have them).
#if defined(INLINE_CACHE_ENTRIES_FOR_ITER)
inline constexpr int kForIterCaches = INLINE_CACHE_ENTRIES_FOR_ITER;
#else
inline constexpr int kForIterCaches = 0;
#endif
#if defined(INLINE_CACHE_ENTRIES_SEND)
inline constexpr int kSendCaches = INLINE_CACHE_ENTRIES_SEND;
#else
inline constexpr int kSendCaches = 0;
#endif

// The stack effect CPython's own model uses for every opcode without a rule of its own.
inline int stack_effect(int opcode, int oparg) noexcept {
    return PyCompile_OpcodeStackEffect(opcode, oparg);
}

// The exception table of a code object (3.11+), as bytes; nullptr on 3.10.
inline PyObject* exception_table(PyCodeObject* co) noexcept {
#if FS_HAS_EXCEPTION_TABLE
    return co->co_exceptiontable;
#else
    (void)co;
    return nullptr;
#endif
}

}  // namespace fs::compat
