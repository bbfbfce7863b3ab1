/*
 * scan.c: filtered scans over a class.
 *
 * A scan walks the class's rows in slot order, page by page (sequential
 * memory, so the prefetcher does the work), skips free rows by their even
 * generation, and tests an AND of comparisons on each live one.  Conditions
 * are checked and copied when the scan opens, string operands into one
 * buffer the scan owns, so the caller's buffers are free at once.
 *
 * Numbers compare by value across types: integers as 128-bit, anything with
 * a float as double (NaN matches only !=).  Strings compare bytewise, then
 * by length.  Cost: O(slots) per full scan; no allocation after open.
 */
#include "store.h"

struct rs_scan {
    rs_store *st;
    rs_class *cls;
    uint32_t next;      /* next slot to look at */
    rs_scan *prev_open; /* the store's list of open scans */
    rs_scan *next_open;
    size_t n_conds;
    size_t alloc_len;
    rs_cond conds[]; /* followed by the copied string operands */
};

static bool is_int(rs_type t)
{
    return t != RS_STR && t != RS_F32 && t != RS_F64;
}

static bool is_signed_type(rs_type t)
{
    return t == RS_I8 || t == RS_I16 || t == RS_I32 || t == RS_I64;
}

static __int128 as_i128(const rs_value *v)
{
    if (v->type == RS_BOOL) {
        return v->v.b;
    }
    return is_signed_type(v->type) ? (__int128)v->v.i : (__int128)v->v.u;
}

static double as_f64(const rs_value *v)
{
    if (v->type == RS_F32 || v->type == RS_F64) {
        return v->v.f;
    }
    return (double)as_i128(v);
}

/* -1, 0, 1, or 2 when unordered (NaN). */
static int compare(const rs_value *a, const rs_value *b)
{
    if (a->type == RS_STR) {
        size_t n = a->v.s.len < b->v.s.len ? a->v.s.len : b->v.s.len;
        int c = n ? memcmp(a->v.s.ptr, b->v.s.ptr, n) : 0;
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
        return a->v.s.len < b->v.s.len ? -1 : a->v.s.len > b->v.s.len;
    }
    if (is_int(a->type) && is_int(b->type)) {
        __int128 x = as_i128(a), y = as_i128(b);
        return x < y ? -1 : x > y;
    }
    double x = as_f64(a), y = as_f64(b);
    if (x != x || y != y) {
        return 2;
    }
    return x < y ? -1 : x > y;
}

static bool test(const rs_cond *c, const rs_value *v)
{
    /* A dynamic attribute's value may be of any kind on any record: a
     * string never matches a number, nor a number a string. */
    if ((v->type == RS_STR) != (c->val.type == RS_STR)) {
        return false;
    }
    if (c->op == RS_PREFIX) {
        return v->v.s.len >= c->val.v.s.len &&
               (c->val.v.s.len == 0 ||
                memcmp(v->v.s.ptr, c->val.v.s.ptr, c->val.v.s.len) == 0);
    }
    int r = compare(v, &c->val);
    switch (c->op) {
    case RS_EQ:
        return r == 0;
    case RS_NE:
        return r != 0;
    case RS_LT:
        return r == -1;
    case RS_LE:
        return r == -1 || r == 0;
    case RS_GT:
        return r == 1;
    case RS_GE:
        return r == 1 || r == 0;
    default:
        return false;
    }
}

static rs_status check_cond(rs_store *st, const rs_class *cls,
                            const rs_cond *c)
{
    const rs__schema *sch = &cls->sch;
    if (c->field >= RS_ATTR_BASE &&
        (uint32_t)(c->field - RS_ATTR_BASE) < st->attrs.n_names) {
        const char *name = st->attrs.names[c->field - RS_ATTR_BASE].s;
        if ((unsigned)c->op > RS_PREFIX ||
            (unsigned)c->val.type >= RS_TYPE__COUNT) {
            return rs__err(st, RS_EINVAL, "%s.%s: bad operator or value",
                           sch->name, name);
        }
        if (c->op == RS_PREFIX && c->val.type != RS_STR) {
            return rs__err(st, RS_ETYPE, "%s.%s: prefix needs a string",
                           sch->name, name);
        }
        if (c->val.type == RS_STR && c->val.v.s.ptr == NULL &&
            c->val.v.s.len > 0) {
            return rs__err(st, RS_EINVAL, "%s.%s: NULL string", sch->name,
                           name);
        }
        return RS_OK;
    }
    if (c->field < 0 || (uint32_t)c->field >= sch->n_fields) {
        return rs__err(st, RS_EINVAL, "%s: scan on field number %d, which "
                                      "does not exist", sch->name, c->field);
    }
    const rs__field *fd = &sch->fields[c->field];
    if ((unsigned)c->op > RS_PREFIX) {
        return rs__err(st, RS_EINVAL, "%s.%s: unknown scan operator %d",
                       sch->name, fd->name, (int)c->op);
    }
    if ((unsigned)c->val.type >= RS_TYPE__COUNT) {
        return rs__err(st, RS_EINVAL, "%s.%s: bad value type %d", sch->name,
                       fd->name, (int)c->val.type);
    }
    bool fs = fd->type == RS_STR, vs = c->val.type == RS_STR;
    if (fs != vs || (c->op == RS_PREFIX && !fs)) {
        return rs__err(st, RS_ETYPE, "%s.%s: cannot compare %s with %s%s",
                       sch->name, fd->name, rs_type_name(fd->type),
                       rs_type_name(c->val.type),
                       c->op == RS_PREFIX ? " by prefix" : "");
    }
    if (vs && c->val.v.s.ptr == NULL && c->val.v.s.len > 0) {
        return rs__err(st, RS_EINVAL, "%s.%s: NULL string", sch->name,
                       fd->name);
    }
    return RS_OK;
}

