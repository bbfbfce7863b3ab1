/*
 * class.c: roster.RecordType, the metaclass of declared classes, the
 * field descriptors, and the class-level API (where() and the scans are
 * query.c's).
 *
 * A declared class is an ordinary heap type made by type.__new__ (so it
 * has a __module__, a __qualname__, methods from its body), derived from
 * roster.Record alone, with metatype RecordType, whose instances are a
 * ClassObject: the heap type plus its store, its rs_class and one
 * FieldInfo a field.  Then:
 *
 *   - each declared field gets a data descriptor (a FieldObject) in the
 *     class dict, so p.level is one dict probe in the type cache and one
 *     typed library read, as a __slots__ member is;
 *   - a dynamic class gets __weakref__ (from __slots__ = ('__weakref__',))
 *     and a __dict__ getset; a class that is not dynamic gets
 *     __slots__ = (its field names) as a plain class attribute, which
 *     reserves nothing in the proxy;
 *   - Py_TPFLAGS_HAVE_GC is cleared on the new type: a proxy holds its
 *     class and a handle, never a container, so it cannot be part of a
 *     cycle, and without the GC header and tracking a proxy is 32 bytes
 *     and sys.getsizeof() reports exactly what __sizeof__ says (the
 *     record's deep size).  roster.Record's tp_dealloc clears weakrefs
 *     itself, since subtype_dealloc's non-GC path does not.
 *
 * Classes cannot be subclassed further (a proxy's class is the class of
 * its record).
 */
#include "roster_py.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Field descriptors                                                         */
/* ------------------------------------------------------------------------ */

PyObject *rs_py_field_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    FieldObject *d = (FieldObject *)self;
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    if (!PyObject_TypeCheck(obj, (PyTypeObject *)d->owner)) {
        PyErr_Format(PyExc_TypeError,
                     "descriptor '%U' for '%s' objects doesn't apply to a "
                     "'%.100s' object",
                     d->owner->fields[d->index].name,
                     ((PyTypeObject *)d->owner)->tp_name,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return rs_py_record_get((RecordObject *)obj, d);
}

int rs_py_field_set(PyObject *self, PyObject *obj, PyObject *value)
{
    FieldObject *d = (FieldObject *)self;
    if (!PyObject_TypeCheck(obj, (PyTypeObject *)d->owner)) {
        PyErr_Format(PyExc_TypeError,
                     "descriptor '%U' for '%s' objects doesn't apply to a "
                     "'%.100s' object",
                     d->owner->fields[d->index].name,
                     ((PyTypeObject *)d->owner)->tp_name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    return rs_py_record_set((RecordObject *)obj, d, value);
}

static PyObject *field_richcompare(PyObject *a, PyObject *b, int op)
{
    static const rs_op ops[] = {
        [Py_LT] = RS_LT, [Py_LE] = RS_LE, [Py_EQ] = RS_EQ,
        [Py_NE] = RS_NE, [Py_GT] = RS_GT, [Py_GE] = RS_GE,
    };
    FieldObject *d = (FieldObject *)a;
    FieldInfo *fi = &d->owner->fields[d->index];
    return rs_py_cond_make(d->owner, fi->f, fi->name, ops[op], b);
}

static PyObject *field_startswith(PyObject *self, PyObject *prefix)
{
    FieldObject *d = (FieldObject *)self;
    FieldInfo *fi = &d->owner->fields[d->index];
    return rs_py_cond_make(d->owner, fi->f, fi->name, RS_PREFIX, prefix);
}

static PyObject *field_repr(PyObject *self)
{
    FieldObject *d = (FieldObject *)self;
    FieldInfo *fi = &d->owner->fields[d->index];
    return PyUnicode_FromFormat("<roster field %s.%U: %s%s%s>",
                                ((PyTypeObject *)d->owner)->tp_name, fi->name,
                                rs_type_name(fi->type),
                                fi->flags & RS_FIELD_KEY ? " key" : "",
                                fi->flags & RS_FIELD_UNIQUE ? " unique" : "");
}

static Py_hash_t field_hash(PyObject *self)
{
    return _Py_HashPointer(self);
}

static int field_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((FieldObject *)self)->owner);
    return 0;
}

static int field_clear(PyObject *self)
{
    (void)self;
    /* The owner is kept: a descriptor reaches its class's fields. */
    return 0;
}

static void field_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_CLEAR(((FieldObject *)self)->owner);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *field_get_name(PyObject *self, void *closure)
{
    (void)closure;
    FieldObject *d = (FieldObject *)self;
    return Py_NewRef(d->owner->fields[d->index].name);
}

static PyMethodDef field_methods[] = {
    {"startswith", field_startswith, METH_O,
     "startswith(prefix) -> condition for where(): the string field starts "
     "with prefix"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef field_getset[] = {
    {"__name__", field_get_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot field_slots[] = {
    {Py_tp_doc, "A declared field: reads and writes the record's value; on "
                "the class, Player.level >= 50 is a condition for where()."},
    {Py_tp_descr_get, rs_py_field_get},
    {Py_tp_descr_set, rs_py_field_set},
    {Py_tp_richcompare, field_richcompare},
    {Py_tp_hash, field_hash},
    {Py_tp_repr, field_repr},
    {Py_tp_methods, field_methods},
    {Py_tp_getset, field_getset},
    {Py_tp_traverse, field_traverse},
    {Py_tp_clear, field_clear},
    {Py_tp_dealloc, field_dealloc},
    {0, NULL},
};

PyType_Spec rs_py_field_spec = {
    .name = "roster.Field",
    .basicsize = sizeof(FieldObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = field_slots,
};

/* ------------------------------------------------------------------------ */
/* The class-level API                                                       */
/* ------------------------------------------------------------------------ */

/* 1 for a declared class of an open store; else 0 with TypeError (roster.Record
 * itself) or roster.ClosedError (store.close() has run: cls is NULL then
 * too). */
static int declared(ClassObject *c)
{
    if (c->store != NULL && rs_py_check_open(c->store) < 0) {
        return 0;
    }
    if (c->cls == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "roster.Record is the base of declared classes: "
                        "class Player(roster.Record, store=st): ...");
        return 0;
    }
    return 1;
}

/* The record whose field f holds key: 1 and *h, 0 if none, -1 on error. */
static int find_one(ClassObject *c, rs_field f, PyObject *key, rs_handle *h)
{
    rs_value v;
    char sbuf[256];
    rs_py_scratch sc = {sbuf, sizeof sbuf, 0};
    if (f < 0 || f >= c->n_fields) {
        PyErr_SetString(PyExc_SystemError, "roster: bad field");
        return -1;
    }
    if (rs_py_to_value_sc(key, ((PyTypeObject *)c)->tp_name, c->fields[f].cname,
                          &v, &sc) < 0) {
        return -1;
    }
    rs_status rc = rs_find(c->store->st, c->cls, f, &v, h);
    if (rc == RS_OK) {
        return 1;
    }
    if (rc == RS_ENOTFOUND) {
        return 0;
    }
    rs_py_raise(c->store, rc);
    return -1;
}

static PyObject *meta_subscript(PyObject *self, PyObject *key)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    rs_handle h;
    int r = find_one(c, c->key, key, &h);
    if (r == 0) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    return r > 0 ? rs_py_proxy(c, h) : NULL;
}

static int meta_ass_subscript(PyObject *self, PyObject *key, PyObject *v)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return -1;
    }
    if (v != NULL) {
        PyErr_Format(PyExc_TypeError,
                     "'%s' records are inserted by calling the class: "
                     "%s(...)",
                     ((PyTypeObject *)c)->tp_name,
                     ((PyTypeObject *)c)->tp_name);
        return -1;
    }
    rs_handle h;
    int r = find_one(c, c->key, key, &h);
    if (r == 0) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    if (r <= 0) {
        return -1;
    }
    rs_status rc = rs_remove(c->store->st, h);
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        return -1;
    }
    return 0;
}

static Py_ssize_t meta_length(PyObject *self)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return -1;
    }
    return (Py_ssize_t)rs_count(c->cls);
}

