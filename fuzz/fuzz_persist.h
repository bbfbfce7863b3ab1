/*
 * fuzz_persist.h: what fuzz_snapshot.c, fuzz_journal.c and seedgen.c share:
 * the classes and records of the small store the seeds and the journal
 * target's base snapshot are made of, checksum repair for the two file
 * formats (src/snapshot.c and src/journal.c describe them), and files in a
 * private temporary directory.
 *
 * Every block of a snapshot and every entry of a journal carries an XXH3-64
 * checksum, so almost every mutation libFuzzer makes would stop at the
 * checksum test.  Both targets therefore repair the checksums of the input
 * (unless a bit of its first byte says not to) before the library sees it:
 * the parsers and builders behind the checksums get fuzzed too.
 *
 * The corpora fuzz/corpus/snapshot and fuzz/corpus/journal hold seed-*.bin,
 * made by seedgen.c, and crash-*.bin, small inputs written by hand (their
 * checksums left zero for the targets to repair) that each reproduced a
 * library bug when they were added.
 */
#ifndef FUZZ_PERSIST_H
#define FUZZ_PERSIST_H

#include "roster.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Fixed snapshot ids, so that seeds are reproducible and a journal seed can
 * name the base snapshot the journal target writes beside it. */
#define FZ_ID_BASE 0x5EED0000000000B1ull    /* the base snapshot */
#define FZ_ID_PREV 0x5EED0000000000B2ull    /* the journal it compacted */
#define FZ_ID_COMPACT 0x5EED0000000000B3ull /* base, "compacted from PREV" */
#define FZ_ID_EMPTY 0x5EED0000000000B4ull   /* no classes, no records */
#define FZ_SNAP_HEADER 48
#define FZ_J_HEADER 32

static const char *const fz_player =
    "Player {\n"
    "    uid: str(16) key inline(4)\n"
    "    name: str(32) unique inline(12)\n"
    "    stat: u8 = 0; level: u16 = 1; score: i32 = -5\n"
    "    ratio: f32 = 0.5; hp: f64; alive: bool = true\n"
    "    bio: str(300) = \"hello\"\n"
    "} dynamic";
static const char *const fz_guild =
    "Guild { id: u32 key; title: str(40) = \"none\"; size: i16 = -1; "
    "motto: str(200) }";
static const char *const fz_empty =
    "Empty { k: i64 key; u: u8 unique; f: f64 = 2.5 }";

/* The stores' allocator: the C library's, with a header in front of each
 * block holding its size, so that a store that gives back or resizes a
 * block under another size than it asked for (the rs_alloc_fn contract:
 * "old_len is always the size the store asked for") aborts right there,
 * with the stack of the faulty call, instead of skewing the accounting. */
#define FZ_MAGIC 0x726f73746572u
typedef struct fz_head {
    size_t magic, len;
} fz_head;

static inline void *fz_alloc(void *ud, void *ptr, size_t old_len,
                             size_t new_len)
{
    (void)ud;
    fz_head *h = ptr ? (fz_head *)ptr - 1 : NULL;
    if (h && (h->magic != FZ_MAGIC || h->len != old_len)) {
        fprintf(stderr,
                "fuzz_persist: the store frees or resizes a block "
                "of %zu bytes as %zu bytes\n",
                h->magic == FZ_MAGIC ? h->len : 0, old_len);
        abort();
    }
    if (!h && old_len != 0) {
        fprintf(stderr, "fuzz_persist: old_len %zu with no block\n", old_len);
        abort();
    }
    if (new_len == 0) {
        if (h) {
            h->magic = 0;
            free(h);
        }
        return NULL;
    }
    if (new_len > SIZE_MAX - sizeof *h) {
        return NULL;
    }
    fz_head *n = realloc(h, sizeof *n + new_len);
    if (n == NULL) {
        return NULL;
    }
    n->magic = FZ_MAGIC;
    n->len = new_len;
    return n + 1;
}

/* A new store on fz_alloc. */
static inline rs_store *fz_open(void)
{
    rs_store *st = NULL;
    if (rs_store_open(fz_alloc, NULL, &st) != RS_OK) {
        abort();
    }
    return st;
}

/* "total 100 -> 180 (meta +80); allocations 3 -> 3": what a failed call
 * left behind, by category, for the report. */
