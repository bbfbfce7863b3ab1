/*
 * fuzz_class.c: libFuzzer target for the class text (rs_class_parse()).
 *
 * Any bytes: the parser must not crash, read past the input, leak, or fail
 * without a message; a failed parse must leave the store's accounting as
 * it was.  A text it accepts must survive the round trip: its canonical form
 * (rs_class_format()) parses, in a fresh store, to a class whose canonical
 * form is the same text.  A mismatch aborts, which libFuzzer reports.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_class.c <library sources> -o fuzz_class
 *   ./fuzz_class fuzz/corpus/class
 */
#include "roster.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_class: %s\n--- first\n%s\n--- second\n%s\n", what,
            a ? a : "", b ? b : "");
    abort();
}

/* cls's text form, malloc'ed; checks the snprintf-like contract too. */
static char *format(const rs_class *cls)
{
    size_t n = rs_class_format(cls, NULL, 0);
    char *t = malloc(n + 1);
    if (t == NULL) {
        abort();
    }
    if (rs_class_format(cls, t, n + 1) != n || strlen(t) != n) {
        fail("rs_class_format length", t, NULL);
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rs_store *a = NULL;
    if (rs_store_open(NULL, NULL, &a) != RS_OK) {
        return 0;
    }
    rs_mem_report before, after;
    rs_mem(a, &before);
    rs_class *c1 = NULL;
    rs_status s = rs_class_parse(a, (const char *)data, size, &c1);
    if (s != RS_OK) {
        rs_mem(a, &after);
        if (rs_errmsg(a)[0] == '\0') {
            fail("a failure without a message", NULL, NULL);
        }
        if (after.total != before.total || after.n_allocs != before.n_allocs) {
            fail("a failed parse changed the accounting", rs_errmsg(a), NULL);
        }
        rs_store_close(a);
        return 0;
    }
    char *t1 = format(c1);
    rs_store *b = NULL;
    if (rs_store_open(NULL, NULL, &b) != RS_OK) {
        abort();
    }
    rs_class *c2 = NULL;
    if (rs_class_parse(b, t1, strlen(t1), &c2) != RS_OK) {
        fail("the canonical text does not parse", t1, rs_errmsg(b));
    }
    char *t2 = format(c2);
    if (strcmp(t1, t2) != 0) {
        fail("the round trip changed the class", t1, t2);
    }
    if (rs_class_n_fields(c1) != rs_class_n_fields(c2) ||
        rs_class_flags(c1) != rs_class_flags(c2) ||
        rs_class_key(c1) != rs_class_key(c2) ||
        strcmp(rs_class_name(c1), rs_class_name(c2)) != 0) {
        fail("the round trip changed the class", t1, t2);
    }
    free(t1);
    free(t2);
    rs_store_close(b);
    rs_store_close(a);
    return 0;
}
