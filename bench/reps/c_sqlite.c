/* c_sqlite.c: the "sqlite" baseline of `roster bench` (see PROTOCOL.md).
 *
 * The players in an in-memory SQLite database, driven through the C API the
 * way a competent programmer uses it for bulk work in one process:
 *
 *     CREATE TABLE player(uid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
 *                         stat INTEGER, level INTEGER, extras TEXT)
 *     WITHOUT ROWID
 *
 * - WITHOUT ROWID makes the table itself the B-tree on uid (no separate
 *   rowid table plus uid index); UNIQUE on name is SQLite's automatic index
 *   (name -> uid), so a lookup by name is an index probe and then a probe of
 *   the table by uid.  Extras stay the canonical "key=value;..." text in one
 *   column (NULL for a player without): a schema cannot have columns for
 *   attributes nobody declared, and text in a column is what people do.
 * - Every statement is prepared once and reused (bind, step, reset); text is
 *   bound SQLITE_STATIC (the harness's buffers outlive each step; SQLite
 *   copies the bytes into its pages anyway).
 * - The connection is opened with SQLITE_OPEN_NOMUTEX, since one thread uses
 *   it; everything else is SQLite's default (page size, cache, the MEMORY
 *   journal of an in-memory database, memory statistics on).
 * - Transactions: the load is one transaction; each churn round is one
 *   transaction of DELETEs and INSERTs.  The update phase and attr_set are
 *   also each one transaction, as a batch job would write them;
 *   update_autocommit_ns (in the JSON) repeats the update phase with one
 *   implicit transaction per UPDATE, writing the same values, so the rest of
 *   the run is not affected.
 * - Lookups: SELECT level ... WHERE uid=? / WHERE name=?; update: UPDATE
 *   player SET level=? WHERE uid=?; scan: SELECT count(*) FROM player WHERE
 *   stat=1 AND level>=50 (a full scan: there is no index to help, and there
 *   should not be one for a flag and a level).
 * - attr_get: SELECT extras WHERE uid=?, then parse the first key=value in
 *   C.  attr_set: read the extras, rewrite them in C with vip=<new value>
 *   (replacing vip's value if present, appending it otherwise), and UPDATE
 *   player SET extras=? WHERE uid=?.
 * - The handle a program holds for a player is its primary key, the uid
 *   (the harness keeps each slot's current uid in an array it fills before
 *   RSS0).
 * - Checksum: one SELECT uid, name, stat, level, extras FROM player ORDER
 *   BY uid (the table's own order), the extras counted from the text.
 *
 * accounted_bytes_per_player is sqlite3_memory_used() after the load minus
 * before, per player; sqlite_version is sqlite3_libversion().
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wconversion
 *        -Wmissing-prototypes -Werror -D_POSIX_C_SOURCE=200809L
 *        -Ibench/reps bench/reps/c_sqlite.c -o c_sqlite -lsqlite3
 */
#include "common.h"

#include <sqlite3.h>

static sqlite3 *db;

