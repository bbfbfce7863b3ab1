/*
 * attrs.c: dynamic attributes: where each record's are, and the calls
 * that read and change them (names and shapes are shape.c's).
 *
 * A class declared `dynamic` lets a record bind attributes it does not
 * declare (p.x = 123).  They cost only the records that use them:
 *
 *   row header bit 15     set when the record has attributes (table.h): a
 *                         record without any pays that one bit
 *   per row page          a vector of (slot within the page, block ref,
 *                         the record's generation), sorted by slot: 8
 *                         bytes a record with attributes
 *   block                 in the string arena, at its exact size:
 *
 *     +-----------+-------------+------------------------------------+
 *     | len (var) | shape (var) | values, in the shape's name order  |
 *     +-----------+-------------+------------------------------------+
 *     value: tag byte, then  int: zigzag varint | uint: varint |
 *            f64: 8 bytes | str: varint length + bytes | false/true: -
 *
 * A block names its shape (shape.c): records that bind the same names in
 * the same order share one, so a block stores one small number instead of
 * its names; the list form, shape 0, stores a name id before each value.
 *
 * Costs: the canonical extras (x, guild, vip) take 8 bytes of vector entry
 * and a block of about 14 to 20 bytes.  A read by handle need not touch
 * the row: an entry whose generation matches the handle's proves the
 * record live (rs__attrs_get_by_entry).  It finds the vector entry by
 * interpolation (entries spread evenly over a page: one or two cache
 * lines) and walks the block's few values.  A write builds the new block
 * beside the old one and swaps them: O(attributes).
 *
 * Failure: an operation marks names, shapes, transitions and the one
 * vector it may grow; rs__attrs_rollback() gives the vector back and
 * rs__shape_rollback() the rest, rebuilding the hash tables in place (no
 * allocation), so a failed call leaves the store and its accounting as
 * they were.
 */
#include "change.h"
#include "attrs.h"
#include "codec.h"
#include "table.h"

#include <stdbool.h>

#include <stdio.h>

void rs__attrs_class_free(rs_store *st, rs_class *c)
{
    for (uint32_t i = 0; i < c->n_avecs; i++) {
        rs__free(st, RS_MEM_ATTRS, c->avecs[i].e,
                 c->avecs[i].cap * sizeof(rs__aent));
    }
    rs__free(st, RS_MEM_ATTRS, c->avecs, c->n_avecs * sizeof *c->avecs);
    c->avecs = NULL;
    c->n_avecs = 0;
}

/* ------------------------------------------------------------------------ */
/* Blocks                                                                    */
/* ------------------------------------------------------------------------ */

/* The payload (after the length) of the block list[0..n) in shape. */
static size_t payload_len(const rs__aval *list, uint32_t n, uint32_t shape)
{
    size_t len = rs__codec_uvar_len(shape);
    if (shape == 0) {
        len += rs__codec_uvar_len(n);
    }
    for (uint32_t k = 0; k < n; k++) {
        if (shape == 0) {
            len += rs__codec_uvar_len(list[k].name);
        }
        len += rs__codec_avalue_len(&list[k].val);
    }
    return len;
}

/* Decode block into list and *shape; returns the number of attributes. */
static uint32_t decode(const rs__attrs *a, const uint8_t *block, rs__aval *list,
                       uint32_t *shape_out)
{
    uint64_t len, shape, n;
    const uint8_t *p = rs__codec_uvar_get(block, &len);
    p = rs__codec_uvar_get(p, &shape);
    *shape_out = (uint32_t)shape;
    if (shape == 0) {
        p = rs__codec_uvar_get(p, &n);
        for (uint64_t k = 0; k < n; k++) {
            uint64_t name;
            p = rs__codec_uvar_get(p, &name);
            list[k].name = (uint32_t)name;
            p = rs__codec_avalue_get(p, &list[k].val);
        }
        return (uint32_t)n;
    }
    const rs__shape *sh = &a->shapes[shape];
    for (uint32_t k = 0; k < sh->n; k++) {
        list[k].name = sh->names[k];
        p = rs__codec_avalue_get(p, &list[k].val);
    }
    return sh->n;
}

/* ------------------------------------------------------------------------ */
/* Where a record's block is                                                 */
/* ------------------------------------------------------------------------ */

