/*
 * roster.h: the manual of libroster.
 *
 * libroster holds millions of records of a declared class in memory at close
 * to the raw size of their data.  A class declares typed fixed fields (the
 * "slots"), each with an optional default; one field is the key and others may
 * be unique.  Records live in store-owned pages (no malloc per record or per
 * string) and are addressed by 64-bit handles that carry a generation, so a
 * handle kept after its record was removed is reported stale instead of
 * silently reaching the next record in that slot.
 *
 * If it is not in this header, it is not API.
 *
 * Threads: a store belongs to one thread at a time.  Nothing here locks; two
 * threads may use two different stores freely, but one store must never be
 * entered by two threads at once.
 *
 * Errors: every call that can fail returns an rs_status; RS_OK is 0.  The
 * detail (class, field and value at fault) is in rs_errmsg(st), valid until
 * the next call on that store.  A call that fails leaves the store exactly as
 * it was, its memory accounting included.  The library never prints, aborts
 * or exits; out of memory is RS_ENOMEM.
 *
 * Ownership phrases used below:
 *   "borrowed"    valid until the next call on this store, whatever it
 *                 is: one rule for every borrowed string and pointer.  A
 *                 caller that keeps a value longer copies it
 *                 (rs_get_str_copy(), rs_read());
 *   "store-owned" freed with the store, do not free;
 *   "copied"      the caller may reuse its buffer on return.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RS_API __attribute__((visibility("default")))
#define RS_NODISCARD __attribute__((warn_unused_result))
#else
#define RS_API
#define RS_NODISCARD
#endif

#define RS_VERSION "0.2.0"
#define RS_VERSION_NUM 200 /* major * 10000 + minor * 100 + patch */

/* The version of the library linked in (RS_VERSION when it was built), so
 * a program can tell a header from a library of another version.  Static
 * string. */
RS_API const char *rs_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/* One table generates the enum, rs_status_name() and rs_status_str(). */
#define RS_STATUS_MAP(X)                                                    \
    X(OK, "ok")                                                             \
    X(DONE, "no more records")                                              \
    X(EINVAL, "invalid argument")                                           \
    X(ENOMEM, "out of memory")                                              \
    X(ENOTFOUND, "not found")                                               \
    X(EEXIST, "duplicate key or unique value")                              \
    X(ESTALE, "stale handle")                                               \
    X(ENOATTR, "no such attribute")                                         \
    X(ETYPE, "wrong type")                                                  \
    X(ERANGE, "value out of range")                                         \
    X(ETOOLONG, "string too long")                                          \
    X(EUTF8, "invalid UTF-8")                                               \
    X(ESYNTAX, "syntax error")                                              \
    X(EFULL, "capacity exhausted")                                          \
    X(ECORRUPT, "internal inconsistency")                                  \
    X(EIO, "input/output error")                                          \
    X(EFORMAT, "not a valid roster file")                                 \
    X(EGROUP, "group failed")                                               \
    X(ECHANGED, "value is not the expected one")

typedef enum rs_status {
#define RS__STATUS_ENUM(name, msg) RS_##name,
    RS_STATUS_MAP(RS__STATUS_ENUM)
#undef RS__STATUS_ENUM
    RS_STATUS__COUNT
} rs_status;

/* "RS_ENOMEM" and "out of memory" for RS_ENOMEM; static strings.  Unknown
 * codes give "RS_UNKNOWN" and "unknown status". */
RS_API const char *rs_status_name(rs_status s);
RS_API const char *rs_status_str(rs_status s);

/* ------------------------------------------------------------------------ */
/* Stores                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct rs_store rs_store;
typedef struct rs_class rs_class;
typedef struct rs_scan rs_scan;

/* A record's address: slot (bits 0-31), generation (32-47) and class number
 * (48-63).  0 is never a valid handle. */
typedef uint64_t rs_handle;
#define RS_NULL_HANDLE ((rs_handle)0)

/* The allocator every byte of a store goes through (Lua's lua_Alloc):
 * new_len == 0 frees ptr (old_len bytes) and returns NULL; otherwise it
 * returns a block of new_len bytes holding the first min(old_len, new_len)
 * bytes of ptr (ptr may be NULL with old_len 0), or NULL on failure, in which
 * case ptr is untouched.  old_len is always the size the store asked for.
 * A call that shrinks a block (new_len < old_len) must not fail: a failed
 * operation gives back the room it grew that way. */
typedef void *(*rs_alloc_fn)(void *ud, void *ptr, size_t old_len,
                             size_t new_len);

/* Open an empty store.  alloc may be NULL for the C library's allocator.
 * OUT *out.  Returns RS_OK or RS_ENOMEM.  The caller closes it with
 * rs_store_close().  Its indexes hash keys with a random seed of its own,
 * so no keys can be chosen in advance to collide (src/index.c). */
RS_API RS_NODISCARD rs_status rs_store_open(rs_alloc_fn alloc, void *ud,
                                            rs_store **out);

/* Free the store and everything it owns: classes, records, scans.  NULL is
 * accepted. */
RS_API void rs_store_close(rs_store *st);

/* The message of the last failed call on st, naming the class, field and
 * value at fault.  Store-owned, valid until the next call on st.  Empty after
 * a call that succeeded. */
RS_API const char *rs_errmsg(const rs_store *st);

/* ------------------------------------------------------------------------ */
/* Classes                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum rs_type {
    RS_BOOL,
    RS_I8,
    RS_I16,
    RS_I32,
    RS_I64,
    RS_U8,
    RS_U16,
    RS_U32,
    RS_U64,
    RS_F32,
    RS_F64,
    RS_STR, /* UTF-8, at most max_len bytes */
    RS_TYPE__COUNT
} rs_type;

/* "u16", "str", ... */
RS_API const char *rs_type_name(rs_type t);

/* A value in or out of a record.  Signed integer types use v.i, unsigned
 * ones v.u, floats v.f, bool v.b, strings v.s (not NUL-terminated).  On
 * input, any integer type is accepted for any integer field and checked
 * against its range; integers are accepted for float fields. */
typedef struct rs_value {
    rs_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } v;
} rs_value;

RS_API rs_value rs_val_int(int64_t i);
RS_API rs_value rs_val_uint(uint64_t u);
RS_API rs_value rs_val_f64(double f);
RS_API rs_value rs_val_bool(bool b);
RS_API rs_value rs_val_str(const char *ptr, size_t len);
RS_API rs_value rs_val_cstr(const char *s); /* NUL-terminated */

