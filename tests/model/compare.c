/*
 * compare.c: the store against the model (compare.h).
 */
#include "compare.h"

#include "store.h" /* rs__store_check: the structure walk */

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Describing values                                                         */
/* ------------------------------------------------------------------------ */

void fmt_str(char *buf, size_t cap, const char *p, size_t len)
{
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            buf[o++] = (char)c;
        } else {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        }
    }
    if (o + 2 <= cap) {
        buf[o++] = '"';
    }
    buf[o < cap ? o : cap - 1] = '\0';
}

void fmt_value(char *buf, size_t cap, const rs_value *v)
{
    if (v->type == RS_STR) {
        if (v->v.s.ptr == NULL) {
            snprintf(buf, cap, "str(NULL, %zu)", v->v.s.len);
        } else {
            fmt_str(buf, cap, v->v.s.ptr, v->v.s.len);
        }
    } else if (v->type == RS_BOOL) {
        snprintf(buf, cap, "%s", v->v.b ? "true" : "false");
    } else if (t_signed(v->type)) {
        snprintf(buf, cap, "%" PRId64 "(%s)", v->v.i, rs_type_name(v->type));
    } else if (t_unsigned(v->type)) {
        snprintf(buf, cap, "%" PRIu64 "(%s)", v->v.u, rs_type_name(v->type));
    } else if (v->type == RS_F32 || v->type == RS_F64) {
        snprintf(buf, cap, "%.17g(%s)", v->v.f, rs_type_name(v->type));
    } else {
        snprintf(buf, cap, "(value of type %d)", (int)v->type);
    }
}

void fmt_mval(char *buf, size_t cap, int f, const mval *v)
{
    switch (defs[f].type) {
    case RS_STR:
        fmt_str(buf, cap, v->s, v->len);
        break;
    case RS_BOOL:
        snprintf(buf, cap, "%s", v->b ? "true" : "false");
        break;
    case RS_I32:
        snprintf(buf, cap, "%" PRId64, v->i);
        break;
    case RS_F64:
        snprintf(buf, cap, "%.17g", v->f);
        break;
    default:
        snprintf(buf, cap, "%" PRIu64, v->u);
        break;
    }
}

void desc_value(const rs_value *v)
{
    char buf[256];
    fmt_value(buf, sizeof buf, v);
    desc("%s", buf);
}

void fmt_mattr(char *buf, size_t cap, const mattr *a)
{
    switch (a->type) {
    case RS_STR:
        if (a->len > ASHORT) {
            snprintf(buf, cap, "\"%c\" * %u", LONG_CH, a->len);
        } else {
            fmt_str(buf, cap, a->s, a->len);
        }
        break;
    case RS_BOOL:
        snprintf(buf, cap, "%s", a->b ? "true" : "false");
        break;
    case RS_I64:
        snprintf(buf, cap, "%" PRId64, a->i);
        break;
    case RS_U64:
        snprintf(buf, cap, "%" PRIu64 "(u64)", a->u);
        break;
    default:
        snprintf(buf, cap, "%.17g", a->f);
        break;
    }
}

void desc_rec(const mrec *r)
{
    char buf[256];
    desc("{%s h=0x%016" PRIx64, class_names[r->c], r->h);
    for (int f = 0; f < NF; f++) {
        fmt_mval(buf, sizeof buf, f, &r->f[f]);
        desc(" %s=%s", defs[f].name, buf);
    }
    if (r->n_attrs > 0) {
        desc(" | shape %u:", r->shape);
        for (uint32_t k = 0; k < r->n_attrs; k++) {
            fmt_mattr(buf, sizeof buf, &r->a[k]);
            desc(" %s=%s", m_names[r->a[k].name], buf);
        }
    }
    desc("}");
}

const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">=",
                                       "PREFIX"};

void desc_conds(const rs_cond *c, size_t n)
{
    desc("[");
    for (size_t i = 0; i < n; i++) {
        const char *fname = c[i].field >= 0 && c[i].field < NF
                                ? defs[c[i].field].name
                            : m_is_attr_field(c[i].field)
                                ? m_names[c[i].field - RS_ATTR_BASE]
                                : "?";
        const char *op = (unsigned)c[i].op <= RS_PREFIX
                             ? op_names[c[i].op]
                             : "(bad op)";
        desc("%s%s#%d %s ", i ? " AND " : "", fname, c[i].field, op);
        desc_value(&c[i].val);
    }
    desc("]");
}

