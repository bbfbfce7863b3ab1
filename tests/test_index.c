/*
 * test_index.c: the key and unique indexes under keys chosen to collide.
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
 * The brute force (about 16 million hashes in all) takes about 0.2 s in an
 * optimized build.  Test builds split segments at 28 to 56
 * keys (SEG_MAX_GROUPS 4), so a few thousand names reach the depths a
 * million would reach with the real sizes.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs_store's seed, the class's indexes */

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
        uint64_t top = XXH3_64bits(buf, fitted(len, sizeof buf)) >> (64 - SHARED_BITS);
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
    size_t index_bytes;  /* rs_mem: both indexes */
    size_t name_bytes;   /* the name index alone */
    size_t probe_groups; /* groups read to find every name once */
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
    uint64_t top = rs__hash(0, crafted[0], strlen(crafted[0])) >>
                   (64 - SHARED_BITS);
    for (size_t i = 0; i < N_NAMES; i++) {
        CHECK_EQ(rs__hash(a.st->hash_seed, crafted[i], strlen(crafted[i])) >>
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

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"crafted_seeded", test_crafted_seeded},
        {"crafted_unseeded", test_crafted_unseeded},
        {"path_unseeded", test_path_unseeded},
        {"chain_unseeded", test_chain_unseeded},
        {"churn_unseeded", test_churn_unseeded},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
