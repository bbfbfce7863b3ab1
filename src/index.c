/*
 * index.c: key and unique indexes.
 *
 * Extendible hashing over small open-addressing segments.  The top `depth`
 * bits of a key's 64-bit hash pick a directory entry, which holds a
 * segment pointer and the segment's size; a segment is an array of groups
 * of 16 32-bit entries (64 bytes, one cache line, 64-byte aligned):
 *
 *   entry:  +--------------+-----------------------------+
 *           | fp (7 bits)  | slot + 1 (25 bits)          |
 *           +--------------+-----------------------------+
 *   0 is an empty bucket; slot bits all ones is a tombstone.
 *
 * A key's home group is its low 32 hash bits scaled to the segment's group
 * count (Lemire's fastrange), so sizes need not be powers of two.  A probe
 * compares the fingerprint (7 more hash bits) of all 16 entries of a group
 * at once with SSE2 and reads a record only on a match, so most misses
 * never touch a record (Abseil's Swiss tables); it moves to the next group
 * only if this one has no empty bucket (a group that was never full ends
 * every probe through it).
 *
 * Growth never rehashes the whole index.  When a segment passes 7/8 full
 * (tombstones count) it is rebuilt: at the same size if its live keys alone
 * fill 13/16 or less (tombstones, from churn), merged with its buddy when
 * both together fit 3/4 of the smaller one's largest size, bigger by a factor drawn between 1.31 and 1.75, or, at its
 * largest size (drawn between half of and all of SEG_MAX_GROUPS), split in
 * two by its next hash bit; the directory doubles when a segment at full
 * depth splits (pointers and sizes: 64 KiB at 10 million keys).  Drawing
 * the sizes per segment keeps segments, which fill at one pace, from all
 * growing at one moment: the load holds near 0.71 at every size instead of
 * swinging between 0.44 and 0.875 with the store's size.  The longest pause
 * is one segment's rehash, at most 4096 keys, whatever the index's size
 * (unless keys share hash bits: below).
 *
 * Seed: the hash is XXH3 with a 64-bit seed drawn at random for each store
 * when it opens (rs__index_seed_new(): getrandom), the same for all its
 * indexes and its attribute name and shape tables (shape.c).  Keys are
 * chosen by users (player names); with a fixed hash, names whose hashes
 * share their top bits could be found offline and would all land in one
 * segment, which would split on each shared bit, doubling the directory
 * each time for nothing.  With a seed nobody outside the process knows,
 * no input can be prepared to collide: any set of distinct keys is spread
 * as random keys are.  Nothing written to a file depends on the seed
 * (snapshots and journals hold keys, never their hashes or index order),
 * so a store reopened under a new seed reads the same files.
 *
 * Bound: growth stays bounded even for keys chosen with the hash known (a
 * leaked seed, or test builds, which can fix it: RS_TEST_HASH_SEED).  A
 * full segment splits only if each half gets at least 1/8 of its keys, and
 * the directory doubles only if it then has at most 8 entries a segment
 * (split_pays()); otherwise the segment grows past its largest size (the
 * same load, a longer pause: a rehash of that segment's keys).  So the
 * directory never holds more than 8 entries (128 bytes) for each segment
 * the index has had at most, and every segment a split makes starts with
 * at least 1/8 of a full segment's keys (224 of at least 1,792), so with
 * no removals there is at most one segment for every 224 keys and the
 * directory takes at most 0.6 bytes a key, against 5.6 for the segments
 * (random keys: 0.016 at a million).  The price, only for keys that share
 * hash bits: a segment that cannot split usefully holds all of them, and
 * its growth pauses grow with it; and keys chosen to share their low bits
 * too (one home group) would make long probes.  Both need the seed.
 *
 * Cost: 4 bytes a bucket, about 5.6 bytes a key at load 0.71, plus 32 bytes
 * a segment (one per ~2,900 keys).  Each key moves about three times over
 * the growth of a segment; a move reads the key from its record once (the
 * only record reads of growth) through the store's hash_slots callback,
 * which prefetches a batch of rows.  A lookup hashes the key, reads the
 * directory (small, cached), one group, and the record on a fingerprint
 * match: two cache misses.
 *
 * Reserve (rs_class_reserve()): a bulk load of a known count can skip
 * growth altogether.  rs__index_plan_reserve() allocates at once the layout
 * growth would reach at that count, 2^depth segments of one local depth,
 * and rs__index_apply() moves the keys already held into it, each read
 * once; inserts up to the count then move no key (at a million, an insert
 * took about 0.7x the time: roster bench's reserved load).
 *
 * Failure: rs__index_prepare() gathers the moving keys and allocates the
 * new segments (and directory) before an operation changes anything; the
 * insert that follows applies them and cannot fail; rs__index_cancel()
 * undoes a prepare.  A group's rollback must put keys back without
 * memory: while a group is open each segment counts the keys taken out
 * of it and the most it held, and growth keeps room for them (room_of()).
 */
#include "index.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SLOT_BITS 25
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define EMPTY 0u
#define TOMB SLOT_MASK
#define GROUP 16 /* entries a group: 64 bytes, one cache line */
/* Test builds split segments early so splits and directory doubling run
 * within a few hundred keys. */
