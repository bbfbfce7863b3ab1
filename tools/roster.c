/*
 * roster.c: the command-line tool.
 *
 *   roster gen --players N [--seed S] [-o FILE]   the canonical data set
 *   roster load [FILE] [--class TEXT] [--json]    load a TSV or a snapshot,
 *                                                 report memory
 *   roster save [FILE] -o OUT.snap ...            the same, saved as a
 *                                                 snapshot
 *   roster inspect FILE                           verify a snapshot or a
 *                                                 journal
 *   roster repair BASE                            make a durable store's
 *                                                 damaged files openable
 *   roster demo [--players N]                     __dict__ versus __slots__
 *   roster bench ...                              (bench.c)
 *   roster help [COMMAND], roster version
 *
 * Every subcommand checks its arguments with cli_parse() (cli.c, declared
 * in cli.h so bench.c shares it): a bad argument is
 * exit status 2 before anything runs, a failure is 1.  Every input goes
 * through input_open(), which tells a TSV from a snapshot or a journal by
 * its first bytes and hands those bytes on to whoever reads the rest, so a
 * pipe loses nothing.  Paths that must be snapshots or journals are
 * checked with stat() before anything opens them (a FIFO would block the
 * open until some writer came).
 *
 * It reaches the library only through roster.h.
 */
#include "bench.h"
#include "cli.h"
#include "gen.h"
#include "roster.h"
#include "tsv.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The canonical player.  A uid is digits: inline(4) packs it into a 5-byte
 * cell.  Names are at most 12 bytes by the data set's definition, so the
 * row keeps 12 inline and no name goes to the arena.  Dynamic, so the
 * extras become attributes. */
#define DEFAULT_CLASS                                                          \
    "Player { uid: str(16) key inline(4); "                                    \
    "name: str(32) unique inline(12); stat: u8 = 0; level: u16 = 0 } "         \
    "dynamic"

#define STR_(x) #x
#define STR(x) STR_(x)

/* ------------------------------------------------------------------------ */
/* Help                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct cmd_help {
    const char *name;
    const char *synopsis;
    const char *text; /* lines, each ending in '\n' */
} cmd_help;

static const cmd_help helps[] = {
    {"gen", "--players N [--seed S] [-o FILE]",
     "write the canonical data set (TSV: uid, name, stat, level,\n"
     "extras) to FILE or stdout; the same N and S always give\n"
     "the same bytes.  S defaults to 1.  N is at most what fits in\n"
     "memory: gen keeps every name to make names unique, about\n"
     "25 to 35 bytes a player (a larger N is refused before anything is\n"
     "written, with the largest that fits).\n"},
    {"load", "[FILE] [--class TEXT] [--json]",
     "load a TSV (FILE, a pipe or FIFO, or stdin if absent or '-')\n"
     "or a snapshot (written by roster save) into a store\n"
     "and report players, bytes per player by RSS and by the\n"
     "store's own accounting, load time and the breakdown by\n"
     "category.  --class declares the class in its text form\n"
     "(default: " DEFAULT_CLASS ");\n"
     "columns follow its fields in order, then extras\n"
     "(key=value;...: at most " STR(
         TSV_MAX_EXTRAS) " a line, the library's "
                         "limit of\n"
                         "attributes a record, keys at most " STR(
                             RS_MAX_NAME) " bytes), bound as\n"
                                          "dynamic attributes when the class "
                                          "is dynamic and skipped\n"
                                          "otherwise.  A UTF-8 byte-order mark "
                                          "at the start is skipped; a\n"
                                          "bad line, a NUL byte or a read "
                                          "error fails the load, naming the\n"
                                          "line.  --json prints one JSON "
                                          "object.\n"},
    {"save", "[FILE] -o OUT.snap [--class TEXT] [--step N]",
     "load a TSV (or a snapshot) as roster load does and save it as\n"
     "a snapshot, in steps of N records if asked; report the time, the\n"
     "file's size against the store's accounted bytes, the extra\n"
     "memory the save held, and the time to load it back.\n"
     "With --class, a snapshot loads into that (newer) class.\n"
     "Nothing is written if the input fails to load.\n"},
    {"inspect", "FILE",
     "verify a snapshot or a journal (every checksum) and show\n"
     "its classes, counts and sizes.  FILE must be a regular file.\n"},
    {"repair", "BASE",
     "make a durable store's files (BASE.snap, BASE.journal) openable\n"
     "again after an open refused a damaged journal: the whole entries\n"
     "before the first damaged one are kept and the rest is dropped;\n"
     "nothing is deleted: the original journal is first moved to\n"
     "BASE.journal.damaged-N.  Prints what it kept, dropped and moved,\n"
     "or that nothing needed repair.  Exit status 0 when the files\n"
     "open afterwards, 1 otherwise.\n"},
    {"demo", "[--players N]",
     "replay the classic __dict__ versus __slots__ session on\n"
     "the library, then load N canonical players (default\n"
     "1,000,000) into each class and compare bytes per player.\n"},
    {"bench", "[--players N] [--seed S] [--runs K] [--only LIST] [--json]",
     "the classic experiment: the same canonical players in each\n"
     "representation (roster, c-dict, c-slots, c-packed, sqlite,\n"
     "python-dict, python-slots, python-roster), each in a\n"
     "fresh process, K runs (default 3), medians and ratios\n"
     "to c-packed; roster\n"
     "bench --help lists every option (--plot, --slow-runs...)\n"},
    {"help", "[COMMAND]", "this text, or one command's.\n"},
    {"version", "", "print the library's version.\n"},
};
#define N_HELPS (sizeof helps / sizeof helps[0])

