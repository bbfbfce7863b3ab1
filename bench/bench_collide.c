/*
 * bench_collide.c: what names chosen to collide cost the name index.
 *
 *   bench_collide [--names N] [--bits B] [--runs K]
 *
 * Player names are chosen by players.  Before stores had a hash seed, the
 * index hashed with XXH3 alone, so names whose hashes share their top bits
 * (the bits that pick a segment) could be found offline by brute force.
 * This program finds N such names (the top B bits of XXH3_64bits() equal:
 * N * 2^B hashes, about 2 s for 100,000 names and 12 bits) and loads the
 * canonical Player class with them, beside N random names of the same
 * length, and reports, as medians of K runs of a fresh store each:
 *
 *   index B   rs_mem()'s index bytes (the uid index and the name index)
 *   name B    the name index alone
 *   insert    ns an insert, whole load
 *   find      ns an rs_find() by name, every name once in random order
 *   depth     the name index's directory depth (2^depth entries)
 *   segs      its segments
 *   pause     keys moved by its largest single growth (the longest pause)
 *
 * and the ratios to random names (the target: at most 1.5x the
 * bytes and 2x the lookup time).  Rows:
 *
 *   random            N random names, an ordinary (seeded) store
 *   crafted           the crafted names, an ordinary (seeded) store: the
 *                     defence, the seed spreads them as random names
 *   crafted, seed 0   the crafted names with the store's seed forced to 0
 *                     (the old hash): they do collide, and the bound on
 *                     growth (src/index.c, "Bound") is what holds
 *   chain, seed 0     names aimed adaptively at the deepest segment so
 *                     every split pays and the next one is one bit deeper
 *                     (tests/test_index.c, chain_unseeded): the case the
 *                     limit of 8 directory entries a segment is for
 *
 * Forcing the seed reaches into the store (src/store.h); nothing else
 * does.  Each phase sums what it found, so a fast wrong answer shows.
 */
#include "roster.h"
#include "store.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME_LEN 10 /* every name: a letter and 9 base-32 digits */
#define MAX_RUNS 15

typedef struct name {
    char s[NAME_LEN + 1];
} name;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char digits32[] = "0123456789abcdefghijklmnopqrstuv";

/* Write v as 9 base-32 digits after the letter c. */
static void name_of(char c, uint64_t v, char out[NAME_LEN + 1])
{
    out[0] = c;
    for (int i = NAME_LEN - 1; i >= 1; i--) {
        out[i] = digits32[v & 31];
        v >>= 5;
    }
    out[NAME_LEN] = '\0';
}

/* The next name in counting order, in place (the brute force's step: no
 * formatting). */
static void name_next(char s[NAME_LEN + 1])
{
    for (int i = NAME_LEN - 1; i >= 1; i--) {
        if (s[i] == '9') {
            s[i] = 'a';
            return;
        }
        if (s[i] != 'v') {
            s[i]++;
            return;
        }
        s[i] = '0';
    }
}

/* n distinct random-looking names: a bijection of 0..n-1 on 45 bits. */
static name *random_names(size_t n)
{
    name *out = malloc(n * sizeof *out);
    const uint64_t mask = ((uint64_t)1 << 45) - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = ((uint64_t)i * 0x9E3779B97F4A7C15ull) & mask;
        x ^= x >> 23;
        x = (x * 0xBF58476D1CE4E5B9ull) & mask;
        x ^= x >> 19;
        name_of('r', x, out[i].s);
    }
    return out;
}

/* n names whose XXH3_64bits() share their top bits bits. */
static name *crafted_names(size_t n, int bits, double *secs)
{
    double t0 = now_ns();
    name *out = malloc(n * sizeof *out);
    char s[NAME_LEN + 1];
    name_of('c', 0, s);
    uint64_t want = XXH3_64bits(s, NAME_LEN) >> (64 - bits);
    for (size_t got = 0; got < n; name_next(s)) {
        if (XXH3_64bits(s, NAME_LEN) >> (64 - bits) == want) {
            memcpy(out[got++].s, s, sizeof s);
        }
    }
    *secs = (now_ns() - t0) / 1e9;
    return out;
}

typedef struct row {
    double index_bytes, name_bytes, insert_ns, find_ns;
    uint32_t depth, n_segs;
    size_t pause;
} row;

static const char *class_text =
    "Player { uid: str(16) key inline(4); name: str(32) unique inline(12); "
    "stat: u8 = 0; level: u16 = 0 }";

static void die(const char *what, rs_store *st)
{
    fprintf(stderr, "bench_collide: %s: %s\n", what, st ? rs_errmsg(st) : "");
    exit(1);
}

