/*
 * compare.h: the store against the model.  Statuses and messages, each
 * record's fields, attributes and dir(), the accounting, and the walk of
 * the internal structures (rs__store_check()).  Also the descriptions of
 * values and records that failure reports print.
 */
#ifndef ROSTER_MODEL_COMPARE_H
#define ROSTER_MODEL_COMPARE_H

#include "model.h"

/* Describing values, for failure reports. */
void fmt_str(char *buf, size_t cap, const char *p, size_t len);
void fmt_value(char *buf, size_t cap, const rs_value *v);
void fmt_mval(char *buf, size_t cap, int f, const mval *v);
void fmt_mattr(char *buf, size_t cap, const mattr *a);
void desc_value(const rs_value *v);
void desc_rec(const mrec *r);
void desc_conds(const rs_cond *c, size_t n);

/* The status of a call against the model's, and the rs_errmsg() contract:
 * empty after success, a message after a failure. */
void expect(const char *call, rs_status got, rs_status want);
/* A failed call's message must contain text (when given). */
void expect_msg(const char *call, const char *text);
/* The message of RS_ENOATTR (roster.h). */
const char *no_attr_msg(int c, const char *name);

bool value_matches(const rs_value *v, int f, const mval *want);
void value_differs(const char *ctx, rs_handle h, int f, const rs_value *v,
                   const mval *want);
void compare_field(rs_handle h, int f, const mval *want, const char *ctx);
bool attr_matches(const rs_value *v, const mattr *a);
void compare_attrs(const mrec *r, const char *ctx);
void compare_dir(const mrec *r, const char *ctx);
void compare_rec(const mrec *r, const char *ctx);

/* The store's classes against defs[]: found by name, each field as
 * declared (after a load or replay that declared them from a file, this
 * says the file kept them); sets classes[], class_no[] and inline_max[]. */
void check_classes(const char *ctx);

/* The accounting (compare.c says what it holds the store to). */
extern size_t row_bytes; /* a row's bytes, learned at the first insert */
rs_mem_report mem_now(void);
/* A new store: its peak starts again. */
void acct_new_store(void);
/* A failed call must leave the accounting exactly as it was. */
void mem_same(const rs_mem_report *before, const char *call);
/* The same for a failed change or save, but for run.h's
 * KB_DURABLE_FAILURE_KEEPS_META. */
void mem_same_after_change(const rs_mem_report *before, const char *call);
/* rs_record_size() of r against its row, the strings the accounting put
 * at r->str_bytes and its attributes; returns the size. */
size_t check_size(const mrec *r, const char *ctx);
/* After a change the model has applied to record i (insert, set of a
 * declared field, bind or unbind) or made it forget (gone, a copy of the
 * removed record): how the accounting moved from before.  An insert and a
 * set of a string learn the record's str_bytes. */
void acct_insert(size_t i, const rs_mem_report *before, const char *call);
void acct_remove(const mrec *gone, const rs_mem_report *before,
                 const char *call);
void acct_set(size_t i, const rs_mem_report *before, bool strings,
              const char *call);
void acct_attrs(size_t i, const rs_mem_report *before, const char *call);

/* rs__store_check()'s walk of every internal structure. */
void check_walk(const char *when);

/* Checks cheap enough for every step. */
void step_checks(void);
/* Everything, and the internal walk. */
void full_check(const char *when);

#endif
