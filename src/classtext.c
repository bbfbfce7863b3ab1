/*
 * classtext.c: the class text form.  rs_class_parse() reads a declaration
 * written as text and hands it to rs_class_create(); rs_class_format()
 * writes a class back in the canonical form, which reads back as the same
 * class.  The schema and the rules a default obeys are class.c's; this file
 * only turns text into rs_field_defs and a schema into text.
 *
 *     class    = name "{" { sep } [ field { sep { sep } field } { sep } ]
 *                "}" [ "dynamic" ]
 *     field    = name ":" type { modifier }
 *     type     = "bool" | "i8" | "i16" | "i32" | "i64" | "u8" | "u16"
 *              | "u32" | "u64" | "f32" | "f64" | "str" "(" digits ")"
 *     modifier = "key" | "unique" | "inline" "(" digits ")" | "=" literal
 *     literal  = integer | float | "true" | "false" | string
 *     integer  = [ "+" | "-" ] digits
 *     float    = [ "+" | "-" ] ( digits [ "." { digit } ] | "." digits )
 *                [ ( "e" | "E" ) [ "+" | "-" ] digits ]
 *              | [ "+" | "-" ] ( "inf" | "nan" )
 *     string   = '"' { byte | "\\" ( '"' | "\\" | "n" | "t" | "x" hex hex ) }
 *                '"'
 *     sep      = ";" | newline
 *     name     = ( letter | "_" ) { letter | digit | "_" }
 *
 * Blanks (space, tab, CR) and comments ("#" to the end of the line) may
 * stand between any two tokens.  Newlines separate fields, so inside the
 * braces a field sits on one line; outside them newlines are blanks.  The
 * modifiers and the default may come in any order, each at most once; the
 * canonical order, which rs_class_format() writes, is `key` or `unique`
 * first and the default last:  `name: str(32) unique = "anon";`.  A string
 * holds any byte but a newline, a raw '"' or a lone backslash; \xHH may
 * build invalid UTF-8, which the declaration then refuses like any bad
 * default.  An integer literal is a valid float default.  Lines and columns
 * in messages count from 1, columns in bytes.
 *
 * The parser is a hand-written recursive descent over a lexer that reads
 * the text through an explicit cursor bounded by its length (the text need
 * not be NUL-terminated and may hold any byte).  It runs twice: the first
 * pass checks everything and counts the fields and the bytes of names and
 * decoded strings, the second, which cannot fail, fills one temporary
 * block sized by the first.  So a class text costs one allocation besides
 * what rs_class_create() makes, whatever its shape.  Numbers are read and
 * floats written by class.c's helpers (class.h), the ones rs_value_parse()
 * and error messages use: strtod() on a bounded NUL-terminated copy and
 * snprintf(), both of which assume the "C" LC_NUMERIC locale (the default
 * of a program that never calls setlocale()).
 *
 * Costs.  rs_class_parse() is O(text) twice, plus the one temporary block,
 * plus what rs_class_create() costs.  rs_class_format() is O(fields +
 * bytes of string defaults), writes into the caller's buffer and never
 * allocates.
 */
#include "class.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A class text past this is refused: real classes are a few hundred bytes,
 * and the bound keeps line and column numbers and the temporary block
 * small. */
#define CLASS_TEXT_MAX ((size_t)1 << 20)

/* The precision for "%.*s" that shows at most RS_MAX_NAME bytes of a name
 * in a message. */
static int name_prec(size_t len)
{
    return len > RS_MAX_NAME ? RS_MAX_NAME : (int)len;
}

/* ------------------------------------------------------------------------ */
/* The class text: lexer                                                     */
/* ------------------------------------------------------------------------ */

typedef enum tok_kind {
    T_EOF,
    T_NL,    /* a newline: separates fields */
    T_IDENT, /* names, type names, key, unique, true, dynamic... */
    T_NUM,   /* a run that starts like a number: 12, -3.5e+2, -inf, 12x */
    T_STR,   /* a well-formed string literal */
    T_PUNCT, /* one of { } : ; ( ) = */
    T_BAD    /* any other byte */
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos;     /* its first byte in the text */
    size_t len;     /* its bytes in the text, a string's quotes included */
    size_t line;    /* from 1 */
    size_t col;     /* from 1, in bytes */
    size_t str_len; /* T_STR: its bytes once the escapes are decoded */
} token;

