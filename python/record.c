/*
 * record.c: roster.Record, the proxies, and the live __dict__ mapping.
 *
 * A proxy is (class, handle): 16 bytes of object header, the 8-byte
 * handle and a slot for its __dict__ mapping once asked for (so that
 * vars(p) is p.__dict__), plus the weakref slot on a dynamic class.  It
 * is made on access and nothing is kept per record: a million records
 * cost nothing in Python until they are touched.
 *
 * Attribute lookup follows CPython's order: a data descriptor of the
 * class (a declared field, __dict__, __class__), then the record's
 * dynamic attributes, then anything else of the class (methods).  A
 * dynamic name a user gives is looked up with rs_attr_find(), which never
 * interns: getattr(p, random_name) leaves the store as it was.  Only a
 * set binds (rs_set_attr()).
 *
 * Deleting a declared field (del p.level) is refused with TypeError:
 * the library's fields always hold a value, so CPython's empty-slot state
 * does not exist here.
 */
#include "roster_py.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Proxies                                                                   */
/* ------------------------------------------------------------------------ */

PyObject *rs_py_proxy(ClassObject *c, rs_handle h)
{
    PyTypeObject *tp = (PyTypeObject *)c;
    RecordObject *r = (RecordObject *)PyObject_Malloc((size_t)tp->tp_basicsize);
    if (r == NULL) {
        return PyErr_NoMemory();
    }
    PyObject_Init((PyObject *)r, tp);
    r->h = h;
    r->attrs = NULL;
    if (tp->tp_weaklistoffset != 0) {
        *(PyObject **)((char *)r + tp->tp_weaklistoffset) = NULL;
    }
    return (PyObject *)r;
}

static void record_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (tp->tp_weaklistoffset != 0 &&
        *(PyObject **)((char *)self + tp->tp_weaklistoffset) != NULL) {
        PyObject_ClearWeakRefs(self);
    }
    Py_XDECREF(((RecordObject *)self)->attrs);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* The value of a declared field, by its typed fast path: rs_get_uint()
 * reads an unsigned field in place (a handle check and a load). */
PyObject *rs_py_record_get(RecordObject *r, FieldObject *d)
{
    ClassObject *c = d->owner;
    FieldInfo *fi = &c->fields[d->index];
    rs_store *st = c->store->st;
    rs_status rc;
    if (fi->unsigned_int) {
        uint64_t u;
        rc = rs_get_uint(st, r->h, fi->f, &u);
        if (rc == RS_OK) {
            return u <= (uint64_t)LONG_MAX ? PyLong_FromLong((long)u)
                                           : PyLong_FromUnsignedLongLong(u);
        }
        return rs_py_raise(c->store, rc);
    }
    switch (fi->type) {
    case RS_BOOL: {
        bool b;
        rc = rs_get_bool(st, r->h, fi->f, &b);
        if (rc == RS_OK) {
            return PyBool_FromLong(b);
        }
        break;
    }
    case RS_U64: {
        uint64_t u;
        rc = rs_get_uint(st, r->h, fi->f, &u);
        if (rc == RS_OK) {
            return PyLong_FromUnsignedLongLong(u);
        }
        break;
    }
    case RS_F32:
    case RS_F64: {
        double x;
        rc = rs_get_f64(st, r->h, fi->f, &x);
        if (rc == RS_OK) {
            return PyFloat_FromDouble(x);
        }
        break;
    }
    case RS_STR: {
        const char *p;
        size_t len;
        rc = rs_get_str(st, r->h, fi->f, &p, &len);
        if (rc == RS_OK) {
            return PyUnicode_DecodeUTF8(p, (Py_ssize_t)len, "surrogateescape");
        }
        break;
    }
    default: {
        int64_t i;
        rc = rs_get_int(st, r->h, fi->f, &i);
        if (rc == RS_OK) {
            return PyLong_FromLongLong(i);
        }
        break;
    }
    }
    return rs_py_raise(c->store, rc);
}

int rs_py_record_set(RecordObject *r, FieldObject *d, PyObject *v)
{
    ClassObject *c = d->owner;
    FieldInfo *fi = &c->fields[d->index];
    rs_store *st = c->store->st;
    rs_status rc;
    if (v == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "cannot delete %s.%U: a declared field always holds a "
                     "value",
                     ((PyTypeObject *)c)->tp_name, fi->name);
        return -1;
    }
    if (PyLong_CheckExact(v)) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow == 0 && !(i == -1 && PyErr_Occurred())) {
            rc = rs_set_int(st, r->h, fi->f, i);
            goto done;
        }
        PyErr_Clear();
    } else if (PyUnicode_CheckExact(v)) {
        Py_ssize_t len;
        const char *p = PyUnicode_AsUTF8AndSize(v, &len);
        if (p == NULL) {
            return -1;
        }
        rc = rs_set_str(st, r->h, fi->f, p, (size_t)len);
        goto done;
    }
    rs_value val;
    if (rs_py_to_value(v, ((PyTypeObject *)c)->tp_name, fi->cname, &val) < 0) {
        return -1;
    }
    rc = rs_set_field(st, r->h, fi->f, &val);
