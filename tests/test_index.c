/*
 * test_index.c: the key and unique indexes under keys chosen to collide,
 * and the index alone over a fake key source.
 *
 * Names are chosen by players, so an index must hold names found by brute
 * force to collide as well as it holds random ones.  Each case builds such
 * names against the hash a store used before seeds (XXH3 without a seed,
 * which is XXH3 with seed 0) and compares a store that holds them with one
 * that holds as many random names: index bytes (rs_mem) at most 1.5 times,
 * groups read by lookups (rs__index_probe_groups(), a count, not a time) at
 * most 2 times, and the directory within its bound (index.c, "Bound").
 *
 * - crafted_seeded: the names against an ordinary store, whose random seed
 *   spreads them as random names (the defence).
 * - crafted_unseeded: the same names with the store's seed forced to 0, so
 *   they really share their top bits: the bound, not the seed, holds.
 * - path_unseeded: names whose leading zero bits follow a geometric law, so
 *   every split gives 1/4 of its keys away and the rest split again on the
 *   next bit, inserted in no particular order.
 * - chain_unseeded: the same law played adaptively, every name aimed at the
 *   deepest segment: the case the limit on directory entries a segment is
 *   for (without it: depth 16 and 1 MB of index after 1,652 names).
 * - churn_unseeded: colliding names removed and put back (purge and merge
 *   of a segment that grew past its largest size).
 *
 * The fake_* cases drive an rs__index alone, over a plain array of keys
 * whose hashes they choose (fake_src: the key_of, key_eq and hash_slots
 * callbacks of index.h, counting their calls), with no store records in
 * the way: growth over 40,000 keys (load, directory bound, accounting,
 * moves a key, the longest growth), fingerprints (which probes compare a
 * key), deletes (tombstones in full groups, churn at a constant count)
 * and the longest rehash when keys share their top bits.
 *
 * The brute force (about 16 million hashes in all) takes about 0.2 s in an
 * optimized build.  Test builds split segments at 28 to 56
 * keys (SEG_MAX_GROUPS 4), so a few thousand names reach the depths a
 * million would reach with the real sizes.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs_store's seed, the class's indexes */

#include "alloc_check.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define N_NAMES 3000
#define SHARED_BITS 12 /* top hash bits the crafted names share */
#define NAME_CAP 24
#define SEG_MAX_GROUPS_SMALL 4 /* index.c's SEG_MAX_GROUPS in test builds */

typedef char name_t[NAME_CAP];

/* snprintf's length, as the bytes it wrote: within the buffer, which the
 * compiler can then see (gcc -O3 warns of reads past it otherwise). */
static size_t fitted(int len, size_t cap)
{
    return len < 0 ? 0 : (size_t)len < cap ? (size_t)len : cap - 1;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* N_NAMES names whose XXH3_64bits() share their top SHARED_BITS bits,
 * found once (12 million hashes) for every case that uses them. */
static name_t *crafted_names(void)
{
    static name_t *out;
    if (out != NULL) {
        return out;
    }
    size_t n = N_NAMES;
    out = malloc(n * sizeof *out);
    uint64_t want = 0;
    size_t got = 0;
    for (uint64_t i = 0; got < n; i++) {
        char buf[NAME_CAP];
        int len = snprintf(buf, sizeof buf, "p%" PRIx64, i);
        uint64_t top =
            XXH3_64bits(buf, fitted(len, sizeof buf)) >> (64 - SHARED_BITS);
        if (i == 0) {
            want = top;
        }
        if (top == want) {
            memcpy(out[got++], buf, (size_t)len + 1);
        }
    }
    return out;
}

static name_t *random_names(size_t n)
{
    name_t *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i], NAME_CAP, "r%016" PRIx64, rnd());
    }
    return out;
}

/* n names whose XXH3_64bits() has exactly t leading zero bits for 1/4 of
 * them at each t below T, the rest at T: among names that agree on their
 * first t bits, 1/4 differ at bit t.  About 3 million hashes. */
static name_t *path_names(size_t n)
{
    enum { T = 14 };
    size_t need[T + 1], left = n;
    for (int t = 0; t < T; t++) {
        need[t] = left / 4;
        left -= need[t];
    }
    need[T] = left;
    name_t *out = malloc(n * sizeof *out);
    size_t got = 0;
    for (uint64_t i = 0; got < n; i++) {
        char buf[NAME_CAP];
        int len = snprintf(buf, sizeof buf, "q%" PRIx64, i);
        uint64_t h = XXH3_64bits(buf, fitted(len, sizeof buf));
        int t = h == 0 ? 64 : __builtin_clzll(h);
        if (t <= T && need[t] > 0) {
            need[t]--;
            memcpy(out[got++], buf, (size_t)len + 1);
        }
    }
    for (size_t i = n; i > 1; i--) { /* insert in no particular order */
        size_t j = (size_t)(rnd() % i);
        name_t tmp;
        memcpy(tmp, out[i - 1], sizeof tmp);
        memcpy(out[i - 1], out[j], sizeof tmp);
        memcpy(out[j], tmp, sizeof tmp);
    }
    return out;
}

