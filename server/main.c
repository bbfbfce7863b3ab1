/*
 * main.c: rosterd's startup: options and the Redis-style config file, the
 * store (classes, then rs_durable_open() with the recovery time logged),
 * signals, then the event loop (net.c) until SHUTDOWN or SIGTERM.
 *
 * Options and config-file keys are the same names: `--port 6400` on the
 * command line is `port 6400` in the file; the command line wins over the
 * file whatever the order.  Sizes take Redis's units (1k = 1000, 1kb =
 * 1024, m, mb, g, gb).
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

server srv;
volatile int got_signal;
static FILE *log_file;

void log_msg(char level, const char *fmt, ...)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    strftime(ts, sizeof ts, "%d %b %Y %H:%M:%S", &tm);
    FILE *f = log_file ? log_file : stderr;
    fprintf(f, "%d:M %s.%03d %c ", (int)getpid(), ts, (int)(tv.tv_usec / 1000),
            level);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct option {
    const char *name;
    const char *arg;
    const char *help;
} option;

static const option options[] = {
    {"port", "N", "TCP port (default 6379)"},
    {"bind", "ADDR...",
     "addresses to listen on, blank-separated "
     "(default 127.0.0.1)"},
    {"dir", "DIR",
     "where the snapshot and journal live: DIR/rosterd.snap, "
     "DIR/rosterd.journal (default .)"},
    {"appendfsync", "always|everysec|no",
     "when the journal is fsynced: before the replies of each event-loop "
     "turn, once a second, or when the kernel likes (default everysec)"},
    {"requirepass", "PASS", "clients must AUTH with PASS"},
    {"protected-mode", "yes|no",
     "without a password, refuse clients that are not on loopback "
     "(default yes)"},
    {"maxclients", "N", "most clients at once (default 10000)"},
    {"timeout", "SECONDS",
     "close clients idle this long; 0 never "
     "(default 0)"},
    {"class", "TEXT",
     "a class to serve, in the text form (repeatable); "
     "default: the canonical Player class"},
    {"config", "FILE",
     "read options from FILE: `name value` lines, # "
     "comments"},
    {"proto-max-bulk-len", "SIZE", "largest bulk argument (default 32mb)"},
    {"proto-max-multibulk-len", "N",
     "most elements in a request (default 1048576)"},
    {"proto-inline-max-size", "SIZE",
     "longest inline request line (default 64kb)"},
    {"client-query-buffer-limit", "SIZE",
     "most unparsed input a client may hold (default 64mb)"},
    {"client-output-buffer-limit", "SIZE",
     "most unsent replies a client may hold before it is closed "
     "(default 64mb)"},
    {"auto-compact-percentage", "PCT",
     "compact when the journal is PCT% larger than the snapshot; 0 never "
     "(default 100)"},
    {"auto-compact-min-size", "SIZE",
     "... and at least this big (default 64mb)"},
    {"busy-poll", "MICROSECONDS",
     "after a turn that served requests, poll this long for more before "
     "sleeping: fewer sleeps and wake-ups at high request rates, for CPU "
     "spent polling; 0 never (default 0)"},
    {"logfile", "FILE", "log here instead of stderr"},
    {"help", NULL, "this text"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: rosterd [--OPTION VALUE]...\n\n"
               "rosterd serves roster records over the Redis protocol (RESP2, "
               "RESP3 by HELLO 3):\nthe record of class C with key K is the "
               "hash C:K.  Every option may also be a line\n`OPTION VALUE` of "
               "a --config file.\n\n");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char head[64];
        snprintf(head, sizeof head, "--%s%s%s", options[i].name,
                 options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-36s %s\n", head, options[i].help);
    }
    fprintf(f, "\nThe default class:\n  %s\n", DEFAULT_CLASS);
}

static int parse_size(const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || v[0] == '-') {
        return -1;
    }
    unsigned long long mul = 1;
    if (*end != '\0') {
        static const struct {
            const char *u;
            unsigned long long m;
        } units[] = {{"k", 1000ULL},       {"kb", 1024ULL},
                     {"m", 1000000ULL},    {"mb", 1024ULL * 1024},
                     {"g", 1000000000ULL}, {"gb", 1024ULL * 1024 * 1024}};
        mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcasecmp(end, units[i].u) == 0) {
                mul = units[i].m;
            }
        }
        if (mul == 0) {
            return -1;
        }
    }
    *out = (size_t)(n * mul);
    return 0;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_yesno(const char *v, bool *out)
{
    if (strcasecmp(v, "yes") == 0) {
        *out = true;
    } else if (strcasecmp(v, "no") == 0) {
        *out = false;
    } else {
        return -1;
    }
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static bool cmdline_set[sizeof options / sizeof options[0]];
static bool classes_from_cmdline;

static int read_config(const char *path);

/* Apply option name = value; from_file: a config line (which the command
 * line overrides).  Returns 0 or -1 with the error printed. */