#ifdef RS_TEST_SMALL
#define SEG_MAX_GROUPS 4
#else
#define SEG_MAX_GROUPS 256 /* 4096 entries: the longest rehash */
#endif
/* Past this a segment only grows: 2^24 directory entries (256 MiB). */
#define MAX_DEPTH 24
/* A split must give each half at least 1/SPLIT_SHARE of the keys.  Random
 * hashes split a full segment near 1/2; a half of under 1/8 of its 1,792
 * or more keys has a chance of about 1e-246 (of 28 keys in test builds,
 * 3e-5, and the segment then only grows). */
#define SPLIT_SHARE 8
/* The directory doubles only while it keeps at most DIR_PER_SEG entries a
 * segment.  Random hashes leave 1 to 2 (3.5 at most in test builds, whose
 * segments are tiny), so only keys that share hash bits meet the limit. */
#define DIR_PER_SEG RS__DIR_PER_SEG
#define BATCH 64
/* The moving-keys list is kept between growths, but one grown past
 * LIST_KEEP entries (by a segment grown past its largest size) goes back
 * to LIST_KEEP / 2: room for a segment's keys at its largest size. */
#define LIST_KEEP ((size_t)2 * SEG_MAX_GROUPS * GROUP)

struct rs__seg {
    uint32_t n_groups, n, n_tomb, local; /* local depth */
    uint32_t *e;         /* n_groups * GROUP entries, 64-byte aligned */
    uint32_t max_groups; /* it splits rather than grow past this */
    /* Keys the open group took out of this segment's range, which its
     * rollback may put back, and the most keys the range held since the
     * group opened (room_of()): valid while held_group is the index's
     * hold. */
    uint32_t held, peak, held_group;
};

uint64_t rs__index_hash(uint64_t seed, const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, seed);
}

uint64_t rs__index_seed_new(void)
{
#if defined(RS_TEST_SMALL) || defined(RS_TEST_SEEDS)
    /* Test builds only (and benchmark builds made with -DRS_TEST_SEEDS, so
     * that callgrind counts repeat): RS_TEST_HASH_SEED=S fixes every
     * store's seed, so a failure that depends on where keys fall can be
     * replayed. */
    const char *fixed = getenv("RS_TEST_HASH_SEED");
    if (fixed != NULL && *fixed != '\0') {
        return strtoull(fixed, NULL, 0);
    }
#endif
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v) {
        return v;
    }
    /* No getrandom (an old kernel, a seccomp filter) or no entropy yet
     * (early boot): /dev/urandom, then the clock, the process id and where
     * the stack and this code were placed (ASLR), which is weaker but still
     * not known in advance to whoever chooses the keys. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, &v, sizeof v);
        close(fd);
        if (n == (ssize_t)sizeof v) {
            return v;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static const char here;
    uint64_t mix[5] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec,
                       (uint64_t)getpid(), (uint64_t)(uintptr_t)&v,
                       (uint64_t)(uintptr_t)&here};
    return XXH3_64bits(mix, sizeof mix);
}

static inline uint32_t fp_of(uint64_t h)
{
    return (uint32_t)(h >> 32) & 0x7Fu;
}

static inline uint32_t home_of(uint64_t h, uint32_t n_groups)
{
    return (uint32_t)(((uint64_t)(uint32_t)h * n_groups) >> 32);
}

static inline uint32_t dir_of(uint32_t depth, uint64_t h)
{
    return depth ? (uint32_t)(h >> (64 - depth)) : 0;
}

static inline bool is_entry(uint32_t e)
{
    return e != EMPTY && (e & SLOT_MASK) != TOMB;
}

/* Bit i set where entry i of the group has fingerprint fp (it may still be
 * an empty bucket or a tombstone when fp is 0: callers check), and where it
 * is empty.  SSE2 when we have it: four compares a group. */
static inline uint32_t match_fp(const uint32_t *g, uint32_t fp)
{
#if defined(__SSE2__)
    __m128i want = _mm_set1_epi32((int)fp);
#define RS__FP4(k)                                                             \
    ((uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(               \
         _mm_srli_epi32(_mm_load_si128((const __m128i *)(g + 4 * (k))),        \
                        SLOT_BITS),                                            \
         want)))                                                               \
     << (4 * (k)))
    return RS__FP4(0) | RS__FP4(1) | RS__FP4(2) | RS__FP4(3);
#undef RS__FP4
#else
    uint32_t mask = 0;
    for (int i = 0; i < GROUP; i++) {
        mask |= (uint32_t)((g[i] >> SLOT_BITS) == fp) << i;
    }
    return mask;
#endif
}

static inline uint32_t match_empty(const uint32_t *g)
{
#if defined(__SSE2__)
    __m128i zero = _mm_setzero_si128();
#define RS__EMPTY4(k)                                                          \
    ((uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(               \
         _mm_load_si128((const __m128i *)(g + 4 * (k))), zero)))               \
     << (4 * (k)))
    return RS__EMPTY4(0) | RS__EMPTY4(1) | RS__EMPTY4(2) | RS__EMPTY4(3);
#undef RS__EMPTY4
#else
    uint32_t mask = 0;
    for (int i = 0; i < GROUP; i++) {
        mask |= (uint32_t)(g[i] == EMPTY) << i;
    }
    return mask;
#endif
}

