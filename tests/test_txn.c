/*
 * test_txn.c: atomic groups (rs_group_begin(), rs_group_commit(),
 * rs_group_abort()): all of a group's changes or none, in memory and in
 * the journal; a failing change rolls the group back at once, handles
 * included.  test_oom group_rollback fails the group's allocations in
 * turn; test_crash kills a child in the middle of groups.
 *
 * Fixtures (dump(), sample(), durable(), the checking allocator) are in
 * persist_fixture.h.
 */
#include "persist_fixture.h"
#include "store.h" /* rs__store_check */

#include <signal.h>
#include <sys/resource.h>

/* A group with every kind of change that commits; one whose last change
 * fails (everything rolls back, handles included, and later changes are
 * refused until it ends); one that aborts; no class declared inside. */
static void groups(void)
{
    rs_store *st = sample(60);
    rs_class *c = rs_class_find(st, "Player");
    rs_class *it = rs_class_find(st, "Item");
    rs_handle a, b;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a));
    CHECK_OK(st, rs_get(st, c, "1000014", 7, &b));
    /* A trade that commits. */
    CHECK_OK(st, rs_group_begin(st));
    rs_value g = rs_val_int(-100);
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "gold"), &g));
    rs_value sword = rs_val_cstr("sword");
    CHECK_OK(st, rs_set_attr(st, b, "item", &sword));
    CHECK_OK(st, rs_group_commit(st));
    rs_value v;
    CHECK_OK(st, rs_get_attr(st, b, "item", &v));

    /* A group whose last change fails: everything rolls back, handles
     * included, and later changes are refused until it ends. */
    char *before = dump(st, BOTH, 2);
    rs_mem_report m0;
    rs_mem(st, &m0);
    CHECK_OK(st, rs_group_begin(st));
    CHECK_FAIL(st, rs_group_begin(st), RS_EINVAL, "nest");
    rs_value big = rs_val_int(123456);
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "gold"), &big));
    rs_value nm = rs_val_cstr("a brand new name");
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "name"), &nm));
    rs_value nk = rs_val_cstr("9999999");
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "uid"), &nk));
    CHECK_OK(st, rs_del_attr(st, b, "guild"));
    CHECK_OK(st, rs_set_attr(st, b, "hp", &big)); /* keeps its place */
    CHECK_OK(st, rs_set_attr(st, b, "extra", &nm));
    CHECK_OK(st, rs_remove(st, b));
    add_player(st, c, 1000); /* takes b's slot */
    add_player(st, c, 1001);
    rs_named iv[] = {{"id", rs_val_int(77777)}};
    CHECK_OK(st, rs_insert(st, it, iv, 1, NULL));
    rs_handle gone;
    CHECK_OK(st, rs_get(st, c, "1000021", 7, &gone));
    CHECK_OK(st, rs_remove(st, gone));
    /* Re-insert the removed key: the undo must not collide. */
    rs_named again[] = {{"uid", rs_val_cstr("1000021")},
                        {"name", rs_val_cstr("someone else")}};
    CHECK_OK(st, rs_insert(st, c, again, 2, NULL));
    /* This one fails: a duplicate name. */
    rs_value dup = rs_val_cstr("name-10-\xe5\xbc\xa0");
    rs_handle d;
    CHECK_OK(st, rs_get(st, c, "1000077", 7, &d)); /* player 11 */
    CHECK_FAIL(st, rs_set_field(st, d, rs_class_field(c, "name"), &dup),
               RS_EEXIST, "name-10");
    CHECK_FAIL(st, rs_remove(st, d), RS_EGROUP, "already failed");
    CHECK_FAIL(st, rs_group_commit(st), RS_EGROUP, "rolled back");
    char *after = dump(st, BOTH, 2);
    CHECK_DUMPS(before, after);
    /* The handles of the group's start still work. */
    CHECK_OK(st, rs_check(st, a));
    CHECK_OK(st, rs_check(st, b));
    CHECK_OK(st, rs_check(st, gone));
    CHECK_OK(st, rs_get_attr(st, b, "item", &v));

    /* rs_group_abort rolls back too. */
    before = dump(st, BOTH, 2);
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_remove(st, a));
    add_player(st, c, 2000);
    rs_group_abort(st);
    CHECK_DUMPS(before, dump(st, BOTH, 2));
    CHECK_OK(st, rs_check(st, a));
    CHECK_FAIL(st, rs_group_commit(st), RS_EINVAL, "no group");
    /* Classes are not declared inside a group. */
    CHECK_OK(st, rs_group_begin(st));
    rs_class *x;
    CHECK_FAIL(st, rs_class_parse(st, "X { k: u8 key }", 15, &x), RS_EINVAL,
               "inside a group");
    CHECK_OK(st, rs_group_commit(st));
    rs_store_close(st);
}

