/*
 * test_snapshot.c: snapshots: save (at once and in steps while the store
 * changes), load, class evolution, bad files, temporary files, rs_inspect()
 * (the journal and durable stores are test_journal.c, atomic groups
 * test_txn.c).  What
 * the persistence tests share (dump(), the sample players, the checking
 * allocator, file helpers) is in persist_fixture.h.
 */
#include "persist_fixture.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */
/* ------------------------------------------------------------------------ */

static void round_trip(void)
{
    rs_store *a = sample(500);
    rs_save_info si;
    CHECK_OK(a, rs_save(a, path_of("a.snap"), &si));
    CHECK_EQ(si.n_records, rs_count(rs_class_find(a, "Player")) +
                               rs_count(rs_class_find(a, "Item")));
    struct stat sb;
    CHECK(stat(path_of("a.snap"), &sb) == 0 &&
          (uint64_t)sb.st_size == si.bytes);
    CHECK(access(path_of("a.snap.tmp"), F_OK) != 0);
    rs_store *b = open_store();
    rs_load_info li;
    CHECK_OK(b, rs_load(b, path_of("a.snap"), &li));
    CHECK_EQ(li.n_records, si.n_records);
    CHECK_EQ(li.n_classes, 2);
    CHECK_EQ(li.n_dropped, 0);
    CHECK_DUMPS(dump(a, BOTH, 2), dump(b, BOTH, 2));
    /* Lookups work in the loaded store (indexes rebuilt). */
    rs_handle h;
    rs_class *pb = rs_class_find(b, "Player");
    CHECK_OK(b, rs_get(b, pb, "1000007", 7, &h));
    rs_store_close(a);
    rs_store_close(b);
}

/* A save that runs while the store changes shows the store as it was at
 * rs_save_begin(). */
static void save_while_writing(void)
{
    rs_store *st = sample(400);
    rs_class *c = rs_class_find(st, "Player");
    CHECK_OK(st, rs_save(st, path_of("before.snap"), NULL));
    rs_saver *sv;
    CHECK_OK(st, rs_save_begin(st, path_of("during.snap"), &sv));
    int next = 400;
    for (int round = 0; round < 40; round++) {
        rs_status rc = rs_save_step(sv, 13);
        CHECK(rc == RS_OK || rc == RS_DONE);
        /* Change records ahead of and behind the walk. */
        for (int k = 0; k < 6; k++) {
            int i = (round * 37 + k * 101) % 400;
            char uid[16];
            snprintf(uid, sizeof uid, "%07d", 1000000 + i * 7);
            rs_handle h;
            if (rs_get(st, c, uid, strlen(uid), &h) != RS_OK) {
                continue;
            }
            switch ((round + k) % 4) {
            case 0:
                CHECK_OK(st, rs_remove(st, h));
                break;
            case 1: {
                rs_value v = rs_val_int(round);
                CHECK_OK(st, rs_set_field(st, h, 3, &v));
                rs_value n = rs_val_cstr("renamed-while-saving");
                if (rs_set_attr(st, h, "name", &n) != RS_OK) {
                    /* a clash with another name: fine */
                }
                break;
            }
            case 2: {
                rs_value v = rs_val_cstr("new attribute value");
                CHECK_OK(st, rs_set_attr(st, h, "late", &v));
                if (rs_del_attr(st, h, "guild") != RS_OK) {
                    /* not bound on this record */
                }
                break;
            }
            default:
                add_player(st, c, next++);
                break;
            }
        }
    }
    rs_save_info si;
    CHECK_OK(st, rs_save_finish(sv, &si));
    CHECK(si.n_early > 0);
    rs_mem_report mr;
    rs_mem(st, &mr);
    /* The save held a bit per slot and its buffers, far below 10%. */
    CHECK(si.extra_bytes > 0);
    printf("  save during writes: %zu records, %zu early, extra %zu bytes\n",
           si.n_records, si.n_early, si.extra_bytes);
    rs_store *x = open_store(), *y = open_store();
    CHECK_OK(x, rs_load(x, path_of("before.snap"), NULL));
    CHECK_OK(y, rs_load(y, path_of("during.snap"), NULL));
    CHECK_DUMPS(dump(x, BOTH, 2), dump(y, BOTH, 2));
    rs_store_close(x);
    rs_store_close(y);
    rs_store_close(st);
}

