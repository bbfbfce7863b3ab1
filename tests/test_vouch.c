/*
 * test_vouch.c: the entry-vouched attribute reads and writes
 * (rs__attrs_get_by_entry, rs__attrs_set_vouched) against every way a slot's
 * row generation changes: removal and reuse, retirement, groups (commit,
 * abort, failure), saves and loads, durable replay; and the shape walk
 * from a record's old shape.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs__store_check */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Remove dir and the files in it (a durable store's). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

static rs_store *st;
static rs_class *pl;

static void open_store(void)
{
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    const char *p1 = "Player { uid: str(16) key; lvl: u16 = 0 } dynamic";
    CHECK_OK(st, rs_class_parse(st, p1, strlen(p1), &pl));
}

static rs_handle add(const char *uid)
{
    rs_named v[] = {{"uid", rs_val_cstr(uid)}};
    rs_handle h = 0;
    CHECK_OK(st, rs_insert(st, pl, v, 1, &h));
    return h;
}

static rs_handle add_x(const char *uid, int64_t x)
{
    rs_named v[] = {{"uid", rs_val_cstr(uid)}, {"x", rs_val_int(x)}};
    rs_handle h = 0;
    CHECK_OK(st, rs_insert(st, pl, v, 2, &h));
    return h;
}

/* h is stale for reads and writes by field number; live' still reads v. */
static void expect_stale(rs_handle h, rs_field f)
{
    rs_value got = rs_val_int(-777);
    CHECK_EQ((int)rs_get_field(st, h, f, &got), (int)RS_ESTALE);
    CHECK_EQ(got.v.i, -777); /* *out untouched */
    rs_value v = rs_val_int(4242);
    CHECK_EQ((int)rs_set_field(st, h, f, &v), (int)RS_ESTALE);
}

/* The read half only: inside a group a failed write rolls it back. */
static void expect_stale_read(rs_handle h, rs_field f)
{
    rs_value got = rs_val_int(-777);
    CHECK_EQ((int)rs_get_field(st, h, f, &got), (int)RS_ESTALE);
    CHECK_EQ(got.v.i, -777);
}

static int64_t geti(rs_handle h, rs_field f)
{
    rs_value got;
    if (rs_get_field(st, h, f, &got) != RS_OK || got.type != RS_I64) {
        return INT64_MIN;
    }
    return got.v.i;
}

/* Every life of one slot, each with an attribute: the old handles stay
 * stale through the last life, the retirement, and after. */
static void test_retire_with_attrs(void)
{
    open_store();
    rs_field fx = rs_attr_id(st, pl, "x");
    rs_handle first = add_x("k", 0), prev = first;
    CHECK_OK(st, rs_remove(st, first));
    for (int i = 1; i < RS_SLOT_LIVES; i++) {
        rs_handle h = add_x("k", i);
        CHECK_EQ((uint32_t)h, (uint32_t)first);
        expect_stale(prev, fx);
        expect_stale(first, fx);
        CHECK_EQ(geti(h, fx), i);
        rs_value v = rs_val_int(i + 1); /* in place, through the entry */
        CHECK_OK(st, rs_set_field(st, h, fx, &v));
        CHECK_OK(st, rs_remove(st, h));
        expect_stale(h, fx);
        prev = h;
        if (check_failures > 5) {
            break;
        }
    }
    /* Retired now: a new record goes elsewhere. */
    rs_handle n = add_x("new", 99);
    CHECK((uint32_t)n != (uint32_t)first);
    expect_stale(prev, fx);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* Groups: every undo path that changes a slot's generation or entry. */
static void test_groups(void)
{
    open_store();
    rs_field fx = rs_attr_id(st, pl, "x");
    rs_field fy = rs_attr_id(st, pl, "y");
    rs_handle a = add_x("a", 1);
    rs_handle b = add("b");
    /* 1. Inside a group: bind y to a, remove a, insert c (not a's slot),
     * bind x to b, abort. */
    CHECK_OK(st, rs_group_begin(st));
    rs_value v = rs_val_int(2);
    CHECK_OK(st, rs_set_field(st, a, fy, &v));
    CHECK_OK(st, rs_remove(st, a));
    expect_stale_read(a, fx);
    rs_handle c = add_x("c", 3);
    CHECK((uint32_t)c != (uint32_t)a);
    v = rs_val_int(4);
    CHECK_OK(st, rs_set_field(st, b, fx, &v));
    rs_group_abort(st);
    CHECK_EQ(geti(a, fx), 1);
    CHECK_EQ((int)rs_get_field(st, a, fy, &v), (int)RS_ENOATTR);
    expect_stale(c, fx);
    CHECK_EQ((int)rs_get_field(st, b, fx, &v), (int)RS_ENOATTR);
    CHECK_OK(st, rs__store_check(st));
    /* 2. The same, committed: a stays removed; its slot is reused after. */
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_remove(st, a));
    c = add_x("c", 3);
    CHECK_OK(st, rs_group_commit(st));
    expect_stale(a, fx);
    CHECK_EQ(geti(c, fx), 3);
    rs_handle d = add_x("d", 5);
    CHECK_EQ((uint32_t)d, (uint32_t)a);
    expect_stale(a, fx);
    CHECK_EQ(geti(d, fx), 5);
    CHECK_OK(st, rs__store_check(st));
    /* 3. A group that fails (a duplicate key) rolls back at once; then
     * RS_EGROUP until it ends. */
    CHECK_OK(st, rs_group_begin(st));
    rs_handle e = add_x("e", 6);
    v = rs_val_int(7);
    CHECK_OK(st, rs_set_field(st, d, fx, &v));
    rs_named dup[] = {{"uid", rs_val_cstr("d")}};
    rs_handle junk;
    CHECK_EQ((int)rs_insert(st, pl, dup, 1, &junk), (int)RS_EEXIST);
    expect_stale_read(e, fx);
    /* The failed group refuses the write either way, stale or vouched: */
    v = rs_val_int(8);
    CHECK_EQ((int)rs_set_field(st, d, fx, &v), (int)RS_EGROUP);
    rs_group_abort(st);
    CHECK_EQ(geti(d, fx), 5);
    expect_stale(e, fx);
    CHECK_OK(st, rs__store_check(st));
    /* 4. Insert with attrs, unbind, rebind in a group; remove and restore
     * a record at its last life inside a group. */
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_del_attr(st, d, "x"));
    v = rs_val_cstr("str now");
    CHECK_OK(st, rs_set_attr(st, d, "x", &v));
    CHECK_OK(st, rs_remove(st, d));
    rs_group_abort(st);
    CHECK_EQ(geti(d, fx), 5);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* A record at its slot's last life, removed in a group that aborts. */
static void test_group_last_life(void)
{
    open_store();
    rs_field fx = rs_attr_id(st, pl, "x");
    rs_handle h = 0;
    for (int i = 0; i < RS_SLOT_LIVES; i++) {
        if (i > 0) {
            CHECK_OK(st, rs_remove(st, h));
        }
        h = add_x("k", i);
    }
    CHECK_EQ((unsigned)(h >> 32 & 0xFFFF), 0x7FFFu);
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_remove(st, h));
    expect_stale_read(h, fx);
    rs_group_abort(st);
    CHECK_EQ(geti(h, fx), RS_SLOT_LIVES - 1);
    CHECK_OK(st, rs__store_check(st));
    CHECK_OK(st, rs_remove(st, h));
    expect_stale(h, fx);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* Save, then load into a fresh store; and a load that fails undoes its
 * records, leaving no entry behind. */
static void test_save_load(void)
{
    open_store();
    rs_field fx = rs_attr_id(st, pl, "x");
    rs_handle a = add_x("a", 1);
    CHECK_OK(st, rs_remove(st, a));
    a = add_x("a", 1); /* gen 3 */
    rs_handle b = add("b");
    rs_value v = rs_val_cstr("yy");
    CHECK_OK(st, rs_set_attr(st, b, "y", &v));
    char path[] = "/tmp/roster-vouch-snap.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(st, rs_save(st, path, NULL));
    rs_store *old = st;
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_load(st, path, NULL));
    CHECK_OK(st, rs__store_check(st));
    rs_class *c2 = rs_class_find(st, "Player");
    rs_field fx2 = rs_attr_id(st, c2, "x");
    rs_handle a2;
    CHECK_OK(st, rs_get(st, c2, "a", 1, &a2));
    CHECK_EQ(geti(a2, fx2), 1);
    /* a's old handle (gen 3) means nothing here: the loaded slot is gen 1. */
    rs_handle forged = (a2 & ~((rs_handle)0xFFFF << 32)) | ((rs_handle)3 << 32);
    rs_store *keep = st;
    (void)keep;
    {
        rs_value got = rs_val_int(-777);
        CHECK_EQ((int)rs_get_field(st, forged, fx2, &got), (int)RS_ESTALE);
        v = rs_val_int(1);
        CHECK_EQ((int)rs_set_field(st, forged, fx2, &v), (int)RS_ESTALE);
    }
    /* A second load of the same file fails (duplicate keys) and undoes
     * itself. */
    CHECK(rs_load(st, path, NULL) != RS_OK);
    CHECK_OK(st, rs__store_check(st));
    CHECK_EQ(geti(a2, fx2), 1);
    rs_store_close(st);
    st = old;
    (void)fx;
    rs_store_close(st);
    unlink(path);
}

