/*
 * query.c: conditions (Player.level >= 50), queries (Player.where(...))
 * and scans (iter(Player), iter(query)).  A query keeps its conditions as
 * Python objects and compiles them into rs_cond each time it runs, so the
 * filter is evaluated in C by the library's scans, under the library's
 * guarantee for writes between two steps.
 *
 * An open scan holds an rs_scan, which rs_store_close() frees with its
 * store: open scans are on their store's list, which store.close() walks
 * (rs_py_scans_forget()).
 */
#include "roster_py.h"

#include <string.h>

typedef struct CondObject {
    PyObject_HEAD ClassObject *owner;
    rs_field f;
    rs_op op;
    PyObject *name;
    PyObject *value;
} CondObject;

PyObject *rs_py_cond_make(ClassObject *owner, rs_field f, PyObject *name,
                          rs_op op, PyObject *value)
{
    PyTypeObject *tp = owner->store->state->cond_type;
    CondObject *c = (CondObject *)tp->tp_alloc(tp, 0);
    if (c == NULL) {
        return NULL;
    }
    c->owner = (ClassObject *)Py_NewRef(owner);
    c->f = f;
    c->op = op;
    c->name = Py_NewRef(name);
    c->value = Py_NewRef(value);
    return (PyObject *)c;
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                                */
/* ------------------------------------------------------------------------ */

static const char *const op_names[] = {
    "==", "!=", "<", "<=", ">", ">=", "startswith"};

static PyObject *cond_repr(PyObject *self)
{
    CondObject *c = (CondObject *)self;
    return PyUnicode_FromFormat("<roster condition %s.%U %s %R>",
                                ((PyTypeObject *)c->owner)->tp_name, c->name,
                                op_names[c->op], c->value);
}

static int cond_bool(PyObject *self)
{
    (void)self;
    PyErr_SetString(PyExc_TypeError,
                    "a roster condition has no truth value: pass it to "
                    "where(); combine conditions as where(a, b)");
    return -1;
}

static void cond_dealloc(PyObject *self)
{
    CondObject *c = (CondObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(c->owner);
    Py_XDECREF(c->name);
    Py_XDECREF(c->value);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot cond_slots[] = {
    {Py_tp_doc, "A condition of a scan: Player.level >= 50."},
    {Py_tp_repr, cond_repr},
    {Py_nb_bool, cond_bool},
    {Py_tp_dealloc, cond_dealloc},
    {0, NULL},
};

PyType_Spec rs_py_cond_spec = {
    .name = "roster.Condition",
    .basicsize = sizeof(CondObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = cond_slots,
};

/* ------------------------------------------------------------------------ */
/* Queries and scans                                                         */
/* ------------------------------------------------------------------------ */

/* Player.where(...): conditions kept as Python objects and compiled into
 * rs_cond each time the query runs (the library copies what it keeps). */
typedef struct QueryObject {
    PyObject_HEAD ClassObject *owner;
    PyObject *conds; /* tuple of CondObject */
} QueryObject;

typedef struct ScanObject {
    PyObject_HEAD ClassObject *owner;
    rs_scan *sc; /* NULL once done */
    /* While sc is open: the store's list of open scans, which close()
     * walks, since rs_store_close() frees every rs_scan of the store. */
    struct ScanObject *prev, *next;
} ScanObject;

static void scan_link(ScanObject *it)
{
    StoreObject *s = it->owner->store;
    it->prev = NULL;
    it->next = s->scans;
    if (s->scans != NULL) {
        s->scans->prev = it;
    }
    s->scans = it;
}

/* rs_scan_close() of it's scan, which leaves the store's list. */
static void scan_finish(ScanObject *it)
{
    if (it->sc == NULL) {
        return;
    }
    StoreObject *s = it->owner->store;
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        s->scans = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    }
    it->prev = it->next = NULL;
    rs_scan_close(it->sc);
    it->sc = NULL;
}

void rs_py_scans_forget(StoreObject *s)
{
    while (s->scans != NULL) {
        ScanObject *it = s->scans;
        s->scans = it->next;
        it->prev = it->next = NULL;
        it->sc = NULL; /* freed by rs_store_close() */
    }
}

/* rs_cond for every condition of q into *out (PyMem, the caller frees):
 * 0; 1 if q names a dynamic attribute no record of the store has bound,
 * so that it matches none (nothing in *out then); -1 with an error.
 * String operands borrow from q's objects.  A dynamic attribute's number
 * is looked up again at each run (rs_attr_find(), which never interns):
 * a name bound since the query was made then matches, and no number is
 * kept that a group's rollback may have given back to the store. */
static int query_conds(QueryObject *q, rs_cond **out, size_t *n)
{
    Py_ssize_t k = PyTuple_GET_SIZE(q->conds);
    rs_cond *cs = PyMem_Calloc((size_t)k + 1, sizeof *cs);
    if (cs == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        CondObject *c = (CondObject *)PyTuple_GET_ITEM(q->conds, i);
        const char *fname = PyUnicode_AsUTF8(c->name);
        if (fname == NULL ||
            rs_py_to_value(c->value, ((PyTypeObject *)q->owner)->tp_name, fname,
                           &cs[i].val) < 0) {
            PyMem_Free(cs);
            return -1;
        }
        cs[i].field = c->f;
        cs[i].op = c->op;
        if (c->f < 0 || c->f >= RS_ATTR_BASE) {
            rs_store *st = q->owner->store->st;
            rs_status rc = rs_attr_find(st, q->owner->cls, fname, &cs[i].field);
            if (rc != RS_OK) {
                PyMem_Free(cs);
                if (rc == RS_ENOATTR) {
                    return 1;
                }
                rs_py_raise(q->owner->store, rc);
                return -1;
            }
        }
    }
    *out = cs;
    *n = (size_t)k;
    return 0;
}

static PyObject *scan_open(ClassObject *c, QueryObject *q)
{
    /* A query that matches nothing never reaches the library below, which
     * would refuse a closed store. */
    if (rs_py_check_open(c->store) < 0) {
        return NULL;
    }
    PyTypeObject *tp = c->store->state->scan_type;
    ScanObject *it = (ScanObject *)tp->tp_alloc(tp, 0);
    if (it == NULL) {
        return NULL;
    }
    it->owner = (ClassObject *)Py_NewRef(c);
    rs_cond *cs = NULL;
    size_t n = 0;
    int none = q != NULL ? query_conds(q, &cs, &n) : 0;
    if (none < 0) {
        Py_DECREF(it);
        return NULL;
    }
    if (none) {
        return (PyObject *)it;
    }
    rs_status rc = rs_scan_open(c->store->st, c->cls, cs, n, &it->sc);
    PyMem_Free(cs);
    if (rc != RS_OK) {
        it->sc = NULL;
        Py_DECREF(it);
        return rs_py_raise(c->store, rc);
    }
    scan_link(it);
    return (PyObject *)it;
}

/* Next matching record.  rs_scan_next() keeps the library's guarantee
 * under writes between two calls: every record present and matching from
 * start to end is returned once; every record returned is live and
 * matches when it is returned. */
static PyObject *scan_next(PyObject *self)
{
    ScanObject *it = (ScanObject *)self;
    if (it->sc == NULL) {
        /* Done, or its store closed under it. */
        rs_py_check_open(it->owner->store);
        return NULL;
    }
    rs_handle h;
    rs_status rc = rs_scan_next(it->sc, &h);
    if (rc == RS_OK) {
        return rs_py_proxy(it->owner, h);
    }
    scan_finish(it);
    if (rc == RS_DONE) {
        return NULL;
    }
    return rs_py_raise(it->owner->store, rc);
}

static void scan_dealloc(PyObject *self)
{
    ScanObject *it = (ScanObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    scan_finish(it);
    Py_XDECREF(it->owner);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot scan_slots[] = {
    {Py_tp_doc, "An iterator over the records of a class or a query."},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, scan_next},
    {Py_tp_dealloc, scan_dealloc},
    {0, NULL},
};

PyType_Spec rs_py_scan_spec = {
    .name = "roster.Scan",
    .basicsize = sizeof(ScanObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = scan_slots,
};

static PyObject *query_iter(PyObject *self)
{
    QueryObject *q = (QueryObject *)self;
    return scan_open(q->owner, q);
}

/* count(): the matches, by rs_scan_batch() in steps of 64K slots; no
 * proxy is made. */
static PyObject *query_count(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    QueryObject *q = (QueryObject *)self;
    if (rs_py_check_open(q->owner->store) < 0) {
        return NULL; /* as the library would, for a query that matches none */
    }
    rs_cond *cs;
    size_t n;
    int none = query_conds(q, &cs, &n);
    if (none != 0) {
        return none < 0 ? NULL : PyLong_FromLong(0);
    }
    rs_handle out[1024];
    uint64_t cursor = 0;
    size_t total = 0;
    for (;;) {
        size_t got;
        uint64_t next;
        rs_status rc = rs_scan_batch(q->owner->store->st, q->owner->cls, cs, n,
                                     cursor, 1u << 16, out, 1024, &got, &next);
        if (rc != RS_OK) {
            PyMem_Free(cs);
            return rs_py_raise(q->owner->store, rc);
        }
        total += got;
        if (next == 0) {
            break;
        }
        cursor = next;
    }
    PyMem_Free(cs);
    return PyLong_FromSize_t(total);
}

static PyObject *query_first(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    PyObject *it = query_iter(self);
    if (it == NULL) {
        return NULL;
    }
    PyObject *r = scan_next(it);
    Py_DECREF(it);
    if (r == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return r;
}

static PyObject *query_repr(PyObject *self)
{
    QueryObject *q = (QueryObject *)self;
    return PyUnicode_FromFormat("<roster query %s.where%R>",
                                ((PyTypeObject *)q->owner)->tp_name, q->conds);
}

static void query_dealloc(PyObject *self)
{
    QueryObject *q = (QueryObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(q->owner);
    Py_XDECREF(q->conds);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef query_methods[] = {
    {"count", query_count, METH_NOARGS,
     "count() -> int: the matching records, counted in C"},
    {"first", query_first, METH_NOARGS,
     "first() -> record or None: the first match in slot order"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot query_slots[] = {
    {Py_tp_doc, "Player.where(...): iterate it for the matching records, "
                "or count() them."},
    {Py_tp_iter, query_iter},
    {Py_tp_methods, query_methods},
    {Py_tp_repr, query_repr},
    {Py_tp_dealloc, query_dealloc},
    {0, NULL},
};

PyType_Spec rs_py_query_spec = {
    .name = "roster.Query",
    .basicsize = sizeof(QueryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = query_slots,
};

PyObject *rs_py_scan_open(ClassObject *c)
{
    return scan_open(c, NULL);
}

static const struct {
    const char *suffix;
    rs_op op;
} op_suffixes[] = {
    {"eq", RS_EQ},
    {"ne", RS_NE},
    {"lt", RS_LT},
    {"le", RS_LE},
    {"gt", RS_GT},
    {"ge", RS_GE},
    {"startswith", RS_PREFIX},
    {"prefix", RS_PREFIX},
};

/* where(Player.level >= 50, stat=1, name__startswith='To') -> a query.
 * Keyword names are field or attribute names, with __eq, __ne, __lt,
 * __le, __gt, __ge, __startswith (or __prefix) for the operator. */
PyObject *rs_py_where(ClassObject *c, PyObject *args, PyObject *kw)
{
    rs_py_state *S = c->store->state;
    Py_ssize_t na = PyTuple_GET_SIZE(args);
    Py_ssize_t nk = kw ? PyDict_GET_SIZE(kw) : 0;
    PyObject *conds = PyTuple_New(na + nk);
    if (conds == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < na; i++) {
        PyObject *a = PyTuple_GET_ITEM(args, i);
        if (!Py_IS_TYPE(a, S->cond_type) ||
            ((CondObject *)a)->owner->cls != c->cls) {
            Py_DECREF(conds);
            PyErr_Format(PyExc_TypeError,
                         "%s.where(): a positional argument is a condition "
                         "on %s, such as %s.level >= 50, not %R",
                         ((PyTypeObject *)c)->tp_name,
                         ((PyTypeObject *)c)->tp_name,
                         ((PyTypeObject *)c)->tp_name, a);
            return NULL;
        }
        PyTuple_SET_ITEM(conds, i, Py_NewRef(a));
    }
    Py_ssize_t pos = 0, i = na;
    PyObject *key, *value;
    while (kw && PyDict_Next(kw, &pos, &key, &value)) {
        /* Not PyUnicode_AsUTF8() alone: a NUL in the keyword would cut
         * the name short, to another field's ('level\0x' as 'level'). */
        const char *k;
        int ok = rs_py_utf8_name(key, &k);
        if (ok <= 0) {
            Py_DECREF(conds);
            if (ok == 0) {
                PyErr_Format(PyExc_TypeError,
                             "%s.where(): %R is not a field or attribute "
                             "name",
                             ((PyTypeObject *)c)->tp_name, key);
            }
            return NULL;
        }
        char name[RS_MAX_NAME + 16];
        snprintf(name, sizeof name, "%s", k);
        rs_op op = RS_EQ;
        char *sep = strstr(name, "__");
        while (sep != NULL && strstr(sep + 2, "__") != NULL) {
            sep = strstr(sep + 2, "__");
        }
        int matched = 0;
        if (sep != NULL && sep != name) {
            for (size_t j = 0; j < sizeof op_suffixes / sizeof op_suffixes[0];
                 j++) {
                if (strcmp(sep + 2, op_suffixes[j].suffix) == 0) {
                    op = op_suffixes[j].op;
                    *sep = '\0';
                    matched = 1;
                    break;
                }
            }
        }
        rs_field f;
        rs_status rc = rs_attr_find(c->store->st, c->cls, name, &f);
        if (rc == RS_ENOATTR && sep != NULL && sep != name && !matched) {
            /* level__gte: a field (or a bound attribute) and an operator
             * misspelt, which would otherwise name an attribute no record
             * has, and match nothing without a word. */
            rs_field pf;
            *sep = '\0';
            int known = rs_attr_find(c->store->st, c->cls, name, &pf) == RS_OK;
            *sep = '_';
            if (known) {
                Py_DECREF(conds);
                PyErr_Format(PyExc_TypeError,
                             "%s.where(): unknown operator '%s' in %R (eq, "
                             "ne, lt, le, gt, ge, startswith, prefix)",
                             ((PyTypeObject *)c)->tp_name, sep + 2, key);
                return NULL;
            }
        }
        if (rc == RS_ENOATTR && c->dynamic) {
            f = -1; /* no record has bound it yet: looked up at each run */
        } else if (rc != RS_OK) {
            Py_DECREF(conds);
            return rs_py_raise(c->store, rc);
        }
        PyObject *fname = PyUnicode_FromString(name);
        PyObject *cond = fname ? rs_py_cond_make(c, f, fname, op, value) : NULL;
        Py_XDECREF(fname);
        if (cond == NULL) {
            Py_DECREF(conds);
            return NULL;
        }
        PyTuple_SET_ITEM(conds, i++, cond);
    }
    PyTypeObject *tp = S->query_type;
    QueryObject *q = (QueryObject *)tp->tp_alloc(tp, 0);
    if (q == NULL) {
        Py_DECREF(conds);
        return NULL;
    }
    q->owner = (ClassObject *)Py_NewRef(c);
    q->conds = conds;
    /* Check the conditions now, so a bad one fails at where(). */
    rs_cond *cs;
    size_t n;
    int none = query_conds(q, &cs, &n);
    if (none < 0) {
        Py_DECREF(q);
        return NULL;
    }
    if (none == 0) {
        rs_handle h;
        size_t got;
        uint64_t next;
        rs_status rc = rs_scan_batch(c->store->st, c->cls, cs, n, 0, 1, &h, 1,
                                     &got, &next);
        PyMem_Free(cs);
        if (rc != RS_OK) {
            Py_DECREF(q);
            return rs_py_raise(c->store, rc);
        }
    }
    return (PyObject *)q;
}
