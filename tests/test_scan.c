/*
 * test_scan.c: filtered scans, open and in resumable batches, through the
 * public API.
 *
 * - The cursor guarantee (roster.h, Scans): with inserts, removes, sets and
 *   binds between calls, every record present and matching throughout is
 *   returned exactly once, no record twice, and every record returned is
 *   live and matching when it is returned; for rs_scan_next(),
 *   rs_scan_batch() and scans that move between the two by their cursor.
 * - The compiled path against a naive evaluation over rs_get_field(), on
 *   every numeric type, every operator, operands of every kind (out of the
 *   field's range, NaN, infinities, bool), in rows wider and narrower than
 *   8 bytes; strings and dynamic attributes in the same conditions.
 * - Edges: an empty class, a cursor at and past the end, budgets and
 *   capacities, NULL arguments, a class of another store.
 *
 * Built twice: against the small-page library (test_scan: pages of a few
 * rows, so blocks are short and cross pages often) and against the real
 * one (test_scan_pages: full 64-row blocks).  `test_scan NAME` runs one
 * case.
 */
#include "check.h"
#include "roster.h"

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned irand(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static bool is_num_int(rs_type t)
{
    return t != RS_STR && t != RS_F32 && t != RS_F64;
}

/* A value as a 128-bit integer (integer and bool kinds only). */
static __int128 i128_of(const rs_value *v)
{
    switch (v->type) {
    case RS_BOOL:
        return v->v.b;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        return v->v.i;
    default:
        return v->v.u;
    }
}

static double f64_of(const rs_value *v)
{
    if (v->type == RS_F32 || v->type == RS_F64) {
        return v->v.f;
    }
    return (double)i128_of(v);
}

/* The reference: roster.h's words, not scan.c's code.  have is false for
 * an attribute the record has not bound. */
static bool ref_test(bool have, const rs_value *v, const rs_cond *c)
{
    if (!have || (v->type == RS_STR) != (c->val.type == RS_STR)) {
        return false;
    }
    int r;
    if (v->type == RS_STR) {
        size_t a = v->v.s.len, b = c->val.v.s.len;
        if (c->op == RS_PREFIX) {
            return a >= b &&
                   (b == 0 || memcmp(v->v.s.ptr, c->val.v.s.ptr, b) == 0);
        }
        int m = memcmp(v->v.s.ptr, c->val.v.s.ptr, a < b ? a : b);
        r = m < 0 ? -1 : m > 0 ? 1 : a < b ? -1 : a > b ? 1 : 0;
    } else if (is_num_int(v->type) && is_num_int(c->val.type)) {
        __int128 x = i128_of(v), y = i128_of(&c->val);
        r = x < y ? -1 : x > y ? 1 : 0;
    } else {
        double x = f64_of(v), y = f64_of(&c->val);
        if (isnan(x) || isnan(y)) {
            return c->op == RS_NE;
        }
        r = x < y ? -1 : x > y ? 1 : 0;
    }
    switch (c->op) {
    case RS_EQ:
        return r == 0;
    case RS_NE:
        return r != 0;
    case RS_LT:
        return r < 0;
    case RS_LE:
        return r <= 0;
    case RS_GT:
        return r > 0;
    case RS_GE:
        return r >= 0;
    default:
        return false;
    }
}

static bool ref_match(rs_store *st, rs_handle h, const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rs_value v;
        rs_status rc = rs_get_field(st, h, c[i].field, &v);
        if (rc != RS_OK && rc != RS_ENOATTR) {
            fprintf(stderr, "rs_get_field: %s\n", rs_errmsg(st));
            check_failures++;
            return false;
        }
        if (!ref_test(rc == RS_OK, &v, &c[i])) {
            return false;
        }
    }
    return true;
}

/* Handles kept by a test: every record it ever inserted, with flags. */
enum { H_LIVE = 1, H_START = 2, H_CHANGED = 4, H_MATCHED = 8, H_SEEN = 16 };

typedef struct rec {
    rs_handle h;
    unsigned flags;
} rec;

#define MAX_RECS 4096
static rec recs[MAX_RECS];
static size_t n_recs;

static long rec_of(rs_handle h)
{
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].h == h) {
            return (long)i;
        }
    }
    return -1;
}

/* The naive answer: every live record matching conds, as flags. */
static size_t naive_mark(rs_store *st, const rs_cond *c, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n_recs; i++) {
        recs[i].flags &= ~(unsigned)(H_MATCHED | H_SEEN);
        if ((recs[i].flags & H_LIVE) && ref_match(st, recs[i].h, c, n)) {
            recs[i].flags |= H_MATCHED;
            k++;
        }
    }
    return k;
}

/* Compare an answer (handles, any order) with the naive marks. */
static void compare_answer(const rs_handle *got, size_t n_got, const char *what,
                           const rs_cond *c, size_t n_c)
{
    size_t want = 0;
    for (size_t i = 0; i < n_recs; i++) {
        recs[i].flags &= ~(unsigned)H_SEEN;
        want += (recs[i].flags & H_MATCHED) != 0;
    }
    bool bad = n_got != want;
    for (size_t k = 0; k < n_got; k++) {
        long i = rec_of(got[k]);
        if (i < 0 || !(recs[i].flags & H_MATCHED) || (recs[i].flags & H_SEEN)) {
            bad = true;
            continue;
        }
        recs[i].flags |= H_SEEN;
    }
    if (bad) {
        fprintf(stderr,
                "%s: %zu records, the naive scan %zu; conditions:", what, n_got,
                want);
        for (size_t i = 0; i < n_c && i < 8; i++) {
            fprintf(stderr,
                    " [field %d op %d type %d i %" PRId64 " u %" PRIu64
                    " f %g]",
                    c[i].field, (int)c[i].op, (int)c[i].val.type, c[i].val.v.i,
                    c[i].val.v.u, c[i].val.v.f);
        }
        fprintf(stderr, "%s\n", n_c > 8 ? " ..." : "");
        check_failures++;
    }
}