/* Closing a store with a group open frees the group's undo log with the
 * rest (the allocator's check after the cases). */
static void close_inside_group(void)
{
    rs_store *st = sample(30);
    CHECK_OK(st, rs_group_begin(st));
    rs_store_close(st);
}

/* rs_set_many() inside a group is part of the group: an abort undoes it. */
static void set_many_in_group(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, "Player { uid: str(16) key inline(4); "
                              "name: str(32) unique; stat: u8 = 0; "
                              "level: u16 = 1; gold: i64 = 0; rate: f32 = 0.5; "
                              "score: f64 = 0; vip: bool = false } dynamic");
    rs_named v[] = {{"uid", rs_val_cstr("1000001")},
                    {"name", rs_val_cstr("p1")},
                    {"level", rs_val_int(2)}};
    rs_handle h;
    CHECK_OK(st, rs_insert(st, c, v, 3, &h));
    rs_named ok[] = {{"level", rs_val_int(50)},
                     {"guild", rs_val_cstr("x")},
                     {"name", rs_val_cstr("renamed")},
                     {"hp", rs_val_int(9)}};
    CHECK_OK(st, rs_set_many(st, h, ok, 4));
    int64_t level, gold;
    CHECK_OK(st, rs_group_begin(st));
    rs_named two[] = {{"level", rs_val_int(3)}, {"gold", rs_val_int(-1)}};
    CHECK_OK(st, rs_set_many(st, h, two, 2));
    rs_group_abort(st);
    CHECK_OK(st, rs_get_int(st, h, rs_class_field(c, "level"), &level));
    CHECK_EQ(level, 50);
    CHECK_OK(st, rs_get_int(st, h, rs_class_field(c, "gold"), &gold));
    CHECK_EQ(gold, 0);
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */
/* One record's whole life inside a group                                    */
/* ------------------------------------------------------------------------ */

/* Changes to player 500, a record the group itself inserts: its name (a
 * unique field), its key, a field, an attribute bound and unbound, and at
 * last its removal.  Returns the handle the insert gave. */
static rs_handle insert_set_remove(rs_store *st, rs_class *c)
{
    rs_handle h = add_player(st, c, 500); /* uid 1003500 */
    rs_value nm = rs_val_cstr("renamed-in-group");
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "name"), &nm));
    rs_value k = rs_val_cstr("7777777");
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "uid"), &k));
    rs_value lv = rs_val_int(42);
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "level"), &lv));
    CHECK_OK(st, rs_set_attr(st, h, "loot", &nm));
    CHECK_OK(st, rs_del_attr(st, h, "loot"));
    CHECK_OK(st, rs_remove(st, h));
    return h;
}

/* Neither of the keys nor the name player 500 had in the group is left in
 * an index. */
static void left_nothing(rs_store *st, rs_class *c)
{
    rs_handle x;
    CHECK_EQ(rs_get(st, c, "1003500", 7, &x), RS_ENOTFOUND);
    CHECK_EQ(rs_get(st, c, "7777777", 7, &x), RS_ENOTFOUND);
    rs_value nm = rs_val_cstr("renamed-in-group");
    CHECK_EQ(rs_find(st, c, rs_class_field(c, "name"), &nm, &x), RS_ENOTFOUND);
}

