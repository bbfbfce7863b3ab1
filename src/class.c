/*
 * class.c: classes -- the schema of a record and the rules every value of a
 * field obeys.  The class text form, rs_class_parse() and
 * rs_class_format(), is classtext.c's; the helpers the two files share
 * (reading numbers, writing floats, quoting for messages, type names as
 * declared) live here and are declared in class.h.
 *
 * A schema (class.h) is built once, when a class is declared, and never
 * changes.  It owns copies of the class name, the field names and the
 * string defaults, all counted as RS_MEM_META.  A row of the class is
 *
 *     +--------+---------+---------+-----+---------+
 *     | gen: 2 | field 0 | field 1 | ... | field n |   row_len >= 6
 *     +--------+---------+---------+-----+---------+
 *
 * with the fields in declaration order and unaligned, each at its width:
 * bool, i8, u8 1; i16, u16 2; i32, u32, f32 4; i64, u64, f64 8; str a
 * cell of RS_STR_CELL(max_len) bytes (strs.h): 8 up to str(16), 16 above,
 * or N + 1 for inline(N).  Numbers are little endian.  There is no
 * padding: the Player of roster.h (uid str(16), name str(32) inline(12),
 * u8, u16) is 2 + 8 + 13 + 1 + 2 = 26 bytes a row.  A row is never narrower than RS_ROW_MIN because a free row keeps
 * the free list's next slot after its generation.
 *
 * Value rules (rs__class_coerce(), applied to defaults here and to every insert
 * and set by the store):
 *   - any integer value fits any integer field if its value is in the
 *     field's range, checked exactly (no value passes through a double);
 *   - integers are accepted by float fields; floats are refused by integer
 *     fields (RS_ETYPE: no silent truncation);
 *   - an f32 field rounds to float; a finite value beyond the float range is
 *     RS_ERANGE, while NaN and infinities are kept;
 *   - bool only from bool, str only from str; a string is at most max_len
 *     bytes of valid UTF-8 (strict: no overlong forms, no surrogates, no
 *     code point above U+10FFFF).  NUL bytes are allowed: strings are
 *     binary-safe.
 *
 * Numbers as text, in rs_value_parse() here and in the defaults of a class
 * text, are read by rs__class_parse_decimal() (exactly, never through a double)
 * and rs__class_parse_double() (strtod() on a bounded NUL-terminated copy);
 * floats are written by rs__class_fmt_float() with snprintf().  strtod() and
 * snprintf() assume the "C" LC_NUMERIC locale (the default of a program
 * that never calls setlocale()).
 *
 * Costs.  A class holds its name, n_fields * sizeof(rs__field) (72 bytes
 * on LP64), each field name and string default plus a NUL, and 4 bytes an
 * index.  Declaring one is O(fields^2) for the duplicate-name check (at
 * most 255^2 / 2 string compares), once.  rs__class_coerce() is O(1) for numbers
 * and O(len) for a string (one UTF-8 pass) and never allocates, nor do
 * rs__class_num_put() and rs__class_num_get() (a byte loop of the field's width) or
 * rs_value_parse().
 */
#include "class.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Types and values                                                          */
/* ------------------------------------------------------------------------ */

static const char *const type_names[RS_TYPE__COUNT] = {
    [RS_BOOL] = "bool", [RS_I8] = "i8",   [RS_I16] = "i16", [RS_I32] = "i32",
    [RS_I64] = "i64",   [RS_U8] = "u8",   [RS_U16] = "u16", [RS_U32] = "u32",
    [RS_U64] = "u64",   [RS_F32] = "f32", [RS_F64] = "f64", [RS_STR] = "str",
};

const char *rs_type_name(rs_type t)
{
    return (unsigned)t < RS_TYPE__COUNT ? type_names[t] : "unknown";
}

static bool type_ok(rs_type t)
{
    return (unsigned)t < RS_TYPE__COUNT;
}

static bool is_float(rs_type t)
{
    return t == RS_F32 || t == RS_F64;
}

/* The range of a signed integer type. */
static void signed_range(rs_type t, int64_t *lo, int64_t *hi)
{
    int bits = 8 << (t - RS_I8);
    if (bits == 64) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
    } else {
        *hi = ((int64_t)1 << (bits - 1)) - 1;
        *lo = -*hi - 1;
    }
}

/* The largest value of an unsigned integer type. */
static uint64_t unsigned_max(rs_type t)
{
    int bits = 8 << (t - RS_U8);
    return bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
}