done:
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        return -1;
    }
    return 0;
}

/* The name cache (roster_py.h): the field number remembered for name,
 * or -1. */
static inline NameSlot *name_slot(ClassObject *c, PyObject *name)
{
    return &c->names[((uintptr_t)name >> 4) & (RS_PY_NAME_CACHE - 1)];
}

static inline rs_field name_cached(ClassObject *c, PyObject *name)
{
    NameSlot *e = name_slot(c, name);
    return e->name == name ? e->f : -1;
}

/* Remember name's field number; no_descr says the class has no attribute
 * by that name (the lookup just made found none). */
static void name_remember(ClassObject *c, PyObject *name, rs_field f,
                          int no_descr)
{
    NameSlot *e = name_slot(c, name);
    PyTypeObject *tp = (PyTypeObject *)c;
    if (e->name != name) {
        Py_XSETREF(e->name, Py_NewRef(name));
    }
    e->f = f;
    /* An exact str only, as CPython's own method cache: a subclass's
     * __eq__ or __hash__ may answer the class lookup differently while
     * the class's tag stays. */
    e->type_tag = no_descr && PyUnicode_CheckExact(name) &&
                          (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)
                      ? tp->tp_version_tag
                      : 0;
}

/* Remember name p, which the store knows (f from rs_attr_find()), pinned
 * first with rs_attr_id(): a group's rollback drops the names it interned,
 * and an id the cache kept would then be handed to the next new name.
 * The name exists, so rs_attr_id() interns nothing; should it fail, the
 * name is simply not remembered. */
static void name_learn(ClassObject *c, PyObject *name, const char *p,
                       rs_field f, int no_descr)
{
    if (f >= RS_ATTR_BASE && rs_attr_id(c->store->st, c->cls, p) != f) {
        return;
    }
    name_remember(c, name, f, no_descr);
}

/* The field number of a name known to be a dynamic attribute and no class
 * attribute, or -1: then the caller takes the general path. */
static inline rs_field name_fast(ClassObject *c, PyObject *name)
{
    const NameSlot *e = name_slot(c, name);
    const PyTypeObject *tp = (PyTypeObject *)c;
    return e->name == name && e->type_tag != 0 &&
                   e->type_tag == tp->tp_version_tag &&
                   (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)
               ? e->f
               : -1;
}

/* A dynamic attribute: 1 and *out, 0 if the record has none by that
 * name, -1 on error.  no_descr as for name_remember(). */
static int dyn_get(ClassObject *c, rs_handle h, PyObject *name, PyObject **out,
                   int no_descr)
{
    rs_field f = name_cached(c, name);
    rs_status rc = RS_OK;
    if (f < 0) {
        const char *p;
        int ok = rs_py_utf8_name(name, &p);
        if (ok <= 0) {
            return ok;
        }
        rc = rs_attr_find(c->store->st, c->cls, p, &f);
        if (rc == RS_ENOATTR) {
            return 0;
        }
        if (rc == RS_OK) {
            name_learn(c, name, p, f, no_descr);
        }
    } else if (no_descr && name_fast(c, name) < 0) {
        name_remember(c, name, f, 1);
    }
    rs_value v;
    if (rc == RS_OK) {
        rc = rs_get_field(c->store->st, h, f, &v);
    }
    if (rc == RS_ENOATTR) {
        return 0;
    }
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        return -1;
    }
    *out = rs_py_from_value(&v);
    return *out ? 1 : -1;
}