/* `x in Player`: a proxy of this class that is live, or a key present. */
static int meta_contains(PyObject *self, PyObject *x)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return -1;
    }
    if (Py_TYPE(x) == (PyTypeObject *)c) {
        return rs_check(c->store->st, ((RecordObject *)x)->h) == RS_OK;
    }
    rs_handle h;
    int r = find_one(c, c->key, x, &h);
    /* A value no key can hold (another type, out of range, a str with a
     * lone surrogate) is simply not in the class. */
    if (r < 0 && (PyErr_ExceptionMatches(PyExc_TypeError) ||
                  PyErr_ExceptionMatches(PyExc_OverflowError) ||
                  PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))) {
        PyErr_Clear();
        return 0;
    }
    return r;
}

/* A class is true, as every class is, even while it holds no record:
 * without this, bool() would fall back on len(), so `if Player:` would
 * depend on its count, and raise for roster.Record or a closed store
 * (help(roster) does `if cls:`). */
static int meta_bool(PyObject *self)
{
    (void)self;
    return 1;
}

static PyObject *meta_iter(PyObject *self)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    return rs_py_scan_open(c);
}

/* get(key, default=None): default by position or by keyword. */
static PyObject *meta_get(PyObject *self, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    PyObject *dflt = nargs > 1 ? args[1] : Py_None;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) {
        if (nargs != 1 || PyTuple_GET_SIZE(kwnames) != 1 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                             "default") != 0) {
            PyErr_Format(PyExc_TypeError,
                         "%s.get(key, default=None): one key, and a "
                         "default by position or as default=",
                         ((PyTypeObject *)c)->tp_name);
            return NULL;
        }
        dflt = args[1];
    }
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError,
                     "%s.get(key, default=None): one key, and a default by "
                     "position or as default=",
                     ((PyTypeObject *)c)->tp_name);
        return NULL;
    }
    rs_handle h;
    int r = find_one(c, c->key, args[0], &h);
    if (r < 0) {
        return NULL;
    }
    if (r == 0) {
        return Py_NewRef(dflt);
    }
    return rs_py_proxy(c, h);
}

