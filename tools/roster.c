/*
 * roster.c: the command-line tool.
 *
 *   roster gen --players N [--seed S] [-o FILE]   the canonical data set
 *   roster load [FILE] [--class TEXT] [--json]    load a TSV, report memory
 *   roster demo [--players N]                     __dict__ versus __slots__
 *
 * It reaches the library only through roster.h.
 */
#include "bench.h"
#include "gen.h"
#include "roster.h"
#include "tsv.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The canonical player.  A uid is digits: inline(4) packs it into a 5-byte
 * cell.  Names are at most 12 bytes by the data set's definition, so the
 * row keeps 12 inline and no name goes to the arena.  Dynamic, so the
 * extras become attributes. */
#define DEFAULT_CLASS                                                       \
    "Player { uid: str(16) key inline(4); "                                 \
    "name: str(32) unique inline(12); stat: u8 = 0; level: u16 = 0 } "      \
    "dynamic"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: roster <command> [options]\n"
        "\n"
        "commands:\n"
        "  gen   --players N [--seed S] [-o FILE]\n"
        "        write the canonical data set (TSV: uid, name, stat, level,\n"
        "        extras) to FILE or stdout; the same N and S always give\n"
        "        the same bytes.  S defaults to 1.\n"
        "  load  [FILE] [--class TEXT] [--json]\n"
        "        load a TSV (FILE, or stdin if absent or '-') or a snapshot\n"
        "        (FILE.snap, written by roster save) into a store\n"
        "        and report players, bytes per player by RSS and by the\n"
        "        store's own accounting, load time and the breakdown by\n"
        "        category.  --class declares the class in its text form\n"
        "        (default: %s);\n"
        "        columns follow its fields in order, then extras\n"
        "        (key=value;...: at most %d a line, the library's limit of\n"
        "        attributes a record; keys at most %d bytes), bound as\n"
        "        dynamic attributes when the class is dynamic and skipped\n"
        "        otherwise.\n"
        "  bench [--players N] [--seed S] [--runs K] [--only LIST] [--json]\n"
        "        the classic experiment: the same canonical players in each\n"
        "        representation (roster, c-dict, c-slots, c-packed, sqlite,\n"
        "        python-dict, python-slots), each in a fresh process, K runs\n"
        "        (default 3), medians and ratios to c-packed; roster\n"
        "        bench --help lists every option (--plot, --slow-runs...)\n"
        "  save  [FILE] -o OUT.snap [--class TEXT] [--step N]\n"
        "        load a TSV (or a snapshot) and save it as a snapshot,\n"
        "        in steps of N records if asked; report the time, the\n"
        "        file's size against the store's accounted bytes, the extra\n"
        "        memory the save held, and the time to load it back.\n"
        "        With --class, a snapshot loads into that (newer) class.\n"
        "  inspect FILE\n"
        "        verify a snapshot or a journal (every checksum) and show\n"
        "        its classes, counts and sizes.\n"
        "  demo  [--players N]\n"
        "        replay the classic __dict__ versus __slots__ session on\n"
        "        the library, then load N canonical players (default\n"
        "        1,000,000) into each class and compare bytes per player.\n"
        "  help  this text\n"
        "\n"
        "Progress goes to stderr when stderr is a terminal.\n",
        DEFAULT_CLASS, TSV_MAX_EXTRAS, RS_MAX_NAME);
}

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "roster: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size of this process, from /proc/self/statm. */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%llu %llu", &size, &resident) != 2) {
        resident = 0;
    }
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void gen_progress(uint64_t done, uint64_t total, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\rroster gen: %llu of %llu players",
            (unsigned long long)done, (unsigned long long)total);
    if (done == total) {
        fputc('\n', stderr);
    }
}

