/*
 * gen.c: random operands (gen.h): values of every type, good and bad,
 * attribute names and values, scan conditions and dead handles.
 */
#include "gen.h"

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Generating values                                                         */
/* ------------------------------------------------------------------------ */

/* Buffers for the strings of one operation's values. */
#define N_BUFS 48
static char bufs[N_BUFS][96];
static int buf_next;

char *new_buf(void)
{
    char *b = bufs[buf_next];
    buf_next = (buf_next + 1) % N_BUFS;
    return b;
}

rs_value str_val(const char *p)
{
    return rs_val_str(p, strlen(p));
}

/* A key: short (inline) and long (out of line) ones, both sides of the
 * 7-byte boundary, multibyte, empty, and a rarer spread of others. */
rs_value gen_key(void)
{
    char *b = new_buf();
    int r = irand(100);
    if (r < 40) {
        snprintf(b, 96, "k%d", irand(1000));
    } else if (r < 80) {
        snprintf(b, 96, "key-long-%d", irand(1000));
    } else if (r < 88) {
        const char *fmt = chance(50) ? "%07d" : "%08d";
        snprintf(b, 96, fmt, irand(200));
    } else if (r < 90) {
        b[0] = '\0';
    } else if (r < 95) {
        snprintf(b, 96, "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87%d", irand(40));
    } else {
        snprintf(b, 96, "zz%d", irand(1000));
    }
    return str_val(b);
}

rs_value gen_name(void)
{
    char *b = new_buf();
    int r = irand(100);
    if (r < 35) {
        snprintf(b, 96, "n%d", irand(1500));
    } else if (r < 70) {
        snprintf(b, 96, "player-name-%d", irand(1500));
    } else if (r < 80) {
        /* Both sides of the 8- and 16-byte cells' inline limits. */
        static const char *const fmts[] = {"%07d", "%08d", "%015d", "%016d"};
        const char *fmt = fmts[irand(4)];
        snprintf(b, 96, fmt, irand(1000));
    } else if (r < 82) {
        b[0] = '\0';
    } else if (r < 92) {
        /* 6 bytes of CJK and one or two digits: 7 or 8 bytes. */
        snprintf(b, 96, "\xe5\x90\x8d\xe5\x89\x8d%d", irand(100));
    } else {
        snprintf(b, 96, "abcdefghijklmnop%04d", irand(1000)); /* 20 bytes */
    }
    return str_val(b);
}

/* A tag: lengths clustered around 7/8 and up to the 40 limit, from a small
 * alphabet so that prefixes and equalities hit. */
rs_value gen_tag(void)
{
    static const char *const starts[] = {"",     "a",         "ab",      "b",
                                         "tag-", "tag-long-", "\xc3\xa9"};
    static const int lens[] = {0,  1,  3,  6,  7,  7,  8,  8,  9, 12,
                               14, 15, 15, 16, 16, 17, 20, 39, 40};
    char *b = new_buf();
    size_t want = (size_t)lens[irand((int)(sizeof lens / sizeof lens[0]))];
    const char *s = starts[irand((int)(sizeof starts / sizeof starts[0]))];
    size_t n = strlen(s) < want ? strlen(s) : 0;
    memcpy(b, s, n);
    while (n < want) {
        b[n++] = "ab"[irand(2)];
    }
    b[n] = '\0';
    if (want == 0 && chance(30)) {
        return rs_val_str(NULL, 0); /* NULL with length 0 is "" */
    }
    return rs_val_str(b, n);
}

