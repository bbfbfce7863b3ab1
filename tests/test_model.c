/*
 * test_model.c: the randomized model test, its driver and its cases.
 *
 * A seeded stream of random operations runs on a store and, side by side, on
 * a deliberately naive model: an unordered array of records searched
 * linearly, with its own value rules (type, range, length, UTF-8), its own
 * uniqueness checks and its own scan filter, written from roster.h and not
 * from the library's code.  After every operation the test compares what can
 * be observed: the exact status (RS_OK or the error the model predicts), the
 * rs_errmsg() contract (empty after success, set after failure), rs_count(),
 * the record touched, and the accounting: rs_mem() against the counting
 * allocator and against the invariants roster.h promises (model/compare.c
 * lists them: categories that add up, rows of one width, strings bytes that
 * move exactly with the records' sizes, nothing moved by a failed call),
 * never against a copy of the arena's layout.  Every K operations and at
 * the end it compares everything: each model record found by key and by
 * name with identical fields, attributes and dir(), its rs_record_size()
 * against its row, strings and attributes, a full scan returning exactly
 * the model's set in slot order, and rs__store_check()'s walk of the
 * internal structures.  Every store is closed with every byte given back.
 *
 * The parts (model/run.h has the map): model/model.c the model, gen.c the
 * generators, compare.c the comparisons and accounting, ops.c, ops_attrs.c
 * and ops_persist.c the operations; this file the phases, runs and cases.
 *
 * The classes: two with the same fields,
 *
 *     Player {
 *         uid: str(12) key; name: str(20) unique; stat: u8 = 0;
 *         level: u16 = 1; score: i32 = -1; ratio: f64 = 0.0; flag: bool;
 *         tag: str(40) inline(7)
 *     } dynamic
 *
 * and Player2, the same but not dynamic: its records refuse undeclared
 * names like Python's __slots__ ("'Player2' object has no attribute 'y'").
 * Most operations pick Player.
 *
 * Operations: inserts (duplicate keys and names, values out of range, too
 * long, invalid UTF-8 or of the wrong type, unknown or repeated attributes,
 * the key left out, fields left to their defaults, dynamic attributes among
 * the values), removes (live, stale and made-up handles), sets by field
 * number, by name and through the typed setters (duplicates of unique
 * fields, a record's own value, values borrowed from the store), lookups by
 * key and by unique field, every getter on live and stale handles, filtered
 * scans (an AND of =, !=, <, <=, >, >=, PREFIX on numbers of every type and
 * on strings, on declared fields and on dynamic attributes, or a bad
 * condition), and scans that remove or set the record just returned, by
 * rs_scan_next(), by it with the scan reopened at rs_scan_cursor() now
 * and then, or by rs_scan_batch() from cursor to cursor; the calls front
 * ends use; and churn, a record with a fresh key inserted and removed
 * twice, where the second time must grow nothing (but index segments).
 * One call in ten that may allocate runs with one of its first allocations
 * failing: it may then fail with RS_ENOMEM where the model expected
 * success, and must have changed nothing.
 *
 * Dynamic attributes: the model keeps each record's attributes as an
 * ordered list (binding order; a rebind keeps the place, a delete removes,
 * as a Python dict does) and the store's interned names in interning order
 * (their ids are rs_attr_id()'s numbers).  Operations: bind a name (a pool
 * of 8 so shapes repeat, now and then a fresh one so they multiply, an
 * invalid one, the longest valid one), rebind with another type (integers
 * of every width, negative, u64 above INT64_MAX, floats, bools, strings of
 * 0..40 bytes, rarely long ones, invalid UTF-8, more than 65535 bytes), by
 * name or by the id of rs_attr_id() through rs_set_field(), with values
 * borrowed from the same record; delete (bound, unbound, declared); read
 * (bound, missing, through every typed getter); rs_attr_id(), rs_dir() and
 * rs_dict() with short capacities; the same on Player2, which refuses.
 *
 * Persistence (model/ops_persist.c says how each is checked): a save to a
 * file, in steps with operations between them now and then, loaded into a
 * fresh store that the run goes on with (the file must show the store as
 * it was when the save began); on a durable store, which journals every
 * change, the store closed and reopened (the journal replayed over the
 * snapshot) and compactions in steps; a load or an open now and then with
 * an allocation failing mid-build, which must leave the fresh store and
 * the files as they were.  Atomic groups of 1 to 12 operations, committed,
 * aborted or (durable) left open when the store closes: a failing change
 * or an abort rolls everything back, later changes are RS_EGROUP, and a
 * reopened durable store holds exactly what was committed.
 *
 * Keys and names come from a few thousand values, so duplicates, reuse of
 * removed keys and the empty-name default colliding are frequent; strings
 * sit on both sides of the inline limits (7 bytes for uid and tag, 15 for
 * name).  The population grows to about a thousand records and shrinks in
 * phases, so the class also goes empty and regrows.
 *
 *     test_model                      every case
 *     test_model model                the main run (seed 1), plain store
 *     test_model durable              the same on a durable store, shorter
 *     test_model seeds                more seeds, shorter, checked more
 *     test_model CASE --seed S [--ops N]
 *                                     replay seed S (N operations; a
 *                                     failure prints the exact line,
 *                                     with RS_TEST_HASH_SEED)
 *     test_model --check-every K      full comparison every K operations
 *     test_model --trace              population at each phase change
 *
 * Three fixed cases follow: a string field set to its own borrowed value,
 * a record with the most attributes (255: one more is RS_EFULL), and an
 * insert that takes an arena cell for each of 255 string fields and one
 * for its attributes.
 *
 * On the first difference it prints the seed, the step, the operation and
 * both sides, and exits 1.  A run ends with how often each call gave each
 * status, to show what it covered, and the library bugs it met that are
 * known and not fixed yet (model/run.h, MT_TOLERATE_KNOWN_BUGS).  Linked
 * with the small-page library, so a few dozen records already cross pages
 * and split index segments.
 */