/* The vector entry of slot, or NULL; *at is where it is or would go.
 * Records with attributes spread evenly over a page, so the entry sits
 * near n * off / rows: start there and step (a binary search would touch
 * a cache line per step; this touches one or two). */
static RS_ALWAYS_INLINE rs__aent *entry_of(const rs_class *c, uint32_t slot,
                                           uint32_t *at)
{
    uint32_t page = slot >> c->page_shift;
    uint16_t off = (uint16_t)(slot & ((1u << c->page_shift) - 1));
    *at = 0;
    if (page >= c->n_avecs) {
        return NULL;
    }
    const rs__avec *v = &c->avecs[page];
    if (v->n == 0) {
        return NULL;
    }
    uint32_t i = (uint32_t)(((uint64_t)off * v->n) >> c->page_shift);
    if (i >= v->n) {
        i = v->n - 1;
    }
    while (i > 0 && v->e[i].off > off) {
        i--;
    }
    while (i < v->n && v->e[i].off < off) {
        i++;
    }
    *at = i;
    return i < v->n && v->e[i].off == off ? &v->e[i] : NULL;
}

static const uint8_t *block_of(const rs_store *st, const rs_class *c,
                               uint32_t slot)
{
    uint32_t at;
    const rs__aent *e = entry_of(c, slot, &at);
    return e ? rs__strs_at(&st->strs, e->ref) : NULL;
}

static size_t block_len(const uint8_t *block)
{
    uint64_t len;
    const uint8_t *p = rs__codec_uvar_get(block, &len);
    return (size_t)(p - block) + (size_t)len;
}

/* Blocks shorter than the arena's smallest cell are padded to it. */
static size_t cell_len(size_t len)
{
    return len < 8 ? 8 : len;
}

/* rs__attrs_load() of the block at block (NULL: none). */
static uint32_t load_block(rs__attrs *a, const uint8_t *block)
{
    a->old_shape = 0;
    return block ? decode(a, block, a->old_list, &a->old_shape) : 0;
}

uint32_t rs__attrs_load(rs_store *st, const rs_class *c, uint32_t slot)
{
    /* The row's bit first: most records have no attributes, and a caller
     * reading the record has its row at hand already. */
    return load_block(&st->attrs, rs__row_has_attrs(rs__row(c, slot))
                                      ? block_of(st, c, slot)
                                      : NULL);
}

/* Where in block the value of attribute name starts (its value decoded
 * into *out), or NULL (*out untouched): a walk of the block that decodes
 * nothing else. */
static RS_ALWAYS_INLINE const uint8_t *
value_in(const rs__attrs *a, const uint8_t *block, uint32_t name, rs_value *out)
{
    uint64_t len, shape, n;
    const uint8_t *p = rs__codec_uvar_get(block, &len);
    p = rs__codec_uvar_get(p, &shape);
    const rs__shape *sh = shape ? &a->shapes[shape] : NULL;
    if (sh == NULL) {
        p = rs__codec_uvar_get(p, &n);
    } else {
        n = sh->n;
    }
    for (uint64_t k = 0; k < n; k++) {
        uint64_t id;
        if (sh == NULL) {
            p = rs__codec_uvar_get(p, &id);
        } else {
            id = sh->names[k];
        }
        if (id == name) {
            rs__codec_avalue_get(p, out);
            return p;
        }
        p = rs__codec_avalue_skip(p);
    }
    return NULL;
}

/* value_in() of slot's block. */
static const uint8_t *value_at(const rs_store *st, const rs_class *c,
                               uint32_t slot, uint32_t name, rs_value *out)
{
    if (!rs__row_has_attrs(rs__row(c, slot))) {
        return NULL;
    }
    const uint8_t *block = block_of(st, c, slot);
    return block ? value_in(&st->attrs, block, name, out) : NULL;
}

rs_status rs__attrs_get(rs_store *st, const rs_class *c, uint32_t slot,
                        uint32_t name, rs_value *out)
{
    /* Straight into *out: a copy of a whole rs_value just written a
     * member at a time would wait on the block's miss (rs__class_num_read
     * says why). */
    return value_at(st, c, slot, name, out) ? RS_OK : RS_ENOATTR;
}

