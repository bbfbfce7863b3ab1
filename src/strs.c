/*
 * strs.c: the string arena (layout and cell format in strs.h).
 *
 * Pages are allocated per pool as strings arrive, the first small (about
 * 1 KiB, so a store with a handful of strings stays small) and each next one
 * twice as big up to 64 KiB or 4096 cells, the most a ref can address.
 * A page is never freed while the store lives: its cells return to the
 * pool's free list (a LIFO threaded through the free cells themselves) and
 * are reused first, so logout/login churn does not grow the arena.
 *
 * Cost: a string of 8 to 128 bytes takes exactly its length; a longer one
 * under 12.5% more.  Take and release are O(1); the only allocation is a
 * new page, at most one per take.
 *
 * Failure: every take is logged with how it was served (free list, page
 * tail, new page), and rs__strs_rollback() undoes them in reverse order,
 * which restores each pool's free list, page and counters exactly, frees
 * the pages the operation added, and shrinks the page table back.
 */
#include "strs.h"

enum { TAKE_FREE, TAKE_BUMP, TAKE_PAGE };

#ifdef RS_TEST_SMALL
#define PAGE_FIRST_BYTES 16 /* a cell or two a page: pages turn over fast */
#define PAGE_MAX_BYTES 64
#else
#define PAGE_FIRST_BYTES 1024
#define PAGE_MAX_BYTES 65536
#endif
#define PAGE_MAX_CELLS 4096 /* 12 bits of a ref */
/* 20 bits of a ref, less one page: the last cell of page 0xFFFFF would
 * have ref 0xFFFFFFFF, which is RS_REF_NONE. */
#define MAX_PAGES ((1u << 20) - 1)

static unsigned pool_of(size_t len)
{
    RS_ASSERT(len > 7 && len <= RS_MAX_STR);
    if (len <= 128) {
        return (unsigned)len - 8;
    }
    /* len lies in (2^b, 2^(b+1)]: 8 sizes 2^b + k * 2^(b-3), k = 1..8. */
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)len - 1);
    size_t step = (size_t)1 << (b - 3);
    size_t k = (len - ((size_t)1 << b) + step - 1) / step;
    return 121u + (b - 7u) * 8u + (unsigned)k - 1u;
}

static uint32_t pool_size(unsigned p)
{
    if (p < 121) {
        return p + 8;
    }
    unsigned q = p - 121, b = 7 + q / 8, k = q % 8 + 1;
    return (1u << b) + k * (1u << (b - 3));
}

static uint32_t clamp_cells(size_t want, uint32_t size)
{
    size_t most = PAGE_MAX_BYTES / size;
    if (most > PAGE_MAX_CELLS) {
        most = PAGE_MAX_CELLS;
    }
    if (want > most) {
        want = most;
    }
    return want ? (uint32_t)want : 1;
}

size_t rs__strs_cost(size_t len)
{
    return pool_size(pool_of(len));
}

void rs__strs_init(rs__strs *s)
{
    memset(s, 0, sizeof *s);
    for (unsigned p = 0; p < RS__N_POOLS; p++) {
        s->pools[p].free_head = RS_REF_NONE;
        s->pools[p].page = RS_REF_NONE;
        s->pools[p].next_n =
            clamp_cells(PAGE_FIRST_BYTES / pool_size(p), pool_size(p));
    }
}

void rs__strs_free(rs_store *st, rs__strs *s)
{
    for (uint32_t i = 0; i < s->n_pages; i++) {
        rs__free(st, RS_MEM_STRINGS, s->pages[i].mem,
                 (size_t)s->pages[i].n * s->pages[i].size);
    }
    rs__free(st, RS_MEM_META, s->pages, s->cap_pages * sizeof *s->pages);
    rs__strs_init(s);
}

void rs__strs_begin(rs__strs *s)
{
    s->n_log = 0;
    s->mark_cap = s->cap_pages;
}

void rs__strs_commit(rs__strs *s)
{
    s->n_log = 0;
}

static rs_status new_page(rs_store *st, rs__strs *s, unsigned p)
{
    rs__spool *pool = &s->pools[p];
    uint32_t size = pool_size(p);
    if (s->n_pages == MAX_PAGES) {
        return rs__err(st, RS_EFULL, "string arena full (%u pages)", MAX_PAGES);
    }
    if (s->n_pages == s->cap_pages) {
        uint32_t cap = s->cap_pages ? s->cap_pages * 2 : 16;
        rs__spage *pages =
            rs__realloc(st, RS_MEM_META, s->pages, s->cap_pages * sizeof *pages,
                        cap * sizeof *pages);
        if (pages == NULL) {
            return rs__err(st, RS_ENOMEM,
                           "out of memory growing the "
                           "string page table");
        }
        s->pages = pages;
        s->cap_pages = cap;
    }
    uint32_t n = pool->next_n;
    uint8_t *mem = rs__alloc(st, RS_MEM_STRINGS, (size_t)n * size);
    if (mem == NULL) {
        return rs__err(st, RS_ENOMEM,
                       "out of memory for a string page "
                       "of %zu bytes",
                       (size_t)n * size);
    }
    s->pages[s->n_pages] = (rs__spage){mem, size, n};
    pool->next_n = clamp_cells((size_t)n * 2, size);
    return RS_OK;
}

