/*
 * journal.c: durable stores (snapshot + journal), atomic groups, and
 * compaction.
 *
 * BASE.journal:
 *
 *   header, 32 bytes: "RSTRJRNL", u32 version (1), u32 0, u64 the id of
 *   the snapshot it follows (0: none yet), u64 XXH3-64 of bytes 0..23;
 *   entries, each: u32 length, u64 XXH3-64 of the payload, the payload: one
 *   or more ops, each a kind byte, a varint length and a body of that many
 *   bytes:
 *     CLASS   varint length, the class's text form: the next class number
 *     NAME    varint id, varint length, bytes: attribute name id for the
 *             ops that follow (in this file)
 *     INSERT  varint class, the record image (persist.c)
 *     REMOVE  varint class, the key (by the key field's type)
 *     SET     varint class, the key, varint field, the value (by type)
 *     BIND    varint class, the key, varint name id, tagged value
 *     UNBIND  varint class, the key, varint name id
 *   Classes are numbered as in the snapshot (its CLASS blocks), then in
 *   CLASS order; records are named by their key.
 *
 * One call is one entry; a group is one entry, so a crash leaves all of a
 * group or none.  An entry is written with one pwrite() at the journal's
 * end; if that fails, the file is cut back to its previous length and the
 * call fails with nothing changed (the store's hook runs before it writes).
 *
 * Groups keep an undo log: for each change, what puts it back (remove the
 * inserted slot; insert the removed record's image back into its slot with
 * its generation; set the old value; restore the old attribute list).
 * Undo runs newest first, so each step finds the store as it was just after
 * the change it undoes: the string cells, attribute blocks and vector
 * entries it needs are on the free lists the change left them on, and an
 * index key goes back into its segment even if growing it would fail
 * (store.c, ix_prepare), so a rollback does not fail for want of memory.
 *
 * Compaction: rs_save_begin(st, NULL) notes the journal's length L and
 * writes a snapshot whose header says "follows journal J at offset L".
 * Writers go on, journaling into J.  The next journal grows beside it in
 * BASE.journal.tmp-<random> (created exclusively, locked): its header (the
 * snapshot's id), the names known at L,
 * then, at every save step, J's bytes since the last step.  The finishing
 * steps (persist.c) put J on disk up to L, rename the snapshot into place,
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
 * Torn tail or damage: only a prefix of the last entry can come from a
 * crash (next_entry()); anything else is refused, and rs_durable_repair()
 * keeps the whole entries, the original renamed BASE.journal.damaged-N.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range() */
#endif
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define J_MAGIC "RSTRJRNL"
#define J_VERSION 1u
#define J_HEADER 32
#define E_HEAD 12

enum { J_CLASS = 1, J_NAME, J_INSERT, J_REMOVE, J_SET, J_BIND, J_UNBIND };
enum { U_INSERT = 1, U_REMOVE, U_SET, U_ATTRS };

/* ------------------------------------------------------------------------ */
/* Writing entries                                                           */
/* ------------------------------------------------------------------------ */

static void put_header(uint8_t h[J_HEADER], uint64_t snap_id)
{
    rs__buf b = {h, 0, J_HEADER};
    rs__put_bytes(&b, J_MAGIC, 8);
    rs__put_u32le(&b, J_VERSION);
    rs__put_u32le(&b, 0);
    rs__put_u64le(&b, snap_id);
    rs__put_u64le(&b, XXH3_64bits(h, 24));
}

static char *journal_path(rs_store *st, const char *base, const char *ext)
{
    size_t a = strlen(base), b = strlen(ext);
    char *p = rs__alloc(st, RS_MEM_META, a + b + 1);
    if (p) {
        memcpy(p, base, a);
        memcpy(p + a, ext, b + 1);
    }
    return p;
}

static void path_free(rs_store *st, char *p)
{
    if (p) {
        rs__free(st, RS_MEM_META, p, strlen(p) + 1);
    }
}

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
static rs_status lock_path(rs_store *st, const char *path, bool create,
                           int *fd)
{
    *fd = -1;
    for (int tries = 0; tries < 8; tries++) {
        int f = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW |
                               (create ? O_CREAT : 0), 0644);
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
    return rs__err(st, RS_EIO, "%s: replaced again and again while being "
                   "locked", path);
}

/* Lock a journal this store just created (not yet under its name). */
static int lock_new(int fd)
{
    return flock(fd, LOCK_EX | LOCK_NB);
}

/* Every op is its kind, its body's length and its body, so a reader can
 * step over an op it does not decode (roster inspect) and a body cannot
 * run into the next op.  The length goes in front once the body is
 * written: entry_room() callers reserve OP_SLACK for it. */
#define OP_SLACK 10

/* Start a new entry in p->entry (room for its frame). */
static rs_status entry_room(rs_store *st, rs__persist *p, size_t more)
{
    more += OP_SLACK;
    if (p->entry.len == 0) {
        if (rs__buf_reserve(st, &p->entry, E_HEAD + more) != RS_OK) {
            return RS_ENOMEM;
        }
        p->entry.len = E_HEAD;
        p->entry_ops = 0;
        return RS_OK;
    }
    return rs__buf_reserve(st, &p->entry, more);
}


static size_t op_open(rs__buf *b, unsigned kind)
{
    rs__put_u8(b, (uint8_t)kind);
    return b->len;
}

static void op_close(rs__buf *b, size_t at)
{
    size_t n = b->len - at;
    uint8_t v[10];
    rs__buf vb = {v, 0, sizeof v};
    rs__put_uvar(&vb, n);
    memmove(b->p + at + vb.len, b->p + at, n);
    memcpy(b->p + at, v, vb.len);
    b->len += vb.len;
}

static void entry_drop(rs__persist *p)
{
    p->entry.len = 0;
    p->entry_ops = 0;
    p->pend.len = 0;
}

static bool name_declared(const rs__persist *p, uint32_t id)
{
    if (id < p->jnames_cap && p->jnames[id]) {
        return true;
    }
    for (size_t i = 0; i < p->pend.len; i += 4) {
        uint32_t x;
        memcpy(&x, p->pend.p + i, 4);
        if (x == id) {
            return true;
        }
    }
    return false;
}

/* Declare name id in the entry if this journal file has not yet. */
static rs_status entry_name(rs_store *st, rs__persist *p, uint32_t id)
{
    if (name_declared(p, id)) {
        return RS_OK;
    }
    const rs__aname *nm = &st->attrs.names[id];
    if (entry_room(st, p, 1 + 10 + 10 + nm->len) != RS_OK ||
        rs__buf_reserve(st, &p->pend, 4) != RS_OK) {
        return RS_ENOMEM;
    }
    size_t at = op_open(&p->entry, J_NAME);
    rs__put_uvar(&p->entry, id);
    rs__put_uvar(&p->entry, nm->len);
    rs__put_bytes(&p->entry, nm->s, nm->len);
    op_close(&p->entry, at);
    rs__put_bytes(&p->pend, &id, 4);
    return RS_OK;
}

static rs_status fail_journal(rs_store *st, rs__persist *p, const char *what)
{
    int e = errno;
    /* Cut off whatever part of the entry reached the file, so the next
     * entry follows the last good one.  If even that fails, the journal
     * ends in a torn entry: refuse every later change (a reopen drops it).
     */
    if (ftruncate(p->jfd, (off_t)p->jlen) != 0) {
        p->jbroken = true;
    }
    return rs__err(st, RS_EIO, "%s.journal: %s: %s%s", p->base, what,
                   strerror(e),
                   p->jbroken ? " (journal unusable: reopen the store; the "
                                "journal may hold this change whole, and a "
                                "reopen would then apply it)"
                              : "");
}

static rs_status journal_fsync(rs_store *st, rs__persist *p, bool force)
{
    uint64_t now = rs__now_ns();
    if (p->sync == RS_SYNC_ALWAYS || force ||
        (p->sync == RS_SYNC_EVERYSEC && now - p->last_sync >= 1000000000u)) {
        if (fdatasync(p->jfd) != 0) {
            return fail_journal(st, p, "fdatasync failed");
        }
        p->last_sync = now;
    }
    return RS_OK;
}

/* Free a replaced journal's blocks a step at a time (journal_install). */
static void reap_old(rs__persist *p)
{
    if (p->old_jfd < 0) {
        return;
    }
    uint64_t step = 4u << 20;
    p->old_len = p->old_len > step ? p->old_len - step : 0;
    if (p->old_len == 0 || ftruncate(p->old_jfd, (off_t)p->old_len) != 0) {
        close(p->old_jfd);
        p->old_jfd = -1;
    }
}

