/*
 * scan.c: filtered scans over a class, open (rs_scan) or in resumable
 * batches (rs_scan_batch).
 *
 * A scan walks the class's rows in slot order.  Rows never move and a
 * class's slot count (its high-water mark) never shrinks, so a position in
 * that order is a cursor that survives any write: every record present for
 * the whole scan sits in one slot the walk passes exactly once.  The cursor
 * a caller keeps is that position, the next slot to look at (0 starts).
 *
 * Conditions are checked when the scan opens (or the batch call starts),
 * then compiled.  A comparison on a fixed-width numeric field becomes
 * (offset, width, test) on the row bytes:
 *
 *   integer field, integer operand:  (v - lo) <= span, unsigned 64-bit,
 *       v sign-extended for signed fields.  Every = < <= > >= is one
 *       interval [lo, lo + span] of the field's range, != the outside of
 *       [x, x]; an interval that is empty makes the scan match nothing, one
 *       that covers the range drops the condition.  A bool is its byte:
 *       false is [0, 0], true [1, 255], as rs__class_num_get() reads it.
 *   a float on either side:           v op x in double (NaN matches only
 *       !=), as the per-record path compares.
 *
 * The walk evaluates blocks of up to 64 rows of one page (BLOCK), one byte
 * a row: a pass sets it from the live bit (odd generation) and, when a
 * condition names a dynamic attribute, the has-attributes bit; each
 * compiled condition ANDs its test into it in one more pass that reads the
 * field of every row at its stride, with no branch on the data; a multiply
 * packs 8 bytes into 8 bits of the block's mask.  Only the rows left in the
 * mask pay for the rest: conditions on strings and on dynamic attributes
 * (and numeric ones past FAST_MAX), each read as an rs_value and tested by
 * test(), the reference semantics:
 *
 *   Numbers compare by value across types: integers as 128-bit, anything
 *   with a float as double (NaN matches only !=).  Strings compare
 *   bytewise, then by length.  A dynamic attribute's value of the other
 *   kind (a string against a number) or an unbound one never matches.
 *
 * rs_scan_next() keeps the mask of its current block between calls.  The
 * caller may write between calls, so a candidate left from an earlier call
 * is checked again in full (live bit, compiled conditions, the rest) before
 * it is returned; one found in the block just evaluated is not.
 *
 * Cost (x86-64, gcc -O2): per row, about 5 instructions for the live pass
 * and 7 a compiled integer condition; per record returned by
 * rs_scan_next(), about 30 instructions and 15 a condition for the call and
 * the recheck; per candidate, the string and attribute conditions.  The
 * canonical scan (stat = 1 and level >= 50) takes about 55 instructions a
 * record where 70% match (296 with a value read a condition).  A full scan
 * is O(slots); rs_scan_batch() visits at most `budget` slots, so its pause
 * is bounded by the caller.  No allocation but the rs_scan itself (its
 * conditions, their string operands and the compiled form, in one block
 * counted as meta).
 */
#include "attrs.h"
#include "store.h"

#include <inttypes.h>

/* Rows evaluated at a time: one bit each in a 64-bit mask.  Blocks never
 * cross a page (pages hold at least 16 rows, 4 in test builds). */
#define BLOCK 64u
/* Numeric conditions compiled for the block path; any past these take the
 * per-record path, which gives the same answer more slowly. */
#define FAST_MAX 16
/* Conditions a scan takes (the compiled form numbers them in 16 bits). */
#define MAX_CONDS 1024

/* Keeps the rare paths out of rs_scan_next()'s frame, so that the common
 * case saves few registers. */
#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* How a compiled condition reads its field. */
enum {
    LD_U8,
    LD_U16,
    LD_U32,
    LD_U64,
    LD_I8,
    LD_I16,
    LD_I32,
    LD_I64,
    LD_F32,
    LD_F64
};

/* How it tests the value: integers against an interval, the rest as
 * doubles against x. */
enum { T_IN, T_OUT, T_FEQ, T_FNE, T_FLT, T_FLE, T_FGT, T_FGE };