/* The field called name (a str) of c: its number, or -1 with an error. */
static rs_field field_named(ClassObject *c, PyObject *name)
{
    for (Py_ssize_t i = 0; i < c->n_fields; i++) {
        if (c->fields[i].name == name) {
            return c->fields[i].f;
        }
    }
    for (Py_ssize_t i = 0; i < c->n_fields; i++) {
        int eq = PyUnicode_Compare(c->fields[i].name, name);
        if (eq == 0) {
            return c->fields[i].f;
        }
        if (eq == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    PyErr_Format(PyExc_AttributeError, "'%s' has no field '%U'",
                 ((PyTypeObject *)c)->tp_name, name);
    return -1;
}

/* find(name='Tom') -> the record whose key or unique field holds the
 * value, or None.  Vectorcall with the keyword's name in kwnames: no
 * dict is made for it. */
static PyObject *meta_find(PyObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    if (nargs != 0 || kwnames == NULL || PyTuple_GET_SIZE(kwnames) != 1) {
        PyErr_Format(PyExc_TypeError,
                     "%s.find() takes one keyword argument: a key or unique "
                     "field and its value",
                     ((PyTypeObject *)c)->tp_name);
        return NULL;
    }
    PyObject *name = PyTuple_GET_ITEM(kwnames, 0), *value = args[0];
    rs_field f = field_named(c, name);
    if (f < 0) {
        return NULL;
    }
    rs_handle h;
    int r = find_one(c, f, value, &h);
    if (r < 0) {
        return NULL;
    }
    if (r == 0) {
        Py_RETURN_NONE;
    }
    return rs_py_proxy(c, h);
}

/* get_many(keys, field=None) -> [record or None, ...]: one rs_find_many()
 * over the key (or the named unique field). */
static PyObject *meta_get_many(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"keys", "field", NULL};
    ClassObject *c = (ClassObject *)self;
    PyObject *keys, *fname = NULL;
    if (!declared(c) || !PyArg_ParseTupleAndKeywords(args, kw, "O|U:get_many",
                                                     kwlist, &keys, &fname)) {
        return NULL;
    }
    rs_field f = c->key;
    if (fname != NULL && (f = field_named(c, fname)) < 0) {
        return NULL;
    }
    /* The field's name for messages is the class's own copy: keys may be
     * a generator, whose code may close the store. */
    const char *cname = c->fields[f].cname;
    PyObject *seq = PySequence_Fast(keys, "get_many() needs an iterable");
    if (seq == NULL) {
        return NULL;
    }
    if (rs_py_check_open(c->store) < 0) {
        Py_DECREF(seq); /* closed by the keys' own code */
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    rs_value *vals = PyMem_Calloc((size_t)n + 1, sizeof *vals);
    rs_handle *hs = PyMem_Calloc((size_t)n + 1, sizeof *hs);
    PyObject *out = NULL;
    if (vals == NULL || hs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rs_py_to_value(PySequence_Fast_GET_ITEM(seq, i),
                           ((PyTypeObject *)c)->tp_name, cname, &vals[i]) < 0) {
            goto done;
        }
    }
    rs_status rc =
        rs_find_many(c->store->st, c->cls, f, vals, (size_t)n, hs, NULL);
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        goto done;
    }
    out = PyList_New(n);
    if (out == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = hs[i] == RS_NULL_HANDLE ? Py_NewRef(Py_None)
                                              : rs_py_proxy(c, hs[i]);
        if (p == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, p);
    }
done:
    PyMem_Free(vals);
    PyMem_Free(hs);
    Py_DECREF(seq);
    return out;
}

/* reserve(n): room for n records in all, so that a bulk load of a known
 * count grows no index on the way (rs_class_reserve()). */
static PyObject *meta_reserve(PyObject *self, PyObject *arg)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 0) {
        PyErr_Format(PyExc_ValueError,
                     "reserve() needs a count of 0 or more, not %zd", n);
        return NULL;
    }
    rs_status rc = rs_class_reserve(c->store->st, c->cls, (size_t)n);
    if (rc != RS_OK) {
        return rs_py_raise(c->store, rc);
    }
    Py_RETURN_NONE;
}

/* insert_many(rows) -> int: each row a tuple (fields in order) or a dict;
 * all or none, in one group (or in the group already open).  A list or a
 * tuple of rows has the indexes sized for it first. */