typedef struct loaded {
    rs_store *st;
    rs_class *cls;
    size_t index_bytes;              /* rs_mem: both indexes */
    size_t name_bytes;               /* the name index alone */
    size_t probe_groups;             /* groups read to find every name once */
    uint32_t depth, n_segs, biggest; /* the name index's shape */
} loaded;

static void measure(loaded *l)
{
    CHECK_OK(l->st, rs__store_check(l->st));
    rs_mem_report m;
    rs_mem(l->st, &m);
    const rs__index *ix = &l->cls->ix[1];
    l->index_bytes = m.bytes[RS_MEM_INDEXES];
    l->name_bytes = rs__index_bytes(ix);
    l->probe_groups = rs__index_probe_groups(ix);
    l->depth = ix->depth;
    l->n_segs = ix->n_segs;
    l->biggest = 0;
    for (size_t i = 0; i < ((size_t)1 << ix->depth); i++) {
        if (ix->dir[i].n_groups > l->biggest) {
            l->biggest = ix->dir[i].n_groups;
        }
    }
}

/* A store holding one player per name; seed 0 forces the unseeded hash. */
static loaded load(const name_t *names, size_t n, bool unseeded)
{
    loaded l = {0};
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &l.st));
    if (unseeded) {
        l.st->hash_seed = 0; /* nothing hashed yet: safe to change */
    }
    const char *text = "Player { uid: str(16) key; name: str(32) unique; "
                       "stat: u8 = 0; level: u16 = 0 }";
    CHECK_OK(l.st, rs_class_parse(l.st, text, strlen(text), &l.cls));
    for (size_t i = 0; i < n; i++) {
        char uid[24];
        snprintf(uid, sizeof uid, "u%zu", i);
        rs_named v[] = {{"uid", rs_val_cstr(uid)},
                        {"name", rs_val_cstr(names[i])}};
        rs_handle h;
        CHECK_OK(l.st, rs_insert(l.st, l.cls, v, 2, &h));
    }
    CHECK_EQ(rs_count(l.cls), n);
    for (size_t i = 0; i < n; i++) {
        rs_value v = rs_val_cstr(names[i]);
        rs_handle h;
        CHECK_OK(l.st, rs_find(l.st, l.cls, 1, &v, &h));
    }
    measure(&l);
    return l;
}

static void show(const char *what, const loaded *l)
{
    printf("  %-8s index bytes %7zu (names %7zu)  groups a lookup %.3f  "
           "depth %2u  segments %4u  biggest %4u groups\n",
           what, l->index_bytes, l->name_bytes,
           (double)l->probe_groups / (double)rs_count(l->cls), l->depth,
           l->n_segs, l->biggest);
}

/* The attack costs at most 1.5 times the index bytes and 2 times the
 * lookups of random names, and the directory keeps its bound. */
static void within_targets(const loaded *attack, const loaded *random)
{
    CHECK(attack->index_bytes * 2 <= random->index_bytes * 3);
    CHECK(attack->name_bytes * 2 <= random->name_bytes * 3);
    CHECK(attack->probe_groups <= random->probe_groups * 2);
    CHECK(((size_t)1 << attack->depth) <=
          (size_t)RS__DIR_PER_SEG * attack->n_segs);
}

static void test_crafted_seeded(void)
{
    name_t *crafted = crafted_names();
    name_t *random = random_names(N_NAMES);
    loaded a = load((const name_t *)crafted, N_NAMES, false);
    loaded r = load((const name_t *)random, N_NAMES, false);
    show("crafted", &a);
    show("random", &r);
    within_targets(&a, &r);
    /* The store's seed scattered what XXH3 alone would have stacked: the
     * directory did not follow the shared bits. */
    CHECK(a.depth < SHARED_BITS);
    rs_store_close(a.st);
    rs_store_close(r.st);
    free(random);
}