#include "check.h"
#include "model/ops.h"
#include "store.h" /* rs__store_check: the structure walk */

#include <math.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_OPS 200000
#define DURABLE_OPS 40000
#define DEFAULT_CHECK_EVERY 1000

static uint64_t opt_seed = 1;
static long opt_ops = DEFAULT_OPS;
static long opt_check_every = DEFAULT_CHECK_EVERY;
static bool opt_seed_given;
static bool opt_ops_given;
static bool opt_trace;

static rs_class *cls; /* the one class of test_set_own_borrowed_value */

/* ------------------------------------------------------------------------ */
/* The run                                                                   */
/* ------------------------------------------------------------------------ */

/* Weights per phase: grow, mixed, shrink (down to empty), mixed. */
typedef struct weights {
    int insert, remove, set, set_attr, get_key, find, get_fields, scan,
        scan_modify, check, dyn_set, dyn_get, dyn_del, dyn_misc, front, churn,
        group;
} weights;

static const weights phases[4] = {
    {45, 4, 14, 6, 8, 6, 6, 5, 1, 3, 14, 6, 4, 3, 6, 1, 3},
    {26, 12, 15, 6, 8, 7, 8, 5, 2, 3, 14, 7, 6, 3, 8, 1, 3},
    {10, 35, 12, 4, 7, 5, 6, 4, 1, 3, 8, 4, 3, 2, 5, 1, 3},
    {26, 12, 15, 6, 8, 7, 8, 5, 2, 3, 14, 7, 6, 3, 8, 1, 3},
};

/* Inside a group: its changes and reads.  Not the front-end calls (which
 * of their failures roll a group back is their own business: record.c),
 * nor a scan that changes what it returns (a rollback would pull the
 * records from under it), nor another group. */
static const weights in_group = {12, 6,  10, 4, 3, 3, 3, 2, 0,
                                 2,  10, 3,  5, 2, 0, 0, 0};

/* Saves and reloads, reopens and compactions, per 100,000 operations: each
 * closes the store, so they are rarer than the rest. */
#define RELOADS 50  /* plain runs: save and load into a fresh store */
#define REOPENS 150 /* durable runs: close and replay the journal */
#define COMPACTS 75 /* durable runs: compaction in steps */

static const weights *phase_w; /* the phase running */

static void group_op(void);

