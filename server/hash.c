/*
 * hash.c: records as Redis hashes.  The key "<Class>:<key>" is the record of
 * class Class whose key field holds key; its hash fields are the declared
 * fields in declaration order, then its dynamic attributes in binding order
 * (rs_dir()'s order).  Every name a client sends is looked up with
 * rs_attr_find(), which never interns: only a write that binds an attribute
 * (HSET, HINCRBY) adds a name to the store.
 *
 * Values travel as text.  A declared field's text is converted by
 * rs_value_parse() (so "level 70000" on a u16 is the library's error, and
 * the record is unchanged); an attribute's text becomes an integer if it is
 * one written canonically ("12", not "012" or "+12"), a float if it is one
 * written as rosterd writes floats (shortest round-trip, "1.5"), and a
 * string otherwise, so every value reads back as the bytes that were sent.
 * Replies give integers in decimal, floats in the shortest form that reads
 * back (HINCRBYFLOAT's format), bools as 1 and 0.
 *
 * Rules that Redis does not have, because a record has a schema:
 *   - HSET on a missing key inserts the record: the key field comes from the
 *     key, and every unique field without a default must be given (the
 *     error names them); HINCRBY, HINCRBYFLOAT and HSETNX insert the same
 *     way.
 *   - The key field cannot be set to anything but the key's own text.
 *   - HDEL removes dynamic attributes; a declared field always has a value,
 *     so HDEL of one is an error and nothing is deleted.
 *   - HSET with several pairs is all or none (rs_set_many()).
 */
#include "server.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* At most this many pairs in one HSET: a record holds RS_MAX_FIELDS fields
 * and RS_ATTRS_MAX attributes, and duplicates are found pairwise. */
#define MAX_PAIRS (RS_MAX_FIELDS + RS_ATTRS_MAX)

typedef struct keyref {
    rs_class *cls;
    const char *k; /* the key field's text */
    size_t kl;
} keyref;

static int split_key(const char *key, size_t len, keyref *out)
{
    const char *colon = memchr(key, ':', len);
    if (colon == NULL || colon == key || colon - key > RS_MAX_NAME) {
        return -1;
    }
    char name[RS_MAX_NAME + 1];
    memcpy(name, key, (size_t)(colon - key));
    name[colon - key] = '\0';
    out->cls = rs_class_find(srv.st, name);
    if (out->cls == NULL) {
        return -1;
    }
    out->k = colon + 1;
    out->kl = len - (size_t)(colon + 1 - key);
    return 0;
}

static bool need_key(client *c, const char *key, size_t len, keyref *out)
{
    if (split_key(key, len, out) == 0) {
        return true;
    }
    char names[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < rs_n_classes(srv.st) && n < sizeof names - 1; i++) {
        int k = snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "",
                         rs_class_name(rs_class_at(srv.st, i)));
        if (k < 0) {
            break;
        }
        n += (size_t)k;
    }
    add_errf(c,
             "ERR key '%.*s' names no class: a key is <Class>:<key> "
             "(classes: %s)",
             (int)(len > 128 ? 128 : len), key, names);
    return false;
}

static bool find(const keyref *r, rs_handle *h)
{
    if (rs_get(srv.st, r->cls, r->k, r->kl, h) == RS_OK) {
        srv.hits++;
        return true;
    }
    srv.misses++;
    return false;
}

/* Names found before, so HGET and HMGET of the same few names do not
 * search the class's names on every request.  Only found names are kept:
 * a name's field number never changes while the store is open (declared
 * fields are fixed; an attribute name, once known, keeps its id until the
 * store closes, FLUSHALL included), and a name not found may be bound by
 * a later write, so it is looked up again. */
#define FIELD_MEMO 64
typedef struct field_memo {
    const rs_class *cls;
    rs_field f;
    size_t len;
    char name[RS_MAX_NAME];
} field_memo;
static field_memo field_memo_tab[FIELD_MEMO];

/* The field number of a name a client sent, without interning it; false
 * if no record can have it. */
static bool field_find(const rs_class *cls, const char *name, size_t len,
                       rs_field *f)
{
    if (len == 0 || len > RS_MAX_NAME || strlen(name) != len) {
        return false;
    }
    uintptr_t h = (uintptr_t)cls >> 4;
    h = h * 31u + len;
    h = h * 31u + (unsigned char)name[0];
    h = h * 31u + (unsigned char)name[len - 1];
    field_memo *m = &field_memo_tab[h % FIELD_MEMO];
    if (m->cls == cls && m->len == len && memcmp(m->name, name, len) == 0) {
        *f = m->f;
        return true;
    }
    if (rs_attr_find(srv.st, cls, name, f) != RS_OK) {
        return false;
    }
    m->cls = cls;
    m->f = *f;
    m->len = len;
    memcpy(m->name, name, len);
    return true;
}

/* v as text: into tmp (40 bytes) or, for a string, borrowed. */
static const char *value_text(const rs_value *v, char *tmp, size_t *len)
{
    int k = 0;
    switch (v->type) {
    case RS_STR:
        *len = v->v.s.len;
        return v->v.s.ptr;
    case RS_BOOL:
        tmp[0] = v->v.b ? '1' : '0';
        tmp[1] = '\0';
        k = 1;
        break;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        k = (int)fmt_ll(tmp, (long long)v->v.i);
        break;
    case RS_U8:
    case RS_U16:
    case RS_U32:
    case RS_U64:
        k = (int)fmt_ull(tmp, (unsigned long long)v->v.u);
        break;
    case RS_F32:
        *len = fmt_float(tmp, (float)v->v.f);
        return tmp;
    case RS_F64:
        *len = fmt_double(tmp, v->v.f);
        return tmp;
    default:
        k = 0;
        break;
    }
    *len = (size_t)(k > 0 ? k : 0);
    return tmp;
}