static void print_text(FILE *f, const cmd_help *h)
{
    for (const char *p = h->text; *p;) {
        const char *nl = strchr(p, '\n');
        fprintf(f, "        %.*s\n", (int)(nl - p), p);
        p = nl + 1;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: roster <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_HELPS; i++) {
        fprintf(f, "  %-5s %s\n", helps[i].name, helps[i].synopsis);
        print_text(f, &helps[i]);
    }
    fprintf(f, "\nEvery command takes --help.  Exit status: 0 success, 1 "
               "failure, 2 bad arguments.\n"
               "Progress goes to stderr when stderr is a terminal.\n");
}

/* roster CMD --help: that command's part of the usage, on stdout. */
static int help(const char *name)
{
    for (size_t i = 0; i < N_HELPS; i++) {
        if (strcmp(helps[i].name, name) == 0) {
            printf("usage: roster %s %s\n", name, helps[i].synopsis);
            print_text(stdout, &helps[i]);
            return CLI_OK;
        }
    }
    usage(stdout);
    return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* roster gen                                                                */
/* ------------------------------------------------------------------------ */

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
    const cli_opt opts[] = {
        {"--players", "-n", CLI_U64, &n, 1, UINT64_MAX, "the number of players",
         true},
        {"--seed", NULL, CLI_U64, &seed, 0, UINT64_MAX, "the seed", false},
        {"-o", "--output", CLI_STR, &path, 0, 0, "the output file name", false},
        CLI_END};
    const cli_cmd cmd = {"gen", opts, NULL, 0, 0};
    size_t n_operands;
    int rc = cli_parse(&cmd, argc, argv, NULL, &n_operands);
    if (rc != CLI_OK) {
        return rc == CLI_HELP ? help("gen") : rc;
    }
    /* Before the output is created: a count that cannot fit used to
     * surface as "write failed: Cannot allocate memory". */
    if (cli_check_gen_memory("gen", n) != 0) {
        return CLI_FAIL;
    }
    FILE *out = stdout;
    if (strcmp(path ? path : "-", "-") != 0) {
        out = fopen(path, "w");
        if (out == NULL) {
            return cli_fail("gen", "cannot create '%s': %s", path,
                            strerror(errno));
        }
    }
    rc = rs_gen_write(out, n, seed, isatty(2) ? gen_progress : NULL, NULL);
    int err = errno;
    if (out != stdout) {
        if (fclose(out) != 0 && rc == 0) {
            rc = -1;
            err = errno;
        }
    } else if (fflush(out) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc != 0) {
        return cli_fail(
            "gen", err == ENOMEM ? "out of memory: %s" : "write failed: %s",
            strerror(err));
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Inputs: a TSV, a snapshot or a journal, from a file or a stream           */
/* ------------------------------------------------------------------------ */

#define MAGIC_LEN 8

typedef enum input_kind {
    INPUT_TSV,
    INPUT_SNAPSHOT /* "RSTRSNAP" (a journal, "RSTRJRNL", is refused) */
} input_kind;

/* An input named on the command line, opened once.  Its first bytes tell
 * what it is; they are read through the FILE that the TSV loader then goes
 * on reading, and handed to the loader (tsv_load_stream()), because a
 * pipe, a FIFO or stdin cannot be read twice. */
typedef struct input {
    const char *name; /* for messages: the path, or "-" for stdin */
    FILE *f;
    bool regular; /* a regular file: rs_load() may open it by name */
    input_kind kind;
    char head[MAGIC_LEN];
    size_t head_len;
} input;

static void input_close(input *in)
{
    if (in->f && in->f != stdin) {
        fclose(in->f);
    }
    in->f = NULL;
}

/* Size cls's indexes for the lines of fd before loading it, when it is a
 * regular file (named, or stdin redirected from one): rs_class_reserve(),
 * about a third less time an insert at a million players.  The lines are
 * counted with pread(), which leaves the stream's position alone; a pipe
 * or FIFO cannot be read twice and loads without.  Only a speed-up: a read
 * error or a refusal leaves the load to grow the indexes as it goes, and
 * the load reports what goes wrong. */
static void reserve_lines(rs_store *st, rs_class *cls, int fd)
{
    static char buf[1 << 20];
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        return;
    }
    size_t lines = 0;
    off_t at = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
        for (const char *p = buf, *end = buf + n;
             (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
            lines++;
        }
        at += n;
    }
    if (n == 0 && lines > 0 &&
        rs_class_reserve(st, cls, rs_count(cls) + lines + 1) != RS_OK) {
        return; /* the load grows the indexes instead */
    }
}

/* Open path (stdin if NULL or "-") and tell what it holds.  A journal is
 * refused here: it only means something beside its snapshot.  Returns 0,
 * or CLI_FAIL after printing why. */
static int input_open(const char *cmd, const char *path, input *in)
{
    memset(in, 0, sizeof *in);
    bool named = path && strcmp(path, "-") != 0;
    in->name = named ? path : "-";
    in->f = named ? fopen(path, "rb") : stdin;
    if (in->f == NULL) {
        return cli_fail(cmd, "cannot open '%s': %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fileno(in->f), &sb) != 0) {
        int r = cli_fail(cmd, "%s: %s", in->name, strerror(errno));
        input_close(in);
        return r;
    }
    if (S_ISDIR(sb.st_mode)) {
        input_close(in);
        return cli_fail(cmd, "%s: is a directory, not a TSV or a snapshot",
                        in->name);
    }
    in->regular = named && S_ISREG(sb.st_mode);
    in->head_len = fread(in->head, 1, MAGIC_LEN, in->f);
    if (in->head_len < MAGIC_LEN && ferror(in->f)) {
        int r = cli_fail(cmd, "%s: read error: %s", in->name, strerror(errno));
        input_close(in);
        return r;
    }
    if (in->head_len == MAGIC_LEN &&
        memcmp(in->head, "RSTRSNAP", MAGIC_LEN) == 0) {
        in->kind = INPUT_SNAPSHOT;
    } else if (in->head_len == MAGIC_LEN &&
               memcmp(in->head, "RSTRJRNL", MAGIC_LEN) == 0) {
        input_close(in);
        return cli_fail(cmd,
                        "%s is a roster journal, not a TSV or a "
                        "snapshot: a journal holds the changes made "
                        "after its snapshot, and a durable store opens "
                        "the two together; roster inspect %s shows "
                        "what it holds",
                        in->name, in->name);
    }
    return 0;
}

/* The whole of a snapshot that comes through a pipe, FIFO or stdin, for
 * rs_load_buffer(): rs_load() would open the path again, and a pipe's
 * first bytes are already read.  Returns 0 with a buffer the caller
 * frees, or -1 with errno set. */
static int input_slurp(input *in, char **out, size_t *len)
{
    size_t cap = 1 << 20, n = in->head_len;
    char *buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }
    memcpy(buf, in->head, n);
    errno = 0;
    for (;;) {
        if (n == cap) {
            char *nb = cap * 2 > cap ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, in->f);
        n += got;
        if (got == 0) {
            if (ferror(in->f)) {
                int err = errno ? errno : EIO;
                free(buf);
                errno = err;
                return -1;
            }
            break;
        }
    }
    *out = buf;
    *len = n;
    return 0;
}

static void load_progress(uint64_t lines, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\rroster load: %llu lines", (unsigned long long)lines);
}

/* Fill the empty store st from in: a snapshot (into the class class_text
 * declares, a newer declaration of the file's, if given; else the file's
 * own) or a TSV (into class_text, or the default class).  Sets *cls, and
 * *stats (a TSV) or *li (a snapshot).  Returns 0, or CLI_FAIL after
 * printing why; st may then hold part of the input. */
static int fill_store(const char *cmd, input *in, rs_store *st,
                      const char *class_text, rs_class **cls, tsv_stats *stats,
                      rs_load_info *li)
{
    memset(stats, 0, sizeof *stats);
    memset(li, 0, sizeof *li);
    *cls = NULL;
    if (in->kind == INPUT_SNAPSHOT) {
        if (class_text &&
            rs_class_parse(st, class_text, strlen(class_text), cls) != RS_OK) {
            return cli_fail(cmd, "--class: %s", rs_errmsg(st));
        }
        rs_status rc;
        if (in->regular) {
            input_close(in);
            rc = rs_load(st, in->name, li);
        } else {
            char *buf;
            size_t len;
            if (input_slurp(in, &buf, &len) != 0) {
                return cli_fail(cmd, "%s: read error: %s", in->name,
                                strerror(errno));
            }
            rc = rs_load_buffer(st, buf, len, in->name, li);
            free(buf);
        }
        if (rc != RS_OK) {
            return cli_fail(cmd, "%s", rs_errmsg(st));
        }
        if (*cls == NULL) {
            *cls = rs_class_at(st, 0);
        }
        if (*cls == NULL) {
            return cli_fail(cmd, "%s holds no class", in->name);
        }
        return 0;
    }
    if (class_text == NULL) {
        class_text = DEFAULT_CLASS;
    }
    if (rs_class_parse(st, class_text, strlen(class_text), cls) != RS_OK) {
        return cli_fail(cmd, "--class: %s", rs_errmsg(st));
    }
    reserve_lines(st, *cls, fileno(in->f));
    tsv_loader ld;
    char err[768];
    int rc = tsv_loader_init(&ld, st, *cls, err, sizeof err);
    if (rc == 0) {
        rc =
            tsv_load_stream(&ld, in->f, in->head, in->head_len, err, sizeof err,
                            isatty(2) ? load_progress : NULL, NULL);
        if (isatty(2) && ld.stats.lines >= 0x10000) {
            fputc('\n', stderr);
        }
        *stats = ld.stats;
        tsv_loader_free(&ld);
    }
    if (rc != 0) {
        return cli_fail(cmd, "%s: %s", in->name, err);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* roster load                                                               */
/* ------------------------------------------------------------------------ */

/* What roster load prints (or, --json, writes as one object). */
static void load_report(const char *name, rs_store *st, rs_class *cls,
                        double secs, size_t rss0, bool json,
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
        cli_json_escape(stdout, name);
        printf("\", \"class\": \"");
        cli_json_escape(stdout, rs_class_name(cls));
        printf("\", \"players\": %llu, "
               "\"rss_bytes\": %zu, \"rss_bytes_per_player\": %.2f, "
               "\"accounted_bytes\": %zu, "
               "\"accounted_bytes_per_player\": %.2f, "
               "\"load_seconds\": %.4f, \"ns_per_player\": %.1f, "
               "\"extras_loaded\": %llu, \"extras_skipped\": %llu, "
               "\"shapes\": %zu, \"categories\": {",
               (unsigned long long)n, rss1 > rss0 ? rss1 - rss0 : 0, rss_pp,
               m.total, (double)m.total * per, secs, secs * 1e9 * per,
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
        cli_print_group(n);
        printf("\n  load time         %.3f s, %.0f ns a player\n", secs,
               secs * 1e9 * per);
        printf("  bytes per player  %.2f by RSS growth, %.2f by the "
               "store's accounting\n",
               rss_pp, (double)m.total * per);
        if (stats->extras_loaded) {
            printf("  extras            ");
            cli_print_group(stats->extras_loaded);
            printf(" dynamic attributes on ");
            cli_print_group(stats->extras_rows);
            printf(" players, %zu names, %zu shapes\n", m.n_attr_names,
                   m.n_shapes);
        }
        if (stats->extras_skipped) {
            printf("  extras skipped    ");
            cli_print_group(stats->extras_skipped);
            printf(" attributes on ");
            cli_print_group(stats->extras_rows);
            printf(" players (the class is not dynamic)\n");
        }
        printf("  by category       bytes a player    bytes\n");
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            printf("    %-15s %10.2f      ", rs_mem_cat_name((rs_mem_cat)c),
                   (double)m.bytes[c] * per);
            cli_print_group(m.bytes[c]);
            putchar('\n');
        }
        printf("    %-15s %10.2f      ", "total", (double)m.total * per);
        cli_print_group(m.total);
        putchar('\n');
    }
}

static int cmd_load(int argc, char **argv)
{
    const char *class_text = NULL;
    bool json = false;
    const cli_opt opts[] = {
        {"--class", NULL, CLI_STR, &class_text, 0, 0, "the class text", false},
        {"--json", NULL, CLI_FLAG, &json, 0, 0, NULL, false},
        CLI_END};
    const cli_cmd cmd = {"load", opts, "FILE", 0, 1};
    const char *path = NULL;
    size_t n_operands;
    int rc = cli_parse(&cmd, argc, argv, &path, &n_operands);
    if (rc != CLI_OK) {
        return rc == CLI_HELP ? help("load") : rc;
    }
    input in;
    if (input_open("load", path, &in) != 0) {
        return CLI_FAIL;
    }
    size_t rss0 = rss_bytes();
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        input_close(&in);
        return cli_fail("load", "out of memory");
    }
    rs_class *cls;
    tsv_stats stats;
    rs_load_info li;
    double t0 = now_s();
    rc = fill_store("load", &in, st, class_text, &cls, &stats, &li);
    double secs = now_s() - t0;
    input_close(&in);
    if (rc == 0) {
        if (li.n_dropped && !json) {
            printf("dropped fields: %s\n", li.dropped);
        }
        load_report(in.name, st, cls, secs, rss0, json, &stats);
    }
    rs_store_close(st);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* roster save and roster inspect                                            */
/* ------------------------------------------------------------------------ */

static int cmd_save(int argc, char **argv)
{
    const char *out = NULL, *class_text = NULL;
    uint64_t step = 0;
    const cli_opt opts[] = {
        {"-o", "--output", CLI_STR, &out, 0, 0, "the output file name", true},
        {"--class", NULL, CLI_STR, &class_text, 0, 0, "the class text", false},
        {"--step", NULL, CLI_U64, &step, 1, SIZE_MAX, "the records a step",
         false},
        CLI_END};
    const cli_cmd cmd = {"save", opts, "FILE", 0, 1};
    const char *path = NULL;
    size_t n_operands;
    int rc0 = cli_parse(&cmd, argc, argv, &path, &n_operands);
    if (rc0 != CLI_OK) {
        return rc0 == CLI_HELP ? help("save") : rc0;
    }
    /* Before the input is read, which may take minutes. */
    if (cli_check_output("save", "-o", out, true) != 0) {
        return CLI_FAIL;
    }
    input in;
    if (input_open("save", path, &in) != 0) {
        return CLI_FAIL;
    }
    rs_store *st;
    rs_class *cls = NULL;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        input_close(&in);
        return cli_fail("save", "out of memory");
    }
    tsv_stats stats;
    rs_load_info li;
    rc0 = fill_store("save", &in, st, class_text, &cls, &stats, &li);
    input_close(&in);
    if (rc0 != 0) {
        rs_store_close(st);
        return rc0;
    }
    rs_mem_report m;
    rs_mem(st, &m);
    /* The save, in steps of --step records when asked (a server's way:
     * it serves requests between steps), else all at once.  A saver that
     * failed to begin is not one: only a begun save is finished or
     * aborted. */
    rs_saver *sv = NULL;
    rs_save_info si;
    double worst = 0, t0 = now_s();
    rs_status rc = rs_save_begin(st, out, &sv);
    if (rc == RS_OK) {
        while (rc == RS_OK && step) {
            double s0 = now_s();
            rc = rs_save_step(sv, (size_t)step);
            worst = now_s() - s0 > worst ? now_s() - s0 : worst;
        }
        if (rc == RS_OK || rc == RS_DONE) {
            rc = rs_save_finish(sv, &si);
        } else {
            rs_save_abort(sv);
        }
    }
    double save_s = now_s() - t0;
    if (rc != RS_OK) {
        int r = cli_fail("save", "%s", rs_errmsg(st));
        rs_store_close(st);
        return r;
    }
    size_t n = si.n_records;
    rs_store_close(st);
    /* Load it back, to time it and to check it. */
    rs_store *back;
    if (rs_store_open(NULL, NULL, &back) != RS_OK) {
        return cli_fail("save", "out of memory");
    }
    t0 = now_s();
    rc = rs_load(back, out, &li);
    double load_s = now_s() - t0;
    if (rc != RS_OK || li.n_records != n) {
        int r = cli_fail("save", "reading %s back failed: %s", out,
                         rs_errmsg(back));
        rs_store_close(back);
        return r;
    }
    rs_store_close(back);
    double per = n ? 1.0 / (double)n : 0;
    printf("roster save %s -> %s\n", in.name, out);
    printf("  records           ");
    cli_print_group(n);
    printf("\n  save              %.3f s (%.0f ns a record)", save_s,
           save_s * 1e9 * per);
    if (step) {
        printf(", steps of %llu records, longest step %.2f ms",
               (unsigned long long)step, worst * 1e3);
    }
    printf("\n  file              ");
    cli_print_group(si.bytes);
    printf(" bytes, %.2f a record, %.2fx the store's %.2f accounted\n",
           (double)si.bytes * per, (double)si.bytes / (double)m.total,
           (double)m.total * per);
    printf("  extra memory      ");
    cli_print_group(si.extra_bytes);
    printf(" bytes while saving, %.2f%% of the store\n",
           100.0 * (double)si.extra_bytes / (double)m.total);
    printf("  load back         %.3f s (%.0f ns a record), %zu records\n",
           load_s, load_s * 1e9 * per, li.n_records);
    return CLI_OK;
}

/* Whether the regular file at path starts with magic (8 bytes). */
static bool has_magic(const char *path, const char *magic)
{
    char head[MAGIC_LEN];
    FILE *f = fopen(path, "rb");
    bool yes = f && fread(head, 1, MAGIC_LEN, f) == MAGIC_LEN &&
               memcmp(head, magic, MAGIC_LEN) == 0;
    if (f) {
        fclose(f);
    }
    return yes;
}

static int cmd_inspect(int argc, char **argv)
{
    const cli_opt opts[] = {CLI_END};
    const cli_cmd cmd = {"inspect", opts, "FILE", 1, 1};
    const char *path = NULL;
    size_t n_operands;
    int rc = cli_parse(&cmd, argc, argv, &path, &n_operands);
    if (rc != CLI_OK) {
        return rc == CLI_HELP ? help("inspect") : rc;
    }
    /* Before anything opens it: opening a FIFO waits for a writer. */
    if (cli_check_regular("inspect", path) != 0) {
        return CLI_FAIL;
    }
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return cli_fail("inspect", "out of memory");
    }
    rs_file_info fi;
    rs_status st_rc = rs_inspect(st, path, &fi);
    if (st_rc != RS_OK) {
        rc = cli_fail("inspect", "%s", rs_errmsg(st));
        if (st_rc == RS_EFORMAT && has_magic(path, "RSTRJRNL")) {
            /* The way out, in the user's terms. */
            size_t len = strlen(path), sl = strlen(".journal");
            if (len > sl && strcmp(path + len - sl, ".journal") == 0) {
                fprintf(stderr,
                        "  roster repair %.*s keeps the whole "
                        "entries before the damage and moves this "
                        "journal aside\n",
                        (int)(len - sl), path);
            } else {
                fprintf(stderr, "  if this is BASE.journal, roster repair "
                                "BASE keeps the whole entries before the "
                                "damage and moves it aside\n");
            }
        }
        rs_store_close(st);
        return rc;
    }
    printf("%s: roster %s, version %u, ", path,
           fi.kind == RS_FILE_SNAPSHOT ? "snapshot" : "journal", fi.version);
    cli_print_group(fi.bytes);
    if (fi.kind == RS_FILE_JOURNAL && fi.torn_bytes) {
        /* Not "every checksum": the torn entry's is not whole. */
        printf(" bytes: %zu whole entries verified, then a torn last "
               "entry\n",
               fi.n_blocks);
    } else {
        printf(" bytes, every checksum verified\n");
    }
    if (fi.kind == RS_FILE_JOURNAL) {
        printf("  follows snapshot  %016llx%s\n", (unsigned long long)fi.id,
               fi.id ? "" : " (none: the journal starts from empty)");
        printf("  entries           %zu (%zu groups of several changes)\n",
               fi.n_blocks, fi.n_groups);
        printf("  changes           %zu inserts, %zu removes, %zu sets, "
               "%zu binds, %zu unbinds\n",
               fi.n_records, fi.n_removes, fi.n_sets, fi.n_binds, fi.n_unbinds);
        printf("  declarations      %zu classes, %zu attribute names\n",
               fi.n_classes, fi.n_names);
        if (fi.torn_bytes) {
            printf("  torn tail         %llu bytes (one write cut short by "
                   "a crash: never acknowledged, dropped when the store "
                   "opens)\n",
                   (unsigned long long)fi.torn_bytes);
        }
        rs_store_close(st);
        return CLI_OK;
    }
    printf("  id                %016llx\n", (unsigned long long)fi.id);
    if (fi.prev_id) {
        printf("  compacted from    journal of %016llx at byte %llu\n",
               (unsigned long long)fi.prev_id, (unsigned long long)fi.prev_off);
    }
    printf("  blocks            %zu, %zu attribute names\n", fi.n_blocks,
           fi.n_names);
    /* Load it to show the classes and what they cost in memory. */
    rs_load_info li;
    if (rs_load(st, path, &li) != RS_OK) {
        int r = cli_fail("inspect", "%s", rs_errmsg(st));
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
        cli_print_group(rs_count(c));
        printf(" records\n%s\n", text);
    }
    printf("  records           ");
    cli_print_group(li.n_records);
    printf(", %.2f file bytes a record; loaded, the store accounts ",
           li.n_records ? (double)fi.bytes / (double)li.n_records : 0.0);
    cli_print_group(m.total);
    printf(" bytes (file = %.2fx)\n",
           m.total ? (double)fi.bytes / (double)m.total : 0.0);
    rs_store_close(st);
    return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* roster repair                                                             */
/* ------------------------------------------------------------------------ */

/* a then b, in memory the caller frees; NULL when out of memory. */
static char *joined(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 1);
    if (p) {
        memcpy(p, a, la);
        memcpy(p + la, b, lb + 1);
    }
    return p;
}