static void evolution(void)
{
    rs_store *a = sample(50);
    CHECK_OK(a, rs_save(a, path_of("ev.snap"), NULL));
    /* Added field (default), dropped fields (bio, ratio), widened level
     * (u16 -> u32) and stat (u8 -> i16), a longer name. */
    rs_store *b = open_store();
    rs_class *c = declare(b, "Player { uid: str(16) key; name: str(40) "
                             "unique; stat: i16; level: u32; gold: i64; "
                             "score: f64; vip: bool; rank: u8 = 7 } dynamic");
    rs_load_info li;
    CHECK_OK(b, rs_load(b, path_of("ev.snap"), &li));
    CHECK_EQ(li.n_dropped, 2);
    CHECK(strstr(li.dropped, "Player.ratio") != NULL);
    CHECK(strstr(li.dropped, "Player.bio") != NULL);
    CHECK_EQ(rs_count(c), rs_count(rs_class_find(a, "Player")));
    rs_handle h;
    CHECK_OK(b, rs_get(b, c, "1000042", 7, &h)); /* player 6 */
    uint64_t u;
    CHECK_OK(b, rs_get_uint(b, h, rs_class_field(c, "rank"), &u));
    CHECK_EQ(u, 7);
    CHECK_OK(b, rs_get_uint(b, h, rs_class_field(c, "level"), &u));
    CHECK_EQ(u, 6);
    rs_value v;
    CHECK_OK(b, rs_get_attr(b, h, "guild", &v));
    rs_store_close(b);

    /* Incompatible changes are refused and leave the store as it was. */
    static const char *const bad[][2] = {
        {"Player { uid: str(16) key; level: u8 } dynamic", "Player.level"},
        {"Player { uid: str(16) key; gold: i32 } dynamic", "Player.gold"},
        {"Player { uid: str(16) key; name: str(8) } dynamic", "Player.name"},
        {"Player { uid: str(16) key; stat: str(3) } dynamic", "Player.stat"},
        {"Player { uid: str(16); name: str(32) key } dynamic", "key"},
        {"Player { uid: str(16) key; vip: u8 } dynamic", "Player.vip"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rs_store *s = open_store();
        declare(s, bad[i][0]);
        rs_mem_report m0, m1;
        rs_mem(s, &m0);
        CHECK_FAIL(s, rs_load(s, path_of("ev.snap"), NULL), RS_EINVAL,
                   bad[i][1]);
        rs_mem(s, &m1);
        CHECK_EQ(m1.n_records, 0);
        CHECK(rs_class_find(s, "Item") == NULL); /* declared, then dropped */
        rs_store_close(s);
    }
    /* A class that is not dynamic cannot take records with attributes. */
    rs_store *s = open_store();
    declare(s, "Player { uid: str(16) key; name: str(32) unique; stat: u8; "
               "level: u16; gold: i64; ratio: f32; score: f64; vip: bool; "
               "bio: str(200) }");
    CHECK_FAIL(s, rs_load(s, path_of("ev.snap"), NULL), RS_EINVAL,
               "declared without `dynamic`");
    CHECK_EQ(rs_count(rs_class_find(s, "Player")), 0);
    rs_store_close(s);
    rs_store_close(a);
}

/* Load a damaged buffer into a store that already holds a class and a
 * record: it must fail and change nothing, accounting included. */
static void expect_refused(const uint8_t *p, size_t n, const char *what,
                           const char *text)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, "Other { k: u32 key }");
    rs_named v = {"k", rs_val_int(1)};
    if (rs_insert(st, c, &v, 1, NULL) != RS_OK) {
        abort();
    }
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    rs_status rc = rs_load_buffer(st, p, n, "damaged.snap", NULL);
    rs_mem(st, &m1);
    if (rc == RS_OK || (text && strstr(rs_errmsg(st), text) == NULL)) {
        fprintf(stderr, "%s: status %s, message '%s'\n", what,
                rs_status_name(rc), rs_errmsg(st));
        check_failures++;
    }
    CHECK_EQ(m1.n_records, 1);
    CHECK_EQ(m1.total, m0.total);
    CHECK(rs_class_find(st, "Player") == NULL);
    rs_store_close(st);
}

