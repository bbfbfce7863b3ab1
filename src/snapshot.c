/*
 * snapshot.c: snapshots: the saver, the loader and inspection.
 *
 * A snapshot file:
 *
 *   header, 48 bytes:
 *     0  "RSTRSNAP"            magic
 *     8  u32 version (1)
 *    12  u32 classes
 *    16  u64 id                random: the journal that follows this
 *                              snapshot carries it in its header
 *    24  u64 prev_id           the journal this snapshot was compacted
 *    32  u64 prev_off          from, and the offset in it of the moment the
 *                              snapshot shows; a durable store's first
 *                              snapshot: its own id and 32 (a journal of
 *                              its own follows it); 0, 0 for a plain save
 *                              (no journal expected)
 *    40  u64 XXH3-64 of bytes 0..39
 *   blocks, each:
 *     u8 kind, 3 zero bytes, u32 count, u32 length, the payload (length
 *     bytes), u64 XXH3-64 of the 12 header bytes and the payload:
 *       CLASS    payload: a class in its text form (rs_class_format());
 *                one per class, first, in the store's order (class 0, 1..)
 *       RECORDS  payload: varint class number, then count records
 *       NAMES    payload: count dynamic attribute names (varint length,
 *                bytes); name ids in records index this list
 *       END      payload: varint total records; the last block, the last
 *                byte of the file
 *
 * A record is its fields in declaration order, each by its type (codec.h:
 * zigzag varints for signed integers, varints for unsigned ones, IEEE bytes
 * for floats, a varint length and the bytes for strings), then a varint
 * count of dynamic attributes and, for each, a varint name id and a tagged
 * value.  For the canonical player that is about 22 bytes, against 37 in
 * memory: the file holds the data, not the indexes or the row layout.
 *
 * Saving needs no fork.  rs_save_begin() notes, per class, how many slots
 * exist (the high-water mark) and keeps a bit per slot: "already written".
 * Steps walk the slots in order.  Before the store changes a record the save
 * has not reached, or hands a free slot below the mark to an insert, the
 * saver hears of it (it is an observer of the store's changes, change.h)
 * and writes the record as it is (still as it was at the start) and sets
 * its bit, so the walk skips it.  Slots above the mark
 * are records inserted since the start, never written.  The file so shows
 * the store at rs_save_begin(), at the cost of a bit per slot and the write
 * buffers: about 0.5 MB at a million records, 1.4% of the store.  Written
 * bytes are handed to writeback as they go (sync_file_range), at most two
 * buffers behind, and the finishing work (fsync, rename, directory fsync;
 * a compaction's journal steps, durable.c) is one step per call, so no
 * call of a save makes writers wait for more than one of them.
 *
 * Loading checks the header and every block's checksum and framing first,
 * then builds; a record the store refuses (a bad value, a duplicate key)
 * undoes the whole load: records, declared classes, attribute names and
 * shapes.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range() */
#endif
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SNAP_MAGIC "RSTRSNAP"
#define SNAP_VERSION 1u
#define SNAP_HEADER 48
#define BLOCK_HEAD 12
#define BLOCK_SUM 8
#define BLOCK_TARGET (64u << 10) /* records per block: about this many bytes */
#define OUT_FLUSH (256u << 10)   /* write buffer */

enum { BLK_CLASS = 1, BLK_RECORDS = 2, BLK_NAMES = 3, BLK_END = 4 };

size_t rs__snapshot_image_bound(rs_store *st, const rs_class *c, uint32_t slot)
{
    size_t n = 10;
    char buf[RS_KEY_TMP];
    const uint8_t *row = rs__row(c, slot);
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        rs_value v = rs__row_value(c, row, (rs_field)f, buf);
        n += rs__codec_value_bound(&v);
    }
    uint32_t m = rs__attrs_load(st, c, slot);
    for (uint32_t k = 0; k < m; k++) {
        n += 5 + rs__codec_value_bound(&st->attrs.old_list[k].val);
    }
    return n;
}

void rs__snapshot_put_image(rs_store *st, rs__buf *b, const rs_class *c,
                            uint32_t slot)
{
    char buf[RS_KEY_TMP];
    const uint8_t *row = rs__row(c, slot);
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        rs_value v = rs__row_value(c, row, (rs_field)f, buf);
        rs__codec_put_value(b, c->sch.fields[f].type, &v);
    }
    uint32_t m = rs__attrs_load(st, c, slot);
    rs__codec_put_uvar(b, m);
    for (uint32_t k = 0; k < m; k++) {
        rs__codec_put_uvar(b, st->attrs.old_list[k].name);
        rs__codec_put_avalue(b, &st->attrs.old_list[k].val);
    }
}

static char *dup_str(rs_store *st, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rs__alloc(st, RS_MEM_META, n);
    if (p) {
        memcpy(p, s, n);
    }
    return p;
}