/* Field flags. */
#define RS_FIELD_KEY 0x1u    /* the class's key: exactly one field */
#define RS_FIELD_UNIQUE 0x2u /* indexed, no two records share a value */

/* Class flags. */
#define RS_CLASS_DYNAMIC 0x1u /* records may bind undeclared attributes */

/* Limits, checked when a class is declared. */
#define RS_MAX_FIELDS 255
#define RS_MAX_NAME 64                  /* bytes in a class or field name */
#define RS_MAX_STR ((1u << 24) - 1)     /* largest str(n) */

/* Records per class, counted in slots.  A class hands out at most
 * RS_MAX_RECORDS slots, one row each.  A removed record's slot is reused by
 * a later insert with the next generation, so that old handles are stale;
 * after RS_SLOT_LIVES records a slot's generations are used up and it
 * retires for good, because reusing it would let a handle kept from its
 * first life reach a new record.  So a class holds at most RS_MAX_RECORDS
 * less its retired slots.  Churn retires at most one slot per
 * RS_SLOT_LIVES inserts, so a class takes at least 5.5e11 inserts over its
 * life (RS_MAX_RECORDS * RS_SLOT_LIVES) less RS_SLOT_LIVES per record it
 * keeps live; a server inserting 100,000 records a second into one class
 * can reach that in about two months.  rs_mem() reports the retired
 * slots and the room the fullest class has left; past it, rs_insert()
 * returns RS_EFULL saying how many slots are live, free and retired.
 * Retirement is not saved: records loaded from a snapshot take fresh
 * slots. */
#define RS_MAX_RECORDS ((1u << 25) - 3) /* slots per class */
#define RS_SLOT_LIVES 16384             /* records one slot holds in turn */

typedef struct rs_field_def {
    const char *name; /* identifier: [A-Za-z_][A-Za-z0-9_]* */
    rs_type type;
    uint32_t max_len; /* RS_STR only: the n of str(n), 1..RS_MAX_STR */
    unsigned flags;   /* RS_FIELD_KEY, RS_FIELD_UNIQUE */
    bool has_default; /* else 0, false, 0.0 or "" */
    rs_value def;     /* checked like any value set on the field */
    /* RS_STR only: how many bytes of the string the row keeps inline,
     * RS_MIN_INLINE..RS_MAX_INLINE; longer strings go to the string arena,
     * except strings of decimal digits, which are packed as a number when
     * they fit (up to 9 digits in inline(4), 16 in inline(7)): a 7-digit id
     * takes 5 bytes in inline(4).  0 picks 7 for str(n <= 16) and 15
     * above.  The row spends inline_len + 1 bytes on the field. */
    uint32_t inline_len;
} rs_field_def;

#define RS_MIN_INLINE 4
#define RS_MAX_INLINE 15

/* Declare a class in st from field definitions.  name and every def are
 * copied.  Returns RS_OK and sets *out (store-owned, valid until the store
 * closes); RS_EINVAL for a bad name, no key or two keys, a key or unique
 * field of type bool or float, too many fields, an inline_len out of range
 * or on a field that is not a string; RS_EEXIST if st already has
 * a class of that name; RS_ETYPE, RS_ERANGE, RS_ETOOLONG or RS_EUTF8 for a bad
 * default; RS_ENOMEM. */
RS_API RS_NODISCARD rs_status rs_class_create(rs_store *st, const char *name,
                                              const rs_field_def *fields,
                                              size_t n_fields, unsigned flags,
                                              rs_class **out);

/* Declare a class from its text form (modifiers after the type, in any
 * order: key, unique, inline(N) for strings, = default), for example
 *
 *     Player {
 *         uid: str(16) key;
 *         name: str(32) unique inline(12);
 *         stat: u8 = 0;
 *         level: u16 = 1   # a comment runs to the end of the line
 *     } dynamic
 *
 * Fields are separated by ';' or newlines.  A default is an integer, a float,
 * true or false, or a double-quoted string with \" \\ \n \t \xHH escapes.
 * Returns what rs_class_create() returns, and RS_ESYNTAX with the line and
 * column and what was expected in rs_errmsg(). */
RS_API RS_NODISCARD rs_status rs_class_parse(rs_store *st, const char *text,
                                             size_t len, rs_class **out);

/* Write cls's text form (parseable by rs_class_parse()) into buf, always
 * NUL-terminated when buflen > 0.  Returns the length it needs, excluding
 * the NUL, like snprintf. */
RS_API size_t rs_class_format(const rs_class *cls, char *buf, size_t buflen);

/* The class of that name in st, or NULL.  NUL-terminated name. */
RS_API rs_class *rs_class_find(const rs_store *st, const char *name);

/* The classes of st in declaration order: rs_n_classes() of them,
 * rs_class_at(st, i) for i below that (NULL past the end). */
RS_API size_t rs_n_classes(const rs_store *st);
RS_API rs_class *rs_class_at(const rs_store *st, size_t i);

RS_API const char *rs_class_name(const rs_class *cls);
RS_API unsigned rs_class_flags(const rs_class *cls);
RS_API size_t rs_class_n_fields(const rs_class *cls);

/* A field's position in its class: the fast path for get and set. */
typedef int rs_field;

/* The field called name (NUL-terminated) or -1. O(fields). */
RS_API rs_field rs_class_field(const rs_class *cls, const char *name);

/* Describe field f: its definition with name and default string borrowed
 * from the class (store-owned).  Returns RS_EINVAL if f is out of range. */
RS_API RS_NODISCARD rs_status rs_class_field_def(const rs_class *cls,
                                                 rs_field f,
                                                 rs_field_def *out);

/* The key field. */
RS_API rs_field rs_class_key(const rs_class *cls);

/* Make room for n records of cls in all (those it holds count), so that a
 * bulk load of a known size grows no index on the way: inserting up to n
 * records then rehashes no key, where growth from empty moves each key
 * about three times, a read of its record each time.  The indexes take
 * their memory for n now (about 5.6 bytes a record each, the figure they
 * reach by growing); rows and strings are not reserved.  Nothing a caller
 * can see changes but rs_mem(), and no observer hears of it: the journal
 * does not record it.  Costs one walk of the
 * index directories when the room is there; otherwise it rereads every key
 * cls holds, once.  RS_EINVAL for n above RS_MAX_RECORDS, or inside a group
 * (whose rollback counts on the indexes it began with); RS_ENOMEM leaves
 * cls exactly as it was. */
