/*
 * test_oom.c: allocation failure.
 *
 * The store runs on an allocator that fails the k-th allocation or growth
 * (a realloc to a larger size) of an operation, for k = 1, 2, ... until the
 * operation succeeds.  Frees and shrinking reallocs never fail: the
 * rs_alloc_fn contract says a shrink must not, and the library relies on it
 * to give back capacity it grew before a later step failed.  Every failure
 * must return RS_ENOMEM and leave the store exactly as it was:
 *
 *   - content: a digest of every record (handle, fields and rs_dict():
 *     attribute names, order and values) and the count;
 *   - accounting: rs_mem()'s total, every category, n_allocs,
 *     n_attr_names and n_shapes;
 *   - structures: rs__store_check() passes.
 *
 * After the success the content must be the one expected.  Throughout, the
 * allocator's own count of live bytes and blocks must equal rs_mem()'s
 * total and n_allocs (the accounting is exact), every free and realloc must
 * pass the size the block was allocated with, and after rs_store_close()
 * nothing may be left.
 *
 * Operations: store open, class create and parse, the first insert into a
 * class, inserts into a filled class (under the small-page build these cross
 * record pages, page-table doubling, string pages and their table, index
 * segment growth, splits and directory doubling), inserts into freed slots,
 * inserts under churn (index segments purged of tombstones, and merged with
 * their buddies once emptied), sets of long strings and of unique fields,
 * and scan open.  Dynamic attributes: the store's first attribute (the
 * name interned, its hash table and array, the empty and the new shape,
 * the transition table, the per-page vector array and the page's vector,
 * the block's arena page), first attributes with new names until names,
 * shapes and transitions outgrow their tables and records of new row
 * pages need a longer vector array, a page's vector filled up (it grows
 * only where a page holds more rows than its first 8 entries: not in the
 * small-page build), rebinds to longer strings (new arena pages), inserts
 * carrying attributes (also into freed slots), deletes (smaller blocks;
 * the last one allocates nothing) and rs_attr_id() of new names.  The
 * content digest includes every record's rs_dict().  Each case checks
 * that its operations really reached the growth paths it names
 * (white-box, through store.h and attrs.h).  Calls documented never to
 * allocate (remove, lookups, reads, scan steps, rs_mem, attribute reads,
 * rs_dir, rs_dict, rs_attr_id of a known name) run with every allocation
 * failing.
 *
 *     test_oom                 every case
 *     test_oom insert_growth   one case
 */
#include "check.h"
#include "roster.h"
#include "attrs.h"
#include "store.h" /* rs__store_check and, for coverage, the structures */

#include "alloc_check.h"

#include <stdbool.h>

/* ------------------------------------------------------------------------ */
/* The failing allocator                                                     */
/* ------------------------------------------------------------------------ */

/* alloc_check.h: each block carries its size in a header, so a free or
 * realloc passing another old_len is caught; it fails the k-th allocation
 * or growth after alloc_check_arm(), and with fail_rest every one after
 * it. */
static alloc_check fa;

/* ------------------------------------------------------------------------ */
/* The store under test                                                      */
/* ------------------------------------------------------------------------ */

static rs_store *st;
static rs_class *player;

enum { F_UID, F_NAME, F_STAT, F_LEVEL, F_SCORE, F_RATIO, F_FLAG, F_TAG, NF };

static const rs_field_def player_defs[NF] = {
    {.name = "uid", .type = RS_STR, .max_len = 12, .flags = RS_FIELD_KEY},
    {.name = "name", .type = RS_STR, .max_len = 20, .flags = RS_FIELD_UNIQUE},
    {.name = "stat",
     .type = RS_U8,
     .has_default = true,
     .def = {.type = RS_U8, .v.u = 0}},
    {.name = "level",
     .type = RS_U16,
     .has_default = true,
     .def = {.type = RS_U16, .v.u = 1}},
    {.name = "score",
     .type = RS_I32,
     .has_default = true,
     .def = {.type = RS_I32, .v.i = -1}},
    {.name = "ratio",
     .type = RS_F64,
     .has_default = true,
     .def = {.type = RS_F64, .v.f = 0.0}},
    {.name = "flag", .type = RS_BOOL},
    {.name = "tag",
     .type = RS_STR,
     .max_len = 40,
     .inline_len = 7,
     .has_default = true,
     .def = {.type = RS_STR, .v.s = {"default-tag-value", 17}}},
};

/* The allocator's count is the accounting's, exactly. */
static void check_accounting(const char *where)
{
    if (fa.n_broken) {
        fprintf(stderr, "%s: %ld calls broke the allocator contract\n", where,
                fa.n_broken);
        check_failures++;
        fa.n_broken = 0;
    }
    if (st == NULL) {
        if (fa.live_bytes != 0 || fa.live_blocks != 0) {
            fprintf(stderr,
                    "%s: no store, yet %zu bytes in %zu blocks "
                    "are allocated\n",
                    where, fa.live_bytes, fa.live_blocks);
            check_failures++;
        }
        return;
    }
    rs_mem_report m;
    rs_mem(st, &m);
    if (m.total != fa.live_bytes || m.n_allocs != fa.live_blocks) {
        fprintf(stderr,
                "%s: rs_mem() says %zu bytes in %zu blocks, the "
                "allocator holds %zu in %zu\n",
                where, m.total, m.n_allocs, fa.live_bytes, fa.live_blocks);
        check_failures++;
    }
    size_t sum = 0;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        sum += m.bytes[c];
    }
    if (sum != m.total) {
        fprintf(stderr, "%s: categories sum to %zu, total %zu\n", where, sum,
                m.total);
        check_failures++;
    }
}

static void close_store(void)
{
    rs_store_close(st);
    st = NULL;
    player = NULL;
    check_accounting("after rs_store_close");
}

static void open_store(void)
{
    memset(&fa, 0, sizeof fa);
    CHECK_OK(NULL, rs_store_open(alloc_check_fn, &fa, &st));
    check_accounting("after rs_store_open");
}

static void open_player(void)
{
    open_store();
    CHECK_OK(st, rs_class_create(st, "Player", player_defs, NF, 0, &player));
}

/* ------------------------------------------------------------------------ */
/* Content and snapshots                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

static uint64_t mix_value(uint64_t x, const rs_value *v)
{
    x = mix(x, &v->type, sizeof v->type);
    if (v->type == RS_STR) {
        x = mix(x, &v->v.s.len, sizeof v->v.s.len);
        x = mix(x, v->v.s.ptr, v->v.s.len);
    } else if (v->type == RS_BOOL) {
        x = mix(x, &v->v.b, sizeof v->v.b);
    } else {
        x = mix(x, &v->v.u, sizeof v->v.u); /* i, u and f share it */
    }
    return x;
}

/* A hash of record h: its handle, every field and its dynamic attributes
 * (rs_dict(): names, binding order and values). */
static uint64_t record_hash(rs_class *cls, rs_handle h)
{
    static rs_attr items[256];
    uint64_t x = mix(1469598103934665603ull, &h, sizeof h);
    size_t nf = rs_class_n_fields(cls);
    for (rs_field f = 0; f < (rs_field)nf; f++) {
        rs_value v;
        if (rs_get_field(st, h, f, &v) != RS_OK) {
            return 0;
        }
        x = mix_value(x, &v);
    }
    size_t n = 0;
    if (rs_dict(st, h, items, 256, &n) != RS_OK || n > 256) {
        return 0;
    }
    x = mix(x, &n, sizeof n);
    for (size_t k = 0; k < n; k++) {
        x = mix(x, items[k].name, strlen(items[k].name) + 1);
        x = mix_value(x, &items[k].val);
    }
    return x;
}

/* Every record of every class, order-free (a sum), so that one record's
 * share can be taken out.  Scans allocate: the allocator is disarmed. */
static uint64_t digest_of(rs_class *cls)
{
    uint64_t sum = 0;
    long saved = fa.fail_at;
    bool saved_all = fa.fail_all;
    alloc_check_disarm(&fa);
    rs_scan *sc;
    rs_handle h;
    rs_status rc = rs_scan_open(st, cls, NULL, 0, &sc);
    if (rc != RS_OK) {
        CHECK_EQ(rc, RS_OK); /* the scan of the digest */
        return 0;
    }
    while (rs_scan_next(sc, &h) == RS_OK) {
        sum += record_hash(cls, h);
    }
    rs_scan_close(sc);
    fa.fail_at = saved;
    fa.fail_all = saved_all;
    return sum;
}

static rs_class *classes[4];
static int n_classes;

typedef struct snapshot {
    uint64_t digest;
    size_t count;
    rs_mem_report mem;
} snapshot;

static snapshot take(void)
{
    snapshot s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < n_classes; i++) {
        s.digest += digest_of(classes[i]) * (uint64_t)(2 * i + 1);
        s.count += rs_count(classes[i]);
    }
    rs_mem(st, &s.mem);
    return s;
}

/* Calls that roll back as a group does (rs_set_many()) keep capacity they
 * grew as free space (roster.h): with this set, free bytes and index bytes
 * (a segment that grew: whether one does depends on the store's random
 * hash seed), and the total and block count with them, may grow; every
 * other category may not. */
static bool capacity_may_stay;

/* Whether a failure left everything as it was; says what moved if not. */
static void same(const snapshot *a, const snapshot *b, const char *what, long k)
{
    bool ok = a->digest == b->digest && a->count == b->count &&
              (capacity_may_stay || (a->mem.total == b->mem.total &&
                                     a->mem.n_allocs == b->mem.n_allocs)) &&
              a->mem.n_records == b->mem.n_records &&
              a->mem.n_attr_names == b->mem.n_attr_names &&
              a->mem.n_shapes == b->mem.n_shapes;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        ok = ok &&
             (a->mem.bytes[c] == b->mem.bytes[c] ||
              (capacity_may_stay && (c == RS_MEM_FREE || c == RS_MEM_INDEXES) &&
               b->mem.bytes[c] > a->mem.bytes[c]));
    }
    if (!ok) {
        fprintf(stderr,
                "%s, failing allocation %ld: the failure changed the store: "
                "digest %016" PRIx64 " -> %016" PRIx64 ", count %zu -> %zu, "
                "total %zu -> %zu, n_allocs %zu -> %zu, attribute names "
                "%zu -> %zu, shapes %zu -> %zu",
                what, k, a->digest, b->digest, a->count, b->count, a->mem.total,
                b->mem.total, a->mem.n_allocs, b->mem.n_allocs,
                a->mem.n_attr_names, b->mem.n_attr_names, a->mem.n_shapes,
                b->mem.n_shapes);
        for (int c = 0; c < RS_MEM__COUNT; c++) {
            fprintf(stderr, ", %s %zu -> %zu", rs_mem_cat_name((rs_mem_cat)c),
                    a->mem.bytes[c], b->mem.bytes[c]);
        }
        fprintf(stderr, "\n");
        check_failures++;
    }
}

/* ------------------------------------------------------------------------ */
/* The loop: fail allocation k = 1, 2, ... until the operation succeeds      */
/* ------------------------------------------------------------------------ */

typedef rs_status (*op_fn)(void *arg);

/* Failure points found over a case, those where the failing allocation was
 * an index's (its message says so), and the allocations of the last
 * successful run, for the summaries and coverage checks. */
static long points_total, points_index, last_grows;

/* Run op with its k-th allocation failing, k = 1, 2, ..., checking every
 * failure; returns how many allocations the successful run made. */