/* A group that inserts a record, changes it and removes it, then aborts:
 * the undo log runs through every step of the record's life backwards.
 * The store is as before (its record count too), the keys can be
 * inserted again, and the group's handle stays stale even once a new
 * record takes its slot. */
static void insert_set_remove_abort(void)
{
    rs_store *st = sample(60);
    rs_class *c = rs_class_find(st, "Player");
    char *before = dump(st, BOTH, 2);
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    CHECK_OK(st, rs_group_begin(st));
    rs_handle h = insert_set_remove(st, c);
    rs_group_abort(st);
    CHECK_DUMPS(before, dump(st, BOTH, 2));
    rs_mem(st, &m1);
    CHECK_EQ(m1.n_records, m0.n_records);
    CHECK_EQ(rs_check(st, h), RS_ESTALE);
    left_nothing(st, c);
    rs_handle again = add_player(st, c, 500);
    CHECK(again != h);
    CHECK_EQ(rs_check(st, h), RS_ESTALE);
    rs_value k = rs_val_cstr("7777777");
    CHECK_OK(st, rs_set_field(st, again, rs_class_field(c, "uid"), &k));
    rs_store_close(st);
}

/* The same life committed on a durable store, beside changes to other
 * records, is one journal entry; the record is gone, and a reopen (which
 * replays the entry: records are named by key there, and this one's key
 * changed inside it) finds the same store. */
static void insert_set_remove_commit(void)
{
    rs_store *st = durable("isr", RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    changes(st, 0, 30);
    rs_store_close(st);
    size_t n0, at[256];
    uint8_t *jb = read_all(path_of("isr.journal"), &n0);
    size_t e0 = entry_offsets(jb, n0, at, 256);
    free(jb);
    st = durable("isr", RS_OK);
    c = rs_class_find(st, "Player");
    rs_handle a;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a)); /* player 1 */
    CHECK_OK(st, rs_group_begin(st));
    rs_value lv = rs_val_int(9);
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    rs_handle h = insert_set_remove(st, c);
    rs_handle kept = add_player(st, c, 501);
    rs_value k = rs_val_cstr("8888888");
    CHECK_OK(st, rs_set_field(st, kept, rs_class_field(c, "uid"), &k));
    CHECK_OK(st, rs_group_commit(st));
    CHECK_EQ(rs_check(st, h), RS_ESTALE);
    left_nothing(st, c);
    CHECK_OK(st, rs_check(st, kept));
    char *want = dump(st, PLAYER, 1);
    rs_store_close(st);
    size_t n1;
    jb = read_all(path_of("isr.journal"), &n1);
    CHECK_EQ(entry_offsets(jb, n1, at, 256), e0 + 1);
    free(jb);
    st = durable("isr", RS_OK);
    c = rs_class_find(st, "Player");
    CHECK_DUMPS(want, dump(st, PLAYER, 1));
    left_nothing(st, c);
    rs_handle x;
    CHECK_OK(st, rs_get(st, c, "8888888", 7, &x));
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */
/* Groups and the journal                                                    */
/* ------------------------------------------------------------------------ */

/* An aborted group and one whose change failed write nothing to the
 * journal; one that commits, however many changes it holds, writes one
 * entry, so a crash leaves all of it or none. */
