/*
 * test_attrs.c: dynamic attributes, shapes and introspection.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs__store_check */

static rs_store *st;
static rs_class *player, *player2;

static void open_classes(void)
{
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    const char *p1 = "Player { uid: str(16) key; name: str(32) unique; "
                     "stat: u8 = 0; level: u16 = 0 } dynamic";
    const char *p2 = "Player2 { uid: str(16) key; name: str(32) unique; "
                     "stat: u8 = 0; level: u16 = 0 }";
    CHECK_OK(st, rs_class_parse(st, p1, strlen(p1), &player));
    CHECK_OK(st, rs_class_parse(st, p2, strlen(p2), &player2));
}

static rs_handle add(rs_class *c, const char *uid, const char *name)
{
    rs_named v[] = {{"uid", rs_val_cstr(uid)}, {"name", rs_val_cstr(name)}};
    rs_handle h = 0;
    CHECK_OK(st, rs_insert(st, c, v, 2, &h));
    return h;
}

static int64_t get_int(rs_handle h, const char *name)
{
    rs_value v;
    if (rs_get_attr(st, h, name, &v) != RS_OK || v.type != RS_I64) {
        return INT64_MIN;
    }
    return v.v.i;
}

static size_t mem_total(void)
{
    rs_mem_report m;
    rs_mem(st, &m);
    return m.total;
}

