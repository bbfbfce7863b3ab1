/*
 * codec.c: the byte encodings that snapshots, the journal and a group's
 * undo log share (codec.h).
 */
#include "codec.h"

#include "class.h"

/* ------------------------------------------------------------------------ */
/* Buffers and varints                                                       */
/* ------------------------------------------------------------------------ */

rs_status rs__codec_reserve(rs_store *st, rs__buf *b, size_t more)
{
    if (b->cap - b->len >= more) {
        return RS_OK;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            return RS_ENOMEM;
        }
        cap *= 2;
    }
    uint8_t *p = rs__realloc(st, RS_MEM_META, b->p, b->cap, cap);
    if (p == NULL) {
        return RS_ENOMEM;
    }
    b->p = p;
    b->cap = cap;
    return RS_OK;
}

void rs__codec_shrink(rs_store *st, rs__buf *b, size_t cap)
{
    if (b->cap <= cap) {
        return;
    }
    if (cap == 0) {
        rs__codec_free(st, b);
        return;
    }
    /* A shrink never fails (the allocator contract, roster.h). */
    b->p = rs__realloc(st, RS_MEM_META, b->p, b->cap, cap);
    b->cap = cap;
}

void rs__codec_free(rs_store *st, rs__buf *b)
{
    rs__free(st, RS_MEM_META, b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

void rs__codec_put_u32le(rs__buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
    }
}

void rs__codec_put_u64le(rs__buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
    }
}

uint64_t rs__codec_get_uvar(rs__rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            break;
        }
        uint8_t byte = *r->p++;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            if (shift == 63 && byte > 1) {
                break; /* past 64 bits */
            }
            return v;
        }
    }
    r->bad = true;
    r->p = r->end;
    return 0;
}

uint8_t rs__codec_get_u8(rs__rd *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

const uint8_t *rs__codec_get_bytes(rs__rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

uint64_t rs__codec_get_u64le(rs__rd *r)
{
    const uint8_t *p = rs__codec_get_bytes(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

uint32_t rs__codec_get_u32le(rs__rd *r)
{
    const uint8_t *p = rs__codec_get_bytes(r, 4);
    uint32_t v = 0;
    for (int i = 0; p && i < 4; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

void rs__codec_put_value(rs__buf *b, rs_type t, const rs_value *v)
{
    switch (t) {
    case RS_BOOL:
        rs__codec_put_u8(b, v->v.b ? 1 : 0);
        break;
    case RS_F32: {
        float f = (float)v->v.f;
        uint32_t u;
        memcpy(&u, &f, 4);
        rs__codec_put_u32le(b, u);
        break;
    }
    case RS_F64: {
        uint64_t u;
        memcpy(&u, &v->v.f, 8);
        rs__codec_put_u64le(b, u);
        break;
    }
    case RS_STR:
        rs__codec_put_uvar(b, v->v.s.len);
        rs__codec_put_bytes(b, v->v.s.ptr, v->v.s.len);
        break;
    default:
        rs__codec_put_uvar(
            b, rs__class_type_signed(t) ? rs__codec_zigzag(v->v.i) : v->v.u);
        break;
    }
}

rs_value rs__codec_get_value(rs__rd *r, rs_type t)
{
    rs_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    switch (t) {
    case RS_BOOL: {
        uint8_t byte = rs__codec_get_u8(r);
        if (byte > 1) {
            r->bad = true;
        }
        v.v.b = byte == 1;
        break;
    }
    case RS_F32: {
        uint32_t u = rs__codec_get_u32le(r);
        float f;
        memcpy(&f, &u, 4);
        v.v.f = f;
        break;
    }
    case RS_F64: {
        uint64_t u = rs__codec_get_u64le(r);
        memcpy(&v.v.f, &u, 8);
        break;
    }
    case RS_STR: {
        uint64_t len = rs__codec_get_uvar(r);
        const uint8_t *p =
            len <= RS_MAX_STR ? rs__codec_get_bytes(r, len) : NULL;
        if (p == NULL) {
            r->bad = true;
            len = 0;
        }
        v.v.s.ptr = (const char *)p;
        v.v.s.len = (size_t)len;
        break;
    }
    default:
        if (rs__class_type_signed(t)) {
            v.v.i = rs__codec_unzigzag(rs__codec_get_uvar(r));
        } else {
            v.v.u = rs__codec_get_uvar(r);
        }
        break;
    }
    return v;
}

void rs__codec_put_avalue(rs__buf *b, const rs_value *v)
{
    rs_value n = *v; /* normalized as attribute values are (attrs.h) */
    if (v->type == RS_F32) {
        n.type = RS_F64;
    } else if (v->type != RS_BOOL && v->type != RS_F64 && v->type != RS_STR) {
        n.type = rs__class_type_signed(v->type) ? RS_I64 : RS_U64;
    }
    b->len = (size_t)(rs__codec_avalue_put(b->p + b->len, &n) - b->p);
}

rs_value rs__codec_get_avalue(rs__rd *r)
{
    switch (rs__codec_get_u8(r)) {
    case RS_TAG_INT:
        return rs__codec_get_value(r, RS_I64);
    case RS_TAG_UINT:
        return rs__codec_get_value(r, RS_U64);
    case RS_TAG_F64:
        return rs__codec_get_value(r, RS_F64);
    case RS_TAG_FALSE:
        return rs_val_bool(false);
    case RS_TAG_TRUE:
        return rs_val_bool(true);
    case RS_TAG_STR:
        return rs__codec_get_value(r, RS_STR);
    default:
        r->bad = true;
        return rs_val_int(0);
    }
}
