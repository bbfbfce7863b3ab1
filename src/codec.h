/*
 * codec.h: the byte encodings of files and logs, one copy each.
 *
 * Snapshots, the journal and a group's undo log write through an rs__buf
 * (growable, in the store's META accounting) and read through an rs__rd, a
 * cursor that sets bad instead of running past its end, so a decoder of
 * outside bytes checks once, at the end.  Integers are LEB128 varints
 * (signed ones zigzag first), fixed-width ones little endian.
 */
#ifndef RS_CODEC_H
#define RS_CODEC_H

#include "internal.h"

#include <stdbool.h>

/* Signed integers as varints: small magnitudes, either sign, stay short. */
static inline uint64_t rs__codec_zigzag(int64_t i)
{
    return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63);
}

static inline int64_t rs__codec_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Values.  A field's value is written by its declared type: bool one byte,
 * signed integers zigzag varints, unsigned ones varints, f32 and f64 their
 * IEEE bytes (little endian), strings a varint length and the bytes.  An
 * attribute's value is a tag byte (rs__atag) then the same. */
enum rs__atag {
    RS_TAG_INT,
    RS_TAG_UINT,
    RS_TAG_F64,
    RS_TAG_FALSE,
    RS_TAG_TRUE,
    RS_TAG_STR
};

static inline size_t rs__codec_uvar_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *rs__codec_uvar_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Decoders of bytes this process wrote (attribute blocks): they trust
 * them.  Outside bytes go through an rs__rd. */
static inline const uint8_t *rs__codec_uvar_get(const uint8_t *p, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80) || shift >= 63) {
            break;
        }
    }
    *v = x;
    return p;
}

/* Tagged values (rs__atag) of normalized attribute values: RS_I64,
 * RS_U64, RS_F64, RS_BOOL or RS_STR. */
static inline size_t rs__codec_avalue_len(const rs_value *v)
{
    switch (v->type) {
    case RS_I64:
        return 1 + rs__codec_uvar_len(rs__codec_zigzag(v->v.i));
    case RS_U64:
        return 1 + rs__codec_uvar_len(v->v.u);
    case RS_F64:
        return 9;
    case RS_BOOL:
        return 1;
    default:
        return 1 + rs__codec_uvar_len(v->v.s.len) + v->v.s.len;
    }
}

static inline uint8_t *rs__codec_avalue_put(uint8_t *p, const rs_value *v)
{
    switch (v->type) {
    case RS_I64:
        *p++ = RS_TAG_INT;
        return rs__codec_uvar_put(p, rs__codec_zigzag(v->v.i));
    case RS_U64:
        *p++ = RS_TAG_UINT;
        return rs__codec_uvar_put(p, v->v.u);
    case RS_F64:
        *p++ = RS_TAG_F64;
        memcpy(p, &v->v.f, 8);
        return p + 8;
    case RS_BOOL:
        *p++ = v->v.b ? RS_TAG_TRUE : RS_TAG_FALSE;
        return p;
    default:
        *p++ = RS_TAG_STR;
        p = rs__codec_uvar_put(p, v->v.s.len);
        if (v->v.s.len > 0) {
            memcpy(p, v->v.s.ptr, v->v.s.len);
        }
        return p + v->v.s.len;
    }
}

static inline const uint8_t *rs__codec_avalue_get(const uint8_t *p, rs_value *v)
{
    uint8_t tag = *p++;
    uint64_t u;
    switch (tag) {
    case RS_TAG_INT:
        p = rs__codec_uvar_get(p, &u);
        v->type = RS_I64;
        v->v.i = rs__codec_unzigzag(u);
        return p;
    case RS_TAG_UINT:
        v->type = RS_U64;
        return rs__codec_uvar_get(p, &v->v.u);
    case RS_TAG_F64:
        v->type = RS_F64;
        memcpy(&v->v.f, p, 8);
        return p + 8;
    case RS_TAG_FALSE:
    case RS_TAG_TRUE:
        v->type = RS_BOOL;
        v->v.b = tag == RS_TAG_TRUE;
        return p;
    default:
        v->type = RS_STR;
        p = rs__codec_uvar_get(p, &u);
        v->v.s.ptr = (const char *)p;
        v->v.s.len = (size_t)u;
        return p + u;
    }
}

/* Past the tagged value at p, decoding nothing. */
static inline const uint8_t *rs__codec_avalue_skip(const uint8_t *p)
{
    uint8_t tag = *p++;
    uint64_t u;
    switch (tag) {
    case RS_TAG_INT:
    case RS_TAG_UINT:
        return rs__codec_uvar_get(p, &u);
    case RS_TAG_F64:
        return p + 8;
    case RS_TAG_FALSE:
    case RS_TAG_TRUE:
        return p;
    default:
        p = rs__codec_uvar_get(p, &u);
        return p + u;
    }
}

/* A growable byte buffer in the store's META accounting. */
typedef struct rs__buf {
    uint8_t *p;
    size_t len, cap;
} rs__buf;

rs_status rs__codec_reserve(rs_store *st, rs__buf *b, size_t more);
void rs__codec_free(rs_store *st, rs__buf *b);
/* Give back capacity past cap (len must fit in it); never fails. */
void rs__codec_shrink(rs_store *st, rs__buf *b, size_t cap);

/* Appends that assume rs__codec_reserve() made room. */
static inline void rs__codec_put_u8(rs__buf *b, uint8_t v)
{
    b->p[b->len++] = v;
}
static inline void rs__codec_put_bytes(rs__buf *b, const void *p, size_t n)
{
    if (n > 0) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}
static inline void rs__codec_put_uvar(rs__buf *b, uint64_t v)
{
    b->len = (size_t)(rs__codec_uvar_put(b->p + b->len, v) - b->p);
}
void rs__codec_put_u32le(rs__buf *b, uint32_t v);
void rs__codec_put_u64le(rs__buf *b, uint64_t v);

/* Reading: a cursor that fails (sets bad) instead of running past end. */
typedef struct rs__rd {
    const uint8_t *p, *end;
    bool bad;
} rs__rd;

uint64_t rs__codec_get_uvar(rs__rd *r);
uint8_t rs__codec_get_u8(rs__rd *r);
const uint8_t *rs__codec_get_bytes(rs__rd *r, size_t n);
uint64_t rs__codec_get_u64le(rs__rd *r);
uint32_t rs__codec_get_u32le(rs__rd *r);

/* Bytes a value can take beyond its string: at most 11 (a tag and a
 * 10-byte varint); 12 leaves a byte of slack in every bound. */
#define RS_VAL_MAX 12

/* Bytes a value's encoding can take, its string included (NULL: an
 * absent value, the bound alone). */
static inline size_t rs__codec_value_bound(const rs_value *v)
{
    return RS_VAL_MAX + (v && v->type == RS_STR ? v->v.s.len : 0);
}

void rs__codec_put_value(rs__buf *b, rs_type t, const rs_value *v);
void rs__codec_put_avalue(rs__buf *b, const rs_value *v);
rs_value rs__codec_get_value(rs__rd *r, rs_type t);
rs_value rs__codec_get_avalue(rs__rd *r);

#endif
