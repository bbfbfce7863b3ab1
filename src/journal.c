/*
 * journal.c: the journal of a durable store: its format, its writer and
 * its one entry reader (journal.h).
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
 *     INSERT  varint class, the record image (snapshot.c)
 *     REMOVE  varint class, the key (by the key field's type)
 *     SET     varint class, the key, varint field, the value (by type)
 *     BIND    varint class, the key, varint name id, tagged value
 *     UNBIND  varint class, the key, varint name id
 *   Classes are numbered as in the snapshot (its CLASS blocks), then in
 *   CLASS order; records are named by their key.
 *
 * One call is one entry; a group is one entry (txn.c holds the journal
 * while it is open), so a crash leaves all of a group or none.  An entry
 * is written with one pwrite() at the journal's end, in the observer's
 * prepare, before the store writes; if that fails, the file is cut back to
 * its previous length and the call fails with nothing changed.
 *
 * Torn tail or damage: only a prefix of the last entry can come from a
 * crash (next_entry()); anything else is refused, and rs_durable_repair()
 * (durable.c) keeps the whole entries.  Replay, inspection, the opener and
 * repair read entries through one reader, rs__journal_walk_next().
 *
 * Opening, compaction and repair are durable.c's; groups are txn.c's.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range() */
#endif
#include "journal.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------ */
/* Writing entries                                                           */
/* ------------------------------------------------------------------------ */

void rs__journal_put_header(uint8_t h[RS__J_HEADER], uint64_t snap_id)
{
    rs__buf b = {h, 0, RS__J_HEADER};
    rs__codec_put_bytes(&b, RS__J_MAGIC, 8);
    rs__codec_put_u32le(&b, RS__J_VERSION);
    rs__codec_put_u32le(&b, 0);
    rs__codec_put_u64le(&b, snap_id);
    rs__codec_put_u64le(&b, XXH3_64bits(h, 24));
}

char *rs__journal_path(rs_store *st, const char *base, const char *ext)
{
    size_t a = strlen(base), b = strlen(ext);
    char *p = rs__alloc(st, RS_MEM_META, a + b + 1);
    if (p) {
        memcpy(p, base, a);
        memcpy(p + a, ext, b + 1);
    }
    return p;
}

void rs__journal_path_free(rs_store *st, char *p)
{
    if (p) {
        rs__free(st, RS_MEM_META, p, strlen(p) + 1);
    }
}

/* Lock a journal this store just created (not yet under its name). */
int rs__journal_lock_new(int fd)
{
    return flock(fd, LOCK_EX | LOCK_NB);
}

/* Every op is its kind, its body's length and its body, so a reader can
 * step over an op it does not decode (roster inspect) and a body cannot
 * run into the next op.  The length goes in front once the body is
 * written: entry_room() callers reserve OP_SLACK for it. */
#define OP_SLACK 10

/* Start a new entry in p->entry (room for its frame). */
static rs_status entry_room(rs_store *st, rs__journal *p, size_t more)
{
    more += OP_SLACK;
    if (p->entry.len == 0) {
        if (rs__codec_reserve(st, &p->entry, RS__J_EHEAD + more) != RS_OK) {
            return RS_ENOMEM;
        }
        p->entry.len = RS__J_EHEAD;
        p->entry_ops = 0;
        return RS_OK;
    }
    return rs__codec_reserve(st, &p->entry, more);
}

static size_t op_open(rs__buf *b, unsigned kind)
{
    rs__codec_put_u8(b, (uint8_t)kind);
    return b->len;
}

static void op_close(rs__buf *b, size_t at)
{
    size_t n = b->len - at;
    uint8_t v[10];
    rs__buf vb = {v, 0, sizeof v};
    rs__codec_put_uvar(&vb, n);
    memmove(b->p + at + vb.len, b->p + at, n);
    memcpy(b->p + at, v, vb.len);
    b->len += vb.len;
}

static void entry_drop(rs__journal *p)
{
    p->entry.len = 0;
    p->entry_ops = 0;
    p->pend.len = 0;
}