static void test_crafted_unseeded(void)
{
    name_t *crafted = crafted_names();
    name_t *random = random_names(N_NAMES);
    loaded a = load((const name_t *)crafted, N_NAMES, true);
    loaded r = load((const name_t *)random, N_NAMES, true);
    show("crafted", &a);
    show("random", &r);
    /* They do collide under this store's hash. */
    uint64_t top =
        rs__index_hash(0, crafted[0], strlen(crafted[0])) >> (64 - SHARED_BITS);
    for (size_t i = 0; i < N_NAMES; i++) {
        CHECK_EQ(
            rs__index_hash(a.st->hash_seed, crafted[i], strlen(crafted[i])) >>
                (64 - SHARED_BITS),
            top);
    }
    within_targets(&a, &r);
    /* No split on the shared bits pays, so none doubled the directory:
     * the names stay in one segment that grew past its largest size. */
    CHECK(a.depth <= 1);
    CHECK(a.biggest > 16 * SEG_MAX_GROUPS_SMALL);
    rs_store_close(a.st);
    rs_store_close(r.st);
    free(random);
}

static void test_path_unseeded(void)
{
    name_t *path = path_names(N_NAMES);
    name_t *random = random_names(N_NAMES);
    loaded a = load((const name_t *)path, N_NAMES, true);
    loaded r = load((const name_t *)random, N_NAMES, true);
    show("path", &a);
    show("random", &r);
    within_targets(&a, &r);
    /* Each level's split pays (1/4 of the keys leave), so only the limit
     * on directory entries a segment stops the chain short of depth 14. */
    CHECK(a.depth < 14);
    rs_store_close(a.st);
    rs_store_close(r.st);
    free(path);
    free(random);
}

/* The local depth of the segment that holds the hashes that start with
 * the most zero bits (directory entry 0). */
static uint32_t first_local(const rs__index *ix)
{
    size_t run = 1;
    while (run < ((size_t)1 << ix->depth) && ix->dir[run].s == ix->dir[0].s) {
        run *= 2;
    }
    return ix->depth - (uint32_t)__builtin_ctzll(run);
}

/* A name whose XXH3_64bits() has exactly t leading zero bits (t < 24):
 * brute force, keeping what it passes for later calls. */
static void name_with_zeros(int t, char out[NAME_CAP])
{
    enum { POOL = 8 };
    static char pool[25][POOL][NAME_CAP];
    static int n_pool[25];
    static uint64_t next;
    while (n_pool[t] == 0) {
        char buf[NAME_CAP];
        int len = snprintf(buf, sizeof buf, "z%" PRIx64, next++);
        uint64_t h = XXH3_64bits(buf, fitted(len, sizeof buf));
        int z = h == 0 ? 64 : __builtin_clzll(h);
        if (z <= 24 && n_pool[z] < POOL) {
            memcpy(pool[z][n_pool[z]++], buf, (size_t)len + 1);
        }
    }
    memcpy(out, pool[t][--n_pool[t]], NAME_CAP);
}

/* The chain, played adaptively against a known hash: every name goes into
 * the segment of the hashes with the most leading zeros, local depth L,
 * with L + k leading zeros where k = 0 for 1/4 of them (k at most 4), so
 * each of its splits pays (1/4 of its keys leave) and the rest split again
 * on the next bit.  Few segments, ever deeper: without the limit of RS__DIR_PER_SEG
 * entries a segment, a few hundred names double the directory at every
 * level. */
static void test_chain_unseeded(void)
{
    enum { N = 2000 };
    name_t *names = malloc(N * sizeof *names);
    loaded a = load(NULL, 0, true);
    const rs__index *ix = &a.cls->ix[1];
    for (size_t i = 0; i < N && ix->depth < 16; i++) {
        int lc = (int)first_local(ix), t = lc;
        while (t < lc + 4 && rnd() % 4 != 0) {
            t++;
        }
        name_with_zeros(t, names[i]);
        char uid[24];
        snprintf(uid, sizeof uid, "u%zu", i);
        rs_named v[] = {{"uid", rs_val_cstr(uid)},
                        {"name", rs_val_cstr(names[i])}};
        rs_handle h;
        CHECK_OK(a.st, rs_insert(a.st, a.cls, v, 2, &h));
    }
    CHECK_EQ(rs_count(a.cls), N);
    measure(&a);
    name_t *random = random_names(N);
    loaded r = load((const name_t *)random, N, true);
    show("chain", &a);
    show("random", &r);
    within_targets(&a, &r);
    CHECK(a.depth < 12);
    rs_store_close(a.st);
    rs_store_close(r.st);
    free(names);
    free(random);
}

