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

/* The accounting. */
typedef struct memsnap {
    rs_mem_report m;
} memsnap;
memsnap mem_now(void);
/* A failed call must leave the accounting exactly as it was. */
void mem_same(const memsnap *a, const char *call);
/* After a call ran armed: true if it failed with the injected RS_ENOMEM
 * where the model expected success (then it must have changed nothing). */
bool absorbed_late(const char *call, rs_status rc, rs_status want, bool late,
                   const memsnap *before);
bool absorbed(const char *call, rs_status rc, rs_status want,
              const memsnap *before);

/* rs__store_check()'s walk of every internal structure. */
void check_walk(const char *when);

/* Checks cheap enough for every step. */
void step_checks(void);
/* Everything, and the internal walk. */
void full_check(const char *when);

#endif
