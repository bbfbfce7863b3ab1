/*
 * resp.h: the Redis protocol (RESP2 and RESP3) as rosterd speaks it: an
 * incremental request parser that knows nothing of sockets, and a reply
 * buffer with one writer per reply type.  The parser is what fuzz_resp
 * fuzzes.
 */
#ifndef ROSTERD_RESP_H
#define ROSTERD_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits on one request, checked before anything is allocated for it. */
typedef struct resp_limits {
    size_t max_args;   /* elements in a multibulk request */
    size_t max_bulk;   /* bytes in one bulk argument */
    size_t max_inline; /* bytes in an inline request's line */
} resp_limits;

/* An argument: offset and length in the query buffer, so the buffer may
 * move (grow) while a request is half read. */
typedef struct resp_arg {
    size_t off;
    size_t len;
} resp_arg;

/* The state of a request being read: where the next byte to look at is,
 * how many arguments the multibulk header announced and how many are in. */
typedef struct resp_parser {
    size_t pos;       /* bytes of the current request consumed */
    long long n_want; /* announced elements; -1 before the header */
    size_t n_args;    /* arguments complete */
    long long bulk;   /* length of the bulk being read; -1 before its header */
    resp_arg *args;   /* n_args of them, grown as they come */
    size_t cap;
    char errbuf[64]; /* an error naming a byte of the request */
} resp_parser;

typedef enum resp_result {
    RESP_MORE,    /* the request is not complete: read more and call again */
    RESP_REQUEST, /* a request: p->args[0..n_args), *used bytes long */
    RESP_EMPTY,   /* an empty request (an empty line, "*0"): skip *used */
    RESP_ERROR,   /* a protocol error: *err is Redis's text; close after */
    RESP_NOMEM    /* the argument vector could not grow */
} resp_result;

void resp_parser_init(resp_parser *p);
void resp_parser_free(resp_parser *p);

/* Parse the request at the start of buf (len bytes), resuming where the last
 * call left off (the caller passes the same request's bytes again, with more
 * after them).  On RESP_REQUEST and RESP_EMPTY, *used is the request's length
 * and the parser is ready for the next one.  An inline request is split in
 * place (quotes unescaped), so buf is written to.  *err is a static string.
 * Cost: each byte is looked at about once, however the request is cut. */
resp_result resp_parse(resp_parser *p, char *buf, size_t len,
                       const resp_limits *lim, size_t *used, const char **err);

/* A growing output buffer. */
typedef struct rbuf {
    char *ptr;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the contents are cut */
} rbuf;

void rbuf_free(rbuf *b);
void rbuf_put(rbuf *b, const void *p, size_t n);
/* Drop everything from pos on (a transaction's replies, when it fails). */
void rbuf_cut(rbuf *b, size_t pos);

/* Replies.  proto is 2 or 3; RESP2 gets the RESP3 types' RESP2 forms
 * (a null bulk, a flat array of pairs for a map, a bulk for a double). */
void reply_simple(rbuf *b, const char *s);
void reply_error(rbuf *b, const char *msg); /* "ERR ..." or "CODE ..." */
void reply_errorf(rbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reply_int(rbuf *b, long long v);
void reply_bulk(rbuf *b, const void *p, size_t n);
void reply_cstr(rbuf *b, const char *s);  /* a bulk */
void reply_bulk_ll(rbuf *b, long long v); /* an integer as a bulk */
void reply_bulk_ull(rbuf *b, unsigned long long v);
void reply_null(rbuf *b, int proto);       /* $-1 or _ */
void reply_null_array(rbuf *b, int proto); /* *-1 or _ */
void reply_array(rbuf *b, size_t n);
void reply_map(rbuf *b, int proto, size_t n_pairs);
void reply_set(rbuf *b, int proto, size_t n);
void reply_double(rbuf *b, int proto, double d);
void reply_bool(rbuf *b, int proto, bool v);
void reply_verbatim(rbuf *b, int proto, const char *p, size_t n);

/* v in decimal into buf (at least 21 bytes, NUL added); returns the
 * length.  As "%lld" and "%llu" print them, without snprintf. */
/* Redis's string2ll, strictly: an optional '-', then 1 to 19 digits with
 * no leading zero (but "0"), within int64.  false for anything else. */
bool resp_parse_ll(const char *s, size_t n, long long *out);
size_t fmt_ll(char *buf, long long v);
size_t fmt_ull(char *buf, unsigned long long v);

/* A double as Redis prints HINCRBYFLOAT's result: the shortest of %.15g,
 * %.16g and %.17g that reads back to d.  Returns the length; buf holds at
 * least 32 bytes. */
size_t fmt_double(char *buf, double d);
/* The same for a float (f32 field): the shortest that reads back as float. */
size_t fmt_float(char *buf, float f);

/* Redis's glob (stringmatchlen): * ? [abc] [^a-z] and \ escapes. */
bool glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                bool nocase);

#endif