typedef struct parser {
    rs_store *st;
    const char *text;
    size_t len;
    size_t pos;        /* the cursor: the next byte to lex */
    size_t line;       /* the cursor's line */
    size_t line_start; /* the position of its first byte */
    token tok;         /* the current token, not yet consumed */
    token cls;         /* the class name, for messages */
    /* What the parse produces.  The counting pass leaves defs and bytes
     * NULL and only sums n_fields and n_bytes; the filling pass writes
     * there, into a block the counting pass sized exactly. */
    rs_field_def *defs;
    char *bytes;
    size_t n_fields;
    size_t n_bytes;
    const char *name; /* filling pass: the class name, in bytes */
    unsigned flags;
} parser;

/* Return the status of call if it failed: every step of the parser can
 * fail, and this keeps each step one line. */
#define TRY(call)                                                              \
    do {                                                                       \
        rs_status try_s_ = (call);                                             \
        if (try_s_ != RS_OK) {                                                 \
            return try_s_;                                                     \
        }                                                                      \
    } while (0)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           is_digit(c);
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Report a syntax error at line, col.  Messages read "class text line 2,
 * column 12: expected ..., found 'u17'". */
static rs_status syntax_at(parser *ps, size_t line, size_t col, const char *fmt,
                           ...) RS_PRINTF(4, 5);

static rs_status syntax_at(parser *ps, size_t line, size_t col, const char *fmt,
                           ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rs__err(ps->st, RS_ESYNTAX, "class text line %zu, column %zu: %s",
                   line, col, msg);
}

/* The escapes a string literal knows, for messages. */
static const char escapes[] = "\\\" \\\\ \\n \\t or \\xHH";

/* Lex the string literal starting at text[i], a '"', into ps->tok.  Only
 * checks it and measures its decoded length; decode_str() decodes it. */
static rs_status lex_str(parser *ps, size_t i)
{
    const char *t = ps->text;
    token *tk = &ps->tok;
    size_t j = i + 1;
    size_t n = 0;
    for (;;) {
        if (j == ps->len || t[j] == '\n') {
            return syntax_at(ps, tk->line, tk->col,
                             "string not closed "
                             "before the end of the %s",
                             j == ps->len ? "text" : "line");
        }
        if (t[j] == '"') {
            j++;
            break;
        }
        if (t[j] != '\\') {
            j++;
            n++;
            continue;
        }
        size_t col = j - ps->line_start + 1;
        if (j + 1 == ps->len || t[j + 1] == '\n') {
            return syntax_at(ps, tk->line, col,
                             "string not closed before "
                             "the end of the %s",
                             j + 1 == ps->len ? "text" : "line");
        }
        char e = t[j + 1];
        if (e == '"' || e == '\\' || e == 'n' || e == 't') {
            j += 2;
        } else if (e == 'x') {
            if (j + 3 >= ps->len || hex_val(t[j + 2]) < 0 ||
                hex_val(t[j + 3]) < 0) {
                return syntax_at(ps, tk->line, col,
                                 "expected two hex "
                                 "digits after \\x");
            }
            j += 4;
        } else if (e > ' ' && e < 0x7f) {
            return syntax_at(ps, tk->line, col,
                             "unknown escape '\\%c' in "
                             "a string (use %s)",
                             e, escapes);
        } else {
            return syntax_at(ps, tk->line, col,
                             "byte 0x%02x after a "
                             "backslash in a string (use %s)",
                             (unsigned char)e, escapes);
        }
        n++;
    }
    tk->kind = T_STR;
    tk->len = j - i;
    tk->str_len = n;
    return RS_OK;
}

