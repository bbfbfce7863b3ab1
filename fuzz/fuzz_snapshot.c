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

/* The classes predeclare() declares.  Each is parsed once, at the first
 * input, into a store of its own that lives as long as the process, and
 * kept as the field definitions rs_class_field_def() gives (names and
 * default strings borrowed from that store); every input then declares it
 * with rs_class_create().  Parsing the text again for every input took a
 * third of the target's time, and the parser has its own target
 * (fuzz_class).  The first input checks that each class made this way
 * has the text form of the parsed one. */
enum { D_PLAYER, D_EVOLVED, D_NARROWED, D_REKEYED, D_STATIC, D_GUILD, D__N };

typedef struct decl {
    rs_store *owner; /* holds the parsed class */
    const char *name;
    unsigned flags;
    size_t n_fields;
    rs_field_def *fields;
} decl;

static decl decls[D__N];

static char *class_text(const rs_class *c)
{
    size_t n = rs_class_format(c, NULL, 0);
    char *t = malloc(n + 1);
    if (t == NULL) {
        abort();
    }
    rs_class_format(c, t, n + 1);
    return t;
}

static void declare(rs_store *st, const decl *d)
{
    rs_class *c = NULL;
    if (rs_class_create(st, d->name, d->fields, d->n_fields, d->flags, &c) !=
        RS_OK) {
        fz_die("declaring a class", st);
    }
}

static void decls_init(void)
{
    static const char *const *const texts[D__N] = {
        &fz_player,      &evolved_player, &narrowed_player,
        &rekeyed_player, &static_player,  &evolved_guild};
    for (int i = 0; i < D__N; i++) {
        decl *d = &decls[i];
        d->owner = fz_open();
        rs_class *c = fz_declare(d->owner, *texts[i]);
        d->name = rs_class_name(c);
        d->flags = rs_class_flags(c);
        d->n_fields = rs_class_n_fields(c);
        d->fields = malloc(d->n_fields * sizeof *d->fields);
        if (d->fields == NULL) {
            abort();
        }
        for (size_t f = 0; f < d->n_fields; f++) {
            if (rs_class_field_def(c, (rs_field)f, &d->fields[f]) != RS_OK) {
                fz_die("rs_class_field_def", d->owner);
            }
        }
        rs_store *check = fz_open();
        declare(check, d);
        char *parsed = class_text(c);
        char *made = class_text(rs_class_find(check, d->name));
        if (strcmp(parsed, made) != 0) {
            fprintf(stderr, "--- parsed\n%s\n--- created\n%s\n", parsed, made);
            fail("a class created from its parsed fields differs", check, NULL);
        }
        free(parsed);
        free(made);
        rs_store_close(check);
    }
}

static void predeclare(rs_store *st, unsigned variant)
{
    switch (variant) {
    case 1:
    case 7:
        declare(st, &decls[D_PLAYER]);
        break;
    case 2:
        declare(st, &decls[D_EVOLVED]);
        break;
    case 3:
        declare(st, &decls[D_NARROWED]);
        break;
    case 4:
        declare(st, &decls[D_REKEYED]);
        break;
    case 5:
        declare(st, &decls[D_STATIC]);
        break;
    case 6:
        declare(st, &decls[D_GUILD]);
        declare(st, &decls[D_PLAYER]);
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
        snprintf(d, sizeof d,
                 "records %zu, reloaded %zu (info %zu); "
                 "classes %u, reloaded %u",
                 n_records, m.n_records, info.n_records, st->n_classes,
                 b->n_classes);
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
    static int ready;
    if (!ready) {
        decls_init();
        ready = 1;
    }
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
        fprintf(stderr, "fuzz_snapshot: mode %u: %s, %zu records: %s\n", mode,
                rs_status_name(s), after.n_records, rs_errmsg(st));
    }
    if (rs__store_check(st) != RS_OK) {
        fail(s == RS_OK ? "the store fails its check after a load"
                        : "the store fails its check after a failed load",
             st, NULL);
    }
    if (s != RS_OK) {
        char d[512], m[400];
        fz_mem_diff(m, sizeof m, &before, &after);
        snprintf(d, sizeof d,
                 "status %s; records %zu -> %zu; classes %u -> "
                 "%u; %s",
                 rs_status_name(s), before.n_records, after.n_records, classes,
                 st->n_classes, m);
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
        rs_status again =
            rs_load_buffer(st, buf, len, "fuzz.snap", &again_info);
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
        if (info.n_records != 0 || info.n_classes != 0 || info.n_dropped != 0) {
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
