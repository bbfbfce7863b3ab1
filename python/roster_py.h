/*
 * roster_py.h: what the four files of the CPython extension share.
 *
 *   module.c   the module (multi-phase init, state), errors, value
 *              conversion, roster.Store, groups, the type specs
 *              (roster.u8, roster.str(16), ...) and roster.declare()
 *   class.c    roster.RecordType, the metaclass: declaring a class from a
 *              class body or the text form, field descriptors, and the
 *              class-level API (Player[uid], find, get_many, insert_many,
 *              reserve, len)
 *   query.c    conditions (Player.level >= 50), queries (where()) and
 *              scans (iteration over a class or a query)
 *   record.c   roster.Record, the proxies: attribute get, set and delete,
 *              insert, repr, equality, dir, getsizeof, update, and the
 *              live __dict__ mapping of dynamic classes
 *
 * The module uses include/roster.h alone.  Objects and what they hold:
 *
 *   Store        rs_store *, a dict name -> declared class (strong)
 *   a class      (a ClassObject: a heap type whose metatype is RecordType)
 *                the Store (strong), rs_class *, one FieldInfo a field
 *   a proxy      (a RecordObject) its class (ob_type) and a 64-bit handle:
 *                32 bytes, 40 with the weakref slot of a dynamic class; no
 *                per-record object is kept anywhere, a proxy is made on
 *                access and costs nothing once dropped
 *
 * A class never lets go of its store before it dies, so a proxy, a
 * descriptor or a scan reaches its StoreObject through its class.  Only
 * the store's tp_clear breaks the store <-> class cycle, which is why a
 * dropped store waits for the cyclic GC, and why store.close() exists:
 * it frees the rs_store at once (a durable store's files and lock
 * included) and leaves every object that reaches it raising
 * roster.ClosedError.
 *
 * Threads: the GIL build only.  The module never releases the GIL while
 * it is inside the library, so one store is entered by one thread at a
 * time, as roster.h requires; a borrowed value is converted to a Python
 * object before the GIL can change hands.
 */
#ifndef ROSTER_PY_H
#define ROSTER_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "roster.h"

typedef struct rs_py_state {
    PyTypeObject *store_type;
    PyTypeObject *meta_type;   /* roster.RecordType */
    PyTypeObject *base_type;   /* the C base of roster.Record */
    PyTypeObject *record_type; /* roster.Record (NULL while it is made) */
    PyTypeObject *spec_type;   /* roster.Type: u8, str(16), ... */
    PyTypeObject *field_type;  /* a declared field's descriptor */
    PyTypeObject *attrs_type;  /* the live __dict__ of a dynamic record */
    PyTypeObject *cond_type;   /* Player.level >= 50 */
    PyTypeObject *query_type;  /* Player.where(...) */
    PyTypeObject *scan_type;   /* an iterator over a class or a query */
    PyTypeObject *group_type;  /* with store.group(): */
    PyObject *Error;
    PyObject *DuplicateError; /* (Error, ValueError) */
    PyObject *StaleError;     /* (Error, ReferenceError) */
    PyObject *FormatError;    /* (Error, ValueError) */
    PyObject *GroupError;     /* (Error) */
    PyObject *ClosedError;    /* (Error, ValueError) */
    PyObject *str_dict;       /* "__dict__" */
} rs_py_state;

struct ScanObject;
struct ClassObject;

/* st is NULL once the store is closed (store.close()): every library call
 * then fails with RS_EINVAL before it reads anything, and rs_py_raise()
 * turns that into roster.ClosedError, so a path that forgets to check
 * still cannot reach freed memory. */
typedef struct StoreObject {
    PyObject_HEAD rs_store *st;
    rs_py_state *state;
    PyObject *classes;        /* dict: name -> declared class */
    struct ScanObject *scans; /* open scans: rs_store_close() frees them */
    /* Every live class that holds an rs_class of this store, which
     * close() walks to clear their cls: more than the classes dict, which
     * keeps only the newest class of a name (a declaration repeated, by
     * text or by a class body, makes another class of the same rs_class),
     * and which a class joins only once it is made. */
    struct ClassObject *all;
    int in_group;
    /* The group entered by `with store.group():` (borrowed), or NULL, and
     * how many insert_many() calls are inserting in it: its rows' code
     * may neither end it (group_exit() refuses) nor let it die (each call
     * holds a reference), or the rest of the rows would go in outside any
     * group, no longer all or none. */
    PyObject *group;
    int batch;
    int durable;
} StoreObject;

typedef struct FieldInfo {
    rs_field f;
    rs_type type;
    int unsigned_int; /* u8, u16, u32, u64: read by rs_get_uint() */
    unsigned flags;
    const char *cname; /* the UTF-8 of name: outlives a closed store */
    PyObject *name;    /* interned str */
} FieldInfo;

/* A dynamic attribute's field number (RS_ATTR_BASE + the store's id of
 * the name), remembered by the name object it was asked by: p.x looks
 * the name up in the library once, not at each access.  Keyed by the
 * object's address (names in code are interned, so one object a name),
 * holding a reference so the address cannot be reused by another.  Only
 * names the store knows are remembered, each pinned (rs_attr_id()) so that
 * no group's rollback or failed load can drop it and hand its id to
 * another name. */