static void open_store(bool unseeded, rs_store **st, rs_class **cls)
{
    if (rs_store_open(NULL, NULL, st) != RS_OK) {
        die("open", NULL);
    }
    if (unseeded) {
        (*st)->hash_seed = 0; /* nothing hashed yet */
    }
    if (rs_class_parse(*st, class_text, strlen(class_text), cls) != RS_OK) {
        die("class", *st);
    }
}

static void insert_one(rs_store *st, rs_class *cls, size_t i, const char *nm)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%zu", i + 1);
    rs_named v[] = {{"uid", rs_val_cstr(uid)},
                    {"name", rs_val_str(nm, NAME_LEN)}};
    rs_handle h;
    if (rs_insert(st, cls, v, 2, &h) != RS_OK) {
        die("insert", st);
    }
}

/* Find every name once in the order given; the sum of the handles' slots
 * is checked against the load's. */
static double find_all(rs_store *st, rs_class *cls, const name *names,
                       const uint32_t *order, size_t n)
{
    uint64_t sum = 0;
    double t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        rs_value v = rs_val_str(names[order[i]].s, NAME_LEN);
        rs_handle h;
        if (rs_find(st, cls, 1, &v, &h) != RS_OK) {
            die("find", st);
        }
        sum += h & 0xFFFFFFFFu;
    }
    double ns = (now_ns() - t0) / (double)n;
    /* Slots 0..n-1, each found once. */
    if (sum != (uint64_t)n * (n - 1) / 2) {
        die("find: wrong records", NULL);
    }
    return ns;
}

static void measure(rs_store *st, rs_class *cls, row *r)
{
    if (rs__store_check(st) != RS_OK) {
        die("check", st);
    }
    rs_mem_report m;
    rs_mem(st, &m);
    const rs__index *ix = &cls->ix[1];
    r->index_bytes = (double)m.bytes[RS_MEM_INDEXES];
    r->name_bytes = (double)rs__index_bytes(ix);
    r->depth = ix->depth;
    r->n_segs = ix->n_segs;
    r->pause = ix->grow_pause_entries;
}

static row run_names(const name *names, size_t n, const uint32_t *order,
                     bool unseeded)
{
    row r;
    rs_store *st;
    rs_class *cls;
    open_store(unseeded, &st, &cls);
    double t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        insert_one(st, cls, i, names[i].s);
    }
    r.insert_ns = (now_ns() - t0) / (double)n;
    measure(st, cls, &r);
    r.find_ns = find_all(st, cls, names, order, n);
    rs_store_close(st);
    return r;
}

/* A name whose XXH3_64bits() has exactly t leading zero bits (t <= 40),
 * from a pool the brute force fills as it passes other counts. */
static void name_with_zeros(int t, char out[NAME_LEN + 1])
{
    enum { POOL = 16, MAXZ = 40 };
    static char pool[MAXZ + 1][POOL][NAME_LEN + 1];
    static int n_pool[MAXZ + 1];
    static char s[NAME_LEN + 1];
    if (s[0] == '\0') {
        name_of('z', 0, s);
    }
    while (n_pool[t] == 0) {
        uint64_t h = XXH3_64bits(s, NAME_LEN);
        int z = h == 0 ? 64 : __builtin_clzll(h);
        if (z <= MAXZ && n_pool[z] < POOL) {
            memcpy(pool[z][n_pool[z]++], s, sizeof s);
        }
        name_next(s);
    }
    memcpy(out, pool[t][--n_pool[t]], NAME_LEN + 1);
}

/* The local depth of the segment of the hashes with the most leading
 * zeros (directory entry 0). */
static uint32_t first_local(const rs__index *ix)
{
    size_t run = 1;
    while (run < ((size_t)1 << ix->depth) && ix->dir[run].s == ix->dir[0].s) {
        run *= 2;
    }
    return ix->depth - (uint32_t)__builtin_ctzll(run);
}

/* The adaptive chain against seed 0: each name has L + k leading zeros,
 * L the local depth of that segment, k = 0 for 1/4 of them (k <= 4).  The
 * names are chosen by a first, untimed run and reused by the others. */
static row run_chain(name *names, size_t n, const uint32_t *order, bool choose)
{
    row r;
    rs_store *st;
    rs_class *cls;
    open_store(true, &st, &cls);
    const rs__index *ix = &cls->ix[1];
    double t0 = now_ns(), spent = 0;
    for (size_t i = 0; i < n; i++) {
        if (choose) {
            double c0 = now_ns();
            int lc = (int)first_local(ix), t = lc;
            while (t < lc + 4 && rnd() % 4 != 0) {
                t++;
            }
            if (t > 40) {
                die("chain: deeper than 40 bits", NULL);
            }
            name_with_zeros(t, names[i].s);
            spent += now_ns() - c0;
        }
        insert_one(st, cls, i, names[i].s);
    }
    r.insert_ns = (now_ns() - t0 - spent) / (double)n;
    measure(st, cls, &r);
    r.find_ns = find_all(st, cls, names, order, n);
    rs_store_close(st);
    return r;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int k)
{
    qsort(v, (size_t)k, sizeof *v, cmp_d);
    return v[k / 2];
}

