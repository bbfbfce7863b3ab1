/*
 * attrs.h: dynamic attributes and the shapes records share (attrs.c).
 */
#ifndef RS_ATTRS_H
#define RS_ATTRS_H

#include "internal.h"

/* RS_ATTR_NAMES_MAX and RS_ATTRS_MAX: roster.h. */
#define RS_SHAPES_MAX 4096      /* then records fall back to a name list */
#define RS_ATTRS_PER_RECORD RS_ATTRS_MAX
#define RS_ATTR_STR_MAX 65535 /* bytes in a string attribute */

/* One attribute of a record while it is decoded: an interned name and a
 * value (a string borrowed from the block or from the caller). */
typedef struct rs__aval {
    uint32_t name;
    rs_value val;
} rs__aval;

typedef struct rs__aname {
    char *s; /* owned, NUL-terminated */
    uint32_t len;
} rs__aname;

typedef struct rs__shape {
    uint32_t n;      /* names */
    uint32_t *names; /* owned: name ids in binding order */
} rs__shape;

typedef struct rs__trans {
    uint64_t key; /* parent shape << 32 | name, + 1 so 0 is empty */
    uint32_t child;
} rs__trans;

/* A record's block, from its row page's sorted vector. */
typedef struct rs__aent {
    uint32_t ref;
    uint16_t off; /* slot within the row page */
    uint16_t pad;
} rs__aent;

typedef struct rs__avec {
    rs__aent *e;
    uint32_t n, cap;
} rs__avec;

typedef struct rs__attrs {
    rs__aname *names;
    uint32_t n_names, cap_names;
    uint32_t *name_ix; /* open addressing over name ids + 1 */
    uint32_t name_ix_cap;
    rs__shape *shapes; /* shapes[0] is the empty shape */
    uint32_t n_shapes, cap_shapes;
    rs__trans *trans;
    uint32_t n_trans, trans_cap;
    size_t block_bytes; /* arena bytes of live attribute blocks */
    /* The current operation's marks, for rs__attrs_rollback(). */
    uint32_t m_names, m_cap_names, m_name_ix_cap, m_shapes, m_cap_shapes,
        m_trans_cap;
    rs__avec *m_vec;   /* a vector this operation grew, and its old cap */
    uint32_t m_vec_cap;
    rs_class *m_class; /* a class whose vector array it grew, old length */
    uint32_t m_n_avecs;
    /* Scratch: a record's attributes before and after an operation. */
    rs__aval old_list[RS_ATTRS_PER_RECORD];
    rs__aval new_list[RS_ATTRS_PER_RECORD + 1];
} rs__attrs;

/* What an operation prepared for one record's new block. */
typedef struct rs__aplan {
    uint32_t n;     /* attributes in new_list; 0 removes the block */
    uint32_t shape; /* 0: the list form */
    size_t len;     /* block bytes */
    uint32_t ref;
} rs__aplan;

void rs__attrs_init(rs__attrs *a);
void rs__attrs_free(rs_store *st, rs__attrs *a);
void rs__attrs_class_free(rs_store *st, rs_class *c);

/* The id of name, interning it (may allocate; undone by rollback).
 * RS_EINVAL for a name that is not an identifier of at most RS_MAX_NAME
 * bytes, RS_EFULL past RS_ATTR_NAMES_MAX, RS_ENOMEM. */
rs_status rs__attrs_intern(rs_store *st, const char *name, uint32_t *id);
/* The id of name if interned, else UINT32_MAX.  No allocation. */
uint32_t rs__attrs_lookup(const rs_store *st, const char *name);

/* Check a value for a dynamic attribute and normalize it (integers to
 * RS_I64 or RS_U64, floats to RS_F64). */
rs_status rs__attrs_check_value(rs_store *st, const rs_class *c,
                                const char *name, const rs_value *in,
                                rs_value *out);

/* Decode slot's attributes into a->old_list; returns their number (0 when
 * it has none). */
uint32_t rs__attrs_load(rs_store *st, const rs_class *c, uint32_t slot);

/* The value of attribute name (an id) of slot: RS_OK or RS_ENOATTR (no
 * message).  No allocation. */
rs_status rs__attrs_get(rs_store *st, const rs_class *c, uint32_t slot,
                        uint32_t name, rs_value *out);

/* An operation that changes one record's attributes: begin, fill
 * a->new_list with the record's attributes afterwards (names interned),
 * prepare (reserves the shape, the block, the vector entry; the only step
 * that can fail), then commit, or rollback.  The string arena's own
 * begin/commit/rollback bracket the same operation (strs.h). */
void rs__attrs_begin(rs__attrs *a);
rs_status rs__attrs_prepare(rs_store *st, rs_class *c, uint32_t slot,
                            uint32_t n, rs__aplan *plan);
void rs__attrs_commit(rs_store *st, rs_class *c, uint32_t slot,
                      const rs__aplan *plan);
void rs__attrs_rollback(rs_store *st, rs__attrs *a);

/* The names and shapes a longer undertaking (a load) started from, so that
 * when it fails, once no record uses what it added, they go too. */
typedef struct rs__amark {
    uint32_t n_names, cap_names, name_ix_cap, n_shapes, cap_shapes,
        trans_cap;
} rs__amark;
void rs__attrs_mark(const rs__attrs *a, rs__amark *m);
void rs__attrs_undo_to(rs_store *st, rs__attrs *a, const rs__amark *m);

/* Drop all of slot's attributes (removal).  Never fails. */
void rs__attrs_drop(rs_store *st, rs_class *c, uint32_t slot);

/* Bytes slot's attributes take: its block and its vector entry. */
size_t rs__attrs_size(const rs_store *st, const rs_class *c, uint32_t slot);

rs_status rs__attrs_check(const rs_store *st, const rs_class *c);

#endif