/* ------------------------------------------------------------------------ */
/* Comparing the store with the model                                        */
/* ------------------------------------------------------------------------ */

/* The status of a call against the model's, and the rs_errmsg() contract:
 * empty after success, a message after a failure. */
void expect(const char *call, rs_status got, rs_status want)
{
    tally(call, got);
    if (got != want) {
        fail("%s returned %s (\"%s\"), the model expects %s", call,
             rs_status_name(got), rs_errmsg(st), rs_status_name(want));
    }
    const char *msg = rs_errmsg(st);
    if (got == RS_OK && msg[0] != '\0') {
        fail("%s succeeded but rs_errmsg() is \"%s\"", call, msg);
    }
    if (got != RS_OK && msg[0] == '\0') {
        fail("%s returned %s with an empty rs_errmsg()", call,
             rs_status_name(got));
    }
}

/* Whether v, read from field f, is the model's value. */
bool value_matches(const rs_value *v, int f, const mval *want)
{
    if (v->type != defs[f].type) {
        return false;
    }
    if (is_str(f)) {
        return v->v.s.len == want->len &&
               (want->len == 0 || memcmp(v->v.s.ptr, want->s, want->len) == 0);
    }
    if (v->type == RS_BOOL) {
        return v->v.b == want->b;
    }
    if (v->type == RS_I32) {
        return v->v.i == want->i;
    }
    if (v->type == RS_F64) {
        return (isnan(v->v.f) && isnan(want->f)) ||
               memcmp(&v->v.f, &want->f, sizeof(double)) == 0;
    }
    return v->v.u == want->u;
}

void value_differs(const char *ctx, rs_handle h, int f,
                          const rs_value *v, const mval *want)
{
    char a[256], b[256];
    fmt_value(a, sizeof a, v);
    fmt_mval(b, sizeof b, f, want);
    fail("%s: record 0x%016" PRIx64 " field %s: store has %s, model %s", ctx,
         h, defs[f].name, a, b);
}

/* One field of the store's record h against the model's value. */
void compare_field(rs_handle h, int f, const mval *want,
                          const char *ctx)
{
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        fail("%s: rs_get_field(0x%016" PRIx64 ", %s) returned %s: %s", ctx,
             h, defs[f].name, rs_status_name(rc), rs_errmsg(st));
    }
    if (!value_matches(&v, f, want)) {
        value_differs(ctx, h, f, &v, want);
    }
}

/* Whether v, read from a dynamic attribute, is the model's value. */
bool attr_matches(const rs_value *v, const mattr *a)
{
    if (v->type != a->type) {
        return false;
    }
    switch (a->type) {
    case RS_I64:
        return v->v.i == a->i;
    case RS_U64:
        return v->v.u == a->u;
    case RS_F64: /* bit for bit: -0.0 and NaN come back as they went */
        return memcmp(&v->v.f, &a->f, sizeof(double)) == 0;
    case RS_BOOL:
        return v->v.b == a->b;
    default:
        return v->v.s.len == a->len &&
               (a->len == 0 ||
                (v->v.s.ptr != NULL &&
                 memcmp(v->v.s.ptr, mattr_bytes(a), a->len) == 0));
    }
}

/* The store's dict of a record, for a failure report. */
static void desc_dict(const rs_attr *items, size_t n)
{
    char buf[256];
    desc(" store's dict {");
    for (size_t k = 0; k < n; k++) {
        fmt_value(buf, sizeof buf, &items[k].val);
        desc("%s%s=%s", k ? ", " : "", items[k].name, buf);
    }
    desc("}");
}