static void bad_files(void)
{
    rs_store *a = sample(40);
    CHECK_OK(a, rs_save(a, path_of("good.snap"), NULL));
    size_t n;
    uint8_t *good = read_all(path_of("good.snap"), &n);
    expect_refused(good, 0, "empty", "empty file");
    expect_refused((const uint8_t *)"hello, world\n", 13, "text",
                   "not a roster snapshot");
    expect_refused((const uint8_t *)"RSTRJRNL", 8, "journal",
                   "a journal, not a snapshot");
    /* Every truncation. */
    for (size_t k = 0; k < n; k++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu", k);
        expect_refused(good, k, what, NULL);
    }
    /* A flipped bit in every byte. */
    uint8_t *bad = malloc(n);
    for (size_t k = 0; k < n; k++) {
        memcpy(bad, good, n);
        bad[k] ^= (uint8_t)(1u << (k % 8));
        char what[64];
        snprintf(what, sizeof what, "bit flipped at %zu", k);
        expect_refused(bad, n, what, NULL);
    }
    /* The message says where. */
    memcpy(bad, good, n);
    bad[n - 20] ^= 1;
    expect_refused(bad, n, "late flip", "checksum mismatch");
    /* Another version (with the header checksum fixed up: the version
     * check must speak, not the checksum). */
    rs_store *st = open_store();
    memcpy(bad, good, n);
    bad[8] = 9;
    CHECK(rs_load_buffer(st, bad, n, "v9.snap", NULL) == RS_EFORMAT);
    rs_store_close(st);
    /* A file that is not there. */
    st = open_store();
    CHECK_FAIL(st, rs_load(st, path_of("missing.snap"), NULL), RS_EIO,
               "no such file");
    rs_store_close(st);
    free(bad);
    free(good);
    rs_store_close(a);
}

/* Every type at its extremes (-0.0 and the smallest subnormals, INT64_MIN
 * and UINT64_MAX, an empty and a 300-byte UTF-8 string, keys that pack as
 * numbers with leading zeros, an integer key and an unsigned unique
 * field) and attributes of every type, through a save and a load: the
 * same store, and every key finds its record. */
static void every_type_round_trip(void)
{
    rs_store *a = open_store();
    rs_class *e = declare(a, "Every { id: str(16) key inline(4); "
                             "name: str(24) unique; b: bool; i8: i8; "
                             "i16: i16; i32: i32; i64: i64; u8: u8; "
                             "u16: u16; u32: u32; u64: u64; f32: f32; "
                             "f64: f64; s: str(300) } dynamic");
    rs_class *num = declare(a, "Num { n: i64 key; u: u64 unique; "
                               "t: str(8) }");
    char utf8[301], long_attr[2001];
    for (int i = 0; i < 150; i++) {
        memcpy(utf8 + 2 * i, "\xc3\xa9", 2); /* é */
    }
    utf8[300] = '\0';
    memset(long_attr, 'a', 2000);
    long_attr[2000] = '\0';
    rs_named lo[] = {
        {"id", rs_val_cstr("00042")},     {"name", rs_val_cstr("low")},
        {"b", rs_val_bool(false)},        {"i8", rs_val_int(INT8_MIN)},
        {"i16", rs_val_int(INT16_MIN)},   {"i32", rs_val_int(INT32_MIN)},
        {"i64", rs_val_int(INT64_MIN)},   {"u8", rs_val_uint(0)},
        {"u16", rs_val_uint(0)},          {"u32", rs_val_uint(0)},
        {"u64", rs_val_uint(0)},          {"f32", rs_val_f64(-0.0)},
        {"f64", rs_val_f64(-0.0)},        {"s", rs_val_cstr("")},
        {"a_int", rs_val_int(INT64_MIN)}, {"a_f", rs_val_f64(-0.0)},
        {"a_b", rs_val_bool(false)},      {"a_s", rs_val_cstr("")},
    };
    rs_named hi[] = {
        {"id", rs_val_cstr("12345678901234")},
        {"name", rs_val_cstr(utf8 + 276)},
        {"b", rs_val_bool(true)},
        {"i8", rs_val_int(INT8_MAX)},
        {"i16", rs_val_int(INT16_MAX)},
        {"i32", rs_val_int(INT32_MAX)},
        {"i64", rs_val_int(INT64_MAX)},
        {"u8", rs_val_uint(UINT8_MAX)},
        {"u16", rs_val_uint(UINT16_MAX)},
        {"u32", rs_val_uint(UINT32_MAX)},
        {"u64", rs_val_uint(UINT64_MAX)},
        {"f32", rs_val_f64(0x1p-149)},
        {"f64", rs_val_f64(0x1p-1074)},
        {"s", rs_val_cstr(utf8)},
        {"a_int", rs_val_int(INT64_MAX)},
        {"a_f", rs_val_f64(0x1p-1074)},
        {"a_b", rs_val_bool(true)},
        {"a_s", rs_val_cstr(long_attr)},
    };
    CHECK_OK(a, rs_insert(a, e, lo, 18, NULL));
    CHECK_OK(a, rs_insert(a, e, hi, 18, NULL));
    rs_named n1[] = {{"n", rs_val_int(INT64_MIN)},
                     {"u", rs_val_uint(UINT64_MAX)},
                     {"t", rs_val_cstr("")}};
    rs_named n2[] = {{"n", rs_val_int(INT64_MAX)},
                     {"u", rs_val_uint(0)},
                     {"t", rs_val_cstr("12345678")}};
    CHECK_OK(a, rs_insert(a, num, n1, 3, NULL));
    CHECK_OK(a, rs_insert(a, num, n2, 3, NULL));
    CHECK_OK(a, rs_save(a, path_of("every.snap"), NULL));
    rs_store *b = open_store();
    CHECK_OK(b, rs_load(b, path_of("every.snap"), NULL));
    static const char *const EVERY_NUM[] = {"Every", "Num"};
    CHECK_DUMPS(dump(a, EVERY_NUM, 2), dump(b, EVERY_NUM, 2));
    rs_class *eb = rs_class_find(b, "Every"), *nb = rs_class_find(b, "Num");
    rs_handle h;
    CHECK_OK(b, rs_get(b, eb, "00042", 5, &h));
    CHECK_EQ(rs_get(b, eb, "42", 2, &h), RS_ENOTFOUND);
    CHECK_OK(b, rs_get(b, eb, "12345678901234", 14, &h));
    CHECK_OK(b, rs_get(b, nb, "-9223372036854775808", 20, &h));
    CHECK_OK(b, rs_get(b, nb, "9223372036854775807", 19, &h));
    rs_value u = rs_val_uint(UINT64_MAX);
    CHECK_OK(b, rs_find(b, nb, rs_class_field(nb, "u"), &u, &h));
    double f;
    CHECK_OK(b, rs_get(b, eb, "00042", 5, &h));
    CHECK_OK(b, rs_get_f64(b, h, rs_class_field(eb, "f64"), &f));
    CHECK_EQ(f, -0.0);
    rs_store_close(a);
    rs_store_close(b);
}