typedef struct fcond {
    uint32_t off; /* the field's byte offset in the row */
    uint8_t ld;   /* LD_* (a bool reads as LD_U8) */
    uint8_t test; /* T_* */
    /* One record at a time, an integer field is read without a switch:
     * the 8 bytes at win (inside the row, covering the field), shifted
     * left by shl and right by shr, then sign-extended by
     * (v ^ sign) - sign (sign 0 for unsigned fields). */
    uint8_t shl, shr;
    uint8_t flip; /* T_OUT */
    uint32_t win;
    uint64_t sign;
    uint64_t lo;   /* T_IN: match when v - lo <= span (mod 2^64) */
    uint64_t span; /* T_OUT: when not */
    double x;      /* float tests: v op x */
} fcond;

typedef struct plan {
    const rs_cond *conds; /* the checked conditions (the scan's copies) */
    const uint16_t *slow; /* which of them the per-record path tests */
    uint32_t n_fast, n_slow;
    bool never;  /* some condition holds for no value of its field */
    bool narrow; /* rows under 8 bytes: fast_row() reads by width */
    /* Every condition compiled to an integer test and rows of 8 bytes or
     * more: rs_scan_next()'s short path rechecks a candidate. */
    bool simple;
    bool attrs; /* some condition names a dynamic attribute */
    fcond fast[FAST_MAX];
} plan;

struct rs_scan {
    rs_store *st;
    rs_class *cls;
    /* Slots below pos are done with (returned or passed over); rows
     * [base, end) were evaluated as one block, whose candidates past pos
     * are the bits of mask (slot base + bit).  With mask 0, pos == end. */
    uint32_t pos, base, end;
    uint64_t mask;
    const uint8_t *row0; /* the row of slot base (pages never move) */
    rs_scan *prev_open;  /* the store's list of open scans */
    rs_scan *next_open;
    size_t alloc_len;
    plan pl;
    size_t n_conds;
    rs_cond conds[]; /* then uint16_t slow[n_conds], then string operands */
};

/* ------------------------------------------------------------------------ */
/* The reference test of one value                                           */
/* ------------------------------------------------------------------------ */

static bool is_int(rs_type t)
{
    return t != RS_STR && t != RS_F32 && t != RS_F64;
}