static inline void fz_mem_diff(char *buf, size_t cap, const rs_mem_report *a,
                               const rs_mem_report *b)
{
    int n = snprintf(buf, cap, "total %zu -> %zu (", a->total, b->total);
    const char *sep = "";
    for (int c = 0; c < RS_MEM__COUNT && n >= 0 && (size_t)n < cap; c++) {
        if (a->bytes[c] != b->bytes[c]) {
            n += snprintf(buf + n, cap - (size_t)n, "%s%s %+lld", sep,
                          rs_mem_cat_name((rs_mem_cat)c),
                          (long long)b->bytes[c] - (long long)a->bytes[c]);
            sep = ", ";
        }
    }
    if (n >= 0 && (size_t)n < cap) {
        snprintf(buf + n, cap - (size_t)n,
                 "); allocations %zu -> %zu; "
                 "attribute names %zu -> %zu; shapes %zu -> %zu",
                 a->n_allocs, b->n_allocs, a->n_attr_names, b->n_attr_names,
                 a->n_shapes, b->n_shapes);
    }
}

static inline void fz_die(const char *what, const rs_store *st)
{
    fprintf(stderr, "fuzz_persist: %s: %s\n", what, st ? rs_errmsg(st) : "");
    abort();
}

static inline rs_class *fz_declare(rs_store *st, const char *text)
{
    rs_class *c = NULL;
    if (rs_class_parse(st, text, strlen(text), &c) != RS_OK) {
        fz_die("declaring a class", st);
    }
    return c;
}

static inline rs_handle fz_player_add(rs_store *st, rs_class *c,
                                      const char *uid, const char *name,
                                      int64_t level, const char *bio,
                                      int with_attrs)
{
    rs_named v[12];
    size_t n = 0;
    v[n++] = (rs_named){"uid", rs_val_cstr(uid)};
    v[n++] = (rs_named){"name", rs_val_cstr(name)};
    v[n++] = (rs_named){"level", rs_val_int(level)};
    v[n++] = (rs_named){"hp", rs_val_f64((double)level * 1.25)};
    if (bio) {
        v[n++] = (rs_named){"bio", rs_val_cstr(bio)};
    }
    if (with_attrs) {
        v[n++] = (rs_named){"guild_rank", rs_val_int(-level)};
        v[n++] = (rs_named){"note", rs_val_cstr("a note \xe2\x9c\x93")};
        v[n++] = (rs_named){"vip", rs_val_bool(level % 2 == 0)};
        v[n++] = (rs_named){"mult", rs_val_f64(1.5)};
        v[n++] = (rs_named){"big", rs_val_uint(UINT64_MAX)};
    }
    rs_handle h = RS_NULL_HANDLE;
    if (rs_insert(st, c, v, n, &h) != RS_OK) {
        fz_die("inserting a player", st);
    }
    return h;
}

static inline void fz_guild_add(rs_store *st, rs_class *c, uint64_t id,
                                const char *title, int64_t size)
{
    rs_named v[3] = {{"id", rs_val_uint(id)},
                     {"title", rs_val_cstr(title)},
                     {"size", rs_val_int(size)}};
    if (rs_insert(st, c, v, title ? 3 : 1, NULL) != RS_OK) {
        fz_die("inserting a guild", st);
    }
}

/* Insert a record into a class and remove it again: the class then has
 * no records but one slot (rs_save() of a class that never had a slot
 * fails: see the fuzzing report), and its snapshot has no records for it. */
static inline void fz_touch(rs_store *st, rs_class *c, const rs_named *v,
                            size_t n)
{
    rs_handle h;
    if (rs_insert(st, c, v, n, &h) != RS_OK || rs_remove(st, h) != RS_OK) {
        fz_die("inserting and removing a record", st);
    }
}

/* The small store: Player (dynamic: every kind of attribute value, short,
 * packed-digit and arena strings, UTF-8), Guild, and Empty (no records).
 * A name is interned and unbound again, so the NAMES block holds a name no
 * record uses. */
