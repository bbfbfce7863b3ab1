/*
 * fuzz_snapshot.c: libFuzzer target for the snapshot loader
 * (rs_load_buffer()).
 *
 * The first byte picks what the store declares before the load, so the
 * class evolution paths run as well as plain loads (bits 0-2):
 *   0 nothing               4 Player with another key (refused)
 *   1 Player, the same      5 Player, not dynamic (attributes refused)
 *   2 Player, widened,      6 Guild widened, then Player: another order
 *     a field added, two    7 Player, the same, holding a record already
 *     dropped                 (a file with Player is refused)
 *   3 Player, narrowed (refused)
 * and bit 7, when set, leaves the checksums as they are; otherwise they are
 * repaired (fuzz_persist.h) so mutations reach the parser behind them.
 * The rest is the snapshot.
 *
 * Invariants: no crash, leak or undefined behaviour.  A failed load has a
 * message and leaves the store as it was: the same records and classes, a
 * zeroed info, and structures that pass rs__store_check().  Capacity the
 * load grew stays (roster.h says so: string and row pages, index segments,
 * interned names), but the same load failing again must find it and grow
 * nothing more: a failed load leaks nothing.  A load that succeeds reports
 * the records it added, passes the check, and survives rs_save() and
 * rs_load() into another store with the same classes and records (the same
 * fz_digest() text).
 */
#include "fuzz_persist.h"
#include "store.h" /* rs__store_check, st->n_classes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const evolved_player =
    "Player { uid: str(24) key inline(4); name: str(64) unique; "
    "stat: i16 = 0; level: u32 = 1; score: i64 = -5; ratio: f64 = 0.5; "
    "hp: f64; rank: u8 = 3 } dynamic";
static const char *const narrowed_player =
    "Player { uid: str(16) key inline(4); name: str(32) unique inline(12); "
    "stat: u8; level: u8; score: i32; ratio: f32; hp: f64; alive: bool; "
    "bio: str(300) } dynamic";
static const char *const rekeyed_player =
    "Player { uid: str(16) unique inline(4); name: str(32) key inline(12); "
    "stat: u8; level: u16; score: i32; ratio: f32; hp: f64; alive: bool; "
    "bio: str(300) } dynamic";
static const char *const static_player =
    "Player { uid: str(16) key inline(4); name: str(32) unique inline(12); "
    "stat: u8 = 0; level: u16 = 1; score: i32 = -5; ratio: f32 = 0.5; "
    "hp: f64; alive: bool = true; bio: str(300) = \"hello\" }";
static const char *const evolved_guild =
    "Guild { id: u64 key; title: str(80) = \"none\"; size: i32 = -1; "
    "motto: str(200); extra: bool = true }";

static void fail(const char *what, rs_store *st, const char *detail)
{
    fprintf(stderr, "fuzz_snapshot: %s\n  rs_errmsg: %s\n  %s\n", what,
            st ? rs_errmsg(st) : "", detail ? detail : "");
    abort();
}

static void predeclare(rs_store *st, unsigned variant)
{
    switch (variant) {
    case 1:
    case 7:
        fz_declare(st, fz_player);
        break;
    case 2:
        fz_declare(st, evolved_player);
        break;
    case 3:
        fz_declare(st, narrowed_player);
        break;
    case 4:
        fz_declare(st, rekeyed_player);
        break;
    case 5:
        fz_declare(st, static_player);
        break;
    case 6:
        fz_declare(st, evolved_guild);
        fz_declare(st, fz_player);
        break;
    default:
        break;
    }
    if (variant == 7) {
        fz_player_add(st, rs_class_find(st, "Player"), "resident", "res", 1,
                      NULL, 1);
    }
}

