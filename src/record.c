/*
 * record.c: the calls on one record beyond insert, remove and set.
 *
 * Typed reads and writes (rs_get_field, rs_get_attr, rs_get_int ...
 * rs_set_str): they resolve the handle and read the row directly
 * (table.h); a few take a fast path, below.  Then calls composed of the
 * store's own, for front ends that serve callers they do not control:
 *
 *   rs_get_str_copy()  a string into the caller's buffer, so nothing the
 *                      store does next can change or reuse it;
 *   rs_read()          the whole record (HGETALL, repr) in dir() order,
 *                      strings copied into one caller buffer;
 *   rs_set_many()      several fields and attributes, all or none;
 *   rs_incr(), rs_incr_f64(), rs_cas()
 *                      read-modify-write of one field or attribute;
 *   rs_remove_key()    remove by key.
 *
 * The composed calls go through roster.h calls, so each keeps their
 * checks, their messages, the journal and groups for free.  Costs: a copy is one read plus a memcpy; a
 * read-modify-write is one read and one set (journaled as a set of the new
 * value, so a replay gives the same value however often it runs); several
 * sets at once are a group of sets, so an all-or-none failure is the
 * group's rollback (which needs no memory: txn.c).
 */
#include "attrs.h"
#include "store.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* The record's class and the name of field or attribute f, for messages;
 * "?" when they cannot be had (the call that failed said why). */
static const char *name_of(rs_store *st, rs_handle h, rs_field f,
                           const char **cls)
{
    rs_class *c = rs_handle_class(st, h);
    *cls = c ? rs_class_name(c) : "?";
    if (c && f >= 0 && (size_t)f < rs_class_n_fields(c)) {
        rs_field_def d;
        if (rs_class_field_def(c, f, &d) == RS_OK) {
            return d.name;
        }
    }
    if (f >= RS_ATTR_BASE && (uint32_t)(f - RS_ATTR_BASE) < st->attrs.n_names) {
        return st->attrs.names[f - RS_ATTR_BASE].s;
    }
    return "?";
}

rs_status rs_get_str_copy(rs_store *st, rs_handle h, rs_field f, char *buf,
                          size_t cap, size_t *len)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    if (len == NULL || (buf == NULL && cap > 0)) {
        return rs__err(st, RS_EINVAL, "rs_get_str_copy: NULL argument");
    }
    const char *p = NULL; /* set when rs_get_str() succeeds; gcc -O3
                             cannot see it through the inlined call */
    size_t n = 0;
    rs_status rc = rs_get_str(st, h, f, &p, &n);
    if (rc != RS_OK) {
        return rc;
    }
    *len = n;
    if (cap < n + 1) {
        const char *cls, *name = name_of(st, h, f, &cls);
        return rs__err(st, RS_ETOOLONG,
                       "%s.%s: %zu bytes do not fit in a "
                       "buffer of %zu",
                       cls, name, n + 1, cap);
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return RS_OK;
}

rs_status rs_read(rs_store *st, rs_handle h, rs_attr *items, size_t cap,
                  size_t *n, char *buf, size_t buflen, size_t *need)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    if (n == NULL || need == NULL || (items == NULL && cap > 0) ||
        (buf == NULL && buflen > 0)) {
        return rs__err(st, RS_EINVAL, "rs_read: NULL argument");
    }
    /* dir() first: the names and their number, and whether h is live. */
    const char *names[RS_MAX_FIELDS + RS_ATTRS_MAX];
    size_t total;
    rs_status rc = rs_dir(st, h, names, sizeof names / sizeof names[0], &total);
    if (rc != RS_OK) {
        return rc;
    }
    rs_class *c = rs_handle_class(st, h);
    size_t n_fields = rs_class_n_fields(c);
    size_t used = 0;
    bool fits = total <= cap;
    for (size_t i = 0; i < total; i++) {
        rs_value v;
        if (i < n_fields) {
            rc = rs_get_field(st, h, (rs_field)i, &v);
        } else {
            rc = rs_get_attr(st, h, names[i], &v);
        }
        if (rc != RS_OK) {
            return rc; /* cannot happen on a live record: say so anyway */
        }
        if (v.type == RS_STR) {
            /* The string may sit in one of the store's decode buffers, or
             * in a row the next write moves: copy it now. */
            if (fits && used + v.v.s.len + 1 <= buflen) {
                if (v.v.s.len > 0) {
                    memcpy(buf + used, v.v.s.ptr, v.v.s.len);
                }
                buf[used + v.v.s.len] = '\0';
                v.v.s.ptr = buf + used;
            } else {
                fits = false;
            }
            used += v.v.s.len + 1;
        }
        if (fits) {
            items[i].name = names[i];
            items[i].val = v;
        }
    }
    *n = total;
    *need = used;
    if (total > cap || used > buflen) {
        return rs__err(st, RS_ETOOLONG,
                       "rs_read: the record has %zu items "
                       "taking %zu bytes of strings; room was given for %zu "
                       "and %zu",
                       total, used, cap, buflen);
    }
    return RS_OK;
}

