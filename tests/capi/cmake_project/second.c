/* second.c: uses the table that main.c loaded (FRAMESCOPE_NO_IMPORT: the shared pointer). */
#define FRAMESCOPE_NO_IMPORT
#include <Python.h>
#include <framescope.h>

/* outer_var(depth, name): the variable `name` of the frame `depth` out from the caller */
PyObject *outer_var(PyObject *self, PyObject *args) {
    Py_ssize_t depth;
    const char *name;
    PyFrameObject *frame;
    PyObject *value;
    (void)self;
    if (!PyArg_ParseTuple(args, "ns", &depth, &name)) {
        return NULL;
    }
    frame = FsThreadState_GetFrame(PyThreadState_Get(), depth);
    if (frame == NULL) {
        return NULL;
    }
    value = FsFrame_GetVarString(frame, name);
    Py_DECREF(frame);
    return value;
}
