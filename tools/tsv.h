/*
 * tsv.h: loading the canonical TSV (uid, name, stat, level, extras) or any
 * TSV whose columns follow a class's fields in declaration order, with an
 * optional last column of extras (key=value;key=value), bound as dynamic
 * attributes when the class is dynamic.
 */
#ifndef ROSTER_TSV_H
#define ROSTER_TSV_H

#include "roster.h"

#include <stdio.h>

/* Extras a line may carry: a record holds at most 255 dynamic attributes
 * (roster.h, "Dynamic attributes"), so that is the one limit.  A key is an
 * attribute name: at most RS_MAX_NAME bytes. */
#define TSV_MAX_EXTRAS 255

typedef struct tsv_stats {
    uint64_t lines;          /* lines read */
    uint64_t inserted;       /* records inserted */
    uint64_t extras_rows;    /* rows whose extras column was not empty */
    uint64_t extras_loaded;  /* extras bound as dynamic attributes */
    uint64_t extras_skipped; /* extras not loaded (class not dynamic) */
} tsv_stats;

typedef struct tsv_loader {
    rs_store *st;
    rs_class *cls;
    size_t n_fields;
    bool dynamic;      /* the class takes the extras as attributes */
    rs_named *vals;    /* n_fields, then the extras of the line */
    char *keys;        /* the extras' keys, NUL-terminated */
    char (*texts)[32]; /* scratch to read numbers */
    tsv_stats stats;
} tsv_loader;

/* Prepare to load records of cls.  Returns 0, or -1 with a message in err
 * (out of memory). */
int tsv_loader_init(tsv_loader *ld, rs_store *st, rs_class *cls, char *err,
                    size_t errlen);
void tsv_loader_free(tsv_loader *ld);

/* Load one line (without its newline; a trailing '\r' is dropped).  An
 * empty line is skipped.  Returns 0, or -1 with a message naming the column
 * and the fault in err; the store is then unchanged. */
int tsv_load_line(tsv_loader *ld, const char *line, size_t len, char *err,
                  size_t errlen);

/* Load every line of f, after head_len bytes in head: bytes the caller
 * already read from f (to tell a snapshot from a TSV, say), which count as
 * the start of the input, so a pipe that cannot be read twice loses
 * nothing.  A UTF-8 byte-order mark at the start is skipped.  progress, if
 * non-NULL, is called every 65536 lines.  Returns 0 at the end of the
 * input, or -1 with "line N: ..." in err: a line that does not load, a NUL
 * byte, or a read error (an I/O error, or a line too long for memory): a
 * read that fails never passes for the end of the input. */
int tsv_load_stream(tsv_loader *ld, FILE *f, const char *head, size_t head_len,
                    char *err, size_t errlen,
                    void (*progress)(uint64_t lines, void *ctx), void *ctx);

#endif