static void free_str(rs_store *st, char *s)
{
    if (s) {
        rs__free(st, RS_MEM_META, s, strlen(s) + 1);
    }
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                    */
/* ------------------------------------------------------------------------ */

struct rs_saver {
    rs__observer obs; /* first: hears of every change while it runs */
    rs_store *st;
    char *path, *tmp;
    size_t tmp_cap; /* tmp's allocation: the path and the random suffix */
    int fd;
    bool compact; /* a durable store's compaction (steps finish it) */
    const rs__snapshot_steps *steps;
    rs__buf out; /* bytes on their way to fd */
    rs__buf blk; /* the RECORDS block being filled */
    uint32_t blk_class, blk_count;
    uint64_t written; /* bytes handed to write() */
    uint64_t synced;  /* bytes whose writeback was started */
    uint64_t waited;  /* bytes whose writeback is known complete */
    uint32_t n_classes;
    uint32_t *hw;       /* per class: slots at the start */
    uint8_t **done;     /* per class: a bit per slot below hw */
    uint32_t cls, slot; /* the walk's position */
    size_t n_records, n_early;
    size_t extra, extra_peak; /* bytes this save holds */
    rs_status err;
    char msg[400]; /* what failed, said again by later calls */
    int phase;     /* PH_WALK, then the finishing steps */
    bool created;  /* tmp exists (abort removes it) */
    bool renamed;  /* the snapshot is in place under its name */
    uint64_t id, prev_id, prev_off, t0;
};

static void saver_err(rs_saver *sv, const char *what)
{
    if (sv->err == RS_OK) {
        sv->err = errno == ENOMEM ? RS_ENOMEM : RS_EIO;
        snprintf(sv->msg, sizeof sv->msg, "%s: %s: %s", sv->tmp, what,
                 strerror(errno));
        rs__err(sv->st, sv->err, "%s", sv->msg);
    }
}

static void note_extra(rs_saver *sv)
{
    sv->extra = sizeof *sv + sv->out.cap + sv->blk.cap +
                sv->n_classes * (sizeof *sv->hw + sizeof *sv->done);
    for (uint32_t i = 0; i < sv->n_classes; i++) {
        sv->extra += sv->hw[i] / 8u + 1u;
    }
    if (sv->extra > sv->extra_peak) {
        sv->extra_peak = sv->extra;
    }
}

static void flush_out(rs_saver *sv)
{
    size_t off = 0;
    while (sv->err == RS_OK && off < sv->out.len) {
        ssize_t n = write(sv->fd, sv->out.p + off, sv->out.len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = ENOSPC;
            }
            saver_err(sv, "write failed");
            break;
        }
        off += (size_t)n;
        sv->written += (uint64_t)n;
    }
    sv->out.len = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    /* Start writing back what was just written, after waiting for what
     * the previous flush started (long done, as a rule): at most two
     * buffers are ever dirty, so the fsync at the end, while writers
     * wait, has little left to do (RocksDB's bytes_per_sync). */
    if (sv->err == RS_OK && sv->written > sv->synced) {
        if (sv->synced > sv->waited) {
            (void)sync_file_range(sv->fd, (off_t)sv->waited,
                                  (off_t)(sv->synced - sv->waited),
                                  SYNC_FILE_RANGE_WAIT_BEFORE);
            sv->waited = sv->synced;
        }
        (void)sync_file_range(sv->fd, (off_t)sv->synced,
                              (off_t)(sv->written - sv->synced),
                              SYNC_FILE_RANGE_WRITE);
        sv->synced = sv->written;
    }
#endif
}

/* Frame a block into the write buffer. */
static void emit_block(rs_saver *sv, unsigned kind, uint32_t count,
                       const uint8_t *payload, size_t len)
{
    if (sv->err != RS_OK) {
        return;
    }
    if (sv->out.len > 0 &&
        sv->out.len + BLOCK_HEAD + len + BLOCK_SUM > OUT_FLUSH) {
        flush_out(sv); /* keeps the buffer at OUT_FLUSH */
    }
    if (len > UINT32_MAX ||
        rs__codec_reserve(sv->st, &sv->out, BLOCK_HEAD + len + BLOCK_SUM) !=
            RS_OK) {
        errno = ENOMEM;
        saver_err(sv, "out of memory for a block");
        return;
    }
    size_t at = sv->out.len;
    rs__codec_put_u8(&sv->out, (uint8_t)kind);
    rs__codec_put_bytes(&sv->out, "\0\0\0", 3);
    rs__codec_put_u32le(&sv->out, count);
    rs__codec_put_u32le(&sv->out, (uint32_t)len);
    rs__codec_put_bytes(&sv->out, payload, len);
    rs__codec_put_u64le(&sv->out,
                        XXH3_64bits(sv->out.p + at, BLOCK_HEAD + len));
    note_extra(sv);
    if (sv->out.len >= OUT_FLUSH) {
        flush_out(sv);
    }
}

static void flush_records(rs_saver *sv)
{
    if (sv->blk_count > 0) {
        emit_block(sv, BLK_RECORDS, sv->blk_count, sv->blk.p, sv->blk.len);
    }
    sv->blk.len = 0;
    sv->blk_count = 0;
}

/* Append slot's record to the RECORDS block of its class. */
static void save_record(rs_saver *sv, rs_class *c, uint32_t slot)
{
    rs_store *st = sv->st;
    uint32_t ci = (uint32_t)c->id - 1u;
    if (sv->err != RS_OK) {
        return;
    }
    if (sv->blk_count > 0 &&
        (sv->blk_class != ci || sv->blk.len >= BLOCK_TARGET)) {
        flush_records(sv);
    }
    size_t need = rs__snapshot_image_bound(st, c, slot) + 10;
    if (rs__codec_reserve(st, &sv->blk, need) != RS_OK) {
        errno = ENOMEM;
        saver_err(sv, "out of memory for a record");
        return;
    }
    if (sv->blk_count == 0) {
        sv->blk_class = ci;
        rs__codec_put_uvar(&sv->blk, ci);
    }
    rs__snapshot_put_image(st, &sv->blk, c, slot);
    sv->blk_count++;
    sv->n_records++;
}

static inline bool bit_get(const uint8_t *m, uint32_t i)
{
    return (m[i >> 3] >> (i & 7)) & 1u;
}

static inline void bit_set(uint8_t *m, uint32_t i)
{
    m[i >> 3] = (uint8_t)(m[i >> 3] | (1u << (i & 7)));
}

const char rs__snapshot_saver_name[] = "save";

rs_saver *rs__snapshot_saver_of(const rs_store *st)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->name == rs__snapshot_saver_name) {
            return (rs_saver *)o;
        }
    }
    return NULL;
}

/* Before the store changes slot (or hands it to an insert): if the walk
 * has not written it yet, write the record now, as it was at the start. */