static rs_handle got_buf[MAX_RECS];

/* Run conds both ways (open scan, batches of random budget and capacity)
 * and compare each with the naive scan. */
static void scan_both_ways(rs_store *st, rs_class *cls, const rs_cond *c,
                           size_t n)
{
    naive_mark(st, c, n);
    rs_scan *sc;
    rs_status rc = rs_scan_open(st, cls, c, n, &sc);
    CHECK_OK(st, rc);
    if (rc != RS_OK) {
        return;
    }
    size_t k = 0;
    rs_handle h;
    while (k < MAX_RECS && (rc = rs_scan_next(sc, &h)) == RS_OK) {
        got_buf[k++] = h;
    }
    CHECK_EQ(rc, RS_DONE);
    rs_scan_close(sc);
    compare_answer(got_buf, k, "rs_scan_next", c, n);

    k = 0;
    uint64_t cursor = 0;
    size_t budget = 1 + irand(80), cap = 1 + irand(20);
    for (int guard = 0; guard < 100000; guard++) {
        size_t n_out;
        rc = rs_scan_batch(st, cls, c, n, cursor, budget, got_buf + k,
                           MAX_RECS - k < cap ? MAX_RECS - k : cap, &n_out,
                           &cursor);
        CHECK_OK(st, rc);
        if (rc != RS_OK) {
            return;
        }
        k += n_out;
        if (cursor == 0 || k == MAX_RECS) {
            break;
        }
    }
    compare_answer(got_buf, k, "rs_scan_batch", c, n);
}

/* ------------------------------------------------------------------------ */
/* The compiled path against the naive one                                   */
/* ------------------------------------------------------------------------ */

/* Field 0 is a u8 at row offset 2 and field 1 an i16 at 3, so that a
 * record-at-a-time read takes its 8-byte window from the row's start; the
 * rest are past byte 8. */
static const char *const all_text =
    "All {\n"
    "  u8f: u8; i16f: i16; id: u32 key; b: bool; i8f: i8; u16f: u16;\n"
    "  i32f: i32; u32f: u32; i64f: i64; u64f: u64; f32f: f32; f64f: f64;\n"
    "  s: str(20)\n"
    "} dynamic";

static rs_value int_pick(rs_type t)
{
    static const int64_t signed_edges[] = {
        INT64_MIN, INT32_MIN, -32768, -129, -128, -1,    0,         1,        2,
        49,        50,        127,    128,  255,  32767, INT32_MAX, INT64_MAX};
    static const uint64_t unsigned_edges[] = {0,
                                              1,
                                              2,
                                              49,
                                              50,
                                              127,
                                              128,
                                              255,
                                              256,
                                              65535,
                                              65536,
                                              UINT32_MAX,
                                              (uint64_t)INT64_MAX,
                                              (uint64_t)INT64_MAX + 1,
                                              UINT64_MAX};
    int64_t lo, hi;
    uint64_t uhi;
    switch (t) {
    case RS_BOOL:
        return rs_val_bool(rnd() & 1);
    case RS_I8:
        lo = -128, hi = 127;
        break;
    case RS_I16:
        lo = -32768, hi = 32767;
        break;
    case RS_I32:
        lo = INT32_MIN, hi = INT32_MAX;
        break;
    case RS_I64:
        lo = INT64_MIN, hi = INT64_MAX;
        break;
    case RS_U8:
        uhi = 255;
        goto unsigned_pick;
    case RS_U16:
        uhi = 65535;
        goto unsigned_pick;
    case RS_U32:
        uhi = UINT32_MAX;
        goto unsigned_pick;
    default:
        uhi = UINT64_MAX;
        goto unsigned_pick;
    }
    for (;;) {
        int64_t v = irand(3) == 0 ? (int64_t)(rnd() % 200) - 100
                    : irand(2)    ? signed_edges[irand(17)]
                                  : (int64_t)rnd();
        if (v >= lo && v <= hi) {
            return rs_val_int(v);
        }
    }
unsigned_pick:
    for (;;) {
        uint64_t v = irand(3) == 0 ? rnd() % 200
                     : irand(2)    ? unsigned_edges[irand(15)]
                                   : rnd();
        if (v <= uhi) {
            return rs_val_uint(v);
        }
    }
}

static double float_pick(bool f32)
{
    static const double edges[] = {0.0,
                                   -0.0,
                                   0.5,
                                   -0.5,
                                   1.0,
                                   49.5,
                                   50.0,
                                   -1e30,
                                   1e30,
                                   16777217.0,
                                   9007199254740993.0};
    switch (irand(6)) {
    case 0:
        return NAN;
    case 1:
        return irand(2) ? INFINITY : -INFINITY;
    case 2:
        return edges[irand(11)];
    case 3:
        return (double)((int)irand(200) - 100);
    default: {
        double d = (double)(int64_t)rnd() / 1e9;
        return f32 ? (double)(float)d : d;
    }
    }
}

