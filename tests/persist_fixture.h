/*
 * persist_fixture.h: what the persistence tests share (test_snapshot.c,
 * test_journal.c, test_txn.c): a temporary directory for their files,
 * stores compared as text, a sample of players, and file helpers.
 *
 * Stores are compared through dump(): every class's text form and every
 * record (fields, then rs_dict() in binding order), sorted, so two stores
 * that hold the same data give the same text whatever their slots.
 *
 * Every store of these tests runs on the size-checking allocator
 * (alloc_check.h): the library's accounting depends on the size every free
 * and realloc passes back, and after the last rs_store_close() nothing may
 * be left.  fixture_main() checks that after the cases ran.
 *
 * Helpers are static inline so that a test that does not use one is not
 * warned about it.
 */
#ifndef ROSTER_PERSIST_FIXTURE_H
#define ROSTER_PERSIST_FIXTURE_H

#include "check.h"

#include "roster.h"

#include "alloc_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static inline const char *path_of(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ------------------------------------------------------------------------ */
/* Dumps                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static inline void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void sb_value(strbuf *b, const rs_value *v)
{
    char t[64];
    switch (v->type) {
    case RS_STR:
        sb_add(b, "\"", 1);
        sb_add(b, v->v.s.ptr, v->v.s.len);
        sb_add(b, "\"", 1);
        return;
    case RS_BOOL:
        snprintf(t, sizeof t, "%s", v->v.b ? "true" : "false");
        break;
    case RS_F32:
    case RS_F64:
        snprintf(t, sizeof t, "%.17g", v->v.f);
        break;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        snprintf(t, sizeof t, "%" PRId64, v->v.i);
        break;
    default:
        snprintf(t, sizeof t, "%" PRIu64, v->v.u);
        break;
    }
    sb_add(b, t, strlen(t));
}

static inline int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The store as sorted text; the caller frees it. */
static inline char *dump(rs_store *st, const char *const *classes,
                         size_t n_classes)
{
    strbuf out = {0};
    sb_add(&out, "", 0);
    for (size_t ci = 0; ci < n_classes; ci++) {
        rs_class *c = rs_class_find(st, classes[ci]);
        if (c == NULL) {
            sb_add(&out, "(no class)\n", 11);
            continue;
        }
        char text[1024];
        rs_class_format(c, text, sizeof text);
        sb_add(&out, text, strlen(text));
        sb_add(&out, "\n", 1);
        size_t n = rs_count(c), k = 0;
        char **lines = calloc(n + 1, sizeof *lines);
        rs_scan *sc;
        rs_handle h;
        if (rs_scan_open(st, c, NULL, 0, &sc) != RS_OK) {
            abort();
        }
        while (rs_scan_next(sc, &h) == RS_OK) {
            strbuf line = {0};
            for (size_t f = 0; f < rs_class_n_fields(c); f++) {
                rs_value v;
                if (rs_get_field(st, h, (rs_field)f, &v) != RS_OK) {
                    abort();
                }
                sb_value(&line, &v);
                sb_add(&line, " ", 1);
            }
            rs_attr items[64];
            size_t m;
            if (rs_dict(st, h, items, 64, &m) != RS_OK) {
                abort();
            }
            for (size_t j = 0; j < m && j < 64; j++) {
                sb_add(&line, items[j].name, strlen(items[j].name));
                sb_add(&line, "=", 1);
                sb_value(&line, &items[j].val);
                sb_add(&line, " ", 1);
            }
            lines[k++] = line.p;
        }
        rs_scan_close(sc);
        qsort(lines, k, sizeof *lines, cmp_lines);
        for (size_t i = 0; i < k; i++) {
            sb_add(&out, lines[i], strlen(lines[i]));
            sb_add(&out, "\n", 1);
            free(lines[i]);
        }
        free(lines);
    }
    return out.p;
}

static const char *const PLAYER[] = {"Player"};
static const char *const BOTH[] = {"Player", "Item"};