rs_status rs_set_many(rs_store *st, rs_handle h, const rs_named *vals, size_t n)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (vals == NULL && n > 0) {
        return rs__err(st, RS_EINVAL, "rs_set_many: NULL values");
    }
    rs_status rc = rs_check(st, h);
    if (rc != RS_OK) {
        return rc;
    }
    if (n > RS_MAX_FIELDS + RS_ATTRS_MAX) {
        /* More pairs than a record can have names: it cannot succeed, and
         * the duplicate check below is quadratic. */
        return rs__err(st, RS_EINVAL,
                       "rs_set_many: %zu pairs, more than a "
                       "record can hold (%d)",
                       n, RS_MAX_FIELDS + RS_ATTRS_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        if (vals[i].name == NULL) {
            return rs__err(st, RS_EINVAL, "rs_set_many: NULL name");
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(vals[i].name, vals[j].name) == 0) {
                return rs__err(st, RS_EINVAL,
                               "%s.%s: named twice in one "
                               "call",
                               rs_class_name(rs_handle_class(st, h)),
                               vals[i].name);
            }
        }
    }
    if (n == 1) {
        return rs_set_attr(st, h, vals[0].name, &vals[0].val);
    }
    /* Inside the caller's group the sets are part of it (a failure rolls
     * the whole group back, as any change there does); otherwise a group
     * of our own makes them one. */
    rc = rs_group_begin(st);
    bool own = rc == RS_OK;
    if (rc == RS_ENOMEM) {
        return rc; /* nothing applied */
    }
    rc = RS_OK; /* RS_EINVAL: the caller's group is open */
    for (size_t i = 0; i < n && rc == RS_OK; i++) {
        rc = rs_set_attr(st, h, vals[i].name, &vals[i].val);
    }
    if (!own) {
        return rc;
    }
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, rs_errmsg(st), sizeof msg);
        rs_group_abort(st);
        return rs__err(st, rc, "%s", msg);
    }
    return rs_group_commit(st);
}

/* The current value of f for a read-modify-write, into *v: an attribute
 * the record has not bound reads as *if_unbound (HINCRBY's 0) when that
 * is given, else it is RS_ENOATTR and *unbound says so. */
static rs_status current(rs_store *st, rs_handle h, rs_field f, rs_value *v,
                         const rs_value *if_unbound, bool *unbound)
{
    rs_status rc = rs_get_field(st, h, f, v);
    *unbound = rc == RS_ENOATTR && f >= RS_ATTR_BASE;
    if (*unbound && if_unbound != NULL) {
        rs__clear_err(st);
        *v = *if_unbound;
        return RS_OK;
    }
    return rc;
}

