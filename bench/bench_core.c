/*
 * bench_core.c: libroster's own phases on the canonical data, timed apart.
 *
 *   bench_core [--players N] [--seed S] [--file F] [--runs K] [--pauses]
 *              [--json]
 *
 * The data set comes from the generator in tools/gen.c (or a TSV file) and
 * is parsed into plain arrays before anything is timed, so the figures are
 * the library's alone: insert, lookup by uid and by name in random order,
 * update of one field, a filtered scan, and logout/login churn.  Memory is
 * RSS growth across the load (the input arrays are allocated before the
 * first reading) beside the store's own accounting.  --pauses also times
 * every single insert (in thread CPU time) and reports the worst one: the
 * growth pause.  Each
 * phase computes a checksum so a fast wrong answer shows.  Median of K runs.
 */
#include "gen.h"
#include "roster.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A player's extras: at most 3 of x (int), guild (string), vip (int). */
typedef struct extra {
    const char *key;
    const char *text;
    uint32_t text_len;
    int64_t num;
    bool is_num;
} extra;

typedef struct player {
    const char *uid, *name;
    uint32_t uid_len, name_len;
    uint8_t stat;
    uint16_t level;
    uint8_t n_extras;
    extra extras[3];
} player;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time of this thread: a pause measured with it leaves out the time the
 * machine gave to other processes (these machines are shared), and keeps
 * what the insert itself cost, page faults included. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &res) != 2) {
            res = 0;
        }
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void die(const char *what, rs_store *st)
{
    fprintf(stderr, "bench_core: %s: %s\n", what, st ? rs_errmsg(st) : "");
    exit(1);
}

/* Split the TSV in place into players[]. */
static player *parse(char *buf, size_t len, size_t *n_out)
{
    size_t cap = 1024, n = 0;
    player *p = malloc(cap * sizeof *p);
    char *s = buf, *end = buf + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL) {
            nl = end;
        }
        char *col[5] = {0};
        int k = 0;
        col[k++] = s;
        for (char *q = s; q < nl && k < 5; q++) {
            if (*q == '\t') {
                *q = '\0';
                col[k++] = q + 1;
            }
        }
        *nl = '\0';
        if (k >= 4) {
            if (n == cap) {
                cap *= 2;
                p = realloc(p, cap * sizeof *p);
            }
            p[n].uid = col[0];
            p[n].uid_len = (uint32_t)strlen(col[0]);
            p[n].name = col[1];
            p[n].name_len = (uint32_t)strlen(col[1]);
            p[n].stat = (uint8_t)atoi(col[2]);
            p[n].level = (uint16_t)atoi(col[3]);
            p[n].n_extras = 0;
            /* extras: key=value;... ; integers as integers */
            for (char *kv = k >= 5 ? col[4] : NULL;
                 kv && *kv && p[n].n_extras < 3;) {
                char *semi = strchr(kv, ';');
                if (semi) {
                    *semi = '\0';
                }
                char *eq = strchr(kv, '=');
                if (eq) {
                    *eq = '\0';
                    extra *e = &p[n].extras[p[n].n_extras++];
                    e->key = kv;
                    e->text = eq + 1;
                    e->text_len = (uint32_t)strlen(eq + 1);
                    char *stop;
                    e->num = strtoll(eq + 1, &stop, 10);
                    e->is_num = *stop == 0 && stop != eq + 1;
                }
                kv = semi ? semi + 1 : NULL;
            }
            n++;
        }
        s = nl + 1;
    }
    *n_out = n;
    return p;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct result {
    double bytes_rss, bytes_acct, insert_ns, get_uid_ns, get_name_ns, update_ns,
        scan_ns, churn_ns, churn_growth, worst_insert_us, attr_get_ns,
        attr_set_ns, find_many_ns;
    uint64_t checksum;
    rs_mem_report mem, mem_after_churn;
} result;

static rs_status insert(rs_store *st, rs_class *cls, const player *p,
                        rs_handle *h)
{
    rs_named v[7] = {
        {"uid", {.type = RS_STR, .v.s = {p->uid, p->uid_len}}},
        {"name", {.type = RS_STR, .v.s = {p->name, p->name_len}}},
        {"stat", {.type = RS_U8, .v.u = p->stat}},
        {"level", {.type = RS_U16, .v.u = p->level}},
    };
    for (int k = 0; k < p->n_extras; k++) {
        const extra *e = &p->extras[k];
        v[4 + k].name = e->key;
        v[4 + k].val =
            e->is_num ? rs_val_int(e->num) : rs_val_str(e->text, e->text_len);
    }
    return rs_insert(st, cls, v, 4 + (size_t)p->n_extras, h);
}

