/*
 * model.c: the reference model (model.h), written from roster.h: records
 * in an unordered array searched linearly, the value rules, uniqueness, the
 * interned names and the scan filter.
 */
#include "model.h"

/* The live records, in no order; removal swaps the last one in. */
mrec *recs;
size_t n_recs;
static size_t cap_recs;
size_t n_of[NC]; /* live records per class */

/* The interned names, in interning order (their ids), their bytes, and a
 * hash table over them (open addressing, ids + 1). */
char **m_names;
uint32_t m_n_names;
/* Names below this stay through a group's rollback or a failed load: an
 * id rs_attr_id() handed out (roster.h: a name once known stays known). */
uint32_t m_pinned;
size_t m_name_bytes;
static uint32_t m_cap_names;
static uint32_t *m_name_ix;
static uint32_t m_name_ix_cap;

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* The id of name, or -1 if it was never interned. */
long m_lookup(const char *name)
{
    if (m_name_ix_cap == 0) {
        return -1;
    }
    uint32_t mask = m_name_ix_cap - 1;
    for (uint32_t i = fnv(name) & mask; m_name_ix[i] != 0; i = (i + 1) & mask) {
        if (strcmp(m_names[m_name_ix[i] - 1], name) == 0) {
            return (long)m_name_ix[i] - 1;
        }
    }
    return -1;
}

static void m_ix_put(uint32_t id)
{
    uint32_t mask = m_name_ix_cap - 1;
    uint32_t i = fnv(m_names[id]) & mask;
    while (m_name_ix[i] != 0) {
        i = (i + 1) & mask;
    }
    m_name_ix[i] = id + 1;
}

/* Intern a valid name: what a call that succeeds with it does. */
uint32_t m_intern(const char *name)
{
    long id = m_lookup(name);
    if (id >= 0) {
        return (uint32_t)id;
    }
    if (m_n_names == m_cap_names) {
        m_cap_names = m_cap_names ? m_cap_names * 2 : 64;
        m_names = realloc(m_names, m_cap_names * sizeof *m_names);
    }
    if ((m_n_names + 1) * 2 > m_name_ix_cap) {
        free(m_name_ix);
        m_name_ix_cap = m_name_ix_cap ? m_name_ix_cap * 2 : 256;
        m_name_ix = calloc(m_name_ix_cap, sizeof *m_name_ix);
        if (m_name_ix == NULL || m_names == NULL) {
            fprintf(stderr, "test_model: out of memory in the model\n");
            exit(1);
        }
        for (uint32_t k = 0; k < m_n_names; k++) {
            m_ix_put(k);
        }
    }
    m_names[m_n_names] = strdup(name);
    if (m_names[m_n_names] == NULL) {
        fprintf(stderr, "test_model: out of memory in the model\n");
        exit(1);
    }
    m_ix_put(m_n_names);
    m_name_bytes += strlen(name);
    return m_n_names++;
}

/* The hash table again, after ids changed. */
static void m_ix_rebuild(void)
{
    uint32_t cap = 256;
    while (cap < (m_n_names + 1) * 2) {
        cap *= 2;
    }
    free(m_name_ix);
    m_name_ix_cap = cap;
    m_name_ix = calloc(cap, sizeof *m_name_ix);
    if (m_name_ix == NULL) {
        fail("out of memory in the model");
    }
    for (uint32_t k = 0; k < m_n_names; k++) {
        m_ix_put(k);
    }
}

/* Forget the names from id n on. */
static void m_names_truncate(uint32_t n)
{
    for (uint32_t k = n; k < m_n_names; k++) {
        m_name_bytes -= strlen(m_names[k]);
        free(m_names[k]);
    }
    m_n_names = n;
    m_ix_rebuild();
}

void m_names_renumber(const long *new_id, uint32_t n_new)
{
    char **names = calloc(n_new ? n_new : 1, sizeof *names);
    if (names == NULL) {
        fail("out of memory in the model");
    }
    for (uint32_t k = 0; k < m_n_names; k++) {
        if (new_id[k] >= 0) {
            names[new_id[k]] = m_names[k];
        } else {
            m_name_bytes -= strlen(m_names[k]);
            free(m_names[k]);
        }
    }
    for (size_t i = 0; i < n_recs; i++) {
        for (uint32_t k = 0; k < recs[i].n_attrs; k++) {
            recs[i].a[k].name = (uint32_t)new_id[recs[i].a[k].name];
        }
    }
    free(m_names);
    m_names = names;
    m_cap_names = n_new ? n_new : 1;
    m_n_names = n_new;
    m_pinned = 0; /* another store: none of its ids handed out yet */
    m_ix_rebuild();
}

