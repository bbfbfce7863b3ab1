/*
 * fuzz_resp.c: libFuzzer target for rosterd's RESP request parser
 * (server/resp.c: resp_parse()).
 *
 * Any bytes, parsed twice with small limits: once with the whole input in
 * the buffer, once fed in pieces of 1 to 8 bytes (cut points drawn from
 * the input), the way a socket delivers them.  The parser must not crash,
 * read past the buffer or leak, every argument must lie inside its
 * request, and both runs must give the same requests with the same
 * arguments and the same error, whatever the cuts: the incremental state
 * must never change what is parsed.  A difference aborts.  The glob that
 * SCAN's MATCH uses is run on the input split in two, for crashes and
 * time only.
 *
 *   cmake -DROSTER_FUZZ=ON ...; build-fuzz/fuzz/fuzz_resp fuzz/corpus/resp
 */
#include "resp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const resp_limits lim = {
    .max_args = 64, .max_bulk = 256, .max_inline = 128};

/* What a run saw: each request's arguments, then the error, serialized. */
static void note(rbuf *log, const char *tag, const void *p, size_t n)
{
    char hdr[32];
    int k = snprintf(hdr, sizeof hdr, "%s%zu:", tag, n);
    rbuf_put(log, hdr, (size_t)k);
    rbuf_put(log, p, n);
}

/* Parse what buf[0..*len) holds, consuming whole requests; returns 1 once
 * the connection would be closed (an error). */
static int drain(resp_parser *p, char *buf, size_t *len, rbuf *log)
{
    for (;;) {
        size_t used = 0;
        const char *err = NULL;
        resp_result r = resp_parse(p, buf, *len, &lim, &used, &err);
        if (r == RESP_MORE) {
            return 0;
        }
        if (r == RESP_ERROR) {
            if (err == NULL || strncmp(err, "ERR Protocol error: ", 20) != 0) {
                abort();
            }
            note(log, "E", err, strlen(err));
            return 1;
        }
        if (r == RESP_NOMEM) {
            abort();
        }
        if (used == 0 || used > *len) {
            abort();
        }
        if (r == RESP_REQUEST) {
            if (p->n_args == 0 || p->n_args > lim.max_args) {
                abort();
            }
            note(log, "R", "", 0);
            for (size_t i = 0; i < p->n_args; i++) {
                resp_arg a = p->args[i];
                if (a.off > used || a.len > used - a.off ||
                    a.len > lim.max_bulk) {
                    abort();
                }
                note(log, "A", buf + a.off, a.len);
            }
        }
        memmove(buf, buf + used, *len - used);
        *len -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Whole. */
    rbuf one = {0}, two = {0};
    char *buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    size_t len = size;
    resp_parser p;
    resp_parser_init(&p);
    drain(&p, buf, &len, &one);
    resp_parser_free(&p);

    /* In pieces. */
    resp_parser_init(&p);
    len = 0;
    size_t fed = 0;
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size && i < 16; i++) {
        seed = (seed ^ data[i]) * 16777619u;
    }
    while (fed < size) {
        seed = seed * 1103515245u + 12345u;
        size_t k = 1 + (seed >> 16) % 8;
        if (k > size - fed) {
            k = size - fed;
        }
        memcpy(buf + len, data + fed, k);
        len += k;
        fed += k;
        if (drain(&p, buf, &len, &two)) {
            break;
        }
    }
    resp_parser_free(&p);
    if (one.len != two.len || (one.len && memcmp(one.ptr, two.ptr, one.len))) {
        fprintf(stderr,
                "fuzz_resp: whole and piecewise parses differ\n"
                "--- whole\n%.*s\n--- pieces\n%.*s\n",
                (int)one.len, one.ptr ? one.ptr : "", (int)two.len,
                two.ptr ? two.ptr : "");
        abort();
    }
    rbuf_free(&one);
    rbuf_free(&two);

    /* The glob: pattern and string from the input. */
    if (size > 1) {
        size_t cut = data[0] % size;
        memcpy(buf, data, size);
        (void)glob_match(buf + 1, cut, buf + 1 + cut, size - 1 - cut,
                         data[0] & 1);
    }
    free(buf);
    return 0;
}