/* The keys of the lookup phases, copied in lookup order into one array, so
 * the harness reads them sequentially and the misses measured are the
 * store's own. */
typedef struct probe {
    char uid[16];
    char name[16];
    uint8_t uid_len, name_len;
    uint32_t index;
} probe;

static result run(const player *ps, size_t n, const probe *pr, int pauses)
{
    result r;
    memset(&r, 0, sizeof r);
    rs_store *st;
    rs_class *cls;
    const char *text = "Player { uid: str(16) key inline(4); "
                       "name: str(32) unique inline(12); stat: u8 = 0; "
                       "level: u16 = 0 } dynamic";
    if (rs_store_open(NULL, NULL, &st) != RS_OK ||
        rs_class_parse(st, text, strlen(text), &cls) != RS_OK) {
        die("open", NULL);
    }
    rs_handle *hs = malloc(n * sizeof *hs);
    /* Fault the handle array in now: a page fault on it inside a timed
     * insert would be counted as the insert's pause.  (Not zeros: the
     * compiler may turn malloc + memset 0 into calloc, which touches
     * nothing.) */
    memset(hs, 0xFF, n * sizeof *hs);
    size_t rss0 = rss_bytes();
    double t0 = now_ns(), worst = 0;
    for (size_t i = 0; i < n; i++) {
        double a = pauses ? cpu_ns() : 0;
        if (insert(st, cls, &ps[i], &hs[i]) != RS_OK) {
            die("insert", st);
        }
        if (pauses) {
            double d = cpu_ns() - a;
            worst = d > worst ? d : worst;
        }
    }
    r.insert_ns = (now_ns() - t0) / (double)n;
    r.worst_insert_us = worst / 1e3;
    r.bytes_rss = (double)(rss_bytes() - rss0) / (double)n;
    rs_mem(st, &r.mem);
    r.bytes_acct = (double)r.mem.total / (double)n;

    rs_field f_name = rs_class_field(cls, "name");
    rs_field f_level = rs_class_field(cls, "level");
    rs_field f_stat = rs_class_field(cls, "stat");
    uint64_t sum = 0;
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        rs_handle h;
        if (rs_get(st, cls, pr[i].uid, pr[i].uid_len, &h) != RS_OK) {
            die("get uid", st);
        }
        sum += (uint32_t)h;
    }
    r.get_uid_ns = (now_ns() - t0) / (double)n;
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        rs_value v = {.type = RS_STR, .v.s = {pr[i].name, pr[i].name_len}};
        rs_handle h;
        if (rs_find(st, cls, f_name, &v, &h) != RS_OK) {
            die("get name", st);
        }
        sum += (uint32_t)h;
    }
    r.get_name_ns = (now_ns() - t0) / (double)n;
    /* The same uids, a batch of FIND_MANY at a time (a server's MGET, a
     * Python batch lookup): rs_find_many() overlaps the probes' misses. */
    enum { FIND_MANY = 1000 };
    rs_value *batch = malloc(FIND_MANY * sizeof *batch);
    rs_handle *found = malloc(FIND_MANY * sizeof *found);
    rs_field f_uid = rs_class_key(cls);
    t0 = now_ns();
    for (size_t at = 0; at < n; at += FIND_MANY) {
        size_t m = n - at < FIND_MANY ? n - at : FIND_MANY;
        for (size_t i = 0; i < m; i++) {
            batch[i] = rs_val_str(pr[at + i].uid, pr[at + i].uid_len);
        }
        size_t hits;
        if (rs_find_many(st, cls, f_uid, batch, m, found, &hits) != RS_OK ||
            hits != m) {
            die("find many", st);
        }
        for (size_t i = 0; i < m; i++) {
            sum += (uint32_t)found[i];
        }
    }
    r.find_many_ns = (now_ns() - t0) / (double)n;
    free(batch);
    free(found);
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        if (rs_set_int(st, hs[pr[i].index], f_level, (pr[i].index % 100) + 1) !=
            RS_OK) {
            die("update", st);
        }
    }
    r.update_ns = (now_ns() - t0) / (double)n;

    /* Dynamic attributes: read each attributed player's first extra
     * through its attribute id (rs_attr_id, the fast path), then rebind
     * vip (a new binding where it had none), in random order. */
    size_t n_attr = 0;
    for (size_t i = 0; i < n; i++) {
        n_attr += ps[pr[i].index].n_extras > 0;
    }
    rs_field f_vip = rs_attr_id(st, cls, "vip");
    rs_field f_x = rs_attr_id(st, cls, "x");
    rs_field f_guild = rs_attr_id(st, cls, "guild");
    if (n_attr > 0 && f_vip >= 0) {
        t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            const player *p = &ps[pr[i].index];
            if (p->n_extras == 0) {
                continue;
            }
            rs_value v;
            rs_field f = p->extras[0].key[0] == 'x'   ? f_x
                         : p->extras[0].key[0] == 'g' ? f_guild
                                                      : f_vip;
            if (rs_get_field(st, hs[pr[i].index], f, &v) != RS_OK) {
                die("attr get", st);
            }
            sum += v.type == RS_STR ? v.v.s.len : (uint64_t)v.v.i;
        }
        r.attr_get_ns = (now_ns() - t0) / (double)n_attr;
        t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            const player *p = &ps[pr[i].index];
            if (p->n_extras == 0) {
                continue;
            }
            if (rs_set_int(st, hs[pr[i].index], f_vip,
                           (int64_t)(pr[i].index % 10)) != RS_OK) {
                die("attr set", st);
            }
        }
        r.attr_set_ns = (now_ns() - t0) / (double)n_attr;
    }
    rs_cond conds[] = {{f_stat, RS_EQ, rs_val_int(1)},
                       {f_level, RS_GE, rs_val_int(50)}};
    rs_scan *sc;
    t0 = now_ns();
    if (rs_scan_open(st, cls, conds, 2, &sc) != RS_OK) {
        die("scan", st);
    }
    rs_handle h;
    uint64_t matched = 0;
    while (rs_scan_next(sc, &h) == RS_OK) {
        matched++;
    }
    rs_scan_close(sc);
    r.scan_ns = (now_ns() - t0) / (double)n;
    sum += matched;

    /* Churn: 10 rounds; 20% log out, as many new players log in. */
    size_t k = n / 5;
    char(*uids)[16] = calloc(k, sizeof *uids);
    char(*names)[24] = calloc(k, sizeof *names);
    memset(uids, 1, k * sizeof *uids); /* resident before we measure */
    memset(names, 1, k * sizeof *names);
    size_t before = rss_bytes();
    t0 = now_ns();
    for (int round = 0; round < 10; round++) {
        for (size_t j = 0; j < k; j++) {
            size_t i = rnd() % n;
            while (rs_check(st, hs[i]) != RS_OK) {
                i = (i + 1) % n;
            }
            if (rs_remove(st, hs[i]) != RS_OK) {
                die("remove", st);
            }
        }
        for (size_t j = 0, i = 0; j < k; j++, i++) {
            while (rs_check(st, hs[i]) == RS_OK) {
                i++;
            }
            player p = ps[i];
            size_t id = n + k * (size_t)round + j + 1;
            p.uid_len = (uint32_t)snprintf(uids[j], 16, "%07zu", id);
            p.uid = uids[j];
            p.name_len = (uint32_t)snprintf(names[j], 24, "p%zu", id);
            p.name = names[j];
            if (insert(st, cls, &p, &hs[i]) != RS_OK) {
                die("login", st);
            }
        }
    }
    r.churn_ns = (now_ns() - t0) / (double)(20 * k);
    r.churn_growth = ((double)rss_bytes() - (double)before) / (double)n;
    rs_mem(st, &r.mem_after_churn);
    r.checksum = sum;
    free(uids);
    free(names);
    free(hs);
    rs_store_close(st);
    /* Give the store's pages back, so the next run's RSS growth is its
     * own and not memory this run left resident in the heap. */
    malloc_trim(0);
    return r;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MEDIAN(field)                                                          \
    do {                                                                       \
        double v[16];                                                          \
        for (int i = 0; i < runs; i++) {                                       \
            v[i] = rs[i].field;                                                \
        }                                                                      \
        qsort(v, (size_t)runs, sizeof v[0], cmp_d);                            \
        med.field = v[runs / 2];                                               \
    } while (0)