uint32_t rs__class_type_width(rs_type t)
{
    switch (t) {
    case RS_BOOL:
    case RS_I8:
    case RS_U8:
        return 1;
    case RS_I16:
    case RS_U16:
        return 2;
    case RS_I32:
    case RS_U32:
    case RS_F32:
        return 4;
    case RS_I64:
    case RS_U64:
    case RS_F64:
        return 8;
    case RS_STR:
        /* The narrow cell.  A str field's own width depends on its length,
         * RS_STR_CELL(max_len), which rs__class_schema_init() lays out. */
        return RS_STR_CELL(0);
    default:
        return 0;
    }
}

rs_value rs_val_int(int64_t i)
{
    return (rs_value){.type = RS_I64, .v.i = i};
}

rs_value rs_val_uint(uint64_t u)
{
    return (rs_value){.type = RS_U64, .v.u = u};
}

rs_value rs_val_f64(double f)
{
    return (rs_value){.type = RS_F64, .v.f = f};
}

rs_value rs_val_bool(bool b)
{
    return (rs_value){.type = RS_BOOL, .v.b = b};
}

rs_value rs_val_str(const char *ptr, size_t len)
{
    return (rs_value){.type = RS_STR, .v.s = {ptr, len}};
}

rs_value rs_val_cstr(const char *s)
{
    return rs_val_str(s, s ? strlen(s) : 0);
}

/* The value a field takes when it has no default: 0, false, 0.0 or "". */
static rs_value zero_value(rs_type t)
{
    rs_value v = {.type = t};
    if (t == RS_STR) {
        v.v.s.ptr = "";
    }
    return v;
}

/* Round d to float precision, as a double, into *out; false if d is finite
 * but beyond the float range.  A value less than half an ulp above FLT_MAX
 * rounds to FLT_MAX as IEEE rounding does (so the shortest text of FLT_MAX,
 * "3.4028235e+38", reads back), but it is clamped by hand: converting a
 * double outside the float range to float is undefined in C. */
static bool to_f32(double d, double *out)
{
    static const double limit = 0x1.ffffffp127; /* FLT_MAX + half an ulp */
    if (isnan(d) || isinf(d)) {
        *out = (double)(float)d;
        return true;
    }
    if (d >= limit || d <= -limit) {
        return false;
    }
    if (d > FLT_MAX) {
        *out = FLT_MAX;
    } else if (d < -FLT_MAX) {
        *out = -FLT_MAX;
    } else {
        *out = (double)(float)d;
    }
    return true;
}

int rs__class_parse_decimal(const char *p, size_t len, rs_value *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    if (i == len) {
        return 1;
    }
    for (size_t j = i; j < len; j++) {
        if (p[j] < '0' || p[j] > '9') {
            return 1;
        }
    }
    uint64_t mag = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) {
            return 2;
        }
        mag = mag * 10 + d;
    }
    if (!neg) {
        *out = mag <= INT64_MAX ? rs_val_int((int64_t)mag) : rs_val_uint(mag);
        return 0;
    }
    if (mag > (uint64_t)INT64_MAX + 1) {
        return 2;
    }
    /* -(mag - 1) - 1 stays in range even for mag == 2^63. */
    *out = mag == 0 ? rs_val_int(0) : rs_val_int(-(int64_t)(mag - 1) - 1);
    return 0;
}

/* Tries precisions 1 to 17 in turn: at most 17 snprintf() and strtod()
 * pairs. */
void rs__class_fmt_float(char *buf, size_t buflen, double d, bool f32)
{
    if (isnan(d)) {
        snprintf(buf, buflen, "%s", signbit(d) ? "-nan" : "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, buflen, "%s", d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, buflen, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (f32 && !to_f32(back, &back)) {
            continue;
        }
        if (back == d) {
            return;
        }
    }
    /* %.17g always reads back as d; reached only if strtod() disagrees. */
    snprintf(buf, buflen, "%.17g", d);
}

/* ------------------------------------------------------------------------ */
/* UTF-8, identifiers and message text                                       */
/* ------------------------------------------------------------------------ */