static void one_op(const weights *w)
{
    int total = w->insert + w->remove + w->set + w->set_attr + w->get_key +
                w->find + w->get_fields + w->scan + w->scan_modify + w->check +
                w->dyn_set + w->dyn_get + w->dyn_del + w->dyn_misc + w->front +
                w->churn + w->group;
    int r = irand(total);
    if ((r -= w->insert) < 0) {
        op_insert();
    } else if ((r -= w->remove) < 0) {
        op_remove();
    } else if ((r -= w->set) < 0) {
        op_set(false);
    } else if ((r -= w->set_attr) < 0) {
        op_set(true);
    } else if ((r -= w->get_key) < 0) {
        op_get_key();
    } else if ((r -= w->find) < 0) {
        op_find();
    } else if ((r -= w->get_fields) < 0) {
        op_get_fields();
    } else if ((r -= w->scan) < 0) {
        op_scan(false);
    } else if ((r -= w->scan_modify) < 0) {
        op_scan(true);
    } else if ((r -= w->check) < 0) {
        op_check_handle();
    } else if ((r -= w->dyn_set) < 0) {
        op_attr_set();
    } else if ((r -= w->dyn_get) < 0) {
        op_attr_get();
    } else if ((r -= w->dyn_del) < 0) {
        op_attr_del();
    } else if ((r -= w->dyn_misc) < 0) {
        op_attr_misc();
    } else if ((r -= w->front) < 0) {
        op_front();
    } else if ((r -= w->churn) < 0) {
        op_churn();
    } else {
        op_group(group_op);
    }
}

static void group_op(void)
{
    one_op(&in_group);
}

/* Between the steps of a save: the phase's operations, but no group (a
 * group refuses saves, and the model keeps one checkpoint at a time). */
static void between_op(void)
{
    weights w = *phase_w;
    w.group = 0;
    one_op(&w);
}

static void run(uint64_t seed, long ops, long check_every, bool durable,
                bool verbose)
{
    g_seed = seed;
    g_ops = ops;
    g_check_every = check_every;
    g_step = -1;
    rng = seed;
    m_reset();
    gen_init();
    row_bytes = 0;
    snprintf(g_op, sizeof g_op, "setup");
    store_setup(durable);
    long phase_len = ops / 8 < 20000 ? ops / 8 : 20000;
    if (phase_len < 500) {
        phase_len = 500;
    }
    size_t max_live = 0;
    int empties = 0;
    for (g_step = 0; g_step < ops; g_step++) {
        g_op[0] = '\0';
        phase_w = &phases[(g_step / phase_len) % 4];
        int p = irand(100000);
        if (!durable && p < RELOADS) {
            op_reload(between_op);
        } else if (durable && p < REOPENS) {
            op_reopen();
        } else if (durable && p < REOPENS + COMPACTS) {
            op_compact(between_op);
        } else {
            one_op(phase_w);
        }
        step_checks();
        if (n_recs > max_live) {
            max_live = n_recs;
        }
        if (n_recs == 0) {
            empties++;
        }
        if (opt_trace && (g_step + 1) % phase_len == 0) {
            printf("step %ld: %zu live\n", g_step + 1, n_recs);
        }
        if ((g_step + 1) % check_every == 0) {
            g_op[0] = '\0';
            full_check("periodic");
        }
    }
    snprintf(g_op, sizeof g_op, "end of run");
    full_check("end");
    rs_mem_report m = mem_now();
    store_teardown();
    printf("seed %" PRIu64 ": %ld operations%s, up to %zu live records, "
           "empty %d times (row %zu bytes; inline up to uid %zu, name %zu, "
           "tag %zu)\n",
           seed, ops, durable ? " on a durable store" : "", max_live, empties,
           row_bytes, inline_max[F_UID], inline_max[F_NAME], inline_max[F_TAG]);
    printf("  attributes: %zu names, %zu shapes at the end, up to %u on a "
           "record\n",
           m.n_attr_names, m.n_shapes, m_max_attrs);
    if (verbose) {
        print_tally();
    }
    known_bugs_report();
    tally_reset();
    m_reset();
}

/* Set a string field to its own current value, borrowed from the store
 * with rs_get_str(): the value is "copied" on the way in, so the record
 * must keep it, inline (up to 7 bytes) or out of line.  The same for a
 * value borrowed from another field of the same record. */