/* A bad string for field f: too long, invalid UTF-8, or not a string. */
rs_value gen_bad_str(int f)
{
    static const char *const bad_utf8[] = {
        "\xff",
        "\x80",
        "a\xc0\x80",
        "\xc1\xbf",
        "\xe0\x80\x80",
        "\xed\xa0\x80",
        "\xe5\xbc",
        "ab\xe5",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf0\x80\x80\x80",
        "ok\xc3",
    };
    char *b = new_buf();
    int r = irand(3);
    if (r == 0) {
        size_t n = defs[f].max_len + 1 + (size_t)irand(10);
        memset(b, 'x', n);
        b[0] = 'k';
        b[n] = '\0';
        return rs_val_str(b, n);
    }
    if (r == 1) {
        snprintf(b, 96, "%s", bad_utf8[irand(12)]);
        return str_val(b);
    }
    switch (irand(4)) {
    case 0:
        return rs_val_int(1);
    case 1:
        return rs_val_bool(true);
    case 2:
        return rs_val_f64(1.0);
    default:
        return rs_val_uint(7);
    }
}

/* An integer value of any integer type holding x (values beyond the type's
 * own range are left as they are: the library reads .i or .u). */
rs_value any_int(int64_t x)
{
    static const rs_type st_types[] = {RS_I8, RS_I16, RS_I32, RS_I64};
    static const rs_type ut_types[] = {RS_U8, RS_U16, RS_U32, RS_U64};
    rs_value v;
    if (x >= 0 && chance(40)) {
        v.type = ut_types[irand(4)];
        v.v.u = (uint64_t)x;
    } else {
        v.type = st_types[irand(4)];
        v.v.i = x;
    }
    return v;
}

double gen_double(void)
{
    static const double ds[] = {0.0,  -0.0,  0.5,     -1.5,   2.0,
                                3.25, 1e300, -1e-300, 1e-310, 100.0,
                                -7.0, 0.1,   255.5,   -2.5,   1.0};
    int r = irand(100);
    if (r < 3) {
        return INFINITY;
    }
    if (r < 5) {
        return -INFINITY;
    }
    if (r < 6) {
        return NAN;
    }
    return ds[irand((int)(sizeof ds / sizeof ds[0]))];
}

/* A value for field f: valid, or (bad) one the field must refuse. */
rs_value gen_value(int f, bool bad)
{
    switch (f) {
    case F_UID:
        return bad ? gen_bad_str(f) : gen_key();
    case F_NAME:
        return bad ? gen_bad_str(f) : gen_name();
    case F_TAG:
        return bad ? gen_bad_str(f) : gen_tag();
    case F_FLAG:
        if (bad) {
            return chance(50) ? rs_val_int(1) : str_val("true");
        }
        return rs_val_bool(chance(50));
    case F_RATIO: {
        if (bad) {
            return chance(50) ? rs_val_bool(false) : str_val("1.5");
        }
        int r = irand(10);
        if (r == 0) {
            return any_int(irand(7) - 3);
        }
        if (r == 1) {
            return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
        }
        if (r == 2) {
            rs_value v = {.type = RS_F32};
            v.v.f = 0.25;
            return v;
        }
        return rs_val_f64(gen_double());
    }
    default:
        break;
    }
    /* The integer fields stat u8, level u16, score i32. */
    int64_t lo = f == F_SCORE ? INT32_MIN : 0;
    int64_t hi = f == F_STAT ? 255 : f == F_LEVEL ? 65535 : INT32_MAX;
    if (bad) {
        switch (irand(7)) {
        case 0:
            return any_int(lo - 1 - irand(3));
        case 1:
            return any_int(hi + 1 + irand(3));
        case 2:
            return rs_val_uint(UINT64_MAX);
        case 3:
            return rs_val_int(INT64_MIN);
        case 4:
            return rs_val_f64(1.0);
        case 5:
            return rs_val_bool(true);
        default:
            return str_val("1");
        }
    }
    switch (irand(8)) {
    case 0:
        return any_int(lo);
    case 1:
        return any_int(hi);
    default:
        return any_int(f == F_SCORE ? irand(9) - 4 : irand(6));
    }
}

/* A comparison operand for field f: often a value some record holds, or a
 * piece of one for a prefix. */