static void one_entry_or_none(void)
{
    rs_store *st = durable("oe", RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    changes(st, 0, 30);
    size_t n0, at[256];
    uint8_t *j0 = read_all(path_of("oe.journal"), &n0);
    size_t e0 = entry_offsets(j0, n0, at, 256);
    rs_handle a, b;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a)); /* player 1 */
    CHECK_OK(st, rs_get(st, c, "1000014", 7, &b)); /* player 2 */
    rs_value lv = rs_val_int(7), nm = rs_val_cstr("name-1-\xe5\xbc\xa0");

    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    add_player(st, c, 600);
    CHECK_OK(st, rs_remove(st, b));
    rs_group_abort(st);
    CHECK(same_file(path_of("oe.journal"), j0, n0));

    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    add_player(st, c, 600);
    CHECK_FAIL(st, rs_set_field(st, b, rs_class_field(c, "name"), &nm),
               RS_EEXIST, "name-1");
    CHECK_FAIL(st, rs_group_commit(st), RS_EGROUP, "rolled back");
    CHECK(same_file(path_of("oe.journal"), j0, n0));

    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    add_player(st, c, 600);
    rs_value t = rs_val_bool(true);
    CHECK_OK(st, rs_set_attr(st, b, "traded", &t));
    CHECK_OK(st, rs_del_attr(st, a, "guild"));
    CHECK_OK(st, rs_remove(st, b));
    CHECK_OK(st, rs_group_commit(st));
    char *want = dump(st, PLAYER, 1);
    size_t n1;
    uint8_t *j1 = read_all(path_of("oe.journal"), &n1);
    CHECK_EQ(entry_offsets(j1, n1, at, 256), e0 + 1);
    CHECK(n1 > n0 && memcmp(j0, j1, n0) == 0); /* appended, nothing else */
    rs_store_close(st);
    st = durable("oe", RS_OK);
    CHECK_DUMPS(want, dump(st, PLAYER, 1));
    rs_store_close(st);
    free(j0);
    free(j1);
}

/* The soft file size limit (SIGXFSZ ignored, so a write past it fails
 * with EFBIG) stands in for a full disk.  Raising it back works because
 * only the soft limit moves. */
static void set_fsize(rlim_t limit)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
    rl.rlim_cur = limit;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
}

/* A group whose journal entry cannot be written: the commit returns
 * RS_EIO, the store is as before the group (handles included, the
 * group's insert stale), and the journal as it was.  With room again the
 * store goes on, and a reopen finds exactly what was acknowledged. */
static void commit_fails_on_journal_write(void)
{
    rs_store *st = durable("cf", RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    changes(st, 0, 30);
    rs_handle a, b;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a)); /* player 1 */
    CHECK_OK(st, rs_get(st, c, "1000014", 7, &b)); /* player 2 */
    char *before = dump(st, PLAYER, 1);
    size_t n0;
    uint8_t *j0 = read_all(path_of("cf.journal"), &n0);
    CHECK_OK(st, rs_group_begin(st));
    rs_value g = rs_val_int(-100), sword = rs_val_cstr("sword");
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "gold"), &g));
    CHECK_OK(st, rs_set_attr(st, b, "item", &sword));
    rs_handle fresh = add_player(st, c, 700);
    CHECK_OK(st, rs_remove(st, a));
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
    set_fsize((rlim_t)n0); /* not one byte more */
    rs_status rc = rs_group_commit(st);
    set_fsize(rl.rlim_cur);
    signal(SIGXFSZ, old);
    CHECK_EQ(rc, RS_EIO);
    CHECK_HAS(rs_errmsg(st), "cf.journal");
    CHECK_HAS(rs_errmsg(st), "rolled back");
    CHECK_DUMPS(before, dump(st, PLAYER, 1));
    CHECK_OK(st, rs_check(st, a));
    CHECK_OK(st, rs_check(st, b));
    CHECK_EQ(rs_check(st, fresh), RS_ESTALE);
    CHECK(same_file(path_of("cf.journal"), j0, n0));
    /* Room again: a change and a group are acknowledged and kept. */
    rs_value lv = rs_val_int(5);
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_set_attr(st, b, "item", &sword));
    add_player(st, c, 700);
    CHECK_OK(st, rs_group_commit(st));
    char *want = dump(st, PLAYER, 1);
    rs_store_close(st);
    st = durable("cf", RS_OK);
    CHECK_DUMPS(want, dump(st, PLAYER, 1));
    rs_store_close(st);
    free(j0);
}