static PyObject *record_getattro(PyObject *self, PyObject *name)
{
    PyTypeObject *tp = Py_TYPE(self);
    ClassObject *c = (ClassObject *)tp;
    rs_field f = name_fast(c, name);
    if (f >= 0) {
        /* A dynamic attribute's name, no class attribute: read it. */
        rs_value v;
        rs_status rc =
            rs_get_field(c->store->st, ((RecordObject *)self)->h, f, &v);
        if (rc == RS_OK) {
            return rs_py_from_value(&v);
        }
        if (rc != RS_ENOATTR) {
            rs_py_raise(c->store, rc);
            return NULL;
        }
        rs_py_attr_error(self, name);
        return NULL;
    }
    PyObject *descr = _PyType_Lookup(tp, name);
    descrgetfunc get = NULL;
    if (descr != NULL) {
        /* A declared field of this class: read it, no more checks (the
         * descriptor stays in the class dict while this runs: nothing
         * here calls back into Python before the read). */
        if (Py_TYPE(descr)->tp_descr_get == rs_py_field_get &&
            ((FieldObject *)descr)->owner == c) {
            return rs_py_record_get((RecordObject *)self, (FieldObject *)descr);
        }
        Py_INCREF(descr);
        get = Py_TYPE(descr)->tp_descr_get;
        if (get != NULL && Py_TYPE(descr)->tp_descr_set != NULL) {
            PyObject *r = get(descr, self, (PyObject *)tp);
            Py_DECREF(descr);
            return r;
        }
    }
    /* A method stays reachable on a closed store (its call refuses). */
    if (c->dynamic && (descr == NULL || c->store->st != NULL)) {
        PyObject *v;
        int r = dyn_get(c, ((RecordObject *)self)->h, name, &v, descr == NULL);
        if (r != 0) {
            Py_XDECREF(descr);
            return r > 0 ? v : NULL;
        }
    }
    if (get != NULL) {
        PyObject *r = get(descr, self, (PyObject *)tp);
        Py_DECREF(descr);
        return r;
    }
    if (descr != NULL) {
        return descr;
    }
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError,
                     "attribute name must be string, not '%.200s'",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    rs_py_attr_error(self, name);
    return NULL;
}

static int record_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    PyTypeObject *tp = Py_TYPE(self);
    ClassObject *c = (ClassObject *)tp;
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError,
                     "attribute name must be string, not '%.200s'",
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    rs_field f = value != NULL ? name_fast(c, name) : -1;
    if (f >= 0) {
        /* A dynamic attribute's name, no class attribute: bind it.  The
         * name passed the checks below when it was remembered. */
        rs_value v;
        if (rs_py_to_value(value, tp->tp_name, PyUnicode_AsUTF8(name), &v) <
            0) {
            return -1;
        }
        rs_status rc =
            rs_set_field(c->store->st, ((RecordObject *)self)->h, f, &v);
        if (rc != RS_OK) {
            rs_py_raise(c->store, rc);
            return -1;
        }
        return 0;
    }
    PyObject *descr = _PyType_Lookup(tp, name);
    if (descr != NULL && Py_TYPE(descr)->tp_descr_set == rs_py_field_set &&
        ((FieldObject *)descr)->owner == c) {
        return rs_py_record_set((RecordObject *)self, (FieldObject *)descr,
                                value);
    }
    if (descr != NULL && Py_TYPE(descr)->tp_descr_set != NULL) {
        if (PyUnicode_CompareWithASCIIString(name, "__class__") == 0) {
            /* Two declared classes share a layout, so object's setter
             * would let a handle be read with another class's fields. */
            PyErr_Format(PyExc_TypeError,
                         "'%.100s' object: __class__ cannot be assigned (a "
                         "record is of the class it was inserted in)",
                         tp->tp_name);
            return -1;
        }
        Py_INCREF(descr);
        int r = Py_TYPE(descr)->tp_descr_set(descr, self, value);
        Py_DECREF(descr);
        return r;
    }
    if (c->store != NULL && rs_py_check_open(c->store) < 0) {
        return -1;
    }
    if (!c->dynamic || c->cls == NULL) {
        if (descr != NULL) {
            PyErr_Format(PyExc_AttributeError,
                         "'%.100s' object attribute '%U' is read-only",
                         tp->tp_name, name);
        } else {
            rs_py_attr_error(self, name);
        }
        return -1;
    }
    const char *p;
    int ok = rs_py_utf8_name(name, &p);
    if (ok <= 0) {
        if (ok == 0) {
            PyErr_Format(PyExc_AttributeError,
                         "'%.100s' object cannot bind %R: not an attribute "
                         "name",
                         tp->tp_name, name);
        }
        return -1;
    }
    rs_handle h = ((RecordObject *)self)->h;
    rs_status rc;
    if (value == NULL) {
        rc = rs_del_attr(c->store->st, h, p);
        if (rc == RS_ENOATTR) {
            rs_py_attr_error(self, name);
            return -1;
        }
    } else {
        rs_value v;
        if (rs_py_to_value(value, tp->tp_name, p, &v) < 0) {
            return -1;
        }
        /* By the name's field number once known: no name lookup in the
         * library (rs_set_field() takes attribute ids). */
        f = name_cached(c, name);
        if (f >= 0) {
            rc = rs_set_field(c->store->st, h, f, &v);
            if (rc == RS_OK && descr == NULL) {
                name_remember(c, name, f, 1);
            }
        } else {
            rc = rs_set_attr(c->store->st, h, p, &v);
            if (rc == RS_OK &&
                rs_attr_find(c->store->st, c->cls, p, &f) == RS_OK) {
                name_learn(c, name, p, f, descr == NULL);
            }
        }
    }
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        return -1;
    }
    return 0;
}

