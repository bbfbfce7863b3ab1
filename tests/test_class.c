/*
 * test_class.c: classes through the public API -- declaration, the text
 * form and its errors, defaults, the format/parse round trip, and
 * rs_value_parse().
 *
 * Usage: test_class [case].  With no argument every case runs; with one,
 * only that case.  Exits 1 if a check failed.
 *
 * Every store here runs on the tests' size-checking allocator
 * (alloc_check.h): it keeps each block's size in a header and counts a
 * free or realloc that passes back another size, so the exact-size
 * contract of rs_alloc_fn is tested by every case, and after the last case
 * nothing may be left allocated.  It can also fail the k-th allocation
 * (oom_* cases).
 */
#include "check.h"
#include "roster.h"

#include "alloc_check.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Stores on the checking allocator                                          */
/* ------------------------------------------------------------------------ */

/* Every store of every case: its counts are their sum. */
static alloc_check the_alloc;

static rs_store *open_store(void)
{
    rs_store *st = NULL;
    alloc_check_disarm(&the_alloc);
    if (rs_store_open(alloc_check_fn, &the_alloc, &st) != RS_OK) {
        fprintf(stderr, "rs_store_open failed\n");
        exit(2);
    }
    return st;
}

static bool mem_same(const rs_mem_report *a, const rs_mem_report *b)
{
    for (int i = 0; i < RS_MEM__COUNT; i++) {
        if (a->bytes[i] != b->bytes[i]) {
            return false;
        }
    }
    return a->total == b->total && a->n_allocs == b->n_allocs &&
           a->n_records == b->n_records;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static rs_status parse(rs_store *st, const char *text, rs_class **out)
{
    return rs_class_parse(st, text, strlen(text), out);
}

/* Parse text from an exactly-sized heap copy, with no NUL after it, so
 * that a read past the end is an ASan error. */
static rs_status parse_exact(rs_store *st, const char *text, size_t len,
                             rs_class **out)
{
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        exit(2);
    }
    memcpy(copy, text, len);
    rs_status s = rs_class_parse(st, copy, len, out);
    free(copy);
    return s;
}

/* cls's text form in a static buffer. */
static const char *format(const rs_class *cls)
{
    static char buf[1 << 16];
    size_t n = rs_class_format(cls, buf, sizeof buf);
    if (n >= sizeof buf) {
        fprintf(stderr, "format: %zu bytes do not fit\n", n);
        exit(2);
    }
    return buf;
}

static rs_field_def def_of(const rs_class *cls, const char *name)
{
    rs_field_def d;
    memset(&d, 0, sizeof d);
    rs_field f = rs_class_field(cls, name);
    if (!CHECK(f >= 0) || !CHECK_EQ(rs_class_field_def(cls, f, &d), RS_OK)) {
        d.type = RS_TYPE__COUNT;
    }
    return d;
}

static const char player_text[] =
    "Player {\n"
    "    uid: str(16) key;\n"
    "    name: str(32) unique;\n"
    "    stat: u8 = 0;\n"
    "    level: u16 = 1   # a comment runs to the end of the line\n"
    "} dynamic\n";

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */
/* ------------------------------------------------------------------------ */

static void parse_player(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    if (!CHECK_OK(st, parse(st, player_text, &c)) || !CHECK(c != NULL)) {
        rs_store_close(st);
        return;
    }
    CHECK_EQ(rs_errmsg(st), "");
    CHECK(rs_class_find(st, "Player") == c);
    CHECK_EQ(rs_class_name(c), "Player");
    CHECK_EQ(rs_class_flags(c), RS_CLASS_DYNAMIC);
    CHECK_EQ(rs_class_n_fields(c), 4u);
    CHECK_EQ(rs_class_key(c), 0);
    CHECK_EQ(rs_class_field(c, "uid"), 0);
    CHECK_EQ(rs_class_field(c, "name"), 1);
    CHECK_EQ(rs_class_field(c, "stat"), 2);
    CHECK_EQ(rs_class_field(c, "level"), 3);
    CHECK_EQ(rs_class_field(c, "x"), -1);
    CHECK_EQ(rs_class_field(c, "Uid"), -1);

    rs_field_def d;
    CHECK_OK(st, rs_class_field_def(c, 0, &d));
    CHECK_EQ(d.name, "uid");
    CHECK_EQ(d.type, RS_STR);
    CHECK_EQ(d.max_len, 16u);
    CHECK_EQ(d.flags, RS_FIELD_KEY);
    CHECK(!d.has_default);
    CHECK_OK(st, rs_class_field_def(c, 1, &d));
    CHECK_EQ(d.name, "name");
    CHECK_EQ(d.max_len, 32u);
    CHECK_EQ(d.flags, RS_FIELD_UNIQUE);
    CHECK(!d.has_default);
    CHECK_EQ(d.def.type, RS_STR);
    CHECK_EQ(d.def.v.s.len, 0u);
    CHECK_OK(st, rs_class_field_def(c, 2, &d));
    CHECK_EQ(d.type, RS_U8);
    CHECK_EQ(d.max_len, 0u);
    CHECK_EQ(d.flags, 0u);
    CHECK(d.has_default);
    CHECK_EQ(d.def.type, RS_U8);
    CHECK_EQ(d.def.v.u, 0u);
    CHECK_OK(st, rs_class_field_def(c, 3, &d));
    CHECK_EQ(d.type, RS_U16);
    CHECK(d.has_default);
    CHECK_EQ(d.def.v.u, 1u);

    CHECK_EQ(rs_class_field_def(c, 4, &d), RS_EINVAL);
    CHECK_EQ(rs_class_field_def(c, -1, &d), RS_EINVAL);

    CHECK_EQ(format(c), "Player {\n"
                        "    uid: str(16) key;\n"
                        "    name: str(32) unique;\n"
                        "    stat: u8 = 0;\n"
                        "    level: u16 = 1;\n"
                        "} dynamic\n");
    rs_store_close(st);
}

/* The one-line form of DESIGN.md, and other spellings of one class. */
static void parse_spellings(void)
{
    static const char *const texts[] = {
        "Player { uid: str(16) key; name: str(32) unique; stat: u8 = 0; "
        "level: u16 = 0 } dynamic",
        "Player{uid:str(16)key;name:str(32)unique;stat:u8=0;level:u16=0}"
        "dynamic",
        "\n\n# leading comment\nPlayer\n{\n\n uid: str( 16 ) key\r\n"
        "\tname: str(32) unique;;;\n stat: u8 = 0 ;\n level: u16 = +0;\n"
        "}\n\ndynamic # trailing comment\n\n",
        "Player { uid: str(16) key; name: str(32) unique; stat: u8 = 0; "
        "level: u16 = 0; } dynamic",
        "Player {\n uid: str(16) key\n name: str(32) unique\n"
        " stat: u8 = 0\n level: u16 = 0\n}\ndynamic",
        "Player { uid: str(16) key; name: str(32) unique; stat: u8 = -0; "
        "level: u16 = 000 } dynamic # no newline at the end",
    };
    const char *want = "Player {\n"
                       "    uid: str(16) key;\n"
                       "    name: str(32) unique;\n"
                       "    stat: u8 = 0;\n"
                       "    level: u16 = 0;\n"
                       "} dynamic\n";
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        rs_store *st = open_store();
        rs_class *c = NULL;
        if (CHECK_OK(st, parse_exact(st, texts[i], strlen(texts[i]), &c))) {
            CHECK_EQ(format(c), want);
        }
        rs_store_close(st);
    }
}