/* The group of test_oom group_rollback's kind on a durable store, through
 * the public calls only: every allocation from the k-th on fails, for
 * k = 1, 2, ... until the group commits.  Each time the failing change
 * returns RS_ENOMEM, the commit RS_EGROUP, and the rollback (which must
 * not allocate) leaves the store, its handles and the journal as they
 * were; the journal's entry buffer growing is among the failures. */
static rs_status durable_group(rs_store *st, rs_class *c, const rs_handle *h)
{
    static char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    rs_value nm = rs_val_cstr("a-new-unique-name");
    rs_value key = rs_val_cstr("5555555");
    rs_value loot = rs_val_cstr(long_text);
    rs_named many[] = {{"level", rs_val_int(33)},
                       {"mana", rs_val_f64(2.5)},
                       {"bio", rs_val_cstr("a longer text set at once")}};
    rs_status rc = rs_group_begin(st);
    if (rc != RS_OK) {
        return rc;
    }
#define STEP(call)                                                             \
    do {                                                                       \
        if ((rc = (call)) != RS_OK) {                                          \
            rs_status end = rs_group_commit(st);                               \
            CHECK_EQ(end, RS_EGROUP);                                          \
            return rc;                                                         \
        }                                                                      \
    } while (0)
    STEP(rs_set_field(st, h[0], rs_class_field(c, "name"), &nm));
    STEP(rs_set_field(st, h[1], rs_class_field(c, "uid"), &key));
    STEP(rs_set_attr(st, h[2], "loot", &loot));
    STEP(rs_remove(st, h[3]));
    rs_named fresh[] = {{"uid", rs_val_cstr("6666666")},
                        {"name", rs_val_cstr("fresh")},
                        {"bio", rs_val_cstr(long_text + 2800)},
                        {"fresh_attr", rs_val_int(1)}};
    STEP(rs_insert(st, c, fresh, 4, NULL));
    STEP(rs_set_many(st, h[4], many, 3));
    STEP(rs_del_attr(st, h[5], "guild"));
#undef STEP
    return rs_group_commit(st);
}

static void rollback_without_memory(void)
{
    rs_store *st = durable("rm", RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    for (int i = 0; i < 40; i++) {
        add_player(st, c, i);
    }
    /* Players 1..6: each binds 1 to 4 attributes, guild among them. */
    rs_handle h[6];
    for (int i = 0; i < 6; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "%07d", 1000000 + (i + 1) * 7);
        CHECK_OK(st, rs_get(st, c, uid, 7, &h[i]));
    }
    char *before = dump(st, PLAYER, 1);
    size_t n0;
    uint8_t *j0 = read_all(path_of("rm.journal"), &n0);
    long k, failures = 0;
    for (k = 1; k < 2000; k++) {
        alloc_check_arm(&fixture_alloc, k);
        fixture_alloc.fail_rest = true;
        rs_status rc = durable_group(st, c, h);
        long failed = fixture_alloc.n_failed;
        alloc_check_disarm(&fixture_alloc);
        if (rc == RS_OK) {
            CHECK_EQ(failed, 0);
            break;
        }
        failures++;
        if (!CHECK_EQ(rc, RS_ENOMEM)) {
            fprintf(stderr, "  failing from allocation %ld: %s\n", k,
                    rs_errmsg(st));
            break;
        }
        char *now = dump(st, PLAYER, 1);
        if (!CHECK_STR(now, before)) {
            fprintf(stderr, "  failing from allocation %ld\n", k);
        }
        free(now);
        for (int i = 0; i < 6; i++) {
            CHECK_OK(st, rs_check(st, h[i]));
        }
        CHECK(same_file(path_of("rm.journal"), j0, n0));
    }
    printf("  durable group: %ld failure points, each rolled back\n", failures);
    CHECK(failures >= 5);
    char *want = dump(st, PLAYER, 1);
    rs_store_close(st);
    st = durable("rm", RS_OK);
    CHECK_DUMPS(want, dump(st, PLAYER, 1));
    rs_store_close(st);
    free(before);
    free(j0);
}