rs_status rs_incr(rs_store *st, rs_handle h, rs_field f, int64_t delta,
                  int64_t *out)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    rs_value v, zero = rs_val_int(0);
    bool unbound;
    rs_status rc = current(st, h, f, &v, &zero, &unbound);
    if (rc != RS_OK) {
        return rc;
    }
    const char *cls, *name = name_of(st, h, f, &cls);
    rs_value sum;
    if (rs__class_type_signed(v.type)) {
        int64_t r;
        if (__builtin_add_overflow(v.v.i, delta, &r)) {
            return rs__err(st, RS_ERANGE,
                           "%s.%s: %" PRId64 " + %" PRId64 " overflows int64",
                           cls, name, v.v.i, delta);
        }
        sum = rs_val_int(r);
    } else if (rs__class_type_unsigned(v.type)) {
        uint64_t u = v.v.u,
                 d = delta < 0 ? 0 - (uint64_t)delta : (uint64_t)delta;
        if (delta < 0 ? u < d : u > UINT64_MAX - d) {
            return rs__err(st, RS_ERANGE,
                           "%s.%s: %" PRIu64 " + %" PRId64
                           " leaves the field's range",
                           cls, name, u, delta);
        }
        sum = rs_val_uint(delta < 0 ? u - d : u + d);
    } else {
        return rs__err(st, RS_ETYPE, "%s.%s: the value is not an integer", cls,
                       name);
    }
    /* The result must be one an int64 can report, whether or not the
     * caller asked for it: the same call succeeds or fails either way. */
    if (sum.type == RS_U64 && sum.v.u > INT64_MAX) {
        return rs__err(st, RS_ERANGE, "%s.%s: %" PRIu64 " exceeds int64", cls,
                       name, sum.v.u);
    }
    rc = rs_set_field(st, h, f, &sum);
    if (rc == RS_OK && out != NULL) {
        *out = sum.type == RS_U64 ? (int64_t)sum.v.u : sum.v.i;
    }
    return rc;
}

rs_status rs_incr_f64(rs_store *st, rs_handle h, rs_field f, double delta,
                      double *out)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    rs_value v, zero = rs_val_f64(0);
    bool unbound;
    rs_status rc = current(st, h, f, &v, &zero, &unbound);
    if (rc != RS_OK) {
        return rc;
    }
    const char *cls, *name = name_of(st, h, f, &cls);
    double x;
    if (v.type == RS_F32 || v.type == RS_F64) {
        x = v.v.f;
    } else if (f >= RS_ATTR_BASE && rs__class_type_signed(v.type)) {
        x = (double)v.v.i; /* an integer attribute becomes a float one */
    } else if (f >= RS_ATTR_BASE && rs__class_type_unsigned(v.type)) {
        x = (double)v.v.u;
    } else {
        return rs__err(st, RS_ETYPE, "%s.%s: the value is not a float", cls,
                       name);
    }
    double r = x + delta;
    if (!isfinite(r)) {
        return rs__err(st, RS_ERANGE,
                       "%s.%s: %.17g + %.17g is not a finite "
                       "number",
                       cls, name, x, delta);
    }
    rs_value nv = rs_val_f64(r);
    rc = rs_set_field(st, h, f, &nv);
    if (rc == RS_OK && out != NULL) {
        /* What the field holds: an f32 field rounds. */
        rs_value got;
        *out = rs_get_field(st, h, f, &got) == RS_OK ? got.v.f : r;
    }
    return rc;
}

/* Whether a and b are equal as a scan's RS_EQ sees them: numbers by value
 * (integers exactly, a float against anything numeric as doubles), bools
 * with bools, strings bytewise. */
static bool same_value(const rs_value *a, const rs_value *b)
{
    if (a->type == RS_STR || b->type == RS_STR) {
        return a->type == b->type && a->v.s.len == b->v.s.len &&
               (a->v.s.len == 0 ||
                memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0);
    }
    if (a->type == RS_BOOL && b->type == RS_BOOL) {
        return a->v.b == b->v.b;
    }
    /* A bool against a number is 0 or 1, as a scan compiles it. */
    rs_value ab = *a, bb = *b;
    if (ab.type == RS_BOOL) {
        ab = rs_val_uint(ab.v.b);
    }
    if (bb.type == RS_BOOL) {
        bb = rs_val_uint(bb.v.b);
    }
    a = &ab;
    b = &bb;
    bool af = a->type == RS_F32 || a->type == RS_F64;
    bool bf = b->type == RS_F32 || b->type == RS_F64;
    if (af || bf) {
        double x = af                               ? a->v.f
                   : rs__class_type_signed(a->type) ? (double)a->v.i
                                                    : (double)a->v.u;
        double y = bf                               ? b->v.f
                   : rs__class_type_signed(b->type) ? (double)b->v.i
                                                    : (double)b->v.u;
        return x == y;
    }
    if (rs__class_type_signed(a->type) && a->v.i < 0) {
        return rs__class_type_signed(b->type) && b->v.i == a->v.i;
    }
    if (rs__class_type_signed(b->type) && b->v.i < 0) {
        return false;
    }
    uint64_t x = rs__class_type_signed(a->type) ? (uint64_t)a->v.i : a->v.u;
    uint64_t y = rs__class_type_signed(b->type) ? (uint64_t)b->v.i : b->v.u;
    return x == y;
}