/* Write the entry being built, if it holds anything. */
static rs_status entry_write(rs_store *st, rs__persist *p)
{
    if (p->entry.len <= E_HEAD) {
        entry_drop(p);
        return RS_OK;
    }
    if (p->dir_unsynced) {
        /* The journal's name (a compaction's rename) is not known to be on
         * disk: nothing more is acknowledged until it is. */
        char *path = journal_path(st, p->base, ".journal");
        int r = path ? rs__fsync_dir(path) : -1;
        int e = errno;
        path_free(st, path);
        if (r != 0) {
            entry_drop(p);
            return rs__err(st, RS_EIO, "%s.journal: fsync of its directory: "
                           "%s", p->base, path ? strerror(e)
                                               : "out of memory");
        }
        p->dir_unsynced = false;
    }
    size_t len = p->entry.len - E_HEAD;
    if (len > UINT32_MAX) {
        entry_drop(p);
        return rs__err(st, RS_EFULL, "a journal entry of %zu bytes is too "
                       "large", len);
    }
    rs__buf h = {p->entry.p, 0, E_HEAD};
    rs__put_u32le(&h, (uint32_t)len);
    rs__put_u64le(&h, XXH3_64bits(p->entry.p + E_HEAD, len));
    rs_status rc = RS_OK;
    if (rs__write_all(p->jfd, p->entry.p, p->entry.len, p->jlen) != 0) {
        rc = fail_journal(st, p, "write failed");
    } else {
        rc = journal_fsync(st, p, false);
    }
    if (rc != RS_OK) {
        entry_drop(p); /* the change it carried is refused */
        return rc;
    }
    p->jlen += p->entry.len;
    for (size_t i = 0; i < p->pend.len; i += 4) {
        uint32_t id;
        memcpy(&id, p->pend.p + i, 4);
        if (id >= p->jnames_cap) {
            uint32_t cap = p->jnames_cap ? p->jnames_cap : 64;
            while (cap <= id) {
                cap *= 2;
            }
            uint8_t *m = rs__realloc(st, RS_MEM_META, p->jnames,
                                     p->jnames_cap, cap);
            if (m == NULL) {
                continue; /* declared again next time: harmless */
            }
            memset(m + p->jnames_cap, 0, cap - p->jnames_cap);
            p->jnames = m;
            p->jnames_cap = cap;
        }
        p->jnames[id] = 1;
    }
    entry_drop(p);
    reap_old(p);
    /* Keep a big group's buffer from pinning memory. */
    if (p->entry.cap > (1u << 20)) {
        rs__buf_free(st, &p->entry);
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* The hooks                                                                 */
/* ------------------------------------------------------------------------ */

/* Room for one undo record of up to more bytes. */
static rs_status undo_room(rs_store *st, rs__persist *p, size_t more)
{
    if (rs__buf_reserve(st, &p->undo, more) != RS_OK ||
        rs__buf_reserve(st, &p->undo_at, sizeof(size_t)) != RS_OK) {
        return RS_ENOMEM;
    }
    size_t at = p->undo.len;
    rs__put_bytes(&p->undo_at, &at, sizeof at);
    return RS_OK;
}

static void put_key(rs__buf *b, rs_class *c, uint32_t slot)
{
    char buf[RS_KEY_TMP];
    rs_field k = c->sch.key;
    rs_value v = rs__row_value(c, rs__row(c, slot), k, buf);
    rs__put_value(b, c->sch.fields[k].type, &v);
}

static size_t key_bound(rs_class *c, uint32_t slot)
{
    char buf[RS_KEY_TMP];
    rs_value v = rs__row_value(c, rs__row(c, slot), c->sch.key, buf);
    return RS_VAL_MAX + (v.type == RS_STR ? v.v.s.len : 0);
}

/* After an op went into the entry: outside a group, write it now. */
static rs_status op_done(rs_store *st, rs__persist *p, size_t undo_mark,
                         size_t undo_at_mark)
{
    if (p->in_group) {
        p->entry_ops++;
        return RS_OK;
    }
    rs_status rc = p->jfd >= 0 ? entry_write(st, p) : RS_OK;
    (void)undo_mark;
    (void)undo_at_mark;
    return rc;
}

static rs_status oom(rs_store *st, rs__persist *p, size_t entry_mark,
                     size_t pend_mark, size_t undo_mark, size_t undo_at_mark)
{
    p->entry.len = entry_mark;
    p->pend.len = pend_mark;
    p->undo.len = undo_mark;
    p->undo_at.len = undo_at_mark;
    return rs__err(st, RS_ENOMEM, "out of memory journaling a change");
}

#define MARKS                                                               \
    size_t em_ = p->entry.len, pm_ = p->pend.len, um_ = p->undo.len,        \
           uam_ = p->undo_at.len
#define OOM() oom(st, p, em_, pm_, um_, uam_)

static rs_status p_insert(rs_store *st, rs__persist *p,
                          const rs__change *ch)
{
    rs_class *c = ch->c;
    uint32_t slot = ch->slot, n_dyn = ch->n_attrs;
    const rs__aval *dyn = ch->attrs;
    MARKS;
    if (p->in_group) {
        if (undo_room(st, p, 1 + 10 + 10) != RS_OK) {
            return OOM();
        }
        rs__put_u8(&p->undo, U_INSERT);
        rs__put_uvar(&p->undo, c->id);
        rs__put_uvar(&p->undo, slot);
    }
    /* An insert into a fresh slot found the free list empty; its undo
     * leaves the slot on the free list, which keeps the list's order
     * (LIFO) right for every earlier undo. */
    if (p->jfd < 0) {
        return op_done(st, p, um_, uam_);
    }
    size_t need = 1 + 10 + 10;
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        need += RS_VAL_MAX + (ch->vals[f].type == RS_STR ? ch->vals[f].v.s.len
                                                        : 0);
    }
    for (uint32_t k = 0; k < n_dyn; k++) {
        if (entry_name(st, p, dyn[k].name) != RS_OK) {
            return OOM();
        }
        const rs_value *v = &dyn[k].val;
        need += 5 + RS_VAL_MAX + (v->type == RS_STR ? v->v.s.len : 0);
    }
    if (entry_room(st, p, need) != RS_OK) {
        return OOM();
    }
    size_t at = op_open(&p->entry, J_INSERT);
    rs__put_uvar(&p->entry, (uint32_t)c->id - 1u);
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        rs__put_value(&p->entry, c->sch.fields[f].type, &ch->vals[f]);
    }
    rs__put_uvar(&p->entry, n_dyn);
    for (uint32_t k = 0; k < n_dyn; k++) {
        rs__put_uvar(&p->entry, dyn[k].name);
        rs__put_avalue(&p->entry, &dyn[k].val);
    }
    op_close(&p->entry, at);
    rs_status rc = op_done(st, p, um_, uam_);
    if (rc != RS_OK) {
        p->undo.len = um_;
        p->undo_at.len = uam_;
    }
    return rc;
}

static rs_status p_remove(rs_store *st, rs__persist *p, rs_class *c,
                          uint32_t slot)
{
    MARKS;
    if (p->in_group) {
        size_t need = 1 + 30 + rs__image_bound(st, c, slot);
        if (undo_room(st, p, need) != RS_OK) {
            return OOM();
        }
        rs__put_u8(&p->undo, U_REMOVE);
        rs__put_uvar(&p->undo, c->id);
        rs__put_uvar(&p->undo, slot);
        rs__put_uvar(&p->undo, rs__row_gen(rs__row(c, slot)));
        rs__put_image(st, &p->undo, c, slot);
    }
    if (p->jfd >= 0) {
        if (entry_room(st, p, 1 + 10 + key_bound(c, slot)) != RS_OK) {
            return OOM();
        }
        size_t at = op_open(&p->entry, J_REMOVE);
        rs__put_uvar(&p->entry, (uint32_t)c->id - 1u);
        put_key(&p->entry, c, slot);
        op_close(&p->entry, at);
    }
    rs_status rc = op_done(st, p, um_, uam_);
    if (rc != RS_OK) {
        p->undo.len = um_;
        p->undo_at.len = uam_;
    }
    return rc;
}

static rs_status p_set(rs_store *st, rs__persist *p, const rs__change *ch)
{
    rs_class *c = ch->c;
    uint32_t slot = ch->slot;
    rs_field f = ch->field;
    const rs_value *v = ch->val, old = *ch->old;
    MARKS;
    rs_type t = c->sch.fields[f].type;
    if (p->in_group) {
        size_t need = 1 + 30 + RS_VAL_MAX +
                      (old.type == RS_STR ? old.v.s.len : 0);
        if (undo_room(st, p, need) != RS_OK) {
            return OOM();
        }
        rs__put_u8(&p->undo, U_SET);
        rs__put_uvar(&p->undo, c->id);
        rs__put_uvar(&p->undo, slot);
        rs__put_uvar(&p->undo, (uint64_t)f);
        rs__put_value(&p->undo, t, &old);
    }
    if (p->jfd >= 0) {
        size_t need = 1 + 20 + key_bound(c, slot) + RS_VAL_MAX +
                      (t == RS_STR ? v->v.s.len : 0);
        if (entry_room(st, p, need) != RS_OK) {
            return OOM();
        }
        size_t at = op_open(&p->entry, J_SET);
        rs__put_uvar(&p->entry, (uint32_t)c->id - 1u);
        put_key(&p->entry, c, slot);
        rs__put_uvar(&p->entry, (uint64_t)f);
        rs__put_value(&p->entry, t, v);
        op_close(&p->entry, at);
    }
    rs_status rc = op_done(st, p, um_, uam_);
    if (rc != RS_OK) {
        p->undo.len = um_;
        p->undo_at.len = uam_;
    }
    return rc;
}

