/*
 * bench_persist.c: what persistence costs on the canonical data.
 *
 *   bench_persist [--players N] [--seed S] [--dir D] [--always N] [--json]
 *
 * Generates N canonical players (tools/gen.c) into memory, then, in a
 * fresh directory under D (default /tmp):
 *
 *   1. journaled load: a durable store (RS_SYNC_NEVER) takes every player
 *      through the loader: what an insert costs with its journal entry;
 *   2. compaction while writing: rs_save_begin(st, NULL), then steps of
 *      1,000 records, each followed by 100 updates of random players (a
 *      server between requests), until the step that puts the new journal
 *      in place; reports the longest step (writers wait at most that long:
 *      the finishing steps each do one fsync, or a rename and a directory
 *      fsync), the steps' count and the memory the save held;
 *   3. reopen: a fresh store from the snapshot and the journal's tail;
 *   4. snapshot save and load of the same store to a plain file: time,
 *      size against the store's accounted bytes;
 *   5. an update (rs_set_int) under each fsync policy: never and everysec
 *      over 100,000 updates, always over --always of them (default 2,000:
 *      one fdatasync each).
 *
 * Wall-clock figures on shared machines are noisy; compare ratios from one
 * run.  Files are removed at the end.
 */
#include "gen.h"
#include "roster.h"
#include "tsv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLASS_TEXT                                                             \
    "Player { uid: str(16) key inline(4); "                                    \
    "name: str(32) unique inline(12); stat: u8 = 0; level: u16 = 0 } "         \
    "dynamic"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what, rs_store *st)
{
    fprintf(stderr, "bench_persist: %s: %s\n", what, st ? rs_errmsg(st) : "");
    exit(1);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A fresh durable store under base, loaded with the TSV in buf. */
static rs_store *durable_load(const char *base, const char *buf, size_t len,
                              double *secs)
{
    rs_store *st;
    rs_class *cls;
    if (rs_store_open(NULL, NULL, &st) != RS_OK ||
        rs_class_parse(st, CLASS_TEXT, strlen(CLASS_TEXT), &cls) != RS_OK ||
        rs_durable_open(st, base, RS_SYNC_NEVER, NULL) != RS_OK) {
        die("durable open", st);
    }
    tsv_loader ld;
    char err[512];
    if (tsv_loader_init(&ld, st, cls, err, sizeof err) != 0) {
        die(err, NULL);
    }
    double t0 = now_s();
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
        if (tsv_load_line(&ld, buf + at, n, err, sizeof err) != 0) {
            die(err, NULL);
        }
        at += n + 1;
    }
    *secs = now_s() - t0;
    tsv_loader_free(&ld);
    return st;
}

/* One update of a random player's level. */
static void update(rs_store *st, const rs_handle *hs, size_t n, uint64_t i)
{
    rs_handle h = hs[rnd() % n];
    if (rs_set_int(st, h, 3, (int64_t)(i % 60000)) != RS_OK) {
        die("update", st);
    }
}

static rs_handle *handles(rs_store *st, rs_class *cls, size_t *n)
{
    rs_handle *hs = malloc(rs_count(cls) * sizeof *hs);
    rs_scan *sc;
    size_t k = 0;
    if (hs == NULL || rs_scan_open(st, cls, NULL, 0, &sc) != RS_OK) {
        die("scan", st);
    }
    while (rs_scan_next(sc, &hs[k]) == RS_OK) {
        k++;
    }
    rs_scan_close(sc);
    *n = k;
    return hs;
}