static RS_ALWAYS_INLINE bool get_by_entry(const rs_store *st, const rs_class *c,
                                          uint32_t slot, uint16_t gen,
                                          uint32_t name, rs_value *out)
{
    uint32_t at;
    const rs__aent *e = entry_of(c, slot, &at);
    return e != NULL && e->gen == gen &&
           value_in(&st->attrs, rs__strs_at(&st->strs, e->ref), name, out);
}

bool rs__attrs_get_by_entry(const rs_store *st, const rs_class *c,
                            uint32_t slot, uint16_t gen, uint32_t name,
                            rs_value *out)
{
    return get_by_entry(st, c, slot, gen, name, out);
}

bool rs__attrs_read(const rs_store *st, rs_handle h, rs_field f, rs_value *out)
{
    rs_class *c;
    uint32_t slot;
    uint16_t gen;
    return rs__table_attr_field(st, f) &&
           rs__table_peek(st, h, &c, &slot, &gen) &&
           get_by_entry(st, c, slot, gen, (uint32_t)(f - RS_ATTR_BASE), out);
}

size_t rs__attrs_size(const rs_store *st, const rs_class *c, uint32_t slot)
{
    if (!rs__row_has_attrs(rs__row(c, slot))) {
        return 0;
    }
    const uint8_t *block = block_of(st, c, slot);
    return block ? rs__strs_cost(cell_len(block_len(block))) + sizeof(rs__aent)
                 : 0;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

rs_status rs__attrs_check_value(rs_store *st, const rs_class *c,
                                const char *name, const rs_value *in,
                                rs_value *out)
{
    *out = *in;
    switch (in->type) {
    case RS_I8:
    case RS_I16:
    case RS_I32:
    case RS_I64:
        out->type = RS_I64;
        return RS_OK;
    case RS_U8:
    case RS_U16:
    case RS_U32:
    case RS_U64:
        if (in->v.u <= INT64_MAX) {
            out->type = RS_I64;
            out->v.i = (int64_t)in->v.u;
        } else {
            out->type = RS_U64;
        }
        return RS_OK;
    case RS_F32:
    case RS_F64:
        out->type = RS_F64;
        return RS_OK;
    case RS_BOOL:
        return RS_OK;
    case RS_STR:
        if (in->v.s.ptr == NULL && in->v.s.len > 0) {
            return rs__err(st, RS_EINVAL, "%s.%s: NULL string", c->sch.name,
                           name);
        }
        if (in->v.s.len > RS_ATTR_STR_MAX) {
            return rs__err(st, RS_ETOOLONG,
                           "%s.%s: %zu bytes exceeds the "
                           "%u a dynamic attribute holds",
                           c->sch.name, name, in->v.s.len, RS_ATTR_STR_MAX);
        }
        if (in->v.s.len > 0) {
            size_t bad = rs__class_utf8_bad(in->v.s.ptr, in->v.s.len);
            if (bad) {
                return rs__err(st, RS_EUTF8,
                               "%s.%s: invalid UTF-8 at "
                               "byte %zu",
                               c->sch.name, name, bad - 1);
            }
        }
        return RS_OK;
    default:
        return rs__err(st, RS_EINVAL, "%s.%s: value of unknown type %d",
                       c->sch.name, name, (int)in->type);
    }
}

/* ------------------------------------------------------------------------ */
/* Changing a record's attributes                                            */
/* ------------------------------------------------------------------------ */

/* What rs__attrs_rollback() goes back to. */
void rs__attrs_begin(rs__attrs *a)
{
    rs__shape_begin(a);
}

/* Make sure slot's page vector can take one more entry. */
static rs_status vec_room(rs_store *st, rs_class *c, uint32_t slot)
{
    rs__attrs *a = &st->attrs;
    uint32_t page = slot >> c->page_shift;
    if (page >= c->n_avecs) {
        /* As many as the page table has room for: it grows by doubling,
         * so this array is reallocated as rarely. */
        uint32_t n = page + 1 > c->cap_pages ? page + 1 : c->cap_pages;
        rs__avec *v = rs__realloc(st, RS_MEM_ATTRS, c->avecs,
                                  c->n_avecs * sizeof *v, n * sizeof *v);
        if (v == NULL) {
            return RS_ENOMEM;
        }
        memset(v + c->n_avecs, 0, (n - c->n_avecs) * sizeof *v);
        a->m_class = c;
        a->m_n_avecs = c->n_avecs;
        c->avecs = v;
        c->n_avecs = n;
    }
    rs__avec *v = &c->avecs[page];
    if (v->n < v->cap) {
        return RS_OK;
    }
    uint32_t old = v->cap;
    if (rs__shape_grow(st, (void **)&v->e, v->n, &v->cap, sizeof *v->e) !=
        RS_OK) {
        return RS_ENOMEM;
    }
    a->m_vec = v;
    a->m_vec_cap = old;
    return RS_OK;
}

/* Where slot's vector entry is, or would go, into plan.  The vector, not
 * the row's bit, says: an insert prepares before it writes its row. */
static void locate(const rs_class *c, uint32_t slot, rs__aplan *plan)
{
    plan->has_entry = entry_of(c, slot, &plan->at) != NULL;
}

/* rs__attrs_prepare() of a plan already located (locate()); reuse lets
 * the new block take the old one's cell when both take a cell of one size
 * (for a rollback only: new_list must not borrow from the old block). */
static rs_status prepare(rs_store *st, rs_class *c, uint32_t slot, uint32_t n,
                         uint32_t from, bool reuse, rs__aplan *plan)
{
    rs__attrs *a = &st->attrs;
    plan->n = n;
    plan->shape = 0;
    plan->len = plan->payload = 0;
    plan->ref = 0;
    plan->in_place = false;
    if (n == 0) {
        return RS_OK;
    }
    uint32_t names[RS_ATTRS_PER_RECORD + 1];
    for (uint32_t k = 0; k < n; k++) {
        names[k] = a->new_list[k].name;
    }
    rs_status rc = rs__shape_for(st, a, names, n, from, &plan->shape);
    if (rc != RS_OK) {
        return rs__err(st, rc, "out of memory for the shapes of '%s'",
                       c->sch.name);
    }
    plan->payload = payload_len(a->new_list, n, plan->shape);
    plan->len = rs__codec_uvar_len(plan->payload) + plan->payload;
    if (reuse && plan->has_entry) {
        uint32_t ref = c->avecs[slot >> c->page_shift].e[plan->at].ref;
        if (cell_len(block_len(rs__strs_at(&st->strs, ref))) ==
            cell_len(plan->len)) {
            plan->ref = ref;
            plan->in_place = true;
            return RS_OK;
        }
    }
    rc = rs__strs_take(st, &st->strs, cell_len(plan->len), &plan->ref);
    if (rc != RS_OK) {
        return rc; /* the arena's message: out of memory, or full */
    }
    if (!plan->has_entry && vec_room(st, c, slot) != RS_OK) {
        return rs__err(st, RS_ENOMEM,
                       "out of memory for the attributes of "
                       "a '%s' record",
                       c->sch.name);
    }
    return RS_OK;
}

rs_status rs__attrs_prepare(rs_store *st, rs_class *c, uint32_t slot,
                            uint32_t n, uint32_t from, rs__aplan *plan)
{
    locate(c, slot, plan);
    return prepare(st, c, slot, n, from, false, plan);
}

static void write_block(const rs__attrs *a, uint8_t *p, const rs__aplan *plan)
{
    p = rs__codec_uvar_put(p, plan->payload);
    p = rs__codec_uvar_put(p, plan->shape);
    if (plan->shape == 0) {
        p = rs__codec_uvar_put(p, plan->n);
    }
    for (uint32_t k = 0; k < plan->n; k++) {
        if (plan->shape == 0) {
            p = rs__codec_uvar_put(p, a->new_list[k].name);
        }
        p = rs__codec_avalue_put(p, &a->new_list[k].val);
    }
}

void rs__attrs_commit(rs_store *st, rs_class *c, uint32_t slot,
                      const rs__aplan *plan)
{
    rs__attrs *a = &st->attrs;
    uint8_t *row = rs__row(c, slot);
    uint32_t at = plan->at;
    rs__avec *v = plan->has_entry || plan->n > 0
                      ? &c->avecs[slot >> c->page_shift]
                      : NULL;
    rs__aent *e = plan->has_entry ? &v->e[at] : NULL;
    if (plan->in_place) {
        /* The same cell, written over: nothing taken or given back. */
        write_block(a, rs__strs_at(&st->strs, plan->ref), plan);
        return;
    }
    /* The new block is written before the old one is released: new_list
     * borrows its strings from the old block (and perhaps from it the
     * value being set). */
    uint32_t old_ref = e ? e->ref : 0;
    if (plan->n > 0) {
        write_block(a, rs__strs_at(&st->strs, plan->ref), plan);
        a->block_bytes += rs__strs_cost(cell_len(plan->len));
    }
    if (e) {
        const uint8_t *old = rs__strs_at(&st->strs, old_ref);
        size_t len = cell_len(block_len(old));
        a->block_bytes -= rs__strs_cost(len);
        rs__strs_release(&st->strs, old_ref, len);
    }
    if (plan->n == 0) {
        if (e) {
            memmove(e, e + 1, (size_t)(v->e + v->n - (e + 1)) * sizeof *e);
            v->n--;
        }
        rs__row_set_attrs(row, false);
        return;
    }
    if (e) {
        e->ref = plan->ref;
    } else {
        memmove(v->e + at + 1, v->e + at, (v->n - at) * sizeof *v->e);
        e = &v->e[at];
        e->ref = plan->ref;
        e->off = (uint16_t)(slot & ((1u << c->page_shift) - 1));
        v->n++;
    }
    /* The row's generation is written before its attributes (an insert
     * writes the row first), so the entry can vouch for it.  An entry
     * that was there has both already; they are written again anyway,
     * because skipping them measured slower for later reads from Python
     * (python/bench_ops.py --op attr_get at 1,000,000 players, side by
     * side: 707-723 ns a read against 869-968), for a reason not found:
     * the bytes are the same and so are the reads' instructions. */
    e->gen = rs__row_gen(row);
    rs__row_set_attrs(row, true);
}

void rs__attrs_rollback(rs_store *st, rs__attrs *a)
{
    if (a->m_vec) {
        rs__shape_shrink(st, (void **)&a->m_vec->e, &a->m_vec->cap,
                         a->m_vec_cap, sizeof(rs__aent));
        a->m_vec = NULL;
    }
    if (a->m_class) {
        rs_class *c = a->m_class;
        uint32_t to = a->m_n_avecs;
        if (to == 0) {
            rs__free(st, RS_MEM_ATTRS, c->avecs, c->n_avecs * sizeof *c->avecs);
            c->avecs = NULL;
        } else {
            c->avecs = rs__realloc(st, RS_MEM_ATTRS, c->avecs,
                                   c->n_avecs * sizeof *c->avecs,
                                   to * sizeof *c->avecs);
        }
        c->n_avecs = to;
        a->m_class = NULL;
    }
    rs__shape_rollback(st, a);
}

void rs__attrs_drop(rs_store *st, rs_class *c, uint32_t slot)
{
    if (!rs__row_has_attrs(rs__row(c, slot))) {
        return;
    }
    rs__aplan none = {0};
    locate(c, slot, &none);
    rs__attrs_commit(st, c, slot, &none);
}

rs_status rs__attrs_check(const rs_store *st, const rs_class *c)
{
    const rs__attrs *a = &st->attrs;
    size_t n_entries = 0;
    for (uint32_t p = 0; p < c->n_avecs; p++) {
        const rs__avec *v = &c->avecs[p];
        if (v->n > v->cap) {
            return RS_ECORRUPT;
        }
        for (uint32_t k = 0; k < v->n; k++) {
            uint32_t slot = p << c->page_shift | v->e[k].off;
            if ((k > 0 && v->e[k].off <= v->e[k - 1].off) ||
                slot >= c->n_slots || !rs__row_live(rs__row(c, slot)) ||
                !rs__row_has_attrs(rs__row(c, slot)) ||
                v->e[k].gen != rs__row_gen(rs__row(c, slot))) {
                return RS_ECORRUPT;
            }
            const uint8_t *block = rs__strs_at(&st->strs, v->e[k].ref);
            uint64_t len, shape;
            const uint8_t *q = rs__codec_uvar_get(block, &len);
            rs__codec_uvar_get(q, &shape);
            if (shape >= a->n_shapes || len == 0) {
                return RS_ECORRUPT;
            }
            n_entries++;
        }
    }
    size_t flagged = 0;
    for (uint32_t s = 0; s < c->n_slots; s++) {
        const uint8_t *row = rs__row(c, s);
        flagged += rs__row_live(row) && rs__row_has_attrs(row);
    }
    return flagged == n_entries ? RS_OK : RS_ECORRUPT;
}

/* ------------------------------------------------------------------------ */
/* The calls, as callers see them                                            */
/* ------------------------------------------------------------------------ */

/* An attribute change's record, prepared (commit false) or committed, out
 * of line so that a store without observers does not carry it.  The
 * record's attributes before are in st->attrs.old_list until the commit
 * (by then their block is gone). */
static RS_NOINLINE rs_status attrs_change(rs_store *st, rs_class *c,
                                          uint32_t slot, uint32_t name,
                                          const rs_value *val, uint32_t n_old,
                                          bool commit)
{
    rs__change ch = {.kind = RS__CHANGE_ATTRS,
                     .c = c,
                     .slot = slot,
                     .name = name,
                     .val = val,
                     .attrs = commit ? NULL : st->attrs.old_list,
                     .n_attrs = commit ? 0 : n_old};
    if (commit) {
        rs__change_commit(st, &ch);
        return RS_OK;
    }
    return rs__change_prepare(st, &ch);
}

/* A number bound again to a number of the same encoded length (a counter,
 * a level, a flag: the common update) is written over the old value in
 * the record's block: no new block, no shape lookup, no vector change,
 * nothing to allocate, so nothing can fail after the observers agreed.
 * Called with the record's attributes before in old_list (n of them, the
 * k-th this one's), which the observers see as for any other change, and
 * may refuse: *rc then says why, and nothing changed.  Strings take the
 * general path: a new string may be borrowed from the very bytes it would
 * overwrite.  Returns whether it answered the call (in *rc); false leaves
 * it to the general path. */
static bool rebind_in_place(rs_store *st, rs_class *c, uint32_t slot,
                            const uint8_t *block, uint32_t id, uint32_t k,
                            uint32_t n, const rs_value *v, rs_status *rc)
{
    const rs_value *old = &st->attrs.old_list[k].val;
    if (v->type == RS_STR || old->type == RS_STR ||
        rs__codec_avalue_len(old) != rs__codec_avalue_len(v)) {
        return false;
    }
    rs_value seen;
    uint8_t *at = (uint8_t *)value_in(&st->attrs, block, id, &seen);
    RS_ASSERT(at != NULL);
    *rc = st->obs ? attrs_change(st, c, slot, id, v, n, false) : RS_OK;
    if (*rc != RS_OK) {
        return true;
    }
    rs__codec_avalue_put(at, v);
    if (st->n_commit_obs) {
        (void)attrs_change(st, c, slot, id, v, 0, true);
    }
    return true;
}

/* rs__attrs_set() once slot's vector entry is found: e (NULL if it has
 * none) and plan->at, where it is or would go. */
static rs_status set_located(rs_store *st, rs_class *c, uint32_t slot,
                             const char *text, uint32_t id, const rs_value *val,
                             const rs__aent *e, rs__aplan *plan)
{
    rs__attrs *a = &st->attrs;
    const char *name = text ? text : a->names[id].s;
    rs_value v;
    if (val) {
        if (!(c->sch.flags & RS_CLASS_DYNAMIC)) {
            return rs__table_no_attr(st, c, name);
        }
        rs_status rc = rs__attrs_check_value(st, c, name, val, &v);
        if (rc != RS_OK) {
            return rc;
        }
    } else if (text) {
        id = rs__shape_lookup(&st->attrs, text);
        if (id == UINT32_MAX) {
            return rs__table_no_attr(st, c, text);
        }
    }
    rs_status rc = RS_OK;
    rs__attrs_begin(a);
    rs__strs_begin(&st->strs);
    if (val && text) {
        rc = rs__shape_intern(st, &st->attrs, text, &id);
    }
    /* By the vector entry, not the row's bit: the row is not read when
     * the caller's handle was vouched for by the entry, and a record
     * without attributes needs to know where its entry would go anyway.
     * The one search serves the vouch, the read of the block and the
     * plan (prepare() below); nothing between them changes the vector. */
    plan->has_entry = e != NULL;
    const uint8_t *block =
        rc == RS_OK && e ? rs__strs_at(&st->strs, e->ref) : NULL;
    uint32_t n = load_block(a, block), k = 0;
    while (k < n && a->old_list[k].name != id) {
        k++;
    }
    if (rc == RS_OK && val && k < n &&
        rebind_in_place(st, c, slot, block, id, k, n, &v, &rc)) {
        /* Nothing was taken: a refusal has nothing to give back. */
        rs__strs_commit(&st->strs);
        return rc;
    }
    if (rc == RS_OK && !val && k == n) {
        rc = rs__table_no_attr(st, c, name);
    } else if (rc == RS_OK && val && k == n && n == RS_ATTRS_PER_RECORD) {
        rc = rs__err(st, RS_EFULL,
                     "%s: more than %d dynamic attributes on "
                     "one record",
                     c->sch.name, RS_ATTRS_PER_RECORD);
    }
    if (rc == RS_OK) {
        /* The new list: the old one with this name replaced (keeping its
         * place, as a Python dict does), appended, or left out. */
        uint32_t m = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j != k) {
                a->new_list[m++] = a->old_list[j];
            } else if (val) {
                a->new_list[m++] = (rs__aval){id, v};
            }
        }
        if (val && k == n) {
            a->new_list[m++] = (rs__aval){id, v};
        }
        /* Bound anew or again, the old names begin the new list. */
        uint32_t from = val ? a->old_shape : 0;
        rc = prepare(st, c, slot, m, from, false, plan);
    }
    if (rc == RS_OK && st->obs) {
        rc = attrs_change(st, c, slot, id, val ? &v : NULL, n, false);
    }
    if (rc != RS_OK) {
        rs__attrs_rollback(st, a);
        rs__strs_rollback(st, &st->strs);
        return rc;
    }
    rs__attrs_commit(st, c, slot, plan);
    rs__strs_commit(&st->strs);
    if (st->n_commit_obs) {
        (void)attrs_change(st, c, slot, id, val ? &v : NULL, n, true);
    }
    return RS_OK;
}