/* The length of the valid UTF-8 sequence at p[0..n), n > 0, or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xbf; /* the bounds of the second byte */
    if (c < 0xc2) {
        return 0; /* a continuation byte, or an overlong 2-byte lead */
    } else if (c < 0xe0) {
        need = 2;
    } else if (c < 0xf0) {
        need = 3;
        if (c == 0xe0) {
            lo = 0xa0; /* overlong */
        } else if (c == 0xed) {
            hi = 0x9f; /* U+D800..U+DFFF, the surrogates */
        }
    } else if (c < 0xf5) {
        need = 4;
        if (c == 0xf0) {
            lo = 0x90; /* overlong */
        } else if (c == 0xf4) {
            hi = 0x8f; /* above U+10FFFF */
        }
    } else {
        return 0;
    }
    if (n < need || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return need;
}

size_t rs__class_utf8_bad(const char *p, size_t len)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < len) {
        /* ASCII eight bytes at a time: most names and ids are ASCII. */
        uint64_t w;
        if (len - i >= 8 &&
            (memcpy(&w, u + i, 8), w & 0x8080808080808080u) == 0) {
            i += 8;
            continue;
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0) {
            return i + 1;
        }
        i += n;
    }
    return 0;
}

int rs__class_is_ident(const char *s, size_t len)
{
    if (s == NULL || len == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

void rs__class_quote(char *buf, size_t buflen, const char *p, size_t len,
                     char q)
{
    const size_t show = RS_SHOW_MAX;
    if (buflen == 0) {
        return;
    }
    const unsigned char *u = (const unsigned char *)p;
    size_t cap = buflen - 1; /* room before the NUL */
    size_t w = 0;
    char piece[8];
    if (cap >= 1) {
        buf[w++] = q;
    }
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        size_t plen;
        if (u[i] == (unsigned char)q || u[i] == '\\') {
            piece[0] = '\\';
            piece[1] = (char)u[i];
            plen = 2;
            n = 1;
        } else if (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)) {
            snprintf(piece, sizeof piece, "\\x%02x", u[i]);
            plen = 4;
        } else if (n == 0) {
            snprintf(piece, sizeof piece, "\\x%02x", u[i]);
            plen = 4;
            n = 1;
        } else {
            memcpy(piece, u + i, n);
            plen = n;
        }
        /* The last piece needs room for the closing quote; any other one
         * also for the "..." a later cut would add. */
        size_t after = i + n == len ? 1 : 4;
        if (i + n > show || w + plen + after > cap) {
            break;
        }
        memcpy(buf + w, piece, plen);
        w += plen;
        i += n;
    }
    if (w < cap) {
        buf[w++] = q;
    }
    for (int k = 0; i < len && k < 3 && w < cap; k++) {
        buf[w++] = '.';
    }
    buf[w] = '\0';
}

void rs__class_fmt_value(char *buf, size_t buflen, const rs_value *v)
{
    if (buflen == 0) {
        return;
    }
    rs_type t = v->type;
    if (t == RS_BOOL) {
        snprintf(buf, buflen, "%s", v->v.b ? "true" : "false");
    } else if (rs__class_type_signed(t)) {
        snprintf(buf, buflen, "%" PRId64, v->v.i);
    } else if (rs__class_type_unsigned(t)) {
        snprintf(buf, buflen, "%" PRIu64, v->v.u);
    } else if (is_float(t)) {
        rs__class_fmt_float(buf, buflen, v->v.f, false);
    } else if (t == RS_STR) {
        if (v->v.s.ptr == NULL) {
            snprintf(buf, buflen, "%s", v->v.s.len ? "(null)" : "\"\"");
        } else {
            rs__class_quote(buf, buflen, v->v.s.ptr, v->v.s.len, '"');
        }
    } else {
        snprintf(buf, buflen, "(value of unknown type %d)", (int)t);
    }
}

void rs__class_type_str(char *buf, size_t buflen, rs_type t, uint32_t max_len)
{
    if (t == RS_STR) {
        snprintf(buf, buflen, "str(%" PRIu32 ")", max_len);
    } else {
        snprintf(buf, buflen, "%s", rs_type_name(t));
    }
}

/* ------------------------------------------------------------------------ */
/* Checking values                                                           */
/* ------------------------------------------------------------------------ */

static rs_status out_of_range(rs_store *st, const rs__schema *sch,
                              const rs__field *fd, const rs_value *val)
{
    char vbuf[64];
    rs__class_fmt_value(vbuf, sizeof vbuf, val);
    return rs__err(st, RS_ERANGE, "%s.%s: %s out of range for %s", sch->name,
                   fd->name, vbuf, rs_type_name(fd->type));
}