static __int128 as_i128(const rs_value *v)
{
    if (v->type == RS_BOOL) {
        return v->v.b;
    }
    return rs__class_type_signed(v->type) ? (__int128)v->v.i : (__int128)v->v.u;
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

/* ------------------------------------------------------------------------ */
/* Checking and compiling conditions                                         */
/* ------------------------------------------------------------------------ */

static rs_status check_cond(rs_store *st, const rs_class *cls, const rs_cond *c)
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
        return rs__err(st, RS_EINVAL,
                       "%s: scan on field number %d, which "
                       "does not exist",
                       sch->name, c->field);
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

/* Check the arguments every scan call shares and every condition. */
static rs_status check_all(rs_store *st, const rs_class *cls,
                           const rs_cond *conds, size_t n_conds, const char *fn)
{
    if (cls == NULL) {
        return rs__err(st, RS_EINVAL, "%s: the class is NULL", fn);
    }
    if (cls->st != st) {
        return rs__err(st, RS_EINVAL,
                       "%s: class '%s' belongs to another "
                       "store",
                       fn, cls->sch.name);
    }
    if (conds == NULL && n_conds > 0) {
        return rs__err(st, RS_EINVAL, "%s: conds is NULL but n_conds is %zu",
                       fn, n_conds);
    }
    if (n_conds > MAX_CONDS) {
        return rs__err(st, RS_EINVAL, "%s: %zu scan conditions, at most %d",
                       cls->sch.name, n_conds, MAX_CONDS);
    }
    for (size_t i = 0; i < n_conds; i++) {
        rs_status rc = check_cond(st, cls, &conds[i]);
        if (rc != RS_OK) {
            return rc;
        }
    }
    return RS_OK;
}

static uint8_t load_of(rs_type t)
{
    switch (t) {
    case RS_I8:
        return LD_I8;
    case RS_I16:
        return LD_I16;
    case RS_I32:
        return LD_I32;
    case RS_I64:
        return LD_I64;
    case RS_BOOL:
    case RS_U8:
        return LD_U8;
    case RS_U16:
        return LD_U16;
    case RS_U32:
        return LD_U32;
    case RS_U64:
        return LD_U64;
    case RS_F32:
        return LD_F32;
    default:
        return LD_F64;
    }
}

/* The values an integer field of type t holds. */
static void int_range(rs_type t, __int128 *lo, __int128 *hi)
{
    unsigned bits = 8 * rs__class_type_width(t);
    if (t == RS_BOOL) {
        *lo = 0;
        *hi = 1;
    } else if (rs__class_type_signed(t)) {
        *hi = ((__int128)1 << (bits - 1)) - 1;
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = ((__int128)1 << bits) - 1;
    }
}

/* Compile checked condition cd on numeric field fd into *fc.  Returns 0,
 * 1 when it holds for every value the field can take (drop it), or -1
 * when for none (the scan matches nothing). */
static int compile(const rs__field *fd, const rs_cond *cd, fcond *fc)
{
    memset(fc, 0, sizeof *fc);
    fc->off = fd->off;
    fc->ld = load_of(fd->type);
    if (!is_int(fd->type) || !is_int(cd->val.type)) {
        static const uint8_t ftest[] = {
            [RS_EQ] = T_FEQ, [RS_NE] = T_FNE, [RS_LT] = T_FLT,
            [RS_LE] = T_FLE, [RS_GT] = T_FGT, [RS_GE] = T_FGE,
        };
        fc->test = ftest[cd->op];
        fc->x = as_f64(&cd->val);
        if (fc->x != fc->x) {
            return cd->op == RS_NE ? 1 : -1;
        }
        return 0;
    }
    uint32_t w = fd->width, bits = 8 * w;
    fc->win = fd->off + w >= 8 ? fd->off + w - 8 : 0;
    fc->shl = (uint8_t)(64 - 8 * (fd->off + w - fc->win));
    fc->shr = (uint8_t)(64 - bits);
    if (rs__class_type_signed(fd->type)) {
        fc->sign = (uint64_t)1 << (bits - 1);
    }
    __int128 lo, hi, x = as_i128(&cd->val);
    int_range(fd->type, &lo, &hi);
    __int128 a = lo, b = hi;
    fc->test = T_IN;
    switch (cd->op) {
    case RS_EQ:
        a = b = x;
        break;
    case RS_NE:
        if (x < lo || x > hi) {
            return 1;
        }
        a = b = x;
        fc->test = T_OUT;
        break;
    case RS_LT:
        b = x - 1;
        break;
    case RS_LE:
        b = x;
        break;
    case RS_GT:
        a = x + 1;
        break;
    default: /* RS_GE */
        a = x;
        break;
    }
    a = a > lo ? a : lo;
    b = b < hi ? b : hi;
    if (a > b) {
        return -1;
    }
    if (a == lo && b == hi && fc->test == T_IN) {
        return 1;
    }
    if (fd->type == RS_BOOL) {
        /* The set of {false, true} left is one value: false is a zero
         * byte, true any other (as rs__class_num_get() reads it). */
        bool want_true = fc->test == T_OUT ? a == 0 : a == 1;
        fc->test = T_IN;
        a = want_true ? 1 : 0;
        b = want_true ? 255 : 0;
    }
    fc->flip = fc->test == T_OUT;
    fc->lo = (uint64_t)a; /* mod 2^64, as a signed field's v is */
    fc->span = (uint64_t)(b - a);
    return 0;
}

/* Compile conds (checked) into *pl: numeric fields on the block path, up
 * to FAST_MAX of them, the rest listed in slow (room for n_conds). */
static void plan_build(const rs_class *cls, const rs_cond *conds,
                       size_t n_conds, uint16_t *slow, plan *pl)
{
    pl->conds = conds;
    pl->slow = slow;
    pl->n_fast = pl->n_slow = 0;
    pl->never = pl->attrs = false;
    pl->narrow = cls->row_len < 8;
    for (size_t i = 0; i < n_conds; i++) {
        const rs_cond *cd = &conds[i];
        if (cd->field >= RS_ATTR_BASE) {
            pl->attrs = true;
        } else if (cls->sch.fields[cd->field].type != RS_STR &&
                   pl->n_fast < FAST_MAX) {
            int r =
                compile(&cls->sch.fields[cd->field], cd, &pl->fast[pl->n_fast]);
            if (r < 0) {
                pl->never = true;
            }
            if (r == 0) {
                pl->n_fast++;
            }
            continue;
        }
        slow[pl->n_slow++] = (uint16_t)i;
    }
    pl->simple = !pl->narrow && pl->n_slow == 0 && !pl->never;
    for (uint32_t k = 0; k < pl->n_fast; k++) {
        pl->simple = pl->simple && pl->fast[k].test <= T_OUT;
    }
}

/* ------------------------------------------------------------------------ */
/* Evaluating rows                                                           */
/* ------------------------------------------------------------------------ */

/* Little-endian loads at any alignment; compilers make each one move. */
static RS_ALWAYS_INLINE uint64_t ld16(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8;
}

static RS_ALWAYS_INLINE uint64_t ld32(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24;
}

static RS_ALWAYS_INLINE uint64_t ld64(const uint8_t *p)
{
    return ld32(p) | ld32(p + 4) << 32;
}

/* Sign-extend the low `bits` bits of u, in 64-bit two's complement. */
static RS_ALWAYS_INLINE uint64_t sx(uint64_t u, unsigned bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    return (u ^ m) - m;
}

static RS_ALWAYS_INLINE uint64_t load_int(unsigned ld, const uint8_t *p)
{
    switch (ld) {
    case LD_U8:
        return p[0];
    case LD_U16:
        return ld16(p);
    case LD_U32:
        return ld32(p);
    case LD_U64:
        return ld64(p);
    case LD_I8:
        return sx(p[0], 8);
    case LD_I16:
        return sx(ld16(p), 16);
    case LD_I32:
        return sx(ld32(p), 32);
    default: /* LD_I64 */
        return ld64(p);
    }
}

static double load_f64(unsigned ld, const uint8_t *p)
{
    if (ld == LD_F32) {
        uint32_t b = (uint32_t)ld32(p);
        float f;
        memcpy(&f, &b, sizeof f);
        return (double)f;
    }
    if (ld == LD_F64) {
        uint64_t b = ld64(p);
        double d;
        memcpy(&d, &b, sizeof d);
        return d;
    }
    uint64_t u = load_int(ld, p);
    if (ld >= LD_I8 && ld <= LD_I64) {
        /* The int64_t u stands for, without an implementation-defined
         * conversion. */
        return u >> 63 ? -(double)(~u) - 1.0 : (double)u;
    }
    return (double)u;
}

static RS_ALWAYS_INLINE bool ftest(unsigned t, double v, double x)
{
    switch (t) {
    case T_FEQ:
        return v == x;
    case T_FNE:
        return v != x;
    case T_FLT:
        return v < x;
    case T_FLE:
        return v <= x;
    case T_FGT:
        return v > x;
    default:
        return v >= x;
    }
}

/* One compiled condition on one row. */
static RS_ALWAYS_INLINE bool fast_row(const fcond *fc, bool narrow,
                                      const uint8_t *row)
{
    if (RS_LIKELY(fc->test <= T_OUT)) {
        uint64_t v;
        if (RS_LIKELY(!narrow)) {
            v = (ld64(row + fc->win) << fc->shl) >> fc->shr;
            v = (v ^ fc->sign) - fc->sign;
        } else {
            v = load_int(fc->ld, row + fc->off);
        }
        return (v - fc->lo <= fc->span) != (fc->test == T_OUT);
    }
    return ftest(fc->test, load_f64(fc->ld, row + fc->off), fc->x);
}

/* The block path works on one byte a row, ok[i] for row i of the n rows
 * at row (stride bytes apart): each pass ANDs one test into it, without a
 * branch on the data, and the bytes are packed into a mask at the end
 * (8 rows a multiply).  A pass costs about 6 instructions a row. */
#if defined(__GNUC__) || defined(__clang__)
#define UNROLL4 _Pragma("GCC unroll 4")
#else
#define UNROLL4
#endif

#define INT_PASS(LOAD, OP)                                                     \
    UNROLL4                                                                    \
    for (unsigned i = 0; i < n; i++) {                                         \
        const uint8_t *p = f + (size_t)i * stride;                             \
        ok[i] &= (uint8_t)((uint64_t)(LOAD)-lo OP span);                       \
    }                                                                          \
    break

#define INT_PASSES(OP)                                                         \
    switch (fc->ld) {                                                          \
    case LD_U8:                                                                \
        INT_PASS(p[0], OP);                                                    \
    case LD_U16:                                                               \
        INT_PASS(ld16(p), OP);                                                 \
    case LD_U32:                                                               \
        INT_PASS(ld32(p), OP);                                                 \
    case LD_U64:                                                               \
    case LD_I64:                                                               \
        INT_PASS(ld64(p), OP);                                                 \
    case LD_I8:                                                                \
        INT_PASS(sx(p[0], 8), OP);                                             \
    case LD_I16:                                                               \
        INT_PASS(sx(ld16(p), 16), OP);                                         \
    default: /* LD_I32 */                                                      \
        INT_PASS(sx(ld32(p), 32), OP);                                         \
    }

static void int_pass(const fcond *fc, const uint8_t *row, size_t stride,
                     unsigned n, uint8_t *ok)
{
    const uint8_t *f = row + fc->off;
    uint64_t lo = fc->lo, span = fc->span;
    if (fc->flip) {
        INT_PASSES(>)
    } else {
        INT_PASSES(<=)
    }
}

#define FLOAT_PASS(OP)                                                         \
    for (unsigned i = 0; i < n; i++) {                                         \
        ok[i] &= (uint8_t)(v[i] OP x);                                         \
    }                                                                          \
    break

/* The same for a comparison in double: the values first, then the test. */
static void float_pass(const fcond *fc, const uint8_t *row, size_t stride,
                       unsigned n, uint8_t *ok)
{
    double v[BLOCK];
    const uint8_t *p = row + fc->off;
    for (unsigned i = 0; i < n; i++, p += stride) {
        v[i] = load_f64(fc->ld, p);
    }
    double x = fc->x;
    switch (fc->test) {
    case T_FEQ:
        FLOAT_PASS(==);
    case T_FNE:
        FLOAT_PASS(!=);
    case T_FLT:
        FLOAT_PASS(<);
    case T_FLE:
        FLOAT_PASS(<=);
    case T_FGT:
        FLOAT_PASS(>);
    default:
        FLOAT_PASS(>=);
    }
}

/* The candidates among the n rows at row: live, with attributes if a
 * condition needs one, and passing every compiled condition; bit i for
 * row i. */
static uint64_t block_mask(const plan *pl, const uint8_t *row, size_t stride,
                           unsigned n)
{
    uint8_t ok[BLOCK];
    /* The live bit, and the has-attributes bit when it matters. */
    unsigned need = pl->attrs ? RS_ROW_HAS_ATTRS | 1u : 1u;
    UNROLL4
    for (unsigned i = 0; i < n; i++) {
        ok[i] = (rs__row_word(row + (size_t)i * stride) & need) == need;
    }
    for (unsigned i = n; i < BLOCK && (i & 7) != 0; i++) {
        ok[i] = 0;
    }
    for (uint32_t k = 0; k < pl->n_fast; k++) {
        const fcond *fc = &pl->fast[k];
        if (fc->test <= T_OUT) {
            int_pass(fc, row, stride, n, ok);
        } else {
            float_pass(fc, row, stride, n, ok);
        }
    }
    uint64_t m = 0;
    UNROLL4
    for (unsigned i = 0; i < n; i += 8) {
        m |= (ld64(ok + i) * 0x0102040810204080u) >> 56 << i;
    }
    return m;
}

/* The conditions the block path left to the record at slot. */
static NOINLINE bool slow_ok(rs_store *st, const rs_class *c, const plan *pl,
                             uint32_t slot, const uint8_t *row)
{
    for (uint32_t k = 0; k < pl->n_slow; k++) {
        const rs_cond *cd = &pl->conds[pl->slow[k]];
        rs_value v;
        char buf[RS_KEY_TMP];
        if (cd->field < RS_ATTR_BASE) {
            v = rs__row_value(c, row, cd->field, buf);
        } else if (rs__attrs_get(st, c, slot,
                                 (uint32_t)(cd->field - RS_ATTR_BASE),
                                 &v) != RS_OK) {
            return false; /* a record without the attribute does not match */
        }
        if (!test(cd, &v)) {
            return false;
        }
    }
    return true;
}

/* Every condition on the record at slot, now. */
static bool full_ok(rs_store *st, const rs_class *c, const plan *pl,
                    uint32_t slot, const uint8_t *row)
{
    if (!rs__row_live(row)) {
        return false;
    }
    for (uint32_t k = 0; k < pl->n_fast; k++) {
        if (!fast_row(&pl->fast[k], pl->narrow, row)) {
            return false;
        }
    }
    return slow_ok(st, c, pl, slot, row);
}

/* Rows from slot to evaluate at once: at most BLOCK and left, within one
 * page. */
static unsigned block_len(const rs_class *c, uint32_t slot, uint32_t left)
{
    uint32_t page_rows = 1u << c->page_shift;
    uint32_t n = page_rows - (slot & (page_rows - 1));
    n = n < left ? n : left;
    return n < BLOCK ? (unsigned)n : BLOCK;
}

static unsigned lowest_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned k = 0;
    while (!(m & 1u)) {
        m >>= 1;
        k++;
    }
    return k;
#endif
}