static PyObject *meta_insert_many(PyObject *self, PyObject *rows)
{
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    StoreObject *s = c->store;
    if (PyList_CheckExact(rows) || PyTuple_CheckExact(rows)) {
        /* Only a list's or a tuple's length is known for sure, without
         * calling user code, and their rows are already in memory, so the
         * reserve is in proportion to them.  Only a speed-up: a refusal
         * (inside a group, too many, no memory) is left for the inserts
         * themselves to report, as they would without it. */
        rs_status ignored = rs_class_reserve(
            s->st, c->cls, rs_count(c->cls) + (size_t)Py_SIZE(rows));
        (void)ignored;
    }
    PyObject *it = PyObject_GetIter(rows);
    if (it == NULL) {
        return NULL;
    }
    int own = !s->in_group;
    if (own) {
        rs_status rc = rs_group_begin(s->st);
        if (rc != RS_OK) {
            Py_DECREF(it);
            return rs_py_raise(s, rc);
        }
        s->in_group = 1;
    }
    /* The rows' code runs inside the group: it may not end it (see
     * StoreObject.batch). */
    PyObject *outer = Py_XNewRef(s->group);
    s->batch++;
    Py_ssize_t n = 0;
    PyObject *row;
    while ((row = PyIter_Next(it)) != NULL) {
        PyObject *p;
        if (PyDict_Check(row)) {
            PyObject *empty = PyTuple_New(0);
            p = empty ? PyObject_Call(self, empty, row) : NULL;
            Py_XDECREF(empty);
        } else if (PyTuple_Check(row)) {
            p = PyObject_Call(self, row, NULL);
        } else {
            PyErr_Format(PyExc_TypeError,
                         "insert_many(): a row is a tuple or a dict, not "
                         "'%.100s'",
                         Py_TYPE(row)->tp_name);
            p = NULL;
        }
        Py_DECREF(row);
        if (p == NULL) {
            break;
        }
        Py_DECREF(p);
        n++;
    }
    Py_DECREF(it);
    s->batch--;
    Py_XDECREF(outer); /* may end an abandoned group: after the rows */
    if (PyErr_Occurred()) {
        if (own) {
            rs_group_abort(s->st);
            s->in_group = 0;
        }
        return NULL;
    }
    if (own) {
        s->in_group = 0;
        rs_status rc = rs_group_commit(s->st);
        if (rc != RS_OK) {
            return rs_py_raise(s, rc);
        }
    }
    return PyLong_FromSsize_t(n);
}

/* where(...) -> a query (query.c says its forms). */
static PyObject *meta_where(PyObject *self, PyObject *args, PyObject *kw)
{
    ClassObject *c = (ClassObject *)self;
    return declared(c) ? rs_py_where(c, args, kw) : NULL;
}

static PyObject *meta_get_text(PyObject *self, void *closure)
{
    (void)closure;
    ClassObject *c = (ClassObject *)self;
    if (!declared(c)) {
        return NULL;
    }
    size_t need = rs_class_format(c->cls, NULL, 0);
    char *buf = PyMem_Malloc(need + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    rs_class_format(c->cls, buf, need + 1);
    PyObject *r = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)need);
    PyMem_Free(buf);
    return r;
}

static PyObject *meta_get_store(PyObject *self, void *closure)
{
    (void)closure;
    ClassObject *c = (ClassObject *)self;
    if (c->store == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(c->store);
}

static PyObject *meta_get_fields(PyObject *self, void *closure)
{
    (void)closure;
    ClassObject *c = (ClassObject *)self;
    PyObject *t = PyTuple_New(c->n_fields);
    for (Py_ssize_t i = 0; t && i < c->n_fields; i++) {
        PyTuple_SET_ITEM(t, i, Py_NewRef(c->fields[i].name));
    }
    return t;
}

/* ------------------------------------------------------------------------ */
/* Declaring                                                                 */
/* ------------------------------------------------------------------------ */

extern PyGetSetDef rs_py_dict_getset;

/* The store's list of its classes (StoreObject.all): a class joins it
 * when it gets its rs_class and leaves it when it dies or the store
 * closes. */
static void class_link(ClassObject *c)
{
    StoreObject *s = c->store;
    c->prev = NULL;
    c->next = s->all;
    if (s->all != NULL) {
        s->all->prev = c;
    }
    s->all = c;
}

static void class_unlink(ClassObject *c)
{
    if (c->cls == NULL) {
        return; /* never linked, or forgotten by close() */
    }
    StoreObject *s = c->store;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->all = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
    c->cls = NULL;
}

void rs_py_classes_forget(StoreObject *s)
{
    while (s->all != NULL) {
        ClassObject *c = s->all;
        s->all = c->next;
        c->prev = c->next = NULL;
        c->cls = NULL; /* freed by rs_store_close() */
    }
}

/* The text form of a declaration made in a scratch store (for comparing a
 * declaration with the class a store already has): a new str, or NULL. */
static PyObject *format_of(const rs_class *cls)
{
    size_t need = rs_class_format(cls, NULL, 0);
    char *buf = PyMem_Malloc(need + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    rs_class_format(cls, buf, need + 1);
    PyObject *r = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)need);
    PyMem_Free(buf);
    return r;
}

/* After RS_EEXIST: the store's class of that name if the scratch
 * declaration `mine` is the same, else NULL with DuplicateError. */