rs_status rs_scan_open(rs_store *st, rs_class *cls, const rs_cond *conds,
                       size_t n_conds, rs_scan **out)
{
    rs__clear_err(st);
    if (cls == NULL || cls->st != st || out == NULL ||
        (conds == NULL && n_conds > 0)) {
        return rs__err(st, RS_EINVAL, "rs_scan_open: NULL argument");
    }
    if (n_conds > 1024) {
        return rs__err(st, RS_EINVAL, "%s: %zu scan conditions, at most "
                                      "1024", cls->sch.name, n_conds);
    }
    size_t len = sizeof(rs_scan) + n_conds * sizeof(rs_cond);
    for (size_t i = 0; i < n_conds; i++) {
        rs_status rc = check_cond(st, cls, &conds[i]);
        if (rc != RS_OK) {
            return rc;
        }
        if (conds[i].val.type == RS_STR) {
            len += conds[i].val.v.s.len;
        }
    }
    rs_scan *sc = rs__alloc(st, RS_MEM_META, len);
    if (sc == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory opening a scan");
    }
    memset(sc, 0, sizeof *sc);
    sc->st = st;
    sc->cls = cls;
    sc->n_conds = n_conds;
    sc->alloc_len = len;
    char *text = (char *)&sc->conds[n_conds];
    for (size_t i = 0; i < n_conds; i++) {
        sc->conds[i] = conds[i];
        if (conds[i].val.type == RS_STR) {
            size_t n = conds[i].val.v.s.len;
            if (n > 0) {
                memcpy(text, conds[i].val.v.s.ptr, n);
            }
            sc->conds[i].val.v.s.ptr = text;
            text += n;
        }
    }
    sc->next_open = st->scans;
    if (st->scans) {
        st->scans->prev_open = sc;
    }
    st->scans = sc;
    *out = sc;
    return RS_OK;
}

rs_status rs_scan_next(rs_scan *sc, rs_handle *out)
{
    if (sc == NULL || out == NULL) {
        return RS_EINVAL;
    }
    const rs_class *c = sc->cls;
    while (sc->next < c->n_slots) {
        uint32_t slot = sc->next++;
        const uint8_t *row = rs__row(c, slot);
        if (!rs__row_live(row)) {
            continue;
        }
        size_t i = 0;
        for (; i < sc->n_conds; i++) {
            rs_field f = sc->conds[i].field;
            rs_value v;
            char buf[RS_KEY_TMP];
            if (f < RS_ATTR_BASE) {
                v = rs__row_value(c, row, f, buf);
            } else if (rs__attrs_get(sc->st, c, slot,
                                     (uint32_t)(f - RS_ATTR_BASE),
                                     &v) != RS_OK) {
                break; /* a record without the attribute does not match */
            }
            if (!test(&sc->conds[i], &v)) {
                break;
            }
        }
        if (i == sc->n_conds) {
            *out = rs__handle(c, slot);
            return RS_OK;
        }
    }
    return RS_DONE;
}

void rs_scan_close(rs_scan *sc)
{
    if (sc == NULL) {
        return;
    }
    rs_store *st = sc->st;
    if (sc->prev_open) {
        sc->prev_open->next_open = sc->next_open;
    } else {
        st->scans = sc->next_open;
    }
    if (sc->next_open) {
        sc->next_open->prev_open = sc->prev_open;
    }
    rs__free(st, RS_MEM_META, sc, sc->alloc_len);
}