/* Decode the string literal tk, checked by lex_str(), into dst. */
static void decode_str(const parser *ps, const token *tk, char *dst)
{
    const char *t = ps->text;
    size_t end = tk->pos + tk->len - 1; /* the closing quote */
    size_t n = 0;
    for (size_t j = tk->pos + 1; j < end;) {
        if (t[j] != '\\') {
            dst[n++] = t[j++];
            continue;
        }
        char e = t[j + 1];
        if (e == 'x') {
            dst[n++] = (char)(hex_val(t[j + 2]) * 16 + hex_val(t[j + 3]));
            j += 4;
        } else {
            dst[n++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            j += 2;
        }
    }
    RS_ASSERT(n == tk->str_len);
}

/* Move to the next token.  Blanks and comments are skipped; a newline is a
 * token, because it separates fields. */
static rs_status next(parser *ps)
{
    const char *t = ps->text;
    size_t i = ps->pos;
    for (;;) {
        while (i < ps->len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r')) {
            i++;
        }
        if (i == ps->len || t[i] != '#') {
            break;
        }
        while (i < ps->len && t[i] != '\n') {
            i++;
        }
    }
    token *tk = &ps->tok;
    tk->pos = i;
    tk->line = ps->line;
    tk->col = i - ps->line_start + 1;
    tk->str_len = 0;
    tk->len = 1;
    if (i == ps->len) {
        tk->kind = T_EOF;
        tk->len = 0;
    } else if (t[i] == '\n') {
        tk->kind = T_NL;
        ps->line++;
        ps->line_start = i + 1;
    } else if (is_name_char(t[i]) && !is_digit(t[i])) {
        size_t j = i + 1;
        while (j < ps->len && is_name_char(t[j])) {
            j++;
        }
        tk->kind = T_IDENT;
        tk->len = j - i;
    } else if (is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.') {
        /* Take the longest run a number could be part of, so that "12x"
         * is reported whole rather than as 12 followed by x. */
        size_t j = i + 1;
        while (j < ps->len && (is_name_char(t[j]) || t[j] == '.' ||
                               ((t[j] == '+' || t[j] == '-') &&
                                (t[j - 1] == 'e' || t[j - 1] == 'E')))) {
            j++;
        }
        tk->kind = T_NUM;
        tk->len = j - i;
    } else if (t[i] == '"') {
        TRY(lex_str(ps, i));
    } else if (t[i] != '\0' && strchr("{}:;()=", t[i])) {
        tk->kind = T_PUNCT;
    } else {
        tk->kind = T_BAD;
    }
    ps->pos = i + tk->len;
    return RS_OK;
}

/* next(), then past any newlines. */
static rs_status next_line(parser *ps)
{
    do {
        TRY(next(ps));
    } while (ps->tok.kind == T_NL);
    return RS_OK;
}

static bool is_punct(const parser *ps, char c)
{
    return ps->tok.kind == T_PUNCT && ps->text[ps->tok.pos] == c;
}

static bool tok_is(const parser *ps, const token *tk, const char *word)
{
    size_t n = strlen(word);
    return tk->len == n && memcmp(ps->text + tk->pos, word, n) == 0;
}

/* Report that the current token is not what the grammar expects here. */
static rs_status expected(parser *ps, const char *what)
{
    const token *tk = &ps->tok;
    char found[RS_SHOW_MAX * 4 + 8];
    switch (tk->kind) {
    case T_EOF:
        snprintf(found, sizeof found, "the end of the text");
        break;
    case T_NL:
        snprintf(found, sizeof found, "the end of the line");
        break;
    case T_STR:
        snprintf(found, sizeof found, "a string");
        break;
    default:
        rs__class_quote(found, sizeof found, ps->text + tk->pos, tk->len, '\'');
        break;
    }
    return syntax_at(ps, tk->line, tk->col, "expected %s, found %s", what,
                     found);
}

/* Keep a copy of tk's bytes, NUL-terminated, in the filling pass (and
 * return it); count them in the counting pass (and return NULL). */
static const char *keep_name(parser *ps, const token *tk)
{
    char *p = NULL;
    if (ps->bytes) {
        p = ps->bytes + ps->n_bytes;
        memcpy(p, ps->text + tk->pos, tk->len);
        p[tk->len] = '\0';
    }
    ps->n_bytes += tk->len + 1;
    return p;
}

/* Likewise for the decoded bytes of the string literal tk. */
static const char *keep_str(parser *ps, const token *tk)
{
    char *p = NULL;
    if (ps->bytes) {
        p = ps->bytes + ps->n_bytes;
        decode_str(ps, tk, p);
        p[tk->str_len] = '\0';
    }
    ps->n_bytes += tk->str_len + 1;
    return p;
}

/* ------------------------------------------------------------------------ */
/* The class text: parser                                                    */
/* ------------------------------------------------------------------------ */

/* A default that does not fit 64 bits, or a float, reported like the
 * schema reports a default out of range: "Player.level: ... out of range for
 * u16". */
static rs_status literal_range(parser *ps, const token *field, rs_type t)
{
    const token *tk = &ps->tok;
    /* A number token is printable: [A-Za-z0-9_.+-] */
    return rs__err(ps->st, RS_ERANGE, "%.*s.%.*s: %.*s out of range for %s",
                   name_prec(ps->cls.len), ps->text + ps->cls.pos,
                   name_prec(field->len), ps->text + field->pos,
                   rs__num_prec(tk->len), ps->text + tk->pos, rs_type_name(t));
}

/* Whether p[0..n) is a decimal float: an optional sign, digits with an
 * optional fraction (at least one digit in all), an optional exponent. */
static bool is_decimal_float(const char *p, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        i++;
    }
    for (; i < n && is_digit(p[i]); i++) {
        digits++;
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && is_digit(p[i]); i++) {
            digits++;
        }
    }
    if (digits == 0) {
        return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) {
            i++;
        }
        size_t exp = 0;
        for (; i < n && is_digit(p[i]); i++) {
            exp++;
        }
        if (exp == 0) {
            return false;
        }
    }
    return i == n;
}