/* A number rebound in place takes no arena cell, so its undo must not need
 * one either: with every allocation failing, a group that rebinds many
 * records' numbers and then fails still rolls back, each block of before
 * written into the cell it came from. */
static void rollback_of_in_place_rebinds(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, PLAYER_TEXT);
    enum { N = 400 };
    static rs_handle h[N];
    for (int i = 0; i < N; i++) {
        /* i % 5 == 4: guild, hp, mana and ok bound; hp is rebound below */
        h[i] = add_player(st, c, i * 5 + 4);
    }
    char *before = dump(st, PLAYER, 1);
    long k, failures = 0;
    for (k = 1; k < 200; k++) {
        CHECK_OK(st, rs_group_begin(st));
        for (int i = 0; i < N; i++) {
            rs_value v = rs_val_int(i * 5 + 5); /* hp's length: in place */
            CHECK_OK(st, rs_set_attr(st, h[i], "hp", &v));
        }
        alloc_check_arm(&fixture_alloc, k);
        fixture_alloc.fail_rest = true;
        rs_status rc = RS_OK;
        for (int i = 0; i < N && rc == RS_OK; i++) {
            rs_value v = rs_val_cstr("a string long enough for a new cell");
            rc = rs_set_attr(st, h[i], "guild", &v);
        }
        alloc_check_disarm(&fixture_alloc);
        rs_group_abort(st);
        if (rc == RS_OK) {
            break;
        }
        failures++;
        char *now = dump(st, PLAYER, 1);
        if (!CHECK_STR(now, before)) {
            fprintf(stderr, "  failing from allocation %ld: %s\n", k,
                    rs_errmsg(st));
            free(now);
            break;
        }
        free(now);
    }
    CHECK(failures >= 1);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
    free(before);
}

/* ------------------------------------------------------------------------ */
/* What a group refuses                                                      */
/* ------------------------------------------------------------------------ */

/* Saves, loads and class declarations are refused inside a group
 * (RS_EINVAL, saying why); they are not changes, so the group goes on
 * and commits what it holds. */
static void refused_inside_group(void)
{
    rs_store *st = sample(20);
    rs_class *c = rs_class_find(st, "Player");
    CHECK_OK(st, rs_save(st, path_of("rg.snap"), NULL));
    rs_handle a;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a));
    CHECK_OK(st, rs_group_begin(st));
    rs_value lv = rs_val_int(77);
    CHECK_OK(st, rs_set_field(st, a, rs_class_field(c, "level"), &lv));
    CHECK_FAIL(st, rs_save(st, path_of("rg2.snap"), NULL), RS_EINVAL,
               "inside a group");
    rs_saver *sv = (rs_saver *)&lv; /* garbage the call must overwrite */
    CHECK_FAIL(st, rs_save_begin(st, path_of("rg2.snap"), &sv), RS_EINVAL,
               "inside a group");
    CHECK(sv == NULL);
    CHECK(access(path_of("rg2.snap"), F_OK) != 0);
    rs_field_def k = {.name = "k", .type = RS_U8, .flags = RS_FIELD_KEY};
    rs_class *x;
    CHECK_FAIL(st, rs_class_create(st, "X", &k, 1, 0, &x), RS_EINVAL,
               "inside a group");
    CHECK_OK(st, rs_group_commit(st));
    uint64_t u;
    CHECK_OK(st, rs_get_uint(st, a, rs_class_field(c, "level"), &u));
    CHECK_EQ(u, 77);
    rs_store_close(st);

    /* A load, into a store with nothing in it yet. */
    st = open_store();
    size_t n;
    uint8_t *snap = read_all(path_of("rg.snap"), &n);
    CHECK_OK(st, rs_group_begin(st));
    CHECK_FAIL(st, rs_load(st, path_of("rg.snap"), NULL), RS_EINVAL,
               "inside a group");
    CHECK_FAIL(st, rs_load_buffer(st, snap, n, "rg.snap", NULL), RS_EINVAL,
               "inside a group");
    CHECK_OK(st, rs_group_commit(st));
    CHECK_EQ(rs_n_classes(st), 0);
    rs_store_close(st);
    free(snap);
}