static const rs_type all_types[] = {RS_U8,  RS_I16, RS_U32, RS_BOOL,
                                    RS_I8,  RS_U16, RS_I32, RS_U32,
                                    RS_I64, RS_U64, RS_F32, RS_F64};

static void insert_all(rs_store *st, rs_class *cls, uint32_t id)
{
    rs_named v[13];
    char s[24];
    size_t n = 0;
    for (rs_field f = 0; f < 12; f++) {
        rs_field_def d;
        CHECK_OK(st, rs_class_field_def(cls, f, &d));
        v[n].name = d.name;
        if (f == 2) {
            v[n].val = rs_val_uint(id);
        } else if (d.type == RS_F32 || d.type == RS_F64) {
            v[n].val = rs_val_f64(float_pick(d.type == RS_F32));
        } else {
            v[n].val = int_pick(d.type);
        }
        n++;
    }
    int len = snprintf(s, sizeof s, "%c%u", 'a' + (int)irand(4), irand(50));
    v[n].name = "s";
    v[n++].val = rs_val_str(s, (size_t)len);
    rs_handle h;
    CHECK_OK(st, rs_insert(st, cls, v, n, &h));
    recs[n_recs].h = h;
    recs[n_recs++].flags = H_LIVE;
}

/* An operand for a condition on a field of type t: any numeric kind, out
 * of the field's range now and then, or a value some record holds. */
static rs_value operand(rs_store *st, rs_type t, rs_field f)
{
    switch (irand(6)) {
    case 0:
        return rs_val_f64(float_pick(false));
    case 1:
        return rs_val_bool(rnd() & 1);
    case 2: {
        rs_value v;
        if (n_recs > 0 &&
            rs_get_field(st, recs[irand((unsigned)n_recs)].h, f, &v) == RS_OK) {
            return v;
        }
        return rs_val_int(0);
    }
    case 3:
        return int_pick(irand(2) ? RS_I64 : RS_U64);
    default:
        return t == RS_F32 || t == RS_F64 ? rs_val_f64(float_pick(false))
                                          : int_pick(t);
    }
}

/* Every numeric field, every operator, many operands, alone and in pairs,
 * against the naive evaluation. */
static void test_fast_vs_naive(void)
{
    rs_store *st;
    rs_class *cls;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, all_text, strlen(all_text), &cls));
    n_recs = 0;
    for (uint32_t i = 0; i < 300; i++) {
        insert_all(st, cls, i);
    }
    for (size_t i = 0; i < n_recs; i += 7) { /* free slots among them */
        CHECK_OK(st, rs_remove(st, recs[i].h));
        recs[i].flags = 0;
    }
    for (rs_field f = 0; f < 12; f++) {
        rs_type t = all_types[f];
        for (int op = RS_EQ; op <= RS_GE; op++) {
            for (int k = 0; k < 30; k++) {
                rs_cond c = {f, (rs_op)op, operand(st, t, f)};
                scan_both_ways(st, cls, &c, 1);
            }
        }
    }
    /* Conjunctions, with strings in them. */
    for (int k = 0; k < 400; k++) {
        rs_cond c[4];
        size_t n = 1 + irand(4);
        char pre[4][3];
        for (size_t i = 0; i < n; i++) {
            if (irand(5) == 0) {
                pre[i][0] = (char)('a' + irand(4));
                pre[i][1] = (char)('0' + irand(10));
                static const rs_op sops[] = {RS_EQ, RS_NE, RS_LT, RS_GE,
                                             RS_PREFIX};
                c[i].field = 12;
                c[i].op = sops[irand(5)];
                c[i].val = rs_val_str(pre[i], 1 + irand(2));
            } else {
                rs_field f = (rs_field)irand(12);
                c[i].field = f;
                c[i].op = (rs_op)irand(6);
                c[i].val = operand(st, all_types[f], f);
            }
        }
        scan_both_ways(st, cls, c, n);
    }
    rs_store_close(st);
}

/* More numeric conditions than the block path compiles (16): the rest
 * take the per-record path, with the same answers; 1024 is the limit. */
static void test_many_conditions(void)
{
    rs_store *st;
    rs_class *cls;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, all_text, strlen(all_text), &cls));
    n_recs = 0;
    for (uint32_t i = 0; i < 200; i++) {
        insert_all(st, cls, i);
    }
    static rs_cond c[1024];
    for (int k = 0; k < 40; k++) {
        size_t n = 10 + irand(30);
        for (size_t i = 0; i < n; i++) {
            rs_field f = (rs_field)irand(12);
            c[i].field = f;
            /* Mostly wide ranges, so that some records pass them all. */
            c[i].op = irand(3) ? RS_NE : (rs_op)irand(6);
            c[i].val = operand(st, all_types[f], f);
        }
        scan_both_ways(st, cls, c, n);
    }
    for (size_t i = 0; i < 1024; i++) {
        c[i] = (rs_cond){(rs_field)(i % 12), RS_NE, rs_val_int((int)i)};
    }
    scan_both_ways(st, cls, c, 1024);
    rs_store_close(st);
}

