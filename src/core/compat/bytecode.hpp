// compat/bytecode.hpp: what the jump checker needs to know about each version's bytecode.
//
// The checker (jump/can_jump.cpp) models the frame the way CPython's f_lineno setter does, and
// that model changed with almost every release. Each change is named here as a capability; the
// checker branches on these names only. Opcode numbers come from the interpreter's own opcode.h,
// so the checker is always compiled against the bytecode of the interpreter it runs in.
#pragma once

#include "compat/python.hpp"

#include <opcode.h>

// 3.10 tracks try/with/loop nesting on a block stack (SETUP_FINALLY, POP_BLOCK, ...); its setter
// checks jumps against a model of that block stack. 3.11 (bpo-40222, "zero-cost exceptions")
// replaced the block stack by an exception table, and the setter by a model of the value stack.
#define FS_HAS_BLOCK_STACK (PY_VERSION_HEX < 0x030B0000)
#define FS_HAS_EXCEPTION_TABLE (PY_VERSION_HEX >= 0x030B0000)
// 3.11 only: conditional jumps come as forward and backward variants, and the
// JUMP_IF_{TRUE,FALSE}_OR_POP pair still exists (3.12 made all conditional jumps forward, and
// removed the pair).
#define FS_HAS_DIRECTED_CONDITIONAL_JUMPS \
    (PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000)
// 3.11 and 3.12 seed a generator's model with the value its first send() pushes; 3.13+ start
// from an empty stack and model RETURN_GENERATOR like any other instruction.
#define FS_SEEDS_GENERATOR_START_VALUE (PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000)
// In 3.11 SEND's exit branch is modelled with the receiver popped; from 3.12 it keeps the stack.
#define FS_SEND_EXIT_POPS (PY_VERSION_HEX < 0x030C0000)
// In 3.11 FOR_ITER's exit branch pops the iterator; from 3.12 it jumps to END_FOR with both the
// iterator and a value on the stack.
#define FS_FOR_ITER_EXIT_POPS (PY_VERSION_HEX < 0x030C0000)
// 3.12 gave LOAD_ATTR the method bit (LOAD_METHOD folded into it, gh-93429).
#define FS_HAS_LOAD_ATTR_METHOD (PY_VERSION_HEX >= 0x030C0000)
// 3.12 alone models CALL explicitly (NULL-or-self, callable and arguments replaced by one
// result); other versions use its stack effect like any other instruction's.
#define FS_MODELS_CALL (PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000)
// From 3.12 the NULL that LOAD_GLOBAL pushes for a call is modelled as NULL; 3.11 counts it as
// an object.
#define FS_MODELS_LOAD_GLOBAL_NULL (PY_VERSION_HEX >= 0x030C0000)
// 3.13 (gh-117045) pushes the NULL (or self) above the callable instead of below it.
#define FS_NULL_ABOVE_CALLABLE (PY_VERSION_HEX >= 0x030D0000)
// RETURN_CONST existed in 3.12 and 3.13 (gh-101632 added it, 3.14 removed it again).
#define FS_HAS_RETURN_CONST (PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000)
// SWAP and COPY keep the kinds of the entries they move (3.11 introduced both).
#define FS_MODELS_SWAP_COPY (PY_VERSION_HEX >= 0x030B0000)
// 3.15: GET_ITER pushes the iterator and an index beside it ("virtual iterators"); the index
// is a tagged integer, not an object.
#define FS_GET_ITER_PUSHES_INDEX (PY_VERSION_HEX >= 0x030F0000)
// 3.14 pushes the re-raise location of an exception handler as a tagged integer, not an int
// object.
#define FS_TAGGED_LASTI (PY_VERSION_HEX >= 0x030E0000)
// 3.11+ generators and coroutines begin with a prologue (RETURN_GENERATOR, POP_TOP, then RESUME)
// that runs when the generator object is made; 3.10's begin with GEN_START.
#define FS_HAS_RETURN_GENERATOR (PY_VERSION_HEX >= 0x030B0000)
// 3.12 moved line events to sys.monitoring; the setter asks which monitoring event is being
// delivered (tstate->what_event) instead of whether the frame has a trace function.
#define FS_HAS_MONITORING (PY_VERSION_HEX >= 0x030C0000)
// 3.11 only: a suspended generator's pending jump is made by the generator itself, through a copy
// of its code with a short tail appended (jump/resume_tail.cpp). 3.12+ have sys.monitoring's
// resumption event instead. 3.10 could do the same but needs none of it (its frame-evaluation
// watch costs nothing measurable), and its block stack would need a tail of its own.
#define FS_HAS_RESUME_TAIL (PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000)

// A debug build's setter asserts that its model is consistent at every jump target, and from
// 3.12 also the kinds it expects at POP_EXCEPT, RERAISE, RETURN_VALUE and LOAD_ATTR.
#ifdef Py_DEBUG
#define FS_SETTER_ASSERTS 1
#else
#define FS_SETTER_ASSERTS 0
#endif
#define FS_SETTER_ASSERTS_KINDS (FS_SETTER_ASSERTS && PY_VERSION_HEX >= 0x030C0000)

// (INLINE_CACHE_ENTRIES_FOR_ITER and _SEND, 3.12+, come from pycore_code.h, which
// compat/python.hpp includes.)

namespace fs::compat {

// Cache entries that follow an instruction in co_code, where the version has them. co_code is
// the deoptimised form (specialised and instrumented opcodes replaced by their base opcode, caches
// zeroed), so a cache entry reads as the CACHE opcode.
#if FS_HAS_EXCEPTION_TABLE
inline constexpr int kCacheOpcode = CACHE;
#else
inline constexpr int kCacheOpcode = -1;  // 3.10 has no inline caches
#endif

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