static void test_churn_unseeded(void)
{
    name_t *crafted = crafted_names();
    loaded a = load((const name_t *)crafted, N_NAMES, true);
    for (int round = 0; round < 3; round++) {
        /* Remove every other name, then put it back under a new uid. */
        for (size_t i = (size_t)round % 2; i < N_NAMES; i += 2) {
            rs_value v = rs_val_cstr(crafted[i]);
            rs_handle h;
            CHECK_OK(a.st, rs_find(a.st, a.cls, 1, &v, &h));
            CHECK_OK(a.st, rs_remove(a.st, h));
        }
        CHECK_OK(a.st, rs__store_check(a.st));
        for (size_t i = (size_t)round % 2; i < N_NAMES; i += 2) {
            char uid[24];
            snprintf(uid, sizeof uid, "c%d-%zu", round, i);
            rs_named v[] = {{"uid", rs_val_cstr(uid)},
                            {"name", rs_val_cstr(crafted[i])}};
            rs_handle h;
            CHECK_OK(a.st, rs_insert(a.st, a.cls, v, 2, &h));
        }
        CHECK_OK(a.st, rs__store_check(a.st));
    }
    CHECK_EQ(rs_count(a.cls), N_NAMES);
    const rs__index *ix = &a.cls->ix[1];
    CHECK(((size_t)1 << ix->depth) <= (size_t)RS__DIR_PER_SEG * ix->n_segs);
    rs_mem_report m;
    rs_mem(a.st, &m);
    /* Churn added no keys: the index stays within 1.5 times its size. */
    CHECK(m.bytes[RS_MEM_INDEXES] * 2 <= a.index_bytes * 3);
    rs_store_close(a.st);
}

/* ------------------------------------------------------------------------ */
/* The index alone, over a plain array of keys                               */
/* ------------------------------------------------------------------------ */

/* A key source that is no store: slot i's key is keys[i] and its hash
 * hashes[i], which a case chooses (the real hash of the key, or bits made
 * to collide: a fingerprint, a home group, the top bits).  It counts the
 * callbacks, so a case can tell what the index read: a key compared for a
 * probe, a key rehashed by a growth. */
#define FAKE_KEY 16

typedef struct fake_src {
    char (*keys)[FAKE_KEY];
    uint64_t *hashes;
    size_t n_eq;     /* key_eq calls */
    size_t n_hashed; /* keys hashed through hash_slots */
} fake_src;

static void fake_key_of(const void *ctx, uint32_t slot, const uint8_t **key,
                        size_t *len, uint8_t tmp[RS_KEY_TMP])
{
    const fake_src *f = ctx;
    (void)tmp;
    *key = (const uint8_t *)f->keys[slot];
    *len = strlen(f->keys[slot]);
}

static bool fake_key_eq(const void *ctx, uint32_t slot, const void *key,
                        size_t len)
{
    fake_src *f = (fake_src *)ctx; /* ours, not const: count the call */
    f->n_eq++;
    return strlen(f->keys[slot]) == len && memcmp(f->keys[slot], key, len) == 0;
}

static void fake_hash_slots(const void *ctx, const uint32_t *slots, size_t n,
                            uint64_t *hashes)
{
    fake_src *f = (fake_src *)ctx;
    f->n_hashed += n;
    for (size_t i = 0; i < n; i++) {
        hashes[i] = f->hashes[slots[i]];
    }
}

/* n slots, key i "k<i>" hashed with the store hash under a fixed seed;
 * a case may then overwrite hashes. */
static fake_src fake_new(size_t n)
{
    fake_src f = {0};
    f.keys = calloc(n, sizeof *f.keys);
    f.hashes = calloc(n, sizeof *f.hashes);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(f.keys[i], FAKE_KEY, "k%zu", i);
        f.hashes[i] = rs__index_hash(0x9E3779B97F4A7C15ull, f.keys[i],
                                     fitted(len, FAKE_KEY));
    }
    return f;
}

static void fake_free(fake_src *f)
{
    free(f->keys);
    free(f->hashes);
}

/* The index allocates through a store: an empty one on the checking
 * allocator, so its bytes are counted (and checked) like a class's. */
static alloc_check fake_alloc;

/* What an empty store counts under RS_MEM_INDEXES (fake_store() sets
 * it), so that the rest is the index's. */
static size_t fake_base_bytes;

static rs_store *fake_store(rs__index *ix, fake_src *f)
{
    rs_store *st = NULL;
    CHECK_OK(NULL, rs_store_open(alloc_check_fn, &fake_alloc, &st));
    rs_mem_report m;
    rs_mem(st, &m);
    fake_base_bytes = m.bytes[RS_MEM_INDEXES];
    CHECK_OK(st, rs__index_init(st, ix, fake_key_of, fake_key_eq,
                                fake_hash_slots, f));
    return st;
}

