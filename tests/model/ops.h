/*
 * ops.h: the operations of a run.  Each draws its arguments, computes the
 * model's answer, makes the call, compares, and on success applies the
 * change to the model.
 */
#ifndef ROSTER_MODEL_OPS_H
#define ROSTER_MODEL_OPS_H

#include "compare.h"
#include "gen.h"

/* After a call ran armed (maybe_arm()): true if it failed with the
 * injected RS_ENOMEM where the model expected success, and changed
 * nothing; then the operation compares nothing else.  A failure the call
 * swallowed (RS_OK although an allocation failed) is an error.  late: the
 * model's error is one the store finds only after it may have allocated,
 * so the injected failure may come first. */
bool absorbed_late(const char *call, rs_status rc, rs_status want, bool late,
                   const rs_mem_report *before);
bool absorbed(const char *call, rs_status rc, rs_status want,
              const rs_mem_report *before);

/* Records (ops.c). */
void op_insert(void);
void op_remove(void);
void op_set(bool by_name);
void op_get_key(void);
void op_find(void);
void op_get_fields(void);
void op_scan(bool modify);
void op_check_handle(void);
/* The calls front ends use (ops.c). */
void op_front(void);

enum { API_FIELD, API_ATTR, API_INT, API_STR };
void do_set(long i, rs_handle dead, int f, const rs_value *v, int api,
            const char *attr);

/* Churn: a fresh record inserted and removed twice; the second time must
 * reuse what the first left free (ops.c). */
void op_churn(void);

/* Dynamic attributes (ops_attrs.c). */
rs_field do_attr_id(int c, const char *name, bool arm);
void do_attr_set(long i, rs_handle dead, const char *name, rs_field f,
                 const rs_value *v);
void do_attr_del(long i, rs_handle dead, const char *name);
void op_attr_set(void);
void op_attr_del(void);
void op_attr_get(void);
void op_attr_misc(void);

#endif
