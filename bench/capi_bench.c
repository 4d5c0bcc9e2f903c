/* capi_bench.c: the module _fs_capi_bench, loops in C that bench_capi.py times: each runs one
 * operation n times on a frame, through framescope's C API or through what C code uses without
 * it. Built at bench time from the installed header, as an outside project would. FS_CAP_*
 * come from framescope._caps (the build passes them): FS_CAP_FRAME_LOCALS_PROXY marks the
 * interpreters (3.13+) whose own PyFrame_GetVar and PyFrame_GetLocals read the frame directly. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <framescope.h>

#define LOOP_ARGS                                                            \
    PyObject *frame_obj, *name;                                              \
    Py_ssize_t n, i;                                                         \
    PyFrameObject *frame;                                                    \
    (void)self;                                                              \
    if (!PyArg_ParseTuple(args, "OOn", &frame_obj, &name, &n)) {             \
        return NULL;                                                         \
    }                                                                        \
    frame = (PyFrameObject *)frame_obj;                                      \
    (void)frame;                                                             \
    (void)name

/* Releases what an operation returned; stops the loop on an error. */
#define CONSUME(expr)                                                        \
    do {                                                                     \
        PyObject *r_ = (PyObject *)(expr);                                   \
        if (r_ == NULL) {                                                    \
            return NULL;                                                     \
        }                                                                    \
        Py_DECREF(r_);                                                       \
    } while (0)

/* ---- reading one variable ------------------------------------------------------------------ */

static PyObject *getvar_fs(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        CONSUME(FsFrame_GetVar(frame, name));
    }
    Py_RETURN_NONE;
}

/* 3.13+: CPython's own PyFrame_GetVar. Before: what a backport does there, f_locals (a snapshot
 * of every variable made for the call) and a lookup in it. */
static PyObject *getvar_cpython(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
#if FS_CAP_FRAME_LOCALS_PROXY
        CONSUME(PyFrame_GetVar(frame, name));
#else
        PyObject *locals = PyObject_GetAttrString(frame_obj, "f_locals");
        PyObject *value;
        if (locals == NULL) {
            return NULL;
        }
        value = PyDict_GetItemWithError(locals, name);
        Py_XINCREF(value);
        Py_DECREF(locals);
        CONSUME(value);
#endif
    }
    Py_RETURN_NONE;
}

/* ---- the locals mapping -------------------------------------------------------------------- */

static PyObject *getlocals_fs(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        CONSUME(FsFrame_GetLocals(frame));
    }
    Py_RETURN_NONE;
}

/* 3.13+: PyFrame_GetLocals (a FrameLocalsProxy). Before: f_locals, the snapshot dict. */
static PyObject *getlocals_cpython(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
#if FS_CAP_FRAME_LOCALS_PROXY
        CONSUME(PyFrame_GetLocals(frame));
#else
        CONSUME(PyObject_GetAttrString(frame_obj, "f_locals"));
#endif
    }
    Py_RETURN_NONE;
}

/* ---- writing one variable: a different small int each time -------------------------------- */

static PyObject *setvar_fs(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        PyObject *value = PyLong_FromSsize_t(i & 255);
        int r = FsFrame_SetVar(frame, name, value);
        Py_DECREF(value);
        if (r < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* 3.13+: a write through CPython's proxy. Before: the idiom whose write reaches the frame,
 * f_locals (snapshot), a store into it, PyFrame_LocalsToFast. */
static PyObject *setvar_cpython(PyObject *self, PyObject *args) {
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        PyObject *value = PyLong_FromSsize_t(i & 255);
#if FS_CAP_FRAME_LOCALS_PROXY
        PyObject *locals = PyFrame_GetLocals(frame);
#else
        PyObject *locals = PyObject_GetAttrString(frame_obj, "f_locals");
#endif
        int r = locals != NULL ? PyObject_SetItem(locals, name, value) : -1;
        Py_DECREF(value);
        Py_XDECREF(locals);
        if (r < 0) {
            return NULL;
        }
#if !FS_CAP_FRAME_LOCALS_PROXY
        PyFrame_LocalsToFast(frame, 0);
#endif
    }
    Py_RETURN_NONE;
}

/* ---- walking the stack: code and line of every frame --------------------------------------- */

typedef struct {
    long frames;
    long line_sum; /* so that the lines are used */
} Tally;

static int tally_frame(PyCodeObject *code, int lasti, int lineno, void *arg) {
    Tally *t = (Tally *)arg;
    (void)code;
    (void)lasti;
    t->frames++;
    t->line_sum += lineno;
    return 0;
}

/* walk_fs(None, None, n) -> frames seen by the last walk */
static PyObject *walk_fs(PyObject *self, PyObject *args) {
    Tally t = {0, 0};
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        t.frames = 0;
        if (FsFrame_Walk(PyThreadState_Get(), tally_frame, &t) != 0) {
            return NULL;
        }
    }
    return PyLong_FromLong(t.frames);
}

/* The walk C code writes without framescope: PyThreadState_GetFrame, then PyFrame_GetBack,
 * reading each frame's code and line. */
static PyObject *walk_cpython(PyObject *self, PyObject *args) {
    Tally t = {0, 0};
    LOOP_ARGS;
    for (i = 0; i < n; i++) {
        PyFrameObject *f = PyThreadState_GetFrame(PyThreadState_Get());
        t.frames = 0;
        while (f != NULL) {
            PyFrameObject *back;
            PyCodeObject *code = PyFrame_GetCode(f);
            t.frames++;
            t.line_sum += PyFrame_GetLineNumber(f);
            Py_DECREF(code);
            back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return PyLong_FromLong(t.frames);
}

static PyMethodDef methods[] = {
    {"getvar_fs", getvar_fs, METH_VARARGS, NULL},
    {"getvar_cpython", getvar_cpython, METH_VARARGS, NULL},
    {"getlocals_fs", getlocals_fs, METH_VARARGS, NULL},
    {"getlocals_cpython", getlocals_cpython, METH_VARARGS, NULL},
    {"setvar_fs", setvar_fs, METH_VARARGS, NULL},
    {"setvar_cpython", setvar_cpython, METH_VARARGS, NULL},
    {"walk_fs", walk_fs, METH_VARARGS, NULL},
    {"walk_cpython", walk_cpython, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fs_capi_bench", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fs_capi_bench(void) {
    if (framescope_import() < 0) {
        return NULL;
    }
    return PyModule_Create(&module);
}