/* Medians of k rows; depth, segments and pause from the first run. */
static row median_row(const row *rs, int k)
{
    double a[MAX_RUNS], b[MAX_RUNS], c[MAX_RUNS], d[MAX_RUNS];
    for (int i = 0; i < k; i++) {
        a[i] = rs[i].index_bytes;
        b[i] = rs[i].name_bytes;
        c[i] = rs[i].insert_ns;
        d[i] = rs[i].find_ns;
    }
    row m = rs[0];
    m.index_bytes = median(a, k);
    m.name_bytes = median(b, k);
    m.insert_ns = median(c, k);
    m.find_ns = median(d, k);
    return m;
}

static void print_row(const char *what, const row *r, const row *base)
{
    printf("%-17s %9.0f %9.0f %8.1f %8.1f %6u %6u %8zu", what, r->index_bytes,
           r->name_bytes, r->insert_ns, r->find_ns, r->depth, r->n_segs,
           r->pause);
    if (base) {
        printf("   %5.2fx %5.2fx %5.2fx", r->index_bytes / base->index_bytes,
               r->name_bytes / base->name_bytes, r->find_ns / base->find_ns);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    int bits = 12, runs = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--names") && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--bits") && i + 1 < argc) {
            bits = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else {
            printf("usage: bench_collide [--names N] [--bits B] [--runs K]\n"
                   "  --names N  names of each kind (100000)\n"
                   "  --bits B   top bits of unseeded XXH3 the crafted names "
                   "share (12, 1..24)\n"
                   "  --runs K   runs, medians reported (5, <= 15)\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (n < 2 || n > 10000000 || bits < 1 || bits > 24 || runs < 1 ||
        runs > MAX_RUNS) {
        fprintf(stderr, "bench_collide: --names 2..10000000, --bits 1..24, "
                        "--runs 1..15\n");
        return 2;
    }
    double secs;
    name *random = random_names(n);
    name *crafted = crafted_names(n, bits, &secs);
    name *chain = malloc(n * sizeof *chain);
    uint32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    row rr[MAX_RUNS], rc[MAX_RUNS], r0[MAX_RUNS], rz[MAX_RUNS];
    rz[0] = run_chain(chain, n, order, true); /* chooses the chain */
    for (int k = 0; k < runs; k++) {
        /* Interleaved, each kind first in turn, so a slow moment of a
         * shared machine falls on every kind alike. */
        for (int j = 0; j < 4; j++) {
            switch ((j + k) % 4) {
            case 0:
                rr[k] = run_names(random, n, order, false);
                break;
            case 1:
                rc[k] = run_names(crafted, n, order, false);
                break;
            case 2:
                r0[k] = run_names(crafted, n, order, true);
                break;
            default:
                rz[k] = run_chain(chain, n, order, false);
                break;
            }
        }
    }
    row mr = median_row(rr, runs), mc = median_row(rc, runs),
        m0 = median_row(r0, runs), mz = median_row(rz, runs);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_collide --names %zu --bits %d --runs %d (%ld cpus); "
           "crafted names found in %.1f s\n"
           "%zu names a kind; medians of %d runs; crafted: top %d bits of "
           "XXH3_64bits equal\n\n",
           n, bits, runs, cpus, secs, n, runs, bits);
    printf("%-17s %9s %9s %8s %8s %6s %6s %8s   %6s %6s %6s\n", "", "index B",
           "name B", "insert", "find", "depth", "segs", "pause", "index",
           "name", "find");
    print_row("random", &mr, NULL);
    print_row("crafted", &mc, &mr);
    print_row("crafted, seed 0", &m0, &mr);
    print_row("chain, seed 0", &mz, &mr);
    printf("\ntarget: a collision attack costs at most 1.5x the index bytes "
           "and 2x the lookup time of random names\n"
           "crafted (seeded store): %.2fx the index bytes, %.2fx the lookup "
           "time: %s\n",
           mc.index_bytes / mr.index_bytes, mc.find_ns / mr.find_ns,
           mc.index_bytes <= 1.5 * mr.index_bytes &&
                   mc.find_ns <= 2 * mr.find_ns
               ? "met"
               : "MISSED");
    free(random);
    free(crafted);
    free(chain);
    free(order);
    return 0;
}
