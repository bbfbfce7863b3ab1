/*
 * internal.h: what every module of libroster shares.
 *
 * - RS_ASSERT guards internal invariants in debug builds only; user input
 *   never reaches one.  RS_NEVER(c) marks a state that "cannot happen" but
 *   can be survived: it asserts in debug builds and is an ordinary test in
 *   release builds, so the caller can return RS_ECORRUPT instead of crashing
 *   (SQLite's NEVER()).
 * - rs__alloc() and friends are the only way to memory: each allocation is
 *   tagged with the category it is counted under (alloc.c) and its size is
 *   passed back on free, so the accounting is exact without asking malloc.
 * - rs__err() formats the message of a failing call into the store and
 *   returns the status, so failure paths read `return rs__err(st, ...);`.
 */
#ifndef RS_INTERNAL_H
#define RS_INTERNAL_H

#include "roster.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef NDEBUG
#define RS_ASSERT(c) ((void)0)
#define RS_NEVER(c) (c)
#else
#include <assert.h>
#define RS_ASSERT(c) assert(c)
#define RS_NEVER(c) ((c) ? (assert(0 && #c), 1) : 0)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RS_LIKELY(c) __builtin_expect(!!(c), 1)
#define RS_UNLIKELY(c) __builtin_expect(!!(c), 0)
#define RS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RS_ALWAYS_INLINE inline __attribute__((always_inline))
#define RS_NOINLINE __attribute__((noinline))
#else
#define RS_LIKELY(c) (c)
#define RS_UNLIKELY(c) (c)
#define RS_PRINTF(a, b)
#define RS_ALWAYS_INLINE inline
#define RS_NOINLINE
#endif

/* Allocation-level categories.  RS_MEM_FREE is never an allocation tag: free
 * space is derived from what the record and string pages hold. */
void *rs__alloc(rs_store *st, rs_mem_cat cat, size_t len);
void *rs__calloc(rs_store *st, rs_mem_cat cat, size_t len);
void *rs__realloc(rs_store *st, rs_mem_cat cat, void *p, size_t old_len,
                  size_t new_len);
void rs__free(rs_store *st, rs_mem_cat cat, void *p, size_t len);
/* Start a store's accounting with its allocator (NULL: malloc). */
void rs__alloc_init(rs_store *st, rs_alloc_fn fn, void *ud);
/* Bytes currently allocated under cat. */
size_t rs__alloc_bytes(const rs_store *st, rs_mem_cat cat);

/* Format the message of a failing call and return s.  Never allocates: the
 * message buffer is part of the store. */
rs_status rs__err(rs_store *st, rs_status s, const char *fmt, ...)
    RS_PRINTF(3, 4);
/* Clear the message at the start of a public call. */
void rs__clear_err(rs_store *st);

/* The first line of a public call taking a store: with none there is
 * nowhere to write a message, so the status alone says it. */
#define RS__NEED_STORE(st)                                                     \
    do {                                                                       \
        if (RS_UNLIKELY((st) == NULL)) {                                       \
            return RS_EINVAL;                                                  \
        }                                                                      \
    } while (0)

/* Bytes of a buffer that holds one key for an index probe or one decoded
 * packed string (strs.h): 19 digits, or an 8-byte integer. */
#define RS_KEY_TMP 24

/* Identifier check shared by class and attribute names. */
int rs__class_is_ident(const char *s, size_t len);
/* 0 if the len bytes at p are valid UTF-8, else 1 + the offset of the first
 * bad byte. */
size_t rs__class_utf8_bad(const char *p, size_t len);

/* Write a value as text for an error message (strings quoted and cut to
 * fit).  Always NUL-terminates buf. */
void rs__class_fmt_value(char *buf, size_t buflen, const rs_value *v);

#endif
