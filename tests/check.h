/*
 * check.h: the checks every test uses.  They print both sides and the
 * place, count failures, and are never compiled out (NDEBUG or not).
 *
 * Each check is an expression that is true when it passed, so a case can
 * stop early when going on would only repeat the failure:
 *
 *     if (!CHECK_OK(st, rs_class_parse(st, text, len, &c))) {
 *         return;
 *     }
 *
 * CHECK_EQ compares by the type of its first argument: integers (signed
 * and unsigned, each printed as itself), floating point (two NaNs are
 * equal, 0.0 and -0.0 are not) and strings (by content; NULL equals only
 * NULL).
 *
 * A test file lists its cases in a table; `test_x` runs them all, and
 * `test_x name` runs the one case called name.
 */
#ifndef ROSTER_CHECK_H
#define ROSTER_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h" /* the status checks print statuses and messages */

static int check_failures;

/* The start of every failure's report: the place.  Counts the failure;
 * returns false, the value of the failed check. */
static inline bool check_failed_at(const char *file, int line)
{
    fprintf(stderr, "%s:%d: ", file, line);
    check_failures++;
    return false;
}

static inline bool check_true_(bool ok, const char *expr, const char *file,
                               int line)
{
    if (!ok) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK(%s) failed\n", expr);
    }
    return ok;
}

static inline bool check_eq_i_(long long a, long long b, const char *ea,
                               const char *eb, const char *file, int line)
{
    if (a != b) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK_EQ(%s, %s) failed: %lld != %lld\n", ea, eb, a,
                b);
    }
    return a == b;
}

static inline bool check_eq_u_(unsigned long long a, unsigned long long b,
                               const char *ea, const char *eb, const char *file,
                               int line)
{
    if (a != b) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK_EQ(%s, %s) failed: %llu != %llu\n", ea, eb, a,
                b);
    }
    return a == b;
}

/* Two NaNs are equal here; 0.0 and -0.0 are not (a value read back must be
 * the one stored, sign included). */
static inline bool check_eq_d_(double a, double b, const char *ea,
                               const char *eb, const char *file, int line)
{
    bool ok = (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
    if (!ok) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK_EQ(%s, %s) failed: %.17g != %.17g\n", ea, eb, a,
                b);
    }
    return ok;
}

static inline bool check_eq_s_(const char *a, const char *b, const char *ea,
                               const char *eb, const char *file, int line)
{
    bool ok = a && b ? strcmp(a, b) == 0 : a == b;
    if (!ok) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK_EQ(%s, %s) failed: '%s' != '%s'\n", ea, eb,
                a ? a : "(null)", b ? b : "(null)");
    }
    return ok;
}

static inline bool check_has_(const char *s, const char *sub, const char *es,
                              const char *file, int line)
{
    bool ok = s && strstr(s, sub) != NULL;
    if (!ok) {
        check_failed_at(file, line);
        fprintf(stderr, "CHECK_HAS(%s, \"%s\") failed: it is '%s'\n", es, sub,
                s ? s : "(null)");
    }
    return ok;
}

#define CHECK(cond)                                                            \
    check_true_((cond) ? true : false, #cond, __FILE__, __LINE__)

#define CHECK_EQ(a, b)                                                         \
    _Generic((a),                                                           \
        char *: check_eq_s_,                                                \
        const char *: check_eq_s_,                                          \
        float: check_eq_d_,                                                 \
        double: check_eq_d_,                                                \
        unsigned: check_eq_u_,                                              \
        unsigned long: check_eq_u_,                                         \
        unsigned long long: check_eq_u_,                                    \
        default: check_eq_i_)(CHECK_ARG_(a, a), CHECK_ARG_(a, b), #a, #b,   \
                              __FILE__, __LINE__)

/* x as CHECK_EQ compares it when its first argument is a: integers (and
 * anything else, such as pointers) as 64-bit integers of a's signedness,
 * converted explicitly, so mixing signed and unsigned operands compares
 * them as the old cast to long long did, without a conversion warning.
 * Every branch must compile for every x, so strings and floating point
 * pass as they are. */
#define CHECK_ARG_(a, x)                                                       \
    _Generic((a),                                                           \
        char *: (x),                                                        \
        const char *: (x),                                                  \
        float: (x),                                                         \
        double: (x),                                                        \
        unsigned: (unsigned long long)(x),                                  \
        unsigned long: (unsigned long long)(x),                             \
        unsigned long long: (unsigned long long)(x),                        \
        default: (long long)(x))

/* Strings by content (CHECK_EQ of two strings, by its older name). */
#define CHECK_STR(a, b) check_eq_s_((a), (b), #a, #b, __FILE__, __LINE__)

/* The string s contains sub. */
#define CHECK_HAS(s, sub) check_has_((s), (sub), #s, __FILE__, __LINE__)

/* A status call that must return want; prints both statuses by name and
 * the store's message if not (st may be NULL). */
#define CHECK_ST(st, call, want)                                               \
    check_st_((call), (want), (st), #call, __FILE__, __LINE__)

/* A status call that must succeed; prints the store's message if not. */
#define CHECK_OK(st, call) CHECK_ST(st, call, RS_OK)

/* A call that must fail with status want and a message containing text. */
#define CHECK_FAIL(st, call, want, text)                                       \
    check_fail_((call), (want), (text), (st), #call, __FILE__, __LINE__)

static inline bool check_st_(rs_status got, rs_status want, const rs_store *st,
                             const char *call, const char *file, int line)
{
    if (got != want) {
        check_failed_at(file, line);
        if (want == RS_OK) {
            fprintf(stderr, "%s returned %s: %s\n", call, rs_status_name(got),
                    rs_errmsg(st));
        } else {
            fprintf(stderr, "%s returned %s, expected %s (%s)\n", call,
                    rs_status_name(got), rs_status_name(want), rs_errmsg(st));
        }
    }
    return got == want;
}

static inline bool check_fail_(rs_status got, rs_status want, const char *text,
                               const rs_store *st, const char *call,
                               const char *file, int line)
{
    if (got != want) {
        check_failed_at(file, line);
        fprintf(stderr, "%s returned %s, expected %s (%s)\n", call,
                rs_status_name(got), rs_status_name(want), rs_errmsg(st));
        return false;
    }
    if (strstr(rs_errmsg(st), text) == NULL) {
        check_failed_at(file, line);
        fprintf(stderr, "message '%s' lacks '%s'\n", rs_errmsg(st), text);
        return false;
    }
    return true;
}

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
        printf("%-32s %s\n", c->name,
               check_failures == before ? "ok" : "FAILED");
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named '%s'\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return check_failures ? 1 : 0;
}

#endif
