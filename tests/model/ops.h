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
 * injected RS_ENOMEM where the model expected success; the caller then
 * expects RS_ENOMEM and that the call changed nothing (change_failed(),
 * mem_same()).  late: the model's error is one the store finds only after
 * it may have allocated, so the injected failure may come first.  A call
 * that succeeds although an allocation failed swallowed it, an error,
 * except for a change (absorbed_change()) during a save, which must then
 * fail instead (g_save_starved), or on a durable store after the
 * journal's write (ops.c says why). */
bool absorbed_change(const char *call, rs_status rc, rs_status want, bool late);
bool absorbed(const char *call, rs_status rc, rs_status want);

/* A change (insert, remove, set, bind, unbind) failed with rc: it must
 * have changed nothing, unless it was the first failure in an open group,
 * which rolls the whole group back (roster.h): then the model does too and
 * the store is compared with it (group_rolled_back()), and this returns
 * true: the model's records are not those the caller was looking at. */
bool change_failed(const char *call, rs_status rc, const rs_mem_report *before);
/* Whether an open group already failed: every change is then RS_EGROUP. */
bool group_refuses(void);

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

/* The run's store and its persistence (ops_persist.c). */
void dir_make(void);  /* the temporary directory, removed at exit */
void dir_clean(void); /* its files removed */
/* Open the run's store, durable or not, with both classes declared. */
void store_setup(bool durable);
/* Close it (everything must come back) and remove its files. */
void store_teardown(void);
/* Save (in steps, between() running between them) and load the file into
 * a fresh store, which the run goes on with. */
void op_reload(void (*between)(void));
/* Durable: close the store and open it again, replaying the journal. */
void op_reopen(void);
/* Durable: compact, in steps with between() running between them. */
void op_compact(void (*between)(void));
/* An atomic group of 1 to 12 operations from inner(), committed or
 * aborted. */
void op_group(void (*inner)(void));
/* The store rolled the open group back: the model follows and the two are
 * compared (the group's records and the accounting). */
void group_rolled_back(const char *why);

#endif