static void every_type(void)
{
    static const char text[] =
        "All {\n"
        "    b: bool; i8: i8; i16: i16; i32: i32; i64: i64 key\n"
        "    u8: u8 unique; u16: u16 unique; u32: u32; u64: u64\n"
        "    f32: f32; f64: f64; s: str(16777215); t: str(1) unique\n"
        "}";
    static const struct {
        const char *name;
        rs_type type;
        uint32_t max_len;
        unsigned flags;
    } want[] = {
        {"b", RS_BOOL, 0, 0},
        {"i8", RS_I8, 0, 0},
        {"i16", RS_I16, 0, 0},
        {"i32", RS_I32, 0, 0},
        {"i64", RS_I64, 0, RS_FIELD_KEY},
        {"u8", RS_U8, 0, RS_FIELD_UNIQUE},
        {"u16", RS_U16, 0, RS_FIELD_UNIQUE},
        {"u32", RS_U32, 0, 0},
        {"u64", RS_U64, 0, 0},
        {"f32", RS_F32, 0, 0},
        {"f64", RS_F64, 0, 0},
        {"s", RS_STR, 16777215, 0},
        {"t", RS_STR, 1, RS_FIELD_UNIQUE},
    };
    rs_store *st = open_store();
    rs_class *c = NULL;
    if (!CHECK_OK(st, parse(st, text, &c))) {
        rs_store_close(st);
        return;
    }
    size_t n = sizeof want / sizeof want[0];
    CHECK_EQ(rs_class_n_fields(c), n);
    CHECK_EQ(rs_class_flags(c), 0u);
    CHECK_EQ(rs_class_key(c), 4);
    for (size_t i = 0; i < n; i++) {
        rs_field_def d;
        CHECK_OK(st, rs_class_field_def(c, (rs_field)i, &d));
        CHECK_EQ(d.name, want[i].name);
        CHECK_EQ(d.type, want[i].type);
        CHECK_EQ(d.max_len, want[i].max_len);
        CHECK_EQ(d.flags, want[i].flags);
        CHECK(!d.has_default);
        /* Without a default, def is the type's zero. */
        CHECK_EQ(d.def.type, want[i].type);
        if (d.type == RS_STR) {
            CHECK_EQ(d.def.v.s.len, 0u);
        } else if (d.type == RS_F32 || d.type == RS_F64) {
            CHECK_EQ(d.def.v.f, 0.0);
        } else if (d.type == RS_BOOL) {
            CHECK(!d.def.v.b);
        } else {
            CHECK_EQ(d.def.v.u, 0u);
        }
    }
    CHECK_EQ(format(c), "All {\n"
                        "    b: bool;\n"
                        "    i8: i8;\n"
                        "    i16: i16;\n"
                        "    i32: i32;\n"
                        "    i64: i64 key;\n"
                        "    u8: u8 unique;\n"
                        "    u16: u16 unique;\n"
                        "    u32: u32;\n"
                        "    u64: u64;\n"
                        "    f32: f32;\n"
                        "    f64: f64;\n"
                        "    s: str(16777215);\n"
                        "    t: str(1) unique;\n"
                        "}\n");
    rs_store_close(st);
}

static void type_names(void)
{
    static const char *const names[] = {"bool", "i8",  "i16", "i32",
                                        "i64",  "u8",  "u16", "u32",
                                        "u64",  "f32", "f64", "str"};
    for (int t = 0; t < RS_TYPE__COUNT; t++) {
        CHECK_EQ(rs_type_name((rs_type)t), names[t]);
    }
    CHECK_EQ(rs_type_name(RS_TYPE__COUNT), "unknown");
    CHECK_EQ(rs_type_name((rs_type)-1), "unknown");
}

static void value_ctors(void)
{
    rs_value v = rs_val_int(-5);
    CHECK_EQ(v.type, RS_I64);
    CHECK_EQ(v.v.i, -5);
    v = rs_val_uint(UINT64_MAX);
    CHECK_EQ(v.type, RS_U64);
    CHECK_EQ(v.v.u, UINT64_MAX);
    v = rs_val_f64(1.5);
    CHECK_EQ(v.type, RS_F64);
    CHECK_EQ(v.v.f, 1.5);
    v = rs_val_bool(true);
    CHECK_EQ(v.type, RS_BOOL);
    CHECK(v.v.b);
    v = rs_val_str("a\0b", 3);
    CHECK_EQ(v.type, RS_STR);
    CHECK_EQ(v.v.s.len, 3u);
    v = rs_val_cstr("abc");
    CHECK_EQ(v.type, RS_STR);
    CHECK_EQ(v.v.s.len, 3u);
    CHECK_EQ(v.v.s.ptr, "abc");
    v = rs_val_cstr(NULL);
    CHECK_EQ(v.v.s.len, 0u);
}

/* Defaults of every kind, as written in the text and as normalized. */
static void defaults(void)
{
    static const char text[] =
        "D {\n"
        "    k: u32 key\n"
        "    b1: bool = true; b0: bool = false\n"
        "    i8lo: i8 = -128; i8hi: i8 = 127; i16: i16 = -32768\n"
        "    i32: i32 = 2147483647; i64lo: i64 = -9223372036854775808\n"
        "    i64hi: i64 = 9223372036854775807\n"
        "    u8: u8 = 255; u16: u16 = 65535; u32: u32 = 4294967295\n"
        "    u64: u64 = 18446744073709551615\n"
        "    f64: f64 = 1.5; fneg: f64 = -2.5e-3; fint: f64 = 7\n"
        "    fbig: f64 = 100000000000000000000000\n"
        "    fzero: f64 = -0.0; finf: f64 = -inf; fnan: f64 = nan\n"
        "    f32: f32 = 0.1; f32max: f32 = 3.4028235e38; f32i: f32 = 3\n"
        "    s: str(16) = \"a\\\"b\\\\c\\n\\t\\x41\"\n"
        "    empty: str(1) = \"\"\n"
        "    zh: str(12) = \"\xe7\x8e\xa9\xe5\xae\xb6\" unique\n"
        "    nul: str(3) = \"a\\x00b\"\n";
    /* And a long string default: big: str(1000) = "xx...x" */
    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    char buf[4096];
    snprintf(buf, sizeof buf, "%s    big: str(1000) = \"%s\"\n}\n", text, big);
    rs_store *st = open_store();
    rs_class *c = NULL;
    if (!CHECK_OK(st, parse(st, buf, &c))) {
        rs_store_close(st);
        return;
    }
    rs_field_def d = def_of(c, "b1");
    CHECK(d.has_default);
    CHECK_EQ(d.def.type, RS_BOOL);
    CHECK(d.def.v.b);
    d = def_of(c, "b0");
    CHECK(d.has_default);
    CHECK(!d.def.v.b);
    CHECK_EQ(def_of(c, "i8lo").def.v.i, -128);
    CHECK_EQ(def_of(c, "i8lo").def.type, RS_I8);
    CHECK_EQ(def_of(c, "i8hi").def.v.i, 127);
    CHECK_EQ(def_of(c, "i16").def.v.i, -32768);
    CHECK_EQ(def_of(c, "i32").def.v.i, 2147483647);
    CHECK_EQ(def_of(c, "i64lo").def.v.i, INT64_MIN);
    CHECK_EQ(def_of(c, "i64hi").def.v.i, INT64_MAX);
    CHECK_EQ(def_of(c, "u8").def.v.u, 255u);
    CHECK_EQ(def_of(c, "u8").def.type, RS_U8);
    CHECK_EQ(def_of(c, "u16").def.v.u, 65535u);
    CHECK_EQ(def_of(c, "u32").def.v.u, 4294967295u);
    CHECK_EQ(def_of(c, "u64").def.v.u, UINT64_MAX);
    CHECK_EQ(def_of(c, "f64").def.v.f, 1.5);
    CHECK_EQ(def_of(c, "f64").def.type, RS_F64);
    CHECK_EQ(def_of(c, "fneg").def.v.f, -2.5e-3);
    CHECK_EQ(def_of(c, "fint").def.v.f, 7.0);
    CHECK_EQ(def_of(c, "fbig").def.v.f, 1e23);
    CHECK_EQ(def_of(c, "fzero").def.v.f, -0.0);
    CHECK_EQ(def_of(c, "finf").def.v.f, -INFINITY);
    CHECK(isnan(def_of(c, "fnan").def.v.f));
    CHECK_EQ(def_of(c, "f32").def.v.f, (double)0.1f);
    CHECK_EQ(def_of(c, "f32").def.type, RS_F32);
    CHECK_EQ(def_of(c, "f32max").def.v.f, (double)FLT_MAX);
    CHECK_EQ(def_of(c, "f32i").def.v.f, 3.0);
    d = def_of(c, "s");
    CHECK_EQ(d.def.type, RS_STR);
    CHECK_EQ(d.def.v.s.len, 8u);
    CHECK(d.def.v.s.len == 8 && memcmp(d.def.v.s.ptr, "a\"b\\c\n\tA", 8) == 0);
    d = def_of(c, "empty");
    CHECK(d.has_default);
    CHECK_EQ(d.def.v.s.len, 0u);
    d = def_of(c, "zh");
    CHECK_EQ(d.flags, RS_FIELD_UNIQUE);
    CHECK_EQ(d.def.v.s.len, 6u);
    d = def_of(c, "nul");
    CHECK(d.def.v.s.len == 3 && memcmp(d.def.v.s.ptr, "a\0b", 3) == 0);
    d = def_of(c, "big");
    CHECK(d.def.v.s.len == 1000 && memcmp(d.def.v.s.ptr, big, 1000) == 0);

    const char *f = format(c);
    CHECK_HAS(f, "    b1: bool = true;\n");
    CHECK_HAS(f, "    i64lo: i64 = -9223372036854775808;\n");
    CHECK_HAS(f, "    u64: u64 = 18446744073709551615;\n");
    CHECK_HAS(f, "    f64: f64 = 1.5;\n");
    CHECK_HAS(f, "    fneg: f64 = -0.0025;\n");
    CHECK_HAS(f, "    fint: f64 = 7.0;\n");
    CHECK_HAS(f, "    fbig: f64 = 1e+23;\n");
    CHECK_HAS(f, "    fzero: f64 = -0.0;\n");
    CHECK_HAS(f, "    finf: f64 = -inf;\n");
    CHECK_HAS(f, "    fnan: f64 = nan;\n");
    CHECK_HAS(f, "    f32: f32 = 0.1;\n");
    CHECK_HAS(f, "    f32max: f32 = 3.4028235e+38;\n");
    CHECK_HAS(f, "    s: str(16) = \"a\\\"b\\\\c\\n\\tA\";\n");
    CHECK_HAS(f, "    empty: str(1) = \"\";\n");
    CHECK_HAS(f, "    zh: str(12) unique = \"\xe7\x8e\xa9\xe5\xae\xb6\";\n");
    CHECK_HAS(f, "    nul: str(3) = \"a\\x00b\";\n");
    rs_store_close(st);
}

