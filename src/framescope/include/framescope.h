/* framescope.h: framescope's C API, for extension modules.
 *
 * Every function of CPython's "Frame Objects" C API page (3.13), with `Py` replaced by `Fs` and
 * 3.13's documented semantics on every CPython that framescope supports (3.10 to 3.15), plus
 * persistent variable writes, lookups, jumps and stack walks that create no objects.
 *
 * Use:
 *     #include <framescope.h>          (the folder: framescope.get_include(),
 *                                        `python -m framescope --include`, the CMake package
 *                                        framescope::headers, or pkg-config framescope)
 *     PyMODINIT_FUNC PyInit_mymod(void) {
 *         if (framescope_import() < 0) return NULL;   (ImportError set)
 *         ...
 *     }
 *
 * framescope_import() fetches framescope's function table from the capsule framescope._C_API.
 * Every function below goes through that table, so it must have succeeded first. The table is
 * versioned and size-prefixed: an extension built with this header works with any framescope
 * whose table has at least the functions this header knows (newer ones only add at the end);
 * against an older framescope, framescope_import() fails with an ImportError that says so.
 *
 * An extension of several C files: define FRAMESCOPE_UNIQUE_SYMBOL to one name (the same in
 * every file) before the include, and FRAMESCOPE_NO_IMPORT in all files but the one that calls
 * framescope_import(); they then share one table pointer. Otherwise the pointer is static to
 * each file that includes this header.
 *
 * All functions need the GIL (an attached thread state) and follow CPython's conventions: a
 * returned PyObject* is a new (strong) reference; NULL or -1 means an exception is set, except
 * where a function says it returns NULL without one. The reference page with each function's
 * semantics is docs/c-api.md in framescope's source.
 *
 * Plain C: valid as C99 and as C++11 or later.
 */
#ifndef FRAMESCOPE_H
#define FRAMESCOPE_H

#include <Python.h>
#include <frameobject.h>

#ifdef Py_LIMITED_API
#error "framescope.h needs CPython's full C API (PyCodeObject, PyThreadState): not Py_LIMITED_API"
#endif
#if defined(FRAMESCOPE_NO_IMPORT) && !defined(FRAMESCOPE_UNIQUE_SYMBOL)
#error "FRAMESCOPE_NO_IMPORT shares the table of another file: define FRAMESCOPE_UNIQUE_SYMBOL too"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the table this header describes: one more for each release that appends
 * functions. Existing entries never change or move. */
#define FRAMESCOPE_CAPI_VERSION 1

/* What a PEP 523 frame-evaluation function receives as its frame, which the
 * FsUnstable_InterpreterFrame_* functions take: CPython's internal _PyInterpreterFrame from 3.11,
 * and on 3.10, which has no interpreter frames, the frame object itself. Either way it is the
 * type of the frame argument of CPython's _PyFrameEvalFunction. */
#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame FsInterpreterFrame;
#else
typedef PyFrameObject FsInterpreterFrame;
#endif

/* FsFrame_Walk's visitor: called once per frame with its code object (borrowed: valid during the
 * call), the frame's last instruction as a byte offset (frame.f_lasti; -1 before the first) and
 * its line (frame.f_lineno; -1 where the instruction has none). Return 0 to go on to the next
 * frame outward; anything else stops the walk, and FsFrame_Walk returns it. */
typedef int (*FsFrameVisitor)(PyCodeObject *code, int lasti, int lineno, void *arg);

/* The table behind the functions below. Only ever appended to: an entry's position is fixed by
 * the version that added it. */
typedef struct FsCAPI {
    size_t size;          /* sizeof(FsCAPI) of the framescope that filled it */
    unsigned int version; /* its FRAMESCOPE_CAPI_VERSION */
    /* version 1 */
    PyFrameObject *(*Frame_GetBack)(PyFrameObject *frame);
    PyObject *(*Frame_GetBuiltins)(PyFrameObject *frame);
    PyCodeObject *(*Frame_GetCode)(PyFrameObject *frame);
    PyObject *(*Frame_GetGenerator)(PyFrameObject *frame);
    PyObject *(*Frame_GetGlobals)(PyFrameObject *frame);
    int (*Frame_GetLasti)(PyFrameObject *frame);
    int (*Frame_GetLineNumber)(PyFrameObject *frame);
    PyObject *(*Frame_GetVar)(PyFrameObject *frame, PyObject *name);
    PyObject *(*Frame_GetVarString)(PyFrameObject *frame, const char *name);
    PyObject *(*Frame_GetLocals)(PyFrameObject *frame);
    int (*Frame_Check)(PyObject *obj);
    int (*FrameLocalsProxy_Check)(PyObject *obj);
    PyObject *(*InterpreterFrame_GetCode)(FsInterpreterFrame *frame);
    int (*InterpreterFrame_GetLasti)(FsInterpreterFrame *frame);
    int (*InterpreterFrame_GetLine)(FsInterpreterFrame *frame);
    int (*Frame_SetVar)(PyFrameObject *frame, PyObject *name, PyObject *value);
    int (*Frame_SetVarString)(PyFrameObject *frame, const char *name, PyObject *value);
    PyObject *(*Frame_Lookup)(PyFrameObject *frame, PyObject *name);
    int (*Frame_Jump)(PyFrameObject *frame, int lineno);
    int (*Frame_CanJump)(PyCodeObject *code, int lasti, int lineno, PyObject **reason);
    PyFrameObject *(*ThreadState_GetFrame)(PyThreadState *tstate, Py_ssize_t depth);
    int (*Frame_Walk)(PyThreadState *tstate, FsFrameVisitor visit, void *arg);
    int (*Frame_WalkFrom)(PyFrameObject *frame, FsFrameVisitor visit, void *arg);
} FsCAPI;