/* rs_inspect() of a snapshot: its kind, size, records, classes and
 * attribute names as the save wrote them; damage and truncation are
 * RS_EFORMAT saying where, and nothing is loaded. */
static void inspect_snapshot(void)
{
    rs_store *a = sample(40);
    rs_save_info si;
    CHECK_OK(a, rs_save(a, path_of("insp.snap"), &si));
    rs_file_info fi;
    CHECK_OK(a, rs_inspect(a, path_of("insp.snap"), &fi));
    CHECK_EQ(fi.kind, RS_FILE_SNAPSHOT);
    CHECK(fi.version >= 1);
    CHECK_EQ(fi.bytes, si.bytes);
    CHECK_EQ(fi.n_records, si.n_records);
    CHECK_EQ(fi.n_classes, 2);
    CHECK_EQ(fi.n_names, 4); /* guild hp mana ok */
    CHECK(fi.n_blocks >= 2);
    CHECK_EQ(fi.prev_id, 0); /* a plain save continues no journal */
    CHECK_EQ(fi.torn_bytes, 0);
    size_t n;
    uint8_t *good = read_all(path_of("insp.snap"), &n);
    uint8_t *bad = malloc(n);
    memcpy(bad, good, n);
    bad[n - 20] ^= 1;
    write_all_file(path_of("insp-bad.snap"), bad, n);
    rs_store *st = open_store();
    CHECK_FAIL(st, rs_inspect(st, path_of("insp-bad.snap"), &fi), RS_EFORMAT,
               "at byte");
    CHECK_HAS(rs_errmsg(st), "insp-bad.snap");
    write_all_file(path_of("insp-bad.snap"), good, n / 2);
    CHECK_FAIL(st, rs_inspect(st, path_of("insp-bad.snap"), &fi), RS_EFORMAT,
               "insp-bad.snap");
    CHECK_EQ(rs_n_classes(st), 0);
    rs_store_close(st);
    free(bad);
    free(good);
    rs_store_close(a);
}

/* A regression from review: closing a plain store with a save running
 * removes the save's temporary file. */
static void close_while_saving(void)
{
    rs_saver *sv;
    rs_store *st = sample(30);
    CHECK_OK(st, rs_save_begin(st, path_of("x.snap"), &sv));
    rs_store_close(st);
    CHECK_EQ(count_prefixed("x.snap.tmp"), 0);
}

/* A regression from review: a load that fails into a class holding
 * removed records leaves the old handles stale. */
