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
        desc(" | attributes:");
        for (uint32_t k = 0; k < r->n_attrs; k++) {
            fmt_mattr(buf, sizeof buf, &r->a[k]);
            desc(" %s=%s", m_names[r->a[k].name], buf);
        }
    }
    desc("}");
}

const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">=", "PREFIX"};

void desc_conds(const rs_cond *c, size_t n)
{
    desc("[");
    for (size_t i = 0; i < n; i++) {
        const char *fname =
            c[i].field >= 0 && c[i].field < NF ? defs[c[i].field].name
            : m_is_attr_field(c[i].field) ? m_names[c[i].field - RS_ATTR_BASE]
                                          : "?";
        const char *op =
            (unsigned)c[i].op <= RS_PREFIX ? op_names[c[i].op] : "(bad op)";
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
             rs_status_name(got), rs_errmsg(g_st), rs_status_name(want));
    }
    const char *msg = rs_errmsg(g_st);
    if (got == RS_OK && msg[0] != '\0' && g_save_starved &&
        strstr(msg, ": out of memory for a") != NULL) {
        known_bug(KB_SAVE_MSG_ON_SUCCESS, call);
    } else if (got == RS_OK && msg[0] != '\0') {
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

void value_differs(const char *ctx, rs_handle h, int f, const rs_value *v,
                   const mval *want)
{
    char a[256], b[256];
    fmt_value(a, sizeof a, v);
    fmt_mval(b, sizeof b, f, want);
    fail("%s: record 0x%016" PRIx64 " field %s: store has %s, model %s", ctx, h,
         defs[f].name, a, b);
}

/* One field of the store's record h against the model's value. */
void compare_field(rs_handle h, int f, const mval *want, const char *ctx)
{
    rs_value v;
    rs_status rc = rs_get_field(g_st, h, f, &v);
    if (rc != RS_OK) {
        fail("%s: rs_get_field(0x%016" PRIx64 ", %s) returned %s: %s", ctx, h,
             defs[f].name, rs_status_name(rc), rs_errmsg(g_st));
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
    rs_status rc = rs_dict(g_st, r->h, items, MAX_MATTRS + 1, &n);
    if (rc != RS_OK || rs_errmsg(g_st)[0] != '\0') {
        fail("%s: rs_dict(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(g_st));
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
    rs_status rc = rs_dir(g_st, r->h, names, NF + MAX_MATTRS + 1, &n);
    if (rc != RS_OK) {
        fail("%s: rs_dir(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(g_st));
    }
    if (n != NF + r->n_attrs) {
        fail("%s: rs_dir(0x%016" PRIx64 ") gives %zu names, the model %u", ctx,
             r->h, n, NF + r->n_attrs);
    }
    for (size_t k = 0; k < n; k++) {
        const char *want = k < NF ? defs[k].name : m_names[r->a[k - NF].name];
        if (names[k] == NULL || strcmp(names[k], want) != 0) {
            fail("%s: rs_dir(0x%016" PRIx64 ")[%zu] is \"%s\", the model "
                 "has \"%s\"",
                 ctx, r->h, k, names[k] ? names[k] : "(null)", want);
        }
    }
}

void compare_rec(const mrec *r, const char *ctx)
{
    rs_status rc = rs_check(g_st, r->h);
    if (rc != RS_OK) {
        fail("%s: model record 0x%016" PRIx64 " is not live in the store: "
             "%s",
             ctx, r->h, rs_errmsg(g_st));
    }
    if (rs_handle_class(g_st, r->h) != classes[r->c]) {
        fail("%s: record 0x%016" PRIx64 " is not of class %s", ctx, r->h,
             class_names[r->c]);
    }
    for (int f = 0; f < NF; f++) {
        compare_field(r->h, f, &r->f[f], ctx);
    }
    compare_attrs(r, ctx);
}

/* ------------------------------------------------------------------------ */
/* The classes                                                               */
/* ------------------------------------------------------------------------ */

void check_classes(const char *ctx)
{
    if (rs_n_classes(g_st) != NC) {
        fail("%s: the store has %zu classes, not %d", ctx, rs_n_classes(g_st),
             NC);
    }
    for (int c = 0; c < NC; c++) {
        rs_class *k = rs_class_find(g_st, class_names[c]);
        if (k == NULL) {
            fail("%s: no class %s", ctx, class_names[c]);
        }
        classes[c] = k;
        class_no[c] = 0;
        for (size_t j = 0; j < NC; j++) {
            if (rs_class_at(g_st, j) == k) {
                class_no[c] = (unsigned)j + 1;
            }
        }
        unsigned flags = c == C_DYN ? RS_CLASS_DYNAMIC : 0u;
        if (class_no[c] == 0 || rs_class_flags(k) != flags ||
            rs_class_n_fields(k) != NF || rs_class_key(k) != F_UID) {
            fail("%s: class %s is number %u with flags %u, %zu fields and "
                 "key %d",
                 ctx, class_names[c], class_no[c], rs_class_flags(k),
                 rs_class_n_fields(k), rs_class_key(k));
        }
        for (int f = 0; f < NF; f++) {
            const rs_field_def *w = &defs[f];
            rs_field_def d;
            rs_status rc = rs_class_field_def(k, f, &d);
            /* roster.h: 0 picks 7 for str(n <= 16) and 15 above. */
            uint32_t inl = !is_str(f)         ? 0
                           : w->inline_len    ? w->inline_len
                           : w->max_len <= 16 ? 7
                                              : RS_MAX_INLINE;
            mval want = m_default(f);
            if (rc != RS_OK || rs_class_field(k, w->name) != f ||
                strcmp(d.name, w->name) != 0 || d.type != w->type ||
                (is_str(f) && d.max_len != w->max_len) || d.flags != w->flags ||
                d.has_default != w->has_default ||
                (d.has_default && !value_matches(&d.def, f, &want)) ||
                d.inline_len != inl) {
                fail("%s: field %d of %s is not as declared: %s %s, "
                     "max_len %u, flags %u, default %d, inline %u "
                     "(expected %u)",
                     ctx, f, class_names[c], rc == RS_OK ? d.name : "?",
                     rc == RS_OK ? rs_type_name(d.type) : "?", d.max_len,
                     d.flags, d.has_default, d.inline_len, inl);
            }
            inline_max[f] = d.inline_len;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The accounting                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The accounting is held to what roster.h promises, not to a copy of the
 * string arena's or the shapes' layout, so that a change of layout inside
 * the library needs no change here.  What is promised:
 *
 *   - the categories sum to the total, so each is at most the total (a
 *     category gone below zero would wrap past it); the total and the live
 *     blocks are what the counting allocator holds; the peak never falls;
 *   - rows are fixed width: the records category is the live records
 *     times one row, and setting a field that is not a string moves no
 *     category at all;
 *   - the strings category is what the live records' strings take outside
 *     their rows: it moves when a record's strings are inserted, set or
 *     removed, by exactly what that record's rs_record_size() moves, and
 *     by nothing else; strings that fit inline (rs_field_def.inline_len)
 *     take nothing there, and the others at most their bytes;
 *   - rs_record_size() is the row, the record's strings outside it, and
 *     its attributes: a block and the 8-byte entry that finds it, so
 *     nothing for a record without attributes and more than 8 bytes for
 *     one with; all of that, with the interned names' bytes, lies within
 *     the attrs category;
 *   - a call that fails changes nothing (mem_same()), and a closed store
 *     has given every byte back (the driver and ops_persist.c).
 *
 * What the design leaves open is learned from the store once and then held
 * fixed: how wide a row is (the records category's move on the first
 * insert) and what each record's strings take (the strings category's
 * move when they were set: mrec.str_bytes).
 */

size_t row_bytes;
static size_t last_peak;

rs_mem_report mem_now(void)
{
    rs_mem_report m;
    rs_mem(g_st, &m);
    return m;
}

void acct_new_store(void)
{
    last_peak = 0;
}

static long long moved(const rs_mem_report *before, const rs_mem_report *now,
                       rs_mem_cat c)
{
    return (long long)now->bytes[c] - (long long)before->bytes[c];
}

/* The categories of a report against each other and the peak. */
static void mem_sane(const rs_mem_report *m, const char *ctx)
{
    size_t sum = 0;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        if (m->bytes[c] > m->total) {
            fail("%s: rs_mem(): %s is %zu bytes, more than the total %zu "
                 "(below zero?)",
                 ctx, rs_mem_cat_name((rs_mem_cat)c), m->bytes[c], m->total);
        }
        sum += m->bytes[c];
    }
    if (sum != m->total) {
        fail("%s: rs_mem(): the categories sum to %zu, the total is %zu", ctx,
             sum, m->total);
    }
    if (m->peak < m->total || m->peak < last_peak) {
        fail("%s: rs_mem(): peak %zu with total %zu; the peak was %zu", ctx,
             m->peak, m->total, last_peak);
    }
    last_peak = m->peak;
}

void mem_same_after_change(const rs_mem_report *a, const char *call)
{
    rs_mem_report b = mem_now();
    if (g_durable && b.bytes[RS_MEM_META] > a->bytes[RS_MEM_META] &&
        b.total - a->total == b.bytes[RS_MEM_META] - a->bytes[RS_MEM_META] &&
        b.n_allocs >= a->n_allocs) {
        rs_mem_report c = *a; /* the rest exactly as it was */
        c.bytes[RS_MEM_META] = b.bytes[RS_MEM_META];
        c.total = b.total;
        c.n_allocs = b.n_allocs;
        mem_same(&c, call);
        known_bug(KB_DURABLE_FAILURE_KEEPS_META, call);
        return;
    }
    mem_same(a, call);
}

/* A failed call must leave the accounting exactly as it was (peak aside:
 * a failure may have touched a higher total on its way). */
void mem_same(const rs_mem_report *a, const char *call)
{
    rs_mem_report b = mem_now();
    bool same = a->total == b.total && a->n_allocs == b.n_allocs &&
                a->n_records == b.n_records &&
                a->n_attr_names == b.n_attr_names && a->n_shapes == b.n_shapes;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        same = same && a->bytes[c] == b.bytes[c];
    }
    if (!same) {
        fail("%s changed the accounting: total %zu -> %zu, n_allocs %zu -> "
             "%zu, records %zu/%zu, strings %zu/%zu, indexes %zu/%zu, "
             "attrs %zu/%zu, free %zu/%zu, meta %zu/%zu, attribute names "
             "%zu/%zu, shapes %zu/%zu",
             call, a->total, b.total, a->n_allocs, b.n_allocs,
             a->bytes[RS_MEM_RECORDS], b.bytes[RS_MEM_RECORDS],
             a->bytes[RS_MEM_STRINGS], b.bytes[RS_MEM_STRINGS],
             a->bytes[RS_MEM_INDEXES], b.bytes[RS_MEM_INDEXES],
             a->bytes[RS_MEM_ATTRS], b.bytes[RS_MEM_ATTRS],
             a->bytes[RS_MEM_FREE], b.bytes[RS_MEM_FREE], a->bytes[RS_MEM_META],
             b.bytes[RS_MEM_META], a->n_attr_names, b.n_attr_names, a->n_shapes,
             b.n_shapes);
    }
}

/* The first insert tells how wide a row is.  roster.h: a string field
 * spends inline_len + 1 bytes of it, and a number needs at least its own
 * width (u8, u16, i32, f64; the bool may be a bit). */
static void learn_row(long long moved_rows)
{
    size_t least = 1 + 2 + 4 + 8;
    for (int f = 0; f < NF; f++) {
        least += is_str(f) ? inline_max[f] + 1 : 0;
    }
    if (moved_rows < (long long)least) {
        fail("the first insert moved the records category by %lld bytes; "
             "its fields alone need %zu",
             moved_rows, least);
    }
    row_bytes = (size_t)moved_rows;
}

size_t check_size(const mrec *r, const char *ctx)
{
    size_t size = 0, outside = 0;
    rs_status rc = rs_record_size(g_st, r->h, &size);
    if (rc != RS_OK) {
        fail("%s: rs_record_size(0x%016" PRIx64 ") returned %s", ctx, r->h,
             rs_status_name(rc));
    }
    for (int f = 0; f < NF; f++) {
        if (is_str(f) && r->f[f].len > inline_max[f]) {
            outside += r->f[f].len;
        }
    }
    size_t base = row_bytes + r->str_bytes;
    if (r->str_bytes > outside ||
        (r->n_attrs == 0 ? size != base : size <= base + 8)) {
        g_op[0] = '\0';
        desc_rec(r);
        fail("%s: rs_record_size(0x%016" PRIx64 ") is %zu: a row of %zu "
             "bytes, strings the accounting put at %zu (of %zu bytes not "
             "inline), and %u attributes (more than 8 bytes if any)",
             ctx, r->h, size, row_bytes, r->str_bytes, outside, r->n_attrs);
    }
    return size;
}

void acct_insert(size_t i, const rs_mem_report *before, const char *call)
{
    rs_mem_report m = mem_now();
    long long rows = moved(before, &m, RS_MEM_RECORDS);
    long long strs = moved(before, &m, RS_MEM_STRINGS);
    if (row_bytes == 0) {
        learn_row(rows);
    }
    if (rows != (long long)row_bytes || strs < 0) {
        fail("%s: the records category moved by %lld bytes (a row is %zu), "
             "the strings category by %lld",
             call, rows, row_bytes, strs);
    }
    m_set_str_bytes(i, (size_t)strs);
    check_size(&recs[i], call);
}

void acct_remove(const mrec *gone, const rs_mem_report *before,
                 const char *call)
{
    rs_mem_report m = mem_now();
    long long rows = moved(before, &m, RS_MEM_RECORDS);
    long long strs = moved(before, &m, RS_MEM_STRINGS);
    if (rows != -(long long)row_bytes || strs != -(long long)gone->str_bytes) {
        fail("%s: the records category moved by %lld bytes (a row is %zu), "
             "the strings category by %lld (the record's strings took %zu)",
             call, rows, row_bytes, strs, gone->str_bytes);
    }
}

void acct_set(size_t i, const rs_mem_report *before, bool strings,
              const char *call)
{
    rs_mem_report m = mem_now();
    long long strs = moved(before, &m, RS_MEM_STRINGS);
    if (moved(before, &m, RS_MEM_RECORDS) != 0 ||
        moved(before, &m, RS_MEM_ATTRS) != 0 ||
        m.n_attr_names != before->n_attr_names ||
        m.n_shapes != before->n_shapes) {
        fail("%s: records %zu -> %zu, attrs %zu -> %zu bytes, %zu -> %zu "
             "names, %zu -> %zu shapes: a set of a declared field moves "
             "none of them",
             call, before->bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_RECORDS],
             before->bytes[RS_MEM_ATTRS], m.bytes[RS_MEM_ATTRS],
             before->n_attr_names, m.n_attr_names, before->n_shapes,
             m.n_shapes);
    }
    if (!strings) {
        /* A fixed-width field is written in its row: nothing is
         * allocated, unless a journal, a save or a group keeps buffers
         * (meta) that a change may grow. */
        bool quiet = !g_durable && !g_saving && !m_group.open;
        if (strs != 0 || moved(before, &m, RS_MEM_INDEXES) != 0 ||
            moved(before, &m, RS_MEM_FREE) != 0 ||
            (quiet &&
             (m.total != before->total || m.n_allocs != before->n_allocs))) {
            fail("%s: a set of a number or bool moved the accounting: "
                 "strings %lld, indexes %zu -> %zu, free %zu -> %zu, total "
                 "%zu -> %zu in %zu -> %zu blocks",
                 call, strs, before->bytes[RS_MEM_INDEXES],
                 m.bytes[RS_MEM_INDEXES], before->bytes[RS_MEM_FREE],
                 m.bytes[RS_MEM_FREE], before->total, m.total, before->n_allocs,
                 m.n_allocs);
        }
    } else if ((long long)recs[i].str_bytes + strs < 0) {
        fail("%s: the strings category fell by %lld, more than the %zu "
             "bytes the record's strings took",
             call, -strs, recs[i].str_bytes);
    } else {
        m_set_str_bytes(i, (size_t)((long long)recs[i].str_bytes + strs));
    }
    check_size(&recs[i], call);
}

void acct_attrs(size_t i, const rs_mem_report *before, const char *call)
{
    rs_mem_report m = mem_now();
    if (moved(before, &m, RS_MEM_RECORDS) != 0 ||
        moved(before, &m, RS_MEM_STRINGS) != 0 ||
        moved(before, &m, RS_MEM_INDEXES) != 0) {
        fail("%s: records %zu -> %zu, strings %zu -> %zu, indexes %zu -> "
             "%zu bytes: a dynamic attribute moves none of them",
             call, before->bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_RECORDS],
             before->bytes[RS_MEM_STRINGS], m.bytes[RS_MEM_STRINGS],
             before->bytes[RS_MEM_INDEXES], m.bytes[RS_MEM_INDEXES]);
    }
    check_size(&recs[i], call);
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
    rs_mem_report m = mem_now();
    if (g_alloc.n_broken > 0) {
        fail("the store broke the allocator's size contract (%ld calls)",
             g_alloc.n_broken);
    }
    if (m.total != g_alloc.live_bytes || m.n_allocs != g_alloc.live_blocks) {
        fail("rs_mem() says %zu bytes in %zu blocks, the allocator has %zu "
             "in %zu",
             m.total, m.n_allocs, g_alloc.live_bytes, g_alloc.live_blocks);
    }
    mem_sane(&m, "after the step");
    if (m.n_records != n_recs ||
        m.bytes[RS_MEM_RECORDS] != n_recs * row_bytes ||
        m.bytes[RS_MEM_STRINGS] != m_strings) {
        fail("rs_mem(): %zu records in %zu bytes, strings %zu bytes; the "
             "model has %zu records of %zu bytes, strings %zu",
             m.n_records, m.bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_STRINGS],
             n_recs, row_bytes, m_strings);
    }
    /* Names are interned in the attrs category; a record that binds
     * attributes has a shape unless every shape is taken (then n_shapes
     * is at its largest, not 0). */
    if (m.n_attr_names != m_n_names || m.bytes[RS_MEM_ATTRS] < m_name_bytes ||
        (m_with_attrs > 0 && m.n_shapes == 0)) {
        fail("rs_mem(): %zu attribute names, attrs %zu bytes, %zu shapes; "
             "the model has %u names of %zu bytes, %zu records binding "
             "attributes",
             m.n_attr_names, m.bytes[RS_MEM_ATTRS], m.n_shapes, m_n_names,
             m_name_bytes, m_with_attrs);
    }
}

/* Everything: each record by key and by name, its fields, attributes,
 * dir and size, a full scan of each class, the accounting and the internal
 * walk. */
void full_check(const char *when)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "full check (%s)", when);
    size_t attrs = 0;
    for (size_t i = 0; i < n_recs; i++) {
        const mrec *r = &recs[i];
        rs_class *c = classes[r->c];
        rs_handle h = 0;
        rs_status rc = rs_get(g_st, c, r->f[F_UID].s, r->f[F_UID].len, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_UID].s, r->f[F_UID].len);
            fail("%s: rs_get(%s, %s) gave %s 0x%016" PRIx64 ", model has "
                 "0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        rs_value name = rs_val_str(r->f[F_NAME].s, r->f[F_NAME].len);
        rc = rs_find(g_st, c, F_NAME, &name, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_NAME].s, r->f[F_NAME].len);
            fail("%s: rs_find(%s, name=%s) gave %s 0x%016" PRIx64 ", model "
                 "has 0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        compare_rec(r, ctx);
        compare_dir(r, ctx);
        attrs += check_size(r, ctx) - row_bytes - r->str_bytes;
    }
    /* A full scan of each class: exactly the model's records, in slot
     * order. */
    for (int c = 0; c < NC; c++) {
        rs_scan *sc;
        rs_status rc = rs_scan_open(g_st, classes[c], NULL, 0, &sc);
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
    /* What the records' attributes cost them, and the names, lie within
     * the attrs category (which also holds shapes and the vectors). */
    rs_mem_report m = mem_now();
    if (attrs + m_name_bytes > m.bytes[RS_MEM_ATTRS]) {
        fail("%s: the records' attributes take %zu bytes by "
             "rs_record_size() and the names %zu; the attrs category holds "
             "only %zu",
             ctx, attrs, m_name_bytes, m.bytes[RS_MEM_ATTRS]);
    }
    step_checks();
    check_walk(ctx);
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
    if (text != NULL && strstr(rs_errmsg(g_st), text) == NULL) {
        fail("%s: the message \"%s\" lacks \"%s\"", call, rs_errmsg(g_st),
             text);
    }
}

void check_walk(const char *when)
{
    rs_status rc = rs__store_check(g_st);
    if (rc != RS_OK) {
        fail("%s: rs__store_check returned %s", when, rs_status_name(rc));
    }
}