static const char default_what[] =
    "a default (an integer, a float, true, false or a \"string\")";

/* literal = integer | float | "true" | "false" | string.  The current
 * token is the literal; on return it is the one after. */
static rs_status parse_default(parser *ps, const token *field, rs_type type,
                               rs_value *out)
{
    const token *tk = &ps->tok;
    const char *p = ps->text + tk->pos;
    if (tk->kind == T_STR) {
        *out = rs_val_str(keep_str(ps, tk), tk->str_len);
    } else if (tk->kind == T_IDENT && tok_is(ps, tk, "true")) {
        *out = rs_val_bool(true);
    } else if (tk->kind == T_IDENT && tok_is(ps, tk, "false")) {
        *out = rs_val_bool(false);
    } else if (tk->kind == T_IDENT && tok_is(ps, tk, "inf")) {
        *out = rs_val_f64(INFINITY);
    } else if (tk->kind == T_IDENT && tok_is(ps, tk, "nan")) {
        *out = rs_val_f64(NAN);
    } else if (tk->kind == T_NUM) {
        /* The body after an optional sign: "-inf" and "+nan" are numbers
         * to the lexer. */
        size_t sign = p[0] == '+' || p[0] == '-';
        const char *body = p + sign;
        size_t body_len = tk->len - sign;
        int r = rs__class_parse_decimal(p, tk->len, out);
        if (r == 0) {
            /* an integer, for any field: rs__class_coerce() checks it */
        } else if (body_len == 3 && memcmp(body, "inf", 3) == 0) {
            *out = rs_val_f64(p[0] == '-' ? -INFINITY : INFINITY);
        } else if (body_len == 3 && memcmp(body, "nan", 3) == 0) {
            *out = rs_val_f64(p[0] == '-' ? -NAN : NAN);
        } else if (r == 2 && type != RS_F32 && type != RS_F64) {
            return literal_range(ps, field, type);
        } else if (r == 2 || is_decimal_float(p, tk->len)) {
            /* An integer beyond 64 bits is still a fine float. */
            if (tk->len > RS_NUM_TEXT_MAX) {
                return syntax_at(ps, tk->line, tk->col,
                                 "number longer "
                                 "than %d characters",
                                 RS_NUM_TEXT_MAX);
            }
            double d = 0;
            if (rs__class_parse_double(p, tk->len, &d) != 0) {
                return literal_range(ps, field, type);
            }
            *out = rs_val_f64(d);
        } else {
            return expected(ps, default_what);
        }
    } else {
        return expected(ps, default_what);
    }
    return next(ps);
}