static rs_handle handle_at(const rs_class *c, uint32_t slot, const uint8_t *row)
{
    return (rs_handle)slot | (rs_handle)rs__row_gen(row) << 32 |
           (rs_handle)c->id << 48;
}

/* Whether cursor names a position in cls; else an RS_EINVAL message. */
static rs_status check_cursor(rs_store *st, const rs_class *cls,
                              uint64_t cursor, const char *fn)
{
    if (cursor > cls->n_slots) {
        return rs__err(st, RS_EINVAL,
                       "%s: cursor %" PRIu64 " is past the "
                       "%u slots of '%s': not a cursor of this class",
                       fn, cursor, cls->n_slots, cls->sch.name);
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Open scans                                                                */
/* ------------------------------------------------------------------------ */

static void scans_close(rs_store *st);

rs_status rs_scan_open(rs_store *st, rs_class *cls, const rs_cond *conds,
                       size_t n_conds, rs_scan **out)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_scan_open: out is NULL");
    }
    rs_status rc = check_all(st, cls, conds, n_conds, "rs_scan_open");
    if (rc != RS_OK) {
        return rc;
    }
    size_t len = sizeof(rs_scan) + n_conds * (sizeof(rs_cond) + 2);
    for (size_t i = 0; i < n_conds; i++) {
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
    uint16_t *slow = (uint16_t *)(void *)&sc->conds[n_conds];
    char *text = (char *)&slow[n_conds];
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
    plan_build(cls, sc->conds, n_conds, slow, &sc->pl);
    st->scans_close = scans_close;
    sc->next_open = st->scans;
    if (st->scans) {
        st->scans->prev_open = sc;
    }
    st->scans = sc;
    *out = sc;
    return RS_OK;
}

/* The rest of rs_scan_next(): candidates left in the mask, then new
 * blocks until one holds a match. */
static NOINLINE rs_status next_slow(rs_scan *sc, rs_handle *out)
{
    rs_store *st = sc->st;
    const rs_class *c = sc->cls;
    const plan *pl = &sc->pl;
    while (sc->mask != 0) {
        uint32_t slot = sc->base + lowest_bit(sc->mask);
        sc->mask &= sc->mask - 1;
        sc->pos = sc->mask != 0 ? slot + 1 : sc->end;
        const uint8_t *row = rs__row(c, slot);
        if (full_ok(st, c, pl, slot, row)) {
            *out = handle_at(c, slot, row);
            return RS_OK;
        }
    }
    uint32_t n_slots = c->n_slots;
    if (pl->never) {
        sc->pos = sc->end = n_slots;
    }
    while (sc->end < n_slots) {
        uint32_t base = sc->end;
        unsigned n = block_len(c, base, n_slots - base);
        const uint8_t *row0 = rs__row(c, base);
        uint64_t m = block_mask(pl, row0, c->row_len, n);
        sc->pos = sc->end = base + n;
        while (m != 0) {
            unsigned k = lowest_bit(m);
            m &= m - 1;
            uint32_t slot = base + k;
            const uint8_t *row = row0 + (size_t)k * c->row_len;
            /* Found in this call: nothing was written since. */
            if (pl->n_slow == 0 || slow_ok(st, c, pl, slot, row)) {
                sc->base = base;
                sc->row0 = row0;
                sc->mask = m;
                if (m != 0) {
                    sc->pos = slot + 1;
                }
                *out = handle_at(c, slot, row);
                return RS_OK;
            }
        }
    }
    return RS_DONE;
}

rs_status rs_scan_next(rs_scan *sc, rs_handle *out)
{
    if (RS_UNLIKELY(sc == NULL)) {
        return RS_EINVAL;
    }
    if (RS_UNLIKELY(out == NULL)) {
        return rs__err(sc->st, RS_EINVAL, "rs_scan_next: out is NULL");
    }
    sc->st->err[0] = '\0'; /* rs__clear_err(), without a call a record */
    /* The common case: the next candidate of the current block, left by an
     * earlier call, in a scan whose conditions are all compiled integer
     * tests.  The caller may have written since, so it is tested again:
     * about 10 instructions a condition, without a branch on the data. */
    uint64_t m = sc->mask;
    const plan *pl = &sc->pl;
    if (RS_LIKELY(m != 0 && pl->simple)) {
        const rs_class *c = sc->cls;
        unsigned k0 = lowest_bit(m);
        uint32_t slot = sc->base + k0;
        m &= m - 1;
        sc->mask = m;
        sc->pos = m != 0 ? slot + 1 : sc->end;
        const uint8_t *row = sc->row0 + (size_t)k0 * c->row_len;
        uint64_t ok = rs__row_word(row) & 1u;
        for (uint32_t k = 0; k < pl->n_fast; k++) {
            const fcond *fc = &pl->fast[k];
            uint64_t v = (ld64(row + fc->win) << fc->shl) >> fc->shr;
            v = (v ^ fc->sign) - fc->sign;
            ok &= (uint64_t)(v - fc->lo <= fc->span) ^ fc->flip;
        }
        if (ok) {
            *out = handle_at(c, slot, row);
            return RS_OK;
        }
    }
    return next_slow(sc, out);
}

uint64_t rs_scan_cursor(const rs_scan *sc)
{
    return sc ? sc->pos : 0;
}

rs_status rs_scan_resume(rs_scan *sc, uint64_t cursor)
{
    if (sc == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(sc->st);
    rs_status rc = check_cursor(sc->st, sc->cls, cursor, "rs_scan_resume");
    if (rc != RS_OK) {
        return rc;
    }
    sc->pos = sc->end = (uint32_t)cursor;
    sc->mask = 0;
    return RS_OK;
}

/* rs_store_close() closes the scans still open through st->scans_close,
 * so that the store need not know what a scan is. */
static void scans_close(rs_store *st)
{
    while (st->scans) {
        rs_scan_close(st->scans);
    }
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

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */
/* ------------------------------------------------------------------------ */

rs_status rs_scan_batch(rs_store *st, rs_class *cls, const rs_cond *conds,
                        size_t n_conds, uint64_t cursor, size_t budget,
                        rs_handle *out, size_t cap, size_t *n_out,
                        uint64_t *next)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (out == NULL || n_out == NULL || next == NULL) {
        return rs__err(st, RS_EINVAL, "rs_scan_batch: %s is NULL",
                       out == NULL     ? "out"
                       : n_out == NULL ? "n_out"
                                       : "next");
    }
    rs_status rc = check_all(st, cls, conds, n_conds, "rs_scan_batch");
    if (rc != RS_OK) {
        return rc;
    }
    if (cap == 0 || budget == 0) {
        return rs__err(st, RS_EINVAL, "rs_scan_batch on '%s': %s is 0",
                       cls->sch.name, cap == 0 ? "cap" : "budget");
    }
    rc = check_cursor(st, cls, cursor, "rs_scan_batch");
    if (rc != RS_OK) {
        return rc;
    }
    uint16_t slow[MAX_CONDS];
    plan pl;
    plan_build(cls, conds, n_conds, slow, &pl);
    uint32_t pos = (uint32_t)cursor, n_slots = cls->n_slots;
    uint32_t end = budget < n_slots - pos ? pos + (uint32_t)budget : n_slots;
    size_t k = 0;
    if (pl.never) {
        pos = end = n_slots;
    }
    while (pos < end) {
        unsigned n = block_len(cls, pos, end - pos);
        const uint8_t *row0 = rs__row(cls, pos);
        uint64_t m = block_mask(&pl, row0, cls->row_len, n);
        while (m != 0) {
            unsigned b = lowest_bit(m);
            m &= m - 1;
            const uint8_t *row = row0 + (size_t)b * cls->row_len;
            if (pl.n_slow > 0 && !slow_ok(st, cls, &pl, pos + b, row)) {
                continue;
            }
            out[k++] = handle_at(cls, pos + b, row);
            if (k == cap) {
                pos += b;
                n = 1; /* resume after the record that filled out */
                break;
            }
        }
        pos += n;
        if (k == cap) {
            break;
        }
    }
    *n_out = k;
    *next = pos < n_slots ? pos : 0;
    return RS_OK;
}