/* Every byte the index holds is counted under RS_MEM_INDEXES. */
static bool fake_accounted(rs_store *st, const rs__index *ix)
{
    rs_mem_report m;
    rs_mem(st, &m);
    return CHECK_EQ(m.bytes[RS_MEM_INDEXES] - fake_base_bytes,
                    rs__index_bytes(ix));
}

static void fake_close(rs_store *st, rs__index *ix)
{
    rs__index_free(st, ix);
    rs_store_close(st);
    CHECK(alloc_check_clean(&fake_alloc, "index on a fake key source"));
}

static void fake_insert(rs_store *st, rs__index *ix, const fake_src *f,
                        uint32_t slot)
{
    CHECK_OK(st, rs__index_prepare(st, ix, f->hashes[slot]));
    rs__index_insert(st, ix, f->hashes[slot], slot);
}

static uint32_t fake_find(const rs__index *ix, const fake_src *f, uint32_t slot)
{
    return rs__index_find(ix, f->hashes[slot], f->keys[slot],
                          strlen(f->keys[slot]));
}

/* Buckets of every segment, each counted once. */
static size_t fake_buckets(const rs__index *ix)
{
    size_t total = 0, n_dir = (size_t)1 << ix->depth;
    for (size_t i = 0; i < n_dir;) {
        size_t run = 1;
        while (i + run < n_dir && ix->dir[i + run].s == ix->dir[i].s) {
            run++;
        }
        total += (size_t)ix->dir[i].n_groups * 16;
        i += run;
    }
    return total;
}

/* Growth over 40,000 keys of random hashes: at every size the walk of
 * rs__index_check() passes, every key is found, the load stays between
 * 0.5 and 7/8 (growth keeps it near 0.71), the directory keeps its bound,
 * every byte is accounted under RS_MEM_INDEXES, a key is rehashed a few
 * times in all, not once per growth of the whole, and the longest growth
 * (the longest pause an insert sees) does not grow with the index. */
static void test_fake_growth(void)
{
    enum { N = 40000 };
    fake_src f = fake_new(N);
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    size_t checkpoints[] = {100, 1000, 5000, N}, next = 0;
    for (uint32_t i = 0; i < N; i++) {
        fake_insert(st, &ix, &f, i);
        if (i + 1 != checkpoints[next]) {
            continue;
        }
        next++;
        size_t moves = f.n_hashed; /* the walks below hash keys too */
        CHECK_OK(st, rs__index_check(&ix));
        CHECK_EQ(ix.n, i + 1);
        size_t missing = 0;
        for (uint32_t k = 0; k <= i; k++) {
            missing += fake_find(&ix, &f, k) != k;
        }
        CHECK_EQ(missing, 0);
        double load = (double)ix.n / (double)fake_buckets(&ix);
        printf("  %6u keys: load %.3f, %u segments, depth %u, %zu bytes, "
               "%.2f rehashes a key, longest growth %zu keys\n",
               i + 1, load, ix.n_segs, ix.depth, rs__index_bytes(&ix),
               (double)moves / (i + 1), ix.grow_pause_entries);
        CHECK(load >= 0.5 && load <= 0.875);
        CHECK(((size_t)1 << ix.depth) <= (size_t)RS__DIR_PER_SEG * ix.n_segs);
        fake_accounted(st, &ix);
        /* A few moves a key whatever the size: about three with the real
         * segments (index.c, "Cost"), fewer with the test build's. */
        CHECK(moves <= 3 * (size_t)(i + 1));
        f.n_hashed = moves;
        /* One segment's rehash, a little more when a lopsided split
         * raised a half's largest size: never more than two segments at
         * their largest, at 100 keys as at 40,000. */
        CHECK(ix.grow_pause_entries <= 2 * 16 * SEG_MAX_GROUPS_SMALL);
    }
    fake_close(st, &ix);
    fake_free(&f);
}

/* A hash from its parts: fp is what index.c's fingerprint reads (bits 32
 * to 38), low its home group's (bits 0 to 31), top the directory's (the
 * high bits). */
static uint64_t fake_hash(uint64_t top, uint32_t fp, uint32_t low)
{
    return top << 39 | (uint64_t)(fp & 0x7F) << 32 | low;
}

/* Fingerprints: ten keys in one bucket group, with fingerprints 0 to 9.
 * Finding one compares exactly one key; a miss whose fingerprint no entry
 * has compares none; a miss that shares a fingerprint compares one, and
 * so does a key whose whole hash another key has.  rs__index_candidate()
 * names a slot by its fingerprint alone. */