static rs_status mismatch(rs_store *st, const rs__schema *sch,
                          const rs__field *fd, rs_type got)
{
    char tbuf[32];
    rs__class_type_str(tbuf, sizeof tbuf, fd->type, fd->max_len);
    return rs__err(st, RS_ETYPE, "%s.%s: expected %s, got %s", sch->name,
                   fd->name, tbuf, rs_type_name(got));
}

rs_status rs__class_coerce(rs_store *st, const rs__schema *sch, rs_field f,
                           const rs_value *val, rs_value *out)
{
    if (f < 0 || (uint32_t)f >= sch->n_fields) {
        return rs__err(st, RS_EINVAL, "class '%s' has no field %d", sch->name,
                       f);
    }
    const rs__field *fd = &sch->fields[f];
    rs_type from = val->type;
    if (!type_ok(from)) {
        return rs__err(st, RS_EINVAL, "%s.%s: value of unknown type %d",
                       sch->name, fd->name, (int)from);
    }
    rs_value v = {.type = fd->type};
    switch (fd->type) {
    case RS_BOOL:
        if (from != RS_BOOL) {
            return mismatch(st, sch, fd, from);
        }
        v.v.b = val->v.b;
        break;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64: {
        int64_t lo, hi;
        signed_range(fd->type, &lo, &hi);
        if (rs__class_type_signed(from)) {
            if (val->v.i < lo || val->v.i > hi) {
                return out_of_range(st, sch, fd, val);
            }
            v.v.i = val->v.i;
        } else if (rs__class_type_unsigned(from)) {
            if (val->v.u > (uint64_t)hi) {
                return out_of_range(st, sch, fd, val);
            }
            v.v.i = (int64_t)val->v.u;
        } else {
            return mismatch(st, sch, fd, from);
        }
        break;
    }
    case RS_U8:
    case RS_U16:
    case RS_U32:
    case RS_U64: {
        uint64_t hi = unsigned_max(fd->type);
        if (rs__class_type_signed(from)) {
            if (val->v.i < 0 || (uint64_t)val->v.i > hi) {
                return out_of_range(st, sch, fd, val);
            }
            v.v.u = (uint64_t)val->v.i;
        } else if (rs__class_type_unsigned(from)) {
            if (val->v.u > hi) {
                return out_of_range(st, sch, fd, val);
            }
            v.v.u = val->v.u;
        } else {
            return mismatch(st, sch, fd, from);
        }
        break;
    }
    case RS_F32:
    case RS_F64: {
        double d;
        if (rs__class_type_signed(from)) {
            d = (double)val->v.i;
        } else if (rs__class_type_unsigned(from)) {
            d = (double)val->v.u;
        } else if (is_float(from)) {
            d = val->v.f;
        } else {
            return mismatch(st, sch, fd, from);
        }
        if (fd->type == RS_F32 && !to_f32(d, &d)) {
            return out_of_range(st, sch, fd, val);
        }
        v.v.f = d;
        break;
    }
    case RS_STR: {
        if (from != RS_STR) {
            return mismatch(st, sch, fd, from);
        }
        const char *p = val->v.s.ptr;
        size_t len = val->v.s.len;
        if (p == NULL && len > 0) {
            return rs__err(st, RS_EINVAL, "%s.%s: NULL string of %zu bytes",
                           sch->name, fd->name, len);
        }
        if (len > fd->max_len) {
            return rs__err(st, RS_ETOOLONG,
                           "%s.%s: %zu bytes exceeds str(%" PRIu32 ")",
                           sch->name, fd->name, len, fd->max_len);
        }
        size_t bad = rs__class_utf8_bad(p, len);
        if (bad != 0) {
            return rs__err(st, RS_EUTF8, "%s.%s: invalid UTF-8 at byte %zu",
                           sch->name, fd->name, bad - 1);
        }
        v.v.s.ptr = p ? p : "";
        v.v.s.len = len;
        break;
    }
    default:
        /* rs__class_schema_init() let no such field in. */
        RS_ASSERT(type_ok(fd->type));
        return rs__err(st, RS_ECORRUPT, "%s.%s: field of unknown type %d",
                       sch->name, fd->name, (int)fd->type);
    }
    *out = v;
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Numbers in rows                                                           */
/* ------------------------------------------------------------------------ */

void rs__class_num_put(uint8_t *p, rs_type t, const rs_value *v)
{
    RS_ASSERT(t != RS_STR && type_ok(t));
    uint64_t bits;
    if (t == RS_BOOL) {
        bits = v->v.b ? 1 : 0;
    } else if (rs__class_type_signed(t)) {
        bits = (uint64_t)v->v.i; /* two's complement, modulo 2^64 */
    } else if (rs__class_type_unsigned(t)) {
        bits = v->v.u;
    } else if (t == RS_F32) {
        float f = (float)v->v.f; /* normalized: in range, NaN or inf */
        uint32_t b32;
        memcpy(&b32, &f, sizeof b32);
        bits = b32;
    } else if (t == RS_F64) {
        memcpy(&bits, &v->v.f, sizeof bits);
    } else {
        return;
    }
    uint32_t w = rs__class_type_width(t);
    for (uint32_t i = 0; i < w; i++) {
        p[i] = (uint8_t)(bits >> (8 * i));
    }
}

rs_value rs__class_num_get(const uint8_t *p, rs_type t)
{
    rs_value v;
    rs__class_num_read(p, t, &v);
    return v;
}

void rs__class_num_read(const uint8_t *p, rs_type t, rs_value *out)
{
    RS_ASSERT(t != RS_STR && type_ok(t));
    uint32_t w = t == RS_STR ? 0 : rs__class_type_width(t);
    uint64_t bits = 0;
    for (uint32_t i = 0; i < w; i++) {
        bits |= (uint64_t)p[i] << (8 * i);
    }
    out->type = t;
    if (t == RS_BOOL) {
        out->v.u = 0; /* the union's other bytes stay defined */
        out->v.b = bits != 0;
    } else if (rs__class_type_signed(t)) {
        if (w < 8 && (bits >> (8 * w - 1)) & 1) {
            bits |= UINT64_MAX << (8 * w); /* sign-extend */
        }
        /* Converting an unsigned above INT64_MAX to int64_t is
         * implementation-defined; this is not. */
        out->v.i = bits <= INT64_MAX ? (int64_t)bits : -(int64_t)~bits - 1;
    } else if (rs__class_type_unsigned(t)) {
        out->v.u = bits;
    } else if (t == RS_F32) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        out->v.f = (double)f;
    } else {
        memcpy(&out->v.f, &bits, sizeof out->v.f);
    }
}

