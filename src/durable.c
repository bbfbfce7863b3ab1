/*
 * durable.c: durable stores: opening one (snapshot + journal), compaction,
 * repair, and saving as callers see it.
 *
 * Compaction: rs_save_begin(st, NULL) notes the journal's length L and
 * writes a snapshot whose header says "follows journal J at offset L".
 * Writers go on, journaling into J.  The next journal grows beside it in
 * BASE.journal.tmp-<random> (created exclusively, locked): its header (the
 * snapshot's id), the names known at L,
 * then, at every save step, J's bytes since the last step.  The finishing
 * steps (snapshot.c) put J on disk up to L, rename the snapshot into place,
 * put the next journal on disk and rename it over J.  A crash between the
 * two renames leaves the new snapshot and J: the opener replays J from L
 * (earlier entries only for their names) and compacts again.
 *
 * Opening: BASE.lock and the journal itself locked (flock) first, one
 * store per files (the journal's lock holds even if BASE.lock is unlinked;
 * every journal this store creates is locked before it gets its name);
 * then the snapshot, the journal from the offset that matches the snapshot
 * (journal_plan() lists the states a crash can leave, and refuses the ones
 * only loss explains), and a compaction at once when the journal was stale
 * or a class changed.  The first open of a BASE puts an empty journal in
 * place before its snapshot, whose header then says "a journal of my own
 * follows me" (prev_id = its id), so a journal lost later is seen.
 *
 * Loading: rs_load() and rs_load_buffer() refuse a store that anything
 * observes (durable, in a group, saving); the snapshot module does the
 * reading.
 *
 * Saving: rs_save_begin(st, path) refuses a durable store's own files
 * and a group; rs_save_begin(st, NULL) is the compaction above, which
 * hands the saver (snapshot.c) its finishing steps.
 */
#include "journal.h"
#include "store.h"
#include "txn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Take an exclusive flock on fd, an open file of path, without waiting;
 * then make sure path still names that file: a file unlinked or replaced
 * between the open and the lock would be a lock on nothing.  RS_OK; RS_EIO
 * (another store holds it, or not a regular file); RS_DONE if path no
 * longer names the file (open it again). */
static rs_status lock_fd(rs_store *st, int fd, const char *path)
{
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        return rs__err(st, RS_EIO, "%s: %s", path,
                       errno == EWOULDBLOCK ? "another store (in this or "
                                              "another process) has these "
                                              "files open"
                                            : strerror(errno));
    }
    struct stat a, b;
    if (fstat(fd, &a) != 0 || lstat(path, &b) != 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino) {
        return RS_DONE; /* replaced under us: open it again */
    }
    if (!S_ISREG(a.st_mode)) {
        return rs__err(st, RS_EIO, "%s: not a regular file", path);
    }
    return RS_OK;
}

/* Open and lock path (created if create): *fd, or -1 if it does not exist
 * and create is false.  The lock is held until fd is closed. */
static rs_status lock_path(rs_store *st, const char *path, bool create, int *fd)
{
    *fd = -1;
    for (int tries = 0; tries < 8; tries++) {
        int f = open(path,
                     O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW |
                         (create ? O_CREAT : 0),
                     0644);
        if (f < 0) {
            if (errno == ENOENT && !create) {
                return RS_OK;
            }
            return rs__err(st, RS_EIO, "%s: %s", path, strerror(errno));
        }
        rs_status rc = lock_fd(st, f, path);
        if (rc == RS_OK) {
            *fd = f;
            return RS_OK;
        }
        close(f);
        if (rc != RS_DONE) {
            return rc;
        }
    }
    return rs__err(st, RS_EIO,
                   "%s: replaced again and again while being "
                   "locked",
                   path);
}

/* RS_EINVAL if path names one of the durable store's own files (saving
 * over them would leave files that cannot be opened), else RS_OK. */
static rs_status own_file(rs_store *st, const char *path)
{
    rs__journal *p = rs__journal_of(st);
    if (p == NULL || p->base == NULL) {
        return RS_OK;
    }
    struct stat t, o;
    if (lstat(path, &t) != 0) {
        return RS_OK; /* a new file: cannot be one of ours */
    }
    char *snap = rs__journal_path(st, p->base, ".snap");
    bool same = snap && lstat(snap, &o) == 0 && o.st_dev == t.st_dev &&
                o.st_ino == t.st_ino;
    rs__journal_path_free(st, snap);
    int fds[3] = {p->jfd, p->lockfd, p->cfd};
    for (int i = 0; i < 3 && !same; i++) {
        same = fds[i] >= 0 && fstat(fds[i], &o) == 0 && o.st_dev == t.st_dev &&
               o.st_ino == t.st_ino;
    }
    if (same) {
        return rs__err(st, RS_EINVAL,
                       "%s: this is one of the durable "
                       "store's own files (%s.snap, .journal, .lock); "
                       "rs_save_begin(st, NULL) compacts them",
                       path, p->base);
    }
    return RS_OK;
}

