/*
 * strs.h: strings without a malloc each.
 *
 * A string field takes a cell of W bytes in its record's row, W = 5 to 16
 * (class.h says which):
 *
 *   inline, len < W:      +-----+-----------------------------+
 *                         | len | bytes, zero padded (W - 1)  |
 *                         +-----+-----------------------------+
 *   digits, too long to   +-----------+--------------------------------+
 *   be inline, at most    | 0x40 | n  | their value, little endian,    |
 *   19 that fit W - 1     |           | W - 1 bytes                    |
 *   bytes as a number:    +-----------+--------------------------------+
 *                         (leading zeros kept: n says how many digits)
 *   out of line, W >= 8:  +------+-----------+-----------+-----------+
 *                         | 0x80 | len (u24) | ref (u32) | (unused)  |
 *                         +------+-----------+-----------+-----------+
 *   out of line, W < 8:   +------+-----------+  the arena cell starts
 *                         | 0x80 | ref (u32) |  with the length as a
 *                         +------+-----------+  varint, then the bytes
 *
 * So a 7-digit id takes a 5-byte cell (declared inline(4)) instead of 8.
 * A packed string has no bytes to point to: reading it decodes it into a
 * buffer the caller provides (rs__cell_get).
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
#define RS_CELL_DIGITS 0x40
#define RS_DIGITS_MAX 19 /* digits a u64 always holds */
#define RS_REF_NONE UINT32_MAX

/* Pools: 121 exact lengths 8..128, then 8 classes per power of two up to
 * RS_MAX_STR (2^24). */
#define RS__N_POOLS (121 + 17 * 8)

typedef struct rs__spage {
    uint8_t *mem;
    uint32_t size; /* bytes a cell */
    uint32_t n;    /* cells in the page */
} rs__spage;

typedef struct rs__spool {
    uint32_t free_head; /* ref of a free cell, or RS_REF_NONE */
    uint32_t page;      /* page being handed out, or RS_REF_NONE */
    uint32_t used;      /* cells handed out of that page so far */
    uint32_t next_n;    /* cells in the next page of this pool */
} rs__spool;

/* Takes one operation may make: a cell per string field of an insert, plus
 * one attribute block. */
#define RS_STRS_LOG_MAX (RS_MAX_FIELDS + 1)

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
    rs__stake log[RS_STRS_LOG_MAX];
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
rs_status rs__strs_take(rs_store *st, rs__strs *s, size_t len, uint32_t *ref);
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

/* The most digits a cell of width bytes packs. */
static inline uint32_t rs__cell_digits_max(uint32_t width)
{
    /* 10^d - 1 < 2^(8 * bytes); cells are at least 5 bytes wide. */
    static const uint8_t max[9] = {0, 0, 0, 0, 9, 12, 14, 16, 19};
    return width - 1 >= 8 ? RS_DIGITS_MAX : max[width - 1];
}