/* Player('00001', 'Tom', level=3, x=1): insert a record.  Positional
 * arguments fill the declared fields in order; keywords name fields or,
 * on a dynamic class, attributes to bind.  The keywords come as a dict
 * (kw, from tp_new) or as names and values (kwnames and args[na..], from
 * vectorcall). */
static PyObject *insert(ClassObject *c, PyObject *const *args, Py_ssize_t na,
                        PyObject *kwnames, PyObject *kw)
{
    PyTypeObject *tp = (PyTypeObject *)c;
    if (c->store != NULL && rs_py_check_open(c->store) < 0) {
        return NULL;
    }
    if (c->cls == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "roster.Record is the base of declared classes: "
                        "class Player(roster.Record, store=st): ...");
        return NULL;
    }
    Py_ssize_t nk = kwnames ? PyTuple_GET_SIZE(kwnames)
                    : kw    ? PyDict_GET_SIZE(kw)
                            : 0;
    if (na > c->n_fields) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes at most %zd positional arguments (%zd given)",
                     tp->tp_name, c->n_fields, na);
        return NULL;
    }
    rs_named small[16];
    rs_named *vals = small;
    if (na + nk > 16) {
        vals = PyMem_Calloc((size_t)(na + nk), sizeof *vals);
        if (vals == NULL) {
            return PyErr_NoMemory();
        }
    }
    PyObject *res = NULL;
    char sbuf[512];
    rs_py_scratch sc = {sbuf, sizeof sbuf, 0};
    for (Py_ssize_t i = 0; i < na; i++) {
        vals[i].name = c->fields[i].cname;
        if (rs_py_to_value_sc(args[i], tp->tp_name, vals[i].name, &vals[i].val,
                              &sc) < 0) {
            goto done;
        }
    }
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = na; i < na + nk; i++) {
        PyObject *k, *v;
        if (kwnames != NULL) {
            k = PyTuple_GET_ITEM(kwnames, i - na);
            v = args[i];
        } else if (!PyDict_Next(kw, &pos, &k, &v)) {
            break;
        }
        const char *p;
        int ok = rs_py_utf8_name(k, &p);
        if (ok <= 0) {
            if (ok == 0) {
                PyErr_Format(PyExc_TypeError,
                             "%s() got a keyword that is not an attribute "
                             "name: %R",
                             tp->tp_name, k);
            }
            goto done;
        }
        vals[i].name = p;
        if (rs_py_to_value_sc(v, tp->tp_name, p, &vals[i].val, &sc) < 0) {
            goto done;
        }
    }
    rs_handle h;
    rs_status rc = rs_insert(c->store->st, c->cls, vals, (size_t)(na + nk), &h);
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        goto done;
    }
    res = rs_py_proxy(c, h);
done:
    if (vals != small) {
        PyMem_Free(vals);
    }
    return res;
}

static PyObject *record_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    return insert((ClassObject *)tp, &PyTuple_GET_ITEM(args, 0),
                  PyTuple_GET_SIZE(args), NULL, kw);
}

/* Player(...) by vectorcall (the class's tp_vectorcall): the same insert
 * without an argument tuple, a keyword dict or type_call(). */
PyObject *rs_py_record_vectorcall(PyObject *callable, PyObject *const *args,
                                  size_t nargsf, PyObject *kwnames)
{
    return insert((ClassObject *)callable, args, PyVectorcall_NARGS(nargsf),
                  kwnames, NULL);
}

/* Every field and attribute of the record, by rs_read(): a new dict, or
 * NULL with an error. */
static PyObject *read_dict(ClassObject *c, rs_handle h)
{
    size_t cap = (size_t)c->n_fields + RS_ATTRS_MAX;
    /* Made before rs_read(), whose names are the store's: making a dict
     * may let the cyclic GC run a finalizer, which may close the store. */
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    rs_attr *items = PyMem_Malloc(cap * sizeof *items);
    char small[4096];
    char *buf = small;
    size_t buflen = sizeof small;
    if (items == NULL) {
        Py_DECREF(d);
        return PyErr_NoMemory();
    }
    size_t n, need;
    rs_status rc;
    for (;;) {
        rc = rs_read(c->store->st, h, items, cap, &n, buf, buflen, &need);
        if (rc != RS_ETOOLONG || need <= buflen) {
            break;
        }
        if (buf != small) {
            PyMem_Free(buf);
        }
        buf = PyMem_Malloc(need);
        buflen = need;
        if (buf == NULL) {
            PyMem_Free(items);
            Py_DECREF(d);
            return PyErr_NoMemory();
        }
    }
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        Py_CLEAR(d);
        goto done;
    }
    for (size_t i = 0; d != NULL && i < n; i++) {
        PyObject *v = rs_py_from_value(&items[i].val);
        if (v == NULL || PyDict_SetItemString(d, items[i].name, v) < 0) {
            Py_CLEAR(d);
        }
        Py_XDECREF(v);
    }
