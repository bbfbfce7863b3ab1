/*
 * snapshot.h: snapshots (snapshot.c): the saver, which hears of every change
 * while it runs (change.h) and copies a record before the store changes
 * it, the loader and inspection, and the record image the journal and
 * the groups' undo log share with them.
 */
#ifndef RS_SNAPSHOT_H
#define RS_SNAPSHOT_H

#include "change.h"
#include "codec.h"
#include "sys.h"
#include "attrs.h"
#include "store.h"

#include <stdio.h>

/* Decode a record image of a file class (cmap m, attribute names by id
 * from names[]) into named values for rs_insert(): false if malformed. */
struct rs__cmap;
bool rs__snapshot_decode_record(rs__rd *r, const struct rs__cmap *m,
                                char **names, uint32_t n_names, rs_named *nv,
                                size_t *n);

/* Bytes the record image of slot takes (upper bound) and the image itself:
 * every field in declaration order, then the number of dynamic attributes
 * and each one's interned name id and tagged value.  Uses a->old_list. */
size_t rs__snapshot_image_bound(rs_store *st, const rs_class *c, uint32_t slot);
void rs__snapshot_put_image(rs_store *st, rs__buf *b, const rs_class *c,
                            uint32_t slot);

/* What durable.c uses for opening and compaction.  A snapshot's header names the journal it continues (prev_id, prev_off):
 * the one it was compacted from, or, as RS__SNAPSHOT_PREV_SELF asks, a journal of
 * its own that follows it; 0, 0 for a plain save, which expects none. */
#define RS__SNAPSHOT_PREV_SELF UINT64_MAX
rs_status rs__snapshot_save_open(rs_store *st, const char *path,
                                 uint64_t prev_id, uint64_t prev_off,
                                 rs_saver **out);
uint64_t rs__snapshot_saver_id(const rs_saver *sv);
/* The saver's finishing steps that a durable store's compaction adds
 * (durable.c): each returns RS_OK or the failure, journal_sync 0 or -1
 * with errno. */
typedef struct rs__snapshot_steps {
    /* Every step until the switch: what the journal received since the
     * last copy goes into the next journal. */
    rs_status (*copy)(rs_store *st);
    /* Before the rename: the journal up to the snapshot's offset is on
     * disk, whatever the fsync policy. */
    int (*journal_sync)(rs_store *st);
    /* After the rename: the next journal copied and on disk, then put in
     * place of the old one. */
    rs_status (*next_sync)(rs_store *st);
    rs_status (*finish)(rs_store *st, rs_saver *sv);
    /* The save is freed before the switch: give the next journal up. */
    void (*abort)(rs_store *st);
} rs__snapshot_steps;
void rs__snapshot_saver_steps(rs_saver *sv, const rs__snapshot_steps *steps);
/* The running save, or NULL. */
rs_saver *rs__snapshot_saver_of(const rs_store *st);
/* A file class's mapping onto a store class, built by the loader. */
typedef struct rs__cmap { /* (struct rs__cmap, declared above) */
    rs_class *c;          /* the store's class */
    uint32_t n_fields;    /* the file's fields */
    rs_type *types;       /* their types */
    int *to;              /* their field in c, or -1 (dropped) */
    bool identity;        /* same fields, same order, same types */
} rs__cmap;

typedef struct rs__loaded {
    rs__cmap *cmaps;
    uint32_t n_cmaps, cap_cmaps;
    uint64_t id, prev_id, prev_off;
    uint32_t first_new_class; /* classes declared by the load start here */
    rs__amark amark;          /* names and shapes before the load */
} rs__loaded;

rs_status rs__snapshot_load(rs_store *st, const uint8_t *buf, size_t len,
                            const char *name, rs_load_info *info,
                            rs__loaded *out);
rs_status rs__snapshot_cmap(rs_store *st, rs_class *file_cls, rs_class *target,
                            rs__cmap *m, rs_load_info *info);
void rs__snapshot_loaded_free(rs_store *st, rs__loaded *l);
/* Undo a load that failed: clear the classes it filled, drop the ones it
 * declared. */
void rs__snapshot_load_undo(rs_store *st, rs__loaded *l);

/* rs_inspect() of a snapshot in memory. */
rs_status rs__snapshot_inspect(rs_store *st, const uint8_t *buf, size_t len,
                               const char *name, rs_file_info *fi);

#endif