void m_names_free(void)
{
    for (uint32_t k = 0; k < m_n_names; k++) {
        free(m_names[k]);
    }
    free(m_names);
    free(m_name_ix);
    m_names = NULL;
    m_name_ix = NULL;
    m_n_names = m_cap_names = m_name_ix_cap = 0;
    m_name_bytes = 0;
    m_pinned = 0;
}

/* An attribute name (roster.h): an identifier of 1..RS_MAX_NAME bytes. */
bool m_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > RS_MAX_NAME) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

long m_attr_find(const mrec *r, uint32_t name)
{
    for (uint32_t k = 0; k < r->n_attrs; k++) {
        if (r->a[k].name == name) {
            return (long)k;
        }
    }
    return -1;
}

/* Handles of removed records, to use again: they must stay stale.  A
 * ring: the newest N_STALE. */
rs_handle stale[N_STALE];
int n_stale;
static int stale_next;

mgroup m_group;

bool same_str(const mval *a, const mval *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* The record of class c whose indexed field f equals v, or -1: a linear
 * search. */
long m_find(int c, int f, const mval *v)
{
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].c == c && same_str(&recs[i].f[f], v)) {
            return (long)i;
        }
    }
    return -1;
}

long m_by_handle(rs_handle h)
{
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].h == h) {
            return (long)i;
        }
    }
    return -1;
}

int m_field_named(const char *name)
{
    for (int f = 0; f < NF; f++) {
        if (strcmp(defs[f].name, name) == 0) {
            return f;
        }
    }
    return -1;
}

/* UTF-8 by decoding code points: no overlong forms, no surrogates, nothing
 * above U+10FFFF. */
bool utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + need > n) {
            return false;
        }
        for (size_t j = 1; j < need; j++) {
            if ((p[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i + j] & 0x3Fu);
        }
        if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
            (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += need;
    }
    return true;
}

/* The model's value rules (roster.h, rs_value and rs_field_def): what a
 * value given for field f becomes, or which error it is. */
rs_status m_coerce(int f, const rs_value *in, mval *out)
{
    memset(out, 0, sizeof *out);
    rs_type ft = defs[f].type, vt = in->type;
    if (ft == RS_STR) {
        if (vt != RS_STR) {
            return RS_ETYPE;
        }
        if (in->v.s.len > defs[f].max_len) {
            return RS_ETOOLONG;
        }
        if (!utf8_ok((const unsigned char *)in->v.s.ptr, in->v.s.len)) {
            return RS_EUTF8;
        }
        out->len = in->v.s.len;
        if (out->len > 0) {
            memcpy(out->s, in->v.s.ptr, out->len);
        }
        return RS_OK;
    }
    if (ft == RS_BOOL) {
        if (vt != RS_BOOL) {
            return RS_ETYPE;
        }
        out->b = in->v.b;
        return RS_OK;
    }
    if (ft == RS_F64) {
        if (t_signed(vt)) {
            out->f = (double)in->v.i;
        } else if (t_unsigned(vt)) {
            out->f = (double)in->v.u;
        } else if (vt == RS_F32 || vt == RS_F64) {
            out->f = in->v.f;
        } else {
            return RS_ETYPE;
        }
        return RS_OK;
    }
    __int128 x, lo, hi;
    if (t_signed(vt)) {
        x = in->v.i;
    } else if (t_unsigned(vt)) {
        x = in->v.u;
    } else {
        return RS_ETYPE;
    }
    switch (ft) {
    case RS_U8:
        lo = 0;
        hi = 255;
        break;
    case RS_U16:
        lo = 0;
        hi = 65535;
        break;
    default: /* RS_I32 */
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    }
    if (x < lo || x > hi) {
        return RS_ERANGE;
    }
    if (t_signed(ft)) {
        out->i = (int64_t)x;
    } else {
        out->u = (uint64_t)x;
    }
    return RS_OK;
}

mval m_default(int f)
{
    mval v;
    rs_status s = m_coerce(f, &defs[f].def, &v);
    (void)s;
    if (!defs[f].has_default) {
        memset(&v, 0, sizeof v);
    }
    return v;
}