static void failed_load_stale_handles(void)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, PLAYER_TEXT);
    rs_handle h = add_player(st, c, 1);
    CHECK_OK(st, rs_remove(st, h));
    rs_store *src = sample(20);
    CHECK_OK(src, rs_save(src, path_of("alias.snap"), NULL));
    rs_store_close(src);
    size_t n;
    uint8_t *snapb = read_all(path_of("alias.snap"), &n);
    /* Item, declared anew with a unique field every record defaults to
     * the same value: its second record is refused, after every Player
     * record went in. */
    declare(st, "Item { id: u32 key; owner: str(16); n: i32 = 1; "
                "tag: u8 unique = 0 }");
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    CHECK_FAIL(st, rs_load_buffer(st, snapb, n, "alias.snap", NULL), RS_EEXIST,
               "Item.tag");
    rs_mem(st, &m1);
    /* The names and shapes the failed load added are gone again. */
    CHECK_EQ(m1.n_attr_names, m0.n_attr_names);
    CHECK_EQ(m1.n_shapes, m0.n_shapes);
    CHECK_EQ(rs_count(c), 0);
    CHECK(rs_check(st, h) == RS_ESTALE);
    add_player(st, c, 2);
    CHECK(rs_check(st, h) == RS_ESTALE);
    free(snapb);
    rs_store_close(st);
}

/* A save to a directory is refused at once; one that appears at the path
 * while the save runs makes its rename fail: no temporary file is left. */
