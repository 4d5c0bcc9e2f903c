// compat/audit.hpp: whether an audit event would reach anyone, asked without calling into the
// interpreter.
//
// getframe() raises the "sys._getframe" audit event, as sys._getframe does. PySys_Audit() is an
// exported function that looks the thread state up again and takes varargs, a cost as large as
// the rest of getframe(); sys._getframe calls the interpreter's internal form instead. So
// getframe() asks first, with CPython's own test (should_audit() in Python/sysmodule.c): a hook
// added with PySys_AddAuditHook, one added with sys.addaudithook, or a DTrace/SystemTap tracer
// attached to the python:audit probe. Only then is PySys_Audit() called, and it decides again.
#pragma once

#include "compat/audit_hooks.h"
#include "compat/python.hpp"

namespace fs::compat {

// The semaphore of the python:audit probe, which a tracer raises while it is attached
// (interpreters built with DTrace support, as Debian's are). Set by find_audit_probe(); where
// the probe cannot be found it points at a constant 1, so that every event goes to PySys_Audit.
extern const volatile unsigned short* audit_probe_semaphore;

// Finds the python:audit probe's semaphore in this process and sets audit_probe_semaphore;
// returns its address, or 0 where the interpreter has no such probe or it was not found. Called
// once, at import.
uintptr_t find_audit_probe() noexcept;

// False only when no audit hook and no tracer would see an event raised now on `ts`.
[[gnu::always_inline]] inline bool audit_wanted([[maybe_unused]] PyThreadState* ts) noexcept {
#if FS_HAS_INLINE_AUDIT_CHECK
    PyInterpreterState* interp = ts->interp;
    if (interp->runtime->audit_hooks.head != nullptr || interp->audit_hooks != nullptr) {
        return true;
    }
#else
    // The same test through the offsets that compat/audit_hooks.c, compiled as C, publishes.
    const char* interp = reinterpret_cast<const char*>(ts->interp);
    const char* runtime = *reinterpret_cast<const char* const*>(interp + fs_interp_runtime_offset);
    if (*reinterpret_cast<void* const*>(runtime + fs_runtime_audit_head_offset) != nullptr ||
        *reinterpret_cast<PyObject* const*>(interp + fs_interp_audit_hooks_offset) != nullptr) {
        return true;
    }
#endif
#ifdef WITH_DTRACE
    return *audit_probe_semaphore != 0;
#else
    return false;
#endif
}

}  // namespace fs::compat