rs_status rs_cas(rs_store *st, rs_handle h, rs_field f, const rs_value *expect,
                 const rs_value *val)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (expect == NULL || val == NULL) {
        return rs__err(st, RS_EINVAL, "rs_cas: NULL argument");
    }
    rs_value v;
    bool unbound;
    rs_status rc = current(st, h, f, &v, NULL, &unbound);
    const char *cls, *name = name_of(st, h, f, &cls);
    if (unbound) {
        return rs__err(st, RS_ECHANGED,
                       "%s.%s: not bound, so not the "
                       "expected value",
                       cls, name);
    }
    if (rc != RS_OK) {
        return rc;
    }
    if (!same_value(&v, expect)) {
        return rs__err(st, RS_ECHANGED,
                       "%s.%s: the value is not the "
                       "expected one",
                       cls, name);
    }
    return rs_set_field(st, h, f, val);
}

rs_status rs_remove_key(rs_store *st, const rs_class *cls, const char *key,
                        size_t len)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs_handle h;
    rs_status rc = rs_get(st, cls, key, len, &h);
    return rc != RS_OK ? rc : rs_remove(st, h);
}

/* ------------------------------------------------------------------------ */
/* Reading and writing fields, typed                                         */
/* ------------------------------------------------------------------------ */

/* Declared field f of a live slot into *out, a member at a time, never
 * copied whole: see rs__class_num_read(). */
static void declared_value(rs_store *st, const rs_class *c, uint32_t slot,
                           rs_field f, rs_value *out)
{
    const rs__field *fd = &c->sch.fields[f];
    if (fd->type != RS_STR) {
        rs__class_num_read(rs__row(c, slot) + fd->off, fd->type, out);
        return;
    }
    rs_value v = rs__table_caller_value(st, c, slot, f);
    out->type = RS_STR;
    out->v.s.ptr = v.v.s.ptr;
    out->v.s.len = v.v.s.len;
}

/* rs_get_field() past its short path. */
static RS_NOINLINE rs_status get_field(rs_store *st, rs_handle h, rs_field f,
                                       rs_value *out)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_field: NULL argument");
    }
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if ((uint32_t)f < c->sch.n_fields) {
        declared_value(st, c, slot, f, out);
        return RS_OK;
    }
    if (rs__table_attr_field(st, f)) {
        uint32_t id = (uint32_t)(f - RS_ATTR_BASE);
        if (rs__attrs_get(st, c, slot, id, out) != RS_OK) {
            return rs__table_no_attr(st, c, st->attrs.names[id].s);
        }
        return RS_OK;
    }
    return rs__table_check_field(st, c, f);
}

rs_status rs_get_field(rs_store *st, rs_handle h, rs_field f, rs_value *out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    /* A dynamic attribute whose vector entry vouches for h: no row read,
     * and nothing else on the way (p.x from Python comes here). */
    if (out != NULL && rs__attrs_read(st, h, f, out)) {
        return RS_OK;
    }
    return get_field(st, h, f, out);
}

rs_status rs_get_attr(rs_store *st, rs_handle h, const char *name,
                      rs_value *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_attr: NULL argument");
    }
    rs_class *c = NULL;
    uint32_t slot = 0;
    uint16_t gen;
    rs__clear_err(st);
    if (name != NULL && rs__table_peek(st, h, &c, &slot, &gen) &&
        rs__table_field(c, name, 0) < 0) {
        /* A dynamic attribute, read without the row as rs_get_field()
         * reads one (rs__attrs_get_by_entry). */
        uint32_t id = rs__shape_lookup(&st->attrs, name);
        if (id != UINT32_MAX &&
            rs__attrs_get_by_entry(st, c, slot, gen, id, out)) {
            return RS_OK;
        }
    }
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (name == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_attr: NULL name");
    }
    rs_field f = rs__table_field(c, name, 0);
    if (f < 0) {
        uint32_t id = rs__shape_lookup(&st->attrs, name);
        if (id == UINT32_MAX || rs__attrs_get(st, c, slot, id, out) != RS_OK) {
            return rs__table_no_attr(st, c, name);
        }
        return RS_OK;
    }
    declared_value(st, c, slot, f, out);
    return RS_OK;
}