done:
    PyMem_Free(items);
    if (buf != small) {
        PyMem_Free(buf);
    }
    return d;
}

static PyObject *record_repr(PyObject *self)
{
    ClassObject *c = RS_PY_CLASS(self);
    rs_handle h = ((RecordObject *)self)->h;
    if (c->store->st == NULL) {
        return PyUnicode_FromFormat("<%s: store closed>",
                                    ((PyTypeObject *)c)->tp_name);
    }
    if (rs_check(c->store->st, h) != RS_OK) {
        char hex[24];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
        return PyUnicode_FromFormat("<%s: stale handle 0x%s>",
                                    ((PyTypeObject *)c)->tp_name, hex);
    }
    PyObject *d = read_dict(c, h);
    if (d == NULL) {
        return NULL;
    }
    PyObject *parts = PyList_New(0);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (parts && PyDict_Next(d, &pos, &k, &v)) {
        PyObject *s = PyUnicode_FromFormat("%U=%R", k, v);
        if (s == NULL || PyList_Append(parts, s) < 0) {
            Py_CLEAR(parts);
        }
        Py_XDECREF(s);
    }
    Py_DECREF(d);
    if (parts == NULL) {
        return NULL;
    }
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *body = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    if (body == NULL) {
        return NULL;
    }
    PyObject *r =
        PyUnicode_FromFormat("%s(%U)", ((PyTypeObject *)c)->tp_name, body);
    Py_DECREF(body);
    return r;
}

/* b is a proxy too: its class is a declared class (it has a store; not
 * its cls, which a close clears, and == needs no store). */
static int same_kind(PyObject *a, PyObject *b)
{
    return Py_TYPE(Py_TYPE(a)) == Py_TYPE(Py_TYPE(b)) &&
           RS_PY_CLASS(b)->store != NULL;
}