RS_API RS_NODISCARD rs_status rs_class_reserve(rs_store *st, rs_class *cls,
                                               size_t n);

/* Convert text (as found in a TSV file or a network request) to a value for
 * field f of cls: integers in decimal, floats as strtod reads them, bool as
 * true/false/1/0, strings as they are (the value borrows text).  Range and
 * length are checked as on a set.  OUT *out.  RS_ETYPE, RS_ERANGE,
 * RS_ETOOLONG, RS_EUTF8 with a message naming the field. */
RS_API RS_NODISCARD rs_status rs_value_parse(rs_store *st,
                                             const rs_class *cls, rs_field f,
                                             const char *text, size_t len,
                                             rs_value *out);

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

/* One named value of an insert.  name is NUL-terminated. */
typedef struct rs_named {
    const char *name;
    rs_value val;
} rs_named;

/* A name and its value, out of rs_dict() and rs_read(). */
typedef struct rs_attr {
    const char *name;
    rs_value val;
} rs_attr;

/* Insert a record of cls.  Fields left out take their defaults; the key must
 * be given.  Values are copied.  OUT *out (may be NULL).  Returns RS_OK;
 * RS_ENOATTR for a name the class does not declare ("'Player' object has no
 * attribute 'x'"); RS_EINVAL if a field is named twice or the key is
 * missing; RS_ETYPE, RS_ERANGE, RS_ETOOLONG, RS_EUTF8 for a bad value;
 * RS_EEXIST for a duplicate key or unique value; RS_EINVAL for an empty
 * string key (files an older library wrote with one still load); RS_EFULL
 * when the class
 * has no slot left (RS_MAX_RECORDS, retired slots included); RS_ENOMEM.
 * Cost: O(fields) plus one probe per index; amortized O(1) allocation
 * (pages, index segments).  The longest single insert is bounded by one
 * index segment's rehash, not by the store size. */
RS_API RS_NODISCARD rs_status rs_insert(rs_store *st, rs_class *cls,
                                        const rs_named *vals, size_t n_vals,
                                        rs_handle *out);

/* Remove the record h.  Its slot is reused by a later insert, with a new
 * generation, so h becomes stale; after RS_SLOT_LIVES records the slot
 * retires instead (RS_MAX_RECORDS).  RS_ESTALE if h is not live.  Never
 * allocates. */
RS_API RS_NODISCARD rs_status rs_remove(rs_store *st, rs_handle h);

/* RS_OK if h names a live record, else RS_ESTALE with a message. */
RS_API RS_NODISCARD rs_status rs_check(rs_store *st, rs_handle h);

/* The class of a live record h, or NULL. */
RS_API rs_class *rs_handle_class(const rs_store *st, rs_handle h);

/* Number of live records of cls. */
RS_API size_t rs_count(const rs_class *cls);

/* Find by key: the key field's value given as a string (for a string key) or
 * as decimal text (for an integer key).  OUT *out.  RS_OK or RS_ENOTFOUND.
 * O(1), no allocation. */
RS_API RS_NODISCARD rs_status rs_get(rs_store *st, const rs_class *cls,
                                     const char *key, size_t len,
                                     rs_handle *out);

/* Remove the record whose key is key (as rs_get() reads it): RS_OK,
 * RS_ENOTFOUND, or what rs_remove() returns.  O(1). */
RS_API RS_NODISCARD rs_status rs_remove_key(rs_store *st, const rs_class *cls,
                                            const char *key, size_t len);

/* Find by the value of a key or unique field f.  OUT *out.  RS_OK,
 * RS_ENOTFOUND, or RS_EINVAL if f is not indexed.  O(1), no allocation. */
RS_API RS_NODISCARD rs_status rs_find(rs_store *st, const rs_class *cls,
                                      rs_field f, const rs_value *val,
                                      rs_handle *out);

/* rs_find() of n values at once (MGET, Python's batch lookups): OUT out[i]
 * the record holding vals[i], or RS_NULL_HANDLE if none (or if vals[i] is
 * not a value field f can hold), and *n_found (may be NULL) the number
 * found.  The probes' cache misses overlap (every value is hashed and its
 * index group fetched before any is compared), so a batch costs less per
 * value than calls one by one.  RS_OK; RS_EINVAL for a bad f or NULL
 * arguments.  No allocation. */
RS_API RS_NODISCARD rs_status rs_find_many(rs_store *st, const rs_class *cls,
                                           rs_field f, const rs_value *vals,
                                           size_t n, rs_handle *out,
                                           size_t *n_found);

/* Read field f of record h (or, f >= RS_ATTR_BASE, a dynamic attribute:
 * rs_attr_id()).  OUT *out; a string is borrowed (until the next call on
 * this store: a string the row packs as a number is decoded into a store
 * buffer that a later read reuses).  RS_ESTALE, RS_EINVAL for a bad f or
 * a NULL out, RS_ENOATTR for an attribute the record has not bound.  O(1),
 * no allocation. */
RS_API RS_NODISCARD rs_status rs_get_field(rs_store *st, rs_handle h,
                                           rs_field f, rs_value *out);

/* Set field f of record h to val (copied), checking its type, range, length,
 * UTF-8 and, for key and unique fields, uniqueness.  RS_OK or the statuses
 * of rs_insert(), RS_ESTALE.  May allocate (a string cell, an index
 * segment). */
RS_API RS_NODISCARD rs_status rs_set_field(rs_store *st, rs_handle h,
                                           rs_field f, const rs_value *val);

/* rs_get_field() and rs_set_field() by attribute name (NUL-terminated).
 * RS_ENOATTR names the class and the attribute. */
RS_API RS_NODISCARD rs_status rs_get_attr(rs_store *st, rs_handle h,
                                          const char *name, rs_value *out);
RS_API RS_NODISCARD rs_status rs_set_attr(rs_store *st, rs_handle h,
                                          const char *name,
                                          const rs_value *val);