/* ------------------------------------------------------------------------ */
/* Found in review (wt-review): these fail today                             */
/* ------------------------------------------------------------------------ */

/* rs_attr_id() inside a group hands out a field number; an abort (or a
 * failed change) undoes the names the group interned, so that number is
 * given to the next name interned, and a set through the caller's field
 * for "color" binds "size" instead.  roster.h: a name, once bound, stays
 * known to the store until it closes. */
static void attr_id_survives_abort(void)
{
    rs_store *st = sample(10);
    rs_class *c = rs_class_find(st, "Player");
    rs_handle a;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a));
    CHECK_OK(st, rs_group_begin(st));
    rs_field color = rs_attr_id(st, c, "color");
    CHECK(color >= RS_ATTR_BASE);
    CHECK_OK(st, rs_set_int(st, a, color, 5));
    rs_group_abort(st);
    rs_field size = rs_attr_id(st, c, "size");
    CHECK(size != color);
    CHECK_OK(st, rs_set_int(st, a, color, 9)); /* meant: color = 9 */
    rs_value v;
    CHECK_OK(st, rs_get_attr(st, a, "color", &v));
    CHECK_EQ(rs_get_attr(st, a, "size", &v), RS_ENOATTR);
    rs_store_close(st);
}

/* A call the journal refuses with RS_EIO (a full disk) must leave the
 * accounting as it was (roster.h: "A call that fails leaves the store
 * exactly as it was, its memory accounting included"); the journal's
 * entry buffer, grown for this call's entry, stays grown today. */
static void journal_eio_gives_back(void)
{
    rs_store *st = durable("eg", RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    changes(st, 0, 10);
    rs_handle a;
    CHECK_OK(st, rs_get(st, c, "1000007", 7, &a));
    size_t n0;
    uint8_t *j0 = read_all(path_of("eg.journal"), &n0);
    static char big[20000];
    memset(big, 'q', sizeof big - 1);
    rs_value v = rs_val_cstr(big);
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
    set_fsize((rlim_t)n0);
    rs_status rc = rs_set_attr(st, a, "huge", &v);
    set_fsize(rl.rlim_cur);
    signal(SIGXFSZ, old);
    CHECK_EQ(rc, RS_EIO);
    CHECK(same_file(path_of("eg.journal"), j0, n0));
    rs_mem(st, &m1);
    CHECK_EQ(m1.total, m0.total);
    CHECK_EQ(m1.bytes[RS_MEM_META], m0.bytes[RS_MEM_META]);
    rs_store_close(st);
    free(j0);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"groups", groups},
        {"close_inside_group", close_inside_group},
        {"set_many_in_group", set_many_in_group},
        {"insert_set_remove_abort", insert_set_remove_abort},
        {"insert_set_remove_commit", insert_set_remove_commit},
        {"one_entry_or_none", one_entry_or_none},
        {"commit_fails_on_journal_write", commit_fails_on_journal_write},
        {"rollback_without_memory", rollback_without_memory},
        {"rollback_of_in_place_rebinds", rollback_of_in_place_rebinds},
        {"refused_inside_group", refused_inside_group},
        {"attr_id_survives_abort", attr_id_survives_abort},
        {"journal_eio_gives_back", journal_eio_gives_back},
        {NULL, NULL},
    };
    return fixture_main(argc, argv, cases, "txn");
}