/* Whether BASE's snapshot and journal are regular files or absent, and
 * at least one is there: 0, or CLI_FAIL after saying why.  The library
 * opens them; a FIFO among them would hang it, and a BASE that names
 * nothing is far more often a typo than a store to repair. */
static int check_base(const char *snap, const char *journal, bool *have_journal)
{
    const char *paths[2] = {snap, journal};
    int found = 0;
    for (int i = 0; i < 2; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            if (errno != ENOENT) {
                return cli_fail("repair", "%s: %s", paths[i], strerror(errno));
            }
            continue;
        }
        if (cli_check_regular("repair", paths[i]) != 0) {
            return CLI_FAIL;
        }
        found++;
        *have_journal = i == 1;
    }
    if (found == 0) {
        return cli_fail("repair",
                        "neither %s nor %s exists: nothing to "
                        "repair (BASE is the path without .snap "
                        "or .journal)",
                        snap, journal);
    }
    return 0;
}

static int cmd_repair(int argc, char **argv)
{
    const cli_opt opts[] = {CLI_END};
    const cli_cmd cmd = {"repair", opts, "BASE", 1, 1};
    const char *base = NULL;
    size_t n_operands;
    int rc = cli_parse(&cmd, argc, argv, &base, &n_operands);
    if (rc != CLI_OK) {
        return rc == CLI_HELP ? help("repair") : rc;
    }
    char *snap = joined(base, ".snap"), *journal = joined(base, ".journal");
    rs_store *st = NULL;
    bool have_journal = false;
    if (snap == NULL || journal == NULL ||
        rs_store_open(NULL, NULL, &st) != RS_OK) {
        rc = cli_fail("repair", "out of memory");
    } else {
        rc = check_base(snap, journal, &have_journal);
    }
    rs_repair_info ri;
    if (rc == CLI_OK && rs_durable_repair(st, base, &ri) != RS_OK) {
        rc = cli_fail("repair", "%s", rs_errmsg(st));
        if (ri.aside[0]) {
            fprintf(stderr, "  the original journal is kept as %s\n", ri.aside);
        }
    } else if (rc == CLI_OK && !ri.repaired) {
        printf("%s: nothing to repair: the files open as they are\n", base);
        /* What an open will still drop, so that nobody is surprised. */
        rs_file_info fi;
        if (have_journal && rs_inspect(st, journal, &fi) == RS_OK &&
            fi.torn_bytes) {
            printf("  torn tail         %llu bytes of %s (one write cut "
                   "short by a crash: never acknowledged, dropped when "
                   "the store opens)\n",
                   (unsigned long long)fi.torn_bytes, journal);
        }
    } else if (rc == CLI_OK) {
        printf("%s: repaired\n", base);
        printf("  reason            %s\n", ri.reason);
        printf("  kept              %zu whole entries, ", ri.kept_entries);
        cli_print_group(ri.kept_bytes);
        printf(" bytes: %s\n", journal);
        printf("  dropped           ");
        cli_print_group(ri.dropped_bytes);
        printf(" bytes\n");
        if (ri.aside[0]) {
            printf("  original journal  moved to %s (nothing was "
                   "deleted)\n",
                   ri.aside);
        } else {
            printf("  original journal  none: an empty journal now "
                   "follows the snapshot\n");
        }
    }
    if (st) {
        rs_store_close(st);
    }
    free(snap);
    free(journal);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* roster demo: the classic __dict__ versus __slots__ session                */
/* ------------------------------------------------------------------------ */

#define PLAYER2_CLASS                                                          \
    "Player2 { uid: str(16) key inline(4); "                                   \
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
    const cli_opt opts[] = {{"--players", "-n", CLI_U64, &players, 1,
                             UINT64_MAX, "the number of players", false},
                            CLI_END};
    const cli_cmd cmd = {"demo", opts, NULL, 0, 0};
    size_t n_operands;
    int rc0 = cli_parse(&cmd, argc, argv, NULL, &n_operands);
    if (rc0 != CLI_OK) {
        return rc0 == CLI_HELP ? help("demo") : rc0;
    }
    if (cli_check_gen_memory("demo", players) != 0) {
        return CLI_FAIL;
    }
    rs_store *st;
    rs_class *p1, *p2;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return cli_fail("demo", "out of memory");
    }
    printf(
        "# The classic session: a plain class (every instance may bind new\n"
        "# attributes) against a __slots__ class, replayed on libroster.\n\n");
    printf(">>> class Player:    # %s\n", DEFAULT_CLASS);
    printf(">>> class Player2:   # __slots__: %s\n", PLAYER2_CLASS);
    if (rs_class_parse(st, DEFAULT_CLASS, strlen(DEFAULT_CLASS), &p1) !=
            RS_OK ||
        rs_class_parse(st, PLAYER2_CLASS, strlen(PLAYER2_CLASS), &p2) !=
            RS_OK) {
        int r = cli_fail("demo", "%s", rs_errmsg(st));
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
        int r = cli_fail("demo", "%s", rs_errmsg(st));
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
        int err = errno;
        if (mem) {
            fclose(mem);
        }
        free(data);
        return cli_fail("demo", "cannot generate the players: %s",
                        strerror(err));
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
    printf("%-9s %-30s %14.2f %14.2f\n", "Player",
           "dynamic, extras as attributes", r1, a1);
    printf("%-9s %-30s %14.2f %14.2f\n", "Player2", "__slots__, extras dropped",
           r2, a2);
    printf("# %llu extras bound as dynamic attributes on Player records.\n",
           (unsigned long long)ex1);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } cmds[] = {
        {"gen", cmd_gen},         {"load", cmd_load},     {"save", cmd_save},
        {"inspect", cmd_inspect}, {"repair", cmd_repair}, {"demo", cmd_demo},
        {"bench", rs_bench_main},
    };
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(name, cmds[i].name) == 0) {
            return cmds[i].run(argc - 2, argv + 2);
        }
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "-h") == 0) {
        if (argc == 2 || strcmp(argv[2], "--help") == 0 ||
            strcmp(argv[2], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        /* roster help CMD is roster CMD --help. */
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
            if (strcmp(argv[2], cmds[i].name) == 0) {
                static char help_arg[] = "--help";
                char *args[] = {help_arg, NULL};
                return cmds[i].run(1, args);
            }
        }
        return cli_usage("help", "unknown command '%s'", argv[2]);
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("roster %s\n", RS_VERSION);
        return CLI_OK;
    }
    fprintf(stderr,
            "roster: unknown command '%s' (roster help lists "
            "them)\n",
            name);
    return CLI_USAGE;
}