/* Typed fast paths.  rs_get_int() reads any integer or bool field as int64
 * (RS_ERANGE for a u64 above INT64_MAX), rs_get_uint() any integer or bool
 * field that is not negative, rs_get_f64() any number, rs_get_str() a string
 * (borrowed, not NUL-terminated).  RS_ETYPE for another type. */
RS_API RS_NODISCARD rs_status rs_get_int(rs_store *st, rs_handle h,
                                         rs_field f, int64_t *out);
RS_API RS_NODISCARD rs_status rs_get_uint(rs_store *st, rs_handle h,
                                          rs_field f, uint64_t *out);
RS_API RS_NODISCARD rs_status rs_get_f64(rs_store *st, rs_handle h,
                                         rs_field f, double *out);
RS_API RS_NODISCARD rs_status rs_get_str(rs_store *st, rs_handle h,
                                         rs_field f, const char **ptr,
                                         size_t *len);
RS_API RS_NODISCARD rs_status rs_get_bool(rs_store *st, rs_handle h,
                                          rs_field f, bool *out);
/* The setters take any field or, on a dynamic class, an attribute id
 * (rs_attr_id()), and check as rs_set_field() does: rs_set_int() and
 * rs_set_uint() any integer field (range checked) or float field,
 * rs_set_f64() a float field (an integer field only for an integral value
 * in range), rs_set_bool() a bool, rs_set_str() a string (copied). */
RS_API RS_NODISCARD rs_status rs_set_int(rs_store *st, rs_handle h,
                                         rs_field f, int64_t v);
RS_API RS_NODISCARD rs_status rs_set_uint(rs_store *st, rs_handle h,
                                          rs_field f, uint64_t v);
RS_API RS_NODISCARD rs_status rs_set_f64(rs_store *st, rs_handle h,
                                         rs_field f, double v);
RS_API RS_NODISCARD rs_status rs_set_bool(rs_store *st, rs_handle h,
                                          rs_field f, bool v);
RS_API RS_NODISCARD rs_status rs_set_str(rs_store *st, rs_handle h,
                                         rs_field f, const char *ptr,
                                         size_t len);

/* Copy the string field or string attribute f of h into buf (cap bytes)
 * with a NUL after it, whatever the row's encoding (inline, arena, or a
 * number the row packs), so the copy stays valid whatever the store does
 * next.  *len is the string's length (without the NUL) in every case.
 * RS_OK; RS_ETOOLONG if cap < *len + 1 (buf untouched: call again with
 * *len + 1 bytes); RS_ETYPE for a value that is not a string; RS_ESTALE,
 * RS_ENOATTR, RS_EINVAL.  No allocation. */
RS_API RS_NODISCARD rs_status rs_get_str_copy(rs_store *st, rs_handle h,
                                              rs_field f, char *buf,
                                              size_t cap, size_t *len);

/* Read all of record h at once, as HGETALL and Python's repr need it: every
 * declared field in declaration order, then every dynamic attribute in
 * binding order (rs_dir()'s order), into items (cap of them), with every
 * string value copied into buf (buflen bytes; each string followed by a
 * NUL), so nothing in the result is borrowed: names are store-owned (valid
 * while the class exists), strings live in the caller's buf.  *n is the
 * number of items and *need the bytes of buf the strings take, in every
 * case.  RS_OK; RS_ETOOLONG if cap < *n or buflen < *need (nothing useful
 * written: call again with room for them; rs_class_n_fields() +
 * RS_ATTRS_MAX items always suffice); RS_ESTALE, RS_EINVAL.  No
 * allocation. */
RS_API RS_NODISCARD rs_status rs_read(rs_store *st, rs_handle h,
                                      rs_attr *items, size_t cap, size_t *n,
                                      char *buf, size_t buflen, size_t *need);

/* Set several fields and attributes of record h in one call, all or none
 * (HSET with many pairs, Python's update()): each name as rs_set_attr()
 * takes it (a declared field, or on a dynamic class an attribute to bind).
 * Every value is checked, and every uniqueness against the other records,
 * before anything is written; a name given twice is RS_EINVAL.  On any
 * failure (the statuses of rs_set_attr(), RS_ENOMEM, a journal's RS_EIO)
 * every record, name and shape is as it was; as for a group, capacity the
 * failed call grew (a string page, an index segment) stays as free space.
 * On a durable store it is one journal entry.  Inside a group it is part
 * of the group.  Cost: one rs_set_attr() per pair plus a group's undo log
 * of the old values (a few bytes a pair) when more than one pair is
 * given. */
RS_API RS_NODISCARD rs_status rs_set_many(rs_store *st, rs_handle h,
                                          const rs_named *vals, size_t n);

/* Add delta to the integer field or integer attribute f of h and OUT the
 * new value in *out (may be NULL), as HINCRBY does: a dynamic attribute
 * the record has not bound counts as 0 and is bound.  RS_ERANGE if the sum
 * leaves the field's type (or int64), RS_ETYPE for a field or a bound
 * value that is not an integer, and the statuses of rs_set_field(); on
 * failure nothing changed.  Journaled like a set. */
RS_API RS_NODISCARD rs_status rs_incr(rs_store *st, rs_handle h, rs_field f,
                                      int64_t delta, int64_t *out);

/* The same for a float field or attribute (HINCRBYFLOAT); an integer
 * attribute becomes a float one.  RS_ERANGE for a result that is not
 * finite. */
RS_API RS_NODISCARD rs_status rs_incr_f64(rs_store *st, rs_handle h,
                                          rs_field f, double delta,
                                          double *out);

/* Compare and set: set field or attribute f of h to *val only if it now
 * equals *expect (compared as a scan's RS_EQ compares: numbers by value,
 * a bool as 0 or 1, strings bytewise).  RS_OK if it was set; RS_ECHANGED if the value
 * differs (nothing changed; an unbound attribute equals nothing); the
 * statuses of rs_set_field() for *val. */
RS_API RS_NODISCARD rs_status rs_cas(rs_store *st, rs_handle h, rs_field f,
                                     const rs_value *expect,
                                     const rs_value *val);

/* ------------------------------------------------------------------------ */
/* Dynamic attributes and introspection                                      */
/* ------------------------------------------------------------------------ */

