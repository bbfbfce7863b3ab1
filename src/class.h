/*
 * class.h: a class's schema (fields, defaults, row layout) and the value
 * rules every module applies to a field: type checks, ranges, string length
 * and UTF-8, and the byte encoding of numbers in a row (all in class.c).
 * Its last section is what class.c lends classtext.c, the class text form:
 * reading numbers, writing floats and types, quoting text for messages.
 *
 * struct rs_class (table.h) begins with an rs__schema, so class.c and
 * classtext.c read a public rs_class pointer as its schema (rs__schema_of()).
 */
#ifndef RS_CLASS_H
#define RS_CLASS_H

#include "internal.h"

/* Bytes a record's row spends before its fields: a 15-bit generation (odd
 * while the record lives) and, in bit 15, whether it has dynamic
 * attributes (table.h). */
#define RS_ROW_HEADER 2
/* A free row keeps the next free slot (32 bits) after its header, so a row
 * is never narrower than this. */
#define RS_ROW_MIN 6
/* Width of a string cell in a row (strs.h): 8 bytes (7 inline) for a
 * field of at most 16 bytes, such as an id; 16 bytes (15 inline) above, so
 * names and other short text live in the row and a lookup by them does not
 * take a second cache miss in the string arena.  For the canonical player
 * the two layouts cost the same bytes (a 9-byte name: 8 + 9 out of line, or
 * 16 inline), and the inline one is faster. */
#define RS_STR_CELL(max_len) ((max_len) <= 16 ? 8u : 16u)
/* A declaration's inline(N) overrides it: the cell is N + 1 bytes, from 5
 * (a tag and a 32-bit ref, or a packed number) to 16. */

typedef struct rs__field {
    char *name; /* owned, NUL-terminated */
    rs_type type;
    uint32_t max_len; /* RS_STR only */
    unsigned flags;   /* RS_FIELD_KEY, RS_FIELD_UNIQUE */
    bool has_default;
    rs_value
        def; /* normalized (rs__class_coerce); a string points at def_buf */
    char *def_buf;  /* owned copy of a string default, or NULL */
    uint32_t off;   /* byte offset in the row */
    uint32_t width; /* bytes in the row */
    int ix;         /* its index among the class's indexes, or -1 */
} rs__field;

typedef struct rs__schema {
    char *name; /* owned, NUL-terminated */
    unsigned flags;
    uint32_t n_fields;
    rs__field *fields;  /* owned, n_fields */
    rs_field key;       /* the key field */
    uint32_t n_indexed; /* the key and every unique field */
    rs_field *indexed;  /* owned: indexed[0] is the key, then unique fields
                           in declaration order; fields[indexed[i]].ix == i */
    uint32_t row_len;   /* fixed width of a row, >= RS_ROW_MIN */
} rs__schema;

/* Validate defs and fill *sch: copy names and string defaults, check and
 * normalize defaults, lay out the row (RS_ROW_HEADER, then each field in
 * declaration order at its width: bool/i8/u8 1, 16-bit 2, 32-bit and f32 4,
 * 64-bit and f64 8, str RS_STR_CELL(max_len) or inline(N) + 1), pick the indexes.  On failure nothing
 * is left allocated and rs_errmsg(st) says what was wrong. */
rs_status rs__class_schema_init(rs_store *st, rs__schema *sch, const char *name,
                                const rs_field_def *defs, size_t n_defs,
                                unsigned flags);
void rs__class_schema_free(rs_store *st, rs__schema *sch);

/* Check val against field f and normalize it into *out: out->type is the
 * field's type, integers in .i (signed) or .u (unsigned), floats in .f
 * (rounded to float for f32), strings borrowed from val.  Errors name the
 * class, the field and the value: "Player.level: 70000 out of range for
 * u16", "Player.name: 40 bytes exceeds str(32)", "Player.name: invalid UTF-8
 * at byte 3", "Player.stat: expected u8, got str". */
rs_status rs__class_coerce(rs_store *st, const rs__schema *sch, rs_field f,
                           const rs_value *val, rs_value *out);