rs_status rs__attrs_set(rs_store *st, rs_class *c, uint32_t slot,
                        const char *text, uint32_t id, const rs_value *val)
{
    rs__aplan plan;
    const rs__aent *e = entry_of(c, slot, &plan.at);
    return set_located(st, c, slot, text, id, val, e, &plan);
}

rs_status rs__attrs_set_vouched(rs_store *st, rs_class *c, uint32_t slot,
                                uint16_t gen, uint32_t id, const rs_value *val,
                                bool *vouched)
{
    rs__aplan plan;
    const rs__aent *e = entry_of(c, slot, &plan.at);
    *vouched = e != NULL && e->gen == gen;
    return *vouched ? set_located(st, c, slot, NULL, id, val, e, &plan) : RS_OK;
}

rs_status rs__attrs_restore(rs_store *st, rs_class *c, uint32_t slot,
                            uint32_t n)
{
    rs__attrs *a = &st->attrs;
    rs__aplan plan;
    rs__attrs_begin(a);
    rs__strs_begin(&st->strs);
    /* A rollback must not need memory.  An in-place rebind took no cell,
     * so its undo would need one beside the block it replaces: instead
     * the block of before is written into that same cell. */
    locate(c, slot, &plan);
    rs_status rc = prepare(st, c, slot, n, 0, true, &plan);
    /* The saver copies the record before its attributes change; the
     * observers that log changes skip a restore, so no name or old list
     * is needed. */
    rs__change ch = {.kind = RS__CHANGE_ATTRS,
                     .restore = true,
                     .c = c,
                     .slot = slot,
                     .name = UINT32_MAX};
    if (rc == RS_OK && st->obs) {
        rc = rs__change_prepare(st, &ch);
    }
    if (rc != RS_OK) {
        rs__attrs_rollback(st, a);
        rs__strs_rollback(st, &st->strs);
        return rc;
    }
    rs__attrs_commit(st, c, slot, &plan);
    rs__strs_commit(&st->strs);
    if (st->n_commit_obs) {
        rs__change_commit(st, &ch);
    }
    return RS_OK;
}