static void reply_value(client *c, const rs_value *v)
{
    switch (v->type) {
    case RS_STR:
        reply_bulk(&c->out, v->v.s.ptr, v->v.s.len);
        return;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        reply_bulk_ll(&c->out, (long long)v->v.i);
        return;
    case RS_U8:
    case RS_U16:
    case RS_U32:
    case RS_U64:
        reply_bulk_ull(&c->out, (unsigned long long)v->v.u);
        return;
    default:
        break;
    }
    char tmp[40];
    size_t n;
    const char *p = value_text(v, tmp, &n);
    reply_bulk(&c->out, p, n);
}

/* An attribute's value from its text: see the file's header. */
static rs_value infer_value(const char *s, size_t n)
{
    long long i;
    if (resp_parse_ll(s, n, &i) && !(i == 0 && s[0] == '-')) {
        return rs_val_int(i);
    }
    if (n > 0 && n < 40 && strlen(s) == n &&
        (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))) {
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        char tmp[40];
        if (end == s + n && errno == 0 && isfinite(d) &&
            fmt_double(tmp, d) == n && memcmp(tmp, s, n) == 0) {
            return rs_val_f64(d);
        }
    }
    return rs_val_str(s, n);
}

/* The text of h's key field, into buf (cap bytes, >= 64). */
static size_t key_text(rs_handle h, const rs_class *cls, char *buf, size_t cap)
{
    rs_value v;
    if (rs_get_field(srv.st, h, rs_class_key(cls), &v) != RS_OK) {
        return 0;
    }
    char tmp[40];
    size_t n;
    const char *p = value_text(&v, tmp, &n);
    if (n > cap) {
        n = cap;
    }
    memcpy(buf, p, n);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Reading a whole record                                                    */
/* ------------------------------------------------------------------------ */

/* rs_read() into the server's scratch: *n items in srv.items. */
static rs_status read_all(rs_handle h, size_t *n)
{
    if (srv.items == NULL) {
        srv.items_cap = RS_MAX_FIELDS + RS_ATTRS_MAX;
        srv.items = malloc(srv.items_cap * sizeof *srv.items);
        srv.scratch_cap = 4096;
        srv.scratch = malloc(srv.scratch_cap);
        if (srv.items == NULL || srv.scratch == NULL) {
            free(srv.items);
            free(srv.scratch);
            srv.items = NULL;
            srv.scratch = NULL;
            return RS_ENOMEM;
        }
    }
    for (;;) {
        size_t need = 0;
        rs_status rc = rs_read(srv.st, h, srv.items, srv.items_cap, n,
                               srv.scratch, srv.scratch_cap, &need);
        if (rc != RS_ETOOLONG || need <= srv.scratch_cap) {
            return rc;
        }
        char *s = realloc(srv.scratch, need);
        if (s == NULL) {
            return RS_ENOMEM;
        }
        srv.scratch = s;
        srv.scratch_cap = need;
    }
}

/* ------------------------------------------------------------------------ */
/* Setting                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct pairs {
    rs_named *v;
    rs_field *f; /* declared field number, or -1 for an attribute */
    size_t n;
    bool key_given;
    rs_named stack_v[8];
    rs_field stack_f[8];
} pairs;

static void pairs_free(pairs *p)
{
    if (p->v != p->stack_v) {
        free(p->v);
        free(p->f);
    }
}

/* Convert name/value pairs argv[first..first+2n) for record class r->cls.
 * Duplicate names: the last wins, as in Redis.  0, or -1 with the error
 * replied. */
static int build_pairs(client *c, const keyref *r, char **argv, size_t *lens,
                       int first, size_t n, pairs *p)
{
    memset(p, 0, sizeof *p);
    if (n > MAX_PAIRS) {
        add_errf(c,
                 "ERR %s: %zu fields in one command; a record has at "
                 "most %d fields and %d attributes",
                 rs_class_name(r->cls), n, RS_MAX_FIELDS, RS_ATTRS_MAX);
        return -1;
    }
    if (n + 1 <= 8) {
        p->v = p->stack_v;
        p->f = p->stack_f;
    } else {
        p->v = malloc((n + 1) * sizeof *p->v);
        p->f = malloc((n + 1) * sizeof *p->f);
        if (p->v == NULL || p->f == NULL) {
            free(p->v);
            free(p->f);
            p->v = NULL;
            add_err(c, "ERR out of memory");
            return -1;
        }
    }
    rs_field keyf = rs_class_key(r->cls);
    for (size_t i = 0; i < n; i++) {
        const char *name = argv[first + 2 * (int)i];
        size_t nl = lens[first + 2 * (int)i];
        const char *val = argv[first + 2 * (int)i + 1];
        size_t vl = lens[first + 2 * (int)i + 1];
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) {
            later = lens[first + 2 * (int)j] == nl &&
                    memcmp(argv[first + 2 * (int)j], name, nl) == 0;
        }
        if (later) {
            continue;
        }
        if (strlen(name) != nl) {
            add_errf(c, "ERR %s: a field name cannot hold a NUL byte",
                     rs_class_name(r->cls));
            pairs_free(p);
            return -1;
        }
        rs_field f = rs_class_field(r->cls, name);
        if (f == keyf) {
            if (vl != r->kl || memcmp(val, r->k, vl) != 0) {
                add_errf(c,
                         "ERR %s.%s: the key field holds the key's own "
                         "text '%.*s'; it cannot be set to '%.*s'",
                         rs_class_name(r->cls), name,
                         (int)(r->kl > 64 ? 64 : r->kl), r->k,
                         (int)(vl > 64 ? 64 : vl), val);
                pairs_free(p);
                return -1;
            }
            p->key_given = true;
            continue;
        }
        rs_value v;
        if (f >= 0) {
            if (rs_value_parse(srv.st, r->cls, f, val, vl, &v) != RS_OK) {
                add_lib_err(c);
                pairs_free(p);
                return -1;
            }
        } else {
            v = infer_value(val, vl);
        }
        p->v[p->n].name = name;
        p->v[p->n].val = v;
        p->f[p->n] = f;
        p->n++;
    }
    return 0;
}