static const char type_what[] =
    "a type (bool, i8..i64, u8..u64, f32, f64, str(N))";

/* type = name | "str" "(" digits ")".  Sets def->type and def->max_len. */
static rs_status parse_type(parser *ps, const token *field, rs_field_def *def)
{
    if (ps->tok.kind != T_IDENT) {
        return expected(ps, type_what);
    }
    int t = 0;
    while (t < RS_TYPE__COUNT &&
           !tok_is(ps, &ps->tok, rs_type_name((rs_type)t))) {
        t++;
    }
    if (t == RS_TYPE__COUNT) {
        return expected(ps, type_what);
    }
    def->type = (rs_type)t;
    TRY(next(ps));
    if (def->type != RS_STR) {
        return RS_OK;
    }
    if (!is_punct(ps, '(')) {
        return expected(ps, "'(' after str");
    }
    TRY(next(ps));
    const token *tk = &ps->tok;
    rs_value n;
    const char *p = ps->text + tk->pos;
    int r = tk->kind == T_NUM && is_digit(p[0])
                ? rs__class_parse_decimal(p, tk->len, &n)
                : 1;
    if (r == 1) {
        return expected(ps, "the length N of str(N)");
    }
    if (r == 2 || n.type == RS_U64 || n.v.i > (int64_t)RS_MAX_STR) {
        /* The schema's message for a bad length, with the length as
         * written. */
        return rs__err(ps->st, RS_EINVAL,
                       "%.*s.%.*s: str(%.*s) is out of "
                       "range 1..%u",
                       name_prec(ps->cls.len), ps->text + ps->cls.pos,
                       name_prec(field->len), ps->text + field->pos,
                       name_prec(tk->len), p, RS_MAX_STR);
    }
    def->max_len = (uint32_t)n.v.i;
    TRY(next(ps));
    if (!is_punct(ps, ')')) {
        return expected(ps, "')' after the length of str(N)");
    }
    return next(ps);
}

/* "inline" "(" digits ")": the current token is "inline".  The range is
 * the schema's to check, so text and C API give one message. */
static rs_status parse_inline(parser *ps, const token *field, rs_field_def *def)
{
    if (def->inline_len != 0) {
        return syntax_at(ps, ps->tok.line, ps->tok.col,
                         "'inline' given "
                         "twice for field '%.*s'",
                         name_prec(field->len), ps->text + field->pos);
    }
    TRY(next(ps));
    if (!is_punct(ps, '(')) {
        return expected(ps, "'(' after inline");
    }
    TRY(next(ps));
    const token *tk = &ps->tok;
    const char *p = ps->text + tk->pos;
    rs_value n;
    int r = tk->kind == T_NUM && is_digit(p[0])
                ? rs__class_parse_decimal(p, tk->len, &n)
                : 1;
    if (r == 1) {
        return expected(ps, "the length N of inline(N)");
    }
    def->inline_len =
        r == 2 || n.type == RS_U64 || n.v.i > 255 ? 256 : (uint32_t)n.v.i;
    if (def->inline_len == 0) {
        def->inline_len = 256; /* 0 means "default" in the C API */
    }
    TRY(next(ps));
    if (!is_punct(ps, ')')) {
        return expected(ps, "')' after the length of inline(N)");
    }
    return next(ps);
}

/* field = name ":" type { modifier }.  The current token is the name; on
 * return it is the one after the field. */