static void test_fake_fingerprints(void)
{
    enum { N = 12 };
    fake_src f = fake_new(N);
    for (uint32_t i = 0; i < 10; i++) {
        f.hashes[i] = fake_hash(0x5A5A, i, 0x12345678);
    }
    f.hashes[10] = f.hashes[3];                        /* a whole collision */
    f.hashes[11] = fake_hash(0x5A5A, 100, 0x12345678); /* absent */
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < 10; i++) {
        fake_insert(st, &ix, &f, i);
    }
    CHECK_EQ(ix.grow_pause_entries, 0); /* all in the first group */
    for (uint32_t i = 0; i < 10; i++) {
        f.n_eq = 0;
        CHECK_EQ(fake_find(&ix, &f, i), i);
        CHECK_EQ(f.n_eq, 1);
    }
    f.n_eq = 0;
    CHECK_EQ(fake_find(&ix, &f, 11), UINT32_MAX);
    CHECK_EQ(f.n_eq, 0);
    f.n_eq = 0;
    CHECK_EQ(rs__index_find(&ix, f.hashes[3], "other", 5), UINT32_MAX);
    CHECK_EQ(f.n_eq, 1);
    f.n_eq = 0;
    CHECK_EQ(rs__index_candidate(&ix, f.hashes[5]), 5);
    CHECK_EQ(rs__index_candidate(&ix, f.hashes[11]), UINT32_MAX);
    CHECK_EQ(f.n_eq, 0);
    fake_insert(st, &ix, &f, 10);
    f.n_eq = 0;
    CHECK_EQ(fake_find(&ix, &f, 10), 10);
    CHECK_EQ(fake_find(&ix, &f, 3), 3);
    CHECK(f.n_eq <= 3); /* key 3 and key 10 compared, one of them twice */
    CHECK_OK(st, rs__index_check(&ix));
    fake_accounted(st, &ix);
    fake_close(st, &ix);
    fake_free(&f);
}

/* Deletes.  Twenty keys share a home group: sixteen fill it and four go
 * on into the next.  A key deleted from the full group must leave a
 * tombstone, not an empty bucket (which ends a probe), so the four are
 * still found past it.  Deleted keys are not found, and go back in.  Then
 * churn at a constant count (half the keys deleted and as many new ones
 * inserted, 60 times): the index settles at a size and stays there
 * (tombstones are purged and emptied segments merged, not grown over),
 * within twice what growth gave the same count. */
static void test_fake_deletes(void)
{
    enum { N = 20, M = 3000, ROUNDS = 60 };
    fake_src f = fake_new(N);
    for (uint32_t i = 0; i < N; i++) {
        f.hashes[i] = fake_hash(0x2A2A, i * 5 + 1, 0x9ABCDEF0);
    }
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < N; i++) {
        fake_insert(st, &ix, &f, i);
    }
    CHECK_EQ(ix.n, N);
    CHECK_EQ(ix.n_segs, 1);
    /* rs__index_candidate() reads the home group only: sixteen keys are
     * there, four went on. */
    size_t home = 0;
    for (uint32_t i = 0; i < N; i++) {
        home += rs__index_candidate(&ix, f.hashes[i]) == i;
    }
    CHECK_EQ(home, 16);
    CHECK_EQ(rs__index_candidate(&ix, f.hashes[0]), 0);
    CHECK_EQ(rs__index_candidate(&ix, f.hashes[N - 1]), UINT32_MAX);
    rs__index_delete(&ix, f.hashes[0], 0); /* the first in the full group */
    CHECK_EQ(ix.n, N - 1);
    for (uint32_t i = 1; i < N; i++) {
        CHECK_EQ(fake_find(&ix, &f, i), i);
    }
    CHECK_EQ(fake_find(&ix, &f, 0), UINT32_MAX);
    rs__index_delete(&ix, f.hashes[N - 1], N - 1); /* past the full group */
    CHECK_EQ(fake_find(&ix, &f, N - 1), UINT32_MAX);
    CHECK_OK(st, rs__index_check(&ix));
    fake_insert(st, &ix, &f, 0);
    fake_insert(st, &ix, &f, N - 1);
    for (uint32_t i = 0; i < N; i++) {
        CHECK_EQ(fake_find(&ix, &f, i), i);
    }
    CHECK_OK(st, rs__index_check(&ix));
    fake_close(st, &ix);
    fake_free(&f);

    /* Churn: slots [lo, lo + M / 2) leave, as many new ones come. */
    f = fake_new(M + ROUNDS * (M / 2));
    st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < M; i++) {
        fake_insert(st, &ix, &f, i);
    }
    size_t bytes = rs__index_bytes(&ix), halfway = 0;
    uint32_t lo = 0, hi = M;
    for (int round = 0; round < ROUNDS; round++) {
        if (round == ROUNDS / 2) {
            halfway = rs__index_bytes(&ix);
        }
        for (uint32_t i = lo; i < lo + M / 2; i++) {
            rs__index_delete(&ix, f.hashes[i], i);
        }
        for (uint32_t i = lo; i < lo + M / 2; i++) {
            CHECK_EQ(fake_find(&ix, &f, i), UINT32_MAX);
        }
        lo += M / 2;
        for (uint32_t i = hi; i < hi + M / 2; i++) {
            fake_insert(st, &ix, &f, i);
        }
        hi += M / 2;
        CHECK_EQ(ix.n, M);
    }
    CHECK_OK(st, rs__index_check(&ix));
    size_t missing = 0;
    for (uint32_t i = lo; i < hi; i++) {
        missing += fake_find(&ix, &f, i) != i;
    }
    CHECK_EQ(missing, 0);
    printf("  churn of %d keys: %zu bytes grown, %zu after %d rounds, %zu "
           "after %d\n",
           M, bytes, halfway, ROUNDS / 2, rs__index_bytes(&ix), ROUNDS);
    CHECK(rs__index_bytes(&ix) * 10 <= halfway * 11);
    CHECK(rs__index_bytes(&ix) <= 2 * bytes);
    fake_accounted(st, &ix);
    fake_close(st, &ix);
    fake_free(&f);
}