static int cmd_gen(int argc, char **argv)
{
    uint64_t n = 0, seed = 1;
    const char *path = NULL;
    int have_n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--players") == 0 || strcmp(a, "-n") == 0) {
            if (parse_u64(v, &n) != 0) {
                return fail("gen: --players needs a count, not '%s'%s",
                            v ? v : "", "");
            }
            have_n = 1;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(v, &seed) != 0) {
                return fail("gen: --seed needs a number, not '%s'%s",
                            v ? v : "", "");
            }
            i++;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (v == NULL) {
                return fail("gen: %s needs a file name%s", a, "");
            }
            path = v;
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            return fail("gen: unknown option '%s'%s", a, "");
        }
    }
    if (!have_n) {
        return fail("gen: --players N is required%s%s", "", "");
    }
    FILE *out = stdout;
    if (path && strcmp(path, "-") != 0) {
        out = fopen(path, "w");
        if (out == NULL) {
            return fail("gen: cannot create '%s': %s", path, strerror(errno));
        }
    }
    int rc = rs_gen_write(out, n, seed, isatty(2) ? gen_progress : NULL,
                          NULL);
    int err = errno;
    if (out != stdout) {
        if (fclose(out) != 0 && rc == 0) {
            rc = -1;
            err = errno;
        }
    } else if (fflush(out) != 0) {
        rc = -1;
        err = errno;
    }
    if (rc != 0) {
        return fail("gen: write failed: %s%s", strerror(err), "");
    }
    return 0;
}

static void load_progress(uint64_t lines, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\rroster load: %llu lines", (unsigned long long)lines);
}

static void print_group(uint64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    for (int i = 0; i < n; i++) {
        putchar(buf[i]);
        if ((n - i - 1) % 3 == 0 && i < n - 1) {
            putchar(',');
        }
    }
}

/* What roster load prints (or, --json, writes as one object). */
static void load_report(const char *name, rs_store *st, rs_class *cls,
                        double secs, size_t rss0, int json,
                        const tsv_stats *stats)
{
    size_t rss1 = rss_bytes();
    rs_mem_report m;
    rs_mem(st, &m);
    uint64_t n = rs_count(cls);
    double per = n ? 1.0 / (double)n : 0.0;
    double rss_pp = (double)(rss1 > rss0 ? rss1 - rss0 : 0) * per;
    if (json) {
        printf("{\"file\": \"");
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\') {
                putchar('\\');
            }
            if ((unsigned char)*p >= 0x20) {
                putchar(*p);
            }
        }
        printf("\", \"class\": \"%s\", \"players\": %llu, "
               "\"rss_bytes\": %zu, \"rss_bytes_per_player\": %.2f, "
               "\"accounted_bytes\": %zu, "
               "\"accounted_bytes_per_player\": %.2f, "
               "\"load_seconds\": %.4f, \"ns_per_player\": %.1f, "
               "\"extras_loaded\": %llu, \"extras_skipped\": %llu, "
               "\"shapes\": %zu, \"categories\": {",
               rs_class_name(cls), (unsigned long long)n,
               rss1 > rss0 ? rss1 - rss0 : 0, rss_pp, m.total,
               (double)m.total * per, secs, secs * 1e9 * per,
               (unsigned long long)stats->extras_loaded,
               (unsigned long long)stats->extras_skipped, m.n_shapes);
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            printf("%s\"%s\": %zu", c ? ", " : "",
                   rs_mem_cat_name((rs_mem_cat)c), m.bytes[c]);
        }
        printf("}}\n");
    } else {
        printf("roster load %s (class %s)\n", name, rs_class_name(cls));
        printf("  players           ");
        print_group(n);
        printf("\n  load time         %.3f s, %.0f ns a player\n", secs,
               secs * 1e9 * per);
        printf("  bytes per player  %.2f by RSS growth, %.2f by the "
               "store's accounting\n",
               rss_pp, (double)m.total * per);
        if (stats->extras_loaded) {
            printf("  extras            ");
            print_group(stats->extras_loaded);
            printf(" dynamic attributes on ");
            print_group(stats->extras_rows);
            printf(" players, %zu names, %zu shapes\n", m.n_attr_names,
                   m.n_shapes);
        }
        if (stats->extras_skipped) {
            printf("  extras skipped    ");
            print_group(stats->extras_skipped);
            printf(" attributes on ");
            print_group(stats->extras_rows);
            printf(" players (the class is not dynamic)\n");
        }
        printf("  by category       bytes a player    bytes\n");
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            printf("    %-15s %10.2f      ", rs_mem_cat_name((rs_mem_cat)c),
                   (double)m.bytes[c] * per);
            print_group(m.bytes[c]);
            putchar('\n');
        }
        printf("    %-15s %10.2f      ", "total", (double)m.total * per);
        print_group(m.total);
        putchar('\n');
    }
}