int main(int argc, char **argv)
{
    uint64_t n = 1000000, seed = 1;
    const char *file = NULL;
    int runs = 3, pauses = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--players") && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--pauses")) {
            pauses = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            printf("usage: bench_core [--players N] [--seed S] [--file F] "
                   "[--runs K] [--pauses] [--json]\n"
                   "  --players N  canonical players to generate (1000000)\n"
                   "  --seed S     generator seed (1)\n"
                   "  --file F     load this TSV instead of generating\n"
                   "  --runs K     runs, the median is reported (3, <= 15)\n"
                   "  --pauses     time every insert, report the worst\n"
                   "  --json       one JSON object on stdout\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (runs < 1 || runs > 15) {
        runs = 3;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = file ? fopen(file, "r") : open_memstream(&buf, &len);
    if (f == NULL) {
        perror("bench_core");
        return 1;
    }
    if (file) {
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        rewind(f);
        buf = malloc(len + 1);
        if (fread(buf, 1, len, f) != len) {
            perror("bench_core: read");
            return 1;
        }
    } else if (rs_gen_write(f, n, seed, NULL, NULL) != 0) {
        perror("bench_core: gen");
        return 1;
    }
    fclose(f);
    size_t np;
    player *ps = parse(buf, len, &np);
    uint32_t *order = malloc(np * sizeof *order);
    for (size_t i = 0; i < np; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t i = np; i > 1; i--) {
        size_t j = rnd() % i;
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    probe *pr = calloc(np, sizeof *pr);
    for (size_t i = 0; i < np; i++) {
        const player *p = &ps[order[i]];
        if (p->uid_len >= 16 || p->name_len >= 16) {
            fprintf(stderr, "bench_core: uid or name longer than 15 bytes\n");
            return 1;
        }
        memcpy(pr[i].uid, p->uid, p->uid_len);
        memcpy(pr[i].name, p->name, p->name_len);
        pr[i].uid_len = (uint8_t)p->uid_len;
        pr[i].name_len = (uint8_t)p->name_len;
        pr[i].index = order[i];
    }
    /* The generator's and the parser's freed memory would otherwise be
     * reused by the store without growing RSS, and hide its cost. */
    malloc_trim(0);
    result rs[16], med;
    for (int i = 0; i < runs; i++) {
        rs[i] = run(ps, np, pr, pauses);
        if (i > 0 && rs[i].checksum != rs[0].checksum) {
            fprintf(stderr, "bench_core: checksum differs between runs\n");
            return 1;
        }
    }
    med = rs[0];
    MEDIAN(bytes_rss);
    MEDIAN(bytes_acct);
    MEDIAN(insert_ns);
    MEDIAN(get_uid_ns);
    MEDIAN(get_name_ns);
    MEDIAN(find_many_ns);
    MEDIAN(update_ns);
    MEDIAN(attr_get_ns);
    MEDIAN(attr_set_ns);
    MEDIAN(scan_ns);
    MEDIAN(churn_ns);
    MEDIAN(churn_growth);
    MEDIAN(worst_insert_us);
    if (json) {
        printf("{\"players\": %zu, \"runs\": %d, \"rss_bytes_per_player\": "
               "%.2f, \"accounted_bytes_per_player\": %.2f, \"insert_ns\": "
               "%.1f, \"get_uid_ns\": %.1f, \"get_name_ns\": %.1f, "
               "\"find_many_ns\": %.1f, "
               "\"update_ns\": %.1f, \"attr_get_ns\": %.1f, "
               "\"attr_set_ns\": %.1f, \"scan_ns_per_record\": %.2f, "
               "\"churn_ns\": %.1f, \"churn_rss_growth_per_player\": %.2f, "
               "\"worst_insert_us\": %.1f, \"checksum\": %llu}\n",
               np, runs, med.bytes_rss, med.bytes_acct, med.insert_ns,
               med.get_uid_ns, med.get_name_ns, med.find_many_ns, med.update_ns,
               med.attr_get_ns, med.attr_set_ns, med.scan_ns, med.churn_ns,
               med.churn_growth, med.worst_insert_us,
               (unsigned long long)med.checksum);
    } else {
        printf("players %zu, median of %d runs\n", np, runs);
        printf("  bytes/player     %.2f by RSS, %.2f accounted\n",
               med.bytes_rss, med.bytes_acct);
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            printf("    %-10s %6.2f\n", rs_mem_cat_name((rs_mem_cat)c),
                   (double)med.mem.bytes[c] / (double)np);
        }
        printf("  insert           %.1f ns\n", med.insert_ns);
        printf("  get by uid       %.1f ns\n", med.get_uid_ns);
        printf("  get by name      %.1f ns\n", med.get_name_ns);
        printf("  find many by uid %.1f ns a key (batches of 1,000; %.2fx "
               "faster than one by one)\n",
               med.find_many_ns,
               med.find_many_ns > 0 ? med.get_uid_ns / med.find_many_ns : 0);
        printf("  update level     %.1f ns\n", med.update_ns);
        printf("  attribute get    %.1f ns, set %.1f ns (players with "
               "extras, random order)\n",
               med.attr_get_ns, med.attr_set_ns);
        printf("  scan             %.2f ns a record\n", med.scan_ns);
        printf("  churn            %.1f ns an op, RSS growth %.2f B/player, "
               "accounted %+.2f B/player\n",
               med.churn_ns, med.churn_growth,
               ((double)med.mem_after_churn.total - (double)med.mem.total) /
                   (double)np);
        if (pauses) {
            printf("  worst insert     %.1f us\n", med.worst_insert_us);
        }
        printf("  checksum         %llu\n", (unsigned long long)med.checksum);
    }
    free(order);
    free(pr);
    free(ps);
    free(buf);
    return 0;
}