static void test_set_own_borrowed_value(void)
{
    snprintf(g_op, sizeof g_op, "set_own_borrowed_value");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(alloc_check_fn, &g_alloc, &g_st));
    CHECK_OK(g_st, rs_class_create(g_st, "Player", defs, NF, 0, &cls));
    static const char *const tags[] = {
        "",
        "abc",
        "abcdefg",
        "abcdefgh",
        "fifteen-bytes-x",
        "sixteen-bytes-xx",
        "a-tag-of-twenty-byte",
        "forty-bytes-of-tag-forty-bytes-of-tag-40"};
    for (int t = 0; t < 8; t++) {
        for (int api = 0; api < 3; api++) {
            char uid[16];
            snprintf(uid, sizeof uid, "u%d-%d", t, api);
            rs_named v[] = {{"uid", str_val(uid)},
                            {"name", str_val(uid)},
                            {"tag", str_val(tags[t])}};
            rs_handle h = RS_NULL_HANDLE;
            CHECK_OK(g_st, rs_insert(g_st, cls, v, 3, &h));
            const char *p = NULL;
            size_t len = 0;
            CHECK_OK(g_st, rs_get_str(g_st, h, F_TAG, &p, &len));
            rs_value own = rs_val_str(p, len);
            if (api == 0) {
                CHECK_OK(g_st, rs_set_str(g_st, h, F_TAG, p, len));
            } else if (api == 1) {
                CHECK_OK(g_st, rs_set_field(g_st, h, F_TAG, &own));
            } else {
                CHECK_OK(g_st, rs_set_attr(g_st, h, "tag", &own));
            }
            CHECK_OK(g_st, rs_get_str(g_st, h, F_TAG, &p, &len));
            if (len != strlen(tags[t]) || memcmp(p, tags[t], len) != 0) {
                char got[256], want[256];
                fmt_str(got, sizeof got, p, len);
                fmt_str(want, sizeof want, tags[t], strlen(tags[t]));
                fprintf(stderr,
                        "%s:%d: tag set to its own borrowed value (%zu "
                        "bytes, %s): store has %s, expected %s\n",
                        __FILE__, __LINE__, strlen(tags[t]),
                        api == 0   ? "rs_set_str"
                        : api == 1 ? "rs_set_field"
                                   : "rs_set_attr",
                        got, want);
                check_failures++;
            }
        }
    }
    /* Another field of the same record: tag = name. */
    rs_named v[] = {{"uid", str_val("x")},
                    {"name", str_val("a-name-past-seven")}};
    rs_handle h = RS_NULL_HANDLE;
    CHECK_OK(g_st, rs_insert(g_st, cls, v, 2, &h));
    const char *p = NULL;
    size_t len = 0;
    CHECK_OK(g_st, rs_get_str(g_st, h, F_NAME, &p, &len));
    CHECK_OK(g_st, rs_set_str(g_st, h, F_TAG, p, len));
    CHECK_OK(g_st, rs_get_str(g_st, h, F_TAG, &p, &len));
    CHECK(len == 17 && memcmp(p, "a-name-past-seven", 17) == 0);
    CHECK_OK(g_st, rs__store_check(g_st));
    rs_store_close(g_st);
    g_st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

/* The most attributes a record may have (roster.h: 255): one more is
 * RS_EFULL and changes nothing, by rs_set_attr() and by rs_insert();
 * rebinding and deleting still work. */
