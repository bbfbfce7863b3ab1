/*
 * table.h: how a store and its classes' record tables are laid out: the
 * structures, rows, their header word and handles (design in store.c).
 * The modules that read records (attrs.c, scan.c, the snapshot and the
 * journal) include this; store.h adds store.c's own calls.
 */
#ifndef RS_TABLE_H
#define RS_TABLE_H

#include "class.h"
#include "index.h"
#include "shape.h"
#include "strs.h"

#define RS_SLOT_NONE UINT32_MAX

/* The slots a class may use: RS_MAX_RECORDS, which tests lower. */
#ifdef RS_TEST_SMALL
#define RS__SLOT_LIMIT(c) ((c)->max_slots)
#else
#define RS__SLOT_LIMIT(c) RS_MAX_RECORDS
#endif
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
    /* Slots removed inside the open group (store.h): a stack of their
     * own, so no insert of the group takes one (its handle would come
     * back to life if the group rolled back and put the removed record
     * back); on the free list when the group ends. */
    uint32_t gfree_head;
    uint32_t n_gfree;
    uint32_t n_retired; /* slots whose generation ran out: never reused */
#ifdef RS_TEST_SMALL
    uint32_t max_slots; /* RS_MAX_RECORDS; tests lower it to reach it */
#endif
    size_t n_live;
    rs__index *ix;    /* sch.n_indexed indexes */
    rs__ixctx *ixctx; /* one per index */
    /* Scratch for one operation: the value of each field, whether it was
     * given, and each index's key hash. */
    rs_value *vals;
    uint8_t *given;
    uint64_t *hashes;
    uint32_t *refs;         /* string cells taken for the operation */
    struct rs__avec *avecs; /* per row page: where records' attributes
                               are (attrs.h) */
    uint32_t n_avecs;
};

struct rs_store {
    struct rs__observer *obs; /* who hears of every change (change.h), or
                                 NULL */
    struct rs__hold *hold;    /* commits held for an open group, or NULL */
    uint32_t n_commit_obs;    /* observers with a commit callback: none,
                                 and no change is committed or held */
    bool restoring;           /* inside rs__store_restore_*() */
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
    uint32_t group_no;  /* the last group opened's number, never 0 */
    bool reading_files; /* a load or replay: files written before empty
                           keys were refused still load */
    char ring[RS_RING][RS_KEY_TMP]; /* packed strings handed to callers */
    unsigned ring_next;
    char err[512];
};

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

/* Rows and keys: reading a field out of a row, and what an index hashes
 * and compares for a value. */

/* Read field f of a row as a value (strings borrowed from the store; a
 * packed one decoded into buf, RS_KEY_TMP bytes). */
static inline rs_value rs__row_value(const rs_class *c, const uint8_t *row,
                                     rs_field f, char *buf)
{
    const rs__field *fd = &c->sch.fields[f];
    if (fd->type != RS_STR) {
        return rs__class_num_get(row + fd->off, fd->type);
    }
    rs_value v;
    v.type = RS_STR;
    rs__cell_get(&c->st->strs, row + fd->off, fd->width, buf, &v.v.s.ptr,
                 &v.v.s.len);
    return v;
}

/* Read field f for a caller: a packed string goes into the next of a ring
 * of 16 store buffers, and the ring moves only when one was used, so a
 * borrowed packed string survives the next 15 reads of packed strings. */
static inline rs_value rs__table_caller_value(rs_store *st, const rs_class *c,
                                              uint32_t slot, rs_field f)
{
    unsigned next = (st->ring_next + 1) % RS_RING;
    rs_value v = rs__row_value(c, rs__row(c, slot), f, st->ring[next]);
    if (v.type == RS_STR && v.v.s.ptr == st->ring[next]) {
        st->ring_next = next;
    }
    return v;
}

/* The bytes an index hashes for a normalized value: a string's bytes, or an
 * integer widened to 8 little-endian bytes, so a probe built from a value
 * and a key read back from a row always agree. */
static inline void rs__table_key_bytes(const rs_value *v, const uint8_t **p,
                                       size_t *len, uint8_t tmp[RS_KEY_TMP])
{
    if (v->type == RS_STR) {
        *p = (const uint8_t *)v->v.s.ptr;
        *len = v->v.s.len;
        return;
    }
    uint64_t u = rs__class_type_signed(v->type) ? (uint64_t)v->v.i : v->v.u;
    for (int i = 0; i < 8; i++) {
        tmp[i] = (uint8_t)(u >> (8 * i));
    }
    *p = tmp;
    *len = 8;
}

