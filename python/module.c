/*
 * module.c: the roster module.  Multi-phase initialisation; every type is
 * a heap type made from a spec in the module's exec slot, and every
 * exception class lives in the module state.
 *
 * Errors: a library status becomes a Python exception carrying the
 * library's message (rs_errmsg()) and, as .status, the status's name:
 *
 *   RS_ETYPE                      TypeError
 *   RS_ERANGE                     OverflowError
 *   RS_EINVAL, RS_ETOOLONG,
 *   RS_EUTF8, RS_ESYNTAX          ValueError
 *   RS_EEXIST                     roster.DuplicateError (a ValueError)
 *   RS_ESTALE                     roster.StaleError (a ReferenceError)
 *   RS_ENOATTR                    AttributeError
 *   RS_ENOTFOUND                  KeyError
 *   RS_ENOMEM                     MemoryError
 *   RS_EIO                        OSError
 *   RS_EFORMAT                    roster.FormatError (a ValueError)
 *   RS_EGROUP                     roster.GroupError
 *   anything else                 roster.Error
 *
 *   and any call on a closed store   roster.ClosedError (a ValueError)
 *
 * Values: bool, int, float and str go to the library as they are (bool
 * first, since bool is an int); the library checks them against the
 * field and words the error.  An int beyond 64 bits never reaches it: it
 * is refused here with the library's wording ("Player.level: 2**70 out of
 * range for u16" with the number written out).
 */
#include "roster_py.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static PyObject *exc_for(rs_py_state *S, rs_status rc)
{
    switch (rc) {
    case RS_ETYPE:
        return PyExc_TypeError;
    case RS_ERANGE:
        return PyExc_OverflowError;
    case RS_EINVAL:
    case RS_ETOOLONG:
    case RS_EUTF8:
    case RS_ESYNTAX:
        return PyExc_ValueError;
    case RS_EEXIST:
        return S->DuplicateError;
    case RS_ESTALE:
        return S->StaleError;
    case RS_ENOATTR:
        return PyExc_AttributeError;
    case RS_ENOTFOUND:
        return PyExc_KeyError;
    case RS_ENOMEM:
        return PyExc_MemoryError;
    case RS_EIO:
        return PyExc_OSError;
    case RS_EFORMAT:
        return S->FormatError;
    case RS_EGROUP:
        return S->GroupError;
    default:
        return S->Error;
    }
}

PyObject *rs_py_raise_msg(rs_py_state *S, rs_status rc, const char *msg)
{
    if (msg == NULL || msg[0] == '\0') {
        msg = rs_status_str(rc);
    }
    PyObject *type = exc_for(S, rc);
    PyObject *text =
        PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
    if (text == NULL) {
        return NULL;
    }
    PyObject *exc = PyObject_CallOneArg(type, text);
    Py_DECREF(text);
    if (exc == NULL) {
        return NULL;
    }
    PyObject *name = PyUnicode_FromString(rs_status_name(rc));
    if (name == NULL || PyObject_SetAttrString(exc, "status", name) < 0) {
        Py_XDECREF(name);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(name);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *rs_py_raise(StoreObject *s, rs_status rc)
{
    if (s->st == NULL) {
        /* The library refused a NULL store (RS_EINVAL, no message). */
        rs_py_check_open(s);
        return NULL;
    }
    return rs_py_raise_msg(s->state, rc, rs_errmsg(s->st));
}

int rs_py_check_open(StoreObject *s)
{
    if (s->st != NULL) {
        return 0;
    }
    PyErr_SetString(s->state->ClosedError, "the store is closed");
    return -1;
}

/* AttributeError: 'Player' object has no attribute 'x', with .name and
 * .obj set as CPython sets them, so a typo gets "Did you mean: ...?". */
void rs_py_attr_error(PyObject *obj, PyObject *name)
{
    PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%U'",
                 Py_TYPE(obj)->tp_name, name);
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v != NULL) {
        if (PyObject_SetAttrString(v, "name", name) < 0 ||
            PyObject_SetAttrString(v, "obj", obj) < 0) {
            PyErr_Clear();
        }
    }
    PyErr_Restore(t, v, tb);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

PyObject *rs_py_from_value(const rs_value *v)
{
    switch (v->type) {
    case RS_BOOL:
        return PyBool_FromLong(v->v.b);
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        return PyLong_FromLongLong(v->v.i);
    case RS_U8:
    case RS_U16:
    case RS_U32:
    case RS_U64:
        return PyLong_FromUnsignedLongLong(v->v.u);
    case RS_F32:
    case RS_F64:
        return PyFloat_FromDouble(v->v.f);
    case RS_STR:
        return PyUnicode_DecodeUTF8(v->v.s.ptr, (Py_ssize_t)v->v.s.len,
                                    "surrogateescape");
    default:
        PyErr_Format(PyExc_SystemError, "roster: value of unknown type %d",
                     (int)v->type);
        return NULL;
    }
}

/* The UTF-8 of a str that is not ASCII, written into dst (cap bytes):
 * its length, or -1 if it does not fit or holds a lone surrogate (which
 * PyUnicode_AsUTF8AndSize() then reports). */
static Py_ssize_t utf8_into(PyObject *o, char *dst, size_t cap)
{
    int kind = PyUnicode_KIND(o);
    const void *data = PyUnicode_DATA(o);
    Py_ssize_t n = PyUnicode_GET_LENGTH(o);
    size_t w = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 0x80) {
            if (w + 1 > cap) {
                return -1;
            }
            dst[w++] = (char)ch;
        } else if (ch < 0x800) {
            if (w + 2 > cap) {
                return -1;
            }
            dst[w++] = (char)(0xC0 | (ch >> 6));
            dst[w++] = (char)(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            if ((ch >= 0xD800 && ch <= 0xDFFF) || w + 3 > cap) {
                return -1;
            }
            dst[w++] = (char)(0xE0 | (ch >> 12));
            dst[w++] = (char)(0x80 | ((ch >> 6) & 0x3F));
            dst[w++] = (char)(0x80 | (ch & 0x3F));
        } else {
            if (w + 4 > cap) {
                return -1;
            }
            dst[w++] = (char)(0xF0 | (ch >> 18));
            dst[w++] = (char)(0x80 | ((ch >> 12) & 0x3F));
            dst[w++] = (char)(0x80 | ((ch >> 6) & 0x3F));
            dst[w++] = (char)(0x80 | (ch & 0x3F));
        }
    }
    return (Py_ssize_t)w;
}