/* The default may stand before or between the modifiers. */
static void modifier_order(void)
{
    static const char *const texts[] = {
        "M { k: u8 key; a: u8 unique = 3 }",
        "M { k: u8 key; a: u8 = 3 unique }",
        "M { a: u8 = 3 unique; k: u8 key }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        rs_store *st = open_store();
        rs_class *c = NULL;
        if (CHECK_OK(st, parse(st, texts[i], &c))) {
            rs_field_def d = def_of(c, "a");
            CHECK_EQ(d.flags, RS_FIELD_UNIQUE);
            CHECK(d.has_default);
            CHECK_EQ(d.def.v.u, 3u);
            CHECK_HAS(format(c), "    a: u8 unique = 3;\n");
        }
        rs_store_close(st);
    }
}

/* format -> parse gives the same class, so the same text again. */
static void round_trip(void)
{
    static const char *const texts[] = {
        player_text,
        "A { k: i64 key }",
        "Weird { _: str(64) key; _9: str(40) = \"\\x01\\x02\\x1f\\x7f\\\"\\\\"
        "\\n\\t\\x0d# not a comment\"; zh: str(9) = \"\xe4\xb8\xad\xf0\x9f\x98"
        "\x80\" } dynamic",
        "F { k: u8 key; a: f32 = 0.1; b: f32 = -3.4028235e38; "
        "c: f32 = 1e-45; d: f32 = nan; e: f32 = -inf; f: f32 = 16777217; "
        "g: f64 = 1.7976931348623157e308; h: f64 = 4.9e-324; "
        "i: f64 = 0.30000000000000004; j: f64 = -nan; l: f64 = 1e22; "
        "m: f64 = 123456789012345678 }",
        "I { k: u64 key; a: i8 = -1; b: u64 = 9223372036854775808; "
        "c: i64 = -1; d: bool = false; e: bool = true; f: u16 unique }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        rs_store *st1 = open_store();
        rs_class *c1 = NULL;
        if (!CHECK_OK(st1, parse(st1, texts[i], &c1))) {
            rs_store_close(st1);
            continue;
        }
        char t1[4096];
        size_t n1 = rs_class_format(c1, t1, sizeof t1);
        CHECK(n1 < sizeof t1);
        CHECK_EQ(strlen(t1), n1);

        rs_store *st2 = open_store();
        rs_class *c2 = NULL;
        if (CHECK_OK(st2, rs_class_parse(st2, t1, n1, &c2))) {
            CHECK_EQ(format(c2), t1);
            CHECK_EQ(rs_class_flags(c2), rs_class_flags(c1));
            CHECK_EQ(rs_class_n_fields(c2), rs_class_n_fields(c1));
            for (size_t f = 0; f < rs_class_n_fields(c1); f++) {
                rs_field_def a, b;
                CHECK_OK(st1, rs_class_field_def(c1, (rs_field)f, &a));
                CHECK_OK(st2, rs_class_field_def(c2, (rs_field)f, &b));
                CHECK_EQ(a.name, b.name);
                CHECK_EQ(a.type, b.type);
                CHECK_EQ(a.max_len, b.max_len);
                CHECK_EQ(a.flags, b.flags);
                CHECK_EQ(a.has_default, b.has_default);
                CHECK_EQ(a.def.type, b.def.type);
                if (a.type == RS_STR) {
                    CHECK(a.def.v.s.len == b.def.v.s.len &&
                          memcmp(a.def.v.s.ptr, b.def.v.s.ptr, a.def.v.s.len) ==
                              0);
                } else if (a.type == RS_F32 || a.type == RS_F64) {
                    CHECK(memcmp(&a.def.v.f, &b.def.v.f, sizeof a.def.v.f) ==
                              0 ||
                          (isnan(a.def.v.f) && isnan(b.def.v.f) &&
                           signbit(a.def.v.f) == signbit(b.def.v.f)));
                } else if (a.type == RS_BOOL) {
                    CHECK_EQ(a.def.v.b, b.def.v.b);
                } else {
                    CHECK_EQ(a.def.v.u, b.def.v.u);
                }
            }
        }
        rs_store_close(st2);
        rs_store_close(st1);
    }
}

/* rs_class_format() is snprintf-like. */
static void format_buffer(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    if (!CHECK_OK(st, parse(st, "S { k: u8 key }", &c))) {
        rs_store_close(st);
        return;
    }
    static const char want[] = "S {\n    k: u8 key;\n}\n";
    size_t n = sizeof want - 1;
    CHECK_EQ(rs_class_format(c, NULL, 0), n);
    char buf[64];
    memset(buf, '@', sizeof buf);
    CHECK_EQ(rs_class_format(c, buf, 0), n);
    CHECK_EQ(buf[0], '@');
    CHECK_EQ(rs_class_format(c, buf, 1), n);
    CHECK_EQ(buf[0], '\0');
    memset(buf, '@', sizeof buf);
    CHECK_EQ(rs_class_format(c, buf, 5), n);
    CHECK_EQ(buf, "S {\n");
    CHECK_EQ(buf[5], '@');
    CHECK_EQ(rs_class_format(c, buf, n), n);
    CHECK_EQ(strlen(buf), n - 1);
    CHECK_EQ(rs_class_format(c, buf, n + 1), n);
    CHECK_EQ(buf, want);
    rs_store_close(st);
}

typedef struct bad_text {
    const char *text;
    rs_status status;
    const char *msg; /* a substring of rs_errmsg() */
} bad_text;