static long inject(const char *what, op_fn op, void *arg)
{
    snapshot before = take();
    for (long k = 1;; k++) {
        alloc_check_arm(&fa, k);
        rs_status rc = op(arg);
        long failed = fa.n_failed, grows = fa.n_grows;
        alloc_check_disarm(&fa);
        check_accounting(what);
        if (rc == RS_OK) {
            if (failed) {
                fprintf(stderr,
                        "%s: succeeded although allocation %ld "
                        "failed\n",
                        what, k);
                check_failures++;
            }
            points_total += k - 1;
            last_grows = grows;
            return grows;
        }
        if (rc != RS_ENOMEM || failed == 0) {
            fprintf(stderr, "%s, failing allocation %ld: returned %s (%s)%s\n",
                    what, k, rs_status_name(rc), rs_errmsg(st),
                    failed ? "" : " without any allocation failing");
            check_failures++;
            return -1;
        }
        if (strstr(rs_errmsg(st), "index") != NULL) {
            points_index++;
        }
        if (rs_errmsg(st)[0] == '\0') {
            fprintf(stderr,
                    "%s, failing allocation %ld: RS_ENOMEM with an "
                    "empty rs_errmsg()\n",
                    what, k);
            check_failures++;
        }
        snapshot after = take();
        same(&before, &after, what, k);
        rs_status chk = rs__store_check(st);
        if (chk != RS_OK) {
            fprintf(stderr,
                    "%s, failing allocation %ld: rs__store_check "
                    "returned %s\n",
                    what, k, rs_status_name(chk));
            check_failures++;
        }
        if (k > 1000) {
            fprintf(stderr, "%s: still failing after 1000 allocations\n", what);
            check_failures++;
            return -1;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

/* The values of one Player record. */
typedef struct prec {
    char uid[16], name[24], tag[48];
    uint64_t stat, level;
    int64_t score;
    double ratio;
    bool flag;
} prec;

/* Record i of a family of distinct records with strings of many lengths:
 * uid 2..12 bytes, name 2..20, tag 0..40, so they land inline and in many
 * string pools. */
static prec make_rec(long i, int salt)
{
    prec r;
    memset(&r, 0, sizeof r);
    snprintf(r.uid, sizeof r.uid, "%c%ld", "uUkK"[salt & 3], i);
    if (i % 3 == 0) {
        snprintf(r.uid, sizeof r.uid, "%c-long-%05ld", "uUkK"[salt & 3], i);
    }
    int nl = 2 + (int)(i % 19);
    snprintf(r.name, sizeof r.name, "%c%ld-", "nNmM"[salt & 3], i);
    size_t n = strlen(r.name);
    while ((int)n < nl) {
        r.name[n++] = 'x';
    }
    r.name[n] = '\0';
    size_t tl = (size_t)((i * 7) % 41);
    for (size_t j = 0; j < tl; j++) {
        r.tag[j] = (char)('a' + (i + (long)j) % 26);
    }
    r.tag[tl] = '\0';
    r.stat = (uint64_t)(i % 256);
    r.level = (uint64_t)(i % 65536);
    r.score = (int64_t)(i * 37 % 2001) - 1000;
    r.ratio = (double)i / 8.0;
    r.flag = i % 2 == 0;
    return r;
}

typedef struct insert_arg {
    prec r;
    rs_handle h;
} insert_arg;

static rs_status do_insert(void *arg)
{
    insert_arg *a = arg;
    rs_named v[] = {
        {"uid", rs_val_cstr(a->r.uid)},    {"name", rs_val_cstr(a->r.name)},
        {"stat", rs_val_uint(a->r.stat)},  {"level", rs_val_uint(a->r.level)},
        {"score", rs_val_int(a->r.score)}, {"ratio", rs_val_f64(a->r.ratio)},
        {"flag", rs_val_bool(a->r.flag)},  {"tag", rs_val_cstr(a->r.tag)}};
    return rs_insert(st, player, v, NF, &a->h);
}

/* Whether record h holds r. */
static void check_rec(rs_handle h, const prec *r)
{
    const char *p;
    size_t len;
    uint64_t u;
    int64_t i;
    double d;
    rs_value v;
    CHECK_OK(st, rs_get_str(st, h, F_UID, &p, &len));
    CHECK(len == strlen(r->uid) && memcmp(p, r->uid, len) == 0);
    CHECK_OK(st, rs_get_str(st, h, F_NAME, &p, &len));
    CHECK(len == strlen(r->name) && memcmp(p, r->name, len) == 0);
    CHECK_OK(st, rs_get_str(st, h, F_TAG, &p, &len));
    CHECK(len == strlen(r->tag) && (len == 0 || memcmp(p, r->tag, len) == 0));
    CHECK_OK(st, rs_get_uint(st, h, F_STAT, &u));
    CHECK_EQ(u, r->stat);
    CHECK_OK(st, rs_get_uint(st, h, F_LEVEL, &u));
    CHECK_EQ(u, r->level);
    CHECK_OK(st, rs_get_int(st, h, F_SCORE, &i));
    CHECK_EQ(i, r->score);
    CHECK_OK(st, rs_get_f64(st, h, F_RATIO, &d));
    CHECK(d == r->ratio);
    CHECK_OK(st, rs_get_field(st, h, F_FLAG, &v));
    CHECK(v.type == RS_BOOL && v.v.b == r->flag);
    rs_handle k;
    CHECK_OK(st, rs_get(st, player, r->uid, strlen(r->uid), &k));
    CHECK_EQ(k, h);
}

/* Insert r under failure injection and check the result: the new record
 * holds r and every other record is as it was. */
static rs_handle insert_checked(const prec *r, const char *what)
{
    uint64_t d0 = digest_of(player);
    size_t n0 = rs_count(player);
    insert_arg a = {*r, RS_NULL_HANDLE};
    if (inject(what, do_insert, &a) < 0) {
        return RS_NULL_HANDLE;
    }
    check_rec(a.h, r);
    CHECK_EQ(rs_count(player), n0 + 1);
    CHECK_EQ(digest_of(player) - record_hash(player, a.h), d0);
    CHECK_OK(st, rs__store_check(st));
    return a.h;
}

/* Insert without injection. */
static rs_handle insert_plain(const prec *r)
{
    insert_arg a = {*r, RS_NULL_HANDLE};
    CHECK_OK(st, do_insert(&a));
    return a.h;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */
/* ------------------------------------------------------------------------ */

static void test_store_open(void)
{
    memset(&fa, 0, sizeof fa);
    long k = 1;
    rs_status rc;
    for (;; k++) {
        rs_store *s = NULL;
        alloc_check_arm(&fa, k);
        rc = rs_store_open(alloc_check_fn, &fa, &s);
        alloc_check_disarm(&fa);
        if (rc == RS_OK) {
            st = s;
            break;
        }
        CHECK_EQ(rc, RS_ENOMEM);
        CHECK_EQ(fa.live_bytes, 0);
        CHECK_EQ(fa.live_blocks, 0);
        if (rc != RS_ENOMEM || k > 100) {
            return;
        }
    }
    CHECK(k >= 2); /* opening allocates */
    check_accounting("rs_store_open");
    CHECK(rs_class_find(st, "Player") == NULL);
    close_store();
}

typedef struct create_arg {
    const char *name;
    const rs_field_def *defs;
    size_t n;
    unsigned flags;
    const char *text; /* rs_class_parse() when set */
    rs_class *out;
} create_arg;

static rs_status do_create(void *arg)
{
    create_arg *a = arg;
    rs_status rc;
    if (a->text) {
        rc = rs_class_parse(st, a->text, strlen(a->text), &a->out);
    } else {
        rc = rs_class_create(st, a->name, a->defs, a->n, a->flags, &a->out);
    }
    if (rc != RS_OK) {
        CHECK(rs_class_find(st, a->name) == NULL);
    }
    return rc;
}

/* The class text of cls, for comparing classes. */
static void format_of(const rs_class *cls, char *buf, size_t len)
{
    size_t need = rs_class_format(cls, buf, len);
    CHECK(need < len);
}

static void test_class_create(void)
{
    open_store();
    create_arg a = {"Player", player_defs, NF, 0, NULL, NULL};
    long n = inject("rs_class_create Player (empty store)", do_create, &a);
    CHECK(n >= 1);
    player = a.out;
    CHECK(player != NULL && rs_class_find(st, "Player") == player);
    if (player == NULL) {
        close_store();
        return;
    }
    CHECK_EQ(rs_class_n_fields(player), NF);
    for (int f = 0; f < NF; f++) {
        rs_field_def d;
        CHECK_OK(st, rs_class_field_def(player, f, &d));
        CHECK_STR(d.name, player_defs[f].name);
        CHECK_EQ(d.type, player_defs[f].type);
        CHECK_EQ(d.flags, player_defs[f].flags);
    }
    classes[0] = player;
    n_classes = 1;
    /* A second class, on a store that holds records: the class list grows
     * and the first class must not move. */
    for (long i = 0; i < 40; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    static const rs_field_def item_defs[] = {
        {.name = "id", .type = RS_I64, .flags = RS_FIELD_KEY},
        {.name = "code", .type = RS_U32, .flags = RS_FIELD_UNIQUE},
        {.name = "label",
         .type = RS_STR,
         .max_len = 100,
         .flags = RS_FIELD_UNIQUE,
         .has_default = true,
         .def = {.type = RS_STR, .v.s = {"", 0}}},
        {.name = "note",
         .type = RS_STR,
         .max_len = 300,
         .inline_len = 12,
         .has_default = true,
         .def = {.type = RS_STR,
                 .v.s = {"a default note longer than seven", 32}}},
        {.name = "w",
         .type = RS_F32,
         .has_default = true,
         .def = {.type = RS_F64, .v.f = 1.5}},
    };
    create_arg b = {"Item", item_defs, 5, RS_CLASS_DYNAMIC, NULL, NULL};
    inject("rs_class_create Item (second class)", do_create, &b);
    CHECK(b.out != NULL && rs_class_find(st, "Item") == b.out);
    CHECK(rs_class_find(st, "Player") == player);
    CHECK_EQ(rs_count(player), 40);
    if (b.out) {
        classes[n_classes++] = b.out;
        rs_named v[] = {{"id", rs_val_int(-7)}, {"code", rs_val_uint(9)}};
        CHECK_OK(st, rs_insert(st, b.out, v, 2, NULL));
        rs_handle h;
        CHECK_OK(st, rs_get(st, b.out, "-7", 2, &h));
        const char *p;
        size_t len;
        CHECK_OK(st, rs_get_str(st, h, 3, &p, &len));
        CHECK(len == 32 && memcmp(p, "a default note", 14) == 0);
    }
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

static void test_class_parse(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    for (long i = 0; i < 10; i++) {
        prec r = make_rec(i, 1);
        insert_plain(&r);
    }
    static const char text[] =
        "Guild {\n"
        "    gid: str(24) key      # a comment\n"
        "    title: str(64) unique inline(12) = \"Tab\\there, quote \\\" "
        "and \\x41\"\n"
        "    members: u32 = 0; rank: i16 = -3\n"
        "    gold: f64 = 2.5\n"
        "    open: bool = true\n"
        "} dynamic\n";
    create_arg a = {"Guild", NULL, 0, 0, text, NULL};
    long n = inject("rs_class_parse Guild", do_create, &a);
    CHECK(n >= 1);
    rs_class *guild = a.out;
    CHECK(guild != NULL && rs_class_find(st, "Guild") == guild);
    if (guild) {
        CHECK_EQ(rs_class_n_fields(guild), 6);
        CHECK_EQ(rs_class_flags(guild), RS_CLASS_DYNAMIC);
        rs_field_def d;
        CHECK_OK(st, rs_class_field_def(guild, 1, &d));
        const char *want = "Tab\there, quote \" and A";
        CHECK(d.has_default && d.def.type == RS_STR &&
              d.def.v.s.len == strlen(want) &&
              memcmp(d.def.v.s.ptr, want, strlen(want)) == 0);
        CHECK_EQ(d.inline_len, 12);
        /* The parsed class reads back as the same text form. */
        char f1[512], f2[512];
        format_of(guild, f1, sizeof f1);
        rs_class *again = NULL;
        char *t2 = f1;
        char renamed[520]; /* "Guild2" + the rest of f1 */
        snprintf(renamed, sizeof renamed, "Guild2%s", t2 + 5);
        CHECK_OK(st, rs_class_parse(st, renamed, strlen(renamed), &again));
        if (again) {
            format_of(again, f2, sizeof f2);
            CHECK_STR(f2 + 6, f1 + 5);
        }
    }
    CHECK_EQ(rs_count(player), 10);
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

static void test_insert_empty(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    /* Long uid, name and tag: the first row page and its table, the first
     * string pages and their table. */
    prec r = make_rec(3, 0);
    snprintf(r.tag, sizeof r.tag, "a-tag-past-the-inline-limit");
    rs_handle h = insert_checked(&r, "first insert into an empty class");
    CHECK(h != RS_NULL_HANDLE);
    /* And a second class's first insert with strings inline only. */
    prec s = make_rec(4, 1);
    s.tag[0] = '\0';
    h = insert_checked(&s, "second insert, inline strings");
    CHECK(h != RS_NULL_HANDLE);
    n_classes = 0;
    close_store();
}

/* What the growth structures look like, to prove the injected inserts
 * reached each growth path. */
typedef struct growth {
    uint32_t rec_pages, rec_cap, str_pages, str_cap;
    uint32_t depth[2], segs[2];
} growth;

static growth growth_now(void)
{
    growth g;
    g.rec_pages = player->n_pages;
    g.rec_cap = player->cap_pages;
    g.str_pages = st->strs.n_pages;
    g.str_cap = st->strs.cap_pages;
    for (int i = 0; i < 2; i++) {
        g.depth[i] = player->ix[i].depth;
        g.segs[i] = player->ix[i].n_segs;
    }
    return g;
}

/* Many inserts, each under injection, into a filled class. */
static void test_insert_growth(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    for (long i = 0; i < 300; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    growth g0 = growth_now();
    long allocating = 0;
    points_total = points_index = 0;
    for (long i = 300; i < 1100; i++) {
        prec r = make_rec(i, 0);
        char what[64];
        snprintf(what, sizeof what, "insert %ld (%s)", i, r.uid);
        if (insert_checked(&r, what) == RS_NULL_HANDLE) {
            break;
        }
        allocating += last_grows > 0;
    }
    growth g1 = growth_now();
    /* Each growth path ran under injection. */
    CHECK(g1.rec_pages > g0.rec_pages); /* row pages */
    CHECK(g1.rec_cap > g0.rec_cap);     /* the page table doubled */
    CHECK(g1.str_pages > g0.str_pages); /* string pages */
    CHECK(g1.str_cap > g0.str_cap);     /* their table doubled */
    for (int i = 0; i < 2; i++) {
        CHECK(g1.segs[i] > g0.segs[i]);   /* segments split */
        CHECK(g1.depth[i] > g0.depth[i]); /* the directory doubled */
    }
    CHECK(points_index > 0);
    printf("  800 inserts, %ld allocated, %ld failure points (%ld in "
           "indexes); pages %u->%u "
           "(table %u->%u), string pages %u->%u (table %u->%u), uid index "
           "%u->%u segments depth %u->%u, name index %u->%u depth %u->%u\n",
           allocating, points_total, points_index, g0.rec_pages, g1.rec_pages,
           g0.rec_cap, g1.rec_cap, g0.str_pages, g1.str_pages, g0.str_cap,
           g1.str_cap, g0.segs[0], g1.segs[0], g0.depth[0], g1.depth[0],
           g0.segs[1], g1.segs[1], g0.depth[1], g1.depth[1]);
    /* Every record is still there. */
    for (long i = 0; i < 1100; i += 1) {
        prec r = make_rec(i, 0);
        rs_handle h;
        CHECK_OK(st, rs_get(st, player, r.uid, strlen(r.uid), &h));
        if (i % 50 == 0) {
            check_rec(h, &r);
        }
    }
    n_classes = 0;
    close_store();
}

static rs_status reserve_op(void *arg)
{
    return rs_class_reserve(st, player, *(size_t *)arg);
}

/* rs_class_reserve() with each of its allocations failing in turn, on a
 * class with records and two indexes: every failure leaves the store as
 * it was, its memory to the byte (both indexes' layouts are allocated
 * before either is applied).  Then the reserved load grows no index. */
static void test_reserve(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    for (long i = 0; i < 300; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    points_total = points_index = 0;
    size_t n = 5000;
    CHECK(inject("reserve 5000", reserve_op, &n) > 0);
    CHECK(points_index >= 4); /* two directories, two key lists at least */
    growth g0 = growth_now();
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    for (long i = 300; i < 5000; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    growth g1 = growth_now();
    rs_mem(st, &m1);
    printf("  reserve 5000 after 300: %ld failure points; loading the rest: "
           "uid index %u->%u segments, name index %u->%u, index bytes "
           "%zu->%zu\n",
           points_total, g0.segs[0], g1.segs[0], g0.segs[1], g1.segs[1],
           m0.bytes[RS_MEM_INDEXES], m1.bytes[RS_MEM_INDEXES]);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(g1.depth[i], g0.depth[i]); /* no directory doubled */
    }
    CHECK_OK(st, rs__store_check(st));
    for (long i = 0; i < 5000; i += 7) {
        prec r = make_rec(i, 0);
        rs_handle h;
        CHECK_OK(st, rs_get(st, player, r.uid, strlen(r.uid), &h));
        check_rec(h, &r);
    }
    n_classes = 0;
    close_store();
}

/* Calls documented not to allocate, with every allocation failing. */
static void test_no_alloc_calls(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    rs_handle hs[200];
    for (long i = 0; i < 200; i++) {
        prec r = make_rec(i, 2);
        hs[i] = insert_plain(&r);
    }
    rs_scan *sc;
    rs_cond c = {F_LEVEL, RS_LT, rs_val_int(100)};
    CHECK_OK(st, rs_scan_open(st, player, &c, 1, &sc));
    alloc_check_arm(&fa, 0);
    fa.fail_all = true;
    rs_handle h;
    long seen = 0;
    while (rs_scan_next(sc, &h) == RS_OK) {
        seen++;
    }
    CHECK_EQ(seen, 100);
    for (long i = 0; i < 200; i++) {
        prec r = make_rec(i, 2);
        CHECK_OK(st, rs_get(st, player, r.uid, strlen(r.uid), &h));
        CHECK_EQ(h, hs[i]);
        rs_value nv = rs_val_cstr(r.name);
        CHECK_OK(st, rs_find(st, player, F_NAME, &nv, &h));
        CHECK_EQ(h, hs[i]);
        rs_value v;
        CHECK_OK(st, rs_get_field(st, hs[i], F_TAG, &v));
        size_t size;
        CHECK_OK(st, rs_record_size(st, hs[i], &size));
        CHECK_OK(st, rs_check(st, hs[i]));
        if (i % 3 == 0) {
            CHECK_OK(st, rs_remove(st, hs[i])); /* never allocates */
        }
    }
    rs_mem_report m;
    rs_mem(st, &m);
    CHECK_EQ(fa.n_grows, fa.n_failed);
    CHECK_EQ(fa.n_grows, 0);
    alloc_check_disarm(&fa);
    rs_scan_close(sc);
    check_accounting("reads under fail_all");
    CHECK_EQ(rs_count(player), 200 - 67);
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

/* Inserts into freed slots after churn: free-list reuse, freed string
 * cells, index segments rebuilt over tombstones. */
static void test_insert_after_churn(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    static rs_handle hs[600];
    for (long i = 0; i < 600; i++) {
        prec r = make_rec(i, 0);
        hs[i] = insert_plain(&r);
    }
    points_total = points_index = 0;
    for (int round = 0; round < 3; round++) {
        for (long i = round; i < 600; i += 3) {
            if (hs[i] != RS_NULL_HANDLE) {
                CHECK_OK(st, rs_remove(st, hs[i]));
                hs[i] = RS_NULL_HANDLE;
            }
        }
        for (long i = round; i < 600; i += 3) {
            prec r = make_rec(i + 1000 * (round + 1), 3);
            char what[64];
            snprintf(what, sizeof what, "churn round %d insert %s", round,
                     r.uid);
            hs[i] = insert_checked(&r, what);
            if (hs[i] == RS_NULL_HANDLE) {
                n_classes = 0;
                close_store();
                return;
            }
        }
    }
    CHECK_EQ(rs_count(player), 600);
    printf("  churn in thirds: %ld failure points (%ld in indexes)\n",
           points_total, points_index);
    n_classes = 0;
    close_store();
}

/* Where index.c puts a hash: the directory entry (its top depth bits) and,
 * in a segment of n_groups groups of 16 entries, the home group (its low 32
 * bits scaled).  A copy of index.c's placement, so that a test can steer
 * keys into one segment and one group; if index.c changes it, the merge
 * check below fails and says so. */
static uint32_t dir_pos(const rs__index *ix, uint64_t h)
{
    return ix->depth ? (uint32_t)(h >> (64 - ix->depth)) : 0;
}

static uint32_t home_group(uint64_t h, uint32_t n_groups)
{
    return (uint32_t)(((uint64_t)(uint32_t)h * n_groups) >> 32);
}

static long next_steered;

/* A record whose uid hashes into segment seg of the uid index and, in it,
 * into group g. */
static prec steered_rec(rs__seg *seg, uint32_t g)
{
    const rs__index *ix = &player->ix[0];
    for (;;) {
        prec r = make_rec(next_steered++, 0);
        snprintf(r.uid, sizeof r.uid, "T%ld", next_steered);
        snprintf(r.name, sizeof r.name, "T%ld", next_steered);
        uint64_t h = rs__index_hash(st->hash_seed, r.uid, strlen(r.uid));
        const rs__dirent *d = &ix->dir[dir_pos(ix, h)];
        if (d->s == seg && home_group(h, d->n_groups) == g) {
            return r;
        }
    }
}

/* Churn at a high load (the removals leave tombstones in full groups, so
 * segments fill up and are purged: rebuilt at the same size), then a merge:
 * after most records are gone, a segment whose groups are tombstones (a
 * group filled with 16 keys, then 15 of them removed) fills up with few
 * live keys, and is merged with its buddy.  Every insert is under
 * injection. */
static void test_churn_purge_merge(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    enum { N = 1000 };
    static rs_handle hs[N];
    for (long i = 0; i < N; i++) {
        prec r = make_rec(i, 1);
        hs[i] = insert_plain(&r);
    }
    growth g0 = growth_now();
    points_total = points_index = 0;
    uint64_t x = 88172645463325252ull;
    long next = 10000;
    /* Phase 1: the population stays at N. */
    for (long i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        long j = (long)(x % N);
        CHECK_OK(st, rs_remove(st, hs[j]));
        prec r = make_rec(next++, 2);
        char what[64];
        snprintf(what, sizeof what, "churn insert %s", r.uid);
        hs[j] = insert_checked(&r, what);
        if (hs[j] == RS_NULL_HANDLE) {
            n_classes = 0;
            close_store();
            return;
        }
    }
    long purge_points = points_index;
    growth g1 = growth_now();
    CHECK(purge_points > 0); /* purges ran under injection */
    /* Phase 2: every record removed (segments keep their size), then
     * tombstones steered into one segment. */
    for (long i = 0; i < N; i++) {
        CHECK_OK(st, rs_remove(st, hs[i]));
    }
    const rs__index *ix = &player->ix[0];
    bool merged = false;
    int tries = 0;
    size_t n_dir = (size_t)1 << ix->depth;
    for (size_t d = 0; !merged && tries < 8 && d < n_dir;) {
        /* A segment of 2+ groups whose buddy (the other half of the split
         * that made it) is one segment of the same depth.  A segment fills
         * an aligned run of 2^(depth - local) directory entries, so the
         * buddy's run is the same length exactly when the aligned range
         * next to ours points at one segment. */
        rs__seg *seg = ix->dir[d].s;
        size_t run = 1;
        while (d + run < n_dir && ix->dir[d + run].s == seg) {
            run++;
        }
        size_t buddy = d ^ run, d_next = d + run;
        bool ok = ix->dir[d].n_groups >= 2 && run < n_dir;
        for (size_t k = 0; ok && k < run; k++) {
            ok = ix->dir[buddy + k].s == ix->dir[buddy].s;
        }
        if (!ok) {
            d = d_next;
            continue;
        }
        tries++;
        uint32_t ng = ix->dir[d].n_groups;
        uint32_t segs_before = ix->n_segs;
        bool moved = false;
        char what[64];
        for (uint32_t g = 0; g + 1 < ng && !moved; g++) {
            rs_handle grp[16];
            int n_grp = 0;
            for (; n_grp < 16 && !moved; n_grp++) {
                prec r = steered_rec(seg, g);
                snprintf(what, sizeof what, "insert %s to fill group %u", r.uid,
                         g);
                grp[n_grp] = insert_checked(&r, what);
                if (grp[n_grp] == RS_NULL_HANDLE) {
                    break;
                }
                moved = ix->dir[d].s != seg;
            }
            for (int k = 1; k < n_grp && !moved; k++) {
                CHECK_OK(st, rs_remove(st, grp[k]));
            }
        }
        /* Live keys into the last group until the segment is rebuilt. */
        for (int k = 0; k < 64 && !moved; k++) {
            prec r = steered_rec(seg, ng - 1);
            snprintf(what, sizeof what,
                     "insert %s into a segment of "
                     "tombstones",
                     r.uid);
            if (insert_checked(&r, what) == RS_NULL_HANDLE) {
                break;
            }
            moved = ix->dir[d].s != seg;
        }
        merged = ix->n_segs < segs_before;
        n_dir = (size_t)1 << ix->depth;
        d = 0; /* the directory changed: look again from the start */
    }
    growth g2 = growth_now();
    if (!merged) {
        fprintf(stderr,
                "%s:%d: no merge of index segments was reached: has "
                "index.c's placement (dir_pos, home_group) or its "
                "merge rule changed?\n",
                __FILE__, __LINE__);
        check_failures++;
    }
    CHECK(points_index > purge_points); /* the merge ran under injection */
    printf("  churn: %ld failure points (%ld in indexes at full load, %ld "
           "in the merge); uid index %u->%u->%u segments, name index "
           "%u->%u->%u\n",
           points_total, purge_points, points_index - purge_points, g0.segs[0],
           g1.segs[0], g2.segs[0], g0.segs[1], g1.segs[1], g2.segs[1]);
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

typedef struct set_arg {
    rs_handle h;
    rs_field f;
    rs_value v;
} set_arg;

static rs_status do_set(void *arg)
{
    set_arg *a = arg;
    return rs_set_field(st, a->h, a->f, &a->v);
}

/* Set under injection, then check the field and that nothing else moved. */
static void set_checked(rs_handle h, rs_field f, const char *s,
                        const char *what)
{
    uint64_t d0 = digest_of(player) - record_hash(player, h);
    set_arg a = {h, f, rs_val_cstr(s)};
    if (inject(what, do_set, &a) < 0) {
        return;
    }
    const char *p;
    size_t len;
    CHECK_OK(st, rs_get_str(st, h, f, &p, &len));
    CHECK(len == strlen(s) && memcmp(p, s, len) == 0);
    CHECK_EQ(digest_of(player) - record_hash(player, h), d0);
    if (f != F_TAG) {
        rs_handle k;
        rs_value v = rs_val_cstr(s);
        CHECK_OK(st, rs_find(st, player, f, &v, &k));
        CHECK_EQ(k, h);
    }
    CHECK_OK(st, rs__store_check(st));
}

static void test_set_strings(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    static rs_handle hs[300];
    for (long i = 0; i < 300; i++) {
        prec r = make_rec(i, 0);
        r.tag[0] = '\0';
        hs[i] = insert_plain(&r);
    }
    growth g0 = growth_now();
    points_total = points_index = 0;
    char s[64], what[96];
    /* Whether the sets rebuild an index segment under injection depends
     * on where the hash seed puts the keys: more rounds until one does. */
    for (int round = 0; round < 8 && (round == 0 || points_index == 0); round++)
        for (long i = 0; i < 300; i++) {
            /* A long tag of a length not seen yet in its pool, then short. */
            size_t len = 8 + (size_t)(i % 33);
            for (size_t j = 0; j < len; j++) {
                s[j] = (char)('A' + (i + (long)j) % 26);
            }
            s[len] = '\0';
            snprintf(what, sizeof what, "set tag of record %ld to %zu bytes", i,
                     len);
            set_checked(hs[i], F_TAG, s, what);
            if (i % 5 == 0) {
                snprintf(what, sizeof what, "set tag of record %ld short", i);
                set_checked(hs[i], F_TAG, "short", what);
            }
            /* The unique name: a new long value, and a new inline one. */
            snprintf(s, sizeof s, "renamed-player-%ld-%d", i, round);
            snprintf(what, sizeof what, "set name of record %ld to %s", i, s);
            set_checked(hs[i], F_NAME, s, what);
            if (i % 4 == 0) {
                snprintf(s, sizeof s, "r%ld-%d", i, round);
                snprintf(what, sizeof what, "set name of record %ld to %s", i,
                         s);
                set_checked(hs[i], F_NAME, s, what);
            }
            /* The key. */
            if (i % 2 == 0) {
                snprintf(s, sizeof s, "newkey-%ld-%d", i, round);
                snprintf(what, sizeof what, "set uid of record %ld to %s", i,
                         s);
                set_checked(hs[i], F_UID, s, what);
            }
        }
    growth g1 = growth_now();
    CHECK(g1.str_pages > g0.str_pages);
    /* Sets of unique fields rebuilt index segments (over the tombstones
     * their deletes leave) under injection. */
    CHECK(points_index > 0);
    printf("  set strings: %ld failure points (%ld in indexes); string "
           "pages %u->%u, name index %u->%u segments\n",
           points_total, points_index, g0.str_pages, g1.str_pages, g0.segs[1],
           g1.segs[1]);
    n_classes = 0;
    close_store();
}

typedef struct scan_arg {
    rs_cond conds[3];
    size_t n;
    rs_scan *sc;
} scan_arg;

static rs_status do_scan_open(void *arg)
{
    scan_arg *a = arg;
    return rs_scan_open(st, player, a->conds, a->n, &a->sc);
}

static void test_scan_open(void)
{
    open_player();
    classes[0] = player;
    n_classes = 1;
    for (long i = 0; i < 100; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    char prefix[] = "n1";
    scan_arg a = {{{F_NAME, RS_PREFIX, rs_val_str(prefix, 2)},
                   {F_SCORE, RS_GE, rs_val_int(-1000)},
                   {F_TAG, RS_NE, rs_val_cstr("no-such-tag")}},
                  3,
                  NULL};
    long n = inject("rs_scan_open", do_scan_open, &a);
    CHECK(n >= 1);
    prefix[0] = 'X';
    long seen = 0;
    rs_handle h;
    while (a.sc && rs_scan_next(a.sc, &h) == RS_OK) {
        seen++;
    }
    CHECK_EQ(seen, 11); /* n1, n10..n19 */
    rs_scan_close(a.sc);
    /* Scans left open when the store closes are freed with it. */
    a.n = 0;
    inject("rs_scan_open (left open)", do_scan_open, &a);
    n_classes = 0;
    close_store();
}

/* ------------------------------------------------------------------------ */
/* Dynamic attributes                                                        */
/* ------------------------------------------------------------------------ */

/* A store whose Player is declared dynamic. */
static void open_dyn_player(void)
{
    open_store();
    CHECK_OK(st, rs_class_create(st, "Player", player_defs, NF,
                                 RS_CLASS_DYNAMIC, &player));
    classes[0] = player;
    n_classes = 1;
}

/* What attribute operations grow (attrs.h, store.h, strs.h), to prove the
 * injected operations reached each growth path. */
typedef struct agrowth {
    uint32_t n_names, cap_names, name_ix_cap, n_shapes, cap_shapes, trans_cap,
        n_avecs, str_pages, str_cap;
} agrowth;

static agrowth agrowth_now(void)
{
    const rs__attrs *a = &st->attrs;
    agrowth g = {a->n_names,      a->cap_names,     a->name_ix_cap,
                 a->n_shapes,     a->cap_shapes,    a->trans_cap,
                 player->n_avecs, st->strs.n_pages, st->strs.cap_pages};
    return g;
}

/* How many successful operations, each run with every one of its
 * allocations failing in turn first, grew each structure. */
typedef struct agrew {
    long names, cap_names, name_ix, shapes, cap_shapes, trans, avecs, vec_new,
        vec_grow, str_pages, str_cap;
} agrew;

static agrew grew;

/* The capacity of the vector of h's row page (0: none yet). */
static uint32_t vec_cap(rs_handle h)
{
    uint32_t page = (uint32_t)h >> player->page_shift;
    return page < player->n_avecs ? player->avecs[page].cap : 0;
}

static void count_growth(const agrowth *a, const agrowth *b, uint32_t v0,
                         uint32_t v1)
{
    grew.names += b->n_names > a->n_names;
    grew.cap_names += b->cap_names > a->cap_names;
    grew.name_ix += b->name_ix_cap > a->name_ix_cap;
    grew.shapes += b->n_shapes > a->n_shapes;
    grew.cap_shapes += b->cap_shapes > a->cap_shapes;
    grew.trans += b->trans_cap > a->trans_cap;
    grew.avecs += b->n_avecs > a->n_avecs;
    grew.vec_new += v0 == 0 && v1 > 0;
    grew.vec_grow += v0 > 0 && v1 > v0;
    grew.str_pages += b->str_pages > a->str_pages;
    grew.str_cap += b->str_cap > a->str_cap;
}

static void print_growth(const char *what)
{
    printf("  %s: %ld failure points; grew: names %ld (array %ld, hash %ld), "
           "shapes %ld (array %ld), transitions %ld, vector array %ld, page "
           "vectors new %ld / grown %ld, string pages %ld (table %ld)\n",
           what, points_total, grew.names, grew.cap_names, grew.name_ix,
           grew.shapes, grew.cap_shapes, grew.trans, grew.avecs, grew.vec_new,
           grew.vec_grow, grew.str_pages, grew.str_cap);
}

static void reset_growth(void)
{
    memset(&grew, 0, sizeof grew);
    points_total = points_index = 0;
}

/* A record's dynamic attributes as the test expects them: names and
 * values in binding order (values normalized as rs_dict() gives them:
 * i64, u64 above INT64_MAX, f64, bool, str; strings in test-owned
 * memory). */
#define ED_MAX 8
typedef struct edict {
    size_t n;
    const char *names[ED_MAX];
    rs_value vals[ED_MAX];
} edict;

static void ed_set(edict *d, const char *name, rs_value v)
{
    size_t k = 0;
    while (k < d->n && strcmp(d->names[k], name) != 0) {
        k++;
    }
    if (k == d->n) {
        CHECK(d->n < ED_MAX);
        if (d->n == ED_MAX) {
            return;
        }
        d->names[d->n++] = name;
    }
    d->vals[k] = v;
}

static void ed_del(edict *d, const char *name)
{
    for (size_t k = 0; k < d->n; k++) {
        if (strcmp(d->names[k], name) == 0) {
            memmove(&d->names[k], &d->names[k + 1],
                    (d->n - k - 1) * sizeof d->names[0]);
            memmove(&d->vals[k], &d->vals[k + 1],
                    (d->n - k - 1) * sizeof d->vals[0]);
            d->n--;
            return;
        }
    }
}

static bool same_value(const rs_value *a, const rs_value *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case RS_STR:
        return a->v.s.len == b->v.s.len &&
               (a->v.s.len == 0 ||
                memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0);
    case RS_BOOL:
        return a->v.b == b->v.b;
    default:
        return a->v.u == b->v.u; /* i, u and f share it */
    }
}

/* Record h's rs_dict() is exactly d. */
static void check_dict(rs_handle h, const edict *d, const char *what)
{
    rs_attr items[ED_MAX + 1];
    size_t n = 0;
    CHECK_OK(st, rs_dict(st, h, items, ED_MAX + 1, &n));
    bool ok = n == d->n;
    for (size_t k = 0; ok && k < n; k++) {
        ok = strcmp(items[k].name, d->names[k]) == 0 &&
             same_value(&items[k].val, &d->vals[k]);
    }
    if (!ok) {
        fprintf(stderr,
                "%s: rs_dict() has %zu attributes, expected %zu "
                "(or a name or value differs)\n",
                what, n, d->n);
        check_failures++;
    }
}

/* One attribute call: bind (rs_set_attr, or rs_set_field when f is an
 * attribute's number) or delete. */
typedef struct attr_arg {
    rs_handle h;
    const char *name;
    rs_field f;
    rs_value v;
    bool del;
} attr_arg;

static rs_status do_attr(void *arg)
{
    attr_arg *a = arg;
    if (a->del) {
        return rs_del_attr(st, a->h, a->name);
    }
    if (a->f >= RS_ATTR_BASE) {
        return rs_set_field(st, a->h, a->f, &a->v);
    }
    return rs_set_attr(st, a->h, a->name, &a->v);
}

/* Run an attribute call under injection, then check that the record's
 * attributes are d (updated here), that no other record moved, and count
 * what grew. */
static void attr_checked(attr_arg *a, edict *d, const char *what)
{
    uint64_t d0 = digest_of(player) - record_hash(player, a->h);
    agrowth g0 = agrowth_now();
    uint32_t v0 = vec_cap(a->h);
    if (inject(what, do_attr, a) < 0) {
        return;
    }
    agrowth g1 = agrowth_now();
    count_growth(&g0, &g1, v0, vec_cap(a->h));
    if (a->del) {
        ed_del(d, a->name);
    } else {
        ed_set(d, a->name, a->v);
    }
    check_dict(a->h, d, what);
    CHECK_EQ(digest_of(player) - record_hash(player, a->h), d0);
    CHECK_OK(st, rs__store_check(st));
}

static void bind_checked(rs_handle h, edict *d, const char *name, rs_value v,
                         const char *what)
{
    attr_arg a = {h, name, -1, v, false};
    attr_checked(&a, d, what);
}

static void bind_plain(rs_handle h, edict *d, const char *name, rs_value v)
{
    CHECK_OK(st, rs_set_attr(st, h, name, &v));
    ed_set(d, name, v);
}

/* Strings the tests bind: test-owned, so the expected dicts can point at
 * them. */
static char text[512];

static rs_value text_val(size_t len)
{
    return rs_val_str(text, len);
}

static void init_text(void)
{
    for (size_t i = 0; i < sizeof text; i++) {
        text[i] = (char)('a' + i % 23);
    }
}

/* The first attribute of a store (every structure is made: the name, its
 * hash table and array, the empty shape and the new one, the transition
 * table, the vector array, the page's vector, an arena cell and page),
 * then the first attribute of more records, each a new name: names,
 * shapes and transitions outgrow their tables, and records in new row
 * pages need a larger vector array and new page vectors. */
static void test_attr_first_bind(void)
{
    open_dyn_player();
    init_text();
    enum { N = 48 };
    static rs_handle hs[N];
    static edict ed[N];
    static char names[N][16];
    memset(ed, 0, sizeof ed);
    for (long i = 0; i < 16; i++) {
        prec r = make_rec(i, 0);
        hs[i] = insert_plain(&r);
    }
    agrowth g0 = agrowth_now();
    CHECK(g0.n_names == 0 && g0.name_ix_cap == 0 && g0.cap_names == 0 &&
          g0.n_shapes == 0 && g0.cap_shapes == 0 && g0.trans_cap == 0 &&
          g0.n_avecs == 0);
    reset_growth();
    bind_checked(hs[0], &ed[0], "x", rs_val_int(123),
                 "the store's first attribute");
    agrowth g1 = agrowth_now();
    uint32_t page0 = (uint32_t)hs[0] >> player->page_shift;
    CHECK_EQ(g1.n_names, 1);
    CHECK(g1.name_ix_cap > 0 && g1.cap_names > 0);
    CHECK_EQ(g1.n_shapes, 2); /* the empty shape and (x) */
    CHECK(g1.cap_shapes > 0 && g1.trans_cap > 0);
    CHECK(g1.n_avecs > page0 && vec_cap(hs[0]) > 0);
    CHECK(points_total >= 8); /* each of those allocations failed once */
    long first = points_total;
    /* More records: new row pages, past the vector array. */
    for (long i = 16; i < N; i++) {
        prec r = make_rec(i, 0);
        hs[i] = insert_plain(&r);
    }
    for (long i = 1; i < N; i++) {
        snprintf(names[i], sizeof names[i], "a%ld", i);
        char what[64];
        snprintf(what, sizeof what, "first attribute %s of record %ld",
                 names[i], i);
        rs_value v = i % 3 == 0   ? rs_val_int(-i * 1000)
                     : i % 3 == 1 ? text_val((size_t)i)
                                  : rs_val_uint(UINT64_MAX - (uint64_t)i);
        bind_checked(hs[i], &ed[i], names[i], v, what);
    }
    agrowth g2 = agrowth_now();
    CHECK_EQ(g2.n_names, N);
    CHECK_EQ(g2.n_shapes, N + 1);
    CHECK(grew.name_ix >= 2 && grew.cap_names >= 2); /* past 8, 16, ... */
    CHECK(grew.cap_shapes >= 2 && grew.trans >= 2);
    CHECK(grew.avecs >= 1);   /* a record past the vector array */
    CHECK(grew.vec_new >= 4); /* the first record of a page */
    CHECK(grew.str_pages >= 4);
    printf("  first attribute: %ld failure points\n", first);
    print_growth("first attributes of 47 more records");
    for (long i = 0; i < N; i++) {
        check_dict(hs[i], &ed[i], "at the end");
    }
    n_classes = 0;
    close_store();
}

/* Binding on a record whose page vector is full: the vector grows (8
 * entries, then 16, ...).  A page must hold more rows than the vector's
 * first 8 entries: the smallest class. */
static void test_attr_vector_full(void)
{
    open_store();
    const char *def = "Tiny { id: u16 key } dynamic";
    CHECK_OK(st, rs_class_parse(st, def, strlen(def), &player));
    classes[0] = player;
    n_classes = 1;
    uint32_t rows = 1u << player->page_shift;
    static rs_handle hs[64];
    static edict ed[64];
    memset(ed, 0, sizeof ed);
    uint32_t n = 2 * rows < 64 ? 2 * rows : 64;
    for (uint32_t i = 0; i < n; i++) {
        rs_named v[] = {{"id", rs_val_uint(i)}};
        CHECK_OK(st, rs_insert(st, player, v, 1, &hs[i]));
    }
    reset_growth();
    uint32_t fills = rows < 32 ? rows : 32;
    for (uint32_t i = 0; i < fills; i++) {
        char what[64];
        snprintf(what, sizeof what, "bind x on row %u of page 0", i);
        bind_checked(hs[i], &ed[i], "x", rs_val_int(i), what);
        CHECK_EQ(player->avecs[0].n, i + 1);
    }
    print_growth("page 0's vector");
    if (rows > 8) {
        CHECK(grew.vec_grow >= 1); /* 8 entries were not enough */
    } else {
        /* Not reachable here: the vector starts with room for 8 and a
         * page of this build has no more rows. */
        CHECK_EQ(player->avecs[0].cap, 8);
        printf("  (a page holds %u rows in this build, a new vector 8 "
               "entries: the vector cannot fill up and grow; only a build "
               "with pages of more than 8 rows reaches that)\n",
               rows);
    }
    for (uint32_t i = 0; i < fills; i++) {
        check_dict(hs[i], &ed[i], "at the end");
    }
    n_classes = 0;
    close_store();
}

/* Rebinding an attribute to a longer string: a larger block, in a pool
 * with no page yet (a new arena page, sometimes a larger page table). */
static void test_attr_rebind_longer(void)
{
    open_dyn_player();
    init_text();
    enum { N = 40 };
    static rs_handle hs[N];
    static edict ed[N];
    memset(ed, 0, sizeof ed);
    for (long i = 0; i < N; i++) {
        prec r = make_rec(i, 1);
        hs[i] = insert_plain(&r);
        bind_plain(hs[i], &ed[i], "lvl", rs_val_int(i));
        bind_plain(hs[i], &ed[i], "guild", text_val(1));
        bind_plain(hs[i], &ed[i], "vip", rs_val_bool(true));
    }
    reset_growth();
    for (long i = 0; i < N; i++) {
        size_t len = 9 + (size_t)i * 11; /* 9..438 bytes, each new */
        char what[64];
        snprintf(what, sizeof what,
                 "rebind guild of record %ld to %zu "
                 "bytes",
                 i, len);
        bind_checked(hs[i], &ed[i], "guild", text_val(len), what);
        /* And once more by number, to another type: the place stays. */
        if (i % 4 == 0) {
            attr_arg a = {hs[i], "lvl", rs_attr_id(st, player, "lvl"),
                          rs_val_f64(0.5 + (double)i), false};
            snprintf(what, sizeof what,
                     "rebind lvl of record %ld by "
                     "number",
                     i);
            attr_checked(&a, &ed[i], what);
        }
    }
    CHECK(grew.str_pages >= N / 2);
    CHECK(grew.str_cap >= 1);
    print_growth("rebinding to longer strings");
    n_classes = 0;
    close_store();
}

/* Inserts that carry dynamic attributes, into a dynamic class: the row,
 * the strings, the index entries and the attributes reserved together. */
typedef struct dyn_insert_arg {
    prec r;
    rs_named dyn[4];
    size_t n_dyn;
    rs_handle h;
} dyn_insert_arg;

static rs_status do_insert_dyn(void *arg)
{
    dyn_insert_arg *a = arg;
    rs_named v[NF + 4] = {
        {"uid", rs_val_cstr(a->r.uid)},    {"name", rs_val_cstr(a->r.name)},
        {"stat", rs_val_uint(a->r.stat)},  {"level", rs_val_uint(a->r.level)},
        {"score", rs_val_int(a->r.score)}, {"ratio", rs_val_f64(a->r.ratio)},
        {"flag", rs_val_bool(a->r.flag)},  {"tag", rs_val_cstr(a->r.tag)}};
    /* The attributes in the middle of the fields. */
    size_t n = 4;
    rs_named all[NF + 4];
    memcpy(all, v, 4 * sizeof *v);
    memcpy(all + n, a->dyn, a->n_dyn * sizeof *a->dyn);
    n += a->n_dyn;
    memcpy(all + n, v + 4, (NF - 4) * sizeof *v);
    n += NF - 4;
    return rs_insert(st, player, all, n, &a->h);
}

static void test_attr_insert(void)
{
    open_dyn_player();
    init_text();
    for (long i = 0; i < 40; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    reset_growth();
    static char fresh[400][16];
    static const char *const pool[] = {"x", "guild", "vip", "hp", "mp", "zone"};
    long with = 0;
    for (long i = 40; i < 400; i++) {
        dyn_insert_arg a;
        memset(&a, 0, sizeof a);
        a.r = make_rec(i, 0);
        edict ed;
        memset(&ed, 0, sizeof ed);
        size_t k = (size_t)(i % 5); /* 0..4 attributes */
        for (size_t j = 0; j < k; j++) {
            /* Distinct names in a few orders (shapes repeat), now and
             * then a new one. */
            const char *name = pool[((size_t)i / 5 + j) % 6];
            if (j == k - 1 && i % 7 == 0) {
                snprintf(fresh[i], sizeof fresh[i], "new%ld", i);
                name = fresh[i];
            }
            rs_value v = j == 0   ? rs_val_int(i * (i % 2 ? -1 : 1))
                         : j == 1 ? text_val((size_t)(i % 150))
                         : j == 2 ? rs_val_bool(i % 3 == 0)
                                  : rs_val_f64((double)i / 3.0);
            a.dyn[a.n_dyn].name = name;
            a.dyn[a.n_dyn].val = v;
            a.n_dyn++;
            ed_set(&ed, name, v);
        }
        with += k > 0;
        uint64_t d0 = digest_of(player);
        size_t n0 = rs_count(player);
        agrowth g0 = agrowth_now();
        /* The slot it will take: the free list's head, else the next. */
        uint32_t slot = player->free_head != RS_SLOT_NONE ? player->free_head
                                                          : player->n_slots;
        uint32_t page = slot >> player->page_shift;
        uint32_t v0 = page < player->n_avecs ? player->avecs[page].cap : 0;
        char what[64];
        snprintf(what, sizeof what, "insert %ld with %zu attributes", i, k);
        if (inject(what, do_insert_dyn, &a) < 0) {
            break;
        }
        agrowth g1 = agrowth_now();
        CHECK_EQ((uint32_t)a.h, slot);
        count_growth(&g0, &g1, v0, vec_cap(a.h));
        check_rec(a.h, &a.r);
        check_dict(a.h, &ed, what);
        CHECK_EQ(rs_count(player), n0 + 1);
        CHECK_EQ(digest_of(player) - record_hash(player, a.h), d0);
        CHECK_OK(st, rs__store_check(st));
    }
    CHECK(grew.names >= 4 && grew.shapes >= 4);
    CHECK(grew.avecs >= 1 && grew.trans >= 1 && grew.str_pages >= 10);
    CHECK(grew.vec_new >= 10);
    print_growth("inserts with attributes");
    CHECK(with > 200);
    /* Into the slots of removed records that had attributes (their
     * blocks went back to the arena's free lists). */
    rs_scan *sc;
    CHECK_OK(st, rs_scan_open(st, player, NULL, 0, &sc));
    rs_handle h;
    long seen = 0, removed = 0;
    while (sc && rs_scan_next(sc, &h) == RS_OK) {
        size_t na = 0;
        CHECK_OK(st, rs_dict(st, h, NULL, 0, &na));
        if (seen++ % 3 == 0 && na > 0) {
            CHECK_OK(st, rs_remove(st, h));
            removed++;
        }
    }
    rs_scan_close(sc);
    reset_growth();
    for (long i = 0; i < removed; i++) {
        dyn_insert_arg a;
        memset(&a, 0, sizeof a);
        a.r = make_rec(1000 + i, 1);
        edict ed;
        memset(&ed, 0, sizeof ed);
        a.dyn[0] = (rs_named){pool[i % 6], text_val((size_t)(i % 60))};
        a.dyn[1] = (rs_named){"reused", rs_val_int(i)};
        a.n_dyn = 2;
        ed_set(&ed, a.dyn[0].name, a.dyn[0].val);
        ed_set(&ed, a.dyn[1].name, a.dyn[1].val);
        uint32_t slot = player->free_head;
        uint64_t d0 = digest_of(player);
        agrowth g0 = agrowth_now();
        char what[64];
        snprintf(what, sizeof what, "insert %ld into a freed slot", i);
        if (inject(what, do_insert_dyn, &a) < 0) {
            break;
        }
        agrowth g1 = agrowth_now();
        count_growth(&g0, &g1, 0, 0);
        CHECK_EQ((uint32_t)a.h, slot);
        check_rec(a.h, &a.r);
        check_dict(a.h, &ed, what);
        CHECK_EQ(digest_of(player) - record_hash(player, a.h), d0);
        CHECK_OK(st, rs__store_check(st));
    }
    CHECK(removed > 50);
    print_growth("inserts with attributes into freed slots");
    n_classes = 0;
    close_store();
}

/* Deleting an attribute: the smaller block may need a cell of a size not
 * used yet (a new arena page); deleting the last one allocates nothing. */
static void test_attr_delete(void)
{
    open_dyn_player();
    init_text();
    enum { N = 40 };
    static rs_handle hs[N];
    static edict ed[N];
    memset(ed, 0, sizeof ed);
    for (long i = 0; i < N; i++) {
        prec r = make_rec(i, 2);
        hs[i] = insert_plain(&r);
        bind_plain(hs[i], &ed[i], "x", rs_val_int(i));
        bind_plain(hs[i], &ed[i], "guild", text_val(20 + (size_t)i * 9));
        bind_plain(hs[i], &ed[i], "vip", rs_val_bool(i % 2 == 0));
        bind_plain(hs[i], &ed[i], "z", text_val(3));
    }
    reset_growth();
    static const char *const order[] = {"guild", "x", "z", "vip"};
    long last_points = 0;
    for (int round = 0; round < 4; round++) {
        for (long i = 0; i < N; i++) {
            attr_arg a = {hs[i], order[round], -1, rs_val_int(0), true};
            char what[64];
            snprintf(what, sizeof what, "delete %s of record %ld", order[round],
                     i);
            long before = points_total;
            attr_checked(&a, &ed[i], what);
            if (round == 3) {
                last_points += points_total - before;
            }
        }
    }
    CHECK(points_total > 0);
    CHECK(grew.str_pages >= 4);
    CHECK_EQ(last_points, 0); /* the last attribute: nothing to allocate */
    for (long i = 0; i < N; i++) {
        CHECK(!rs__row_has_attrs(rs__row(player, (uint32_t)hs[i])));
    }
    rs_mem_report m;
    rs_mem(st, &m);
    CHECK_EQ(st->attrs.block_bytes, 0); /* every block back in the arena */
    CHECK_EQ(m.bytes[RS_MEM_ATTRS], rs__alloc_bytes(st, RS_MEM_ATTRS));
    print_growth("deletes");
    n_classes = 0;
    close_store();
}

/* rs_attr_id() of new names: interning only (the name's copy, its array
 * and hash table growing). */
typedef struct id_arg {
    const char *name;
    rs_field id;
} id_arg;

static rs_status do_attr_id(void *arg)
{
    id_arg *a = arg;
    a->id = rs_attr_id(st, player, a->name);
    if (a->id >= 0) {
        return RS_OK;
    }
    return strstr(rs_errmsg(st), "out of memory") ? RS_ENOMEM : RS_EINVAL;
}

/* Groups.  A group of changes of every kind (unique and key fields set,
 * long strings, binds, rebinds, unbinds, removes, inserts into freed and
 * new slots, a removed key inserted again) runs with its k-th allocation
 * failing AND every allocation after it: the change that fails rolls the
 * group back with no memory at all, so the rollback itself must not
 * allocate.  After each failure the content (handles included) is as
 * before the group and the structures check out; the accounting may keep
 * capacity the group grew (a page, an index segment), by design. */
static rs_handle grp_h[12];

static rs_status grp_step(rs_status rc)
{
    if (rc != RS_OK) {
        rs_status end = rs_group_commit(st);
        if (end != RS_EGROUP) {
            fprintf(stderr, "group: commit after a failure returned %s\n",
                    rs_status_name(end));
            check_failures++;
        }
    }
    return rc;
}

static rs_status do_group(void *arg)
{
    (void)arg;
    rs_status rc = rs_group_begin(st);
    if (rc != RS_OK) {
        return rc;
    }
    rs_value name = rs_val_cstr("a-new-unique-name"), tag = text_val(40);
    rs_value loot = text_val(90), x = text_val(300);
    rs_value key = rs_val_cstr("new-key-0006");
    prec r1 = make_rec(900, 3), r2 = make_rec(901, 3), r3 = make_rec(7, 2);
#define GRP(call)                                                              \
    do {                                                                       \
        if ((rc = grp_step(call)) != RS_OK) {                                  \
            return rc;                                                         \
        }                                                                      \
    } while (0)
    GRP(rs_set_field(st, grp_h[0], F_NAME, &name));
    GRP(rs_set_field(st, grp_h[1], F_TAG, &tag));
    GRP(rs_set_attr(st, grp_h[2], "loot", &loot));
    GRP(rs_set_attr(st, grp_h[3], "x", &x));
    GRP(rs_del_attr(st, grp_h[4], "guild"));
    GRP(rs_remove(st, grp_h[5]));
    insert_arg a1 = {r1, RS_NULL_HANDLE}, a2 = {r2, RS_NULL_HANDLE};
    GRP(do_insert(&a1));
    GRP(rs_set_attr(st, a1.h, "loot", &loot));
    GRP(do_insert(&a2));
    GRP(rs_set_field(st, grp_h[6], F_UID, &key));
    GRP(rs_remove(st, grp_h[7]));
    insert_arg a3 = {r3, RS_NULL_HANDLE}; /* grp_h[7]'s uid and name */
    GRP(do_insert(&a3));
#undef GRP
    return rs_group_commit(st);
}

static void test_group_rollback(void)
{
    open_dyn_player();
    init_text();
    for (long i = 0; i < 12; i++) {
        prec r = make_rec(i, 2);
        grp_h[i] = insert_plain(&r);
        edict ed;
        memset(&ed, 0, sizeof ed);
        bind_plain(grp_h[i], &ed, "x", rs_val_int(i));
        bind_plain(grp_h[i], &ed, "guild", text_val(20 + (size_t)i));
        bind_plain(grp_h[i], &ed, "vip", rs_val_bool(i % 2 == 0));
    }
    snapshot before = take();
    long k = 1, failures = 0;
    for (;; k++) {
        alloc_check_arm(&fa, k);
        fa.fail_rest = true;
        rs_status rc = do_group(NULL);
        long failed = fa.n_failed;
        alloc_check_disarm(&fa);
        check_accounting("group");
        if (rc == RS_OK) {
            CHECK_EQ(failed, 0);
            break;
        }
        failures++;
        if (rc != RS_ENOMEM) {
            fprintf(stderr, "group, failing from allocation %ld: %s (%s)\n", k,
                    rs_status_name(rc), rs_errmsg(st));
            check_failures++;
            break;
        }
        snapshot after = take();
        if (after.digest != before.digest || after.count != before.count) {
            fprintf(stderr,
                    "group, failing from allocation %ld: the "
                    "rollback left other content\n",
                    k);
            check_failures++;
        }
        rs_status chk = rs__store_check(st);
        if (chk != RS_OK) {
            fprintf(stderr,
                    "group, failing from allocation %ld: "
                    "rs__store_check returned %s\n",
                    k, rs_status_name(chk));
            check_failures++;
        }
        for (int i = 0; i < 12; i++) {
            CHECK_OK(st, rs_check(st, grp_h[i]));
        }
        if (k > 2000) {
            break;
        }
    }
    printf("  group: %ld failure points, each rolled back without memory\n",
           failures);
    CHECK(failures >= 5);
    CHECK_EQ(rs_count(player), before.count + 1);
    n_classes = 0;
    close_store();
}

/* A group that takes many keys out and puts many others in rebuilds the
 * index segments under it (purges, merges, splits); its rollback, with
 * every allocation failing, must still find room for every key it puts
 * back.  Rounds vary the order (all out then all in, or interleaved), add
 * key changes, and end by rs_group_abort() or by an insert that fails part
 * way.  Before the indexes kept room for a group's keys (rs__index_hold),
 * records were lost here under one hash seed in five or so: the rounds run
 * under four seeds that lost them, then under this run's own. */
static void test_group_rebuilt_index(void)
{
    enum { N = 1500 };
    static rs_handle hs[N];
    static const char *const seeds[] = {
        "4772395367473857603", "9585714335558477095", "14303796741430825982",
        "13554726575067841255", NULL};
    const char *own = getenv("RS_TEST_HASH_SEED");
    char own_copy[32] = "";
    if (own != NULL) {
        snprintf(own_copy, sizeof own_copy, "%s", own);
    }
    for (int round = 0; round < 12 * 5; round++) {
        const char *seed = seeds[round / 12];
        if (seed != NULL) {
            setenv("RS_TEST_HASH_SEED", seed, 1);
        } else if (own != NULL) {
            setenv("RS_TEST_HASH_SEED", own_copy, 1);
        } else {
            unsetenv("RS_TEST_HASH_SEED");
        }
        open_player();
        classes[0] = player;
        n_classes = 1;
        for (long i = 0; i < N; i++) {
            prec r = make_rec(i, 1);
            hs[i] = insert_plain(&r);
        }
        snapshot before = take();
        CHECK_OK(st, rs_group_begin(st));
        int pat = round % 12;
        bool fail_inside = pat >= 6;
        long next = 20000 + pat * 3000, keep = 2 + pat % 3;
        for (long i = 0; i < N; i++) {
            if (i % keep == 0) {
                continue;
            }
            CHECK_OK(st, rs_remove(st, hs[i]));
            if (pat % 2 == 1) { /* interleaved */
                prec r = make_rec(next++, 2);
                insert_plain(&r);
            }
        }
        if (pat % 3 == 2) {
            /* Key changes: the old key out, a new one in, by rs_set_field. */
            for (long i = 0; i < N; i += keep * 2) {
                prec r = make_rec(next++, 3);
                rs_value v = rs_val_cstr(r.uid);
                CHECK_OK(st, rs_set_field(st, hs[i], 0, &v));
            }
        }
        if (fail_inside) {
            /* Inserts until one fails for memory, which rolls the group
             * back with every allocation failing. */
            alloc_check_arm(&fa, 3 + pat * 7);
            fa.fail_rest = true;
            rs_status rc = RS_OK;
            for (long i = 0; i < N && rc == RS_OK; i++) {
                insert_arg a = {make_rec(next++, 2), RS_NULL_HANDLE};
                rc = do_insert(&a);
            }
            CHECK_EQ(rc, RS_ENOMEM);
            rs_group_abort(st);
        } else {
            long more = pat % 2 == 1 ? N / 3 : N;
            for (long i = 0; i < more; i++) {
                prec r = make_rec(next++, 2);
                insert_plain(&r);
            }
            alloc_check_arm(&fa, 1);
            fa.fail_rest = true;
            rs_group_abort(st);
        }
        alloc_check_disarm(&fa);
        snapshot after = take();
        CHECK_EQ(after.count, before.count);
        CHECK(after.digest == before.digest);
        CHECK_OK(st, rs__store_check(st));
        for (long i = 0; i < N; i++) {
            CHECK_OK(st, rs_check(st, hs[i]));
            prec r = make_rec(i, 1);
            rs_value key = rs_val_cstr(r.uid);
            rs_handle h = RS_NULL_HANDLE;
            CHECK_OK(st, rs_find(st, player, 0, &key, &h));
            CHECK(h == hs[i]);
        }
        n_classes = 0;
        close_store();
    }
}

/* Random groups over one or two classes of two indexes each (a key and a
 * unique field): phases of inserts, removes (by handle and by key), key
 * and unique-field changes (by rs_set_field and by rs_set_many, whose own
 * group joins this one), with values that reuse ones the group took out;
 * then a rollback with every allocation failing, with its first ones
 * succeeding (growth inside the rollback), or started by a change that
 * fails part way.  Nothing may be lost: the content digest, every old
 * handle, every old key and unique value.  RS_FUZZ_ROUNDS and
 * RS_FUZZ_SEED choose the rounds (RS_TEST_HASH_SEED the hash seed). */
static uint64_t fz_state;
static uint64_t fz_next(void)
{
    uint64_t z = (fz_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static long fz_below(long n)
{
    return n <= 0 ? 0 : (long)(fz_next() % (uint64_t)n);
}

enum { FZ_IDS = 1 << 17, FZ_LIVE = 8192 };
typedef struct fz_class {
    rs_class *c;
    bool is_guild;
    /* used[f][id]: value id of indexed field f (0 key, 1 unique) in use */
    uint8_t used[2][FZ_IDS];
    long reuse[2][FZ_LIVE];
    long n_reuse[2];
    rs_handle live[FZ_LIVE];
    long ids[FZ_LIVE][2];
    long n_live;
    long next;
} fz_class;
static fz_class fz[2];

static rs_value fz_val(const fz_class *k, int f, long id, char *buf)
{
    if (k->is_guild && f == 0) {
        return rs_val_int(id * 7919 - 400000);
    }
    if (k->is_guild) {
        snprintf(buf, 24, "t%ld%s", id, id % 4 == 0 ? "-title" : "");
    } else if (f == 0) {
        snprintf(buf, 24, id % 3 == 0 ? "K-l-%06ld" : "u%ld", id);
    } else {
        snprintf(buf, 24, "n%ld-%.*s", id, (int)(id % 9), "xxxxxxxxx");
    }
    return rs_val_cstr(buf);
}

/* A value id for field f not in use: a removed one or a fresh one. */
static long fz_pick(fz_class *k, int f)
{
    if (k->n_reuse[f] > 0 && fz_below(3) == 0) {
        long at = fz_below(k->n_reuse[f]);
        long id = k->reuse[f][at];
        k->reuse[f][at] = k->reuse[f][--k->n_reuse[f]];
        if (!k->used[f][id]) {
            return id;
        }
    }
    return k->next++;
}
static void fz_free_id(fz_class *k, int f, long id)
{
    k->used[f][id] = 0;
    if (k->n_reuse[f] < FZ_LIVE) {
        k->reuse[f][k->n_reuse[f]++] = id;
    }
}

static rs_status fz_insert(fz_class *k)
{
    if (k->n_live >= FZ_LIVE || k->next >= FZ_IDS - 1) {
        return RS_OK;
    }
    long a = fz_pick(k, 0), b = fz_pick(k, 1);
    char ba[24], bb[24];
    rs_value va = fz_val(k, 0, a, ba), vb = fz_val(k, 1, b, bb);
    rs_handle h = RS_NULL_HANDLE;
    rs_status rc;
    if (k->is_guild) {
        rs_named v[] = {{"gid", va}, {"title", vb}};
        rc = rs_insert(st, k->c, v, 2, &h);
    } else {
        prec r = make_rec(a, 0);
        rs_named v[] = {{"uid", va},
                        {"name", vb},
                        {"stat", rs_val_uint(r.stat)},
                        {"level", rs_val_uint(r.level)},
                        {"score", rs_val_int(r.score)},
                        {"ratio", rs_val_f64(r.ratio)},
                        {"flag", rs_val_bool(r.flag)},
                        {"tag", rs_val_cstr(r.tag)}};
        rc = rs_insert(st, k->c, v, NF, &h);
    }
    if (rc == RS_OK) {
        k->used[0][a] = k->used[1][b] = 1;
        k->live[k->n_live] = h;
        k->ids[k->n_live][0] = a;
        k->ids[k->n_live][1] = b;
        k->n_live++;
    } else {
        fz_free_id(k, 0, a);
        fz_free_id(k, 1, b);
    }
    return rc;
}

static rs_status fz_remove(fz_class *k)
{
    if (k->n_live == 0) {
        return RS_OK;
    }
    long at = fz_below(k->n_live);
    rs_status rc;
    if (fz_below(4) == 0 && !k->is_guild) {
        char b[24];
        rs_value v = fz_val(k, 0, k->ids[at][0], b);
        rc = rs_remove_key(st, k->c, v.v.s.ptr, v.v.s.len);
    } else {
        rc = rs_remove(st, k->live[at]);
    }
    if (rc == RS_OK) {
        fz_free_id(k, 0, k->ids[at][0]);
        fz_free_id(k, 1, k->ids[at][1]);
        k->n_live--;
        k->live[at] = k->live[k->n_live];
        k->ids[at][0] = k->ids[k->n_live][0];
        k->ids[at][1] = k->ids[k->n_live][1];
    }
    return rc;
}

/* Set field f (or, both, the key and the unique field at once). */
static rs_status fz_set(fz_class *k, int f, bool both)
{
    if (k->n_live == 0 || k->next >= FZ_IDS - 2) {
        return RS_OK;
    }
    long at = fz_below(k->n_live);
    long a = fz_pick(k, f), b = both ? fz_pick(k, 1) : 0;
    char ba[24], bb[24];
    rs_value va = fz_val(k, f, a, ba);
    rs_status rc;
    if (both) {
        rs_value vb = fz_val(k, 1, b, bb);
        rs_named v[2] = {{k->is_guild ? "gid" : "uid", va},
                         {k->is_guild ? "title" : "name", vb}};
        if (fz_below(2)) {
            rs_named t = v[0];
            v[0] = v[1];
            v[1] = t;
        }
        rc = rs_set_many(st, k->live[at], v, 2);
    } else {
        rc = rs_set_field(st, k->live[at], f, &va);
    }
    if (rc == RS_OK) {
        fz_free_id(k, f, k->ids[at][f]);
        k->used[f][a] = 1;
        k->ids[at][f] = a;
        if (both) {
            fz_free_id(k, 1, k->ids[at][1]);
            k->used[1][b] = 1;
            k->ids[at][1] = b;
        }
    } else {
        fz_free_id(k, f, a);
        if (both) {
            fz_free_id(k, 1, b);
        }
    }
    return rc;
}

/* One random change; weights w (insert, remove, set key, set unique,
 * set both) out of their sum. */
static rs_status fz_op(const int *w, int n_cls)
{
    fz_class *k = &fz[fz_below(n_cls)];
    int sum = 0;
    for (int i = 0; i < 5; i++) {
        sum += w[i];
    }
    long r = fz_below(sum);
    if ((r -= w[0]) < 0) {
        return fz_insert(k);
    }
    if ((r -= w[1]) < 0) {
        return fz_remove(k);
    }
    if ((r -= w[2]) < 0) {
        return fz_set(k, 0, false);
    }
    if ((r -= w[3]) < 0) {
        return fz_set(k, 1, false);
    }
    return fz_set(k, 0, true);
}

static void fz_random_weights(int *w)
{
    static const int presets[][5] = {
        {1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {3, 3, 1, 1, 1}, {1, 4, 0, 0, 0},
        {4, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {1, 1, 2, 2, 1},
        {2, 2, 0, 0, 0}, {0, 1, 2, 0, 1}};
    const int *p = presets[fz_below(10)];
    memcpy(w, p, 5 * sizeof *w);
}

static void test_group_index_fuzz(void)
{
    static const rs_field_def guild_defs[] = {
        {.name = "gid", .type = RS_I64, .flags = RS_FIELD_KEY},
        {.name = "title",
         .type = RS_STR,
         .max_len = 16,
         .flags = RS_FIELD_UNIQUE}};
    const char *e = getenv("RS_FUZZ_ROUNDS");
    long rounds = e ? atol(e) : 100;
    e = getenv("RS_FUZZ_SEED");
    uint64_t seed0 = e ? strtoull(e, NULL, 0) : 1;
    static rs_handle old_h[2][FZ_LIVE];
    static long old_ids[2][FZ_LIVE][2];
    long old_n[2];
    for (long round = 0; round < rounds; round++) {
        fz_state = seed0 * 1000003u + (uint64_t)round;
        memset(fz, 0, sizeof fz);
        int n_cls = 1 + (int)fz_below(2);
        open_player();
        fz[0].c = player;
        classes[0] = player;
        n_classes = n_cls;
        if (n_cls == 2) {
            CHECK_OK(st,
                     rs_class_create(st, "Guild", guild_defs, 2, 0, &fz[1].c));
            fz[1].is_guild = true;
            classes[1] = fz[1].c;
        }
        /* Before: a fill, then churn, maybe an aborted group whose
         * rollback failed every allocation (segments left full). */
        long fill = fz_below(1500);
        for (long i = 0; i < fill; i++) {
            CHECK_OK(st, fz_insert(&fz[fz_below(n_cls)]));
        }
        long churn = fz_below(3) == 0 ? fz_below(2000) : 0;
        static const int chw[5] = {1, 1, 1, 1, 0};
        for (long i = 0; i < churn; i++) {
            CHECK_OK(st, fz_op(chw, n_cls));
        }
        if (fz_below(3) == 0) {
            /* A group rolled back with every allocation failing: it may
             * leave segments with no empty bucket, which the next group
             * starts from. */
            static fz_class pre[2];
            memcpy(pre, fz, sizeof fz);
            CHECK_OK(st, rs_group_begin(st));
            int w[5];
            fz_random_weights(w);
            for (long i = fz_below(2000); i > 0; i--) {
                CHECK_OK(st, fz_op(w, n_cls));
            }
            alloc_check_arm(&fa, 1);
            fa.fail_rest = true;
            rs_group_abort(st);
            alloc_check_disarm(&fa);
            memcpy(fz, pre, sizeof fz);
            CHECK_OK(st, rs__store_check(st));
        }
        int ending = (int)fz_below(5);
        /* The model of the pre-group content. */
        for (int c = 0; c < n_cls; c++) {
            old_n[c] = fz[c].n_live;
            memcpy(old_h[c], fz[c].live, sizeof fz[c].live);
            memcpy(old_ids[c], fz[c].ids, sizeof fz[c].ids);
        }
        static fz_class saved[2];
        memcpy(saved, fz, sizeof fz);
        snapshot before = take();
        CHECK_OK(st, rs_group_begin(st));
        int phases = 1 + (int)fz_below(4);
        for (int p = 0; p < phases; p++) {
            int w[5];
            fz_random_weights(w);
            long ops = fz_below(2500);
            for (long i = 0; i < ops; i++) {
                rs_status rc = fz_op(w, n_cls);
                if (rc != RS_OK) {
                    fprintf(stderr, "round %ld: op failed %s (%s)\n", round,
                            rs_status_name(rc), rs_errmsg(st));
                    check_failures++;
                    break;
                }
            }
        }
        long k = 1 + fz_below(60);
        if (ending == 0) {
            alloc_check_arm(&fa, 1);
            fa.fail_rest = true;
            rs_group_abort(st);
        } else if (ending == 1) {
            /* Rollback with its first allocations succeeding. */
            alloc_check_arm(&fa, k);
            fa.fail_rest = true;
            rs_group_abort(st);
        } else if (ending == 2 || ending == 3) {
            /* A change fails part way (all failing after k, or just the
             * k-th): the group rolls back at once. */
            alloc_check_arm(&fa, k);
            fa.fail_rest = ending == 2;
            int w[5];
            fz_random_weights(w);
            w[0] += 1;
            rs_status rc = RS_OK;
            for (long i = 0; i < 20000 && rc == RS_OK; i++) {
                rc = fz_op(w, n_cls);
            }
            if (rc != RS_OK && rc != RS_ENOMEM) {
                fprintf(stderr, "round %ld: ending op %s (%s)\n", round,
                        rs_status_name(rc), rs_errmsg(st));
                check_failures++;
            }
            rs_group_abort(st);
        } else {
            /* rs_set_many's own group inside this one fails part way:
             * the whole group rolls back with every allocation failing. */
            alloc_check_arm(&fa, k);
            fa.fail_rest = true;
            rs_status rc = RS_OK;
            for (long i = 0; i < 20000 && rc == RS_OK; i++) {
                rc = fz_set(&fz[fz_below(n_cls)], 0, true);
            }
            rs_group_abort(st);
        }
        alloc_check_disarm(&fa);
        snapshot after = take();
        bool bad = after.count != before.count ||
                   after.digest != before.digest ||
                   rs__store_check(st) != RS_OK;
        for (int c = 0; c < n_cls && !bad; c++) {
            for (long i = 0; i < old_n[c]; i++) {
                rs_handle h = RS_NULL_HANDLE;
                char b[24];
                bad |= rs_check(st, old_h[c][i]) != RS_OK;
                for (int f = 0; f < 2; f++) {
                    rs_value v = fz_val(&fz[c], f, old_ids[c][i][f], b);
                    bad |= rs_find(st, fz[c].c, f, &v, &h) != RS_OK ||
                           h != old_h[c][i];
                }
            }
        }
        if (bad) {
            fprintf(stderr,
                    "round %ld (fuzz seed %llu, ending %d, k %ld): lost: "
                    "count %zu -> %zu, store check %s\n",
                    round, (unsigned long long)seed0, ending, k, before.count,
                    after.count, rs_status_name(rs__store_check(st)));
            check_failures++;
        }
        /* After: the store goes on (segments a rollback filled rebuild). */
        memcpy(fz, saved, sizeof fz);
        static const int after_w[5] = {3, 1, 1, 1, 1};
        for (long i = 0; i < 500 && !bad; i++) {
            CHECK_OK(st, fz_op(after_w, n_cls));
        }
        CHECK_OK(st, rs__store_check(st));
        n_classes = 0;
        close_store();
    }
}

/* A group that puts keys in and takes them out again (churn) never holds
 * more than its keys and one, and its rollback needs no more room than
 * that: the index must not grow with every key it takes out, and keep
 * that growth once the group is over.  Until segments kept the most keys
 * they held as well as the keys taken out (room_of()), 20,000 such pairs
 * over 1,500 records left the index about 25 times its size. */
static void test_group_churn_room(void)
{
    enum { N = 1500, M = 20000 };
    static rs_handle hs[N];
    for (int round = 0; round < 2; round++) {
        open_player();
        classes[0] = player;
        n_classes = 1;
        for (long i = 0; i < N; i++) {
            prec r = make_rec(i, 1);
            hs[i] = insert_plain(&r);
        }
        snapshot before = take();
        CHECK_OK(st, rs_group_begin(st));
        for (long i = 0; i < M; i++) {
            prec r = make_rec(N + i, 2);
            CHECK_OK(st, rs_remove(st, insert_plain(&r)));
            if (i % 7 == 0) { /* and a key changed back and forth */
                rs_value v = rs_val_cstr(r.uid), back;
                prec o = make_rec(i % N, 1);
                back = rs_val_cstr(o.uid);
                CHECK_OK(st, rs_set_field(st, hs[i % N], F_UID, &v));
                CHECK_OK(st, rs_set_field(st, hs[i % N], F_UID, &back));
            }
        }
        if (round == 0) {
            CHECK_OK(st, rs_group_commit(st));
        } else {
            alloc_check_arm(&fa, 1);
            fa.fail_rest = true;
            rs_group_abort(st);
            alloc_check_disarm(&fa);
        }
        snapshot after = take();
        size_t b0 = before.mem.bytes[RS_MEM_INDEXES],
               b1 = after.mem.bytes[RS_MEM_INDEXES];
        printf("  group_churn_room: index bytes %zu before, %zu after\n", b0,
               b1);
        CHECK(b1 <= 2 * b0);
        CHECK_EQ(after.count, before.count);
        CHECK(after.digest == before.digest);
        CHECK_OK(st, rs__store_check(st));
        for (long i = 0; i < N; i++) {
            prec r = make_rec(i, 1);
            rs_value key = rs_val_cstr(r.uid);
            rs_handle h = RS_NULL_HANDLE;
            CHECK_OK(st, rs_find(st, player, F_UID, &key, &h));
            CHECK(h == hs[i]);
        }
        n_classes = 0;
        close_store();
    }
}

static void test_attr_id(void)
{
    open_dyn_player();
    for (long i = 0; i < 10; i++) {
        prec r = make_rec(i, 0);
        insert_plain(&r);
    }
    reset_growth();
    static char names[40][16];
    for (long i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "attr_%ld", i);
        id_arg a = {names[i], -1};
        agrowth g0 = agrowth_now();
        char what[64];
        snprintf(what, sizeof what, "rs_attr_id(attr_%ld), a new name", i);
        if (inject(what, do_attr_id, &a) < 0) {
            break;
        }
        agrowth g1 = agrowth_now();
        count_growth(&g0, &g1, 0, 0);
        CHECK_EQ(a.id, RS_ATTR_BASE + i);
        CHECK_EQ(g1.n_names, (uint32_t)i + 1);
        CHECK_EQ(g1.n_shapes, g0.n_shapes); /* interning makes no shape */
        /* Known now: no allocation. */
        alloc_check_arm(&fa, 0);
        fa.fail_all = true;
        CHECK_EQ(rs_attr_id(st, player, names[i]), RS_ATTR_BASE + i);
        alloc_check_disarm(&fa);
    }
    CHECK(grew.name_ix >= 2 && grew.cap_names >= 2);
    print_growth("rs_attr_id of new names");
    n_classes = 0;
    close_store();
}

/* Attribute reads are documented not to allocate: run them with every
 * allocation failing. */
/* The arena reference of h's attribute block (attrs.h's page vector). */
static uint32_t block_ref(rs_handle h)
{
    uint32_t slot = (uint32_t)h;
    const rs__avec *v = &player->avecs[slot >> player->page_shift];
    uint16_t off = (uint16_t)(slot & ((1u << player->page_shift) - 1));
    for (uint32_t k = 0; k < v->n; k++) {
        if (v->e[k].off == off) {
            return v->e[k].ref;
        }
    }
    return 0;
}

static void test_attr_no_alloc(void)
{
    open_dyn_player();
    init_text();
    static rs_handle hs[60];
    for (long i = 0; i < 60; i++) {
        prec r = make_rec(i, 3);
        hs[i] = insert_plain(&r);
        rs_value v = rs_val_int(i);
        CHECK_OK(st, rs_set_attr(st, hs[i], "x", &v));
        if (i % 2) {
            v = text_val((size_t)i);
            CHECK_OK(st, rs_set_attr(st, hs[i], "guild", &v));
        }
    }
    rs_field x = rs_attr_id(st, player, "x");
    CHECK(x >= RS_ATTR_BASE);
    rs_cond c = {x, RS_LT, rs_val_int(30)};
    rs_scan *sc;
    CHECK_OK(st, rs_scan_open(st, player, &c, 1, &sc));
    alloc_check_arm(&fa, 0);
    fa.fail_all = true;
    rs_handle h;
    long seen = 0;
    while (rs_scan_next(sc, &h) == RS_OK) {
        seen++;
    }
    CHECK_EQ(seen, 30);
    for (long i = 0; i < 60; i++) {
        rs_value v;
        CHECK_OK(st, rs_get_attr(st, hs[i], "x", &v));
        CHECK(v.type == RS_I64 && v.v.i == i);
        CHECK_OK(st, rs_get_field(st, hs[i], x, &v));
        CHECK_FAIL(st, rs_get_attr(st, hs[i], "nope", &v), RS_ENOATTR,
                   "'Player' object has no attribute 'nope'");
        rs_attr items[4];
        const char *names[NF + 4];
        size_t n;
        CHECK_OK(st, rs_dict(st, hs[i], items, 4, &n));
        CHECK_EQ(n, 1 + (size_t)(i % 2));
        CHECK_OK(st, rs_dir(st, hs[i], names, NF + 4, &n));
        CHECK_EQ(n, NF + 1 + (size_t)(i % 2));
        size_t size;
        CHECK_OK(st, rs_record_size(st, hs[i], &size));
        CHECK_EQ(rs_attr_id(st, player, "guild"), x + 1);
        if (i % 3 == 0) {
            CHECK_OK(st, rs_remove(st, hs[i])); /* never allocates */
        }
    }
    CHECK_EQ(fa.n_grows, 0);
    alloc_check_disarm(&fa);
    rs_scan_close(sc);
    check_accounting("attribute reads under fail_all");
    CHECK_EQ(rs_count(player), 40);
    /* A number bound again to one of the same encoded length is written in
     * place, by name or by id: the record keeps its block (white box: the
     * page vector's entry), where a longer value takes a new one. */
    alloc_check_arm(&fa, 0);
    fa.fail_all = true;
    for (long i = 1; i < 60; i += 3) {
        uint32_t before = block_ref(hs[i]);
        rs_value v = rs_val_int(59 - i);
        CHECK_OK(st, rs_set_attr(st, hs[i], "x", &v));
        CHECK_OK(st, rs_get_field(st, hs[i], x, &v));
        CHECK(v.type == RS_I64 && v.v.i == 59 - i);
        CHECK_OK(st, rs_set_int(st, hs[i], x, i));
        CHECK_OK(st, rs_get_attr(st, hs[i], "x", &v));
        CHECK(v.type == RS_I64 && v.v.i == i);
        CHECK_EQ(block_ref(hs[i]), before);
    }
    CHECK_EQ(fa.n_grows, 0);
    alloc_check_disarm(&fa);
    uint32_t before = block_ref(hs[1]);
    CHECK_OK(st, rs_set_int(st, hs[1], x, 1000000));
    CHECK(block_ref(hs[1]) != before);
    check_accounting("attributes rebound in place under fail_all");
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

/* ------------------------------------------------------------------------ */
/* Calls composed of others (record.c)                                       */
/* ------------------------------------------------------------------------ */

typedef struct many_arg {
    rs_handle h;
    rs_named v[4];
    size_t n;
} many_arg;

static rs_status do_set_many(void *arg)
{
    many_arg *a = arg;
    return rs_set_many(st, a->h, a->v, a->n);
}

typedef struct incr_arg {
    rs_handle h;
    rs_field f;
    int64_t delta;
    bool f64;
} incr_arg;

static rs_status do_incr(void *arg)
{
    incr_arg *a = arg;
    if (a->f64) {
        return rs_incr_f64(st, a->h, a->f, (double)a->delta, NULL);
    }
    return rs_incr(st, a->h, a->f, a->delta, NULL);
}

/* rs_set_many() of a long string, a new unique name and a new attribute
 * (a group inside: its undo log, the string cell, the index, the name,
 * shape and block), and rs_incr() of attributes not bound yet: every
 * failure leaves the store as it was, and the success holds every pair. */
static void test_compound(void)
{
    open_dyn_player();
    enum { N = 40 };
    static rs_handle hs[N];
    for (long i = 0; i < N; i++) {
        prec r = make_rec(i, 0);
        hs[i] = insert_plain(&r);
    }
    points_total = 0;
    char tag[N][48], name[N][24], attr[N][16], what[96];
    for (long i = 0; i < N; i++) {
        snprintf(tag[i], sizeof tag[i], "a tag of record %ld, long enough", i);
        snprintf(name[i], sizeof name[i], "many-%ld", i);
        snprintf(attr[i], sizeof attr[i], "m%ld", i % 7);
        many_arg a = {hs[i],
                      {{"tag", rs_val_cstr(tag[i])},
                       {"name", rs_val_cstr(name[i])},
                       {attr[i], rs_val_int(i)},
                       {"level", rs_val_int(i + 2)}},
                      4};
        snprintf(what, sizeof what, "rs_set_many on record %ld", i);
        capacity_may_stay = true;
        long grows = inject(what, do_set_many, &a);
        capacity_may_stay = false;
        if (grows < 0) {
            break;
        }
        rs_value v;
        CHECK_OK(st, rs_get_attr(st, hs[i], "name", &v));
        CHECK(v.v.s.len == strlen(name[i]) &&
              memcmp(v.v.s.ptr, name[i], v.v.s.len) == 0);
        CHECK_OK(st, rs_get_attr(st, hs[i], attr[i], &v));
        CHECK_EQ(v.v.i, i);
        CHECK_OK(st, rs_get_attr(st, hs[i], "level", &v));
        CHECK_EQ(v.v.u, (uint64_t)i + 2);
    }
    long many = points_total;
    points_total = 0;
    for (long i = 0; i < N; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%ld", i % 9);
        incr_arg a = {hs[i], rs_attr_id(st, player, nm), i + 1, i % 2 == 1};
        snprintf(what, sizeof what, "rs_incr of %s on record %ld", nm, i);
        if (inject(what, do_incr, &a) < 0) {
            break;
        }
        rs_value v;
        CHECK_OK(st, rs_get_attr(st, hs[i], nm, &v));
        CHECK(a.f64 ? v.v.f == (double)(i + 1) : v.v.i == i + 1);
    }
    CHECK(many > N); /* every set_many met failures */
    CHECK(points_total > 0);
    printf("  compound: %ld failure points in rs_set_many, %ld in rs_incr\n",
           many, points_total);
    CHECK_OK(st, rs__store_check(st));
    n_classes = 0;
    close_store();
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"store_open", test_store_open},
        {"class_create", test_class_create},
        {"class_parse", test_class_parse},
        {"insert_empty", test_insert_empty},
        {"insert_growth", test_insert_growth},
        {"reserve", test_reserve},
        {"insert_after_churn", test_insert_after_churn},
        {"churn_purge_merge", test_churn_purge_merge},
        {"set_strings", test_set_strings},
        {"scan_open", test_scan_open},
        {"no_alloc_calls", test_no_alloc_calls},
        {"attr_first_bind", test_attr_first_bind},
        {"attr_vector_full", test_attr_vector_full},
        {"attr_rebind_longer", test_attr_rebind_longer},
        {"attr_insert", test_attr_insert},
        {"attr_delete", test_attr_delete},
        {"attr_id", test_attr_id},
        {"attr_no_alloc", test_attr_no_alloc},
        {"group_rollback", test_group_rollback},
        {"group_rebuilt_index", test_group_rebuilt_index},
        {"group_index_fuzz", test_group_index_fuzz},
        {"group_churn_room", test_group_churn_room},
        {"compound", test_compound},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
