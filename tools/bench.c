/*
 * bench.c: `roster bench`, the classic experiment at scale.
 *
 * The same canonical players go into every representation a user would
 * pick, each in its own fresh process (bench/reps/PROTOCOL.md): roster, the
 * C twin of a Python instance dict, naive C, careful C, SQLite in memory,
 * Python's plain and __slots__ classes, and roster from Python (the
 * CPython extension, python/).  Each prints one JSON line; this
 * driver runs each K times, takes medians, checks that every
 * representation loaded the same thing (the checksum), and prints a table
 * with every figure also as a ratio to c-packed, or one JSON object, and
 * optionally an SVG with bytes per player against N and roster's bytes by
 * category.
 *
 * The representations are programs installed beside the roster binary
 * (roster-rep-<name>; roster-rep-python.py and roster-rep-python-roster.py
 * run by Python).  Python is Debian's /usr/bin/python3 when it exists (the
 * interpreter the module is built for and the project's figures are
 * measured with; a python3 first on PATH may be another one, e.g. a pyenv
 * build that sees none of Debian's packages), else python3 from PATH.
 * python-roster imports the module from <build>/python/, where
 * python/CMakeLists.txt builds it (target roster_python); without it, or
 * in a sanitized build (the module would need the sanitizer runtime
 * preloaded into the interpreter), its row says "(absent: why)".
 */
#include "bench.h"
#include "cli.h"
#include "gen.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNS 15
#define N_METRICS 10

/* A sanitized build's module cannot be loaded by a plain interpreter. */
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif
#ifndef BENCH_SANITIZED
#define BENCH_SANITIZED 0
#endif

typedef struct rep_info {
    const char *name;
    const char *prog;  /* file beside roster */
    const char *extra; /* an argument for it, or NULL */
    bool python;
    bool module; /* imports the CPython extension from <dir>/python */
    bool slow;   /* 10 s or more a run at 1M and several times c-packed's
                  times: runs --slow-runs times, beside another */
} rep_info;

static const rep_info reps[] = {
    {"roster", "roster-rep-roster", NULL, false, false, false},
    {"c-dict", "roster-rep-c-dict", NULL, false, false, true},
    {"c-slots", "roster-rep-c-slots", NULL, false, false, false},
    {"c-packed", "roster-rep-c-packed", NULL, false, false, false},
    {"sqlite", "roster-rep-sqlite", NULL, false, false, true},
    {"python-dict", "roster-rep-python.py", "--kind dict", true, false, true},
    {"python-slots", "roster-rep-python.py", "--kind slots", true, false, true},
    {"python-roster", "roster-rep-python-roster.py", NULL, true, true, true},
};
#define N_REPS (sizeof reps / sizeof reps[0])

static const char *const metric_keys[N_METRICS] = {
    "bytes_per_player", "insert_ns",
    "get_uid_ns",       "get_name_ns",
    "update_ns",        "scan_ns",
    "attr_get_ns",      "attr_set_ns",
    "churn_ns",         "churn_growth_bytes_per_player"};
static const char *const metric_heads[N_METRICS] = {
    "B/player", "insert",   "by uid",   "by name", "update",
    "scan",     "attr get", "attr set", "churn",   "churn +B"};

typedef struct rep_result {
    bool ran;    /* it exists and succeeded */
    bool absent; /* not run: why says why */
    char why[160];
    double m[N_METRICS]; /* medians; NaN = not applicable */
    char checksum[32];
    double accounted;       /* roster only */
    double cat[8];          /* roster only: bytes a player by category */
    double snap[4];         /* roster only: snapshot save s, load s, bytes a
                         player, ratio to the accounted bytes */
    double insert_reserved; /* roster, python-roster: the load again with
                               the indexes sized first; NaN elsewhere */
    char version[64];       /* sqlite or python version */
} rep_result;

/* ------------------------------------------------------------------------ */
/* Running one representation                                                */
/* ------------------------------------------------------------------------ */

static int self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == NULL) {
        return -1;
    }
    *slash = '\0';
    return 0;
}

/* The interpreter of the Python representations: Debian's
 * /usr/bin/python3 when it exists (the project's figures are measured
 * with it; a python3 first on PATH may be another one, e.g. a pyenv build
 * that sees none of Debian's packages), else python3 from PATH. */
static const char *python_exe(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3"
                                                 : "python3";
}

static bool have_python(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s -c 'import sys' >/dev/null 2>&1",
             python_exe());
    return system(cmd) == 0;
}