rs_value gen_operand(int f, rs_op op)
{
    if (is_str(f)) {
        if (n_recs > 0 && chance(40)) {
            const mval *v = &recs[irand((int)n_recs)].f[f];
            char *b = new_buf();
            size_t n = v->len;
            if (op == RS_PREFIX || chance(30)) {
                n = (size_t)irand((int)v->len + 1);
            }
            memcpy(b, v->s, n);
            return rs_val_str(b, n);
        }
        rs_value v = gen_value(f, false);
        if (op == RS_PREFIX && v.v.s.len > 0 && chance(60)) {
            v.v.s.len = (size_t)irand((int)v.v.s.len + 1);
        }
        return v;
    }
    int r = irand(10);
    if (r < 2) {
        /* Two draws, in this order on every compiler. */
        int whole = irand(11) - 5;
        return rs_val_f64(whole + (chance(50) ? 0.5 : 0.0));
    }
    if (r < 3) {
        return rs_val_bool(chance(50));
    }
    if (r < 4) {
        return rs_val_f64(gen_double());
    }
    if (r < 5) {
        return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
    }
    if (f == F_RATIO && n_recs > 0 && chance(50)) {
        return rs_val_f64(recs[irand((int)n_recs)].f[f].f);
    }
    return gen_value(f, false);
}

/* Attribute names: a pool of 8 (shapes repeat), now and then a fresh one
 * (shapes multiply, names accumulate), the longest valid one, and invalid
 * ones.  None is a declared field's name. */
const char *const pool_names[8] = {"x",  "guild", "vip",   "hp",
                                   "mp", "_t",    "zone2", "Rank"};
char name_64[RS_MAX_NAME + 1]; /* the longest valid name */
char name_65[RS_MAX_NAME + 2]; /* one byte too long */

const char *gen_bad_attr_name(void)
{
    static const char *const bad[] = {"",     "9lives", "has space",
                                      "tag ", "a-b",    "\xc3\xa9t\xc3\xa9",
                                      "x.y",  "_\x01"};
    return chance(15) ? name_65 : bad[irand(8)];
}

const char *gen_attr_name(void)
{
    int r = irand(100);
    if (r < 82) {
        return pool_names[irand(8)];
    }
    if (r < 91) {
        char *b = new_buf();
        snprintf(b, 96, "f%d", irand(100000));
        return b;
    }
    if (r < 93) {
        return name_64;
    }
    return gen_bad_attr_name();
}

/* A string of 0..40 bytes from a small alphabet (prefixes and equalities
 * hit), ASCII or with a 2-byte character. */
rs_value gen_attr_str(void)
{
    static const char *const starts[] = {"",  "a",    "ab",
                                         "b", "Iron", "\xc3\xa9"};
    static const int lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 12, 16, 20, 31, 40};
    char *b = new_buf();
    size_t want = (size_t)lens[irand((int)(sizeof lens / sizeof lens[0]))];
    const char *s = starts[irand((int)(sizeof starts / sizeof starts[0]))];
    size_t n = strlen(s) <= want ? strlen(s) : 0;
    memcpy(b, s, n);
    while (n < want) {
        b[n++] = "ab"[irand(2)];
    }
    b[n] = '\0';
    return rs_val_str(b, n);
}