/* Rows of 6 bytes: a record-at-a-time read cannot take 8 bytes. */
static void test_narrow_rows(void)
{
    rs_store *st;
    rs_class *cls;
    const char *text = "N { id: u16 key; v: i8; b: bool }";
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), &cls));
    n_recs = 0;
    for (int i = 0; i < 256; i++) {
        rs_named v[] = {{"id", rs_val_int(i)},
                        {"v", rs_val_int(i - 128)},
                        {"b", rs_val_bool(i % 3 == 0)}};
        rs_handle h;
        CHECK_OK(st, rs_insert(st, cls, v, 3, &h));
        recs[n_recs].h = h;
        recs[n_recs++].flags = H_LIVE;
    }
    for (int k = 0; k < 600; k++) {
        rs_cond c[2];
        size_t n = 1 + irand(2);
        for (size_t i = 0; i < n; i++) {
            rs_field f = (rs_field)irand(3);
            static const rs_type t[] = {RS_U16, RS_I8, RS_BOOL};
            c[i].field = f;
            c[i].op = (rs_op)irand(6);
            c[i].val = operand(st, t[f], f);
        }
        scan_both_ways(st, cls, c, n);
        /* Open scans recheck pending candidates after writes: flip a few
         * records between the calls of an open scan. */
        naive_mark(st, c, n);
        rs_scan *sc;
        CHECK_OK(st, rs_scan_open(st, cls, c, n, &sc));
        rs_handle h;
        while (rs_scan_next(sc, &h) == RS_OK) {
            CHECK(ref_match(st, h, c, n));
            rs_handle other = recs[irand((unsigned)n_recs)].h;
            CHECK_OK(st, rs_set_field(
                             st, other, 2,
                             &(rs_value){.type = RS_BOOL, .v.b = rnd() & 1}));
            CHECK_OK(st,
                     rs_set_field(st, other, 1,
                                  &(rs_value){.type = RS_I64,
                                              .v.i = (int)irand(256) - 128}));
        }
        rs_scan_close(sc);
    }
    rs_store_close(st);
}

/* Conditions that hold for no value or for every value of the field. */
static void test_never_and_always(void)
{
    rs_store *st;
    rs_class *cls;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, all_text, strlen(all_text), &cls));
    n_recs = 0;
    for (uint32_t i = 0; i < 50; i++) {
        insert_all(st, cls, i);
    }
    struct {
        rs_cond c;
        size_t want; /* SIZE_MAX: all */
    } cases[] = {
        {{0, RS_GT, rs_val_int(255)}, 0},
        {{0, RS_EQ, rs_val_int(-1)}, 0},
        {{0, RS_LT, rs_val_int(0)}, 0},
        {{0, RS_LE, rs_val_int(255)}, SIZE_MAX},
        {{0, RS_NE, rs_val_int(1000)}, SIZE_MAX},
        {{0, RS_GE, rs_val_uint(0)}, SIZE_MAX},
        {{9, RS_LT, rs_val_int(-1)}, 0}, /* u64 */
        {{8, RS_GE, rs_val_int(INT64_MIN)}, SIZE_MAX},
        {{8, RS_GT, rs_val_uint(UINT64_MAX)}, 0},
        {{3, RS_GT, rs_val_bool(true)}, 0},
        {{3, RS_LE, rs_val_int(1)}, SIZE_MAX},
        {{0, RS_EQ, rs_val_f64(NAN)}, 0},
        {{0, RS_NE, rs_val_f64(NAN)}, SIZE_MAX},
        {{11, RS_LT, rs_val_f64(NAN)}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t want = naive_mark(st, &cases[i].c, 1);
        CHECK_EQ(want, cases[i].want == SIZE_MAX ? 50 : 0);
        scan_both_ways(st, cls, &cases[i].c, 1);
    }
    rs_store_close(st);
}

/* Dynamic attributes of every kind beside numeric and string conditions. */
static void test_attr_conditions(void)
{
    rs_store *st;
    rs_class *cls;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, all_text, strlen(all_text), &cls));
    n_recs = 0;
    for (uint32_t i = 0; i < 200; i++) {
        insert_all(st, cls, i);
        rs_handle h = recs[n_recs - 1].h;
        switch (irand(6)) {
        case 0:
            break; /* no attributes at all */
        case 1:
            CHECK_OK(st, rs_set_attr(st, h, "hp",
                                     &(rs_value){.type = RS_I64,
                                                 .v.i = (int)irand(100) - 20}));
            break;
        case 2:
            CHECK_OK(st,
                     rs_set_attr(st, h, "hp",
                                 &(rs_value){.type = RS_F64,
                                             .v.f = irand(4) ? 49.5 : NAN}));
            break;
        case 3: {
            rs_value s = rs_val_cstr(irand(2) ? "50" : "high");
            CHECK_OK(st, rs_set_attr(st, h, "hp", &s));
            break;
        }
        case 4: {
            rs_value b = rs_val_bool(rnd() & 1);
            CHECK_OK(st, rs_set_attr(st, h, "hp", &b));
            break;
        }
        default: {
            rs_value t = rs_val_cstr("x");
            CHECK_OK(st, rs_set_attr(st, h, "tag", &t));
            break;
        }
        }
    }
    rs_field hp = rs_attr_id(st, cls, "hp");
    rs_field tag = rs_attr_id(st, cls, "tag");
    CHECK(hp >= RS_ATTR_BASE && tag >= RS_ATTR_BASE);
    for (int k = 0; k < 500; k++) {
        rs_cond c[3];
        size_t n = 1 + irand(3);
        for (size_t i = 0; i < n; i++) {
            unsigned pick = irand(4);
            c[i].op = (rs_op)irand(6);
            if (pick == 0) {
                rs_field f = (rs_field)irand(12);
                c[i].field = f;
                c[i].val = operand(st, all_types[f], f);
            } else if (pick == 1 && irand(3) == 0) {
                c[i].field = tag;
                c[i].op = irand(2) ? RS_PREFIX : RS_EQ;
                c[i].val = rs_val_cstr("x");
            } else {
                c[i].field = hp;
                static const char *const strs[] = {"50", "high", "h", ""};
                switch (irand(4)) {
                case 0:
                    c[i].val = rs_val_cstr(strs[irand(4)]);
                    if (irand(3) == 0) {
                        c[i].op = RS_PREFIX;
                    }
                    break;
                case 1:
                    c[i].val = rs_val_f64(float_pick(false));
                    break;
                case 2:
                    c[i].val = rs_val_bool(rnd() & 1);
                    break;
                default:
                    c[i].val = rs_val_int((int)irand(120) - 30);
                    break;
                }
            }
        }
        scan_both_ways(st, cls, c, n);
    }
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */
/* The cursor guarantee                                                      */
/* ------------------------------------------------------------------------ */

