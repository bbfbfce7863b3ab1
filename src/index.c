/*
 * index.c: key and unique indexes.
 *
 * Extendible hashing over small open-addressing segments.  The top `depth`
 * bits of a key's 64-bit hash pick a directory entry, which points at a
 * segment; a segment is a linear-probing table of 32-bit entries:
 *
 *   entry:  +--------------+-----------------------------+
 *           | fp (7 bits)  | slot + 1 (25 bits)          |
 *           +--------------+-----------------------------+
 *   0 is an empty bucket; slot bits all ones is a tombstone.
 *
 * The fingerprint is 7 more bits of the hash, so a probe compares a record's
 * key only when they match: most misses never touch a record (the idea of
 * Abseil's Swiss tables).  A bucket's position is the low 32 hash bits
 * scaled to the segment's capacity (Lemire's fastrange), so capacities need
 * not be powers of two and a segment grows by a quarter, not by double.
 *
 * Growth never rehashes the whole index.  When a segment passes 7/8 full
 * (tombstones count) it is rebuilt bigger, or, past SEG_MAX buckets, split
 * in two by its next hash bit; the directory doubles when a segment at full
 * depth splits (an array of pointers: 32 KiB at 10 million keys).  The
 * longest pause is one segment's rehash, about SEG_MAX keys, whatever the
 * index's size.  Rehashing needs each entry's key, which lives in the
 * record, so it reads records through the store's hash_slots callback.
 *
 * Cost: 4 bytes a bucket; loads stay between 0.7 and 0.875, about 5 bytes a
 * key on average, plus 16 bytes a segment.  Each key is moved about 5 times
 * over the life of a growing index (the price of growing by a quarter).
 * A lookup hashes the key (XXH3), reads the directory (small, cached), the
 * segment header, and its buckets from the home position on.
 *
 * Failure: growth is prepared (rs__index_prepare() allocates the new
 * segments and directory) before an operation changes anything, and applied
 * by the insert that follows, which cannot fail.
 */
#include "index.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SLOT_BITS 25
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define EMPTY 0u
#define TOMB SLOT_MASK
#define SEG_MIN 8
/* Test builds split segments early so splits and directory doubling run
 * within a few hundred keys. */
#ifdef RS_TEST_SMALL
#define SEG_MAX 32
#else
#define SEG_MAX 4096
#endif
#define MAX_DEPTH 24 /* past this a segment only grows: 2^24 pointers */
#define BATCH 64

struct rs__seg {
    uint32_t cap, n, n_tomb, local; /* local depth */
    uint32_t e[];
};

uint64_t rs__hash(const void *key, size_t len)
{
    return XXH3_64bits(key, len);
}

static inline uint32_t fp_of(uint64_t h)
{
    return (uint32_t)(h >> 32) & 0x7Fu;
}

static inline uint32_t home_of(uint64_t h, uint32_t cap)
{
    return (uint32_t)(((uint64_t)(uint32_t)h * cap) >> 32);
}

static inline uint32_t dir_of(uint32_t depth, uint64_t h)
{
    return depth ? (uint32_t)(h >> (64 - depth)) : 0;
}

static size_t seg_bytes(uint32_t cap)
{
    return sizeof(rs__seg) + (size_t)cap * sizeof(uint32_t);
}

static rs__seg *seg_new(rs_store *st, uint32_t cap, uint32_t local)
{
    rs__seg *s = rs__calloc(st, RS_MEM_INDEXES, seg_bytes(cap));
    if (s) {
        s->cap = cap;
        s->local = local;
    }
    return s;
}

static void seg_free(rs_store *st, rs__seg *s)
{
    if (s) {
        rs__free(st, RS_MEM_INDEXES, s, seg_bytes(s->cap));
    }
}

/* Capacity for m keys at a load of 0.8, so the next growth is a quarter
 * away. */
static uint32_t cap_for(size_t m)
{
    size_t cap = m + m / 4 + 1;
    return cap < SEG_MIN ? SEG_MIN : (uint32_t)cap;
}