static const bad_text bad_texts[] = {
    {"", RS_ESYNTAX,
     "line 1, column 1: expected a class name, found the end of the text"},
    {"  # only a comment\n", RS_ESYNTAX,
     "line 2, column 1: expected a class name, found the end of the text"},
    {"{ a: u8 key }", RS_ESYNTAX,
     "line 1, column 1: expected a class name, found '{'"},
    {"9P { a: u8 key }", RS_ESYNTAX, "expected a class name, found '9P'"},
    {"Player", RS_ESYNTAX,
     "line 1, column 7: expected '{' after the class name, found the end "
     "of the text"},
    {"Player {\n    uid: str(16) key;\n    stat: u17\n}", RS_ESYNTAX,
     "class text line 3, column 11: expected a type (bool, i8..i64, "
     "u8..u64, f32, f64, str(N)), found 'u17'"},
    {"P { a: str 16 key }", RS_ESYNTAX,
     "line 1, column 12: expected '(' after str, found '16'"},
    {"P { a: str(x) key }", RS_ESYNTAX,
     "line 1, column 12: expected the length N of str(N), found 'x'"},
    {"P { a: str(-1) key }", RS_ESYNTAX,
     "expected the length N of str(N), found '-1'"},
    {"P { a: str(16 key }", RS_ESYNTAX,
     "line 1, column 15: expected ')' after the length of str(N), found "
     "'key'"},
    {"P { a u8 key }", RS_ESYNTAX,
     "line 1, column 7: expected ':' after the field name, found 'u8'"},
    {"P { a: u8 key b: u8 }", RS_ESYNTAX,
     "line 1, column 15: expected 'key', 'unique', '= default', ';', a "
     "newline or '}', found 'b'"},
    {"P { a: u8 key", RS_ESYNTAX,
     "line 1, column 14: expected 'key', 'unique', '= default', ';', a "
     "newline or '}', found the end of the text"},
    {"P { a: u8 key key }", RS_ESYNTAX, "line 1, column 15: 'key' given twice"},
    {"P { k: u8 key; a: u8 unique unique }", RS_ESYNTAX,
     "line 1, column 29: 'unique' given twice"},
    {"P { k: u8 key; a: u8 = 1 = 2 }", RS_ESYNTAX,
     "line 1, column 26: a second default for field 'a'"},
    {"P { k: u8 key; a: u8 = }", RS_ESYNTAX,
     "line 1, column 24: expected a default (an integer, a float, true, "
     "false or a \"string\"), found '}'"},
    {"P { k: u8 key; a: u8 = 12x }", RS_ESYNTAX,
     "line 1, column 24: expected a default (an integer, a float, true, "
     "false or a \"string\"), found '12x'"},
    {"P { k: u8 key; a: f64 = 1.2.3 }", RS_ESYNTAX, "found '1.2.3'"},
    {"P { k: u8 key; a: f64 = 1e }", RS_ESYNTAX, "found '1e'"},
    {"P { k: u8 key; a: f64 = - }", RS_ESYNTAX, "found '-'"},
    {"P { k: u8 key; a: bool = yes }", RS_ESYNTAX, "found 'yes'"},
    {"P { k: u8 key; a: u8 = \n 1 }", RS_ESYNTAX,
     "line 1, column 24: expected a default (an integer, a float, true, "
     "false or a \"string\"), found the end of the line"},
    {"P { k: u8 key; a: str(4) = \"ab }", RS_ESYNTAX,
     "line 1, column 28: string not closed before the end of the text"},
    {"P {\n k: u8 key; a: str(4) = \"ab\n}", RS_ESYNTAX,
     "line 2, column 25: string not closed before the end of the line"},
    {"P { k: u8 key; a: str(4) = \"ab\\", RS_ESYNTAX,
     "line 1, column 31: string not closed before the end of the text"},
    {"P { k: u8 key; a: str(4) = \"a\\qb\" }", RS_ESYNTAX,
     "line 1, column 30: unknown escape '\\q' in a string (use \\\" "
     "\\\\ \\n \\t or \\xHH)"},
    {"P { k: u8 key; a: str(4) = \"a\\\x01\" }", RS_ESYNTAX,
     "line 1, column 30: byte 0x01 after a backslash in a string"},
    {"P { k: u8 key; a: str(4) = \"\\x4\" }", RS_ESYNTAX,
     "line 1, column 29: expected two hex digits after \\x"},
    {"P { k: u8 key; a: str(4) = \"\\x4", RS_ESYNTAX,
     "expected two hex digits after \\x"},
    {"P { k: u8 key; a: str(4) = \"\\xg0\" }", RS_ESYNTAX,
     "expected two hex digits after \\x"},
    {"P { a: u8 key } static", RS_ESYNTAX,
     "line 1, column 17: expected 'dynamic' or the end of the text, found "
     "'static'"},
    {"P { a: u8 key } dynamic\n\n x", RS_ESYNTAX,
     "line 3, column 2: expected the end of the text, found 'x'"},
    {"P { a: u8 key } dynamic }", RS_ESYNTAX,
     "expected the end of the text, found '}'"},
    {"P { 9a: u8 key }", RS_ESYNTAX,
     "line 1, column 5: expected a field name or '}', found '9a'"},
    {"P { \"a\": u8 key }", RS_ESYNTAX,
     "expected a field name or '}', found a string"},
    {"P { a: u8 key; }\x01", RS_ESYNTAX,
     "line 1, column 17: expected 'dynamic' or the end of the text, found "
     "'\\x01'"},
    {"P { a: u8 key; \xe7\x8e\xa9: u8 }", RS_ESYNTAX,
     "expected a field name or '}', found '\\xe7'"},
    {"P {\n a:\n u8 key }", RS_ESYNTAX,
     "line 2, column 4: expected a type (bool, i8..i64, u8..u64, f32, f64, "
     "str(N)), found the end of the line"},
    {"P { a: u8 key\n", RS_ESYNTAX,
     "line 2, column 1: expected a field name or '}', found the end of the "
     "text"},
    {"P { a: U8 key }", RS_ESYNTAX, "found 'U8'"},
    {"P { a: string key }", RS_ESYNTAX, "found 'string'"},
    {"P { a: u8 primary }", RS_ESYNTAX, "found 'primary'"},
    {"P { a: u8 key: }", RS_ESYNTAX, "found ':'"},
    /* Errors of the declaration itself, through rs_class_create(). */
    {"P { }", RS_EINVAL, "class 'P' has no fields"},
    {"P { a: u8 }", RS_EINVAL, "class 'P' has no key field"},
    {"P { a: u8 key; b: u8 key }", RS_EINVAL,
     "class 'P' has two key fields: 'a' and 'b'"},
    {"P { a: u8 key unique }", RS_EINVAL,
     "P.a: a key is unique already; drop 'unique'"},
    {"P {\n k: u8 key\n a: u8 unique key; b: u8 }", RS_EINVAL,
     "P.a: a key is unique already; drop 'unique'"},
    {"P { a: u8 key; a: i8 }", RS_EINVAL,
     "class 'P' has two fields named "
     "'a'"},
    {"P { a: bool key }", RS_EINVAL, "P.a: a key field cannot be bool"},
    {"P { a: f32 key }", RS_EINVAL, "P.a: a key field cannot be f32"},
    {"P { k: u8 key; a: f64 unique }", RS_EINVAL,
     "P.a: a unique field cannot be f64"},
    {"P { k: u8 key; a: bool unique }", RS_EINVAL,
     "P.a: a unique field cannot be bool"},
    {"P { a: str(0) key }", RS_EINVAL,
     "P.a: str(0) is out of range "
     "1..16777215"},
    {"P { a: str(16777216) key }", RS_EINVAL,
     "P.a: str(16777216) is out of range 1..16777215"},
    {"P { a: str(99999999999999999999999) key }", RS_EINVAL,
     "P.a: str(99999999999999999999999) is out of range 1..16777215"},
    {"P { a: str(18446744073709551615) key }", RS_EINVAL,
     "is out of range 1..16777215"},
    {"P { a: u8 key = 1 }", RS_EINVAL,
     "P.a: the key field cannot have a default"},
    {"P { a: u8 = 1 key }", RS_EINVAL,
     "P.a: the key field cannot have a default"},
    {"P {\n a: u8 key # comment\n b: i8 = -129 }", RS_ERANGE,
     "P.b: -129 out of range for i8"},
    {"P { a: u8 key; b: u16 = 70000 }", RS_ERANGE,
     "P.b: 70000 out of range for u16"},
    {"P { a: u8 key; b: u64 = -1 }", RS_ERANGE, "P.b: -1 out of range for u64"},
    {"P { a: u8 key; b: u8 = 99999999999999999999 }", RS_ERANGE,
     "P.b: 99999999999999999999 out of range for u8"},
    {"P { a: u8 key; b: i64 = -9223372036854775809 }", RS_ERANGE,
     "P.b: -9223372036854775809 out of range for i64"},
    {"P { a: u8 key; b: f32 = 1e39 }", RS_ERANGE,
     "P.b: 1e+39 out of range for f32"},
    {"P { a: u8 key; b: f64 = 1e999 }", RS_ERANGE,
     "P.b: 1e999 out of range for f64"},
    {"P { a: u8 key; b: u8 = \"x\" }", RS_ETYPE, "P.b: expected u8, got str"},
    {"P { a: u8 key; b: bool = 1 }", RS_ETYPE, "P.b: expected bool, got i64"},
    {"P { a: u8 key; b: i8 = 1.5 }", RS_ETYPE, "P.b: expected i8, got f64"},
    {"P { a: u8 key; b: i8 = inf }", RS_ETYPE, "P.b: expected i8, got f64"},
    {"P { a: u8 key; b: str(3) = 5 }", RS_ETYPE,
     "P.b: expected str(3), got i64"},
    {"P { a: u8 key; b: str(3) = true }", RS_ETYPE,
     "P.b: expected str(3), got bool"},
    {"P { a: u8 key; b: str(2) = \"abc\" }", RS_ETOOLONG,
     "P.b: 3 bytes exceeds str(2)"},
    {"P { a: u8 key; b: str(8) = \"a\\xff\" }", RS_EUTF8,
     "P.b: invalid UTF-8 at byte 1"},
    {"P { a: u8 key; b: str(8) = \"ab\xc0\x80\" }", RS_EUTF8,
     "P.b: invalid UTF-8 at byte 2"},
    {"ThisClassNameIsLongerThanSixtyFourBytesWhichIsTheLimitOfRoster_xy {"
     " a: u8 key }",
     RS_EINVAL, "is longer than 64 bytes"},
    {"P { ThisFieldNameIsLongerThanSixtyFourBytesWhichIsTheLimitOfRostr_xyz:"
     " u8 key }",
     RS_EINVAL, "is longer than 64 bytes"},
};

