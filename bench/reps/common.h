/* bench/reps/common.h: shared harness helpers for the C baselines
 * (c_packed.c, c_slots.c, c_dict.c, c_sqlite.c).  Header only, libc only,
 * C11 + POSIX 2008 (build with -D_POSIX_C_SOURCE=200809L).  Everything here
 * is `static inline`, so a program that uses only part of it still builds
 * under -Wall -Wextra -Werror.  The protocol these serve is PROTOCOL.md.
 *
 * Interface (frozen: c_dict.c and c_sqlite.c rely on it):
 *
 *   bench_args   a;  bench_parse_args(argc, argv, &a);   --file --rounds --seed
 *   bench_input  in; bench_read_tsv(a.file, &in);        whole file -> in.p[i]
 *       in.p[i].uid/.name/.extras are NUL-terminated, with lengths;
 *       .stat, .level, .n_extras (number of key=value pairs);
 *       in.n, in.max_uid_len, in.max_name_len, in.max_extras_len,
 *       in.n_with_extras, in.max_uid_num (numeric value of the largest uid).
 *   bench_rss_bytes()             resident bytes now (/proc/self/statm)
 *   bench_now_ns()                CLOCK_MONOTONIC in ns
 *   bench_alloc_touched(n, size)  malloc + fill 0xFF (harness arrays, before RSS0)
 *   bench_rng r = bench_rng_seed(s); bench_rng_next(&r); bench_rng_below(&r, n)
 *   bench_permutation(out, n, &r) out[0..n) = a random permutation of 0..n-1
 *   bench_pick(idx, n, k, &r)     partial shuffle: idx[0..k) becomes a random
 *                                 k-subset of the n values in idx (churn)
 *   bench_fnv1a64(p, len)
 *   bench_checksum_term(uid, ulen, name, nlen, stat, level, n_extras)
 *                                 one player's term; sum the terms (mod 2^64)
 *   bench_count_extras(s, len)    number of key=value pairs in "k=v;k=v"
 *   bench_first_key(s, len, &klen) first key of an extras string
 *   bench_keys_make(&ks, &in, perm, BENCH_KEY_UID|BENCH_KEY_NAME)
 *   bench_key(&ks, i, &len)       i-th key of the contiguous copy; bench_keys_free
 *   bench_update_level(k)         level to set in the k-th update (1..100)
 *   bench_vip_value(k)            integer to set vip to for the k-th attr_set
 *   bench_churn_uid(buf, num)     "%07llu" of num into buf[32]; returns length
 *   bench_churn_name(buf, uid, ulen) "p<uid>" into buf[40]; returns length
 *   bench_result r; bench_result_init(&r, "name"); fill; bench_print_json(&r)
 *       metrics left NaN print as null; r.extra_json (e.g.
 *       "\"accounted_bytes_per_player\": 48.1") is appended verbatim if set.
 *   bench_die(fmt, ...)           message to stderr, exit(1)
 */
#ifndef ROSTER_BENCH_REPS_COMMON_H
#define ROSTER_BENCH_REPS_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- errors -------------------------------------------------------- */

static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- command line -------------------------------------------------- */

typedef struct {
    const char *file; /* --file PLAYERS.tsv (required) */
    unsigned rounds;  /* --rounds R, default 10 */
    uint64_t seed;    /* --seed S, default 1 */
} bench_args;

static inline void bench_parse_args(int argc, char **argv, bench_args *a)
{
    a->file = NULL;
    a->rounds = 10;
    a->seed = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--file") == 0 && v) {
            a->file = v;
        } else if (strcmp(argv[i], "--rounds") == 0 && v) {
            unsigned long r = strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || r > 100000)
                bench_die("%s: bad --rounds '%s'", argv[0], v);
            a->rounds = (unsigned)r;
        } else if (strcmp(argv[i], "--seed") == 0 && v) {
            unsigned long long s = strtoull(v, &end, 10);
            if (*v == '\0' || *end != '\0')
                bench_die("%s: bad --seed '%s'", argv[0], v);
            a->seed = (uint64_t)s;
        } else {
            bench_die("usage: %s --file PLAYERS.tsv [--rounds R] [--seed S]"
                      " (bad argument '%s')", argv[0], argv[i]);
        }
    }
    if (!a->file)
        bench_die("usage: %s --file PLAYERS.tsv [--rounds R] [--seed S]",
                  argv[0]);
}