/* Bit i set where entry i is free for an insert: empty or a tombstone. */
static inline uint32_t match_free(const uint32_t *g)
{
#if defined(__SSE2__)
    __m128i zero = _mm_setzero_si128(), mask_v = _mm_set1_epi32(SLOT_MASK);
#define RS__FREE4(k)                                                           \
    ((uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(                  \
         _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(g + 4 * (k))),       \
                         zero),                                                \
         _mm_cmpeq_epi32(                                                      \
             _mm_and_si128(_mm_load_si128((const __m128i *)(g + 4 * (k))),     \
                           mask_v),                                            \
             mask_v))))                                                        \
     << (4 * (k)))
    return RS__FREE4(0) | RS__FREE4(1) | RS__FREE4(2) | RS__FREE4(3);
#undef RS__FREE4
#else
    uint32_t mask = 0;
    for (int i = 0; i < GROUP; i++) {
        mask |= (uint32_t)!is_entry(g[i]) << i;
    }
    return mask;
#endif
}

static size_t seg_bytes(uint32_t n_groups)
{
    return sizeof(rs__seg) + 63 + (size_t)n_groups * GROUP * 4;
}

static inline uint32_t *seg_entries(const rs__seg *s)
{
    return (uint32_t *)(((uintptr_t)(s + 1) + 63) & ~(uintptr_t)63);
}

/* The size at which a new segment of n keys will split: drawn between half
 * and all of SEG_MAX_GROUPS from hash bits nothing else uses, and never
 * less than n at a load of 0.6.  Segments fill at the same pace; if they
 * all split at one size they would all split at one moment, and the
 * index's load would swing with the store's size between 0.44 and 0.875.
 * Spread out, it holds near its average.  The floor keeps a new half far
 * from its own split point, so churn cannot cascade splits. */
static uint32_t max_groups_for(uint64_t hash, size_t n)
{
    uint32_t half = SEG_MAX_GROUPS / 2;
    uint32_t most = half + (uint32_t)((hash >> 44) % (half + 1));
    size_t floor = (n * 10 / 6 + GROUP - 1) / GROUP;
    return floor > most ? (uint32_t)floor : most;
}

static rs__seg *seg_new(rs_store *st, uint32_t n_groups, uint32_t local,
                        uint32_t max_groups)
{
    rs__seg *s = rs__calloc(st, RS_MEM_INDEXES, seg_bytes(n_groups));
    if (s) {
        s->e = seg_entries(s);
        s->n_groups = n_groups;
        s->local = local;
        s->max_groups = max_groups;
    }
    return s;
}

static void seg_free(rs_store *st, rs__seg *s)
{
    if (s) {
        rs__free(st, RS_MEM_INDEXES, s, seg_bytes(s->n_groups));
    }
}

/* Groups for m keys, leaving room to grow by a factor between 1.31 and 1.75
 * (so the load starts between 0.50 and 0.67 and grows to 7/8).  The factor
 * is drawn from hash bits that nothing else uses (an inserted key's), so
 * segments, which fill at the same pace, still grow at different times:
 * the index's load is their average, about 0.71, at every size, not a
 * sawtooth that depends on where a count falls.  Each key moves about 3
 * times over the growth of a segment. */
static uint32_t groups_for(size_t m, uint64_t hash)
{
    size_t factor16 = 21 + ((hash >> 40) & 7); /* 1.31 .. 1.75, in 16ths */
    size_t g = (m * factor16 * 8 / 7 / 16 + GROUP - 1) / GROUP;
    return g < 1 ? 1 : (uint32_t)g;
}

/* What the open group (rs__index_hold()) knows of s's range: held, the
 * keys it took out of it, and peak, the most keys it held at once since
 * the group opened (never less than s->n).  A segment the group has not
 * touched holds what it held when the group opened. */
static inline bool counts_valid(const rs__index *ix, const rs__seg *s)
{
    return ix->hold != 0 && s->held_group == ix->hold;
}

static inline size_t held_of(const rs__index *ix, const rs__seg *s)
{
    return counts_valid(ix, s) ? s->held : 0;
}

static inline size_t peak_of(const rs__index *ix, const rs__seg *s)
{
    /* Never below n: counts kept for a group 2^32 groups back would
     * otherwise pass for this one's. */
    return counts_valid(ix, s) && s->peak > s->n ? s->peak : s->n;
}

/* Room a group's rollback may need in a segment of range s's beyond its
 * n keys.  Undo retraces the group backwards, so each step of it leaves
 * the range as it was at some moment of the group: holding at most its
 * keys now and the keys taken out (held), and at most the most it held
 * (peak).  A rollback that cannot grow the segment then still finds a
 * bucket for each key it puts back (rs__index_has_room()).  Growth inside
 * the group sizes every segment it makes for that room, and each segment
 * a split or a merge makes carries both counts on (a split gives each half
 * the whole of both: it cannot tell which half the keys belonged to; a
 * merge sums them).  Either bound alone would do; held alone grows with
 * every key a group takes out (churn), peak alone doubles at each split,
 * so the room is the smaller. */
static inline size_t room_of(size_t n, size_t held, size_t peak)
{
    return held < peak - n ? held : peak - n;
}

static inline bool over_full(const rs__index *ix, const rs__seg *s)
{
    size_t cap7 = (size_t)s->n_groups * GROUP * 7;
    return ((size_t)s->n + s->n_tomb + 1) * 8 > cap7 ||
           ((size_t)s->n + room_of(s->n, held_of(ix, s), peak_of(ix, s)) + 1) *
                   8 >
               cap7;
}

static void set_held(const rs__index *ix, rs__seg *s, size_t held, size_t peak)
{
    if (s != NULL) {
        s->held = (uint32_t)held;
        s->peak = (uint32_t)peak;
        s->held_group = ix->hold;
    }
}