static void parse_errors(void)
{
    rs_store *st = open_store();
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        const bad_text *b = &bad_texts[i];
        rs_mem_report before, after;
        rs_mem(st, &before);
        rs_class *c = (rs_class *)&before; /* must stay untouched */
        rs_status s = parse_exact(st, b->text, strlen(b->text), &c);
        if (!CHECK_ST(st, s, b->status)) {
            fprintf(stderr, "  in case %zu: %s\n", i, b->text);
            continue;
        }
        if (!CHECK_HAS(rs_errmsg(st), b->msg)) {
            fprintf(stderr, "  in case %zu: %s\n", i, b->text);
        }
        /* The text form's errors speak its words, not the C API's. */
        if (!CHECK(strstr(rs_errmsg(st), "RS_") == NULL)) {
            fprintf(stderr, "  in case %zu: \"%s\" names the C API\n", i,
                    rs_errmsg(st));
        }
        CHECK(c == (rs_class *)&before);
        CHECK(rs_class_find(st, "P") == NULL);
        rs_mem(st, &after);
        CHECK(mem_same(&before, &after));
    }
    rs_store_close(st);
}

/* Every prefix of valid texts, from an exactly-sized buffer: the parser
 * never reads past len and fails cleanly. */
static void parse_prefixes(void)
{
    static const char *const texts[] = {
        player_text,
        "W { k: str(9) key = \"a\\x41\\\"\\\\\\n\" ; f: f64 = -1.5e-3; "
        "g: f32 = -inf } dynamic",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        for (size_t n = 0; n <= len; n++) {
            rs_store *st = open_store();
            rs_class *c = NULL;
            rs_status s = parse_exact(st, texts[i], n, &c);
            CHECK(s == RS_OK || s == RS_ESYNTAX || s == RS_EINVAL);
            CHECK(rs_errmsg(st)[0] != '\0' || s == RS_OK);
            rs_store_close(st);
        }
    }
}

static void parse_limits(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    CHECK_ST(st, rs_class_parse(st, NULL, 0, &c), RS_ESYNTAX);
    CHECK_ST(st, rs_class_parse(st, NULL, 5, &c), RS_EINVAL);
    CHECK_EQ(rs_class_parse(NULL, "P { a: u8 key }", 15, &c), RS_EINVAL);

    /* More than 1 MiB of text. */
    size_t big_len = ((size_t)1 << 20) + 1;
    char *big = malloc(big_len);
    if (!CHECK(big != NULL)) {
        rs_store_close(st);
        return;
    }
    memset(big, ' ', big_len);
    memcpy(big, "P { a: u8 key }", 15);
    CHECK_ST(st, rs_class_parse(st, big, big_len, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "limit");
    /* Exactly 1 MiB is fine. */
    CHECK_OK(st, rs_class_parse(st, big, big_len - 1, &c));
    free(big);

    /* 255 fields are fine, 256 are not. */
    char *text = malloc(16 * 300 + 64);
    if (!CHECK(text != NULL)) {
        rs_store_close(st);
        return;
    }
    for (int n = 255; n <= 256; n++) {
        size_t w = (size_t)sprintf(text, "Many%d { k: u8 key", n);
        for (int i = 1; i < n; i++) {
            w += (size_t)sprintf(text + w, "; f%d: u8", i);
        }
        strcpy(text + w, " }");
        rs_mem_report before, after;
        rs_mem(st, &before);
        rs_status s = parse(st, text, &c);
        if (n == 255) {
            CHECK_OK(st, s);
            CHECK_EQ(rs_class_n_fields(c), 255u);
        } else {
            CHECK_ST(st, s, RS_EINVAL);
            CHECK_HAS(rs_errmsg(st), "class 'Many256' has 256 fields, the "
                                     "limit is 255");
            rs_mem(st, &after);
            CHECK(mem_same(&before, &after));
        }
    }
    free(text);

    /* A number longer than the parser's copy. */
    char num[600];
    memset(num, '1', sizeof num);
    num[1] = '.';
    char t2[700];
    snprintf(t2, sizeof t2, "N { k: u8 key; f: f64 = %.*s }", (int)sizeof num,
             num);
    CHECK_ST(st, parse(st, t2, &c), RS_ESYNTAX);
    CHECK_HAS(rs_errmsg(st), "line 1, column 25: number longer than");
    /* An integer that long is fine: it needs no copy. */
    memset(num, '0', sizeof num);
    num[sizeof num - 1] = '7';
    snprintf(t2, sizeof t2, "N { k: u8 key; f: u8 = %.*s }", (int)sizeof num,
             num);
    if (CHECK_OK(st, parse(st, t2, &c))) {
        CHECK_EQ(def_of(c, "f").def.v.u, 7u);
    }
    rs_store_close(st);
}

static void duplicate_class(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL, *c2 = NULL;
    CHECK_OK(st, parse(st, player_text, &c));
    rs_mem_report before, after;
    rs_mem(st, &before);
    CHECK_ST(st, parse(st, "Player { k: u8 key }", &c2), RS_EEXIST);
    CHECK(c2 == NULL);
    rs_mem(st, &after);
    CHECK(mem_same(&before, &after));
    CHECK(rs_class_find(st, "Player") == c);
    CHECK_EQ(rs_class_n_fields(c), 4u);
    rs_field_def k = {"k", RS_U8, 0, RS_FIELD_KEY, false, {0}, 0};
    CHECK_ST(st, rs_class_create(st, "Player", &k, 1, 0, &c2), RS_EEXIST);
    rs_mem(st, &after);
    CHECK(mem_same(&before, &after));
    rs_store_close(st);
}

/* Create a class of a u8 key and the field d; name is made unique. */
static rs_status create1(rs_store *st, rs_field_def d, rs_class **out)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "C%d", ++n);
    rs_field_def defs[2] = {{"k", RS_U8, 0, RS_FIELD_KEY, false, {0}, 0}, d};
    rs_mem_report before, after;
    rs_mem(st, &before);
    rs_status s = rs_class_create(st, name, defs, 2, 0, out);
    if (s != RS_OK) {
        CHECK(rs_class_find(st, name) == NULL);
        rs_mem(st, &after);
        CHECK(mem_same(&before, &after));
    }
    return s;
}

static rs_field_def fdef(rs_type t, uint32_t max_len, rs_value v)
{
    return (rs_field_def){"f", t, max_len, 0, true, v, 0};
}

