/* capi_ext.c: the module _fs_capi_ext, which test_capi.py builds at test time from the installed
 * framescope.h only (as an outside project would: framescope.get_include() and the compiler,
 * as C99), and through which the tests call every function of framescope's C API from C.
 *
 * Each Python-callable function here is a thin shell around one C API call, so that the test
 * states the expected behaviour in Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <framescope.h>

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------------------------- */

static PyFrameObject *as_frame(PyObject *obj) {
    return (PyFrameObject *)obj; /* unchecked on purpose: the C API checks its arguments */
}

/* The thread state of the thread whose threading ident is `ident` (this interpreter's). */
static PyThreadState *thread_with_ident(PyObject *ident) {
    unsigned long want;
    PyThreadState *ts;
    if (ident == Py_None) {
        return PyThreadState_Get();
    }
    want = PyLong_AsUnsignedLong(ident);
    if (want == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    for (ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(PyThreadState_Get()));
         ts != NULL; ts = PyThreadState_Next(ts)) {
        if (ts->thread_id == want) {
            return ts;
        }
    }
    PyErr_Format(PyExc_LookupError, "no thread with ident %lu", want);
    return NULL;
}

/* ---- the page's functions ------------------------------------------------------------------ */

static PyObject *get_back(PyObject *self, PyObject *frame) {
    PyFrameObject *back = FsFrame_GetBack(as_frame(frame));
    (void)self;
    if (back == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return (PyObject *)back;
}

/* get_back_keeps_error(frame): FsFrame_GetBack with an exception already set; whether that
 * exception is still the one set afterwards (cleared either way) */
static PyObject *get_back_keeps_error(PyObject *self, PyObject *frame) {
    PyFrameObject *back;
    int kept;
    (void)self;
    PyErr_SetString(PyExc_KeyError, "set before the call");
    back = FsFrame_GetBack(as_frame(frame));
    kept = PyErr_ExceptionMatches(PyExc_KeyError);
    PyErr_Clear();
    Py_XDECREF(back);
    return PyBool_FromLong(kept);
}

static PyObject *get_builtins(PyObject *self, PyObject *frame) {
    (void)self;
    return FsFrame_GetBuiltins(as_frame(frame));
}

static PyObject *get_code(PyObject *self, PyObject *frame) {
    (void)self;
    return (PyObject *)FsFrame_GetCode(as_frame(frame));
}

/* (the generator or None; an exception where FsFrame_GetGenerator set one, which it must not) */
static PyObject *get_generator(PyObject *self, PyObject *frame) {
    PyObject *gen = FsFrame_GetGenerator(as_frame(frame));
    (void)self;
    if (gen == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return gen;
}

static PyObject *get_globals(PyObject *self, PyObject *frame) {
    (void)self;
    return FsFrame_GetGlobals(as_frame(frame));
}

static PyObject *get_lasti(PyObject *self, PyObject *frame) {
    int lasti = FsFrame_GetLasti(as_frame(frame));
    (void)self;
    if (lasti == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(lasti);
}

static PyObject *get_line_number(PyObject *self, PyObject *frame) {
    int line = FsFrame_GetLineNumber(as_frame(frame));
    (void)self;
    if (line == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(line);
}

static PyObject *get_var(PyObject *self, PyObject *args) {
    PyObject *frame, *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO", &frame, &name)) {
        return NULL;
    }
    return FsFrame_GetVar(as_frame(frame), name);
}

static PyObject *get_var_string(PyObject *self, PyObject *args) {
    PyObject *frame;
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "Os", &frame, &name)) {
        return NULL;
    }
    return FsFrame_GetVarString(as_frame(frame), name);
}

static PyObject *get_locals(PyObject *self, PyObject *frame) {
    (void)self;
    return FsFrame_GetLocals(as_frame(frame));
}

static PyObject *frame_check(PyObject *self, PyObject *obj) {
    (void)self;
    return PyBool_FromLong(FsFrame_Check(obj));
}

static PyObject *proxy_check(PyObject *self, PyObject *obj) {
    (void)self;
    return PyBool_FromLong(FsFrameLocalsProxy_Check(obj));
}

/* ---- more than the page ---------------------------------------------------------------------- */

static PyObject *set_var(PyObject *self, PyObject *args) {
    PyObject *frame, *name, *value;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &name, &value)) {
        return NULL;
    }
    if (FsFrame_SetVar(as_frame(frame), name, value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *set_var_string(PyObject *self, PyObject *args) {
    PyObject *frame, *value;
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "OsO", &frame, &name, &value)) {
        return NULL;
    }
    if (FsFrame_SetVarString(as_frame(frame), name, value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *lookup(PyObject *self, PyObject *args) {
    PyObject *frame, *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO", &frame, &name)) {
        return NULL;
    }
    return FsFrame_Lookup(as_frame(frame), name);
}

static PyObject *jump(PyObject *self, PyObject *args) {
    PyObject *frame;
    int lineno;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &frame, &lineno)) {
        return NULL;
    }
    if (FsFrame_Jump(as_frame(frame), lineno) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* can_jump(code, lasti, lineno) -> None (allowed) or CPython's reason (a str) */
static PyObject *can_jump(PyObject *self, PyObject *args) {
    PyObject *code, *reason = NULL;
    int lasti, lineno, ok;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oii", &code, &lasti, &lineno)) {
        return NULL;
    }
    ok = FsFrame_CanJump((PyCodeObject *)code, lasti, lineno, &reason);
    if (ok < 0) {
        return NULL;
    }
    if (ok) {
        if (reason != NULL) {
            PyErr_SetString(PyExc_AssertionError, "a reason was given for an allowed jump");
            Py_DECREF(reason);
            return NULL;
        }
        Py_RETURN_NONE;
    }
    /* the same verdict without asking for the reason */
    if (FsFrame_CanJump((PyCodeObject *)code, lasti, lineno, NULL) != 0) {
        Py_XDECREF(reason);
        PyErr_SetString(PyExc_AssertionError, "the verdict changed without a reason pointer");
        return NULL;
    }
    return reason;
}

/* thread_frame(depth, ident=None): FsThreadState_GetFrame of this thread or another */
static PyObject *thread_frame(PyObject *self, PyObject *args) {
    Py_ssize_t depth;
    PyObject *ident = Py_None;
    PyThreadState *ts;
    (void)self;
    if (!PyArg_ParseTuple(args, "n|O", &depth, &ident)) {
        return NULL;
    }
    ts = thread_with_ident(ident);
    return ts != NULL ? (PyObject *)FsThreadState_GetFrame(ts, depth) : NULL;
}

/* set_outer(depth, name, value): FsFrame_SetVarString on the frame `depth` out from the caller */
static PyObject *set_outer(PyObject *self, PyObject *args) {
    Py_ssize_t depth;
    const char *name;
    PyObject *value;
    PyFrameObject *frame;
    int r;
    (void)self;
    if (!PyArg_ParseTuple(args, "nsO", &depth, &name, &value)) {
        return NULL;
    }
    frame = FsThreadState_GetFrame(PyThreadState_Get(), depth);
    if (frame == NULL) {
        return NULL;
    }
    r = FsFrame_SetVarString(frame, name, value);
    Py_DECREF(frame);
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- walks --------------------------------------------------------------------------------- */

enum { MAX_FRAMES = 4096 };

typedef struct {
    int count;
    int stop_after; /* 0: never stop */
    PyCodeObject *code[MAX_FRAMES];
    int lasti[MAX_FRAMES];
    int lineno[MAX_FRAMES];
} Record;

static int record_frame(PyCodeObject *code, int lasti, int lineno, void *arg) {
    Record *r = (Record *)arg;
    if (r->count < MAX_FRAMES) {
        r->code[r->count] = code;
        r->lasti[r->count] = lasti;
        r->lineno[r->count] = lineno;
    }
    r->count++;
    return r->stop_after != 0 && r->count == r->stop_after ? 1000 + r->count : 0;
}

/* [(code, lasti, lineno), ...] of a finished walk; its return value as the list's last item */
static PyObject *record_list(const Record *r, int result) {
    PyObject *list = PyList_New(0), *item;
    int i;
    if (list == NULL) {
        return NULL;
    }
    for (i = 0; i < r->count && i < MAX_FRAMES; i++) {
        item = Py_BuildValue("(Oii)", (PyObject *)r->code[i], r->lasti[i], r->lineno[i]);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    item = PyLong_FromLong(result);
    if (item == NULL || PyList_Append(list, item) < 0) {
        Py_XDECREF(item);
        Py_DECREF(list);
        return NULL;
    }
    Py_DECREF(item);
    return list;
}

/* walk(ident=None, stop_after=0) -> [(code, lasti, lineno), ..., FsFrame_Walk's result] */
static PyObject *walk(PyObject *self, PyObject *args) {
    PyObject *ident = Py_None, *out;
    PyThreadState *ts;
    Record *r;
    int result;
    (void)self;
    r = (Record *)calloc(1, sizeof(Record));
    if (r == NULL) {
        return PyErr_NoMemory();
    }
    if (!PyArg_ParseTuple(args, "|Oi", &ident, &r->stop_after) ||
        (ts = thread_with_ident(ident)) == NULL) {
        free(r);
        return NULL;
    }
    result = FsFrame_Walk(ts, record_frame, r);
    out = result == -1 && PyErr_Occurred() ? NULL : record_list(r, result);
    free(r);
    return out;
}

/* walk_from(frame) -> as walk() */
static PyObject *walk_from(PyObject *self, PyObject *frame) {
    PyObject *out;
    Record *r = (Record *)calloc(1, sizeof(Record));
    int result;
    (void)self;
    if (r == NULL) {
        return PyErr_NoMemory();
    }
    result = FsFrame_WalkFrom(as_frame(frame), record_frame, r);
    out = result == -1 && PyErr_Occurred() ? NULL : record_list(r, result);
    free(r);
    return out;
}

static int count_frame(PyCodeObject *code, int lasti, int lineno, void *arg) {
    (void)code;
    (void)lasti;
    (void)lineno;
    ++*(long *)arg;
    return 0;
}

/* walk_count() -> the number of frames of this thread's walk (no object made on the way) */
static PyObject *walk_count(PyObject *self, PyObject *unused) {
    long n = 0;
    (void)self;
    (void)unused;
    if (FsFrame_Walk(PyThreadState_Get(), count_frame, &n) != 0) {
        return NULL;
    }
    return PyLong_FromLong(n);
}

/* ---- bad arguments ------------------------------------------------------------------------- */

/* Records in `out` what a call did: the type name of the exception it set, else `what`. */
static int add_outcome(PyObject *out, const char *call, PyObject *what) {
    PyObject *value;
    int r;
    if (PyErr_Occurred()) {
        value = PyUnicode_FromString(((PyTypeObject *)PyErr_Occurred())->tp_name);
        PyErr_Clear();
    } else {
        value = what;
        Py_XINCREF(value);
    }
    if (value == NULL) {
        return -1;
    }
    r = PyDict_SetItemString(out, call, value);
    Py_DECREF(value);
    return r;
}

/* bad_arguments(frame, not_a_frame) -> {"call": "ok" | exception type | "NULL without
 * exception"}: every function of the table with NULL and with an object of the wrong type. */
static PyObject *bad_arguments(PyObject *self, PyObject *args) {
    PyObject *frame_obj, *other, *out, *r, *reason = NULL;
    PyFrameObject *frame, *not_frame;
    PyObject *name = NULL, *s_null = NULL, *s_object = NULL;
    long counted = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO", &frame_obj, &other)) {
        return NULL;
    }
    frame = as_frame(frame_obj);
    not_frame = as_frame(other);
    out = PyDict_New();
    name = PyUnicode_FromString("x");
    s_null = PyUnicode_FromString("NULL");
    s_object = PyUnicode_FromString("object");
    if (out == NULL || name == NULL || s_null == NULL || s_object == NULL) {
        goto error;
    }
/* An object-returning call: "NULL" (no exception) or "object", or the exception's type. */
#define OBJ(label, expr)                                                        \
    do {                                                                        \
        r = (PyObject *)(expr);                                                 \
        if (add_outcome(out, label, r != NULL ? s_object : s_null) < 0) {       \
            Py_XDECREF(r);                                                      \
            goto error;                                                         \
        }                                                                       \
        Py_XDECREF(r);                                                          \
    } while (0)
/* An int-returning call: its value, or the exception's type. */
#define INT(label, expr)                                                        \
    do {                                                                        \
        PyObject *v = PyLong_FromLong((long)(expr));                            \
        if (v == NULL || add_outcome(out, label, v) < 0) {                      \
            Py_XDECREF(v);                                                      \
            goto error;                                                         \
        }                                                                       \
        Py_DECREF(v);                                                           \
    } while (0)
    OBJ("GetBack(NULL)", FsFrame_GetBack(NULL));
    OBJ("GetBack(other)", FsFrame_GetBack(not_frame));
    OBJ("GetBuiltins(NULL)", FsFrame_GetBuiltins(NULL));
    OBJ("GetBuiltins(other)", FsFrame_GetBuiltins(not_frame));
    OBJ("GetCode(NULL)", FsFrame_GetCode(NULL));
    OBJ("GetCode(other)", FsFrame_GetCode(not_frame));
    OBJ("GetGenerator(NULL)", FsFrame_GetGenerator(NULL));
    OBJ("GetGenerator(other)", FsFrame_GetGenerator(not_frame));
    OBJ("GetGlobals(NULL)", FsFrame_GetGlobals(NULL));
    OBJ("GetGlobals(other)", FsFrame_GetGlobals(not_frame));
    INT("GetLasti(NULL)", FsFrame_GetLasti(NULL));
    INT("GetLasti(other)", FsFrame_GetLasti(not_frame));
    INT("GetLineNumber(NULL)", FsFrame_GetLineNumber(NULL));
    INT("GetLineNumber(other)", FsFrame_GetLineNumber(not_frame));
    OBJ("GetVar(NULL, name)", FsFrame_GetVar(NULL, name));
    OBJ("GetVar(other, name)", FsFrame_GetVar(not_frame, name));
    OBJ("GetVar(frame, NULL)", FsFrame_GetVar(frame, NULL));
    OBJ("GetVar(frame, 42)", FsFrame_GetVar(frame, other));
    OBJ("GetVarString(NULL, name)", FsFrame_GetVarString(NULL, "x"));
    OBJ("GetVarString(frame, NULL)", FsFrame_GetVarString(frame, NULL));
    OBJ("GetVarString(frame, unknown)", FsFrame_GetVarString(frame, "no_such_variable"));
    OBJ("GetLocals(NULL)", FsFrame_GetLocals(NULL));
    OBJ("GetLocals(other)", FsFrame_GetLocals(not_frame));
    INT("Check(NULL)", FsFrame_Check(NULL));
    INT("Check(other)", FsFrame_Check(other));
    INT("FrameLocalsProxy_Check(NULL)", FsFrameLocalsProxy_Check(NULL));
    INT("FrameLocalsProxy_Check(other)", FsFrameLocalsProxy_Check(other));
    OBJ("InterpreterFrame_GetCode(NULL)", FsUnstable_InterpreterFrame_GetCode(NULL));
    INT("InterpreterFrame_GetLasti(NULL)", FsUnstable_InterpreterFrame_GetLasti(NULL));
    INT("InterpreterFrame_GetLine(NULL)", FsUnstable_InterpreterFrame_GetLine(NULL));
    INT("SetVar(NULL, name, value)", FsFrame_SetVar(NULL, name, Py_None));
    INT("SetVar(other, name, value)", FsFrame_SetVar(not_frame, name, Py_None));
    INT("SetVar(frame, NULL, value)", FsFrame_SetVar(frame, NULL, Py_None));
    INT("SetVar(frame, 42, value)", FsFrame_SetVar(frame, other, Py_None));
    INT("SetVar(frame, name, NULL)", FsFrame_SetVar(frame, name, NULL));
    INT("SetVarString(frame, NULL, value)", FsFrame_SetVarString(frame, NULL, Py_None));
    INT("SetVarString(other, name, value)", FsFrame_SetVarString(not_frame, "x", Py_None));
    OBJ("Lookup(NULL, name)", FsFrame_Lookup(NULL, name));
    OBJ("Lookup(frame, 42)", FsFrame_Lookup(frame, other));
    INT("Jump(NULL, 1)", FsFrame_Jump(NULL, 1));
    INT("Jump(other, 1)", FsFrame_Jump(not_frame, 1));
    INT("CanJump(NULL, 0, 1)", FsFrame_CanJump(NULL, 0, 1, &reason));
    INT("CanJump(other, 0, 1)", FsFrame_CanJump((PyCodeObject *)other, 0, 1, &reason));
    OBJ("ThreadState_GetFrame(NULL, 0)", FsThreadState_GetFrame(NULL, 0));
    OBJ("ThreadState_GetFrame(ts, -1)", FsThreadState_GetFrame(PyThreadState_Get(), -1));
    OBJ("ThreadState_GetFrame(ts, 100000)", FsThreadState_GetFrame(PyThreadState_Get(), 100000));
    INT("Walk(NULL, visit)", FsFrame_Walk(NULL, count_frame, &counted));
    INT("Walk(ts, NULL)", FsFrame_Walk(PyThreadState_Get(), NULL, NULL));
    INT("WalkFrom(NULL, visit)", FsFrame_WalkFrom(NULL, count_frame, &counted));
    INT("WalkFrom(other, visit)", FsFrame_WalkFrom(not_frame, count_frame, &counted));
    INT("WalkFrom(frame, NULL)", FsFrame_WalkFrom(frame, NULL, NULL));
#undef OBJ
#undef INT
    Py_DECREF(name);
    Py_DECREF(s_null);
    Py_DECREF(s_object);
    if (reason != NULL) {
        Py_DECREF(reason);
        PyErr_SetString(PyExc_AssertionError, "a failed FsFrame_CanJump gave a reason");
        Py_DECREF(out);
        return NULL;
    }
    return out;
error:
    Py_XDECREF(name);
    Py_XDECREF(s_null);
    Py_XDECREF(s_object);
    Py_XDECREF(out);
    return NULL;
}

/* ---- a PEP 523 frame evaluator built on FsUnstable_InterpreterFrame_* ---------------------- */

static _PyFrameEvalFunction previous_eval = NULL;
static PyObject *eval_log = NULL; /* [(code, lasti, line), ...] of frames whose name starts
                                     with "traced_" */

static PyObject *logging_eval(PyThreadState *ts, FsInterpreterFrame *frame, int throwflag) {
    PyObject *code = FsUnstable_InterpreterFrame_GetCode(frame);
    if (code == NULL) {
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(((PyCodeObject *)code)->co_name);
    if (name == NULL) {
        Py_DECREF(code);
        return NULL;
    }
    if (eval_log != NULL && strncmp(name, "traced_", 7) == 0) {
        PyObject *entry = Py_BuildValue("(Oii)", code,
                                        FsUnstable_InterpreterFrame_GetLasti(frame),
                                        FsUnstable_InterpreterFrame_GetLine(frame));
        if (entry == NULL || PyList_Append(eval_log, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(code);
            return NULL;
        }
        Py_DECREF(entry);
    }
    Py_DECREF(code);
    return _PyEval_EvalFrameDefault(ts, frame, throwflag);
}

static PyObject *start_evaluator(PyObject *self, PyObject *unused) {
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    (void)self;
    (void)unused;
    if (eval_log != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the evaluator is already installed");
        return NULL;
    }
    eval_log = PyList_New(0);
    if (eval_log == NULL) {
        return NULL;
    }
    previous_eval = _PyInterpreterState_GetEvalFrameFunc(interp);
    _PyInterpreterState_SetEvalFrameFunc(interp, logging_eval);
    Py_RETURN_NONE;
}

/* stop_evaluator() -> the log */
static PyObject *stop_evaluator(PyObject *self, PyObject *unused) {
    PyObject *log = eval_log;
    (void)self;
    (void)unused;
    if (log == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the evaluator is not installed");
        return NULL;
    }
    _PyInterpreterState_SetEvalFrameFunc(PyThreadState_GetInterpreter(PyThreadState_Get()),
                                         previous_eval);
    eval_log = NULL;
    return log;
}

/* ---- the table itself ---------------------------------------------------------------------- */

static PyObject *import_api(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    if (framescope_import() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static void free_table(PyObject *capsule) {
    free(PyCapsule_GetPointer(capsule, "framescope._C_API"));
}

/* table_capsule(size_delta, version_delta): a copy of the loaded table whose size and version
 * say it comes from another framescope (bigger and newer: a later release that appended
 * functions; smaller and older: one from before this header). */
static PyObject *table_capsule(PyObject *self, PyObject *args) {
    int size_delta, version_delta;
    size_t size;
    FsCAPI *copy;
    PyObject *capsule;
    (void)self;
    if (!PyArg_ParseTuple(args, "ii", &size_delta, &version_delta)) {
        return NULL;
    }
    size = (size_t)((long)sizeof(FsCAPI) + size_delta);
    copy = (FsCAPI *)calloc(1, size > sizeof(FsCAPI) ? size : sizeof(FsCAPI));
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(copy, FsAPI, size < sizeof(FsCAPI) ? size : sizeof(FsCAPI));
    copy->size = size;
    copy->version = (unsigned int)((int)FsAPI->version + version_delta);
    capsule = PyCapsule_New(copy, "framescope._C_API", free_table);
    if (capsule == NULL) {
        free(copy);
    }
    return capsule;
}

static PyMethodDef methods[] = {
    {"get_back", get_back, METH_O, NULL},
    {"get_back_keeps_error", get_back_keeps_error, METH_O, NULL},
    {"get_builtins", get_builtins, METH_O, NULL},
    {"get_code", get_code, METH_O, NULL},
    {"get_generator", get_generator, METH_O, NULL},
    {"get_globals", get_globals, METH_O, NULL},
    {"get_lasti", get_lasti, METH_O, NULL},
    {"get_line_number", get_line_number, METH_O, NULL},
    {"get_var", get_var, METH_VARARGS, NULL},
    {"get_var_string", get_var_string, METH_VARARGS, NULL},
    {"get_locals", get_locals, METH_O, NULL},
    {"frame_check", frame_check, METH_O, NULL},
    {"proxy_check", proxy_check, METH_O, NULL},
    {"set_var", set_var, METH_VARARGS, NULL},
    {"set_var_string", set_var_string, METH_VARARGS, NULL},
    {"lookup", lookup, METH_VARARGS, NULL},
    {"jump", jump, METH_VARARGS, NULL},
    {"can_jump", can_jump, METH_VARARGS, NULL},
    {"thread_frame", thread_frame, METH_VARARGS, NULL},
    {"set_outer", set_outer, METH_VARARGS, NULL},
    {"walk", walk, METH_VARARGS, NULL},
    {"walk_from", walk_from, METH_O, NULL},
    {"walk_count", walk_count, METH_NOARGS, NULL},
    {"bad_arguments", bad_arguments, METH_VARARGS, NULL},
    {"start_evaluator", start_evaluator, METH_NOARGS, NULL},
    {"stop_evaluator", stop_evaluator, METH_NOARGS, NULL},
    {"import_api", import_api, METH_NOARGS, NULL},
    {"table_capsule", table_capsule, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fs_capi_ext", "framescope's C API, called from C (tests)", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fs_capi_ext(void) {
    if (framescope_import() < 0) {
        return NULL;
    }
    return PyModule_Create(&module);
}
