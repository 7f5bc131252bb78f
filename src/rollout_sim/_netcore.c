/* The network's outage path in C: taking a site and its backhaul subtree off air, bringing
 * them back, and the coverage counts, change log and traces every switch updates; the
 * maintenance crews' cycle of failures and repairs around those outages (Crews, below); and
 * the siting queue's heap (Heap, below).
 *
 * An optional accelerator of rollout_sim.model.network / coverage_state (see
 * rollout_sim/model/netcore.py): the Python classes there are the reference and give the same
 * results to the bit; this module is built where a C compiler is present and used unless
 * ROLLOUT_SIM_PURE_PYTHON is set. Why it exists: an outage is two walks over a subtree and a
 * pass over each site's villages, ~35 small Python calls that no single optimisation shrinks
 * (benchmarks/RESULTS.md); here they are loops over typed arrays.
 *
 * State shared with Python (numpy arrays held through the buffer protocol, written in place):
 * in_service, hw_up, operator, built_day, on_air_day, down_since, down_total, first_op.
 * State owned here: each village's on-air count and each footprint's, the day each village was
 * first covered, the children of each microwave parent, the counters, and the growable
 * buffers of the change log and the traces (exported as bytes at the end of a run).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define BUF_MODULE "netcore"
#include "_buffers.h"

typedef struct {
    char *data;
    Py_ssize_t len; /* items */
    Py_ssize_t cap; /* items */
    Py_ssize_t size; /* bytes per item */
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    char *data = PyMem_Realloc(b->data, (size_t)(cap * b->size));
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

#define BUF_PUSH(b, type, value)                                   \
    (buf_reserve((b), 1) < 0 ? -1                                  \
                             : (((type *)(b)->data)[(b)->len++] = (value), 0))
#define BUF_LAST(b, type) (((type *)(b)->data)[(b)->len - 1])

/* Buffer ids, as rollout_sim.model.netcore numbers them. */
enum { CH_TIME, CH_VILLAGES, CH_COUNT, CH_SIGN, NET_TIME, NET_VALUE, DOWN_TIME, DOWN_VALUE, FIXED };

typedef struct {
    int32_t *on_air;
    long long places, people;
    Buf time, place_count, people_count; /* double, int64, int64 */
} Footprint;

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    int ops;
    int nfp;     /* footprints kept: one per operator, and the rollout's unless ops == 1 */
    int rollout; /* which footprint is the rollout's */
    /* shared, read only */
    Py_buffer b_pop, b_indptr, b_indices, b_operator, b_built, b_first_op;
    const int64_t *pop, *indptr, *operator_;
    const int32_t *indices;
    const double *built_day;
    /* shared, written */
    Py_buffer b_in_service, b_hw_up, b_on_air_day, b_down_since, b_down_total;
    unsigned char *in_service, *hw_up;
    double *on_air_day, *down_since, *down_total;
    int16_t *first_op;
    /* siting's planned counts (CoverageState.plan): read only, then written */
    Py_buffer b_t_indptr, b_t_indices, b_planned, b_gain, b_gain_places;
    const int64_t *t_indptr;
    const int32_t *t_indices;
    int32_t *planned;
    int64_t *gain, *gain_places;
    /* owned */
    int32_t *on_air;
    double *first_day;
    int64_t *kid_head, *kid_tail, *kid_next, *stack;
    int64_t *kid_parent; /* each site's backhaul parent (add_child), -1: none on the tree */
    int walking; /* walks under way (more than one: a listener started one inside another) */
    int32_t *fresh; /* scratch: the villages one switch changed */
    Footprint *fps;
    long long *op_in_service;
    long long villages_covered, people_covered, down_count;
    Buf fixed[FIXED];
    Buf *service; /* 2 per operator: time, value */
    PyObject *env, *on_first;
    int have_buffers;
} Core;

/* The core holds the environment and a bound method of its Network, which holds the core:
 * a cycle the garbage collector must be able to see (or every run's state would leak). */
static int core_traverse(Core *self, visitproc visit, void *arg) {
    Py_VISIT(self->env);
    Py_VISIT(self->on_first);
    return 0;
}

static int core_clear(Core *self) {
    Py_CLEAR(self->env);
    Py_CLEAR(self->on_first);
    return 0;
}

static void core_dealloc(Core *self) {
    PyObject_GC_UnTrack(self);
    core_clear(self);
    Py_buffer *views[] = {&self->b_pop,      &self->b_indptr,    &self->b_indices,
                          &self->b_operator, &self->b_built,     &self->b_first_op,
                          &self->b_in_service, &self->b_hw_up,   &self->b_on_air_day,
                          &self->b_down_since, &self->b_down_total, &self->b_t_indptr,
                          &self->b_t_indices, &self->b_planned,  &self->b_gain,
                          &self->b_gain_places};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->obj != NULL) PyBuffer_Release(views[i]);
    PyMem_Free(self->on_air);
    PyMem_Free(self->first_day);
    PyMem_Free(self->kid_head);
    PyMem_Free(self->kid_tail);
    PyMem_Free(self->kid_next);
    PyMem_Free(self->kid_parent);
    PyMem_Free(self->stack);
    PyMem_Free(self->fresh);
    if (self->fps != NULL) {
        for (int f = 0; f < self->nfp; f++) {
            PyMem_Free(self->fps[f].on_air);
            PyMem_Free(self->fps[f].time.data);
            PyMem_Free(self->fps[f].place_count.data);
            PyMem_Free(self->fps[f].people_count.data);
        }
        PyMem_Free(self->fps);
    }
    for (int i = 0; i < FIXED; i++) PyMem_Free(self->fixed[i].data);
    if (self->service != NULL) {
        for (int i = 0; i < 2 * self->ops; i++) PyMem_Free(self->service[i].data);
        PyMem_Free(self->service);
    }
    PyMem_Free(self->op_in_service);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void buf_init(Buf *b, Py_ssize_t size) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->size = size;
}

static int fp_record(Footprint *fp, double t) {
    /* Several switches at one instant: keep the last state (as Footprint.record). */
    if (BUF_LAST(&fp->time, double) == t) {
        BUF_LAST(&fp->place_count, int64_t) = fp->places;
        BUF_LAST(&fp->people_count, int64_t) = fp->people;
        return 0;
    }
    if (BUF_PUSH(&fp->time, double, t) < 0) return -1;
    if (BUF_PUSH(&fp->place_count, int64_t, fp->places) < 0) return -1;
    return BUF_PUSH(&fp->people_count, int64_t, fp->people);
}

/* Core(env, on_first, ops, pop, indptr, indices, operator, built_day, first_op, in_service,
 *      hw_up, on_air_day, down_since, down_total, on_air, first_day, villages_covered,
 *      people_covered, t_indptr, t_indices, planned, gain, gain_places) */