/* ---- input --------------------------------------------------------- */

typedef struct {
    const char *uid;    /* NUL-terminated, inside bench_input.buf */
    const char *name;   /* NUL-terminated */
    const char *extras; /* NUL-terminated, "" when the player has none */
    uint32_t uid_len, name_len, extras_len;
    uint8_t stat;
    uint16_t level;
    uint8_t n_extras;   /* number of key=value pairs in extras */
} bench_player;

typedef struct {
    char *buf;          /* the whole file; tabs/newlines replaced by NULs */
    bench_player *p;    /* p[0..n), in file (= uid) order */
    size_t n;
    size_t max_uid_len, max_name_len, max_extras_len;
    size_t n_with_extras;
    uint64_t max_uid_num;
} bench_input;

static inline size_t bench_count_extras(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ';')
            n++;
    return n;
}

/* First key of "k=v;k=v": returns a pointer to it and its length in *klen. */
static inline const char *bench_first_key(const char *s, size_t len,
                                          size_t *klen)
{
    size_t i = 0;
    while (i < len && s[i] != '=' && s[i] != ';')
        i++;
    *klen = i;
    return s;
}

static inline unsigned long bench__field_num(const char *s, size_t line,
                                             const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno)
        bench_die("line %zu: bad %s '%s'", line, what, s);
    return v;
}

/* Reads the canonical TSV (uid, name, stat, level, extras; no header). */
static inline void bench_read_tsv(const char *path, bench_input *in)
{
    memset(in, 0, sizeof *in);
    FILE *f = fopen(path, "rb");
    if (!f)
        bench_die("%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0)
        bench_die("%s: cannot seek", path);
    long sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0)
        bench_die("%s: cannot size", path);
    size_t size = (size_t)sz;
    in->buf = malloc(size + 2);
    if (!in->buf)
        bench_die("out of memory reading %s", path);
    if (fread(in->buf, 1, size, f) != size)
        bench_die("%s: short read", path);
    fclose(f);
    if (size == 0 || in->buf[size - 1] != '\n')
        in->buf[size++] = '\n';
    in->buf[size] = '\0';

    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        if (in->buf[i] == '\n')
            lines++;
    in->p = malloc((lines ? lines : 1) * sizeof *in->p);
    if (!in->p)
        bench_die("out of memory reading %s", path);

    char *s = in->buf, *stop = in->buf + size;
    size_t line = 0;
    while (s < stop) {
        char *nl = memchr(s, '\n', (size_t)(stop - s));
        line++;
        if (nl == s) { /* blank line */
            s = nl + 1;
            continue;
        }
        *nl = '\0';
        if (nl > s && nl[-1] == '\r')
            nl[-1] = '\0';
        char *fld[5];
        int nf = 0;
        fld[nf++] = s;
        for (char *q = s; *q; q++)
            if (*q == '\t') {
                *q = '\0';
                if (nf == 5)
                    bench_die("%s:%zu: more than 5 columns", path, line);
                fld[nf++] = q + 1;
            }
        if (nf < 4)
            bench_die("%s:%zu: expected uid, name, stat, level, extras",
                      path, line);
        bench_player *p = &in->p[in->n++];
        p->uid = fld[0];
        p->name = fld[1];
        p->extras = nf == 5 ? fld[4] : "";
        p->uid_len = (uint32_t)strlen(fld[0]);
        p->name_len = (uint32_t)strlen(fld[1]);
        p->extras_len = (uint32_t)strlen(p->extras);
        unsigned long st = bench__field_num(fld[2], line, "stat");
        unsigned long lv = bench__field_num(fld[3], line, "level");
        if (st > 255 || lv > 65535)
            bench_die("%s:%zu: stat or level out of range", path, line);
        p->stat = (uint8_t)st;
        p->level = (uint16_t)lv;
        p->n_extras = (uint8_t)bench_count_extras(p->extras, p->extras_len);
        if (p->uid_len == 0 || p->name_len == 0)
            bench_die("%s:%zu: empty uid or name", path, line);
        if (p->uid_len > in->max_uid_len) in->max_uid_len = p->uid_len;
        if (p->name_len > in->max_name_len) in->max_name_len = p->name_len;
        if (p->extras_len > in->max_extras_len)
            in->max_extras_len = p->extras_len;
        if (p->extras_len)
            in->n_with_extras++;
        uint64_t num = strtoull(p->uid, NULL, 10);
        if (num > in->max_uid_num)
            in->max_uid_num = num;
        s = nl + 1;
    }
    if (in->n == 0)
        bench_die("%s: no players", path);
}