static void fail(const char *what)
{
    bench_die("sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

static void exec(const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        bench_die("sqlite: %s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
        SQLITE_OK)
        fail(sql);
    return s;
}

static void bind_text(sqlite3_stmt *s, int col, const char *t, size_t len)
{
    if (sqlite3_bind_text(s, col, t, (int)len, SQLITE_STATIC) != SQLITE_OK)
        fail("bind");
}

static void bind_int(sqlite3_stmt *s, int col, int64_t v)
{
    if (sqlite3_bind_int64(s, col, (sqlite3_int64)v) != SQLITE_OK)
        fail("bind");
}

/* Runs a statement that returns no row, then resets it. */
static void step_done(sqlite3_stmt *s, const char *what)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        fail(what);
    sqlite3_reset(s);
}

/* ---- the player table ---------------------------------------------------- */

static sqlite3_stmt *st_insert, *st_delete, *st_by_uid, *st_by_name,
    *st_update, *st_scan, *st_extras, *st_set_extras;

static void insert_player(const char *uid, size_t ulen, const char *name,
                          size_t nlen, unsigned stat, unsigned level,
                          const char *extras, size_t elen)
{
    bind_text(st_insert, 1, uid, ulen);
    bind_text(st_insert, 2, name, nlen);
    bind_int(st_insert, 3, stat);
    bind_int(st_insert, 4, level);
    if (elen)
        bind_text(st_insert, 5, extras, elen);
    else if (sqlite3_bind_null(st_insert, 5) != SQLITE_OK)
        fail("bind");
    step_done(st_insert, "insert");
}

static void set_level(const char *uid, size_t ulen, unsigned level)
{
    bind_int(st_update, 1, level);
    bind_text(st_update, 2, uid, ulen);
    step_done(st_update, "update");
    if (sqlite3_changes(db) != 1)
        bench_die("sqlite: update of uid %s changed no row", uid);
}

/* Rewrites "k=v;..." with vip=<v>: vip's value replaced where it is, or
 * "vip=<v>" appended.  Returns the new length (out has room for len + 32). */
static size_t extras_with_vip(const char *s, size_t len, unsigned v, char *out)
{
    char val[24];
    int vl = snprintf(val, sizeof val, "%u", v);
    size_t o = 0, start = 0;
    int done = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ';')
            continue;
        const char *kv = s + start;
        size_t kvlen = i - start;
        start = i + 1;
        if (o)
            out[o++] = ';';
        if (!done && kvlen >= 4 && memcmp(kv, "vip=", 4) == 0) {
            memcpy(out + o, "vip=", 4);
            memcpy(out + o + 4, val, (size_t)vl);
            o += 4 + (size_t)vl;
            done = 1;
        } else {
            memcpy(out + o, kv, kvlen);
            o += kvlen;
        }
    }
    if (!done) {
        if (o)
            out[o++] = ';';
        memcpy(out + o, "vip=", 4);
        memcpy(out + o + 4, val, (size_t)vl);
        o += 4 + (size_t)vl;
    }
    out[o] = '\0';
    return o;
}

/* ---- the benchmark ----------------------------------------------------------- */