static int core_init(Core *self, PyObject *args, PyObject *kwds) {
    PyObject *env, *on_first, *pop, *indptr, *indices, *operator_, *built, *first_op;
    PyObject *in_service, *hw_up, *on_air_day, *down_since, *down_total, *on_air, *first_day;
    PyObject *t_indptr, *t_indices, *planned, *gain, *gain_places;
    int ops;
    long long vc, pc;
    if (self->have_buffers) {
        PyErr_SetString(PyExc_RuntimeError, "netcore: Core is initialised once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOiOOOOOOOOOOOOOLLOOOOO", &env, &on_first, &ops, &pop,
                          &indptr, &indices, &operator_, &built, &first_op, &in_service, &hw_up,
                          &on_air_day, &down_since, &down_total, &on_air, &first_day, &vc, &pc,
                          &t_indptr, &t_indices, &planned, &gain, &gain_places))
        return -1;
    if (ops < 0) {
        PyErr_SetString(PyExc_ValueError, "netcore: ops must be >= 0");
        return -1;
    }
    self->have_buffers = 1;
    if (get_buf(pop, &self->b_pop, 8, -1, 0, "pop") < 0) return -1;
    Py_ssize_t n = self->b_pop.len / 8;
    self->n = n;
    if (get_buf(indptr, &self->b_indptr, 8, n + 1, 0, "indptr") < 0) return -1;
    if (get_buf(indices, &self->b_indices, 4, -1, 0, "indices") < 0) return -1;
    if (get_buf(operator_, &self->b_operator, 8, n, 0, "operator") < 0) return -1;
    if (get_buf(built, &self->b_built, 8, n, 0, "built_day") < 0) return -1;
    if (get_buf(first_op, &self->b_first_op, 2, n, 1, "first_op") < 0) return -1;
    if (get_buf(in_service, &self->b_in_service, 1, n, 1, "in_service") < 0) return -1;
    if (get_buf(hw_up, &self->b_hw_up, 1, n, 1, "hw_up") < 0) return -1;
    if (get_buf(on_air_day, &self->b_on_air_day, 8, n, 1, "on_air_day") < 0) return -1;
    if (get_buf(down_since, &self->b_down_since, 8, n, 1, "down_since") < 0) return -1;
    if (get_buf(down_total, &self->b_down_total, 8, n, 1, "down_total") < 0) return -1;
    if (get_buf(t_indptr, &self->b_t_indptr, 8, n + 1, 0, "t_indptr") < 0) return -1;
    if (get_buf(t_indices, &self->b_t_indices, 4, -1, 0, "t_indices") < 0) return -1;
    if (get_buf(planned, &self->b_planned, 4, n, 1, "planned") < 0) return -1;
    if (get_buf(gain, &self->b_gain, 8, n, 1, "gain") < 0) return -1;
    if (get_buf(gain_places, &self->b_gain_places, 8, n, 1, "gain_places") < 0) return -1;
    self->t_indptr = self->b_t_indptr.buf;
    self->t_indices = self->b_t_indices.buf;
    self->planned = self->b_planned.buf;
    self->gain = self->b_gain.buf;
    self->gain_places = self->b_gain_places.buf;
    /* The walks trust the CSR arrays: check their ends once. */
    if (((const int64_t *)self->b_indptr.buf)[n] * 4 != self->b_indices.len) {
        PyErr_SetString(PyExc_ValueError, "netcore: indptr does not end at len(indices)");
        return -1;
    }
    if (((const int64_t *)self->b_t_indptr.buf)[n] * 4 != self->b_t_indices.len) {
        PyErr_SetString(PyExc_ValueError, "netcore: t_indptr does not end at len(t_indices)");
        return -1;
    }
    self->pop = self->b_pop.buf;
    self->indptr = self->b_indptr.buf;
    self->indices = self->b_indices.buf;
    self->operator_ = self->b_operator.buf;
    self->built_day = self->b_built.buf;
    self->first_op = self->b_first_op.buf;
    self->in_service = self->b_in_service.buf;
    self->hw_up = self->b_hw_up.buf;
    self->on_air_day = self->b_on_air_day.buf;
    self->down_since = self->b_down_since.buf;
    self->down_total = self->b_down_total.buf;

    Py_buffer v_on, v_first;
    if (get_buf(on_air, &v_on, 4, n, 0, "on_air") < 0) return -1;
    if (get_buf(first_day, &v_first, 8, n, 0, "first_day") < 0) {
        PyBuffer_Release(&v_on);
        return -1;
    }
    size_t nn = (size_t)(n > 0 ? n : 1);
    self->on_air = PyMem_Malloc(nn * 4);
    self->first_day = PyMem_Malloc(nn * 8);
    self->kid_head = PyMem_Malloc(nn * 8);
    self->kid_tail = PyMem_Malloc(nn * 8);
    self->kid_next = PyMem_Malloc(nn * 8);
    self->kid_parent = PyMem_Malloc(nn * 8);
    self->stack = PyMem_Malloc((nn + 1) * 8);
    self->fresh = PyMem_Malloc(nn * 4);
    self->ops = ops;
    self->nfp = ops == 1 ? 1 : ops + 1;
    self->rollout = ops == 1 ? 0 : ops;
    self->fps = PyMem_Calloc((size_t)self->nfp, sizeof(Footprint));
    self->op_in_service = PyMem_Calloc((size_t)(ops > 0 ? ops : 1), sizeof(long long));
    self->service = PyMem_Calloc((size_t)(2 * ops > 0 ? 2 * ops : 1), sizeof(Buf));
    if (!self->on_air || !self->first_day || !self->kid_head || !self->kid_tail ||
        !self->kid_next || !self->kid_parent || !self->stack || !self->fresh || !self->fps || !self->op_in_service ||
        !self->service) {
        PyBuffer_Release(&v_on);
        PyBuffer_Release(&v_first);
        PyErr_NoMemory();
        return -1;
    }
    if (n > 0) {
        memcpy(self->on_air, v_on.buf, (size_t)n * 4);
        memcpy(self->first_day, v_first.buf, (size_t)n * 8);
    }
    PyBuffer_Release(&v_on);
    PyBuffer_Release(&v_first);
    for (Py_ssize_t i = 0; i < n; i++)
        self->kid_head[i] = self->kid_tail[i] = self->kid_parent[i] = -1;
    for (int f = 0; f < self->nfp; f++) {
        Footprint *fp = &self->fps[f];
        fp->on_air = PyMem_Calloc(nn, 4);
        if (fp->on_air == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        buf_init(&fp->time, 8);
        buf_init(&fp->place_count, 8);
        buf_init(&fp->people_count, 8);
        if (BUF_PUSH(&fp->time, double, 0.0) < 0 || BUF_PUSH(&fp->place_count, int64_t, 0) < 0 ||
            BUF_PUSH(&fp->people_count, int64_t, 0) < 0)
            return -1;
    }
    Py_ssize_t sizes[FIXED] = {8, 4, 4, 1, 8, 8, 8, 8};
    for (int i = 0; i < FIXED; i++) buf_init(&self->fixed[i], sizes[i]);
    for (int i = 0; i < 2 * ops; i++) buf_init(&self->service[i], 8);
    self->villages_covered = vc;
    self->people_covered = pc;
    self->down_count = 0;
    Py_INCREF(env);
    self->env = env;
    Py_INCREF(on_first);
    self->on_first = on_first;
    return 0;
}

/* --- coverage switches (CoverageState.switch_on / switch_off) ------------------------------ */

static int log_change(Core *self, double t, Py_ssize_t k, int8_t sign) {
    Buf *v = &self->fixed[CH_VILLAGES];
    if (BUF_PUSH(&self->fixed[CH_TIME], double, t) < 0 || buf_reserve(v, k) < 0 ||
        BUF_PUSH(&self->fixed[CH_COUNT], int32_t, (int32_t)k) < 0 ||
        BUF_PUSH(&self->fixed[CH_SIGN], int8_t, sign) < 0)
        return -1;
    memcpy(v->data + v->len * 4, self->fresh, (size_t)k * 4);
    v->len += k;
    return 0;
}

static int footprint_on(Core *self, Footprint *fp, int64_t a, int64_t b, double t) {
    int32_t *on = fp->on_air;
    for (int64_t k = a; k < b; k++) {
        int32_t u = self->indices[k];
        if (on[u] == 0) {
            fp->places += 1;
            fp->people += self->pop[u];
        }
        on[u] += 1;
    }
    return fp_record(fp, t);
}

static int footprint_off(Core *self, Footprint *fp, int64_t a, int64_t b, double t) {
    int32_t *on = fp->on_air;
    for (int64_t k = a; k < b; k++) {
        int32_t u = self->indices[k];
        on[u] -= 1;
        if (on[u] == 0) {
            fp->places -= 1;
            fp->people -= self->pop[u];
        }
    }
    return fp_record(fp, t);
}

/* Returns 0 and sets *first_v and *first_p, or -1 with an exception set. */
static int switch_on(Core *self, Py_ssize_t site, double t, long long op, int first,
                     long long *first_v, long long *first_p) {
    int32_t *on = self->on_air;
    const int64_t *pop = self->pop;
    int64_t a = self->indptr[site], b = self->indptr[site + 1];
    Py_ssize_t nf = 0;
    *first_v = *first_p = 0;
    if (op >= 0) {
        Footprint *fp = &self->fps[op];
        int32_t *fon = fp->on_air;
        long long places = 0, people_fp = 0;
        for (int64_t k = a; k < b; k++) {
            int32_t u = self->indices[k];
            if (on[u] == 0) self->fresh[nf++] = u;
            on[u] += 1;
            if (fon[u] == 0) {
                places += 1;
                people_fp += pop[u];
            }
            fon[u] += 1;
        }
        fp->places += places;
        fp->people += people_fp;
        if (fp_record(fp, t) < 0) return -1;
        if (self->ops > 1 && footprint_on(self, &self->fps[self->rollout], a, b, t) < 0)
            return -1;
    } else {
        for (int64_t k = a; k < b; k++) {
            int32_t u = self->indices[k];
            if (on[u] == 0) self->fresh[nf++] = u;
            on[u] += 1;
        }
    }
    if (nf == 0) return 0;
    if (log_change(self, t, nf, 1) < 0) return -1;
    self->villages_covered += nf;
    long long people = 0;
    if (!first) {
        for (Py_ssize_t i = 0; i < nf; i++) people += pop[self->fresh[i]];
        self->people_covered += people;
        return 0;
    }
    long long fv = 0, fpp = 0;
    for (Py_ssize_t i = 0; i < nf; i++) {
        int32_t u = self->fresh[i];
        people += pop[u];
        if (isnan(self->first_day[u])) {
            self->first_day[u] = t;
            self->first_op[u] = (int16_t)op;
            fv += 1;
            fpp += pop[u];
        }
    }
    self->people_covered += people;
    *first_v = fv;
    *first_p = fpp;
    return 0;
}

/* Returns 0 and sets *lost_v and *lost_p, or -1 with an exception set. */
static int switch_off(Core *self, Py_ssize_t site, double t, long long op, long long *lost_v,
                      long long *lost_p) {
    int32_t *on = self->on_air;
    const int64_t *pop = self->pop;
    int64_t a = self->indptr[site], b = self->indptr[site + 1];
    Py_ssize_t nl = 0;
    long long people = 0;
    *lost_v = *lost_p = 0;
    if (op >= 0) {
        Footprint *fp = &self->fps[op];
        int32_t *fon = fp->on_air;
        long long places = 0, people_fp = 0;
        for (int64_t k = a; k < b; k++) {
            int32_t u = self->indices[k];
            on[u] -= 1;
            if (on[u] == 0) {
                self->fresh[nl++] = u;
                people += pop[u];
            }
            fon[u] -= 1;
            if (fon[u] == 0) {
                places += 1;
                people_fp += pop[u];
            }
        }
        fp->places -= places;
        fp->people -= people_fp;
        if (fp_record(fp, t) < 0) return -1;
        if (self->ops > 1 && footprint_off(self, &self->fps[self->rollout], a, b, t) < 0)
            return -1;
    } else {
        for (int64_t k = a; k < b; k++) {
            int32_t u = self->indices[k];
            on[u] -= 1;
            if (on[u] == 0) {
                self->fresh[nl++] = u;
                people += pop[u];
            }
        }
    }
    if (nl == 0) return 0;
    if (log_change(self, t, nl, -1) < 0) return -1;
    self->villages_covered -= nl;
    self->people_covered -= people;
    *lost_v = nl;
    *lost_p = people;
    return 0;
}

static int check_site(Core *self, Py_ssize_t v) {
    if (v < 0 || v >= self->n) {
        PyErr_Format(PyExc_IndexError, "netcore: village %zd out of range", v);
        return -1;
    }
    return 0;
}

static int check_op(Core *self, long long op) {
    if (op >= self->ops) {
        PyErr_Format(PyExc_IndexError, "netcore: operator %lld out of range", op);
        return -1;
    }
    return 0;
}

/* The arguments of switch_on / switch_off: site, t, then op (default -1). */
static int switch_args(Core *self, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t most,
                       const char *usage, Py_ssize_t *site, double *t, long long *op) {
    if (nargs < 2 || nargs > most) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    *site = PyLong_AsSsize_t(args[0]);
    *t = PyFloat_AsDouble(args[1]);
    *op = nargs > 2 ? PyLong_AsLongLong(args[2]) : -1;
    if (PyErr_Occurred() || check_site(self, *site) < 0 || check_op(self, *op) < 0) return -1;
    return 0;
}

static PyObject *core_switch_on(Core *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t site;
    double t;
    long long op, v, p;
    if (switch_args(self, args, nargs, 4, "switch_on(site, t, op=-1, first=True)", &site, &t,
                    &op) < 0)
        return NULL;
    int first = nargs > 3 ? PyObject_IsTrue(args[3]) : 1;
    if (first < 0 || switch_on(self, site, t, op, first, &v, &p) < 0) return NULL;
    return Py_BuildValue("(LL)", v, p);
}

static PyObject *core_switch_off(Core *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t site;
    double t;
    long long op, v, p;
    if (switch_args(self, args, nargs, 3, "switch_off(site, t, op=-1)", &site, &t, &op) < 0)
        return NULL;
    if (switch_off(self, site, t, op, &v, &p) < 0) return NULL;
    return Py_BuildValue("(LL)", v, p);
}

/* plan(site): CoverageState.plan. Count a claimed site in ``planned``; every candidate site
 * covering a village planned for the first time loses that village from its gain. Returns the
 * people the site newly plans to cover. */
static PyObject *core_plan(Core *self, PyObject *arg) {
    Py_ssize_t site = PyLong_AsSsize_t(arg);
    if ((site == -1 && PyErr_Occurred()) || check_site(self, site) < 0) return NULL;
    long long people = 0;
    for (int64_t k = self->indptr[site]; k < self->indptr[site + 1]; k++) {
        int32_t u = self->indices[k];
        if (self->planned[u]++ != 0) continue;
        int64_t p = self->pop[u];
        people += p;
        for (int64_t j = self->t_indptr[u]; j < self->t_indptr[u + 1]; j++) {
            int32_t c = self->t_indices[j];
            self->gain[c] -= p;
            self->gain_places[c] -= 1;
        }
    }
    return PyLong_FromLongLong(people);
}

/* --- the network's walks (Network.bring_up / take_down) ------------------------------------ */

static int record_service(Core *self, double now) {
    if (BUF_PUSH(&self->fixed[NET_TIME], double, now) < 0 ||
        BUF_PUSH(&self->fixed[NET_VALUE], double, (double)self->people_covered) < 0 ||
        BUF_PUSH(&self->fixed[DOWN_TIME], double, now) < 0 ||
        BUF_PUSH(&self->fixed[DOWN_VALUE], double, (double)self->down_count) < 0)
        return -1;
    for (int op = 0; op < self->ops; op++) {
        Buf *time = &self->service[2 * op], *value = &self->service[2 * op + 1];
        double count = (double)self->op_in_service[op];
        if (value->len == 0 || BUF_LAST(value, double) != count) {
            if (BUF_PUSH(time, double, now) < 0 || BUF_PUSH(value, double, count) < 0) return -1;
        }
    }
    return 0;
}

/* A walk's stack of sites still to visit. The first walk uses the core's own; a walk started
 * from inside another (an operator's listener that takes a site down while its site comes on
 * air) gets its own, as each call of the Python walks has its own list. */
typedef struct {
    int64_t *items;
    Py_ssize_t top;
    int owned;
} Stack;

static int stack_open(Core *self, Stack *s) {
    s->top = 0;
    s->owned = self->walking > 0;
    s->items = s->owned ? PyMem_Malloc((size_t)(self->n + 1) * 8) : self->stack;
    if (s->items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->walking += 1;
    return 0;
}

static void stack_close(Core *self, Stack *s) {
    self->walking -= 1;
    if (s->owned) PyMem_Free(s->items);
}

static int push_kids(Core *self, Py_ssize_t x, Stack *s) {
    for (int64_t c = self->kid_head[x]; c >= 0; c = self->kid_next[c]) {
        if (s->top > self->n) {
            PyErr_SetString(PyExc_RuntimeError, "netcore: the backhaul tree has a cycle");
            return -1;
        }
        s->items[s->top++] = c;
    }
    return 0;
}

/* Attribute names looked up at every step (interned at import). */
static PyObject *str_now, *str_timeout, *str_callbacks, *str_value, *str_peek, *str_succeed;

/* env.now as a double; 0, or -1 with an exception set. */
static int env_now(PyObject *env, double *now) {
    PyObject *t = PyObject_GetAttr(env, str_now);
    if (t == NULL) return -1;
    *now = PyFloat_AsDouble(t);
    Py_DECREF(t);
    return PyErr_Occurred() ? -1 : 0;
}

/* Network.bring_up's walk; 0, or -1 with an exception set. */
static int bring_up_walk(Core *self, Stack *s, Py_ssize_t v, double now) {
    s->items[s->top++] = v;
    while (s->top > 0) {
        Py_ssize_t x = (Py_ssize_t)s->items[--s->top];
        if (self->in_service[x] || isnan(self->built_day[x]) || !self->hw_up[x]) continue;
        self->in_service[x] = 1;
        long long op = self->operator_[x];
        int first = isnan(self->on_air_day[x]);
        long long villages, people;
        if (check_op(self, op) < 0 || switch_on(self, x, now, op, first, &villages, &people) < 0)
            return -1;
        if (op >= 0) self->op_in_service[op] += 1;
        if (first) {
            self->on_air_day[x] = now;
            PyObject *r = PyObject_CallFunction(self->on_first, "nLL", x, villages, people);
            if (r == NULL) return -1;
            Py_DECREF(r);
        } else {
            self->down_total[x] += now - self->down_since[x];
            self->down_since[x] = NAN;
            self->down_count -= 1;
        }
        if (push_kids(self, x, s) < 0) return -1;
    }
    return record_service(self, now);
}

/* The site an outside call names (checked) and the time now; 0, or -1 with an exception. */
static int site_now(Core *self, PyObject *arg, Py_ssize_t *v, double *now) {
    *v = PyLong_AsSsize_t(arg);
    if ((*v == -1 && PyErr_Occurred()) || check_site(self, *v) < 0) return -1;
    return env_now(self->env, now);
}

/* A walk's start: the site asked for, the time now, and a stack; 0, or -1 with an exception. */
static int walk_start(Core *self, PyObject *arg, Py_ssize_t *v, double *now, Stack *s) {
    if (site_now(self, arg, v, now) < 0) return -1;
    return stack_open(self, s);
}

static PyObject *core_bring_up(Core *self, PyObject *arg) {
    Py_ssize_t v;
    double now;
    Stack s;
    if (walk_start(self, arg, &v, &now, &s) < 0) return NULL;
    int failed = bring_up_walk(self, &s, v, now);
    stack_close(self, &s);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

/* Network.take_down's walk; 0, or -1 with an exception set. */
static int take_down_walk(Core *self, Stack *s, Py_ssize_t v, double now) {
    s->items[s->top++] = v;
    while (s->top > 0) {
        Py_ssize_t x = (Py_ssize_t)s->items[--s->top];
        if (!self->in_service[x]) continue;
        self->in_service[x] = 0;
        long long op = self->operator_[x];
        long long lv, lp;
        if (check_op(self, op) < 0 || switch_off(self, x, now, op, &lv, &lp) < 0) return -1;
        if (op >= 0) self->op_in_service[op] -= 1;
        self->down_since[x] = now;
        self->down_count += 1;
        if (push_kids(self, x, s) < 0) return -1;
    }
    return record_service(self, now);
}

static PyObject *core_take_down(Core *self, PyObject *arg) {
    Py_ssize_t v;
    double now;
    Stack s;
    if (walk_start(self, arg, &v, &now, &s) < 0) return NULL;
    long long before = self->people_covered;
    int failed = take_down_walk(self, &s, v, now);
    stack_close(self, &s);
    if (failed) return NULL;
    return PyLong_FromLongLong(before - self->people_covered);
}

/* Network.fail at *now* (v checked): the site's own equipment fails; the people who lost
 * cover, or -1 with an exception set. */
static long long fail_site(Core *self, Py_ssize_t v, double now) {
    Stack s;
    if (stack_open(self, &s) < 0) return -1;
    self->hw_up[v] = 0;
    long long before = self->people_covered;
    int failed = take_down_walk(self, &s, v, now);
    stack_close(self, &s);
    return failed ? -1 : before - self->people_covered;
}

/* Network.repair at *now* (v checked): the equipment works again; back on air (with its
 * subtree) if its backhaul is up (no parent on the tree: a PoP or fibre, always up). 0, or -1
 * with an exception set. */
static int repair_site(Core *self, Py_ssize_t v, double now) {
    Stack s;
    if (stack_open(self, &s) < 0) return -1;
    self->hw_up[v] = 1;
    int64_t p = self->kid_parent[v];
    int failed = (p < 0 || self->in_service[p]) ? bring_up_walk(self, &s, v, now) : 0;
    stack_close(self, &s);
    return failed;
}

static PyObject *core_fail(Core *self, PyObject *arg) {
    Py_ssize_t v;
    double now;
    if (site_now(self, arg, &v, &now) < 0) return NULL;
    long long lost = fail_site(self, v, now);
    return lost < 0 ? NULL : PyLong_FromLongLong(lost);
}

static PyObject *core_repair(Core *self, PyObject *arg) {
    Py_ssize_t v;
    double now;
    if (site_now(self, arg, &v, &now) < 0 || repair_site(self, v, now) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *core_add_child(Core *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add_child(parent, child)");
        return NULL;
    }
    Py_ssize_t p = PyLong_AsSsize_t(args[0]), c = PyLong_AsSsize_t(args[1]);
    if (PyErr_Occurred() || check_site(self, p) < 0 || check_site(self, c) < 0) return NULL;
    self->kid_next[c] = -1;
    self->kid_parent[c] = p;
    if (self->kid_tail[p] < 0)
        self->kid_head[p] = c;
    else
        self->kid_next[self->kid_tail[p]] = c;
    self->kid_tail[p] = c;
    Py_RETURN_NONE;
}

/* --- reading the state out ----------------------------------------------------------------- */

static PyObject *bytes_of(const Buf *b) {
    return PyBytes_FromStringAndSize(b->data ? b->data : "", b->len * b->size);
}

/* export(i): buffer i as bytes. 0-7: the change log (time, villages, count, sign), the net
 * trace (time, value), the down trace (time, value); then (time, value) of each operator's
 * sites in service; then (time, places, people) of each footprint. */
static PyObject *core_export(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i >= 0 && i < FIXED) return bytes_of(&self->fixed[i]);
    i -= FIXED;
    if (i >= 0 && i < 2 * self->ops) return bytes_of(&self->service[i]);
    i -= 2 * self->ops;
    if (i >= 0 && i < 3 * self->nfp) {
        Footprint *fp = &self->fps[i / 3];
        Buf *b[3] = {&fp->time, &fp->place_count, &fp->people_count};
        return bytes_of(b[i % 3]);
    }
    PyErr_SetString(PyExc_IndexError, "netcore: no such buffer");
    return NULL;
}

/* seed(i, data): append *data* (whole items) to buffer i: what Python recorded before the
 * core took over (the starting network's change log, the net trace's first point). */
static PyObject *core_seed(Core *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "seed(i, data)");
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(args[0]);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || i >= FIXED) {
        PyErr_SetString(PyExc_IndexError, "netcore: only the change log and traces are seeded");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Buf *b = &self->fixed[i];
    if (view.len % b->size != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "netcore: seed data is not whole items");
        return NULL;
    }
    Py_ssize_t k = view.len / b->size;
    if (buf_reserve(b, k) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    if (k > 0) memcpy(b->data + b->len * b->size, view.buf, (size_t)view.len);
    b->len += k;
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyObject *core_on_air(Core *self, PyObject *Py_UNUSED(ignored)) {
    return PyBytes_FromStringAndSize((const char *)self->on_air, self->n * 4);
}

static PyObject *core_first_day(Core *self, PyObject *Py_UNUSED(ignored)) {
    return PyBytes_FromStringAndSize((const char *)self->first_day, self->n * 8);
}

static PyObject *core_footprint(Core *self, PyObject *arg) {
    long f = PyLong_AsLong(arg);
    if (f == -1 && PyErr_Occurred()) return NULL;
    if (f < 0 || f >= self->nfp) {
        PyErr_SetString(PyExc_IndexError, "netcore: no such footprint");
        return NULL;
    }
    return Py_BuildValue("(LL)", self->fps[f].places, self->fps[f].people);
}

static PyObject *get_villages_covered(Core *self, void *c) {
    return PyLong_FromLongLong(self->villages_covered);
}
static PyObject *get_people_covered(Core *self, void *c) {
    return PyLong_FromLongLong(self->people_covered);
}
static PyObject *get_down_count(Core *self, void *c) {
    return PyLong_FromLongLong(self->down_count);
}
/* Setters: tests corrupt the counters to check that the invariants catch it. */
static int set_counter(long long *field, PyObject *value) {
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "netcore: counters cannot be deleted");
        return -1;
    }
    long long x = PyLong_AsLongLong(value);
    if (x == -1 && PyErr_Occurred()) return -1;
    *field = x;
    return 0;
}
static int set_villages_covered(Core *self, PyObject *value, void *c) {
    return set_counter(&self->villages_covered, value);
}
static int set_people_covered(Core *self, PyObject *value, void *c) {
    return set_counter(&self->people_covered, value);
}
static int set_down_count(Core *self, PyObject *value, void *c) {
    return set_counter(&self->down_count, value);
}

static PyObject *get_op_in_service(Core *self, void *c) {
    PyObject *out = PyList_New(self->ops);
    if (out == NULL) return NULL;
    for (int i = 0; i < self->ops; i++) {
        PyObject *x = PyLong_FromLongLong(self->op_in_service[i]);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, x);
    }
    return out;
}