void rs__index_hold(rs__index *ix, uint32_t group)
{
    ix->hold = group;
}

rs_status rs__index_init(rs_store *st, rs__index *ix, rs__key_of_fn key_of,
                         rs__key_eq_fn key_eq, rs__hash_slots_fn hash_slots,
                         const void *ctx)
{
    memset(ix, 0, sizeof *ix);
    ix->key_of = key_of;
    ix->key_eq = key_eq;
    ix->hash_slots = hash_slots;
    ix->ctx = ctx;
    ix->dir = rs__alloc(st, RS_MEM_INDEXES, sizeof *ix->dir);
    if (ix->dir == NULL) {
        return RS_ENOMEM;
    }
    ix->dir[0].s = seg_new(st, 1, 0, SEG_MAX_GROUPS);
    ix->dir[0].n_groups = 1;
    if (ix->dir[0].s == NULL) {
        rs__free(st, RS_MEM_INDEXES, ix->dir, sizeof *ix->dir);
        ix->dir = NULL;
        return RS_ENOMEM;
    }
    ix->n_segs = 1;
    return RS_OK;
}

/* Free every segment (each once, though it fills a run of entries) and
 * the directory. */
static void dir_free(rs_store *st, rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth;
    for (size_t i = 0; i < n_dir;) {
        rs__seg *s = ix->dir[i].s;
        i += (size_t)1 << (ix->depth - s->local);
        seg_free(st, s);
    }
    rs__free(st, RS_MEM_INDEXES, ix->dir, n_dir * sizeof *ix->dir);
}

void rs__index_free(rs_store *st, rs__index *ix)
{
    if (ix->dir == NULL) {
        return;
    }
    rs__index_cancel(st, ix);
    dir_free(st, ix);
    rs__free(st, RS_MEM_INDEXES, ix->list, ix->list_cap * sizeof *ix->list);
    ix->dir = NULL;
    ix->list = NULL;
    ix->list_cap = 0;
}

size_t rs__index_bytes(const rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth, bytes = n_dir * sizeof *ix->dir;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i].s;
        i += (size_t)1 << (ix->depth - s->local);
        bytes += seg_bytes(s->n_groups);
    }
    return bytes + ix->list_cap * sizeof *ix->list;
}

uint32_t rs__index_find(const rs__index *ix, uint64_t hash, const void *key,
                        size_t len)
{
    const rs__dirent *d = &ix->dir[dir_of(ix->depth, hash)];
    const uint32_t *groups = seg_entries(d->s);
    uint32_t fp = fp_of(hash), ng = d->n_groups, g = home_of(hash, ng);
    for (uint32_t probes = 0; probes < ng; probes++) {
        const uint32_t *grp = groups + (size_t)g * GROUP;
        for (uint32_t m = match_fp(grp, fp); m != 0; m &= m - 1) {
            uint32_t e = grp[__builtin_ctz(m)];
            if (!is_entry(e)) {
                continue;
            }
            uint32_t slot = (e & SLOT_MASK) - 1;
            if (ix->key_eq(ix->ctx, slot, key, len)) {
                return slot;
            }
        }
        /* A group with an empty bucket was never full, so no key whose
         * probe passed through it lives further on. */
        if (match_empty(grp)) {
            return UINT32_MAX;
        }
        if (++g == ng) {
            g = 0;
        }
    }
    return UINT32_MAX;
}

void rs__index_prefetch(const rs__index *ix, uint64_t hash)
{
    const rs__dirent *d = &ix->dir[dir_of(ix->depth, hash)];
    __builtin_prefetch(seg_entries(d->s) +
                       (size_t)home_of(hash, d->n_groups) * GROUP);
    __builtin_prefetch(d->s);
}

uint32_t rs__index_candidate(const rs__index *ix, uint64_t hash)
{
    const rs__dirent *d = &ix->dir[dir_of(ix->depth, hash)];
    const uint32_t *grp =
        seg_entries(d->s) + (size_t)home_of(hash, d->n_groups) * GROUP;
    for (uint32_t m = match_fp(grp, fp_of(hash)); m != 0; m &= m - 1) {
        uint32_t e = grp[__builtin_ctz(m)];
        if (is_entry(e)) {
            return (e & SLOT_MASK) - 1;
        }
    }
    return UINT32_MAX;
}

/* Put an entry in the first free bucket (empty or tombstone) from its home
 * group on.  The caller guarantees one exists.  fresh (a constant at each
 * call) says s is a segment growth has just made, which holds no
 * tombstone, so the first empty bucket is the first free one: growth moves
 * every key of a segment through here, and the cheaper test counts. */
static RS_ALWAYS_INLINE void put_in(rs__seg *s, uint64_t hash, uint32_t slot,
                                    bool fresh)
{
    uint32_t ng = s->n_groups, g = home_of(hash, ng);
    for (;;) {
        uint32_t *grp = s->e + (size_t)g * GROUP;
        uint32_t m = fresh ? match_empty(grp) : match_free(grp);
        if (m != 0) {
            uint32_t *b = &grp[__builtin_ctz(m)];
            if (!fresh && *b != EMPTY) {
                s->n_tomb--;
            }
            *b = fp_of(hash) << SLOT_BITS | (slot + 1);
            s->n++;
            return;
        }
        if (++g == ng) {
            g = 0;
        }
    }
}

static RS_ALWAYS_INLINE void put(rs__seg *s, uint64_t hash, uint32_t slot)
{
    put_in(s, hash, slot, false);
}