static rs_store *pst;
static rs_class *pcls;
static uint32_t next_id;

static void open_players(int n)
{
    const char *text = "P { id: u32 key; stat: u8; level: u16; name: str(12) "
                       "} dynamic";
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &pst));
    CHECK_OK(pst, rs_class_parse(pst, text, strlen(text), &pcls));
    n_recs = 0;
    next_id = 0;
    for (int i = 0; i < n; i++) {
        rs_named v[] = {{"id", rs_val_uint(next_id++)},
                        {"stat", rs_val_int(irand(4))},
                        {"level", rs_val_int(irand(100))},
                        {"name", rs_val_cstr(irand(2) ? "ann" : "bob")}};
        rs_handle h;
        CHECK_OK(pst, rs_insert(pst, pcls, v, 4, &h));
        recs[n_recs].h = h;
        recs[n_recs++].flags = H_LIVE;
    }
}

/* One random write between two calls of a scan: insert, remove, set a
 * field or bind an attribute, on any record. */
static void random_write(void)
{
    unsigned r = irand(10);
    long i = (long)irand((unsigned)n_recs);
    if (r < 3 && n_recs < MAX_RECS) {
        rs_named v[] = {{"id", rs_val_uint(next_id++)},
                        {"stat", rs_val_int(irand(4))},
                        {"level", rs_val_int(irand(100))}};
        rs_handle h;
        CHECK_OK(pst, rs_insert(pst, pcls, v, 3, &h));
        recs[n_recs].h = h;
        recs[n_recs++].flags = H_LIVE; /* not H_START: inserted meanwhile */
        return;
    }
    if (!(recs[i].flags & H_LIVE)) {
        return;
    }
    if (r < 5) {
        CHECK_OK(pst, rs_remove(pst, recs[i].h));
        recs[i].flags &= ~(unsigned)H_LIVE;
    } else if (r < 8) {
        rs_value v = rs_val_int(irand(100));
        CHECK_OK(pst, rs_set_field(pst, recs[i].h, irand(2) ? 1 : 2, &v));
        recs[i].flags |= H_CHANGED;
    } else {
        rs_value v = rs_val_int(irand(3));
        CHECK_OK(pst, rs_set_attr(pst, recs[i].h, "hp", &v));
        recs[i].flags |= H_CHANGED;
    }
}

/* Mark the records present at the start and whether each matches. */
static void start_scan(const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n_recs; i++) {
        recs[i].flags &= H_LIVE;
        if (recs[i].flags & H_LIVE) {
            recs[i].flags |= H_START;
            if (ref_match(pst, recs[i].h, c, n)) {
                recs[i].flags |= H_MATCHED;
            }
        }
    }
}

/* A record the scan returned: live, matching now, never returned before. */
static void returned(rs_handle h, const rs_cond *c, size_t n)
{
    long i = rec_of(h);
    if (i < 0) {
        fprintf(stderr, "the scan returned 0x%016" PRIx64 ", never inserted\n",
                h);
        check_failures++;
        return;
    }
    CHECK(recs[i].flags & H_LIVE);
    CHECK_EQ(rs_check(pst, h), RS_OK);
    CHECK(ref_match(pst, h, c, n));
    if (recs[i].flags & H_SEEN) {
        fprintf(stderr, "the scan returned 0x%016" PRIx64 " twice\n", h);
        check_failures++;
    }
    recs[i].flags |= H_SEEN;
}

/* At the end: every record present and matching throughout was seen, and
 * no slot was returned twice (two records of one slot are both "present"
 * only if neither was removed, which cannot be). */
static void end_scan(const char *what)
{
    size_t missed = 0;
    for (size_t i = 0; i < n_recs; i++) {
        unsigned f = recs[i].flags;
        if ((f & H_START) && (f & H_LIVE) && (f & H_MATCHED) &&
            !(f & H_CHANGED) && !(f & H_SEEN)) {
            missed++;
        }
    }
    if (missed) {
        fprintf(stderr,
                "%s: %zu records present and matching throughout "
                "were not returned\n",
                what, missed);
        check_failures++;
    }
    for (size_t i = 0; i < n_recs; i++) {
        for (size_t j = i + 1; j < n_recs; j++) {
            if ((recs[i].flags & H_SEEN) && (recs[j].flags & H_SEEN) &&
                (uint32_t)recs[i].h == (uint32_t)recs[j].h) {
                fprintf(stderr, "%s: slot %u returned twice\n", what,
                        (uint32_t)recs[i].h);
                check_failures++;
            }
        }
    }
}