/* Whether <dir>/python holds the built module (roster.<abi>.so). */
static bool have_module(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/python", dir);
    DIR *d = opendir(path);
    bool found = false;
    struct dirent *e;
    while (d != NULL && !found && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        found = strncmp(e->d_name, "roster.", 7) == 0 && len > 10 &&
                strcmp(e->d_name + len - 3, ".so") == 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return found;
}

/* One run of one representation: a child process writing its JSON line
 * to a file. */
typedef struct task {
    size_t rep;
    pid_t pid;
    char out[64]; /* its stdout */
    char line[8192];
    int ok;
} task;

/* Start task t: sh -c 'prog --file FILE > out'.  Returns 0 or -1. */
static int start_task(const char *dir, const char *file, task *t)
{
    const rep_info *r = &reps[t->rep];
    char cmd[12288]; /* a directory of up to 4 KiB, a file name, arguments */
    if (r->module) {
        snprintf(cmd, sizeof cmd,
                 "exec %s '%s/%s' --module-dir '%s/python' --file '%s' > '%s'",
                 python_exe(), dir, r->prog, dir, file, t->out);
    } else if (r->python) {
        snprintf(cmd, sizeof cmd, "exec %s '%s/%s' %s --file '%s' > '%s'",
                 python_exe(), dir, r->prog, r->extra ? r->extra : "", file,
                 t->out);
    } else {
        snprintf(cmd, sizeof cmd, "exec '%s/%s' --file '%s' > '%s'", dir,
                 r->prog, file, t->out);
    }
    t->pid = fork();
    if (t->pid < 0) {
        return -1;
    }
    if (t->pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return 0;
}

/* Run every task, at most jobs at a time (each representation runs in its
 * own fresh process either way; running two at once halves the wall time
 * on two cores, at the price of noisier timings).  A task's ok is 1 when
 * it exited 0 and printed a JSON line. */
static void run_tasks(const char *dir, const char *file, task *ts, size_t n,
                      int jobs, bool progress)
{
    size_t next = 0, done = 0, running = 0;
    while (done < n) {
        while (running < (size_t)jobs && next < n) {
            task *t = &ts[next++];
            snprintf(t->out, sizeof t->out, "/tmp/roster-bench-out-XXXXXX");
            int fd = mkstemp(t->out);
            if (fd < 0 || (close(fd), start_task(dir, file, t)) != 0) {
                t->ok = 0;
                t->pid = 0;
                done++;
                continue;
            }
            running++;
        }
        if (running == 0) {
            continue;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            break;
        }
        for (size_t i = 0; i < next; i++) {
            task *t = &ts[i];
            if (t->pid != pid) {
                continue;
            }
            t->pid = 0;
            t->ok = 0;
            FILE *f = fopen(t->out, "r");
            char buf[8192];
            while (f && fgets(buf, sizeof buf, f)) {
                if (buf[0] == '{') {
                    snprintf(t->line, sizeof t->line, "%s", buf);
                }
            }
            if (f) {
                fclose(f);
            }
            unlink(t->out);
            t->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                    t->line[0] == '{';
            if (!t->ok) {
                fprintf(stderr, "roster: bench: %s failed (status %d)\n",
                        reps[t->rep].name, status);
            }
            running--;
            done++;
            if (progress) {
                fprintf(stderr, "\rroster bench: %zu of %zu runs done   ", done,
                        n);
            }
        }
    }
}

/* The number after "key": in a flat JSON line; NaN for null or absent. */
static double json_num(const char *json, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (p == NULL) {
        return NAN;
    }
    p += strlen(pat);
    while (*p == ' ') {
        p++;
    }
    if (*p == '"') {
        p++;
    }
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

static void json_str(const char *json, const char *key, char *out, size_t len)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    out[0] = '\0';
    if (p == NULL) {
        return;
    }
    p += strlen(pat);
    while (*p == ' ') {
        p++;
    }
    if (*p == '"') {
        p++;
        size_t i = 0;
        while (p[i] && p[i] != '"' && i + 1 < len) {
            out[i] = p[i];
            i++;
        }
        out[i] = '\0';
    } else {
        size_t i = 0;
        while (p[i] && p[i] != ',' && p[i] != '}' && i + 1 < len) {
            out[i] = p[i];
            i++;
        }
        out[i] = '\0';
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] == v[i]) {
            v[k++] = v[i];
        }
    }
    if (k == 0) {
        return NAN;
    }
    qsort(v, (size_t)k, sizeof *v, cmp_d);
    return v[k / 2];
}