static rs_status saver_prepare(rs_store *st, rs__observer *o,
                               const rs__change *ch)
{
    rs_saver *sv = (rs_saver *)o;
    if (ch->kind == RS__CHANGE_CLASS) {
        return RS_OK;
    }
    rs_class *c = ch->c;
    uint32_t slot = ch->slot;
    uint32_t ci = (uint32_t)c->id - 1u;
    if (ci >= sv->n_classes || slot >= sv->hw[ci] || ci < sv->cls ||
        (ci == sv->cls && slot < sv->slot) || bit_get(sv->done[ci], slot)) {
        return RS_OK; /* new since the start, or written already */
    }
    bit_set(sv->done[ci], slot);
    if (rs__row_live(rs__row(c, slot))) {
        bool ok = sv->err == RS_OK;
        save_record(sv, c, slot);
        sv->n_early++;
        if (ok && sv->err != RS_OK) {
            /* The save failed, not the change: its next call says so,
             * and the change's own message stays empty. */
            rs__clear_err(st);
        }
    }
    return RS_OK;
}

static void saver_close(rs_store *st, rs__observer *o)
{
    (void)st;
    rs_save_abort((rs_saver *)o);
}

uint64_t rs__snapshot_saver_id(const rs_saver *sv)
{
    return sv->id;
}

static void saver_free(rs_saver *sv)
{
    rs_store *st = sv->st;
    if (sv->compact) {
        sv->steps->abort(st); /* the next journal, unless it took over */
    }
    if (sv->fd >= 0) {
        close(sv->fd);
    }
    for (uint32_t i = 0; i < sv->n_classes && sv->done && sv->hw; i++) {
        rs__free(st, RS_MEM_META, sv->done[i], sv->hw[i] / 8u + 1u);
    }
    if (sv->done) {
        rs__free(st, RS_MEM_META, sv->done, sv->n_classes * sizeof *sv->done);
    }
    if (sv->hw) {
        rs__free(st, RS_MEM_META, sv->hw, sv->n_classes * sizeof *sv->hw);
    }
    rs__codec_free(st, &sv->out);
    rs__codec_free(st, &sv->blk);
    free_str(st, sv->path);
    if (sv->tmp) {
        rs__free(st, RS_MEM_META, sv->tmp, sv->tmp_cap);
    }
    rs__change_unobserve(st, &sv->obs);
    rs__free(st, RS_MEM_META, sv, sizeof *sv);
}

rs_status rs__snapshot_save_open(rs_store *st, const char *path,
                                 uint64_t prev_id, uint64_t prev_off,
                                 rs_saver **out)
{
    if (rs__snapshot_saver_of(st)) {
        return rs__err(st, RS_EINVAL,
                       "%s: a save of this store is already "
                       "running",
                       path);
    }
    rs_saver *sv = rs__calloc(st, RS_MEM_META, sizeof *sv);
    if (sv == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory starting a save");
    }
    sv->obs = (rs__observer){.name = rs__snapshot_saver_name,
                             .prepare = saver_prepare,
                             .close = saver_close};
    sv->st = st;
    sv->fd = -1;
    sv->t0 = rs__sys_now_ns();
    sv->id = rs__sys_random64();
    sv->prev_id = prev_id == RS__SNAPSHOT_PREV_SELF ? sv->id : prev_id;
    sv->prev_off = prev_off;
    rs__change_observe(st, &sv->obs); /* saver_free() takes it off */
    size_t plen = strlen(path);
    sv->path = dup_str(st, path);
    sv->tmp_cap = plen + RS__SYS_TMP_EXTRA + 1;
    sv->tmp = rs__alloc(st, RS_MEM_META, sv->tmp_cap);
    if (sv->tmp) {
        memcpy(sv->tmp, path, plen);
        sv->tmp[plen] = '\0';
    }
    sv->n_classes = st->n_classes;
    if (sv->n_classes) {
        sv->hw = rs__calloc(st, RS_MEM_META, sv->n_classes * sizeof *sv->hw);
        sv->done =
            rs__calloc(st, RS_MEM_META, sv->n_classes * sizeof *sv->done);
    }
    bool ok =
        sv->path && sv->tmp && (sv->n_classes == 0 || (sv->hw && sv->done));
    for (uint32_t i = 0; ok && i < sv->n_classes; i++) {
        uint32_t hw = st->classes[i]->n_slots;
        sv->done[i] = rs__calloc(st, RS_MEM_META, hw / 8u + 1u);
        if (sv->done[i] == NULL) {
            ok = false;
            break;
        }
        sv->hw[i] = hw;
    }
    if (!ok) {
        saver_free(sv);
        return rs__err(st, RS_ENOMEM, "out of memory starting a save");
    }
    /* A name of its own: two saves to one path (in this process or
     * another) each write their own file, and the rename makes the path
     * the old file or one whole new one. */
    sv->fd = rs__sys_tmp_create(path, sv->tmp);
    sv->created = sv->fd >= 0;
    if (sv->fd < 0) {
        rs_status rc = rs__err(st, RS_EIO,
                               "%s: cannot create a file beside "
                               "it: %s",
                               path, strerror(errno));
        saver_free(sv);
        return rc;
    }
    /* Header, then the classes. */
    if (rs__codec_reserve(st, &sv->out, SNAP_HEADER) != RS_OK) {
        errno = ENOMEM;
        saver_err(sv, "out of memory");
    } else {
        rs__codec_put_bytes(&sv->out, SNAP_MAGIC, 8);
        rs__codec_put_u32le(&sv->out, SNAP_VERSION);
        rs__codec_put_u32le(&sv->out, sv->n_classes);
        rs__codec_put_u64le(&sv->out, sv->id);
        rs__codec_put_u64le(&sv->out, sv->prev_id);
        rs__codec_put_u64le(&sv->out, prev_off);
        rs__codec_put_u64le(&sv->out, XXH3_64bits(sv->out.p, 40));
    }
    for (uint32_t i = 0; i < sv->n_classes && sv->err == RS_OK; i++) {
        const rs_class *c = st->classes[i];
        size_t n = rs_class_format(c, NULL, 0);
        char *text = rs__alloc(st, RS_MEM_META, n + 1);
        if (text == NULL) {
            errno = ENOMEM;
            saver_err(sv, "out of memory");
            break;
        }
        rs_class_format(c, text, n + 1);
        emit_block(sv, BLK_CLASS, i, (const uint8_t *)text, n);
        rs__free(st, RS_MEM_META, text, n + 1);
    }
    if (sv->err != RS_OK) {
        rs_status rc = sv->err;
        rs_save_abort(sv);
        return rc;
    }
    note_extra(sv);
    *out = sv;
    return RS_OK;
}

