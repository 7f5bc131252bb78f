/* A relay's microwave reach in C: which candidate villages a new relay at a site would give a
 * shorter hop than they have, with its length.
 *
 * An optional accelerator of rollout_sim.world.reach.HopReach.better (the Python there is the
 * reference and gives the same villages, in the same order, with the same distances to the
 * bit); built where a C compiler is present and used unless ROLLOUT_SIM_PURE_PYTHON is set.
 * Why it exists: each funded site asks once (~6,000 times a national run), and in numpy the
 * question is a dozen calls over the ~1,500 villages of the grid cells around the site, most
 * of them out of range or no longer candidates; here it is one pass that computes an exact
 * distance only for villages that pass the cheap tests.
 *
 * The grid (as HopReach builds it): villages binned on square cells, row-major, their indices
 * in `order` cell by cell, cell c's run starting at start[c]; a site's reach lies within
 * `span` cells of its own in each direction. Coordinates and hop ranges are held in grid order
 * (x[order] ...), so the pass reads them in sequence; `at` is each village's place in it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

#define BUF_MODULE "reach"
#include "_buffers.h"

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    long long nx, ny, span;
    Py_buffer b_x, b_y, b_hop, b_order, b_at, b_start, b_cx, b_cy, b_near, b_d;
    int have_buffers;
} Grid;

static void grid_release(Grid *self) {
    Py_buffer *views[] = {&self->b_x,     &self->b_y,  &self->b_hop, &self->b_order,
                          &self->b_at,    &self->b_start, &self->b_cx, &self->b_cy,
                          &self->b_near, &self->b_d};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->obj != NULL) PyBuffer_Release(views[i]);
    self->have_buffers = 0;
}

static void grid_dealloc(Grid *self) {
    grid_release(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Grid(x, y, hop_km, order, at, start, cx, cy, nx, ny, span, near_out, d_out): x, y, hop_km
 * float64[n] in grid order; order int32[n] (the village at each place of the grid order), at
 * int32[n] (its inverse); start int64[nx*ny + 1]; cx, cy int64[n] (each village's cell, by
 * village); near_out int32[n] and d_out float64[n], written by better(). */
static int grid_init(Grid *self, PyObject *args, PyObject *kwds) {
    PyObject *x, *y, *hop, *order, *at, *start, *cx, *cy, *near, *d;
    long long nx, ny, span;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "Grid() takes positional arguments only");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOOOOOOOLLLOO", &x, &y, &hop, &order, &at, &start, &cx, &cy, &nx,
                          &ny, &span, &near, &d))
        return -1;
    if (self->have_buffers) grid_release(self);
    if (nx < 1 || ny < 1 || span < 0) {
        PyErr_SetString(PyExc_ValueError, "reach: nx, ny must be >= 1 and span >= 0");
        return -1;
    }
    if (get_buf(x, &self->b_x, 8, -1, 0, "x") < 0) return -1;
    self->have_buffers = 1;
    Py_ssize_t n = self->b_x.len / 8;
    if (get_buf(y, &self->b_y, 8, n, 0, "y") < 0 || get_buf(hop, &self->b_hop, 8, n, 0, "hop_km") < 0 ||
        get_buf(order, &self->b_order, 4, n, 0, "order") < 0 ||
        get_buf(at, &self->b_at, 4, n, 0, "at") < 0 ||
        get_buf(start, &self->b_start, 8, nx * ny + 1, 0, "start") < 0 ||
        get_buf(cx, &self->b_cx, 8, n, 0, "cx") < 0 || get_buf(cy, &self->b_cy, 8, n, 0, "cy") < 0 ||
        get_buf(near, &self->b_near, 4, n, 1, "near_out") < 0 ||
        get_buf(d, &self->b_d, 8, n, 1, "d_out") < 0) {
        grid_release(self);
        return -1;
    }
    /* Every index the walk reads must be in range: a bad grid must fail here, not crash. */
    const int32_t *ord = self->b_order.buf, *pos = self->b_at.buf;
    const int64_t *st = self->b_start.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (ord[i] < 0 || ord[i] >= n || pos[i] < 0 || pos[i] >= n) {
            PyErr_SetString(PyExc_ValueError, "reach: order or at holds an index out of range");
            grid_release(self);
            return -1;
        }
    for (long long c = 0; c <= nx * ny; c++)
        if (st[c] < 0 || st[c] > n || (c > 0 && st[c] < st[c - 1])) {
            PyErr_SetString(PyExc_ValueError, "reach: start is not a run of offsets into order");
            grid_release(self);
            return -1;
        }
    const int64_t *gx = self->b_cx.buf, *gy = self->b_cy.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (gx[i] < 0 || gx[i] >= nx || gy[i] < 0 || gy[i] >= ny) {
            PyErr_SetString(PyExc_ValueError, "reach: a village's cell is off the grid");
            grid_release(self);
            return -1;
        }
    self->n = n;
    self->nx = nx;
    self->ny = ny;
    self->span = span;
    return 0;
}