/* A value for a dynamic attribute: every kind, mostly valid. */
rs_value gen_attr_value(void)
{
    static const char *const bad_utf8[] = {
        "\xff",     "a\xc0\x80", "\xed\xa0\x80", "ab\xe5", "\xf4\x90\x80\x80",
        "Iron\x80", "\xc3"};
    int r = irand(100);
    if (r < 18) {
        return any_int(irand(201) - 100);
    }
    if (r < 24) {
        static const int64_t big[] = {INT64_MIN, INT64_MIN + 1, -1000000007,
                                      INT64_MAX, 1ll << 40,     -(1ll << 35)};
        return any_int(big[irand(6)]);
    }
    if (r < 30) { /* above INT64_MAX: kept as u64 */
        return rs_val_uint(chance(30) ? UINT64_MAX
                                      : (uint64_t)INT64_MAX + 1 +
                                            (uint64_t)irand(1000));
    }
    if (r < 42) {
        if (chance(20)) {
            rs_value v = {.type = RS_F32};
            v.v.f = 0.25;
            return v;
        }
        return rs_val_f64(gen_double());
    }
    if (r < 52) {
        return rs_val_bool(chance(50));
    }
    if (r < 88) {
        return gen_attr_str();
    }
    if (r < 93) {
        char *b = new_buf();
        snprintf(b, 96, "%s", bad_utf8[irand(7)]);
        return str_val(b);
    }
    if (r < 97) { /* long, valid: past the 128-byte arena classes */
        size_t len = chance(15) ? ATTR_STR_MAX : 41 + (size_t)irand(260);
        return rs_val_str(long_buf, len);
    }
    if (r < 98) { /* too long */
        return rs_val_str(long_buf, ATTR_STR_MAX + 1 + (size_t)irand(4));
    }
    switch (irand(3)) {
    case 0:
        return rs_val_str(NULL, 0); /* NULL with length 0 is "" */
    case 1:
        return rs_val_str(NULL, 3); /* RS_EINVAL */
    default: {
        rs_value v = rs_val_int(1);
        v.type = (rs_type)(RS_TYPE__COUNT + irand(3)); /* RS_EINVAL */
        return v;
    }
    }
}

/* A record's attribute value as an rs_value (bytes in the model). */
rs_value mattr_value(const mattr *a)
{
    switch (a->type) {
    case RS_I64:
        return rs_val_int(a->i);
    case RS_U64:
        return rs_val_uint(a->u);
    case RS_F64:
        return rs_val_f64(a->f);
    case RS_BOOL:
        return rs_val_bool(a->b);
    default: {
        if (a->len > ASHORT) {
            return rs_val_str(long_buf, a->len);
        }
        char *b = new_buf();
        memcpy(b, a->s, a->len);
        return rs_val_str(b, a->len);
    }
    }
}

/* A comparison operand for a dynamic attribute: often a value some
 * record holds, or a piece of one for a prefix. */
rs_value gen_attr_operand(uint32_t name, rs_op op)
{
    if (n_recs > 0 && chance(50)) {
        const mrec *r = &recs[irand((int)n_recs)];
        long k = m_attr_find(r, name);
        if (k >= 0) {
            rs_value v = mattr_value(&r->a[k]);
            if (v.type == RS_STR && (op == RS_PREFIX || chance(20))) {
                v.v.s.len = (size_t)irand((int)v.v.s.len + 1);
            }
            if (op != RS_PREFIX || v.type == RS_STR) {
                return v;
            }
        }
    }
    if (op == RS_PREFIX) {
        return gen_attr_str();
    }
    int r = irand(10);
    if (r < 3) {
        return gen_attr_str();
    }
    if (r < 5) {
        /* Two draws, in this order on every compiler. */
        int whole = irand(11) - 5;
        return rs_val_f64(whole + (chance(50) ? 0.5 : 0.0));
    }
    if (r < 6) {
        return rs_val_bool(chance(50));
    }
    if (r < 7) {
        return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
    }
    return any_int(irand(21) - 10);
}

/* n conditions, valid unless bad (then exactly one is wrong); some on
 * dynamic attributes. */
