/*
 * run.h: what every part of the model test shares: the classes under test
 * and the store that holds them, the failure report, the random stream, the
 * counting allocator that fails on demand, and the tally of statuses.
 *
 * The model test is one program in a few files (tests/test_model.c):
 *
 *     run.c         this: the run's shared state, and the library bugs
 *                   known and not fixed yet
 *     model.c       the reference model: what the store should hold,
 *                   checkpoints, groups
 *     gen.c         random values, names, conditions and handles
 *     compare.c     the store against the model, and the accounting
 *     ops.c         the operations on records, churn, the front-end calls
 *     ops_attrs.c   the operations on dynamic attributes
 *     ops_persist.c the run's store; saves and loads, the journal, groups
 *     test_model.c  the driver: phases, runs and the case table
 *
 * Every check failure goes through fail(), which prints the seed, the step
 * and the operation (built with desc()) and exits: the first difference
 * ends the run, and the replay line it prints runs exactly that again.
 */
#ifndef ROSTER_MODEL_RUN_H
#define ROSTER_MODEL_RUN_H

#include "../alloc_check.h"
#include "roster.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------------ */
/* The classes                                                               */
/* ------------------------------------------------------------------------ */

/* The fields, in declaration order (their field numbers). */
enum { F_UID, F_NAME, F_STAT, F_LEVEL, F_SCORE, F_RATIO, F_FLAG, F_TAG, NF };

/* The two classes of a run: the same fields, Player dynamic, Player2 not
 * (its records refuse undeclared names, like __slots__). */
enum { C_DYN, C_SLOTS, NC };

extern const rs_field_def defs[NF];
extern const char *const class_names[NC];

extern rs_store *g_st;        /* the store under test */
extern rs_class *classes[NC]; /* its classes, by C_DYN and C_SLOTS */
extern unsigned class_no[NC]; /* the number handles carry (bits 48-63) */

/* The store is durable (rs_durable_open()): every change is journaled. */
extern bool g_durable;
/* A save of the store is under way (rs_save_begin() to its finish). */
extern bool g_saving;
/* During it, a change succeeded although an allocation failed: the save
 * could not write the record early (persist.c, rs__p_touch()), so the
 * save, not the change, must fail. */
extern bool g_save_starved;

/* The longest value of each string field kept in the row (roster.h,
 * rs_field_def.inline_len), read from the class at setup. */
extern size_t inline_max[NF];

static inline bool is_str(int f)
{
    return defs[f].type == RS_STR;
}

static inline bool is_indexed(int f)
{
    return defs[f].flags != 0;
}

static inline bool t_signed(rs_type t)
{
    return t >= RS_I8 && t <= RS_I64;
}

static inline bool t_unsigned(rs_type t)
{
    return t >= RS_U8 && t <= RS_U64;
}

/* ------------------------------------------------------------------------ */
/* Failure reporting                                                         */
/* ------------------------------------------------------------------------ */

extern const char *g_case; /* the case running */
extern uint64_t g_seed;
extern long g_step;
extern long g_ops, g_check_every; /* of the run, for the replay line */
extern char g_op[2048];           /* the operation being run */

/* Print seed, step, operation and the message, the line that replays the
 * run (with the stores' hash seed, RS_TEST_HASH_SEED, which decides where
 * keys fall and so which allocation an injected failure hits), and exit
 * 1. */
_Noreturn void fail(const char *fmt, ...) MT_PRINTF(1, 2);

/* Append to the description of the current operation (g_op). */
void desc(const char *fmt, ...) MT_PRINTF(1, 2);

/* ------------------------------------------------------------------------ */
/* Library bugs found and not yet fixed                                      */
/* ------------------------------------------------------------------------ */

/* Bugs of the library this test finds, which src/ has not fixed yet.  With
 * MT_TOLERATE_KNOWN_BUGS 1 each is counted and the counts printed at the
 * end of a run (so the rest of the run still checks everything); with 0
 * the first one fails the run like any other difference.  Remove an entry
 * when its fix lands.
 *
 *   KB_ENOMEM_AS_EFORMAT  persist.c, load_class(): a file's class is
 *       parsed into a scratch store that shares the allocator, and any
 *       failure there, RS_ENOMEM included, comes back as RS_EFORMAT "bad
 *       class: out of memory", which calls a good file damaged.
 *   KB_GROUP_HANDLE_REUSED  journal.c, rollback(): a group that removes a
 *       record and inserts another into the freed slot, then rolls back,
 *       restores the first record with its old generation, so the slot's
 *       next insert gets the handle the group had returned, which roster.h
 *       says is "stale for good".
 *   KB_SAVE_MSG_ON_SUCCESS  persist.c, saver_err(): a change during a save
 *       that cannot write its record early (out of memory) succeeds, as it
 *       should, but leaves the save's message in rs_errmsg(), which
 *       roster.h says is empty after a call that succeeded.
 *   KB_DURABLE_FAILURE_KEEPS_META  a call on a durable store that fails
 *       for want of memory keeps what it allocated in meta: journal.c,
 *       oom(), cuts the entry back but keeps its buffer; and
 *       rs__compact_begin() keeps p->ctmp.  The failed call so leaves the
 *       accounting changed, which roster.h rules out. */
#define MT_TOLERATE_KNOWN_BUGS 0

enum {
    KB_ENOMEM_AS_EFORMAT,
    KB_GROUP_HANDLE_REUSED,
    KB_SAVE_MSG_ON_SUCCESS,
    KB_DURABLE_FAILURE_KEEPS_META,
    KB__COUNT
};

/* Known bug kb seen (what: a description): counted, or fail()ed. */
void known_bug(int kb, const char *what);
/* Print the counts of a run (nothing if none) and reset them. */
void known_bugs_report(void);

/* ------------------------------------------------------------------------ */
/* Random numbers: splitmix64, the same stream on every platform             */
/* ------------------------------------------------------------------------ */

extern uint64_t rng;

uint64_t rnd(void);
int irand(int n); /* uniform in [0, n) */
bool chance(int pct);

/* ------------------------------------------------------------------------ */
/* The allocator                                                             */
/* ------------------------------------------------------------------------ */

/* Every store of the run allocates through the tests' shared checking
 * allocator (tests/alloc_check.h; ud is &g_alloc): live bytes and blocks,
 * the old_len contract (a broken one fails the run at the next check),
 * and an allocation failed when armed. */
extern alloc_check g_alloc;

/* One call in ten runs with one of its first few allocations failing. */
void maybe_arm(void);

/* Disarm; whether the call's RS_ENOMEM was the injected failure. */
bool injected(rs_status rc);

/* ------------------------------------------------------------------------ */
/* The tally                                                                 */
/* ------------------------------------------------------------------------ */

/* Count status s for call (a static string): what the run covered. */
void tally(const char *call, rs_status s);
void print_tally(void);
void tally_reset(void);

#endif
