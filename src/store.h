/*
 * store.h: store.c's calls for the modules above it: the restore
 * interface groups undo through, what a failed load undoes, a group's end
 * and the structure walk (the layout itself is table.h's).
 */
#ifndef RS_STORE_H
#define RS_STORE_H

#include "table.h"

/* The restore interface: what a group's rollback uses to put back, newest
 * first, what its changes did (txn.c).  Each makes a change as the public
 * calls do but marked as a restore (change.h), into the slot and
 * generation the record had; an index that cannot grow takes the key
 * past its load limit instead, so a restore does not fail for want of
 * memory.  RS_OK, or the failure of a restore the rollback's design rules
 * out. */
rs_status rs__store_restore_insert(rs_store *st, rs_class *c,
                                   const rs_named *vals, size_t n_vals,
                                   uint32_t slot, uint16_t gen);
rs_status rs__store_restore_remove(rs_store *st, rs_class *c, uint32_t slot);
rs_status rs__store_restore_set(rs_store *st, rs_class *c, uint32_t slot,
                                rs_field f, const rs_value *v);
/* Attributes: rs__attrs_restore() (attrs.h). */

/* A group opened (txn.c): the indexes keep room for the keys it takes
 * out (rs__index_hold()). */
void rs__store_group_begin(rs_store *st);
/* A group ended (txn.c): the slots its removals freed, kept off the free
 * list while it was open, join it; the indexes stop keeping room. */
void rs__store_group_end(rs_store *st);
/* Remove every record of c (a failed load into a class that was empty).
 * Slots keep their generations, so no handle of before aliases. */
void rs__store_class_empty(rs_store *st, rs_class *c);
/* Drop the classes declared after the first n. */
void rs__store_classes_truncate(rs_store *st, uint32_t n);

/* Walk every class's structures (debug and tests). */
rs_status rs__store_check(const rs_store *st);

#endif