static inline bool over_full(const rs__seg *s)
{
    return ((size_t)s->n + s->n_tomb + 1) * 8 > (size_t)s->cap * 7;
}

rs_status rs__index_init(rs_store *st, rs__index *ix, rs__key_of_fn key_of,
                         rs__hash_slots_fn hash_slots, const void *ctx)
{
    memset(ix, 0, sizeof *ix);
    ix->key_of = key_of;
    ix->hash_slots = hash_slots;
    ix->ctx = ctx;
    ix->dir = rs__alloc(st, RS_MEM_INDEXES, sizeof *ix->dir);
    if (ix->dir == NULL) {
        return RS_ENOMEM;
    }
    ix->dir[0] = seg_new(st, SEG_MIN, 0);
    if (ix->dir[0] == NULL) {
        rs__free(st, RS_MEM_INDEXES, ix->dir, sizeof *ix->dir);
        ix->dir = NULL;
        return RS_ENOMEM;
    }
    ix->n_segs = 1;
    return RS_OK;
}

void rs__index_free(rs_store *st, rs__index *ix)
{
    if (ix->dir == NULL) {
        return;
    }
    rs__index_cancel(st, ix);
    size_t n_dir = (size_t)1 << ix->depth;
    for (size_t i = 0; i < n_dir;) {
        rs__seg *s = ix->dir[i];
        i += (size_t)1 << (ix->depth - s->local);
        seg_free(st, s);
    }
    rs__free(st, RS_MEM_INDEXES, ix->dir, n_dir * sizeof *ix->dir);
    ix->dir = NULL;
}

size_t rs__index_bytes(const rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth, bytes = n_dir * sizeof *ix->dir;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i];
        i += (size_t)1 << (ix->depth - s->local);
        bytes += seg_bytes(s->cap);
    }
    return bytes;
}

uint32_t rs__index_find(const rs__index *ix, uint64_t hash, const void *key,
                        size_t len)
{
    const rs__seg *s = ix->dir[dir_of(ix->depth, hash)];
    uint32_t want = fp_of(hash), cap = s->cap, i = home_of(hash, cap);
    for (;;) {
        uint32_t e = s->e[i];
        if (e == EMPTY) {
            return UINT32_MAX;
        }
        if ((e >> SLOT_BITS) == want && (e & SLOT_MASK) != TOMB) {
            uint32_t slot = (e & SLOT_MASK) - 1;
            const uint8_t *k;
            size_t klen;
            uint8_t tmp[8];
            ix->key_of(ix->ctx, slot, &k, &klen, tmp);
            if (klen == len && memcmp(k, key, len) == 0) {
                return slot;
            }
        }
        if (++i == cap) {
            i = 0;
        }
    }
}

/* Put an entry in the first free bucket from its home.  The caller
 * guarantees one is free. */
static void put(rs__seg *s, uint64_t hash, uint32_t slot)
{
    uint32_t i = home_of(hash, s->cap);
    while (s->e[i] != EMPTY && (s->e[i] & SLOT_MASK) != TOMB) {
        if (++i == s->cap) {
            i = 0;
        }
    }
    if (s->e[i] != EMPTY) {
        s->n_tomb--;
    }
    s->e[i] = fp_of(hash) << SLOT_BITS | (slot + 1);
    s->n++;
}

/* Hash every entry of s, BATCH at a time, and hand each (hash, slot) to
 * sink. */
typedef void (*sink_fn)(void *arg, uint64_t hash, uint32_t slot);

static void each_entry(const rs__index *ix, const rs__seg *s, sink_fn sink,
                       void *arg)
{
    uint32_t slots[BATCH];
    uint64_t hashes[BATCH];
    size_t n = 0;
    for (uint32_t i = 0; i <= s->cap; i++) {
        if (i < s->cap) {
            uint32_t e = s->e[i];
            if (e == EMPTY || (e & SLOT_MASK) == TOMB) {
                continue;
            }
            slots[n++] = (e & SLOT_MASK) - 1;
        }
        if (n == BATCH || (i == s->cap && n > 0)) {
            ix->hash_slots(ix->ctx, slots, n, hashes);
            for (size_t j = 0; j < n; j++) {
                sink(arg, hashes[j], slots[j]);
            }
            n = 0;
        }
    }
}

