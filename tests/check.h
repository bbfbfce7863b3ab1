/*
 * check.h: the checks every test uses.  They print both sides and the
 * place, count failures, and are never compiled out (NDEBUG or not).
 *
 * A test file lists its cases in a table; `test_x` runs them all, and
 * `test_x name` runs the one case called name.
 */
#ifndef ROSTER_CHECK_H
#define ROSTER_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,          \
                    __LINE__, #cond);                                       \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);     \
        if (check_a_ != check_b_) {                                         \
            fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n",\
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);        \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

/* A status call that must succeed; prints the store's message if not. */
#define CHECK_OK(st, call)                                                  \
    do {                                                                    \
        rs_status check_rc_ = (call);                                       \
        if (check_rc_ != RS_OK) {                                           \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__,        \
                    __LINE__, #call, rs_status_name(check_rc_),             \
                    rs_errmsg(st));                                         \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

/* A call that must fail with status want and a message containing text. */
#define CHECK_FAIL(st, call, want, text)                                    \
    do {                                                                    \
        rs_status check_rc_ = (call);                                       \
        if (check_rc_ != (want)) {                                          \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n",    \
                    __FILE__, __LINE__, #call, rs_status_name(check_rc_),   \
                    rs_status_name(want), rs_errmsg(st));                   \
            check_failures++;                                               \
        } else if (strstr(rs_errmsg(st), (text)) == NULL) {                 \
            fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__,   \
                    __LINE__, rs_errmsg(st), (text));                       \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

#define CHECK_STR(a, b)                                                     \
    do {                                                                    \
        const char *check_a_ = (a), *check_b_ = (b);                        \
        if (strcmp(check_a_, check_b_) != 0) {                              \
            fprintf(stderr, "%s:%d: CHECK_STR(%s, %s) failed: '%s' != "     \
                            "'%s'\n",                                       \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);        \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

typedef struct check_case {
    const char *name;
    void (*fn)(void);
} check_case;

/* Run every case, or the one named by argv[1]. */
static int check_main(int argc, char **argv, const check_case *cases)
{
    int ran = 0;
    for (const check_case *c = cases; c->name; c++) {
        if (argc > 1 && strcmp(argv[1], c->name) != 0) {
            continue;
        }
        int before = check_failures;
        c->fn();
        ran++;
        printf("%-32s %s\n", c->name, check_failures == before ? "ok"
                                                               : "FAILED");
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named '%s'\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return check_failures ? 1 : 0;
}

#endif