static void test_attrs_full(void)
{
    snprintf(g_op, sizeof g_op, "attrs_full");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(alloc_check_fn, &g_alloc, &g_st));
    rs_class *c = NULL;
    CHECK_OK(g_st,
             rs_class_create(g_st, "Player", defs, NF, RS_CLASS_DYNAMIC, &c));
    static char names[ATTRS_PER_RECORD + 1][16];
    for (int k = 0; k <= ATTRS_PER_RECORD; k++) {
        snprintf(names[k], sizeof names[k], "a%d", k);
    }
    rs_named key[] = {{"uid", str_val("full")}};
    rs_handle h = RS_NULL_HANDLE;
    CHECK_OK(g_st, rs_insert(g_st, c, key, 1, &h));
    for (int k = 0; k < ATTRS_PER_RECORD; k++) {
        rs_value v = rs_val_int(k);
        CHECK_OK(g_st, rs_set_attr(g_st, h, names[k], &v));
    }
    rs_mem_report m0, m1;
    rs_mem(g_st, &m0);
    rs_value v = rs_val_int(-1);
    CHECK_FAIL(g_st, rs_set_attr(g_st, h, names[ATTRS_PER_RECORD], &v),
               RS_EFULL, "more than 255");
    rs_field f = rs_attr_id(g_st, c, names[ATTRS_PER_RECORD]);
    rs_mem(g_st, &m0); /* the id interned the name */
    CHECK_FAIL(g_st, rs_set_field(g_st, h, f, &v), RS_EFULL, "more than 255");
    static rs_named vals[ATTRS_PER_RECORD + 3];
    vals[0] = (rs_named){"uid", str_val("full2")};
    vals[1] = (rs_named){"name", str_val("full2")};
    for (int k = 0; k <= ATTRS_PER_RECORD; k++) {
        vals[k + 2] = (rs_named){names[k], rs_val_bool(k % 2 == 0)};
    }
    CHECK_FAIL(g_st, rs_insert(g_st, c, vals, ATTRS_PER_RECORD + 3, NULL),
               RS_EFULL, "more than 255");
    rs_mem(g_st, &m1);
    CHECK_EQ(m1.total, m0.total);
    CHECK_EQ(m1.n_allocs, m0.n_allocs);
    CHECK_EQ(m1.bytes[RS_MEM_ATTRS], m0.bytes[RS_MEM_ATTRS]);
    CHECK_EQ(m1.n_attr_names, m0.n_attr_names);
    CHECK_EQ(m1.n_shapes, m0.n_shapes);
    /* 255 by insert is fine. */
    CHECK_OK(g_st, rs_insert(g_st, c, vals, ATTRS_PER_RECORD + 2, NULL));
    /* Rebind in place, delete the first, bind the one refused. */
    CHECK_OK(g_st, rs_set_attr(g_st, h, names[7], &v));
    CHECK_OK(g_st, rs_del_attr(g_st, h, names[0]));
    CHECK_OK(g_st, rs_set_field(g_st, h, f, &v));
    static rs_attr items[ATTRS_PER_RECORD + 1];
    size_t n = 0;
    CHECK_OK(g_st, rs_dict(g_st, h, items, ATTRS_PER_RECORD + 1, &n));
    CHECK_EQ(n, ATTRS_PER_RECORD);
    for (size_t k = 0; k < n && k < ATTRS_PER_RECORD; k++) {
        int64_t want =
            k + 1 == 7 || k + 1 == ATTRS_PER_RECORD ? -1 : (int64_t)k + 1;
        if (strcmp(items[k].name, names[k + 1]) != 0 ||
            items[k].val.type != RS_I64 || items[k].val.v.i != want) {
            fprintf(stderr,
                    "%s:%d: item %zu is %s, expected %s = %" PRId64 "\n",
                    __FILE__, __LINE__, k, items[k].name, names[k + 1], want);
            check_failures++;
            break;
        }
    }
    CHECK_OK(g_st, rs__store_check(g_st));
    rs_store_close(g_st);
    g_st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

/* An insert into a class of 255 string fields, each given a value too
 * long to be inline (and not digits, which would be packed), and a
 * dynamic attribute: 256 arena cells reserved by one operation.  The
 * string arena logs each cell an operation takes, to give it back on
 * failure (strs.h: rs__strs.log[RS_MAX_FIELDS]). */
static void test_wide_record_attrs(void)
{
    snprintf(g_op, sizeof g_op, "wide_record_attrs");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(alloc_check_fn, &g_alloc, &g_st));
    static rs_field_def wide[RS_MAX_FIELDS];
    static char names[RS_MAX_FIELDS][8];
    for (int f = 0; f < RS_MAX_FIELDS; f++) {
        snprintf(names[f], sizeof names[f], "f%d", f);
        wide[f] = (rs_field_def){.name = names[f],
                                 .type = RS_STR,
                                 .max_len = 16,
                                 .inline_len = 7,
                                 .flags = f == 0 ? RS_FIELD_KEY : 0u};
    }
    rs_class *c = NULL;
    CHECK_OK(g_st, rs_class_create(g_st, "Wide", wide, RS_MAX_FIELDS,
                                   RS_CLASS_DYNAMIC, &c));
    static char big[101];
    memset(big, 'q', 100);
    for (int r = 0; r < 2 && c; r++) {
        static rs_named vals[RS_MAX_FIELDS + 1];
        for (int f = 0; f < RS_MAX_FIELDS; f++) {
            vals[f] = (rs_named){
                names[f], str_val(r ? "out-of-line-b" : "out-of-line-a")};
        }
        vals[RS_MAX_FIELDS] =
            (rs_named){"x", rs_val_str(big, (size_t)(100 - r))};
        rs_handle h = RS_NULL_HANDLE;
        CHECK_OK(g_st, rs_insert(g_st, c, vals, RS_MAX_FIELDS + 1, &h));
        rs_attr items[2];
        size_t n = 0;
        CHECK_OK(g_st, rs_dict(g_st, h, items, 2, &n));
        CHECK(n == 1 && strcmp(items[0].name, "x") == 0 &&
              items[0].val.type == RS_STR &&
              items[0].val.v.s.len == (size_t)(100 - r));
        const char *p = NULL;
        size_t len = 0;
        CHECK_OK(g_st, rs_get_str(g_st, h, RS_MAX_FIELDS - 1, &p, &len));
        CHECK(len == 13 &&
              memcmp(p, r ? "out-of-line-b" : "out-of-line-a", 13) == 0);
        CHECK_OK(g_st, rs__store_check(g_st));
    }
    rs_store_close(g_st);
    g_st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