static size_t pick_conds(rs_cond *c)
{
    rs_field hp = rs_attr_id(pst, pcls, "hp");
    switch (irand(5)) {
    case 0:
        return 0;
    case 1:
        c[0] = (rs_cond){1, RS_EQ, rs_val_int(1)};
        c[1] = (rs_cond){2, RS_GE, rs_val_int(50)};
        return 2;
    case 2:
        c[0] = (rs_cond){3, RS_PREFIX, rs_val_cstr("a")};
        c[1] = (rs_cond){2, RS_LT, rs_val_int(70)};
        return 2;
    case 3:
        c[0] = (rs_cond){hp, RS_NE, rs_val_int(1)};
        return 1;
    default:
        c[0] = (rs_cond){1, RS_NE, rs_val_int(2)};
        return 1;
    }
}

/* Batches with writes between them, unfiltered and filtered. */
static void test_cursor_batches(void)
{
    for (int round = 0; round < 40; round++) {
        open_players(50 + (int)irand(300));
        rs_value one = rs_val_int(1);
        CHECK_OK(pst, rs_set_attr(pst, recs[0].h, "hp", &one));
        for (size_t i = 0; i < n_recs; i += 1 + irand(9)) {
            CHECK_OK(pst, rs_remove(pst, recs[i].h));
            recs[i].flags = 0;
        }
        rs_cond c[2];
        size_t n = pick_conds(c);
        start_scan(c, n);
        uint64_t cursor = 0;
        size_t budget = 1 + irand(40), cap = 1 + irand(10);
        int calls = 0;
        do {
            rs_handle out[16];
            size_t n_out = 99;
            uint64_t before = cursor;
            CHECK_OK(pst, rs_scan_batch(pst, pcls, c, n, cursor, budget, out,
                                        cap, &n_out, &cursor));
            CHECK(n_out <= cap && n_out <= budget);
            CHECK(cursor == 0 || cursor > before);
            CHECK(cursor == 0 || cursor - before <= budget);
            for (size_t k = 0; k < n_out; k++) {
                returned(out[k], c, n);
                if (k > 0) {
                    CHECK((uint32_t)out[k] > (uint32_t)out[k - 1]);
                }
            }
            for (int w = (int)irand(4); w > 0; w--) {
                random_write();
            }
            calls++;
        } while (cursor != 0 && calls < 100000);
        CHECK(cursor == 0);
        end_scan("rs_scan_batch");
        rs_store_close(pst);
    }
}

/* rs_scan_next with writes between the calls, on any record (not only the
 * one returned last), and moves between an open scan and batches through
 * the cursor. */
static void test_cursor_open_scan(void)
{
    for (int round = 0; round < 40; round++) {
        open_players(50 + (int)irand(300));
        rs_cond c[2];
        size_t n = pick_conds(c);
        start_scan(c, n);
        rs_scan *sc;
        CHECK_OK(pst, rs_scan_open(pst, pcls, c, n, &sc));
        CHECK_EQ(rs_scan_cursor(sc), 0);
        rs_handle h;
        rs_status rc;
        uint64_t last_cursor = 0;
        for (;;) {
            rc = rs_scan_next(sc, &h);
            if (rc != RS_OK) {
                break;
            }
            returned(h, c, n);
            uint64_t cur = rs_scan_cursor(sc);
            CHECK(cur > (uint32_t)h); /* past the record returned */
            CHECK(cur >= last_cursor);
            last_cursor = cur;
            for (int w = (int)irand(3); w > 0; w--) {
                random_write();
            }
            unsigned r = irand(20);
            if (r == 0) {
                /* Close, reopen, resume where it was. */
                rs_scan_close(sc);
                CHECK_OK(pst, rs_scan_open(pst, pcls, c, n, &sc));
                CHECK_OK(pst, rs_scan_resume(sc, cur));
                CHECK_EQ(rs_scan_cursor(sc), cur);
            } else if (r == 1) {
                /* A batch from here, then the open scan from after it. */
                rs_handle out[8];
                size_t n_out;
                uint64_t next;
                CHECK_OK(pst, rs_scan_batch(pst, pcls, c, n, cur, 1 + irand(20),
                                            out, 8, &n_out, &next));
                for (size_t k = 0; k < n_out; k++) {
                    returned(out[k], c, n);
                }
                if (next == 0) {
                    rc = RS_DONE;
                    break;
                }
                CHECK_OK(pst, rs_scan_resume(sc, next));
                last_cursor = next;
            }
        }
        CHECK_EQ(rc, RS_DONE);
        rs_scan_close(sc);
        end_scan("rs_scan_next");
        rs_store_close(pst);
    }
}

/* The record returned last removed, and a new record in its slot: neither
 * comes back. */
static void test_reuse_slot_behind(void)
{
    open_players(40);
    rs_scan *sc;
    CHECK_OK(pst, rs_scan_open(pst, pcls, NULL, 0, &sc));
    rs_handle h;
    size_t n = 0;
    while (rs_scan_next(sc, &h) == RS_OK) {
        n++;
        CHECK_OK(pst, rs_remove(pst, h));
        rs_named v[] = {{"id", rs_val_uint(1000 + n)}};
        rs_handle h2;
        CHECK_OK(pst, rs_insert(pst, pcls, v, 1, &h2));
        CHECK_EQ((uint32_t)h2, (uint32_t)h); /* the slot just freed */
    }
    rs_scan_close(sc);
    CHECK_EQ(n, 40);
    rs_store_close(pst);
}

