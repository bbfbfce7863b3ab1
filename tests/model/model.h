/*
 * model.h: the reference model, what the store should hold.
 *
 * A deliberately naive model written from roster.h and not from the
 * library's code: an unordered array of records searched linearly, with its
 * own value rules (type, range, length, UTF-8), its own uniqueness checks
 * and its own scan filter.  Each record keeps its dynamic attributes as an
 * ordered list (binding order; a rebind keeps the place, a delete removes,
 * as a Python dict does), and the model keeps the store's interned names in
 * interning order, since ids are what rs_attr_id() returns.
 */
#ifndef ROSTER_MODEL_MODEL_H
#define ROSTER_MODEL_MODEL_H

#include "run.h"

/* A field's value in the model: the member its type uses. */
typedef struct mval {
    int64_t i;  /* i32 */
    uint64_t u; /* u8, u16 */
    double f;   /* f64 */
    bool b;     /* bool */
    size_t len; /* str */
    char s[48];
} mval;

/* A dynamic attribute in the model: its name's id (the store's: names are
 * numbered in the order they are interned) and its value, normalized as
 * the store keeps it (roster.h, rs_value: any integer reads back as i64,
 * or u64 above INT64_MAX; floats as f64).  Strings up to ASHORT bytes are
 * kept; longer ones are always LONG_CH repeated (the generator makes no
 * others), so the model keeps only their length. */
#define ASHORT 64
#define LONG_CH 'L'
#define ATTR_STR_MAX 65535 /* roster.h: bytes in a string attribute */
#define ATTRS_PER_RECORD 255
#define MAX_MATTRS 32 /* the model's room; the generator stays below */
#define BUSY_ATTRS 20 /* past this many, bind only names already bound */

typedef struct mattr {
    uint32_t name;
    rs_type type; /* RS_I64, RS_U64, RS_F64, RS_BOOL or RS_STR */
    int64_t i;
    uint64_t u;
    double f;
    bool b;
    uint32_t len;
    char s[ASHORT];
} mattr;

typedef struct mrec {
    rs_handle h;
    int c; /* C_DYN or C_SLOTS */
    mval f[NF];
    uint32_t n_attrs;
    mattr a[MAX_MATTRS]; /* in binding order */
    /* What the store's accounting says the record's strings take outside
     * its row: learned from rs_mem()'s strings category when the record
     * was inserted or a string field set (compare.c), never computed from
     * the arena's layout.  The accounting checks hold the store to it. */
    size_t str_bytes;
} mrec;

/* The live records, in no order; removal swaps the last one in. */
extern mrec *recs;
extern size_t n_recs;
extern size_t n_of[NC]; /* live records per class */

/* The interned names, in interning order: m_names[id], and their bytes. */
extern char **m_names;
extern uint32_t m_n_names;
extern uint32_t m_pinned;
extern size_t m_name_bytes;

/* The id of name, or -1 if it was never interned. */
long m_lookup(const char *name);
/* Intern a valid name: what a call that succeeds with it does. */
uint32_t m_intern(const char *name);
void m_names_free(void);
/* An attribute name (roster.h): an identifier of 1..RS_MAX_NAME bytes. */
bool m_name_ok(const char *s);

/* Handles of removed records, to use again: they must stay stale. */
#define N_STALE 64
extern rs_handle stale[N_STALE];
extern int n_stale;
void m_stale_add(rs_handle h);
/* Handles a rolled-back group had returned: stale too, but kept apart,
 * since the store may give them out again (run.h, KB_GROUP_HANDLE_REUSED):
 * no operation uses them as dead handles. */
extern rs_handle ghosts[N_STALE];
extern int n_ghosts;
void m_ghost_add(rs_handle h);
/* Forget both (a new store: its handles are new). */
void m_stale_clear(void);

/* Lookups, all linear. */
bool same_str(const mval *a, const mval *b);
/* The record of class c whose indexed field f equals v, or -1. */
long m_find(int c, int f, const mval *v);
long m_by_handle(rs_handle h);
int m_field_named(const char *name);
long m_attr_find(const mrec *r, uint32_t name);

