/*
 * journal.h: durable stores (snapshot + journal), atomic groups and
 * compaction (journal.c), over the snapshot module (persist.h).
 *
 * The journal and the groups hear of every change through one observer
 * (change.h), registered while either is active: the change goes to the
 * journal (alone, or into the open group's entry), and an open group logs
 * what undoes it.  A failure there (the journal write, or memory for the
 * group) cancels the change.
 */
#ifndef RS_JOURNAL_H
#define RS_JOURNAL_H

#include "persist.h"

/* The journal's and the groups' state: one observer of the store's
 * changes (change.h), there while either is active. */
typedef struct rs__persist {
    rs__observer obs; /* first: found on st->obs by its name */
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


/* RS_EINVAL if path names one of a durable store's own files (saving over
 * them would leave files that cannot be opened), else RS_OK. */
rs_status rs__own_file(rs_store *st, const char *path);
#endif