static RS_ALWAYS_INLINE void put_fresh(rs__seg *s, uint64_t hash, uint32_t slot)
{
    put_in(s, hash, slot, true);
}

/* Gather every entry of s into list (from *n on), with its key's hash,
 * reading keys BATCH at a time through hash_slots (which prefetches). */
static void gather(const rs__index *ix, const rs__seg *s, rs__moved *list,
                   size_t *n)
{
    /* A group's entries go in whole: the batch is hashed once it could
     * not take another group, at 49 to BATCH keys. */
    uint32_t slots[BATCH];
    uint64_t hashes[BATCH];
    size_t k = 0;
    for (uint32_t g = 0; g <= s->n_groups; g++) {
        if (g < s->n_groups) {
            const uint32_t *grp = s->e + (size_t)g * GROUP;
            for (uint32_t m = ~match_free(grp) & 0xFFFFu; m != 0; m &= m - 1) {
                slots[k++] = (grp[__builtin_ctz(m)] & SLOT_MASK) - 1;
            }
        }
        if (k > BATCH - GROUP || (g == s->n_groups && k > 0)) {
            ix->hash_slots(ix->ctx, slots, k, hashes);
            for (size_t j = 0; j < k; j++) {
                list[*n + j] = (rs__moved){hashes[j], slots[j]};
            }
            *n += k;
            k = 0;
        }
    }
}

/* Whether splitting s, whose n keys send n_hi to the upper half, pays.
 * Not if one half would get less than 1/SPLIT_SHARE of the keys: the split
 * would leave the keys where they were, beside a near-empty segment, and
 * if s is at full depth it would double the directory for nothing; keys
 * that share their hash bits, by chance or by choice, would repeat that at
 * every bit they share.  Not if s is at full depth and the directory,
 * doubled, would hold more than DIR_PER_SEG entries a segment.  s then
 * grows past its largest size instead (a longer pause, the same load). */
static bool split_pays(const rs__index *ix, const rs__seg *s, size_t n,
                       size_t n_hi)
{
    size_t fewer = n_hi < n - n_hi ? n_hi : n - n_hi;
    if (s->local >= MAX_DEPTH || fewer * SPLIT_SHARE < n) {
        return false;
    }
    return s->local < ix->depth ||
           ((size_t)2 << ix->depth) <= DIR_PER_SEG * ((size_t)ix->n_segs + 1);
}

