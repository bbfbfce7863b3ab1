/*
 * roster.c: the command-line tool.
 *
 *   roster gen --players N [--seed S] [-o FILE]   the canonical data set
 *   roster load [FILE] [--class TEXT] [--json]    load a TSV, report memory
 *
 * It reaches the library only through roster.h.
 */
#include "gen.h"
#include "roster.h"
#include "tsv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The canonical player.  Names are at most 12 bytes by the data set's
 * definition, so the row keeps 12 inline and no name goes to the arena. */
#define DEFAULT_CLASS                                                       \
    "Player { uid: str(16) key; name: str(32) unique inline(12); "         \
    "stat: u8 = 0; level: u16 = 0 }"

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
        "        load a TSV (FILE, or stdin if absent or '-') into a store\n"
        "        and report players, bytes per player by RSS and by the\n"
        "        store's own accounting, load time and the breakdown by\n"
        "        category.  --class declares the class in its text form\n"
        "        (default: %s);\n"
        "        columns follow its fields in order, then extras.\n"
        "  help  this text\n"
        "\n"
        "Progress goes to stderr when stderr is a terminal.\n",
        DEFAULT_CLASS);
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

static int cmd_load(int argc, char **argv)
{
    const char *path = NULL, *class_text = DEFAULT_CLASS;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--class") == 0) {
            if (i + 1 >= argc) {
                return fail("load: --class needs the class text%s%s", "", "");
            }
            class_text = argv[++i];
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
               "\"extras_skipped\": %llu, \"categories\": {",
               rs_class_name(cls), (unsigned long long)n,
               rss1 > rss0 ? rss1 - rss0 : 0, rss_pp, m.total,
               (double)m.total * per, secs, secs * 1e9 * per,
               (unsigned long long)ld.stats.extras_skipped);
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
        if (ld.stats.extras_skipped) {
            printf("  extras skipped    ");
            print_group(ld.stats.extras_skipped);
            printf(" attributes on ");
            print_group(ld.stats.extras_rows);
            printf(" players (dynamic attributes are not implemented "
                   "yet)\n");
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
    tsv_loader_free(&ld);
    rs_store_close(st);
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