/* Fill res with the medians of the runs of representation r among ts. */
static int collect(size_t r, const task *ts, size_t n, rep_result *res)
{
    double vals[N_METRICS][MAX_RUNS], acct[MAX_RUNS], cats[8][MAX_RUNS],
        snaps[4][MAX_RUNS], rsv[MAX_RUNS];
    static const char *const snap_keys[4] = {
        "snapshot_save_s", "snapshot_load_s", "snapshot_bytes_per_player",
        "snapshot_ratio"};
    memset(res, 0, sizeof *res);
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ts[i].rep != r) {
            continue;
        }
        if (!ts[i].ok || k == MAX_RUNS) {
            return -1;
        }
        const char *line = ts[i].line;
        char sum[32];
        json_str(line, "checksum", sum, sizeof sum);
        if (k > 0 && strcmp(sum, res->checksum) != 0) {
            fprintf(stderr, "roster: bench: %s gave two checksums\n",
                    reps[r].name);
            return -1;
        }
        snprintf(res->checksum, sizeof res->checksum, "%s", sum);
        for (int m = 0; m < N_METRICS; m++) {
            vals[m][k] = json_num(line, metric_keys[m]);
        }
        acct[k] = json_num(line, "accounted_bytes_per_player");
        rsv[k] = json_num(line, "insert_reserved_ns");
        for (int j = 0; j < 4; j++) {
            snaps[j][k] = json_num(line, snap_keys[j]);
        }
        for (int c = 0; c < RS_MEM__COUNT && c < 8; c++) {
            char key[64];
            snprintf(key, sizeof key, "cat_%s", rs_mem_cat_name((rs_mem_cat)c));
            cats[c][k] = json_num(line, key);
        }
        if (k == 0) {
            json_str(line, "version", res->version, sizeof res->version);
            if (res->version[0] == '\0') {
                json_str(line, "sqlite_version", res->version,
                         sizeof res->version);
            }
            if (res->version[0] == '\0') {
                json_str(line, "python", res->version, sizeof res->version);
            }
        }
        k++;
    }
    if (k == 0) {
        return -1;
    }
    for (int m = 0; m < N_METRICS; m++) {
        res->m[m] = median(vals[m], k);
    }
    res->accounted = median(acct, k);
    res->insert_reserved = median(rsv, k);
    for (int j = 0; j < 4; j++) {
        res->snap[j] = median(snaps[j], k);
    }
    for (int c = 0; c < RS_MEM__COUNT && c < 8; c++) {
        res->cat[c] = median(cats[c], k);
    }
    res->ran = true;
    return 0;
}

/* Run each of the representations marked in want, runs[r] times, and
 * collect their medians into res.  Returns how many failed. */
static int measure_all(const char *dir, const char *file, const bool *want,
                       const int *runs, int jobs, bool progress,
                       rep_result *res)
{
    static task ts[N_REPS * MAX_RUNS];
    size_t n = 0;
    /* The slowest first, so two workers finish together. */
    static const size_t order[N_REPS] = {4, 5, 6, 7, 1, 2, 0, 3};
    for (size_t o = 0; o < N_REPS; o++) {
        size_t r = order[o];
        for (int k = 0; want[r] && k < runs[r]; k++) {
            memset(&ts[n], 0, sizeof ts[n]);
            ts[n++].rep = r;
        }
    }
    run_tasks(dir, file, ts, n, jobs, progress);
    int failed = 0;
    for (size_t r = 0; r < N_REPS; r++) {
        if (want[r] && collect(r, ts, n, &res[r]) != 0) {
            failed++;
        }
    }
    return failed;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static void cpu_model(char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(out, len, "unknown");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = '\0';
                snprintf(out, len, "%s", c);
            }
            break;
        }
    }
    if (f) {
        fclose(f);
    }
}

static void print_cell(double v, double base, bool ratio)
{
    if (v != v) {
        printf(" %10s", "-");
    } else if (ratio && base == base && base > 0) {
        printf(" %10.2fx", v / base);
    } else {
        printf(" %11.1f", v);
    }
}

/* The version the Python representations reported, or "". */
static const char *python_version(const rep_result *res)
{
    for (size_t r = 0; r < N_REPS; r++) {
        if (reps[r].python && res[r].ran && res[r].version[0]) {
            return res[r].version;
        }
    }
    return "";
}

/* The index of the representation called name. */
static size_t rep_named(const char *name)
{
    size_t r = 0;
    while (r < N_REPS && strcmp(reps[r].name, name) != 0) {
        r++;
    }
    return r;
}

/* The load again with the indexes sized first (rs_class_reserve(),
 * Player.reserve()), beside the load from empty that the table shows:
 * the roster rows as a ratio to their own load, python-roster also to
 * python-slots' load in the same run. */