#define RS_PY_NAME_CACHE 32
typedef struct NameSlot {
    PyObject *name; /* strong, or NULL */
    rs_field f;
    /* The class's tp_version_tag when the name was seen to be no class
     * attribute (0: not seen so).  While the tag stays, p.x skips the
     * class lookup: any change to the class or a base gives it a new
     * tag. */
    unsigned int type_tag;
} NameSlot;

/* A declared class: the heap type of its proxies, extended.  The type's
 * member array follows this struct (it is placed at the metatype's
 * tp_basicsize). */
typedef struct ClassObject {
    PyHeapTypeObject ht;
    StoreObject *store; /* NULL only on roster.Record itself */
    rs_class *cls;      /* NULL on roster.Record, and once store closed */
    struct ClassObject *prev, *next; /* in store->all while cls is set */
    int dynamic;
    rs_field key;
    Py_ssize_t n_fields;
    FieldInfo *fields; /* PyMem */
    NameSlot names[RS_PY_NAME_CACHE];
} ClassObject;

typedef struct RecordObject {
    PyObject_HEAD rs_handle h;
    PyObject *attrs; /* the __dict__ mapping once asked for, or NULL */
} RecordObject;

/* A declared field's descriptor: Player.level. */
typedef struct FieldObject {
    PyObject_HEAD ClassObject *owner; /* strong */
    Py_ssize_t index;                 /* in owner->fields */
} FieldObject;

#define RS_PY_CLASS(obj) ((ClassObject *)Py_TYPE(obj))
#define RS_PY_ST(obj) (RS_PY_CLASS(obj)->store->st)

/* module.c */
extern PyModuleDef rs_py_module;
PyObject *rs_py_raise(StoreObject *s, rs_status rc);
/* 0 while s is open; else -1 with roster.ClosedError set. */
int rs_py_check_open(StoreObject *s);
PyObject *rs_py_raise_msg(rs_py_state *S, rs_status rc, const char *msg);
void rs_py_attr_error(PyObject *obj, PyObject *name);
PyObject *rs_py_from_value(const rs_value *v);
int rs_py_to_value(PyObject *o, const char *cls, const char *field,
                   rs_value *out);
/* Room for the UTF-8 of str arguments that are not ASCII, for the
 * duration of one library call (see str_utf8() in module.c). */
typedef struct rs_py_scratch {
    char *buf;
    size_t cap, used;
} rs_py_scratch;
int rs_py_to_value_sc(PyObject *o, const char *cls, const char *field,
                      rs_value *out, rs_py_scratch *sc);
int rs_py_utf8_name(PyObject *name, const char **out);
int rs_py_spec_check(rs_py_state *S, PyObject *o);
int rs_py_spec_def(PyObject *spec, rs_field_def *out);

/* class.c */
extern PyType_Spec rs_py_meta_spec;
PyObject *rs_py_field_get(PyObject *self, PyObject *obj, PyObject *type);
int rs_py_field_set(PyObject *self, PyObject *obj, PyObject *value);
void rs_py_names_forget(ClassObject *c);
extern PyType_Spec rs_py_field_spec;
PyObject *rs_py_class_for(StoreObject *s, rs_class *cls, PyObject *ns);
PyObject *rs_py_declare_text(StoreObject *s, PyObject *text);
PyObject *rs_py_make_record_base(rs_py_state *S, PyObject *module);
/* Clear the cls of every class of s: its rs_class dies with the store. */
void rs_py_classes_forget(StoreObject *s);

/* query.c (the callers check that c is a declared class of an open
 * store) */
extern PyType_Spec rs_py_cond_spec;
extern PyType_Spec rs_py_query_spec;
extern PyType_Spec rs_py_scan_spec;
/* A condition on field f (an attribute's field number, or -1 for an
 * attribute no record has) called name. */
PyObject *rs_py_cond_make(ClassObject *owner, rs_field f, PyObject *name,
                          rs_op op, PyObject *value);
/* Player.where(*conds, **kw) -> a query. */
PyObject *rs_py_where(ClassObject *c, PyObject *args, PyObject *kw);
/* iter(Player): a scan of every record. */
PyObject *rs_py_scan_open(ClassObject *c);
/* Forget every open scan of s: its rs_scan dies with the store. */
void rs_py_scans_forget(StoreObject *s);

/* record.c */
extern PyType_Spec rs_py_record_spec;
extern PyType_Spec rs_py_attrs_spec;
PyObject *rs_py_proxy(ClassObject *c, rs_handle h);
PyObject *rs_py_record_vectorcall(PyObject *callable, PyObject *const *args,
                                  size_t nargsf, PyObject *kwnames);
PyObject *rs_py_record_get(RecordObject *r, FieldObject *d);
int rs_py_record_set(RecordObject *r, FieldObject *d, PyObject *v);

#endif
