// compat/bytecode.hpp: what the jump checker needs to know about each version's bytecode.
//
// The checker (jump/can_jump.cpp) models the frame the way CPython's f_lineno setter does, and
// that model changed with almost every release. Each change is named here as a capability; the
// checker branches on these names only. Opcode numbers come from the interpreter's own opcode.h,
// so the checker is always compiled against the bytecode of the interpreter it runs in.
#pragma once

#include "compat/python.hpp"

#include <opcode.h>

// The capabilities below compat/ branches on (FS_HAS_BLOCK_STACK, FS_MODELS_CALL, ...) are the
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