static void print_reserved(const rep_result *res)
{
    size_t rows[2] = {rep_named("roster"), rep_named("python-roster")};
    size_t slots = rep_named("python-slots");
    bool any = false;
    for (int i = 0; i < 2; i++) {
        const rep_result *x = &res[rows[i]];
        if (!x->ran || x->insert_reserved != x->insert_reserved) {
            continue;
        }
        printf("%s%s %.1f ns (%.2fx its load from empty",
               any ? "; " : "insert with the indexes reserved first: ",
               reps[rows[i]].name, x->insert_reserved,
               x->insert_reserved / x->m[1]);
        if (i == 1 && res[slots].ran && res[slots].m[1] > 0) {
            printf(", %.2fx python-slots' load",
                   x->insert_reserved / res[slots].m[1]);
        }
        printf(")");
        any = true;
    }
    if (any) {
        printf("\n");
    }
}

static void print_table(const rep_result *res, size_t pack, uint64_t n)
{
    printf("%llu canonical players; medians; times in ns (scan: ns a "
           "record; attr: players with extras); churn +B: RSS bytes a "
           "player left by 10 rounds of 20%% churn\n",
           (unsigned long long)n);
    const char *pv = python_version(res);
    printf("Python representations run by %s%s%s%s\n\n", python_exe(),
           pv[0] ? " (" : "", pv, pv[0] ? ")" : "");
    printf("%-13s", "");
    for (int m = 0; m < N_METRICS; m++) {
        printf(" %11s", metric_heads[m]);
    }
    printf("\n");
    for (size_t r = 0; r < N_REPS; r++) {
        printf("%-13s", reps[r].name);
        if (!res[r].ran) {
            if (res[r].absent) {
                printf("  (absent: %s)\n", res[r].why);
            } else {
                printf("  (failed)\n");
            }
            continue;
        }
        for (int m = 0; m < N_METRICS; m++) {
            print_cell(res[r].m[m], 0, false);
        }
        printf("\n");
    }
    if (res[pack].ran) {
        printf("\nas a ratio to c-packed, measured in the same run:\n");
        for (size_t r = 0; r < N_REPS; r++) {
            if (!res[r].ran) {
                continue;
            }
            printf("%-13s", reps[r].name);
            for (int m = 0; m < N_METRICS - 1; m++) {
                print_cell(res[r].m[m], res[pack].m[m], true);
            }
            printf("\n");
        }
    }
    if (res[0].ran && res[0].accounted == res[0].accounted) {
        printf("\nroster's own accounting: %.2f bytes a player (",
               res[0].accounted);
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            printf("%s%s %.2f", c ? ", " : "", rs_mem_cat_name((rs_mem_cat)c),
                   res[0].cat[c]);
        }
        printf(")\n");
    }
    print_reserved(res);
    if (res[0].ran && res[0].snap[0] == res[0].snap[0]) {
        printf("roster's snapshot: save %.3f s, load %.3f s, %.2f bytes a "
               "player (%.2fx its accounting)\n",
               res[0].snap[0], res[0].snap[1], res[0].snap[2], res[0].snap[3]);
    }
}

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

static void print_json(const rep_result *res, uint64_t n, uint64_t seed,
                       int runs, int argc, char **argv)
{
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    /* Strings from outside (the CPU's name, the arguments, versions) go
     * through cli_json_escape(), so the object stays valid JSON whatever
     * they hold. */
    printf("{\"players\": %llu, \"seed\": %llu, \"runs\": %d, "
           "\"machine\": {\"cpu\": \"",
           (unsigned long long)n, (unsigned long long)seed, runs);
    cli_json_escape(stdout, cpu);
    printf("\", \"cores\": %ld}, \"compiler\": \"",
           sysconf(_SC_NPROCESSORS_ONLN));
    cli_json_escape(stdout, COMPILER);
    printf("\", \"command\": \"roster bench");
    for (int i = 0; i < argc; i++) {
        putchar(' ');
        cli_json_escape(stdout, argv[i]);
    }
    printf("\", \"python\": \"");
    cli_json_escape(stdout, python_exe());
    printf("\", \"sanitized\": %s", BENCH_SANITIZED ? "true" : "false");
    printf(", \"representations\": [");
    bool first = true;
    for (size_t r = 0; r < N_REPS; r++) {
        printf("%s{\"name\": \"%s\", \"status\": \"%s\"", first ? "" : ", ",
               reps[r].name,
               res[r].ran      ? "ok"
               : res[r].absent ? "absent"
                               : "failed");
        first = false;
        if (!res[r].ran && res[r].absent) {
            printf(", \"reason\": \"");
            cli_json_escape(stdout, res[r].why);
            putchar('"');
        }
        if (res[r].ran) {
            for (int m = 0; m < N_METRICS; m++) {
                if (res[r].m[m] == res[r].m[m]) {
                    printf(", \"%s\": %.2f", metric_keys[m], res[r].m[m]);
                } else {
                    printf(", \"%s\": null", metric_keys[m]);
                }
            }
            printf(", \"checksum\": \"");
            cli_json_escape(stdout, res[r].checksum);
            putchar('"');
            if (res[r].version[0]) {
                printf(", \"version\": \"");
                cli_json_escape(stdout, res[r].version);
                putchar('"');
            }
            if (res[r].insert_reserved == res[r].insert_reserved) {
                printf(", \"insert_reserved_ns\": %.2f",
                       res[r].insert_reserved);
            }
            if (r == 0 && res[0].accounted == res[0].accounted) {
                printf(", \"accounted_bytes_per_player\": %.2f",
                       res[0].accounted);
            }
            if (r == 0 && res[0].snap[0] == res[0].snap[0]) {
                printf(", \"snapshot_save_s\": %.4f, \"snapshot_load_s\": "
                       "%.4f, \"snapshot_bytes_per_player\": %.2f, "
                       "\"snapshot_ratio\": %.3f",
                       res[0].snap[0], res[0].snap[1], res[0].snap[2],
                       res[0].snap[3]);
            }
        }
        printf("}");
    }
    printf("]}\n");
}