static inline void fz_fill(rs_store *st)
{
    static const char long_bio[] =
        "A bio longer than any inline cell, so it lives in the string "
        "arena: \xe7\x8e\xa9\xe5\xae\xb6 \xc3\xa9t\xc3\xa9.";
    rs_class *p = fz_declare(st, fz_player);
    rs_class *g = fz_declare(st, fz_guild);
    rs_class *e = fz_declare(st, fz_empty);
    rs_named ek[1] = {{"k", rs_val_int(1)}};
    fz_touch(st, e, ek, 1);
    fz_player_add(st, p, "1000001", "alice", 10, NULL, 1);
    fz_player_add(st, p, "p-bob", "\xe7\x8e\xa9\xe5\xae\xb6", 11, long_bio, 0);
    rs_handle h = fz_player_add(st, p, "123456789012", "carol", 65535, "", 1);
    rs_value gone = rs_val_int(7);
    if (rs_set_attr(st, h, "temp", &gone) != RS_OK ||
        rs_del_attr(st, h, "temp") != RS_OK) {
        fz_die("binding and unbinding an attribute", st);
    }
    fz_guild_add(st, g, 1, "Knights", 3);
    fz_guild_add(st, g, 4000000000u, NULL, 0);
}

/* A growable text, malloc'ed. */
typedef struct fz_text {
    char *p;
    size_t len, cap;
} fz_text;

static inline void fz_add(fz_text *t, const char *s, size_t n)
{
    if (t->cap - t->len <= n) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap - t->len <= n) {
            cap *= 2;
        }
        char *q = realloc(t->p, cap);
        if (q == NULL) {
            abort();
        }
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static inline void fz_add_value(fz_text *t, const rs_value *v)
{
    char b[64];
    switch (v->type) {
    case RS_BOOL:
        snprintf(b, sizeof b, "b%d", v->v.b ? 1 : 0);
        break;
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        snprintf(b, sizeof b, "i%lld", (long long)v->v.i);
        break;
    case RS_F32:
    case RS_F64:
        snprintf(b, sizeof b, "f%a", v->v.f);
        break;
    case RS_STR:
        snprintf(b, sizeof b, "s%zu:", v->v.s.len);
        fz_add(t, b, strlen(b));
        for (size_t i = 0; i < v->v.s.len; i++) {
            snprintf(b, sizeof b, "%02x", (unsigned char)v->v.s.ptr[i]);
            fz_add(t, b, 2);
        }
        return;
    default:
        snprintf(b, sizeof b, "u%llu", (unsigned long long)v->v.u);
        break;
    }
    fz_add(t, b, strlen(b));
}

static inline int fz_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline int fz_cmp_attr(const void *a, const void *b)
{
    return strcmp(((const rs_attr *)a)->name, ((const rs_attr *)b)->name);
}

/* The whole content of a store's classes as text, malloc'ed: each class
 * in its text form, then its records as lines (declared fields in order,
 * dynamic attributes by name) in sorted order, so two stores holding the
 * same data give the same text whatever their slots. */
static inline char *fz_digest(rs_store *st, rs_class *const *classes,
                              size_t n_classes)
{
    fz_text out = {0};
    fz_add(&out, "", 0);
    rs_attr *attrs = malloc(256 * sizeof *attrs);
    if (attrs == NULL) {
        abort();
    }
    for (size_t ci = 0; ci < n_classes; ci++) {
        rs_class *c = classes[ci];
        size_t n = rs_class_format(c, NULL, 0);
        char *cls = malloc(n + 1);
        if (cls == NULL) {
            abort();
        }
        rs_class_format(c, cls, n + 1);
        fz_add(&out, cls, n);
        fz_add(&out, "\n", 1);
        free(cls);
        char **lines = NULL;
        size_t n_lines = 0, cap_lines = 0;
        rs_scan *sc;
        if (rs_scan_open(st, c, NULL, 0, &sc) != RS_OK) {
            fz_die("rs_scan_open", st);
        }
        rs_handle h;
        while (rs_scan_next(sc, &h) == RS_OK) {
            fz_text line = {0};
            fz_add(&line, " ", 1);
            for (size_t f = 0; f < rs_class_n_fields(c); f++) {
                rs_value v;
                if (rs_get_field(st, h, (rs_field)f, &v) != RS_OK) {
                    fz_die("rs_get_field", st);
                }
                fz_add_value(&line, &v);
                fz_add(&line, " ", 1);
            }
            size_t na = 0;
            if (rs_dict(st, h, attrs, 256, &na) != RS_OK || na > 256) {
                fz_die("rs_dict", st);
            }
            qsort(attrs, na, sizeof *attrs, fz_cmp_attr);
            for (size_t k = 0; k < na; k++) {
                fz_add(&line, attrs[k].name, strlen(attrs[k].name));
                fz_add(&line, "=", 1);
                fz_add_value(&line, &attrs[k].val);
                fz_add(&line, " ", 1);
            }
            if (n_lines == cap_lines) {
                cap_lines = cap_lines ? cap_lines * 2 : 16;
                char **q = realloc(lines, cap_lines * sizeof *lines);
                if (q == NULL) {
                    abort();
                }
                lines = q;
            }
            lines[n_lines++] = line.p;
        }
        rs_scan_close(sc);
        if (n_lines) {
            qsort(lines, n_lines, sizeof *lines, fz_cmp_str);
        }
        for (size_t i = 0; i < n_lines; i++) {
            fz_add(&out, lines[i], strlen(lines[i]));
            fz_add(&out, "\n", 1);
            free(lines[i]);
        }
        free(lines);
    }
    free(attrs);
    return out.p;
}