/* rs_dict() of r against the model: names, order and values. */
void compare_attrs(const mrec *r, const char *ctx)
{
    rs_attr items[MAX_MATTRS + 1];
    size_t n = (size_t)-1;
    rs_status rc = rs_dict(st, r->h, items, MAX_MATTRS + 1, &n);
    if (rc != RS_OK || rs_errmsg(st)[0] != '\0') {
        fail("%s: rs_dict(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(st));
    }
    if (n > MAX_MATTRS) {
        fail("%s: rs_dict(0x%016" PRIx64 ") says %zu attributes, the model "
             "has %u",
             ctx, r->h, n, r->n_attrs);
    }
    bool same = n == r->n_attrs;
    for (size_t k = 0; same && k < n; k++) {
        same = items[k].name != NULL &&
               strcmp(items[k].name, m_names[r->a[k].name]) == 0 &&
               attr_matches(&items[k].val, &r->a[k]);
    }
    if (!same) {
        desc(" model ");
        desc_rec(r);
        desc_dict(items, n);
        fail("%s: rs_dict(0x%016" PRIx64 ") differs from the model (%zu "
             "attributes, model %u)",
             ctx, r->h, n, r->n_attrs);
    }
}

/* rs_dir() of r: the declared fields in order, then the attributes in
 * binding order. */
void compare_dir(const mrec *r, const char *ctx)
{
    const char *names[NF + MAX_MATTRS + 1];
    size_t n = (size_t)-1;
    rs_status rc = rs_dir(st, r->h, names, NF + MAX_MATTRS + 1, &n);
    if (rc != RS_OK) {
        fail("%s: rs_dir(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(st));
    }
    if (n != NF + r->n_attrs) {
        fail("%s: rs_dir(0x%016" PRIx64 ") gives %zu names, the model %u",
             ctx, r->h, n, NF + r->n_attrs);
    }
    for (size_t k = 0; k < n; k++) {
        const char *want = k < NF ? defs[k].name
                                  : m_names[r->a[k - NF].name];
        if (names[k] == NULL || strcmp(names[k], want) != 0) {
            fail("%s: rs_dir(0x%016" PRIx64 ")[%zu] is \"%s\", the model "
                 "has \"%s\"",
                 ctx, r->h, k, names[k] ? names[k] : "(null)", want);
        }
    }
}

void compare_rec(const mrec *r, const char *ctx)
{
    rs_status rc = rs_check(st, r->h);
    if (rc != RS_OK) {
        fail("%s: model record 0x%016" PRIx64 " is not live in the store: "
             "%s",
             ctx, r->h, rs_errmsg(st));
    }
    if (rs_handle_class(st, r->h) != classes[r->c]) {
        fail("%s: record 0x%016" PRIx64 " is not of class %s", ctx, r->h,
             class_names[r->c]);
    }
    for (int f = 0; f < NF; f++) {
        compare_field(r->h, f, &r->f[f], ctx);
    }
    compare_attrs(r, ctx);
}

memsnap mem_now(void)
{
    memsnap s;
    rs_mem(st, &s.m);
    return s;
}

/* A failed call must leave the accounting exactly as it was (peak aside:
 * a failure may have touched a higher total on its way). */
void mem_same(const memsnap *a, const char *call)
{
    memsnap b = mem_now();
    bool same = a->m.total == b.m.total && a->m.n_allocs == b.m.n_allocs &&
                a->m.n_records == b.m.n_records &&
                a->m.n_attr_names == b.m.n_attr_names &&
                a->m.n_shapes == b.m.n_shapes;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        same = same && a->m.bytes[c] == b.m.bytes[c];
    }
    if (!same) {
        fail("%s changed the accounting: total %zu -> %zu, n_allocs %zu -> "
             "%zu, records %zu/%zu, strings %zu/%zu, indexes %zu/%zu, "
             "attrs %zu/%zu, free %zu/%zu, meta %zu/%zu, attribute names "
             "%zu/%zu, shapes %zu/%zu",
             call, a->m.total, b.m.total, a->m.n_allocs, b.m.n_allocs,
             a->m.bytes[RS_MEM_RECORDS], b.m.bytes[RS_MEM_RECORDS],
             a->m.bytes[RS_MEM_STRINGS], b.m.bytes[RS_MEM_STRINGS],
             a->m.bytes[RS_MEM_INDEXES], b.m.bytes[RS_MEM_INDEXES],
             a->m.bytes[RS_MEM_ATTRS], b.m.bytes[RS_MEM_ATTRS],
             a->m.bytes[RS_MEM_FREE], b.m.bytes[RS_MEM_FREE],
             a->m.bytes[RS_MEM_META], b.m.bytes[RS_MEM_META],
             a->m.n_attr_names, b.m.n_attr_names, a->m.n_shapes,
             b.m.n_shapes);
    }
}

/* After a call ran armed: true if it failed with the injected RS_ENOMEM
 * where the model expected success (then it must have changed nothing);
 * a failure the call swallowed is an error. */
bool absorbed_late(const char *call, rs_status rc, rs_status want,
                          bool late, const memsnap *before)
{
    long failed = g_alloc.failed;
    bool inj = injected(rc);
    if (rc == RS_OK && failed > 0) {
        fail("%s succeeded although allocation %ld failed", call,
             g_alloc.n_grows);
    }
    /* An error found only after the call allocated (late) may be
     * preceded by the injected failure. */
    if (!inj || (want != RS_OK && !late)) {
        return false; /* expect() compares with the model */
    }
    desc(" [allocation failure injected]");
    tally("(injected RS_ENOMEM)", rc);
    if (rs_errmsg(st)[0] == '\0') {
        fail("%s returned RS_ENOMEM with an empty rs_errmsg()", call);
    }
    mem_same(before, call);
    rs_status chk = rs__store_check(st);
    if (chk != RS_OK) {
        fail("after %s failed with RS_ENOMEM, rs__store_check returned %s",
             call, rs_status_name(chk));
    }
    return true;
}

bool absorbed(const char *call, rs_status rc, rs_status want,
                     const memsnap *before)
{
    return absorbed_late(call, rc, want, false, before);
}

/* Checks cheap enough for every step. */
void step_checks(void)
{
    for (int c = 0; c < NC; c++) {
        if (rs_count(classes[c]) != n_of[c]) {
            fail("rs_count(%s) is %zu, the model has %zu", class_names[c],
                 rs_count(classes[c]), n_of[c]);
        }
    }
    rs_mem_report m;
    rs_mem(st, &m);
    if (m.total != g_alloc.live_bytes || m.n_allocs != g_alloc.live_blocks) {
        fail("rs_mem() says %zu bytes in %zu blocks, the allocator has %zu "
             "in %zu",
             m.total, m.n_allocs, g_alloc.live_bytes, g_alloc.live_blocks);
    }
    if (m.n_records != n_recs) {
        fail("rs_mem().n_records is %zu, the model has %zu", m.n_records,
             n_recs);
    }
    if (m.bytes[RS_MEM_RECORDS] != n_recs * row_len ||
        m.bytes[RS_MEM_STRINGS] != m_strings) {
        fail("rs_mem(): records %zu bytes, strings %zu; the model expects "
             "%zu and %zu",
             m.bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_STRINGS],
             n_recs * row_len, m_strings);
    }
    /* Attributes: the blocks exactly, the rest (names, shapes, vectors)
     * is what the store allocated under attrs; at least the names' bytes
     * and an 8-byte vector entry per record with attributes. */
    size_t alloc = rs__allocated(st, RS_MEM_ATTRS);
    if (m.bytes[RS_MEM_ATTRS] != m_blocks + alloc ||
        alloc < 8 * m_with_attrs + m_n_names * 2 ||
        m.n_attr_names != m_n_names ||
        m.n_shapes != (m_n_shapes ? m_n_shapes - 1 : 0)) {
        fail("rs_mem(): attrs %zu bytes (allocated %zu), %zu names, %zu "
             "shapes; the model expects %zu bytes of blocks and allocated "
             "at least %zu, %u names, %u shapes",
             m.bytes[RS_MEM_ATTRS], alloc, m.n_attr_names, m.n_shapes,
             m_blocks, 8 * m_with_attrs + m_n_names * 2, m_n_names,
             m_n_shapes ? m_n_shapes - 1 : 0);
    }
}

