/*
 * test_api.c: the calls front ends need (a server, a Python module) and
 * the holes a hostile caller would use: lookups that must not grow the
 * store, strings copied out, whole-record reads, several sets at once,
 * read-modify-write, remove by key, batch find, symmetric typed
 * accessors, empty keys and NULL arguments.  Built against the small-page
 * library.
 */
#include "check.h"
#include "roster.h"

#include <stdlib.h>
#include <unistd.h>

#define TEXT                                                                   \
    "Player { uid: str(16) key inline(4); name: str(32) unique; "              \
    "stat: u8 = 0; level: u16 = 1; gold: i64 = 0; rate: f32 = 0.5; "           \
    "score: f64 = 0; vip: bool = false } dynamic"

static rs_store *open_store(void)
{
    rs_store *st;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        abort();
    }
    return st;
}

static rs_class *declare(rs_store *st, const char *text)
{
    rs_class *c;
    if (rs_class_parse(st, text, strlen(text), &c) != RS_OK) {
        fprintf(stderr, "declare: %s\n", rs_errmsg(st));
        abort();
    }
    return c;
}

static rs_handle add(rs_store *st, rs_class *c, int i)
{
    char uid[16], name[32];
    snprintf(uid, sizeof uid, "%07d", 1000000 + i);
    snprintf(name, sizeof name, "p%d", i);
    rs_named v[] = {{"uid", rs_val_cstr(uid)},
                    {"name", rs_val_cstr(name)},
                    {"level", rs_val_int(i % 100 + 1)}};
    rs_handle h;
    if (rs_insert(st, c, v, 3, &h) != RS_OK) {
        fprintf(stderr, "add: %s\n", rs_errmsg(st));
        abort();
    }
    return h;
}

/* The record as text, through rs_read(), to prove a failed call changed
 * nothing. */
static char *show(rs_store *st, rs_handle h)
{
    rs_attr items[300];
    char buf[4096];
    size_t n, need;
    if (rs_read(st, h, items, 300, &n, buf, sizeof buf, &need) != RS_OK) {
        return strdup(rs_errmsg(st));
    }
    char *out = calloc(1, 8192);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const rs_value *v = &items[i].val;
        len += (size_t)snprintf(out + len, 8192 - len, "%s=", items[i].name);
        switch (v->type) {
        case RS_STR:
            len += (size_t)snprintf(out + len, 8192 - len, "'%.*s' ",
                                    (int)v->v.s.len, v->v.s.ptr);
            break;
        case RS_F32:
        case RS_F64:
            len += (size_t)snprintf(out + len, 8192 - len, "%g ", v->v.f);
            break;
        case RS_BOOL:
            len += (size_t)snprintf(out + len, 8192 - len, "%d ", v->v.b);
            break;
        case RS_I8:
        case RS_I16:
        case RS_I32:
        case RS_I64:
            len += (size_t)snprintf(out + len, 8192 - len, "%lld ",
                                    (long long)v->v.i);
            break;
        default:
            len += (size_t)snprintf(out + len, 8192 - len, "%llu ",
                                    (unsigned long long)v->v.u);
            break;
        }
    }
    return out;
}

static void version(void)
{
    CHECK_STR(rs_version(), RS_VERSION);
    CHECK(RS_VERSION_NUM >= 200);
}

/* A lookup of a name no record ever bound never interns it: a million of
 * them leave the name table, the memory and the snapshot as they were. */
