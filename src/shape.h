/*
 * shape.h: the store's attribute names and the shapes records share
 * (shape.c), and the state of one operation on a record's attributes: its
 * marks and the record's attributes before and after (attrs.c).
 */
#ifndef RS_SHAPE_H
#define RS_SHAPE_H

#include "internal.h"

struct rs__avec;

/* RS_ATTR_NAMES_MAX and RS_ATTRS_MAX: roster.h. */
#define RS_SHAPES_MAX 4096 /* then records fall back to a name list */
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
    uint64_t seed;      /* the store's hash seed */
    uint32_t n_pinned;  /* names below this are never undone (a caller
                           holds one's id: rs_attr_id()) */
    /* The current operation's marks, for rs__attrs_rollback(). */
    uint32_t m_names, m_cap_names, m_name_ix_cap, m_shapes, m_cap_shapes,
        m_trans_cap;
    struct rs__avec *m_vec; /* a vector this operation grew (attrs.c), and
                               its old cap */
    uint32_t m_vec_cap;
    rs_class *m_class; /* a class whose vector array it grew, old length */
    uint32_t m_n_avecs;
    /* Scratch: a record's attributes before and after an operation, and
     * the shape of those before (0 for none, or the list form). */
    rs__aval old_list[RS_ATTRS_PER_RECORD];
    uint32_t old_shape;
    rs__aval new_list[RS_ATTRS_PER_RECORD + 1];
} rs__attrs;

/* The names and shapes a longer undertaking (a load) started from, so that
 * when it fails, once no record uses what it added, they go too. */
typedef struct rs__amark {
    uint32_t n_names, cap_names, name_ix_cap, n_shapes, cap_shapes, trans_cap;
} rs__amark;
void rs__shape_init(rs__attrs *a, uint64_t seed);
void rs__shape_free(rs_store *st, rs__attrs *a);

/* The id of name, interning it (may allocate; undone by rollback).
 * RS_EINVAL for a name that is not an identifier of at most RS_MAX_NAME
 * bytes, RS_EFULL past RS_ATTR_NAMES_MAX, RS_ENOMEM. */
rs_status rs__shape_intern(rs_store *st, rs__attrs *a, const char *name,
                           uint32_t *id);
/* The id of name if interned, else UINT32_MAX.  No allocation. */
uint32_t rs__shape_lookup(const rs__attrs *a, const char *name);

/* The shape whose names are names[0..n), creating the shapes on the way
 * (undone by rollback), walked from shape from, whose names must be the
 * first of names (0, the empty shape, always is): a record that binds one
 * more name walks one step from its old shape, not all of them from the
 * root.  *out is 0 when the store has made its share of shapes: the
 * caller then stores the list form. */
rs_status rs__shape_for(rs_store *st, rs__attrs *a, const uint32_t *names,
                        uint32_t n, uint32_t from, uint32_t *out);

/* Marks: an operation begins (marks what exists), then a failure rolls
 * names, shapes and transitions back to the marks; a longer undertaking
 * (a load, a group) keeps a mark of its own and undoes to it. */
void rs__shape_begin(rs__attrs *a);
void rs__shape_rollback(rs_store *st, rs__attrs *a);
void rs__shape_mark(const rs__attrs *a, rs__amark *m);
void rs__shape_undo_to(rs_store *st, rs__attrs *a, const rs__amark *m);
/* Every name interned so far stays, whatever undertaking undoes to an
 * earlier mark: its id was handed out (roster.h: a name, once known,
 * stays known until the store closes). */
void rs__shape_pin(rs__attrs *a);

/* Growable arrays in RS_MEM_ATTRS whose growth an operation can give
 * back: room for one more element (cap doubles), and shrinking back to a
 * mark, which never fails (the allocator contract). */
rs_status rs__shape_grow(rs_store *st, void **arr, uint32_t n, uint32_t *cap,
                         size_t size);
void rs__shape_shrink(rs_store *st, void **arr, uint32_t *cap, uint32_t to,
                      size_t size);

#endif