static PyGetSetDef core_getset[] = {
    {"villages_covered", (getter)get_villages_covered, (setter)set_villages_covered, "villages with cover now", NULL},
    {"people_covered", (getter)get_people_covered, (setter)set_people_covered, "people with cover now", NULL},
    {"down_count", (getter)get_down_count, (setter)set_down_count, "sites down now", NULL},
    {"op_in_service", (getter)get_op_in_service, NULL, "each operator's sites in service", NULL},
    {NULL}};

static PyMethodDef core_methods[] = {
    {"switch_on", (PyCFunction)(void (*)(void))core_switch_on, METH_FASTCALL,
     "switch_on(site, t, op=-1, first=True) -> (villages, people) covered first"},
    {"switch_off", (PyCFunction)(void (*)(void))core_switch_off, METH_FASTCALL,
     "switch_off(site, t, op=-1) -> (villages, people) that lost their last cover"},
    {"plan", (PyCFunction)core_plan, METH_O, "plan(site) -> people newly planned"},
    {"bring_up", (PyCFunction)core_bring_up, METH_O, "bring_up(v): Network.bring_up"},
    {"take_down", (PyCFunction)core_take_down, METH_O,
     "take_down(v) -> people who lost cover: Network.take_down"},
    {"fail", (PyCFunction)core_fail, METH_O, "fail(v) -> people who lost cover: Network.fail"},
    {"repair", (PyCFunction)core_repair, METH_O, "repair(v): Network.repair"},
    {"add_child", (PyCFunction)(void (*)(void))core_add_child, METH_FASTCALL,
     "add_child(parent, child): child's backhaul hangs on parent"},
    {"seed", (PyCFunction)(void (*)(void))core_seed, METH_FASTCALL,
     "seed(i, data): append data to buffer i (0-7)"},
    {"export", (PyCFunction)core_export, METH_O, "export(i) -> bytes of buffer i"},
    {"on_air", (PyCFunction)core_on_air, METH_NOARGS, "on_air() -> int32 bytes"},
    {"first_day", (PyCFunction)core_first_day, METH_NOARGS, "first_day() -> float64 bytes"},
    {"footprint", (PyCFunction)core_footprint, METH_O, "footprint(f) -> (places, people)"},
    {NULL}};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rollout_sim._netcore.Core",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The network's outage path over typed arrays (see rollout_sim.model.netcore).",
    .tp_init = (initproc)core_init,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_methods = core_methods,
    .tp_getset = core_getset,
};