static rs_class *same_or_raise(StoreObject *s, const rs_class *mine)
{
    rs_class *old = rs_class_find(s->st, rs_class_name(mine));
    if (old == NULL) {
        PyErr_SetString(PyExc_SystemError, "roster: class vanished");
        return NULL;
    }
    PyObject *a = format_of(old), *b = format_of(mine);
    int eq = a && b ? PyUnicode_Compare(a, b) == 0 : -1;
    if (eq == 0) {
        PyErr_Format(s->state->DuplicateError,
                     "class '%s' is already declared in this store as %U",
                     rs_class_name(old), a);
    }
    Py_XDECREF(a);
    Py_XDECREF(b);
    return eq == 1 ? old : NULL;
}

/* Player.find and Player.get, the lookups of every request, as builtins
 * bound to the class once and kept in its dict: reached through the
 * metatype's methods, each call would first make (and then free) a bound
 * method object.  Like classmethods, a proxy sees them too (p.get). */
static PyMethodDef class_find_def = {
    "find", (PyCFunction)(void (*)(void))meta_find,
    METH_FASTCALL | METH_KEYWORDS,
    "find(name='Tom') -> the record whose key or unique field holds the "
    "value, or None"};
static PyMethodDef class_get_def = {
    "get", (PyCFunction)(void (*)(void))meta_get, METH_FASTCALL | METH_KEYWORDS,
    "get(key, default=None) -> the record with that key, or default"};

static int bind_lookups(PyObject *t)
{
    PyMethodDef *const defs[] = {&class_find_def, &class_get_def};
    PyObject *dict = ((PyTypeObject *)t)->tp_dict;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        PyObject *name = PyUnicode_InternFromString(defs[i]->ml_name);
        if (name == NULL) {
            return -1;
        }
        /* A field or a method of the body by that name stays. */
        int has = PyDict_Contains(dict, name);
        PyObject *f = has == 0 ? PyCFunction_NewEx(defs[i], t, NULL) : NULL;
        int r = has != 0 ? has : f ? PyDict_SetItem(dict, name, f) : -1;
        Py_XDECREF(f);
        Py_DECREF(name);
        if (r < 0) {
            return -1;
        }
    }
    PyType_Modified((PyTypeObject *)t);
    return 0;
}

/* The Python class of cls, made now: a heap type named as the class,
 * with ns (a class body's namespace, or NULL) as its dict. */
PyObject *rs_py_class_for(StoreObject *s, rs_class *cls, PyObject *ns)
{
    rs_py_state *S = s->state;
    /* Everything wanted of cls is read first, while nothing here can have
     * run Python code: making a dict, a tuple or the type may let the
     * cyclic GC run a finalizer, and making the type calls the body's
     * __set_name__ methods; either may close the store, which frees cls.
     * Making a str runs nothing. */
    int dynamic = (rs_class_flags(cls) & RS_CLASS_DYNAMIC) != 0;
    Py_ssize_t n = (Py_ssize_t)rs_class_n_fields(cls);
    rs_field key = rs_class_key(cls);
    PyObject *name = PyUnicode_FromString(rs_class_name(cls));
    PyObject *d = NULL, *slots = NULL, *bases = NULL, *args = NULL, *t = NULL;
    FieldInfo *fields = PyMem_Calloc((size_t)n + 1, sizeof *fields);
    if (name == NULL || fields == NULL) {
        if (fields == NULL) {
            PyErr_NoMemory();
        }
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rs_field_def def;
        if (rs_class_field_def(cls, (rs_field)i, &def) != RS_OK) {
            PyErr_SetString(PyExc_SystemError, "roster: bad field");
            goto fail;
        }
        fields[i].f = (rs_field)i;
        fields[i].type = def.type;
        fields[i].unsigned_int = def.type == RS_U8 || def.type == RS_U16 ||
                                 def.type == RS_U32 || def.type == RS_U64;
        fields[i].flags = def.flags;
        fields[i].name = PyUnicode_InternFromString(def.name);
        /* Not def.name, which dies with the store: error messages need
         * the name after a close too. */
        fields[i].cname =
            fields[i].name ? PyUnicode_AsUTF8(fields[i].name) : NULL;
        if (fields[i].cname == NULL) {
            goto fail;
        }
    }
    d = ns ? PyDict_Copy(ns) : PyDict_New();
    slots = dynamic ? Py_BuildValue("(s)", "__weakref__") : PyTuple_New(0);
    bases = PyTuple_Pack(1, (PyObject *)S->record_type);
    if (d == NULL || slots == NULL || bases == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyDict_DelItem(d, fields[i].name) < 0) {
            PyErr_Clear(); /* no default in the body */
        }
    }
    if (PyDict_SetItemString(d, "__slots__", slots) < 0) {
        goto fail;
    }
    args = PyTuple_Pack(3, name, bases, d);
    if (args == NULL) {
        goto fail;
    }
    t = PyType_Type.tp_new(S->meta_type, args, NULL);
    /* Making the type may have closed the store and freed cls (see
     * above): the class gets cls only from an open store, and from then on
     * close() reaches it through s->all. */
    if (t == NULL || rs_py_check_open(s) < 0) {
        goto fail;
    }
    PyTypeObject *tp = (PyTypeObject *)t;
    ClassObject *c = (ClassObject *)t;
    c->store = (StoreObject *)Py_NewRef(s);
    c->cls = cls;
    class_link(c);
    c->dynamic = dynamic;
    c->key = key;
    c->n_fields = n;
    c->fields = fields;
    fields = NULL;
    /* No GC for proxies: see the file's header. */
    tp->tp_flags &= ~(unsigned long)Py_TPFLAGS_HAVE_GC;
    tp->tp_free = PyObject_Free;
    tp->tp_traverse = NULL;
    tp->tp_clear = NULL;
    tp->tp_is_gc = NULL;
    /* Player(...) calls rs_py_record_vectorcall() directly: no argument
     * tuple, no keyword dict, no type_call() and __init__ check. */
    tp->tp_vectorcall = rs_py_record_vectorcall;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *ft = S->field_type;
        FieldObject *fo = (FieldObject *)ft->tp_alloc(ft, 0);
        if (fo == NULL) {
            goto fail;
        }
        fo->owner = (ClassObject *)Py_NewRef(t);
        fo->index = i;
        int r = PyObject_SetAttr(t, c->fields[i].name, (PyObject *)fo);
        Py_DECREF(fo);
        if (r < 0) {
            goto fail;
        }
    }
    if (bind_lookups(t) < 0) {
        goto fail;
    }
    if (dynamic) {
        PyObject *dd = PyDescr_NewGetSet(tp, &rs_py_dict_getset);
        /* Straight into the dict: type's own __dict__ getset refuses a
         * setattr of that name. */
        int r = dd ? PyDict_SetItem(tp->tp_dict, S->str_dict, dd) : -1;
        Py_XDECREF(dd);
        PyType_Modified(tp);
        if (r < 0 || PyObject_DelAttrString(t, "__slots__") < 0) {
            goto fail;
        }
    } else {
        PyObject *names = PyTuple_New(n);
        for (Py_ssize_t i = 0; names && i < n; i++) {
            PyTuple_SET_ITEM(names, i, Py_NewRef(c->fields[i].name));
        }
        int r = names ? PyObject_SetAttrString(t, "__slots__", names) : -1;
        Py_XDECREF(names);
        if (r < 0) {
            goto fail;
        }
    }
    /* The store may have closed since the type was made (see above): a
     * class of a closed store is an error here, not a result. */
    if (PyDict_SetItem(s->classes, name, t) < 0 || rs_py_check_open(s) < 0) {
        goto fail;
    }
    Py_DECREF(d);
    Py_DECREF(name);
    Py_DECREF(slots);
    Py_DECREF(bases);
    Py_DECREF(args);
    return t;