static bool name_declared(const rs__journal *p, uint32_t id)
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
static rs_status entry_name(rs_store *st, rs__journal *p, uint32_t id)
{
    if (name_declared(p, id)) {
        return RS_OK;
    }
    const rs__aname *nm = &st->attrs.names[id];
    if (entry_room(st, p, 1 + 10 + 10 + nm->len) != RS_OK ||
        rs__codec_reserve(st, &p->pend, 4) != RS_OK) {
        return RS_ENOMEM;
    }
    size_t at = op_open(&p->entry, RS__J_NAME);
    rs__codec_put_uvar(&p->entry, id);
    rs__codec_put_uvar(&p->entry, nm->len);
    rs__codec_put_bytes(&p->entry, nm->s, nm->len);
    op_close(&p->entry, at);
    rs__codec_put_bytes(&p->pend, &id, 4);
    return RS_OK;
}

static rs_status fail_journal(rs_store *st, rs__journal *p, const char *what)
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

rs_status rs__journal_fsync(rs_store *st, rs__journal *p, bool force)
{
    uint64_t now = rs__sys_now_ns();
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
static void reap_old(rs__journal *p)
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
static rs_status entry_write(rs_store *st, rs__journal *p)
{
    if (p->entry.len <= RS__J_EHEAD) {
        entry_drop(p);
        return RS_OK;
    }
    if (p->dir_unsynced) {
        /* The journal's name (a compaction's rename) is not known to be on
         * disk: nothing more is acknowledged until it is. */
        char *path = rs__journal_path(st, p->base, ".journal");
        int r = path ? rs__sys_fsync_dir(path) : -1;
        int e = errno;
        rs__journal_path_free(st, path);
        if (r != 0) {
            entry_drop(p);
            return rs__err(st, RS_EIO,
                           "%s.journal: fsync of its directory: "
                           "%s",
                           p->base, path ? strerror(e) : "out of memory");
        }
        p->dir_unsynced = false;
    }
    size_t len = p->entry.len - RS__J_EHEAD;
    if (len > UINT32_MAX) {
        entry_drop(p);
        return rs__err(st, RS_EFULL,
                       "a journal entry of %zu bytes is too "
                       "large",
                       len);
    }
    rs__buf h = {p->entry.p, 0, RS__J_EHEAD};
    rs__codec_put_u32le(&h, (uint32_t)len);
    rs__codec_put_u64le(&h, XXH3_64bits(p->entry.p + RS__J_EHEAD, len));
    rs_status rc = RS_OK;
    if (rs__sys_write_all(p->jfd, p->entry.p, p->entry.len, p->jlen) != 0) {
        rc = fail_journal(st, p, "write failed");
    } else {
        rc = rs__journal_fsync(st, p, false);
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
            uint8_t *m =
                rs__realloc(st, RS_MEM_META, p->jnames, p->jnames_cap, cap);
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
        rs__codec_free(st, &p->entry);
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* The writer: the journal's side of every change                            */
/* ------------------------------------------------------------------------ */

static void put_key(rs__buf *b, rs_class *c, uint32_t slot)
{
    char buf[RS_KEY_TMP];
    rs_field k = c->sch.key;
    rs_value v = rs__row_value(c, rs__row(c, slot), k, buf);
    rs__codec_put_value(b, c->sch.fields[k].type, &v);
}

static size_t key_bound(rs_class *c, uint32_t slot)
{
    char buf[RS_KEY_TMP];
    rs_value v = rs__row_value(c, rs__row(c, slot), c->sch.key, buf);
    return RS_VAL_MAX + (v.type == RS_STR ? v.v.s.len : 0);
}

static rs__journal_mark jmark_of(const rs__journal *p)
{
    return (rs__journal_mark){p->entry.len, p->pend.len, p->entry.cap,
                              p->pend.cap};
}

static rs_status oom(rs_store *st, rs__journal *p, const rs__journal_mark *m)
{
    p->entry.len = m->entry_len;
    p->pend.len = m->pend_len;
    rs__codec_shrink(st, &p->entry, m->entry_cap);
    rs__codec_shrink(st, &p->pend, m->pend_cap);
    return rs__err(st, RS_ENOMEM, "out of memory journaling a change");
}

/* After an op went into the entry: a held entry (a group's) waits for the
 * group's commit; otherwise it is written now. */
static rs_status op_done(rs_store *st, rs__journal *p,
                         const rs__journal_mark *m)
{
    if (p->held) {
        p->entry_ops++;
        return RS_OK;
    }
    rs_status rc = entry_write(st, p);
    if (rc != RS_OK) {
        /* Refused (the write failed): the buffers as the op found them. */
        rs__codec_shrink(st, &p->entry, m->entry_cap);
        rs__codec_shrink(st, &p->pend, m->pend_cap);
    }
    return rc;
}

static rs_status log_insert(rs_store *st, rs__journal *p, const rs__change *ch)
{
    rs_class *c = ch->c;
    rs__journal_mark m = jmark_of(p);
    size_t need = 1 + 10 + 10;
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        need += rs__codec_value_bound(&ch->vals[f]);
    }
    for (uint32_t k = 0; k < ch->n_attrs; k++) {
        if (entry_name(st, p, ch->attrs[k].name) != RS_OK) {
            return oom(st, p, &m);
        }
        need += 5 + rs__codec_value_bound(&ch->attrs[k].val);
    }
    if (entry_room(st, p, need) != RS_OK) {
        return oom(st, p, &m);
    }
    size_t at = op_open(&p->entry, RS__J_INSERT);
    rs__codec_put_uvar(&p->entry, (uint32_t)c->id - 1u);
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        rs__codec_put_value(&p->entry, c->sch.fields[f].type, &ch->vals[f]);
    }
    rs__codec_put_uvar(&p->entry, ch->n_attrs);
    for (uint32_t k = 0; k < ch->n_attrs; k++) {
        rs__codec_put_uvar(&p->entry, ch->attrs[k].name);
        rs__codec_put_avalue(&p->entry, &ch->attrs[k].val);
    }
    op_close(&p->entry, at);
    return op_done(st, p, &m);
}

static rs_status log_remove(rs_store *st, rs__journal *p, const rs__change *ch)
{
    rs__journal_mark m = jmark_of(p);
    if (entry_room(st, p, 1 + 10 + key_bound(ch->c, ch->slot)) != RS_OK) {
        return oom(st, p, &m);
    }
    size_t at = op_open(&p->entry, RS__J_REMOVE);
    rs__codec_put_uvar(&p->entry, (uint32_t)ch->c->id - 1u);
    put_key(&p->entry, ch->c, ch->slot);
    op_close(&p->entry, at);
    return op_done(st, p, &m);
}

static rs_status log_set(rs_store *st, rs__journal *p, const rs__change *ch)
{
    rs_class *c = ch->c;
    rs__journal_mark m = jmark_of(p);
    size_t need =
        1 + 20 + key_bound(c, ch->slot) + rs__codec_value_bound(ch->val);
    if (entry_room(st, p, need) != RS_OK) {
        return oom(st, p, &m);
    }
    size_t at = op_open(&p->entry, RS__J_SET);
    rs__codec_put_uvar(&p->entry, (uint32_t)c->id - 1u);
    put_key(&p->entry, c, ch->slot);
    rs__codec_put_uvar(&p->entry, (uint64_t)ch->field);
    rs__codec_put_value(&p->entry, c->sch.fields[ch->field].type, ch->val);
    op_close(&p->entry, at);
    return op_done(st, p, &m);
}

static rs_status log_attrs(rs_store *st, rs__journal *p, const rs__change *ch)
{
    rs_class *c = ch->c;
    rs__journal_mark m = jmark_of(p);
    size_t need =
        1 + 20 + key_bound(c, ch->slot) + rs__codec_value_bound(ch->val);
    if (entry_name(st, p, ch->name) != RS_OK ||
        entry_room(st, p, need) != RS_OK) {
        return oom(st, p, &m);
    }
    size_t at = op_open(&p->entry, ch->val ? RS__J_BIND : RS__J_UNBIND);
    rs__codec_put_uvar(&p->entry, (uint32_t)c->id - 1u);
    put_key(&p->entry, c, ch->slot);
    rs__codec_put_uvar(&p->entry, ch->name);
    if (ch->val) {
        rs__codec_put_avalue(&p->entry, ch->val);
    }
    op_close(&p->entry, at);
    return op_done(st, p, &m);
}

static rs_status log_class(rs_store *st, rs__journal *p, rs_class *c)
{
    if (p->held) {
        return rs__err(st, RS_EINVAL,
                       "class '%s': classes cannot be "
                       "declared inside a group",
                       c->sch.name);
    }
    rs__journal_mark m = jmark_of(p);
    size_t n = rs_class_format(c, NULL, 0);
    if (entry_room(st, p, 1 + 10 + n + 1) != RS_OK) {
        entry_drop(p);
        return rs__err(st, RS_ENOMEM, "out of memory journaling class '%s'",
                       c->sch.name);
    }
    size_t at = op_open(&p->entry, RS__J_CLASS);
    rs__codec_put_uvar(&p->entry, n);
    rs_class_format(c, (char *)p->entry.p + p->entry.len, n + 1);
    p->entry.len += n;
    op_close(&p->entry, at);
    rs_status rc = op_done(st, p, &m); /* never held: refused above */
    if (rc == RS_OK) {
        p->jclasses++;
    }
    return rc;
}

static rs_status broken(rs_store *st, const rs__journal *p)
{
    return rs__err(st, RS_EIO,
                   "%s.journal: a failed write could not be "
                   "cut off; reopen the store",
                   p->base);
}

static rs_status journal_enter(rs_store *st, rs__observer *o)
{
    rs__journal *p = (rs__journal *)o;
    return p->jbroken ? broken(st, p) : RS_OK;
}

/* Before every change: write it (or, in a group, add it to the group's
 * entry).  A restore puts back what a group did, which the journal never
 * wrote; while an open is loading the files there is no journal yet. */
static rs_status journal_prepare(rs_store *st, rs__observer *o,
                                 const rs__change *ch)
{
    rs__journal *p = (rs__journal *)o;
    if (ch->restore || p->jfd < 0) {
        return RS_OK;
    }
    switch (ch->kind) {
    case RS__CHANGE_INSERT:
        return log_insert(st, p, ch);
    case RS__CHANGE_REMOVE:
        return log_remove(st, p, ch);
    case RS__CHANGE_SET:
        return log_set(st, p, ch);
    case RS__CHANGE_ATTRS:
        return log_attrs(st, p, ch);
    case RS__CHANGE_CLASS:
        if (p->jbroken) {
            return broken(st, p);
        }
        return log_class(st, p, ch->c);
    }
    return RS_OK;
}

static void journal_close(rs_store *st, rs__observer *o)
{
    (void)o;
    rs__journal_free(st);
}

/* ------------------------------------------------------------------------ */
/* The state, and groups' hold on it                                         */
/* ------------------------------------------------------------------------ */

static const char journal_name[] = "journal";

rs__journal *rs__journal_of(const rs_store *st)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->name == journal_name) {
            return (rs__journal *)o;
        }
    }
    return NULL;
}

