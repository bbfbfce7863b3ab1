/*
 * change.h: one description of every mutation, and who hears of it.
 *
 * The store describes each change it makes once, in an rs__change, and
 * hands it to the observers registered on the store (the snapshot saver,
 * the journal, an open group's undo log; later expiry queues, secondary
 * indexes, change feeds) in two phases:
 *
 *   prepare  after the change is validated and every byte it needs is
 *            reserved, before anything is written.  It may fail (the
 *            journal's write, memory for an undo record): the store then
 *            cancels the change and returns that status, nothing changed.
 *            Observers prepare in the order they registered and the first
 *            failure stops the change.  The journal writes its entry in
 *            its prepare, which cannot be taken back, so an observer that
 *            prepares after it must not fail while it writes: the saver's
 *            prepare never fails, and a group registers only once it holds
 *            the journal (txn.c), whose prepare then only adds to the
 *            group's entry.
 *   commit   after the write.  It cannot fail.  The record now holds the
 *            new values; old and a SET's or ATTRS's attrs are cleared
 *            (NULL), as their bytes may be gone: an observer that needs
 *            what was there copies it at prepare.
 *
 * Inside a group, commits are held and delivered when the group commits,
 * dropped when it aborts or fails (see rs__change_hold() below).
 *
 * Around each public mutation, enter may refuse the call (a group that
 * already failed, a journal that cannot be written) and leave sees its
 * status and may replace it (a group rolls back when one of its changes
 * fails).  A restore (rs__store_restore_*(), store.h) is a change that
 * puts back what a group changed: observers that log changes skip it,
 * while the saver still copies the row it is about to overwrite.
 *
 * With no observer registered (st->obs NULL) a mutation pays one
 * predictable branch and builds no change record; with no observer that
 * has a commit callback (st->n_commit_obs 0) no change is committed or
 * held, so an observer registered inside a group hears only the commits
 * of changes made after it registered.
 */
#ifndef RS_CHANGE_H
#define RS_CHANGE_H

#include "internal.h"

#include <stdbool.h>

struct rs__aval;

typedef enum rs__change_kind {
    RS__CHANGE_INSERT, /* slot, gen, vals, attrs: the new record */
    RS__CHANGE_REMOVE, /* slot: the record, still in its row */
    RS__CHANGE_SET,    /* slot, field, old, val */
    RS__CHANGE_ATTRS,  /* slot, name bound to *val (NULL: unbound); attrs
                          the record's attributes before */
    RS__CHANGE_CLASS   /* c, just declared */
} rs__change_kind;

typedef struct rs__change {
    rs__change_kind kind;
    bool restore; /* putting back what a group changed */
    rs_class *c;
    uint32_t slot;
    uint16_t gen;         /* INSERT: the generation the record takes */
    rs_field field;       /* SET */
    uint32_t name;        /* ATTRS: the interned name */
    const rs_value *vals; /* INSERT: every field's value, by field number */
    const rs_value *old;  /* SET: the value before */
    const rs_value *val;  /* SET: the value after; ATTRS: see above */
    const struct rs__aval *attrs; /* INSERT: its dynamic attributes */
    uint32_t n_attrs;
} rs__change;

typedef struct rs__observer rs__observer;
struct rs__observer {
    /* Names the observer; its module finds its own by this pointer. */
    const char *name;
    /* Each may be NULL. */
    rs_status (*enter)(rs_store *st, rs__observer *o);
    rs_status (*leave)(rs_store *st, rs__observer *o, rs_status rc);
    rs_status (*prepare)(rs_store *st, rs__observer *o, const rs__change *ch);
    void (*commit)(rs_store *st, rs__observer *o, const rs__change *ch);
    /* The store is closing: give back everything (may unregister). */
    void (*close)(rs_store *st, rs__observer *o);
    rs__observer *next; /* the store's list (change.c) */
};

/* Register o (it is prepared after every observer registered before it)
 * or take it off the list.  Neither allocates. */
void rs__change_observe(rs_store *st, rs__observer *o);
void rs__change_unobserve(rs_store *st, rs__observer *o);

/* What the store calls, with st->obs set only (change.c). */
rs_status rs__change_prepare(rs_store *st, const rs__change *ch);
void rs__change_commit(rs_store *st, const rs__change *ch);
rs_status rs__change_enter(rs_store *st);
rs_status rs__change_leave(rs_store *st, rs_status rc);

/* A held commit: the change's identity, no values. */
typedef struct rs__held {
    rs__change_kind kind;
    uint16_t class_id;
    uint16_t gen;
    uint32_t slot;
    rs_field field;
    uint32_t name;
} rs__held;

typedef struct rs__hold {
    rs__held *v;
    size_t n, cap;
} rs__hold;

/* Holding commits for a group (txn.c): from rs__change_hold() on, commits
 * are queued instead of delivered; rs__change_release() delivers them in
 * order (each with its identity: kind, c, slot, gen, field, name, and no
 * values: the records hold what the group left), rs__change_drop()
 * forgets them.  Either ends the holding.  The queue lives in h, the
 * group's (txn.c), so holding allocates nothing until a change needs
 * room, reserved at its prepare. */
void rs__change_hold(rs_store *st, struct rs__hold *h);
void rs__change_release(rs_store *st);
void rs__change_drop(rs_store *st);

/* The body of a public mutation: with no observer, just the call;
 * otherwise the observers' enter may refuse it and their leave sees how
 * it ended (a group rolls back when one of its changes fails). */
#define RS__MUTATION(st, call)                                                 \
    do {                                                                       \
        rs__clear_err(st);                                                     \
        if (RS_LIKELY((st)->obs == NULL)) {                                    \
            return call;                                                       \
        }                                                                      \
        rs_status rc_ = rs__change_enter(st);                                  \
        return rc_ != RS_OK ? rc_ : rs__change_leave(st, call);                \
    } while (0)

#endif
