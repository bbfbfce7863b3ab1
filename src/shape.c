/*
 * shape.c: the store's attribute names and the shapes records share
 * (shape.h; the records' blocks are attrs.c's).
 *
 * Names are interned once per store.  Records that bind the same names in
 * the same order share a shape (V8's hidden classes, CPython's key-sharing
 * dictionaries): a shape is the list of names, reached from the empty shape
 * by a transition table keyed by (shape, name), so a block stores one small
 * shape number instead of its names.  Past RS_SHAPES_MAX shapes (a hostile
 * mix of names) new combinations fall back to the list form, shape 0.
 *
 * Failure: an operation marks names, shapes and transitions (and attrs.c
 * the one vector it may grow); rs__shape_rollback() truncates them back
 * and rebuilds the hash tables in place (no allocation).
 */
#include "shape.h"

#include "index.h" /* rs__index_hash */

#include <stdio.h>

void rs__shape_init(rs__attrs *a, uint64_t seed)
{
    memset(a, 0, sizeof *a);
    a->seed = seed;
}

void rs__shape_free(rs_store *st, rs__attrs *a)
{
    for (uint32_t i = 0; i < a->n_names; i++) {
        rs__free(st, RS_MEM_ATTRS, a->names[i].s, a->names[i].len + 1);
    }
    for (uint32_t i = 0; i < a->n_shapes; i++) {
        rs__free(st, RS_MEM_ATTRS, a->shapes[i].names,
                 a->shapes[i].n * sizeof(uint32_t));
    }
    rs__free(st, RS_MEM_ATTRS, a->names, a->cap_names * sizeof *a->names);
    rs__free(st, RS_MEM_ATTRS, a->name_ix, a->name_ix_cap * sizeof(uint32_t));
    rs__free(st, RS_MEM_ATTRS, a->shapes, a->cap_shapes * sizeof *a->shapes);
    rs__free(st, RS_MEM_ATTRS, a->trans, a->trans_cap * sizeof *a->trans);
    rs__shape_init(a, a->seed);
}

/* ------------------------------------------------------------------------ */
/* Growable arrays whose growth an operation can give back                   */
/* ------------------------------------------------------------------------ */

/* Make room for one more element in *arr (cap elements of size each).
 * Shrinking back to a mark never fails (the allocator contract). */
rs_status rs__shape_grow(rs_store *st, void **arr, uint32_t n, uint32_t *cap,
                         size_t size)
{
    if (n < *cap) {
        return RS_OK;
    }
    uint32_t want = *cap ? *cap * 2 : 8;
    void *p = rs__realloc(st, RS_MEM_ATTRS, *arr, *cap * size, want * size);
    if (p == NULL) {
        return RS_ENOMEM;
    }
    memset((char *)p + *cap * size, 0, (want - *cap) * size);
    *arr = p;
    *cap = want;
    return RS_OK;
}