/* Insert the record r with pairs p (the key field added here).  0 or -1
 * with the error replied. */
static int insert_record(client *c, const keyref *r, pairs *p)
{
    char missing[256] = "";
    size_t ml = 0;
    size_t nf = rs_class_n_fields(r->cls);
    for (size_t f = 0; f < nf; f++) {
        rs_field_def d;
        if (rs_class_field_def(r->cls, (rs_field)f, &d) != RS_OK ||
            !(d.flags & RS_FIELD_UNIQUE) || (d.flags & RS_FIELD_KEY) ||
            d.has_default) {
            continue;
        }
        bool given = false;
        for (size_t i = 0; i < p->n && !given; i++) {
            given = p->f[i] == (rs_field)f;
        }
        if (!given && ml < sizeof missing - 1) {
            int k = snprintf(missing + ml, sizeof missing - ml, "%s%s",
                             ml ? ", " : "", d.name);
            ml += k > 0 ? (size_t)k : 0;
        }
    }
    if (ml > 0) {
        add_errf(c,
                 "ERR %s: a new record needs a value for %s (unique, "
                 "no default); '%s:%.*s' does not exist",
                 rs_class_name(r->cls), missing, rs_class_name(r->cls),
                 (int)(r->kl > 64 ? 64 : r->kl), r->k);
        return -1;
    }
    rs_field keyf = rs_class_key(r->cls);
    rs_value kv;
    if (rs_value_parse(srv.st, r->cls, keyf, r->k, r->kl, &kv) != RS_OK) {
        add_lib_err(c);
        return -1;
    }
    rs_field_def kd;
    if (rs_class_field_def(r->cls, keyf, &kd) != RS_OK) {
        add_lib_err(c);
        return -1;
    }
    p->v[p->n].name = kd.name;
    p->v[p->n].val = kv;
    if (rs_insert(srv.st, r->cls, p->v, p->n + 1, NULL) != RS_OK) {
        add_lib_err(c);
        return -1;
    }
    return 0;
}

/* Is attribute or field p->v[i] of h new (an attribute not bound)? */
static bool is_new(rs_handle h, const keyref *r, const pairs *p, size_t i)
{
    if (p->f[i] >= 0) {
        return false;
    }
    rs_field f;
    if (rs_attr_find(srv.st, r->cls, p->v[i].name, &f) != RS_OK) {
        return true;
    }
    rs_value v;
    return rs_get_field(srv.st, h, f, &v) == RS_ENOATTR;
}

enum { SET_HSET, SET_HMSET, SET_NX };

static void set_generic(client *c, int argc, char **argv, size_t *lens,
                        int mode)
{
    const char *cmd = mode == SET_HMSET ? "hmset" : "hset";
    if (mode != SET_NX && (argc % 2) != 0) {
        add_arity(c, cmd);
        return;
    }
    keyref r = {0};
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    pairs p;
    if (build_pairs(c, &r, argv, lens, 2, (size_t)(argc - 2) / 2, &p) != 0) {
        return;
    }
    rs_handle h;
    long long added = 0;
    if (!find(&r, &h)) {
        if (insert_record(c, &r, &p) != 0) {
            pairs_free(&p);
            return;
        }
        added = (long long)p.n + (p.key_given ? 1 : 0);
    } else {
        if (mode == SET_NX) {
            if (p.key_given || !is_new(h, &r, &p, 0)) {
                reply_int(&c->out, 0);
                pairs_free(&p);
                return;
            }
        }
        for (size_t i = 0; i < p.n; i++) {
            added += is_new(h, &r, &p, i) ? 1 : 0;
        }
        if (p.n > 0 && rs_set_many(srv.st, h, p.v, p.n) != RS_OK) {
            add_lib_err(c);
            pairs_free(&p);
            return;
        }
    }
    pairs_free(&p);
    touch_key(argv[1], lens[1]);
    srv.changes_since_save++;
    if (mode == SET_HMSET) {
        reply_simple(&c->out, "OK");
    } else if (mode == SET_NX) {
        reply_int(&c->out, 1);
    } else {
        reply_int(&c->out, added);
    }
}

void cmd_hset(client *c, int argc, char **argv, size_t *lens)
{
    set_generic(c, argc, argv, lens, SET_HSET);
}

void cmd_hmset(client *c, int argc, char **argv, size_t *lens)
{
    set_generic(c, argc, argv, lens, SET_HMSET);
}

void cmd_hsetnx(client *c, int argc, char **argv, size_t *lens)
{
    set_generic(c, argc, argv, lens, SET_NX);
}

/* ------------------------------------------------------------------------ */
/* Reading fields                                                            */
/* ------------------------------------------------------------------------ */