typedef struct split_count {
    uint32_t bit; /* which hash bit splits: 63 - local depth */
    size_t n_hi;
} split_count;

static void count_hi(void *arg, uint64_t hash, uint32_t slot)
{
    split_count *c = arg;
    (void)slot;
    c->n_hi += (hash >> c->bit) & 1;
}

rs_status rs__index_prepare(rs_store *st, rs__index *ix, uint64_t hash)
{
    RS_ASSERT(ix->grow_old == NULL);
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)];
    if (!over_full(s)) {
        return RS_OK;
    }
    bool split = s->cap >= SEG_MAX && s->local < MAX_DEPTH &&
                 s->n_tomb < s->n / 4;
    if (!split) {
        ix->grow_a = seg_new(st, cap_for((size_t)s->n + 1), s->local);
        if (ix->grow_a == NULL) {
            return RS_ENOMEM;
        }
        ix->grow_old = s;
        return RS_OK;
    }
    /* Size each half for what it will really hold: count first. */
    split_count c = {63u - s->local, 0};
    each_entry(ix, s, count_hi, &c);
    size_t n_lo = s->n - c.n_hi;
    ix->grow_a = seg_new(st, cap_for(n_lo + 1), s->local + 1);
    ix->grow_b = seg_new(st, cap_for(c.n_hi + 1), s->local + 1);
    if (s->local == ix->depth && ix->grow_a && ix->grow_b) {
        ix->grow_dir = rs__alloc(st, RS_MEM_INDEXES,
                                 ((size_t)2 << ix->depth) * sizeof *ix->dir);
    }
    if (!ix->grow_a || !ix->grow_b ||
        (s->local == ix->depth && !ix->grow_dir)) {
        rs__index_cancel(st, ix);
        return RS_ENOMEM;
    }
    ix->grow_old = s;
    return RS_OK;
}

void rs__index_cancel(rs_store *st, rs__index *ix)
{
    seg_free(st, ix->grow_a);
    seg_free(st, ix->grow_b);
    if (ix->grow_dir) {
        rs__free(st, RS_MEM_INDEXES, ix->grow_dir,
                 ((size_t)2 << ix->depth) * sizeof *ix->dir);
    }
    ix->grow_old = ix->grow_a = ix->grow_b = NULL;
    ix->grow_dir = NULL;
}

typedef struct split_put {
    rs__seg *lo, *hi;
    uint32_t bit;
} split_put;

static void put_split(void *arg, uint64_t hash, uint32_t slot)
{
    split_put *p = arg;
    put((hash >> p->bit) & 1 ? p->hi : p->lo, hash, slot);
}

static void put_one(void *arg, uint64_t hash, uint32_t slot)
{
    put(arg, hash, slot);
}

/* Apply the prepared growth: rehash the old segment into its replacement(s)
 * and point the directory at them. */