/* better(site, mw_dist, candidates) -> k: the villages j in the cells around site with
 * candidates[j], hypot(x[j] - x[site], y[j] - y[site]) <= hop_km[j] and that distance below
 * mw_dist[j] are written to near_out[:k], their distances to d_out[:k], in grid order.
 * mw_dist float64[n], candidates bool[n]. */
static PyObject *grid_better(Grid *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!self->have_buffers) {
        PyErr_SetString(PyExc_RuntimeError, "reach: Grid not initialised");
        return NULL;
    }
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "better(site, mw_dist, candidates)");
        return NULL;
    }
    Py_ssize_t site = PyLong_AsSsize_t(args[0]);
    if (site == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t n = self->n;
    if (site < 0 || site >= n) {
        PyErr_SetString(PyExc_IndexError, "reach: site out of range");
        return NULL;
    }
    Py_buffer b_mw, b_cand;
    if (get_buf(args[1], &b_mw, 8, n, 0, "mw_dist") < 0) return NULL;
    if (get_buf(args[2], &b_cand, 1, n, 0, "candidates") < 0) {
        PyBuffer_Release(&b_mw);
        return NULL;
    }
    const double *x = self->b_x.buf, *y = self->b_y.buf, *hop = self->b_hop.buf;
    const double *mw = b_mw.buf;
    const char *cand = b_cand.buf;
    const int32_t *order = self->b_order.buf;
    const int64_t *start = self->b_start.buf;
    int32_t *near = self->b_near.buf;
    double *dist = self->b_d.buf;
    long long cx = ((const int64_t *)self->b_cx.buf)[site];
    long long cy = ((const int64_t *)self->b_cy.buf)[site];
    long long lo = cx - self->span < 0 ? 0 : cx - self->span;
    long long hi = cx + self->span > self->nx - 1 ? self->nx - 1 : cx + self->span;
    long long row0 = cy - self->span < 0 ? 0 : cy - self->span;
    long long row1 = cy + self->span > self->ny - 1 ? self->ny - 1 : cy + self->span;
    int32_t here = ((const int32_t *)self->b_at.buf)[site];
    double sx = x[here], sy = y[here];
    Py_ssize_t k = 0;
    for (long long row = row0; row <= row1; row++) {
        int64_t a = start[row * self->nx + lo], b = start[row * self->nx + hi + 1];
        for (int64_t i = a; i < b; i++) {
            int32_t j = order[i];
            if (!cand[j]) continue;
            double dx = x[i] - sx, dy = y[i] - sy;
            /* A cheap bound first: the square of a distance well beyond the hop range, or
             * beyond the hop the village has, cannot pass the exact tests below (the margin
             * covers the rounding of the squares many times over). */
            double bound = hop[i] < mw[j] ? hop[i] : mw[j];
            if (dx * dx + dy * dy > bound * bound * (1.0 + 1e-9)) continue;
            double d = hypot(dx, dy); /* what numpy's hypot computes: the same bits */
            if (d <= hop[i] && d < mw[j]) {
                near[k] = j;
                dist[k] = d;
                k++;
            }
        }
    }
    PyBuffer_Release(&b_mw);
    PyBuffer_Release(&b_cand);
    return PyLong_FromSsize_t(k);
}

static PyMethodDef grid_methods[] = {
    {"better", (PyCFunction)(void (*)(void))grid_better, METH_FASTCALL,
     "better(site, mw_dist, candidates) -> k (villages in near_out[:k], distances in d_out[:k])"},
    {NULL}};

static PyTypeObject GridType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rollout_sim._reach.Grid",
    .tp_basicsize = sizeof(Grid),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Villages binned on a grid, for a relay's reach (see rollout_sim.world.reach).",
    .tp_init = (initproc)grid_init,
    .tp_dealloc = (destructor)grid_dealloc,
    .tp_methods = grid_methods,
};

static struct PyModuleDef reach_module = {
    PyModuleDef_HEAD_INIT, .m_name = "_reach", .m_doc = "A relay's microwave reach in C.",
    .m_size = -1};

PyMODINIT_FUNC PyInit__reach(void) {
    /* Set here, not in the static initialiser: on Windows a function imported from the Python
     * DLL is not an address constant. */
    GridType.tp_new = PyType_GenericNew;
    if (PyType_Ready(&GridType) < 0) return NULL;
    PyObject *m = PyModule_Create(&reach_module);
    if (m == NULL) return NULL;
    Py_INCREF(&GridType);
    if (PyModule_AddObject(m, "Grid", (PyObject *)&GridType) < 0) {
        Py_DECREF(&GridType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