/* What an open does with the journal it found. */
typedef struct jplan {
    bool use;     /* replay it (else start a new one) */
    bool stale;   /* it is the one a compaction cut short replaced */
    size_t start; /* replay from here (earlier entries: names only) */
    uint64_t jid; /* the snapshot it follows */
} jplan;

/* Whether the journal in buf holds nothing but name declarations (so it
 * carries no change anyone was told about).  RS_OK with *empty, or the
 * framing error. */
static rs_status journal_empty(rs_store *st, const char *path,
                               const uint8_t *buf, size_t len, bool *empty)
{
    rs__journal_walk w = rs__journal_walk_at(path, buf, len);
    rs__journal_entry e;
    rs_status rc;
    *empty = true;
    while (*empty && (rc = rs__journal_walk_next(st, &w, &e)) == RS_OK) {
        *empty = e.ops[RS__J_NAME] ==
                 e.ops[RS__J_CLASS] + e.ops[RS__J_NAME] + e.ops[RS__J_INSERT] +
                     e.ops[RS__J_REMOVE] + e.ops[RS__J_SET] +
                     e.ops[RS__J_BIND] + e.ops[RS__J_UNBIND];
    }
    return *empty && rc != RS_DONE ? rc : RS_OK;
}

/* Decide from the snapshot l (have_snap: there is one) and the journal
 * (exists; buf, len) what the open replays.  Every case the files can be
 * in after a crash at any point is accepted; what only loss or damage
 * explains is RS_EFORMAT:
 *   - the journal follows the snapshot (its header names the snapshot's
 *     id): replay it all;
 *   - the journal is the one a compaction replaced, cut short between its
 *     two renames (its id is the snapshot's prev_id): replay it from the
 *     snapshot's prev_off, which it must reach (it was on disk that far
 *     before the snapshot was renamed);
 *   - no journal, and the snapshot does not expect one (a plain save, or
 *     none): start one;
 *   - a journal with no changes that follows another snapshot, beside a
 *     snapshot that expects none: an open cut short before its snapshot's
 *     rename left it; start again.
 * A snapshot written by a durable store (prev_id set) expects a journal:
 * one missing or shorter than its header means acknowledged changes were
 * lost, and the open refuses rather than compact them away for good. */
static rs_status journal_plan(rs_store *st, const char *jpath, const char *snap,
                              bool have_snap, const rs__loaded *l, bool exists,
                              const uint8_t *buf, size_t len, jplan *out)
{
    memset(out, 0, sizeof *out);
    bool expects = have_snap && l->prev_id != 0;
    if (!exists) {
        if (expects) {
            return rs__err(st, RS_EFORMAT,
                           "%s: missing, yet %s was written "
                           "by a durable store and a journal follows it: "
                           "the changes acknowledged since are gone",
                           jpath, snap);
        }
        return RS_OK;
    }
    if (len < RS__J_HEADER) {
        return rs__err(st, RS_EFORMAT,
                       "%s: %zu bytes, shorter than a "
                       "journal's %d-byte header (a journal is written whole "
                       "and renamed into place, so it was damaged)",
                       jpath, len, RS__J_HEADER);
    }
    rs_status rc = rs__journal_check_header(st, jpath, buf, &out->jid);
    if (rc != RS_OK) {
        return rc;
    }
    if (out->jid == l->id) {
        out->use = true;
        out->start = RS__J_HEADER;
        return RS_OK;
    }
    if (expects && l->prev_id != l->id && out->jid == l->prev_id &&
        l->prev_off >= RS__J_HEADER) {
        if (len < l->prev_off) {
            return rs__err(st, RS_EFORMAT,
                           "%s: %zu bytes, yet %s holds it up "
                           "to byte %llu: the journal lost entries",
                           jpath, len, snap, (unsigned long long)l->prev_off);
        }
        out->use = true;
        out->stale = true;
        out->start = (size_t)l->prev_off;
        return RS_OK;
    }
    bool empty;
    if ((rc = journal_empty(st, jpath, buf, len, &empty)) != RS_OK) {
        return rc;
    }
    if (empty && !expects) {
        return RS_OK;
    }
    if (!have_snap) {
        return rs__err(st, RS_EFORMAT,
                       "%s: follows snapshot %016llx, and %s "
                       "is missing",
                       jpath, (unsigned long long)out->jid, snap);
    }
    return rs__err(st, RS_EFORMAT,
                   "%s: follows snapshot %016llx, not %s "
                   "(%016llx)",
                   jpath, (unsigned long long)out->jid, snap,
                   (unsigned long long)l->id);
}

/* Whether name is prefix + ".tmp-" + 16 hex digits: a temporary file
 * rs__sys_tmp_create() made beside prefix. */