#define CHECK_DUMPS(a, b)                                                      \
    do {                                                                       \
        char *da_ = (a), *db_ = (b);                                           \
        if (strcmp(da_, db_) != 0) {                                           \
            fprintf(stderr,                                                    \
                    "%s:%d: stores differ:\n--- %s\n%.2000s\n"                 \
                    "--- %s\n%.2000s\n",                                       \
                    __FILE__, __LINE__, #a, da_, #b, db_);                     \
            check_failures++;                                                  \
        }                                                                      \
        free(da_);                                                             \
        free(db_);                                                             \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                  */
/* ------------------------------------------------------------------------ */

static const char *PLAYER_TEXT =
    "Player { uid: str(16) key inline(4); name: str(32) unique; "
    "stat: u8 = 0; level: u16 = 1; gold: i64 = -5; ratio: f32 = 0.5; "
    "score: f64; vip: bool; bio: str(200) = \"none\" } dynamic";

/* Every store of these tests; after the last one closed nothing may be
 * live. */
static alloc_check fixture_alloc;

static inline rs_store *open_store(void)
{
    rs_store *st;
    if (rs_store_open(alloc_check_fn, &fixture_alloc, &st) != RS_OK) {
        abort();
    }
    return st;
}

static inline rs_class *declare(rs_store *st, const char *text)
{
    rs_class *c;
    rs_status rc = rs_class_parse(st, text, strlen(text), &c);
    if (rc != RS_OK) {
        fprintf(stderr, "declare: %s\n", rs_errmsg(st));
        abort();
    }
    return c;
}

static inline rs_handle add_player(rs_store *st, rs_class *c, int i)
{
    char uid[16], name[32], bio[64];
    snprintf(uid, sizeof uid, "%07d", 1000000 + i * 7);
    snprintf(name, sizeof name, "name-%d-\xe5\xbc\xa0", i);
    snprintf(bio, sizeof bio, "a longer text about player %d", i);
    rs_named v[] = {
        {"uid", rs_val_cstr(uid)},
        {"name", rs_val_cstr(name)},
        {"stat", rs_val_int(i % 3)},
        {"level", rs_val_int(i % 60000)},
        {"gold", rs_val_int(-i * 1000)},
        {"ratio", rs_val_f64(i / 4.0)},
        {"score", rs_val_f64(i * 1e10)},
        {"vip", rs_val_bool(i % 2)},
        {"bio", rs_val_cstr(i % 5 ? bio : "x")},
        {"guild", rs_val_cstr("red")},
        {"hp", rs_val_int(i)},
        {"mana", rs_val_f64(1.5)},
        {"ok", rs_val_bool(true)},
    };
    /* Records bind 0 to 4 attributes, in varied orders. */
    size_t n = 9 + (size_t)(i % 5);
    rs_handle h;
    if (rs_insert(st, c, v, n, &h) != RS_OK) {
        fprintf(stderr, "add_player: %s\n", rs_errmsg(st));
        abort();
    }
    return h;
}

static inline rs_store *sample(int n)
{
    rs_store *st = open_store();
    rs_class *c = declare(st, PLAYER_TEXT);
    rs_class *it = declare(st, "Item { id: u32 key; owner: str(16); "
                               "n: i32 = 1 }");
    for (int i = 0; i < n; i++) {
        rs_handle h = add_player(st, c, i);
        if (i % 7 == 0) { /* holes: removed records */
            if (rs_remove(st, h) != RS_OK) {
                abort();
            }
        }
        rs_named v[] = {{"id", rs_val_int(i)}, {"owner", rs_val_cstr("x")}};
        if (rs_insert(st, it, v, 2, NULL) != RS_OK) {
            abort();
        }
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* Files in the test directory whose names start with prefix. */
static inline int count_prefixed(const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static inline uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
        abort();
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline void write_all_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        abort();
    }
    fclose(f);
}

/* A store made durable under BASE (in the test directory) with
 * RS_SYNC_ALWAYS; a failure if rs_durable_open() does not return want. */
static inline rs_store *durable(const char *base, rs_status want)
{
    rs_store *st = open_store();
    rs_status rc = rs_durable_open(st, path_of(base), RS_SYNC_ALWAYS, NULL);
    if (rc != want) {
        fprintf(stderr, "rs_durable_open(%s): %s: %s\n", base,
                rs_status_name(rc), rs_errmsg(st));
        check_failures++;
    }
    return st;
}

/* Whether the file at path holds exactly p[0..n). */
static inline bool same_file(const char *path, const uint8_t *p, size_t n)
{
    size_t m;
    uint8_t *b = read_all(path, &m);
    bool same = b && m == n && (n == 0 || memcmp(b, p, n) == 0);
    free(b);
    return same;
}

/* The same changes on a durable store and on a plain one. */
static inline void changes(rs_store *st, int from, int to)
{
    rs_class *c = rs_class_find(st, "Player");
    for (int i = from; i < to; i++) {
        rs_handle h = add_player(st, c, i);
        if (i % 3 == 0) {
            rs_value v = rs_val_int(i);
            CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "level"), &v));
        }
        if (i % 4 == 1) {
            rs_value v = rs_val_cstr("bound later");
            CHECK_OK(st, rs_set_attr(st, h, "note", &v));
        }
        if (i % 5 == 2) {
            if (rs_del_attr(st, h, "guild") != RS_OK) {
                /* not bound on this record */
            }
        }
        if (i % 6 == 5) {
            CHECK_OK(st, rs_group_begin(st));
            rs_value k = rs_val_str("K", 1);
            char key[16];
            snprintf(key, sizeof key, "K%d", i);
            k = rs_val_cstr(key);
            CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "uid"), &k));
            rs_value t = rs_val_bool(true);
            CHECK_OK(st, rs_set_attr(st, h, "traded", &t));
            CHECK_OK(st, rs_group_commit(st));
        }
        if (i % 7 == 3) {
            CHECK_OK(st, rs_remove(st, h));
        }
    }
}

/* Offsets of the journal's entries (at most cap), from its header on. */
static inline size_t entry_offsets(const uint8_t *jb, size_t n, size_t *at,
                                   size_t cap)
{
    size_t off = 32, k = 0;
    while (off + 12 <= n && k < cap) {
        uint32_t len;
        memcpy(&len, jb + off, 4);
        if (len > n - off - 12) {
            break;
        }
        at[k++] = off;
        off += 12 + len;
    }
    return k;
}

/* A durable store with a class and count players, one entry each. */
static inline void make_players(const char *base, int count)
{
    rs_store *st = durable(base, RS_OK);
    rs_class *c = declare(st, PLAYER_TEXT);
    for (int i = 0; i < count; i++) {
        add_player(st, c, i);
    }
    rs_store_close(st);
}

/* The test's main: run the cases (all, or the one named by argv[1]) in a
 * new directory /tmp/roster-NAME-XXXXXX, check that every store was closed
 * with nothing left, and remove the directory. */
static inline int fixture_main(int argc, char **argv, const check_case *cases,
                               const char *name)
{
    snprintf(dir, sizeof dir, "/tmp/roster-%s-XXXXXX", name);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    int rc = check_main(argc, argv, cases);
    if (!alloc_check_clean(&fixture_alloc, "after the cases")) {
        rc = 1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}

#endif
