/*
 * seedgen.c: writes the seed corpora of fuzz_snapshot and fuzz_journal,
 * made with the library itself (fuzz_persist.h has the store they hold).
 *
 *   seedgen CORPUS_DIR    writes CORPUS_DIR/snapshot/seed-*.bin and
 *                         CORPUS_DIR/journal/seed-*.bin
 *
 * Each seed is the target's mode byte (see the top of each target) and a
 * file.  Snapshot ids are fixed (fz_snap_ids()), so the seeds come out the
 * same on every run.  The committed seeds under fuzz/corpus/ were made by
 * `build-fuzz/fuzz/seedgen fuzz/corpus`.
 */
#include "fuzz_persist.h"

#include <errno.h>
#include <sys/stat.h>

static const char *out_root;

static void seed(const char *kind, const char *name, unsigned mode,
                 const uint8_t *p, size_t n)
{
    char path[1024];
    uint8_t *b = malloc(n + 1);
    if (b == NULL) {
        abort();
    }
    b[0] = (uint8_t)mode;
    if (n) {
        memcpy(b + 1, p, n);
    }
    snprintf(path, sizeof path, "%s/%s/seed-%s.bin", out_root, kind, name);
    if (fz_write_file(path, b, n + 1) != 0) {
        perror(path);
        exit(1);
    }
    free(b);
    printf("%s (%zu bytes)\n", path, n + 1);
}

/* st saved to a file with the given ids, read back; st is closed. */
static uint8_t *save(rs_store *st, uint64_t id, uint64_t prev_id,
                     uint64_t prev_off, size_t *len)
{
    char path[512];
    fz_path(path, sizeof path, "seed.snap");
    if (rs_save(st, path, NULL) != RS_OK) {
        fz_die("rs_save", st);
    }
    rs_store_close(st);
    uint8_t *p = fz_read_file(path, len);
    unlink(path);
    if (p == NULL) {
        fz_die("reading a snapshot back", NULL);
    }
    fz_snap_ids(p, *len, id, prev_id, prev_off);
    return p;
}

static rs_handle get(rs_store *st, const char *cls, const char *key)
{
    rs_handle h;
    if (rs_get(st, rs_class_find(st, cls), key, strlen(key), &h) != RS_OK) {
        fz_die("rs_get", st);
    }
    return h;
}

static void ok(rs_store *st, rs_status s, const char *what)
{
    if (s != RS_OK) {
        fz_die(what, st);
    }
}

static void snapshot_seeds(void)
{
    size_t n;
    uint8_t *p;

    /* The small store, with every pre-declaration of the target. */
    rs_store *st = fz_open();
    fz_fill(st);
    p = save(st, FZ_ID_BASE, 0, 0, &n);
    for (unsigned m = 0; m < 8; m++) {
        char name[32];
        snprintf(name, sizeof name, "small-m%u", m);
        seed("snapshot", name, m, p, n);
    }
    seed("snapshot", "small-nofix", 0x80, p, n);
    free(p);

    /* No classes at all. */
    p = save(fz_open(), FZ_ID_EMPTY, 0, 0, &n);
    seed("snapshot", "empty", 0, p, n);
    free(p);

    /* Classes, no records (and so no attribute names). */
    st = fz_open();
    rs_named pk[1] = {{"uid", rs_val_cstr("x")}};
    rs_named gk[1] = {{"id", rs_val_uint(9)}};
    fz_touch(st, fz_declare(st, fz_player), pk, 1);
    fz_touch(st, fz_declare(st, fz_guild), gk, 1);
    p = save(st, FZ_ID_BASE, 0, 0, &n);
    seed("snapshot", "classes-only", 0, p, n);
    seed("snapshot", "classes-only-m2", 2, p, n);
    free(p);

    /* Removes and slot reuse, a compaction's header. */
    st = fz_open();
    fz_fill(st);
    rs_class *pl = rs_class_find(st, "Player");
    ok(st, rs_remove(st, get(st, "Player", "p-bob")), "rs_remove");
    fz_player_add(st, pl, "42", "dave", 3, "short", 1);
    fz_player_add(st, pl, "p-eve", "eve", 4, NULL, 0);
    ok(st, rs_remove(st, get(st, "Guild", "1")), "rs_remove");
    p = save(st, FZ_ID_COMPACT, FZ_ID_PREV, 4096, &n);
    seed("snapshot", "removed", 0, p, n);
    free(p);
}

/* A durable store at base: ops of every kind.  With fresh, it declares the
 * classes in the journal; else they came from the snapshot. */