static bool is_tmp_of(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || strncmp(name + n, ".tmp-", 5) != 0 ||
        strlen(name + n + 5) != 16) {
        return false;
    }
    for (const char *c = name + n + 5; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Remove the temporary snapshots and journals a crashed save or
 * compaction of BASE left (copies of what the files hold, never the only
 * one).  Called with BASE's locks held, so no live store is writing them.
 * Best effort: a leftover only costs disk. */
static void remove_leftovers(const char *base)
{
    char dirname[4096];
    const char *slash = strrchr(base, '/');
    const char *leaf = slash ? slash + 1 : base;
    size_t dn = slash ? (size_t)(slash - base) : 0;
    if (dn + 2 > sizeof dirname || strlen(leaf) + 9 > 256) {
        return;
    }
    if (slash == NULL) {
        strcpy(dirname, ".");
    } else if (dn == 0) {
        strcpy(dirname, "/");
    } else {
        memcpy(dirname, base, dn);
        dirname[dn] = '\0';
    }
    char snap[256], jrnl[256];
    snprintf(snap, sizeof snap, "%s.snap", leaf);
    snprintf(jrnl, sizeof jrnl, "%s.journal", leaf);
    int dfd = open(dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d == NULL) {
        if (dfd >= 0) {
            close(dfd);
        }
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (is_tmp_of(e->d_name, snap) || is_tmp_of(e->d_name, jrnl)) {
            (void)unlinkat(dfd, e->d_name, 0);
        }
    }
    closedir(d);
}

static bool store_empty(const rs_store *st)
{
    for (uint32_t i = 0; i < st->n_classes; i++) {
        if (st->classes[i]->n_live > 0) {
            return false;
        }
    }
    return true;
}

rs_status rs_durable_open(rs_store *st, const char *base, rs_sync sync,
                          rs_load_info *info)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (base == NULL || (unsigned)sync > RS_SYNC_NEVER) {
        return rs__err(st, RS_EINVAL, "rs_durable_open: bad argument");
    }
    if (rs__journal_of(st) || rs__txn_open(st) || rs__snapshot_saver_of(st)) {
        return rs__err(st, RS_EINVAL,
                       "rs_durable_open: the store is already "
                       "durable, saving or in a group");
    }
    if (!store_empty(st)) {
        return rs__err(st, RS_EINVAL,
                       "rs_durable_open: the store must hold "
                       "no records");
    }
    rs__journal *p;
    if (rs__journal_new(st, &p) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory");
    }
    char *snap = rs__journal_path(st, base, ".snap");
    char *jpath = rs__journal_path(st, base, ".journal");
    p->base = rs__journal_path(st, base, "");
    uint8_t *sbuf = NULL, *jbuf = NULL;
    size_t slen = 0, jlen = 0;
    rs__loaded l;
    memset(&l, 0, sizeof l);
    l.first_new_class = st->n_classes;
    rs__shape_mark(&st->attrs, &l.amark);
    rs__journal_replay_state rp;
    memset(&rp, 0, sizeof rp);
    rs_status rc = snap && jpath && p->base ? RS_OK
                                            : rs__err(st, RS_ENOMEM,
                                                      "out of "
                                                      "memory");
    if (info) {
        memset(info, 0, sizeof *info);
    }
    /* 0. One store at a time on these files: BASE.lock, and the journal
     * itself, each held (flock) until the store closes; the kernel lets
     * go if the process dies.  The journal's lock is the one that cannot
     * be taken away: BASE.lock may be unlinked under a live store, but
     * the journal it writes to cannot be replaced without losing the data
     * (and a snapshot that expects it then says so). */
    int jfd0 = -1;
    if (rc == RS_OK) {
        char *lock = rs__journal_path(st, base, ".lock");
        rc = lock ? lock_path(st, lock, true, &p->lockfd)
                  : rs__err(st, RS_ENOMEM, "out of memory");
        rs__journal_path_free(st, lock);
    }
    if (rc == RS_OK) {
        rc = lock_path(st, jpath, false, &jfd0);
    }
    /* 1. The snapshot.  (Files an older library wrote may hold records
     * with an empty key: they load, and only new ones are refused.) */
    st->reading_files = true;
    bool have_snap = false;
    if (rc == RS_OK) {
        rc = rs__sys_read_file(st, snap, &sbuf, &slen);
        if (rc == RS_OK) {
            have_snap = true;
            rc = rs__snapshot_load(st, sbuf, slen, snap, info, &l);
        } else if (rc == RS_ENOTFOUND) {
            rc = RS_OK;
        }
    }
    /* 2. The journal: what it continues, and from where. */
    jplan plan;
    memset(&plan, 0, sizeof plan);
    size_t good = 0, n_entries = 0;
    if (rc == RS_OK && jfd0 >= 0) {
        rc = rs__sys_read_fd(st, jfd0, jpath, &jbuf, &jlen);
    }
    bool damaged = false; /* the journal's framing: a repair mends it */
    if (rc == RS_OK) {
        rc = journal_plan(st, jpath, snap, have_snap, &l, jfd0 >= 0, jbuf, jlen,
                          &plan);
        damaged = rc == RS_EFORMAT;
    }
    if (rc == RS_OK && plan.use) {
        rc = rs_store_open(st->alloc, st->alloc_ud, &rp.scratch);
        if (rc == RS_OK) {
            rp.l = &l;
            rp.info = info;
            rc = rs__journal_replay(st, &rp, jpath, jbuf, jlen, plan.start,
                                    &good, &n_entries, &damaged);
        } else {
            rc = rs__err(st, RS_ENOMEM, "out of memory");
        }
    }
    if (rc == RS_EFORMAT && damaged) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs__err(st, rc,
                "%s (nothing was changed; rs_durable_repair() or "
                "`roster repair %s` keeps what is whole and moves the "
                "journal aside)",
                msg, base);
    }
    st->reading_files = false;
    /* 3. Does the journal's numbering match the store's?  If not (a class
     * changed, or the store declares classes in another order), or the
     * journal followed an older snapshot, compact now. */
    bool compact = plan.stale || !plan.use;
    for (uint32_t i = 0; rc == RS_OK && i < l.n_cmaps; i++) {
        if (!l.cmaps[i].identity || l.cmaps[i].c->id != i + 1) {
            compact = true;
        }
    }
    if (rc == RS_OK && l.n_cmaps != st->n_classes) {
        compact = true; /* the store declares classes the files lack */
    }
    if (rc == RS_OK && !compact) {
        /* Only a torn last entry lies past good: cut it off. */
        if (good < jlen &&
            (ftruncate(jfd0, (off_t)good) != 0 || fdatasync(jfd0) != 0)) {
            rc = rs__err(st, RS_EIO, "%s: %s", jpath, strerror(errno));
        } else {
            p->jfd = jfd0;
            jfd0 = -1;
            p->jlen = good;
            p->snap_id = l.id;
            p->jclasses = l.n_cmaps;
            p->last_sync = rs__sys_now_ns();
        }
    }
    p->sync = sync;
    if (rc == RS_OK && compact && plan.use) {
        /* A fresh snapshot of what was loaded, then a fresh journal.  The
         * snapshot's header names the journal just replayed and where it
         * ends, so a crash before the fresh journal is in place leaves
         * this snapshot beside that journal, which then adds nothing.  It
         * will point into this journal: what the journal holds must be on
         * disk first (a previous process may have written it under
         * RS_SYNC_NEVER). */
        rs_saver *sv;
        if (fdatasync(jfd0) != 0) {
            rc = rs__err(st, RS_EIO, "%s: %s", jpath, strerror(errno));
        }
        if (rc == RS_OK) {
            rc = rs__snapshot_save_open(st, snap, plan.jid, good, &sv);
        }
        if (rc == RS_OK) {
            uint64_t id = rs__snapshot_saver_id(sv);
            rc = rs_save_finish(sv, NULL);
            if (rc == RS_OK) {
                rc = rs__journal_create(st, p, id);
                p->jclasses = st->n_classes;
            }
        }
    } else if (rc == RS_OK && compact) {
        /* No journal to continue: the files start here.  The new journal
         * goes into place before the snapshot does, and the snapshot says
         * a journal of its own follows it (prev_id = its id), so that from
         * the moment changes can be acknowledged a missing journal is seen
         * as the loss it is.  A crash between the two renames leaves a
         * journal with no changes that follows no snapshot on disk: the
         * next open finds nothing in it and starts again. */
        rs_saver *sv;
        rc = rs__snapshot_save_open(st, snap, RS__SNAPSHOT_PREV_SELF,
                                    RS__J_HEADER, &sv);
        if (rc == RS_OK) {
            rc = rs__journal_create(st, p, rs__snapshot_saver_id(sv));
            if (rc == RS_OK) {
                p->jclasses = st->n_classes;
                rc = rs_save_finish(sv, NULL);
            } else {
                rs_save_abort(sv);
            }
        }
    }
    if (jfd0 >= 0) {
        close(jfd0); /* replaced: the new journal is locked in its place */
    }
    if (rc == RS_OK) {
        /* Only once open: a refused open changes no file at all. */
        remove_leftovers(base);
    }
    if (rc == RS_OK && info) {
        info->n_records = 0;
        for (uint32_t i = 0; i < st->n_classes; i++) {
            info->n_records += st->classes[i]->n_live;
        }
        info->n_classes = st->n_classes;
    }
    rs__journal_replay_free(st, &rp);
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs__snapshot_load_undo(st, &l); /* no-op if nothing was loaded */
        rs__journal_free(st);           /* files, lock, BASE: not durable */
        rs__err(st, rc, "%s", msg);
        if (info) {
            memset(info, 0, sizeof *info);
        }
    }
    rs__snapshot_loaded_free(st, &l);
    if (sbuf) {
        rs__free(st, RS_MEM_META, sbuf, slen ? slen : 1);
    }
    if (jbuf) {
        rs__free(st, RS_MEM_META, jbuf, jlen ? jlen : 1);
    }
    rs__journal_path_free(st, snap);
    rs__journal_path_free(st, jpath);
    return rc;
}