/* The model's rules for a dynamic attribute's value (roster.h): what v
 * becomes, or which error it is. */
rs_status m_attr_value(const rs_value *in, mattr *out)
{
    memset(out, 0, sizeof *out);
    rs_type t = in->type;
    if (t_signed(t)) {
        out->type = RS_I64;
        out->i = in->v.i;
    } else if (t_unsigned(t)) {
        if (in->v.u <= INT64_MAX) {
            out->type = RS_I64;
            out->i = (int64_t)in->v.u;
        } else {
            out->type = RS_U64;
            out->u = in->v.u;
        }
    } else if (t == RS_F32 || t == RS_F64) {
        out->type = RS_F64;
        out->f = in->v.f;
    } else if (t == RS_BOOL) {
        out->type = RS_BOOL;
        out->b = in->v.b;
    } else if (t == RS_STR) {
        size_t len = in->v.s.len;
        if (in->v.s.ptr == NULL && len > 0) {
            return RS_EINVAL;
        }
        if (len > ATTR_STR_MAX) {
            return RS_ETOOLONG;
        }
        if (len > 0 && !utf8_ok((const unsigned char *)in->v.s.ptr, len)) {
            return RS_EUTF8;
        }
        out->type = RS_STR;
        out->len = (uint32_t)len;
        if (len <= ASHORT) {
            if (len > 0) {
                memcpy(out->s, in->v.s.ptr, len);
            }
        } else {
            for (size_t k = 0; k < len; k++) {
                if (in->v.s.ptr[k] != LONG_CH) {
                    fail("a long attribute string (%zu bytes) has 0x%02x "
                         "at byte %zu: not all '%c' (borrowed from a "
                         "store that changed it?)",
                         len, (unsigned char)in->v.s.ptr[k], k, LONG_CH);
                }
            }
        }
    } else {
        return RS_EINVAL; /* a type that does not exist */
    }
    return RS_OK;
}

/* What rs_insert() must answer; on RS_OK *out holds the new record, with
 * its dynamic attributes' names in dyn[] (not interned yet).  *late is
 * set for an error the store finds only after it may have allocated: a
 * dynamic attribute's bad name, found when it is interned. */