/* Rewrite the ids of a snapshot's header and its checksum. */
static inline void fz_snap_ids(uint8_t *buf, size_t len, uint64_t id,
                               uint64_t prev_id, uint64_t prev_off)
{
    if (len < FZ_SNAP_HEADER) {
        return;
    }
    for (int i = 0; i < 8; i++) {
        buf[16 + i] = (uint8_t)(id >> (8 * i));
        buf[24 + i] = (uint8_t)(prev_id >> (8 * i));
        buf[32 + i] = (uint8_t)(prev_off >> (8 * i));
    }
    uint64_t sum = XXH3_64bits(buf, 40);
    for (int i = 0; i < 8; i++) {
        buf[40 + i] = (uint8_t)(sum >> (8 * i));
    }
}

static inline uint32_t fz_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void fz_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Repair every checksum of a snapshot (header, then each block while its
 * framing fits in the buffer). */
static inline void fz_fix_snapshot(uint8_t *buf, size_t len)
{
    if (len < FZ_SNAP_HEADER) {
        return;
    }
    fz_put64(buf + 40, XXH3_64bits(buf, 40));
    size_t off = FZ_SNAP_HEADER;
    while (len - off >= 20) {
        uint32_t blen = fz_u32(buf + off + 8);
        if (blen > len - off - 20) {
            break;
        }
        fz_put64(buf + off + 12 + blen, XXH3_64bits(buf + off, 12 + blen));
        off += 20 + (size_t)blen;
    }
}

/* Set a journal's snapshot id, then repair its header checksum and the
 * checksum of every entry whose frame fits in the buffer. */
static inline void fz_fix_journal(uint8_t *buf, size_t len, uint64_t snap_id)
{
    if (len < FZ_J_HEADER) {
        return;
    }
    fz_put64(buf + 16, snap_id);
    fz_put64(buf + 24, XXH3_64bits(buf, 24));
    size_t off = FZ_J_HEADER;
    while (len - off >= 12) {
        uint32_t n = fz_u32(buf + off);
        if (n > len - off - 12) {
            break;
        }
        fz_put64(buf + off + 4, XXH3_64bits(buf + off + 12, n));
        off += 12 + (size_t)n;
    }
}

static inline int fz_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return -1;
    }
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* The whole file, malloc'ed (NULL if it cannot be read). */
static inline uint8_t *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *p = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *q = realloc(p, cap);
            if (q == NULL) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    fclose(f);
    *len = n;
    return p;
}

/* A private directory, on tmpfs when there is one (the library fsyncs
 * every file it writes), removed at exit with whatever is left in it (the
 * targets remove their files after each input, but BASE.lock stays, and
 * so would any file a library change started leaving behind). */
static char fz_dir[256];

static inline void fz_dir_remove(void)
{
    DIR *d = opendir(fz_dir);
    struct dirent *e;
    char path[600];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", fz_dir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(fz_dir);
}

static inline const char *fz_tmpdir(void)
{
    if (fz_dir[0]) {
        return fz_dir;
    }
    const char *roots[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (roots[i] == NULL || access(roots[i], W_OK) != 0) {
            continue;
        }
        snprintf(fz_dir, sizeof fz_dir, "%s/roster-fuzz-XXXXXX", roots[i]);
        if (mkdtemp(fz_dir) != NULL) {
            atexit(fz_dir_remove);
            return fz_dir;
        }
    }
    fz_dir[0] = '\0';
    fz_die("cannot create a temporary directory", NULL);
    return NULL;
}

/* DIR/name in buf. */
static inline const char *fz_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", fz_tmpdir(), name);
    return buf;
}

#endif /* FUZZ_PERSIST_H */