/* A save's steps after the walk, one per rs_save_step() call, so that no
 * call waits for more than one fsync (or a rename and a directory fsync):
 * writers between the calls never wait for the whole sequence. */
enum {
    PH_WALK,      /* records, up to the budget per call */
    PH_SNAP_SYNC, /* the names and END blocks, flush, fsync, close */
    PH_JOURNAL,   /* compaction: the journal up to the snapshot's moment
                     on disk before the snapshot's name is */
    PH_RENAME,    /* rename, fsync of the directory */
    PH_NEXT_SYNC, /* compaction: the next journal's copy on disk */
    PH_SWITCH,    /* compaction: the rest copied, renamed, installed */
    PH_DONE
};

static void saver_fail(rs_saver *sv, rs_status rc)
{
    if (sv->err == RS_OK) {
        sv->err = rc;
        memcpy(sv->msg, sv->st->err, sizeof sv->msg);
        sv->msg[sizeof sv->msg - 1] = '\0';
    }
}

static void phase_snap_sync(rs_saver *sv)
{
    rs_store *st = sv->st;
    flush_records(sv);
    /* The names: every name interned so far (records written early may
     * use names interned after the start). */
    rs__attrs *a = &st->attrs;
    rs__buf names = {0};
    size_t need = 0;
    for (uint32_t i = 0; i < a->n_names; i++) {
        need += 10 + a->names[i].len;
    }
    if (rs__codec_reserve(st, &names, need + 1) != RS_OK) {
        errno = ENOMEM;
        saver_err(sv, "out of memory");
    } else {
        for (uint32_t i = 0; i < a->n_names; i++) {
            rs__codec_put_uvar(&names, a->names[i].len);
            rs__codec_put_bytes(&names, a->names[i].s, a->names[i].len);
        }
        emit_block(sv, BLK_NAMES, a->n_names, names.p, names.len);
    }
    rs__codec_free(st, &names);
    uint8_t end[10];
    rs__buf eb = {end, 0, sizeof end};
    rs__codec_put_uvar(&eb, sv->n_records);
    emit_block(sv, BLK_END, 0, end, eb.len);
    flush_out(sv);
    if (sv->err == RS_OK && fsync(sv->fd) != 0) {
        saver_err(sv, "fsync failed");
    }
    if (sv->err == RS_OK) {
        int fd = sv->fd;
        sv->fd = -1;
        if (close(fd) != 0) {
            saver_err(sv, "close failed");
        }
    }
}

/* One finishing step (the phase after PH_WALK). */
static void phase_step(rs_saver *sv)
{
    rs_store *st = sv->st;
    rs_status rc;
    switch (sv->phase) {
    case PH_SNAP_SYNC:
        phase_snap_sync(sv);
        break;
    case PH_JOURNAL:
        /* The snapshot says "the journal up to here is in me": that part
         * must be on disk before the snapshot's name is, whatever the
         * fsync policy, or a crash could leave a snapshot that points past
         * the end of its journal.  (Its writeback began with the save.) */
        if (sv->steps->journal_sync(st) != 0) {
            saver_err(sv, "fdatasync of the journal failed");
        }
        break;
    case PH_RENAME:
        if (rename(sv->tmp, sv->path) != 0) {
            saver_err(sv, "rename failed");
        } else {
            sv->renamed = true;
            if (rs__sys_fsync_dir(sv->path) != 0) {
                saver_err(sv, "fsync of the directory failed");
            }
        }
        break;
    case PH_NEXT_SYNC:
        if ((rc = sv->steps->next_sync(st)) != RS_OK) {
            saver_fail(sv, rc);
        }
        break;
    case PH_SWITCH:
        if ((rc = sv->steps->finish(st, sv)) != RS_OK) {
            saver_fail(sv, rc);
        }
        break;
    default:
        break;
    }
    if (sv->err != RS_OK) {
        return;
    }
    do {
        sv->phase++;
    } while (!sv->compact &&
             (sv->phase == PH_JOURNAL || sv->phase == PH_NEXT_SYNC ||
              sv->phase == PH_SWITCH));
}

rs_status rs_save_step(rs_saver *sv, size_t budget)
{
    if (sv == NULL) {
        return RS_EINVAL;
    }
    rs_store *st = sv->st;
    rs__clear_err(st);
    size_t visited = 0;
    rs_status rc;
    while (sv->err == RS_OK && sv->cls < sv->n_classes) {
        rs_class *c = st->classes[sv->cls];
        uint32_t hw = sv->hw[sv->cls];
        uint8_t *done = sv->done[sv->cls];
        while (sv->slot < hw) {
            if (budget && visited == budget) {
                goto out;
            }
            uint32_t s = sv->slot++;
            visited++;
            if (!bit_get(done, s) && rs__row_live(rs__row(c, s))) {
                save_record(sv, c, s);
            }
        }
        sv->cls++;
        sv->slot = 0;
    }
    if (sv->err == RS_OK && sv->phase == PH_WALK) {
        sv->phase = PH_SNAP_SYNC;
        if (budget && visited > 0) {
            goto out; /* the finishing steps start with the next call */
        }
    }
    if (sv->err == RS_OK && sv->phase < PH_DONE) {
        phase_step(sv);
    }
out:
    if (sv->err == RS_OK && sv->compact && sv->phase < PH_SWITCH &&
        (rc = sv->steps->copy(st)) != RS_OK) {
        saver_fail(sv, rc);
    }
    if (sv->err != RS_OK) {
        return rs__err(st, sv->err, "%s", sv->msg);
    }
    return sv->phase == PH_DONE ? RS_DONE : RS_OK;
}

