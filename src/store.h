/*
 * store.h: the store and its classes' record tables (design in store.c).
 */
#ifndef RS_STORE_H
#define RS_STORE_H

#include "attrs.h"
#include "change.h"
#include "class.h"
#include "index.h"
#include "strs.h"

#define RS_SLOT_NONE UINT32_MAX
#define RS_RING 16

/* What an index's callbacks need to read a key out of a record. */
typedef struct rs__ixctx {
    const rs_class *c;
    rs_field f;
} rs__ixctx;

struct rs_class {
    rs__schema sch; /* first: class.c reads an rs_class as its schema */
    rs_store *st;
    uint16_t id;         /* 1 + position in st->classes: handle bits 48-63 */
    uint32_t row_len;    /* sch.row_len, kept beside the pages it strides */
    uint32_t page_shift; /* a page holds 1 << page_shift rows */
    uint8_t **pages;
    uint32_t n_pages, cap_pages;
    uint32_t n_slots;   /* slots ever handed out (the high-water mark) */
    uint32_t free_head; /* free slot list, RS_SLOT_NONE at its end */
    uint32_t n_free;    /* slots on that list */
    uint32_t n_retired; /* slots whose generation ran out: never reused */
#ifdef RS_TEST_SMALL
    uint32_t max_slots; /* RS_MAX_RECORDS; tests lower it to reach it */
#endif
    size_t n_live;
    rs__index *ix;     /* sch.n_indexed indexes */
    rs__ixctx *ixctx;  /* one per index */
    /* Scratch for one operation: the value of each field, whether it was
     * given, and each index's key hash. */
    rs_value *vals;
    uint8_t *given;
    uint64_t *hashes;
    uint32_t *refs; /* string cells taken for the operation */
    rs__avec *avecs; /* per row page: where records' attributes are */
    uint32_t n_avecs;
};

struct rs_store {
    rs__observer *obs; /* who hears of every change (change.h), or NULL */
    bool restoring;    /* inside rs__store_restore_*() */
    /* Set by scan.c while scans are open: closes them all. */
    void (*scans_close)(rs_store *st);
    rs_alloc_fn alloc;
    void *alloc_ud;
    size_t mem[RS_MEM__COUNT];
    size_t mem_total, mem_peak, n_allocs;
    rs_class **classes;
    uint32_t n_classes;
    rs_scan *scans; /* open scans, closed with the store */
    rs__strs strs;
    rs__attrs attrs;
    uint64_t hash_seed; /* every index and attrs table hashes with it */
    bool reading_files; /* a load or replay: files written before empty
                           keys were refused still load */
    char ring[RS_RING][RS_KEY_TMP]; /* packed strings handed to callers */
    unsigned ring_next;
    char err[512];
};

void rs__account_init(rs_store *st, rs_alloc_fn fn, void *ud);

/* The row of slot. */
static inline uint8_t *rs__row(const rs_class *c, uint32_t slot)
{
    return c->pages[slot >> c->page_shift] +
           (size_t)(slot & ((1u << c->page_shift) - 1)) * c->row_len;
}

/* The row header: a 15-bit generation (odd while the record lives) and, in
 * the top bit, whether the record has dynamic attributes (attrs.c): the
 * one bit a record without them pays for the possibility. */
#define RS_ROW_GEN_MASK 0x7FFFu
_Static_assert((RS_ROW_GEN_MASK + 1) / 2 == RS_SLOT_LIVES,
               "a slot's lives are its odd 15-bit generations");
#define RS_ROW_HAS_ATTRS 0x8000u

static inline uint16_t rs__row_word(const uint8_t *row)
{
    uint16_t g;
    memcpy(&g, row, 2);
    return g;
}

static inline uint16_t rs__row_gen(const uint8_t *row)
{
    return (uint16_t)(rs__row_word(row) & RS_ROW_GEN_MASK);
}

static inline bool rs__row_has_attrs(const uint8_t *row)
{
    return (rs__row_word(row) & RS_ROW_HAS_ATTRS) != 0;
}

static inline void rs__row_set_attrs(uint8_t *row, bool on)
{
    uint16_t w = rs__row_word(row);
    w = (uint16_t)(on ? w | RS_ROW_HAS_ATTRS : w & RS_ROW_GEN_MASK);
    memcpy(row, &w, 2);
}

/* Live rows have an odd generation. */
static inline bool rs__row_live(const uint8_t *row)
{
    return rs__row_gen(row) & 1u;
}

static inline rs_handle rs__handle(const rs_class *c, uint32_t slot)
{
    return (rs_handle)slot | (rs_handle)rs__row_gen(rs__row(c, slot)) << 32 |
           (rs_handle)c->id << 48;
}

/* Read field f of a row as a value (strings borrowed from the store; a
 * packed one decoded into buf, RS_KEY_TMP bytes). */
rs_value rs__row_value(const rs_class *c, const uint8_t *row, rs_field f,
                       char *buf);

/* The restore interface: what a group's rollback uses to put back, newest
 * first, what its changes did (txn.c).  Each makes a change as the public
 * calls do but marked as a restore (change.h), into the slot and
 * generation the record had; an index that cannot grow takes the key
 * past its load limit instead, so a restore does not fail for want of
 * memory.  RS_OK, or the failure of a restore the rollback's design rules
 * out. */
rs_status rs__store_restore_insert(rs_store *st, rs_class *c,
                                   const rs_named *vals, size_t n_vals,
                                   uint32_t slot, uint16_t gen);
rs_status rs__store_restore_remove(rs_store *st, rs_class *c, uint32_t slot);
rs_status rs__store_restore_set(rs_store *st, rs_class *c, uint32_t slot,
                                rs_field f, const rs_value *v);
/* Put back slot's whole attribute list: the first n of
 * st->attrs.new_list. */
rs_status rs__store_restore_attrs(rs_store *st, rs_class *c, uint32_t slot,
                                  uint32_t n);
/* Remove every record of c (a failed load into a class that was empty).
 * Slots keep their generations, so no handle of before aliases. */
void rs__class_empty(rs_store *st, rs_class *c);
/* Drop the classes declared after the first n. */
void rs__classes_truncate(rs_store *st, uint32_t n);

/* Walk every class's structures (debug and tests). */
rs_status rs__store_check(const rs_store *st);

#endif
