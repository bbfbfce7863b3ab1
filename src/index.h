/*
 * index.h: key and unique indexes (design and costs in index.c).
 *
 * An index maps a field's value to the slot of the record holding it.  It
 * stores only 32-bit entries (a fingerprint and the slot), so to compare a
 * probe with an entry or to rehash an entry it asks the store for the key
 * bytes of a slot through key_of.
 */
#ifndef RS_INDEX_H
#define RS_INDEX_H

#include "internal.h"

/* The key bytes of the record in slot: a string's bytes (a packed one
 * decoded into tmp), or an integer as 8 little-endian bytes written into
 * tmp, which holds RS_KEY_TMP bytes. */
typedef void (*rs__key_of_fn)(const void *ctx, uint32_t slot,
                              const uint8_t **key, size_t *len,
                              uint8_t tmp[RS_KEY_TMP]);

/* Hash the keys of n slots into hashes[]: the rehash of a growing segment
 * goes through here so the store can prefetch rows ahead of hashing. */
typedef void (*rs__hash_slots_fn)(const void *ctx, const uint32_t *slots,
                                  size_t n, uint64_t *hashes);

/* Whether the key of the record in slot equals key: the probe's test, which
 * can compare a stored form (a packed number) without decoding it. */
typedef bool (*rs__key_eq_fn)(const void *ctx, uint32_t slot, const void *key,
                              size_t len);

typedef struct rs__seg rs__seg;

/* The directory doubles only while it keeps at most this many entries a
 * segment (index.c, "Bound"). */
#define RS__DIR_PER_SEG 8

/* A key on the move during growth: its hash and its slot. */
typedef struct rs__moved {
    uint64_t hash;
    uint32_t slot;
} rs__moved;

/* A directory entry carries its segment's size, so a lookup goes from the
 * directory straight to the bucket group without reading the segment's
 * header (one cache miss fewer). */
typedef struct rs__dirent {
    rs__seg *s;
    uint32_t n_groups;
} rs__dirent;

typedef struct rs__index {
    rs__dirent *dir; /* 2^depth entries; a segment of local depth d
                            fills 2^(depth-d) consecutive entries */
    uint32_t depth;  /* global depth: hash bits that pick a segment */
    uint32_t n_segs;
    size_t n; /* entries */
    rs__key_of_fn key_of;
    rs__key_eq_fn key_eq;
    rs__hash_slots_fn hash_slots;
    const void *ctx;
    /* Growth prepared by rs__index_prepare(), applied by the next
     * rs__index_insert(), or undone by rs__index_cancel(). */
    rs__seg *grow_old, *grow_a, *grow_b;
    rs__seg *grow_buddy; /* merged with grow_old into grow_a */
    rs__dirent *grow_dir;
    rs__moved *grow_list; /* every key that moves, hashed by prepare */
    size_t grow_n;
    rs__moved *list; /* grow_list's storage, kept between growths */
    size_t list_cap, list_cap_before;
    bool list_grew;            /* this prepare grew it: cancel shrinks it */
    uint64_t grow_hash;        /* a hash that leads to grow_old */
    size_t grow_pause_entries; /* entries moved by the largest growth */
    uint32_t hold; /* the open group's number (rs__index_hold()), or 0 */
} rs__index;

/* The 64-bit hash of a key under a store's seed (XXH3 with a seed): every
 * index of the store and its attribute tables hash through it. */
uint64_t rs__index_hash(uint64_t seed, const void *key, size_t len);

/* A new store's seed: random (getrandom, else /dev/urandom, else the clock
 * and addresses), so the hashes of keys cannot be known before the store
 * exists.  Test builds take RS_TEST_HASH_SEED from the environment. */
uint64_t rs__index_seed_new(void);

/* Whether the segment of hash has a free bucket, so rs__index_insert()
 * could place it without a prepare (a group's rollback, which must not
 * fail, inserts past the segment's load limit rather than grow). */
bool rs__index_has_room(const rs__index *ix, uint64_t hash);

/* A group opens (group: a number no other group of the store had, never
 * 0) or ends (0).  While one is open, each key taken out is counted
 * against its segment, and growth sizes every segment it makes with room
 * for those keys too, so the group's rollback finds a bucket for every
 * key it puts back without memory (index.c, held_of()). */
void rs__index_hold(rs__index *ix, uint32_t group);

rs_status rs__index_init(rs_store *st, rs__index *ix, rs__key_of_fn key_of,
                         rs__key_eq_fn key_eq, rs__hash_slots_fn hash_slots,
                         const void *ctx);
void rs__index_free(rs_store *st, rs__index *ix);

/* The slot whose key equals key, or UINT32_MAX.  No allocation. */
uint32_t rs__index_find(const rs__index *ix, uint64_t hash, const void *key,
                        size_t len);

/* Start loading the bucket group a lookup of hash begins with, so that
 * several lookups (one per index of an insert) overlap their misses. */
void rs__index_prefetch(const rs__index *ix, uint64_t hash);

/* The slot of the first entry in hash's home group whose fingerprint
 * matches (UINT32_MAX if none), without reading any key: a batch of
 * lookups prefetches that row before comparing, so its second miss
 * overlaps the others' too.  Call after rs__index_prefetch() has had time
 * to bring the group in. */
uint32_t rs__index_candidate(const rs__index *ix, uint64_t hash);

/* Make sure one insert of this hash will not need memory: allocates the
 * growth it needs (RS_ENOMEM leaves the index as it was). */
rs_status rs__index_prepare(rs_store *st, rs__index *ix, uint64_t hash);
void rs__index_cancel(rs_store *st, rs__index *ix);

/* Add slot under hash (its key must be absent).  Applies a prepared growth
 * first, which rehashes one segment: the longest pause an insert sees.
 * Never fails after rs__index_prepare(). */
void rs__index_insert(rs_store *st, rs__index *ix, uint64_t hash,
                      uint32_t slot);

/* Remove the entry of slot, whose key hashes to hash.  Never allocates. */
void rs__index_delete(rs__index *ix, uint64_t hash, uint32_t slot);

/* An index laid out anew for a known number of keys (rs_class_reserve()):
 * a directory and every segment allocated, and the keys already held
 * gathered with their hashes, so that applying it cannot fail. */
typedef struct rs__index_plan {
    rs__dirent *dir; /* NULL: the index already has room, nothing to do */
    uint32_t depth;
    uint32_t n_segs;
    rs__moved *list; /* the index's keys, ix->n of them */
} rs__index_plan;

/* Plan room for n keys in all: segments sized so that inserting up to n
 * keys grows none of them (short of an unlucky spread).  Reads every key
 * the index holds, once.  RS_ENOMEM leaves nothing allocated. */
rs_status rs__index_plan_reserve(rs_store *st, const rs__index *ix, size_t n,
                                 rs__index_plan *plan);
/* Move every key into the planned layout and free the old one: no
 * allocation, cannot fail.  The plan is consumed. */
void rs__index_apply(rs_store *st, rs__index *ix, rs__index_plan *plan);
/* Give back a plan that will not be applied. */
void rs__index_plan_free(rs_store *st, const rs__index *ix,
                         rs__index_plan *plan);

/* Bytes held (segments and directory). */
size_t rs__index_bytes(const rs__index *ix);

/* The groups a lookup of every key, one each, reads (a key found in its
 * home group reads 1): the index's probe cost, for tests.  O(n). */
size_t rs__index_probe_groups(const rs__index *ix);

/* Walk: every entry findable by its own key, counts right.  O(n). */
rs_status rs__index_check(const rs__index *ix);

#endif