static void lookups_never_grow(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    rs_value v = rs_val_int(3);
    CHECK_OK(st, rs_set_attr(st, h, "hp", &v));
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    char snap0[64], snap1[64];
    snprintf(snap0, sizeof snap0, "/tmp/roster-api-%d-0.snap", (int)getpid());
    snprintf(snap1, sizeof snap1, "/tmp/roster-api-%d-1.snap", (int)getpid());
    CHECK_OK(st, rs_save(st, snap0, NULL));
    uint64_t r = 88172645463325252u;
    for (int i = 0; i < 1000000; i++) {
        char name[24];
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        snprintf(name, sizeof name, "n%016llx", (unsigned long long)r);
        rs_field f;
        rs_value out;
        if (i % 2) {
            CHECK(rs_attr_find(st, c, name, &f) == RS_ENOATTR);
        } else {
            CHECK(rs_get_attr(st, h, name, &out) == RS_ENOATTR);
        }
    }
    rs_mem(st, &m1);
    CHECK_EQ(m1.n_attr_names, m0.n_attr_names);
    CHECK_EQ(m1.total, m0.total);
    CHECK_OK(st, rs_save(st, snap1, NULL));
    rs_file_info a, b;
    CHECK_OK(st, rs_inspect(st, snap0, &a));
    CHECK_OK(st, rs_inspect(st, snap1, &b));
    CHECK_EQ(a.bytes, b.bytes);
    CHECK_EQ(a.n_names, b.n_names);
    unlink(snap0);
    unlink(snap1);
    /* Known names and declared fields are found; the message names the
     * class and the attribute. */
    rs_field f;
    CHECK_OK(st, rs_attr_find(st, c, "hp", &f));
    CHECK(f >= RS_ATTR_BASE);
    CHECK_OK(st, rs_attr_find(st, c, "level", &f));
    CHECK_EQ(f, rs_class_field(c, "level"));
    CHECK_FAIL(st, rs_attr_find(st, c, "nope", &f), RS_ENOATTR,
               "'Player' object has no attribute 'nope'");
    rs_store_close(st);
}

/* The name table's limit: a clear RS_EFULL, the store unchanged. */
static void name_limit(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    for (int i = 0; i < RS_ATTR_NAMES_MAX; i++) {
        char name[24];
        snprintf(name, sizeof name, "a%d", i);
        if (rs_attr_id(st, c, name) < 0) {
            fprintf(stderr, "rs_attr_id %d: %s\n", i, rs_errmsg(st));
            check_failures++;
            break;
        }
    }
    char *before = show(st, h);
    rs_value v = rs_val_int(1);
    CHECK_FAIL(st, rs_set_attr(st, h, "one_too_many", &v), RS_EFULL,
               "attribute names");
    char *after = show(st, h);
    CHECK_STR(before, after);
    free(before);
    free(after);
    rs_store_close(st);
}

/* Packed strings (digits the row keeps as a number) copied out: twenty of
 * them held at once stay right, where borrowed ones would not. */
static void copies_hold(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h[20];
    char kept[20][16];
    for (int i = 0; i < 20; i++) {
        h[i] = add(st, c, i);
    }
    rs_field uid = rs_class_field(c, "uid");
    for (int i = 0; i < 20; i++) {
        size_t len;
        CHECK_OK(st,
                 rs_get_str_copy(st, h[i], uid, kept[i], sizeof kept[i], &len));
        CHECK_EQ(len, 7);
    }
    for (int i = 0; i < 20; i++) {
        char want[16];
        snprintf(want, sizeof want, "%07d", 1000000 + i);
        CHECK_STR(kept[i], want);
    }
    /* Too small: the length needed, the buffer untouched. */
    char small[4] = "xyz";
    size_t len = 0;
    CHECK_FAIL(st, rs_get_str_copy(st, h[0], uid, small, sizeof small, &len),
               RS_ETOOLONG, "Player.uid");
    CHECK_EQ(len, 7);
    CHECK_STR(small, "xyz");
    CHECK_FAIL(st,
               rs_get_str_copy(st, h[0], rs_class_field(c, "level"), small,
                               sizeof small, &len),
               RS_ETYPE, "level");
    /* A string attribute. */
    rs_value g = rs_val_cstr("a guild with a long name");
    CHECK_OK(st, rs_set_attr(st, h[1], "guild", &g));
    char buf[64];
    CHECK_OK(st, rs_get_str_copy(st, h[1], rs_attr_id(st, c, "guild"), buf,
                                 sizeof buf, &len));
    CHECK_STR(buf, "a guild with a long name");
    rs_store_close(st);
}

/* rs_read(): every field then every attribute, dir() order, strings in
 * the caller's buffer; too little room says how much. */