/* Reply field name of h, or nil. */
static void reply_field(client *c, rs_handle h, const keyref *r,
                        const char *name, size_t len)
{
    rs_field f;
    rs_value v;
    if (!field_find(r->cls, name, len, &f)) {
        reply_null(&c->out, c->proto);
        return;
    }
    rs_status rc = rs_get_field(srv.st, h, f, &v);
    if (rc == RS_OK) {
        reply_value(c, &v);
    } else if (rc == RS_ENOATTR) {
        reply_null(&c->out, c->proto);
    } else {
        add_lib_err(c);
    }
}

void cmd_hget(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    if (!find(&r, &h)) {
        reply_null(&c->out, c->proto);
        return;
    }
    reply_field(c, h, &r, argv[2], lens[2]);
}

void cmd_hmget(client *c, int argc, char **argv, size_t *lens)
{
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    bool found = find(&r, &h);
    reply_array(&c->out, (size_t)(argc - 2));
    for (int i = 2; i < argc; i++) {
        if (found) {
            reply_field(c, h, &r, argv[i], lens[i]);
        } else {
            reply_null(&c->out, c->proto);
        }
    }
}

/* rs_dir()'s names for HGETALL, HKEYS, HVALS: a record has at most this
 * many. */
#define DIR_CAP (RS_MAX_FIELDS + RS_ATTRS_MAX)
static const char *dir_names[DIR_CAP];

