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
        return rs__err(st, RS_ESTALE,
                       "handle 0x%016" PRIx64 " names no class", h);
    }
    const rs_class *c = st->classes[id - 1];
    if (s >= c->n_slots) {
        return rs__err(st, RS_ESTALE,
                       "'%s' handle 0x%016" PRIx64 " names no record that "
                       "ever existed: slot %" PRIu32 " is past the %" PRIu32
                       " the class has used", c->sch.name, h, s,
                       c->n_slots);
    }
    if (!(gen & 1u) || gen > RS_ROW_GEN_MASK) {
        return rs__err(st, RS_ESTALE,
                       "'%s' handle 0x%016" PRIx64 " names no record that "
                       "ever existed: generation %u is not one a record "
                       "has", c->sch.name, h, (unsigned)gen);
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
    if (s >= c->n_slots || rs__row_gen(rs__row(c, s)) != gen ||
        !(gen & 1u)) {
        return NULL;
    }
    return c;
}

/* The message for a class argument that is NULL or another store's (the
 * slow path of every call that takes a class). */
rs_status rs__table_bad_class(rs_store *st, const rs_class *c,
                              const char *call)
{
    if (c == NULL) {
        return rs__err(st, RS_EINVAL, "%s: the class is NULL", call);
    }
    return rs__err(st, RS_EINVAL, "%s: class '%s' belongs to another store",
                   call, c->sch.name);
}

rs_status rs__table_no_attr(rs_store *st, const rs_class *c,
                            const char *name)
{
    return rs__err(st, RS_ENOATTR, "'%s' object has no attribute '%.64s'",
                   c->sch.name, name);
}