static rs_status p_attrs(rs_store *st, rs__persist *p, const rs__change *ch)
{
    rs_class *c = ch->c;
    uint32_t slot = ch->slot, name = ch->name, n_old = ch->n_attrs;
    const rs_value *v = ch->val;
    const rs__aval *olds = ch->attrs;
    MARKS;
    if (p->in_group) {
        size_t need = 1 + 30;
        for (uint32_t k = 0; k < n_old; k++) {
            const rs_value *o = &olds[k].val;
            need += 5 + RS_VAL_MAX + (o->type == RS_STR ? o->v.s.len : 0);
        }
        if (undo_room(st, p, need) != RS_OK) {
            return OOM();
        }
        rs__put_u8(&p->undo, U_ATTRS);
        rs__put_uvar(&p->undo, c->id);
        rs__put_uvar(&p->undo, slot);
        rs__put_uvar(&p->undo, n_old);
        for (uint32_t k = 0; k < n_old; k++) {
            rs__put_uvar(&p->undo, olds[k].name);
            rs__put_avalue(&p->undo, &olds[k].val);
        }
    }
    if (p->jfd >= 0) {
        size_t need = 1 + 20 + key_bound(c, slot) + RS_VAL_MAX +
                      (v && v->type == RS_STR ? v->v.s.len : 0);
        if (entry_name(st, p, name) != RS_OK ||
            entry_room(st, p, need) != RS_OK) {
            return OOM();
        }
        size_t at = op_open(&p->entry, v ? J_BIND : J_UNBIND);
        rs__put_uvar(&p->entry, (uint32_t)c->id - 1u);
        put_key(&p->entry, c, slot);
        rs__put_uvar(&p->entry, name);
        if (v) {
            rs__put_avalue(&p->entry, v);
        }
        op_close(&p->entry, at);
    }
    rs_status rc = op_done(st, p, um_, uam_);
    if (rc != RS_OK) {
        p->undo.len = um_;
        p->undo_at.len = uam_;
    }
    return rc;
}