/* --- a binary heap of entries ----------------------------------------------------------------
 *
 * Two keys, then a village and a tag, ordered as Python orders the tuple (k1, k2, v, tag):
 * the siting queue's candidates (-priority, tiebreak, village, version) and the repairs
 * waiting for a crew (-people cut off, arrival, village, log row). Entries are all different
 * in both (a village's version grows at each push; each failure has its own arrival), so the
 * order is total and any heap pops them in the same order as heapq. */

typedef struct {
    double k1, k2;
    int64_t v, tag;
} Entry;

/* A growable buffer of entries (item size sizeof(Entry)), kept as a heap. */
typedef Buf Entries;
#define ENTRY(h) ((Entry *)(h)->data)

static int entry_less(const Entry *a, const Entry *b) {
    if (a->k1 != b->k1) return a->k1 < b->k1;
    if (a->k2 != b->k2) return a->k2 < b->k2;
    if (a->v != b->v) return a->v < b->v;
    return a->tag < b->tag;
}

static void entries_sift_down(Entries *h, Py_ssize_t i) {
    Entry x = ENTRY(h)[i];
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= h->len) break;
        if (c + 1 < h->len && entry_less(&ENTRY(h)[c + 1], &ENTRY(h)[c])) c += 1;
        if (!entry_less(&ENTRY(h)[c], &x)) break;
        ENTRY(h)[i] = ENTRY(h)[c];
        i = c;
    }
    ENTRY(h)[i] = x;
}

