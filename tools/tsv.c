/*
 * tsv.c: the TSV loader behind `roster load` (and fuzzed by fuzz_tsv).
 *
 * A line is split on tabs without copying; column i feeds field i of the
 * class, converted by rs_value_parse() (so the library applies its own
 * range, length and UTF-8 checks and names the field at fault).  A line has
 * exactly one column per field, or one more: the extras, key=value pairs
 * split by ';'.  On a dynamic class each pair becomes a dynamic attribute
 * in the same rs_insert() (so a bad pair leaves no half-inserted record):
 * a value that is a decimal integer is stored as an integer, one that reads
 * fully as a float (it has a '.' or an exponent) as a float, anything else
 * as a string.  On a class that is not dynamic they are checked for shape
 * and counted as skipped.  A line carries at most 255 extras, the
 * library's limit of attributes a record (TSV_MAX_EXTRAS).
 */
#include "tsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXTRAS TSV_MAX_EXTRAS
#define MAX_KEY RS_MAX_NAME

int tsv_loader_init(tsv_loader *ld, rs_store *st, rs_class *cls, char *err,
                    size_t errlen)
{
    memset(ld, 0, sizeof *ld);
    ld->st = st;
    ld->cls = cls;
    ld->n_fields = rs_class_n_fields(cls);
    ld->dynamic = (rs_class_flags(cls) & RS_CLASS_DYNAMIC) != 0;
    ld->vals = calloc(ld->n_fields + MAX_EXTRAS, sizeof *ld->vals);
    ld->keys = calloc(MAX_EXTRAS, MAX_KEY + 1);
    ld->texts = calloc(MAX_EXTRAS, sizeof *ld->texts);
    if (ld->vals == NULL || ld->keys == NULL || ld->texts == NULL) {
        snprintf(err, errlen, "out of memory");
        tsv_loader_free(ld);
        return -1;
    }
    for (size_t i = 0; i < ld->n_fields; i++) {
        rs_field_def def;
        if (rs_class_field_def(cls, (rs_field)i, &def) != RS_OK) {
            snprintf(err, errlen, "cannot read field %zu", i);
            tsv_loader_free(ld);
            return -1;
        }
        ld->vals[i].name = def.name;
    }
    return 0;
}

void tsv_loader_free(tsv_loader *ld)
{
    free(ld->vals);
    free(ld->keys);
    free(ld->texts);
    ld->vals = NULL;
    ld->keys = NULL;
    ld->texts = NULL;
}

/* The value of an extra: integer, float or string (see the header). */
static rs_value extra_value(const char *p, size_t len, char *num)
{
    size_t i = len > 0 && (p[0] == '-' || p[0] == '+') ? 1 : 0;
    bool digits = i < len && len < 32;
    for (size_t j = i; j < len && digits; j++) {
        digits = p[j] >= '0' && p[j] <= '9';
    }
    if (digits) {
        memcpy(num, p, len);
        num[len] = '\0';
        errno = 0;
        long long v = strtoll(num, NULL, 10);
        if (errno == 0) {
            return rs_val_int(v);
        }
    }
    if (len > 0 && len < 32 && memchr(p, '\t', len) == NULL &&
        (memchr(p, '.', len) || memchr(p, 'e', len) || memchr(p, 'E', len))) {
        char *end;
        memcpy(num, p, len);
        num[len] = '\0';
        double d = strtod(num, &end);
        if (*end == '\0' && end != num) {
            return rs_val_f64(d);
        }
    }
    return rs_val_str(p, len);
}

/* Split the extras column into ld->vals[n_fields..] (keys copied, NUL-
 * terminated; values borrowed from the line).  *n counts them. */
static int parse_extras(tsv_loader *ld, const char *p, size_t len, size_t *n,
                        char *err, size_t errlen)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != ';') {
            continue;
        }
        const char *kv = p + start;
        size_t kvlen = i - start;
        const char *eq = memchr(kv, '=', kvlen);
        if (eq == NULL || eq == kv) {
            snprintf(err, errlen, "extras: '%.*s' is not key=value",
                     (int)(kvlen > 40 ? 40 : kvlen), kv);
            return -1;
        }
        size_t klen = (size_t)(eq - kv);
        if (*n == MAX_EXTRAS) {
            snprintf(err, errlen,
                     "extras: more than %d pairs (a record "
                     "holds at most %d attributes)",
                     MAX_EXTRAS, MAX_EXTRAS);
            return -1;
        }
        if (klen > MAX_KEY) {
            snprintf(err, errlen,
                     "extras: key '%.20s...' is %zu bytes, "
                     "longer than an attribute name may be (%d)",
                     kv, klen, MAX_KEY);
            return -1;
        }
        char *key = ld->keys + *n * (MAX_KEY + 1);
        memcpy(key, kv, klen);
        key[klen] = '\0';
        rs_named *nv = &ld->vals[ld->n_fields + *n];
        nv->name = key;
        nv->val = extra_value(eq + 1, kvlen - klen - 1, ld->texts[*n]);
        (*n)++;
        start = i + 1;
    }
    return 0;
}