void rs_save_abort(rs_saver *sv)
{
    if (sv == NULL) {
        return;
    }

    if (sv->fd >= 0) {
        close(sv->fd);
        sv->fd = -1;
    }
    if (sv->created && !sv->renamed) {
        unlink(sv->tmp);
    }
    saver_free(sv);
}

rs_status rs_save_finish(rs_saver *sv, rs_save_info *info)
{
    if (sv == NULL) {
        return RS_EINVAL;
    }
    rs_store *st = sv->st;
    rs_status rc;
    do {
        rc = rs_save_step(sv, 0);
    } while (rc == RS_OK);
    if (rc != RS_DONE) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs_save_abort(sv);
        return rs__err(st, rc, "%s", msg);
    }
    if (info) {
        info->bytes = sv->written;
        info->n_records = sv->n_records;
        info->n_early = sv->n_early;
        info->extra_bytes = sv->extra_peak;
        info->seconds = (double)(rs__sys_now_ns() - sv->t0) / 1e9;
    }
    saver_free(sv);
    return RS_OK;
}

void rs__snapshot_saver_steps(rs_saver *sv, const rs__snapshot_steps *steps)
{
    sv->compact = true;
    sv->steps = steps;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* Whether every value of type from fits in type to. */
static bool widens(rs_type from, rs_type to)
{
    static const int8_t bits[RS_TYPE__COUNT] = {
        [RS_I8] = 8, [RS_I16] = 16, [RS_I32] = 32, [RS_I64] = 64,
        [RS_U8] = 8, [RS_U16] = 16, [RS_U32] = 32, [RS_U64] = 64};
    if (from == to || (from == RS_F32 && to == RS_F64)) {
        return true;
    }
    if (bits[from] == 0 || bits[to] == 0) {
        return false;
    }
    if (rs__class_type_signed(from)) {
        return rs__class_type_signed(to) && bits[to] >= bits[from];
    }
    return rs__class_type_signed(to) ? bits[to] > bits[from]
                                     : bits[to] >= bits[from];
}

static void dropped_add(rs_load_info *info, const char *cls, const char *f)
{
    if (info == NULL) {
        return;
    }
    size_t at = strlen(info->dropped);
    snprintf(info->dropped + at, sizeof info->dropped - at, "%s%s.%s",
             at ? ", " : "", cls, f);
    info->n_dropped++;
}

rs_status rs__snapshot_cmap(rs_store *st, rs_class *fc, rs_class *target,
                            rs__cmap *m, rs_load_info *info)
{
    const rs__schema *fs = &fc->sch, *ts = &target->sch;
    memset(m, 0, sizeof *m);
    m->c = target;
    m->n_fields = fs->n_fields;
    m->types = rs__alloc(st, RS_MEM_META, fs->n_fields * sizeof *m->types);
    m->to = rs__alloc(st, RS_MEM_META, fs->n_fields * sizeof *m->to);
    if (m->types == NULL || m->to == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory loading '%s'", fs->name);
    }
    if (strcmp(fs->fields[fs->key].name, ts->fields[ts->key].name) != 0) {
        return rs__err(st, RS_EINVAL,
                       "class '%s': the file's key is '%s', "
                       "the store's '%s': another key cannot be loaded",
                       ts->name, fs->fields[fs->key].name,
                       ts->fields[ts->key].name);
    }
    for (uint32_t i = 0; i < fs->n_fields; i++) {
        const rs__field *ff = &fs->fields[i];
        rs_field j = rs_class_field(target, ff->name);
        m->types[i] = ff->type;
        m->to[i] = j;
        if (j < 0) {
            continue;
        }
        const rs__field *tf = &ts->fields[j];
        char a[40], b[40];
        rs__class_type_str(a, sizeof a, ff->type, ff->max_len);
        rs__class_type_str(b, sizeof b, tf->type, tf->max_len);
        if (!widens(ff->type, tf->type) ||
            (ff->type == RS_STR && tf->max_len < ff->max_len)) {
            return rs__err(st, RS_EINVAL,
                           "%s.%s: the file has %s, the "
                           "class declares %s: only widening loads",
                           ts->name, ff->name, a, b);
        }
    }
    char *x = NULL, *y = NULL;
    size_t nx = rs_class_format(fc, NULL, 0),
           ny = rs_class_format(target, NULL, 0);
    m->identity = false;
    if (nx == ny) {
        x = rs__alloc(st, RS_MEM_META, nx + 1);
        y = rs__alloc(st, RS_MEM_META, ny + 1);
        if (x && y) {
            rs_class_format(fc, x, nx + 1);
            rs_class_format(target, y, ny + 1);
            m->identity = strcmp(x, y) == 0;
        }
        rs__free(st, RS_MEM_META, x, nx + 1);
        rs__free(st, RS_MEM_META, y, ny + 1);
    }
    for (uint32_t i = 0; i < fs->n_fields; i++) {
        if (m->to[i] < 0) {
            dropped_add(info, ts->name, fs->fields[i].name);
        }
    }
    return RS_OK;
}

void rs__snapshot_loaded_free(rs_store *st, rs__loaded *l)
{
    for (uint32_t i = 0; i < l->n_cmaps; i++) {
        rs__cmap *m = &l->cmaps[i];
        rs__free(st, RS_MEM_META, m->types, m->n_fields * sizeof *m->types);
        rs__free(st, RS_MEM_META, m->to, m->n_fields * sizeof *m->to);
    }
    rs__free(st, RS_MEM_META, l->cmaps, l->cap_cmaps * sizeof *l->cmaps);
    l->cmaps = NULL;
    l->n_cmaps = l->cap_cmaps = 0;
}

void rs__snapshot_load_undo(rs_store *st, rs__loaded *l)
{
    /* Every class the load filled, those it declared too: their records'
     * strings and attribute blocks live in the store's shared arena, which
     * dropping the class alone would not give back. */
    for (uint32_t i = 0; i < l->n_cmaps; i++) {
        if (l->cmaps[i].c) {
            rs__store_class_empty(st, l->cmaps[i].c);
        }
    }
    rs__store_classes_truncate(st, l->first_new_class);
    /* No record uses the names and shapes the load added any more. */
    rs__shape_undo_to(st, &st->attrs, &l->amark);
}

/* Where a block is, for pass two. */
typedef struct blockref {
    unsigned kind;
    uint32_t count;
    const uint8_t *payload;
    uint32_t len;
} blockref;

static rs_status bad_file(rs_store *st, const char *name, size_t block,
                          size_t off, const char *what)
{
    if (block == 0) {
        return rs__err(st, RS_EFORMAT, "%s: %s (byte %zu)", name, what, off);
    }
    return rs__err(st, RS_EFORMAT, "%s: block %zu at byte %zu: %s", name, block,
                   off, what);
}

/* Declare (or match) a file class.  The file's own declaration is parsed
 * into a scratch store, so its field types are known even when the store
 * declares the class differently. */
static rs_status load_class(rs_store *st, rs_store *scratch, const char *name,
                            size_t block, const uint8_t *text, size_t len,
                            rs__loaded *l, rs_load_info *info)
{
    rs_class *fc;
    rs_status rc = rs_class_parse(scratch, (const char *)text, len, &fc);
    if (rc == RS_ENOMEM) { /* the scratch store shares the allocator */
        return rs__err(st, RS_ENOMEM,
                       "%s: block %zu: out of memory reading "
                       "its class",
                       name, block);
    }
    if (rc != RS_OK) {
        return rs__err(st, RS_EFORMAT, "%s: block %zu: bad class: %s", name,
                       block, rs_errmsg(scratch));
    }
    rs__cmap *m = &l->cmaps[l->n_cmaps];
    rs_class *target = rs_class_find(st, rs_class_name(fc));
    if (target == NULL) {
        rc = rs_class_parse(st, (const char *)text, len, &target);
        if (rc != RS_OK) {
            return rc;
        }
    } else if (rs_count(target) > 0) {
        return rs__err(st, RS_EINVAL, "%s: class '%s' already holds records",
                       name, rs_class_name(target));
    }
    l->n_cmaps++;
    return rs__snapshot_cmap(st, fc, target, m, info);
}

/* What the RECORDS blocks of one file class claim: records, and bytes. */
typedef struct claimed {
    size_t records, bytes;
} claimed;

/* Sum what the RECORDS blocks' headers claim for each file class into
 * want[] (n_classes entries), before any record is read. */
static void count_records(const uint8_t *buf, size_t len, claimed *want,
                          uint32_t n_classes)
{
    for (size_t off = SNAP_HEADER; off < len;) {
        rs__rd h = {buf + off, buf + off + BLOCK_HEAD, false};
        unsigned kind = rs__codec_get_u8(&h);
        rs__codec_get_bytes(&h, 3);
        uint32_t count = rs__codec_get_u32le(&h),
                 blen = rs__codec_get_u32le(&h);
        if (kind == BLK_RECORDS) {
            rs__rd r = {buf + off + BLOCK_HEAD, buf + off + BLOCK_HEAD + blen,
                        false};
            uint64_t ci = rs__codec_get_uvar(&r);
            if (!r.bad && ci < n_classes) {
                want[ci].records += count;
                want[ci].bytes += blen;
            }
        }
        off += BLOCK_HEAD + blen + BLOCK_SUM;
    }
}

/* Size a class the load just declared for the records the file holds for
 * it (rs_class_reserve()), so its indexes do not grow record by record.
 * The count is the blocks' claim capped by their bytes: a record takes at
 * least a byte a file field and one for its attribute count, so a damaged
 * or crafted claim reserves at most about 6 bytes of index for each byte
 * of the file.  Only a speed-up: a refusal is dropped with its message.  A
 * class the store had declared is left as it is, so that a load that
 * fails leaves it exactly as it was. */
static void reserve_declared(rs_store *st, const rs__loaded *l,
                             const claimed *want)
{
    uint32_t ci = l->n_cmaps - 1;
    rs_class *c = l->cmaps[ci].c;
    size_t fit = want[ci].bytes / ((size_t)l->cmaps[ci].n_fields + 1);
    size_t n = want[ci].records < fit ? want[ci].records : fit;
    if (c->id > l->first_new_class && n > 0 &&
        rs_class_reserve(st, c, n) != RS_OK) {
        rs__clear_err(st);
    }
}

bool rs__snapshot_decode_record(rs__rd *r, const rs__cmap *m, char **names,
                                uint32_t n_names, rs_named *nv, size_t *n_out)
{
    const rs__schema *ts = &m->c->sch;
    size_t n = 0;
    for (uint32_t i = 0; i < m->n_fields; i++) {
        rs_value v = rs__codec_get_value(r, m->types[i]);
        if (m->to[i] >= 0) {
            nv[n].name = ts->fields[m->to[i]].name;
            nv[n++].val = v;
        }
    }
    uint64_t k = rs__codec_get_uvar(r);
    if (k > RS_ATTRS_PER_RECORD) {
        r->bad = true;
    }
    for (uint64_t j = 0; j < k && !r->bad; j++) {
        uint64_t id = rs__codec_get_uvar(r);
        rs_value v = rs__codec_get_avalue(r);
        if (id >= n_names || names[id] == NULL) {
            r->bad = true;
            break;
        }
        nv[n].name = names[id];
        nv[n++].val = v;
    }
    *n_out = n;
    return !r->bad;
}

/* Decode one record of a file class and insert it. */
static rs_status load_record(rs_store *st, rs__rd *r, const rs__cmap *m,
                             char **names, uint32_t n_names, rs_named *nv,
                             const char *fname, size_t block)
{
    size_t n;
    if (!rs__snapshot_decode_record(r, m, names, n_names, nv, &n)) {
        return rs__err(st, RS_EFORMAT,
                       "%s: block %zu: a record of '%s' is "
                       "cut short or malformed",
                       fname, block, m->c->sch.name);
    }
    rs_status rc = rs_insert(st, m->c, nv, n, NULL);
    if (rc == RS_ENOATTR) {
        /* The file's records bind attributes the class now refuses: a
         * declaration that dropped `dynamic`, which is a change of class,
         * not damage. */
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        return rs__err(st, RS_EINVAL,
                       "%s: block %zu: %s: the class is "
                       "declared without `dynamic`, and the file's records "
                       "bind attributes; declare it dynamic to load them",
                       fname, block, msg);
    }
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        return rs__err(st, rc, "%s: block %zu: %s", fname, block, msg);
    }
    return RS_OK;
}

