/*
 * strs.h: strings without a malloc each.
 *
 * A string field takes a cell of W bytes in its record's row, W = 8 or 16
 * (class.h says which):
 *
 *   inline, len < W:      +-----+-----------------------------+
 *                         | len | bytes, zero padded (W - 1)  |
 *                         +-----+-----------------------------+
 *   out of line:          +------+-----------+-----------+-----------+
 *                         | 0x80 | len (u24) | ref (u32) | (unused)  |
 *                         +------+-----------+-----------+-----------+
 *
 * A ref names a cell in the store's string arena: page (high 20 bits) and
 * cell within the page (low 12 bits).  Every page holds cells of one size,
 * and strings of one length class share pages (a pool per class): lengths up
 * to 128 bytes have a class each, so a 9-byte name takes exactly 9 bytes;
 * longer ones round up to one of 8 sizes per power of two (under 12.5%
 * waste).  Freed cells go on their pool's free list, so churn reuses them.
 */
#ifndef RS_STRS_H
#define RS_STRS_H

#include "internal.h"

#define RS_CELL_LONG 0x80
#define RS_REF_NONE UINT32_MAX

/* Pools: 121 exact lengths 8..128, then 8 classes per power of two up to
 * RS_MAX_STR (2^24). */
#define RS__N_POOLS (121 + 17 * 8)

typedef struct rs__spage {
    uint8_t *mem;
    uint32_t size;  /* bytes a cell */
    uint32_t n;     /* cells in the page */
} rs__spage;

typedef struct rs__spool {
    uint32_t free_head; /* ref of a free cell, or RS_REF_NONE */
    uint32_t page;      /* page being handed out, or RS_REF_NONE */
    uint32_t used;      /* cells handed out of that page so far */
    uint32_t next_n;    /* cells in the next page of this pool */
} rs__spool;

/* One cell taken during the current operation, so a failure can give it
 * back exactly as it came (rs__strs_rollback). */
typedef struct rs__stake {
    uint16_t pool;
    uint8_t how; /* TAKE_FREE, TAKE_BUMP, TAKE_PAGE (strs.c) */
    uint32_t ref;
    uint32_t prev_page, prev_used;
} rs__stake;

typedef struct rs__strs {
    rs__spage *pages;
    uint32_t n_pages, cap_pages;
    size_t live_bytes; /* bytes of cells holding a live string */
    rs__spool pools[RS__N_POOLS];
    rs__stake log[RS_MAX_FIELDS];
    uint32_t n_log;
    uint32_t mark_cap; /* cap_pages when the operation began */
} rs__strs;

void rs__strs_init(rs__strs *s);
void rs__strs_free(rs_store *st, rs__strs *s);

/* An operation that stores strings runs begin, then take for each string
 * (the only step that can fail), then either commit or rollback.  A taken
 * cell may be written at once: nothing refers to it until the caller puts
 * its ref in a row. */
void rs__strs_begin(rs__strs *s);
rs_status rs__strs_take(rs_store *st, rs__strs *s, size_t len,
                        uint32_t *ref);
void rs__strs_commit(rs__strs *s);
void rs__strs_rollback(rs_store *st, rs__strs *s);

/* Give back the cell of a string of len bytes.  Never fails. */
void rs__strs_release(rs__strs *s, uint32_t ref, size_t len);

/* Where the bytes of ref live. */
static inline uint8_t *rs__strs_at(const rs__strs *s, uint32_t ref)
{
    const rs__spage *pg = &s->pages[ref >> 12];
    return pg->mem + (size_t)(ref & 0xFFFu) * pg->size;
}

/* The bytes an out-of-line string of len (> 7) takes in the arena. */
size_t rs__strs_cost(size_t len);

/* Read a cell: the string's bytes and length. */
static inline void rs__cell_get(const rs__strs *s, const uint8_t *cell,
                                const char **ptr, size_t *len)
{
    if (cell[0] < RS_CELL_LONG) {
        *len = cell[0];
        *ptr = (const char *)cell + 1;
    } else {
        uint32_t ref;
        *len = (size_t)cell[1] | (size_t)cell[2] << 8 | (size_t)cell[3] << 16;
        memcpy(&ref, cell + 4, 4);
        *ptr = (const char *)rs__strs_at(s, ref);
    }
}

/* Check (debug walk): every page's geometry, free lists within bounds. */
rs_status rs__strs_check(const rs__strs *s);

#endif