/* HGETALL, HKEYS, HVALS. */
static void read_generic(client *c, char **argv, size_t *lens, bool names,
                         bool values)
{
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    if (!find(&r, &h)) {
        if (names && values) {
            reply_map(&c->out, c->proto, 0);
        } else {
            reply_array(&c->out, 0);
        }
        return;
    }
    /* The names from rs_dir(), and each value borrowed from the row and
     * copied straight into the reply (declared fields by number, then the
     * attributes by name), rather than through rs_read()'s copy of every
     * string: a third of an HGETALL's instructions went there. */
    size_t n;
    if (rs_dir(srv.st, h, dir_names, DIR_CAP, &n) == RS_OK && n <= DIR_CAP) {
        size_t mark = c->out.len;
        size_t nf = rs_class_n_fields(r.cls);
        bool ok = true;
        if (names && values) {
            reply_map(&c->out, c->proto, n);
        } else {
            reply_array(&c->out, n);
        }
        for (size_t i = 0; i < n && ok; i++) {
            if (names) {
                reply_cstr(&c->out, dir_names[i]);
            }
            if (values) {
                rs_field f = (rs_field)i;
                rs_value v;
                ok = (i < nf || field_find(r.cls, dir_names[i],
                                           strlen(dir_names[i]), &f)) &&
                     rs_get_field(srv.st, h, f, &v) == RS_OK;
                if (ok) {
                    reply_value(c, &v);
                }
            }
        }
        if (ok) {
            return;
        }
        rbuf_cut(&c->out, mark); /* not expected: rs_read() says why */
    }
    if (read_all(h, &n) != RS_OK) {
        add_lib_err(c);
        return;
    }
    if (names && values) {
        reply_map(&c->out, c->proto, n);
    } else {
        reply_array(&c->out, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (names) {
            reply_cstr(&c->out, srv.items[i].name);
        }
        if (values) {
            reply_value(c, &srv.items[i].val);
        }
    }
}

void cmd_hgetall(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    read_generic(c, argv, lens, true, true);
}

void cmd_hkeys(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    read_generic(c, argv, lens, true, false);
}

void cmd_hvals(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    read_generic(c, argv, lens, false, true);
}

void cmd_hlen(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    size_t n = 0;
    if (find(&r, &h) && rs_dir(srv.st, h, NULL, 0, &n) != RS_OK) {
        add_lib_err(c);
        return;
    }
    reply_int(&c->out, (long long)n);
}

void cmd_hexists(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    rs_field f;
    rs_value v;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    bool yes = find(&r, &h) && field_find(r.cls, argv[2], lens[2], &f) &&
               rs_get_field(srv.st, h, f, &v) == RS_OK;
    reply_int(&c->out, yes ? 1 : 0);
}

void cmd_hstrlen(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    rs_field f;
    rs_value v;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    size_t n = 0;
    if (find(&r, &h) && field_find(r.cls, argv[2], lens[2], &f) &&
        rs_get_field(srv.st, h, f, &v) == RS_OK) {
        char tmp[40];
        (void)value_text(&v, tmp, &n);
    }
    reply_int(&c->out, (long long)n);
}

/* ------------------------------------------------------------------------ */
/* HDEL, HINCRBY, HINCRBYFLOAT                                               */
/* ------------------------------------------------------------------------ */

void cmd_hdel(client *c, int argc, char **argv, size_t *lens)
{
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    if (!find(&r, &h)) {
        reply_int(&c->out, 0);
        return;
    }
    /* Check everything first: a declared field refuses the whole call. */
    for (int i = 2; i < argc; i++) {
        rs_field f = rs_class_field(r.cls, argv[i]);
        if (f >= 0) {
            add_errf(c,
                     "ERR %s.%s: a declared field always has a value and "
                     "cannot be deleted (HSET it instead)",
                     rs_class_name(r.cls), argv[i]);
            return;
        }
    }
    bool group = !srv.in_group && argc > 3;
    if (group && rs_group_begin(srv.st) != RS_OK) {
        add_lib_err(c);
        return;
    }
    long long n = 0;
    for (int i = 2; i < argc; i++) {
        bool dup = false;
        for (int j = 2; j < i && !dup; j++) {
            dup = lens[j] == lens[i] && memcmp(argv[j], argv[i], lens[i]) == 0;
        }
        rs_field f;
        rs_value v;
        if (dup || !field_find(r.cls, argv[i], lens[i], &f) ||
            rs_get_field(srv.st, h, f, &v) != RS_OK) {
            continue;
        }
        if (rs_del_attr(srv.st, h, argv[i]) != RS_OK) {
            add_lib_err(c);
            if (group) {
                rs_group_abort(srv.st);
            }
            return;
        }
        n++;
    }
    if (group && rs_group_commit(srv.st) != RS_OK) {
        add_lib_err(c);
        return;
    }
    if (n > 0) {
        touch_key(argv[1], lens[1]);
        srv.changes_since_save++;
    }
    reply_int(&c->out, n);
}

/* The field to change for HINCRBY: a declared one, or an attribute (bound
 * here if new: rs_attr_id() interns it).  -1 with the error replied. */
static rs_field incr_field(client *c, const keyref *r, const char *name,
                           size_t len)
{
    if (strlen(name) != len) {
        add_errf(c, "ERR %s: a field name cannot hold a NUL byte",
                 rs_class_name(r->cls));
        return -1;
    }
    rs_field f = rs_attr_id(srv.st, r->cls, name);
    if (f < 0) {
        add_lib_err(c);
    }
    return f;
}

void cmd_hincrby(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    long long delta;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    if (!resp_parse_ll(argv[3], lens[3], &delta)) {
        add_err(c, "ERR value is not an integer or out of range");
        return;
    }
    if (!find(&r, &h)) {
        pairs p;
        if (build_pairs(c, &r, argv, lens, 2, 1, &p) != 0) {
            return;
        }
        if (insert_record(c, &r, &p) == 0) {
            touch_key(argv[1], lens[1]);
            srv.changes_since_save++;
            reply_int(&c->out, delta);
        }
        pairs_free(&p);
        return;
    }
    rs_field f = incr_field(c, &r, argv[2], lens[2]);
    if (f < 0) {
        return;
    }
    int64_t out;
    if (rs_incr(srv.st, h, f, delta, &out) != RS_OK) {
        add_lib_err(c);
        return;
    }
    touch_key(argv[1], lens[1]);
    srv.changes_since_save++;
    reply_int(&c->out, out);
}

void cmd_hincrbyfloat(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    char *end;
    errno = 0;
    double delta = strtod(argv[3], &end);
    if (lens[3] == 0 || end != argv[3] + lens[3] || errno == ERANGE ||
        !isfinite(delta) || argv[3][0] == ' ' || argv[3][0] == '\t') {
        add_err(c, "ERR value is not a valid float");
        return;
    }
    char tmp[40];
    if (!find(&r, &h)) {
        pairs p;
        if (build_pairs(c, &r, argv, lens, 2, 1, &p) != 0) {
            return;
        }
        /* An attribute created by HINCRBYFLOAT is a float. */
        if (p.n == 1 && p.f[0] < 0) {
            p.v[0].val = rs_val_f64(delta);
        }
        if (insert_record(c, &r, &p) == 0) {
            touch_key(argv[1], lens[1]);
            srv.changes_since_save++;
            size_t n = fmt_double(tmp, delta);
            reply_bulk(&c->out, tmp, n);
        }
        pairs_free(&p);
        return;
    }
    rs_field f = incr_field(c, &r, argv[2], lens[2]);
    if (f < 0) {
        return;
    }
    double out;
    if (rs_incr_f64(srv.st, h, f, delta, &out) != RS_OK) {
        add_lib_err(c);
        return;
    }
    touch_key(argv[1], lens[1]);
    srv.changes_since_save++;
    size_t n = fmt_double(tmp, out);
    reply_bulk(&c->out, tmp, n);
}

/* ------------------------------------------------------------------------ */
/* Keys: DEL, EXISTS, TYPE, GET, DBSIZE, FLUSHALL, MEMORY                    */
/* ------------------------------------------------------------------------ */

void cmd_del(client *c, int argc, char **argv, size_t *lens)
{
    long long n = 0;
    for (int i = 1; i < argc; i++) {
        keyref r = {0};
        if (split_key(argv[i], lens[i], &r) != 0) {
            continue;
        }
        rs_status rc = rs_remove_key(srv.st, r.cls, r.k, r.kl);
        if (rc == RS_OK) {
            n++;
            touch_key(argv[i], lens[i]);
            srv.changes_since_save++;
        } else if (rc != RS_ENOTFOUND && rc != RS_EINVAL) {
            add_lib_err(c);
            return;
        }
    }
    reply_int(&c->out, n);
}

void cmd_exists(client *c, int argc, char **argv, size_t *lens)
{
    long long n = 0;
    for (int i = 1; i < argc; i++) {
        keyref r = {0};
        rs_handle h;
        if (split_key(argv[i], lens[i], &r) == 0 && find(&r, &h)) {
            n++;
        }
    }
    reply_int(&c->out, n);
}

void cmd_type(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    bool yes = split_key(argv[1], lens[1], &r) == 0 && find(&r, &h);
    reply_simple(&c->out, yes ? "hash" : "none");
}

void cmd_get_wrongtype(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    keyref r = {0};
    rs_handle h;
    if (split_key(argv[1], lens[1], &r) == 0 && find(&r, &h)) {
        add_err(c, "WRONGTYPE Operation against a key holding the wrong "
                   "kind of value");
        return;
    }
    reply_null(&c->out, c->proto);
}

void cmd_dbsize(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    size_t n = 0;
    for (size_t i = 0; i < rs_n_classes(srv.st); i++) {
        n += rs_count(rs_class_at(srv.st, i));
    }
    reply_int(&c->out, (long long)n);
}

void cmd_flushall(client *c, int argc, char **argv, size_t *lens)
{
    (void)lens;
    if (argc > 2 || (argc == 2 && strcasecmp(argv[1], "sync") != 0 &&
                     strcasecmp(argv[1], "async") != 0)) {
        add_err(c, "ERR syntax error");
        return;
    }
    rs_handle hs[1024];
    for (size_t i = 0; i < rs_n_classes(srv.st); i++) {
        rs_class *cls = rs_class_at(srv.st, i);
        uint64_t cur = 0;
        do {
            size_t n = 0;
            if (rs_scan_batch(srv.st, cls, NULL, 0, cur, 1 << 16, hs, 1024, &n,
                              &cur) != RS_OK) {
                add_lib_err(c);
                return;
            }
            for (size_t k = 0; k < n; k++) {
                if (rs_remove(srv.st, hs[k]) != RS_OK) {
                    add_lib_err(c);
                    return;
                }
            }
        } while (cur != 0);
    }
    touch_key(NULL, 0);
    srv.changes_since_save++;
    reply_simple(&c->out, "OK");
}

void cmd_memory(client *c, int argc, char **argv, size_t *lens)
{
    if (strcasecmp(argv[1], "usage") != 0) {
        add_errf(c, "ERR unknown subcommand '%.128s'. Try MEMORY HELP.",
                 argv[1]);
        return;
    }
    if (argc != 3 && !(argc == 5 && strcasecmp(argv[3], "samples") == 0)) {
        if (argc < 3) {
            add_arity(c, "memory|usage");
        } else {
            add_err(c, "ERR syntax error");
        }
        return;
    }
    keyref r = {0};
    rs_handle h;
    size_t bytes;
    if (split_key(argv[2], lens[2], &r) != 0 || !find(&r, &h)) {
        reply_null(&c->out, c->proto);
        return;
    }
    if (rs_record_size(srv.st, h, &bytes) != RS_OK) {
        add_lib_err(c);
        return;
    }
    reply_int(&c->out, (long long)bytes);
}

/* ------------------------------------------------------------------------ */
/* SCAN, HSCAN, ROSTER.SCAN                                                  */
/* ------------------------------------------------------------------------ */

static bool parse_cursor(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Could a key of class name (as "Name:") match pattern? Compares the
 * pattern's literal start only. */
static bool class_may_match(const char *pat, size_t pl, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i <= nl && i < pl; i++) {
        char pc = pat[i];
        if (pc == '*' || pc == '?' || pc == '[' || pc == '\\') {
            return true;
        }
        char kc = i < nl ? name[i] : ':';
        if (pc != kc) {
            return false;
        }
    }
    return true;
}

static void reply_cursor(client *c, uint64_t cur)
{
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)cur);
    reply_bulk(&c->out, tmp, (size_t)k);
}