/* Pass one of a load, and rs_inspect() of a snapshot: the header, then
 * every block's framing and checksum and the order of the blocks. */
static rs_status snap_scan(rs_store *st, const uint8_t *buf, size_t len,
                           const char *name, rs_file_info *fi,
                           const uint8_t **names_out, uint32_t *names_len_out)
{
    memset(fi, 0, sizeof *fi);
    if (len == 0) {
        return bad_file(st, name, 0, 0, "empty file, not a snapshot");
    }
    if (len < SNAP_HEADER || memcmp(buf, SNAP_MAGIC, 8) != 0) {
        return bad_file(st, name, 0, 0,
                        len >= 8 && memcmp(buf, "RSTRJRNL", 8) == 0
                            ? "a journal, not a snapshot"
                            : "not a roster snapshot");
    }
    rs__rd r = {buf + 8, buf + SNAP_HEADER, false};
    uint32_t version = rs__codec_get_u32le(&r),
             n_classes = rs__codec_get_u32le(&r);
    fi->id = rs__codec_get_u64le(&r);
    fi->prev_id = rs__codec_get_u64le(&r);
    fi->prev_off = rs__codec_get_u64le(&r);
    if (rs__codec_get_u64le(&r) != XXH3_64bits(buf, 40)) {
        return bad_file(st, name, 0, 40, "header checksum mismatch");
    }
    if (version != SNAP_VERSION) {
        char what[80];
        snprintf(what, sizeof what,
                 "snapshot version %u, this library "
                 "reads version %u",
                 version, SNAP_VERSION);
        return bad_file(st, name, 0, 8, what);
    }
    if (n_classes > UINT16_MAX) {
        return bad_file(st, name, 0, 12, "too many classes");
    }
    size_t n_blocks = 0, off = SNAP_HEADER, records = 0, n_class_blocks = 0;
    const uint8_t *names_at = NULL;
    uint32_t names_len = 0, names_count = 0;
    fi->kind = RS_FILE_SNAPSHOT;
    fi->version = version;
    fi->bytes = len;
    bool ended = false;
    unsigned last = 0;
    while (off < len) {
        size_t b = ++n_blocks;
        if (ended) {
            return bad_file(st, name, b, off, "data after the END block");
        }
        if (len - off < BLOCK_HEAD + BLOCK_SUM) {
            return bad_file(st, name, b, off,
                            "block header cut short "
                            "(truncated file)");
        }
        rs__rd h = {buf + off, buf + off + BLOCK_HEAD, false};
        unsigned kind = rs__codec_get_u8(&h);
        rs__codec_get_bytes(&h, 3);
        uint32_t count = rs__codec_get_u32le(&h),
                 blen = rs__codec_get_u32le(&h);
        if (blen > len - off - BLOCK_HEAD - BLOCK_SUM) {
            return bad_file(st, name, b, off,
                            "block runs past the end of "
                            "the file (truncated or damaged)");
        }
        rs__rd s = {buf + off + BLOCK_HEAD + blen,
                    buf + off + BLOCK_HEAD + blen + BLOCK_SUM, false};
        if (rs__codec_get_u64le(&s) !=
            XXH3_64bits(buf + off, BLOCK_HEAD + blen)) {
            return bad_file(st, name, b, off,
                            "checksum mismatch (the block "
                            "is damaged)");
        }
        if (kind < BLK_CLASS || kind > BLK_END || kind < last ||
            (kind == BLK_CLASS && count != n_class_blocks) ||
            (kind == BLK_NAMES && names_at) ||
            (kind == BLK_RECORDS && n_class_blocks != n_classes)) {
            return bad_file(st, name, b, off, "unexpected block");
        }
        last = kind;
        if (kind == BLK_CLASS) {
            n_class_blocks++;
        } else if (kind == BLK_RECORDS) {
            records += count;
        } else if (kind == BLK_NAMES) {
            names_at = buf + off + BLOCK_HEAD;
            names_len = blen;
            names_count = count;
        } else {
            rs__rd e = {buf + off + BLOCK_HEAD, buf + off + BLOCK_HEAD + blen,
                        false};
            if (rs__codec_get_uvar(&e) != records || e.bad || e.p != e.end) {
                return bad_file(st, name, b, off,
                                "the END block's record "
                                "count does not match the file");
            }
            ended = true;
        }
        off += BLOCK_HEAD + blen + BLOCK_SUM;
    }
    if (!ended || n_class_blocks != n_classes || names_at == NULL) {
        return bad_file(st, name, 0, len, "no END block (truncated file)");
    }
    if (names_count > RS_ATTR_NAMES_MAX) {
        return bad_file(st, name, 0, 0, "too many attribute names");
    }
    fi->n_blocks = n_blocks;
    fi->n_classes = n_classes;
    fi->n_records = records;
    fi->n_names = names_count;
    *names_out = names_at;
    *names_len_out = names_len;
    return RS_OK;
}