rs_status rs__journal_new(rs_store *st, rs__journal **out)
{
    rs__journal *p = rs__calloc(st, RS_MEM_META, sizeof *p);
    if (p == NULL) {
        return RS_ENOMEM;
    }
    p->jfd = -1;
    p->cfd = -1;
    p->old_jfd = -1;
    p->lockfd = -1;
    p->obs = (rs__observer){.name = journal_name,
                            .enter = journal_enter,
                            .prepare = journal_prepare,
                            .close = journal_close};
    rs__change_observe(st, &p->obs);
    *out = p;
    return RS_OK;
}

void rs__journal_free(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
    if (p == NULL) {
        return;
    }
    if (p->jfd >= 0) {
        if (p->sync != RS_SYNC_NEVER) {
            (void)fdatasync(p->jfd);
        }
        close(p->jfd);
    }
    if (p->old_jfd >= 0) {
        close(p->old_jfd);
    }
    if (p->lockfd >= 0) {
        close(p->lockfd);
    }
    if (p->cfd >= 0) {
        close(p->cfd);
    }
    rs__codec_free(st, &p->entry);
    rs__codec_free(st, &p->pend);
    rs__free(st, RS_MEM_META, p->jnames, p->jnames_cap);
    rs__journal_path_free(st, p->base);
    rs__journal_path_free(st, p->ctmp);
    rs__change_unobserve(st, &p->obs);
    rs__free(st, RS_MEM_META, p, sizeof *p);
}