static void grow(rs_store *st, rs__index *ix)
{
    rs__seg *old = ix->grow_old;
    size_t n_dir = (size_t)1 << ix->depth;
    if (ix->grow_dir) {
        /* Double the directory: entry i becomes entries 2i and 2i + 1. */
        for (size_t i = 0; i < n_dir; i++) {
            ix->grow_dir[2 * i] = ix->grow_dir[2 * i + 1] = ix->dir[i];
        }
        rs__free(st, RS_MEM_INDEXES, ix->dir, n_dir * sizeof *ix->dir);
        ix->dir = ix->grow_dir;
        ix->depth++;
        n_dir *= 2;
    }
    /* The old segment fills a run of 2^(depth - local) entries. */
    size_t run = (size_t)1 << (ix->depth - old->local);
    size_t first = 0;
    while (ix->dir[first] != old) {
        first += (size_t)1 << (ix->depth - ix->dir[first]->local);
    }
    if (ix->grow_b) {
        split_put p = {ix->grow_a, ix->grow_b, 63u - old->local};
        each_entry(ix, old, put_split, &p);
        for (size_t i = 0; i < run; i++) {
            ix->dir[first + i] = i < run / 2 ? ix->grow_a : ix->grow_b;
        }
        ix->n_segs++;
    } else {
        each_entry(ix, old, put_one, ix->grow_a);
        for (size_t i = 0; i < run; i++) {
            ix->dir[first + i] = ix->grow_a;
        }
    }
    if (old->n > ix->grow_pause_entries) {
        ix->grow_pause_entries = old->n;
    }
    seg_free(st, old);
    ix->grow_old = ix->grow_a = ix->grow_b = NULL;
    ix->grow_dir = NULL;
}

void rs__index_insert(rs_store *st, rs__index *ix, uint64_t hash,
                      uint32_t slot)
{
    if (ix->grow_old) {
        grow(st, ix);
    }
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)];
    RS_ASSERT(!over_full(s) || (size_t)s->n + s->n_tomb < s->cap);
    put(s, hash, slot);
    ix->n++;
}

void rs__index_delete(rs__index *ix, uint64_t hash, uint32_t slot)
{
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)];
    uint32_t cap = s->cap, i = home_of(hash, cap);
    for (uint32_t probes = 0; probes < cap; probes++) {
        uint32_t e = s->e[i];
        if (e == EMPTY) {
            break;
        }
        if ((e & SLOT_MASK) == slot + 1) {
            /* A bucket followed by an empty one ends every probe sequence
             * through it, so it (and the tombstones before it) can become
             * empty instead of a tombstone. */
            uint32_t next = i + 1 == cap ? 0 : i + 1;
            if (s->e[next] == EMPTY) {
                s->e[i] = EMPTY;
                for (;;) {
                    i = i == 0 ? cap - 1 : i - 1;
                    if (s->e[i] != TOMB) {
                        break;
                    }
                    s->e[i] = EMPTY;
                    s->n_tomb--;
                }
            } else {
                s->e[i] = TOMB;
                s->n_tomb++;
            }
            s->n--;
            ix->n--;
            return;
        }
        if (++i == cap) {
            i = 0;
        }
    }
    RS_ASSERT(!"index entry to delete not found");
}

rs_status rs__index_check(const rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth, total = 0, n_segs = 0;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i];
        if (s->local > ix->depth) {
            return RS_ECORRUPT;
        }
        size_t run = (size_t)1 << (ix->depth - s->local);
        if (i % run != 0) {
            return RS_ECORRUPT;
        }
        for (size_t j = 0; j < run; j++) {
            if (ix->dir[i + j] != s) {
                return RS_ECORRUPT;
            }
        }
        uint32_t n = 0, tomb = 0;
        for (uint32_t b = 0; b < s->cap; b++) {
            uint32_t e = s->e[b];
            if (e == EMPTY) {
                continue;
            }
            if ((e & SLOT_MASK) == TOMB) {
                tomb++;
                continue;
            }
            n++;
            uint32_t slot = (e & SLOT_MASK) - 1;
            const uint8_t *k;
            size_t klen;
            uint8_t tmp[8];
            ix->key_of(ix->ctx, slot, &k, &klen, tmp);
            uint64_t h = rs__hash(k, klen);
            if (fp_of(h) != e >> SLOT_BITS || dir_of(ix->depth, h) / run !=
                                                    i / run ||
                rs__index_find(ix, h, k, klen) != slot) {
                return RS_ECORRUPT;
            }
        }
        if (n != s->n || tomb != s->n_tomb || n + tomb >= s->cap) {
            return RS_ECORRUPT;
        }
        total += n;
        n_segs++;
        i += run;
    }
    return total == ix->n && n_segs == ix->n_segs ? RS_OK : RS_ECORRUPT;
}