int tsv_load_line(tsv_loader *ld, const char *line, size_t len, char *err,
                  size_t errlen)
{
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    size_t col = 0, start = 0;
    const char *extras = NULL;
    size_t extras_len = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t') {
            continue;
        }
        const char *text = line + start;
        size_t tlen = i - start;
        if (col < ld->n_fields) {
            rs_status rc = rs_value_parse(ld->st, ld->cls, (rs_field)col, text,
                                          tlen, &ld->vals[col].val);
            if (rc != RS_OK) {
                snprintf(err, errlen, "column %zu: %s", col + 1,
                         rs_errmsg(ld->st));
                return -1;
            }
        } else if (col == ld->n_fields) {
            extras = text;
            extras_len = tlen;
        } else {
            snprintf(err, errlen,
                     "%zu columns or more, expected %zu (one "
                     "per field of '%s', then extras)",
                     col + 1, ld->n_fields + 1, rs_class_name(ld->cls));
            return -1;
        }
        col++;
        start = i + 1;
    }
    if (col < ld->n_fields) {
        snprintf(err, errlen,
                 "%zu columns, expected %zu (one per field of "
                 "'%s', then extras)",
                 col, ld->n_fields, rs_class_name(ld->cls));
        return -1;
    }
    size_t n_extras = 0;
    if (extras_len > 0 &&
        parse_extras(ld, extras, extras_len, &n_extras, err, errlen) != 0) {
        return -1;
    }
    size_t n_vals = ld->n_fields + (ld->dynamic ? n_extras : 0);
    if (rs_insert(ld->st, ld->cls, ld->vals, n_vals, NULL) != RS_OK) {
        snprintf(err, errlen, "%s", rs_errmsg(ld->st));
        return -1;
    }
    ld->stats.inserted++;
    if (n_extras > 0) {
        ld->stats.extras_rows++;
        if (ld->dynamic) {
            ld->stats.extras_loaded += n_extras;
        } else {
            ld->stats.extras_skipped += n_extras;
        }
    }
    return 0;
}

/* Lines are read into one buffer that grows to hold the longest line (a
 * chunk at a time with fread(), then memchr() for the newline), rather
 * than with getline(): getline() ends with -1 both at the end of the file
 * and when it cannot grow its buffer, so a line too long for memory would
 * pass for the end of the input. */
#define READ_CHUNK ((size_t)1 << 16)

typedef struct reader {
    FILE *f;
    char *buf;
    size_t cap;   /* bytes allocated */
    size_t start; /* the line being read starts here */
    size_t scan;  /* buf[start..scan) holds no newline */
    size_t end;   /* bytes read end here */
    bool eof;
} reader;

/* The next line, without its newline, in *line and *len (borrowed until
 * the next call).  Returns 1; 0 at the end of the input; -1 with errno set
 * when reading fails or the line does not fit in memory. */
static int next_line(reader *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        if (nl != NULL) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start = r->scan = (size_t)(nl - r->buf) + 1;
            return 1;
        }
        r->scan = r->end;
        if (r->eof) {
            if (r->start == r->end) {
                return 0;
            }
            *line = r->buf + r->start; /* a last line without a newline */
            *len = r->end - r->start;
            r->start = r->scan = r->end;
            return 1;
        }
        if (r->start > 0) { /* keep only the line being read */
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->scan -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < READ_CHUNK) {
            size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
            char *nb = cap > r->cap ? realloc(r->buf, cap) : NULL;
            if (nb == NULL) {
                errno = ENOMEM;
                return -1;
            }
            r->buf = nb;
            r->cap = cap;
        }
        size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
        r->end += got;
        if (got == 0) {
            if (ferror(r->f)) {
                if (errno == 0) {
                    errno = EIO;
                }
                return -1;
            }
            r->eof = true;
        }
    }
}

int tsv_load_stream(tsv_loader *ld, FILE *f, const char *head, size_t head_len,
                    char *err, size_t errlen,
                    void (*progress)(uint64_t lines, void *ctx), void *ctx)
{
    reader r = {f, NULL, 0, 0, 0, 0, false};
    r.cap = head_len + READ_CHUNK;
    r.buf = malloc(r.cap);
    if (r.buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (head_len > 0) {
        memcpy(r.buf, head, head_len);
    }
    r.end = head_len;
    const char *line;
    size_t len;
    char msg[512];
    int rc, status = 0;
    errno = 0;
    while ((rc = next_line(&r, &line, &len)) == 1) {
        ld->stats.lines++;
        /* A byte-order mark is not part of the first uid (editors on
         * Windows write one): without this, the first record could never
         * be found by its key. */
        if (ld->stats.lines == 1 && len >= 3 &&
            memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            len -= 3;
        }
        if (memchr(line, '\0', len) != NULL) {
            snprintf(err, errlen, "line %llu: contains a NUL byte",
                     (unsigned long long)ld->stats.lines);
            status = -1;
            break;
        }
        if (tsv_load_line(ld, line, len, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "line %llu: %s",
                     (unsigned long long)ld->stats.lines, msg);
            status = -1;
            break;
        }
        if (progress && (ld->stats.lines & 0xFFFF) == 0) {
            progress(ld->stats.lines, ctx);
        }
        errno = 0;
    }
    if (rc < 0) {
        /* The line being read is the one after the last whole one. */
        snprintf(err, errlen,
                 "line %llu: read error after %zu bytes of "
                 "it: %s",
                 (unsigned long long)ld->stats.lines + 1, r.end - r.start,
                 strerror(errno));
        status = -1;
    }
    free(r.buf);
    return status;
}
