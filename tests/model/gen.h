/*
 * gen.h: the generators: random keys, names, tags and values of every
 * type, good and bad; attribute names and values; scan conditions; handles
 * of no live record; and live records to work on.  They draw from the run's
 * stream (run.h), so a seed replays the same operations.
 */
#ifndef ROSTER_MODEL_GEN_H
#define ROSTER_MODEL_GEN_H

#include "model.h"

/* A buffer of 96 bytes for one value, from a ring of 48: valid for the
 * operation that asked for it. */
char *new_buf(void);
/* If p lies in one of new_buf()'s buffers, overwrite that buffer with '#':
 * a callee that kept p instead of copying it then reads garbage. */
void gen_scribble(const char *p);
rs_value str_val(const char *p);

rs_value gen_key(void);
rs_value gen_name(void);
rs_value gen_tag(void);
rs_value gen_bad_str(int f);
rs_value any_int(int64_t x);
double gen_double(void);
/* A value for field f: valid, or (bad) one the field must refuse. */
rs_value gen_value(int f, bool bad);
/* A comparison operand for field f. */
rs_value gen_operand(int f, rs_op op);

/* Attribute names: a pool of 8 (shapes repeat), fresh ones, the longest
 * valid one, invalid ones. */
extern const char *const pool_names[8];
extern char name_64[RS_MAX_NAME + 1];
extern char name_65[RS_MAX_NAME + 2];
void gen_init(void);
const char *gen_bad_attr_name(void);
const char *gen_attr_name(void);
rs_value gen_attr_str(void);
rs_value gen_attr_value(void);
/* A record's attribute value as an rs_value (bytes in the model). */
rs_value mattr_value(const mattr *a);
rs_value gen_attr_operand(uint32_t name, rs_op op);

/* n conditions, valid unless bad (then exactly one is wrong); some on
 * dynamic attributes, whose field numbers attr_id() gives (it interns). */
size_t gen_conds(rs_cond *c, bool bad, rs_field (*attr_id)(const char *name));

/* A handle that names no live record: a removed one, or a made-up one. */
rs_handle gen_dead_handle(void);
/* A live record, of class c most of the time (some tries), or -1. */
long pick_in(int c);
/* A live record for an attribute operation: mostly of Player. */
long pick_for_attrs(void);

#endif