static void test_bind_get_delete(void)
{
    open_classes();
    rs_handle tom = add(player, "00001", "Tom");
    rs_value v = rs_val_int(123);
    CHECK_FAIL(st, rs_get_attr(st, tom, "x", &v), RS_ENOATTR,
               "'Player' object has no attribute 'x'");
    v = rs_val_int(123);
    CHECK_OK(st, rs_set_attr(st, tom, "x", &v));
    CHECK_EQ(get_int(tom, "x"), 123);
    v = rs_val_int(999);
    CHECK_OK(st, rs_set_attr(st, tom, "y", &v));
    CHECK_EQ(get_int(tom, "y"), 999);
    CHECK_OK(st, rs_del_attr(st, tom, "y"));
    CHECK_FAIL(st, rs_get_attr(st, tom, "y", &v), RS_ENOATTR,
               "'Player' object has no attribute 'y'");
    CHECK_FAIL(st, rs_del_attr(st, tom, "y"), RS_ENOATTR,
               "'Player' object has no attribute 'y'");
    CHECK_FAIL(st, rs_del_attr(st, tom, "never"), RS_ENOATTR,
               "no attribute 'never'");
    CHECK_FAIL(st, rs_del_attr(st, tom, "uid"), RS_EINVAL,
               "Player.uid is a declared field");
    /* Rebind with another type, keeping the place. */
    v = rs_val_cstr("Iron Wolf");
    CHECK_OK(st, rs_set_attr(st, tom, "guild", &v));
    v = rs_val_f64(2.5);
    CHECK_OK(st, rs_set_attr(st, tom, "x", &v));
    v = rs_val_bool(true);
    CHECK_OK(st, rs_set_attr(st, tom, "vip", &v));
    rs_attr items[8];
    size_t n;
    CHECK_OK(st, rs_dict(st, tom, items, 8, &n));
    CHECK_EQ(n, 3);
    CHECK_STR(items[0].name, "x");
    CHECK(items[0].val.type == RS_F64 && items[0].val.v.f == 2.5);
    CHECK_STR(items[1].name, "guild");
    CHECK(items[1].val.type == RS_STR && items[1].val.v.s.len == 9 &&
          memcmp(items[1].val.v.s.ptr, "Iron Wolf", 9) == 0);
    CHECK_STR(items[2].name, "vip");
    CHECK(items[2].val.type == RS_BOOL && items[2].val.v.b);
    /* Big and negative integers survive. */
    v = rs_val_uint(UINT64_MAX);
    CHECK_OK(st, rs_set_attr(st, tom, "big", &v));
    v = rs_val_int(INT64_MIN);
    CHECK_OK(st, rs_set_attr(st, tom, "neg", &v));
    rs_value got;
    CHECK_OK(st, rs_get_attr(st, tom, "big", &got));
    CHECK(got.type == RS_U64 && got.v.u == UINT64_MAX);
    CHECK_EQ(get_int(tom, "neg"), INT64_MIN);
    /* A declared name goes to the field, with its checks. */
    v = rs_val_int(7);
    CHECK_OK(st, rs_set_attr(st, tom, "level", &v));
    CHECK_EQ(get_int(tom, "level"), INT64_MIN); /* level is u16, not i64 */
    CHECK_OK(st, rs_get_attr(st, tom, "level", &got));
    CHECK(got.type == RS_U16 && got.v.u == 7);
    v = rs_val_int(70000);
    CHECK_FAIL(st, rs_set_attr(st, tom, "level", &v), RS_ERANGE,
               "Player.level: 70000 out of range for u16");
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

static void test_slots_class_refuses(void)
{
    open_classes();
    rs_handle jim = add(player2, "00003", "Jim");
    size_t before = mem_total();
    rs_value v = rs_val_int(123);
    CHECK_FAIL(st, rs_set_attr(st, jim, "x", &v), RS_ENOATTR,
               "'Player2' object has no attribute 'x'");
    CHECK_EQ(mem_total(), before);
    CHECK(rs_attr_id(st, player2, "x") == -1);
    CHECK(strstr(rs_errmsg(st), "'Player2' object has no attribute 'x'"));
    rs_named bad[] = {{"uid", rs_val_cstr("1")}, {"x", rs_val_int(1)}};
    CHECK_FAIL(st, rs_insert(st, player2, bad, 2, NULL), RS_ENOATTR,
               "'Player2' object has no attribute 'x'");
    CHECK_EQ(mem_total(), before);
    rs_store_close(st);
}

static void test_dir_and_size(void)
{
    open_classes();
    rs_handle tom = add(player, "00001", "Tom");
    const char *names[16];
    size_t n;
    CHECK_OK(st, rs_dir(st, tom, names, 16, &n));
    CHECK_EQ(n, 4);
    CHECK_STR(names[0], "uid");
    CHECK_STR(names[3], "level");
    size_t bare;
    CHECK_OK(st, rs_record_size(st, tom, &bare));
    CHECK_EQ(bare, 2 + 8 + 16 + 1 + 2);
    rs_value v = rs_val_int(123);
    CHECK_OK(st, rs_set_attr(st, tom, "x", &v));
    v = rs_val_cstr("abc");
    CHECK_OK(st, rs_set_attr(st, tom, "zz", &v));
    CHECK_OK(st, rs_dir(st, tom, names, 16, &n));
    CHECK_EQ(n, 6);
    CHECK_STR(names[4], "x");
    CHECK_STR(names[5], "zz");
    /* A short cap still reports the total. */
    CHECK_OK(st, rs_dir(st, tom, names, 2, &n));
    CHECK_EQ(n, 6);
    size_t with;
    CHECK_OK(st, rs_record_size(st, tom, &with));
    /* Block: length 1, shape 1, x: tag + varint(246) 2, zz: tag + len + 3
     * = 10 bytes; plus the 8-byte vector entry. */
    CHECK_EQ(with, bare + 10 + 8);
    rs_attr items[4];
    CHECK_OK(st, rs_dict(st, tom, items, 4, &n));
    CHECK_EQ(n, 2);
    rs_store_close(st);
}

static void test_insert_with_attrs_and_remove(void)
{
    open_classes();
    size_t empty = mem_total();
    rs_named v[] = {{"uid", rs_val_cstr("1")},
                    {"x", rs_val_int(5)},
                    {"name", rs_val_cstr("A")},
                    {"guild", rs_val_cstr("Wolves")}};
    rs_handle h;
    CHECK_OK(st, rs_insert(st, player, v, 4, &h));
    CHECK_EQ(get_int(h, "x"), 5);
    rs_value g;
    CHECK_OK(st, rs_get_attr(st, h, "guild", &g));
    CHECK(g.type == RS_STR && g.v.s.len == 6);
    rs_named twice[] = {
        {"uid", rs_val_cstr("2")}, {"x", rs_val_int(5)}, {"x", rs_val_int(6)}};
    CHECK_FAIL(st, rs_insert(st, player, twice, 3, NULL), RS_EINVAL,
               "Player.x: given twice");
    rs_named badname[] = {{"uid", rs_val_cstr("2")},
                          {"not a name", rs_val_int(5)}};
    CHECK_FAIL(st, rs_insert(st, player, badname, 2, NULL), RS_EINVAL,
               "is not an attribute name");
    rs_named badutf[] = {{"uid", rs_val_cstr("2")}, {"s", rs_val_cstr("\xff")}};
    CHECK_FAIL(st, rs_insert(st, player, badutf, 2, NULL), RS_EUTF8,
               "Player.s: invalid UTF-8");
    CHECK_EQ(rs_count(player), 1);
    CHECK_OK(st, rs__store_check(st));
    CHECK_OK(st, rs_remove(st, h));
    rs_mem_report m;
    rs_mem(st, &m);
    /* The block went back to the arena: nothing live but names/shapes. */
    CHECK_EQ(m.bytes[RS_MEM_RECORDS], 0);
    CHECK_OK(st, rs__store_check(st));
    CHECK(m.total >= empty);
    rs_store_close(st);
}

static void test_shapes_are_shared(void)
{
    open_classes();
    char uid[16], name[16];
    for (int i = 0; i < 100; i++) {
        snprintf(uid, sizeof uid, "%d", i);
        snprintf(name, sizeof name, "n%d", i);
        rs_handle h = add(player, uid, name);
        rs_value v = rs_val_int(i);
        CHECK_OK(st, rs_set_attr(st, h, "x", &v));
        v = rs_val_cstr("g");
        CHECK_OK(st, rs_set_attr(st, h, "guild", &v));
        if (i % 2) {
            v = rs_val_int(1);
            CHECK_OK(st, rs_set_attr(st, h, "vip", &v));
        }
    }
    rs_mem_report m;
    rs_mem(st, &m);
    /* x; x,guild; x,guild,vip: three shapes for 100 records. */
    CHECK_EQ(m.n_shapes, 3);
    CHECK_EQ(m.n_attr_names, 3);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* Records that each bind a different random set of 3 names stay within 3x
 * of records that all bind the same 3 (the bound); past
 * RS_SHAPES_MAX shapes they use the list form. */
static size_t attrs_bytes(int distinct)
{
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    const char *p1 = "P { id: u32 key } dynamic";
    CHECK_OK(st, rs_class_parse(st, p1, strlen(p1), &player));
    uint64_t r = 12345;
    for (uint32_t i = 0; i < 20000; i++) {
        rs_named v[4] = {{"id", rs_val_uint(i)}};
        char names[3][16];
        for (int k = 0; k < 3; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            snprintf(names[k], sizeof names[k], "a%d_%u", k,
                     distinct ? (unsigned)(r >> 33) % 5000 : 0);
            v[k + 1].name = names[k];
            v[k + 1].val = rs_val_int((int64_t)(r >> 40));
        }
        CHECK_OK(st, rs_insert(st, player, v, 4, NULL));
    }
    CHECK_OK(st, rs__store_check(st));
    rs_mem_report m;
    rs_mem(st, &m);
    if (distinct) {
        CHECK(m.n_shapes <= 4095);
    }
    rs_store_close(st);
    return m.bytes[RS_MEM_ATTRS];
}

static void test_hostile_names_stay_bounded(void)
{
    size_t same = attrs_bytes(0), random = attrs_bytes(1);
    printf("attrs bytes: %zu with the same 3 names, %zu with random ones "
           "(%.2fx)\n",
           same, random, (double)random / (double)same);
    CHECK(random <= 3 * same);
}

static void test_scan_on_attrs(void)
{
    open_classes();
    char uid[16], name[16];
    for (int i = 0; i < 50; i++) {
        snprintf(uid, sizeof uid, "%d", i);
        snprintf(name, sizeof name, "n%d", i);
        rs_handle h = add(player, uid, name);
        if (i % 5 == 0) {
            rs_value v = rs_val_int(i);
            CHECK_OK(st, rs_set_attr(st, h, "x", &v));
        }
        if (i % 7 == 0) {
            rs_value v = rs_val_cstr("text");
            CHECK_OK(st, rs_set_attr(st, h, "x", &v));
        }
    }
    rs_field x = rs_attr_id(st, player, "x");
    CHECK(x >= RS_ATTR_BASE);
    rs_cond c[] = {{x, RS_GE, rs_val_int(20)}};
    rs_scan *sc;
    rs_handle h;
    int n = 0;
    CHECK_OK(st, rs_scan_open(st, player, c, 1, &sc));
    while (rs_scan_next(sc, &h) == RS_OK) {
        n++;
    }
    rs_scan_close(sc);
    CHECK_EQ(n, 5); /* 20 25 30 40 45 (35 is a string: 35 % 7 == 0) */
    rs_cond c2[] = {{x, RS_PREFIX, rs_val_cstr("te")}};
    CHECK_OK(st, rs_scan_open(st, player, c2, 1, &sc));
    n = 0;
    while (rs_scan_next(sc, &h) == RS_OK) {
        n++;
    }
    rs_scan_close(sc);
    CHECK_EQ(n, 8); /* 0 7 14 21 28 35 42 49 */
    /* The fast path by id. */
    CHECK_OK(st, rs_get(st, player, "25", 2, &h));
    int64_t got;
    CHECK_OK(st, rs_get_int(st, h, x, &got));
    CHECK_EQ(got, 25);
    CHECK_OK(st, rs_set_int(st, h, x, 26));
    CHECK_OK(st, rs_get_int(st, h, x, &got));
    CHECK_EQ(got, 26);
    CHECK_OK(st, rs_get(st, player, "24", 2, &h));
    CHECK_FAIL(st, rs_get_int(st, h, x, &got), RS_ENOATTR,
               "'Player' object has no attribute 'x'");
    rs_store_close(st);
}

static void test_churn_reuses_attr_memory(void)
{
    open_classes();
    enum { N = 3000 };
    static rs_handle hs[N];
    char uid[16], name[16];
    for (int i = 0; i < N; i++) {
        snprintf(uid, sizeof uid, "%06d", i);
        snprintf(name, sizeof name, "n%06d", i);
        hs[i] = add(player, uid, name);
        rs_value v = rs_val_int(i);
        CHECK_OK(st, rs_set_attr(st, hs[i], "x", &v));
    }
    rs_mem_report m0, m1;
    for (int round = 0; round < 10; round++) {
        if (round == 1) {
            rs_mem(st, &m0);
        }
        for (int i = round % 4; i < N; i += 4) {
            CHECK_OK(st, rs_remove(st, hs[i]));
            snprintf(uid, sizeof uid, "%06d", N * (round + 1) + i);
            snprintf(name, sizeof name, "n%06d", N * (round + 1) + i);
            hs[i] = add(player, uid, name);
            rs_value v = rs_val_int(i);
            CHECK_OK(st, rs_set_attr(st, hs[i], "x", &v));
        }
    }
    rs_mem(st, &m1);
    CHECK_EQ(m1.bytes[RS_MEM_ATTRS], m0.bytes[RS_MEM_ATTRS]);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* An attribute read by field number trusts the record's vector entry
 * instead of its row when the entry carries the handle's generation: a
 * handle whose slot was reused, forged, or brought back by an aborted
 * group must read exactly what the row's path would. */
static void test_attr_read_vouched_by_entry(void)
{
    open_classes();
    rs_handle a = add(player, "1", "A");
    rs_value v = rs_val_int(1), got;
    CHECK_OK(st, rs_set_attr(st, a, "x", &v));
    rs_field fx = rs_attr_id(st, player, "x");
    CHECK(fx >= RS_ATTR_BASE);
    CHECK_OK(st, rs_get_field(st, a, fx, &got));
    CHECK_EQ(got.v.i, 1);
    CHECK_OK(st, rs_remove(st, a));
    CHECK_FAIL(st, rs_get_field(st, a, fx, &got), RS_ESTALE, "stale");
    rs_handle b = add(player, "2", "B"); /* the same slot, reused */
    CHECK_EQ((uint32_t)b, (uint32_t)a);
    v = rs_val_int(2);
    CHECK_OK(st, rs_set_attr(st, b, "x", &v));
    CHECK_FAIL(st, rs_get_field(st, a, fx, &got), RS_ESTALE, "stale");
    CHECK_OK(st, rs_get_field(st, b, fx, &got));
    CHECK_EQ(got.v.i, 2);
    /* So does a read by name. */
    CHECK_FAIL(st, rs_get_attr(st, a, "x", &got), RS_ESTALE, "stale");
    CHECK_OK(st, rs_get_attr(st, b, "x", &got));
    CHECK_EQ(got.v.i, 2);
    /* A write by field number takes the same short cut: not through a's
     * handle into B. */
    v = rs_val_int(9);
    CHECK_FAIL(st, rs_set_field(st, a, fx, &v), RS_ESTALE, "stale");
    CHECK_OK(st, rs_get_field(st, b, fx, &got));
    CHECK_EQ(got.v.i, 2);
    /* Forged: B's slot with a later generation, and with bit 15 set. */
    rs_handle later = b + ((rs_handle)2 << 32);
    CHECK_FAIL(st, rs_get_field(st, later, fx, &got), RS_ESTALE, "stale");
    CHECK_FAIL(st, rs_get_attr(st, later, "x", &got), RS_ESTALE, "stale");
    rs_handle high = b | ((rs_handle)0x8000 << 32);
    CHECK_FAIL(st, rs_get_field(st, high, fx, &got), RS_ESTALE, "generation");
    /* A group removes B, reuses its slot for C with x, then aborts: B is
     * back with its own x, C's handle is stale. */
    CHECK_OK(st, rs_group_begin(st));
    v = rs_val_int(20); /* rebound in place, then undone */
    CHECK_OK(st, rs_set_field(st, b, fx, &v));
    CHECK_OK(st, rs_remove(st, b));
    rs_handle c = add(player, "3", "C");
    v = rs_val_int(3);
    CHECK_OK(st, rs_set_attr(st, c, "x", &v));
    CHECK_OK(st, rs_get_field(st, c, fx, &got));
    CHECK_EQ(got.v.i, 3);
    rs_group_abort(st);
    CHECK_OK(st, rs_get_field(st, b, fx, &got));
    CHECK_EQ(got.v.i, 2);
    CHECK_FAIL(st, rs_get_field(st, c, fx, &got), RS_ESTALE, "stale");
    /* A live record without the name: the row's path says so. */
    rs_handle d = add(player, "4", "D");
    CHECK_FAIL(st, rs_get_field(st, d, fx, &got), RS_ENOATTR,
               "no attribute 'x'");
    CHECK_OK(st, rs__store_check(st)); /* entries carry their rows' gens */
    rs_store_close(st);
}

/* A value borrowed from the record's own block can be set back. */
static void test_set_own_value(void)
{
    open_classes();
    rs_handle tom = add(player, "1", "Tom");
    rs_value v = rs_val_cstr("a rather long guild name");
    CHECK_OK(st, rs_set_attr(st, tom, "guild", &v));
    v = rs_val_int(1);
    CHECK_OK(st, rs_set_attr(st, tom, "a", &v));
    rs_value g;
    CHECK_OK(st, rs_get_attr(st, tom, "guild", &g));
    CHECK_OK(st, rs_set_attr(st, tom, "copy", &g));
    CHECK_OK(st, rs_get_attr(st, tom, "guild", &g));
    CHECK_OK(st, rs_set_attr(st, tom, "guild", &g));
    rs_value c;
    CHECK_OK(st, rs_get_attr(st, tom, "copy", &c));
    CHECK(c.type == RS_STR && c.v.s.len == 24 &&
          memcmp(c.v.s.ptr, "a rather long guild name", 24) == 0);
    CHECK_OK(st, rs_get_attr(st, tom, "guild", &g));
    CHECK(g.v.s.len == 24 &&
          memcmp(g.v.s.ptr, "a rather long guild name", 24) == 0);
    rs_store_close(st);
}

/* An insert that takes a string cell for each of 255 fields and one more
 * for its attribute block: the arena's undo log holds them all. */
static void test_widest_insert(void)
{
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    static char text[16384];
    size_t len = (size_t)snprintf(text, sizeof text, "W {");
    for (int f = 0; f < RS_MAX_FIELDS; f++) {
        len += (size_t)snprintf(text + len, sizeof text - len,
                                " s%d: str(64) inline(7)%s;", f,
                                f == 0 ? " key" : "");
    }
    snprintf(text + len, sizeof text - len, " } dynamic");
    rs_class *w;
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), &w));
    static rs_named v[RS_MAX_FIELDS + 1];
    static char names[RS_MAX_FIELDS][8];
    for (int f = 0; f < RS_MAX_FIELDS; f++) {
        snprintf(names[f], sizeof names[f], "s%d", f);
        v[f].name = names[f];
        v[f].val = rs_val_cstr("seventeen-bytes!!");
    }
    v[RS_MAX_FIELDS].name = "extra";
    v[RS_MAX_FIELDS].val = rs_val_int(1);
    rs_handle h;
    CHECK_OK(st, rs_insert(st, w, v, RS_MAX_FIELDS + 1, &h));
    CHECK_EQ(get_int(h, "extra"), 1);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

/* A packed string handed out survives reads that decode nothing. */
static void test_ring_holds_packed_strings(void)
{
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    const char *text = "Q { uid: str(16) key inline(4); n: u32 = 5 }";
    rs_class *q;
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), &q));
    rs_handle a, b;
    rs_named va[] = {{"uid", rs_val_cstr("1234567")}};
    rs_named vb[] = {{"uid", rs_val_cstr("7654321")}};
    CHECK_OK(st, rs_insert(st, q, va, 1, &a));
    CHECK_OK(st, rs_insert(st, q, vb, 1, &b));
    const char *p;
    size_t len;
    CHECK_OK(st, rs_get_str(st, a, 0, &p, &len));
    for (int i = 0; i < 40; i++) {
        int64_t n;
        CHECK_OK(st, rs_get_int(st, a, 1, &n));
    }
    const char *p2;
    size_t len2;
    CHECK_OK(st, rs_get_str(st, b, 0, &p2, &len2));
    CHECK(len == 7 && memcmp(p, "1234567", 7) == 0);
    CHECK(len2 == 7 && memcmp(p2, "7654321", 7) == 0);
    rs_store_close(st);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"bind_get_delete", test_bind_get_delete},
        {"slots_class_refuses", test_slots_class_refuses},
        {"dir_and_size", test_dir_and_size},
        {"insert_with_attrs_and_remove", test_insert_with_attrs_and_remove},
        {"shapes_are_shared", test_shapes_are_shared},
        {"hostile_names_stay_bounded", test_hostile_names_stay_bounded},
        {"scan_on_attrs", test_scan_on_attrs},
        {"churn_reuses_attr_memory", test_churn_reuses_attr_memory},
        {"set_own_value", test_set_own_value},
        {"attr_read_vouched_by_entry", test_attr_read_vouched_by_entry},
        {"widest_insert", test_widest_insert},
        {"ring_holds_packed_strings", test_ring_holds_packed_strings},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