/* Updates under a policy (fixed at open: the store is reopened). */
static double policy_ns(const char *base, rs_sync sync, uint64_t ops)
{
    rs_store *s2;
    if (rs_store_open(NULL, NULL, &s2) != RS_OK ||
        rs_durable_open(s2, base, sync, NULL) != RS_OK) {
        die("reopen for a policy", s2);
    }
    rs_class *c2 = rs_class_find(s2, "Player");
    size_t n2;
    rs_handle *h2 = handles(s2, c2, &n2);
    double t0 = now_s();
    for (uint64_t i = 0; i < ops; i++) {
        update(s2, h2, n2, i);
    }
    double ns = (now_s() - t0) * 1e9 / (double)ops;
    free(h2);
    rs_store_close(s2);
    return ns;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, seed = 1, always = 2000;
    const char *dir = "/tmp";
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--players") && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--always") && i + 1 < argc) {
            always = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            printf("usage: bench_persist [--players N] [--seed S] [--dir D] "
                   "[--always N] [--json]\n"
                   "  --players N  canonical players (1000000)\n"
                   "  --seed S     generator seed (1)\n"
                   "  --dir D      where the files go (/tmp)\n"
                   "  --always N   updates timed under fsync always (2000)\n"
                   "  --json       one JSON object on stdout\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (n == 0 || always == 0) {
        die("--players and --always must be positive", NULL);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL || rs_gen_write(f, n, seed, NULL, NULL) != 0) {
        die("generating the players", NULL);
    }
    fclose(f);
    char work[512], base[600], plain[600];
    snprintf(work, sizeof work, "%s/roster-bench-persist-XXXXXX", dir);
    if (mkdtemp(work) == NULL) {
        die("mkdtemp", NULL);
    }
    snprintf(base, sizeof base, "%s/players", work);
    snprintf(plain, sizeof plain, "%s/plain.snap", work);

    /* 1. Journaled load. */
    double load_journaled;
    rs_store *st = durable_load(base, buf, len, &load_journaled);
    rs_class *cls = rs_class_find(st, "Player");
    size_t nh;
    rs_handle *hs = handles(st, cls, &nh);
    rs_mem_report m;
    rs_mem(st, &m);

    /* 2. Compaction while writing. */
    rs_saver *sv;
    rs_save_info ci;
    double longest = 0, t0 = now_s();
    uint64_t writes = 0, steps = 0;
    if (rs_save_begin(st, NULL, &sv) != RS_OK) {
        die("compaction", st);
    }
    rs_status rc;
    do {
        double s0 = now_s();
        rc = rs_save_step(sv, 1000);
        double d = now_s() - s0;
        longest = d > longest ? d : longest;
        steps++;

        for (int k = 0; k < 100; k++) {
            update(st, hs, nh, writes++);
        }
    } while (rc == RS_OK);
    if (rc != RS_DONE) {
        die("compaction step", st);
    }
    double f0 = now_s();
    if (rs_save_finish(sv, &ci) != RS_OK) {
        die("compaction finish", st);
    }
    double switch_s = now_s() - f0, compact_s = now_s() - t0;

    /* 4. Plain save and load of the same store. */
    rs_save_info si;
    t0 = now_s();
    if (rs_save(st, plain, &si) != RS_OK) {
        die("save", st);
    }
    double save_s = now_s() - t0;
    rs_store *back;
    rs_load_info li;
    if (rs_store_open(NULL, NULL, &back) != RS_OK) {
        die("open", NULL);
    }
    t0 = now_s();
    if (rs_load(back, plain, &li) != RS_OK) {
        die("load", back);
    }
    double load_s = now_s() - t0;
    rs_store_close(back);
    rs_store_close(st);
    free(hs);

    /* 3. Reopen from the compacted snapshot and the journal. */
    t0 = now_s();
    rs_store *re;
    if (rs_store_open(NULL, NULL, &re) != RS_OK ||
        rs_durable_open(re, base, RS_SYNC_NEVER, &li) != RS_OK) {
        die("reopen", re);
    }
    double reopen_s = now_s() - t0;
    if (li.n_records != nh) {
        die("reopen: wrong record count", NULL);
    }
    rs_store_close(re);

    /* 5. Updates under each policy. */
    double never_ns = policy_ns(base, RS_SYNC_NEVER, 100000);
    double everysec_ns = policy_ns(base, RS_SYNC_EVERYSEC, 100000);
    double always_ns = policy_ns(base, RS_SYNC_ALWAYS, always);

    double acct = (double)m.total;
    if (json) {
        printf("{\"players\": %zu, \"accounted_bytes\": %zu, "
               "\"journaled_insert_ns\": %.0f, \"compact_seconds\": %.3f, "
               "\"compact_longest_step_ms\": %.3f, \"compact_steps\": %llu, "
               "\"compact_finish_ms\": %.3f, \"compact_early_records\": %zu, "
               "\"compact_extra_bytes\": %zu, \"reopen_seconds\": %.3f, "
               "\"save_seconds\": %.3f, \"load_seconds\": %.3f, "
               "\"snapshot_bytes\": %llu, \"snapshot_ratio\": %.3f, "
               "\"save_extra_bytes\": %zu, \"update_ns_never\": %.0f, "
               "\"update_ns_everysec\": %.0f, \"update_ns_always\": %.0f}\n",
               nh, m.total, load_journaled * 1e9 / (double)nh, compact_s,
               longest * 1e3, (unsigned long long)steps, switch_s * 1e3,
               ci.n_early, ci.extra_bytes, reopen_s, save_s, load_s,
               (unsigned long long)si.bytes, (double)si.bytes / acct,
               si.extra_bytes, never_ns, everysec_ns, always_ns);
    } else {
        printf("bench_persist: %zu players, store %.2f bytes a player "
               "accounted\n",
               nh, acct / (double)nh);
        printf("  journaled load          %.3f s, %.0f ns an insert "
               "(fsync never)\n",
               load_journaled, load_journaled * 1e9 / (double)nh);
        printf("  compaction, writing     %.3f s in %llu steps; longest step "
               "%.2f ms (writers wait at most that); rs_save_finish %.2f "
               "ms\n",
               compact_s, (unsigned long long)steps, longest * 1e3,
               switch_s * 1e3);
        printf("                          %zu records written early, extra "
               "memory %zu bytes (%.2f%% of the store)\n",
               ci.n_early, ci.extra_bytes,
               100.0 * (double)ci.extra_bytes / acct);
        printf("  reopen                  %.3f s (snapshot + journal tail)\n",
               reopen_s);
        printf("  save                    %.3f s, %llu bytes, %.2f a player, "
               "%.2fx accounted\n",
               save_s, (unsigned long long)si.bytes,
               (double)si.bytes / (double)nh, (double)si.bytes / acct);
        printf("  load                    %.3f s\n", load_s);
        printf("  update, fsync never     %.0f ns\n", never_ns);
        printf("  update, fsync everysec  %.0f ns\n", everysec_ns);
        printf("  update, fsync always    %.0f ns (%llu updates)\n", always_ns,
               (unsigned long long)always);
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_persist: could not remove %s\n", work);
    }
    free(buf);
    return 0;
}