static void test_model(void)
{
    g_case = "model";
    run(opt_seed, opt_ops, opt_check_every, false, true);
}

/* The same on a durable store, shorter: every change is journaled, and the
 * store is closed and reopened (the journal replayed) and compacted. */
static void test_durable(void)
{
    g_case = "durable";
    run(opt_seed, opt_ops_given ? opt_ops : DURABLE_OPS, opt_check_every, true,
        true);
}

/* Other seeds, shorter, with the full comparison more often. */
static void test_seeds(void)
{
    g_case = "model";
    for (uint64_t s = 2; s <= 6; s++) {
        run(s, 20000, 250, false, false);
    }
    g_case = "durable";
    for (uint64_t s = 2; s <= 3; s++) {
        run(s, 10000, 250, true, false);
    }
}

/* 64 bits from the system, for the stores' hash seed. */
static uint64_t system_random(void)
{
    uint64_t v = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(&v, sizeof v, 1, f) != 1) {
        uint64_t now = (uint64_t)time(NULL), pid = (uint64_t)getpid();
        v = now * UINT64_C(0x9E3779B97F4A7C15) ^ pid;
    }
    if (f != NULL) {
        fclose(f);
    }
    return v;
}

int main(int argc, char **argv)
{
    /* Where keys fall depends on the stores' hash seed, which each store
     * draws at random (index.c), and that decides which allocation an
     * injected failure hits.  Fix it for the whole process (test builds
     * read RS_TEST_HASH_SEED) so that the replay line fail() prints, which
     * names it, runs exactly the same operations again. */
    if (getenv("RS_TEST_HASH_SEED") == NULL) {
        char hs[32];
        snprintf(hs, sizeof hs, "0x%016" PRIx64, system_random());
        setenv("RS_TEST_HASH_SEED", hs, 1);
    }
    static const check_case cases[] = {
        {"model", test_model},
        {"durable", test_durable},
        {"seeds", test_seeds},
        {"set_own_borrowed_value", test_set_own_borrowed_value},
        {"attrs_full", test_attrs_full},
        {"wide_record_attrs", test_wide_record_attrs},
        {NULL, NULL},
    };
    char *rest[4] = {argv[0], NULL, NULL, NULL};
    int n_rest = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            opt_seed = strtoull(argv[++i], NULL, 10);
            opt_seed_given = true;
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            opt_ops = strtol(argv[++i], NULL, 10);
            opt_seed_given = opt_ops_given = true;
        } else if (strcmp(argv[i], "--trace") == 0) {
            opt_trace = true;
        } else if (strcmp(argv[i], "--check-every") == 0 && i + 1 < argc) {
            opt_check_every = strtol(argv[++i], NULL, 10);
        } else if (n_rest < 2) {
            rest[n_rest++] = argv[i];
        } else {
            fprintf(stderr,
                    "usage: %s [case] [--seed S] [--ops N] "
                    "[--check-every K] [--trace]\n",
                    argv[0]);
            return 2;
        }
    }
    if (opt_ops < 1 || opt_check_every < 1) {
        fprintf(stderr, "--ops and --check-every take a positive number\n");
        return 2;
    }
    if (opt_seed_given && n_rest == 1) {
        rest[n_rest++] = "model"; /* a replay runs just that seed */
    }
    dir_make();
    return check_main(n_rest, rest, cases);
}