/* A class declared `dynamic` (RS_CLASS_DYNAMIC) lets each record bind
 * attributes it does not declare, with int, float, bool or string values,
 * through rs_set_attr() (or rs_insert() with names the class does not
 * declare).  A record pays only for what it binds: names are interned once
 * per store and records that bind the same names share a shape; a record
 * with none pays one bit.  On a class not declared dynamic, binding an
 * undeclared name fails like Python's __slots__: RS_ENOATTR, "'Player2'
 * object has no attribute 'x'".  Setting a declared field's name goes to
 * the field, with its checks.  An attribute's string holds at most 65535
 * bytes; a record at most 255 attributes.
 *
 * rs_get_attr() and rs_set_attr() (Records) take either kind of name.  */

/* Field numbers from RS_ATTR_BASE up name dynamic attributes: the fast
 * path of rs_get_field() and rs_set_field(), and scan conditions on them. */
#define RS_ATTR_BASE 0x10000

/* Limits on dynamic attribute names: at most RS_ATTR_NAMES_MAX distinct
 * names in a store (a name, once bound, stays known to the store, and is
 * written into its snapshots, until the store closes), each an identifier
 * of at most RS_MAX_NAME bytes; at most RS_ATTRS_MAX attributes on one
 * record.  Past a limit a bind fails with RS_EFULL saying which. */
#define RS_ATTR_NAMES_MAX 65535
#define RS_ATTRS_MAX 255

/* The field number of name: a declared field's, or, on a dynamic class,
 * RS_ATTR_BASE + the interned name's id.  This interns the name (it may
 * allocate, and the name then counts against RS_ATTR_NAMES_MAX): call it
 * to bind, not to look up a name a client sent (rs_attr_find()).  Returns
 * -1 with rs_errmsg() for a bad name, RS_ENOATTR-style message for an
 * undeclared name on a class that is not dynamic, RS_EFULL or out of
 * memory. */
RS_API rs_field rs_attr_id(rs_store *st, rs_class *cls, const char *name);

/* Look name up without interning it: OUT *out the declared field's number,
 * or RS_ATTR_BASE + the id of a dynamic attribute name the store already
 * knows.  RS_OK; RS_ENOATTR ("'Player' object has no attribute 'x'") for
 * a name no record of this store has bound (no record can have it) or an
 * undeclared name on a class that is not dynamic; RS_EINVAL.  Never
 * allocates, never grows the store: lookups of any names, however many,
 * leave it as it was. */
RS_API RS_NODISCARD rs_status rs_attr_find(rs_store *st, const rs_class *cls,
                                           const char *name, rs_field *out);

/* Unbind dynamic attribute name from record h.  RS_ENOATTR if it is not
 * bound ("'Player' object has no attribute 'y'"), RS_EINVAL for a declared
 * field (declared fields always have a value), RS_ESTALE.  May allocate (a
 * smaller block); on RS_ENOMEM nothing changed. */
RS_API RS_NODISCARD rs_status rs_del_attr(rs_store *st, rs_handle h,
                                          const char *name);

/* Like Python's dir(): the names of h's attributes, declared fields first
 * in declaration order, then dynamic ones in binding order.  Fills at most
 * cap names (borrowed, store-owned) and sets *n to the total, which may be
 * larger than cap.  RS_ESTALE.  No allocation. */
RS_API RS_NODISCARD rs_status rs_dir(rs_store *st, rs_handle h,
                                     const char **names, size_t cap,
                                     size_t *n);

/* Like Python's __dict__ on a dynamic class: h's dynamic attributes as
 * name/value pairs in binding order (names store-owned, string values
 * borrowed).  At most cap items; *n is the total.  RS_ESTALE.  No
 * allocation. */
RS_API RS_NODISCARD rs_status rs_dict(rs_store *st, rs_handle h,
                                      rs_attr *items, size_t cap, size_t *n);

/* ------------------------------------------------------------------------ */
/* Scans                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum rs_op {
    RS_EQ,
    RS_NE,
    RS_LT,
    RS_LE,
    RS_GT,
    RS_GE,
    RS_PREFIX /* strings only: the field starts with the value */
} rs_op;

/* One comparison "field op value".  Strings compare bytewise (memcmp, then
 * length); numbers by value, across types: integers exactly, anything with
 * a float as double (a NaN matches only RS_NE).  On a dynamic attribute
 * (field from rs_attr_id()) a record without it, or whose value is a
 * string where the operand is a number or the other way round, does not
 * match, whatever the operator (RS_NE included): its kind is only known
 * record by record.
 *
 * Cost: a condition on a declared numeric field (bool, integers, floats)
 * is compiled to a test on the row bytes, evaluated 64 rows at a time
 * without a branch on the data: a few instructions a row.  Conditions on
 * strings and dynamic attributes are tested only on the records the
 * numeric ones let through, by reading the value (a string in the arena or
 * the record's attribute block: a cache miss or two a record).  Put at
 * least one numeric condition in a scan that should be fast. */
typedef struct rs_cond {
    rs_field field;
    rs_op op;
    rs_value val;
} rs_cond;

/* What every scan guarantees, open or in batches: records are visited in
 * slot order, and the caller may make any change to the store between two
 * calls (insert, remove, set, bind, in any record).  Then every record
 * present and matching from the start of the scan to its end is returned
 * exactly once; a record inserted or removed meanwhile, or changed so that
 * it matches or stops matching, may or may not be returned; no record is
 * returned twice, and every record returned is live and matches when it
 * is returned.  (Slots never move and a class never gives one back, which
 * is what makes a position a cursor.)
 *
 * A cursor is an opaque 64-bit position in a class, valid for the life of
 * the store: 0 starts a scan, and the cursors the calls below hand back
 * resume it.  It is always below 2^32, so a front end that scans several
 * classes may keep the class's number in the upper bits of the cursor it
 * gives its own clients.  A cursor past the slots the class has ever had
 * is refused with RS_EINVAL, never taken as "done"; a cursor of another
 * class within that range is not detected and resumes at that position.
 * Records loaded from a snapshot or a journal take fresh slots, so a
 * cursor does not survive a reload. */

/* Open a scan over the records of cls that satisfy every condition (an AND;
 * n_conds 0 iterates all records, at most 1024).  Conditions are checked,
 * copied (string operands too: the caller may reuse its buffers) and
 * compiled.  OUT *out, which the caller closes with rs_scan_close()
 * (rs_store_close() closes it too).  RS_EINVAL for a NULL argument, a class
 * of another store, a bad field or operator; RS_ETYPE for a value of the
 * wrong kind (a string against a number, PREFIX on a number); RS_ENOMEM.
 * Allocates one block (880 bytes, and 34 a condition plus its string
 * operand, counted as meta). */
