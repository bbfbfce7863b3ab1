/*
 * persist.h: what the snapshot (persist.c) and journal (journal.c) modules
 * share with each other and with the store.
 *
 * The saver, the journal and the groups hear of every change through one
 * observer (change.h) that is registered while any of them is active:
 *
 *   - a running save copies the record the change is about to overwrite,
 *     as it was when the save began, if it has not written it yet;
 *   - the change goes to the journal (alone, or into the open group's
 *     entry), and an open group logs what undoes it.  A failure here (the
 *     journal write, or memory for the group) cancels the change.
 *
 * With none of them active no observer is registered, so a store that uses
 * none of them pays one predictable branch per change.
 */
#ifndef RS_PERSIST_H
#define RS_PERSIST_H

#include "codec.h"
#include "fileio.h"
#include "store.h"

#include <stdio.h>

/* Decode a record image of a file class (cmap m, attribute names by id
 * from names[]) into named values for rs_insert(): false if malformed. */
struct rs__cmap;
bool rs__decode_record(rs__rd *r, const struct rs__cmap *m, char **names,
                       uint32_t n_names, rs_named *nv, size_t *n);

/* Bytes the record image of slot takes (upper bound) and the image itself:
 * every field in declaration order, then the number of dynamic attributes
 * and each one's interned name id and tagged value.  Uses a->old_list. */
size_t rs__image_bound(rs_store *st, const rs_class *c, uint32_t slot);
void rs__put_image(rs_store *st, rs__buf *b, const rs_class *c,
                   uint32_t slot);

/* The saves', the journal's and the groups' state: one observer of the
 * store's changes (change.h), there while any of them is active. */
typedef struct rs__persist {
    rs__observer obs; /* first: found on st->obs by its name */
    /* A running save (persist.c), or NULL. */
    rs_saver *saver;
    /* The journal (journal.c): fd -1 when the store is not durable. */
    int jfd;
    char *base; /* BASE of BASE.snap and BASE.journal */
    rs_sync sync;
    uint64_t snap_id;   /* the snapshot the journal follows */
    uint64_t jlen;      /* bytes in the journal file */
    int cfd;            /* a compaction's next journal (BASE.journal.tmp) */
    int old_jfd;        /* a replaced journal, freed a step at a time */
    int lockfd;         /* BASE.lock, flock()ed while durable */
    uint64_t old_len;
    uint64_t clen;      /* its length */
    uint64_t csynced;   /* of which fdatasync()ed */
    uint64_t cstart;    /* the journal's length when it began */
    uint64_t cwb;       /* how much of that has had its writeback begun */
    uint64_t cwb_next;  /* the same, of the next journal */
    char *ctmp;         /* BASE.journal.tmp, named once */
    bool dir_unsynced;  /* a compaction's rename may not be on disk yet */
    uint64_t ccopied;   /* bytes of the journal copied into it so far */
    uint32_t cnames;    /* names it declares in its head */
    uint64_t last_sync; /* CLOCK_MONOTONIC ns of the last fdatasync */
    uint8_t *jnames;    /* per name id: declared in this journal file */
    uint32_t jnames_cap;
    uint32_t jclasses;  /* classes the journal knows (numbered 0..) */
    rs__buf entry;      /* the ops of the entry being built */
    uint32_t entry_ops;
    /* Groups. */
    bool in_group;
    rs_status group_rc; /* RS_OK, or the failure that rolled it back */
    bool jbroken;       /* a failed write could not be cut off: refuse */
    rs__buf pend;       /* name ids (u32) the entry being built declares */
    rs__buf undo;       /* undo records, newest last */
    rs__buf undo_at;    /* offsets (size_t) of each record in undo */
    char group_msg[512]; /* the failure, as rs_errmsg() said it */
    rs__amark group_amark; /* names and shapes before the group */
} rs__persist;

extern const char rs__p_name[];

/* The persistence state, or NULL. */
static inline rs__persist *rs__p_of(const rs_store *st)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->name == rs__p_name) {
            return (rs__persist *)o;
        }
    }
    return NULL;
}

/* Get (creating and registering) or drop the state once nothing uses it. */
rs_status rs__p_get(rs_store *st, rs__persist **out);
void rs__p_release(rs_store *st);
void rs__p_free(rs_store *st);

/* A save is running: if it has not written slot yet, write the record
 * now, as it was when the save began (persist.c). */
void rs__p_touch(rs_store *st, rs_class *c, uint32_t slot);
/* Fill in the observer's callbacks (journal.c). */
void rs__p_observer(rs__observer *o);

/* Snapshot internals journal.c uses for compaction and opening.  A
 * snapshot's header names the journal it continues (prev_id, prev_off):
 * the one it was compacted from, or, as RS__PREV_SELF asks, a journal of
 * its own that follows it; 0, 0 for a plain save, which expects none. */
#define RS__PREV_SELF UINT64_MAX
rs_status rs__save_open(rs_store *st, const char *path, uint64_t prev_id,
                        uint64_t prev_off, rs_saver **out);
uint64_t rs__saver_id(const rs_saver *sv);
void rs__saver_mark_compact(rs_saver *sv);
/* Compaction (journal.c): begin a save of the durable store's own
 * snapshot; after the save's rename, switch the journal over. */
rs_status rs__compact_begin(rs_store *st, rs_saver **out);
rs_status rs__compact_finish(rs_store *st, rs_saver *sv);
/* Copy what the journal received since the last copy into the next one
 * (every save step), and give the next one up (an aborted save). */
rs_status rs__compact_copy(rs_store *st);
/* Copy, then fdatasync the next journal (a finishing step of its own). */
rs_status rs__compact_sync(rs_store *st);
void rs__compact_abort(rs_store *st);
/* RS_EINVAL if path names one of a durable store's own files (saving over
 * them would leave files that cannot be opened), else RS_OK. */
rs_status rs__own_file(rs_store *st, const char *path);
/* A file class's mapping onto a store class, built by the loader. */
typedef struct rs__cmap { /* (struct rs__cmap, declared above) */
    rs_class *c;      /* the store's class */
    uint32_t n_fields; /* the file's fields */
    rs_type *types;   /* their types */
    int *to;          /* their field in c, or -1 (dropped) */
    bool identity;    /* same fields, same order, same types */
} rs__cmap;

typedef struct rs__loaded {
    rs__cmap *cmaps;
    uint32_t n_cmaps, cap_cmaps;
    uint64_t id, prev_id, prev_off;
    uint32_t first_new_class; /* classes declared by the load start here */
    rs__amark amark;          /* names and shapes before the load */
} rs__loaded;

rs_status rs__load_mem(rs_store *st, const uint8_t *buf, size_t len,
                       const char *name, rs_load_info *info,
                       rs__loaded *out);
rs_status rs__cmap_make(rs_store *st, rs_class *file_cls, rs_class *target,
                        rs__cmap *m, rs_load_info *info);
void rs__loaded_free(rs_store *st, rs__loaded *l);
/* Undo a load that failed: clear the classes it filled, drop the ones it
 * declared. */
void rs__load_undo(rs_store *st, rs__loaded *l);

/* rs_inspect() of a snapshot in memory. */
rs_status rs__snap_inspect(rs_store *st, const uint8_t *buf, size_t len,
                           const char *name, rs_file_info *fi);

#endif