static void read_all(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 7);
    rs_value v = rs_val_cstr("red");
    CHECK_OK(st, rs_set_attr(st, h, "guild", &v));
    v = rs_val_int(-4);
    CHECK_OK(st, rs_set_attr(st, h, "hp", &v));
    rs_attr items[16];
    char buf[256];
    size_t n, need;
    CHECK_OK(st, rs_read(st, h, items, 16, &n, buf, sizeof buf, &need));
    CHECK_EQ(n, 10);
    const char *names[16];
    size_t nd;
    CHECK_OK(st, rs_dir(st, h, names, 16, &nd));
    CHECK_EQ(nd, n);
    for (size_t i = 0; i < n && i < nd; i++) {
        CHECK_STR(items[i].name, names[i]);
    }
    CHECK_EQ(items[0].val.type, RS_STR);
    CHECK(items[0].val.v.s.ptr >= buf &&
          items[0].val.v.s.ptr < buf + sizeof buf);
    CHECK_EQ(need, 8 + 3 + 4); /* "1000007", "p7", "red", each with NUL */
    char *s = show(st, h);
    CHECK_STR(s, "uid='1000007' name='p7' stat=0 level=8 gold=0 rate=0.5 "
                 "score=0 vip=0 guild='red' hp=-4 ");
    free(s);
    CHECK_FAIL(st, rs_read(st, h, items, 5, &n, buf, sizeof buf, &need),
               RS_ETOOLONG, "10 items");
    CHECK_EQ(n, 10);
    CHECK_FAIL(st, rs_read(st, h, items, 16, &n, buf, 4, &need), RS_ETOOLONG,
               "15 bytes");
    CHECK_EQ(need, 15);
    CHECK_OK(st, rs_remove(st, h));
    CHECK(rs_read(st, h, items, 16, &n, buf, sizeof buf, &need) == RS_ESTALE);
    rs_store_close(st);
}

