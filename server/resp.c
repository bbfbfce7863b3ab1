/*
 * resp.c: the Redis protocol, requests in and replies out.
 *
 * Requests come in two forms, both accepted on any connection and mixed
 * freely in one pipeline:
 *
 *   multibulk   *<n>\r\n then n times $<len>\r\n<len bytes>\r\n
 *   inline      one line of words split on blanks, with "double" (\n \r \t
 *               \b \a \xHH \\ \") and 'single' (\') quotes: redis-cli's
 *               and telnet's form
 *
 * The parser is incremental: it keeps, in resp_parser, how far it has got
 * into the request at the head of the query buffer (the header's element
 * count, the arguments complete, the length of the bulk being read), so a
 * request cut into many reads is looked at about once, not again from its
 * start on every read.  Arguments are offsets into the buffer, not pointers,
 * because the buffer may move while a request is half read.
 *
 * Limits are checked before anything is allocated for a request: an element
 * count above max_args or a bulk length above max_bulk is refused as soon as
 * its header is read (the argument vector grows as arguments arrive, never
 * to the announced count at once, so "*1000000" alone costs nothing), and a
 * header or inline line longer than max_inline without its end is refused
 * too.  The error texts are Redis's, so clients see what they would see from
 * Redis; the connection is closed after one.
 */
#include "resp.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's PROTO_INLINE_MAX_SIZE: a header line ("*3", "$5") longer than
 * this without its \r\n is refused. */
#define HEADER_MAX (64 * 1024)

void resp_parser_init(resp_parser *p)
{
    memset(p, 0, sizeof *p);
    p->n_want = -1;
    p->bulk = -1;
}

void resp_parser_free(resp_parser *p)
{
    free(p->args);
    resp_parser_init(p);
}

/* Redis's string2ll, strictly: an optional '-', then digits without a
 * leading zero (except "0" itself), at most 19 of them.  Returns false for
 * anything else. */