rs_field rs_attr_id(rs_store *st, rs_class *c, const char *name)
{
    if (st == NULL) {
        return -1;
    }
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        rs__table_bad_class(st, c, "rs_attr_id");
        return -1;
    }
    if (name == NULL) {
        rs__err(st, RS_EINVAL, "rs_attr_id: NULL name");
        return -1;
    }
    rs_field f = rs__table_field(c, name, 0);
    if (f >= 0) {
        return f;
    }
    if (!(c->sch.flags & RS_CLASS_DYNAMIC)) {
        rs__table_no_attr(st, c, name);
        return -1;
    }
    uint32_t id;
    rs__attrs_begin(&st->attrs);
    if (rs__shape_intern(st, &st->attrs, name, &id) != RS_OK) {
        rs__attrs_rollback(st, &st->attrs); /* gives back table growth */
        return -1;
    }
    rs__shape_pin(&st->attrs); /* a group's rollback keeps it */
    return (rs_field)(RS_ATTR_BASE + id);
}

rs_status rs_attr_find(rs_store *st, const rs_class *c, const char *name,
                       rs_field *out)
{
    if (st == NULL) {
        return RS_EINVAL;
    }
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_attr_find");
    }
    if (name == NULL || out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_attr_find: NULL argument");
    }
    rs_field f = rs__table_field(c, name, 0);
    if (f < 0 && (c->sch.flags & RS_CLASS_DYNAMIC)) {
        /* A lookup, never an intern: a name no record ever bound cannot
         * be bound to this record, and a client sending a million such
         * names must leave the name table as it was. */
        uint32_t id = rs__shape_lookup(&st->attrs, name);
        if (id != UINT32_MAX) {
            f = (rs_field)(RS_ATTR_BASE + id);
        }
    }
    if (f < 0) {
        return rs__table_no_attr(st, c, name);
    }
    *out = f;
    return RS_OK;
}