/* Whether path names a roster snapshot (by its magic). */
static int is_snapshot(const char *path)
{
    char magic[8];
    FILE *f = path && strcmp(path, "-") != 0 ? fopen(path, "rb") : NULL;
    int yes = f && fread(magic, 1, 8, f) == 8 &&
              memcmp(magic, "RSTRSNAP", 8) == 0;
    if (f) {
        fclose(f);
    }
    return yes;
}

/* roster load FILE.snap: the class comes from the file, or from --class
 * (which may be a newer declaration: the snapshot loads into it). */
static int load_snapshot(const char *path, const char *class_text, int json)
{
    size_t rss0 = rss_bytes();
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return fail("load: out of memory%s%s", "", "");
    }
    rs_class *cls = NULL;
    if (class_text &&
        rs_class_parse(st, class_text, strlen(class_text), &cls) != RS_OK) {
        int r = fail("load: --class: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    rs_load_info li;
    double t0 = now_s();
    if (rs_load(st, path, &li) != RS_OK) {
        int r = fail("load: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    double secs = now_s() - t0;
    if (cls == NULL) {
        cls = rs_class_at(st, 0);
    }
    if (cls == NULL) {
        rs_store_close(st);
        return fail("load: %s holds no class%s", path, "");
    }
    if (li.n_dropped && !json) {
        printf("dropped fields: %s\n", li.dropped);
    }
    tsv_stats none;
    memset(&none, 0, sizeof none);
    load_report(path, st, cls, secs, rss0, json, &none);
    rs_store_close(st);
    return 0;
}

static int cmd_load(int argc, char **argv)
{
    const char *path = NULL, *class_text = DEFAULT_CLASS;
    int json = 0, class_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--class") == 0) {
            if (i + 1 >= argc) {
                return fail("load: --class needs the class text%s%s", "", "");
            }
            class_text = argv[++i];
            class_given = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            return fail("load: unknown option '%s'%s", a, "");
        } else if (path == NULL) {
            path = a;
        } else {
            return fail("load: more than one file ('%s' and '%s')", path, a);
        }
    }
    if (is_snapshot(path)) {
        return load_snapshot(path, class_given ? class_text : NULL, json);
    }
    FILE *in = stdin;
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "r");
        if (in == NULL) {
            return fail("load: cannot open '%s': %s", path, strerror(errno));
        }
    }
    const char *name = path ? path : "-";
    size_t rss0 = rss_bytes();
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return fail("load: out of memory%s%s", "", "");
    }
    rs_class *cls;
    if (rs_class_parse(st, class_text, strlen(class_text), &cls) != RS_OK) {
        int r = fail("load: --class: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    tsv_loader ld;
    char err[768];
    int rc = tsv_loader_init(&ld, st, cls, err, sizeof err);
    double t0 = now_s();
    if (rc == 0) {
        rc = tsv_load_file(&ld, in, err, sizeof err,
                           isatty(2) ? load_progress : NULL, NULL);
    }
    double secs = now_s() - t0;
    if (isatty(2) && ld.stats.lines >= 0x10000) {
        fputc('\n', stderr);
    }
    if (in != stdin) {
        fclose(in);
    }
    if (rc != 0) {
        fprintf(stderr, "roster: load: %s: %s\n", name, err);
        tsv_loader_free(&ld);
        rs_store_close(st);
        return 1;
    }
    load_report(name, st, cls, secs, rss0, json, &ld.stats);
    tsv_loader_free(&ld);
    rs_store_close(st);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* roster save and roster inspect                                            */
/* ------------------------------------------------------------------------ */

/* Fill st from a TSV (or a snapshot), for roster save. */
static int fill_store(rs_store *st, const char *path, const char *class_text,
                      rs_class **cls)
{
    if (is_snapshot(path)) {
        if (class_text &&
            rs_class_parse(st, class_text, strlen(class_text), cls) !=
                RS_OK) {
            return fail("save: --class: %s%s", rs_errmsg(st), "");
        }
        if (rs_load(st, path, NULL) != RS_OK) {
            return fail("save: %s%s", rs_errmsg(st), "");
        }
        *cls = rs_class_at(st, 0);
        return 0;
    }
    if (class_text == NULL) {
        class_text = DEFAULT_CLASS;
    }
    if (rs_class_parse(st, class_text, strlen(class_text), cls) != RS_OK) {
        return fail("save: --class: %s%s", rs_errmsg(st), "");
    }
    FILE *in = path && strcmp(path, "-") != 0 ? fopen(path, "r") : stdin;
    if (in == NULL) {
        return fail("save: cannot open '%s': %s", path, strerror(errno));
    }
    tsv_loader ld;
    char err[768];
    int rc = tsv_loader_init(&ld, st, *cls, err, sizeof err);
    if (rc == 0) {
        rc = tsv_load_file(&ld, in, err, sizeof err,
                           isatty(2) ? load_progress : NULL, NULL);
    }
    if (isatty(2) && ld.stats.lines >= 0x10000) {
        fputc('\n', stderr);
    }
    if (in != stdin) {
        fclose(in);
    }
    tsv_loader_free(&ld);
    if (rc != 0) {
        fprintf(stderr, "roster: save: %s: %s\n", path ? path : "-", err);
        return 1;
    }
    return 0;
}

static int cmd_save(int argc, char **argv)
{
    const char *path = NULL, *out = NULL, *class_text = NULL;
    uint64_t step = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--class") == 0 ||
             strcmp(a, "--step") == 0) && i + 1 >= argc) {
            return fail("save: %s needs a value%s", a, "");
        }
        if (strcmp(a, "-o") == 0) {
            out = argv[++i];
        } else if (strcmp(a, "--class") == 0) {
            class_text = argv[++i];
        } else if (strcmp(a, "--step") == 0) {
            if (parse_u64(argv[++i], &step) != 0 || step == 0) {
                return fail("save: --step wants a positive number, not "
                            "'%s'%s", argv[i], "");
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            return fail("save: unknown option '%s'%s", a, "");
        } else if (path == NULL) {
            path = a;
        } else {
            return fail("save: more than one input ('%s' and '%s')", path,
                        a);
        }
    }
    if (out == NULL) {
        return fail("save: -o FILE.snap is required%s%s", "", "");
    }
    rs_store *st;
    rs_class *cls = NULL;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return fail("save: out of memory%s%s", "", "");
    }
    if (fill_store(st, path, class_text, &cls) != 0) {
        rs_store_close(st);
        return 1;
    }
    rs_mem_report m;
    rs_mem(st, &m);
    /* The save, in steps of --step records when asked (a server's way:
     * it serves requests between steps), else all at once. */
    rs_saver *sv;
    rs_save_info si;
    double worst = 0, t0 = now_s();
    rs_status rc = rs_save_begin(st, out, &sv);
    while (rc == RS_OK && step) {
        double s0 = now_s();
        rc = rs_save_step(sv, step);
        worst = now_s() - s0 > worst ? now_s() - s0 : worst;
    }
    if (rc == RS_OK || rc == RS_DONE) {
        rc = rs_save_finish(sv, &si);
    } else if (step) {
        rs_save_abort(sv);
    }
    double save_s = now_s() - t0;
    if (rc != RS_OK) {
        int r = fail("save: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    size_t n = si.n_records;
    rs_store_close(st);
    /* Load it back, to time it and to check it. */
    rs_store *back;
    if (rs_store_open(NULL, NULL, &back) != RS_OK) {
        return fail("save: out of memory%s%s", "", "");
    }
    rs_load_info li;
    t0 = now_s();
    rc = rs_load(back, out, &li);
    double load_s = now_s() - t0;
    if (rc != RS_OK || li.n_records != n) {
        int r = fail("save: reading %s back failed: %s", out,
                     rs_errmsg(back));
        rs_store_close(back);
        return r;
    }
    rs_store_close(back);
    double per = n ? 1.0 / (double)n : 0;
    printf("roster save %s -> %s\n", path ? path : "-", out);
    printf("  records           ");
    print_group(n);
    printf("\n  save              %.3f s (%.0f ns a record)", save_s,
           save_s * 1e9 * per);
    if (step) {
        printf(", steps of %llu records, longest step %.2f ms",
               (unsigned long long)step, worst * 1e3);
    }
    printf("\n  file              ");
    print_group(si.bytes);
    printf(" bytes, %.2f a record, %.2fx the store's %.2f accounted\n",
           (double)si.bytes * per, (double)si.bytes / (double)m.total,
           (double)m.total * per);
    printf("  extra memory      ");
    print_group(si.extra_bytes);
    printf(" bytes while saving, %.2f%% of the store\n",
           100.0 * (double)si.extra_bytes / (double)m.total);
    printf("  load back         %.3f s (%.0f ns a record), %zu records\n",
           load_s, load_s * 1e9 * per, li.n_records);
    return 0;
}

static int cmd_inspect(int argc, char **argv)
{
    if (argc == 1 && (strcmp(argv[0], "--help") == 0 ||
                      strcmp(argv[0], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 1 || argv[0][0] == '-') {
        return fail("inspect: one FILE (a snapshot or a journal)%s%s", "",
                    "");
    }
    const char *path = argv[0];
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return fail("inspect: out of memory%s%s", "", "");
    }
    rs_file_info fi;
    if (rs_inspect(st, path, &fi) != RS_OK) {
        int r = fail("inspect: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    printf("%s: roster %s, version %u, ", path,
           fi.kind == RS_FILE_SNAPSHOT ? "snapshot" : "journal", fi.version);
    print_group(fi.bytes);
    printf(" bytes, every checksum verified\n");
    if (fi.kind == RS_FILE_JOURNAL) {
        printf("  follows snapshot  %016llx%s\n", (unsigned long long)fi.id,
               fi.id ? "" : " (none: the journal starts from empty)");
        printf("  entries           %zu (%zu groups of several changes)\n",
               fi.n_blocks, fi.n_groups);
        printf("  changes           %zu inserts, %zu removes, %zu sets, "
               "%zu binds, %zu unbinds\n", fi.n_records, fi.n_removes,
               fi.n_sets, fi.n_binds, fi.n_unbinds);
        printf("  declarations      %zu classes, %zu attribute names\n",
               fi.n_classes, fi.n_names);
        if (fi.torn_bytes) {
            printf("  torn tail         %llu bytes (a write cut short by a "
                   "crash; dropped when the store opens)\n",
                   (unsigned long long)fi.torn_bytes);
        }
        rs_store_close(st);
        return 0;
    }
    printf("  id                %016llx\n", (unsigned long long)fi.id);
    if (fi.prev_id) {
        printf("  compacted from    journal of %016llx at byte %llu\n",
               (unsigned long long)fi.prev_id,
               (unsigned long long)fi.prev_off);
    }
    printf("  blocks            %zu, %zu attribute names\n", fi.n_blocks,
           fi.n_names);
    /* Load it to show the classes and what they cost in memory. */
    rs_load_info li;
    if (rs_load(st, path, &li) != RS_OK) {
        int r = fail("inspect: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    rs_mem_report m;
    rs_mem(st, &m);
    for (size_t i = 0; i < rs_n_classes(st); i++) {
        rs_class *c = rs_class_at(st, i);
        char text[4096];
        rs_class_format(c, text, sizeof text);
        printf("  class             %s: ", rs_class_name(c));
        print_group(rs_count(c));
        printf(" records\n%s\n", text);
    }
    printf("  records           ");
    print_group(li.n_records);
    printf(", %.2f file bytes a record; loaded, the store accounts ",
           li.n_records ? (double)fi.bytes / (double)li.n_records : 0.0);
    print_group(m.total);
    printf(" bytes (file = %.2fx)\n", m.total ? (double)fi.bytes /
                                                  (double)m.total : 0.0);
    rs_store_close(st);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* roster demo: the classic __dict__ versus __slots__ session                */
/* ------------------------------------------------------------------------ */

#define PLAYER2_CLASS                                                       \
    "Player2 { uid: str(16) key inline(4); "                                \
    "name: str(32) unique inline(12); stat: u8 = 0; level: u16 = 0 }"

static void show_value(const rs_value *v)
{
    switch (v->type) {
    case RS_STR:
        printf("'%.*s'", (int)v->v.s.len, v->v.s.ptr);
        break;
    case RS_F32:
    case RS_F64:
        printf("%g", v->v.f);
        break;
    case RS_BOOL:
        printf("%s", v->v.b ? "True" : "False");
        break;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        printf("%lld", (long long)v->v.i);
        break;
    default:
        printf("%llu", (unsigned long long)v->v.u);
        break;
    }
}

static void show_dir(rs_store *st, rs_handle h)
{
    const char *names[64];
    size_t n = 0;
    if (rs_dir(st, h, names, 64, &n) != RS_OK) {
        printf("error: %s\n", rs_errmsg(st));
        return;
    }
    printf("[");
    for (size_t i = 0; i < n && i < 64; i++) {
        printf("%s'%s'", i ? ", " : "", names[i]);
    }
    printf("]\n");
}

static void show_dict(rs_store *st, rs_handle h)
{
    rs_attr items[64];
    size_t n = 0;
    if (rs_dict(st, h, items, 64, &n) != RS_OK) {
        printf("error: %s\n", rs_errmsg(st));
        return;
    }
    printf("{");
    for (size_t i = 0; i < n && i < 64; i++) {
        printf("%s'%s': ", i ? ", " : "", items[i].name);
        show_value(&items[i].val);
    }
    printf("}\n");
}

static void show_get(rs_store *st, rs_handle h, const char *var,
                     const char *name)
{
    rs_value v;
    printf(">>> %s.%s\n", var, name);
    if (rs_get_attr(st, h, name, &v) == RS_OK) {
        show_value(&v);
        printf("\n");
    } else {
        printf("AttributeError: %s\n", rs_errmsg(st));
    }
}

static void show_set(rs_store *st, rs_handle h, const char *var,
                     const char *name, int64_t x)
{
    rs_value v = rs_val_int(x);
    printf(">>> %s.%s = %lld\n", var, name, (long long)x);
    if (rs_set_attr(st, h, name, &v) != RS_OK) {
        printf("AttributeError: %s\n", rs_errmsg(st));
    }
}

/* Load n canonical players into a fresh store of class text; report bytes
 * a player by RSS growth and by accounting. */
static int demo_load(const char *text, const char *data, size_t len,
                     double *rss_pp, double *acct_pp, uint64_t *extras)
{
    size_t rss0 = rss_bytes();
    rs_store *st;
    rs_class *cls;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return -1;
    }
    if (rs_class_parse(st, text, strlen(text), &cls) != RS_OK) {
        rs_store_close(st);
        return -1;
    }
    tsv_loader ld;
    char err[512];
    int rc = tsv_loader_init(&ld, st, cls, err, sizeof err);
    for (size_t at = 0; rc == 0 && at < len;) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        rc = tsv_load_line(&ld, data + at, n, err, sizeof err);
        at += n + 1;
    }
    if (rc != 0) {
        fprintf(stderr, "roster: demo: %s\n", err);
    } else {
        size_t rss1 = rss_bytes();
        rs_mem_report m;
        rs_mem(st, &m);
        double n = (double)rs_count(cls);
        *rss_pp = (double)(rss1 > rss0 ? rss1 - rss0 : 0) / n;
        *acct_pp = (double)m.total / n;
        *extras = ld.stats.extras_loaded;
        tsv_loader_free(&ld);
    }
    rs_store_close(st);
    /* Hand the freed pages back, so the next class's RSS growth is its
     * own and not this store's memory reused. */
    malloc_trim(0);
    return rc;
}

static int cmd_demo(int argc, char **argv)
{
    uint64_t players = 1000000;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--players") == 0 && i + 1 < argc &&
            parse_u64(argv[i + 1], &players) == 0 && players > 0) {
            i++;
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            return fail("demo: unknown option or bad count '%s'%s", argv[i],
                        "");
        }
    }
    rs_store *st;
    rs_class *p1, *p2;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return fail("demo: out of memory%s%s", "", "");
    }
    printf("# The classic session: a plain class (every instance may bind new\n"
           "# attributes) against a __slots__ class, replayed on libroster.\n\n");
    printf(">>> class Player:    # %s\n", DEFAULT_CLASS);
    printf(">>> class Player2:   # __slots__: %s\n", PLAYER2_CLASS);
    if (rs_class_parse(st, DEFAULT_CLASS, strlen(DEFAULT_CLASS), &p1) !=
            RS_OK ||
        rs_class_parse(st, PLAYER2_CLASS, strlen(PLAYER2_CLASS), &p2) !=
            RS_OK) {
        int r = fail("demo: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    rs_named tom[] = {{"uid", rs_val_cstr("00001")},
                      {"name", rs_val_cstr("Tom")}};
    rs_named jim[] = {{"uid", rs_val_cstr("00003")},
                      {"name", rs_val_cstr("Jim")}};
    rs_handle p, q;
    printf(">>> p = Player('00001', 'Tom')\n");
    printf(">>> p2 = Player2('00003', 'Jim')\n");
    if (rs_insert(st, p1, tom, 2, &p) != RS_OK ||
        rs_insert(st, p2, jim, 2, &q) != RS_OK) {
        int r = fail("demo: %s%s", rs_errmsg(st), "");
        rs_store_close(st);
        return r;
    }
    printf(">>> dir(p)\n");
    show_dir(st, p);
    printf(">>> dir(p2)\n");
    show_dir(st, q);
    printf(">>> p.__dict__\n");
    show_dict(st, p);
    show_get(st, p, "p", "x");
    show_set(st, p, "p", "x", 123);
    show_get(st, p, "p", "x");
    show_set(st, p, "p", "y", 999);
    show_get(st, p, "p", "y");
    printf(">>> del p.y\n");
    if (rs_del_attr(st, p, "y") != RS_OK) {
        printf("AttributeError: %s\n", rs_errmsg(st));
    }
    show_get(st, p, "p", "y");
    printf(">>> p.__dict__\n");
    show_dict(st, p);
    printf(">>> set(dir(p)) - set(dir(p2))\n");
    {
        const char *a[64], *b[64];
        size_t na = 0, nb = 0;
        if (rs_dir(st, p, a, 64, &na) == RS_OK &&
            rs_dir(st, q, b, 64, &nb) == RS_OK) {
            printf("{");
            int first = 1;
            for (size_t i = 0; i < na && i < 64; i++) {
                size_t j = 0;
                while (j < nb && j < 64 && strcmp(a[i], b[j]) != 0) {
                    j++;
                }
                if (j == nb || j == 64) {
                    printf("%s'%s'", first ? "" : ", ", a[i]);
                    first = 0;
                }
            }
            printf("}\n");
        }
    }
    show_set(st, q, "p2", "x", 123);
    printf(">>> sys.getsizeof(p), sys.getsizeof(p2)   # deep: all it owns\n");
    size_t sp = 0, sq = 0;
    if (rs_record_size(st, p, &sp) != RS_OK ||
        rs_record_size(st, q, &sq) != RS_OK) {
        printf("error: %s\n", rs_errmsg(st));
    }
    printf("(%zu, %zu)\n", sp, sq);
    rs_store_close(st);

    /* The same question at scale: the canonical players in each class. */
    printf("\n# %llu canonical players (roster gen --seed 1) in each class:\n",
           (unsigned long long)players);
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    if (mem == NULL || rs_gen_write(mem, players, 1, NULL, NULL) != 0) {
        if (mem) {
            fclose(mem);
        }
        free(data);
        return fail("demo: cannot generate the players%s%s", "", "");
    }
    fclose(mem);
    double r1 = 0, a1 = 0, r2 = 0, a2 = 0;
    uint64_t ex1 = 0, ex2 = 0;
    int rc = demo_load(DEFAULT_CLASS, data, len, &r1, &a1, &ex1);
    if (rc == 0) {
        rc = demo_load(PLAYER2_CLASS, data, len, &r2, &a2, &ex2);
    }
    free(data);
    if (rc != 0) {
        return 1;
    }
    printf("%-9s %-30s %14s %14s\n", "class", "", "B/player RSS",
           "B/player acct");
    printf("%-9s %-30s %14.2f %14.2f\n", "Player", "dynamic, extras as attributes",
           r1, a1);
    printf("%-9s %-30s %14.2f %14.2f\n", "Player2", "__slots__, extras dropped",
           r2, a2);
    printf("# %llu extras bound as dynamic attributes on Player records.\n",
           (unsigned long long)ex1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "gen") == 0) {
        return cmd_gen(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "load") == 0) {
        return cmd_load(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "save") == 0) {
        return cmd_save(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "inspect") == 0) {
        return cmd_inspect(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "demo") == 0) {
        return cmd_demo(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "bench") == 0) {
        return rs_bench_main(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("roster %s\n", RS_VERSION);
        return 0;
    }
    fprintf(stderr, "roster: unknown command '%s' (try roster help)\n", cmd);
    return 2;
}