/* The hash an index of c keeps for value v. */
static inline uint64_t rs__table_key_hash(const rs_class *c, const rs_value *v)
{
    const uint8_t *k;
    size_t len;
    uint8_t tmp[RS_KEY_TMP];
    rs__table_key_bytes(v, &k, &len, tmp);
    return rs__index_hash(c->st->hash_seed, k, len);
}

/* The slot index ix of c holds value v at, or UINT32_MAX. */
static inline uint32_t rs__table_index_find(const rs_class *c, int ix,
                                            uint64_t hash, const rs_value *v)
{
    const uint8_t *k;
    size_t len;
    uint8_t tmp[RS_KEY_TMP];
    rs__table_key_bytes(v, &k, &len, tmp);
    return rs__index_find(&c->ix[ix], hash, k, len);
}

/* The callbacks a class's indexes read keys out of rows with (table.c);
 * ctx is the index's rs__ixctx. */
void rs__table_ix_key_of(const void *ctx, uint32_t slot, const uint8_t **key,
                         size_t *len, uint8_t tmp[RS_KEY_TMP]);
bool rs__table_ix_key_eq(const void *ctx, uint32_t slot, const void *key,
                         size_t len);
void rs__table_ix_hash_slots(const void *ctx, const uint32_t *slots, size_t n,
                             uint64_t *hashes);

/* Handles (table.c).  rs__table_resolve() gives the class and slot of a
 * live handle, or RS_ESTALE with a message saying why not. */
rs_status rs__table_stale(rs_store *st, rs_handle h);

/* The class, slot and generation of a handle that may be live, without
 * reading its row: the caller must vouch for the generation some other
 * way (rs__attrs_get_by_entry).  False for one that cannot be. */
static inline bool rs__table_peek(const rs_store *st, rs_handle h,
                                  rs_class **cls, uint32_t *slot, uint16_t *gen)
{
    uint32_t id = (uint32_t)(h >> 48), s = (uint32_t)h;
    *gen = (uint16_t)(h >> 32);
    if (id - 1u >= st->n_classes || !(*gen & 1u)) {
        return false;
    }
    *cls = st->classes[id - 1];
    *slot = s;
    return s < (*cls)->n_slots;
}

/* The class and slot of a live handle: a few compares and the row's
 * header, on every call that takes a handle. */
static inline rs_status rs__table_resolve(rs_store *st, rs_handle h,
                                          rs_class **cls, uint32_t *slot)
{
    uint32_t id = (uint32_t)(h >> 48), s = (uint32_t)h;
    uint16_t gen = (uint16_t)(h >> 32);
    if (RS_UNLIKELY(id - 1u >= st->n_classes)) {
        return rs__table_stale(st, h);
    }
    rs_class *c = st->classes[id - 1];
    if (RS_UNLIKELY(s >= c->n_slots || !(gen & 1u) ||
                    rs__row_gen(rs__row(c, s)) != gen)) {
        return rs__table_stale(st, h);
    }
    *cls = c;
    *slot = s;
    return RS_OK;
}

/* Whether f names a dynamic attribute (RS_ATTR_BASE + an interned id). */
static inline bool rs__table_attr_field(const rs_store *st, rs_field f)
{
    return f >= RS_ATTR_BASE &&
           (uint32_t)(f - RS_ATTR_BASE) < st->attrs.n_names;
}

/* RS_EINVAL unless f is a declared field of c. */
rs_status rs__table_check_field(rs_store *st, const rs_class *c, rs_field f);
/* The message for a class argument that is NULL or another store's. */
rs_status rs__table_bad_class(rs_store *st, const rs_class *c,
                              const char *call);
/* The declared field called name (hint: where to look first), or -1.
 * Inline: an insert asks once per value. */
static inline rs_field rs__table_field(const rs_class *c, const char *name,
                                       size_t hint)
{
    if (hint < c->sch.n_fields && strcmp(c->sch.fields[hint].name, name) == 0) {
        return (rs_field)hint;
    }
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        if (strcmp(c->sch.fields[f].name, name) == 0) {
            return (rs_field)f;
        }
    }
    return -1;
}

/* RS_ENOATTR: "'Class' object has no attribute 'name'" (Python's words). */
rs_status rs__table_no_attr(rs_store *st, const rs_class *c, const char *name);

#endif