static int set_option(const char *name, const char *value, bool from_file,
                      const char *where)
{
    size_t k = sizeof options / sizeof options[0];
    for (size_t i = 0; i < k; i++) {
        if (strcasecmp(name, options[i].name) == 0) {
            k = i;
            break;
        }
    }
    if (k == sizeof options / sizeof options[0] ||
        strcmp(options[k].name, "help") == 0) {
        fprintf(stderr,
                "rosterd: %s: unknown option '%s' (--help lists "
                "them)\n",
                where, name);
        return -1;
    }
    if (from_file && cmdline_set[k]) {
        return 0;
    }
    if (!from_file) {
        cmdline_set[k] = true;
    }
    config *cf = &srv.cfg;
    const char *o = options[k].name;
    long l = 0;
    size_t z = 0;
    int bad = 0;
    if (strcmp(o, "port") == 0) {
        bad = parse_long(value, 0, 65535, &l);
        cf->port = (int)l;
    } else if (strcmp(o, "bind") == 0) {
        bad = copy_str(cf->bind, sizeof cf->bind, value);
    } else if (strcmp(o, "dir") == 0) {
        bad = copy_str(cf->dir, sizeof cf->dir, value);
    } else if (strcmp(o, "appendfsync") == 0) {
        if (strcasecmp(value, "always") == 0) {
            cf->appendfsync = FSYNC_ALWAYS;
        } else if (strcasecmp(value, "everysec") == 0) {
            cf->appendfsync = FSYNC_EVERYSEC;
        } else if (strcasecmp(value, "no") == 0) {
            cf->appendfsync = FSYNC_NO;
        } else {
            bad = -1;
        }
    } else if (strcmp(o, "requirepass") == 0) {
        free(cf->requirepass);
        cf->requirepass = value[0] ? strdup(value) : NULL;
        cf->requirepass_len = strlen(value);
    } else if (strcmp(o, "protected-mode") == 0) {
        bad = parse_yesno(value, &cf->protected_mode);
    } else if (strcmp(o, "maxclients") == 0) {
        bad = parse_long(value, 1, 1000000, &cf->maxclients);
    } else if (strcmp(o, "timeout") == 0) {
        bad = parse_long(value, 0, 100000000, &cf->timeout);
    } else if (strcmp(o, "busy-poll") == 0) {
        bad = parse_long(value, 0, 10000, &cf->busy_poll_us);
    } else if (strcmp(o, "class") == 0) {
        /* Classes from the command line replace the file's. */
        if (!from_file && !classes_from_cmdline) {
            for (size_t i = 0; i < cf->n_classes; i++) {
                free(cf->classes[i]);
            }
            cf->n_classes = 0;
            classes_from_cmdline = true;
        }
        if (from_file && classes_from_cmdline) {
            return 0;
        }
        cmdline_set[k] = false; /* repeatable */
        char **t = realloc(cf->classes, (cf->n_classes + 1) * sizeof *t);
        if (t == NULL) {
            return -1;
        }
        cf->classes = t;
        cf->classes[cf->n_classes++] = strdup(value);
    } else if (strcmp(o, "config") == 0) {
        if (from_file) {
            fprintf(stderr, "rosterd: %s: config files do not nest\n", where);
            return -1;
        }
        return read_config(value);
    } else if (strcmp(o, "proto-max-bulk-len") == 0) {
        bad = parse_size(value, &cf->lim.max_bulk);
    } else if (strcmp(o, "proto-max-multibulk-len") == 0) {
        bad = parse_size(value, &z);
        cf->lim.max_args = z;
        bad |= z == 0 ? -1 : 0;
    } else if (strcmp(o, "proto-inline-max-size") == 0) {
        bad = parse_size(value, &cf->lim.max_inline);
    } else if (strcmp(o, "client-query-buffer-limit") == 0) {
        bad = parse_size(value, &cf->qbuf_limit);
    } else if (strcmp(o, "client-output-buffer-limit") == 0) {
        bad = parse_size(value, &cf->obuf_limit);
    } else if (strcmp(o, "auto-compact-percentage") == 0) {
        bad = parse_long(value, 0, 1000000, &cf->compact_pct);
    } else if (strcmp(o, "auto-compact-min-size") == 0) {
        bad = parse_size(value, &cf->compact_min);
    } else if (strcmp(o, "logfile") == 0) {
        bad = copy_str(cf->logfile, sizeof cf->logfile, value);
    }
    if (bad) {
        fprintf(stderr, "rosterd: %s: bad value '%s' for %s\n", where, value,
                o);
        return -1;
    }
    return 0;
}