enum { UID_CAP = 24 };

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, &a);
    bench_input in;
    bench_read_tsv(a.file, &in);
    const size_t n = in.n;
    const size_t k20 = n / 5;
    if (n > (size_t)INT32_MAX)
        bench_die("sqlite: too many players");

    /* Harness arrays: allocated and written before RSS0.  A player's handle
     * is its uid (the primary key): hs + i * UID_CAP holds slot i's. */
    char *hs = bench_alloc_touched(n, UID_CAP);
    uint32_t *perm = bench_alloc_touched(n, sizeof *perm);
    uint32_t *live = bench_alloc_touched(n, sizeof *live);
    char *xbuf = bench_alloc_touched(in.max_extras_len + 64, 1);
    for (size_t i = 0; i < n; i++) {
        if (in.p[i].uid_len >= UID_CAP)
            bench_die("sqlite: uid %s too long", in.p[i].uid);
        memcpy(hs + i * UID_CAP, in.p[i].uid, in.p[i].uid_len + 1);
        live[i] = (uint32_t)i;
    }
    bench_rng rng = bench_rng_seed(a.seed);
    bench_permutation(perm, n, &rng);
    bench_keys uids, names;
    bench_keys_make(&uids, &in, perm, BENCH_KEY_UID);
    bench_keys_make(&names, &in, perm, BENCH_KEY_NAME);

    bench_result r;
    bench_result_init(&r, "sqlite");
    r.players = n;
    uint64_t sink = 0;

    /* The library is initialised and the empty database made before RSS0:
     * what is measured is what the players cost. */
    if (sqlite3_open_v2(":memory:", &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        fail("open");
    exec("CREATE TABLE player(uid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
         " stat INTEGER, level INTEGER, extras TEXT) WITHOUT ROWID");
    st_insert = prepare("INSERT INTO player(uid, name, stat, level, extras)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)");
    st_delete = prepare("DELETE FROM player WHERE uid = ?1");
    st_by_uid = prepare("SELECT level FROM player WHERE uid = ?1");
    st_by_name = prepare("SELECT level FROM player WHERE name = ?1");
    st_update = prepare("UPDATE player SET level = ?1 WHERE uid = ?2");
    st_scan = prepare("SELECT count(*) FROM player WHERE stat = 1 AND"
                      " level >= 50");
    st_extras = prepare("SELECT extras FROM player WHERE uid = ?1");
    st_set_extras = prepare("UPDATE player SET extras = ?1 WHERE uid = ?2");
    sqlite3_stmt *st_all = prepare("SELECT uid, name, stat, level, extras"
                                   " FROM player ORDER BY uid");

    /* 1. load: one transaction */
    sqlite3_int64 mem0 = sqlite3_memory_used();
    size_t rss0 = bench_rss_bytes();
    uint64_t t0 = bench_now_ns();
    exec("BEGIN");
    for (size_t i = 0; i < n; i++) {
        const bench_player *p = &in.p[i];
        insert_player(p->uid, p->uid_len, p->name, p->name_len, p->stat,
                      p->level, p->extras, p->extras_len);
    }
    exec("COMMIT");
    r.insert_ns = (double)(bench_now_ns() - t0) / (double)n;
    size_t rss1 = bench_rss_bytes();
    r.bytes_per_player = ((double)rss1 - (double)rss0) / (double)n;
    double accounted = (double)(sqlite3_memory_used() - mem0) / (double)n;

    /* checksum: read back from the table in uid order */
    uint64_t sum = 0;
    size_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(st_all)) == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st_all, 0);
        size_t ulen = (size_t)sqlite3_column_bytes(st_all, 0);
        const char *nm = (const char *)sqlite3_column_text(st_all, 1);
        size_t nlen = (size_t)sqlite3_column_bytes(st_all, 1);
        sqlite3_int64 stat = sqlite3_column_int64(st_all, 2);
        sqlite3_int64 level = sqlite3_column_int64(st_all, 3);
        const char *x = (const char *)sqlite3_column_text(st_all, 4);
        size_t xlen = x ? (size_t)sqlite3_column_bytes(st_all, 4) : 0;
        if (!u || !nm)
            fail("read back");
        sum += bench_checksum_term(u, ulen, nm, nlen, (uint64_t)stat,
                                   (uint64_t)level,
                                   bench_count_extras(x ? x : "", xlen));
        rows++;
    }
    if (rc != SQLITE_DONE)
        fail("read back");
    sqlite3_reset(st_all);
    if (rows != n)
        bench_die("sqlite: %zu rows read back, expected %zu", rows, n);
    r.checksum = sum;

    /* 2. get by uid, 3. get by name: random order, reading level */
    for (int which = 0; which < 2; which++) {
        const bench_keys *ks = which == 0 ? &uids : &names;
        sqlite3_stmt *s = which == 0 ? st_by_uid : st_by_name;
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            size_t len;
            const char *key = bench_key(ks, k, &len);
            bind_text(s, 1, key, len);
            if (sqlite3_step(s) != SQLITE_ROW)
                bench_die("sqlite: %s %s not found (%s)",
                          which == 0 ? "uid" : "name", key,
                          sqlite3_errmsg(db));
            sink += (uint64_t)sqlite3_column_int64(s, 0);
            sqlite3_reset(s);
        }
        double ns = (double)(bench_now_ns() - t0) / (double)n;
        if (which == 0)
            r.get_uid_ns = ns;
        else
            r.get_name_ns = ns;
    }
    bench_keys_free(&uids);
    bench_keys_free(&names);

    /* 4. update level by uid (the handle), random order, one transaction */
    t0 = bench_now_ns();
    exec("BEGIN");
    for (size_t k = 0; k < n; k++) {
        const char *u = hs + (size_t)perm[k] * UID_CAP;
        set_level(u, in.p[perm[k]].uid_len, bench_update_level(k));
    }
    exec("COMMIT");
    r.update_ns = (double)(bench_now_ns() - t0) / (double)n;
    /* the same writes again, one implicit transaction each (reported apart) */
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        const char *u = hs + (size_t)perm[k] * UID_CAP;
        set_level(u, in.p[perm[k]].uid_len, bench_update_level(k));
    }
    double update_autocommit_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 5. scan */
    t0 = bench_now_ns();
    if (sqlite3_step(st_scan) != SQLITE_ROW)
        fail("scan");
    size_t scan_count = (size_t)sqlite3_column_int64(st_scan, 0);
    sqlite3_reset(st_scan);
    r.scan_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 6. attributes: the first extra of every player who has any, parsed
     * from the column; then vip rewritten into the text (one transaction) */
    size_t m = in.n_with_extras;
    if (m) {
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            const bench_player *p = &in.p[perm[k]];
            if (!p->extras_len)
                continue;
            bind_text(st_extras, 1, hs + (size_t)perm[k] * UID_CAP,
                      p->uid_len);
            if (sqlite3_step(st_extras) != SQLITE_ROW)
                fail("attr get");
            const char *x = (const char *)sqlite3_column_text(st_extras, 0);
            size_t xlen = x ? (size_t)sqlite3_column_bytes(st_extras, 0) : 0;
            size_t klen;
            const char *key = bench_first_key(x ? x : "", xlen, &klen);
            if (klen == 0 || klen >= xlen || key[klen] != '=')
                bench_die("sqlite: no extra for uid %s", p->uid);
            const char *v = key + klen + 1;
            const char *end = memchr(v, ';', xlen - klen - 1);
            size_t vlen = end ? (size_t)(end - v) : xlen - klen - 1;
            /* the value: an integer where the text is one, else its bytes */
            uint64_t num = 0;
            int digits = vlen > 0;
            for (size_t i = 0; i < vlen && digits; i++) {
                digits = v[i] >= '0' && v[i] <= '9';
                num = num * 10 + (uint64_t)(v[i] - '0');
            }
            sink += digits ? num : vlen;
            sqlite3_reset(st_extras);
        }
        r.attr_get_ns = (double)(bench_now_ns() - t0) / (double)m;

        size_t j = 0;
        t0 = bench_now_ns();
        exec("BEGIN");
        for (size_t k = 0; k < n; k++) {
            const bench_player *p = &in.p[perm[k]];
            if (!p->extras_len)
                continue;
            const char *u = hs + (size_t)perm[k] * UID_CAP;
            bind_text(st_extras, 1, u, p->uid_len);
            if (sqlite3_step(st_extras) != SQLITE_ROW)
                fail("attr set (read)");
            const char *x = (const char *)sqlite3_column_text(st_extras, 0);
            size_t xlen = x ? (size_t)sqlite3_column_bytes(st_extras, 0) : 0;
            if (xlen > in.max_extras_len)
                bench_die("sqlite: extras of uid %s grew", p->uid);
            size_t nl = extras_with_vip(x ? x : "", xlen, bench_vip_value(j++),
                                        xbuf);
            sqlite3_reset(st_extras);
            bind_text(st_set_extras, 1, xbuf, nl);
            bind_text(st_set_extras, 2, u, p->uid_len);
            step_done(st_set_extras, "attr set");
        }
        exec("COMMIT");
        r.attr_set_ns = (double)(bench_now_ns() - t0) / (double)m;
    }

    /* 7. churn: R rounds, a random 20% deleted and as many new players
     * inserted, one transaction per round */
    uint64_t next_uid = in.max_uid_num + 1;
    size_t rss_c0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (unsigned round = 0; round < a.rounds && k20; round++) {
        bench_pick(live, n, k20, &rng);
        exec("BEGIN");
        for (size_t j = 0; j < k20; j++) {
            const char *u = hs + (size_t)live[j] * UID_CAP;
            bind_text(st_delete, 1, u, strlen(u));
            step_done(st_delete, "delete");
            if (sqlite3_changes(db) != 1)
                bench_die("sqlite: delete of uid %s removed no row", u);
        }
        for (size_t j = 0; j < k20; j++) {
            char *u = hs + (size_t)live[j] * UID_CAP;
            char uid[32], name[40];
            size_t ulen = bench_churn_uid(uid, next_uid++);
            size_t nlen = bench_churn_name(name, uid, ulen);
            if (ulen >= UID_CAP)
                bench_die("sqlite: churn uid %s too long", uid);
            insert_player(uid, ulen, name, nlen, 1, 1, NULL, 0);
            memcpy(u, uid, ulen + 1);
        }
        exec("COMMIT");
    }
    uint64_t churn_t = bench_now_ns() - t0;
    size_t rss_c1 = bench_rss_bytes();
    if (a.rounds && k20) {
        r.churn_ns = (double)churn_t / (2.0 * (double)k20 * (double)a.rounds);
        r.churn_growth_bytes_per_player =
            ((double)rss_c1 - (double)rss_c0) / (double)n;
    }

    /* sanity (untimed): n rows, each slot's uid present */
    sqlite3_stmt *st_count = prepare("SELECT count(*) FROM player");
    if (sqlite3_step(st_count) != SQLITE_ROW)
        fail("count");
    sqlite3_int64 count = sqlite3_column_int64(st_count, 0);
    sqlite3_finalize(st_count);
    if (count != (sqlite3_int64)n)
        bench_die("sqlite: %lld rows after churn, expected %zu",
                  (long long)count, n);
    for (size_t i = 0; i < n; i++) {
        const char *u = hs + i * UID_CAP;
        bind_text(st_by_uid, 1, u, strlen(u));
        if (sqlite3_step(st_by_uid) != SQLITE_ROW)
            bench_die("sqlite: uid %s lost in churn", u);
        sqlite3_reset(st_by_uid);
    }

    sqlite3_int64 page_count = 0, page_size = 0;
    sqlite3_stmt *pg = prepare("SELECT * FROM pragma_page_count(),"
                               " pragma_page_size()");
    if (sqlite3_step(pg) == SQLITE_ROW) {
        page_count = sqlite3_column_int64(pg, 0);
        page_size = sqlite3_column_int64(pg, 1);
    }
    sqlite3_finalize(pg);

    char extra[640];
    snprintf(extra, sizeof extra,
             "\"sqlite_version\": \"%s\", \"accounted_bytes_per_player\": "
             "%.2f, \"update_autocommit_ns\": %.2f, \"db_pages\": %lld, "
             "\"page_size\": %lld, \"memory_highwater_bytes\": %lld, "
             "\"indexes\": 2, \"players_with_extras\": %zu, \"scan_count\": "
             "%zu, \"rounds\": %u, \"seed\": %llu, \"sink\": %llu",
             sqlite3_libversion(), accounted, update_autocommit_ns,
             (long long)page_count, (long long)page_size,
             (long long)sqlite3_memory_highwater(0), m, scan_count, a.rounds,
             (unsigned long long)a.seed, (unsigned long long)sink);
    r.extra_json = extra;
    bench_print_json(&r);

    sqlite3_stmt *all[] = {st_insert, st_delete, st_by_uid, st_by_name,
                           st_update, st_scan, st_extras, st_set_extras,
                           st_all};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    if (sqlite3_close(db) != SQLITE_OK)
        fail("close");
    free(hs);
    free(perm);
    free(live);
    free(xbuf);
    free(in.p);
    free(in.buf);
    return 0;
}
