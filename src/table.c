/*
 * table.c: handles, and the messages every call that takes a handle, a
 * class or a name may need (table.h).
 */
#include "table.h"

#include <inttypes.h>

/* Why h does not resolve: the message, kept out of the hot path.  A
 * handle whose slot was never handed out, or whose generation is even (a
 * free slot's), was never returned by this store; only one whose record
 * lived and was removed is stale. */
rs_status rs__table_stale(rs_store *st, rs_handle h)
{
    uint32_t id = (uint32_t)(h >> 48), s = (uint32_t)h;
    uint16_t gen = (uint16_t)(h >> 32);
    if (id == 0 || id > st->n_classes) {
        return rs__err(st, RS_ESTALE, "handle 0x%016" PRIx64 " names no class",
                       h);
    }
    const rs_class *c = st->classes[id - 1];
    if (s >= c->n_slots) {
        return rs__err(st, RS_ESTALE,
                       "'%s' handle 0x%016" PRIx64 " names no record that "
                       "ever existed: slot %" PRIu32 " is past the %" PRIu32
                       " the class has used",
                       c->sch.name, h, s, c->n_slots);
    }
    if (!(gen & 1u) || gen > RS_ROW_GEN_MASK) {
        return rs__err(st, RS_ESTALE,
                       "'%s' handle 0x%016" PRIx64 " names no record that "
                       "ever existed: generation %u is not one a record "
                       "has",
                       c->sch.name, h, (unsigned)gen);
    }
    return rs__err(st, RS_ESTALE,
                   "'%s' handle 0x%016" PRIx64
                   " is stale: its record was removed",
                   c->sch.name, h);
}

rs_status rs_check(rs_store *st, rs_handle h)
{
    RS__NEED_STORE(st);
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs__clear_err(st);
    return rs__table_resolve(st, h, &c, &slot);
}

rs_class *rs_handle_class(const rs_store *st, rs_handle h)
{
    if (st == NULL) {
        return NULL;
    }
    uint32_t id = (uint32_t)(h >> 48), s = (uint32_t)h;
    uint16_t gen = (uint16_t)(h >> 32);
    if (id == 0 || id > st->n_classes) {
        return NULL;
    }
    rs_class *c = st->classes[id - 1];
    if (s >= c->n_slots || rs__row_gen(rs__row(c, s)) != gen || !(gen & 1u)) {
        return NULL;
    }
    return c;
}

/* The message for a class argument that is NULL or another store's (the
 * slow path of every call that takes a class). */
rs_status rs__table_bad_class(rs_store *st, const rs_class *c, const char *call)
{
    if (c == NULL) {
        return rs__err(st, RS_EINVAL, "%s: the class is NULL", call);
    }
    return rs__err(st, RS_EINVAL, "%s: class '%s' belongs to another store",
                   call, c->sch.name);
}

rs_status rs__table_no_attr(rs_store *st, const rs_class *c, const char *name)
{
    return rs__err(st, RS_ENOATTR, "'%s' object has no attribute '%.64s'",
                   c->sch.name, name);
}

rs_status rs__table_check_field(rs_store *st, const rs_class *c, rs_field f)
{
    if (f < 0 || (uint32_t)f >= c->sch.n_fields) {
        return rs__err(st, RS_EINVAL, "%s: no field number %d", c->sch.name, f);
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Index callbacks                                                           */
/* ------------------------------------------------------------------------ */

void rs__table_ix_key_of(const void *ctx, uint32_t slot, const uint8_t **key,
                         size_t *len, uint8_t tmp[RS_KEY_TMP])
{
    const rs__ixctx *x = ctx;
    rs_value v = rs__row_value(x->c, rs__row(x->c, slot), x->f, (char *)tmp);
    rs__table_key_bytes(&v, key, len, tmp);
}

bool rs__table_ix_key_eq(const void *ctx, uint32_t slot, const void *key,
                         size_t len)
{
    const rs__ixctx *x = ctx;
    const rs_class *c = x->c;
    const rs__field *fd = &c->sch.fields[x->f];
    const uint8_t *cell = rs__row(c, slot) + fd->off;
    if (fd->type == RS_STR && cell[0] >= RS_CELL_DIGITS &&
        cell[0] < RS_CELL_LONG) {
        /* A packed number: parse the probe instead of printing the stored
         * digits (multiplications, not divisions). */
        if (len != (size_t)(cell[0] & 0x3Fu)) {
            return false;
        }
        const char *p = key;
        uint64_t probe = 0, stored = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9') {
                return false;
            }
            probe = probe * 10 + (uint64_t)(p[i] - '0');
        }
        uint32_t nb = fd->width - 1 > 8 ? 8 : fd->width - 1;
        for (uint32_t i = 0; i < nb; i++) {
            stored |= (uint64_t)cell[1 + i] << (8 * i);
        }
        return probe == stored;
    }
    const uint8_t *k;
    size_t klen;
    uint8_t tmp[RS_KEY_TMP];
    rs__table_ix_key_of(ctx, slot, &k, &klen, tmp);
    return klen == len && memcmp(k, key, len) == 0;
}

void rs__table_ix_hash_slots(const void *ctx, const uint32_t *slots, size_t n,
                             uint64_t *hashes)
{
    const rs__ixctx *x = ctx;
    const rs_class *c = x->c;
    const rs__field *fd = &c->sch.fields[x->f];
    const uint8_t *cells[64];
    RS_ASSERT(n <= 64);
    /* Rows of a segment's entries are scattered: ask for all of them before
     * reading any, so the misses overlap instead of queueing. */
    for (size_t i = 0; i < n; i++) {
        cells[i] = rs__row(c, slots[i]) + fd->off;
        __builtin_prefetch(cells[i]);
    }
    if (fd->type != RS_STR) {
        for (size_t i = 0; i < n; i++) {
            rs_value v = rs__class_num_get(cells[i], fd->type);
            const uint8_t *k;
            size_t len;
            uint8_t tmp[RS_KEY_TMP];
            rs__table_key_bytes(&v, &k, &len, tmp);
            hashes[i] = rs__index_hash(c->st->hash_seed, k, len);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (cells[i][0] == RS_CELL_LONG) {
            uint32_t ref;
            memcpy(&ref, cells[i] + (fd->width >= 8 ? 4 : 1), 4);
            __builtin_prefetch(rs__strs_at(&c->st->strs, ref));
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t len;
        char buf[RS_KEY_TMP];
        rs__cell_get(&c->st->strs, cells[i], fd->width, buf, &k, &len);
        hashes[i] = rs__index_hash(c->st->hash_seed, k, len);
    }
}