/* The value rules, through the defaults of rs_class_create(). */
static void coerce_rules(void)
{
    static const struct {
        rs_type type;
        int64_t lo, hi; /* in range; lo - 1 and hi + 1 are not */
    } ranges[] = {
        {RS_I8, -128, 127},
        {RS_I16, -32768, 32767},
        {RS_I32, INT32_MIN, INT32_MAX},
        {RS_U8, 0, 255},
        {RS_U16, 0, 65535},
        {RS_U32, 0, UINT32_MAX},
    };
    rs_store *st = open_store();
    rs_class *c = NULL;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        rs_type t = ranges[i].type;
        CHECK_OK(st, create1(st, fdef(t, 0, rs_val_int(ranges[i].lo)), &c));
        CHECK_OK(st, create1(st, fdef(t, 0, rs_val_int(ranges[i].hi)), &c));
        CHECK_OK(
            st,
            create1(st, fdef(t, 0, rs_val_uint((uint64_t)ranges[i].hi)), &c));
        CHECK_ST(st, create1(st, fdef(t, 0, rs_val_int(ranges[i].lo - 1)), &c),
                 RS_ERANGE);
        CHECK_HAS(rs_errmsg(st), "out of range for");
        CHECK_HAS(rs_errmsg(st), rs_type_name(t));
        CHECK_ST(st, create1(st, fdef(t, 0, rs_val_int(ranges[i].hi + 1)), &c),
                 RS_ERANGE);
        CHECK_ST(st,
                 create1(st,
                         fdef(t, 0, rs_val_uint((uint64_t)ranges[i].hi + 1)),
                         &c),
                 RS_ERANGE);
    }
    /* 64 bits: a negative is not a u64, a u64 above INT64_MAX not an i64. */
    CHECK_ST(st, create1(st, fdef(RS_U64, 0, rs_val_int(-1)), &c), RS_ERANGE);
    CHECK_HAS(rs_errmsg(st), ".f: -1 out of range for u64");
    CHECK_OK(st, create1(st, fdef(RS_U64, 0, rs_val_uint(UINT64_MAX)), &c));
    CHECK_OK(st, create1(st, fdef(RS_I64, 0, rs_val_uint(INT64_MAX)), &c));
    CHECK_ST(
        st,
        create1(st, fdef(RS_I64, 0, rs_val_uint((uint64_t)INT64_MAX + 1)), &c),
        RS_ERANGE);
    CHECK_HAS(rs_errmsg(st), ".f: 9223372036854775808 out of range for i64");
    CHECK_OK(st, create1(st, fdef(RS_I64, 0, rs_val_int(INT64_MIN)), &c));

    /* Any integer type tag is read by its signedness. */
    rs_value small = {.type = RS_U8, .v.u = 200};
    CHECK_OK(st, create1(st, fdef(RS_I16, 0, small), &c));
    CHECK_EQ(def_of(c, "f").def.type, RS_I16);
    CHECK_EQ(def_of(c, "f").def.v.i, 200);
    rs_value neg = {.type = RS_I8, .v.i = -3};
    CHECK_ST(st, create1(st, fdef(RS_U32, 0, neg), &c), RS_ERANGE);

    /* Floats. */
    CHECK_OK(st, create1(st, fdef(RS_F64, 0, rs_val_int(-7)), &c));
    CHECK_EQ(def_of(c, "f").def.v.f, -7.0);
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_uint(UINT64_MAX)), &c));
    CHECK_EQ(def_of(c, "f").def.v.f, (double)(float)UINT64_MAX);
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_f64(FLT_MAX)), &c));
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_f64(-FLT_MAX)), &c));
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_f64(INFINITY)), &c));
    CHECK_EQ(def_of(c, "f").def.v.f, INFINITY);
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_f64(NAN)), &c));
    CHECK(isnan(def_of(c, "f").def.v.f));
    CHECK_OK(st, create1(st, fdef(RS_F32, 0, rs_val_f64(1e-50)), &c));
    CHECK_EQ(def_of(c, "f").def.v.f, 0.0);
    CHECK_ST(st, create1(st, fdef(RS_F32, 0, rs_val_f64(1e39)), &c), RS_ERANGE);
    CHECK_ST(st, create1(st, fdef(RS_F32, 0, rs_val_f64(-1e300)), &c),
             RS_ERANGE);
    CHECK_OK(st, create1(st, fdef(RS_F64, 0, rs_val_f64(1e300)), &c));
    rs_value f32v = {.type = RS_F32, .v.f = 2.5};
    CHECK_OK(st, create1(st, fdef(RS_F64, 0, f32v), &c));
    CHECK_ST(st, create1(st, fdef(RS_U8, 0, rs_val_f64(1.0)), &c), RS_ETYPE);
    CHECK_HAS(rs_errmsg(st), ".f: expected u8, got f64");

    /* bool only from bool, str only from str. */
    CHECK_ST(st, create1(st, fdef(RS_BOOL, 0, rs_val_int(1)), &c), RS_ETYPE);
    CHECK_ST(st, create1(st, fdef(RS_U8, 0, rs_val_bool(true)), &c), RS_ETYPE);
    CHECK_HAS(rs_errmsg(st), ".f: expected u8, got bool");
    CHECK_ST(st, create1(st, fdef(RS_F64, 0, rs_val_bool(true)), &c), RS_ETYPE);
    CHECK_ST(st, create1(st, fdef(RS_STR, 4, rs_val_int(1)), &c), RS_ETYPE);
    CHECK_ST(st, create1(st, fdef(RS_U8, 0, rs_val_cstr("1")), &c), RS_ETYPE);
    CHECK_HAS(rs_errmsg(st), ".f: expected u8, got str");

    /* Strings: length, then UTF-8; NUL bytes are fine. */
    CHECK_OK(st, create1(st, fdef(RS_STR, 4, rs_val_str("a\0bc", 4)), &c));
    CHECK_ST(st, create1(st, fdef(RS_STR, 4, rs_val_cstr("abcde")), &c),
             RS_ETOOLONG);
    CHECK_HAS(rs_errmsg(st), ".f: 5 bytes exceeds str(4)");
    CHECK_OK(st, create1(st,
                         fdef(RS_STR, 6,
                              rs_val_cstr("\xe7\x8e\xa9"
                                          "\xe5\xae\xb6")),
                         &c));
    CHECK_ST(st,
             create1(st,
                     fdef(RS_STR, 5,
                          rs_val_cstr("\xe7\x8e\xa9"
                                      "\xe5\xae\xb6")),
                     &c),
             RS_ETOOLONG);
    CHECK_ST(st, create1(st, fdef(RS_STR, 4, rs_val_str(NULL, 2)), &c),
             RS_EINVAL);
    CHECK_OK(st, create1(st, fdef(RS_STR, 4, rs_val_str(NULL, 0)), &c));

    /* A value of no type at all. */
    rs_value junk = {.type = (rs_type)99};
    CHECK_ST(st, create1(st, fdef(RS_U8, 0, junk), &c), RS_EINVAL);
    rs_store_close(st);
}

static void utf8_rules(void)
{
    static const struct {
        const char *s;
        long bad; /* the offset reported, or -1 if valid */
    } cases[] = {
        {"plain", -1},
        {"\xc2\x80", -1},         /* U+0080 */
        {"\xdf\xbf", -1},         /* U+07FF */
        {"\xe0\xa0\x80", -1},     /* U+0800 */
        {"\xed\x9f\xbf", -1},     /* U+D7FF */
        {"\xee\x80\x80", -1},     /* U+E000 */
        {"\xef\xbf\xbf", -1},     /* U+FFFF */
        {"\xf0\x90\x80\x80", -1}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", -1}, /* U+10FFFF */
        {"a\x80", 1},             /* a lone continuation */
        {"\xc0\x80", 0},          /* overlong NUL */
        {"\xc1\xbf", 0},          /* overlong */
        {"\xe0\x9f\xbf", 0},      /* overlong */
        {"\xf0\x8f\xbf\xbf", 0},  /* overlong */
        {"ab\xed\xa0\x80", 2},    /* surrogate U+D800 */
        {"\xed\xbf\xbf", 0},      /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", 0},  /* U+110000 */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"abc\xe4\xb8", 3}, /* cut short */
        {"\xe4\xb8x", 0},
    };
    rs_store *st = open_store();
    rs_class *c = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_status s =
            create1(st, fdef(RS_STR, 16, rs_val_cstr(cases[i].s)), &c);
        if (cases[i].bad < 0) {
            CHECK_OK(st, s);
        } else if (CHECK_ST(st, s, RS_EUTF8)) {
            char want[64];
            snprintf(want, sizeof want, "invalid UTF-8 at byte %ld",
                     cases[i].bad);
            CHECK_HAS(rs_errmsg(st), want);
        }
    }
    rs_store_close(st);
}

