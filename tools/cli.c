/*
 * cli.c: what the roster subcommands share (cli.h): one option parser,
 * messages and exit statuses, JSON strings, and the checks made on a path
 * before anything opens it.
 */
#include "cli.h"
#include "gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* What the subcommands share (cli.h)                                        */
/* ------------------------------------------------------------------------ */

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "roster %s: ", cmd);
    vfprintf(stderr, fmt, ap);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (roster %s --help)\n", cmd);
    return CLI_USAGE;
}

/* v with thousands separators, in buf. */
const char *cli_grouped(uint64_t v, char buf[32])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        buf[k++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i < n - 1) {
            buf[k++] = ',';
        }
    }
    buf[k] = '\0';
    return buf;
}

void cli_print_group(uint64_t v)
{
    char buf[32];
    fputs(cli_grouped(v, buf), stdout);
}

/* s as plain decimal digits: 0; -1 if it is not that (empty, a sign, a
 * space, a base prefix, anything after the digits: strtoull() would take
 * "-1" for 2^64 - 1 and " 7" for 7); -2 if it does not fit 64 bits. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0') {
        return -1;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -2;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "a whole number from 1 to 15", "a whole number, 1 or more". */
static void describe_range(const cli_opt *o, char *buf, size_t len)
{
    char a[32], b[32];
    if (o->max == UINT64_MAX) {
        snprintf(buf, len,
                 o->min ? "a whole number, %s or more" : "a whole number%.0s",
                 cli_grouped(o->min, a));
    } else {
        snprintf(buf, len, "a whole number from %s to %s",
                 cli_grouped(o->min, a), cli_grouped(o->max, b));
    }
}

static const cli_opt *find_opt(const cli_opt *opts, const char *a, size_t len)
{
    for (const cli_opt *o = opts; o->name; o++) {
        if ((strlen(o->name) == len && strncmp(o->name, a, len) == 0) ||
            (o->alias && strlen(o->alias) == len &&
             strncmp(o->alias, a, len) == 0)) {
            return o;
        }
    }
    return NULL;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **operands,
              size_t *n_operands)
{
    const char *name = cmd->name;
    bool seen[32] = {false};
    bool operands_only = false;
    size_t n = 0;
    *n_operands = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!operands_only &&
            (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            return CLI_HELP;
        }
        if (!operands_only && strcmp(a, "--") == 0) {
            operands_only = true;
            continue;
        }
        if (operands_only || a[0] != '-' || a[1] == '\0') {
            if (n < cmd->max_operands) {
                operands[n++] = a;
                continue;
            }
            if (cmd->max_operands == 0) {
                return cli_usage(name, "unexpected argument '%s'", a);
            }
            return cli_usage(name, "one %s only, not also '%s'", cmd->operand,
                             a);
        }
        /* --name=value for long options; a short one takes the next. */
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = find_opt(cmd->opts, a, len);
        if (o == NULL) {
            return cli_usage(name, "unknown option '%.*s'", (int)len, a);
        }
        int as = (int)len; /* messages name the option as it was typed */
        size_t k = (size_t)(o - cmd->opts);
        if (k < sizeof seen) {
            seen[k] = true;
        }
        if (o->kind == CLI_FLAG) {
            if (eq) {
                return cli_usage(name, "%.*s takes no value", as, a);
            }
            *(bool *)o->out = true;
            continue;
        }
        const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (v == NULL) {
            return cli_usage(name, "%.*s needs a value: %s", as, a, o->what);
        }
        if (*v == '\0') {
            return cli_usage(name, "%.*s: %s is empty", as, a, o->what);
        }
        if (o->kind == CLI_STR) {
            *(const char **)o->out = v;
            continue;
        }
        uint64_t x = 0;
        int rc = parse_u64(v, &x);
        if (rc != 0 || x < o->min || x > o->max) {
            char range[96];
            describe_range(o, range, sizeof range);
            return cli_usage(name, "%.*s wants %s, %s; not '%s'%s", as, a,
                             o->what, range, v,
                             rc == -2 ? " (more than 64 bits hold)" : "");
        }
        *(uint64_t *)o->out = x;
    }
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        size_t k = (size_t)(o - cmd->opts);
        if (o->required && k < sizeof seen && !seen[k]) {
            return cli_usage(name, "%s is required: %s", o->name, o->what);
        }
    }
    if (n < cmd->min_operands) {
        return cli_usage(name, "%s is missing", cmd->operand);
    }
    *n_operands = n;
    return CLI_OK;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 if the byte
 * at s does not start one (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

void cli_json_escape(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\\ufffd", f);
            s++;
        } else if (*s == '"' || *s == '\\') {
            fputc('\\', f);
            fputc(*s++, f);
        } else if (*s < 0x20 || *s == 0x7F) {
            fprintf(f, "\\u%04x", *s++);
        } else {
            fwrite(s, 1, n, f);
            s += n;
        }
    }
}

/* What a file that is not regular is, for messages. */
static const char *file_type(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO (named pipe)"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

int cli_check_output(const char *cmd, const char *opt, const char *path,
                     bool regular)
{
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && (S_ISDIR(sb.st_mode) || (regular && !S_ISREG(sb.st_mode)))) {
        return cli_fail(cmd, "%s %s: is %s", opt, path, file_type(sb.st_mode));
    }
    if (exists && access(path, W_OK) != 0) {
        return cli_fail(cmd, "%s %s: cannot write it: %s", opt, path,
                        strerror(errno));
    }
    if (exists && !regular) {
        return 0; /* written in place (a device, say) */
    }
    /* A new file, or one replaced by a rename: its directory must take a
     * new name. */
    size_t len = strlen(path);
    char *dir = malloc(len + 2);
    if (dir == NULL) {
        return cli_fail(cmd, "out of memory");
    }
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else {
        slash[slash == dir ? 1 : 0] = '\0';
    }
    int rc = 0;
    if (access(dir, W_OK | X_OK) != 0) {
        rc = cli_fail(cmd, "%s %s: cannot create it: %s: %s", opt, path, dir,
                      strerror(errno));
    }
    free(dir);
    return rc;
}

int cli_check_regular(const char *cmd, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return cli_fail(cmd, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        return cli_fail(cmd,
                        "%s: is %s; a roster snapshot or journal is a "
                        "regular file",
                        path, file_type(sb.st_mode));
    }
    return 0;
}

/* The memory this process may use: the machine's RAM, or less under an
 * address-space limit (ulimit -v). */
static uint64_t memory_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t mem =
        pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < mem) {
        mem = (uint64_t)rl.rlim_cur;
    }
    return mem;
}

int cli_check_gen_memory(const char *cmd, uint64_t n)
{
    uint64_t need = rs_gen_bytes(n), have = memory_limit();
    if (need <= have) {
        return 0;
    }
    uint64_t lo = 0, hi = n; /* rs_gen_bytes(lo) fits, (hi) does not */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        *(rs_gen_bytes(mid) <= have ? &lo : &hi) = mid;
    }
    char a[32], b[32], needs[64];
    if (need == UINT64_MAX) {
        snprintf(needs, sizeof needs, "more than 2^64 bytes");
    } else {
        snprintf(needs, sizeof needs, "about %.1f GB", (double)need / 1e9);
    }
    return cli_fail(cmd,
                    "%s players need %s of memory (the generator "
                    "keeps every name to make names unique), more "
                    "than the %.1f GB here; at most %s players fit",
                    cli_grouped(n, a), needs, (double)have / 1e9,
                    cli_grouped(lo, b));
}