/* The shape walk from the record's old shape: records that bind the same
 * names in the same order end in one shape whatever route they took, and
 * binding after the shapes run out (list form) still reads back. */
static void test_shape_walk_from_old(void)
{
    open_store();
    rs_handle a = add("a"), b = add("b");
    rs_value v = rs_val_int(1);
    CHECK_OK(st, rs_set_attr(st, a, "p", &v));
    CHECK_OK(st, rs_set_attr(st, a, "q", &v));
    CHECK_OK(st, rs_set_attr(st, a, "r", &v));
    rs_named init[] = {
        {"uid", rs_val_cstr("c")}, {"p", rs_val_int(2)}, {"q", rs_val_int(2)}};
    rs_handle c;
    CHECK_OK(st, rs_insert(st, pl, init, 3, &c));
    CHECK_OK(st, rs_set_attr(st, c, "r", &v));
    /* b: p, r, q -- another order, another shape */
    CHECK_OK(st, rs_set_attr(st, b, "p", &v));
    CHECK_OK(st, rs_set_attr(st, b, "r", &v));
    CHECK_OK(st, rs_set_attr(st, b, "q", &v));
    /* rebind with another length (not in place), then unbind the middle */
    v = rs_val_cstr("long string value");
    CHECK_OK(st, rs_set_attr(st, a, "q", &v));
    CHECK_OK(st, rs_del_attr(st, a, "q"));
    v = rs_val_int(5);
    CHECK_OK(st, rs_set_attr(st, a, "q", &v));
    rs_attr items[8];
    size_t n;
    CHECK_OK(st, rs_dict(st, a, items, 8, &n));
    CHECK_EQ(n, (size_t)3);
    if (n == 3) {
        CHECK_EQ(items[0].name, "p");
        CHECK_EQ(items[1].name, "r");
        CHECK_EQ(items[2].name, "q");
        CHECK_EQ(items[2].val.v.i, 5);
    }
    CHECK_OK(st, rs__store_check(st));
    /* Use up the shapes: one fresh name per record. */
    char name[32];
    for (int i = 0; i < 4200; i++) {
        snprintf(name, sizeof name, "u%d", i);
        rs_handle h = add(name);
        v = rs_val_int(i);
        CHECK_OK(st, rs_set_attr(st, h, name, &v));
        if (i % 2) {
            snprintf(name, sizeof name, "w%d", i);
            CHECK_OK(st, rs_set_attr(st, h, name, &v));
        }
    }
    /* a (shaped) binds a new name now: list form */
    v = rs_val_int(77);
    CHECK_OK(st, rs_set_attr(st, a, "late", &v));
    CHECK_OK(st, rs_set_attr(st, a, "later", &v));
    CHECK_OK(st, rs_dict(st, a, items, 8, &n));
    CHECK_EQ(n, (size_t)5);
    rs_value got;
    CHECK_OK(st, rs_get_attr(st, a, "later", &got));
    CHECK_EQ(got.v.i, 77);
    CHECK_OK(st, rs_get_attr(st, a, "p", &got));
    CHECK_EQ(got.v.i, 1);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* A durable store: writes by field number (vouched, with the journal
 * observing) are journaled and replay to the same values; groups too. */
static void test_durable(void)
{
    char dir[] = "/tmp/roster-vouch-dur.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char base[128];
    snprintf(base, sizeof base, "%s/db", dir);
    open_store();
    CHECK_OK(st, rs_durable_open(st, base, RS_SYNC_NEVER, NULL));
    rs_field fx = rs_attr_id(st, pl, "x");
    rs_handle a = add_x("a", 1);
    rs_value v = rs_val_int(2);
    CHECK_OK(st, rs_set_field(st, a, fx, &v)); /* vouched, in place */
    v = rs_val_cstr("now a string");
    CHECK_OK(st, rs_set_field(st, a, fx, &v)); /* vouched, new block */
    CHECK_OK(st, rs_remove(st, a));
    rs_handle b = add_x("b", 10);
    CHECK_EQ((uint32_t)b, (uint32_t)a);
    v = rs_val_int(3);
    CHECK_EQ((int)rs_set_field(st, a, fx, &v), (int)RS_ESTALE);
    CHECK_OK(st, rs_group_begin(st));
    v = rs_val_int(11);
    CHECK_OK(st, rs_set_field(st, b, fx, &v));
    rs_group_abort(st);
    CHECK_OK(st, rs_group_begin(st));
    v = rs_val_int(12);
    CHECK_OK(st, rs_set_field(st, b, fx, &v));
    CHECK_OK(st, rs_group_commit(st));
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
    open_store();
    CHECK_OK(st, rs_durable_open(st, base, RS_SYNC_NEVER, NULL));
    CHECK_OK(st, rs__store_check(st));
    rs_handle b2;
    CHECK_OK(st, rs_get(st, pl, "b", 1, &b2));
    fx = rs_attr_id(st, pl, "x");
    CHECK_EQ(geti(b2, fx), 12);
    CHECK_EQ(rs_count(pl), (size_t)1);
    rs_store_close(st);
    remove_dir(dir);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"retire_with_attrs", test_retire_with_attrs},
        {"groups", test_groups},
        {"group_last_life", test_group_last_life},
        {"save_load", test_save_load},
        {"shape_walk_from_old", test_shape_walk_from_old},
        {"durable", test_durable},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