void cmd_scan(client *c, int argc, char **argv, size_t *lens)
{
    uint64_t cur;
    if (!parse_cursor(argv[1], lens[1], &cur)) {
        add_err(c, "ERR invalid cursor");
        return;
    }
    const char *pat = NULL;
    size_t pl = 0;
    long long count = 10;
    bool none = false;
    for (int i = 2; i < argc; i++) {
        if (strcasecmp(argv[i], "match") == 0 && i + 1 < argc) {
            pat = argv[++i];
            pl = lens[i];
        } else if (strcasecmp(argv[i], "count") == 0 && i + 1 < argc) {
            if (!resp_parse_ll(argv[i + 1], lens[i + 1], &count)) {
                add_err(c, "ERR value is not an integer or out of range");
                return;
            }
            if (count < 1) {
                add_err(c, "ERR syntax error");
                return;
            }
            i++;
        } else if (strcasecmp(argv[i], "type") == 0 && i + 1 < argc) {
            none = strcasecmp(argv[++i], "hash") != 0;
        } else {
            add_err(c, "ERR syntax error");
            return;
        }
    }
    if (count > 100000) {
        count = 100000;
    }
    size_t idx = (size_t)(cur >> 32);
    uint64_t lc = cur & 0xffffffffu;
    rbuf keys = {0};
    size_t n_keys = 0;
    uint64_t next = 0;
    size_t budget = (size_t)count;
    while (!none && idx < rs_n_classes(srv.st) && budget > 0) {
        rs_class *cls = rs_class_at(srv.st, idx);
        const char *cname = rs_class_name(cls);
        if (pat != NULL && !class_may_match(pat, pl, cname)) {
            idx++;
            lc = 0;
            continue;
        }
        rs_handle hs[256];
        size_t step = budget < 256 ? budget : 256;
        size_t n = 0;
        uint64_t nx;
        if (rs_scan_batch(srv.st, cls, NULL, 0, lc, step, hs, 256, &n, &nx) !=
            RS_OK) {
            rbuf_free(&keys);
            add_err(c, "ERR invalid cursor");
            return;
        }
        budget -= step;
        for (size_t k = 0; k < n; k++) {
            char key[RS_MAX_NAME + 1 + 256];
            size_t cl = strlen(cname);
            memcpy(key, cname, cl);
            key[cl] = ':';
            size_t kl = key_text(hs[k], cls, key + cl + 1, sizeof key - cl - 1);
            kl += cl + 1;
            if (pat == NULL || glob_match(pat, pl, key, kl, false)) {
                reply_bulk(&keys, key, kl);
                n_keys++;
            }
        }
        if (nx == 0) {
            idx++;
            lc = 0;
        } else {
            lc = nx;
        }
    }
    if (!none && idx < rs_n_classes(srv.st)) {
        next = ((uint64_t)idx << 32) | lc;
    }
    reply_array(&c->out, 2);
    reply_cursor(c, next);
    reply_array(&c->out, n_keys);
    if (keys.len) {
        rbuf_put(&c->out, keys.ptr, keys.len);
    }
    rbuf_free(&keys);
}