static int read_config(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "rosterd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        char *p = line;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0' || *p == '#') {
            continue;
        }
        char *name = p;
        while (*p && *p != ' ' && *p != '\t') {
            p++;
        }
        if (*p) {
            *p++ = '\0';
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        /* A value in double quotes keeps its blanks. */
        size_t vl = strlen(p);
        if (vl >= 2 && p[0] == '"' && p[vl - 1] == '"') {
            p[vl - 1] = '\0';
            p++;
        }
        char where[PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        rc = set_option(name, p, true, where);
    }
    free(line);
    fclose(f);
    return rc;
}

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    config *cf = &srv.cfg;
    cf->port = 6379;
    snprintf(cf->bind, sizeof cf->bind, "127.0.0.1");
    snprintf(cf->dir, sizeof cf->dir, ".");
    cf->appendfsync = FSYNC_EVERYSEC;
    cf->protected_mode = true;
    cf->maxclients = 10000;
    cf->lim.max_args = 1024 * 1024;
    cf->lim.max_bulk = 32 * 1024 * 1024;
    cf->lim.max_inline = 64 * 1024;
    cf->qbuf_limit = 64 * 1024 * 1024;
    cf->obuf_limit = 64 * 1024 * 1024;
    cf->compact_pct = 100;
    cf->compact_min = 64 * 1024 * 1024;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "rosterd: '%s' is not an option (--help)\n",
                    argv[i]);
            return 2;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(argv[i], '=');
        if (eq != NULL) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i] - 2),
                     argv[i] + 2);
            value = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "rosterd: %s needs a value (--help)\n",
                        argv[i]);
                return 2;
            }
            snprintf(name, sizeof name, "%s", argv[i] + 2);
            value = argv[++i];
        }
        if (set_option(name, value, false, "command line") != 0) {
            return 2;
        }
    }
    if (cf->logfile[0]) {
        log_file = fopen(cf->logfile, "a");
        if (log_file == NULL) {
            fprintf(stderr, "rosterd: %s: %s\n", cf->logfile, strerror(errno));
            return 1;
        }
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* Room for maxclients descriptors, as Redis asks for. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)cf->maxclients + 64;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
            if (rl.rlim_cur < want) {
                log_msg('#',
                        "open files limit %lu is below maxclients + 64;"
                        " serving at most %lu clients",
                        (unsigned long)rl.rlim_cur,
                        (unsigned long)(rl.rlim_cur - 64));
                cf->maxclients = (long)rl.rlim_cur - 64;
            }
        }
    }

    log_msg('#', "rosterd %s (libroster %s) starting, pid %d", ROSTERD_VERSION,
            rs_version(), (int)getpid());
    if (rs_store_open(NULL, NULL, &srv.st) != RS_OK) {
        log_msg('#', "out of memory");
        return 1;
    }
    if (cf->n_classes == 0) {
        cf->classes = malloc(sizeof *cf->classes);
        cf->classes[0] = strdup(DEFAULT_CLASS);
        cf->n_classes = 1;
    }
    for (size_t i = 0; i < cf->n_classes; i++) {
        rs_class *cls;
        if (rs_class_parse(srv.st, cf->classes[i], strlen(cf->classes[i]),
                           &cls) != RS_OK) {
            log_msg('#', "class %zu: %s", i + 1, rs_errmsg(srv.st));
            return 1;
        }
        log_msg('*', "class %s", rs_class_name(cls));
    }
    if (mkdir(cf->dir, 0755) != 0 && errno != EEXIST) {
        log_msg('#', "dir %s: %s", cf->dir, strerror(errno));
        return 1;
    }
    snprintf(srv.base, sizeof srv.base, "%s/rosterd", cf->dir);
    double t0 = now_s();
    rs_load_info li;
    /* The journal is opened without fsync of its own: the loop fsyncs
     * once per turn (always) or once a second (everysec). */
    if (rs_durable_open(srv.st, srv.base, RS_SYNC_NEVER, &li) != RS_OK) {
        log_msg('#', "cannot open %s: %s", srv.base, rs_errmsg(srv.st));
        return 1;
    }
    srv.recovery_s = now_s() - t0;
    rs_mem_report mr;
    rs_mem(srv.st, &mr);
    srv.recovered = mr.n_records;
    log_msg('*',
            "recovered %zu records from %s.snap and %s.journal in "
            "%.3f s",
            mr.n_records, srv.base, srv.base, srv.recovery_s);
    if (li.n_dropped > 0) {
        log_msg('#', "fields dropped by the classes served: %s", li.dropped);
    }
    srv.start = time(NULL);
    srv.lastsave = srv.start;
    srv.last_save_ok = true;
    cmd_init();
    if (net_listen() != 0) {
        return 1;
    }
    log_msg('*',
            "ready to accept connections on %s port %d (appendfsync "
            "%s)",
            cf->bind, cf->port,
            cf->appendfsync == FSYNC_ALWAYS     ? "always"
            : cf->appendfsync == FSYNC_EVERYSEC ? "everysec"
                                                : "no");
    net_loop();
    rs_store_close(srv.st);
    for (size_t i = 0; i < cf->n_classes; i++) {
        free(cf->classes[i]);
    }
    free(cf->classes);
    free(cf->requirepass);
    free(srv.items);
    free(srv.scratch);
    free(srv.writes);
    free(srv.by_fd);
    for (size_t i = 0; i < srv.n_lfds; i++) {
        close(srv.lfds[i]);
    }
    close(srv.epfd);
    if (log_file) {
        fclose(log_file);
    }
    return 0;
}