static rs_status del_attr_impl(rs_store *st, rs_handle h, const char *name)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (name == NULL) {
        return rs__err(st, RS_EINVAL, "rs_del_attr: NULL name");
    }
    if (rs__table_field(c, name, 0) >= 0) {
        return rs__err(st, RS_EINVAL,
                       "%s.%s is a declared field: it always "
                       "has a value and cannot be deleted",
                       c->sch.name, name);
    }
    return rs__attrs_set(st, c, slot, name, 0, NULL);
}

rs_status rs_dir(rs_store *st, rs_handle h, const char **names, size_t cap,
                 size_t *n)
{
    RS__NEED_STORE(st);
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs__clear_err(st);
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (n == NULL || (names == NULL && cap > 0)) {
        return rs__err(st, RS_EINVAL, "rs_dir: NULL argument");
    }
    size_t total = 0;
    for (uint32_t f = 0; f < c->sch.n_fields; f++, total++) {
        if (total < cap) {
            names[total] = c->sch.fields[f].name;
        }
    }
    uint32_t m = rs__attrs_load(st, c, slot);
    for (uint32_t k = 0; k < m; k++, total++) {
        if (total < cap) {
            names[total] = st->attrs.names[st->attrs.old_list[k].name].s;
        }
    }
    *n = total;
    return RS_OK;
}

rs_status rs_dict(rs_store *st, rs_handle h, rs_attr *items, size_t cap,
                  size_t *n)
{
    RS__NEED_STORE(st);
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs__clear_err(st);
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (n == NULL || (items == NULL && cap > 0)) {
        return rs__err(st, RS_EINVAL, "rs_dict: NULL argument");
    }
    uint32_t m = rs__attrs_load(st, c, slot);
    for (uint32_t k = 0; k < m && k < cap; k++) {
        items[k].name = st->attrs.names[st->attrs.old_list[k].name].s;
        items[k].val = st->attrs.old_list[k].val;
    }
    *n = m;
    return RS_OK;
}

rs_status rs_del_attr(rs_store *st, rs_handle h, const char *name)
{
    RS__NEED_STORE(st);
    RS__MUTATION(st, del_attr_impl(st, h, name));
}