fail:
    if (fields != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_XDECREF(fields[i].name);
        }
        PyMem_Free(fields);
    }
    Py_XDECREF(t);
    Py_XDECREF(d);
    Py_XDECREF(name);
    Py_XDECREF(slots);
    Py_XDECREF(bases);
    Py_XDECREF(args);
    return NULL;
}

PyObject *rs_py_declare_text(StoreObject *s, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError,
                     "declare(): the text form is a str, not '%.100s'",
                     Py_TYPE(text)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *p = PyUnicode_AsUTF8AndSize(text, &len);
    if (p == NULL) {
        return NULL;
    }
    rs_class *cls;
    rs_status rc = rs_class_parse(s->st, p, (size_t)len, &cls);
    if (rc == RS_EEXIST) {
        rs_store *tmp;
        if (rs_store_open(NULL, NULL, &tmp) != RS_OK) {
            return PyErr_NoMemory();
        }
        rs_class *mine;
        if (rs_class_parse(tmp, p, (size_t)len, &mine) != RS_OK) {
            rs_store_close(tmp);
            return rs_py_raise(s, rc);
        }
        cls = same_or_raise(s, mine);
        rs_store_close(tmp);
        if (cls == NULL) {
            return NULL;
        }
    } else if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    return rs_py_class_for(s, cls, NULL);
}

/* A field type from an annotation: a roster.Type, int, float or bool; a
 * string annotation (from __future__ import annotations) is evaluated in
 * the class's module first.  0 or -1 with an error. */
static int annotation_def(rs_py_state *S, PyObject *ns, const char *cls,
                          const char *field, PyObject *ann, rs_field_def *def)
{
    PyObject *owned = NULL;
    if (PyUnicode_Check(ann)) {
        PyObject *modname = PyDict_GetItemString(ns, "__module__");
        PyObject *mods = PyImport_GetModuleDict();
        PyObject *mod = modname ? PyDict_GetItemWithError(mods, modname) : NULL;
        PyObject *globals = mod ? PyModule_GetDict(mod) : NULL;
        PyObject *builtins = PyEval_GetBuiltins();
        PyObject *eval =
            builtins ? PyDict_GetItemString(builtins, "eval") : NULL;
        if (globals == NULL || eval == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s.%s: cannot evaluate the annotation %R", cls, field,
                         ann);
            return -1;
        }
        owned = PyObject_CallFunctionObjArgs(eval, ann, globals, ns, NULL);
        if (owned == NULL) {
            return -1;
        }
        ann = owned;
    }
    int r = 0;
    if (rs_py_spec_check(S, ann)) {
        r = rs_py_spec_def(ann, def);
    } else if (ann == (PyObject *)&PyLong_Type) {
        def->type = RS_I64;
    } else if (ann == (PyObject *)&PyFloat_Type) {
        def->type = RS_F64;
    } else if (ann == (PyObject *)&PyBool_Type) {
        def->type = RS_BOOL;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "%s.%s: the annotation is a roster type (roster.u16, "
                     "roster.str(32), roster.str(16, key=True), ...), int, "
                     "float or bool, not %R",
                     cls, field, ann);
        r = -1;
    }
    Py_XDECREF(owned);
    return r;
}