/* Decode a packed cell's digits into buf (RS_KEY_TMP bytes). */
static inline size_t rs__cell_unpack(const uint8_t *cell, uint32_t width,
                                     char *buf)
{
    uint64_t v = 0;
    uint32_t nb = width - 1 > 8 ? 8 : width - 1;
    for (uint32_t i = 0; i < nb; i++) {
        v |= (uint64_t)cell[1 + i] << (8 * i);
    }
    /* Two digits a division, from a table: growth decodes every packed
     * key it moves, so this loop is on the load's hot path. */
    static const char pairs[201] = "00010203040506070809"
                                   "10111213141516171819"
                                   "20212223242526272829"
                                   "30313233343536373839"
                                   "40414243444546474849"
                                   "50515253545556575859"
                                   "60616263646566676869"
                                   "70717273747576777879"
                                   "80818283848586878889"
                                   "90919293949596979899";
    size_t n = cell[0] & 0x3Fu, i = n;
    for (; i >= 2; i -= 2) {
        memcpy(buf + i - 2, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (i == 1) {
        buf[0] = (char)('0' + v);
    }
    return n;
}

/* Read a cell of width bytes: the string's bytes and length.  A packed
 * string is decoded into buf (RS_KEY_TMP bytes), which *ptr then points
 * at. */
static inline void rs__cell_get(const rs__strs *s, const uint8_t *cell,
                                uint32_t width, char *buf, const char **ptr,
                                size_t *len)
{
    if (cell[0] < RS_CELL_DIGITS) {
        *len = cell[0];
        *ptr = (const char *)cell + 1;
    } else if (cell[0] < RS_CELL_LONG) {
        *len = rs__cell_unpack(cell, width, buf);
        *ptr = buf;
    } else if (width >= 8) {
        uint32_t ref;
        *len = (size_t)cell[1] | (size_t)cell[2] << 8 | (size_t)cell[3] << 16;
        memcpy(&ref, cell + 4, 4);
        *ptr = (const char *)rs__strs_at(s, ref);
    } else {
        uint32_t ref;
        memcpy(&ref, cell + 1, 4);
        const uint8_t *p = rs__strs_at(s, ref);
        size_t n = 0;
        for (int shift = 0;; shift += 7) {
            uint8_t b = *p++;
            n |= (size_t)(b & 0x7F) << shift;
            if (!(b & 0x80)) {
                break;
            }
        }
        *len = n;
        *ptr = (const char *)p;
    }
}

/* The arena bytes a string of len takes out of line in a cell of width
 * (a narrow cell keeps the length in the arena), or 0 if it does not go
 * out of line. */
static inline size_t rs__cell_arena_len(const char *p, size_t len,
                                        uint32_t width)
{
    if (len < width) {
        return 0;
    }
    if (len <= rs__cell_digits_max(width)) {
        size_t i = 0;
        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
        }
        if (i == len) {
            return 0; /* packed */
        }
    }
    if (width >= 8) {
        return len;
    }
    size_t prefix = 1;
    for (size_t v = len; v >= 0x80; v >>= 7) {
        prefix++;
    }
    /* The arena's smallest cell is 8 bytes. */
    return len + prefix < 8 ? 8 : len + prefix;
}

/* The write side of a cell. */

/* Where the bytes of an out-of-line string of len go in its arena cell: a
 * narrow cell's arena copy starts with its length. */
/* Where the bytes of a string of len go in arena cell ref (after the
 * length prefix of a narrow cell, written here). */
static inline uint8_t *rs__cell_data(rs__strs *s, uint32_t ref, size_t len,
                                     uint32_t width)
{
    uint8_t *p = rs__strs_at(s, ref);
    if (width < 8) {
        while (len >= 0x80) {
            *p++ = (uint8_t)(len | 0x80);
            len >>= 7;
        }
        *p++ = (uint8_t)len;
    }
    return p;
}

/* Write the string ptr[0..len) into cell (width bytes): inline if it
 * fits, packed if it is a number that fits, else into the arena cell ref
 * taken for it (rs__cell_arena_len() bytes). */
static inline void rs__cell_put(rs__strs *s, uint8_t *cell_out, uint32_t width,
                                const char *ptr, size_t len, uint32_t ref)
{
    uint8_t cell[16] = {0};
    if (len < width) {
        cell[0] = (uint8_t)len;
        if (len > 0) {
            memcpy(cell + 1, ptr, len);
        }
    } else if (rs__cell_arena_len(ptr, len, width) == 0) {
        uint64_t num = 0;
        for (size_t i = 0; i < len; i++) {
            num = num * 10 + (uint64_t)(ptr[i] - '0');
        }
        cell[0] = (uint8_t)(RS_CELL_DIGITS | len);
        for (uint32_t i = 0; i < width - 1 && i < 8; i++) {
            cell[1 + i] = (uint8_t)(num >> (8 * i));
        }
    } else {
        memmove(rs__cell_data(s, ref, len, width), ptr, len);
        cell[0] = RS_CELL_LONG;
        if (width >= 8) {
            cell[1] = (uint8_t)len;
            cell[2] = (uint8_t)(len >> 8);
            cell[3] = (uint8_t)(len >> 16);
            memcpy(cell + 4, &ref, 4);
        } else {
            memcpy(cell + 1, &ref, 4);
        }
    }
    memcpy(cell_out, cell, width);
}

/* Give back the arena cell of a string cell, if it has one. */
static inline void rs__cell_release(rs__strs *s, const uint8_t *cell,
                                    uint32_t width)
{
    if (cell[0] != RS_CELL_LONG) {
        return;
    }
    uint32_t ref;
    size_t len;
    if (width >= 8) {
        len = (size_t)cell[1] | (size_t)cell[2] << 8 | (size_t)cell[3] << 16;
        memcpy(&ref, cell + 4, 4);
    } else {
        const char *ptr;
        memcpy(&ref, cell + 1, 4);
        rs__cell_get(s, cell, width, NULL, &ptr, &len);
        len = rs__cell_arena_len(ptr, len, width);
    }
    rs__strs_release(s, ref, len);
}

/* Check (debug walk): every page's geometry, free lists within bounds. */
rs_status rs__strs_check(const rs__strs *s);

#endif