/* ------------------------------------------------------------------------ */
/* The plot                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const colors[N_REPS] = {"#d62728", "#9467bd", "#8c564b",
                                           "#1f77b4", "#2ca02c", "#ff7f0e",
                                           "#bcbd22", "#e377c2"};

/* Bytes of data a player carries, from the TSV: uid and name bytes, one
 * for stat, two for level, and the extras' text. */
static double payload_bytes(const char *file)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    double bytes = 0, n = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *col[5] = {line, NULL, NULL, NULL, NULL};
        int k = 1;
        for (char *q = line; *q && k < 5; q++) {
            if (*q == '\t') {
                *q = '\0';
                col[k++] = q + 1;
            }
        }
        if (k < 4) {
            continue;
        }
        bytes += (double)(strlen(col[0]) + strlen(col[1]) + 3);
        if (k == 5) {
            bytes += (double)strcspn(col[4], "\r\n");
        }
        n++;
    }
    if (f) {
        fclose(f);
    }
    return n > 0 ? bytes / n : 0;
}

/* Two panels: bytes a player against N (log x) for every representation,
 * and roster's bytes a player by category at the largest N beside the
 * payload. */
static int write_svg(const char *path, const uint64_t *ns, int n_sizes,
                     double pts[][N_REPS], const rep_result *last,
                     double payload)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "roster: bench: cannot write %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    double ymax = 50;
    for (int i = 0; i < n_sizes; i++) {
        for (size_t r = 0; r < N_REPS; r++) {
            if (pts[i][r] == pts[i][r] && pts[i][r] > ymax) {
                ymax = pts[i][r];
            }
        }
    }
    ymax = ceil(ymax / 50) * 50;
    const double W = 1100, H = 480, x0 = 70, y0 = 40, pw = 520, ph = 360;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"white\"/>\n",
            W, H);
    fprintf(f,
            "<text x=\"%.0f\" y=\"22\" font-size=\"15\">Bytes per "
            "player (RSS growth) against players</text>\n",
            x0);
    /* Axes and grid. */
    double lx0 = log10((double)ns[0]), lx1 = log10((double)ns[n_sizes - 1]);
    if (lx1 <= lx0) {
        lx1 = lx0 + 1;
    }