rs_status rs__snapshot_load(rs_store *st, const uint8_t *buf, size_t len,
                            const char *name, rs_load_info *info, rs__loaded *l)
{
    memset(l, 0, sizeof *l);
    l->first_new_class = st->n_classes;
    rs__shape_mark(&st->attrs, &l->amark);
    if (info) {
        memset(info, 0, sizeof *info);
    }
    /* Pass one: the header and the framing and checksum of every block. */
    rs_file_info fi;
    const uint8_t *names_at;
    uint32_t names_len;
    rs_status rc = snap_scan(st, buf, len, name, &fi, &names_at, &names_len);
    if (rc != RS_OK) {
        return rc;
    }
    l->id = fi.id;
    l->prev_id = fi.prev_id;
    l->prev_off = fi.prev_off;
    uint32_t n_classes = (uint32_t)fi.n_classes,
             names_count = (uint32_t)fi.n_names;
    size_t off, records = fi.n_records;
    /* Pass two: build. */
    rs_store *scratch = NULL;
    char **names = NULL;
    char *name_bytes = NULL;
    rs_named *nv = NULL;
    size_t nv_len = (RS_MAX_FIELDS + RS_ATTRS_PER_RECORD + 1) * sizeof *nv;
    claimed *want = NULL;
    size_t want_len = (n_classes ? n_classes : 1) * sizeof *want;
    l->cap_cmaps = n_classes ? n_classes : 1;
    l->cmaps = rs__calloc(st, RS_MEM_META, l->cap_cmaps * sizeof *l->cmaps);
    if (l->cmaps == NULL) {
        l->cap_cmaps = 0;
    }
    names = rs__calloc(st, RS_MEM_META,
                       (names_count ? names_count : 1) * sizeof *names);
    name_bytes = rs__alloc(st, RS_MEM_META, names_len + names_count + 1);
    nv = rs__alloc(st, RS_MEM_META, nv_len);
    want = rs__calloc(st, RS_MEM_META, want_len);
    if (!l->cmaps || !names || !name_bytes || !nv || !want ||
        rs_store_open(st->alloc, st->alloc_ud, &scratch) != RS_OK) {
        rc = rs__err(st, RS_ENOMEM, "%s: out of memory loading", name);
        goto done;
    }
    rs__rd nr = {names_at, names_at + names_len, false};
    char *w = name_bytes;
    for (uint32_t i = 0; i < names_count; i++) {
        uint64_t n = rs__codec_get_uvar(&nr);
        const uint8_t *p =
            n <= RS_MAX_NAME ? rs__codec_get_bytes(&nr, n) : NULL;
        if (p == NULL || !rs__class_is_ident((const char *)p, n)) {
            rc = bad_file(st, name, 0, 0, "bad NAMES block");
            goto done;
        }
        memcpy(w, p, n);
        w[n] = '\0';
        names[i] = w;
        w += n + 1;
    }
    count_records(buf, len, want, n_classes);
    off = SNAP_HEADER;
    for (size_t b = 1; rc == RS_OK && off < len; b++) {
        rs__rd h = {buf + off, buf + off + BLOCK_HEAD, false};
        unsigned kind = rs__codec_get_u8(&h);
        rs__codec_get_bytes(&h, 3);
        uint32_t count = rs__codec_get_u32le(&h),
                 blen = rs__codec_get_u32le(&h);
        const uint8_t *payload = buf + off + BLOCK_HEAD;
        if (kind == BLK_CLASS) {
            rc = load_class(st, scratch, name, b, payload, blen, l, info);
            if (rc == RS_OK) {
                reserve_declared(st, l, want);
            }
        } else if (kind == BLK_RECORDS) {
            rs__rd rr = {payload, payload + blen, false};
            uint64_t ci = rs__codec_get_uvar(&rr);
            if (ci >= l->n_cmaps) {
                rc = bad_file(st, name, b, off,
                              "records of an unknown "
                              "class");
            }
            for (uint32_t i = 0; rc == RS_OK && i < count; i++) {
                rc = load_record(st, &rr, &l->cmaps[ci], names, names_count, nv,
                                 name, b);
            }
            if (rc == RS_OK && rr.p != rr.end) {
                rc = bad_file(st, name, b, off,
                              "bytes after the block's "
                              "records");
            }
        }
        off += BLOCK_HEAD + blen + BLOCK_SUM;
    }
    if (rc == RS_OK && info) {
        info->n_records = records;
        info->n_classes = n_classes;
    }
done:
    rs_store_close(scratch);
    rs__free(st, RS_MEM_META, nv, nv_len);
    rs__free(st, RS_MEM_META, want, want_len);
    rs__free(st, RS_MEM_META, name_bytes, names_len + names_count + 1);
    rs__free(st, RS_MEM_META, names,
             (names_count ? names_count : 1) * sizeof *names);
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        rs__snapshot_load_undo(st, l);
        rs__snapshot_loaded_free(st, l);
        rs__err(st, rc, "%s", msg);
        if (info) {
            memset(info, 0, sizeof *info);
        }
    }
    return rc;
}

rs_status rs__snapshot_inspect(rs_store *st, const uint8_t *buf, size_t len,
                               const char *name, rs_file_info *fi)
{
    const uint8_t *names_at;
    uint32_t names_len;
    return snap_scan(st, buf, len, name, fi, &names_at, &names_len);
}