/* The longest rehash when keys share their top 24 hash bits (a known
 * seed): no split pays, so one segment holds them all and grows past its
 * largest size; the directory does not double for nothing, every key is
 * found, and the pause grows with the keys: the price index.c names. */
static void test_fake_longest_rehash(void)
{
    enum { N = 2000 };
    fake_src f = fake_new(N);
    for (uint32_t i = 0; i < N; i++) {
        /* Keep the real hash's low 40 bits, put a fixed 24 on top. */
        f.hashes[i] = (f.hashes[i] & ((1ull << 40) - 1)) | 0xC0FFEEull << 40;
    }
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < N; i++) {
        fake_insert(st, &ix, &f, i);
    }
    printf("  %d keys sharing 24 top bits: %u segments, depth %u, longest "
           "growth %zu keys\n",
           N, ix.n_segs, ix.depth, ix.grow_pause_entries);
    CHECK_EQ(ix.n_segs, 1);
    CHECK_EQ(ix.depth, 0);
    CHECK(ix.grow_pause_entries > 16 * SEG_MAX_GROUPS_SMALL);
    CHECK(ix.grow_pause_entries >= N / 2);
    CHECK_OK(st, rs__index_check(&ix));
    size_t missing = 0;
    for (uint32_t i = 0; i < N; i++) {
        missing += fake_find(&ix, &f, i) != i;
    }
    CHECK_EQ(missing, 0);
    fake_accounted(st, &ix);
    fake_close(st, &ix);
    fake_free(&f);
}

/* Every key of slots [0, n) is found, and the index walks clean. */
static void fake_all_found(const rs__index *ix, const fake_src *f, uint32_t n)
{
    CHECK_OK(NULL, rs__index_check(ix));
    CHECK_EQ(ix->n, n);
    size_t missing = 0;
    for (uint32_t k = 0; k < n; k++) {
        missing += fake_find(ix, f, k) != k;
    }
    CHECK_EQ(missing, 0);
}

/* Reserve room for n keys in all, allocating and applying as
 * rs_class_reserve() does. */
static rs_status fake_reserve(rs_store *st, rs__index *ix, size_t n)
{
    rs__index_plan plan;
    rs_status rc = rs__index_plan_reserve(st, ix, n, &plan);
    if (rc == RS_OK) {
        rs__index_apply(st, ix, &plan);
    }
    return rc;
}

/* A reserve lays the index out for its count at once: a load up to that
 * count then moves few keys (growth from empty moves each two or three
 * times; in the test build's tiny segments the spread of keys around a
 * segment's share still grows a few), the load lands where growth's does,
 * every byte is accounted, and asking again changes nothing.  Reserving on
 * a filled index reads each key it holds once and finds them all after;
 * reserving less than it holds changes nothing. */