static rs_status parse_field(parser *ps)
{
    token name = ps->tok;
    rs_field_def def = {0};
    TRY(next(ps));
    if (!is_punct(ps, ':')) {
        return expected(ps, "':' after the field name");
    }
    TRY(next(ps));
    TRY(parse_type(ps, &name, &def));
    for (;;) {
        const token *tk = &ps->tok;
        unsigned flag = 0;
        if (tk->kind == T_IDENT && tok_is(ps, tk, "key")) {
            flag = RS_FIELD_KEY;
        } else if (tk->kind == T_IDENT && tok_is(ps, tk, "unique")) {
            flag = RS_FIELD_UNIQUE;
        } else if (tk->kind == T_IDENT && tok_is(ps, tk, "inline")) {
            TRY(parse_inline(ps, &name, &def));
            continue;
        } else if (is_punct(ps, '=')) {
            if (def.has_default) {
                return syntax_at(ps, tk->line, tk->col,
                                 "a second default "
                                 "for field '%.*s'",
                                 name_prec(name.len), ps->text + name.pos);
            }
            TRY(next(ps));
            TRY(parse_default(ps, &name, def.type, &def.def));
            def.has_default = true;
            continue;
        } else {
            break;
        }
        if (def.flags & flag) {
            return syntax_at(ps, tk->line, tk->col, "'%s' given twice",
                             flag == RS_FIELD_KEY ? "key" : "unique");
        }
        def.flags |= flag;
        if (def.flags == (RS_FIELD_KEY | RS_FIELD_UNIQUE)) {
            /* The schema's check, in the text form's words. */
            return rs__err(ps->st, RS_EINVAL,
                           "%.*s.%.*s: a key is unique "
                           "already; drop 'unique'",
                           name_prec(ps->cls.len), ps->text + ps->cls.pos,
                           name_prec(name.len), ps->text + name.pos);
        }
        TRY(next(ps));
    }
    def.name = keep_name(ps, &name);
    if (ps->defs) {
        ps->defs[ps->n_fields] = def;
    }
    ps->n_fields++;
    return RS_OK;
}

/* class = name "{" fields "}" [ "dynamic" ], and nothing after. */
static rs_status parse_class(parser *ps)
{
    TRY(next_line(ps));
    if (ps->tok.kind != T_IDENT) {
        return expected(ps, "a class name");
    }
    ps->cls = ps->tok;
    ps->name = keep_name(ps, &ps->tok);
    TRY(next_line(ps));
    if (!is_punct(ps, '{')) {
        return expected(ps, "'{' after the class name");
    }
    TRY(next(ps));
    for (;;) {
        while (ps->tok.kind == T_NL || is_punct(ps, ';')) {
            TRY(next(ps));
        }
        if (is_punct(ps, '}')) {
            break;
        }
        if (ps->tok.kind != T_IDENT) {
            return expected(ps, "a field name or '}'");
        }
        TRY(parse_field(ps));
        if (ps->tok.kind != T_NL && !is_punct(ps, ';') && !is_punct(ps, '}')) {
            return expected(ps, "'key', 'unique', '= default', ';', a "
                                "newline or '}'");
        }
    }
    TRY(next_line(ps));
    if (ps->tok.kind == T_IDENT && tok_is(ps, &ps->tok, "dynamic")) {
        ps->flags |= RS_CLASS_DYNAMIC;
        TRY(next_line(ps));
        if (ps->tok.kind != T_EOF) {
            return expected(ps, "the end of the text");
        }
    }
    if (ps->tok.kind != T_EOF) {
        return expected(ps, "'dynamic' or the end of the text");
    }
    return RS_OK;
}

static void parser_init(parser *ps, rs_store *st, const char *text, size_t len)
{
    memset(ps, 0, sizeof *ps);
    ps->st = st;
    ps->text = text;
    ps->len = len;
    ps->line = 1;
}