rs_status rs__strs_take(rs_store *st, rs__strs *s, size_t len, uint32_t *ref)
{
    RS_ASSERT(s->n_log < RS_STRS_LOG_MAX);
    unsigned p = pool_of(len);
    rs__spool *pool = &s->pools[p];
    rs__stake *e = &s->log[s->n_log];
    e->pool = (uint16_t)p;
    if (pool->free_head != RS_REF_NONE) {
        e->how = TAKE_FREE;
        e->ref = pool->free_head;
        memcpy(&pool->free_head, rs__strs_at(s, e->ref), 4);
    } else if (pool->page != RS_REF_NONE &&
               pool->used < s->pages[pool->page].n) {
        e->how = TAKE_BUMP;
        e->ref = pool->page << 12 | pool->used++;
    } else {
        rs_status rc = new_page(st, s, p);
        if (rc != RS_OK) {
            return rc;
        }
        e->how = TAKE_PAGE;
        e->prev_page = pool->page;
        e->prev_used = pool->used;
        pool->page = s->n_pages++;
        pool->used = 1;
        e->ref = pool->page << 12;
    }
    s->live_bytes += pool_size(p);
    s->n_log++;
    *ref = e->ref;
    return RS_OK;
}

void rs__strs_release(rs__strs *s, uint32_t ref, size_t len)
{
    unsigned p = pool_of(len);
    rs__spool *pool = &s->pools[p];
    RS_ASSERT(s->pages[ref >> 12].size == pool_size(p));
    memcpy(rs__strs_at(s, ref), &pool->free_head, 4);
    pool->free_head = ref;
    s->live_bytes -= pool_size(p);
}

void rs__strs_rollback(rs_store *st, rs__strs *s)
{
    while (s->n_log > 0) {
        rs__stake *e = &s->log[--s->n_log];
        rs__spool *pool = &s->pools[e->pool];
        s->live_bytes -= pool_size(e->pool);
        if (e->how == TAKE_FREE) {
            memcpy(rs__strs_at(s, e->ref), &pool->free_head, 4);
            pool->free_head = e->ref;
        } else if (e->how == TAKE_BUMP) {
            pool->used--;
        } else {
            rs__spage *pg = &s->pages[e->ref >> 12];
            RS_ASSERT((e->ref >> 12) == s->n_pages - 1);
            pool->next_n = pg->n;
            rs__free(st, RS_MEM_STRINGS, pg->mem, (size_t)pg->n * pg->size);
            s->n_pages--;
            pool->page = e->prev_page;
            pool->used = e->prev_used;
        }
    }
    if (s->cap_pages > s->mark_cap) {
        size_t old = s->cap_pages * sizeof *s->pages;
        if (s->mark_cap == 0) {
            rs__free(st, RS_MEM_META, s->pages, old);
            s->pages = NULL;
        } else {
            s->pages = rs__realloc(st, RS_MEM_META, s->pages, old,
                                   s->mark_cap * sizeof *s->pages);
        }
        s->cap_pages = s->mark_cap;
    }
}

rs_status rs__strs_check(const rs__strs *s)
{
    size_t handed = 0, free_bytes = 0;
    for (unsigned p = 0; p < RS__N_POOLS; p++) {
        const rs__spool *pool = &s->pools[p];
        if (pool->page != RS_REF_NONE) {
            if (pool->page >= s->n_pages ||
                s->pages[pool->page].size != pool_size(p) ||
                pool->used > s->pages[pool->page].n) {
                return RS_ECORRUPT;
            }
        }
        size_t n_free = 0;
        for (uint32_t r = pool->free_head; r != RS_REF_NONE;) {
            if ((r >> 12) >= s->n_pages ||
                s->pages[r >> 12].size != pool_size(p) ||
                (r & 0xFFFu) >= s->pages[r >> 12].n ||
                ++n_free > (size_t)s->n_pages * PAGE_MAX_CELLS) {
                return RS_ECORRUPT;
            }
            memcpy(&r, rs__strs_at(s, r), 4);
        }
        free_bytes += n_free * pool_size(p);
    }
    /* Every cell of a page is live, free-listed, or in the untouched tail
     * of its pool's current page. */
    for (uint32_t i = 0; i < s->n_pages; i++) {
        handed += (size_t)s->pages[i].n * s->pages[i].size;
    }
    for (unsigned p = 0; p < RS__N_POOLS; p++) {
        const rs__spool *pool = &s->pools[p];
        if (pool->page != RS_REF_NONE) {
            handed -=
                (size_t)(s->pages[pool->page].n - pool->used) * pool_size(p);
        }
    }
    return handed == s->live_bytes + free_bytes ? RS_OK : RS_ECORRUPT;
}