/* class Player(roster.Record, store=st, dynamic=True):
 *     uid: roster.str(16, key=True)
 *     level: roster.u16 = 0
 */
static PyObject *meta_new(PyTypeObject *meta, PyObject *args, PyObject *kw)
{
    rs_py_state *S = PyType_GetModuleState(meta);
    PyObject *name, *bases, *ns;
    if (!PyArg_ParseTuple(args, "UO!O!:RecordType", &name, &PyTuple_Type,
                          &bases, &PyDict_Type, &ns)) {
        return NULL;
    }
    PyObject *store = kw ? PyDict_GetItemString(kw, "store") : NULL;
    PyObject *dyn = kw ? PyDict_GetItemString(kw, "dynamic") : NULL;
    Py_ssize_t nkw = kw ? PyDict_GET_SIZE(kw) : 0;
    if (nkw != (store != NULL) + (dyn != NULL)) {
        PyErr_SetString(PyExc_TypeError,
                        "a roster class takes the keywords store= and "
                        "dynamic= only");
        return NULL;
    }
    if (PyTuple_GET_SIZE(bases) != 1 ||
        PyTuple_GET_ITEM(bases, 0) != (PyObject *)S->record_type) {
        PyErr_SetString(PyExc_TypeError,
                        "a roster class derives from roster.Record alone "
                        "(declared classes cannot be subclassed)");
        return NULL;
    }
    if (store == NULL || !Py_IS_TYPE(store, S->store_type)) {
        PyErr_Format(PyExc_TypeError,
                     "class %U(roster.Record, store=st): a roster.Store is "
                     "required",
                     name);
        return NULL;
    }
    int dynamic = dyn ? PyObject_IsTrue(dyn) : 0;
    if (dynamic < 0) {
        return NULL;
    }
    StoreObject *s = (StoreObject *)store;
    const char *cname;
    if (rs_py_utf8_name(name, &cname) <= 0) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "%R is not a class name", name);
        }
        return NULL;
    }
    /* The fields come from the annotations alone, and the class's own
     * __slots__ from them: one written in the body would be replaced (or,
     * on a dynamic class, dropped) without a word. */
    if (PyDict_GetItemString(ns, "__slots__") != NULL) {
        PyErr_Format(PyExc_TypeError,
                     "class %U: declare the fields by annotations (level: "
                     "roster.u16 = 0), not __slots__; roster makes "
                     "__slots__ from them",
                     name);
        return NULL;
    }
    PyObject *ann = PyDict_GetItemString(ns, "__annotations__");
    if (ann == NULL || !PyDict_Check(ann)) {
        PyErr_Format(PyExc_TypeError,
                     "class %U declares no fields: annotate them, e.g. "
                     "level: roster.u16 = 0",
                     name);
        return NULL;
    }
    Py_ssize_t n = PyDict_GET_SIZE(ann);
    rs_field_def *defs = PyMem_Calloc((size_t)n + 1, sizeof *defs);
    if (defs == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(ann, &pos, &k, &v)) {
        rs_field_def *def = &defs[i++];
        if (rs_py_utf8_name(k, &def->name) <= 0) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "%R is not a field name", k);
            }
            goto fail;
        }
        if (annotation_def(S, ns, cname, def->name, v, def) < 0) {
            goto fail;
        }
        PyObject *dflt = PyDict_GetItemWithError(ns, k);
        if (dflt != NULL) {
            if (rs_py_to_value(dflt, cname, def->name, &def->def) < 0) {
                goto fail;
            }
            def->has_default = true;
        } else if (PyErr_Occurred()) {
            goto fail;
        }
    }
    rs_class *cls;
    unsigned flags = dynamic ? RS_CLASS_DYNAMIC : 0u;
    rs_status rc = rs_class_create(s->st, cname, defs, (size_t)n, flags, &cls);
    if (rc == RS_EEXIST && rs_class_find(s->st, cname) != NULL) {
        rs_store *tmp;
        rs_class *mine;
        if (rs_store_open(NULL, NULL, &tmp) != RS_OK) {
            PyErr_NoMemory();
            goto fail;
        }
        if (rs_class_create(tmp, cname, defs, (size_t)n, flags, &mine) !=
            RS_OK) {
            rs_store_close(tmp);
            rs_py_raise(s, rc);
            goto fail;
        }
        cls = same_or_raise(s, mine);
        rs_store_close(tmp);
        if (cls == NULL) {
            goto fail;
        }
    } else if (rc != RS_OK) {
        rs_py_raise(s, rc);
        goto fail;
    }
    PyMem_Free(defs);
    return rs_py_class_for(s, cls, ns);