/* A str's UTF-8: an ASCII str's own bytes, or the UTF-8 the str already
 * caches; else, with room in sc, encoded into sc (a str that is not ASCII
 * would otherwise allocate a UTF-8 copy it keeps until it dies: a
 * malloc, a copy and a free per argument, for a throwaway argument). */
static int str_utf8(PyObject *o, rs_py_scratch *sc, const char **p,
                    Py_ssize_t *len)
{
    if (sc != NULL && PyUnicode_IS_COMPACT(o) && !PyUnicode_IS_ASCII(o) &&
        ((PyCompactUnicodeObject *)o)->utf8 == NULL) {
        Py_ssize_t n = utf8_into(o, sc->buf + sc->used, sc->cap - sc->used);
        if (n >= 0) {
            *p = sc->buf + sc->used;
            *len = n;
            sc->used += (size_t)n;
            return 0;
        }
    }
    *p = PyUnicode_AsUTF8AndSize(o, len);
    return *p != NULL ? 0 : -1;
}

static int int_value(PyObject *o, const char *cls, const char *field,
                     rs_value *out)
{
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
        if (i == -1 && PyErr_Occurred()) {
            return -1;
        }
        out->type = RS_I64;
        out->v.i = i;
        return 0;
    }
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
            *out = rs_val_uint(u);
            return 0;
        }
        PyErr_Clear();
    }
    PyErr_Format(PyExc_OverflowError, "%s.%s: %S out of range for 64 bits", cls,
                 field, o);
    return -1;
}

/* A Python value as the library takes it.  A string borrows o's UTF-8
 * (valid while o lives) or sc's bytes (sc may be NULL).  cls and field
 * name the target in messages.  The exact types first (no subclass
 * walk), bool before int since bool is an int. */
int rs_py_to_value_sc(PyObject *o, const char *cls, const char *field,
                      rs_value *out, rs_py_scratch *sc)
{
    PyTypeObject *t = Py_TYPE(o);
    if (t == &PyUnicode_Type) {
        Py_ssize_t len;
        const char *p;
        if (str_utf8(o, sc, &p, &len) < 0) {
            return -1;
        }
        out->type = RS_STR;
        out->v.s.ptr = p;
        out->v.s.len = (size_t)len;
        return 0;
    }
    if (t == &PyLong_Type) {
        return int_value(o, cls, field, out);
    }
    if (PyBool_Check(o)) {
        *out = rs_val_bool(o == Py_True);
        return 0;
    }
    if (PyLong_Check(o)) {
        return int_value(o, cls, field, out);
    }
    if (PyFloat_Check(o)) {
        *out = rs_val_f64(PyFloat_AS_DOUBLE(o));
        return 0;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t len;
        const char *p;
        if (str_utf8(o, sc, &p, &len) < 0) {
            return -1;
        }
        *out = rs_val_str(p, (size_t)len);
        return 0;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s.%s: expected bool, int, float or str, got %.100s", cls,
                 field, Py_TYPE(o)->tp_name);
    return -1;
}