static rs_status type_err(rs_store *st, rs_handle h, rs_field f,
                          const char *want)
{
    const rs_class *c = rs_handle_class(st, h);
    if (f >= RS_ATTR_BASE) {
        return rs__err(st, RS_ETYPE, "%s.%s: the value is not %s", c->sch.name,
                       st->attrs.names[f - RS_ATTR_BASE].s, want);
    }
    const rs__field *fd = &c->sch.fields[f];
    return rs__err(st, RS_ETYPE, "%s.%s: is %s, not %s", c->sch.name, fd->name,
                   rs_type_name(fd->type), want);
}

/* The typed fast paths below read an unsigned integer field (rs_get_uint)
 * or write a u8, u16 or u32 one that no index covers while no observer
 * listens (rs_set_int) in place: a handle check and a load or store, a
 * few dozen instructions, short enough that the processor overlaps the
 * cache misses of consecutive calls.  Anything else (another type, an
 * indexed field, a value out of range, an error) takes the general path,
 * which says what was wrong. */
static inline const uint8_t *fast_field(rs_store *st, rs_handle h, rs_field f,
                                        rs_type *type, const rs__field **fdp)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    if (RS_UNLIKELY(rs__table_resolve(st, h, &c, &slot) != RS_OK ||
                    (uint32_t)f >= c->sch.n_fields)) {
        return NULL;
    }
    const rs__field *fd = &c->sch.fields[f];
    *type = fd->type;
    *fdp = fd;
    return rs__row(c, slot) + fd->off;
}

/* An integer field of a live handle read in place, signed (sign-extended,
 * as two's complement bits) or unsigned as asked: false for a stale
 * handle, another field or type, which take the general path with its
 * message. */
static inline bool int_in_place(rs_store *st, rs_handle h, rs_field f,
                                bool is_signed, uint64_t *bits)
{
    rs_type t;
    const rs__field *fd;
    const uint8_t *p = fast_field(st, h, f, &t, &fd);
    if (p == NULL ||
        (is_signed ? !rs__class_type_signed(t) : !rs__class_type_unsigned(t))) {
        return false; /* *bits untouched */
    }
    switch (t) {
    case RS_U8:
        *bits = p[0];
        return true;
    case RS_U16: {
        uint16_t v;
        memcpy(&v, p, 2);
        *bits = v;
        return true;
    }
    case RS_U32: {
        uint32_t v;
        memcpy(&v, p, 4);
        *bits = v;
        return true;
    }
    case RS_I8: {
        int8_t v;
        memcpy(&v, p, 1);
        *bits = (uint64_t)(int64_t)v;
        return true;
    }
    case RS_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        *bits = (uint64_t)(int64_t)v;
        return true;
    }
    case RS_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        *bits = (uint64_t)(int64_t)v;
        return true;
    }
    default: /* RS_U64, RS_I64 */
        memcpy(bits, p, 8);
        return true;
    }
}

rs_status rs_get_int(rs_store *st, rs_handle h, rs_field f, int64_t *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_int: NULL argument");
    }
    uint64_t bits;
    rs__clear_err(st);
    if (RS_LIKELY(int_in_place(st, h, f, true, &bits))) {
        memcpy(out, &bits, sizeof *out); /* two's complement back */
        return RS_OK;
    }
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (v.type == RS_BOOL) {
        *out = v.v.b;
    } else if (rs__class_type_signed(v.type)) {
        *out = v.v.i;
    } else if (v.type == RS_U8 || v.type == RS_U16 || v.type == RS_U32 ||
               v.type == RS_U64) {
        if (v.v.u > INT64_MAX) {
            return rs__err(st, RS_ERANGE, "value %" PRIu64 " exceeds int64",
                           v.v.u);
        }
        *out = (int64_t)v.v.u;
    } else {
        return type_err(st, h, f, "an integer");
    }
    return RS_OK;
}