RS_API RS_NODISCARD rs_status rs_scan_open(rs_store *st, rs_class *cls,
                                           const rs_cond *conds,
                                           size_t n_conds, rs_scan **out);

/* Next matching record: RS_OK and *out, or RS_DONE at the end (records
 * inserted past the end later are returned by later calls).  RS_EINVAL
 * for a NULL sc (no message: there is no store) or out.  No allocation;
 * a block of 64 rows is evaluated at a time, so one call reads at most
 * the rest of the class. */
RS_API RS_NODISCARD rs_status rs_scan_next(rs_scan *sc, rs_handle *out);

/* The cursor of an open scan: where rs_scan_batch() or rs_scan_resume()
 * continue after the records it has returned.  0 before the first record;
 * 0 for a NULL sc.  O(1). */
RS_API uint64_t rs_scan_cursor(const rs_scan *sc);

/* Continue sc from cursor (from rs_scan_cursor(), rs_scan_batch() or 0 for
 * the start), keeping its conditions.  RS_EINVAL for a NULL sc or a cursor
 * past the class's slots.  O(1), no allocation. */
RS_API RS_NODISCARD rs_status rs_scan_resume(rs_scan *sc, uint64_t cursor);

/* Close sc and free it.  NULL is accepted. */
RS_API void rs_scan_close(rs_scan *sc);

/* One step of a scan kept by the caller as a cursor alone (Redis's SCAN,
 * a Python iterator): the records of cls matching every condition, from
 * cursor on, visiting at most budget slots (live or free), so that one call
 * never stalls a server whatever the class's size or the conditions'
 * selectivity.  Conditions are as for rs_scan_open(), checked each call and
 * only read during it.
 *
 * OUT out[0..*n_out): the handles found, at most cap, in slot order.
 * OUT *next: the cursor to pass to the next call, or 0 when the scan has
 * reached the end of the class.  A call may return no records with a
 * nonzero *next (budget slots held none); the scan is over only when *next
 * is 0.  A call that fills out stops after its last record, so nothing is
 * skipped.
 *
 * RS_OK; RS_EINVAL for a NULL st (no message), a NULL cls, out, n_out or
 * next, a class of another store, cap or budget 0, a cursor past the
 * class's slots (see above), a bad condition; RS_ETYPE as rs_scan_open().
 * On failure the outputs are untouched.  Cost: O(n_conds) to check and
 * compile, then O(slots visited); no allocation (about 3 KB of stack). */
RS_API RS_NODISCARD rs_status rs_scan_batch(rs_store *st, rs_class *cls,
                                            const rs_cond *conds,
                                            size_t n_conds, uint64_t cursor,
                                            size_t budget, rs_handle *out,
                                            size_t cap, size_t *n_out,
                                            uint64_t *next);

/* ------------------------------------------------------------------------ */
/* Accounting                                                                */
/* ------------------------------------------------------------------------ */

/* Every byte the store holds falls in exactly one category:
 *   records  fixed-width rows of live records (fields, string cells,
 *            generation);
 *   strings  string bytes kept outside the rows;
 *   indexes  key and unique indexes (buckets and directories);
 *   attrs    dynamic attributes: their blocks, the vectors that find them,
 *            interned names and shapes;
 *   free     allocated but unused: free rows and string cells, the unused
 *            tails of pages, empty index buckets are NOT here (they are
 *            part of the index's load factor);
 *   meta     classes, page tables, scans, messages. */
#define RS_MEM_MAP(X)                                                       \
    X(RECORDS, "records")                                                   \
    X(STRINGS, "strings")                                                   \
    X(INDEXES, "indexes")                                                   \
    X(ATTRS, "attrs")                                                       \
    X(FREE, "free")                                                         \
    X(META, "meta")

typedef enum rs_mem_cat {
#define RS__MEM_ENUM(name, label) RS_MEM_##name,
    RS_MEM_MAP(RS__MEM_ENUM)
#undef RS__MEM_ENUM
    RS_MEM__COUNT
} rs_mem_cat;

RS_API const char *rs_mem_cat_name(rs_mem_cat c);

typedef struct rs_mem_report {
    size_t bytes[RS_MEM__COUNT]; /* by category; they sum to total */
    size_t total;                /* bytes allocated through the allocator */
    size_t peak;                 /* the largest total so far */
    size_t n_allocs;             /* live allocations */
    size_t n_records;            /* live records, all classes */
    size_t n_attr_names;         /* distinct dynamic attribute names */
    size_t n_shapes;             /* shapes records share (attrs) */
    size_t n_retired;            /* slots retired, all classes: never
                                    reused (RS_MAX_RECORDS) */
    size_t n_room;               /* records the fullest class can still
                                    take: RS_MAX_RECORDS less its live
                                    records and retired slots
                                    (RS_MAX_RECORDS with no class) */
    const rs_class *fullest;     /* that class (store-owned), or NULL */
} rs_mem_report;

/* Fill *out with the store's accounting.  O(classes), no allocation. */
RS_API void rs_mem(const rs_store *st, rs_mem_report *out);

/* The exact size of record h in bytes, like sys.getsizeof but deep: its
 * row, the string bytes it owns outside the row, and its dynamic
 * attributes (their block and the 8-byte entry that finds it).  Its share
 * of index buckets and of shared names and shapes is not included.  OUT
 * *out.  RS_ESTALE. */
RS_API RS_NODISCARD rs_status rs_record_size(rs_store *st, rs_handle h,
                                             size_t *out);


/* ------------------------------------------------------------------------ */
/* Persistence: snapshots                                                    */
/* ------------------------------------------------------------------------ */

/* A snapshot is a file holding a store's classes (in their text form),
 * records and dynamic attributes, in blocks that each carry an XXH3-64
 * checksum (format in src/persist.c and the README).  It is written to a
 * temporary file beside PATH, fsynced, renamed over PATH and the directory
 * fsynced, so PATH always holds either the old snapshot or one whole new
 * one, even with several saves to PATH at once.
 *
 * Saving needs no fork and no copy of the store: rs_save_begin() fixes the
 * moment the snapshot shows, rs_save_step() writes the next records, and
 * the caller goes on using the store between steps.  A record changed or
 * removed before the save reached it is written as it was at the moment of
 * rs_save_begin() just before the change; records inserted after it are
 * not in the snapshot.  The extra memory is a bit per slot and a 256 KiB
 * write buffer, reported in rs_save_info.  One save at a time per store. */