static void entries_heapify(Entries *h) {
    for (Py_ssize_t i = h->len / 2 - 1; i >= 0; i--) entries_sift_down(h, i);
}

/* heapq.heappush; 0, or -1 with an exception set. */
static int entries_push(Entries *h, Entry x) {
    if (buf_reserve(h, 1) < 0) return -1;
    Py_ssize_t i = h->len++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!entry_less(&x, &ENTRY(h)[parent])) break;
        ENTRY(h)[i] = ENTRY(h)[parent];
        i = parent;
    }
    ENTRY(h)[i] = x;
    return 0;
}

/* heapq.heappop without the entry (read ENTRY(h)[0] first); h->len > 0. */
static void entries_pop(Entries *h) {
    ENTRY(h)[0] = ENTRY(h)[--h->len];
    if (h->len > 0) entries_sift_down(h, 0);
}

/* --- the maintenance crews' cycle ----------------------------------------------------------
 *
 * rollout_sim.model.maintenance.MaintenanceCrews's failure and repair cycle, for a network
 * whose outage path is this core: a site's failure clock, the failure (its walk, its log row,
 * its repair queued most people first), the crews (a heap of the times they are back), the
 * repair's duration and its end (the walk back, the next failure's clock). The Python methods
 * there are the reference: the same SimPy timeouts in the same order, the same draws, the
 * same arithmetic (no a*b+c a compiler could fuse), so the same results to the bit. What stays
 * in Python is called back: a repair's bill (the treasury), and each site's block of draws
 * turned into days (numpy and scipy, once a site) and any draw past the block. */

/* A site's transformed draws: its block (computed at its first use) and how many. */
typedef struct {
    double *values;
    Py_ssize_t len; /* -1: not computed yet */
} Row;

enum { LOG_VILLAGE, LOG_FAILED, LOG_PEOPLE, LOG_SITES_DOWN, LOG_TAKEN, LOG_REPAIRED, WAIT_DAYS,
       DOWNTIME_DAYS, CREWS_BUFS };

typedef struct {
    PyObject_HEAD
    Core *core;
    PyObject *env;
    PyObject *bill, *exp1_row, *exp1_extra, *dur_row, *dur_extra; /* Python callables */
    PyObject *fail_counts, *repair_counts; /* VillageDraws._count lists (shared) */
    PyObject *watched; /* dict: log row -> event to succeed when repaired */
    PyObject *cb_failure, *cb_repaired, *cb_wake; /* this object's bound methods */
    Py_buffer b_rate, b_travel, b_clock_t, b_clock_h;
    const double *rate, *travel, *clock_t, *clock_h;
    Py_ssize_t n, nclock;
    Row *exp1, *dur;
    Entries waiting; /* (-people cut off, arrival, village, log row): most people first */
    double *free_at;
    Py_ssize_t ncrews;
    int wake_pending, stopped;
    long long seq, repairs;
    Buf bufs[CREWS_BUFS];
} Crews;

static int crews_traverse(Crews *self, visitproc visit, void *arg) {
    Py_VISIT(self->core);
    Py_VISIT(self->env);
    Py_VISIT(self->bill);
    Py_VISIT(self->exp1_row);
    Py_VISIT(self->exp1_extra);
    Py_VISIT(self->dur_row);
    Py_VISIT(self->dur_extra);
    Py_VISIT(self->fail_counts);
    Py_VISIT(self->repair_counts);
    Py_VISIT(self->watched);
    Py_VISIT(self->cb_failure);
    Py_VISIT(self->cb_repaired);
    Py_VISIT(self->cb_wake);
    return 0;
}

static int crews_clear(Crews *self) {
    Py_CLEAR(self->core);
    Py_CLEAR(self->env);
    Py_CLEAR(self->bill);
    Py_CLEAR(self->exp1_row);
    Py_CLEAR(self->exp1_extra);
    Py_CLEAR(self->dur_row);
    Py_CLEAR(self->dur_extra);
    Py_CLEAR(self->fail_counts);
    Py_CLEAR(self->repair_counts);
    Py_CLEAR(self->watched);
    Py_CLEAR(self->cb_failure);
    Py_CLEAR(self->cb_repaired);
    Py_CLEAR(self->cb_wake);
    return 0;
}

static void free_rows(Row *rows, Py_ssize_t n) {
    if (rows == NULL) return;
    for (Py_ssize_t i = 0; i < n; i++) PyMem_Free(rows[i].values);
    PyMem_Free(rows);
}