/* The value rules. */
bool utf8_ok(const unsigned char *p, size_t n);
/* What a value given for field f becomes, or which error it is. */
rs_status m_coerce(int f, const rs_value *in, mval *out);
mval m_default(int f);
/* What a dynamic attribute's value becomes, or which error it is. */
rs_status m_attr_value(const rs_value *in, mattr *out);
/* What rs_insert() must answer; on RS_OK *out holds the new record, with
 * its dynamic attributes' names in dyn[] (not interned yet).  *late is set
 * for an error the store finds only after it may have allocated. */
rs_status m_insert(int c, const rs_named *vals, size_t n, mrec *out,
                   const char **dyn, bool *late);

/* Changes, once the store made them.  Sums kept as records change: the
 * strings bytes of the live records, how many bind attributes, and the
 * most attributes a record had. */
extern size_t m_strings;
extern size_t m_with_attrs;
extern uint32_t m_max_attrs;
void m_add(const mrec *r);
void m_remove(size_t i); /* swaps the last record into i */
void m_set_field(size_t i, int f, const mval *v);
void m_set_str_bytes(size_t i, size_t n);
/* Bind v (its name set) on record i: in place if bound, else appended. */
void m_bind(size_t i, const mattr *v);
void m_unbind(size_t i, uint32_t name);
/* Forget everything: a new run. */
void m_reset(void);

/* A store reloaded from a file interns the names as its records bring
 * them, so ids change: new_id[k] is the store's id of model name k, or -1
 * for a name it does not know (no live record binds it), of n_new names
 * in all.  Renumbers the names and every record's attributes. */
void m_names_renumber(const long *new_id, uint32_t n_new);

/* ------------------------------------------------------------------------ */
/* Checkpoints and groups                                                    */
/* ------------------------------------------------------------------------ */

/* The model at one moment: records, names (by count: they only grow while
 * a checkpoint lives), stale handles.  A save shows the store as it was at
 * rs_save_begin(); a group rolled back leaves it as at rs_group_begin(). */
typedef struct mcheck {
    mrec *recs;
    size_t n_recs, n_of[NC], strings, with_attrs;
    uint32_t n_names;
    rs_handle stale[N_STALE];
    int n_stale, stale_next;
} mcheck;

void m_checkpoint(mcheck *cp);
/* Back to cp; names interned since are forgotten (roster.h: a group that
 * fails leaves the name table as it found it). */
void m_restore(const mcheck *cp);
void m_checkpoint_free(mcheck *cp);

/* An open group (roster.h, rs_group_begin()).  The store applies each
 * change at once and reads see it, so the model does too; on a rollback
 * (a change that failed, or rs_group_abort()) it goes back to at_begin,
 * and on a commit it keeps what it has.  touched lists the records the
 * group changed or inserted, to compare after a rollback. */
typedef struct mgroup {
    bool open;   /* from rs_group_begin() to its commit or abort */
    bool failed; /* rolled back by a failed change: every later change is
                    refused with RS_EGROUP until the group ends */
    mcheck at_begin;
    rs_handle *touched;
    size_t n_touched, cap_touched;
} mgroup;

extern mgroup m_group;
void m_group_begin(void);
/* The store rolled the group back: so does the model.  Records the group
 * inserted are gone, their handles ghosts. */
void m_group_rollback(void);
void m_group_end(void);

/* LONG_CH repeated: the bytes of every long attribute string. */
extern char long_buf[ATTR_STR_MAX + 16];
const char *mattr_bytes(const mattr *a);

/* The scan filter (roster.h, rs_cond). */
bool m_is_attr_field(rs_field f);
rs_status m_check_conds(const rs_cond *c, size_t n);
bool m_match(const mrec *r, const rs_cond *c, size_t n);
/* The model's matches among the records of class cl, sorted by handle,
 * into *out (malloc'd). */
size_t model_matches(int cl, const rs_cond *c, size_t n, rs_handle **out);

#endif