/* rs_set_many(): all or none, whatever fails. */
static void set_many(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    add(st, c, 2);
    rs_named ok[] = {{"level", rs_val_int(50)},
                     {"guild", rs_val_cstr("x")},
                     {"name", rs_val_cstr("renamed")},
                     {"hp", rs_val_int(9)}};
    CHECK_OK(st, rs_set_many(st, h, ok, 4));
    char *s = show(st, h);
    CHECK_STR(s, "uid='1000001' name='renamed' stat=0 level=50 gold=0 "
                 "rate=0.5 score=0 vip=0 guild='x' hp=9 ");
    free(s);
    struct {
        rs_named v[4];
        size_t n;
        rs_status want;
        const char *msg;
    } bad[] = {
        {{{"level", rs_val_int(7)}, {"stat", rs_val_int(300)}},
         2,
         RS_ERANGE,
         "Player.stat"},
        {{{"guild", rs_val_cstr("y")}, {"name", rs_val_cstr("p2")}},
         2,
         RS_EEXIST,
         "p2"},
        {{{"hp", rs_val_int(1)}, {"level", rs_val_cstr("high")}},
         2,
         RS_ETYPE,
         "level"},
        {{{"level", rs_val_int(7)}, {"level", rs_val_int(8)}},
         2,
         RS_EINVAL,
         "named twice"},
        {{{"mp", rs_val_int(7)}, {"guild", rs_val_str(NULL, 1)}},
         2,
         RS_EINVAL,
         ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *before = show(st, h);
        rs_mem_report m0, m1;
        rs_mem(st, &m0);
        CHECK_FAIL(st, rs_set_many(st, h, bad[i].v, bad[i].n), bad[i].want,
                   bad[i].msg);
        char *after = show(st, h);
        rs_mem(st, &m1);
        CHECK_STR(before, after);
        CHECK_EQ(m0.n_records, m1.n_records);
        free(before);
        free(after);
    }
    /* Failing calls that would bind new names leave the name table as it
     * was: a client cannot fill it with calls that fail. */
    rs_mem_report n0, n1;
    rs_mem(st, &n0);
    for (int i = 0; i < 2000; i++) {
        char nm[24];
        snprintf(nm, sizeof nm, "junk%d", i);
        rs_named two[] = {{nm, rs_val_int(1)}, {"level", rs_val_int(70000)}};
        CHECK(rs_set_many(st, h, two, 2) == RS_ERANGE);
    }
    rs_mem(st, &n1);
    CHECK_EQ(n1.n_attr_names, n0.n_attr_names);
    CHECK_EQ(n1.n_shapes, n0.n_shapes);
    rs_field jf;
    CHECK(rs_attr_find(st, c, "junk7", &jf) == RS_ENOATTR);
    /* More pairs than a record can hold: refused before any work. */
    static rs_named lots[RS_MAX_FIELDS + RS_ATTRS_MAX + 1];
    for (size_t i = 0; i < sizeof lots / sizeof lots[0]; i++) {
        lots[i] = (rs_named){"level", rs_val_int(1)};
    }
    CHECK_FAIL(st, rs_set_many(st, h, lots, sizeof lots / sizeof lots[0]),
               RS_EINVAL, "more than a record can hold");
    /* On a class that is not dynamic an undeclared name is refused, and
     * nothing else in the call applies. */
    rs_class *p2 = declare(st, "Player2 { uid: str(16) key; level: u16 }");
    rs_named k = {"uid", rs_val_cstr("a")};
    rs_handle h2;
    CHECK_OK(st, rs_insert(st, p2, &k, 1, &h2));
    rs_named undeclared[] = {{"level", rs_val_int(3)}, {"x", rs_val_int(1)}};
    CHECK_FAIL(st, rs_set_many(st, h2, undeclared, 2), RS_ENOATTR,
               "'Player2' object has no attribute 'x'");
    int64_t level;
    CHECK_OK(st, rs_get_int(st, h2, rs_class_field(p2, "level"), &level));
    CHECK_EQ(level, 0);
    /* Inside a group it is part of the group: test_txn set_many_in_group. */
    rs_store_close(st);
}

/* Read-modify-write: increments within the type's range, compare-and-set. */
static void incr_and_cas(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    rs_field stat = rs_class_field(c, "stat"), gold = rs_class_field(c, "gold");
    rs_field rate = rs_class_field(c, "rate"), vip = rs_class_field(c, "vip");
    rs_field score = rs_class_field(c, "score");
    int64_t out;
    CHECK_OK(st, rs_incr(st, h, stat, 250, &out));
    CHECK_EQ(out, 250);
    CHECK_FAIL(st, rs_incr(st, h, stat, 10, &out), RS_ERANGE, "Player.stat");
    CHECK_FAIL(st, rs_incr(st, h, stat, -251, &out), RS_ERANGE, "stat");
    CHECK_OK(st, rs_incr(st, h, stat, -50, &out));
    CHECK_EQ(out, 200);
    CHECK_OK(st, rs_incr(st, h, gold, INT64_MAX, &out));
    CHECK_FAIL(st, rs_incr(st, h, gold, 1, &out), RS_ERANGE, "overflows");
    CHECK_FAIL(st, rs_incr(st, h, vip, 1, &out), RS_ETYPE, "Player.vip");
    CHECK_FAIL(st, rs_incr(st, h, rate, 1, &out), RS_ETYPE, "rate");
    /* An unbound attribute counts as 0 and is bound. */
    rs_field xp = rs_attr_id(st, c, "xp");
    CHECK_OK(st, rs_incr(st, h, xp, 5, &out));
    CHECK_EQ(out, 5);
    CHECK_OK(st, rs_incr(st, h, xp, -7, &out));
    CHECK_EQ(out, -2);
    rs_value s = rs_val_cstr("text");
    CHECK_OK(st, rs_set_attr(st, h, "title", &s));
    CHECK_FAIL(st, rs_incr(st, h, rs_attr_id(st, c, "title"), 1, &out),
               RS_ETYPE, "Player.title");
    double d;
    CHECK_OK(st, rs_incr_f64(st, h, score, 1.25, &d));
    CHECK(d == 1.25);
    CHECK_OK(st, rs_incr_f64(st, h, rate, 0.25, &d));
    CHECK(d == 0.75);
    CHECK_FAIL(st, rs_incr_f64(st, h, score, 1e308 * 10, &d), RS_ERANGE,
               "finite");
    CHECK_FAIL(st, rs_incr_f64(st, h, stat, 1, &d), RS_ETYPE, "stat");
    CHECK_OK(st, rs_incr_f64(st, h, xp, 0.5, &d)); /* int becomes float */
    CHECK(d == -1.5);
    /* Compare and set. */
    rs_value want = rs_val_int(200), now = rs_val_int(201);
    CHECK_OK(st, rs_cas(st, h, stat, &want, &now));
    CHECK_FAIL(st, rs_cas(st, h, stat, &want, &now), RS_ECHANGED,
               "Player.stat");
    int64_t v;
    CHECK_OK(st, rs_get_int(st, h, stat, &v));
    CHECK_EQ(v, 201);
    rs_value unbound = rs_val_int(0);
    CHECK_FAIL(st, rs_cas(st, h, rs_attr_id(st, c, "mp"), &unbound, &now),
               RS_ECHANGED, "not bound");
    /* A bool compares with numbers as 0 or 1, as a scan's RS_EQ does. */
    rs_value one = rs_val_int(1), yes = rs_val_bool(true);
    rs_field vip2 = rs_class_field(c, "vip");
    CHECK_OK(st, rs_set_bool(st, h, vip2, true));
    CHECK_OK(st, rs_cas(st, h, vip2, &one, &yes));
    /* The int64 check does not depend on whether the caller reads out. */
    rs_class *u = declare(st, "U { k: u32 key; big: u64 = 0 }");
    rs_named uk = {"k", rs_val_int(1)};
    rs_handle uh;
    CHECK_OK(st, rs_insert(st, u, &uk, 1, &uh));
    rs_field big = rs_class_field(u, "big");
    CHECK_OK(st, rs_set_uint(st, uh, big, INT64_MAX));
    CHECK_FAIL(st, rs_incr(st, uh, big, 1, NULL), RS_ERANGE, "int64");
    CHECK_FAIL(st, rs_incr(st, uh, big, 1, &out), RS_ERANGE, "int64");
    rs_value str = rs_val_cstr("text"), other = rs_val_cstr("more");
    CHECK_OK(st, rs_cas(st, h, rs_attr_id(st, c, "title"), &str, &other));
    rs_store_close(st);
}

/* Remove by key; find many at once. */
static void by_key(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    for (int i = 0; i < 200; i++) {
        add(st, c, i);
    }
    CHECK_OK(st, rs_remove_key(st, c, "1000005", 7));
    CHECK_FAIL(st, rs_remove_key(st, c, "1000005", 7), RS_ENOTFOUND, "1000005");
    CHECK_EQ(rs_count(c), 199);
    rs_value keys[300];
    char text[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(text[i], sizeof text[i], "%07d", 1000000 + i);
        keys[i] = rs_val_cstr(text[i]);
    }
    keys[7] = rs_val_int(5); /* not a value a str field holds */
    keys[8] = rs_val_cstr("far too long for this field");
    rs_handle out[300];
    size_t found;
    CHECK_OK(st, rs_find_many(st, c, rs_class_key(c), keys, 300, out, &found));
    CHECK_EQ(found, 197);
    CHECK_STR(rs_errmsg(st), ""); /* misses are results, not errors */
    for (int i = 0; i < 300; i++) {
        rs_handle one = RS_NULL_HANDLE;
        if (i != 7 && i != 8 &&
            rs_get(st, c, text[i], strlen(text[i]), &one) != RS_OK) {
            one = RS_NULL_HANDLE;
        }
        CHECK_EQ(out[i], one);
    }
    /* By a unique field. */
    rs_value names[2] = {rs_val_cstr("p3"), rs_val_cstr("nobody")};
    CHECK_OK(st, rs_find_many(st, c, rs_class_field(c, "name"), names, 2, out,
                              &found));
    CHECK_EQ(found, 1);
    CHECK(out[1] == RS_NULL_HANDLE);
    CHECK_FAIL(
        st,
        rs_find_many(st, c, rs_class_field(c, "level"), names, 2, out, &found),
        RS_EINVAL, "not a key or unique field");
    rs_store_close(st);
}

/* Every kind the text form declares can be read and written by a typed
 * call, with the type checked both ways. */
static void typed(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    rs_field gold = rs_class_field(c, "gold"), vip = rs_class_field(c, "vip");
    rs_field score = rs_class_field(c, "score");
    rs_field level = rs_class_field(c, "level");
    CHECK_OK(st, rs_set_uint(st, h, level, 65535));
    CHECK_FAIL(st, rs_set_uint(st, h, level, 65536), RS_ERANGE, "level");
    CHECK_FAIL(st, rs_set_uint(st, h, gold, UINT64_MAX), RS_ERANGE, "gold");
    CHECK_OK(st, rs_set_f64(st, h, score, 2.5));
    double d;
    CHECK_OK(st, rs_get_f64(st, h, score, &d));
    CHECK(d == 2.5);
    CHECK_OK(st, rs_set_bool(st, h, vip, true));
    bool b = false;
    CHECK_OK(st, rs_get_bool(st, h, vip, &b));
    CHECK(b);
    CHECK_FAIL(st, rs_get_bool(st, h, level, &b), RS_ETYPE, "level");
    CHECK_FAIL(st, rs_set_bool(st, h, level, true), RS_ETYPE, "level");
    CHECK_FAIL(st, rs_set_f64(st, h, level, 0.5), RS_ETYPE, "level");
    /* Signed fields read in place by rs_get_int(), at their extremes and
     * through a handle gone stale. */
    rs_class *s = declare(st, "S { k: u32 key; a: i8; b: i16; c: i32; "
                              "d: i64; u: u64 = 0 }");
    static const int64_t lo[4] = {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN};
    static const int64_t hi[4] = {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX};
    rs_named sk = {"k", rs_val_int(1)};
    rs_handle sh;
    CHECK_OK(st, rs_insert(st, s, &sk, 1, &sh));
    for (int i = 0; i < 4; i++) {
        int64_t got;
        rs_field f = (rs_field)(i + 1);
        CHECK_OK(st, rs_set_int(st, sh, f, lo[i]));
        CHECK_OK(st, rs_get_int(st, sh, f, &got));
        CHECK_EQ(got, lo[i]);
        CHECK_OK(st, rs_set_int(st, sh, f, hi[i]));
        CHECK_OK(st, rs_get_int(st, sh, f, &got));
        CHECK_EQ(got, hi[i]);
        CHECK_OK(st, rs_set_int(st, sh, f, -2));
        CHECK_OK(st, rs_get_int(st, sh, f, &got));
        CHECK_EQ(got, -2);
    }
    int64_t big;
    CHECK_OK(st, rs_set_uint(st, sh, 5, UINT64_MAX));
    CHECK_FAIL(st, rs_get_int(st, sh, 5, &big), RS_ERANGE, "exceeds int64");
    CHECK_OK(st, rs_remove(st, sh));
    CHECK_FAIL(st, rs_get_int(st, sh, 1, &big), RS_ESTALE, "stale");
    rs_store_close(st);
}

/* A key must not be empty: insert and set refuse it, naming the class
 * and the field. */
static void empty_key(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_named v[] = {{"uid", rs_val_cstr("")}, {"name", rs_val_cstr("x")}};
    CHECK_FAIL(st, rs_insert(st, c, v, 2, NULL), RS_EINVAL,
               "Player.uid: a key cannot be empty");
    CHECK_EQ(rs_count(c), 0);
    rs_handle h = add(st, c, 1);
    CHECK_FAIL(st, rs_set_str(st, h, rs_class_key(c), "", 0), RS_EINVAL,
               "Player.uid: a key cannot be empty");
    /* An empty unique value is a value like any other. */
    CHECK_OK(st, rs_set_str(st, h, rs_class_field(c, "name"), "", 0));
    rs_store_close(st);
}

/* NULL stores, classes and out-pointers, and classes of another store:
 * RS_EINVAL (or NULL, 0), never a crash. */
static void null_arguments(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, TEXT);
    rs_handle h = add(st, c, 1);
    rs_store *other = open_store();
    rs_class *oc = declare(other, TEXT);
    rs_value v = rs_val_int(1), out;
    rs_named nv = {"uid", rs_val_cstr("9")};
    size_t n;
    int64_t i64;
    uint64_t u64;
    double d;
    bool b;
    const char *p;
    rs_field f;
    rs_handle hh;
    rs_mem_report mr;
    rs_file_info fi;
    CHECK(rs_insert(NULL, c, &nv, 1, &hh) == RS_EINVAL);
    CHECK(rs_insert(st, NULL, &nv, 1, &hh) == RS_EINVAL);
    CHECK(rs_insert(st, c, NULL, 1, &hh) == RS_EINVAL);
    CHECK(rs_remove(NULL, h) == RS_EINVAL);
    CHECK(rs_check(NULL, h) == RS_EINVAL);
    CHECK(rs_get(NULL, c, "1", 1, &hh) == RS_EINVAL);
    CHECK(rs_get(st, c, "1", 1, NULL) == RS_EINVAL);
    CHECK(rs_find(NULL, c, 0, &v, &hh) == RS_EINVAL);
    CHECK(rs_get_field(NULL, h, 0, &out) == RS_EINVAL);
    CHECK(rs_get_field(st, h, 0, NULL) == RS_EINVAL);
    CHECK(rs_set_field(NULL, h, 0, &v) == RS_EINVAL);
    CHECK(rs_set_field(st, h, 0, NULL) == RS_EINVAL);
    CHECK(rs_get_attr(NULL, h, "x", &out) == RS_EINVAL);
    CHECK(rs_get_attr(st, h, "x", NULL) == RS_EINVAL);
    CHECK(rs_set_attr(NULL, h, "x", &v) == RS_EINVAL);
    CHECK(rs_get_int(NULL, h, 0, &i64) == RS_EINVAL);
    CHECK(rs_get_int(st, h, 3, NULL) == RS_EINVAL);
    CHECK(rs_get_uint(NULL, h, 0, &u64) == RS_EINVAL);
    CHECK(rs_get_uint(st, h, 3, NULL) == RS_EINVAL);
    CHECK(rs_get_f64(st, h, 3, NULL) == RS_EINVAL);
    CHECK(rs_get_f64(NULL, h, 3, &d) == RS_EINVAL);
    CHECK(rs_get_bool(st, h, 7, NULL) == RS_EINVAL);
    CHECK(rs_get_bool(NULL, h, 7, &b) == RS_EINVAL);
    CHECK(rs_get_str(st, h, 0, NULL, &n) == RS_EINVAL);
    CHECK(rs_get_str(st, h, 0, &p, NULL) == RS_EINVAL);
    CHECK(rs_get_str(NULL, h, 0, &p, &n) == RS_EINVAL);
    CHECK(rs_set_int(NULL, h, 3, 1) == RS_EINVAL);
    CHECK(rs_set_uint(NULL, h, 3, 1) == RS_EINVAL);
    CHECK(rs_set_f64(NULL, h, 3, 1) == RS_EINVAL);
    CHECK(rs_set_bool(NULL, h, 3, true) == RS_EINVAL);
    CHECK(rs_set_str(NULL, h, 0, "a", 1) == RS_EINVAL);
    CHECK(rs_set_str(st, h, 0, NULL, 1) == RS_EINVAL);
    CHECK(rs_del_attr(NULL, h, "x") == RS_EINVAL);
    CHECK(rs_dir(NULL, h, NULL, 0, &n) == RS_EINVAL);
    CHECK(rs_dict(NULL, h, NULL, 0, &n) == RS_EINVAL);
    CHECK(rs_record_size(NULL, h, &n) == RS_EINVAL);
    CHECK(rs_record_size(st, h, NULL) == RS_EINVAL);
    CHECK(rs_attr_id(NULL, c, "x") == -1);
    CHECK(rs_attr_find(NULL, c, "x", &f) == RS_EINVAL);
    CHECK(rs_attr_find(st, c, "x", NULL) == RS_EINVAL);
    CHECK(rs_attr_find(st, oc, "x", &f) == RS_EINVAL);
    CHECK(rs_get_str_copy(NULL, h, 0, NULL, 0, &n) == RS_EINVAL);
    CHECK(rs_read(NULL, h, NULL, 0, &n, NULL, 0, &n) == RS_EINVAL);
    CHECK(rs_set_many(NULL, h, &nv, 1) == RS_EINVAL);
    CHECK(rs_incr(NULL, h, 3, 1, NULL) == RS_EINVAL);
    CHECK(rs_incr_f64(NULL, h, 3, 1, NULL) == RS_EINVAL);
    CHECK(rs_cas(NULL, h, 3, &v, &v) == RS_EINVAL);
    CHECK(rs_remove_key(NULL, c, "1", 1) == RS_EINVAL);
    CHECK(rs_remove_key(st, NULL, "1", 1) == RS_EINVAL);
    CHECK(rs_find_many(NULL, c, 0, &v, 1, &hh, &n) == RS_EINVAL);
    CHECK(rs_class_find(NULL, "Player") == NULL);
    CHECK(rs_class_find(st, NULL) == NULL);
    CHECK(rs_n_classes(NULL) == 0);
    CHECK(rs_class_at(NULL, 0) == NULL);
    CHECK(rs_class_name(NULL) == NULL);
    CHECK(rs_class_n_fields(NULL) == 0);
    CHECK(rs_class_field(NULL, "uid") == -1);
    CHECK(rs_class_field(c, NULL) == -1);
    CHECK(rs_class_key(NULL) == -1);
    CHECK(rs_count(NULL) == 0);
    CHECK(rs_handle_class(NULL, h) == NULL);
    CHECK(rs_class_format(NULL, NULL, 0) == 0);
    CHECK(rs_class_parse(NULL, "A { k: u8 key }", 15, &c) == RS_EINVAL);
    CHECK(rs_class_parse(st, NULL, 15, &c) == RS_EINVAL);
    CHECK(rs_class_parse(st, "A { k: u8 key }", 15, NULL) == RS_EINVAL);
    CHECK(rs_class_create(NULL, "A", NULL, 0, 0, &c) == RS_EINVAL);
    CHECK(rs_value_parse(NULL, c, 0, "1", 1, &out) == RS_EINVAL);
    CHECK(rs_value_parse(st, c, 0, "1", 1, NULL) == RS_EINVAL);
    CHECK(rs_value_parse(st, c, 0, NULL, 1, &out) == RS_EINVAL);
    CHECK_FAIL(st, rs_value_parse(st, oc, 0, "1", 1, &out), RS_EINVAL,
               "another store");
    rs_mem(NULL, &mr);
    rs_mem(st, NULL);
    CHECK(rs_save_begin(NULL, "x", NULL) == RS_EINVAL);
    CHECK(rs_save_step(NULL, 0) == RS_EINVAL);
    CHECK(rs_save_finish(NULL, NULL) == RS_EINVAL);
    rs_save_abort(NULL);
    CHECK(rs_save(NULL, "x", NULL) == RS_EINVAL);
    CHECK(rs_load(NULL, "x", NULL) == RS_EINVAL);
    CHECK(rs_load(st, NULL, NULL) == RS_EINVAL);
    CHECK(rs_load_buffer(NULL, "x", 1, "x", NULL) == RS_EINVAL);
    CHECK(rs_load_buffer(st, NULL, 1, "x", NULL) == RS_EINVAL);
    CHECK(rs_inspect(NULL, "x", &fi) == RS_EINVAL);
    CHECK(rs_durable_open(NULL, "x", RS_SYNC_ALWAYS, NULL) == RS_EINVAL);
    CHECK(rs_durable_repair(NULL, "x", NULL) == RS_EINVAL);
    CHECK(rs_journal_sync(NULL) == RS_EINVAL);
    CHECK(rs_group_begin(NULL) == RS_EINVAL);
    CHECK(rs_group_commit(NULL) == RS_EINVAL);
    rs_group_abort(NULL);
    CHECK_STR(rs_errmsg(NULL), "no store");
    rs_store_close(NULL);
    rs_store_close(other);
    rs_store_close(st);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"version", version},
        {"lookups_never_grow", lookups_never_grow},
        {"name_limit", name_limit},
        {"copies_hold", copies_hold},
        {"read_all", read_all},
        {"set_many", set_many},
        {"incr_and_cas", incr_and_cas},
        {"by_key", by_key},
        {"typed", typed},
        {"empty_key", empty_key},
        {"null_arguments", null_arguments},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