/* ------------------------------------------------------------------------ */
/* Schemas                                                                   */
/* ------------------------------------------------------------------------ */

/* strlen(s), or max + 1 if s is longer than max: names from the caller are
 * NUL-terminated, but only their first RS_MAX_NAME + 1 bytes matter. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0') {
        n++;
    }
    return n;
}

/* Check that s is a valid name; what names it in a message ("class name",
 * "field name").  cls is the class for a field name, else NULL. */
static rs_status check_name(rs_store *st, const char *cls, const char *what,
                            const char *s)
{
    if (s == NULL) {
        if (cls) {
            return rs__err(st, RS_EINVAL, "class '%s': %s is NULL", cls, what);
        }
        return rs__err(st, RS_EINVAL, "%s is NULL", what);
    }
    size_t len = bounded_len(s, RS_MAX_NAME);
    char why[64];
    if (len > RS_MAX_NAME) {
        snprintf(why, sizeof why, "is longer than %d bytes", RS_MAX_NAME);
    } else if (!rs__class_is_ident(s, len)) {
        snprintf(why, sizeof why,
                 "is not an identifier "
                 "([A-Za-z_][A-Za-z0-9_]*)");
    } else {
        return RS_OK;
    }
    char q[RS_SHOW_MAX * 4 + 8];
    rs__class_quote(q, sizeof q, s, strlen(s), '\'');
    if (cls) {
        return rs__err(st, RS_EINVAL, "class '%s': %s %s %s", cls, what, q,
                       why);
    }
    return rs__err(st, RS_EINVAL, "%s %s %s", what, q, why);
}

void rs__class_schema_free(rs_store *st, rs__schema *sch)
{
    if (sch == NULL) {
        return;
    }
    if (sch->fields) {
        for (uint32_t i = 0; i < sch->n_fields; i++) {
            rs__field *fd = &sch->fields[i];
            if (fd->name) {
                rs__free(st, RS_MEM_META, fd->name, strlen(fd->name) + 1);
            }
            if (fd->def_buf) {
                rs__free(st, RS_MEM_META, fd->def_buf, fd->def.v.s.len + 1);
            }
        }
        rs__free(st, RS_MEM_META, sch->fields,
                 sch->n_fields * sizeof *sch->fields);
    }
    if (sch->indexed) {
        rs__free(st, RS_MEM_META, sch->indexed,
                 sch->n_indexed * sizeof *sch->indexed);
    }
    if (sch->name) {
        rs__free(st, RS_MEM_META, sch->name, strlen(sch->name) + 1);
    }
    memset(sch, 0, sizeof *sch);
}