static void crews_dealloc(Crews *self) {
    PyObject_GC_UnTrack(self);
    crews_clear(self);
    Py_buffer *views[] = {&self->b_rate, &self->b_travel, &self->b_clock_t, &self->b_clock_h};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->obj != NULL) PyBuffer_Release(views[i]);
    free_rows(self->exp1, self->n);
    free_rows(self->dur, self->n);
    PyMem_Free(self->waiting.data);
    PyMem_Free(self->free_at);
    for (int i = 0; i < CREWS_BUFS; i++) PyMem_Free(self->bufs[i].data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Crews(core, env, crews, rate, travel_days, clock_t, clock_h, failure_counts, repair_counts,
 *       watched, bill, exp1_row, exp1_extra, durations_row, duration_extra) */
static int crews_init(Crews *self, PyObject *args, PyObject *kwds) {
    PyObject *core, *env, *rate, *travel, *clock_t, *clock_h, *fail_counts, *repair_counts;
    PyObject *watched, *bill, *exp1_row, *exp1_extra, *dur_row, *dur_extra;
    Py_ssize_t ncrews;
    if (self->core != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "netcore: Crews is initialised once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O!OnOOOOO!O!O!OOOOO:Crews", &CoreType, &core, &env, &ncrews,
                          &rate, &travel, &clock_t, &clock_h, &PyList_Type, &fail_counts,
                          &PyList_Type, &repair_counts, &PyDict_Type, &watched, &bill, &exp1_row,
                          &exp1_extra, &dur_row, &dur_extra))
        return -1;
    Py_ssize_t n = ((Core *)core)->n;
    if (ncrews < 0) {
        PyErr_SetString(PyExc_ValueError, "netcore: crews must be >= 0");
        return -1;
    }
    if (PyList_GET_SIZE(fail_counts) != n || PyList_GET_SIZE(repair_counts) != n) {
        PyErr_SetString(PyExc_ValueError, "netcore: one draw count per village is needed");
        return -1;
    }
    if (get_buf(rate, &self->b_rate, 8, n, 0, "rate") < 0 ||
        get_buf(travel, &self->b_travel, 8, n, 0, "travel_days") < 0 ||
        get_buf(clock_t, &self->b_clock_t, 8, -1, 0, "clock_t") < 0)
        return -1;
    self->nclock = self->b_clock_t.len / 8;
    if (self->nclock < 1 || get_buf(clock_h, &self->b_clock_h, 8, self->nclock, 0, "clock_h") < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "netcore: the failure clock is empty");
        return -1;
    }
    self->rate = self->b_rate.buf;
    self->travel = self->b_travel.buf;
    self->clock_t = self->b_clock_t.buf;
    self->clock_h = self->b_clock_h.buf;
    self->n = n;
    self->ncrews = ncrews;
    size_t nn = (size_t)(n > 0 ? n : 1);
    self->exp1 = PyMem_Calloc(nn, sizeof(Row));
    self->dur = PyMem_Calloc(nn, sizeof(Row));
    self->free_at = PyMem_Calloc((size_t)(ncrews > 0 ? ncrews : 1), sizeof(double));
    if (self->exp1 == NULL || self->dur == NULL || self->free_at == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) self->exp1[i].len = self->dur[i].len = -1;
    Py_ssize_t sizes[CREWS_BUFS] = {8, 8, 8, 8, 8, 8, 8, 8};
    for (int i = 0; i < CREWS_BUFS; i++) buf_init(&self->bufs[i], sizes[i]);
    buf_init(&self->waiting, sizeof(Entry));
    PyObject *objs[] = {core, env, fail_counts, repair_counts, watched, bill, exp1_row,
                        exp1_extra, dur_row, dur_extra};
    for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) Py_INCREF(objs[i]);
    self->core = (Core *)core;
    self->env = env;
    self->fail_counts = fail_counts;
    self->repair_counts = repair_counts;
    self->watched = watched;
    self->bill = bill;
    self->exp1_row = exp1_row;
    self->exp1_extra = exp1_extra;
    self->dur_row = dur_row;
    self->dur_extra = dur_extra;
    self->cb_failure = PyObject_GetAttrString((PyObject *)self, "on_failure");
    self->cb_repaired = PyObject_GetAttrString((PyObject *)self, "on_repaired");
    self->cb_wake = PyObject_GetAttrString((PyObject *)self, "on_wake");
    if (!self->cb_failure || !self->cb_repaired || !self->cb_wake) return -1;
    return 0;
}

/* env.timeout(delay[, value]).callbacks.append(callback); *d* is the delay (a reference
 * taken over). */
static int crews_timeout_obj(Crews *self, PyObject *d, PyObject *value, PyObject *callback) {
    if (d == NULL) return -1;
    PyObject *ev = value == NULL
                       ? PyObject_CallMethodObjArgs(self->env, str_timeout, d, NULL)
                       : PyObject_CallMethodObjArgs(self->env, str_timeout, d, value, NULL);
    Py_DECREF(d);
    if (ev == NULL) return -1;
    PyObject *cbs = PyObject_GetAttr(ev, str_callbacks);
    Py_DECREF(ev);
    if (cbs == NULL) return -1;
    int r = PyList_Append(cbs, callback);
    Py_DECREF(cbs);
    return r;
}

static int crews_timeout(Crews *self, double delay, PyObject *value, PyObject *callback) {
    return crews_timeout_obj(self, PyFloat_FromDouble(delay), value, callback);
}

/* VillageDraws.take: the k-th draw of village v (its count, then counted). */
static int take_draw(PyObject *counts, Py_ssize_t v, Py_ssize_t *k) {
    *k = PyLong_AsSsize_t(PyList_GET_ITEM(counts, v));
    if (*k == -1 && PyErr_Occurred()) return -1;
    PyObject *next = PyLong_FromSsize_t(*k + 1);
    if (next == NULL) return -1;
    return PyList_SetItem(counts, v, next); /* steals next, releases the old count */
}

/* The k-th transformed draw of village v: from its row (asked of Python at its first use),
 * or past the row, from Python (the village's own generator). */