/* ------------------------------------------------------------------------ */
/* Edges and arguments                                                       */
/* ------------------------------------------------------------------------ */

static void test_empty_class(void)
{
    open_players(0);
    rs_handle out[4];
    size_t n_out = 99;
    uint64_t next = 99;
    CHECK_OK(pst,
             rs_scan_batch(pst, pcls, NULL, 0, 0, 10, out, 4, &n_out, &next));
    CHECK_EQ(n_out, 0);
    CHECK_EQ(next, 0);
    rs_scan *sc;
    rs_handle h;
    CHECK_OK(pst, rs_scan_open(pst, pcls, NULL, 0, &sc));
    CHECK_EQ(rs_scan_next(sc, &h), RS_DONE);
    CHECK_EQ(rs_scan_cursor(sc), 0);
    /* Records inserted after the end are found by later calls. */
    rs_named v[] = {{"id", rs_val_uint(7)}};
    CHECK_OK(pst, rs_insert(pst, pcls, v, 1, &h));
    rs_handle h2;
    CHECK_OK(pst, rs_scan_next(sc, &h2));
    CHECK_EQ(h2, h);
    CHECK_EQ(rs_scan_next(sc, &h2), RS_DONE);
    rs_scan_close(sc);
    /* Everything removed: free slots only. */
    CHECK_OK(pst, rs_remove(pst, h));
    CHECK_OK(pst,
             rs_scan_batch(pst, pcls, NULL, 0, 0, 10, out, 4, &n_out, &next));
    CHECK_EQ(n_out, 0);
    CHECK_EQ(next, 0);
    rs_store_close(pst);
}

static void test_cursor_past_end(void)
{
    open_players(10); /* slots 0..9 */
    rs_handle out[4];
    size_t n_out = 99;
    uint64_t next = 99;
    /* At the end: done, nothing returned. */
    CHECK_OK(pst,
             rs_scan_batch(pst, pcls, NULL, 0, 10, 5, out, 4, &n_out, &next));
    CHECK_EQ(n_out, 0);
    CHECK_EQ(next, 0);
    /* Past the end: refused, outputs untouched. */
    n_out = 99;
    next = 99;
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 11, 5, out, 4, &n_out, &next),
               RS_EINVAL, "cursor 11 is past the 10 slots of 'P'");
    CHECK_EQ(n_out, 99);
    CHECK_EQ(next, 99);
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, (uint64_t)1 << 40, 5, out, 4,
                             &n_out, &next),
               RS_EINVAL, "not a cursor of this class");
    CHECK_FAIL(
        pst,
        rs_scan_batch(pst, pcls, NULL, 0, UINT64_MAX, 5, out, 4, &n_out, &next),
        RS_EINVAL, "past the 10 slots");
    rs_scan *sc;
    CHECK_OK(pst, rs_scan_open(pst, pcls, NULL, 0, &sc));
    CHECK_FAIL(pst, rs_scan_resume(sc, 11), RS_EINVAL, "rs_scan_resume");
    CHECK_OK(pst, rs_scan_resume(sc, 10));
    rs_handle h;
    CHECK_EQ(rs_scan_next(sc, &h), RS_DONE);
    CHECK_OK(pst, rs_scan_resume(sc, 9));
    CHECK_OK(pst, rs_scan_next(sc, &h));
    CHECK_EQ((uint32_t)h, 9);
    CHECK_EQ(rs_scan_cursor(sc), 10);
    CHECK_EQ(rs_scan_next(sc, &h), RS_DONE);
    rs_scan_close(sc);
    rs_store_close(pst);
}

/* budget bounds the slots a call visits; a full out stops after its last
 * record. */
static void test_budget_and_cap(void)
{
    open_players(50);
    rs_handle out[64];
    size_t n_out;
    uint64_t cursor = 0;
    for (int call = 0; call < 7; call++) {
        CHECK_OK(pst, rs_scan_batch(pst, pcls, NULL, 0, cursor, 7, out, 64,
                                    &n_out, &cursor));
        CHECK_EQ(n_out, 7);
        CHECK_EQ((uint32_t)out[0], (uint32_t)(call * 7));
        CHECK_EQ(cursor, (uint64_t)(call + 1) * 7);
    }
    CHECK_OK(pst, rs_scan_batch(pst, pcls, NULL, 0, cursor, 7, out, 64, &n_out,
                                &cursor));
    CHECK_EQ(n_out, 1);
    CHECK_EQ(cursor, 0);
    /* cap 3 of a budget of 20: the next call starts after the third. */
    CHECK_OK(pst,
             rs_scan_batch(pst, pcls, NULL, 0, 5, 20, out, 3, &n_out, &cursor));
    CHECK_EQ(n_out, 3);
    CHECK_EQ(cursor, 8);
    /* A budget over free slots only returns nothing and moves on. */
    for (int s = 10; s < 30; s++) {
        CHECK_OK(pst, rs_remove(pst, recs[s].h));
    }
    CHECK_OK(pst, rs_scan_batch(pst, pcls, NULL, 0, 10, 20, out, 64, &n_out,
                                &cursor));
    CHECK_EQ(n_out, 0);
    CHECK_EQ(cursor, 30);
    /* The last record filling out ends the class: done at once. */
    CHECK_OK(pst, rs_scan_batch(pst, pcls, NULL, 0, 47, 20, out, 3, &n_out,
                                &cursor));
    CHECK_EQ(n_out, 3);
    CHECK_EQ(cursor, 0);
    /* A budget far past the class. */
    CHECK_OK(pst, rs_scan_batch(pst, pcls, NULL, 0, 0, SIZE_MAX, out, 64,
                                &n_out, &cursor));
    CHECK_EQ(n_out, 30);
    CHECK_EQ(cursor, 0);
    rs_store_close(pst);
}