rs_status rs__index_prepare(rs_store *st, rs__index *ix, uint64_t hash)
{
    RS_ASSERT(ix->grow_old == NULL);
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)].s;
    if (!over_full(ix, s)) {
        return RS_OK;
    }
    size_t held = held_of(ix, s), peak = peak_of(ix, s);
    size_t room = room_of(s->n, held, peak);
    /* Tombstones fill it: if the live keys alone would sit at 13/16 or
     * less, rebuild at the same size, so churn (which leaves tombstones but
     * no more keys) does not grow or split a segment.  Above that, a purge
     * would win too little room for the rehash it costs. */
    size_t cap = (size_t)s->n_groups * GROUP;
    bool purge = ((size_t)s->n + room + 1) * 16 <= cap * 13;
    bool split = !purge && s->n_groups >= s->max_groups; /* if useful */
    rs__seg *buddy = NULL;
    if (purge && s->local > 0) {
        /* Churn moved keys elsewhere: merge with the buddy segment (the
         * other half of the split that made this one) when both fit in one
         * segment of the smaller largest size at 3/4 load (they split at
         * 7/8), so splits are undone and the index follows its content
         * down as well as up instead of ratcheting up under churn. */
        size_t run = (size_t)1 << (ix->depth - s->local);
        size_t first = dir_of(ix->depth, hash) & ~(run - 1);
        rs__seg *b = ix->dir[first ^ run].s;
        uint32_t most =
            s->max_groups < b->max_groups ? s->max_groups : b->max_groups;
        size_t n2 = (size_t)s->n + b->n, held2 = held + held_of(ix, b),
               peak2 = peak + peak_of(ix, b);
        if (b->local == s->local && (n2 + room_of(n2, held2, peak2) + 1) * 4 <=
                                        (size_t)most * GROUP * 3) {
            buddy = b;
            held = held2;
            peak = peak2;
            room = room_of(n2, held, peak);
        }
    }
    /* Every key moves: hash them all now, once, so the sizes can follow
     * what each new segment will really hold and the move itself (in
     * rs__index_insert()) reads no record. */
    size_t n_list = (size_t)s->n + (buddy ? buddy->n : 0), got = 0;
    if (n_list > ix->list_cap) {
        /* The list is kept between growths rather than allocated and
         * freed at each: fewer holes in the heap. */
        size_t want = ix->list_cap * 2 > n_list ? ix->list_cap * 2 : n_list;
        rs__moved *list =
            rs__realloc(st, RS_MEM_INDEXES, ix->list,
                        ix->list_cap * sizeof *list, want * sizeof *list);
        if (list == NULL) {
            return RS_ENOMEM;
        }
        ix->list_cap_before = ix->list_cap;
        ix->list = list;
        ix->list_cap = want;
        ix->list_grew = true;
    }
    ix->grow_list = ix->list;
    ix->grow_n = n_list;
    gather(ix, s, ix->grow_list, &got);
    if (buddy) {
        gather(ix, buddy, ix->grow_list, &got);
    }
    RS_ASSERT(got == n_list);
    size_t n_hi = 0;
    if (split) {
        uint32_t bit = 63u - s->local;
        for (size_t i = 0; i < n_list; i++) {
            n_hi += (ix->grow_list[i].hash >> bit) & 1;
        }
        split = split_pays(ix, s, n_list, n_hi);
    }
    if (buddy) {
        /* The merge's condition keeps the room within most too. */
        uint32_t most = s->max_groups < buddy->max_groups ? s->max_groups
                                                          : buddy->max_groups;
        uint32_t ng = groups_for(n_list + room + 1, hash);
        ix->grow_a = seg_new(st, ng < most ? ng : most, s->local - 1, most);
        ix->grow_buddy = buddy;
        set_held(ix, ix->grow_a, held, peak);
    } else if (!split) {
        uint32_t ng = groups_for((size_t)s->n + room + 1, hash);
        uint32_t most = s->max_groups;
        if (purge && ng > s->n_groups) {
            ng = s->n_groups;
        } else if (!purge && ng > most) {
            if (s->n_groups < most) {
                ng = most; /* the next growth splits it */
            } else {
                /* A split that would not pay (split_pays()): grow past
                 * the largest size instead, and ask again next time. */
                most = ng;
            }
        }
        /* Never below what a rollback of the open group may put back
         * (a purge's size has room for it already). */
        size_t floor = ((size_t)s->n + room + 1 + GROUP - 1) / GROUP;
        if (ng < floor) {
            ng = (uint32_t)floor;
        }
        ix->grow_a = seg_new(st, ng, s->local, most);
        set_held(ix, ix->grow_a, held, peak);
    } else {
        size_t n_lo = n_list - n_hi;
        size_t lo = n_lo + room_of(n_lo, held, peak),
               hi = n_hi + room_of(n_hi, held, peak);
        ix->grow_a = seg_new(st, groups_for(lo + 1, hash), s->local + 1,
                             max_groups_for(hash, lo));
        ix->grow_b = seg_new(st, groups_for(hi + 1, hash >> 3), s->local + 1,
                             max_groups_for(hash >> 10, hi));
        set_held(ix, ix->grow_a, held, peak);
        set_held(ix, ix->grow_b, held, peak);
        if (s->local == ix->depth && ix->grow_a && ix->grow_b) {
            ix->grow_dir = rs__alloc(
                st, RS_MEM_INDEXES, ((size_t)2 << ix->depth) * sizeof *ix->dir);
        }
        if (!ix->grow_b || (s->local == ix->depth && !ix->grow_dir)) {
            seg_free(st, ix->grow_a);
            ix->grow_a = NULL;
        }
    }
    if (ix->grow_a == NULL) {
        rs__index_cancel(st, ix);
        return RS_ENOMEM;
    }
    ix->grow_old = s;
    ix->grow_hash = hash;
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
    if (ix->list_grew) {
        /* Give back what this prepare grew (a shrink cannot fail). */
        size_t len = ix->list_cap * sizeof *ix->list;
        if (ix->list_cap_before == 0) {
            rs__free(st, RS_MEM_INDEXES, ix->list, len);
            ix->list = NULL;
        } else {
            ix->list = rs__realloc(st, RS_MEM_INDEXES, ix->list, len,
                                   ix->list_cap_before * sizeof *ix->list);
        }
        ix->list_cap = ix->list_cap_before;
        ix->list_grew = false;
    }
    ix->grow_old = ix->grow_a = ix->grow_b = ix->grow_buddy = NULL;
    ix->grow_dir = NULL;
    ix->grow_list = NULL;
    ix->grow_n = 0;
}

/* Apply the prepared growth: put the gathered keys into the new
 * segment(s), point the directory at them, free the old ones. */
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
        ix->grow_dir = NULL;
        ix->depth++;
        n_dir *= 2;
    }
    /* The old segment fills a run of 2^(depth - local) entries. */
    size_t run = (size_t)1 << (ix->depth - old->local);
    size_t first = dir_of(ix->depth, ix->grow_hash) & ~(run - 1);
    RS_ASSERT(ix->dir[first].s == old);
    const rs__moved *list = ix->grow_list;
    if (ix->grow_b) {
        uint32_t bit = 63u - old->local;
        for (size_t i = 0; i < ix->grow_n; i++) {
            put_fresh((list[i].hash >> bit) & 1 ? ix->grow_b : ix->grow_a,
                      list[i].hash, list[i].slot);
        }
        for (size_t i = 0; i < run; i++) {
            rs__seg *half = i < run / 2 ? ix->grow_a : ix->grow_b;
            ix->dir[first + i] = (rs__dirent){half, half->n_groups};
        }
        ix->n_segs++;
    } else {
        for (size_t i = 0; i < ix->grow_n; i++) {
            put_fresh(ix->grow_a, list[i].hash, list[i].slot);
        }
        if (ix->grow_buddy) {
            first &= ~run; /* the merged run covers both halves */
            run *= 2;
            seg_free(st, ix->grow_buddy);
            ix->n_segs--;
        }
        for (size_t i = 0; i < run; i++) {
            ix->dir[first + i] = (rs__dirent){ix->grow_a, ix->grow_a->n_groups};
        }
    }
    if (ix->grow_n > ix->grow_pause_entries) {
        ix->grow_pause_entries = ix->grow_n;
    }
    seg_free(st, old);
    ix->grow_a = ix->grow_b = NULL; /* now owned by the directory */
    ix->list_grew = false;          /* the list keeps its size */
    if (ix->list_cap > LIST_KEEP) {
        /* Only a segment grown past its largest size (keys that share
         * hash bits) gathers more: give that back rather than keep 16
         * bytes a key of it.  A shrink cannot fail. */
        ix->list = rs__realloc(st, RS_MEM_INDEXES, ix->list,
                               ix->list_cap * sizeof *ix->list,
                               LIST_KEEP / 2 * sizeof *ix->list);
        ix->list_cap = LIST_KEEP / 2;
    }
    rs__index_cancel(st, ix); /* clears the rest */
}

