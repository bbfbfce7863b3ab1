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
    rs_named ok[] = {{"level", rs_val_int(50)}, {"guild", rs_val_cstr("x")},
                     {"name", rs_val_cstr("renamed")}, {"hp", rs_val_int(9)}};
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

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"groups", groups},
        {"close_inside_group", close_inside_group},
        {"set_many_in_group", set_many_in_group},
        {NULL, NULL},
    };
    return fixture_main(argc, argv, cases, "txn");
}