/* ---- memory and time ----------------------------------------------- */

static inline size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (!f || fscanf(f, "%llu %llu", &size, &resident) != 2)
        bench_die("cannot read /proc/self/statm");
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return (size_t)resident * (size_t)(page > 0 ? page : 4096);
}

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Harness arrays (handles, permutations) are made resident before RSS0. */
static inline void *bench_alloc_touched(size_t n, size_t size)
{
    if (n == 0) n = 1;
    if (size && n > SIZE_MAX / size)
        bench_die("allocation too large");
    void *p = malloc(n * size);
    if (!p)
        bench_die("out of memory (%zu bytes)", n * size);
    memset(p, 0xFF, n * size);
    return p;
}

/* ---- PRNG (splitmix64) ---------------------------------------------- */

typedef struct { uint64_t s; } bench_rng;

static inline bench_rng bench_rng_seed(uint64_t seed)
{
    bench_rng r = { seed ^ 0x5DEECE66DULL };
    return r;
}

static inline uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (rejection, no modulo bias). */
static inline uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do x = bench_rng_next(r); while (x >= lim);
    return x % n;
}

static inline void bench_permutation(uint32_t *out, size_t n, bench_rng *r)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)bench_rng_below(r, i);
        uint32_t t = out[i - 1]; out[i - 1] = out[j]; out[j] = t;
    }
}