/* The first entry of the journal in buf that is not whole (its framing,
 * checksum or ops), from the header on: *good is where it starts (len if
 * none; the start of a torn last entry counts as the end), *n_whole the
 * entries before it.  RS_OK if the journal is whole up to *good and only a
 * torn entry may follow, else RS_EFORMAT describing the damage. */
static rs_status first_damage(rs_store *st, const char *path,
                              const uint8_t *buf, size_t len, size_t *good,
                              size_t *n_whole)
{
    rs__journal_walk w = rs__journal_walk_at(path, buf, len);
    rs__journal_entry e;
    rs_status rc;
    while ((rc = rs__journal_walk_next(st, &w, &e)) == RS_OK) {
    }
    *good = w.off < len ? w.off : len;
    *n_whole = w.k;
    return rc == RS_DONE ? RS_OK : rc;
}

/* Write bytes as path's new content: a temporary file beside it, synced,
 * renamed over it, the directory synced. */
static rs_status replace_file(rs_store *st, const char *path,
                              const uint8_t *bytes, size_t n)
{
    size_t cap = strlen(path) + RS__SYS_TMP_EXTRA + 1;
    char *tmp = rs__alloc(st, RS_MEM_META, cap);
    if (tmp == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory");
    }
    rs_status rc = RS_OK;
    int fd = rs__sys_tmp_create(path, tmp);
    if (fd < 0 || rs__sys_write_all(fd, bytes, n, 0) != 0 ||
        fdatasync(fd) != 0 || rename(tmp, path) != 0 ||
        rs__sys_fsync_dir(path) != 0) {
        rc = rs__err(st, RS_EIO, "%s: writing the repaired journal: %s", path,
                     strerror(errno));
        if (fd >= 0) {
            unlink(tmp);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    rs__free(st, RS_MEM_META, tmp, cap);
    return rc;
}

/* Give path a second name, base.journal.damaged-N with the first N free
 * (written into aside, cap bytes), so that replacing path loses nothing. */
static rs_status keep_aside(rs_store *st, const char *path, char *aside,
                            size_t cap)
{
    for (unsigned n = 1; n < 100000; n++) {
        int w = snprintf(aside, cap, "%s.damaged-%u", path, n);
        if (w < 0 || (size_t)w >= cap) {
            return rs__err(st, RS_EIO, "%s: name too long", path);
        }
        if (link(path, aside) == 0) {
            if (rs__sys_fsync_dir(aside) != 0) {
                return rs__err(st, RS_EIO, "%s: %s", aside, strerror(errno));
            }
            return RS_OK;
        }
        if (errno != EEXIST) {
            return rs__err(st, RS_EIO, "%s: cannot keep a copy as %s: %s", path,
                           aside, strerror(errno));
        }
    }
    return rs__err(st, RS_EIO, "%s: too many damaged copies beside it", path);
}

rs_status rs_durable_repair(rs_store *st, const char *base,
                            rs_repair_info *info)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs_repair_info dummy;
    if (info == NULL) {
        info = &dummy;
    }
    memset(info, 0, sizeof *info);
    if (base == NULL || base[0] == '\0') {
        return rs__err(st, RS_EINVAL, "rs_durable_repair: no base name");
    }
    if (rs__journal_of(st) || !store_empty(st)) {
        return rs__err(st, RS_EINVAL,
                       "rs_durable_repair: the store must be "
                       "empty and not durable");
    }
    char *snap = rs__journal_path(st, base, ".snap");
    char *jpath = rs__journal_path(st, base, ".journal");
    char *lock = rs__journal_path(st, base, ".lock");
    int lockfd = -1, jfd = -1;
    uint8_t *sbuf = NULL, *jbuf = NULL;
    size_t slen = 0, jlen = 0;
    rs__loaded l;
    memset(&l, 0, sizeof l);
    bool have_snap = false;
    struct stat sb;
    rs_status rc =
        snap && jpath && lock ? RS_OK : rs__err(st, RS_ENOMEM, "out of memory");
    if (rc == RS_OK && lstat(snap, &sb) != 0 && lstat(jpath, &sb) != 0) {
        /* Nothing to repair, and no lock file to leave behind. */
        rc = rs__err(st, RS_ENOTFOUND, "%s: neither %s nor %s exists", base,
                     snap, jpath);
    }
    if (rc == RS_OK) {
        rc = lock_path(st, lock, true, &lockfd);
    }
    if (rc == RS_OK) {
        rc = lock_path(st, jpath, false, &jfd);
    }
    if (rc == RS_OK) {
        rc = rs__sys_read_file(st, snap, &sbuf, &slen);
        rs_file_info fi;
        if (rc == RS_OK) {
            have_snap = true;
            rc = rs__snapshot_inspect(st, sbuf, slen, snap, &fi);
            if (rc == RS_EFORMAT) {
                char msg[sizeof st->err];
                memcpy(msg, st->err, sizeof msg);
                rs__err(st, rc,
                        "%s (the snapshot is damaged; a repair "
                        "mends only the journal)",
                        msg);
            }
            l.id = fi.id;
            l.prev_id = fi.prev_id;
            l.prev_off = fi.prev_off;
        } else if (rc == RS_ENOTFOUND) {
            rc = RS_OK;
        }
    }
    if (rc == RS_OK && jfd >= 0) {
        rc = rs__sys_read_fd(st, jfd, jpath, &jbuf, &jlen);
    }
    jplan plan;
    size_t good = 0;
    uint8_t head[RS__J_HEADER];
    const uint8_t *keep = NULL;
    size_t held = 0; /* journal bytes the snapshot holds: not dropped */
    if (rc == RS_OK) {
        rc = journal_plan(st, jpath, snap, have_snap, &l, jfd >= 0, jbuf, jlen,
                          &plan);
        if (rc == RS_OK && plan.use) {
            rc =
                first_damage(st, jpath, jbuf, jlen, &good, &info->kept_entries);
            keep = jbuf;
            if (rc == RS_EFORMAT && plan.stale && good < plan.start) {
                /* The damage lies in the part the snapshot already holds
                 * (a compaction cut short between its renames): a prefix
                 * ending there would be a journal shorter than the
                 * snapshot says, which the open refuses.  What is whole
                 * of the rest cannot be framed past the damage: an empty
                 * journal that follows the snapshot. */
                rs__journal_put_header(head, l.id);
                keep = head;
                held = plan.start;
                good = RS__J_HEADER;
                info->kept_entries = 0;
            }
        } else if (rc == RS_EFORMAT) {
            /* The journal cannot follow the snapshot (missing, short, or
             * another snapshot's): an empty one that follows it. */
            rs__journal_put_header(head, have_snap ? l.id : 0);
            keep = head;
            good = RS__J_HEADER;
        }
    }
    if (rc == RS_EFORMAT && keep != NULL) {
        snprintf(info->reason, sizeof info->reason, "%s", st->err);
        rs__clear_err(st);
        info->kept_bytes = good;
        info->dropped_bytes = keep == jbuf ? jlen - good : jlen - held;
        rc = jfd >= 0 ? keep_aside(st, jpath, info->aside, sizeof info->aside)
                      : RS_OK;
        if (rc == RS_OK) {
            rc = replace_file(st, jpath, keep, good);
        }
        info->repaired = rc == RS_OK;
    }
    if (jfd >= 0) {
        close(jfd);
    }
    if (lockfd >= 0) {
        close(lockfd);
    }
    if (sbuf) {
        rs__free(st, RS_MEM_META, sbuf, slen ? slen : 1);
    }
    if (jbuf) {
        rs__free(st, RS_MEM_META, jbuf, jlen ? jlen : 1);
    }
    rs__journal_path_free(st, snap);
    rs__journal_path_free(st, jpath);
    rs__journal_path_free(st, lock);
    if (rc != RS_OK) {
        char aside[sizeof info->aside];
        memcpy(aside, info->aside, sizeof aside);
        memset(info, 0, sizeof *info);
        memcpy(info->aside, aside, sizeof aside); /* a copy was made */
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Compaction                                                                */
static rs_status compact_copy(rs_store *st);
static rs_status compact_sync(rs_store *st);
static rs_status compact_finish(rs_store *st, rs_saver *sv);
static void compact_abort(rs_store *st);

/* Before the snapshot's rename: the journal up to the offset the snapshot
 * names must be on disk. */
static int compact_journal_sync(rs_store *st)
{
    return fdatasync(rs__journal_of(st)->jfd);
}

static const rs__snapshot_steps compact_steps = {
    .copy = compact_copy,
    .journal_sync = compact_journal_sync,
    .next_sync = compact_sync,
    .finish = compact_finish,
    .abort = compact_abort,
};

/* ------------------------------------------------------------------------ */

static rs_status compact_begin(rs_store *st, rs_saver **out)
{
    rs__journal *p = rs__journal_of(st);
    if (p == NULL || p->jfd < 0) {
        return rs__err(st, RS_EINVAL,
                       "rs_save_begin: no path, and the store "
                       "is not durable");
    }
    if (p->jbroken) {
        return rs__err(st, RS_EIO, "%s.journal: unusable; reopen the store",
                       p->base);
    }
    char *snap = rs__journal_path(st, p->base, ".snap");
    char *jpath = rs__journal_path(st, p->base, ".journal");
    bool made_ctmp = p->ctmp == NULL;
    if (p->ctmp == NULL && jpath) {
        /* Kept until the store closes, so an abort needs no memory; each
         * compaction writes a new random suffix into it. */
        size_t cap = strlen(jpath) + RS__SYS_TMP_EXTRA + 1;
        p->ctmp = rs__alloc(st, RS_MEM_META, cap);
        if (p->ctmp) { /* full length from the start: freed by strlen() */
            snprintf(p->ctmp, cap, "%s.tmp-%016x", jpath, 0u);
        }
    }
    rs__buf b = {0};
    rs_saver *sv = NULL;
    rs_status rc =
        snap && jpath && p->ctmp
            ? rs__snapshot_save_open(st, snap, p->snap_id, p->jlen, &sv)
            : rs__err(st, RS_ENOMEM, "out of memory");
    /* The next journal starts now, beside the save: its head (the new
     * snapshot's id, the names known now), then, step by step, what the
     * current journal receives from here on. */
    if (rc == RS_OK) {
        /* From here, freeing it cleans up. */
        rs__snapshot_saver_steps(sv, &compact_steps);
        rc = rs__journal_head(st, rs__snapshot_saver_id(sv), &b);
    }
    if (rc == RS_OK) {
        p->cfd = rs__sys_tmp_create(jpath, p->ctmp);
        if (p->cfd < 0 || rs__journal_lock_new(p->cfd) != 0 ||
            rs__sys_write_all(p->cfd, b.p, b.len, 0) != 0) {
            rc = rs__err(st, RS_EIO, "%s: the next journal: %s", jpath,
                         strerror(errno));
        }
    }
    if (rc == RS_OK) {
        p->clen = b.len;
        p->ccopied = p->jlen;
        p->cnames = st->attrs.n_names;
        p->cstart = p->jlen;
        p->cwb = 0;
        p->cwb_next = p->csynced = 0;
        *out = sv;
    } else if (sv) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs_save_abort(sv); /* removes the new journal too */
        rs__err(st, rc, "%s", msg);
    }
    if (rc != RS_OK && made_ctmp) {
        /* A failed call leaves the accounting as it found it. */
        rs__journal_path_free(st, p->ctmp);
        p->ctmp = NULL;
    }
    rs__codec_free(st, &b);
    rs__journal_path_free(st, snap);
    rs__journal_path_free(st, jpath);
    return rc;
}

static rs_status compact_copy(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
#ifdef SYNC_FILE_RANGE_WRITE
    /* The journal up to the snapshot's moment must be on disk before the
     * snapshot's rename (snapshot.c, PH_JOURNAL).  Start its writeback 256
     * KiB a step, so that fdatasync then finds little left, without
     * flooding the disk queue (which would stall the save's own writes). */
    if (p->cwb < p->cstart) {
        uint64_t n = p->cstart - p->cwb < (256u << 10) ? p->cstart - p->cwb
                                                       : (256u << 10);
        (void)sync_file_range(p->jfd, (off_t)p->cwb, (off_t)n,
                              SYNC_FILE_RANGE_WRITE);
        p->cwb += n;
    }
#endif
    uint8_t chunk[16384];
    while (p->ccopied < p->jlen) {
        size_t n = p->jlen - p->ccopied < sizeof chunk
                       ? (size_t)(p->jlen - p->ccopied)
                       : sizeof chunk;
        ssize_t r = pread(p->jfd, chunk, n, (off_t)p->ccopied);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 ||
            rs__sys_write_all(p->cfd, chunk, (size_t)r, p->clen) != 0) {
            return rs__err(st, RS_EIO,
                           "%s.journal.tmp: copying the journal: "
                           "%s",
                           p->base, r == 0 ? "short read" : strerror(errno));
        }
        p->ccopied += (uint64_t)r;
        p->clen += (uint64_t)r;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    /* And the next journal's copy, so its fdatasync finds little left. */
    if (p->clen > p->cwb_next) {
        (void)sync_file_range(p->cfd, (off_t)p->cwb_next,
                              (off_t)(p->clen - p->cwb_next),
                              SYNC_FILE_RANGE_WRITE);
        p->cwb_next = p->clen;
    }
#endif
    return RS_OK;
}

static void compact_abort(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
    if (p && p->cfd >= 0) {
        close(p->cfd);
        p->cfd = -1;
        unlink(p->ctmp); /* named at the start: no memory needed here */
    }
}

static rs_status compact_sync(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
    rs_status rc = compact_copy(st);
    if (rc == RS_OK && fdatasync(p->cfd) != 0) {
        rc = rs__err(st, RS_EIO, "%s.journal.tmp: fdatasync: %s", p->base,
                     strerror(errno));
    }
    p->csynced = p->clen;
    return rc;
}

static rs_status compact_finish(rs_store *st, rs_saver *sv)
{
    rs__journal *p = rs__journal_of(st);
    char *path = rs__journal_path(st, p->base, ".journal");
    const char *tmp = p->ctmp;
    rs_status rc =
        path ? compact_copy(st) : rs__err(st, RS_ENOMEM, "out of memory");
    /* What arrived since the last sync must be on disk before the name. */
    if (rc == RS_OK && p->clen > p->csynced && fdatasync(p->cfd) != 0) {
        rc = rs__err(st, RS_EIO, "%s: fdatasync: %s", tmp, strerror(errno));
    }
    if (rc == RS_OK && rename(tmp, path) != 0) {
        rc = rs__err(st, RS_EIO,
                     "%s: %s (the snapshot is in place; the old "
                     "journal still applies)",
                     tmp, strerror(errno));
    }
    if (rc != RS_OK) {
        compact_abort(st);
    } else {
        /* Renamed: from here the new journal is the one a reopen reads,
         * whatever else fails, so it is the one to write to. */
        int fd = p->cfd;
        p->cfd = -1;
        rs__journal_install(st, p, fd, p->clen, rs__snapshot_saver_id(sv),
                            p->cnames);
        if (rs__sys_fsync_dir(path) != 0) {
            p->dir_unsynced = true; /* retried before the next change */
            rc = rs__err(st, RS_EIO,
                         "%s: fsync of its directory: %s (the "
                         "new journal is in use; changes wait until its "
                         "name is on disk)",
                         path, strerror(errno));
        }
    }
    rs__journal_path_free(st, path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Saving, as callers see it: a path, or the durable store's compaction       */
/* ------------------------------------------------------------------------ */

rs_status rs_save_begin(rs_store *st, const char *path, rs_saver **out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_save_begin: NULL argument");
    }
    *out = NULL; /* a caller may rs_save_abort() it whatever happens */
    if (rs__txn_open(st)) {
        /* A snapshot shows a moment between calls; inside a group there
         * is none that the group could not still take back. */
        return rs__err(st, RS_EINVAL,
                       "%s: a store cannot be saved inside a "
                       "group",
                       path ? path : "rs_save_begin");
    }
    if (path == NULL) {
        return compact_begin(st, out);
    }
    if (path[0] == '\0') {
        return rs__err(st, RS_EINVAL, "rs_save_begin: empty path");
    }
    /* The rename at the end replaces whatever has the name: never let it
     * be a device, a FIFO or a socket (as root, "/dev/null" would go). */
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
        return rs__err(st, RS_EINVAL,
                       "%s: exists and is not a regular file "
                       "(%s)",
                       path,
                       S_ISDIR(sb.st_mode)    ? "a directory"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                                              : "a device");
    }
    rs_status rc = own_file(st, path);
    return rc != RS_OK ? rc : rs__snapshot_save_open(st, path, 0, 0, out);
}

rs_status rs_save(rs_store *st, const char *path, rs_save_info *info)
{
    RS__NEED_STORE(st);
    rs_saver *sv;
    rs_status rc = rs_save_begin(st, path, &sv);
    if (rc != RS_OK) {
        return rc;
    }
    return rs_save_finish(sv, info);
}

/* ------------------------------------------------------------------------ */
/* Forcing the journal to disk, whatever the fsync policy                    */
/* ------------------------------------------------------------------------ */

rs_status rs_journal_sync(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs__journal *p = rs__journal_of(st);
    if (p == NULL || p->jfd < 0) {
        return rs__err(st, RS_EINVAL,
                       "rs_journal_sync: the store is not "
                       "durable");
    }
    return rs__journal_fsync(st, p, true);
}

/* ------------------------------------------------------------------------ */
/* Loading, as callers see it: never into a store anything observes        */
/* ------------------------------------------------------------------------ */

static rs_status load_check(rs_store *st)
{
    if (st->obs) { /* a journal, a group or a save hears of changes */
        return rs__err(st, RS_EINVAL,
                       "rs_load: not on a durable store, "
                       "inside a group or while a save runs (load before "
                       "rs_durable_open())");
    }
    return RS_OK;
}

/* Load a snapshot in memory (files an older library wrote may hold empty
 * keys: they load). */
static rs_status load_bytes(rs_store *st, const uint8_t *buf, size_t len,
                            const char *name, rs_load_info *info)
{
    rs__loaded l;
    st->reading_files = true;
    rs_status rc = rs__snapshot_load(st, buf, len, name, info, &l);
    st->reading_files = false;
    if (rc == RS_OK) {
        rs__snapshot_loaded_free(st, &l);
    }
    return rc;
}

rs_status rs_load_buffer(rs_store *st, const void *buf, size_t len,
                         const char *name, rs_load_info *info)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (buf == NULL && len > 0) {
        return rs__err(st, RS_EINVAL, "rs_load_buffer: NULL buffer");
    }
    rs_status rc = load_check(st);
    return rc != RS_OK
               ? rc
               : load_bytes(st, buf, len, name ? name : "(buffer)", info);
}

rs_status rs_load(rs_store *st, const char *path, rs_load_info *info)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (path == NULL) {
        return rs__err(st, RS_EINVAL, "rs_load: NULL path");
    }
    rs_status rc = load_check(st);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rc == RS_OK) {
        rc = rs__sys_read_file(st, path, &buf, &len);
    }
    if (rc != RS_OK) {
        return rc == RS_ENOTFOUND ? RS_EIO : rc;
    }
    rc = load_bytes(st, buf, len, path, info);
    rs__free(st, RS_MEM_META, buf, len ? len : 1);
    return rc;
}
