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
 * and counted as skipped.
 */
#include "tsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXTRAS 64 /* attributes a line may carry */
#define MAX_KEY 64

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
            free(ld->vals);
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
        (memchr(p, '.', len) || memchr(p, 'e', len) ||
         memchr(p, 'E', len))) {
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
static int parse_extras(tsv_loader *ld, const char *p, size_t len,
                        size_t *n, char *err, size_t errlen)
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
        if (*n == MAX_EXTRAS || klen > MAX_KEY) {
            snprintf(err, errlen, "extras: more than %d pairs, or a key "
                     "longer than %d bytes", MAX_EXTRAS, MAX_KEY);
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
            rs_status rc = rs_value_parse(ld->st, ld->cls, (rs_field)col,
                                          text, tlen, &ld->vals[col].val);
            if (rc != RS_OK) {
                snprintf(err, errlen, "column %zu: %s", col + 1,
                         rs_errmsg(ld->st));
                return -1;
            }
        } else if (col == ld->n_fields) {
            extras = text;
            extras_len = tlen;
        } else {
            snprintf(err, errlen, "%zu columns or more, expected %zu (one "
                                  "per field of '%s', then extras)",
                     col + 1, ld->n_fields + 1, rs_class_name(ld->cls));
            return -1;
        }
        col++;
        start = i + 1;
    }
    if (col < ld->n_fields) {
        snprintf(err, errlen, "%zu columns, expected %zu (one per field of "
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

int tsv_load_file(tsv_loader *ld, FILE *f, char *err, size_t errlen,
                  void (*progress)(uint64_t lines, void *ctx), void *ctx)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char msg[512];
    while ((n = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        ld->stats.lines++;
        if (memchr(line, '\0', len) != NULL) {
            snprintf(err, errlen, "line %llu: contains a NUL byte",
                     (unsigned long long)ld->stats.lines);
            free(line);
            return -1;
        }
        if (tsv_load_line(ld, line, len, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "line %llu: %s",
                     (unsigned long long)ld->stats.lines, msg);
            free(line);
            return -1;
        }
        if (progress && (ld->stats.lines & 0xFFFF) == 0) {
            progress(ld->stats.lines, ctx);
        }
    }
    free(line);
    if (ferror(f)) {
        snprintf(err, errlen, "read error after line %llu",
                 (unsigned long long)ld->stats.lines);
        return -1;
    }
    return 0;
}
