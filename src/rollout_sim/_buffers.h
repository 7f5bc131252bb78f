/* What the optional C extensions (_netcore.c, _reach.c) share: taking a numpy array (or any
 * C-contiguous buffer) of a given item size and length, with one clear error otherwise.
 * Define BUF_MODULE (the module's short name, for the error) before including this. */
#ifndef ROLLOUT_SIM_BUFFERS_H
#define ROLLOUT_SIM_BUFFERS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Take *obj*'s buffer into *view*: C-contiguous, *itemsize* bytes an item and *len* items (any
 * length if negative), writable if asked. On error: an exception set, *view* released, -1. */
static int get_buf(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, Py_ssize_t len,
                   int writable, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->itemsize != itemsize || (len >= 0 && view->len != len * itemsize)) {
        PyErr_Format(PyExc_ValueError, BUF_MODULE ": %s has the wrong item size or length",
                     what);
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

#endif
