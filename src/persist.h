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

#include "store.h"

#include <stdio.h>

/* A growable byte buffer in the store's META accounting. */
typedef struct rs__buf {
    uint8_t *p;
    size_t len, cap;
} rs__buf;

rs_status rs__buf_reserve(rs_store *st, rs__buf *b, size_t more);
void rs__buf_free(rs_store *st, rs__buf *b);

/* Appends that assume rs__buf_reserve() made room. */
static inline void rs__put_u8(rs__buf *b, uint8_t v)
{
    b->p[b->len++] = v;
}
static inline void rs__put_bytes(rs__buf *b, const void *p, size_t n)
{
    if (n > 0) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}
void rs__put_uvar(rs__buf *b, uint64_t v);
void rs__put_u32le(rs__buf *b, uint32_t v);
void rs__put_u64le(rs__buf *b, uint64_t v);

/* Reading: a cursor that fails (sets bad) instead of running past end. */
typedef struct rs__rd {
    const uint8_t *p, *end;
    bool bad;
} rs__rd;

uint64_t rs__get_uvar(rs__rd *r);
uint8_t rs__get_u8(rs__rd *r);
const uint8_t *rs__get_bytes(rs__rd *r, size_t n);
uint64_t rs__get_u64le(rs__rd *r);
uint32_t rs__get_u32le(rs__rd *r);

/* Values.  A field's value is written by its declared type: bool one byte,
 * signed integers zigzag varints, unsigned ones varints, f32 and f64 their
 * IEEE bytes (little endian), strings a varint length and the bytes.  An
 * attribute's value is a tag byte (rs__atag) then the same. */
enum rs__atag { RS_TAG_INT, RS_TAG_UINT, RS_TAG_F64, RS_TAG_FALSE,
                RS_TAG_TRUE, RS_TAG_STR };

/* Decode a record image of a file class (cmap m, attribute names by id
 * from names[]) into named values for rs_insert(): false if malformed. */
struct rs__cmap;
bool rs__decode_record(rs__rd *r, const struct rs__cmap *m, char **names,
                       uint32_t n_names, rs_named *nv, size_t *n);

/* Bytes a value can take beyond its string: a tag and a 10-byte varint. */
#define RS_VAL_MAX 12

void rs__put_value(rs__buf *b, rs_type t, const rs_value *v);
void rs__put_avalue(rs__buf *b, const rs_value *v);
rs_value rs__get_value(rs__rd *r, rs_type t);
rs_value rs__get_avalue(rs__rd *r);

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

/* Read a whole file: RS_OK, RS_ENOTFOUND if it does not exist, RS_EIO. */
rs_status rs__read_file(rs_store *st, const char *path, uint8_t **buf,
                        size_t *len);
/* Read a whole file already open (fd; path for messages). */
rs_status rs__read_fd(rs_store *st, int fd, const char *path, uint8_t **buf,
                      size_t *len);
/* Create a temporary file beside path, named path + ".tmp-" and 16 hex
 * digits, written into name (room for strlen(path) + RS__TMP_EXTRA + 1
 * bytes).  O_EXCL and O_NOFOLLOW: it never follows a planted link and
 * never opens a file another writer is using.  The fd (read-write), or -1
 * with errno. */
#define RS__TMP_EXTRA 21
int rs__tmp_create(const char *path, char *name);
/* fsync the directory that holds path. */
int rs__fsync_dir(const char *path);
uint64_t rs__now_ns(void);
uint64_t rs__random64(void);

#endif