#define PX(v) (x0 + (log10(v) - lx0) / (lx1 - lx0) * pw)
#define PY(v) (y0 + ph - (v) / ymax * ph)
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" "
            "height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n",
            x0, y0, pw, ph);
    for (double v = 0; v <= ymax; v += ymax / 5) {
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"end\">%.0f</text>\n",
                x0, PY(v), x0 + pw, PY(v), x0 - 6, PY(v) + 4, v);
    }
    for (int i = 0; i < n_sizes; i++) {
        double x = PX((double)ns[i]);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">%llu</text>\n",
                x, y0, x, y0 + ph, x, y0 + ph + 16, (unsigned long long)ns[i]);
    }
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
            "players (log scale)</text>\n",
            x0 + pw / 2, y0 + ph + 36);
    fprintf(f,
            "<text transform=\"translate(18,%.0f) rotate(-90)\" "
            "text-anchor=\"middle\">bytes per player</text>\n",
            y0 + ph / 2);
    /* One line per representation, and the legend. */
    int row = 0;
    for (size_t r = 0; r < N_REPS; r++) {
        int have = 0;
        fprintf(f,
                "<polyline fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"2\" points=\"",
                colors[r]);
        for (int i = 0; i < n_sizes; i++) {
            if (pts[i][r] == pts[i][r]) {
                fprintf(f, "%.1f,%.1f ", PX((double)ns[i]), PY(pts[i][r]));
                have++;
            }
        }
        fprintf(f, "\"/>\n");
        for (int i = 0; i < n_sizes; i++) {
            if (pts[i][r] == pts[i][r]) {
                fprintf(f,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                        "fill=\"%s\"/>\n",
                        PX((double)ns[i]), PY(pts[i][r]), colors[r]);
            }
        }
        if (have) {
            double ly = y0 + 14 + 16 * row++;
            fprintf(f,
                    "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
                    "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>"
                    "<text x=\"%.0f\" y=\"%.1f\">%s</text>\n",
                    x0 + 10, ly, x0 + 30, ly, colors[r], x0 + 36, ly + 4,
                    reps[r].name);
        }
    }
#undef PX
#undef PY
    /* Panel 2: roster by category at the largest N, and the payload. */
    const double bx = 700, bw = 90, bh = ph, lx = 930;
    double total = 0;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        total += last->cat[c] == last->cat[c] ? last->cat[c] : 0;
    }
    double top = total > payload ? total : payload;
    top = top > 0 ? ceil(top / 10) * 10 : 10;
    fprintf(f,
            "<text x=\"%.0f\" y=\"22\" font-size=\"15\">roster at "
            "%llu players</text>\n",
            bx - 20, (unsigned long long)ns[n_sizes - 1]);
    static const char *const cat_colors[] = {"#1f77b4", "#aec7e8", "#ff7f0e",
                                             "#2ca02c", "#d3d3d3", "#7f7f7f"};
    double y = y0 + bh;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        double v = last->cat[c] == last->cat[c] ? last->cat[c] : 0;
        double hgt = v / top * bh;
        y -= hgt;
        fprintf(f,
                "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" "
                "height=\"%.1f\" fill=\"%s\"/>\n",
                bx, y, bw, hgt, cat_colors[c % 6]);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\">%s %.1f</text>\n", lx + 14,
                y0 + 14 + 16 * c, rs_mem_cat_name((rs_mem_cat)c), v);
        fprintf(f,
                "<rect x=\"%.0f\" y=\"%.1f\" width=\"10\" "
                "height=\"10\" fill=\"%s\"/>\n",
                lx, y0 + 5 + 16 * c, cat_colors[c % 6]);
    }
    /* Its scale. */
    fprintf(f,
            "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
            "stroke=\"black\"/>\n",
            bx - 10, y0, bx - 10, y0 + bh);
    for (double v = 0; v <= top; v += top / 5) {
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">"
                "%.0f</text>\n",
                bx - 14, y0 + bh - v / top * bh + 4, v);
    }
    double ph2 = payload / top * bh;
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" "
            "height=\"%.1f\" fill=\"#444\"/>\n",
            bx + bw + 120, y0 + bh - ph2, bw * 0.6, ph2);
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
            "accounted %.1f</text>\n<text x=\"%.0f\" y=\"%.0f\" "
            "text-anchor=\"middle\">payload %.1f</text>\n",
            bx + bw / 2, y0 + bh + 16, total, bx + bw + 120 + bw * 0.3,
            y0 + bh + 16, payload);
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
            "bytes per player</text>\n</svg>\n",
            bx + 110, y0 + bh + 36);
    if (fclose(f) != 0) {
        return -1;
    }
    return 0;
}

/* Generate n players into a temporary file; its name into file. */
static int make_players(uint64_t n, uint64_t seed, char *file, size_t len)
{
    snprintf(file, len, "/tmp/roster-bench-XXXXXX");
    int fd = mkstemp(file);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL || rs_gen_write(out, n, seed, NULL, NULL) != 0 ||
        fclose(out) != 0) {
        fprintf(stderr, "roster: bench: cannot write the players: %s\n",
                strerror(errno));
        unlink(file);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

static bool selected(const char *only, const char *name)
{
    if (only == NULL) {
        return true;
    }
    size_t len = strlen(name);
    for (const char *p = only; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0) {
            return true;
        }
        p += n + (comma ? 1 : 0);
    }
    return false;
}

/* Every name in --only's list must be a representation: a typo would
 * otherwise run nothing and print every row "(absent)". */
