/*
 * alloc.c: every byte the store allocates, by category.
 *
 * All memory of a store goes through the embedder's rs_alloc_fn (the C
 * library's by default) via the four calls below, each tagged with the
 * category the bytes count under.  The caller passes the size back on free,
 * as Lua's allocator contract does, so the counts are exact without asking
 * malloc how big a block is.  The reports are account.c's.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

static void *libc_alloc(void *ud, void *ptr, size_t old_len, size_t new_len)
{
    (void)ud;
    (void)old_len;
    if (new_len == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_len);
}

void rs__alloc_init(rs_store *st, rs_alloc_fn fn, void *ud)
{
    st->alloc = fn ? fn : libc_alloc;
    st->alloc_ud = ud;
}

static void count(rs_store *st, rs_mem_cat cat, size_t old_len, size_t new_len)
{
    st->mem[cat] = st->mem[cat] - old_len + new_len;
    st->mem_total = st->mem_total - old_len + new_len;
    if (st->mem_total > st->mem_peak) {
        st->mem_peak = st->mem_total;
    }
}

void *rs__alloc(rs_store *st, rs_mem_cat cat, size_t len)
{
    RS_ASSERT(len > 0);
    void *p = st->alloc(st->alloc_ud, NULL, 0, len);
    if (p) {
        count(st, cat, 0, len);
        st->n_allocs++;
    }
    return p;
}

void *rs__calloc(rs_store *st, rs_mem_cat cat, size_t len)
{
    void *p = rs__alloc(st, cat, len);
    if (p) {
        memset(p, 0, len);
    }
    return p;
}

/* A shrinking call must not fail (the rs_alloc_fn contract), which is what
 * lets a failed operation give back capacity it grew before failing. */
void *rs__realloc(rs_store *st, rs_mem_cat cat, void *p, size_t old_len,
                  size_t new_len)
{
    if (p == NULL) {
        return rs__alloc(st, cat, new_len);
    }
    RS_ASSERT(new_len > 0);
    void *q = st->alloc(st->alloc_ud, p, old_len, new_len);
    if (q) {
        count(st, cat, old_len, new_len);
    }
    return q;
}

void rs__free(rs_store *st, rs_mem_cat cat, void *p, size_t len)
{
    if (p == NULL) {
        return;
    }
    st->alloc(st->alloc_ud, p, len, 0);
    count(st, cat, len, 0);
    st->n_allocs--;
}

size_t rs__alloc_bytes(const rs_store *st, rs_mem_cat cat)
{
    return st->mem[cat];
}