/* The table pointer: one per file, or one shared name (see above). */
#if defined(FRAMESCOPE_UNIQUE_SYMBOL)
#define FsAPI FRAMESCOPE_UNIQUE_SYMBOL
#if defined(FRAMESCOPE_NO_IMPORT)
extern const FsCAPI *FRAMESCOPE_UNIQUE_SYMBOL;
#else
const FsCAPI *FRAMESCOPE_UNIQUE_SYMBOL = NULL;
#endif
#else
static const FsCAPI *FsAPI = NULL;
#endif

#if !defined(FRAMESCOPE_NO_IMPORT)
/* Loads framescope's table. 0 on success; -1 with an ImportError set when framescope cannot be
 * imported, has no C API, or is older than this header. */
static inline int framescope_import(void) {
    PyObject *module = PyImport_ImportModule("framescope");
    PyObject *capsule;
    const FsCAPI *api;
    if (module == NULL) {
        return -1; /* the import's own error: ModuleNotFoundError: No module named 'framescope' */
    }
    capsule = PyObject_GetAttrString(module, "_C_API");
    Py_DECREF(module);
    api = capsule != NULL ? (const FsCAPI *)PyCapsule_GetPointer(capsule, "framescope._C_API")
                          : NULL;
    Py_XDECREF(capsule); /* the module keeps the capsule, and the capsule the table */
    if (api == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError,
                        "framescope has no C API table (framescope._C_API): reinstall framescope");
        return -1;
    }
    if (api->version < FRAMESCOPE_CAPI_VERSION || api->size < sizeof(FsCAPI)) {
        PyErr_Format(PyExc_ImportError,
                     "this extension was built with framescope's C API version %d, and the "
                     "installed framescope provides version %u (a table of %zu bytes, where "
                     "this header needs %zu): upgrade framescope",
                     FRAMESCOPE_CAPI_VERSION, api->version, api->size, sizeof(FsCAPI));
        return -1;
    }
    FsAPI = api;
    return 0;
}
#endif

/* ---- CPython's "Frame Objects" page, on every version ------------------------------------ */

/* The frame's outer frame (created if needed), or NULL without an exception when it has none. */
static inline PyFrameObject *FsFrame_GetBack(PyFrameObject *frame) {
    return FsAPI->Frame_GetBack(frame);
}
/* frame.f_builtins. */
static inline PyObject *FsFrame_GetBuiltins(PyFrameObject *frame) {
    return FsAPI->Frame_GetBuiltins(frame);
}
/* frame.f_code. */
static inline PyCodeObject *FsFrame_GetCode(PyFrameObject *frame) {
    return FsAPI->Frame_GetCode(frame);
}
/* The generator, coroutine or async generator that owns the frame; NULL without an exception
 * when none does (a function's frame, a finished generator's). */
static inline PyObject *FsFrame_GetGenerator(PyFrameObject *frame) {
    return FsAPI->Frame_GetGenerator(frame);
}
/* frame.f_globals. */
static inline PyObject *FsFrame_GetGlobals(PyFrameObject *frame) {
    return FsAPI->Frame_GetGlobals(frame);
}
/* frame.f_lasti: the byte offset of the last instruction; -1 (without an exception) when it has
 * not started. */
static inline int FsFrame_GetLasti(PyFrameObject *frame) {
    return FsAPI->Frame_GetLasti(frame);
}
/* frame.f_lineno. */
static inline int FsFrame_GetLineNumber(PyFrameObject *frame) {
    return FsAPI->Frame_GetLineNumber(frame);
}
/* The value of the frame's variable `name` (a str); NameError when it has no bound variable of
 * that name. */