static int check_only(const char *only)
{
    char names[256] = "";
    for (size_t r = 0; r < N_REPS; r++) {
        size_t at = strlen(names);
        snprintf(names + at, sizeof names - at, "%s%s", r ? ", " : "",
                 reps[r].name);
    }
    for (const char *p = only;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        size_t r = 0;
        while (r < N_REPS && (strlen(reps[r].name) != n ||
                              strncmp(p, reps[r].name, n) != 0)) {
            r++;
        }
        if (r == N_REPS) {
            return cli_usage("bench",
                             "--only: unknown representation "
                             "'%.*s'; the representations are %s",
                             (int)n, p, names);
        }
        if (comma == NULL) {
            return CLI_OK;
        }
        p = comma + 1;
    }
}

static void bench_help(void)
{
    printf("usage: roster bench [--players N] [--seed S] "
           "[--runs K] [--slow-runs K] [--jobs J] [--only LIST] "
           "[--json] [--plot FILE.svg] [--sweep-max N]\n"
           "  --players N   canonical players (1000000)\n"
           "  --seed S      the data set's seed (1)\n"
           "  --runs K      runs of each, medians reported (3; 1 to %d)\n"
           "  --slow-runs K runs of c-dict, sqlite and the Python "
           "representations, 10 to 30 s each at 1M (1; 1 to %d)\n"
           "  --jobs J      slow representations run at once, each "
           "in its own process (the cores, at most 2; the others "
           "always run alone): 1 for the quietest timings\n"
           "  --only LIST   comma-separated among roster, c-dict, "
           "c-slots, c-packed, sqlite, python-dict, python-slots, "
           "python-roster\n"
           "  Python: /usr/bin/python3 if it exists, else python3 on "
           "PATH; python-roster needs the module built beside roster "
           "(cmake --build BUILD --target roster_python)\n"
           "  --json        one JSON object instead of the table\n"
           "  --plot F.svg  also sweep 10,000 players up to "
           "--sweep-max (10,000,000) by tens, one run each, and draw "
           "bytes per player against players, and roster's bytes "
           "by category at the largest size (F.svg is checked before "
           "the run starts)\n",
           MAX_RUNS, MAX_RUNS);
}