typedef struct rs_saver rs_saver;

typedef struct rs_save_info {
    uint64_t bytes;       /* the snapshot file's size */
    size_t n_records;     /* records written */
    size_t n_early;       /* of those, written early (changed mid-save) */
    size_t extra_bytes;   /* memory the save held at its largest */
    double seconds;       /* from begin to the file in place */
} rs_save_info;

/* Start a save of st to path (NUL-terminated).  path NULL compacts a
 * durable store (rs_durable_open()): a new snapshot of its own, then its
 * journal restarts.  The file is written as PATH.tmp-<16 hex digits>,
 * created exclusively (never through a link, never shared with another
 * save to the same path), then renamed over PATH; a crash before the
 * rename leaves it behind (a durable store's next open removes its own;
 * beside a plain PATH, remove them by hand).  OUT *out (NULL on
 * failure).  RS_EINVAL if a save is already running, path is NULL on a
 * store that is not durable, empty, names something that is not a regular
 * file (a device, a FIFO: the rename would replace it), or one of a
 * durable store's own files (its snapshot, journal or lock); RS_EIO naming
 * the file and the system error; RS_ENOMEM. */
RS_API RS_NODISCARD rs_status rs_save_begin(rs_store *st, const char *path,
                                            rs_saver **out);

/* Write up to budget more records (0: all of them); once all are written,
 * each call does one finishing step: the last blocks and the file's fsync;
 * for a compaction the journal's fdatasync; the rename and the directory's
 * fsync; for a compaction the next journal's fdatasync, then its rename.
 * So a call never waits for more than one of those.  RS_OK while steps
 * remain, RS_DONE when the file is in place (then call rs_save_finish()),
 * or an error (RS_EIO), after which only rs_save_abort() is left. */
RS_API RS_NODISCARD rs_status rs_save_step(rs_saver *sv, size_t budget);

/* Do every step that remains (rs_save_step() until RS_DONE) and free sv,
 * whatever happens.  OUT *info (may be NULL).  RS_OK or RS_EIO: then the
 * temporary file is removed and, unless the failure came after the rename,
 * the old file is untouched; a compaction that fails leaves the old
 * journal in use, and the files open to the same store either way. */
RS_API RS_NODISCARD rs_status rs_save_finish(rs_saver *sv,
                                             rs_save_info *info);

/* Give up a save: the temporary file is removed; PATH is untouched unless
 * a step already renamed the snapshot into place. */
RS_API void rs_save_abort(rs_saver *sv);

/* rs_save_begin(), then everything at once: the simple way. */
RS_API RS_NODISCARD rs_status rs_save(rs_store *st, const char *path,
                                      rs_save_info *info);

typedef struct rs_load_info {
    size_t n_records;  /* records loaded */
    size_t n_classes;  /* classes in the file */
    size_t n_dropped;  /* fields in the file the store's classes dropped */
    char dropped[256]; /* "Player.rank, Player.guild" (cut to fit) */
} rs_load_info;

/* Load the snapshot at path into st.  A class of the file that st does not
 * declare is declared from the file; one that st declares (with no records)
 * receives the file's records under its own, possibly newer, declaration:
 * fields it adds take their defaults, fields it no longer has are dropped
 * and reported in info, integer fields may be widened (u16 to u32, u8 to
 * i16, ...) and strings lengthened; any other change (a narrower or another
 * type, a shorter string, another key, or `dynamic` dropped while records
 * bind attributes) is RS_EINVAL naming the class and the field.
 * Every block is verified before anything is built.  On any failure
 * (RS_EIO, RS_EFORMAT naming the file, the block and the byte offset,
 * RS_EINVAL, RS_ENOMEM, or a record the store refuses) st holds what it
 * held before: the records loaded so far are removed (their slots keep
 * their generations, so no earlier handle comes back to life) and the
 * classes declared from the file dropped, and so are the attribute names
 * and shapes it added.  Capacity the load grew (string and row pages,
 * index segments) stays, as free space.  Not on a durable store, inside a group, or while a save runs
 * (RS_EINVAL).  OUT *info (may be NULL). */
RS_API RS_NODISCARD rs_status rs_load(rs_store *st, const char *path,
                                      rs_load_info *info);

/* rs_load() from a snapshot already in memory; name is used in messages. */
RS_API RS_NODISCARD rs_status rs_load_buffer(rs_store *st, const void *buf,
                                             size_t len, const char *name,
                                             rs_load_info *info);

typedef enum rs_file_kind {
    RS_FILE_SNAPSHOT = 1,
    RS_FILE_JOURNAL = 2
} rs_file_kind;

/* What rs_inspect() finds in a snapshot or journal file. */
typedef struct rs_file_info {
    rs_file_kind kind;
    uint32_t version;
    uint64_t bytes;      /* the file's size */
    uint64_t id;         /* a snapshot's id; for a journal, the id of the
                            snapshot it follows (0: none) */
    uint64_t prev_id;    /* a snapshot written by a compaction: the journal */
    uint64_t prev_off;   /* it continues, and the offset it starts from */
    size_t n_blocks;     /* snapshot blocks, or whole journal entries */
    size_t n_classes;    /* class declarations */
    size_t n_records;    /* snapshot records, or journal inserts */
    size_t n_names;      /* attribute names declared */
    size_t n_removes, n_sets, n_binds, n_unbinds; /* journal changes */
    size_t n_groups;     /* journal entries holding more than one change */
    uint64_t torn_bytes; /* a torn last journal entry (dropped on open) */
} rs_file_info;

/* Check the file at path without loading it: its header, and every block's
 * (snapshot) or entry's (journal) framing and checksum.  OUT *out.  RS_OK;
 * RS_EFORMAT naming the block or entry and its byte offset; RS_EIO.  st is
 * only used for messages and memory (the file is read whole). */
RS_API RS_NODISCARD rs_status rs_inspect(rs_store *st, const char *path,
                                         rs_file_info *out);

/* ------------------------------------------------------------------------ */
/* Persistence: the journal and atomic groups                                */
/* ------------------------------------------------------------------------ */