bool resp_parse_ll(const char *s, size_t n, long long *out)
{
    bool neg = false;
    if (n > 0 && s[0] == '-') {
        neg = true;
        s++;
        n--;
    }
    if (n == 0 || n > 19 || (s[0] == '0' && n > 1)) {
        return false;
    }
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    if (v > (unsigned long long)INT64_MAX + (neg ? 1u : 0u)) {
        return false;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

/* The common header, whole in the buffer: at buf[from..] 1 to 18 digits
 * in canonical form (no leading zero but "0" itself) and a '\r' with one
 * more byte after it.  Then *hl is the header's length up to the '\r'
 * (counted from from - 1, the '*' or '$') and *v its value: exactly what
 * the memchr() and resp_parse_ll() of the general path find for it.  Anything
 * else (a sign, more digits, a header cut by the read) is left to them. */
static inline bool quick_len(const char *buf, size_t from, size_t len,
                             size_t *hl, long long *v)
{
    size_t end = len - from > 18 ? from + 18 : len;
    size_t i = from;
    unsigned long long x = 0;
    while (i < end && buf[i] >= '0' && buf[i] <= '9') {
        x = x * 10 + (unsigned long long)(buf[i] - '0');
        i++;
    }
    if (i == from || i + 2 > len || buf[i] != '\r' ||
        (buf[from] == '0' && i - from > 1)) {
        return false;
    }
    *hl = i - from + 1;
    *v = (long long)x;
    return true;
}

static bool push_arg(resp_parser *p, size_t off, size_t len, size_t limit)
{
    if (p->n_args == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        if (cap > limit && limit >= p->n_args + 1) {
            cap = limit;
        }
        resp_arg *a = realloc(p->args, cap * sizeof *a);
        if (a == NULL) {
            return false;
        }
        p->args = a;
        p->cap = cap;
    }
    p->args[p->n_args].off = off;
    p->args[p->n_args].len = len;
    p->n_args++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Split line buf[0..n) into arguments in place, as Redis's sdssplitargs()
 * does.  Returns 0, -1 for unbalanced quotes, -2 out of memory, -3 too many
 * arguments. */
static int split_inline(resp_parser *p, char *buf, size_t n, size_t max_args)
{
    size_t r = 0;
    for (;;) {
        while (r < n && is_blank(buf[r])) {
            r++;
        }
        if (r == n) {
            return 0;
        }
        size_t start = r, w = r;
        char q = 0;
        if (buf[r] == '"' || buf[r] == '\'') {
            q = buf[r++];
        }
        for (;;) {
            if (r == n) {
                if (q) {
                    return -1;
                }
                break;
            }
            char c = buf[r];
            if (!q) {
                if (is_blank(c)) {
                    break;
                }
                buf[w++] = c;
                r++;
            } else if (q == '"' && c == '\\' && r + 3 < n &&
                       buf[r + 1] == 'x' && hexval(buf[r + 2]) >= 0 &&
                       hexval(buf[r + 3]) >= 0) {
                buf[w++] = (char)(hexval(buf[r + 2]) * 16 + hexval(buf[r + 3]));
                r += 4;
            } else if (q == '"' && c == '\\' && r + 1 < n) {
                char e = buf[r + 1];
                buf[w++] = e == 'n'   ? '\n'
                           : e == 'r' ? '\r'
                           : e == 't' ? '\t'
                           : e == 'b' ? '\b'
                           : e == 'a' ? '\a'
                                      : e;
                r += 2;
            } else if (q == '\'' && c == '\\' && r + 1 < n &&
                       buf[r + 1] == '\'') {
                buf[w++] = '\'';
                r += 2;
            } else if (c == q) {
                /* The closing quote must end the word. */
                r++;
                if (r < n && !is_blank(buf[r])) {
                    return -1;
                }
                break;
            } else {
                buf[w++] = c;
                r++;
            }
        }
        if (p->n_args >= max_args) {
            return -3;
        }
        if (!push_arg(p, start, w - start, max_args)) {
            return -2;
        }
    }
}

static resp_result fail(resp_parser *p, const char **err, const char *msg)
{
    *err = msg;
    p->n_want = -1;
    p->bulk = -1;
    p->pos = 0;
    return RESP_ERROR;
}

resp_result resp_parse(resp_parser *p, char *buf, size_t len,
                       const resp_limits *lim, size_t *used, const char **err)
{
    if (p->n_want < 0) {
        p->n_args = 0;
        p->pos = 0;
        if (len == 0) {
            return RESP_MORE;
        }
        if (buf[0] != '*') {
            char *nl = memchr(buf, '\n', len);
            if (nl == NULL) {
                if (len > lim->max_inline) {
                    return fail(p, err,
                                "ERR Protocol error: too big inline request");
                }
                return RESP_MORE;
            }
            size_t n = (size_t)(nl - buf);
            if (n > lim->max_inline) {
                return fail(p, err,
                            "ERR Protocol error: too big inline request");
            }
            *used = n + 1;
            if (n > 0 && buf[n - 1] == '\r') {
                n--;
            }
            int rc = split_inline(p, buf, n, lim->max_args);
            if (rc == -1) {
                return fail(p, err,
                            "ERR Protocol error: unbalanced quotes "
                            "in request");
            }
            if (rc == -3) {
                return fail(p, err,
                            "ERR Protocol error: invalid multibulk length");
            }
            if (rc == -2) {
                p->n_args = 0;
                return RESP_NOMEM;
            }
            return p->n_args ? RESP_REQUEST : RESP_EMPTY;
        }
        size_t hl;
        long long n;
        if (!quick_len(buf, 1, len, &hl, &n)) {
            char *cr = memchr(buf, '\r', len);
            if (cr == NULL) {
                if (len > HEADER_MAX) {
                    return fail(p, err,
                                "ERR Protocol error: too big mbulk "
                                "count string");
                }
                return RESP_MORE;
            }
            hl = (size_t)(cr - buf);
            if (hl > HEADER_MAX) {
                return fail(p, err,
                            "ERR Protocol error: too big mbulk count string");
            }
            if (hl + 2 > len) {
                return RESP_MORE; /* the \n is not in yet */
            }
            if (!resp_parse_ll(buf + 1, hl - 1, &n)) {
                return fail(p, err,
                            "ERR Protocol error: invalid multibulk length");
            }
        }
        if (n > 0 && (unsigned long long)n > lim->max_args) {
            return fail(p, err, "ERR Protocol error: invalid multibulk length");
        }
        if (n <= 0) {
            *used = hl + 2;
            return RESP_EMPTY;
        }
        p->n_want = n;
        p->pos = hl + 2;
        p->bulk = -1;
    }
    while (p->n_args < (size_t)p->n_want) {
        if (p->bulk < 0) {
            if (p->pos >= len) {
                return RESP_MORE;
            }
            if (buf[p->pos] != '$') {
                snprintf(p->errbuf, sizeof p->errbuf,
                         "ERR Protocol error: expected '$', got '%c'",
                         buf[p->pos]);
                return fail(p, err, p->errbuf);
            }
            size_t hl;
            long long b;
            if (!quick_len(buf, p->pos + 1, len, &hl, &b)) {
                char *cr = memchr(buf + p->pos, '\r', len - p->pos);
                if (cr == NULL) {
                    if (len - p->pos > HEADER_MAX) {
                        return fail(p, err,
                                    "ERR Protocol error: too big "
                                    "bulk count string");
                    }
                    return RESP_MORE;
                }
                hl = (size_t)(cr - (buf + p->pos));
                if (hl > HEADER_MAX) {
                    return fail(p, err,
                                "ERR Protocol error: too big bulk "
                                "count string");
                }
                if (p->pos + hl + 2 > len) {
                    return RESP_MORE;
                }
                if (!resp_parse_ll(buf + p->pos + 1, hl - 1, &b)) {
                    return fail(p, err,
                                "ERR Protocol error: invalid bulk length");
                }
            }
            if (b < 0 || (unsigned long long)b > lim->max_bulk) {
                return fail(p, err, "ERR Protocol error: invalid bulk length");
            }
            p->bulk = b;
            p->pos += hl + 2;
        }
        size_t b = (size_t)p->bulk;
        if (len - p->pos < b + 2) {
            return RESP_MORE;
        }
        if (!push_arg(p, p->pos, b, (size_t)p->n_want)) {
            return RESP_NOMEM;
        }
        p->pos += b + 2;
        p->bulk = -1;
    }
    *used = p->pos;
    p->n_want = -1;
    p->pos = 0;
    return RESP_REQUEST;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                   */
/* ------------------------------------------------------------------------ */

void rbuf_free(rbuf *b)
{
    free(b->ptr);
    memset(b, 0, sizeof *b);
}

/* Make room for n more bytes (doubling, from 256); false, with b->failed
 * set, if the allocation fails.  Out of line: the writers below call it
 * only when the buffer is full. */
static __attribute__((noinline)) bool rbuf_grow(rbuf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        cap *= 2;
    }
    char *q = realloc(b->ptr, cap);
    if (q == NULL) {
        b->failed = true;
        return false;
    }
    b->ptr = q;
    b->cap = cap;
    return true;
}

/* Where the next n bytes go, or NULL if the buffer failed: the caller
 * writes at most n bytes there and moves b->len past what it wrote. */
static inline char *rbuf_room(rbuf *b, size_t n)
{
    if (b->failed || (b->cap - b->len < n && !rbuf_grow(b, n))) {
        return NULL;
    }
    return b->ptr + b->len;
}

void rbuf_put(rbuf *b, const void *p, size_t n)
{
    char *w = rbuf_room(b, n);
    if (w == NULL) {
        return;
    }
    memcpy(w, p, n);
    b->len += n;
}

void rbuf_cut(rbuf *b, size_t pos)
{
    if (pos < b->len) {
        b->len = pos;
    }
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "74757677787980818283848586878889909192939495969798"
    "99";

/* u in decimal at dst (at most 20 bytes); returns the length.  No
 * snprintf: every reply header and every integer value comes through here
 * (snprintf cost about a fifth of an HGETALL's time, and later half of
 * formatting an integer field). */
static inline size_t put_u64(char *dst, unsigned long long u)
{
    size_t n = 1;
    for (unsigned long long t = u; t >= 10; t /= 10) {
        n++;
    }
    char *p = dst + n;
    while (u >= 100) {
        unsigned i = (unsigned)(u % 100) * 2;
        u /= 100;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    if (u >= 10) {
        unsigned i = (unsigned)u * 2;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    } else {
        *--p = (char)('0' + u);
    }
    return n;
}

static inline size_t put_i64(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + put_u64(dst + 1, 0 - (unsigned long long)v);
    }
    return put_u64(dst, (unsigned long long)v);
}

size_t fmt_ll(char *buf, long long v)
{
    size_t n = put_i64(buf, v);
    buf[n] = '\0';
    return n;
}

size_t fmt_ull(char *buf, unsigned long long v)
{
    size_t n = put_u64(buf, v);
    buf[n] = '\0';
    return n;
}

/* "$12\r\n": every reply has one. */
static void put_header(rbuf *b, char type, long long n)
{
    char *w = rbuf_room(b, 24);
    if (w == NULL) {
        return;
    }
    w[0] = type;
    size_t k = 1 + put_i64(w + 1, n);
    w[k] = '\r';
    w[k + 1] = '\n';
    b->len += k + 2;
}

void reply_simple(rbuf *b, const char *s)
{
    rbuf_put(b, "+", 1);
    rbuf_put(b, s, strlen(s));
    rbuf_put(b, "\r\n", 2);
}

/* An error's text may not hold \r or \n: they would end the reply early
 * (a library message quoting a client's value could hold them). */
static void put_line(rbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
        rbuf_put(b, &c, 1);
    }
}

void reply_error(rbuf *b, const char *msg)
{
    rbuf_put(b, "-", 1);
    put_line(b, msg, strlen(msg));
    rbuf_put(b, "\r\n", 2);
}

void reply_errorf(rbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    reply_error(b, tmp);
}

void reply_int(rbuf *b, long long v)
{
    put_header(b, ':', v);
}

void reply_bulk(rbuf *b, const void *p, size_t n)
{
    /* One check for room, then header, bytes and CRLF in place. */
    char *w = rbuf_room(b, n + 26);
    if (w == NULL) {
        return;
    }
    w[0] = '$';
    size_t k = 1 + put_u64(w + 1, n);
    w[k] = '\r';
    w[k + 1] = '\n';
    memcpy(w + k + 2, p, n);
    w[k + 2 + n] = '\r';
    w[k + 3 + n] = '\n';
    b->len += k + n + 4;
}

/* An integer as a bulk ("$2\r\n42\r\n"), as HGET replies a number. */
void reply_bulk_ll(rbuf *b, long long v)
{
    char tmp[24];
    size_t n = put_i64(tmp, v);
    reply_bulk(b, tmp, n);
}

void reply_bulk_ull(rbuf *b, unsigned long long v)
{
    char tmp[24];
    size_t n = put_u64(tmp, v);
    reply_bulk(b, tmp, n);
}

void reply_cstr(rbuf *b, const char *s)
{
    reply_bulk(b, s, strlen(s));
}

void reply_null(rbuf *b, int proto)
{
    if (proto >= 3) {
        rbuf_put(b, "_\r\n", 3);
    } else {
        rbuf_put(b, "$-1\r\n", 5);
    }
}

void reply_null_array(rbuf *b, int proto)
{
    if (proto >= 3) {
        rbuf_put(b, "_\r\n", 3);
    } else {
        rbuf_put(b, "*-1\r\n", 5);
    }
}

void reply_array(rbuf *b, size_t n)
{
    put_header(b, '*', (long long)n);
}

void reply_map(rbuf *b, int proto, size_t n_pairs)
{
    if (proto >= 3) {
        put_header(b, '%', (long long)n_pairs);
    } else {
        put_header(b, '*', (long long)(n_pairs * 2));
    }
}

void reply_set(rbuf *b, int proto, size_t n)
{
    put_header(b, proto >= 3 ? '~' : '*', (long long)n);
}

void reply_double(rbuf *b, int proto, double d)
{
    char tmp[40];
    size_t n = fmt_double(tmp, d);
    if (proto >= 3) {
        rbuf_put(b, ",", 1);
        rbuf_put(b, tmp, n);
        rbuf_put(b, "\r\n", 2);
    } else {
        reply_bulk(b, tmp, n);
    }
}

void reply_bool(rbuf *b, int proto, bool v)
{
    if (proto >= 3) {
        rbuf_put(b, v ? "#t\r\n" : "#f\r\n", 4);
    } else {
        reply_int(b, v ? 1 : 0);
    }
}

void reply_verbatim(rbuf *b, int proto, const char *p, size_t n)
{
    if (proto >= 3) {
        put_header(b, '=', (long long)(n + 4));
        rbuf_put(b, "txt:", 4);
        rbuf_put(b, p, n);
        rbuf_put(b, "\r\n", 2);
    } else {
        reply_bulk(b, p, n);
    }
}

size_t fmt_double(char *buf, double d)
{
    if (isinf(d)) {
        strcpy(buf, d > 0 ? "inf" : "-inf");
        return strlen(buf);
    }
    if (isnan(d)) {
        strcpy(buf, "nan");
        return 3;
    }
    int k = 0;
    for (int prec = 15; prec <= 17; prec++) {
        k = snprintf(buf, 32, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    return (size_t)k;
}

size_t fmt_float(char *buf, float f)
{
    if (isinf(f) || isnan(f)) {
        return fmt_double(buf, (double)f);
    }
    int k = 0;
    for (int prec = 6; prec <= 9; prec++) {
        k = snprintf(buf, 32, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f) {
            break;
        }
    }
    return (size_t)k;
}

/* ------------------------------------------------------------------------ */
/* Glob                                                                      */
/* ------------------------------------------------------------------------ */

/* Does pattern element p[*pi..] match c?  Advances *pi past it. */
static bool glob_one(const char *p, size_t pn, size_t *pi, char ch, bool nocase)
{
    size_t i = *pi;
    unsigned char c = (unsigned char)(nocase ? tolower((unsigned char)ch) : ch);
    if (p[i] == '?') {
        *pi = i + 1;
        return true;
    }
    if (p[i] == '[') {
        i++;
        bool neg = i < pn && p[i] == '^';
        if (neg) {
            i++;
        }
        bool match = false;
        while (i < pn && p[i] != ']') {
            if (p[i] == '\\' && i + 1 < pn) {
                match |= (unsigned char)p[i + 1] == (unsigned char)ch;
                i += 2;
            } else if (i + 2 < pn && p[i + 1] == '-') {
                unsigned char lo = (unsigned char)p[i];
                unsigned char hi = (unsigned char)p[i + 2];
                if (nocase) {
                    lo = (unsigned char)tolower(lo);
                    hi = (unsigned char)tolower(hi);
                }
                if (lo > hi) {
                    unsigned char t = lo;
                    lo = hi;
                    hi = t;
                }
                match |= c >= lo && c <= hi;
                i += 3;
            } else {
                unsigned char q = (unsigned char)p[i];
                match |= (nocase ? (unsigned char)tolower(q) : q) == c;
                i++;
            }
        }
        *pi = i < pn ? i + 1 : i; /* past the ], or the end if unclosed */
        return match != neg;
    }
    if (p[i] == '\\' && i + 1 < pn) {
        i++;
    }
    unsigned char q = (unsigned char)p[i];
    *pi = i + 1;
    return (nocase ? (unsigned char)tolower(q) : q) == c;
}

/* Iterative, backing up to the last '*' only: O(pattern * string) at
 * worst, so no pattern can make a SCAN slow (Redis had to bound its
 * recursive matcher, CVE-2022-36021). */
bool glob_match(const char *p, size_t pn, const char *s, size_t sn, bool nocase)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
            continue;
        }
        size_t next = pi;
        if (pi < pn && glob_one(p, pn, &next, s[si], nocase)) {
            pi = next;
            si++;
            continue;
        }
        if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
            continue;
        }
        return false;
    }
    while (pi < pn && p[pi] == '*') {
        pi++;
    }
    return pi == pn;
}