static char *copy_name(rs_store *st, const char *s)
{
    size_t len = strlen(s);
    char *p = rs__alloc(st, RS_MEM_META, len + 1);
    if (p) {
        memcpy(p, s, len + 1);
    }
    return p;
}

/* Check field i's definition, other than its default, against the fields
 * before it.  *key is the key field found so far, or -1. */
static rs_status check_field(rs_store *st, const char *cls,
                             const rs_field_def *defs, size_t i, int *key)
{
    const rs_field_def *d = &defs[i];
    rs_status s = check_name(st, cls, "field name", d->name);
    if (s != RS_OK) {
        return s;
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(defs[j].name, d->name) == 0) {
            return rs__err(st, RS_EINVAL,
                           "class '%s' has two fields named "
                           "'%s'",
                           cls, d->name);
        }
    }
    if (!type_ok(d->type)) {
        return rs__err(st, RS_EINVAL, "%s.%s: unknown type %d", cls, d->name,
                       (int)d->type);
    }
    if (d->flags & ~(RS_FIELD_KEY | RS_FIELD_UNIQUE)) {
        return rs__err(st, RS_EINVAL, "%s.%s: unknown field flags 0x%x", cls,
                       d->name, d->flags);
    }
    if ((d->flags & RS_FIELD_KEY) && (d->flags & RS_FIELD_UNIQUE)) {
        return rs__err(st, RS_EINVAL,
                       "%s.%s: a key is unique already; "
                       "drop RS_FIELD_UNIQUE",
                       cls, d->name);
    }
    if (d->flags & RS_FIELD_KEY) {
        if (*key >= 0) {
            return rs__err(st, RS_EINVAL,
                           "class '%s' has two key fields: "
                           "'%s' and '%s'",
                           cls, defs[*key].name, d->name);
        }
        *key = (int)i;
    }
    if (d->inline_len != 0 &&
        (d->type != RS_STR || d->inline_len < RS_MIN_INLINE ||
         d->inline_len > RS_MAX_INLINE)) {
        return rs__err(st, RS_EINVAL, "%s.%s: inline(%u) %s", cls, d->name,
                       d->inline_len,
                       d->type != RS_STR ? "is for str fields only"
                                         : "is out of range 4..15");
    }
    if (d->flags && (d->type == RS_BOOL || is_float(d->type))) {
        return rs__err(st, RS_EINVAL, "%s.%s: a %s field cannot be %s", cls,
                       d->name, d->flags & RS_FIELD_KEY ? "key" : "unique",
                       rs_type_name(d->type));
    }
    if (d->type == RS_STR && (d->max_len < 1 || d->max_len > RS_MAX_STR)) {
        return rs__err(st, RS_EINVAL,
                       "%s.%s: str(%" PRIu32 ") is out of "
                       "range 1..%u",
                       cls, d->name, d->max_len, RS_MAX_STR);
    }
    if (d->has_default && (d->flags & RS_FIELD_KEY)) {
        return rs__err(st, RS_EINVAL,
                       "%s.%s: the key field cannot have a "
                       "default",
                       cls, d->name);
    }
    return RS_OK;
}

/* Copy, check and normalize field i's default. */
static rs_status set_default(rs_store *st, rs__schema *sch, uint32_t i,
                             const rs_field_def *d)
{
    rs__field *fd = &sch->fields[i];
    if (!d->has_default) {
        fd->def = zero_value(fd->type);
        return RS_OK;
    }
    rs_value v;
    rs_status s = rs__class_coerce(st, sch, (rs_field)i, &d->def, &v);
    if (s != RS_OK) {
        return s;
    }
    if (v.type == RS_STR) {
        /* One byte more than the string so that an empty default still owns
         * a buffer, and the copy is NUL-terminated for debuggers. */
        char *buf = rs__alloc(st, RS_MEM_META, v.v.s.len + 1);
        if (buf == NULL) {
            return rs__err(st, RS_ENOMEM,
                           "out of memory for the default of "
                           "%s.%s",
                           sch->name, fd->name);
        }
        if (v.v.s.len > 0) {
            memcpy(buf, v.v.s.ptr, v.v.s.len);
        }
        buf[v.v.s.len] = '\0';
        v.v.s.ptr = buf;
        fd->def_buf = buf;
    }
    fd->def = v;
    fd->has_default = true;
    return RS_OK;
}