static inline PyObject *FsFrame_GetVar(PyFrameObject *frame, PyObject *name) {
    return FsAPI->Frame_GetVar(frame, name);
}
/* FsFrame_GetVar with a UTF-8 name. */
static inline PyObject *FsFrame_GetVarString(PyFrameObject *frame, const char *name) {
    return FsAPI->Frame_GetVarString(frame, name);
}
/* frame.f_locals with 3.13's semantics: for a function frame a live, write-through mapping with
 * FrameLocalsProxy semantics (framescope.locals()); for module and class frames their namespace
 * mapping. */
static inline PyObject *FsFrame_GetLocals(PyFrameObject *frame) {
    return FsAPI->Frame_GetLocals(frame);
}
/* Whether obj is a frame object. Never raises. */
static inline int FsFrame_Check(PyObject *obj) {
    return FsAPI->Frame_Check(obj);
}
/* Whether obj is a frame-locals proxy: CPython's FrameLocalsProxy (3.13+) or framescope's
 * LocalsView. Never raises. */
static inline int FsFrameLocalsProxy_Check(PyObject *obj) {
    return FsAPI->FrameLocalsProxy_Check(obj);
}
/* The code object the frame runs. */
static inline PyObject *FsUnstable_InterpreterFrame_GetCode(FsInterpreterFrame *frame) {
    return FsAPI->InterpreterFrame_GetCode(frame);
}
/* The byte offset of the frame's last instruction; -1 when it has none yet. */
static inline int FsUnstable_InterpreterFrame_GetLasti(FsInterpreterFrame *frame) {
    return FsAPI->InterpreterFrame_GetLasti(frame);
}
/* The frame's line, or -1 when its instruction has none. */
static inline int FsUnstable_InterpreterFrame_GetLine(FsInterpreterFrame *frame) {
    return FsAPI->InterpreterFrame_GetLine(frame);
}

/* ---- more than the page ------------------------------------------------------------------ */

/* Sets the frame's variable `name` (a str) to value, so that the frame's code sees it when it
 * continues (framescope.setvar): 0, or -1 with an exception set. */
static inline int FsFrame_SetVar(PyFrameObject *frame, PyObject *name, PyObject *value) {
    return FsAPI->Frame_SetVar(frame, name, value);
}
/* FsFrame_SetVar with a UTF-8 name. */
static inline int FsFrame_SetVarString(PyFrameObject *frame, const char *name, PyObject *value) {
    return FsAPI->Frame_SetVarString(frame, name, value);
}
/* What the frame's own code would get for `name` (framescope.lookup): its local, cell or free
 * variable, then globals, then builtins. NameError or UnboundLocalError as the code would. */
static inline PyObject *FsFrame_Lookup(PyFrameObject *frame, PyObject *name) {
    return FsAPI->Frame_Lookup(frame, name);
}
/* The frame continues at `lineno` from its next line boundary (framescope.jump): 0, or -1 with
 * ValueError (CPython's reason) when the jump is not allowed. */
static inline int FsFrame_Jump(PyFrameObject *frame, int lineno) {
    return FsAPI->Frame_Jump(frame, lineno);
}
/* Whether a frame of `code` stopped at the line event of byte offset `lasti` may jump to
 * `lineno` (framescope.can_jump): 1 yes; 0 no, and *reason (if reason is not NULL) receives
 * CPython's message as a new str; -1 with an exception set on bad arguments. */
static inline int FsFrame_CanJump(PyCodeObject *code, int lasti, int lineno, PyObject **reason) {
    return FsAPI->Frame_CanJump(code, lasti, lineno, reason);
}
/* The frame object `depth` frames out from the innermost Python frame of tstate's thread
 * (created if needed), as sys._getframe(depth) in that thread; ValueError when the stack is not
 * that deep. */
static inline PyFrameObject *FsThreadState_GetFrame(PyThreadState *tstate, Py_ssize_t depth) {
    return FsAPI->ThreadState_GetFrame(tstate, depth);
}
/* Calls visit once for each frame of tstate's thread that inspect.stack() would show, innermost
 * first, creating no Python object. Returns 0 after the last frame, visit's non-zero return
 * when it stopped the walk, -1 with an exception set on bad arguments. Unless the frames walked
 * are the caller's own thread's, visit must not release the GIL or run Python code: another
 * thread could return from them, a generator could finish or be freed, and the walk would read
 * freed frames. */
static inline int FsFrame_Walk(PyThreadState *tstate, FsFrameVisitor visit, void *arg) {
    return FsAPI->Frame_Walk(tstate, visit, arg);
}
/* FsFrame_Walk starting at `frame` itself (any thread's, a generator's), outward; the same rule
 * for visit. */
static inline int FsFrame_WalkFrom(PyFrameObject *frame, FsFrameVisitor visit, void *arg) {
    return FsAPI->Frame_WalkFrom(frame, visit, arg);
}

#ifdef __cplusplus
}
#endif

#endif /* FRAMESCOPE_H */