static void save_over_directory(void)
{
    rs_store *st = sample(10);
    CHECK(mkdir(path_of("adir"), 0755) == 0);
    CHECK_FAIL(st, rs_save(st, path_of("adir"), NULL), RS_EINVAL,
               "a directory");
    rs_saver *sv;
    CHECK_OK(st, rs_save_begin(st, path_of("bdir"), &sv));
    CHECK(mkdir(path_of("bdir"), 0755) == 0);
    CHECK_FAIL(st, rs_save_finish(sv, NULL), RS_EIO, "rename");
    CHECK_EQ(count_prefixed("adir.tmp"), 0);
    CHECK_EQ(count_prefixed("bdir.tmp"), 0);
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */
/* Faults a careful operator meets: damage, loss, theft, clobbering          */
/* ------------------------------------------------------------------------ */

/* Temporary files never follow a planted link and never collide: two
 * saves to one path leave one whole snapshot (either), and no file is
 * written through a link. */
static void temp_files(void)
{
    static const char victim[] = "precious";
    write_all_file(path_of("victim"), (const uint8_t *)victim, sizeof victim);
    CHECK(symlink(path_of("victim"), path_of("ts.snap.tmp")) == 0);
    rs_store *st = sample(30);
    CHECK_OK(st, rs_save(st, path_of("ts.snap"), NULL));
    CHECK(same_file(path_of("victim"), (const uint8_t *)victim, sizeof victim));
    rs_store_close(st);
    /* A durable store's next journal and first journal. */
    CHECK(symlink(path_of("victim"), path_of("tj.journal.tmp")) == 0);
    make_players("tj", 5);
    st = durable("tj", RS_OK);
    CHECK_OK(st, rs_save(st, NULL, NULL));
    rs_store_close(st);
    CHECK(same_file(path_of("victim"), (const uint8_t *)victim, sizeof victim));

    /* Two saves to one path, their steps interleaved. */
    rs_store *a = sample(300), *b = sample(200);
    rs_saver *sa, *sb;
    CHECK_OK(a, rs_save_begin(a, path_of("same.snap"), &sa));
    CHECK_OK(b, rs_save_begin(b, path_of("same.snap"), &sb));
    rs_status ra = RS_OK, rb = RS_OK;
    while (ra == RS_OK || rb == RS_OK) {
        if (ra == RS_OK) {
            ra = rs_save_step(sa, 16);
        }
        if (rb == RS_OK) {
            rb = rs_save_step(sb, 16);
        }
    }
    CHECK_EQ(ra, RS_DONE);
    CHECK_EQ(rb, RS_DONE);
    CHECK_OK(a, rs_save_finish(sa, NULL));
    CHECK_OK(b, rs_save_finish(sb, NULL));
    rs_store *c = open_store();
    CHECK_OK(c, rs_load(c, path_of("same.snap"), NULL));
    char *got = dump(c, BOTH, 2), *da = dump(a, BOTH, 2),
         *db = dump(b, BOTH, 2);
    CHECK(strcmp(got, db) == 0 || strcmp(got, da) == 0);
    free(got);
    free(da);
    free(db);
    rs_store_close(a);
    rs_store_close(b);
    rs_store_close(c);
    CHECK_EQ(count_prefixed("same.snap.tmp"), 0);
    CHECK_EQ(count_prefixed("ts.snap.tmp"), 1); /* the planted link */

    /* What crashed saves and compactions of a BASE left beside it goes
     * at its next open; other names stay. */
    static const char *const left[] = {
        "tj.snap.tmp-0123456789abcdef", "tj.journal.tmp-00000000deadbeef",
        "tj.snap.tmp-keep", "tj.snapshot.tmp-0123456789abcdef"};
    for (size_t i = 0; i < 4; i++) {
        write_all_file(path_of(left[i]), (const uint8_t *)"x", 1);
    }
    st = durable("tj", RS_OK);
    rs_store_close(st);
    CHECK(access(path_of(left[0]), F_OK) != 0);
    CHECK(access(path_of(left[1]), F_OK) != 0);
    CHECK(access(path_of(left[2]), F_OK) == 0);
    CHECK(access(path_of(left[3]), F_OK) == 0);
    CHECK_EQ(count_prefixed("tj.journal.tmp"), 1); /* the planted link */
}

/* A durable store refuses to save over its own files; a failed
 * rs_save_begin() leaves *out NULL, so rs_save_abort() of it is safe. */
static void own_files(void)
{
    make_players("of", 5);
    rs_store *st = durable("of", RS_OK);
    size_t n;
    uint8_t *jb = read_all(path_of("of.journal"), &n);
    CHECK_FAIL(st, rs_save(st, path_of("of.snap"), NULL), RS_EINVAL,
               "own files");
    CHECK_FAIL(st, rs_save(st, path_of("of.journal"), NULL), RS_EINVAL,
               "own files");
    CHECK_FAIL(st, rs_save(st, path_of("of.lock"), NULL), RS_EINVAL,
               "own files");
    CHECK_FAIL(st, rs_save(st, "", NULL), RS_EINVAL, "empty path");
    /* The rename would replace a device or a FIFO: refused. */
    CHECK(mkfifo(path_of("of.fifo"), 0644) == 0);
    CHECK_FAIL(st, rs_save(st, path_of("of.fifo"), NULL), RS_EINVAL,
               "not a regular file (a FIFO)");
    CHECK_FAIL(st, rs_save(st, "/dev/null", NULL), RS_EINVAL, "a device");
    struct stat dn;
    CHECK(stat("/dev/null", &dn) == 0 && S_ISCHR(dn.st_mode));
    CHECK(same_file(path_of("of.journal"), jb, n));
    rs_saver *sv = (rs_saver *)&n; /* garbage the call must overwrite */
    CHECK_FAIL(st, rs_save_begin(st, "/nonexistent-dir/x.snap", &sv), RS_EIO,
               "x.snap");
    CHECK(sv == NULL);
    rs_save_abort(sv);
    rs_store_close(st);
    st = durable("of", RS_OK);
    CHECK_EQ(rs_count(rs_class_find(st, "Player")), 5);
    rs_store_close(st);
    free(jb);
}

/* Files the library wrote before empty keys were refused hold a record
 * whose key is "" (tests/data/empty-key, written by 63f2a2d): they still
 * open and load; only new empty keys are refused. */
static void old_empty_key(void)
{
    static const char *const files[] = {"b.snap", "b.journal", "plain.snap"};
    static const char *const to[] = {"ek.snap", "ek.journal", "ekp.snap"};
    for (size_t i = 0; i < 3; i++) {
        char from[512];
        snprintf(from, sizeof from, "%s/empty-key/%s", ROSTER_TEST_DATA,
                 files[i]);
        size_t n;
        uint8_t *b = read_all(from, &n);
        write_all_file(path_of(to[i]), b, n);
        free(b);
    }
    rs_store *st = durable("ek", RS_OK);
    rs_class *p = rs_class_find(st, "P");
    CHECK_EQ(rs_count(p), 2);
    rs_handle h;
    CHECK_OK(st, rs_get(st, p, "", 0, &h));
    CHECK_OK(st, rs_remove(st, h));
    rs_named v = {"uid", rs_val_cstr("")};
    CHECK_FAIL(st, rs_insert(st, p, &v, 1, NULL), RS_EINVAL,
               "a key cannot be empty");
    rs_store_close(st);
    st = open_store();
    CHECK_OK(st, rs_load(st, path_of("ekp.snap"), NULL));
    CHECK_EQ(rs_count(rs_class_find(st, "P")), 1);
    rs_store_close(st);
}

/* A FIFO (or anything not a regular file) where a snapshot or journal
 * should be is refused at once, not opened and waited on. */
static void not_regular(void)
{
    alarm(20); /* a hang fails the test instead of blocking CI */
    CHECK(mkfifo(path_of("ff.snap"), 0644) == 0);
    rs_store *st = open_store();
    CHECK_FAIL(st, rs_load(st, path_of("ff.snap"), NULL), RS_EIO,
               "not a regular file");
    rs_file_info fi;
    CHECK_FAIL(st, rs_inspect(st, path_of("ff.snap"), &fi), RS_EIO,
               "not a regular file");
    CHECK_FAIL(st, rs_durable_open(st, path_of("ff"), RS_SYNC_ALWAYS, NULL),
               RS_EIO, "not a regular file");
    rs_store_close(st);
    CHECK(mkfifo(path_of("fj.journal"), 0644) == 0);
    st = durable("fj", RS_EIO);
    CHECK(strstr(rs_errmsg(st), "not a regular file") != NULL);
    rs_store_close(st);
    CHECK(mkdir(path_of("fd.journal"), 0755) == 0);
    st = durable("fd", RS_EIO);
    rs_store_close(st);
    alarm(0);
}

/* Found in review (wt-review), fails today: a group that removes the
 * record with the empty key an old file loaded, or sets that key, and then
 * aborts cannot put it back: the restore goes through the refusal of new
 * empty keys, the rollback fails (an assertion in debug builds; in release
 * builds the record stays removed, or keeps its new key, and
 * rs_group_abort() cannot say so).  Runs last: in a debug build the
 * assertion ends the process. */
static void old_empty_key_group(void)
{
    char from[512];
    snprintf(from, sizeof from, "%s/empty-key/plain.snap", ROSTER_TEST_DATA);
    rs_store *st = open_store();
    CHECK_OK(st, rs_load(st, from, NULL));
    rs_class *p = rs_class_find(st, "P");
    rs_handle h;
    CHECK_OK(st, rs_get(st, p, "", 0, &h));
    CHECK_OK(st, rs_group_begin(st));
    CHECK_OK(st, rs_remove(st, h));
    rs_group_abort(st);
    CHECK_EQ(rs_count(p), 1);
    CHECK_OK(st, rs_check(st, h));
    CHECK_OK(st, rs_get(st, p, "", 0, &h));
    CHECK_OK(st, rs_group_begin(st));
    rs_value k = rs_val_cstr("now-a-key");
    CHECK_OK(st, rs_set_field(st, h, rs_class_key(p), &k));
    rs_group_abort(st);
    CHECK_OK(st, rs_get(st, p, "", 0, &h));
    rs_store_close(st);
}

/* The index bytes of cls. */
static size_t index_bytes(rs_store *st)
{
    rs_mem_report m;
    rs_mem(st, &m);
    return m.bytes[RS_MEM_INDEXES];
}

/* A load sizes each class it declares for the records the file holds for
 * it at once (rs_class_reserve()): it ends with the index bytes of a store
 * that declared the classes, reserved them for those counts and then
 * loaded, not those of one whose indexes grew record by record.  A class
 * the store had declared is not reserved by the load (a load that failed
 * must leave it as it was). */
static void load_reserves(void)
{
    /* One hash seed for every store, so that the same inserts lay their
     * indexes out alike. */
    setenv("RS_TEST_HASH_SEED", "12345", 1);
    rs_store *a = sample(3000);
    size_t n = rs_count(rs_class_find(a, "Player")),
           n_items = rs_count(rs_class_find(a, "Item"));
    CHECK_OK(a, rs_save(a, path_of("r.snap"), NULL));

    rs_store *loaded = open_store();
    CHECK_OK(loaded, rs_load(loaded, path_of("r.snap"), NULL));
    CHECK_STR(rs_errmsg(loaded), "");

    rs_store *reserved = open_store();
    rs_class *pc = declare(reserved, PLAYER_TEXT);
    rs_class *ic = declare(reserved, "Item { id: u32 key; owner: str(16); "
                                     "n: i32 = 1 }");
    CHECK_OK(reserved, rs_class_reserve(reserved, pc, n));
    CHECK_OK(reserved, rs_class_reserve(reserved, ic, n_items));
    CHECK_OK(reserved, rs_load(reserved, path_of("r.snap"), NULL));

    rs_store *grown = open_store();
    declare(grown, PLAYER_TEXT);
    declare(grown, "Item { id: u32 key; owner: str(16); n: i32 = 1 }");
    CHECK_OK(grown, rs_load(grown, path_of("r.snap"), NULL));
    printf("  %zu + %zu records: index bytes %zu loaded, %zu reserved, "
           "%zu grown\n",
           n, n_items, index_bytes(loaded), index_bytes(reserved),
           index_bytes(grown));
    CHECK_EQ(index_bytes(loaded), index_bytes(reserved));
    CHECK(index_bytes(loaded) != index_bytes(grown));
    CHECK_DUMPS(dump(a, BOTH, 2), dump(loaded, BOTH, 2));
    CHECK_DUMPS(dump(a, BOTH, 2), dump(grown, BOTH, 2));
    rs_store_close(a);
    rs_store_close(loaded);
    rs_store_close(reserved);
    rs_store_close(grown);
    unsetenv("RS_TEST_HASH_SEED");
}

/* A snapshot block with its header and checksum, at o; returns its size. */
static size_t forge_block(uint8_t *o, unsigned kind, uint32_t count,
                          const uint8_t *payload, uint32_t len)
{
    o[0] = (uint8_t)kind;
    o[1] = o[2] = o[3] = 0;
    memcpy(o + 4, &count, 4); /* little-endian, as this machine is */
    memcpy(o + 8, &len, 4);
    memmove(o + 12, payload, len);
    uint64_t sum = XXH3_64bits(o, 12 + (size_t)len);
    memcpy(o + 12 + len, &sum, 8);
    return 20 + (size_t)len;
}

/* A crafted file whose RECORDS block claims 200,000 records of a class
 * with 21 indexed fields in 200,000 bytes of garbage: the load reserves
 * for what those bytes could hold (a byte a field at least), not for the
 * claim, so its memory stays in proportion to the file, and the refused
 * load leaves nothing. */
static void load_reserve_bounded(void)
{
    enum { N = 200000 };
    rs_store *st = open_store();
    char text[1024];
    size_t t = (size_t)snprintf(text, sizeof text, "W { k: u32 key");
    for (int i = 0; i < 20; i++) {
        t +=
            (size_t)snprintf(text + t, sizeof text - t, "; u%d: u32 unique", i);
    }
    t += (size_t)snprintf(text + t, sizeof text - t, " }");
    rs_class *c;
    CHECK_OK(st, rs_class_parse(st, text, t, &c));
    rs_named one[] = {{"k", rs_val_int(1)}};
    CHECK_OK(st, rs_insert(st, c, one, 1, NULL));
    CHECK_OK(st, rs_save(st, path_of("w.snap"), NULL));
    rs_store_close(st);

    size_t len;
    uint8_t *b = read_all(path_of("w.snap"), &len);
    uint8_t *o = malloc(len + N + 64), *garbage = malloc(N);
    memset(garbage, 0xff, N);
    garbage[0] = 0; /* class 0, then records that cannot be read */
    memcpy(o, b, 48);
    size_t w = 48;
    for (size_t off = 48; off < len;) {
        uint32_t count, blen;
        memcpy(&count, b + off + 4, 4);
        memcpy(&blen, b + off + 8, 4);
        if (b[off] == 2) {
            w += forge_block(o + w, 2, N, garbage, N);
        } else if (b[off] == 4) {
            uint8_t end[4] = {0x80 | (N & 0x7f), 0x80 | ((N >> 7) & 0x7f),
                              N >> 14};
            w += forge_block(o + w, 4, 0, end, 3);
        } else {
            w += forge_block(o + w, b[off], count, b + off + 12, blen);
        }
        off += 20 + blen;
    }
    rs_store *fresh = open_store();
    rs_mem_report m0, m1;
    rs_mem(fresh, &m0);
    CHECK_EQ(rs_load_buffer(fresh, o, w, "crafted", NULL), RS_EFORMAT);
    rs_mem(fresh, &m1);
    printf("  a %zu-byte file claiming %d records: peak %zu bytes\n", w, N,
           m1.peak);
    CHECK(m1.peak < 20 * w); /* 13x here; about 190x before the cap */
    CHECK_EQ(m1.total, m0.total);
    CHECK_EQ(rs_n_classes(fresh), 0);
    rs_store_close(fresh);
    free(o);
    free(garbage);
    free(b);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"round_trip", round_trip},
        {"save_while_writing", save_while_writing},
        {"evolution", evolution},
        {"bad_files", bad_files},
        {"every_type_round_trip", every_type_round_trip},
        {"inspect_snapshot", inspect_snapshot},
        {"close_while_saving", close_while_saving},
        {"failed_load_stale_handles", failed_load_stale_handles},
        {"save_over_directory", save_over_directory},
        {"temp_files", temp_files},
        {"own_files", own_files},
        {"not_regular", not_regular},
        {"old_empty_key", old_empty_key},
        {"old_empty_key_group", old_empty_key_group},
        {"load_reserves", load_reserves},
        {"load_reserve_bounded", load_reserve_bounded},
        {NULL, NULL},
    };
    return fixture_main(argc, argv, cases, "snapshot");
}