rs_status m_insert(int c, const rs_named *vals, size_t n, mrec *out,
                   const char **dyn, bool *late)
{
    bool given[NF] = {false};
    memset(out, 0, sizeof *out);
    out->c = c;
    *late = false;
    for (size_t i = 0; i < n; i++) {
        int f = m_field_named(vals[i].name);
        if (f < 0) {
            if (c != C_DYN) {
                return RS_ENOATTR;
            }
            for (uint32_t k = 0; k < out->n_attrs; k++) {
                if (strcmp(dyn[k], vals[i].name) == 0) {
                    return RS_EINVAL; /* given twice */
                }
            }
            if (out->n_attrs == ATTRS_PER_RECORD) {
                return RS_EFULL;
            }
            rs_status s = m_attr_value(&vals[i].val, &out->a[out->n_attrs]);
            if (s != RS_OK) {
                return s;
            }
            dyn[out->n_attrs++] = vals[i].name;
            continue;
        }
        if (given[f]) {
            return RS_EINVAL;
        }
        rs_status s = m_coerce(f, &vals[i].val, &out->f[f]);
        if (s != RS_OK) {
            return s;
        }
        given[f] = true;
    }
    if (!given[F_UID] || out->f[F_UID].len == 0) {
        return RS_EINVAL; /* no key, or an empty one */
    }
    for (int f = 0; f < NF; f++) {
        if (!given[f]) {
            out->f[f] = m_default(f);
        }
    }
    if (m_find(c, F_UID, &out->f[F_UID]) >= 0 ||
        m_find(c, F_NAME, &out->f[F_NAME]) >= 0) {
        return RS_EEXIST;
    }
    for (uint32_t k = 0; k < out->n_attrs; k++) {
        if (!m_name_ok(dyn[k])) {
            *late = true;
            return RS_EINVAL;
        }
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Changing the model                                                        */
/* ------------------------------------------------------------------------ */

/* Kept as records change: the strings bytes the store accounted for the
 * live records (their str_bytes), how many of them bind attributes, and
 * the most attributes a record had (for the summary). */
size_t m_strings;
size_t m_with_attrs;
uint32_t m_max_attrs;

/* A record the open group changed (or inserted): after a rollback it must
 * be as it was (or gone). */
static void touch(rs_handle h)
{
    mgroup *g = &m_group;
    if (!g->open || g->failed ||
        (g->n_touched > 0 && g->touched[g->n_touched - 1] == h)) {
        return;
    }
    if (g->n_touched == g->cap_touched) {
        g->cap_touched = g->cap_touched ? g->cap_touched * 2 : 64;
        g->touched = realloc(g->touched, g->cap_touched * sizeof *g->touched);
        if (g->touched == NULL) {
            fail("out of memory in the model");
        }
    }
    g->touched[g->n_touched++] = h;
}

void m_add(const mrec *r)
{
    touch(r->h);
    m_strings += r->str_bytes;
    m_with_attrs += r->n_attrs > 0;
    if (r->n_attrs > m_max_attrs) {
        m_max_attrs = r->n_attrs;
    }
    n_of[r->c]++;
    if (n_recs == cap_recs) {
        cap_recs = cap_recs ? cap_recs * 2 : 256;
        recs = realloc(recs, cap_recs * sizeof *recs);
        if (recs == NULL) {
            fail("out of memory in the model");
        }
    }
    recs[n_recs++] = *r;
}

rs_handle ghosts[N_STALE];
int n_ghosts;
static int ghost_next;

void m_ghost_add(rs_handle h)
{
    ghosts[ghost_next] = h;
    ghost_next = (ghost_next + 1) % N_STALE;
    if (n_ghosts < N_STALE) {
        n_ghosts++;
    }
}

void m_stale_add(rs_handle h)
{
    stale[stale_next] = h;
    stale_next = (stale_next + 1) % N_STALE;
    if (n_stale < N_STALE) {
        n_stale++;
    }
}

void m_remove(size_t i)
{
    touch(recs[i].h);
    m_strings -= recs[i].str_bytes;
    m_with_attrs -= recs[i].n_attrs > 0;
    n_of[recs[i].c]--;
    m_stale_add(recs[i].h);
    recs[i] = recs[--n_recs];
}

void m_set_field(size_t i, int f, const mval *v)
{
    touch(recs[i].h);
    recs[i].f[f] = *v;
}

void m_set_str_bytes(size_t i, size_t n)
{
    m_strings = m_strings - recs[i].str_bytes + n;
    recs[i].str_bytes = n;
}

void m_bind(size_t i, const mattr *v)
{
    mrec *r = &recs[i];
    touch(r->h);
    long k = m_attr_find(r, v->name);
    if (k < 0) {
        if (r->n_attrs == MAX_MATTRS) {
            fail("more than %d attributes on a record: the model has no "
                 "room",
                 MAX_MATTRS);
        }
        m_with_attrs += r->n_attrs == 0;
        k = r->n_attrs++;
        if (r->n_attrs > m_max_attrs) {
            m_max_attrs = r->n_attrs;
        }
    }
    r->a[k] = *v;
}

void m_unbind(size_t i, uint32_t name)
{
    mrec *r = &recs[i];
    touch(r->h);
    long k = m_attr_find(r, name);
    if (k >= 0) {
        memmove(&r->a[k], &r->a[k + 1],
                (r->n_attrs - (uint32_t)k - 1) * sizeof r->a[0]);
        r->n_attrs--;
        m_with_attrs -= r->n_attrs == 0;
    }
}

/* A number for comparisons: an integer (bool counts) or a double. */
typedef struct mnum {
    bool is_int;
    __int128 i;
    double f;
} mnum;

static mnum num_of_field(const mrec *r, int f)
{
    mnum n = {true, 0, 0};
    switch (defs[f].type) {
    case RS_BOOL:
        n.i = r->f[f].b;
        break;
    case RS_I32:
        n.i = r->f[f].i;
        break;
    case RS_F64:
        n.is_int = false;
        n.f = r->f[f].f;
        break;
    default:
        n.i = r->f[f].u;
        break;
    }
    return n;
}

static mnum num_of_value(const rs_value *v)
{
    mnum n = {true, 0, 0};
    if (v->type == RS_BOOL) {
        n.i = v->v.b;
    } else if (t_signed(v->type)) {
        n.i = v->v.i;
    } else if (t_unsigned(v->type)) {
        n.i = v->v.u;
    } else {
        n.is_int = false;
        n.f = v->v.f;
    }
    return n;
}

static double num_f(mnum n)
{
    return n.is_int ? (double)n.i : n.f;
}

/* LONG_CH repeated: the bytes of every long attribute string, and the
 * source of the long values the generator makes. */
char long_buf[ATTR_STR_MAX + 16];

/* The bytes of attribute a's string. */
const char *mattr_bytes(const mattr *a)
{
    return a->len <= ASHORT ? a->s : long_buf;
}

static mnum num_of_attr(const mattr *a)
{
    mnum n = {true, 0, 0};
    switch (a->type) {
    case RS_BOOL:
        n.i = a->b;
        break;
    case RS_I64:
        n.i = a->i;
        break;
    case RS_U64:
        n.i = a->u;
        break;
    default:
        n.is_int = false;
        n.f = a->f;
        break;
    }
    return n;
}

/* "string op value": bytewise, then by length; PREFIX. */
static bool m_test_str(const char *a, size_t alen, const rs_cond *c)
{
    size_t blen = c->val.v.s.len;
    const char *b = c->val.v.s.ptr;
    if (c->op == RS_PREFIX) {
        return alen >= blen && (blen == 0 || memcmp(a, b, blen) == 0);
    }
    size_t n = alen < blen ? alen : blen;
    int cmp = n ? memcmp(a, b, n) : 0;
    if (cmp == 0) {
        cmp = alen < blen ? -1 : alen > blen ? 1 : 0;
    }
    switch (c->op) {
    case RS_EQ:
        return cmp == 0;
    case RS_NE:
        return cmp != 0;
    case RS_LT:
        return cmp < 0;
    case RS_LE:
        return cmp <= 0;
    case RS_GT:
        return cmp > 0;
    default:
        return cmp >= 0;
    }
}

/* "number op value": integers exactly, anything with a float as double. */
static bool m_test_num(mnum x, const rs_cond *c)
{
    mnum y = num_of_value(&c->val);
    if (x.is_int && y.is_int) {
        switch (c->op) {
        case RS_EQ:
            return x.i == y.i;
        case RS_NE:
            return x.i != y.i;
        case RS_LT:
            return x.i < y.i;
        case RS_LE:
            return x.i <= y.i;
        case RS_GT:
            return x.i > y.i;
        default:
            return x.i >= y.i;
        }
    }
    double a = num_f(x), b = num_f(y);
    switch (c->op) {
    case RS_EQ:
        return a == b;
    case RS_NE:
        return a != b; /* NaN: only != holds */
    case RS_LT:
        return a < b;
    case RS_LE:
        return a <= b;
    case RS_GT:
        return a > b;
    default:
        return a >= b;
    }
}

/* Does record r satisfy "field op value"?  roster.h: numbers by value,
 * strings bytewise then by length, PREFIX for strings.  On a dynamic
 * attribute: a record without it does not match, nor one whose value is
 * of the other kind (a string against a number or the reverse). */
static bool m_test(const mrec *r, const rs_cond *c)
{
    if (c->field >= RS_ATTR_BASE) {
        long k = m_attr_find(r, (uint32_t)(c->field - RS_ATTR_BASE));
        if (k < 0) {
            return false;
        }
        const mattr *a = &r->a[k];
        if ((a->type == RS_STR) != (c->val.type == RS_STR)) {
            return false;
        }
        if (a->type == RS_STR) {
            return m_test_str(mattr_bytes(a), a->len, c);
        }
        return m_test_num(num_of_attr(a), c);
    }
    if (is_str(c->field)) {
        const mval *a = &r->f[c->field];
        return m_test_str(a->s, a->len, c);
    }
    return m_test_num(num_of_field(r, c->field), c);
}

/* Whether f names an interned attribute (scans and rs_get_field() take
 * those; any other number past the fields is invalid). */
bool m_is_attr_field(rs_field f)
{
    return f >= RS_ATTR_BASE && (uint32_t)(f - RS_ATTR_BASE) < m_n_names;
}

/* What rs_scan_open() must answer for these conditions. */
rs_status m_check_conds(const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m_is_attr_field(c[i].field)) {
            if ((unsigned)c[i].op > RS_PREFIX) {
                return RS_EINVAL;
            }
            if (c[i].op == RS_PREFIX && c[i].val.type != RS_STR) {
                return RS_ETYPE;
            }
            continue;
        }
        if (c[i].field < 0 || c[i].field >= NF) {
            return RS_EINVAL;
        }
        if ((unsigned)c[i].op > RS_PREFIX) {
            return RS_EINVAL;
        }
        bool fs = is_str(c[i].field), vs = c[i].val.type == RS_STR;
        if (fs != vs || (c[i].op == RS_PREFIX && !fs)) {
            return RS_ETYPE;
        }
    }
    return RS_OK;
}