static rs_status schema_fill(rs_store *st, rs__schema *sch, const char *name,
                             const rs_field_def *defs, size_t n_defs,
                             unsigned flags)
{
    rs_status s = check_name(st, NULL, "class name", name);
    if (s != RS_OK) {
        return s;
    }
    if (flags & ~RS_CLASS_DYNAMIC) {
        return rs__err(st, RS_EINVAL, "class '%s': unknown class flags 0x%x",
                       name, flags);
    }
    sch->flags = flags;
    if (n_defs == 0) {
        return rs__err(st, RS_EINVAL, "class '%s' has no fields", name);
    }
    if (n_defs > RS_MAX_FIELDS) {
        return rs__err(st, RS_EINVAL,
                       "class '%s' has %zu fields, the limit "
                       "is %d",
                       name, n_defs, RS_MAX_FIELDS);
    }
    if (defs == NULL) {
        return rs__err(st, RS_EINVAL, "class '%s': fields is NULL", name);
    }
    int key = -1;
    for (size_t i = 0; i < n_defs; i++) {
        s = check_field(st, name, defs, i, &key);
        if (s != RS_OK) {
            return s;
        }
    }
    if (key < 0) {
        return rs__err(st, RS_EINVAL, "class '%s' has no key field", name);
    }

    /* Everything but the defaults is valid: allocate and copy. */
    sch->name = copy_name(st, name);
    if (sch->name != NULL) {
        sch->fields = rs__calloc(st, RS_MEM_META, n_defs * sizeof *sch->fields);
    }
    if (sch->fields == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory declaring class '%s'",
                       name);
    }
    /* Set with fields, which rs__class_schema_free() frees at this size. */
    sch->n_fields = (uint32_t)n_defs;
    sch->key = key;
    sch->n_indexed = 0;
    uint32_t off = RS_ROW_HEADER;
    for (uint32_t i = 0; i < sch->n_fields; i++) {
        const rs_field_def *d = &defs[i];
        rs__field *fd = &sch->fields[i];
        fd->name = copy_name(st, d->name);
        if (fd->name == NULL) {
            return rs__err(st, RS_ENOMEM,
                           "out of memory declaring class "
                           "'%s'",
                           name);
        }
        fd->type = d->type;
        fd->max_len = d->type == RS_STR ? d->max_len : 0;
        fd->flags = d->flags;
        fd->off = off;
        if (d->type != RS_STR) {
            fd->width = rs__class_type_width(d->type);
        } else if (d->inline_len != 0) {
            fd->width = d->inline_len + 1;
        } else {
            fd->width = RS_STR_CELL(fd->max_len);
        }
        fd->ix = -1;
        off += fd->width;
        if (d->flags) {
            sch->n_indexed++;
        }
        s = set_default(st, sch, i, d);
        if (s != RS_OK) {
            return s;
        }
    }
    sch->row_len = off < RS_ROW_MIN ? RS_ROW_MIN : off;

    /* The key first, then unique fields in declaration order. */
    rs_field *ix = rs__alloc(st, RS_MEM_META, sch->n_indexed * sizeof *ix);
    if (ix == NULL) {
        sch->n_indexed = 0;
        return rs__err(st, RS_ENOMEM, "out of memory declaring class '%s'",
                       name);
    }
    sch->indexed = ix;
    uint32_t n = 0;
    ix[n] = key;
    sch->fields[key].ix = (int)n++;
    for (uint32_t i = 0; i < sch->n_fields; i++) {
        if (sch->fields[i].flags & RS_FIELD_UNIQUE) {
            ix[n] = (rs_field)i;
            sch->fields[i].ix = (int)n++;
        }
    }
    RS_ASSERT(n == sch->n_indexed);
    return RS_OK;
}

rs_status rs__class_schema_init(rs_store *st, rs__schema *sch, const char *name,
                                const rs_field_def *defs, size_t n_defs,
                                unsigned flags)
{
    memset(sch, 0, sizeof *sch);
    rs_status s = schema_fill(st, sch, name, defs, n_defs, flags);
    if (s != RS_OK) {
        rs__class_schema_free(st, sch);
    }
    return s;
}

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */
/* ------------------------------------------------------------------------ */

const char *rs_class_name(const rs_class *cls)
{
    return cls ? rs__schema_of(cls)->name : NULL;
}