/* A durable store keeps BASE.snap (a snapshot) and BASE.journal, to which
 * every change (insert, remove, set, bind, unbind, class declaration) is
 * appended, with its checksum, before the call returns; under
 * RS_SYNC_ALWAYS it is also on disk (fdatasync) by then.  Opening replays
 * the journal over the snapshot.  An entry is written with one write at the
 * journal's end, so a crash can leave only a prefix of the last one (a torn
 * tail: fewer bytes than its header, or a length running past the end of
 * the file); the open drops it.  Anything else (a checksum that does not
 * match, even in the last entry; zeros; a journal missing, shorter than its
 * header or than the snapshot says, beside a snapshot a durable store
 * wrote) may hide acknowledged changes: the open refuses it with
 * RS_EFORMAT naming the file, the entry and its byte offset, and changes no
 * file; rs_durable_repair() then keeps what is whole.  Under
 * RS_SYNC_EVERYSEC and RS_SYNC_NEVER a power cut (not a killed process)
 * can lose the last second or more, or leave unsynced entries damaged:
 * such an open is refused too, and a repair drops what was not synced.
 * Records are named in the journal by their key, so a reload's slots need
 * not match. */
typedef enum rs_sync {
    RS_SYNC_ALWAYS,   /* fdatasync before every call returns */
    RS_SYNC_EVERYSEC, /* fdatasync when a write finds the last one >= 1 s
                         old, or on rs_journal_sync() */
    RS_SYNC_NEVER     /* the kernel writes back when it likes */
} rs_sync;

/* Make st durable under base (NUL-terminated, e.g. "data/players"): load
 * BASE.snap if it exists, replay BASE.journal if it exists, then journal
 * every change.  st must hold no records.  Classes st declares before the
 * call receive their records as rs_load() describes; if any class changed
 * shape the store is compacted at once, so the files follow the new
 * declaration.  One store at a time may use a BASE: the call locks
 * BASE.lock and the journal itself (flock) until the store closes, else
 * RS_EIO (a child forked without exec shares the locks until it exits);
 * unlinking BASE.lock does not let a second store in.  Snapshots and
 * journals must be regular files (a FIFO is refused, not waited on);
 * temporary files are created beside them with random names, never
 * through a link.  Compaction is the
 * caller's choice: rs_save_begin(st, NULL, ...) when the journal has grown
 * (rs_inspect() gives its size).  OUT *info (may be NULL).  Errors as
 * rs_load(), and RS_EFORMAT for a damaged or lost journal (above); on
 * failure st is as it was and not durable, and no snapshot or journal
 * was changed (BASE.lock is created if it did not exist).  Directories
 * an older library wrote (before 0.2) learn that a journal must follow
 * their snapshot at their first compaction; until then a lost journal
 * there is not detected. */
RS_API RS_NODISCARD rs_status rs_durable_open(rs_store *st, const char *base,
                                              rs_sync sync,
                                              rs_load_info *info);

/* What rs_durable_repair() did. */
typedef struct rs_repair_info {
    bool repaired;          /* false: the files opened as they were */
    uint64_t kept_bytes;    /* the journal's length after the repair */
    uint64_t dropped_bytes; /* bytes from the first damaged entry on */
    size_t kept_entries;    /* whole entries kept */
    char aside[512];        /* where the original journal now is ("" if
                               there was none), cut to fit */
    char reason[512];       /* what was wrong, as rs_durable_open() said */
} rs_repair_info;

/* Make BASE's files openable again after rs_durable_open() refused them as
 * damaged, the way redis-check-aof --fix does for an AOF: the journal's
 * whole entries before the first damaged one are kept and the rest is
 * dropped; a journal that is missing or shorter than the snapshot says
 * becomes an empty one that follows the snapshot.  Nothing is deleted: the
 * original journal is first renamed to BASE.journal.damaged-N (N the
 * first number not taken) and the kept part is written to a new file.
 * Takes BASE.lock as rs_durable_open() does (RS_EIO while a store has the
 * files open).  A journal that opens as it is (whole, or with a torn last
 * entry, which an open drops) is left alone: RS_OK with repaired false.
 * Repair reads framing and checksums only: a journal whose entries are
 * whole but do not replay (a class changed: RS_EINVAL from the open) is
 * not damaged, and is left alone too.
 * The snapshot itself is not repaired (RS_EFORMAT if it is damaged).  st
 * must hold no records and stays empty: it is used for messages and
 * memory.  OUT *info (may be NULL).  RS_ENOTFOUND if BASE has neither
 * file, RS_EIO, RS_EFORMAT, RS_ENOMEM. */
RS_API RS_NODISCARD rs_status rs_durable_repair(rs_store *st,
                                                const char *base,
                                                rs_repair_info *info);

/* fdatasync the journal now (RS_SYNC_EVERYSEC servers call this from
 * their idle loop).  RS_OK, RS_EIO, RS_EINVAL if st is not durable. */
RS_API RS_NODISCARD rs_status rs_journal_sync(rs_store *st);

/* Group the next changes into one: rs_group_begin(), any inserts, removes,
 * sets, binds and unbinds on any records, then rs_group_commit().  Either
 * every change applies or none does.  When a change in the group fails it
 * returns its error as usual and the group is rolled back at once: the
 * store holds what it held before rs_group_begin(), and every handle of
 * before is valid again; a record the group inserted is removed and its
 * slot's generation stays advanced, so the handles the group returned are
 * stale for good (and capacity the group grew stays, as free space).
 * Every later change is refused with
 * RS_EGROUP until rs_group_commit() (which then returns RS_EGROUP) or
 * rs_group_abort().  On a durable store the group is one journal entry, so
 * after a crash either all of it is there or none.  Class declarations and
 * saves are refused inside a group (RS_EINVAL).  Groups do not nest. */
RS_API RS_NODISCARD rs_status rs_group_begin(rs_store *st);

/* Apply the group: RS_OK; RS_EGROUP if a change failed (nothing applied);
 * RS_EIO if the journal write failed (the group is rolled back); RS_EINVAL
 * with no group open. */
RS_API RS_NODISCARD rs_status rs_group_commit(rs_store *st);

/* Roll the group back.  No effect without an open group. */
RS_API void rs_group_abort(rs_store *st);

#ifdef __cplusplus
}
#endif
#endif /* ROSTER_H */