/* Everything: each record by key and by name, its fields, attributes,
 * dir and size, a full scan of each class, the accounting and the internal
 * walk. */
void full_check(const char *when)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "full check (%s)", when);
    size_t strings = 0, blocks = 0;
    for (size_t i = 0; i < n_recs; i++) {
        const mrec *r = &recs[i];
        rs_class *c = classes[r->c];
        rs_handle h = 0;
        rs_status rc = rs_get(st, c, r->f[F_UID].s, r->f[F_UID].len, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_UID].s, r->f[F_UID].len);
            fail("%s: rs_get(%s, %s) gave %s 0x%016" PRIx64 ", model has "
                 "0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        rs_value name = rs_val_str(r->f[F_NAME].s, r->f[F_NAME].len);
        rc = rs_find(st, c, F_NAME, &name, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_NAME].s, r->f[F_NAME].len);
            fail("%s: rs_find(%s, name=%s) gave %s 0x%016" PRIx64 ", model "
                 "has 0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        compare_rec(r, ctx);
        compare_dir(r, ctx);
        size_t size = 0, want = row_len + out_of_line(r) + attrs_size(r);
        rc = rs_record_size(st, r->h, &size);
        if (rc != RS_OK || size != want) {
            g_op[0] = '\0';
            desc_rec(r);
            fail("%s: rs_record_size(0x%016" PRIx64 ") gave %s %zu, "
                 "expected %zu (row %zu, strings %zu, attributes %zu)",
                 ctx, r->h, rs_status_name(rc), size, want, row_len,
                 out_of_line(r), attrs_size(r));
        }
        strings += out_of_line(r);
        blocks += r->block;
    }
    /* A full scan of each class: exactly the model's records, in slot
     * order. */
    for (int c = 0; c < NC; c++) {
        rs_scan *sc;
        rs_status rc = rs_scan_open(st, classes[c], NULL, 0, &sc);
        if (rc != RS_OK) {
            fail("%s: rs_scan_open returned %s", ctx, rs_status_name(rc));
        }
        size_t n = 0;
        rs_handle h, prev = 0;
        while ((rc = rs_scan_next(sc, &h)) == RS_OK) {
            if (n > 0 && (uint32_t)h <= (uint32_t)prev) {
                fail("%s: scan returned slot %u after slot %u", ctx,
                     (uint32_t)h, (uint32_t)prev);
            }
            long j = m_by_handle(h);
            if (j < 0 || recs[j].c != c) {
                fail("%s: the scan of %s returned 0x%016" PRIx64 ", not a "
                     "record of it in the model",
                     ctx, class_names[c], h);
            }
            prev = h;
            n++;
        }
        rs_scan_close(sc);
        if (rc != RS_DONE || n != n_of[c]) {
            fail("%s: the full scan of %s ended with %s after %zu records, "
                 "the model has %zu",
                 ctx, class_names[c], rs_status_name(rc), n, n_of[c]);
        }
    }
    /* Accounting: categories add up, rows, strings and blocks are
     * exact. */
    rs_mem_report m;
    rs_mem(st, &m);
    size_t sum = 0;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        sum += m.bytes[c];
    }
    if (sum != m.total || m.bytes[RS_MEM_RECORDS] != n_recs * row_len ||
        m.bytes[RS_MEM_STRINGS] != strings || blocks != m_blocks ||
        m.peak < m.total) {
        fail("%s: rs_mem(): categories sum to %zu of total %zu (peak %zu); "
             "records %zu (expected %zu), strings %zu (expected %zu); the "
             "model's blocks %zu, summed %zu",
             ctx, sum, m.total, m.peak, m.bytes[RS_MEM_RECORDS],
             n_recs * row_len, m.bytes[RS_MEM_STRINGS], strings, m_blocks,
             blocks);
    }
    step_checks();
    rs_status rc = rs__store_check(st);
    if (rc != RS_OK) {
        fail("%s: rs__store_check returned %s", ctx, rs_status_name(rc));
    }
}

/* The message of RS_ENOATTR (roster.h). */
const char *no_attr_msg(int c, const char *name)
{
    static char msg[160];
    snprintf(msg, sizeof msg, "'%s' object has no attribute '%.64s'",
             class_names[c], name);
    return msg;
}

/* A failed call's message must contain text (when given). */
void expect_msg(const char *call, const char *text)
{
    if (text != NULL && strstr(rs_errmsg(st), text) == NULL) {
        fail("%s: the message \"%s\" lacks \"%s\"", call, rs_errmsg(st),
             text);
    }
}

void check_walk(const char *when)
{
    rs_status rc = rs__store_check(st);
    if (rc != RS_OK) {
        fail("%s: rs__store_check returned %s", when, rs_status_name(rc));
    }
}