bool rs__index_has_room(const rs__index *ix, uint64_t hash)
{
    /* A tombstone is room too: put() takes the first free bucket.  Probes
     * are bounded by the segment's groups, so a segment a rollback filled
     * to its last bucket still answers; the next prepare there rebuilds
     * it. */
    const rs__seg *s = ix->dir[dir_of(ix->depth, hash)].s;
    return (size_t)s->n < (size_t)s->n_groups * GROUP;
}

void rs__index_insert(rs_store *st, rs__index *ix, uint64_t hash, uint32_t slot)
{
    if (ix->grow_old) {
        grow(st, ix);
    }
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)].s;
    RS_ASSERT((size_t)s->n < (size_t)s->n_groups * GROUP);
    put(s, hash, slot);
    ix->n++;
    if (ix->hold != 0) {
        /* A moment of the group its rollback will pass through again. */
        set_held(ix, s, held_of(ix, s), peak_of(ix, s));
    }
}

void rs__index_delete(rs__index *ix, uint64_t hash, uint32_t slot)
{
    rs__seg *s = ix->dir[dir_of(ix->depth, hash)].s;
    uint32_t fp = fp_of(hash), ng = s->n_groups, g = home_of(hash, ng);
    for (uint32_t probes = 0; probes < ng; probes++) {
        uint32_t *grp = s->e + (size_t)g * GROUP;
        for (uint32_t m = match_fp(grp, fp); m != 0; m &= m - 1) {
            uint32_t i = (uint32_t)__builtin_ctz(m);
            if ((grp[i] & SLOT_MASK) != slot + 1) {
                continue;
            }
            /* Emptying is safe only in a group that was never full (it
             * still has an empty bucket): no probe ever passed it. */
            if (match_empty(grp)) {
                grp[i] = EMPTY;
            } else {
                grp[i] = TOMB;
                s->n_tomb++;
            }
            if (ix->hold != 0) {
                /* Taken out inside a group: its rollback may put it back. */
                set_held(ix, s, held_of(ix, s) + 1u, peak_of(ix, s));
            }
            s->n--;
            ix->n--;
            return;
        }
        if (match_empty(grp)) {
            break;
        }
        if (++g == ng) {
            g = 0;
        }
    }
    RS_ASSERT(0 && "index entry to delete not found");
}

/* ------------------------------------------------------------------------ */
/* Reserve                                                                   */
/* ------------------------------------------------------------------------ */

/* A reserved segment is sized for at most this many keys: half its largest
 * size, so a bulk load that reaches the reserved count leaves every
 * segment far from its split point. */
#define RESERVE_SEG_KEYS ((size_t)SEG_MAX_GROUPS * GROUP / 2)

/* A segment's share of n keys at local depth `local`, rounded up. */
static size_t share_of(size_t n, uint32_t local)
{
    return (n + ((size_t)1 << local) - 1) >> local;
}

/* Whether inserting up to n keys in all would grow no segment: each can
 * take its share of n (or keeps its own keys, if more) below the 7/8 at
 * which it grows.  A reserve then has nothing to do, so asking twice
 * costs one walk of the directory. */
static bool has_room_for(const rs__index *ix, size_t n)
{
    size_t n_dir = (size_t)1 << ix->depth;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i].s;
        i += (size_t)1 << (ix->depth - s->local);
        size_t want = share_of(n, s->local);
        if (want < s->n) {
            want = s->n;
        }
        if ((want + s->n_tomb) * 8 > (size_t)s->n_groups * GROUP * 7) {
            return false;
        }
    }
    return true;
}

/* Bits to draw a reserved segment's sizes from, as growth draws them from
 * an inserted key's hash (splitmix64 of the segment's number). */