int rs_py_to_value(PyObject *o, const char *cls, const char *field,
                   rs_value *out)
{
    return rs_py_to_value_sc(o, cls, field, out, NULL);
}

/* The UTF-8 of an attribute name, NUL-terminated: 1; 0 if it cannot name
 * an attribute (not a str, a NUL inside, a lone surrogate), no error set;
 * -1 on error. */
int rs_py_utf8_name(PyObject *name, const char **out)
{
    if (!PyUnicode_Check(name)) {
        return 0;
    }
    Py_ssize_t len;
    const char *p = PyUnicode_AsUTF8AndSize(name, &len);
    if (p == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    if (strlen(p) != (size_t)len) {
        return 0;
    }
    *out = p;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* roster.Type: the field types of a class body                              */
/* ------------------------------------------------------------------------ */

/* roster.u16 is a Type; so are roster.str(16) and roster.u32(key=True):
 * calling a Type gives a copy with the arguments applied. */
typedef struct SpecObject {
    PyObject_HEAD rs_type type;
    uint32_t max_len;
    uint32_t inline_len;
    unsigned flags;
} SpecObject;

int rs_py_spec_check(rs_py_state *S, PyObject *o)
{
    return Py_IS_TYPE(o, S->spec_type);
}

/* Fill the type part of a field definition from a spec. */
int rs_py_spec_def(PyObject *spec, rs_field_def *out)
{
    SpecObject *sp = (SpecObject *)spec;
    if (sp->type == RS_STR && sp->max_len == 0) {
        PyErr_SetString(PyExc_TypeError,
                        "roster.str needs its maximum length in bytes: "
                        "roster.str(32)");
        return -1;
    }
    out->type = sp->type;
    out->max_len = sp->max_len;
    out->flags = sp->flags;
    out->inline_len = sp->inline_len;
    return 0;
}

static PyObject *spec_new_of(PyTypeObject *tp, rs_type t, uint32_t max_len,
                             unsigned flags, uint32_t inline_len)
{
    SpecObject *sp = (SpecObject *)tp->tp_alloc(tp, 0);
    if (sp == NULL) {
        return NULL;
    }
    sp->type = t;
    sp->max_len = max_len;
    sp->flags = flags;
    sp->inline_len = inline_len;
    return (PyObject *)sp;
}

static PyObject *spec_call(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"max_len", "key", "unique", "inline", NULL};
    SpecObject *sp = (SpecObject *)self;
    Py_ssize_t max_len = sp->max_len, inl = sp->inline_len;
    int key = (sp->flags & RS_FIELD_KEY) != 0;
    int unique = (sp->flags & RS_FIELD_UNIQUE) != 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|n$ppn", kwlist, &max_len, &key,
                                     &unique, &inl)) {
        return NULL;
    }
    if (sp->type != RS_STR && (PyTuple_GET_SIZE(args) > 0 || inl != 0)) {
        PyErr_Format(PyExc_TypeError,
                     "roster.%s takes no length and no inline(): only "
                     "roster.str does",
                     rs_type_name(sp->type));
        return NULL;
    }
    if (max_len < 0 || (size_t)max_len > RS_MAX_STR || inl < 0 ||
        inl > RS_MAX_INLINE) {
        PyErr_Format(PyExc_ValueError,
                     "roster.str(%zd, inline=%zd): the length is 1..%u "
                     "bytes, inline 0 or %d..%d",
                     max_len, inl, (unsigned)RS_MAX_STR, RS_MIN_INLINE,
                     RS_MAX_INLINE);
        return NULL;
    }
    unsigned flags =
        (key ? RS_FIELD_KEY : 0u) | (unique ? RS_FIELD_UNIQUE : 0u);
    return spec_new_of(Py_TYPE(self), sp->type, (uint32_t)max_len, flags,
                       (uint32_t)inl);
}

static PyObject *spec_repr(PyObject *self)
{
    SpecObject *sp = (SpecObject *)self;
    char buf[160];
    int n;
    if (sp->type == RS_STR) {
        n = snprintf(buf, sizeof buf, "roster.str(%u", sp->max_len);
    } else {
        n = snprintf(buf, sizeof buf, "roster.%s", rs_type_name(sp->type));
        if (sp->flags != 0) {
            n += snprintf(buf + n, sizeof buf - (size_t)n, "(");
        }
    }
    const char *sep = sp->type == RS_STR ? ", " : "";
    if (sp->flags & RS_FIELD_KEY) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%skey=True", sep);
        sep = ", ";
    }
    if (sp->flags & RS_FIELD_UNIQUE) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%sunique=True", sep);
        sep = ", ";
    }
    if (sp->inline_len != 0) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%sinline=%u", sep,
                      sp->inline_len);
    }
    if (sp->type == RS_STR || sp->flags != 0) {
        snprintf(buf + n, sizeof buf - (size_t)n, ")");
    }
    return PyUnicode_FromString(buf);
}

