/*
 * journal.h: the journal of a durable store (journal.c): its writer, which
 * hears of every change (change.h) and writes it before the store does;
 * its one entry reader, which replay, inspection and the opener share;
 * and the calls durable.c (open, compaction, repair) and txn.c (groups)
 * make of it.  The file format is at the top of journal.c.
 */
#ifndef RS_JOURNAL_H
#define RS_JOURNAL_H

#include "snapshot.h"

/* The file's format (journal.c's top comment). */
#define RS__J_MAGIC "RSTRJRNL"
#define RS__J_VERSION 1u
#define RS__J_HEADER 32 /* the file header's bytes */
#define RS__J_EHEAD 12  /* an entry's header: u32 length, u64 checksum */
enum {
    RS__J_CLASS = 1,
    RS__J_NAME,
    RS__J_INSERT,
    RS__J_REMOVE,
    RS__J_SET,
    RS__J_BIND,
    RS__J_UNBIND
};

/* Where the entry being built stood before an op (or a group), so that
 * one refused for want of memory or a failed write leaves it, and the
 * accounting, as it was. */
typedef struct rs__journal_mark {
    size_t entry_len, pend_len, entry_cap, pend_cap;
} rs__journal_mark;

/* The journal's state: an observer, registered while the store is
 * durable (or being opened as one). */
typedef struct rs__journal {
    rs__observer obs; /* first: found on st->obs by its name */
    int jfd;          /* the journal, -1 until an open installs one */
    char *base;       /* BASE of BASE.snap and BASE.journal */
    rs_sync sync;
    uint64_t snap_id; /* the snapshot the journal follows */
    uint64_t jlen;    /* bytes in the journal file */
    int cfd;          /* a compaction's next journal (durable.c) */
    int old_jfd;      /* a replaced journal, freed a step at a time */
    int lockfd;       /* BASE.lock, flock()ed while durable */
    uint64_t old_len;
    uint64_t clen;      /* its length */
    uint64_t csynced;   /* of which fdatasync()ed */
    uint64_t cstart;    /* the journal's length when it began */
    uint64_t cwb;       /* how much of that has had its writeback begun */
    uint64_t cwb_next;  /* the same, of the next journal */
    char *ctmp;         /* its name, BASE.journal.tmp-<16 hex> */
    bool dir_unsynced;  /* a compaction's rename may not be on disk yet */
    uint64_t ccopied;   /* bytes of the journal copied into it so far */
    uint32_t cnames;    /* names it declares in its head */
    uint64_t last_sync; /* CLOCK_MONOTONIC ns of the last fdatasync */
    uint8_t *jnames;    /* per name id: declared in this journal file */
    uint32_t jnames_cap;
    uint32_t jclasses; /* classes the journal knows (numbered 0..) */
    rs__buf entry;     /* the ops of the entry being built */
    uint32_t entry_ops;
    rs__buf pend; /* name ids (u32) the entry being built declares */
    bool held;    /* a group is open: its ops gather in one entry */
    rs__journal_mark hold_mark; /* the buffers when the group began */
    bool jbroken; /* a failed write could not be cut off: refuse */
} rs__journal;

/* The journal, or NULL when the store is not durable. */
rs__journal *rs__journal_of(const rs_store *st);
/* Create and register the state for BASE (durable.c's open), or close the
 * files and free it (the store closes, or an open failed). */
rs_status rs__journal_new(rs_store *st, rs__journal **out);
void rs__journal_free(rs_store *st);

/* Groups (txn.c): while held, changes gather in one entry; release writes
 * it and ends the hold (RS_OK, or the failure: the group then rolls
 * back), drop forgets it, and ends the hold if end (the group is over).
 * Each is a no-op on a store that is not durable. */
void rs__journal_hold(rs_store *st);
rs_status rs__journal_release(rs_store *st);
void rs__journal_drop(rs_store *st, bool end);

/* BASE + ext, allocated (NULL: out of memory), and its free. */
char *rs__journal_path(rs_store *st, const char *base, const char *ext);
void rs__journal_path_free(rs_store *st, char *p);

/* A journal's first bytes for snapshot id: the header, then one entry
 * declaring every attribute name the store knows. */
rs_status rs__journal_head(rs_store *st, uint64_t id, rs__buf *b);
/* The journal file of this store is now fd, len bytes, following snapshot
 * id; names below n_declared are declared in it. */
void rs__journal_install(rs_store *st, rs__journal *p, int fd, uint64_t len,
                         uint64_t id, uint32_t n_declared);
/* Create BASE.journal afresh for snapshot id (fsynced, locked, renamed
 * into place) and journal into it. */
rs_status rs__journal_create(rs_store *st, rs__journal *p, uint64_t id);
/* fdatasync the journal if the policy (or force) says so. */
rs_status rs__journal_fsync(rs_store *st, rs__journal *p, bool force);
/* Lock a journal this store just created (before it gets its name). */
int rs__journal_lock_new(int fd);

/* Reading: the one entry reader, which replay, inspection, the opener and
 * repair share.  rs__journal_walk_next() gives each whole entry in turn: RS_OK,
 * RS_DONE at the end (a torn last entry ends it), or RS_EFORMAT for
 * damage, said in the store's message with file, entry and byte. */
typedef struct rs__journal_walk {
    const char *path;
    const uint8_t *buf;
    size_t len;
    size_t off; /* where the next entry starts */
    size_t k;   /* entries read so far */
} rs__journal_walk;

typedef struct rs__journal_entry {
    const uint8_t *payload;
    uint32_t n;
    size_t off, k;                /* where it starts, its number */
    size_t ops[RS__J_UNBIND + 1]; /* its ops by kind */
} rs__journal_entry;

rs__journal_walk rs__journal_walk_at(const char *path, const uint8_t *buf,
                                     size_t len);
rs_status rs__journal_walk_next(rs_store *st, rs__journal_walk *w,
                                rs__journal_entry *e);
/* Check a journal's header (buf holds RS__J_HEADER bytes): RS_OK and *id,
 * the snapshot it follows, or RS_EFORMAT. */
rs_status rs__journal_check_header(rs_store *st, const char *path,
                                   const uint8_t *buf, uint64_t *id);
/* Write a journal header for snapshot id into h. */
void rs__journal_put_header(uint8_t h[RS__J_HEADER], uint64_t snap_id);

/* Replay: what it knows, the classes by journal number, the names by id. */
typedef struct rs__journal_replay_state {
    rs__loaded *l; /* cmaps: snapshot classes, then CLASS ops */
    char **names;  /* by journal name id (owned copies), NULL if unknown */
    uint32_t n_names;
    rs_named nv[RS_MAX_FIELDS + RS_ATTRS_PER_RECORD + 1];
    rs_store *scratch;  /* parses CLASS texts */
    rs_load_info *info; /* fields dropped by classes the journal declares */
} rs__journal_replay_state;

/* Apply the entries of the journal in buf from start on (earlier ones
 * only for their names): *good is where the whole entries end, *n_entries
 * how many were applied, *damaged whether a refusal is the framing's (a
 * repair mends it) rather than an op's. */
rs_status rs__journal_replay(rs_store *st, rs__journal_replay_state *rp,
                             const char *path, const uint8_t *buf, size_t len,
                             size_t start, size_t *good, size_t *n_entries,
                             bool *damaged);
void rs__journal_replay_free(rs_store *st, rs__journal_replay_state *rp);

#endif