fail:
    PyMem_Free(defs);
    return NULL;
}

/* roster.Record: made by type.__new__ with this metatype, so that class
 * statements deriving from it reach meta_new. */
PyObject *rs_py_make_record_base(rs_py_state *S, PyObject *module)
{
    (void)module;
    PyObject *ns = Py_BuildValue(
        "{s:(),s:s,s:s}", "__slots__", "__module__", "roster", "__doc__",
        "The base of declared classes: class Player(roster.Record, "
        "store=st, dynamic=True): uid: roster.str(16, key=True); ...");
    if (ns == NULL) {
        return NULL;
    }
    PyObject *args = Py_BuildValue("(s(O)O)", "Record", S->base_type, ns);
    Py_DECREF(ns);
    if (args == NULL) {
        return NULL;
    }
    PyObject *t = PyType_Type.tp_new(S->meta_type, args, NULL);
    Py_DECREF(args);
    /* __slots__ = () did its work (no __dict__, no __weakref__); gone, so
     * that a dynamic class, like a plain one, shows no __slots__. */
    if (t != NULL && PyObject_DelAttrString(t, "__slots__") < 0) {
        Py_CLEAR(t);
    }
    return t;
}

static int meta_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((ClassObject *)self)->store);
    return PyType_Type.tp_traverse(self, visit, arg);
}

static int meta_clear(PyObject *self)
{
    /* The store is kept until the class dies: proxies reach the library
     * through it.  The store's own clear breaks the cycle. */
    return PyType_Type.tp_clear(self);
}

void rs_py_names_forget(ClassObject *c)
{
    for (int i = 0; i < RS_PY_NAME_CACHE; i++) {
        Py_CLEAR(c->names[i].name);
    }
}

static void meta_dealloc(PyObject *self)
{
    ClassObject *c = (ClassObject *)self;
    PyTypeObject *meta = Py_TYPE(self);
    StoreObject *s = c->store;
    class_unlink(c);
    c->store = NULL;
    rs_py_names_forget(c);
    if (c->fields != NULL) {
        for (Py_ssize_t i = 0; i < c->n_fields; i++) {
            Py_XDECREF(c->fields[i].name);
        }
        PyMem_Free(c->fields);
        c->fields = NULL;
    }
    PyType_Type.tp_dealloc(self);
    Py_DECREF(meta);
    Py_XDECREF(s);
}

static PyMethodDef meta_methods[] = {
    {"get", (PyCFunction)(void (*)(void))meta_get,
     METH_FASTCALL | METH_KEYWORDS,
     "get(key, default=None) -> the record with that key, or default"},
    {"find", (PyCFunction)(void (*)(void))meta_find,
     METH_FASTCALL | METH_KEYWORDS,
     "find(name='Tom') -> the record whose key or unique field holds the "
     "value, or None"},
    {"get_many", (PyCFunction)(void (*)(void))meta_get_many,
     METH_VARARGS | METH_KEYWORDS,
     "get_many(keys, field=None) -> [record or None, ...], one batch lookup"},
    {"insert_many", meta_insert_many, METH_O,
     "insert_many(rows) -> int: rows of tuples or dicts, all or none"},
    {"reserve", meta_reserve, METH_O,
     "reserve(n): size the indexes for n records in all, so that loading "
     "up to n grows none of them"},
    {"where", (PyCFunction)(void (*)(void))meta_where,
     METH_VARARGS | METH_KEYWORDS,
     "where(Player.level >= 50, stat=1, name__startswith='To') -> query "
     "evaluated in C"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef meta_getset[] = {
    {"__text__", meta_get_text, NULL, "the class's text form", NULL},
    {"__store__", meta_get_store, NULL, "the class's store", NULL},
    {"__fields__", meta_get_fields, NULL, "the declared fields' names", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot meta_slots[] = {
    {Py_tp_doc, "The metaclass of roster classes."},
    {Py_tp_new, meta_new},
    {Py_tp_dealloc, meta_dealloc},
    {Py_tp_traverse, meta_traverse},
    {Py_tp_clear, meta_clear},
    {Py_tp_methods, meta_methods},
    {Py_tp_getset, meta_getset},
    {Py_tp_iter, meta_iter},
    {Py_mp_subscript, meta_subscript},
    {Py_mp_ass_subscript, meta_ass_subscript},
    {Py_mp_length, meta_length},
    {Py_nb_bool, meta_bool},
    {Py_sq_contains, meta_contains},
    {0, NULL},
};

PyType_Spec rs_py_meta_spec = {
    .name = "roster.RecordType",
    .basicsize = sizeof(ClassObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = meta_slots,
};