rs_status rs_get_uint(rs_store *st, rs_handle h, rs_field f, uint64_t *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_uint: NULL argument");
    }
    rs__clear_err(st);
    if (RS_LIKELY(int_in_place(st, h, f, false, out))) {
        return RS_OK;
    }
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (v.type == RS_BOOL) {
        *out = v.v.b;
    } else if (rs__class_type_signed(v.type)) {
        if (v.v.i < 0) {
            return rs__err(st, RS_ERANGE, "value %" PRId64 " is negative",
                           v.v.i);
        }
        *out = (uint64_t)v.v.i;
    } else if (v.type == RS_U8 || v.type == RS_U16 || v.type == RS_U32 ||
               v.type == RS_U64) {
        *out = v.v.u;
    } else {
        return type_err(st, h, f, "an integer");
    }
    return RS_OK;
}

rs_status rs_get_f64(rs_store *st, rs_handle h, rs_field f, double *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_f64: NULL argument");
    }
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (v.type == RS_F32 || v.type == RS_F64) {
        *out = v.v.f;
    } else if (rs__class_type_signed(v.type)) {
        *out = (double)v.v.i;
    } else if (v.type != RS_STR && v.type != RS_BOOL) {
        *out = (double)v.v.u;
    } else {
        return type_err(st, h, f, "a number");
    }
    return RS_OK;
}

rs_status rs_get_str(rs_store *st, rs_handle h, rs_field f, const char **ptr,
                     size_t *len)
{
    RS__NEED_STORE(st);
    if (ptr == NULL || len == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_str: NULL argument");
    }
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (v.type != RS_STR) {
        return type_err(st, h, f, "str");
    }
    *ptr = v.v.s.ptr;
    *len = v.v.s.len;
    return RS_OK;
}

rs_status rs_set_int(rs_store *st, rs_handle h, rs_field f, int64_t v)
{
    RS__NEED_STORE(st);
    rs_type t;
    const rs__field *fd;
    rs__clear_err(st);
    uint8_t *p = (uint8_t *)fast_field(st, h, f, &t, &fd);
    if (RS_LIKELY(p != NULL) && fd->ix < 0 && v >= 0 && st->obs == NULL) {
        if (t == RS_U8 && v <= UINT8_MAX) {
            p[0] = (uint8_t)v;
            return RS_OK;
        }
        if (t == RS_U16 && v <= UINT16_MAX) {
            uint16_t x = (uint16_t)v;
            memcpy(p, &x, 2);
            return RS_OK;
        }
        if (t == RS_U32 && v <= (int64_t)UINT32_MAX) {
            uint32_t x = (uint32_t)v;
            memcpy(p, &x, 4);
            return RS_OK;
        }
    }
    rs_value val = rs_val_int(v);
    return rs_set_field(st, h, f, &val);
}

rs_status rs_set_str(rs_store *st, rs_handle h, rs_field f, const char *ptr,
                     size_t len)
{
    RS__NEED_STORE(st);
    if (ptr == NULL && len > 0) {
        return rs__err(st, RS_EINVAL, "rs_set_str: NULL argument");
    }
    rs_value val = rs_val_str(ptr, len);
    return rs_set_field(st, h, f, &val);
}

rs_status rs_set_uint(rs_store *st, rs_handle h, rs_field f, uint64_t v)
{
    RS__NEED_STORE(st);
    if (v <= INT64_MAX) {
        return rs_set_int(st, h, f, (int64_t)v); /* its fast path */
    }
    rs_value val = rs_val_uint(v);
    return rs_set_field(st, h, f, &val);
}

rs_status rs_set_f64(rs_store *st, rs_handle h, rs_field f, double v)
{
    RS__NEED_STORE(st);
    rs_value val = rs_val_f64(v);
    return rs_set_field(st, h, f, &val);
}

rs_status rs_set_bool(rs_store *st, rs_handle h, rs_field f, bool v)
{
    RS__NEED_STORE(st);
    rs_value val = rs_val_bool(v);
    return rs_set_field(st, h, f, &val);
}

rs_status rs_get_bool(rs_store *st, rs_handle h, rs_field f, bool *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get_bool: NULL argument");
    }
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (v.type != RS_BOOL) {
        return type_err(st, h, f, "bool");
    }
    *out = v.v.b;
    return RS_OK;
}