static PyObject *spec_richcompare(PyObject *a, PyObject *b, int op)
{
    if (!Py_IS_TYPE(b, Py_TYPE(a)) || (op != Py_EQ && op != Py_NE)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    SpecObject *x = (SpecObject *)a, *y = (SpecObject *)b;
    int eq = x->type == y->type && x->max_len == y->max_len &&
             x->flags == y->flags && x->inline_len == y->inline_len;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static void spec_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot spec_slots[] = {
    {Py_tp_doc, "A field type for a class body: roster.u16, roster.str(32), "
                "roster.str(16, key=True), roster.u32(unique=True)."},
    {Py_tp_call, spec_call},
    {Py_tp_repr, spec_repr},
    {Py_tp_richcompare, spec_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_dealloc, spec_dealloc},
    {0, NULL},
};

static PyType_Spec spec_spec = {
    .name = "roster.Type",
    .basicsize = sizeof(SpecObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = spec_slots,
};

/* ------------------------------------------------------------------------ */
/* Groups: with store.group():                                               */
/* ------------------------------------------------------------------------ */

typedef struct GroupObject {
    PyObject_HEAD StoreObject *store;
    int open;
} GroupObject;

static PyObject *group_enter(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    GroupObject *g = (GroupObject *)self;
    if (g->open || g->store->in_group) {
        PyErr_SetString(g->store->state->GroupError,
                        "a group is already open on this store (groups do "
                        "not nest)");
        return NULL;
    }
    if (rs_py_check_open(g->store) < 0) {
        return NULL;
    }
    rs_status rc = rs_group_begin(g->store->st);
    if (rc != RS_OK) {
        return rs_py_raise(g->store, rc);
    }
    g->open = 1;
    g->store->in_group = 1;
    g->store->group = self;
    return Py_NewRef(self);
}

static PyObject *group_exit(PyObject *self, PyObject *const *args,
                            Py_ssize_t nargs)
{
    GroupObject *g = (GroupObject *)self;
    if (!g->open) {
        Py_RETURN_FALSE;
    }
    if (g->store->batch > 0) {
        PyErr_SetString(g->store->state->GroupError,
                        "the group cannot end while insert_many() inserts in "
                        "it (its rows' code called __exit__)");
        return NULL;
    }
    g->open = 0;
    g->store->in_group = 0;
    g->store->group = NULL;
    if (nargs > 0 && args[0] != Py_None) {
        rs_group_abort(g->store->st);
        Py_RETURN_FALSE;
    }
    rs_status rc = rs_group_commit(g->store->st);
    if (rc != RS_OK) {
        return rs_py_raise(g->store, rc);
    }
    Py_RETURN_FALSE;
}

static void group_dealloc(PyObject *self)
{
    GroupObject *g = (GroupObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    if (g->open) {
        rs_group_abort(g->store->st);
        g->store->in_group = 0;
        g->store->group = NULL;
    }
    Py_XDECREF(g->store);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef group_methods[] = {
    {"__enter__", group_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))group_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot group_slots[] = {
    {Py_tp_doc, "with store.group(): every change inside applies, or none "
                "does (an exception rolls the group back)."},
    {Py_tp_methods, group_methods},
    {Py_tp_dealloc, group_dealloc},
    {0, NULL},
};

static PyType_Spec group_spec = {
    .name = "roster.Group",
    .basicsize = sizeof(GroupObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = group_slots,
};

/* ------------------------------------------------------------------------ */
/* roster.Store                                                              */
/* ------------------------------------------------------------------------ */

static PyObject *store_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kw != NULL && PyDict_GET_SIZE(kw))) {
        PyErr_SetString(PyExc_TypeError, "Store() takes no arguments");
        return NULL;
    }
    StoreObject *s = (StoreObject *)tp->tp_alloc(tp, 0);
    if (s == NULL) {
        return NULL;
    }
    s->state = PyType_GetModuleState(tp);
    s->classes = PyDict_New();
    if (s->classes == NULL) {
        Py_DECREF(s);
        return NULL;
    }
    rs_status rc = rs_store_open(NULL, NULL, &s->st);
    if (rc != RS_OK) {
        Py_DECREF(s);
        return PyErr_NoMemory();
    }
    return (PyObject *)s;
}

static int store_traverse(PyObject *self, visitproc visit, void *arg)
{
    StoreObject *s = (StoreObject *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(s->classes);
    return 0;
}

static int store_clear(PyObject *self)
{
    StoreObject *s = (StoreObject *)self;
    Py_CLEAR(s->classes);
    return 0;
}

static void store_dealloc(PyObject *self)
{
    StoreObject *s = (StoreObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_CLEAR(s->classes);
    rs_store_close(s->st);
    s->st = NULL;
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *store_declare(PyObject *self, PyObject *text)
{
    if (rs_py_check_open((StoreObject *)self) < 0) {
        return NULL;
    }
    return rs_py_declare_text((StoreObject *)self, text);
}

/* The declared class called name, made from the store's own declaration
 * (a load or a durable open declares classes) if Python has none yet. */
static PyObject *store_class(StoreObject *s, PyObject *name)
{
    if (rs_py_check_open(s) < 0) {
        return NULL;
    }
    PyObject *c = PyDict_GetItemWithError(s->classes, name);
    if (c != NULL) {
        return Py_NewRef(c);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    const char *cname;
    int ok = rs_py_utf8_name(name, &cname);
    if (ok < 0) {
        return NULL;
    }
    rs_class *cls = ok ? rs_class_find(s->st, cname) : NULL;
    if (cls == NULL) {
        PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    return rs_py_class_for(s, cls, NULL);
}

static PyObject *store_getitem(PyObject *self, PyObject *name)
{
    return store_class((StoreObject *)self, name);
}

static PyObject *store_get_classes(PyObject *self, void *closure)
{
    (void)closure;
    StoreObject *s = (StoreObject *)self;
    if (rs_py_check_open(s) < 0) {
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0;; i++) {
        /* The store asked again at each turn: making a class may let the
         * cyclic GC run a finalizer, which may declare or close. */
        if (rs_py_check_open(s) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        if (i >= rs_n_classes(s->st)) {
            break;
        }
        PyObject *name =
            PyUnicode_FromString(rs_class_name(rs_class_at(s->st, i)));
        PyObject *c = name ? store_class(s, name) : NULL;
        if (c == NULL || PyDict_SetItem(out, name, c) < 0) {
            Py_XDECREF(name);
            Py_XDECREF(c);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(name);
        Py_DECREF(c);
    }
    return out;
}

static PyObject *store_group(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    StoreObject *s = (StoreObject *)self;
    if (rs_py_check_open(s) < 0) {
        return NULL;
    }
    PyTypeObject *tp = s->state->group_type;
    GroupObject *g = (GroupObject *)tp->tp_alloc(tp, 0);
    if (g == NULL) {
        return NULL;
    }
    g->store = (StoreObject *)Py_NewRef(self);
    return (PyObject *)g;
}

static int put_size(PyObject *d, const char *k, size_t v)
{
    PyObject *o = PyLong_FromSize_t(v);
    if (o == NULL) {
        return -1;
    }
    int r = PyDict_SetItemString(d, k, o);
    Py_DECREF(o);
    return r;
}

static PyObject *store_memory(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    StoreObject *s = (StoreObject *)self;
    if (rs_py_check_open(s) < 0) {
        return NULL;
    }
    rs_mem_report m;
    rs_mem(s->st, &m);
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        if (put_size(d, rs_mem_cat_name((rs_mem_cat)c), m.bytes[c]) < 0) {
            goto fail;
        }
    }
    if (put_size(d, "total", m.total) < 0 || put_size(d, "peak", m.peak) < 0 ||
        put_size(d, "n_allocs", m.n_allocs) < 0 ||
        put_size(d, "n_records", m.n_records) < 0 ||
        put_size(d, "n_attr_names", m.n_attr_names) < 0 ||
        put_size(d, "n_shapes", m.n_shapes) < 0 ||
        put_size(d, "n_retired", m.n_retired) < 0 ||
        put_size(d, "n_room", m.n_room) < 0) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *load_info_dict(const rs_load_info *info)
{
    return Py_BuildValue("{s:n,s:n,s:n,s:s}", "records",
                         (Py_ssize_t)info->n_records, "classes",
                         (Py_ssize_t)info->n_classes, "dropped_fields",
                         (Py_ssize_t)info->n_dropped, "dropped", info->dropped);
}

static PyObject *store_save(PyObject *self, PyObject *arg)
{
    StoreObject *s = (StoreObject *)self;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) {
        return NULL;
    }
    rs_save_info info;
    rs_status rc = rs_save(s->st, PyBytes_AS_STRING(path), &info);
    Py_DECREF(path);
    if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    return Py_BuildValue("{s:K,s:n,s:n,s:d}", "bytes",
                         (unsigned long long)info.bytes, "records",
                         (Py_ssize_t)info.n_records, "extra_bytes",
                         (Py_ssize_t)info.extra_bytes, "seconds", info.seconds);
}

static PyObject *store_load(PyObject *self, PyObject *arg)
{
    StoreObject *s = (StoreObject *)self;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) {
        return NULL;
    }
    rs_load_info info;
    rs_status rc = rs_load(s->st, PyBytes_AS_STRING(path), &info);
    Py_DECREF(path);
    if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    return load_info_dict(&info);
}

static PyObject *store_durable(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"base", "sync", NULL};
    StoreObject *s = (StoreObject *)self;
    PyObject *path = NULL;
    const char *sync = "always";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|s:durable", kwlist,
                                     PyUnicode_FSConverter, &path, &sync)) {
        return NULL;
    }
    rs_sync mode;
    if (strcmp(sync, "always") == 0) {
        mode = RS_SYNC_ALWAYS;
    } else if (strcmp(sync, "everysec") == 0) {
        mode = RS_SYNC_EVERYSEC;
    } else if (strcmp(sync, "never") == 0) {
        mode = RS_SYNC_NEVER;
    } else {
        Py_DECREF(path);
        PyErr_Format(PyExc_ValueError,
                     "sync must be 'always', 'everysec' or 'never', not '%s'",
                     sync);
        return NULL;
    }
    rs_load_info info;
    rs_status rc = rs_durable_open(s->st, PyBytes_AS_STRING(path), mode, &info);
    Py_DECREF(path);
    if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    s->durable = 1;
    return load_info_dict(&info);
}

static PyObject *store_sync(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    StoreObject *s = (StoreObject *)self;
    rs_status rc = rs_journal_sync(s->st);
    if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    Py_RETURN_NONE;
}

static PyObject *store_compact(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    StoreObject *s = (StoreObject *)self;
    rs_save_info info;
    rs_saver *sv;
    rs_status rc = rs_save_begin(s->st, NULL, &sv);
    if (rc == RS_OK) {
        rc = rs_save_finish(sv, &info);
    }
    if (rc != RS_OK) {
        return rs_py_raise(s, rc);
    }
    Py_RETURN_NONE;
}

/* store.close(): the store and everything in it freed now, not when the
 * cyclic GC gets to the store <-> class cycle; a durable store's journal
 * is synced and its files and lock released, so the same base can be
 * opened again at once.  Closing twice is allowed, as for a file. */
static PyObject *store_close(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    StoreObject *s = (StoreObject *)self;
    if (s->st == NULL) {
        Py_RETURN_NONE;
    }
    if (s->in_group) {
        /* insert_many() holds a group of its own while its rows' code
         * runs: say so, since that caller opened none. */
        PyErr_SetString(s->state->GroupError,
                        "close() inside a group (store.group(), or the one "
                        "insert_many() holds while it runs): leave it first");
        return NULL;
    }
    /* The last sync is done here rather than by rs_store_close(), which
     * cannot report it: an error is raised, after the close, as a failed
     * flush is by a file's close(). */
    rs_status rc = s->durable ? rs_journal_sync(s->st) : RS_OK;
    PyObject *et = NULL, *ev = NULL, *etb = NULL;
    if (rc != RS_OK) {
        rs_py_raise(s, rc);
        PyErr_Fetch(&et, &ev, &etb);
    }
    rs_py_scans_forget(s);
    rs_py_classes_forget(s);
    rs_store_close(s->st);
    s->st = NULL;
    if (et != NULL) {
        PyErr_Restore(et, ev, etb);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *store_enter(PyObject *self, PyObject *noargs)
{
    (void)noargs;
    if (rs_py_check_open((StoreObject *)self) < 0) {
        return NULL;
    }
    return Py_NewRef(self);
}

static PyObject *store_exit(PyObject *self, PyObject *const *args,
                            Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    PyObject *r = store_close(self, NULL);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *store_get_closed(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(((StoreObject *)self)->st == NULL);
}

static PyObject *store_repr(PyObject *self)
{
    StoreObject *s = (StoreObject *)self;
    if (s->st == NULL) {
        return PyUnicode_FromString("<roster.Store: closed>");
    }
    rs_mem_report m;
    rs_mem(s->st, &m);
    return PyUnicode_FromFormat("<roster.Store: %zu classes, %zu records, "
                                "%zu bytes%s>",
                                rs_n_classes(s->st), m.n_records, m.total,
                                s->durable ? ", durable" : "");
}

static PyMethodDef store_methods[] = {
    {"declare", store_declare, METH_O,
     "declare(text) -> class: declare a class from its text form"},
    {"group", store_group, METH_NOARGS,
     "group() -> context manager: the changes inside apply all or none"},
    {"memory", store_memory, METH_NOARGS,
     "memory() -> dict: the store's accounting, bytes by category"},
    {"save", store_save, METH_O, "save(path) -> dict: write a snapshot"},
    {"load", store_load, METH_O, "load(path) -> dict: load a snapshot"},
    {"durable", (PyCFunction)(void (*)(void))store_durable,
     METH_VARARGS | METH_KEYWORDS,
     "durable(base, sync='always') -> dict: load BASE.snap and replay "
     "BASE.journal, then journal every change"},
    {"sync", store_sync, METH_NOARGS, "sync(): fdatasync the journal now"},
    {"compact", store_compact, METH_NOARGS,
     "compact(): a new snapshot of a durable store, its journal restarted"},
    {"close", store_close, METH_NOARGS,
     "close(): free the store now (a durable one synced and its files "
     "released); every later use raises roster.ClosedError"},
    {"__enter__", store_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))store_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef store_getset[] = {
    {"classes", store_get_classes, NULL, "dict of the store's classes by name",
     NULL},
    {"closed", store_get_closed, NULL, "True once close() has run", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot store_slots[] = {
    {Py_tp_doc, "Store(): an empty store of records; classes are declared "
                "in it."},
    {Py_tp_new, store_new},
    {Py_tp_dealloc, store_dealloc},
    {Py_tp_traverse, store_traverse},
    {Py_tp_clear, store_clear},
    {Py_tp_methods, store_methods},
    {Py_tp_getset, store_getset},
    {Py_tp_repr, store_repr},
    {Py_mp_subscript, store_getitem},
    {0, NULL},
};

static PyType_Spec store_spec = {
    .name = "roster.Store",
    .basicsize = sizeof(StoreObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = store_slots,
};

/* ------------------------------------------------------------------------ */
/* The module                                                                */
/* ------------------------------------------------------------------------ */

static PyObject *mod_declare(PyObject *m, PyObject *const *args,
                             Py_ssize_t nargs)
{
    rs_py_state *S = PyModule_GetState(m);
    if (nargs != 2 || !Py_IS_TYPE(args[0], S->store_type)) {
        PyErr_SetString(PyExc_TypeError,
                        "declare(store, text): a roster.Store and the "
                        "class's text form");
        return NULL;
    }
    return rs_py_declare_text((StoreObject *)args[0], args[1]);
}

static PyMethodDef mod_methods[] = {
    {"declare", (PyCFunction)(void (*)(void))mod_declare, METH_FASTCALL,
     "declare(store, text) -> class: declare a class from its text form, "
     "e.g. 'Player { uid: str(16) key; level: u16 = 0 } dynamic'"},
    {NULL, NULL, 0, NULL},
};

static int add_type(PyObject *m, PyTypeObject **slot, PyType_Spec *spec,
                    PyObject *base)
{
    *slot = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, base);
    if (*slot == NULL) {
        return -1;
    }
    const char *dot = strrchr(spec->name, '.');
    return PyModule_AddObjectRef(m, dot ? dot + 1 : spec->name,
                                 (PyObject *)*slot);
}

static int add_exc(PyObject *m, PyObject **slot, const char *name,
                   PyObject *bases, const char *doc)
{
    char full[64];
    snprintf(full, sizeof full, "roster.%s", name);
    *slot = PyErr_NewExceptionWithDoc(full, doc, bases, NULL);
    if (*slot == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(m, name, *slot);
}

static int add_spec(PyObject *m, rs_py_state *S, const char *name, rs_type t)
{
    PyObject *sp = spec_new_of(S->spec_type, t, 0, 0, 0);
    if (sp == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(m, name, sp);
    Py_DECREF(sp);
    return r;
}

static int mod_exec(PyObject *m)
{
    rs_py_state *S = PyModule_GetState(m);
    if (add_type(m, &S->store_type, &store_spec, NULL) < 0 ||
        add_type(m, &S->meta_type, &rs_py_meta_spec, (PyObject *)&PyType_Type) <
            0 ||
        add_type(m, &S->spec_type, &spec_spec, NULL) < 0 ||
        add_type(m, &S->field_type, &rs_py_field_spec, NULL) < 0 ||
        add_type(m, &S->attrs_type, &rs_py_attrs_spec, NULL) < 0 ||
        add_type(m, &S->cond_type, &rs_py_cond_spec, NULL) < 0 ||
        add_type(m, &S->query_type, &rs_py_query_spec, NULL) < 0 ||
        add_type(m, &S->scan_type, &rs_py_scan_spec, NULL) < 0 ||
        add_type(m, &S->group_type, &group_spec, NULL) < 0) {
        return -1;
    }
    S->base_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(m, &rs_py_record_spec, NULL);
    if (S->base_type == NULL) {
        return -1;
    }
    PyObject *rec = rs_py_make_record_base(S, m);
    if (rec == NULL) {
        return -1;
    }
    S->record_type = (PyTypeObject *)rec;
    if (PyModule_AddObjectRef(m, "Record", rec) < 0) {
        return -1;
    }
    S->str_dict = PyUnicode_InternFromString("__dict__");
    if (S->str_dict == NULL) {
        return -1;
    }
    if (add_exc(m, &S->Error, "Error", NULL,
                "The base of roster's own exceptions.") < 0) {
        return -1;
    }
    /* The rest derive from roster.Error and, but for GroupError, the
     * builtin exception a caller would catch for the same trouble. */
    const struct {
        PyObject **slot;
        const char *name;
        PyObject *also;
        const char *doc;
    } excs[] = {
        {&S->DuplicateError, "DuplicateError", PyExc_ValueError,
         "A duplicate key or unique value."},
        {&S->StaleError, "StaleError", PyExc_ReferenceError,
         "A proxy whose record was removed."},
        {&S->FormatError, "FormatError", PyExc_ValueError,
         "A damaged or foreign snapshot or journal."},
        {&S->GroupError, "GroupError", NULL,
         "A group whose change failed, or groups nested."},
        {&S->ClosedError, "ClosedError", PyExc_ValueError,
         "A call on a store that was closed."},
    };
    for (size_t i = 0; i < sizeof excs / sizeof excs[0]; i++) {
        PyObject *b = excs[i].also ? PyTuple_Pack(2, S->Error, excs[i].also)
                                   : Py_NewRef(S->Error);
        int r = b ? add_exc(m, excs[i].slot, excs[i].name, b, excs[i].doc) : -1;
        Py_XDECREF(b);
        if (r < 0) {
            return -1;
        }
    }
    static const struct {
        const char *name;
        rs_type t;
    } specs[] = {
        {"bool", RS_BOOL}, {"i8", RS_I8},   {"i16", RS_I16}, {"i32", RS_I32},
        {"i64", RS_I64},   {"u8", RS_U8},   {"u16", RS_U16}, {"u32", RS_U32},
        {"u64", RS_U64},   {"f32", RS_F32}, {"f64", RS_F64}, {"str", RS_STR},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        if (add_spec(m, S, specs[i].name, specs[i].t) < 0) {
            return -1;
        }
    }
    if (PyModule_AddStringConstant(m, "__version__", rs_version()) < 0) {
        return -1;
    }
    return 0;
}

static int mod_traverse(PyObject *m, visitproc visit, void *arg)
{
    rs_py_state *S = PyModule_GetState(m);
    if (S == NULL) {
        return 0;
    }
    Py_VISIT(S->store_type);
    Py_VISIT(S->meta_type);
    Py_VISIT(S->base_type);
    Py_VISIT(S->record_type);
    Py_VISIT(S->spec_type);
    Py_VISIT(S->field_type);
    Py_VISIT(S->attrs_type);
    Py_VISIT(S->cond_type);
    Py_VISIT(S->query_type);
    Py_VISIT(S->scan_type);
    Py_VISIT(S->group_type);
    Py_VISIT(S->Error);
    Py_VISIT(S->DuplicateError);
    Py_VISIT(S->StaleError);
    Py_VISIT(S->FormatError);
    Py_VISIT(S->GroupError);
    Py_VISIT(S->ClosedError);
    return 0;
}

static int mod_clear(PyObject *m)
{
    rs_py_state *S = PyModule_GetState(m);
    if (S == NULL) {
        return 0;
    }
    Py_CLEAR(S->store_type);
    Py_CLEAR(S->meta_type);
    Py_CLEAR(S->base_type);
    Py_CLEAR(S->record_type);
    Py_CLEAR(S->spec_type);
    Py_CLEAR(S->field_type);
    Py_CLEAR(S->attrs_type);
    Py_CLEAR(S->cond_type);
    Py_CLEAR(S->query_type);
    Py_CLEAR(S->scan_type);
    Py_CLEAR(S->group_type);
    Py_CLEAR(S->Error);
    Py_CLEAR(S->DuplicateError);
    Py_CLEAR(S->StaleError);
    Py_CLEAR(S->FormatError);
    Py_CLEAR(S->GroupError);
    Py_CLEAR(S->ClosedError);
    Py_CLEAR(S->str_dict);
    return 0;
}

static void mod_free(void *m)
{
    mod_clear((PyObject *)m);
}

static PyModuleDef_Slot mod_slots[] = {
    {Py_mod_exec, mod_exec},
    {0, NULL},
};

PyModuleDef rs_py_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "roster",
    .m_doc = "roster: millions of records of a declared class at close to "
             "the raw size of their data (libroster).",
    .m_size = sizeof(rs_py_state),
    .m_methods = mod_methods,
    .m_slots = mod_slots,
    .m_traverse = mod_traverse,
    .m_clear = mod_clear,
    .m_free = mod_free,
};

PyMODINIT_FUNC PyInit_roster(void);

PyMODINIT_FUNC PyInit_roster(void)
{
    return PyModuleDef_Init(&rs_py_module);
}