/* Declaration errors of rs_class_create(), with no class or byte left. */
static void create_errors(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    rs_field_def key = {"k", RS_U8, 0, RS_FIELD_KEY, false, {0}, 0};
    rs_field_def f = {"f", RS_U8, 0, 0, false, {0}, 0};
    rs_mem_report before, after;
    rs_mem(st, &before);

    /* Class names. */
    static const char *const bad_names[] = {
        "",
        "9x",
        "a-b",
        "a b",
        "\xe7\x8e\xa9",
        "x\n",
        "a1234567890123456789012345678901234567890123456789012345678901234",
    };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_ST(st, rs_class_create(st, bad_names[i], &key, 1, 0, &c),
                 RS_EINVAL);
        CHECK_HAS(rs_errmsg(st), "class name");
    }
    CHECK_ST(st, rs_class_create(st, NULL, &key, 1, 0, &c), RS_EINVAL);
    /* 64 bytes is the limit, and fine. */
    CHECK_OK(st, rs_class_create(st,
                                 "a12345678901234567890123456789012345"
                                 "6789012345678901234567890123",
                                 &key, 1, 0, &c));
    CHECK_OK(st, rs_class_create(st, "_", &key, 1, 0, &c));
    rs_mem(st, &before);

    /* Field names. */
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        f.name = bad_names[i];
        CHECK_ST(st, create1(st, f, &c), RS_EINVAL);
        CHECK_HAS(rs_errmsg(st), "field name");
    }
    f.name = NULL;
    CHECK_ST(st, create1(st, f, &c), RS_EINVAL);
    f.name = "k";
    CHECK_ST(st, create1(st, f, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "has two fields named 'k'");
    f.name = "f";

    /* Keys. */
    rs_field_def two[2] = {key, key};
    two[1].name = "k2";
    CHECK_ST(st, rs_class_create(st, "T", two, 2, 0, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "class 'T' has two key fields: 'k' and 'k2'");
    two[0].flags = 0;
    two[1].flags = 0;
    CHECK_ST(st, rs_class_create(st, "T", two, 2, 0, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "class 'T' has no key field");
    rs_field_def k2 = key;
    k2.type = RS_BOOL;
    CHECK_ST(st, rs_class_create(st, "T", &k2, 1, 0, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "T.k: a key field cannot be bool");
    k2.type = RS_F64;
    CHECK_ST(st, rs_class_create(st, "T", &k2, 1, 0, &c), RS_EINVAL);
    k2 = key;
    k2.has_default = true;
    k2.def = rs_val_int(1);
    CHECK_ST(st, rs_class_create(st, "T", &k2, 1, 0, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "T.k: the key field cannot have a default");
    k2 = key;
    k2.flags = RS_FIELD_KEY | RS_FIELD_UNIQUE;
    CHECK_ST(st, rs_class_create(st, "T", &k2, 1, 0, &c), RS_EINVAL);
    /* The C API's words are its flags'. */
    CHECK_HAS(rs_errmsg(st), "T.k: a key is unique already; drop "
                             "RS_FIELD_UNIQUE");

    /* Field definitions. */
    rs_field_def g = f;
    g.flags = RS_FIELD_UNIQUE;
    g.type = RS_F32;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), ".f: a unique field cannot be f32");
    g.type = RS_BOOL;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    g = f;
    g.type = RS_STR;
    g.max_len = 0;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), ".f: str(0) is out of range 1..16777215");
    g.max_len = RS_MAX_STR + 1;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    g.max_len = RS_MAX_STR;
    CHECK_OK(st, create1(st, g, &c));
    rs_mem(st, &before);
    g = f;
    g.type = (rs_type)RS_TYPE__COUNT;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "unknown type");
    g.type = (rs_type)-1;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    g = f;
    g.flags = 0x4;
    CHECK_ST(st, create1(st, g, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "unknown field flags 0x4");
    g = f;
    g.has_default = true;
    g.def = rs_val_int(256);
    CHECK_ST(st, create1(st, g, &c), RS_ERANGE);
    CHECK_HAS(rs_errmsg(st), ".f: 256 out of range for u8");
    /* max_len is ignored for a type other than str. */
    g = f;
    g.max_len = 12345;
    CHECK_OK(st, create1(st, g, &c));
    CHECK_EQ(def_of(c, "f").max_len, 0u);
    rs_mem(st, &before);

    /* Counts and flags. */
    CHECK_ST(st, rs_class_create(st, "T", &key, 0, 0, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "class 'T' has no fields");
    CHECK_ST(st, rs_class_create(st, "T", NULL, 1, 0, &c), RS_EINVAL);
    CHECK_ST(st, rs_class_create(st, "T", &key, 1, 0x2, &c), RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "unknown class flags 0x2");
    rs_field_def many[RS_MAX_FIELDS + 1];
    char names[RS_MAX_FIELDS + 1][8];
    for (int i = 0; i <= RS_MAX_FIELDS; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        many[i] = f;
        many[i].name = names[i];
    }
    many[0].flags = RS_FIELD_KEY;
    CHECK_ST(st, rs_class_create(st, "T", many, RS_MAX_FIELDS + 1, 0, &c),
             RS_EINVAL);
    CHECK_HAS(rs_errmsg(st), "class 'T' has 256 fields, the limit is 255");
    CHECK(rs_class_find(st, "T") == NULL);
    rs_mem(st, &after);
    CHECK(mem_same(&before, &after));
    CHECK_OK(st, rs_class_create(st, "T", many, RS_MAX_FIELDS, 0, &c));
    CHECK_EQ(rs_class_n_fields(c), (size_t)RS_MAX_FIELDS);
    rs_store_close(st);
}

static void class_calls(void)
{
    /* NULL is survived by the calls that cannot return a status. */
    CHECK(rs_class_name(NULL) == NULL);
    CHECK_EQ(rs_class_n_fields(NULL), 0u);
    CHECK_EQ(rs_class_flags(NULL), 0u);
    CHECK_EQ(rs_class_key(NULL), -1);
    CHECK_EQ(rs_class_field(NULL, "x"), -1);
    rs_field_def d;
    CHECK_EQ(rs_class_field_def(NULL, 0, &d), RS_EINVAL);

    rs_store *st = open_store();
    rs_class *c = NULL;
    rs_field_def defs[3] = {
        {"name", RS_STR, 8, 0, true, rs_val_cstr("anon"), 0},
        {"id", RS_U32, 0, RS_FIELD_KEY, false, {0}, 0},
        {"tag", RS_STR, 4, RS_FIELD_UNIQUE, false, {0}, 0},
    };
    char name[8] = "Obj";
    if (!CHECK_OK(st,
                  rs_class_create(st, name, defs, 3, RS_CLASS_DYNAMIC, &c))) {
        rs_store_close(st);
        return;
    }
    /* Names and defaults are copied. */
    name[0] = 'X';
    defs[0].name = "changed";
    CHECK_EQ(rs_class_name(c), "Obj");
    CHECK_EQ(rs_class_key(c), 1);
    CHECK_EQ(rs_class_field(c, NULL), -1);
    CHECK_EQ(rs_class_field(c, "tag"), 2);
    CHECK_OK(st, rs_class_field_def(c, 0, &d));
    CHECK_EQ(d.name, "name");
    CHECK(d.def.v.s.len == 4 && memcmp(d.def.v.s.ptr, "anon", 4) == 0);
    CHECK(d.def.v.s.ptr != defs[0].def.v.s.ptr);
    CHECK_EQ(format(c), "Obj {\n"
                        "    name: str(8) = \"anon\";\n"
                        "    id: u32 key;\n"
                        "    tag: str(4) unique;\n"
                        "} dynamic\n");
    rs_store_close(st);
}

static void value_parse(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    static const char text[] =
        "T { k: str(8) key; b: bool; i8: i8; level: u16; i64: i64; u64: u64;"
        " f32: f32; f64: f64; s: str(4) }";
    if (!CHECK_OK(st, parse(st, text, &c))) {
        rs_store_close(st);
        return;
    }
    rs_field b = rs_class_field(c, "b"), i8 = rs_class_field(c, "i8"),
             lv = rs_class_field(c, "level"), i64 = rs_class_field(c, "i64"),
             u64 = rs_class_field(c, "u64"), f32 = rs_class_field(c, "f32"),
             f64 = rs_class_field(c, "f64"), s = rs_class_field(c, "s");
    rs_value v;
#define VP(f, text) rs_value_parse(st, c, (f), (text), strlen(text), &v)

    CHECK_OK(st, VP(lv, "65535"));
    CHECK_EQ(v.type, RS_U16);
    CHECK_EQ(v.v.u, 65535u);
    CHECK_OK(st, VP(lv, "0"));
    CHECK_OK(st, VP(lv, "+7"));
    CHECK_EQ(v.v.u, 7u);
    CHECK_OK(st, VP(lv, "-0"));
    CHECK_ST(st, VP(lv, "70000"), RS_ERANGE);
    CHECK_EQ(rs_errmsg(st), "T.level: 70000 out of range for u16");
    CHECK_ST(st, VP(lv, "-1"), RS_ERANGE);
    CHECK_ST(st, VP(lv, "12x"), RS_ETYPE);
    CHECK_EQ(rs_errmsg(st), "T.level: expected u16, got '12x'");
    CHECK_ST(st, VP(lv, ""), RS_ETYPE);
    CHECK_EQ(rs_errmsg(st), "T.level: expected u16, got ''");
    CHECK_ST(st, VP(lv, " 1"), RS_ETYPE);
    CHECK_ST(st, VP(lv, "1 "), RS_ETYPE);
    CHECK_ST(st, VP(lv, "1.0"), RS_ETYPE);
    CHECK_ST(st, VP(lv, "0x10"), RS_ETYPE);
    CHECK_ST(st, VP(lv, "-"), RS_ETYPE);
    CHECK_ST(st, rs_value_parse(st, c, lv, "1\0", 2, &v), RS_ETYPE);
    CHECK_EQ(rs_errmsg(st), "T.level: expected u16, got '1\\x00'");
    CHECK_ST(st, VP(lv, "99999999999999999999999"), RS_ERANGE);
    CHECK_EQ(rs_errmsg(st),
             "T.level: 99999999999999999999999 out of range for u16");

    CHECK_OK(st, VP(i8, "-128"));
    CHECK_EQ(v.type, RS_I8);
    CHECK_EQ(v.v.i, -128);
    CHECK_ST(st, VP(i8, "128"), RS_ERANGE);
    CHECK_OK(st, VP(i64, "-9223372036854775808"));
    CHECK_EQ(v.v.i, INT64_MIN);
    CHECK_ST(st, VP(i64, "9223372036854775808"), RS_ERANGE);
    CHECK_ST(st, VP(i64, "-9223372036854775809"), RS_ERANGE);
    CHECK_OK(st, VP(u64, "18446744073709551615"));
    CHECK_EQ(v.v.u, UINT64_MAX);
    CHECK_ST(st, VP(u64, "18446744073709551616"), RS_ERANGE);

    CHECK_OK(st, VP(b, "true"));
    CHECK_EQ(v.type, RS_BOOL);
    CHECK(v.v.b);
    CHECK_OK(st, VP(b, "1"));
    CHECK(v.v.b);
    CHECK_OK(st, VP(b, "false"));
    CHECK(!v.v.b);
    CHECK_OK(st, VP(b, "0"));
    CHECK(!v.v.b);
    CHECK_ST(st, VP(b, "yes"), RS_ETYPE);
    CHECK_EQ(rs_errmsg(st), "T.b: expected bool, got 'yes'");
    CHECK_ST(st, VP(b, "True"), RS_ETYPE);
    CHECK_ST(st, VP(b, "2"), RS_ETYPE);
    CHECK_ST(st, VP(b, ""), RS_ETYPE);

    CHECK_OK(st, VP(f64, "1.5"));
    CHECK_EQ(v.type, RS_F64);
    CHECK_EQ(v.v.f, 1.5);
    CHECK_OK(st, VP(f64, "3"));
    CHECK_EQ(v.v.f, 3.0);
    CHECK_OK(st, VP(f64, "-2.5e-3"));
    CHECK_EQ(v.v.f, -2.5e-3);
    CHECK_OK(st, VP(f64, "inf"));
    CHECK_EQ(v.v.f, INFINITY);
    CHECK_OK(st, VP(f64, "1e-400")); /* underflow is not an error */
    CHECK_ST(st, VP(f64, "1e999"), RS_ERANGE);
    CHECK_EQ(rs_errmsg(st), "T.f64: 1e999 out of range for f64");
    CHECK_ST(st, VP(f64, "1.5x"), RS_ETYPE);
    CHECK_EQ(rs_errmsg(st), "T.f64: expected f64, got '1.5x'");
    CHECK_ST(st, VP(f64, ""), RS_ETYPE);
    CHECK_ST(st, VP(f64, " 1"), RS_ETYPE);
    CHECK_ST(st, VP(f64, "\t1"), RS_ETYPE);
    CHECK_ST(st, rs_value_parse(st, c, f64, "1\0", 2, &v), RS_ETYPE);
    CHECK_OK(st, VP(f32, "0.1"));
    CHECK_EQ(v.type, RS_F32);
    CHECK_EQ(v.v.f, (double)0.1f);
    CHECK_ST(st, VP(f32, "1e39"), RS_ERANGE);
    CHECK_HAS(rs_errmsg(st), "T.f32: 1e+39 out of range for f32");

    static const char four[] = "abcd";
    CHECK_OK(st, rs_value_parse(st, c, s, four, 4, &v));
    CHECK_EQ(v.type, RS_STR);
    CHECK(v.v.s.ptr == four); /* borrowed */
    CHECK_EQ(v.v.s.len, 4u);
    CHECK_OK(st, rs_value_parse(st, c, s, "a\0b", 3, &v));
    CHECK_EQ(v.v.s.len, 3u);
    CHECK_OK(st, rs_value_parse(st, c, s, NULL, 0, &v));
    CHECK_EQ(v.v.s.len, 0u);
    CHECK_ST(st, VP(s, "abcde"), RS_ETOOLONG);
    CHECK_EQ(rs_errmsg(st), "T.s: 5 bytes exceeds str(4)");
    CHECK_ST(st, VP(s, "ab\xff"), RS_EUTF8);
    CHECK_EQ(rs_errmsg(st), "T.s: invalid UTF-8 at byte 2");

    CHECK_ST(st, VP(-1, "1"), RS_EINVAL);
    CHECK_ST(st, VP(9, "1"), RS_EINVAL);
    CHECK_ST(st, rs_value_parse(st, c, s, NULL, 3, &v), RS_EINVAL);
    CHECK_ST(st, rs_value_parse(st, NULL, s, "a", 1, &v), RS_EINVAL);
    CHECK_EQ(rs_value_parse(NULL, c, s, "a", 1, &v), RS_EINVAL);

    /* A call that succeeds leaves no message. */
    CHECK_OK(st, VP(lv, "1"));
    CHECK_EQ(rs_errmsg(st), "");
#undef VP
    rs_store_close(st);
}

/* Error messages quote what they show, escaped and cut. */
static void message_quoting(void)
{
    rs_store *st = open_store();
    rs_class *c = NULL;
    if (!CHECK_OK(st, parse(st, "Q { k: u8 key; n: u8 }", &c))) {
        rs_store_close(st);
        return;
    }
    rs_value v;
    static const char long_text[] =
        "0123456789012345678901234567890123456789012345678901234567890123";
    CHECK_ST(st, rs_value_parse(st, c, 1, long_text, strlen(long_text), &v),
             RS_ERANGE);
    CHECK_ST(st, rs_value_parse(st, c, 1, "x'\\\n\x7f\xe7\x8e\xa9", 8, &v),
             RS_ETYPE);
    CHECK_EQ(rs_errmsg(st),
             "Q.n: expected u8, got 'x\\'\\\\\\x0a\\x7f\xe7\x8e\xa9'");
    char junk[200];
    memset(junk, 'z', sizeof junk);
    CHECK_ST(st, rs_value_parse(st, c, 1, junk, sizeof junk, &v), RS_ETYPE);
    CHECK_HAS(rs_errmsg(st), "'...");
    CHECK(strlen(rs_errmsg(st)) < 100);
    rs_store_close(st);
}

/* Fail each allocation of a declaration in turn: RS_ENOMEM, and the store
 * as it was. */
static void oom_parse(void)
{
    bool done = false;
    for (long k = 1; !done && k < 1000; k++) {
        rs_store *st = open_store();
        rs_class *c = NULL;
        CHECK_OK(st, parse(st, "Old { k: u8 key }", &c));
        rs_mem_report before, after;
        rs_mem(st, &before);
        alloc_check_arm(&the_alloc, k);
        rs_status s = parse(st,
                            "Player { uid: str(16) key; name: str(32) "
                            "unique = \"anon\"; stat: u8 = 0 } dynamic",
                            &c);
        alloc_check_disarm(&the_alloc);
        if (s == RS_OK) {
            done = true;
            CHECK(rs_class_find(st, "Player") == c);
        } else {
            CHECK_ST(st, s, RS_ENOMEM);
            CHECK(rs_class_find(st, "Player") == NULL);
            rs_mem(st, &after);
            CHECK(mem_same(&before, &after));
        }
        rs_store_close(st);
    }
    CHECK(done);
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                    */
/* ------------------------------------------------------------------------ */

static const check_case cases[] = {
    {"parse_player", parse_player},
    {"parse_spellings", parse_spellings},
    {"every_type", every_type},
    {"type_names", type_names},
    {"value_ctors", value_ctors},
    {"defaults", defaults},
    {"modifier_order", modifier_order},
    {"round_trip", round_trip},
    {"format_buffer", format_buffer},
    {"parse_errors", parse_errors},
    {"parse_prefixes", parse_prefixes},
    {"parse_limits", parse_limits},
    {"duplicate_class", duplicate_class},
    {"coerce_rules", coerce_rules},
    {"utf8_rules", utf8_rules},
    {"create_errors", create_errors},
    {"class_calls", class_calls},
    {"value_parse", value_parse},
    {"message_quoting", message_quoting},
    {"oom_parse", oom_parse},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc = check_main(argc, argv, cases);
    if (!alloc_check_clean(&the_alloc, "after the last case")) {
        rc = 1;
    }
    return rc;
}