/* After this, idx[0..k) is a uniformly random k-subset of idx[0..n). */
static inline void bench_pick(uint32_t *idx, size_t n, size_t k, bench_rng *r)
{
    for (size_t i = 0; i < k && i < n; i++) {
        size_t j = i + (size_t)bench_rng_below(r, n - i);
        uint32_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
}

/* ---- checksum ------------------------------------------------------- */

static inline uint64_t bench_fnv1a64(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* One player's term; the checksum is the sum of terms, mod 2^64. */
static inline uint64_t bench_checksum_term(const char *uid, size_t uid_len,
                                           const char *name, size_t name_len,
                                           uint64_t stat, uint64_t level,
                                           uint64_t n_extras)
{
    return (bench_fnv1a64(uid, uid_len) ^ bench_fnv1a64(name, name_len))
           + stat + level + n_extras;
}

/* ---- lookup keys copied contiguously in permutation order ----------- */

enum { BENCH_KEY_UID = 0, BENCH_KEY_NAME = 1 };

typedef struct {
    char *bytes;  /* key k at bytes + off[k], NUL-terminated */
    size_t *off;  /* n + 1 offsets */
    size_t n;
} bench_keys;

static inline void bench_keys_make(bench_keys *ks, const bench_input *in,
                                   const uint32_t *perm, int which)
{
    size_t total = 0;
    for (size_t i = 0; i < in->n; i++)
        total += (which == BENCH_KEY_UID ? in->p[i].uid_len
                                         : in->p[i].name_len) + 1;
    ks->n = in->n;
    ks->bytes = malloc(total ? total : 1);
    ks->off = malloc((in->n + 1) * sizeof *ks->off);
    if (!ks->bytes || !ks->off)
        bench_die("out of memory (keys)");
    size_t at = 0;
    for (size_t k = 0; k < in->n; k++) {
        const bench_player *p = &in->p[perm[k]];
        const char *s = which == BENCH_KEY_UID ? p->uid : p->name;
        size_t len = which == BENCH_KEY_UID ? p->uid_len : p->name_len;
        ks->off[k] = at;
        memcpy(ks->bytes + at, s, len + 1);
        at += len + 1;
    }
    ks->off[in->n] = at;
}

static inline const char *bench_key(const bench_keys *ks, size_t k,
                                    size_t *len)
{
    *len = ks->off[k + 1] - ks->off[k] - 1;
    return ks->bytes + ks->off[k];
}

static inline void bench_keys_free(bench_keys *ks)
{
    free(ks->bytes);
    free(ks->off);
    ks->bytes = NULL;
    ks->off = NULL;
    ks->n = 0;
}

/* ---- values written by the update, attr_set and churn phases -------- */

/* Level set by the k-th update of the update phase (1..100). */
static inline uint16_t bench_update_level(size_t k)
{
    return (uint16_t)(1 + (k * 37u) % 100u);
}

/* Integer vip is set to by the k-th attr_set (1..9). */
static inline unsigned bench_vip_value(size_t k)
{
    return (unsigned)(1 + k % 9u);
}

/* Churn uid number num as 7 digits zero padded (wider past 9,999,999). */
static inline size_t bench_churn_uid(char buf[32], uint64_t num)
{
    int n = snprintf(buf, 32, "%07llu", (unsigned long long)num);
    return (size_t)n;
}

/* Churn name "p<uid>". */
static inline size_t bench_churn_name(char buf[40], const char *uid,
                                      size_t uid_len)
{
    buf[0] = 'p';
    memcpy(buf + 1, uid, uid_len);
    buf[uid_len + 1] = '\0';
    return uid_len + 1;
}

/* ---- JSON result line ------------------------------------------------ */

typedef struct {
    const char *name;
    size_t players;
    double bytes_per_player, insert_ns, get_uid_ns, get_name_ns, update_ns,
        scan_ns, attr_get_ns, attr_set_ns, churn_ns,
        churn_growth_bytes_per_player;
    uint64_t checksum;
    const char *extra_json; /* appended verbatim after checksum, or NULL */
} bench_result;

static inline void bench_result_init(bench_result *r, const char *name)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->bytes_per_player = r->insert_ns = r->get_uid_ns = r->get_name_ns =
        r->update_ns = r->scan_ns = r->attr_get_ns = r->attr_set_ns =
            r->churn_ns = r->churn_growth_bytes_per_player = NAN;
}

static inline void bench__num(const char *key, double v)
{
    if (isnan(v))
        printf(", \"%s\": null", key);
    else
        printf(", \"%s\": %.2f", key, v);
}

static inline void bench_print_json(const bench_result *r)
{
    printf("{\"name\": \"%s\", \"players\": %zu", r->name, r->players);
    bench__num("bytes_per_player", r->bytes_per_player);
    bench__num("insert_ns", r->insert_ns);
    bench__num("get_uid_ns", r->get_uid_ns);
    bench__num("get_name_ns", r->get_name_ns);
    bench__num("update_ns", r->update_ns);
    bench__num("scan_ns", r->scan_ns);
    bench__num("attr_get_ns", r->attr_get_ns);
    bench__num("attr_set_ns", r->attr_set_ns);
    bench__num("churn_ns", r->churn_ns);
    bench__num("churn_growth_bytes_per_player",
               r->churn_growth_bytes_per_player);
    printf(", \"checksum\": \"%llu\"", (unsigned long long)r->checksum);
    if (r->extra_json && r->extra_json[0])
        printf(", %s", r->extra_json);
    printf("}\n");
    fflush(stdout);
}

#endif /* ROSTER_BENCH_REPS_COMMON_H */
