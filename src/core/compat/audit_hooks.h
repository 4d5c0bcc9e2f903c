/* compat/audit_hooks.h: byte offsets of the audit-hook lists (audit_hooks.c), for interpreters
 * whose internal headers the C++ core cannot include (FS_HAS_INLINE_AUDIT_CHECK is 0). */
#ifndef FS_COMPAT_AUDIT_HOOKS_H
#define FS_COMPAT_AUDIT_HOOKS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PyInterpreterState.runtime, PyInterpreterState.audit_hooks (sys.addaudithook's list) and the
 * runtime's PySys_AddAuditHook list head. */
extern const size_t fs_interp_runtime_offset;
extern const size_t fs_interp_audit_hooks_offset;
extern const size_t fs_runtime_audit_head_offset;

#ifdef __cplusplus
}
#endif

#endif