static void test_fake_reserve(void)
{
    enum { N = 40000, HALF = 15000 };
    fake_src f = fake_new(N);
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    CHECK_OK(st, fake_reserve(st, &ix, N));
    CHECK_EQ(f.n_hashed, 0);
    size_t bytes = rs__index_bytes(&ix);
    CHECK_OK(st, fake_reserve(st, &ix, N));
    CHECK_EQ(rs__index_bytes(&ix), bytes);
    fake_accounted(st, &ix);
    for (uint32_t i = 0; i < N; i++) {
        fake_insert(st, &ix, &f, i);
    }
    size_t moves = f.n_hashed;
    double load = (double)ix.n / (double)fake_buckets(&ix);
    printf("  reserved %u: %zu keys moved while loading them (%.3f a key), "
           "load %.3f, %u segments\n",
           (unsigned)N, moves, (double)moves / N, load, ix.n_segs);
    CHECK(moves <= N / 4);
    CHECK(load >= 0.5 && load <= 0.875);
    CHECK(((size_t)1 << ix.depth) <= (size_t)RS__DIR_PER_SEG * ix.n_segs);
    fake_all_found(&ix, &f, N);
    fake_accounted(st, &ix);
    fake_close(st, &ix);

    /* Half loaded by growth, then reserved for all. */
    st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < HALF; i++) {
        fake_insert(st, &ix, &f, i);
    }
    bytes = rs__index_bytes(&ix);
    CHECK_OK(st, fake_reserve(st, &ix, HALF / 2));
    CHECK_EQ(rs__index_bytes(&ix), bytes);
    f.n_hashed = 0;
    CHECK_OK(st, fake_reserve(st, &ix, N));
    CHECK_EQ(f.n_hashed, HALF);
    fake_all_found(&ix, &f, HALF);
    fake_accounted(st, &ix);
    f.n_hashed = 0;
    for (uint32_t i = HALF; i < N; i++) {
        fake_insert(st, &ix, &f, i);
    }
    CHECK(f.n_hashed <= N / 4);
    fake_all_found(&ix, &f, N);
    fake_close(st, &ix);
    fake_free(&f);
}

/* Keys that share their top hash bits all go to one segment of the
 * reserved layout: it is sized for them, not for its share. */
static void test_fake_reserve_shared_bits(void)
{
    enum { N = 3000 };
    fake_src f = fake_new(N);
    for (uint32_t i = 0; i < N; i++) {
        f.hashes[i] = fake_hash(0x15, i * 7 + 3, (uint32_t)(i * 2654435761u));
    }
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < N; i++) {
        fake_insert(st, &ix, &f, i);
    }
    CHECK_OK(st, fake_reserve(st, &ix, 100000));
    CHECK(ix.depth > 0);
    fake_all_found(&ix, &f, N);
    fake_accounted(st, &ix);
    fake_close(st, &ix);
    fake_free(&f);
}

/* A reserve that runs out of memory at any of its allocations leaves the
 * index as it was: the same bytes, every key found, nothing leaked. */
static void test_fake_reserve_oom(void)
{
    enum { N = 2000 };
    fake_src f = fake_new(N);
    rs__index ix;
    rs_store *st = fake_store(&ix, &f);
    for (uint32_t i = 0; i < N / 2; i++) {
        fake_insert(st, &ix, &f, i);
    }
    size_t bytes = rs__index_bytes(&ix);
    long failures = 0;
    for (long k = 1;; k++) {
        alloc_check_arm(&fake_alloc, k);
        rs_status rc = fake_reserve(st, &ix, N * 4);
        bool failed = fake_alloc.n_failed > 0;
        alloc_check_disarm(&fake_alloc);
        if (!failed) {
            CHECK_OK(st, rc);
            break;
        }
        failures++;
        CHECK_EQ(rc, RS_ENOMEM);
        CHECK_EQ(rs__index_bytes(&ix), bytes);
        fake_accounted(st, &ix);
        fake_all_found(&ix, &f, N / 2);
    }
    CHECK(failures >= 3); /* the directory, the key list, the segments */
    CHECK(rs__index_bytes(&ix) > bytes);
    fake_all_found(&ix, &f, N / 2);
    fake_accounted(st, &ix);
    fake_close(st, &ix);
    fake_free(&f);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"crafted_seeded", test_crafted_seeded},
        {"crafted_unseeded", test_crafted_unseeded},
        {"path_unseeded", test_path_unseeded},
        {"chain_unseeded", test_chain_unseeded},
        {"churn_unseeded", test_churn_unseeded},
        {"fake_growth", test_fake_growth},
        {"fake_fingerprints", test_fake_fingerprints},
        {"fake_deletes", test_fake_deletes},
        {"fake_longest_rehash", test_fake_longest_rehash},
        {"fake_reserve", test_fake_reserve},
        {"fake_reserve_shared_bits", test_fake_reserve_shared_bits},
        {"fake_reserve_oom", test_fake_reserve_oom},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