void rs__journal_hold(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
    if (p) {
        entry_drop(p);
        p->held = true;
        p->hold_mark = jmark_of(p);
    }
}

rs_status rs__journal_release(rs_store *st)
{
    rs__journal *p = rs__journal_of(st);
    if (p == NULL || !p->held) {
        return RS_OK;
    }
    p->held = false;
    if (p->jbroken) {
        entry_drop(p);
        return rs__err(st, RS_EIO, "%s.journal: unusable; reopen the store",
                       p->base);
    }
    return p->jfd >= 0 ? entry_write(st, p) : RS_OK;
}

void rs__journal_drop(rs_store *st, bool end)
{
    rs__journal *p = rs__journal_of(st);
    if (p) {
        entry_drop(p);
        /* A group that failed stays open, refusing changes, until it
         * ends: held until then, or a class declared meanwhile would be
         * written before the group refuses it. */
        if (!end) {
            /* A rollback: the group failed or was aborted, and leaves
             * the buffers as it found them. */
            rs__codec_shrink(st, &p->entry, p->hold_mark.entry_cap);
            rs__codec_shrink(st, &p->pend, p->hold_mark.pend_cap);
        }
        p->held = p->held && !end;
        /* Keep a big group's buffer from pinning memory. */
        if (p->entry.cap > (1u << 20)) {
            rs__codec_free(st, &p->entry);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Replay                                                                    */
/* ------------------------------------------------------------------------ */

void rs__journal_replay_free(rs_store *st, rs__journal_replay_state *rp)
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
    rs_value key = rs__codec_get_value(r, m->types[kf]);
    if (r->bad) {
        return rs__err(st, RS_EFORMAT, "a key cut short");
    }
    rs_status rc = rs_find(st, m->c, fs_key->key, &key, h);
    if (rc == RS_ENOTFOUND) {
        char shown[80];
        rs__class_fmt_value(shown, sizeof shown, &key);
        return rs__err(st, RS_EFORMAT, "%s %s is not in the store",
                       fs_key->name, shown);
    }
    return rc;
}

/* Apply the op at r.  (The part of a journal a snapshot already holds is
 * stepped over by the caller, which reads only its names.) */
static rs_status replay_op(rs_store *st, rs__journal_replay_state *rp,
                           unsigned kind, rs__rd *r)
{
    rs__loaded *l = rp->l;
    if (kind == RS__J_CLASS) {
        uint64_t n = rs__codec_get_uvar(r);
        const uint8_t *text = n < (1u << 24) ? rs__codec_get_bytes(r, n) : NULL;
        if (text == NULL) {
            return rs__err(st, RS_EFORMAT, "a class cut short");
        }
        rs_class *fc, *target;
        if (rs_class_parse(rp->scratch, (const char *)text, n, &fc) != RS_OK) {
            return rs__err(st, RS_EFORMAT, "bad class: %s",
                           rs_errmsg(rp->scratch));
        }
        if (l->n_cmaps == l->cap_cmaps) {
            uint32_t cap = l->cap_cmaps ? l->cap_cmaps * 2 : 4;
            rs__cmap *m =
                rs__realloc(st, RS_MEM_META, l->cmaps, l->cap_cmaps * sizeof *m,
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
        return rs__snapshot_cmap(st, fc, target, m, rp->info);
    }
    if (kind == RS__J_NAME) {
        uint64_t id = rs__codec_get_uvar(r), n = rs__codec_get_uvar(r);
        const uint8_t *p = n <= RS_MAX_NAME ? rs__codec_get_bytes(r, n) : NULL;
        if (p == NULL || id >= RS_ATTR_NAMES_MAX ||
            !rs__class_is_ident((const char *)p, n)) {
            return rs__err(st, RS_EFORMAT, "a bad attribute name");
        }
        if (id >= rp->n_names) {
            char **a =
                rs__realloc(st, RS_MEM_META, rp->names, rp->n_names * sizeof *a,
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
            rs__free(st, RS_MEM_META, rp->names[id], strlen(rp->names[id]) + 1);
        }
        rp->names[id] = s;
        return RS_OK;
    }
    uint64_t ci = rs__codec_get_uvar(r);
    if (r->bad || ci >= l->n_cmaps) {
        return rs__err(st, RS_EFORMAT, "an op on an unknown class");
    }
    const rs__cmap *m = &l->cmaps[ci];
    if (kind == RS__J_INSERT) {
        size_t n;
        if (!rs__snapshot_decode_record(r, m, rp->names, rp->n_names, rp->nv,
                                        &n)) {
            return rs__err(st, RS_EFORMAT,
                           "a record cut short or "
                           "malformed");
        }
        return rs_insert(st, m->c, rp->nv, n, NULL);
    }
    rs_handle h = RS_NULL_HANDLE;
    rs_status rc = find_by_key(st, r, m, &h);
    if (rc != RS_OK) {
        return rc;
    }
    switch (kind) {
    case RS__J_REMOVE:
        return rs_remove(st, h);
    case RS__J_SET: {
        uint64_t f = rs__codec_get_uvar(r);
        if (f >= m->n_fields) {
            return rs__err(st, RS_EFORMAT, "a set of an unknown field");
        }
        rs_value v = rs__codec_get_value(r, m->types[f]);
        if (r->bad) {
            return rs__err(st, RS_EFORMAT, "a value cut short");
        }
        return m->to[f] < 0 ? RS_OK : rs_set_field(st, h, m->to[f], &v);
    }
    case RS__J_BIND:
    case RS__J_UNBIND: {
        uint64_t id = rs__codec_get_uvar(r);
        if (id >= rp->n_names || rp->names[id] == NULL) {
            return rs__err(st, RS_EFORMAT, "an undeclared attribute name");
        }
        if (kind == RS__J_UNBIND) {
            return rs_del_attr(st, h, rp->names[id]);
        }
        rs_value v = rs__codec_get_avalue(r);
        if (r->bad) {
            return rs__err(st, RS_EFORMAT, "a value cut short");
        }
        return rs_set_attr(st, h, rp->names[id], &v);
    }
    default:
        return rs__err(st, RS_EFORMAT, "unknown op %u", kind);
    }
}

/* Check a journal's header (the caller made sure it has RS__J_HEADER bytes);
 * OUT *id, the snapshot it follows. */
rs_status rs__journal_check_header(rs_store *st, const char *path,
                                   const uint8_t *buf, uint64_t *id)
{
    rs__rd r = {buf + 8, buf + RS__J_HEADER, false};
    uint32_t version = rs__codec_get_u32le(&r);
    rs__codec_get_u32le(&r);
    *id = rs__codec_get_u64le(&r);
    if (memcmp(buf, RS__J_MAGIC, 8) != 0 ||
        rs__codec_get_u64le(&r) != XXH3_64bits(buf, 24)) {
        return rs__err(st, RS_EFORMAT,
                       "%s: not a roster journal (bad "
                       "header)",
                       path);
    }
    if (version != RS__J_VERSION) {
        return rs__err(st, RS_EFORMAT,
                       "%s: journal version %u, this "
                       "library reads version %u",
                       path, version, RS__J_VERSION);
    }
    return RS_OK;
}

/* The next op of an entry: its kind and its body; false (and e->bad) if
 * the body runs past the entry. */
static bool next_op(rs__rd *e, unsigned *kind, rs__rd *body)
{
    *kind = rs__codec_get_u8(e);
    uint64_t n = rs__codec_get_uvar(e);
    const uint8_t *p = !e->bad && n <= (uint64_t)(e->end - e->p)
                           ? rs__codec_get_bytes(e, n)
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
 * than RS__J_EHEAD bytes, or a length that runs past the end of the file.  That
 * is the only torn tail.  Anything else (a checksum that does not match, a
 * zero length, zeros where entries were) cannot come from one write cut
 * short: it is damage to entries that may have been acknowledged, so the
 * open refuses it rather than drop them, and rs_durable_repair() decides
 * with the user.  (A length damaged so that it runs past the end is caught
 * too: whole entries follow it, or the rest of the file is itself one
 * whole entry under the checksum.) */
static rs_status next_entry(rs_store *st, const char *path, const uint8_t *buf,
                            size_t len, size_t off, size_t k,
                            const uint8_t **payload, uint32_t *n)
{
    if (len - off < RS__J_EHEAD) {
        return RS_DONE;
    }
    rs__rd h = {buf + off, buf + off + RS__J_EHEAD, false};
    *n = rs__codec_get_u32le(&h);
    uint64_t sum = rs__codec_get_u64le(&h);
    size_t rest = len - off - RS__J_EHEAD;
    if (*n > rest) {
        if (prefix_sums_to(buf, off + RS__J_EHEAD, len, sum)) {
            return rs__err(st, RS_EFORMAT,
                           "%s: entry %zu at byte %zu: its "
                           "length runs past the end of the file, yet its "
                           "checksum matches the bytes of a whole entry "
                           "(its length was damaged): damage, not a write "
                           "cut short",
                           path, k, off);
        }
        return RS_DONE;
    }
    if (*n == 0) {
        return rs__err(st, RS_EFORMAT,
                       "%s: entry %zu at byte %zu: zero "
                       "length: damage, not a write cut short",
                       path, k, off);
    }
    *payload = buf + off + RS__J_EHEAD;
    if (XXH3_64bits(*payload, *n) != sum) {
        return rs__err(st, RS_EFORMAT,
                       "%s: entry %zu at byte %zu: checksum "
                       "mismatch%s: damage, not a write cut short",
                       path, k, off,
                       off + RS__J_EHEAD + *n == len ? " in the last entry"
                                                     : "");
    }
    return RS_OK;
}

/* The one reader of a journal's entries, for replay, inspection, the
 * open's plan and repair: each call frames the next entry (next_entry())
 * and checks its ops' framing, counting them by kind. */

rs__journal_walk rs__journal_walk_at(const char *path, const uint8_t *buf,
                                     size_t len)
{
    return (rs__journal_walk){path, buf, len, RS__J_HEADER, 0};
}

/* RS_OK and the next whole entry in *e; RS_DONE at the end of the
 * journal or at a torn last entry (w->off is then where whole entries
 * end); RS_EFORMAT for damage (w->off is where the damaged entry starts). */
rs_status rs__journal_walk_next(rs_store *st, rs__journal_walk *w,
                                rs__journal_entry *e)
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
        if (kind < RS__J_CLASS || kind > RS__J_UNBIND) {
            r.bad = true;
            break;
        }
        e->ops[kind]++;
    }
    if (r.bad) {
        return rs__err(st, RS_EFORMAT,
                       "%s: entry %zu at byte %zu: "
                       "malformed op",
                       w->path, e->k, e->off);
    }
    w->off += RS__J_EHEAD + e->n;
    w->k = e->k;
    return RS_OK;
}

/* Replay the journal in buf from offset start; *good is where the last
 * whole entry ends.  Entries before start (which the snapshot holds) are
 * read only for the names they declare. */
rs_status rs__journal_replay(rs_store *st, rs__journal_replay_state *rp,
                             const char *path, const uint8_t *buf, size_t len,
                             size_t start, size_t *good, size_t *n_entries,
                             bool *damaged)
{
    rs__journal_walk w = rs__journal_walk_at(path, buf, len);
    rs__journal_entry e;
    rs_status fr;
    while ((fr = rs__journal_walk_next(st, &w, &e)) == RS_OK) {
        size_t off = e.off, k = e.k;
        rs__rd r = {e.payload, e.payload + e.n, false};
        if (off < start && off + RS__J_EHEAD + e.n > start) {
            return rs__err(st, RS_EFORMAT,
                           "%s: entry %zu at byte %zu: the "
                           "snapshot's offset %zu falls inside it",
                           path, k, off, start);
        }
        while (r.p < r.end) {
            unsigned kind;
            rs__rd o;
            rs_status rc = RS_OK;
            (void)next_op(&r, &kind,
                          &o); /* framed by rs__journal_walk_next() */
            if (off >= start || kind == RS__J_NAME) {
                rc = replay_op(st, rp, kind, &o);
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
                return rs__err(st, RS_EINVAL,
                               "%s: entry %zu at byte %zu: "
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
rs_status rs__journal_head(rs_store *st, uint64_t id, rs__buf *b)
{
    rs__attrs *a = &st->attrs;
    size_t need = RS__J_HEADER + RS__J_EHEAD;
    for (uint32_t i = 0; i < a->n_names; i++) {
        need += 21 + OP_SLACK + a->names[i].len;
    }
    if (rs__codec_reserve(st, b, need) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory writing a journal");
    }
    b->len = RS__J_HEADER;
    rs__journal_put_header(b->p, id);
    if (a->n_names > 0) {
        size_t at = b->len;
        b->len += RS__J_EHEAD;
        for (uint32_t i = 0; i < a->n_names; i++) {
            size_t op = op_open(b, RS__J_NAME);
            rs__codec_put_uvar(b, i);
            rs__codec_put_uvar(b, a->names[i].len);
            rs__codec_put_bytes(b, a->names[i].s, a->names[i].len);
            op_close(b, op);
        }
        size_t n = b->len - at - RS__J_EHEAD;
        rs__buf h = {b->p + at, 0, RS__J_EHEAD};
        rs__codec_put_u32le(&h, (uint32_t)n);
        rs__codec_put_u64le(&h, XXH3_64bits(b->p + at + RS__J_EHEAD, n));
    }
    return RS_OK;
}

/* The journal file of this store is now fd, len bytes, following snapshot
 * id; names below n_declared are declared in it. */
void rs__journal_install(rs_store *st, rs__journal *p, int fd, uint64_t len,
                         uint64_t id, uint32_t n_declared)
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
    p->last_sync = rs__sys_now_ns();
    p->jbroken = false;
    if (n_declared > p->jnames_cap) {
        uint32_t cap = n_declared + 64;
        uint8_t *m =
            rs__realloc(st, RS_MEM_META, p->jnames, p->jnames_cap, cap);
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
rs_status rs__journal_create(rs_store *st, rs__journal *p, uint64_t id)
{
    char *path = rs__journal_path(st, p->base, ".journal");
    size_t tcap = strlen(p->base) + 8 + RS__SYS_TMP_EXTRA + 1;
    char *tmp = rs__alloc(st, RS_MEM_META, tcap);
    rs__buf b = {0};
    rs_status rc = path && tmp ? rs__journal_head(st, id, &b)
                               : rs__err(st, RS_ENOMEM, "out of memory");
    int fd = -1;
    if (rc == RS_OK) {
        fd = rs__sys_tmp_create(path, tmp);
        if (fd < 0 || rs__journal_lock_new(fd) != 0 ||
            rs__sys_write_all(fd, b.p, b.len, 0) != 0 || fdatasync(fd) != 0 ||
            rename(tmp, path) != 0 || rs__sys_fsync_dir(path) != 0) {
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
        rs__journal_install(st, p, fd, b.len, id, st->attrs.n_names);
    }
    rs__codec_free(st, &b);
    rs__journal_path_free(st, path);
    if (tmp) {
        rs__free(st, RS_MEM_META, tmp, tcap);
    }
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
    fi->version = RS__J_VERSION;
    fi->bytes = len;
    if (len < RS__J_HEADER) {
        return rs__err(st, RS_EFORMAT,
                       "%s: not a roster journal (%zu bytes, "
                       "shorter than its header)",
                       path, len);
    }
    rs_status rc = rs__journal_check_header(st, path, buf, &fi->id);
    if (rc != RS_OK) {
        return rc;
    }
    rs__journal_walk w = rs__journal_walk_at(path, buf, len);
    rs__journal_entry e;
    while ((rc = rs__journal_walk_next(st, &w, &e)) == RS_OK) {
        size_t changes = e.ops[RS__J_INSERT] + e.ops[RS__J_REMOVE] +
                         e.ops[RS__J_SET] + e.ops[RS__J_BIND] +
                         e.ops[RS__J_UNBIND];
        fi->n_classes += e.ops[RS__J_CLASS];
        fi->n_names += e.ops[RS__J_NAME];
        fi->n_records += e.ops[RS__J_INSERT];
        fi->n_removes += e.ops[RS__J_REMOVE];
        fi->n_sets += e.ops[RS__J_SET];
        fi->n_binds += e.ops[RS__J_BIND];
        fi->n_unbinds += e.ops[RS__J_UNBIND];
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
    rs_status rc = rs__sys_read_file(st, path, &buf, &len);
    if (rc != RS_OK) {
        return rc == RS_ENOTFOUND ? RS_EIO : rc;
    }
    if (len >= 8 && memcmp(buf, RS__J_MAGIC, 8) == 0) {
        rc = journal_inspect(st, buf, len, path, out);
    } else {
        rc = rs__snapshot_inspect(st, buf, len, path, out);
    }
    rs__free(st, RS_MEM_META, buf, len ? len : 1);
    return rc;
}