static void test_null_arguments(void)
{
    open_players(3);
    rs_store *other;
    rs_class *ocls;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &other));
    CHECK_OK(other, rs_class_parse(other, "Q { id: u32 key }", 17, &ocls));
    rs_scan *sc;
    rs_handle out[4];
    size_t n_out;
    uint64_t next;
    rs_cond c = {1, RS_EQ, rs_val_int(1)};

    CHECK_EQ(rs_scan_open(NULL, pcls, NULL, 0, &sc), RS_EINVAL);
    CHECK_FAIL(pst, rs_scan_open(pst, NULL, NULL, 0, &sc), RS_EINVAL,
               "rs_scan_open: the class is NULL");
    CHECK_FAIL(pst, rs_scan_open(pst, pcls, NULL, 0, NULL), RS_EINVAL,
               "rs_scan_open: out is NULL");
    CHECK_FAIL(pst, rs_scan_open(pst, pcls, NULL, 2, &sc), RS_EINVAL,
               "conds is NULL but n_conds is 2");
    CHECK_FAIL(pst, rs_scan_open(pst, ocls, NULL, 0, &sc), RS_EINVAL,
               "class 'Q' belongs to another store");
    CHECK_FAIL(pst, rs_scan_open(pst, pcls, &c, 1025, &sc), RS_EINVAL,
               "at most 1024");

    CHECK_EQ(rs_scan_next(NULL, out), RS_EINVAL);
    CHECK_OK(pst, rs_scan_open(pst, pcls, &c, 1, &sc));
    CHECK_FAIL(pst, rs_scan_next(sc, NULL), RS_EINVAL,
               "rs_scan_next: out is NULL");
    CHECK_EQ(rs_scan_cursor(NULL), 0);
    CHECK_EQ(rs_scan_resume(NULL, 0), RS_EINVAL);
    rs_scan_close(NULL);
    rs_scan_close(sc);

    CHECK_EQ(rs_scan_batch(NULL, pcls, NULL, 0, 0, 1, out, 4, &n_out, &next),
             RS_EINVAL);
    CHECK_FAIL(pst,
               rs_scan_batch(pst, NULL, NULL, 0, 0, 1, out, 4, &n_out, &next),
               RS_EINVAL, "rs_scan_batch: the class is NULL");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 0, 1, NULL, 4, &n_out, &next),
               RS_EINVAL, "rs_scan_batch: out is NULL");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 0, 1, out, 4, NULL, &next),
               RS_EINVAL, "n_out is NULL");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 0, 1, out, 4, &n_out, NULL),
               RS_EINVAL, "next is NULL");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 1, 0, 1, out, 4, &n_out, &next),
               RS_EINVAL, "conds is NULL");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, ocls, NULL, 0, 0, 1, out, 4, &n_out, &next),
               RS_EINVAL, "class 'Q' belongs to another store");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 0, 1, out, 0, &n_out, &next),
               RS_EINVAL, "cap is 0");
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, NULL, 0, 0, 0, out, 4, &n_out, &next),
               RS_EINVAL, "budget is 0");
    rs_cond bad = {2, RS_PREFIX, rs_val_cstr("1")};
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, &bad, 1, 0, 1, out, 4, &n_out, &next),
               RS_ETYPE, "P.level");
    rs_cond bad2 = {3, RS_EQ, {.type = RS_STR, .v.s = {NULL, 3}}};
    CHECK_FAIL(pst,
               rs_scan_batch(pst, pcls, &bad2, 1, 0, 1, out, 4, &n_out, &next),
               RS_EINVAL, "P.name: NULL string");
    /* The message is cleared by the next call that succeeds. */
    CHECK_OK(pst, rs_scan_batch(pst, pcls, &c, 1, 0, 1, out, 4, &n_out, &next));
    CHECK_STR(rs_errmsg(pst), "");
    rs_store_close(other);
    rs_store_close(pst);
}

/* The example of roster.h: a whole class in steps of a bounded cost. */
static void test_batch_loop_example(void)
{
    open_players(120);
    rs_cond c[] = {{1, RS_EQ, rs_val_int(1)}};
    size_t want = naive_mark(pst, c, 1), got = 0;
    uint64_t cursor = 0;
    do {
        rs_handle out[16];
        size_t n;
        CHECK_OK(pst, rs_scan_batch(pst, pcls, c, 1, cursor, 100, out, 16, &n,
                                    &cursor));
        got += n;
    } while (cursor != 0);
    CHECK_EQ(got, want);
    rs_store_close(pst);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"fast_vs_naive", test_fast_vs_naive},
        {"many_conditions", test_many_conditions},
        {"narrow_rows", test_narrow_rows},
        {"never_and_always", test_never_and_always},
        {"attr_conditions", test_attr_conditions},
        {"cursor_batches", test_cursor_batches},
        {"cursor_open_scan", test_cursor_open_scan},
        {"reuse_slot_behind", test_reuse_slot_behind},
        {"empty_class", test_empty_class},
        {"cursor_past_end", test_cursor_past_end},
        {"budget_and_cap", test_budget_and_cap},
        {"null_arguments", test_null_arguments},
        {"batch_loop_example", test_batch_loop_example},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