int rs_bench_main(int argc, char **argv)
{
    uint64_t n = 1000000, seed = 1, runs = 3, slow_runs = 1;
    uint64_t sweep_max = 10000000;
    bool json = false;
    const char *only = NULL, *plot = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t jobs = cores < 1 ? 1 : cores > 2 ? 2 : (uint64_t)cores;
    const cli_opt opts[] = {
        {"--players", "-n", CLI_U64, &n, 1, UINT64_MAX, "the number of players",
         false},
        {"--seed", NULL, CLI_U64, &seed, 0, UINT64_MAX, "the seed", false},
        {"--runs", NULL, CLI_U64, &runs, 1, MAX_RUNS,
         "the runs of each representation", false},
        {"--slow-runs", NULL, CLI_U64, &slow_runs, 1, MAX_RUNS,
         "the runs of the slow representations", false},
        {"--jobs", NULL, CLI_U64, &jobs, 1, 64,
         "the representations run at once", false},
        {"--sweep-max", NULL, CLI_U64, &sweep_max, 10000, UINT64_MAX,
         "the largest size of the sweep", false},
        {"--only", NULL, CLI_STR, &only, 0, 0,
         "a comma-separated list of representations", false},
        {"--plot", NULL, CLI_STR, &plot, 0, 0, "the SVG file to write", false},
        {"--json", NULL, CLI_FLAG, &json, 0, 0, NULL, false},
        CLI_END};
    const cli_cmd cmd = {"bench", opts, NULL, 0, 0};
    size_t n_operands;
    int rc = cli_parse(&cmd, argc, argv, NULL, &n_operands);
    if (rc != CLI_OK) {
        if (rc == CLI_HELP) {
            bench_help();
            return CLI_OK;
        }
        return rc;
    }
    if (only && check_only(only) != CLI_OK) {
        return CLI_USAGE;
    }
    /* Everything that can fail for want of room, before the run: the
     * sweep alone takes 16 minutes at its default size. */
    uint64_t sweep_top = 10000; /* the sweep's largest size (below) */
    for (int k = 1; k < 8 && sweep_top <= sweep_max / 10; k++) {
        sweep_top *= 10;
    }
    if (cli_check_gen_memory("bench", n) != 0 ||
        (plot && (cli_check_gen_memory("bench", sweep_top) != 0 ||
                  cli_check_output("bench", "--plot", plot, false) != 0))) {
        return CLI_FAIL;
    }
    char dir[4096];
    if (self_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, "roster: bench: cannot find my own directory\n");
        return 1;
    }
    bool progress = isatty(2);
    char file[64];
    if (make_players(n, seed, file, sizeof file) != 0) {
        return 1;
    }
    bool python = have_python();
    bool module = have_module(dir);
    static rep_result res[N_REPS];
    bool want[N_REPS];
    int nruns[N_REPS];
    for (size_t r = 0; r < N_REPS; r++) {
        memset(&res[r], 0, sizeof res[r]);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, reps[r].prog);
        const char *why = NULL;
        if (!selected(only, reps[r].name)) {
            why = "not in --only";
        } else if (access(path, R_OK) != 0) {
            why = "not built beside roster";
        } else if (reps[r].python && !python) {
            why = "no python3";
        } else if (reps[r].module && BENCH_SANITIZED) {
            why = "a sanitized build: the module needs the sanitizer "
                  "runtime preloaded; run a plain build's roster bench";
        } else if (reps[r].module && !module) {
            why = "the module is not built: cmake --build BUILD --target "
                  "roster_python";
        }
        want[r] = why == NULL;
        res[r].absent = !want[r];
        snprintf(res[r].why, sizeof res[r].why, "%s", why ? why : "");
        nruns[r] = (int)(reps[r].slow ? slow_runs : runs);
    }
    /* The slow representations (c-dict, sqlite, Python: 10 to 30 s each at
     * 1M, and 2 to 250 times c-packed's times) run side by side, two at a
     * time; the fast
     * ones, whose ratios matter, run alone, one after the other, so no
     * neighbour shares their caches and memory bandwidth.  That keeps the
     * default run near two minutes on two cores. */
    bool slow[N_REPS], fast[N_REPS];
    for (size_t r = 0; r < N_REPS; r++) {
        slow[r] = want[r] && reps[r].slow;
        fast[r] = want[r] && !reps[r].slow;
    }
    static rep_result fast_res[N_REPS];
    int failed = measure_all(dir, file, slow, nruns, (int)jobs, progress, res);
    failed += measure_all(dir, file, fast, nruns, 1, progress, fast_res);
    for (size_t r = 0; r < N_REPS; r++) {
        if (fast[r]) {
            res[r] = fast_res[r];
        }
    }
    if (progress) {
        fprintf(stderr, "\r%60s\r", "");
    }
    unlink(file);
    /* Everyone must have loaded the same players.  The checksum counts the
     * extras a representation holds, and Python's __slots__ class can hold
     * none: it is checked against the other that cannot, if any. */
    const char *with = NULL, *without = NULL;
    for (size_t r = 0; r < N_REPS; r++) {
        if (!res[r].ran) {
            continue;
        }
        bool holds = strcmp(reps[r].name, "python-slots") != 0;
        const char **ref = holds ? &with : &without;
        if (*ref == NULL) {
            *ref = res[r].checksum;
        } else if (strcmp(*ref, res[r].checksum) != 0) {
            fprintf(stderr,
                    "roster: bench: %s loaded something else "
                    "(checksum %s, expected %s); no table\n",
                    reps[r].name, res[r].checksum, *ref);
            return 1;
        }
    }
    size_t pack = 3;
    if (json) {
        print_json(res, n, seed, (int)runs, argc, argv);
    } else {
        print_table(res, pack, n);
    }
    if (plot) {
        /* The sweep: one run of each representation at each size. */
        uint64_t ns[8];
        int n_sizes = 0;
        for (uint64_t s = 10000; s <= sweep_max && n_sizes < 8; s *= 10) {
            ns[n_sizes++] = s;
        }
        static double pts[8][N_REPS];
        static rep_result one[N_REPS];
        double payload = 0;
        for (int i = 0; i < n_sizes; i++) {
            char f2[64];
            if (make_players(ns[i], seed, f2, sizeof f2) != 0) {
                return 1;
            }
            if (i == n_sizes - 1) {
                payload = payload_bytes(f2);
            }
            bool w[N_REPS];
            int ones[N_REPS];
            for (size_t r = 0; r < N_REPS; r++) {
                w[r] = res[r].ran;
                ones[r] = 1;
            }
            measure_all(dir, f2, w, ones, (int)jobs, progress, one);
            for (size_t r = 0; r < N_REPS; r++) {
                pts[i][r] = w[r] && one[r].ran ? one[r].m[0] : NAN;
            }
            unlink(f2);
        }
        if (progress) {
            fprintf(stderr, "\r%60s\r", "");
        }
        if (!one[0].ran ||
            write_svg(plot, ns, n_sizes, pts, &one[0], payload) != 0) {
            fprintf(stderr, "roster: bench: no plot (roster did not run)\n");
            return 1;
        }
    }
    return failed ? 1 : 0;
}
