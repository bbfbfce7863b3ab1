/*
 * alloc_check.h: the size-checking allocator the tests run stores on.
 *
 * The library passes every block's size back when it frees or reallocates
 * it (rs_alloc_fn in roster.h), and its accounting is exact only if that
 * size is right.  This allocator keeps each block's size in a 16-byte
 * header (16 keeps the block aligned for max_align_t) and counts a call
 * that passes another size, or a NULL pointer with a size, as a broken
 * contract.  It counts the live bytes and blocks, which a test compares
 * with rs_mem() and, after the last rs_store_close(), with zero.
 *
 * It can fail the k-th allocation or growth (a realloc to a larger size)
 * after alloc_check_arm(), and with fail_rest every one after it too, so
 * that an operation can be run with its 1st, 2nd, ... allocation failing
 * until it succeeds.  Frees and shrinks never fail: the rs_alloc_fn
 * contract says a shrink must not, and the library relies on it to give
 * back capacity it grew before a later step failed.
 *
 *     static alloc_check ac;
 *     rs_store_open(alloc_check_fn, &ac, &st);
 *     alloc_check_arm(&ac, k);         fail the k-th from now on
 *     rs_status rc = operation(st);    RS_ENOMEM if it got that far
 *     alloc_check_disarm(&ac);
 *     ...
 *     rs_store_close(st);
 *     alloc_check_clean(&ac, "end");   nothing live, no contract broken
 *
 * One alloc_check may serve several stores at once; its counts are then
 * their sum.
 */
#ifndef ROSTER_ALLOC_CHECK_H
#define ROSTER_ALLOC_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOC_CHECK_HEADER 16

typedef struct alloc_check {
    size_t live_bytes, live_blocks; /* what the stores hold now */
    long n_grows;   /* allocations and growths since the last arm */
    long fail_at;   /* fail the fail_at-th of them (from 1); 0: none */
    bool fail_all;  /* fail every allocation and growth */
    bool fail_rest; /* fail the fail_at-th and every one after it */
    long n_failed;  /* failures injected since the last arm */
    long n_broken;  /* calls that broke the allocator contract */
} alloc_check;

/* The rs_alloc_fn; ud is the alloc_check. */
static inline void *alloc_check_fn(void *ud, void *ptr, size_t old_len,
                                   size_t new_len)
{
    alloc_check *a = ud;
    unsigned char *base =
        ptr ? (unsigned char *)ptr - ALLOC_CHECK_HEADER : NULL;
    if (base) {
        size_t had;
        memcpy(&had, base, sizeof had);
        if (had != old_len) {
            fprintf(stderr, "allocator: old_len %zu for a block of %zu\n",
                    old_len, had);
            a->n_broken++;
        }
    } else if (old_len != 0) {
        fprintf(stderr, "allocator: NULL pointer with old_len %zu\n", old_len);
        a->n_broken++;
    }
    if (new_len == 0) {
        if (base) {
            a->live_bytes -= old_len;
            a->live_blocks--;
            free(base);
        }
        return NULL;
    }
    if (base == NULL || new_len > old_len) {
        a->n_grows++;
        if (a->fail_all || a->n_grows == a->fail_at ||
            (a->fail_rest && a->fail_at && a->n_grows > a->fail_at)) {
            a->n_failed++;
            return NULL;
        }
    }
    unsigned char *p = realloc(base, new_len + ALLOC_CHECK_HEADER);
    if (p == NULL) {
        /* Not an injected failure: the test cannot tell it from one. */
        fprintf(stderr, "allocator: the C library is out of memory\n");
        abort();
    }
    memcpy(p, &new_len, sizeof new_len);
    a->live_bytes = a->live_bytes - (base ? old_len : 0) + new_len;
    if (base == NULL) {
        a->live_blocks++;
    }
    return p + ALLOC_CHECK_HEADER;
}

/* Count allocations and growths from 0 again and fail the k-th (k = 0:
 * none).  fail_rest is left as the caller set it. */
static inline void alloc_check_arm(alloc_check *a, long k)
{
    a->n_grows = 0;
    a->n_failed = 0;
    a->fail_at = k;
    a->fail_all = false;
}

/* Fail nothing any more. */
static inline void alloc_check_disarm(alloc_check *a)
{
    a->fail_at = 0;
    a->fail_all = false;
    a->fail_rest = false;
}

/* Whether every store on a was closed with nothing left and no call broke
 * the contract; if not, says what is wrong (where: the moment checked). */
static inline bool alloc_check_clean(const alloc_check *a, const char *where)
{
    if (a->live_bytes == 0 && a->live_blocks == 0 && a->n_broken == 0) {
        return true;
    }
    fprintf(stderr,
            "allocator, %s: %zu bytes in %zu blocks left after every "
            "store closed; %ld calls with a wrong size\n",
            where, a->live_bytes, a->live_blocks, a->n_broken);
    return false;
}

#endif