unsigned rs_class_flags(const rs_class *cls)
{
    return cls ? rs__schema_of(cls)->flags : 0;
}

size_t rs_class_n_fields(const rs_class *cls)
{
    return cls ? rs__schema_of(cls)->n_fields : 0;
}

rs_field rs_class_field(const rs_class *cls, const char *name)
{
    if (cls == NULL || name == NULL) {
        return -1;
    }
    const rs__schema *sch = rs__schema_of(cls);
    for (uint32_t i = 0; i < sch->n_fields; i++) {
        if (strcmp(sch->fields[i].name, name) == 0) {
            return (rs_field)i;
        }
    }
    return -1;
}

rs_status rs_class_field_def(const rs_class *cls, rs_field f, rs_field_def *out)
{
    if (cls == NULL || out == NULL) {
        return RS_EINVAL;
    }
    const rs__schema *sch = rs__schema_of(cls);
    if (f < 0 || (uint32_t)f >= sch->n_fields) {
        return RS_EINVAL;
    }
    const rs__field *fd = &sch->fields[f];
    out->name = fd->name;
    out->type = fd->type;
    out->max_len = fd->max_len;
    out->flags = fd->flags;
    out->has_default = fd->has_default;
    out->def = fd->def;
    out->inline_len = fd->type == RS_STR ? fd->width - 1 : 0;
    return RS_OK;
}

rs_field rs_class_key(const rs_class *cls)
{
    return cls ? rs__schema_of(cls)->key : -1;
}

/* ------------------------------------------------------------------------ */
/* Text to value                                                             */
/* ------------------------------------------------------------------------ */

int rs__class_parse_double(const char *p, size_t len, double *out)
{
    char tmp[RS_NUM_TEXT_MAX + 1];
    /* strtod() skips leading blanks; the text must not have any. */
    if (len == 0 || len > RS_NUM_TEXT_MAX || p[0] == ' ' ||
        (p[0] >= '\t' && p[0] <= '\r')) {
        return 1;
    }
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end != tmp + len) {
        return 1; /* trailing junk, or a NUL byte inside */
    }
    if (errno == ERANGE && isinf(d)) {
        return 2; /* underflow to 0 or a subnormal is accepted */
    }
    *out = d;
    return 0;
}

rs_status rs__class_value_parse(rs_store *st, const rs_class *cls, rs_field f,
                                const char *text, size_t len, rs_value *out)
{
    const rs__schema *sch = rs__schema_of(cls);
    if (f < 0 || (uint32_t)f >= sch->n_fields) {
        return rs__err(st, RS_EINVAL, "class '%s' has no field %d", sch->name,
                       f);
    }
    if (text == NULL) {
        text = "";
    }
    const rs__field *fd = &sch->fields[f];
    rs_value v;
    int bad = 0; /* 1: not text of the type; 2: beyond 64 bits or a double */
    switch (fd->type) {
    case RS_BOOL:
        if ((len == 4 && memcmp(text, "true", 4) == 0) ||
            (len == 1 && text[0] == '1')) {
            v = rs_val_bool(true);
        } else if ((len == 5 && memcmp(text, "false", 5) == 0) ||
                   (len == 1 && text[0] == '0')) {
            v = rs_val_bool(false);
        } else {
            bad = 1;
        }
        break;
    case RS_F32:
    case RS_F64: {
        double d = 0;
        bad = rs__class_parse_double(text, len, &d);
        v = rs_val_f64(d);
        break;
    }
    case RS_STR:
        v = rs_val_str(text, len);
        break;
    default:
        bad = rs__class_parse_decimal(text, len, &v);
        break;
    }
    if (bad == 2) {
        /* A number strtod() or rs__class_parse_decimal() read whole: printable. */
        return rs__err(st, RS_ERANGE, "%s.%s: %.*s out of range for %s",
                       sch->name, fd->name, rs__num_prec(len), text,
                       rs_type_name(fd->type));
    }
    if (bad) {
        char q[RS_SHOW_MAX * 4 + 8];
        rs__class_quote(q, sizeof q, text, len, '\'');
        char tbuf[32];
        rs__class_type_str(tbuf, sizeof tbuf, fd->type, fd->max_len);
        return rs__err(st, RS_ETYPE, "%s.%s: expected %s, got %s", sch->name,
                       fd->name, tbuf, q);
    }
    return rs__class_coerce(st, sch, f, &v, out);
}