rs_status rs_class_parse(rs_store *st, const char *text, size_t len,
                         rs_class **out)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (text == NULL && len > 0) {
        return rs__err(st, RS_EINVAL, "class text is NULL");
    }
    if (len > CLASS_TEXT_MAX) {
        return rs__err(st, RS_EINVAL,
                       "class text of %zu bytes, the limit "
                       "is %zu",
                       len, CLASS_TEXT_MAX);
    }
    parser ps;
    parser_init(&ps, st, text ? text : "", len);
    TRY(parse_class(&ps));
    size_t n = ps.n_fields;
    size_t n_bytes = ps.n_bytes;
    if (n > RS_MAX_FIELDS) {
        return rs__err(st, RS_EINVAL,
                       "class '%.*s' has %zu fields, the "
                       "limit is %d",
                       name_prec(ps.cls.len), ps.text + ps.cls.pos, n,
                       RS_MAX_FIELDS);
    }

    /* One block: the definitions, then the names and string defaults they
     * point at. */
    size_t defs_len = n * sizeof(rs_field_def);
    size_t block_len = defs_len + n_bytes;
    char *block = rs__alloc(st, RS_MEM_META, block_len);
    if (block == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory parsing class '%.*s'",
                       name_prec(ps.cls.len), ps.text + ps.cls.pos);
    }
    parser_init(&ps, st, text ? text : "", len);
    ps.defs = (rs_field_def *)(void *)block;
    ps.bytes = block + defs_len;
    rs_status s = parse_class(&ps);
    /* The second pass reads the same text as the first: it cannot fail.
     * (RS_NEVER() would say so, but clang's -Wstring-conversion rejects its
     * expansion.) */
    bool agree = s == RS_OK && ps.n_fields == n && ps.n_bytes == n_bytes;
    RS_ASSERT(agree);
    if (!agree) {
        rs__free(st, RS_MEM_META, block, block_len);
        return rs__err(st, RS_ECORRUPT,
                       "class text: the second pass "
                       "disagrees with the first");
    }
    s = rs_class_create(st, ps.name, ps.defs, n, ps.flags, out);
    rs__free(st, RS_MEM_META, block, block_len);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Class to text                                                             */
/* ------------------------------------------------------------------------ */

/* An snprintf()-like writer: len counts every byte written, buf holds what
 * fits of them (leaving room for the NUL). */
typedef struct outbuf {
    char *buf;
    size_t cap;
    size_t len;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    if (o->len + 1 < o->cap) {
        size_t room = o->cap - 1 - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A string literal the parser reads back byte for byte. */
static void put_str_lit(outbuf *o, const char *p, size_t len)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c == '\n') {
            put(o, "\\n", 2);
        } else if (c == '\t') {
            put(o, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            put(o, esc, 4);
        } else {
            put(o, p + i, 1); /* the default is valid UTF-8: raw */
        }
    }
    put(o, "\"", 1);
}

static void put_default(outbuf *o, const rs__field *fd)
{
    char tmp[48];
    const rs_value *v = &fd->def;
    switch (fd->type) {
    case RS_STR:
        put_str_lit(o, v->v.s.ptr, v->v.s.len);
        return;
    case RS_F32:
    case RS_F64:
        rs__class_fmt_float(tmp, sizeof tmp, v->v.f, fd->type == RS_F32);
        /* Written as a float so that the text says what it is, although
         * the parser would take an integer. */
        if (strpbrk(tmp, ".eni") == NULL) {
            strcat(tmp, ".0");
        }
        break;
    default:
        rs__class_fmt_value(tmp, sizeof tmp, v);
        break;
    }
    puts_(o, tmp);
}

size_t rs_class_format(const rs_class *cls, char *buf, size_t buflen)
{
    outbuf o = {buf, buflen, 0};
    if (cls != NULL) {
        const rs__schema *sch = rs__schema_of(cls);
        puts_(&o, sch->name);
        puts_(&o, " {\n");
        for (uint32_t i = 0; i < sch->n_fields; i++) {
            const rs__field *fd = &sch->fields[i];
            char tbuf[32];
            rs__class_type_str(tbuf, sizeof tbuf, fd->type, fd->max_len);
            puts_(&o, "    ");
            puts_(&o, fd->name);
            puts_(&o, ": ");
            puts_(&o, tbuf);
            if (fd->flags & RS_FIELD_KEY) {
                puts_(&o, " key");
            }
            if (fd->flags & RS_FIELD_UNIQUE) {
                puts_(&o, " unique");
            }
            if (fd->type == RS_STR && fd->width != RS_STR_CELL(fd->max_len)) {
                char ibuf[24];
                snprintf(ibuf, sizeof ibuf, " inline(%u)", fd->width - 1);
                puts_(&o, ibuf);
            }
            if (fd->has_default) {
                puts_(&o, " = ");
                put_default(&o, fd);
            }
            puts_(&o, ";\n");
        }
        puts_(&o, sch->flags & RS_CLASS_DYNAMIC ? "} dynamic\n" : "}\n");
    }
    if (buflen > 0) {
        buf[o.len < buflen ? o.len : buflen - 1] = '\0';
    }
    return o.len;
}