static rs_status p_class(rs_store *st, rs__persist *p, rs_class *c)
{
    if (p->in_group) {
        return rs__err(st, RS_EINVAL, "class '%s': classes cannot be "
                       "declared inside a group", c->sch.name);
    }
    if (p->jfd < 0) {
        return RS_OK;
    }
    if (p->jbroken) {
        return rs__err(st, RS_EIO, "%s.journal: a failed write could not be "
                       "cut off; reopen the store", p->base);
    }
    size_t n = rs_class_format(c, NULL, 0);
    if (entry_room(st, p, 1 + 10 + n + 1) != RS_OK) {
        entry_drop(p);
        return rs__err(st, RS_ENOMEM, "out of memory journaling class '%s'",
                       c->sch.name);
    }
    size_t at = op_open(&p->entry, J_CLASS);
    rs__put_uvar(&p->entry, n);
    rs_class_format(c, (char *)p->entry.p + p->entry.len, n + 1);
    p->entry.len += n;
    op_close(&p->entry, at);
    rs_status rc = entry_write(st, p);
    if (rc == RS_OK) {
        p->jclasses++;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Groups                                                                    */
/* ------------------------------------------------------------------------ */

static rs_class *undo_class(rs_store *st, rs__rd *r)
{
    uint64_t id = rs__get_uvar(r);
    return id >= 1 && id <= st->n_classes ? st->classes[id - 1] : NULL;
}

/* Undo one record; false if it could not be (which the rollback's design
 * rules out: see the top of the file). */
static bool undo_one(rs_store *st, const uint8_t *at, const uint8_t *end)
{
    rs__rd r = {at, end, false};
    rs__attrs *a = &st->attrs;
    unsigned kind = rs__get_u8(&r);
    rs_class *c = undo_class(st, &r);
    uint32_t slot = (uint32_t)rs__get_uvar(&r);
    if (c == NULL || r.bad || slot >= c->n_slots) {
        return false;
    }
    switch (kind) {
    case U_INSERT:
        return rs__store_restore_remove(st, c, slot) == RS_OK;
    case U_REMOVE: {
        uint16_t gen = (uint16_t)rs__get_uvar(&r);
        rs_named nv[RS_MAX_FIELDS + RS_ATTRS_PER_RECORD];
        size_t n = 0;
        for (uint32_t f = 0; f < c->sch.n_fields; f++) {
            nv[n].name = c->sch.fields[f].name;
            nv[n++].val = rs__get_value(&r, c->sch.fields[f].type);
        }
        uint64_t k = rs__get_uvar(&r);
        for (uint64_t j = 0; j < k && !r.bad && n < RS_MAX_FIELDS +
                                                        RS_ATTRS_PER_RECORD;
             j++) {
            uint64_t id = rs__get_uvar(&r);
            rs_value v = rs__get_avalue(&r);
            if (id >= a->n_names) {
                return false;
            }
            nv[n].name = a->names[id].s;
            nv[n++].val = v;
        }
        return !r.bad && rs__store_restore_insert(st, c, nv, n, slot, gen) ==
                              RS_OK;
    }
    case U_SET: {
        uint64_t f = rs__get_uvar(&r);
        if (f >= c->sch.n_fields) {
            return false;
        }
        rs_value v = rs__get_value(&r, c->sch.fields[f].type);
        return !r.bad && rs__store_restore_set(st, c, slot, (rs_field)f, &v) ==
                              RS_OK;
    }
    case U_ATTRS: {
        uint64_t k = rs__get_uvar(&r);
        if (k > RS_ATTRS_PER_RECORD) {
            return false;
        }
        for (uint64_t j = 0; j < k && !r.bad; j++) {
            a->new_list[j].name = (uint32_t)rs__get_uvar(&r);
            a->new_list[j].val = rs__get_avalue(&r);
        }
        return !r.bad &&
               rs__store_restore_attrs(st, c, slot, (uint32_t)k) == RS_OK;
    }
    default:
        return false;
    }
}

/* Undo every change of the group, newest first. */
static rs_status rollback(rs_store *st, rs__persist *p)
{
    bool ok = true;
    size_t n = p->undo_at.len / sizeof(size_t);
    size_t end = p->undo.len;
    while (n > 0) {
        size_t at;
        memcpy(&at, p->undo_at.p + (n - 1) * sizeof at, sizeof at);
        ok &= undo_one(st, p->undo.p + at, p->undo.p + end);
        end = at;
        n--;
    }
    p->undo.len = p->undo_at.len = 0;
    entry_drop(p);
    /* No record uses a name or shape the group made any more: a group
     * that fails leaves the name table as it found it, so failing calls
     * cannot fill it. */
    rs__shape_undo_to(st, &st->attrs, &p->group_amark);
    if (RS_NEVER(!ok)) {
        return rs__err(st, RS_ECORRUPT, "a group's rollback failed");
    }
    return RS_OK;
}

static rs_status p_enter(rs_store *st, rs__observer *o)
{
    rs__persist *p = (rs__persist *)o;
    if (p->jbroken) {
        return rs__err(st, RS_EIO, "%s.journal: a failed write could not be "
                       "cut off; reopen the store", p->base);
    }
    if (p->in_group && p->group_rc != RS_OK) {
        return rs__err(st, RS_EGROUP, "the group already failed and was "
                       "rolled back (%s); end it with rs_group_abort()",
                       p->group_msg);
    }
    return RS_OK;
}

static rs_status p_leave(rs_store *st, rs__observer *o, rs_status rc)
{
    rs__persist *p = (rs__persist *)o;
    if (rc == RS_OK || !p->in_group) {
        return rc;
    }
    /* A change in the group failed: everything before it goes back. */
    char msg[sizeof st->err];
    memcpy(msg, st->err, sizeof msg);
    memcpy(p->group_msg, msg, sizeof p->group_msg);
    p->group_msg[sizeof p->group_msg - 1] = '\0';
    p->group_rc = rc;
    (void)rollback(st, p);
    return rs__err(st, rc, "%s", msg);
}

/* Before every change: the journal and the group log it (a restore puts
 * back what the group logged: nothing to log). */
static rs_status p_prepare(rs_store *st, rs__observer *o,
                           const rs__change *ch)
{
    rs__persist *p = (rs__persist *)o;
    if (ch->restore || (p->jfd < 0 && !p->in_group)) {
        return RS_OK;
    }
    switch (ch->kind) {
    case RS__CHANGE_INSERT:
        return p_insert(st, p, ch);
    case RS__CHANGE_REMOVE:
        return p_remove(st, p, ch->c, ch->slot);
    case RS__CHANGE_SET:
        return p_set(st, p, ch);
    case RS__CHANGE_ATTRS:
        return p_attrs(st, p, ch);
    case RS__CHANGE_CLASS:
        return p_class(st, p, ch->c);
    }
    return RS_OK;
}

static void p_close(rs_store *st, rs__observer *o)
{
    (void)o;
    rs__p_free(st);
}

/* ------------------------------------------------------------------------ */
/* The journal's and the groups' state                                       */
/* ------------------------------------------------------------------------ */

static void free_str(rs_store *st, char *s)
{
    if (s) {
        rs__free(st, RS_MEM_META, s, strlen(s) + 1);
    }
}

const char rs__p_name[] = "persistence";

rs_status rs__p_get(rs_store *st, rs__persist **out)
{
    rs__persist *p = rs__p_of(st);
    if (p == NULL) {
        p = rs__calloc(st, RS_MEM_META, sizeof *p);
        if (p == NULL) {
            return RS_ENOMEM;
        }
        p->jfd = -1;
        p->cfd = -1;
        p->old_jfd = -1;
        p->lockfd = -1;
        p->obs = (rs__observer){.name = rs__p_name,
                                .enter = p_enter,
                                .leave = p_leave,
                                .prepare = p_prepare,
                                .close = p_close};
        rs__store_observe(st, &p->obs);
    }
    *out = p;
    return RS_OK;
}

void rs__p_release(rs_store *st)
{
    rs__persist *p = rs__p_of(st);
    /* base is set while the store is durable or being opened as one. */
    if (p && p->jfd < 0 && !p->in_group &&
        p->base == NULL) {
        rs__buf_free(st, &p->entry);
        rs__buf_free(st, &p->undo);
        rs__buf_free(st, &p->undo_at);
        rs__buf_free(st, &p->pend);
        rs__free(st, RS_MEM_META, p->jnames, p->jnames_cap);
        free_str(st, p->base);
        free_str(st, p->ctmp);
        rs__store_unobserve(st, &p->obs);
        rs__free(st, RS_MEM_META, p, sizeof *p);
    }
}

void rs__p_free(rs_store *st)
{
    rs__persist *p = rs__p_of(st);
    if (p == NULL) {
        return;
    }
    /* Each of these may release the state when it was the last user. */
    if (p->in_group) {
        rs_group_abort(st);
    }
    if ((p = rs__p_of(st)) == NULL) {
        return;
    }
    if (p->jfd >= 0) {
        if (p->sync != RS_SYNC_NEVER) {
            (void)fdatasync(p->jfd);
        }
        close(p->jfd);
        p->jfd = -1;
    }
    if (p->old_jfd >= 0) {
        close(p->old_jfd);
        p->old_jfd = -1;
    }
    if (p->lockfd >= 0) {
        close(p->lockfd);
        p->lockfd = -1;
    }
    free_str(st, p->base);
    p->base = NULL;
    rs__p_release(st);
}


rs_status rs_group_begin(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs__persist *p;
    p = rs__p_of(st);
    if (p && p->in_group) {
        return rs__err(st, RS_EINVAL, "a group is already open (groups do "
                       "not nest)");
    }
    if (rs__p_get(st, &p) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory opening a group");
    }
    p->in_group = true;
    p->group_rc = RS_OK;
    p->group_msg[0] = '\0';
    rs__shape_mark(&st->attrs, &p->group_amark);
    entry_drop(p);
    p->undo.len = p->undo_at.len = 0;
    return RS_OK;
}

static void group_end(rs_store *st, rs__persist *p)
{
    p->in_group = false;
    p->group_rc = RS_OK;
    p->undo.len = p->undo_at.len = 0;
    if (p->undo.cap > (1u << 20)) {
        rs__buf_free(st, &p->undo);
        rs__buf_free(st, &p->undo_at);
    }
    entry_drop(p);
    rs__p_release(st);
}

rs_status rs_group_commit(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs__persist *p = rs__p_of(st);
    if (p == NULL || !p->in_group) {
        return rs__err(st, RS_EINVAL, "rs_group_commit: no group is open");
    }
    if (p->group_rc != RS_OK) {
        rs_status rc = rs__err(st, RS_EGROUP, "the group was rolled back: %s",
                               p->group_msg);
        group_end(st, p);
        return rc;
    }
    rs_status rc = RS_OK;
    if (p->jfd >= 0 && !p->jbroken) {
        rc = entry_write(st, p);
    } else if (p->jbroken) {
        rc = rs__err(st, RS_EIO, "%s.journal: unusable; reopen the store",
                     p->base);
    }
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        (void)rollback(st, p);
        group_end(st, p);
        return rs__err(st, rc, "%s (the group was rolled back)", msg);
    }
    group_end(st, p);
    return RS_OK;
}

void rs_group_abort(rs_store *st)
{
    if (st == NULL) {
        return;
    }
    rs__persist *p = rs__p_of(st);
    if (p == NULL || !p->in_group) {
        return;
    }
    if (p->group_rc == RS_OK) {
        (void)rollback(st, p);
    }
    group_end(st, p);
}

/* ------------------------------------------------------------------------ */
/* Replay                                                                    */
/* ------------------------------------------------------------------------ */

/* What replay knows: the classes by journal number, the names by id. */
typedef struct replay {
    rs__loaded *l;  /* cmaps: snapshot classes, then CLASS ops */
    char **names;   /* by journal name id (owned copies), NULL if unknown */
    uint32_t n_names;
    rs_named nv[RS_MAX_FIELDS + RS_ATTRS_PER_RECORD + 1];
    rs_store *scratch; /* parses CLASS texts */
    rs_load_info *info; /* fields dropped by classes the journal declares */
} replay;

static void replay_free(rs_store *st, replay *rp)
{
    for (uint32_t i = 0; i < rp->n_names; i++) {
        if (rp->names[i]) {
            rs__free(st, RS_MEM_META, rp->names[i], strlen(rp->names[i]) + 1);
        }
    }
    rs__free(st, RS_MEM_META, rp->names, rp->n_names * sizeof *rp->names);
    rs_store_close(rp->scratch);
}

/* The record named by the key that follows in r. */
static rs_status find_by_key(rs_store *st, rs__rd *r, const rs__cmap *m,
                             rs_handle *h)
{
    const rs__schema *fs_key = &m->c->sch;
    int kf = -1;
    for (uint32_t i = 0; i < m->n_fields; i++) {
        if (m->to[i] == fs_key->key) {
            kf = (int)i;
        }
    }
    if (kf < 0) {
        return rs__err(st, RS_EFORMAT, "no key field");
    }
    rs_value key = rs__get_value(r, m->types[kf]);
    if (r->bad) {
        return rs__err(st, RS_EFORMAT, "a key cut short");
    }
    rs_status rc = rs_find(st, m->c, fs_key->key, &key, h);
    if (rc == RS_ENOTFOUND) {
        char shown[80];
        rs__fmt_value(shown, sizeof shown, &key);
        return rs__err(st, RS_EFORMAT, "%s %s is not in the store",
                       fs_key->name, shown);
    }
    return rc;
}

/* Apply the op at r, or (apply false: the part of a journal a snapshot
 * already holds) only learn its names and step over it. */
static rs_status replay_op(rs_store *st, replay *rp, unsigned kind, rs__rd *r,
                           bool apply)
{
    rs__loaded *l = rp->l;
    if (kind == J_CLASS) {
        uint64_t n = rs__get_uvar(r);
        const uint8_t *text = n < (1u << 24) ? rs__get_bytes(r, n) : NULL;
        if (text == NULL) {
            return rs__err(st, RS_EFORMAT, "a class cut short");
        }
        rs_class *fc, *target;
        if (rs_class_parse(rp->scratch, (const char *)text, n, &fc) !=
            RS_OK) {
            return rs__err(st, RS_EFORMAT, "bad class: %s",
                           rs_errmsg(rp->scratch));
        }
        if (l->n_cmaps == l->cap_cmaps) {
            uint32_t cap = l->cap_cmaps ? l->cap_cmaps * 2 : 4;
            rs__cmap *m = rs__realloc(st, RS_MEM_META, l->cmaps,
                                      l->cap_cmaps * sizeof *m,
                                      cap * sizeof *m);
            if (m == NULL) {
                return rs__err(st, RS_ENOMEM, "out of memory replaying");
            }
            memset(m + l->cap_cmaps, 0, (cap - l->cap_cmaps) * sizeof *m);
            l->cmaps = m;
            l->cap_cmaps = cap;
        }
        target = rs_class_find(st, rs_class_name(fc));
        if (target == NULL) {
            rs_status rc = rs_class_parse(st, (const char *)text, n, &target);
            if (rc != RS_OK) {
                return rc;
            }
        }
        rs__cmap *m = &l->cmaps[l->n_cmaps++];
        return rs__cmap_make(st, fc, target, m, rp->info);
    }
    if (kind == J_NAME) {
        uint64_t id = rs__get_uvar(r), n = rs__get_uvar(r);
        const uint8_t *p = n <= RS_MAX_NAME ? rs__get_bytes(r, n) : NULL;
        if (p == NULL || id >= RS_ATTR_NAMES_MAX ||
            !rs__is_ident((const char *)p, n)) {
            return rs__err(st, RS_EFORMAT, "a bad attribute name");
        }
        if (id >= rp->n_names) {
            char **a = rs__realloc(st, RS_MEM_META, rp->names,
                                   rp->n_names * sizeof *a,
                                   (id + 1) * sizeof *a);
            if (a == NULL) {
                return rs__err(st, RS_ENOMEM, "out of memory replaying");
            }
            memset(a + rp->n_names, 0, (id + 1 - rp->n_names) * sizeof *a);
            rp->names = a;
            rp->n_names = (uint32_t)id + 1;
        }
        char *s = rs__alloc(st, RS_MEM_META, n + 1);
        if (s == NULL) {
            return rs__err(st, RS_ENOMEM, "out of memory replaying");
        }
        memcpy(s, p, n);
        s[n] = '\0';
        if (rp->names[id]) {
            rs__free(st, RS_MEM_META, rp->names[id],
                     strlen(rp->names[id]) + 1);
        }
        rp->names[id] = s;
        return RS_OK;
    }
    uint64_t ci = rs__get_uvar(r);
    if (r->bad || ci >= l->n_cmaps) {
        return rs__err(st, RS_EFORMAT, "an op on an unknown class");
    }
    const rs__cmap *m = &l->cmaps[ci];
    if (kind == J_INSERT) {
        size_t n;
        if (!rs__decode_record(r, m, rp->names, rp->n_names, rp->nv, &n)) {
            return rs__err(st, RS_EFORMAT, "a record cut short or "
                           "malformed");
        }
        return apply ? rs_insert(st, m->c, rp->nv, n, NULL) : RS_OK;
    }
    rs_handle h = RS_NULL_HANDLE;
    rs_status rc = RS_OK;
    if (apply) {
        rc = find_by_key(st, r, m, &h);
    } else {
        for (uint32_t i = 0; i < m->n_fields; i++) {
            if (m->to[i] == m->c->sch.key) {
                rs__get_value(r, m->types[i]);
            }
        }
    }
    if (rc != RS_OK) {
        return rc;
    }
    switch (kind) {
    case J_REMOVE:
        return apply ? rs_remove(st, h) : RS_OK;
    case J_SET: {
        uint64_t f = rs__get_uvar(r);
        if (f >= m->n_fields) {
            return rs__err(st, RS_EFORMAT, "a set of an unknown field");
        }
        rs_value v = rs__get_value(r, m->types[f]);
        if (r->bad) {
            return rs__err(st, RS_EFORMAT, "a value cut short");
        }
        return m->to[f] < 0 || !apply ? RS_OK
                                      : rs_set_field(st, h, m->to[f], &v);
    }
    case J_BIND:
    case J_UNBIND: {
        uint64_t id = rs__get_uvar(r);
        if (id >= rp->n_names || rp->names[id] == NULL) {
            return rs__err(st, RS_EFORMAT, "an undeclared attribute name");
        }
        if (kind == J_UNBIND) {
            return apply ? rs_del_attr(st, h, rp->names[id]) : RS_OK;
        }
        rs_value v = rs__get_avalue(r);
        if (r->bad) {
            return rs__err(st, RS_EFORMAT, "a value cut short");
        }
        return apply ? rs_set_attr(st, h, rp->names[id], &v) : RS_OK;
    }
    default:
        return rs__err(st, RS_EFORMAT, "unknown op %u", kind);
    }
}

/* Check a journal's header (the caller made sure it has J_HEADER bytes);
 * OUT *id, the snapshot it follows. */
static rs_status check_header(rs_store *st, const char *path,
                              const uint8_t *buf, uint64_t *id)
{
    rs__rd r = {buf + 8, buf + J_HEADER, false};
    uint32_t version = rs__get_u32le(&r);
    rs__get_u32le(&r);
    *id = rs__get_u64le(&r);
    if (memcmp(buf, J_MAGIC, 8) != 0 ||
        rs__get_u64le(&r) != XXH3_64bits(buf, 24)) {
        return rs__err(st, RS_EFORMAT, "%s: not a roster journal (bad "
                       "header)", path);
    }
    if (version != J_VERSION) {
        return rs__err(st, RS_EFORMAT, "%s: journal version %u, this "
                       "library reads version %u", path, version, J_VERSION);
    }
    return RS_OK;
}

/* The next op of an entry: its kind and its body; false (and e->bad) if
 * the body runs past the entry. */
static bool next_op(rs__rd *e, unsigned *kind, rs__rd *body)
{
    *kind = rs__get_u8(e);
    uint64_t n = rs__get_uvar(e);
    const uint8_t *p = !e->bad && n <= (uint64_t)(e->end - e->p)
                           ? rs__get_bytes(e, n)
                           : NULL;
    if (p == NULL) {
        e->bad = true;
        *body = (rs__rd){NULL, NULL, true};
        return false;
    }
    *body = (rs__rd){p, p + n, false};
    return true;
}

/* Whether some prefix of buf[from, len) hashes to sum: then those bytes
 * are a whole entry whose length field was damaged (the checksum, which
 * covers the payload, still matches it), not the start of a write cut
 * short.  Only an entry's own checksum is tested, never entries that
 * might seem to start inside its bytes: its payload is user data, which
 * could be made to look like whole entries.  One pass with a digest a
 * byte, so linear in the tail (about a second for a 16 MB entry), and
 * run only when a length runs past the end of the file. */
static bool prefix_sums_to(const uint8_t *buf, size_t from, size_t len,
                           uint64_t sum)
{
    XXH3_state_t s;
    if (XXH3_64bits_reset(&s) != XXH_OK) {
        return false;
    }
    for (size_t at = from; at < len; at++) {
        if (XXH3_64bits_update(&s, buf + at, 1) != XXH_OK) {
            return false;
        }
        if (XXH3_64bits_digest(&s) == sum) {
            return true;
        }
    }
    return false;
}

/* The entry at off (number k, for messages): RS_OK with its payload,
 * RS_DONE if the journal ends there or in a torn last entry, RS_EFORMAT
 * for damage.
 *
 * An entry is written with one pwrite() at the end of the file, and under
 * RS_SYNC_ALWAYS every earlier entry was on disk before its call returned.
 * What a crash can leave of the entry in flight is a prefix of it: fewer
 * than E_HEAD bytes, or a length that runs past the end of the file.  That
 * is the only torn tail.  Anything else (a checksum that does not match, a
 * zero length, zeros where entries were) cannot come from one write cut
 * short: it is damage to entries that may have been acknowledged, so the
 * open refuses it rather than drop them, and rs_durable_repair() decides
 * with the user.  (A length damaged so that it runs past the end is caught
 * too: whole entries follow it, or the rest of the file is itself one
 * whole entry under the checksum.) */
static rs_status next_entry(rs_store *st, const char *path,
                            const uint8_t *buf, size_t len, size_t off,
                            size_t k, const uint8_t **payload, uint32_t *n)
{
    if (len - off < E_HEAD) {
        return RS_DONE;
    }
    rs__rd h = {buf + off, buf + off + E_HEAD, false};
    *n = rs__get_u32le(&h);
    uint64_t sum = rs__get_u64le(&h);
    size_t rest = len - off - E_HEAD;
    if (*n > rest) {
        if (prefix_sums_to(buf, off + E_HEAD, len, sum)) {
            return rs__err(st, RS_EFORMAT, "%s: entry %zu at byte %zu: its "
                           "length runs past the end of the file, yet its "
                           "checksum matches the bytes of a whole entry "
                           "(its length was damaged): damage, not a write "
                           "cut short", path, k, off);
        }
        return RS_DONE;
    }
    if (*n == 0) {
        return rs__err(st, RS_EFORMAT, "%s: entry %zu at byte %zu: zero "
                       "length: damage, not a write cut short", path, k,
                       off);
    }
    *payload = buf + off + E_HEAD;
    if (XXH3_64bits(*payload, *n) != sum) {
        return rs__err(st, RS_EFORMAT, "%s: entry %zu at byte %zu: checksum "
                       "mismatch%s: damage, not a write cut short", path, k,
                       off, off + E_HEAD + *n == len ? " in the last entry"
                                                     : "");
    }
    return RS_OK;
}

/* The one reader of a journal's entries, for replay, inspection, the
 * open's plan and repair: each call frames the next entry (next_entry())
 * and checks its ops' framing, counting them by kind. */
typedef struct jwalk {
    const char *path;
    const uint8_t *buf;
    size_t len;
    size_t off; /* where the next entry starts */
    size_t k;   /* entries read so far */
} jwalk;

typedef struct jentry {
    const uint8_t *payload;
    uint32_t n;
    size_t off, k;                /* where it starts, its number */
    size_t ops[J_UNBIND + 1];     /* its ops by kind */
} jentry;

static jwalk jwalk_at(const char *path, const uint8_t *buf, size_t len)
{
    return (jwalk){path, buf, len, J_HEADER, 0};
}

/* RS_OK and the next whole entry in *e; RS_DONE at the end of the
 * journal or at a torn last entry (w->off is then where whole entries
 * end); RS_EFORMAT for damage (w->off is where the damaged entry starts). */
static rs_status jwalk_next(rs_store *st, jwalk *w, jentry *e)
{
    memset(e, 0, sizeof *e);
    if (w->off >= w->len) {
        return RS_DONE;
    }
    e->off = w->off;
    e->k = w->k + 1;
    rs_status rc = next_entry(st, w->path, w->buf, w->len, w->off, e->k,
                              &e->payload, &e->n);
    if (rc != RS_OK) {
        return rc;
    }
    rs__rd r = {e->payload, e->payload + e->n, false};
    unsigned kind;
    rs__rd body;
    while (r.p < r.end && next_op(&r, &kind, &body)) {
        if (kind < J_CLASS || kind > J_UNBIND) {
            r.bad = true;
            break;
        }
        e->ops[kind]++;
    }
    if (r.bad) {
        return rs__err(st, RS_EFORMAT, "%s: entry %zu at byte %zu: "
                       "malformed op", w->path, e->k, e->off);
    }
    w->off += E_HEAD + e->n;
    w->k = e->k;
    return RS_OK;
}

/* Replay the journal in buf from offset start; *good is where the last
 * whole entry ends.  Entries before start (which the snapshot holds) are
 * read only for the names they declare. */
static rs_status replay_journal(rs_store *st, replay *rp, const char *path,
                                const uint8_t *buf, size_t len, size_t start,
                                size_t *good, size_t *n_entries,
                                bool *damaged)
{
    jwalk w = jwalk_at(path, buf, len);
    jentry e;
    rs_status fr;
    while ((fr = jwalk_next(st, &w, &e)) == RS_OK) {
        size_t off = e.off, k = e.k;
        rs__rd r = {e.payload, e.payload + e.n, false};
        if (off < start && off + E_HEAD + e.n > start) {
            return rs__err(st, RS_EFORMAT, "%s: entry %zu at byte %zu: the "
                           "snapshot's offset %zu falls inside it", path, k,
                           off, start);
        }
        while (r.p < r.end) {
            unsigned kind;
            rs__rd o;
            rs_status rc = RS_OK;
            (void)next_op(&r, &kind, &o); /* framed by jwalk_next() */
            if (off >= start || kind == J_NAME) {
                rc = replay_op(st, rp, kind, &o, true);
            } else {
                /* The snapshot holds it (and its classes): only the names
                 * this part declares matter to the ops that follow. */
                o.p = o.end;
            }
            if (rc == RS_OK && (o.bad || o.p != o.end)) {
                rc = rs__err(st, RS_EFORMAT, "an op of the wrong length");
            }
            if (rc == RS_ENOATTR) {
                /* The journal's writer bound it, so the class changed: a
                 * declaration without `dynamic` (not damage). */
                char msg[sizeof st->err];
                memcpy(msg, st->err, sizeof msg);
                return rs__err(st, RS_EINVAL, "%s: entry %zu at byte %zu: "
                               "%s: the class is declared without "
                               "`dynamic`, and the journal binds "
                               "attributes; declare it dynamic to load them",
                               path, k, off, msg);
            }
            if (rc != RS_OK) {
                char msg[sizeof st->err];
                memcpy(msg, st->err, sizeof msg);
                return rs__err(st, rc == RS_ENOMEM ? rc : RS_EFORMAT,
                               "%s: entry %zu at byte %zu: %s", path, k, off,
                               msg);
            }
        }
        *n_entries = k;
    }
    if (fr != RS_DONE) {
        *damaged = true; /* what rs_durable_repair() mends */
        return fr;
    }
    *good = w.off < len ? w.off : len;
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

/* A journal's first bytes for snapshot id: the header, then one entry
 * declaring every attribute name the store knows. */
static rs_status journal_head(rs_store *st, uint64_t id, rs__buf *b)
{
    rs__attrs *a = &st->attrs;
    size_t need = J_HEADER + E_HEAD;
    for (uint32_t i = 0; i < a->n_names; i++) {
        need += 21 + OP_SLACK + a->names[i].len;
    }
    if (rs__buf_reserve(st, b, need) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory writing a journal");
    }
    b->len = J_HEADER;
    put_header(b->p, id);
    if (a->n_names > 0) {
        size_t at = b->len;
        b->len += E_HEAD;
        for (uint32_t i = 0; i < a->n_names; i++) {
            size_t op = op_open(b, J_NAME);
            rs__put_uvar(b, i);
            rs__put_uvar(b, a->names[i].len);
            rs__put_bytes(b, a->names[i].s, a->names[i].len);
            op_close(b, op);
        }
        size_t n = b->len - at - E_HEAD;
        rs__buf h = {b->p + at, 0, E_HEAD};
        rs__put_u32le(&h, (uint32_t)n);
        rs__put_u64le(&h, XXH3_64bits(b->p + at + E_HEAD, n));
    }
    return RS_OK;
}

/* The journal file of this store is now fd, len bytes, following snapshot
 * id; names below n_declared are declared in it. */
static void journal_install(rs_store *st, rs__persist *p, int fd,
                            uint64_t len, uint64_t id, uint32_t n_declared)
{
    if (p->jfd >= 0 && p->old_jfd < 0) {
        /* The replaced journal is unlinked; closing it would free all its
         * blocks at once (12 ms for 30 MB here), with writers waiting.
         * Later writes cut it down a few megabytes at a time instead. */
        p->old_jfd = p->jfd;
        p->old_len = p->jlen;
    } else if (p->jfd >= 0) {
        close(p->jfd);
    }
    p->jfd = fd;
    p->jlen = len;
    p->snap_id = id;
    p->last_sync = rs__now_ns();
    p->jbroken = false;
    if (n_declared > p->jnames_cap) {
        uint32_t cap = n_declared + 64;
        uint8_t *m = rs__realloc(st, RS_MEM_META, p->jnames, p->jnames_cap,
                                 cap);
        if (m == NULL) {
            return; /* names are declared again as they are used */
        }
        memset(m + p->jnames_cap, 0, cap - p->jnames_cap);
        p->jnames = m;
        p->jnames_cap = cap;
    }
    if (n_declared > 0) {
        memset(p->jnames, 1, n_declared);
    }
}

/* Create base.journal afresh for snapshot id (fsynced, locked, renamed
 * into place) and journal into it. */
static rs_status journal_create(rs_store *st, rs__persist *p, uint64_t id)
{
    char *path = journal_path(st, p->base, ".journal");
    size_t tcap = strlen(p->base) + 8 + RS__TMP_EXTRA + 1;
    char *tmp = rs__alloc(st, RS_MEM_META, tcap);
    rs__buf b = {0};
    rs_status rc = path && tmp ? journal_head(st, id, &b)
                               : rs__err(st, RS_ENOMEM, "out of memory");
    int fd = -1;
    if (rc == RS_OK) {
        fd = rs__tmp_create(path, tmp);
        if (fd < 0 || lock_new(fd) != 0 ||
            rs__write_all(fd, b.p, b.len, 0) != 0 || fdatasync(fd) != 0 ||
            rename(tmp, path) != 0 || rs__fsync_dir(path) != 0) {
            rc = rs__err(st, RS_EIO, "%s: creating the journal: %s", path,
                         strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
        }
    }
    if (rc == RS_OK) {
        /* With no journal before it, nothing is declared in p->jnames. */
        if (p->jnames) {
            memset(p->jnames, 0, p->jnames_cap);
        }
        journal_install(st, p, fd, b.len, id, st->attrs.n_names);
    }
    rs__buf_free(st, &b);
    path_free(st, path);
    if (tmp) {
        rs__free(st, RS_MEM_META, tmp, tcap);
    }
    return rc;
}

rs_status rs__own_file(rs_store *st, const char *path)
{
    rs__persist *p = rs__p_of(st);
    if (p == NULL || p->base == NULL) {
        return RS_OK;
    }
    struct stat t, o;
    if (lstat(path, &t) != 0) {
        return RS_OK; /* a new file: cannot be one of ours */
    }
    char *snap = journal_path(st, p->base, ".snap");
    bool same = snap && lstat(snap, &o) == 0 && o.st_dev == t.st_dev &&
                o.st_ino == t.st_ino;
    path_free(st, snap);
    int fds[3] = {p->jfd, p->lockfd, p->cfd};
    for (int i = 0; i < 3 && !same; i++) {
        same = fds[i] >= 0 && fstat(fds[i], &o) == 0 &&
               o.st_dev == t.st_dev && o.st_ino == t.st_ino;
    }
    if (same) {
        return rs__err(st, RS_EINVAL, "%s: this is one of the durable "
                       "store's own files (%s.snap, .journal, .lock); "
                       "rs_save_begin(st, NULL) compacts them", path,
                       p->base);
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
    jwalk w = jwalk_at(path, buf, len);
    jentry e;
    rs_status rc;
    *empty = true;
    while (*empty && (rc = jwalk_next(st, &w, &e)) == RS_OK) {
        *empty = e.ops[J_NAME] == e.ops[J_CLASS] + e.ops[J_NAME] +
                                      e.ops[J_INSERT] + e.ops[J_REMOVE] +
                                      e.ops[J_SET] + e.ops[J_BIND] +
                                      e.ops[J_UNBIND];
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
static rs_status journal_plan(rs_store *st, const char *jpath,
                              const char *snap, bool have_snap,
                              const rs__loaded *l, bool exists,
                              const uint8_t *buf, size_t len, jplan *out)
{
    memset(out, 0, sizeof *out);
    bool expects = have_snap && l->prev_id != 0;
    if (!exists) {
        if (expects) {
            return rs__err(st, RS_EFORMAT, "%s: missing, yet %s was written "
                           "by a durable store and a journal follows it: "
                           "the changes acknowledged since are gone", jpath,
                           snap);
        }
        return RS_OK;
    }
    if (len < J_HEADER) {
        return rs__err(st, RS_EFORMAT, "%s: %zu bytes, shorter than a "
                       "journal's %d-byte header (a journal is written whole "
                       "and renamed into place, so it was damaged)", jpath,
                       len, J_HEADER);
    }
    rs_status rc = check_header(st, jpath, buf, &out->jid);
    if (rc != RS_OK) {
        return rc;
    }
    if (out->jid == l->id) {
        out->use = true;
        out->start = J_HEADER;
        return RS_OK;
    }
    if (expects && l->prev_id != l->id && out->jid == l->prev_id &&
        l->prev_off >= J_HEADER) {
        if (len < l->prev_off) {
            return rs__err(st, RS_EFORMAT, "%s: %zu bytes, yet %s holds it up "
                           "to byte %llu: the journal lost entries", jpath,
                           len, snap, (unsigned long long)l->prev_off);
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
        return rs__err(st, RS_EFORMAT, "%s: follows snapshot %016llx, and %s "
                       "is missing", jpath, (unsigned long long)out->jid,
                       snap);
    }
    return rs__err(st, RS_EFORMAT, "%s: follows snapshot %016llx, not %s "
                   "(%016llx)", jpath, (unsigned long long)out->jid, snap,
                   (unsigned long long)l->id);
}

/* Whether name is prefix + ".tmp-" + 16 hex digits: a temporary file
 * rs__tmp_create() made beside prefix. */
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
    rs__persist *p0 = rs__p_of(st);
    if ((p0 && (p0->jfd >= 0 || p0->in_group)) || rs__saver_of(st)) {
        return rs__err(st, RS_EINVAL, "rs_durable_open: the store is already "
                       "durable, saving or in a group");
    }
    if (!store_empty(st)) {
        return rs__err(st, RS_EINVAL, "rs_durable_open: the store must hold "
                       "no records");
    }
    rs__persist *p;
    if (rs__p_get(st, &p) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory");
    }
    char *snap = journal_path(st, base, ".snap");
    char *jpath = journal_path(st, base, ".journal");
    p->base = journal_path(st, base, "");
    uint8_t *sbuf = NULL, *jbuf = NULL;
    size_t slen = 0, jlen = 0;
    rs__loaded l;
    memset(&l, 0, sizeof l);
    l.first_new_class = st->n_classes;
    rs__shape_mark(&st->attrs, &l.amark);
    replay rp;
    memset(&rp, 0, sizeof rp);
    rs_status rc = snap && jpath && p->base ? RS_OK
                                            : rs__err(st, RS_ENOMEM, "out of "
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
        char *lock = journal_path(st, base, ".lock");
        rc = lock ? lock_path(st, lock, true, &p->lockfd)
                  : rs__err(st, RS_ENOMEM, "out of memory");
        path_free(st, lock);
    }
    if (rc == RS_OK) {
        rc = lock_path(st, jpath, false, &jfd0);
    }
    /* 1. The snapshot.  (Files an older library wrote may hold records
     * with an empty key: they load, and only new ones are refused.) */
    st->reading_files = true;
    bool have_snap = false;
    if (rc == RS_OK) {
        rc = rs__read_file(st, snap, &sbuf, &slen);
        if (rc == RS_OK) {
            have_snap = true;
            rc = rs__load_mem(st, sbuf, slen, snap, info, &l);
        } else if (rc == RS_ENOTFOUND) {
            rc = RS_OK;
        }
    }
    /* 2. The journal: what it continues, and from where. */
    jplan plan;
    memset(&plan, 0, sizeof plan);
    size_t good = 0, n_entries = 0;
    if (rc == RS_OK && jfd0 >= 0) {
        rc = rs__read_fd(st, jfd0, jpath, &jbuf, &jlen);
    }
    bool damaged = false; /* the journal's framing: a repair mends it */
    if (rc == RS_OK) {
        rc = journal_plan(st, jpath, snap, have_snap, &l, jfd0 >= 0, jbuf,
                          jlen, &plan);
        damaged = rc == RS_EFORMAT;
    }
    if (rc == RS_OK && plan.use) {
        rc = rs_store_open(st->alloc, st->alloc_ud, &rp.scratch);
        if (rc == RS_OK) {
            rp.l = &l;
            rp.info = info;
            rc = replay_journal(st, &rp, jpath, jbuf, jlen, plan.start, &good,
                                &n_entries, &damaged);
        } else {
            rc = rs__err(st, RS_ENOMEM, "out of memory");
        }
    }
    if (rc == RS_EFORMAT && damaged) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs__err(st, rc, "%s (nothing was changed; rs_durable_repair() or "
                "`roster repair %s` keeps what is whole and moves the "
                "journal aside)", msg, base);
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
        if (good < jlen && (ftruncate(jfd0, (off_t)good) != 0 ||
                            fdatasync(jfd0) != 0)) {
            rc = rs__err(st, RS_EIO, "%s: %s", jpath, strerror(errno));
        } else {
            p->jfd = jfd0;
            jfd0 = -1;
            p->jlen = good;
            p->snap_id = l.id;
            p->jclasses = l.n_cmaps;
            p->last_sync = rs__now_ns();
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
            rc = rs__save_open(st, snap, plan.jid, good, &sv);
        }
        if (rc == RS_OK) {
            uint64_t id = rs__saver_id(sv);
            rc = rs_save_finish(sv, NULL);
            if (rc == RS_OK) {
                rc = journal_create(st, p, id);
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
        rc = rs__save_open(st, snap, RS__PREV_SELF, J_HEADER, &sv);
        if (rc == RS_OK) {
            rc = journal_create(st, p, rs__saver_id(sv));
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
    replay_free(st, &rp);
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs__load_undo(st, &l); /* no-op if nothing was loaded */
        rs__p_free(st);        /* files, lock, BASE: not durable */
        rs__err(st, rc, "%s", msg);
        if (info) {
            memset(info, 0, sizeof *info);
        }
    }
    rs__loaded_free(st, &l);
    if (sbuf) {
        rs__free(st, RS_MEM_META, sbuf, slen ? slen : 1);
    }
    if (jbuf) {
        rs__free(st, RS_MEM_META, jbuf, jlen ? jlen : 1);
    }
    path_free(st, snap);
    path_free(st, jpath);
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
    jwalk w = jwalk_at(path, buf, len);
    jentry e;
    rs_status rc;
    while ((rc = jwalk_next(st, &w, &e)) == RS_OK) {
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
    size_t cap = strlen(path) + RS__TMP_EXTRA + 1;
    char *tmp = rs__alloc(st, RS_MEM_META, cap);
    if (tmp == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory");
    }
    rs_status rc = RS_OK;
    int fd = rs__tmp_create(path, tmp);
    if (fd < 0 || rs__write_all(fd, bytes, n, 0) != 0 || fdatasync(fd) != 0 ||
        rename(tmp, path) != 0 || rs__fsync_dir(path) != 0) {
        rc = rs__err(st, RS_EIO, "%s: writing the repaired journal: %s",
                     path, strerror(errno));
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
            if (rs__fsync_dir(aside) != 0) {
                return rs__err(st, RS_EIO, "%s: %s", aside, strerror(errno));
            }
            return RS_OK;
        }
        if (errno != EEXIST) {
            return rs__err(st, RS_EIO, "%s: cannot keep a copy as %s: %s",
                           path, aside, strerror(errno));
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
    rs__persist *p0 = rs__p_of(st);
    if ((p0 && p0->base) || !store_empty(st)) {
        return rs__err(st, RS_EINVAL, "rs_durable_repair: the store must be "
                       "empty and not durable");
    }
    char *snap = journal_path(st, base, ".snap");
    char *jpath = journal_path(st, base, ".journal");
    char *lock = journal_path(st, base, ".lock");
    int lockfd = -1, jfd = -1;
    uint8_t *sbuf = NULL, *jbuf = NULL;
    size_t slen = 0, jlen = 0;
    rs__loaded l;
    memset(&l, 0, sizeof l);
    bool have_snap = false;
    struct stat sb;
    rs_status rc = snap && jpath && lock
                       ? RS_OK
                       : rs__err(st, RS_ENOMEM, "out of memory");
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
        rc = rs__read_file(st, snap, &sbuf, &slen);
        rs_file_info fi;
        if (rc == RS_OK) {
            have_snap = true;
            rc = rs__snap_inspect(st, sbuf, slen, snap, &fi);
            if (rc == RS_EFORMAT) {
                char msg[sizeof st->err];
                memcpy(msg, st->err, sizeof msg);
                rs__err(st, rc, "%s (the snapshot is damaged; a repair "
                        "mends only the journal)", msg);
            }
            l.id = fi.id;
            l.prev_id = fi.prev_id;
            l.prev_off = fi.prev_off;
        } else if (rc == RS_ENOTFOUND) {
            rc = RS_OK;
        }
    }
    if (rc == RS_OK && jfd >= 0) {
        rc = rs__read_fd(st, jfd, jpath, &jbuf, &jlen);
    }
    jplan plan;
    size_t good = 0;
    uint8_t head[J_HEADER];
    const uint8_t *keep = NULL;
    if (rc == RS_OK) {
        rc = journal_plan(st, jpath, snap, have_snap, &l, jfd >= 0, jbuf,
                          jlen, &plan);
        if (rc == RS_OK && plan.use) {
            rc = first_damage(st, jpath, jbuf, jlen, &good,
                              &info->kept_entries);
            keep = jbuf;
        } else if (rc == RS_EFORMAT) {
            /* The journal cannot follow the snapshot (missing, short, or
             * another snapshot's): an empty one that follows it. */
            put_header(head, have_snap ? l.id : 0);
            keep = head;
            good = J_HEADER;
        }
    }
    if (rc == RS_EFORMAT && keep != NULL) {
        snprintf(info->reason, sizeof info->reason, "%s", st->err);
        rs__clear_err(st);
        info->kept_bytes = good;
        info->dropped_bytes = keep == jbuf ? jlen - good : jlen;
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
    path_free(st, snap);
    path_free(st, jpath);
    path_free(st, lock);
    if (rc != RS_OK) {
        char aside[sizeof info->aside];
        memcpy(aside, info->aside, sizeof aside);
        memset(info, 0, sizeof *info);
        memcpy(info->aside, aside, sizeof aside); /* a copy was made */
    }
    return rc;
}

rs_status rs_journal_sync(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs__persist *p = rs__p_of(st);
    if (p == NULL || p->jfd < 0) {
        return rs__err(st, RS_EINVAL, "rs_journal_sync: the store is not "
                       "durable");
    }
    return journal_fsync(st, p, true);
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
    return fdatasync(rs__p_of(st)->jfd);
}

static const rs__save_steps compact_steps = {
    .copy = compact_copy,
    .journal_sync = compact_journal_sync,
    .next_sync = compact_sync,
    .finish = compact_finish,
    .abort = compact_abort,
};

/* ------------------------------------------------------------------------ */

static rs_status compact_begin(rs_store *st, rs_saver **out)
{
    rs__persist *p = rs__p_of(st);
    if (p == NULL || p->jfd < 0) {
        return rs__err(st, RS_EINVAL, "rs_save_begin: no path, and the store "
                       "is not durable");
    }
    if (p->jbroken) {
        return rs__err(st, RS_EIO, "%s.journal: unusable; reopen the store",
                       p->base);
    }
    char *snap = journal_path(st, p->base, ".snap");
    char *jpath = journal_path(st, p->base, ".journal");
    if (p->ctmp == NULL && jpath) {
        /* Kept until the store closes, so an abort needs no memory; each
         * compaction writes a new random suffix into it. */
        size_t cap = strlen(jpath) + RS__TMP_EXTRA + 1;
        p->ctmp = rs__alloc(st, RS_MEM_META, cap);
        if (p->ctmp) { /* full length from the start: freed by strlen() */
            snprintf(p->ctmp, cap, "%s.tmp-%016x", jpath, 0u);
        }
    }
    rs__buf b = {0};
    rs_saver *sv = NULL;
    rs_status rc = snap && jpath && p->ctmp
                       ? rs__save_open(st, snap, p->snap_id, p->jlen, &sv)
                       : rs__err(st, RS_ENOMEM, "out of memory");
    /* The next journal starts now, beside the save: its head (the new
     * snapshot's id, the names known now), then, step by step, what the
     * current journal receives from here on. */
    if (rc == RS_OK) {
        /* From here, freeing it cleans up. */
        rs__saver_mark_compact(sv, &compact_steps);
        rc = journal_head(st, rs__saver_id(sv), &b);
    }
    if (rc == RS_OK) {
        p->cfd = rs__tmp_create(jpath, p->ctmp);
        if (p->cfd < 0 || lock_new(p->cfd) != 0 ||
            rs__write_all(p->cfd, b.p, b.len, 0) != 0) {
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
    rs__buf_free(st, &b);
    path_free(st, snap);
    path_free(st, jpath);
    return rc;
}

static rs_status compact_copy(rs_store *st)
{
    rs__persist *p = rs__p_of(st);
#ifdef SYNC_FILE_RANGE_WRITE
    /* The journal up to the snapshot's moment must be on disk before the
     * snapshot's rename (persist.c, PH_JOURNAL).  Start its writeback 256
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
        if (r <= 0 || rs__write_all(p->cfd, chunk, (size_t)r, p->clen) != 0) {
            return rs__err(st, RS_EIO, "%s.journal.tmp: copying the journal: "
                           "%s", p->base,
                           r == 0 ? "short read" : strerror(errno));
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
    rs__persist *p = rs__p_of(st);
    if (p && p->cfd >= 0) {
        close(p->cfd);
        p->cfd = -1;
        unlink(p->ctmp); /* named at the start: no memory needed here */
    }
}

static rs_status compact_sync(rs_store *st)
{
    rs__persist *p = rs__p_of(st);
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
    rs__persist *p = rs__p_of(st);
    char *path = journal_path(st, p->base, ".journal");
    const char *tmp = p->ctmp;
    rs_status rc = path ? compact_copy(st)
                        : rs__err(st, RS_ENOMEM, "out of memory");
    /* What arrived since the last sync must be on disk before the name. */
    if (rc == RS_OK && p->clen > p->csynced && fdatasync(p->cfd) != 0) {
        rc = rs__err(st, RS_EIO, "%s: fdatasync: %s", tmp, strerror(errno));
    }
    if (rc == RS_OK && rename(tmp, path) != 0) {
        rc = rs__err(st, RS_EIO, "%s: %s (the snapshot is in place; the old "
                     "journal still applies)", tmp, strerror(errno));
    }
    if (rc != RS_OK) {
        compact_abort(st);
    } else {
        /* Renamed: from here the new journal is the one a reopen reads,
         * whatever else fails, so it is the one to write to. */
        int fd = p->cfd;
        p->cfd = -1;
        journal_install(st, p, fd, p->clen, rs__saver_id(sv), p->cnames);
        if (rs__fsync_dir(path) != 0) {
            p->dir_unsynced = true; /* retried before the next change */
            rc = rs__err(st, RS_EIO, "%s: fsync of its directory: %s (the "
                         "new journal is in use; changes wait until its "
                         "name is on disk)", path, strerror(errno));
        }
    }
    path_free(st, path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Inspection                                                                */
/* ------------------------------------------------------------------------ */

static rs_status journal_inspect(rs_store *st, const uint8_t *buf, size_t len,
                                 const char *path, rs_file_info *fi)
{
    memset(fi, 0, sizeof *fi);
    fi->kind = RS_FILE_JOURNAL;
    fi->version = J_VERSION;
    fi->bytes = len;
    if (len < J_HEADER) {
        return rs__err(st, RS_EFORMAT, "%s: not a roster journal (%zu bytes, "
                       "shorter than its header)", path, len);
    }
    rs_status rc = check_header(st, path, buf, &fi->id);
    if (rc != RS_OK) {
        return rc;
    }
    jwalk w = jwalk_at(path, buf, len);
    jentry e;
    while ((rc = jwalk_next(st, &w, &e)) == RS_OK) {
        size_t changes = e.ops[J_INSERT] + e.ops[J_REMOVE] + e.ops[J_SET] +
                         e.ops[J_BIND] + e.ops[J_UNBIND];
        fi->n_classes += e.ops[J_CLASS];
        fi->n_names += e.ops[J_NAME];
        fi->n_records += e.ops[J_INSERT];
        fi->n_removes += e.ops[J_REMOVE];
        fi->n_sets += e.ops[J_SET];
        fi->n_binds += e.ops[J_BIND];
        fi->n_unbinds += e.ops[J_UNBIND];
        fi->n_groups += changes > 1;
        fi->n_blocks++;
    }
    if (rc != RS_DONE) {
        return rc;
    }
    fi->torn_bytes = len - w.off;
    return RS_OK;
}

rs_status rs_inspect(rs_store *st, const char *path, rs_file_info *out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (path == NULL || out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_inspect: NULL argument");
    }
    uint8_t *buf;
    size_t len;
    rs_status rc = rs__read_file(st, path, &buf, &len);
    if (rc != RS_OK) {
        return rc == RS_ENOTFOUND ? RS_EIO : rc;
    }
    if (len >= 8 && memcmp(buf, J_MAGIC, 8) == 0) {
        rc = journal_inspect(st, buf, len, path, out);
    } else {
        rc = rs__snap_inspect(st, buf, len, path, out);
    }
    rs__free(st, RS_MEM_META, buf, len ? len : 1);
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
    if (path == NULL) {
        return compact_begin(st, out);
    }
    if (path[0] == '\0') {
        return rs__err(st, RS_EINVAL, "rs_save_begin: empty path");
    }
    /* The rename at the end replaces whatever has the name: never let it
     * be a device, a FIFO or a socket (as root, "/dev/null" would go). */
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode) &&
        !S_ISLNK(sb.st_mode)) {
        return rs__err(st, RS_EINVAL, "%s: exists and is not a regular file "
                       "(%s)", path, S_ISDIR(sb.st_mode) ? "a directory"
                                     : S_ISFIFO(sb.st_mode) ? "a FIFO"
                                     : S_ISSOCK(sb.st_mode) ? "a socket"
                                                            : "a device");
    }
    rs_status rc = rs__own_file(st, path);
    return rc != RS_OK ? rc : rs__save_open(st, path, 0, 0, out);
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
