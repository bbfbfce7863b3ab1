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
#define MAX_MATTRS 32  /* the model's room; the generator stays below */
#define BUSY_ATTRS 20  /* past this many, bind only names already bound */

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
    uint32_t shape; /* the block's shape, 0 for the list form */
    size_t block;   /* the block's arena bytes; 0 without attributes */
    mattr a[MAX_MATTRS];
} mrec;

/* The live records, in no order; removal swaps the last one in. */
extern mrec *recs;
extern size_t n_recs;
extern size_t n_of[NC]; /* live records per class */

/* The interned names, in interning order: m_names[id]. */
extern char **m_names;
extern uint32_t m_n_names;

/* The id of name, or -1 if it was never interned. */
long m_lookup(const char *name);
/* Intern a valid name: what a call that succeeds with it does. */
uint32_t m_intern(const char *name);
void m_names_free(void);
/* An attribute name (roster.h): an identifier of 1..RS_MAX_NAME bytes. */
bool m_name_ok(const char *s);

/* The shapes and blocks (attrs.c, strs.h), for the accounting. */
extern uint32_t m_n_shapes;
extern size_t m_blocks;
extern size_t m_with_attrs;
extern uint32_t m_max_attrs;
extern size_t m_strings;
void m_reset_shapes(void);
size_t arena_cost(size_t len);
void m_encode(mrec *r);
size_t attrs_size(const mrec *r);
size_t out_of_line(const mrec *r);

long m_attr_find(const mrec *r, uint32_t name);

/* Handles of removed records, to use again: they must stay stale. */
#define N_STALE 64
extern rs_handle stale[N_STALE];
extern int n_stale;
void m_reset_stale(void);

bool same_str(const mval *a, const mval *b);
/* The record of class c whose indexed field f equals v, or -1. */
long m_find(int c, int f, const mval *v);
long m_by_handle(rs_handle h);
int m_field_named(const char *name);

bool utf8_ok(const unsigned char *p, size_t n);
/* What a value given for field f becomes, or which error it is. */
rs_status m_coerce(int f, const rs_value *in, mval *out);
mval m_default(int f);
/* What a dynamic attribute's value becomes, or which error it is. */
rs_status m_attr_value(const rs_value *in, mattr *out);
/* What rs_insert() must answer (model.c). */
rs_status m_insert(int c, const rs_named *vals, size_t n, mrec *out,
                   const char **dyn, bool *late);

void m_add(const mrec *r);
void m_remove(size_t i);
void m_attrs_changed(size_t i);
void m_bind(mrec *r, const mattr *v);
void m_unbind(mrec *r, uint32_t name);
void m_free(void);

/* LONG_CH repeated: the bytes of every long attribute string. */
extern char long_buf[ATTR_STR_MAX + 16];
const char *mattr_bytes(const mattr *a);

/* The scan filter. */
bool m_is_attr_field(rs_field f);
rs_status m_check_conds(const rs_cond *c, size_t n);
bool m_match(const mrec *r, const rs_cond *c, size_t n);
/* The model's matches among the records of class cl, sorted by handle,
 * into *out (malloc'd). */
size_t model_matches(int cl, const rs_cond *c, size_t n, rs_handle **out);

#endif