void rs__shape_shrink(rs_store *st, void **arr, uint32_t *cap, uint32_t to,
                      size_t size)
{
    if (*cap <= to) {
        return;
    }
    if (to == 0) {
        rs__free(st, RS_MEM_ATTRS, *arr, *cap * size);
        *arr = NULL;
    } else {
        *arr = rs__realloc(st, RS_MEM_ATTRS, *arr, *cap * size, to * size);
    }
    *cap = to;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/* The store's hash seed, given at rs__shape_init(): the name and
 * transition tables hash with it, as the indexes do, so names chosen to
 * collide cannot be worked out in advance. */
static uint64_t seed_of(const rs__attrs *a)
{
    return a->seed;
}

static uint32_t name_hash(const rs__attrs *a, const char *s, size_t len)
{
    return (uint32_t)rs__index_hash(seed_of(a), s, len);
}

static void name_ix_put(rs__attrs *a, uint32_t id)
{
    uint32_t mask = a->name_ix_cap - 1;
    uint32_t i = name_hash(a, a->names[id].s, a->names[id].len) & mask;
    while (a->name_ix[i] != 0) {
        i = (i + 1) & mask;
    }
    a->name_ix[i] = id + 1;
}

static void name_ix_rebuild(rs__attrs *a)
{
    if (a->name_ix_cap == 0) {
        return;
    }
    memset(a->name_ix, 0, a->name_ix_cap * sizeof(uint32_t));
    for (uint32_t id = 0; id < a->n_names; id++) {
        name_ix_put(a, id);
    }
}

uint32_t rs__shape_lookup(const rs__attrs *a, const char *name)
{
    if (a->name_ix_cap == 0) {
        return UINT32_MAX;
    }
    size_t len = strlen(name);
    uint32_t mask = a->name_ix_cap - 1;
    for (uint32_t i = name_hash(a, name, len) & mask; a->name_ix[i] != 0;
         i = (i + 1) & mask) {
        const rs__aname *nm = &a->names[a->name_ix[i] - 1];
        if (nm->len == len && memcmp(nm->s, name, len) == 0) {
            return a->name_ix[i] - 1;
        }
    }
    return UINT32_MAX;
}

rs_status rs__shape_intern(rs_store *st, rs__attrs *a, const char *name,
                           uint32_t *id)
{
    size_t len = name ? strnlen(name, RS_MAX_NAME + 1) : 0;
    if (len == 0 || len > RS_MAX_NAME || !rs__class_is_ident(name, len)) {
        char shown[80];
        snprintf(shown, sizeof shown, "%.64s", name ? name : "(null)");
        return rs__err(st, RS_EINVAL,
                       "'%s' is not an attribute name (a "
                       "letter or '_', then letters, digits or '_', at "
                       "most %d bytes)",
                       shown, RS_MAX_NAME);
    }
    *id = rs__shape_lookup(a, name);
    if (*id != UINT32_MAX) {
        return RS_OK;
    }
    if (a->n_names >= RS_ATTR_NAMES_MAX) {
        return rs__err(st, RS_EFULL,
                       "too many distinct attribute names "
                       "(%u)",
                       RS_ATTR_NAMES_MAX);
    }
    /* Keep the hash table at most half full (power of two). */
    if ((a->n_names + 1) * 2 > a->name_ix_cap) {
        uint32_t cap = a->name_ix_cap ? a->name_ix_cap * 2 : 16;
        uint32_t *ix =
            rs__realloc(st, RS_MEM_ATTRS, a->name_ix,
                        a->name_ix_cap * sizeof *ix, cap * sizeof *ix);
        if (ix == NULL) {
            return rs__err(st, RS_ENOMEM, "out of memory interning '%s'", name);
        }
        a->name_ix = ix;
        a->name_ix_cap = cap;
        name_ix_rebuild(a);
    }
    if (rs__shape_grow(st, (void **)&a->names, a->n_names, &a->cap_names,
                       sizeof *a->names) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory interning '%s'", name);
    }
    char *copy = rs__alloc(st, RS_MEM_ATTRS, len + 1);
    if (copy == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory interning '%s'", name);
    }
    memcpy(copy, name, len + 1);
    *id = a->n_names;
    a->names[a->n_names++] = (rs__aname){copy, (uint32_t)len};
    name_ix_put(a, *id);
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t trans_key(uint32_t parent, uint32_t name)
{
    return ((uint64_t)parent << 32 | name) + 1;
}

static uint32_t trans_slot(const rs__attrs *a, uint64_t key, uint32_t cap)
{
    return (uint32_t)(rs__index_hash(seed_of(a), &key, sizeof key) & (cap - 1));
}

static uint32_t trans_find(const rs__attrs *a, uint32_t parent, uint32_t name)
{
    if (a->trans_cap == 0) {
        return 0;
    }
    uint64_t key = trans_key(parent, name);
    uint32_t mask = a->trans_cap - 1;
    for (uint32_t i = trans_slot(a, key, a->trans_cap); a->trans[i].key != 0;
         i = (i + 1) & mask) {
        if (a->trans[i].key == key) {
            return a->trans[i].child;
        }
    }
    return 0;
}

static void trans_put(rs__attrs *a, uint64_t key, uint32_t child)
{
    uint32_t mask = a->trans_cap - 1;
    uint32_t i = trans_slot(a, key, a->trans_cap);
    while (a->trans[i].key != 0) {
        i = (i + 1) & mask;
    }
    a->trans[i] = (rs__trans){key, child};
}

/* Rebuild the transition table from the shapes: each shape past the empty
 * one is its parent (its names but the last) plus its last name. */
static void trans_rebuild(rs__attrs *a)
{
    if (a->trans_cap == 0) {
        return;
    }
    memset(a->trans, 0, a->trans_cap * sizeof *a->trans);
    a->n_trans = 0;
    for (uint32_t s = 1; s < a->n_shapes; s++) {
        const rs__shape *sh = &a->shapes[s];
        uint32_t parent = 0;
        for (uint32_t k = 0; k + 1 < sh->n; k++) {
            parent = trans_find(a, parent, sh->names[k]);
        }
        trans_put(a, trans_key(parent, sh->names[sh->n - 1]), s);
        a->n_trans++;
    }
}

rs_status rs__shape_for(rs_store *st, rs__attrs *a, const uint32_t *names,
                        uint32_t n, uint32_t from, uint32_t *out)
{
    if (a->n_shapes == 0) {
        /* The empty shape, made once. */
        if (rs__shape_grow(st, (void **)&a->shapes, 0, &a->cap_shapes,
                           sizeof *a->shapes) != RS_OK) {
            return RS_ENOMEM;
        }
        a->shapes[0] = (rs__shape){0, NULL};
        a->n_shapes = 1;
    }
    RS_ASSERT(from < a->n_shapes && a->shapes[from].n <= n);
    uint32_t s = from;
    for (uint32_t k = a->shapes[from].n; k < n; k++) {
        uint32_t child = trans_find(a, s, names[k]);
        if (child == 0) {
            if (a->n_shapes >= RS_SHAPES_MAX) {
                *out = 0;
                return RS_OK;
            }
            if ((a->n_trans + 1) * 2 > a->trans_cap) {
                uint32_t cap = a->trans_cap ? a->trans_cap * 2 : 16;
                rs__trans *t =
                    rs__realloc(st, RS_MEM_ATTRS, a->trans,
                                a->trans_cap * sizeof *t, cap * sizeof *t);
                if (t == NULL) {
                    return RS_ENOMEM;
                }
                a->trans = t;
                a->trans_cap = cap;
                trans_rebuild(a);
            }
            if (rs__shape_grow(st, (void **)&a->shapes, a->n_shapes,
                               &a->cap_shapes, sizeof *a->shapes) != RS_OK) {
                return RS_ENOMEM;
            }
            uint32_t *list =
                rs__alloc(st, RS_MEM_ATTRS, (k + 1) * sizeof *list);
            if (list == NULL) {
                return RS_ENOMEM;
            }
            memcpy(list, names, (k + 1) * sizeof *list);
            child = a->n_shapes++;
            a->shapes[child] = (rs__shape){k + 1, list};
            trans_put(a, trans_key(s, names[k]), child);
            a->n_trans++;
        }
        s = child;
    }
    *out = s;
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Marks and rollback                                                        */
/* ------------------------------------------------------------------------ */

static void set_marks(rs__attrs *a, const rs__amark *m)
{
    a->m_names = m->n_names;
    a->m_cap_names = m->cap_names;
    a->m_name_ix_cap = m->name_ix_cap;
    a->m_shapes = m->n_shapes;
    a->m_cap_shapes = m->cap_shapes;
    a->m_trans_cap = m->trans_cap;
    a->m_vec = NULL;
    a->m_class = NULL;
}

void rs__shape_begin(rs__attrs *a)
{
    rs__amark m = {a->n_names,  a->cap_names,  a->name_ix_cap,
                   a->n_shapes, a->cap_shapes, a->trans_cap};
    set_marks(a, &m);
}

void rs__shape_rollback(rs_store *st, rs__attrs *a)
{
    bool names = a->n_names != a->m_names, shapes = a->n_shapes != a->m_shapes;
    while (a->n_shapes > a->m_shapes) {
        rs__shape *sh = &a->shapes[--a->n_shapes];
        rs__free(st, RS_MEM_ATTRS, sh->names, sh->n * sizeof(uint32_t));
    }
    while (a->n_names > a->m_names) {
        rs__aname *nm = &a->names[--a->n_names];
        rs__free(st, RS_MEM_ATTRS, nm->s, nm->len + 1);
    }
    rs__shape_shrink(st, (void **)&a->shapes, &a->cap_shapes, a->m_cap_shapes,
                     sizeof *a->shapes);
    rs__shape_shrink(st, (void **)&a->names, &a->cap_names, a->m_cap_names,
                     sizeof *a->names);
    bool ix_shrank = a->name_ix_cap > a->m_name_ix_cap;
    rs__shape_shrink(st, (void **)&a->name_ix, &a->name_ix_cap,
                     a->m_name_ix_cap, sizeof(uint32_t));
    bool trans_shrank = a->trans_cap > a->m_trans_cap;
    rs__shape_shrink(st, (void **)&a->trans, &a->trans_cap, a->m_trans_cap,
                     sizeof *a->trans);
    if (names || ix_shrank) {
        name_ix_rebuild(a);
    }
    if (shapes || trans_shrank) {
        trans_rebuild(a);
    }
}

void rs__shape_mark(const rs__attrs *a, rs__amark *m)
{
    *m = (rs__amark){a->n_names,  a->cap_names,  a->name_ix_cap,
                     a->n_shapes, a->cap_shapes, a->trans_cap};
}

void rs__shape_pin(rs__attrs *a)
{
    a->n_pinned = a->n_names;
}

void rs__shape_undo_to(rs_store *st, rs__attrs *a, const rs__amark *m)
{
    if (a->n_names < m->n_names || a->n_shapes < m->n_shapes) {
        return; /* not a mark of this store's past */
    }
    rs__amark to = *m;
    if (to.n_names < a->n_pinned) {
        /* A caller holds the id of a name interned since: the names up
         * to it stay (ids are positions), with the tables that hold
         * them. */
        to.n_names = a->n_pinned;
        to.cap_names = a->cap_names;
        to.name_ix_cap = a->name_ix_cap;
    }
    set_marks(a, &to);
    rs__shape_rollback(st, a);
}