static int draw_value(Row *row, Py_ssize_t v, Py_ssize_t k, PyObject *row_fn, PyObject *extra_fn,
                      double *out) {
    if (row->len < 0) {
        PyObject *r = PyObject_CallFunction(row_fn, "n", v);
        if (r == NULL) return -1;
        PyObject *seq = PySequence_Fast(r, "netcore: a row of draws must be a sequence");
        Py_DECREF(r);
        if (seq == NULL) return -1;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
        double *values = PyMem_Malloc((size_t)(m > 0 ? m : 1) * sizeof(double));
        if (values == NULL) {
            Py_DECREF(seq);
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < m; i++) {
            values[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
            if (values[i] == -1.0 && PyErr_Occurred()) {
                PyMem_Free(values);
                Py_DECREF(seq);
                return -1;
            }
        }
        Py_DECREF(seq);
        row->values = values;
        row->len = m;
    }
    if (k < row->len) {
        *out = row->values[k];
        return 0;
    }
    PyObject *r = PyObject_CallFunction(extra_fn, "n", v);
    if (r == NULL) return -1;
    *out = PyFloat_AsDouble(r);
    Py_DECREF(r);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* maintenance._interp: linear interpolation on sorted xs (bisect_right, then the segment). */
static double interp(double x, const double *xs, const double *ys, Py_ssize_t m) {
    Py_ssize_t lo = 0, hi = m;
    while (lo < hi) { /* bisect_right: the first i with xs[i] > x */
        Py_ssize_t mid = (lo + hi) / 2;
        if (x < xs[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    Py_ssize_t i = lo;
    if (i <= 0) return ys[0];
    if (i >= m) return ys[m - 1];
    double x0 = xs[i - 1], x1 = xs[i];
    if (x1 == x0) return ys[i];
    double slope_part = (ys[i] - ys[i - 1]) * (x - x0);
    return ys[i - 1] + slope_part / (x1 - x0);
}

/* MaintenanceCrews._schedule_failure (with _time_to_failure) */
static int schedule_failure(Crews *self, Py_ssize_t v) {
    Py_ssize_t k;
    double e, now;
    if (take_draw(self->fail_counts, v, &k) < 0 ||
        draw_value(&self->exp1[v], v, k, self->exp1_row, self->exp1_extra, &e) < 0 ||
        env_now(self->env, &now) < 0)
        return -1;
    double target = interp(now, self->clock_t, self->clock_h, self->nclock) + e / self->rate[v];
    if (target >= self->clock_h[self->nclock - 1]) return 0; /* after the horizon */
    double ttf = interp(target, self->clock_h, self->clock_t, self->nclock) - now;
    if (0.0 > ttf) ttf = 0.0; /* Python's max(ttf, 0.0) */
    if (ttf == INFINITY) return 0;
    PyObject *pv = PyLong_FromSsize_t(v);
    if (pv == NULL) return -1;
    int r = crews_timeout(self, ttf, pv, self->cb_failure);
    Py_DECREF(pv);
    return r;
}

/* heapq.heapreplace on the crews' return times: the earliest replaced by x. */
static void free_at_replace(Crews *self, double x) {
    double *h = self->free_at;
    Py_ssize_t n = self->ncrews, i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c += 1;
        if (!(h[c] < x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

#define LOG(self, i, type) ((type *)(self)->bufs[i].data)

/* MaintenanceCrews._dispatch */
static int dispatch(Crews *self) {
    double now;
    if (env_now(self->env, &now) < 0) return -1;
    while (self->waiting.len > 0 && self->ncrews > 0 && self->free_at[0] <= now) {
        Entry job = ENTRY(&self->waiting)[0];
        entries_pop(&self->waiting);
        Py_ssize_t v = (Py_ssize_t)job.v, row = (Py_ssize_t)job.tag;
        double failed_at = LOG(self, LOG_FAILED, double)[row];
        LOG(self, LOG_TAKEN, double)[row] = now;
        if (BUF_PUSH(&self->bufs[WAIT_DAYS], double, now - failed_at) < 0) return -1;
        PyObject *r = PyObject_CallFunction(self->bill, "n", v);
        if (r == NULL) return -1;
        Py_DECREF(r);
        double travel = self->travel[v];
        if (travel == INFINITY) travel = 0.0; /* no path on the graph */
        Py_ssize_t k;
        double duration;
        if (take_draw(self->repair_counts, v, &k) < 0 ||
            draw_value(&self->dur[v], v, k, self->dur_row, self->dur_extra, &duration) < 0)
            return -1;
        double work = travel + duration;
        free_at_replace(self, now + work + travel);
        PyObject *pr = PyLong_FromSsize_t(row);
        if (pr == NULL) return -1;
        int failed = crews_timeout(self, work, pr, self->cb_repaired);
        Py_DECREF(pr);
        if (failed) return -1;
    }
    if (self->waiting.len > 0 && self->ncrews > 0 && !self->wake_pending) {
        self->wake_pending = 1;
        if (crews_timeout(self, self->free_at[0] - now, NULL, self->cb_wake) < 0) return -1;
    }
    return 0;
}

/* MaintenanceCrews._fail: the log row of the failure, or -1 with an exception set. */
static Py_ssize_t crews_fail_site(Crews *self, Py_ssize_t v, int alone) {
    Core *core = self->core;
    double now;
    if (check_site(core, v) < 0 || env_now(self->env, &now) < 0) return -1;
    long long down_before = core->down_count;
    long long affected = fail_site(core, v, now);
    if (affected < 0) return -1;
    Py_ssize_t row = self->bufs[LOG_VILLAGE].len;
    if (BUF_PUSH(&self->bufs[LOG_VILLAGE], int64_t, v) < 0 ||
        BUF_PUSH(&self->bufs[LOG_FAILED], double, now) < 0 ||
        BUF_PUSH(&self->bufs[LOG_PEOPLE], int64_t, affected) < 0 ||
        BUF_PUSH(&self->bufs[LOG_SITES_DOWN], int64_t, core->down_count - down_before) < 0 ||
        BUF_PUSH(&self->bufs[LOG_TAKEN], double, NAN) < 0 ||
        BUF_PUSH(&self->bufs[LOG_REPAIRED], double, NAN) < 0)
        return -1;
    if (self->stopped) return row; /* nobody will repair it */
    self->seq += 1;
    /* The arrival as a double: exact below 2**53 failures, so the order is heapq's. */
    Entry job = {-(double)affected, (double)self->seq, v, row};
    if (entries_push(&self->waiting, job) < 0) return -1;
    if (!self->wake_pending && self->ncrews > 0 && self->free_at[0] <= now) {
        if (alone) {
            PyObject *p = PyObject_CallMethodNoArgs(self->env, str_peek);
            if (p == NULL) return -1;
            double next = PyFloat_AsDouble(p);
            Py_DECREF(p);
            if (next == -1.0 && PyErr_Occurred()) return -1;
            if (next > now) return dispatch(self) < 0 ? -1 : row;
        }
        self->wake_pending = 1;
        /* env.timeout(0): an int, as the Python passes (0.0 would turn an int now into 0.0) */
        if (crews_timeout_obj(self, PyLong_FromLong(0), NULL, self->cb_wake) < 0) return -1;
    } else if (!self->wake_pending && self->ncrews > 0) {
        /* Every crew is out and no repair was waiting: this one waits for the first crew
           back, not for the next failure to find it. */
        self->wake_pending = 1;
        if (crews_timeout(self, self->free_at[0] - now, NULL, self->cb_wake) < 0) return -1;
    }
    return row;
}

static Py_ssize_t event_index(PyObject *event) {
    PyObject *value = PyObject_GetAttr(event, str_value);
    if (value == NULL) return -1;
    Py_ssize_t i = PyLong_AsSsize_t(value);
    Py_DECREF(value);
    return i;
}

static PyObject *crews_on_failure(Crews *self, PyObject *event) {
    Py_ssize_t v = event_index(event);
    if (v == -1 && PyErr_Occurred()) return NULL;
    if (crews_fail_site(self, v, 1) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *crews_fail(Crews *self, PyObject *arg) {
    Py_ssize_t v = PyLong_AsSsize_t(arg);
    if (v == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t row = crews_fail_site(self, v, 0);
    return row < 0 ? NULL : PyLong_FromSsize_t(row);
}

static PyObject *crews_on_wake(Crews *self, PyObject *event) {
    self->wake_pending = 0;
    if (!self->stopped && dispatch(self) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *crews_on_repaired(Crews *self, PyObject *event) {
    Py_ssize_t row = event_index(event);
    if (row == -1 && PyErr_Occurred()) return NULL;
    if (row < 0 || row >= self->bufs[LOG_VILLAGE].len) {
        PyErr_SetString(PyExc_IndexError, "netcore: no such failure");
        return NULL;
    }
    double now;
    if (env_now(self->env, &now) < 0) return NULL;
    Py_ssize_t v = (Py_ssize_t)LOG(self, LOG_VILLAGE, int64_t)[row];
    self->repairs += 1;
    LOG(self, LOG_REPAIRED, double)[row] = now;
    double failed_at = LOG(self, LOG_FAILED, double)[row];
    if (BUF_PUSH(&self->bufs[DOWNTIME_DAYS], double, now - failed_at) < 0) return NULL;
    if (repair_site(self->core, v, now) < 0) return NULL;
    if (PyDict_GET_SIZE(self->watched) > 0) {
        PyObject *key = PyLong_FromSsize_t(row);
        if (key == NULL) return NULL;
        PyObject *done = PyDict_GetItemWithError(self->watched, key);
        if (done != NULL) {
            Py_INCREF(done);
            int gone = PyDict_DelItem(self->watched, key);
            Py_DECREF(key);
            if (gone < 0) {
                Py_DECREF(done);
                return NULL;
            }
            PyObject *r = PyObject_CallMethodNoArgs(done, str_succeed);
            Py_DECREF(done);
            if (r == NULL) return NULL;
            Py_DECREF(r);
            Py_RETURN_NONE; /* failed from outside: no clock of its own starts */
        }
        Py_DECREF(key);
        if (PyErr_Occurred()) return NULL;
    }
    if (schedule_failure(self, v) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *crews_start(Crews *self, PyObject *arg) {
    Py_ssize_t v = PyLong_AsSsize_t(arg);
    if ((v == -1 && PyErr_Occurred()) || check_site(self->core, v) < 0) return NULL;
    if (schedule_failure(self, v) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *crews_stop(Crews *self, PyObject *Py_UNUSED(ignored)) {
    self->stopped = 1;
    self->waiting.len = 0;
    Py_RETURN_NONE;
}

static PyObject *crews_export(Crews *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || i >= CREWS_BUFS) {
        PyErr_SetString(PyExc_IndexError, "netcore: no such buffer");
        return NULL;
    }
    return bytes_of(&self->bufs[i]);
}

static PyObject *crews_get_repairs(Crews *self, void *c) {
    return PyLong_FromLongLong(self->repairs);
}
static PyObject *crews_get_failures(Crews *self, void *c) {
    return PyLong_FromSsize_t(self->bufs[LOG_VILLAGE].len);
}

static PyGetSetDef crews_getset[] = {
    {"repairs", (getter)crews_get_repairs, NULL, "repairs finished", NULL},
    {"failures", (getter)crews_get_failures, NULL, "failures so far (the log's rows)", NULL},
    {NULL}};

static PyMethodDef crews_methods[] = {
    {"start", (PyCFunction)crews_start, METH_O, "start(v): site v's failure clock starts"},
    {"fail", (PyCFunction)crews_fail, METH_O, "fail(v) -> log row: MaintenanceCrews._fail"},
    {"on_failure", (PyCFunction)crews_on_failure, METH_O, "a failure timeout's callback"},
    {"on_repaired", (PyCFunction)crews_on_repaired, METH_O, "a repair timeout's callback"},
    {"on_wake", (PyCFunction)crews_on_wake, METH_O, "a dispatch timeout's callback"},
    {"stop", (PyCFunction)crews_stop, METH_NOARGS, "stop(): no more repairs started"},
    {"export", (PyCFunction)crews_export, METH_O, "export(i) -> bytes of buffer i"},
    {NULL}};

static PyTypeObject CrewsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rollout_sim._netcore.Crews",
    .tp_basicsize = sizeof(Crews),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The maintenance crews' failure and repair cycle (see rollout_sim.model.maintenance).",
    .tp_init = (initproc)crews_init,
    .tp_dealloc = (destructor)crews_dealloc,
    .tp_traverse = (traverseproc)crews_traverse,
    .tp_clear = (inquiry)crews_clear,
    .tp_methods = crews_methods,
    .tp_getset = crews_getset,
};

/* --- the siting queue's heap ------------------------------------------------------------------
 *
 * rollout_sim.model.siting's lazy-greedy heap of candidates, (-priority, tiebreak, village,
 * version), as a Python object over the entries above: heapq over a list of tuples compares
 * Python objects scattered in memory, ~3 us an operation at 192,000 villages against ~1 us at
 * 12,000, the largest part of the simulation's growth beyond linear. */

typedef struct {
    PyObject_HEAD
    Entries h;
} Heap;

static void heap_dealloc(Heap *self) {
    PyMem_Free(self->h.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Heap(negp, tiebreak, village, version): float64, float64, int64, int64 arrays of one length */
static int heap_init(Heap *self, PyObject *args, PyObject *kwds) {
    PyObject *objs[4];
    Py_buffer views[4] = {{0}};
    if (!PyArg_ParseTuple(args, "OOOO:Heap", &objs[0], &objs[1], &objs[2], &objs[3])) return -1;
    if (self->h.size == 0) buf_init(&self->h, sizeof(Entry)); /* not on a second __init__ */
    self->h.len = 0;
    int failed = get_buf(objs[0], &views[0], 8, -1, 0, "negp") < 0;
    Py_ssize_t n = failed ? 0 : views[0].len / 8;
    const char *names[] = {"negp", "tiebreak", "village", "version"};
    for (int i = 1; i < 4 && !failed; i++) failed = get_buf(objs[i], &views[i], 8, n, 0, names[i]) < 0;
    if (!failed && buf_reserve(&self->h, n > 0 ? n : 1) < 0) failed = 1;
    if (!failed) {
        const double *a = views[0].buf, *b = views[1].buf;
        const int64_t *v = views[2].buf, *ver = views[3].buf;
        for (Py_ssize_t i = 0; i < n; i++) ENTRY(&self->h)[i] = (Entry){a[i], b[i], v[i], ver[i]};
        self->h.len = n;
        entries_heapify(&self->h);
    }
    for (int i = 0; i < 4; i++)
        if (views[i].obj != NULL) PyBuffer_Release(&views[i]);
    return failed ? -1 : 0;
}

static int parse_entry(PyObject *const *args, Py_ssize_t nargs, Entry *x) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "netcore: an entry is (negp, tiebreak, village, version)");
        return -1;
    }
    x->k1 = PyFloat_AsDouble(args[0]);
    x->k2 = PyFloat_AsDouble(args[1]);
    x->v = PyLong_AsLongLong(args[2]);
    x->tag = PyLong_AsLongLong(args[3]);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *entry_tuple(const Entry *t) {
    return Py_BuildValue("(ddLL)", t->k1, t->k2, (long long)t->v, (long long)t->tag);
}

static PyObject *heap_push(Heap *self, PyObject *const *args, Py_ssize_t nargs) {
    Entry x;
    if (parse_entry(args, nargs, &x) < 0 || entries_push(&self->h, x) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *heap_top(Heap *self, PyObject *Py_UNUSED(ignored)) {
    if (self->h.len == 0) Py_RETURN_NONE;
    return entry_tuple(&ENTRY(&self->h)[0]);
}

static PyObject *heap_pop(Heap *self, PyObject *Py_UNUSED(ignored)) {
    if (self->h.len == 0) {
        PyErr_SetString(PyExc_IndexError, "netcore: pop from an empty heap");
        return NULL;
    }
    entries_pop(&self->h);
    Py_RETURN_NONE;
}

static PyObject *heap_replace(Heap *self, PyObject *const *args, Py_ssize_t nargs) {
    Entry x;
    if (parse_entry(args, nargs, &x) < 0) return NULL;
    if (self->h.len == 0) {
        PyErr_SetString(PyExc_IndexError, "netcore: replace in an empty heap");
        return NULL;
    }
    ENTRY(&self->h)[0] = x;
    entries_sift_down(&self->h, 0);
    Py_RETURN_NONE;
}

/* compact(version, eligible): keep the entries whose version is their village's and whose
 * village is still eligible (int64 and bool arrays indexed by village), then heapify. */
static PyObject *heap_compact(Heap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "compact(version, eligible)");
        return NULL;
    }
    Py_buffer bv = {0}, be = {0};
    if (get_buf(args[0], &bv, 8, -1, 0, "version") < 0) return NULL;
    if (get_buf(args[1], &be, 1, bv.len / 8, 0, "eligible") < 0) {
        PyBuffer_Release(&bv);
        return NULL;
    }
    const int64_t *version = bv.buf;
    const unsigned char *eligible = be.buf;
    Entries *h = &self->h;
    Py_ssize_t m = bv.len / 8, k = 0;
    for (Py_ssize_t i = 0; i < h->len; i++) {
        Entry *x = &ENTRY(h)[i];
        if (x->v < 0 || x->v >= m) {
            PyBuffer_Release(&bv);
            PyBuffer_Release(&be);
            PyErr_SetString(PyExc_IndexError, "netcore: a heap entry's village is out of range");
            return NULL;
        }
        if (x->tag == version[x->v] && eligible[x->v]) ENTRY(h)[k++] = *x;
    }
    PyBuffer_Release(&bv);
    PyBuffer_Release(&be);
    h->len = k;
    entries_heapify(h);
    Py_RETURN_NONE;
}

static PyObject *heap_entries(Heap *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New(self->h.len);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < self->h.len; i++) {
        PyObject *x = entry_tuple(&ENTRY(&self->h)[i]);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, x);
    }
    return out;
}

static Py_ssize_t heap_len(Heap *self) { return self->h.len; }

static PySequenceMethods heap_as_sequence = {.sq_length = (lenfunc)heap_len};

static PyMethodDef heap_methods[] = {
    {"push", (PyCFunction)(void (*)(void))heap_push, METH_FASTCALL,
     "push(negp, tiebreak, village, version): heapq.heappush"},
    {"top", (PyCFunction)heap_top, METH_NOARGS, "top() -> the smallest entry, or None"},
    {"pop", (PyCFunction)heap_pop, METH_NOARGS, "pop(): remove the smallest entry"},
    {"replace", (PyCFunction)(void (*)(void))heap_replace, METH_FASTCALL,
     "replace(negp, tiebreak, village, version): heapq.heapreplace"},
    {"compact", (PyCFunction)(void (*)(void))heap_compact, METH_FASTCALL,
     "compact(version, eligible): drop superseded entries"},
    {"entries", (PyCFunction)heap_entries, METH_NOARGS, "entries() -> every entry, heap order"},
    {NULL}};

static PyTypeObject HeapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rollout_sim._netcore.Heap",
    .tp_basicsize = sizeof(Heap),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The siting queue's lazy-greedy heap (see rollout_sim.model.siting).",
    .tp_init = (initproc)heap_init,
    .tp_dealloc = (destructor)heap_dealloc,
    .tp_methods = heap_methods,
    .tp_as_sequence = &heap_as_sequence,
};

static struct PyModuleDef netcore_module = {PyModuleDef_HEAD_INIT, "_netcore",
                                            "The model's compiled core: outages, maintenance crews, the siting heap.", -1, NULL};

PyMODINIT_FUNC PyInit__netcore(void) {
    /* Set here, not in the static initialiser: on Windows a function imported from the Python
     * DLL is not an address constant. */
    CoreType.tp_new = PyType_GenericNew;
    CoreType.tp_free = PyObject_GC_Del;
    CrewsType.tp_new = PyType_GenericNew;
    CrewsType.tp_free = PyObject_GC_Del;
    HeapType.tp_new = PyType_GenericNew;
    HeapType.tp_free = PyObject_Del;
    if (PyType_Ready(&CoreType) < 0 || PyType_Ready(&CrewsType) < 0 ||
        PyType_Ready(&HeapType) < 0)
        return NULL;
    if (!(str_now = PyUnicode_InternFromString("now")) ||
        !(str_timeout = PyUnicode_InternFromString("timeout")) ||
        !(str_callbacks = PyUnicode_InternFromString("callbacks")) ||
        !(str_value = PyUnicode_InternFromString("value")) ||
        !(str_peek = PyUnicode_InternFromString("peek")) ||
        !(str_succeed = PyUnicode_InternFromString("succeed")))
        return NULL;
    PyObject *m = PyModule_Create(&netcore_module);
    if (m == NULL) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&CrewsType);
    if (PyModule_AddObject(m, "Crews", (PyObject *)&CrewsType) < 0) {
        Py_DECREF(&CrewsType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&HeapType);
    if (PyModule_AddObject(m, "Heap", (PyObject *)&HeapType) < 0) {
        Py_DECREF(&HeapType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