static void journal_ops(rs_store *st, int fresh)
{
    rs_class *pl, *gu;
    if (fresh) {
        pl = fz_declare(st, fz_player);                         /* CLASS */
        gu = fz_declare(st, fz_guild);                          /* CLASS */
        fz_player_add(st, pl, "1000001", "alice", 10, NULL, 1); /* NAME,
                                                                   INSERT */
        fz_player_add(st, pl, "p-bob", "bob", 11, "bio of bob", 0);
        fz_guild_add(st, gu, 1, "Knights", 3);
    } else {
        pl = rs_class_find(st, "Player");
        gu = rs_class_find(st, "Guild");
    }
    rs_handle a = get(st, "Player", "1000001");
    rs_field level = rs_class_field(pl, "level");
    ok(st, rs_set_int(st, a, level, 12), "SET");
    ok(st, rs_set_str(st, a, rs_class_field(pl, "bio"), "a new bio", 9),
       "SET str");
    rs_value v = rs_val_cstr("sword");
    ok(st, rs_set_attr(st, a, "weapon", &v), "BIND new name");
    v = rs_val_int(-3);
    ok(st, rs_set_attr(st, a, "guild_rank", &v), "BIND");
    ok(st, rs_del_attr(st, a, "note"), "UNBIND");
    ok(st, rs_remove(st, get(st, "Player", "p-bob")), "REMOVE");
    ok(st, rs_group_begin(st), "group");
    rs_handle c = fz_player_add(st, pl, "77", "carl", 5, NULL, 1);
    ok(st, rs_set_int(st, c, level, 6), "SET in a group");
    v = rs_val_f64(0.25);
    ok(st, rs_set_attr(st, c, "mult", &v), "BIND in a group");
    ok(st, rs_del_attr(st, c, "vip"), "UNBIND in a group");
    ok(st, rs_remove(st, get(st, "Guild", "1")), "REMOVE in a group");
    fz_guild_add(st, gu, 2, "Rogues", 9);
    ok(st, rs_group_commit(st), "group commit");
    /* A group that fails leaves nothing in the journal. */
    ok(st, rs_group_begin(st), "group");
    fz_guild_add(st, gu, 5, "Mages", 1);
    rs_named dup[1] = {{"id", rs_val_uint(2)}};
    if (rs_insert(st, gu, dup, 1, NULL) != RS_EEXIST) {
        fz_die("a duplicate key in a group", st);
    }
    rs_group_abort(st);
    rs_class *it = fz_declare(st, "Item { code: i64 key; qty: u8 unique; "
                                  "w: f64 = 2.5 }"); /* CLASS after records */
    rs_named e[2] = {{"code", rs_val_int(-9)}, {"qty", rs_val_uint(200)}};
    ok(st, rs_insert(st, it, e, 2, NULL), "INSERT Item");
}

/* A durable store at a fresh base (rs_durable_open() writes a snapshot
 * of no classes and a journal), or at one holding snap and an empty
 * journal that follows it (so the open does not compact): journal_ops(),
 * then the journal. */
static uint8_t *durable(const char *name, const uint8_t *snap, size_t slen,
                        uint64_t snap_id, int fresh, size_t *len)
{
    char base[512], path[600];
    fz_path(base, sizeof base, name);
    if (snap) {
        uint8_t head[FZ_J_HEADER] = "RSTRJRNL\1";
        fz_fix_journal(head, sizeof head, snap_id);
        snprintf(path, sizeof path, "%s.journal", base);
        if (fz_write_file(path, head, sizeof head) != 0) {
            fz_die("writing a journal", NULL);
        }
    }
    snprintf(path, sizeof path, "%s.snap", base);
    if (snap && fz_write_file(path, snap, slen) != 0) {
        fz_die("writing a snapshot", NULL);
    }
    rs_store *st = fz_open();
    ok(st, rs_durable_open(st, base, RS_SYNC_NEVER, NULL), "rs_durable_open");
    journal_ops(st, fresh);
    rs_store_close(st);
    unlink(path);
    snprintf(path, sizeof path, "%s.journal", base);
    uint8_t *p = fz_read_file(path, len);
    unlink(path);
    if (p == NULL) {
        fz_die("reading a journal back", NULL);
    }
    return p;
}

static void journal_seeds(void)
{
    size_t n, sn;
    /* Everything in the journal: no snapshot, or one with no classes. */
    uint8_t *p = durable("fresh", NULL, 0, 0, 1, &n);
    fz_fix_journal(p, n, 0);
    seed("journal", "fresh-nosnap", 0, p, n);
    fz_fix_journal(p, n, FZ_ID_EMPTY);
    seed("journal", "fresh-emptysnap", 3, p, n);
    seed("journal", "fresh-emptysnap-nofix", 0x83, p, n);
    seed("journal", "fresh-torn", 3, p, n - 7);
    free(p);

    /* Over the small store's snapshot (the target writes the same one). */
    rs_store *st = fz_open();
    fz_fill(st);
    uint8_t *snap = save(st, FZ_ID_BASE, 0, 0, &sn);
    p = durable("over", snap, sn, FZ_ID_BASE, 0, &n);
    fz_fix_journal(p, n, FZ_ID_BASE);
    seed("journal", "over-base", 1, p, n);
    seed("journal", "over-base-nofix", 0x81, p, n);
    seed("journal", "header-only", 1, p, FZ_J_HEADER);
    fz_fix_journal(p, n, FZ_ID_PREV);
    seed("journal", "over-compacted", 2, p, n);
    free(p);
    free(snap);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seedgen CORPUS_DIR\n");
        return 2;
    }
    out_root = argv[1];
    const char *kinds[] = {"snapshot", "journal"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", out_root, kinds[i]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            perror(path);
            return 1;
        }
    }
    snapshot_seeds();
    journal_seeds();
    return 0;
}