static PyObject *record_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !same_kind(a, b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq = RS_PY_CLASS(a)->store == RS_PY_CLASS(b)->store &&
             ((RecordObject *)a)->h == ((RecordObject *)b)->h;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t record_hash(PyObject *self)
{
    uint64_t x = ((RecordObject *)self)->h ^
                 ((uint64_t)(uintptr_t)RS_PY_CLASS(self)->store >> 4);
    x *= 0x9E3779B97F4A7C15u;
    x ^= x >> 29;
    Py_hash_t hash = (Py_hash_t)x;
    return hash == -1 ? -2 : hash;
}

/* sys.getsizeof(p): the record's deep size (rs_record_size()): its row,
 * the string bytes it owns, its attributes.  Not the proxy's 32 bytes:
 * the proxy is transient, the record is what the store keeps. */
static PyObject *record_sizeof(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    ClassObject *c = RS_PY_CLASS(self);
    size_t n;
    rs_status rc = rs_record_size(c->store->st, ((RecordObject *)self)->h, &n);
    if (rc != RS_OK) {
        return rs_py_raise(c->store, rc);
    }
    return PyLong_FromSize_t(n);
}

static PyObject *record_dir(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    ClassObject *c = RS_PY_CLASS(self);
    PyObject *objdir =
        PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__dir__");
    if (objdir == NULL) {
        return NULL;
    }
    PyObject *names = PyObject_CallOneArg(objdir, self);
    Py_DECREF(objdir);
    if (names == NULL || !c->dynamic) {
        return names;
    }
    const char *ds[RS_MAX_FIELDS + RS_ATTRS_MAX];
    size_t n;
    rs_status rc = rs_dir(c->store->st, ((RecordObject *)self)->h, ds,
                          RS_MAX_FIELDS + RS_ATTRS_MAX, &n);
    if (rc != RS_OK) {
        Py_DECREF(names);
        return rs_py_raise(c->store, rc);
    }
    for (size_t i = (size_t)c->n_fields; i < n; i++) {
        PyObject *s = PyUnicode_FromString(ds[i]);
        if (s == NULL || PyList_Append(names, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(s);
    }
    return names;
}

/* The pairs of a dict as rs_named (names and strings borrowed from d). */
static int named_of(PyObject *d, const char *cls, rs_named **out, Py_ssize_t *n)
{
    *n = PyDict_GET_SIZE(d);
    rs_named *vals = PyMem_Calloc((size_t)*n + 1, sizeof *vals);
    if (vals == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        int ok = rs_py_utf8_name(k, &vals[i].name);
        if (ok <= 0) {
            if (ok == 0) {
                PyErr_Format(PyExc_TypeError,
                             "%s: %R is not an attribute "
                             "name",
                             cls, k);
            }
            PyMem_Free(vals);
            return -1;
        }
        if (rs_py_to_value(v, cls, vals[i].name, &vals[i].val) < 0) {
            PyMem_Free(vals);
            return -1;
        }
        i++;
    }
    *out = vals;
    return 0;
}

/* The arguments of update(mapping=(), **fields) in a new dict, taken as
 * dict.update() takes them: a mapping (anything with keys()) or an
 * iterable of pairs, then the keywords.  NULL with an error. */
static PyObject *update_pairs(PyObject *args, PyObject *kw)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(args) > 1) {
        PyErr_SetString(PyExc_TypeError,
                        "update() takes at most one positional argument");
        goto fail;
    }
    if (PyTuple_GET_SIZE(args) == 1) {
        PyObject *arg = PyTuple_GET_ITEM(args, 0);
        int has_keys =
            PyDict_Check(arg) ? 1 : PyObject_HasAttrString(arg, "keys");
        int r = has_keys ? PyDict_Merge(d, arg, 1)
                         : PyDict_MergeFromSeq2(d, arg, 1);
        if (r < 0) {
            goto fail;
        }
    }
    if (kw != NULL && PyDict_Update(d, kw) < 0) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* update(mapping=(), **fields): every value set, or none (rs_set_many). */
static PyObject *record_update(PyObject *self, PyObject *args, PyObject *kw)
{
    ClassObject *c = RS_PY_CLASS(self);
    PyObject *d = update_pairs(args, kw);
    if (d == NULL) {
        return NULL;
    }
    rs_named *vals;
    Py_ssize_t n;
    if (named_of(d, ((PyTypeObject *)c)->tp_name, &vals, &n) < 0) {
        goto fail;
    }
    rs_status rc = RS_OK;
    if (n > 0) {
        rc = rs_set_many(c->store->st, ((RecordObject *)self)->h, vals,
                         (size_t)n);
    }
    PyMem_Free(vals);
    Py_DECREF(d);
    if (rc != RS_OK) {
        return rs_py_raise(c->store, rc);
    }
    Py_RETURN_NONE;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *record_remove(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    ClassObject *c = RS_PY_CLASS(self);
    rs_status rc = rs_remove(c->store->st, ((RecordObject *)self)->h);
    if (rc != RS_OK) {
        return rs_py_raise(c->store, rc);
    }
    Py_RETURN_NONE;
}

static PyObject *record_reduce(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    PyErr_Format(PyExc_TypeError,
                 "cannot pickle '%s' object: save the store instead",
                 Py_TYPE(self)->tp_name);
    return NULL;
}

static PyMethodDef record_methods[] = {
    {"__sizeof__", record_sizeof, METH_NOARGS,
     "the record's deep size in bytes (rs_record_size)"},
    {"__dir__", record_dir, METH_NOARGS, NULL},
    {"__reduce__", record_reduce, METH_NOARGS, NULL},
    {"update", (PyCFunction)(void (*)(void))record_update,
     METH_VARARGS | METH_KEYWORDS,
     "update(mapping=(), **fields): set them all, or none"},
    {"remove", record_remove, METH_NOARGS, "remove(): remove the record"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot record_slots[] = {
    {Py_tp_new, record_new},
    {Py_tp_dealloc, record_dealloc},
    {Py_tp_getattro, record_getattro},
    {Py_tp_setattro, record_setattro},
    {Py_tp_repr, record_repr},
    {Py_tp_richcompare, record_richcompare},
    {Py_tp_hash, record_hash},
    {Py_tp_methods, record_methods},
    {0, NULL},
};

PyType_Spec rs_py_record_spec = {
    .name = "roster._RecordBase",
    .basicsize = sizeof(RecordObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = record_slots,
};

/* ------------------------------------------------------------------------ */
/* The live __dict__ of a dynamic record                                     */
/* ------------------------------------------------------------------------ */

/* p.__dict__: every field and attribute, read and written through the
 * store each time (nothing copied), as a plain instance's __dict__ is. */
typedef struct AttrsObject {
    PyObject_HEAD ClassObject *owner; /* strong */
    rs_handle h;
} AttrsObject;

static PyObject *record_get_dict(PyObject *self, void *closure)
{
    (void)closure;
    RecordObject *r = (RecordObject *)self;
    if (rs_py_check_open(RS_PY_CLASS(self)->store) < 0) {
        return NULL;
    }
    if (r->attrs == NULL) {
        ClassObject *c = RS_PY_CLASS(self);
        PyTypeObject *tp = c->store->state->attrs_type;
        AttrsObject *a = (AttrsObject *)tp->tp_alloc(tp, 0);
        if (a == NULL) {
            return NULL;
        }
        a->owner = (ClassObject *)Py_NewRef(c);
        a->h = r->h;
        r->attrs = (PyObject *)a;
    }
    return Py_NewRef(r->attrs);
}

PyGetSetDef rs_py_dict_getset = {
    "__dict__", record_get_dict, NULL,
    "the record's fields and attributes: a live mapping", NULL};

static PyObject *attrs_getitem(PyObject *self, PyObject *key)
{
    AttrsObject *a = (AttrsObject *)self;
    PyObject *v;
    int r = dyn_get(a->owner, a->h, key, &v, 0);
    if (r == 0) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    return r > 0 ? v : NULL;
}

static int attrs_setitem(PyObject *self, PyObject *key, PyObject *value)
{
    AttrsObject *a = (AttrsObject *)self;
    ClassObject *c = a->owner;
    const char *p;
    int ok = rs_py_utf8_name(key, &p);
    if (ok <= 0) {
        if (ok == 0) {
            if (value == NULL) {
                PyErr_SetObject(PyExc_KeyError, key);
            } else {
                PyErr_Format(PyExc_TypeError,
                             "'%s' records bind attribute names only, "
                             "not %R",
                             ((PyTypeObject *)c)->tp_name, key);
            }
        }
        return -1;
    }
    rs_status rc;
    if (value == NULL) {
        /* By the class's own names, not rs_class_field(): the rule holds
         * on a closed store too, as for del p.level. */
        int declared = 0;
        for (Py_ssize_t i = 0; i < c->n_fields && !declared; i++) {
            declared = strcmp(c->fields[i].cname, p) == 0;
        }
        if (declared) {
            PyErr_Format(PyExc_TypeError,
                         "cannot delete %s.%s: a declared field always "
                         "holds a value",
                         ((PyTypeObject *)c)->tp_name, p);
            return -1;
        }
        rc = rs_del_attr(c->store->st, a->h, p);
        if (rc == RS_ENOATTR) {
            PyErr_SetObject(PyExc_KeyError, key);
            return -1;
        }
    } else {
        rs_value v;
        if (rs_py_to_value(value, ((PyTypeObject *)c)->tp_name, p, &v) < 0) {
            return -1;
        }
        rc = rs_set_attr(c->store->st, a->h, p, &v);
    }
    if (rc != RS_OK) {
        rs_py_raise(c->store, rc);
        return -1;
    }
    return 0;
}

static PyObject *attrs_names(AttrsObject *a)
{
    /* Made before rs_dir(), whose names are the store's: making a list may
     * let the cyclic GC run a finalizer, which may close the store.
     * Appending runs nothing. */
    PyObject *l = PyList_New(0);
    if (l == NULL) {
        return NULL;
    }
    const char *ds[RS_MAX_FIELDS + RS_ATTRS_MAX];
    size_t n;
    rs_status rc =
        rs_dir(a->owner->store->st, a->h, ds, RS_MAX_FIELDS + RS_ATTRS_MAX, &n);
    if (rc != RS_OK) {
        Py_DECREF(l);
        return rs_py_raise(a->owner->store, rc);
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(ds[i]);
        if (s == NULL || PyList_Append(l, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(l);
            return NULL;
        }
        Py_DECREF(s);
    }
    return l;
}

static Py_ssize_t attrs_length(PyObject *self)
{
    AttrsObject *a = (AttrsObject *)self;
    size_t n;
    rs_status rc = rs_dir(a->owner->store->st, a->h, NULL, 0, &n);
    if (rc != RS_OK) {
        rs_py_raise(a->owner->store, rc);
        return -1;
    }
    return (Py_ssize_t)n;
}

static int attrs_contains(PyObject *self, PyObject *key)
{
    AttrsObject *a = (AttrsObject *)self;
    PyObject *v;
    int r = dyn_get(a->owner, a->h, key, &v, 0);
    if (r > 0) {
        Py_DECREF(v);
    }
    return r;
}

static PyObject *attrs_iter(PyObject *self)
{
    PyObject *l = attrs_names((AttrsObject *)self);
    if (l == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(l);
    Py_DECREF(l);
    return it;
}

static PyObject *attrs_copy(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    AttrsObject *a = (AttrsObject *)self;
    return read_dict(a->owner, a->h);
}

static PyObject *attrs_keys(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    return attrs_names((AttrsObject *)self);
}

static PyObject *attrs_via_dict(PyObject *self, const char *method)
{
    PyObject *d = attrs_copy(self, NULL);
    if (d == NULL) {
        return NULL;
    }
    PyObject *v = PyObject_CallMethod(d, method, NULL);
    Py_DECREF(d);
    if (v == NULL) {
        return NULL;
    }
    PyObject *l = PySequence_List(v);
    Py_DECREF(v);
    return l;
}

static PyObject *attrs_values(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    return attrs_via_dict(self, "values");
}

static PyObject *attrs_items(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    return attrs_via_dict(self, "items");
}

static PyObject *attrs_get(PyObject *self, PyObject *const *args,
                           Py_ssize_t nargs)
{
    AttrsObject *a = (AttrsObject *)self;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    PyObject *v;
    int r = dyn_get(a->owner, a->h, args[0], &v, 0);
    if (r == 0) {
        return Py_NewRef(nargs > 1 ? args[1] : Py_None);
    }
    return r > 0 ? v : NULL;
}

static PyObject *attrs_pop(PyObject *self, PyObject *const *args,
                           Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "pop(key[, default])");
        return NULL;
    }
    PyObject *v = attrs_getitem(self, args[0]);
    if (v == NULL) {
        if (nargs > 1 && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
            return Py_NewRef(args[1]);
        }
        return NULL;
    }
    if (attrs_setitem(self, args[0], NULL) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

static PyObject *attrs_update(PyObject *self, PyObject *args, PyObject *kw)
{
    AttrsObject *a = (AttrsObject *)self;
    PyObject *tmp = update_pairs(args, kw);
    if (tmp == NULL) {
        return NULL;
    }
    rs_named *vals;
    Py_ssize_t n;
    if (named_of(tmp, ((PyTypeObject *)a->owner)->tp_name, &vals, &n) < 0) {
        Py_DECREF(tmp);
        return NULL;
    }
    rs_status rc =
        n ? rs_set_many(a->owner->store->st, a->h, vals, (size_t)n) : RS_OK;
    PyMem_Free(vals);
    Py_DECREF(tmp);
    if (rc != RS_OK) {
        return rs_py_raise(a->owner->store, rc);
    }
    Py_RETURN_NONE;
}

static PyObject *attrs_repr(PyObject *self)
{
    ClassObject *c = ((AttrsObject *)self)->owner;
    if (c->store->st == NULL) {
        return PyUnicode_FromFormat("<%s __dict__: store closed>",
                                    ((PyTypeObject *)c)->tp_name);
    }
    PyObject *d = attrs_copy(self, NULL);
    if (d == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_Repr(d);
    Py_DECREF(d);
    return r;
}

static PyObject *attrs_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *d = attrs_copy(a, NULL);
    if (d == NULL) {
        return NULL;
    }
    PyObject *other = b;
    if (Py_IS_TYPE(b, Py_TYPE(a))) {
        other = attrs_copy(b, NULL);
        if (other == NULL) {
            Py_DECREF(d);
            return NULL;
        }
    } else {
        Py_INCREF(other);
    }
    PyObject *r = PyObject_RichCompare(d, other, op);
    Py_DECREF(d);
    Py_DECREF(other);
    return r;
}

static void attrs_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(((AttrsObject *)self)->owner);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef attrs_methods[] = {
    {"keys", attrs_keys, METH_NOARGS, "the names: fields, then attributes"},
    {"values", attrs_values, METH_NOARGS, NULL},
    {"items", attrs_items, METH_NOARGS, NULL},
    {"get", (PyCFunction)(void (*)(void))attrs_get, METH_FASTCALL, NULL},
    {"pop", (PyCFunction)(void (*)(void))attrs_pop, METH_FASTCALL, NULL},
    {"update", (PyCFunction)(void (*)(void))attrs_update,
     METH_VARARGS | METH_KEYWORDS, "all or none (rs_set_many)"},
    {"copy", attrs_copy, METH_NOARGS, "a plain dict of the values now"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot attrs_slots[] = {
    {Py_tp_doc, "A dynamic record's __dict__: a live view of its fields "
                "and attributes."},
    {Py_mp_subscript, attrs_getitem},
    {Py_mp_ass_subscript, attrs_setitem},
    {Py_mp_length, attrs_length},
    {Py_sq_contains, attrs_contains},
    {Py_tp_iter, attrs_iter},
    {Py_tp_methods, attrs_methods},
    {Py_tp_repr, attrs_repr},
    {Py_tp_richcompare, attrs_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_dealloc, attrs_dealloc},
    {0, NULL},
};

PyType_Spec rs_py_attrs_spec = {
    .name = "roster.Attrs",
    .basicsize = sizeof(AttrsObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_MAPPING,
    .slots = attrs_slots,
};