bool m_match(const mrec *r, const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!m_test(r, &c[i])) {
            return false;
        }
    }
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The model's matches for conds among the records of class cl, sorted by
 * handle, into *out (malloc'd). */
size_t model_matches(int cl, const rs_cond *c, size_t n, rs_handle **out)
{
    rs_handle *m = malloc((n_recs + 1) * sizeof *m);
    size_t k = 0;
    if (m == NULL) {
        fail("out of memory in the model");
    }
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].c == cl && m_match(&recs[i], c, n)) {
            m[k++] = recs[i].h;
        }
    }
    qsort(m, k, sizeof *m, cmp_u64);
    *out = m;
    return k;
}

void m_reset(void)
{
    if (m_group.open) {
        m_group_end();
    }
    free(m_group.touched);
    memset(&m_group, 0, sizeof m_group);
    free(recs);
    recs = NULL;
    cap_recs = n_recs = 0;
    memset(n_of, 0, sizeof n_of);
    m_strings = m_with_attrs = 0;
    m_max_attrs = 0;
    m_names_free();
    m_stale_clear();
    memset(long_buf, LONG_CH, sizeof long_buf);
}

void m_stale_clear(void)
{
    n_stale = stale_next = 0;
    n_ghosts = ghost_next = 0;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints and groups                                                    */
/* ------------------------------------------------------------------------ */

void m_checkpoint(mcheck *cp)
{
    cp->recs = malloc((n_recs ? n_recs : 1) * sizeof *cp->recs);
    if (cp->recs == NULL) {
        fail("out of memory in the model");
    }
    if (n_recs > 0) {
        memcpy(cp->recs, recs, n_recs * sizeof *recs);
    }
    cp->n_recs = n_recs;
    memcpy(cp->n_of, n_of, sizeof n_of);
    cp->strings = m_strings;
    cp->with_attrs = m_with_attrs;
    cp->n_names = m_n_names;
    memcpy(cp->stale, stale, sizeof stale);
    cp->n_stale = n_stale;
    cp->stale_next = stale_next;
}

void m_restore(const mcheck *cp)
{
    if (cp->n_recs > cap_recs) {
        cap_recs = cp->n_recs;
        recs = realloc(recs, cap_recs * sizeof *recs);
        if (recs == NULL) {
            fail("out of memory in the model");
        }
    }
    if (cp->n_recs > 0) {
        memcpy(recs, cp->recs, cp->n_recs * sizeof *recs);
    }
    n_recs = cp->n_recs;
    memcpy(n_of, cp->n_of, sizeof n_of);
    m_strings = cp->strings;
    m_with_attrs = cp->with_attrs;
    if (cp->n_names > m_n_names) {
        fail("a checkpoint with %u names restored over %u", cp->n_names,
             m_n_names);
    }
    uint32_t keep = cp->n_names > m_pinned ? cp->n_names : m_pinned;
    m_names_truncate(keep < m_n_names ? keep : m_n_names);
    memcpy(stale, cp->stale, sizeof stale);
    n_stale = cp->n_stale;
    stale_next = cp->stale_next;
}

void m_checkpoint_free(mcheck *cp)
{
    free(cp->recs);
    cp->recs = NULL;
}

void m_group_begin(void)
{
    m_checkpoint(&m_group.at_begin);
    m_group.n_touched = 0;
    m_group.open = true;
    m_group.failed = false;
}

void m_group_rollback(void)
{
    m_restore(&m_group.at_begin);
    for (size_t k = 0; k < m_group.n_touched; k++) {
        if (m_by_handle(m_group.touched[k]) < 0) {
            m_ghost_add(m_group.touched[k]); /* inserted by the group */
        }
    }
}

void m_group_end(void)
{
    m_checkpoint_free(&m_group.at_begin);
    m_group.open = m_group.failed = false;
}