size_t gen_conds(rs_cond *c, bool bad, rs_field (*attr_id)(const char *name))
{
    size_t n = (size_t)irand(4) + (bad ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        if (chance(30)) {
            /* rs_attr_id() interns: the id stays valid for the scan. */
            const char *name =
                chance(90) ? pool_names[irand(8)] : gen_attr_name();
            rs_field f = m_name_ok(name) ? attr_id(name) : -1;
            if (f >= RS_ATTR_BASE) {
                rs_op op = (rs_op)irand(7);
                c[i].field = f;
                c[i].op = op;
                c[i].val = gen_attr_operand((uint32_t)(f - RS_ATTR_BASE), op);
                continue;
            }
        }
        int f = irand(NF);
        rs_op op = (rs_op)irand(is_str(f) ? 7 : 6);
        if (is_str(f) && chance(25)) {
            op = RS_PREFIX;
        }
        c[i].field = f;
        c[i].op = op;
        c[i].val = gen_operand(f, op);
    }
    if (bad) {
        size_t i = (size_t)irand((int)n);
        switch (irand(7)) {
        case 0:
            c[i].field = chance(50) ? -1 : NF + irand(3);
            break;
        case 1:
            c[i].op = (rs_op)(7 + irand(3));
            break;
        case 2: /* PREFIX on a number */
            c[i].field = F_STAT + irand(5);
            c[i].op = RS_PREFIX;
            c[i].val = str_val("1");
            break;
        case 3: /* a string against a number */
            c[i].field = F_STAT + irand(5);
            c[i].val = str_val("3");
            break;
        case 4: /* a number past the interned attributes */
            c[i].field = RS_ATTR_BASE + (rs_field)m_n_names + irand(3);
            break;
        case 5: { /* PREFIX with a number on an attribute */
            rs_field f = attr_id(pool_names[irand(8)]);
            c[i].field = f;
            c[i].op = RS_PREFIX;
            c[i].val = chance(50) ? rs_val_int(1) : rs_val_bool(true);
            break;
        }
        default: /* a number against a string */
            c[i].field = chance(50) ? F_NAME : F_TAG;
            c[i].op = RS_EQ;
            c[i].val = rs_val_int(3);
            break;
        }
    }
    return n;
}

/* A handle that names no live record: a removed one, or a made-up one. */
rs_handle gen_dead_handle(void)
{
    if (n_stale > 0 && chance(80)) {
        return stale[irand(n_stale)];
    }
    switch (irand(5)) {
    case 0:
        return RS_NULL_HANDLE;
    case 1:
        return (rs_handle)3 << 48 | (rs_handle)1 << 32; /* no class 3 */
    case 2:
        return (rs_handle)1 << 48 | (rs_handle)1 << 32 | 0x01ffffffu;
    case 3:
        return (rs_handle)1 << 48 | (rs_handle)2 << 32; /* even: free */
    default:
        return n_recs ? recs[irand((int)n_recs)].h & 0xFFFFFFFFFFFFull
                      : RS_NULL_HANDLE; /* a live one, class bits cut */
    }
}

/* A live record, of class c most of the time (some tries), or -1. */
long pick_in(int c)
{
    for (int t = 0; t < 16 && n_recs > 0; t++) {
        long i = irand((int)n_recs);
        if (recs[i].c == c) {
            return i;
        }
    }
    return -1;
}

/* A live record for an attribute operation: mostly of Player. */
long pick_for_attrs(void)
{
    long i = pick_in(chance(85) ? C_DYN : C_SLOTS);
    return i >= 0 || n_recs == 0 ? i : irand((int)n_recs);
}

void gen_scribble(const char *p)
{
    for (int b = 0; b < N_BUFS; b++) {
        if (p >= bufs[b] && p < bufs[b] + sizeof bufs[b]) {
            memset(bufs[b], '#', sizeof bufs[b]);
        }
    }
}

void gen_init(void)
{
    memset(name_64, 'n', RS_MAX_NAME);
    memcpy(name_64, "longest_", 8);
    name_64[RS_MAX_NAME] = '\0';
    memset(name_65, 'n', RS_MAX_NAME + 1);
    memcpy(name_65, "too_long_", 9);
    name_65[RS_MAX_NAME + 1] = '\0';
    buf_next = 0;
}
