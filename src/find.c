/*
 * find.c: finding records by their key or a unique field: rs_find(),
 * rs_find_many() (a batch whose index probes overlap), rs_get() (a key
 * given as text), and rs_value_parse().
 */
#include "table.h"

#include <inttypes.h>

/* Batches of this many values go through three passes: hash and fetch
 * the index groups, find each likely match and fetch its row, compare.
 * Enough misses in flight to cover a memory latency, few enough that what
 * the first passes fetched is still in cache for the last. */
#define FIND_BATCH 32

/* rs_find() on bad arguments: the message. */
static rs_status find_err(rs_store *st, const rs_class *c, rs_field f,
                          const rs_value *val, rs_handle *out)
{
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_find");
    }
    if (val == NULL || out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_find: NULL argument");
    }
    return rs__table_check_field(st, c, f);
}

/* rs_find() for values that need coercion, and every miss. */
static rs_status find_slow(rs_store *st, const rs_class *c, rs_field f,
                           const rs_value *val, rs_handle *out)
{
    const rs__field *fd = &c->sch.fields[f];
    if (fd->ix < 0) {
        return rs__err(st, RS_EINVAL, "%s.%s is not a key or unique field",
                       c->sch.name, fd->name);
    }
    rs_value v = *val;
    if (!(fd->type == RS_STR && v.type == RS_STR &&
          (v.v.s.ptr != NULL || v.v.s.len == 0))) {
        rs_status rc = rs__class_coerce(st, &c->sch, f, val, &v);
        if (rc != RS_OK) {
            return rc;
        }
    }
    uint32_t slot =
        rs__table_index_find(c, fd->ix, rs__table_key_hash(c, &v), &v);
    if (slot == UINT32_MAX) {
        char text[96];
        rs__class_fmt_value(text, sizeof text, &v);
        return rs__err(st, RS_ENOTFOUND, "%s.%s: no record with %s",
                       c->sch.name, fd->name, text);
    }
    *out = rs__handle(c, slot);
    return RS_OK;
}

rs_status rs_find(rs_store *st, const rs_class *c, rs_field f,
                  const rs_value *val, rs_handle *out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (c == NULL || c->st != st || val == NULL || out == NULL || f < 0 ||
        (uint32_t)f >= c->sch.n_fields) {
        return find_err(st, c, f, val, out);
    }
    const rs__field *fd = &c->sch.fields[f];
    uint32_t slot;
    if (fd->ix >= 0 && fd->type == RS_STR && val->type == RS_STR &&
        (val->v.s.ptr != NULL || val->v.s.len == 0)) {
        /* The hot path, as short as rs_get()'s: a lookup needs no UTF-8 or
         * length check (a string that could not be stored is simply not
         * found). */
        const char *key = val->v.s.ptr;
        size_t len = val->v.s.len;
        slot = rs__index_find(
            &c->ix[fd->ix], rs__index_hash(st->hash_seed, key, len), key, len);
        if (RS_LIKELY(slot != UINT32_MAX)) {
            *out = rs__handle(c, slot);
            return RS_OK;
        }
    }
    return find_slow(st, c, f, val, out);
}

rs_status rs_find_many(rs_store *st, const rs_class *c, rs_field f,
                       const rs_value *vals, size_t n, rs_handle *out,
                       size_t *n_found)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_find_many");
    }
    if ((vals == NULL || out == NULL) && n > 0) {
        return rs__err(st, RS_EINVAL, "rs_find_many: NULL argument");
    }
    rs_status rc = rs__table_check_field(st, c, f);
    if (rc != RS_OK) {
        return rc;
    }
    const rs__field *fd = &c->sch.fields[f];
    if (fd->ix < 0) {
        return rs__err(st, RS_EINVAL, "%s.%s is not a key or unique field",
                       c->sch.name, fd->name);
    }
    const rs__index *ix = &c->ix[fd->ix];
    size_t found = 0;
    for (size_t at = 0; at < n; at += FIND_BATCH) {
        size_t m = n - at < FIND_BATCH ? n - at : FIND_BATCH;
        rs_value v[FIND_BATCH];
        uint64_t hash[FIND_BATCH];
        bool ok[FIND_BATCH];
        for (size_t i = 0; i < m; i++) {
            const rs_value *in = &vals[at + i];
            ok[i] = true;
            v[i] = *in;
            if (!(fd->type == RS_STR && in->type == RS_STR &&
                  (in->v.s.ptr != NULL || in->v.s.len == 0))) {
                /* A value the field cannot hold is simply not found. */
                ok[i] = rs__class_coerce(st, &c->sch, f, in, &v[i]) == RS_OK;
            }
            if (ok[i]) {
                hash[i] = rs__table_key_hash(c, &v[i]);
                rs__index_prefetch(ix, hash[i]);
            }
        }
        /* The second miss: the row of each likely match. */
        for (size_t i = 0; i < m; i++) {
            uint32_t cand =
                ok[i] ? rs__index_candidate(ix, hash[i]) : UINT32_MAX;
            if (cand != UINT32_MAX) {
                __builtin_prefetch(rs__row(c, cand) + fd->off);
            }
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t slot =
                ok[i] ? rs__table_index_find(c, fd->ix, hash[i], &v[i])
                      : UINT32_MAX;
            out[at + i] =
                slot == UINT32_MAX ? RS_NULL_HANDLE : rs__handle(c, slot);
            found += slot != UINT32_MAX;
        }
    }
    rs__clear_err(st); /* values that could not be held are not errors */
    if (n_found) {
        *n_found = found;
    }
    return RS_OK;
}

rs_status rs_value_parse(rs_store *st, const rs_class *c, rs_field f,
                         const char *text, size_t len, rs_value *out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_value_parse");
    }
    if (out == NULL || (text == NULL && len > 0)) {
        return rs__err(st, RS_EINVAL, "rs_value_parse: NULL argument");
    }
    return rs__class_value_parse(st, c, f, text, len, out);
}

rs_status rs_get(rs_store *st, const rs_class *c, const char *key, size_t len,
                 rs_handle *out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_get");
    }
    if ((key == NULL && len > 0) || out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_get: NULL argument");
    }
    const rs__field *fd = &c->sch.fields[c->sch.key];
    if (fd->type == RS_STR) {
        /* The fast path: no coercion, the key's bytes are the probe. */
        uint64_t hash = rs__index_hash(st->hash_seed, key, len);
        uint32_t slot = rs__index_find(&c->ix[0], hash, key, len);
        if (slot == UINT32_MAX) {
            return rs__err(st, RS_ENOTFOUND, "%s: no record with key '%.*s'",
                           c->sch.name, (int)(len > 64 ? 64 : len), key);
        }
        *out = rs__handle(c, slot);
        return RS_OK;
    }
    rs_value v;
    rs_status rc = rs_value_parse(st, c, c->sch.key, key, len, &v);
    if (rc != RS_OK) {
        return rc;
    }
    return rs_find(st, c, c->sch.key, &v, out);
}