void cmd_hscan(client *c, int argc, char **argv, size_t *lens)
{
    keyref r = {0};
    rs_handle h;
    uint64_t cur;
    if (!need_key(c, argv[1], lens[1], &r)) {
        return;
    }
    if (!parse_cursor(argv[2], lens[2], &cur)) {
        add_err(c, "ERR invalid cursor");
        return;
    }
    const char *pat = NULL;
    size_t pl = 0;
    bool novalues = false;
    for (int i = 3; i < argc; i++) {
        long long count;
        if (strcasecmp(argv[i], "match") == 0 && i + 1 < argc) {
            pat = argv[++i];
            pl = lens[i];
        } else if (strcasecmp(argv[i], "count") == 0 && i + 1 < argc) {
            if (!resp_parse_ll(argv[i + 1], lens[i + 1], &count)) {
                add_err(c, "ERR value is not an integer or out of range");
                return;
            }
            if (count < 1) {
                add_err(c, "ERR syntax error");
                return;
            }
            i++;
        } else if (strcasecmp(argv[i], "novalues") == 0) {
            novalues = true;
        } else {
            add_err(c, "ERR syntax error");
            return;
        }
    }
    size_t n = 0;
    if (find(&r, &h) && read_all(h, &n) != RS_OK) {
        add_lib_err(c);
        return;
    }
    /* A record is small: all of it in one reply, cursor 0 (as Redis does
     * for a listpack hash). */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = srv.items[i].name;
        m += (pat == NULL || glob_match(pat, pl, name, strlen(name), false))
                 ? 1
                 : 0;
    }
    reply_array(&c->out, 2);
    reply_cursor(c, 0);
    reply_array(&c->out, novalues ? m : 2 * m);
    for (size_t i = 0; i < n; i++) {
        const char *name = srv.items[i].name;
        if (pat != NULL && !glob_match(pat, pl, name, strlen(name), false)) {
            continue;
        }
        reply_cstr(&c->out, name);
        if (!novalues) {
            reply_value(c, &srv.items[i].val);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* ROSTER.*                                                                  */
/* ------------------------------------------------------------------------ */

static rs_class *need_class(client *c, const char *name)
{
    rs_class *cls = rs_class_find(srv.st, name);
    if (cls == NULL) {
        add_errf(c, "ERR no class '%.64s'", name);
    }
    return cls;
}

static void roster_find(client *c, char **argv, size_t *lens)
{
    rs_class *cls = need_class(c, argv[1]);
    if (cls == NULL) {
        return;
    }
    rs_field f = rs_class_field(cls, argv[2]);
    if (f < 0) {
        add_errf(c, "ERR '%s' object has no field '%.64s'", rs_class_name(cls),
                 argv[2]);
        return;
    }
    rs_value v;
    rs_handle h;
    if (rs_value_parse(srv.st, cls, f, argv[3], lens[3], &v) != RS_OK) {
        add_lib_err(c);
        return;
    }
    rs_status rc = rs_find(srv.st, cls, f, &v, &h);
    if (rc == RS_ENOTFOUND) {
        srv.misses++;
        reply_null(&c->out, c->proto);
        return;
    }
    if (rc != RS_OK) {
        add_lib_err(c);
        return;
    }
    srv.hits++;
    char key[RS_MAX_NAME + 1 + 256];
    size_t cl = strlen(rs_class_name(cls));
    memcpy(key, rs_class_name(cls), cl);
    key[cl] = ':';
    size_t kl = key_text(h, cls, key + cl + 1, sizeof key - cl - 1);
    reply_bulk(&c->out, key, cl + 1 + kl);
}

static bool parse_op(const char *s, rs_op *op)
{
    static const struct {
        const char *s;
        rs_op op;
    } ops[] = {{"=", RS_EQ},  {"==", RS_EQ},        {"!=", RS_NE},
               {"<", RS_LT},  {"<=", RS_LE},        {">", RS_GT},
               {">=", RS_GE}, {"prefix", RS_PREFIX}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcasecmp(s, ops[i].s) == 0) {
            *op = ops[i].op;
            return true;
        }
    }
    return false;
}

#define MAX_CONDS 16

static void roster_scan(client *c, int argc, char **argv, size_t *lens)
{
    rs_class *cls = need_class(c, argv[1]);
    if (cls == NULL) {
        return;
    }
    uint64_t cur;
    if (!parse_cursor(argv[2], lens[2], &cur) || cur > 0xffffffffu) {
        add_err(c, "ERR invalid cursor");
        return;
    }
    rs_cond conds[MAX_CONDS];
    size_t nc = 0;
    long long count = 1000;
    bool impossible = false;
    for (int i = 3; i < argc; i++) {
        if (strcasecmp(argv[i], "where") == 0 && i + 3 < argc) {
            if (nc == MAX_CONDS) {
                add_errf(c, "ERR at most %d WHERE conditions", MAX_CONDS);
                return;
            }
            rs_cond *k = &conds[nc];
            const char *name = argv[i + 1];
            if (!parse_op(argv[i + 2], &k->op)) {
                add_errf(c,
                         "ERR unknown operator '%.16s' (= != < <= > >= "
                         "PREFIX)",
                         argv[i + 2]);
                return;
            }
            const char *val = argv[i + 3];
            size_t vl = lens[i + 3];
            i += 3;
            rs_field f = rs_class_field(cls, name);
            if (f >= 0) {
                if (k->op == RS_PREFIX) {
                    k->val = rs_val_str(val, vl);
                } else if (rs_value_parse(srv.st, cls, f, val, vl, &k->val) !=
                           RS_OK) {
                    add_lib_err(c);
                    return;
                }
            } else if (!field_find(cls, name, strlen(name), &f)) {
                impossible = true; /* no record has it */
                continue;
            } else {
                k->val = k->op == RS_PREFIX ? rs_val_str(val, vl)
                                            : infer_value(val, vl);
            }
            k->field = f;
            nc++;
        } else if (strcasecmp(argv[i], "count") == 0 && i + 1 < argc) {
            if (!resp_parse_ll(argv[i + 1], lens[i + 1], &count) || count < 1) {
                add_err(c, "ERR value is not an integer or out of range");
                return;
            }
            i++;
        } else {
            add_err(c, "ERR syntax error");
            return;
        }
    }
    if (count > 100000) {
        count = 100000;
    }
    if (impossible) {
        reply_array(&c->out, 2);
        reply_cursor(c, 0);
        reply_array(&c->out, 0);
        return;
    }
    size_t cap = (size_t)count;
    rs_handle *hs = malloc(cap * sizeof *hs);
    if (hs == NULL) {
        add_err(c, "ERR out of memory");
        return;
    }
    size_t n = 0;
    uint64_t next = 0;
    if (rs_scan_batch(srv.st, cls, conds, nc, cur, (size_t)count * 16, hs, cap,
                      &n, &next) != RS_OK) {
        free(hs);
        add_lib_err(c);
        return;
    }
    reply_array(&c->out, 2);
    reply_cursor(c, next);
    reply_array(&c->out, n);
    const char *cname = rs_class_name(cls);
    size_t cl = strlen(cname);
    for (size_t k = 0; k < n; k++) {
        char key[RS_MAX_NAME + 1 + 256];
        memcpy(key, cname, cl);
        key[cl] = ':';
        size_t kl = key_text(hs[k], cls, key + cl + 1, sizeof key - cl - 1);
        reply_bulk(&c->out, key, cl + 1 + kl);
    }
    free(hs);
}

/* ROSTER.RESERVE CLASS N: size the class's indexes for N records before a
 * bulk load (rs_class_reserve()), so the load grows none of them. */
static void roster_reserve(client *c, char **argv, size_t *lens)
{
    rs_class *cls = need_class(c, argv[1]);
    if (cls == NULL) {
        return;
    }
    long long n;
    if (!resp_parse_ll(argv[2], lens[2], &n) || n < 0) {
        add_err(c, "ERR value is not an integer or out of range");
        return;
    }
    if (rs_class_reserve(srv.st, cls, (size_t)n) != RS_OK) {
        add_lib_err(c);
        return;
    }
    reply_simple(&c->out, "OK");
}

static void roster_mem(client *c)
{
    rs_mem_report mr;
    rs_mem(srv.st, &mr);
    double n = mr.n_records ? (double)mr.n_records : 1.0;
    reply_map(&c->out, c->proto, 5 + 2 * RS_MEM__COUNT);
    reply_cstr(&c->out, "records");
    reply_int(&c->out, (long long)mr.n_records);
    reply_cstr(&c->out, "bytes");
    reply_int(&c->out, (long long)mr.total);
    reply_cstr(&c->out, "peak");
    reply_int(&c->out, (long long)mr.peak);
    reply_cstr(&c->out, "bytes_per_record");
    reply_double(&c->out, c->proto, (double)mr.total / n);
    reply_cstr(&c->out, "attr_names");
    reply_int(&c->out, (long long)mr.n_attr_names);
    for (int k = 0; k < RS_MEM__COUNT; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s", rs_mem_cat_name((rs_mem_cat)k));
        reply_cstr(&c->out, name);
        reply_int(&c->out, (long long)mr.bytes[k]);
        snprintf(name, sizeof name, "%s_per_record",
                 rs_mem_cat_name((rs_mem_cat)k));
        reply_cstr(&c->out, name);
        reply_double(&c->out, c->proto, (double)mr.bytes[k] / n);
    }
}

void cmd_roster(client *c, int argc, char **argv, size_t *lens)
{
    const char *sub = argv[0] + strlen("roster.");
    if (strcasecmp(sub, "class") == 0) {
        rs_class *cls;
        if (rs_class_parse(srv.st, argv[1], lens[1], &cls) != RS_OK) {
            add_lib_err(c);
            return;
        }
        log_msg('*', "class %s declared by client %s", rs_class_name(cls),
                c->addr);
        reply_simple(&c->out, "OK");
    } else if (strcasecmp(sub, "classes") == 0) {
        size_t n = rs_n_classes(srv.st);
        reply_array(&c->out, n);
        for (size_t i = 0; i < n; i++) {
            rs_class *cls = rs_class_at(srv.st, i);
            size_t need = rs_class_format(cls, NULL, 0);
            char *buf = malloc(need + 1);
            if (buf == NULL) {
                reply_null(&c->out, c->proto);
                continue;
            }
            (void)rs_class_format(cls, buf, need + 1);
            reply_bulk(&c->out, buf, need);
            free(buf);
        }
    } else if (strcasecmp(sub, "find") == 0) {
        roster_find(c, argv, lens);
    } else if (strcasecmp(sub, "scan") == 0) {
        roster_scan(c, argc, argv, lens);
    } else if (strcasecmp(sub, "reserve") == 0) {
        roster_reserve(c, argv, lens);
    } else {
        roster_mem(c);
    }
}