/* Save st, load the file into a fresh store: the same number of records. */
static void round_trip(rs_store *st, size_t n_records)
{
    char path[512];
    fz_path(path, sizeof path, "round.snap");
    if (rs_save(st, path, NULL) != RS_OK) {
        fail("rs_save of a loaded store failed", st, path);
    }
    rs_store *b = fz_open();
    rs_load_info info;
    if (rs_load(b, path, &info) != RS_OK) {
        fail("the saved store does not load", b, path);
    }
    rs_mem_report m;
    rs_mem(b, &m);
    if (m.n_records != n_records || info.n_records != n_records ||
        b->n_classes != st->n_classes) {
        char d[160];
        snprintf(d, sizeof d, "records %zu, reloaded %zu (info %zu); "
                 "classes %u, reloaded %u", n_records, m.n_records,
                 info.n_records, st->n_classes, b->n_classes);
        fail("the round trip changed the store", b, d);
    }
    if (rs__store_check(b) != RS_OK) {
        fail("the reloaded store fails its check", b, NULL);
    }
    char *da = fz_digest(st, st->classes, st->n_classes);
    char *db = fz_digest(b, b->classes, b->n_classes);
    if (strcmp(da, db) != 0) {
        fprintf(stderr, "--- loaded\n%s--- saved and reloaded\n%s", da, db);
        fail("the round trip changed the records", b, NULL);
    }
    free(da);
    free(db);
    rs_store_close(b);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    unsigned mode = data[0];
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        return 0;
    }
    if (len) {
        memcpy(buf, data + 1, len);
    }
    if (!(mode & 0x80)) {
        fz_fix_snapshot(buf, len);
    }
    rs_store *st = fz_open();
    predeclare(st, mode & 7u);
    rs_mem_report before, after;
    rs_mem(st, &before);
    uint32_t classes = st->n_classes;
    rs_load_info info;
    memset(&info, 0xA5, sizeof info);
    rs_status s = rs_load_buffer(st, buf, len, "fuzz.snap", &info);
    rs_mem(st, &after);
    if (getenv("FUZZ_VERBOSE")) { /* what a replayed input does */
        fprintf(stderr, "fuzz_snapshot: mode %u: %s, %zu records: %s\n",
                mode, rs_status_name(s), after.n_records, rs_errmsg(st));
    }
    if (rs__store_check(st) != RS_OK) {
        fail(s == RS_OK ? "the store fails its check after a load"
                        : "the store fails its check after a failed load",
             st, NULL);
    }
    if (s != RS_OK) {
        char d[512], m[400];
        fz_mem_diff(m, sizeof m, &before, &after);
        snprintf(d, sizeof d, "status %s; records %zu -> %zu; classes %u -> "
                 "%u; %s", rs_status_name(s), before.n_records,
                 after.n_records, classes, st->n_classes, m);
        if (rs_errmsg(st)[0] == '\0') {
            fail("a failed load without a message", st, d);
        }
        if (after.n_records != before.n_records) {
            fail("a failed load left records behind", st, d);
        }
        if (st->n_classes != classes) {
            fail("a failed load left classes behind", st, d);
        }
        rs_load_info again_info;
        rs_status again = rs_load_buffer(st, buf, len, "fuzz.snap",
                                         &again_info);
        rs_mem_report again_mem;
        rs_mem(st, &again_mem);
        if (again != s) {
            fail("the same load failed another way the second time", st, d);
        }
        if (again_mem.total != after.total ||
            again_mem.n_allocs != after.n_allocs) {
            fz_mem_diff(m, sizeof m, &after, &again_mem);
            fail("a second failed load grew the store again", st, m);
        }
        if (info.n_records != 0 || info.n_classes != 0 ||
            info.n_dropped != 0) {
            fail("a failed load left info set", st, d);
        }
    } else {
        if (info.n_records != after.n_records - before.n_records) {
            char d[128];
            snprintf(d, sizeof d, "info.n_records %zu, records %zu -> %zu",
                     info.n_records, before.n_records, after.n_records);
            fail("a load's info does not match the store", st, d);
        }
        round_trip(st, after.n_records);
    }
    rs_store_close(st);
    free(buf);
    return 0;
}