/* Encode a normalized numeric or bool value at p (little endian, unaligned,
 * the field's width), and decode it back. */
void rs__class_num_put(uint8_t *p, rs_type t, const rs_value *v);
rs_value rs__class_num_get(const uint8_t *p, rs_type t);
/* rs__class_num_get() into *out, a member at a time: a caller that hands
 * the value straight on (rs_get_field) then reads each member back from
 * the store that wrote it, where a copy of the whole struct would wait
 * for every store of it to reach the cache, the row's miss included. */
void rs__class_num_read(const uint8_t *p, rs_type t, rs_value *out);

/* The width of a field of type t in a row. */
uint32_t rs__class_type_width(rs_type t);

/* ------------------------------------------------------------------------ */
/* Shared by class.c and classtext.c                                         */
/* ------------------------------------------------------------------------ */

/* A number written in a class text or given to rs_value_parse() is copied
 * into a stack buffer for strtod().  400 characters hold any sensible
 * float; "%.17g" never writes more than 24. */
#define RS_NUM_TEXT_MAX 400

/* How many bytes of a string or token an error message shows before it
 * cuts with "...". */
#define RS_SHOW_MAX 40

/* Whether a type's values are in rs_value's v.i (signed integers) or, for
 * the unsigned integers, v.u: one definition for every module.  The
 * enum keeps each kind contiguous. */
static inline bool rs__class_type_signed(rs_type t)
{
    return t >= RS_I8 && t <= RS_I64;
}

static inline bool rs__class_type_unsigned(rs_type t)
{
    return t >= RS_U8 && t <= RS_U64;
}

/* rs_value_parse() once find.c has checked its arguments (the class's
 * store among them, which class.c does not see). */
rs_status rs__class_value_parse(rs_store *st, const rs_class *cls, rs_field f,
                                const char *text, size_t len, rs_value *out);

/* struct rs_class (table.h) begins with its rs__schema, so a pointer to a
 * class is a pointer to its schema (C11 6.7.2.1p15).  Reading it this way
 * keeps the class files independent of the rest of the store's layout. */
static inline const rs__schema *rs__schema_of(const rs_class *cls)
{
    return (const rs__schema *)(const void *)cls;
}

/* The precision for "%.*s" that shows at most RS_SHOW_MAX bytes of a
 * number in a message. */
static inline int rs__num_prec(size_t len)
{
    return len > RS_SHOW_MAX ? RS_SHOW_MAX : (int)len;
}

/* Read p[0..len) as a decimal integer with an optional sign, into *out as
 * an RS_I64 value, or an RS_U64 one above INT64_MAX.  Returns 0, 1 if the
 * text is not a decimal integer, 2 if it is one beyond 64 bits
 * (-9223372036854775808..18446744073709551615).  Exact: no double. */
int rs__class_parse_decimal(const char *p, size_t len, rs_value *out);

/* Read p[0..len) with strtod(), which must consume all of it, into *out.
 * Returns 0, 1 if it is not a number (or is empty, starts with a blank or
 * is longer than RS_NUM_TEXT_MAX), 2 if it overflows a double. */
int rs__class_parse_double(const char *p, size_t len, double *out);

/* Write the shortest text that reads back (through strtod(), and rounding
 * to float for an f32) as d: 0.1 rather than 0.10000000000000001.  NaN and
 * the infinities are written "nan", "-nan", "inf", "-inf" on every
 * platform. */
void rs__class_fmt_float(char *buf, size_t buflen, double d, bool f32);

/* Write p[0..len) into buf between quote characters q for a message:
 * printable ASCII and valid UTF-8 as they are, q and backslash escaped,
 * other bytes as \xHH.  Past RS_SHOW_MAX bytes, or when buf is too small, the text
 * is cut and "..." follows the closing quote.  Always NUL-terminates buf
 * when buflen > 0. */
void rs__class_quote(char *buf, size_t buflen, const char *p, size_t len,
                     char q);

/* A field's type as declared: "u16" or "str(32)". */
void rs__class_type_str(char *buf, size_t buflen, rs_type t, uint32_t max_len);

#endif