static uint64_t draw_bits(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15u + 0x632BE59BD9B4E019u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* The layout a growth from empty would reach at n keys, made at once:
 * 2^depth segments of one local depth, each sized for its share of n at a
 * load drawn between 0.67 and 0.76 (growth's average is 0.71), so the
 * segments still reach 7/8 at different times if the store grows past n.
 * Growth moves each key about three times, each move a read of its
 * record; a reserve moves the keys already held once and the rest never. */
rs_status rs__index_plan_reserve(rs_store *st, const rs__index *ix, size_t n,
                                 rs__index_plan *plan)
{
    RS_ASSERT(ix->grow_old == NULL);
    memset(plan, 0, sizeof *plan);
    if (n <= ix->n || has_room_for(ix, n)) {
        return RS_OK;
    }
    uint32_t depth = 0;
    while (depth < MAX_DEPTH && share_of(n, depth) > RESERVE_SEG_KEYS) {
        depth++;
    }
    size_t n_dir = (size_t)1 << depth;
    plan->depth = depth;
    plan->n_segs = (uint32_t)n_dir;
    plan->dir = rs__calloc(st, RS_MEM_INDEXES, n_dir * sizeof *plan->dir);
    if (plan->dir == NULL) {
        return RS_ENOMEM;
    }
    if (ix->n > 0) {
        plan->list = rs__alloc(st, RS_MEM_INDEXES, ix->n * sizeof *plan->list);
        if (plan->list == NULL) {
            rs__index_plan_free(st, ix, plan);
            return RS_ENOMEM;
        }
        size_t got = 0, old_dir = (size_t)1 << ix->depth;
        for (size_t i = 0; i < old_dir;) {
            const rs__seg *s = ix->dir[i].s;
            i += (size_t)1 << (ix->depth - s->local);
            gather(ix, s, plan->list, &got);
        }
        RS_ASSERT(got == ix->n);
        /* Count each new segment's keys in its entry's n_groups for now:
         * keys that share hash bits may give one more than its share. */
        for (size_t i = 0; i < got; i++) {
            plan->dir[dir_of(depth, plan->list[i].hash)].n_groups++;
        }
    }
    size_t share = share_of(n, depth);
    for (size_t i = 0; i < n_dir; i++) {
        size_t keys =
            plan->dir[i].n_groups > share ? plan->dir[i].n_groups : share;
        uint64_t bits = draw_bits(i);
        size_t f16 = 21 + ((bits >> 40) & 3); /* 1.31 .. 1.5, in 16ths */
        uint32_t ng = (uint32_t)((keys * f16 / 16 + GROUP - 1) / GROUP);
        rs__seg *s =
            seg_new(st, ng ? ng : 1, depth, max_groups_for(bits, keys));
        if (s == NULL) {
            rs__index_plan_free(st, ix, plan);
            return RS_ENOMEM;
        }
        plan->dir[i] = (rs__dirent){s, s->n_groups};
    }
    return RS_OK;
}

void rs__index_plan_free(rs_store *st, const rs__index *ix,
                         rs__index_plan *plan)
{
    if (plan->dir != NULL) {
        /* Each entry owns its segment (one local depth); an entry whose
         * segment was not made yet holds a count. */
        for (size_t i = 0; i < plan->n_segs; i++) {
            seg_free(st, plan->dir[i].s);
        }
        rs__free(st, RS_MEM_INDEXES, plan->dir,
                 (size_t)plan->n_segs * sizeof *plan->dir);
    }
    if (plan->list != NULL) {
        rs__free(st, RS_MEM_INDEXES, plan->list, ix->n * sizeof *plan->list);
    }
    memset(plan, 0, sizeof *plan);
}

void rs__index_apply(rs_store *st, rs__index *ix, rs__index_plan *plan)
{
    if (plan->dir == NULL) {
        return;
    }
    for (size_t i = 0; i < ix->n; i++) {
        const rs__moved *m = &plan->list[i];
        put(plan->dir[dir_of(plan->depth, m->hash)].s, m->hash, m->slot);
    }
    dir_free(st, ix);
    if (plan->list != NULL) {
        rs__free(st, RS_MEM_INDEXES, plan->list, ix->n * sizeof *plan->list);
    }
    ix->dir = plan->dir;
    ix->depth = plan->depth;
    ix->n_segs = plan->n_segs;
    memset(plan, 0, sizeof *plan);
}

size_t rs__index_probe_groups(const rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth, total = 0;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i].s;
        i += (size_t)1 << (ix->depth - s->local);
        uint32_t cap = s->n_groups * GROUP;
        for (uint32_t b = 0; b < cap; b++) {
            if (!is_entry(s->e[b])) {
                continue;
            }
            uint32_t slot = (s->e[b] & SLOT_MASK) - 1;
            uint64_t h;
            ix->hash_slots(ix->ctx, &slot, 1, &h);
            uint32_t home = home_of(h, s->n_groups), g = b / GROUP;
            total += (g + s->n_groups - home) % s->n_groups + 1;
        }
    }
    return total;
}

rs_status rs__index_check(const rs__index *ix)
{
    size_t n_dir = (size_t)1 << ix->depth, total = 0, n_segs = 0;
    for (size_t i = 0; i < n_dir;) {
        const rs__seg *s = ix->dir[i].s;
        if (s->local > ix->depth) {
            return RS_ECORRUPT;
        }
        size_t run = (size_t)1 << (ix->depth - s->local);
        if (i % run != 0) {
            return RS_ECORRUPT;
        }
        for (size_t j = 0; j < run; j++) {
            if (ix->dir[i + j].s != s ||
                ix->dir[i + j].n_groups != s->n_groups) {
                return RS_ECORRUPT;
            }
        }
        uint32_t n = 0, tomb = 0;
        uint32_t cap = s->n_groups * GROUP;
        for (uint32_t b = 0; b < cap; b++) {
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
            uint8_t tmp[RS_KEY_TMP];
            ix->key_of(ix->ctx, slot, &k, &klen, tmp);
            uint64_t h;
            ix->hash_slots(ix->ctx, &slot, 1, &h);
            if (fp_of(h) != e >> SLOT_BITS ||
                dir_of(ix->depth, h) / run != i / run ||
                rs__index_find(ix, h, k, klen) != slot) {
                return RS_ECORRUPT;
            }
        }
        if (n != s->n || tomb != s->n_tomb || n + tomb > cap) {
            return RS_ECORRUPT;
        }
        total += n;
        n_segs++;
        i += run;
    }
    return total == ix->n && n_segs == ix->n_segs ? RS_OK : RS_ECORRUPT;
}
