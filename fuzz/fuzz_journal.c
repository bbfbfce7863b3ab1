/*
 * fuzz_journal.c: libFuzzer target for opening a durable store
 * (rs_durable_open(): the snapshot, then the journal replayed over it).
 *
 * The input, less its first byte, is written as BASE.journal in a private
 * temporary directory.  The first byte picks what BASE.snap is (bits 0-1),
 * each made once at startup with the library itself (fuzz_persist.h):
 *   0 none                    2 the same, saying it was compacted from
 *   1 the small store (three    journal FZ_ID_PREV at offset 32 (a
 *     classes, five records)    compaction cut short: replay from there)
 *                             3 a store with no classes
 * and bit 7, when set, leaves the journal as it is; otherwise its header
 * is set to follow the chosen snapshot and every checksum is repaired, so
 * mutations reach the replay behind them.  Then a fresh store opens BASE.
 *
 * Invariants: no crash, leak or undefined behaviour.  A failed open has a
 * message and leaves the store with no records and no classes and its
 * structures passing rs__store_check(); capacity it grew stays (roster.h),
 * but the same open failing again grows nothing more (no leak).  It also
 * changes no file (roster.h): BASE.journal and BASE.snap hold the bytes
 * written, or there is still no BASE.snap, since damage that a torn write
 * cannot explain is refused rather than cut off.  An open that succeeds
 * passes the check and takes a few more changes (writes()); a second fresh
 * store opening the files then holds the same classes and records (the
 * same fz_digest() text).  The files are removed after every input.
 */
#include "fuzz_persist.h"
#include "store.h" /* rs__store_check, st->n_classes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *snaps[4];
static size_t snap_lens[4];
static const uint64_t journal_ids[4] = {0, FZ_ID_BASE, FZ_ID_PREV, FZ_ID_EMPTY};

static void fail(const char *what, rs_store *st, const char *detail)
{
    fprintf(stderr, "fuzz_journal: %s\n  rs_errmsg: %s\n  %s\n", what,
            st ? rs_errmsg(st) : "", detail ? detail : "");
    abort();
}

/* A snapshot of a store, by the library, with fixed ids. */
static uint8_t *make_snapshot(int fill, uint64_t id, uint64_t prev_id,
                              uint64_t prev_off, size_t *len)
{
    char path[512];
    fz_path(path, sizeof path, "base0.snap");
    rs_store *st = fz_open();
    if (fill) {
        fz_fill(st);
    }
    if (rs_save(st, path, NULL) != RS_OK) {
        fz_die("saving the base snapshot", st);
    }
    rs_store_close(st);
    uint8_t *p = fz_read_file(path, len);
    unlink(path);
    if (p == NULL) {
        fz_die("reading the base snapshot back", NULL);
    }
    fz_snap_ids(p, *len, id, prev_id, prev_off);
    return p;
}

static void init(void)
{
    snaps[1] = make_snapshot(1, FZ_ID_BASE, 0, 0, &snap_lens[1]);
    snaps[2] =
        make_snapshot(1, FZ_ID_COMPACT, FZ_ID_PREV, FZ_J_HEADER, &snap_lens[2]);
    snaps[3] = make_snapshot(0, FZ_ID_EMPTY, 0, 0, &snap_lens[3]);
}

static void remove_files(const char *base)
{
    static const char *const ext[] = {".snap", ".journal", ".snap.tmp",
                                      ".journal.tmp"};
    char path[600];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(path, sizeof path, "%s%s", base, ext[i]);
        unlink(path);
    }
}

/* After a failed open: path holds exactly want[0..len), or (want NULL)
 * does not exist. */
static void check_unchanged(rs_store *st, const char *path, const uint8_t *want,
                            size_t len)
{
    size_t n = 0;
    uint8_t *got = fz_read_file(path, &n);
    if (want == NULL) {
        if (got != NULL) {
            free(got);
            fail("a failed open created a file", st, path);
        }
        return;
    }
    if (got == NULL || n != len || (len && memcmp(got, want, len) != 0)) {
        char d[700];
        snprintf(d, sizeof d, "%s: %zu bytes written, %s %zu", path, len,
                 got ? "now" : "unreadable,", n);
        free(got);
        fail("a failed open changed a file", st, d);
    }
    free(got);
}

static void check_failed(rs_store *st, rs_status s, const rs_mem_report *before,
                         const rs_load_info *info)
{
    rs_mem_report after;
    rs_mem(st, &after);
    char d[512], m[400];
    fz_mem_diff(m, sizeof m, before, &after);
    snprintf(d, sizeof d, "status %s; records %zu; classes %u; %s",
             rs_status_name(s), after.n_records, st->n_classes, m);
    if (rs_errmsg(st)[0] == '\0') {
        fail("a failed open without a message", st, d);
    }
    if (after.n_records != 0) {
        fail("a failed open left records behind", st, d);
    }
    if (st->n_classes != 0) {
        fail("a failed open left classes behind", st, d);
    }
    if (rs__store_check(st) != RS_OK) {
        fail("the store fails its check after a failed open", st, d);
    }
    (void)before; /* capacity the open grew stays (roster.h) */
    if (info->n_records != 0 || info->n_classes != 0) {
        fail("a failed open left info set", st, d);
    }
}

/* A few changes on the opened store, journaled after what was replayed:
 * per class, remove its first record, set a field of the second to the
 * value it has and bind an attribute to it (a dynamic class), and remove
 * the third in a group. */
static void writes(rs_store *st)
{
    for (uint32_t i = 0; i < st->n_classes && i < 8; i++) {
        rs_class *c = st->classes[i];
        rs_handle h[3];
        size_t n = 0;
        rs_scan *sc;
        if (rs_scan_open(st, c, NULL, 0, &sc) != RS_OK) {
            fail("rs_scan_open", st, NULL);
        }
        while (n < 3 && rs_scan_next(sc, &h[n]) == RS_OK) {
            n++;
        }
        rs_scan_close(sc);
        if (n > 0 && rs_remove(st, h[0]) != RS_OK) {
            fail("removing a record after the open failed", st, NULL);
        }
        size_t nf = rs_class_n_fields(c);
        if (n > 1 && nf > 1) {
            rs_field f = (rs_class_key(c) + 1) % (rs_field)nf;
            rs_value v;
            char copy[256];
            if (rs_get_field(st, h[1], f, &v) != RS_OK) {
                fail("rs_get_field", st, NULL);
            }
            if (v.type != RS_STR || v.v.s.len <= sizeof copy) {
                if (v.type == RS_STR && v.v.s.len) {
                    memcpy(copy, v.v.s.ptr, v.v.s.len);
                    v.v.s.ptr = copy;
                }
                if (rs_set_field(st, h[1], f, &v) != RS_OK) {
                    fail("setting a field to its own value failed", st, NULL);
                }
            }
        }
        if (n > 1 && (rs_class_flags(c) & RS_CLASS_DYNAMIC)) {
            rs_value v = rs_val_int(42);
            if (rs_set_attr(st, h[1], "fz_extra", &v) != RS_OK) {
                /* refused (255 attributes already): nothing changed */
            }
        }
        if (n > 2) {
            if (rs_group_begin(st) != RS_OK || rs_remove(st, h[2]) != RS_OK ||
                rs_group_commit(st) != RS_OK) {
                fail("a group after the open failed", st, NULL);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready, verbose;
    if (!ready) {
        init();
        verbose = getenv("FUZZ_VERBOSE") != NULL;
        ready = 1;
    }
    if (size == 0) {
        return 0;
    }
    unsigned mode = data[0], snap = mode & 3u;
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        return 0;
    }
    if (len) {
        memcpy(buf, data + 1, len);
    }
    if (!(mode & 0x80)) {
        fz_fix_journal(buf, len, journal_ids[snap]);
    }
    char base[512], jpath[600], spath[600];
    fz_path(base, sizeof base, "db");
    remove_files(base);
    snprintf(jpath, sizeof jpath, "%s.journal", base);
    snprintf(spath, sizeof spath, "%s.snap", base);
    if (fz_write_file(jpath, buf, len) != 0) {
        fz_die("writing the journal", NULL);
    }
    if (snap && fz_write_file(spath, snaps[snap], snap_lens[snap]) != 0) {
        fz_die("writing the snapshot", NULL);
    }

    rs_store *st = fz_open();
    rs_mem_report before, after;
    rs_mem(st, &before);
    rs_load_info info;
    memset(&info, 0xA5, sizeof info);
    rs_status s = rs_durable_open(st, base, RS_SYNC_NEVER, &info);
    if (verbose) { /* what a replayed input does */
        rs_mem(st, &after);
        fprintf(stderr, "fuzz_journal: mode %u: %s, %zu records: %s\n", mode,
                rs_status_name(s), after.n_records, rs_errmsg(st));
    }
    if (s != RS_OK) {
        check_failed(st, s, &before, &info);
        check_unchanged(st, jpath, buf, len);
        check_unchanged(st, spath, snap ? snaps[snap] : NULL,
                        snap ? snap_lens[snap] : 0);
        free(buf);
        /* The same open failing again grows nothing more. */
        rs_mem(st, &after);
        rs_status again = rs_durable_open(st, base, RS_SYNC_NEVER, &info);
        rs_mem_report again_mem;
        rs_mem(st, &again_mem);
        if (again != s) {
            fail("the same open failed another way the second time", st, NULL);
        }
        if (again_mem.total != after.total ||
            again_mem.n_allocs != after.n_allocs) {
            char m[400];
            fz_mem_diff(m, sizeof m, &after, &again_mem);
            fail("a second failed open grew the store again", st, m);
        }
        rs_store_close(st);
        remove_files(base);
        return 0;
    }
    free(buf);
    rs_mem(st, &after);
    if (rs__store_check(st) != RS_OK) {
        fail("the store fails its check after an open", st, NULL);
    }
    if (info.n_records != after.n_records || info.n_classes != st->n_classes) {
        fail("an open's info does not match the store", st, NULL);
    }
    writes(st);
    rs_mem(st, &after);
    uint32_t classes = st->n_classes;
    char *da = fz_digest(st, st->classes, st->n_classes);
    rs_store_close(st);

    /* What the open and the writes left on disk opens to the same store. */
    rs_store *b = fz_open();
    if (rs_durable_open(b, base, RS_SYNC_NEVER, NULL) != RS_OK) {
        fail("the files do not open again after a successful open", b, NULL);
    }
    rs_mem_report again;
    rs_mem(b, &again);
    if (again.n_records != after.n_records || b->n_classes != classes) {
        char d[160];
        snprintf(d, sizeof d,
                 "records %zu, reopened %zu; classes %u, "
                 "reopened %u",
                 after.n_records, again.n_records, classes, b->n_classes);
        fail("reopening changed the store", b, d);
    }
    if (rs__store_check(b) != RS_OK) {
        fail("the reopened store fails its check", b, NULL);
    }
    char *db = fz_digest(b, b->classes, b->n_classes);
    if (strcmp(da, db) != 0) {
        fprintf(stderr, "--- before closing\n%s--- reopened\n%s", da, db);
        fail("reopening changed the records", b, NULL);
    }
    free(da);
    free(db);
    rs_store_close(b);
    remove_files(base);
    return 0;
}
