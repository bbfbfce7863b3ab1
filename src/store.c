/*
 * store.c: the store, its classes and their record tables, and the
 * mutations (insert, remove, set) with the restore interface groups use.
 *
 * Each class keeps its records in fixed-width rows, one row per slot, in
 * pages of 2^page_shift rows (about 64 KiB, at most 4096 rows) that are
 * never moved, so growth
 * copies nothing and a slot's row is two shifts and a multiply away:
 *
 *   row:  +---------+-------------------------------------------------+
 *         | header  | fields at their widths, in declaration order     |
 *         +---------+-------------------------------------------------+
 *          2 bytes:  bool/u8/i8 1, 16-bit 2, 32-bit 4, 64-bit 8,
 *          15-bit    str: a cell of 5 to 16 bytes (strs.h: inline, digits
 *          generation packed as a number, or a ref into the string arena)
 *          + has-attrs
 *
 * The canonical Player row (uid str(16) inline(4), name str(32)
 * inline(12), stat u8, level u16) is 2 + 5 + 13 + 1 + 2 = 23 bytes, no
 * padding: fields are read with memcpy, which compiles to plain unaligned
 * loads on the machines we target.
 *
 * Handles: slot (32 bits) | generation (16) | class number (16).  A removed
 * slot's 15-bit generation is bumped to even and the slot goes on a LIFO
 * free list threaded through its row (the next free slot at byte 2); the
 * next insert there bumps it to odd again, so every handle to the old record
 * no longer matches.  After 16384 lives (RS_SLOT_LIVES) a slot is retired
 * rather than let its generation wrap: a stale handle is never taken for a
 * new record.  Retired slots stay counted in n_slots, so a class holds
 * RS_MAX_RECORDS less its retired slots (roster.h states it; rs_mem()
 * reports them).  Recycling them would need more generation bits in every
 * row, or an era per slot checked on every handle and kept in the files;
 * neither is paid for today.  The header's top bit says the record has
 * dynamic attributes (attrs.c).
 *
 * Every mutation validates first (names, types, ranges, uniqueness), then
 * reserves every byte it will need (string cells, a row page, index growth),
 * undoing the reservations if one fails, and only then writes, in steps that
 * cannot fail.  So a failed call leaves the store as it was, byte for byte
 * in its accounting too.
 */
#include "attrs.h"
#include "change.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>

/* Test builds (RS_TEST_SMALL) use pages of a few rows so that tests with
 * dozens of records already cross page boundaries. */
#ifdef RS_TEST_SMALL
#define PAGE_TARGET_BYTES 64
#define PAGE_MIN_SHIFT 2
#else
#define PAGE_TARGET_BYTES 65536
#define PAGE_MIN_SHIFT 4
#endif
/* At most 4096 rows a page, whatever the row's width: an attribute
 * vector entry keeps its row's place in the page in 16 bits (attrs.h),
 * and an insert into a page's vector moves at most this many entries. */
#define PAGE_MAX_SHIFT 12

/* ------------------------------------------------------------------------ */
/* Stores                                                                    */
/* ------------------------------------------------------------------------ */

rs_status rs_store_open(rs_alloc_fn alloc, void *ud, rs_store **out)
{
    rs_store boot;
    memset(&boot, 0, sizeof boot);
    rs__alloc_init(&boot, alloc, ud);
    rs_store *st = rs__alloc(&boot, RS_MEM_META, sizeof *st);
    if (st == NULL) {
        return RS_ENOMEM;
    }
    *st = boot;
    st->hash_seed = rs__index_seed_new();
    rs__strs_init(&st->strs);
    rs__shape_init(&st->attrs, st->hash_seed);
    *out = st;
    return RS_OK;
}

static void class_free(rs_store *st, rs_class *c);
static void remove_slot(rs_store *st, rs_class *c, uint32_t slot);

void rs_store_close(rs_store *st)
{
    if (st == NULL) {
        return;
    }
    /* Newest first: a group is aborted and a running save abandoned (a
     * compaction's next journal removed) before the journal closes. */
    while (st->obs) {
        rs__observer *o = st->obs;
        while (o->next) {
            o = o->next;
        }
        if (o->close) {
            o->close(st, o);
        }
        rs__change_unobserve(st, o); /* if its close did not */
    }
    if (st->scans_close) {
        st->scans_close(st);
    }
    for (uint32_t i = 0; i < st->n_classes; i++) {
        class_free(st, st->classes[i]);
    }
    rs__free(st, RS_MEM_META, st->classes, st->n_classes * sizeof *st->classes);
    rs__strs_free(st, &st->strs);
    rs__shape_free(st, &st->attrs);
    rs_store boot = *st;
    rs__free(&boot, RS_MEM_META, st, sizeof *st);
}

/* ------------------------------------------------------------------------ */
/* Classes                                                                   */
/* ------------------------------------------------------------------------ */

static void class_free(rs_store *st, rs_class *c)
{
    rs__attrs_class_free(st, c);
    size_t page_bytes = (size_t)c->row_len << c->page_shift;
    for (uint32_t i = 0; i < c->n_pages; i++) {
        rs__free(st, RS_MEM_RECORDS, c->pages[i], page_bytes);
    }
    rs__free(st, RS_MEM_META, c->pages, c->cap_pages * sizeof *c->pages);
    if (c->ix) {
        for (uint32_t i = 0; i < c->sch.n_indexed; i++) {
            rs__index_free(st, &c->ix[i]);
        }
    }
    size_t nf = c->sch.n_fields, ni = c->sch.n_indexed;
    rs__free(st, RS_MEM_META, c->ix, ni * sizeof *c->ix);
    rs__free(st, RS_MEM_META, c->ixctx, ni * sizeof *c->ixctx);
    rs__free(st, RS_MEM_META, c->vals, nf * sizeof *c->vals);
    rs__free(st, RS_MEM_META, c->given, nf);
    rs__free(st, RS_MEM_META, c->hashes, ni * sizeof *c->hashes);
    rs__free(st, RS_MEM_META, c->refs, nf * sizeof *c->refs);
    rs__class_schema_free(st, &c->sch);
    rs__free(st, RS_MEM_META, c, sizeof *c);
}

rs_class *rs_class_find(const rs_store *st, const char *name)
{
    if (st == NULL || name == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < st->n_classes; i++) {
        if (strcmp(st->classes[i]->sch.name, name) == 0) {
            return st->classes[i];
        }
    }
    return NULL;
}

size_t rs_n_classes(const rs_store *st)
{
    return st ? st->n_classes : 0;
}

rs_class *rs_class_at(const rs_store *st, size_t i)
{
    return st && i < st->n_classes ? st->classes[i] : NULL;
}

rs_status rs_class_create(rs_store *st, const char *name,
                          const rs_field_def *fields, size_t n_fields,
                          unsigned flags, rs_class **out)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (name == NULL || (fields == NULL && n_fields > 0) || out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_class_create: NULL argument");
    }
    if (rs_class_find(st, name)) {
        return rs__err(st, RS_EEXIST, "class '%s' is already declared", name);
    }
    if (st->n_classes == UINT16_MAX - 1) {
        return rs__err(st, RS_EFULL, "too many classes (%u)", st->n_classes);
    }
    rs_class *c = rs__calloc(st, RS_MEM_META, sizeof *c);
    if (c == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory declaring '%s'", name);
    }
    rs_status rc =
        rs__class_schema_init(st, &c->sch, name, fields, n_fields, flags);
    if (rc != RS_OK) {
        rs__free(st, RS_MEM_META, c, sizeof *c);
        return rc;
    }
    c->st = st;
    c->row_len = c->sch.row_len;
    c->free_head = RS_SLOT_NONE;
    c->gfree_head = RS_SLOT_NONE;
#ifdef RS_TEST_SMALL
    c->max_slots = RS_MAX_RECORDS;
#endif
    c->page_shift = PAGE_MIN_SHIFT;
    while (c->page_shift < PAGE_MAX_SHIFT &&
           ((size_t)c->row_len << (c->page_shift + 1)) <= PAGE_TARGET_BYTES) {
        c->page_shift++;
    }
    size_t nf = c->sch.n_fields, ni = c->sch.n_indexed;
    c->ix = rs__calloc(st, RS_MEM_META, ni * sizeof *c->ix);
    c->ixctx = rs__calloc(st, RS_MEM_META, ni * sizeof *c->ixctx);
    c->vals = rs__calloc(st, RS_MEM_META, nf * sizeof *c->vals);
    c->given = rs__calloc(st, RS_MEM_META, nf);
    c->hashes = rs__calloc(st, RS_MEM_META, ni * sizeof *c->hashes);
    c->refs = rs__calloc(st, RS_MEM_META, nf * sizeof *c->refs);
    rs_class **list = NULL;
    bool ok = c->ix && c->ixctx && c->vals && c->given && c->hashes && c->refs;
    for (uint32_t i = 0; ok && i < ni; i++) {
        c->ixctx[i] = (rs__ixctx){c, c->sch.indexed[i]};
        ok = rs__index_init(st, &c->ix[i], rs__table_ix_key_of,
                            rs__table_ix_key_eq, rs__table_ix_hash_slots,
                            &c->ixctx[i]) == RS_OK;
    }
    if (ok) {
        list = rs__alloc(st, RS_MEM_META, (st->n_classes + 1) * sizeof *list);
        ok = list != NULL;
    }
    if (!ok) {
        class_free(st, c);
        return rs__err(st, RS_ENOMEM, "out of memory declaring '%s'", name);
    }
    if (st->n_classes > 0) {
        memcpy(list, st->classes, st->n_classes * sizeof *list);
    }
    rs__free(st, RS_MEM_META, st->classes, st->n_classes * sizeof *st->classes);
    st->classes = list;
    st->classes[st->n_classes++] = c;
    c->id = (uint16_t)st->n_classes;
    if (st->obs) {
        rs__change ch = {.kind = RS__CHANGE_CLASS, .c = c};
        rs_status rc2 = rs__change_prepare(st, &ch);
        if (rc2 != RS_OK) {
            rs__store_classes_truncate(st, st->n_classes - 1);
            return rc2;
        }
        rs__change_commit(st, &ch);
    }
    *out = c;
    return RS_OK;
}

rs_status rs_class_reserve(rs_store *st, rs_class *c, size_t n)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_class_reserve");
    }
    if (st->hold != NULL) {
        /* A group's rollback puts each key it removed back into the
         * segment it left, where its room is (change.h, txn.c): a new
         * layout could leave it none, and the rollback must not need
         * memory. */
        return rs__err(st, RS_EINVAL,
                       "rs_class_reserve: not inside a group (its rollback "
                       "counts on the indexes it began with)");
    }
    if (n > RS__SLOT_LIMIT(c)) {
        return rs__err(st, RS_EINVAL,
                       "rs_class_reserve: %zu records is more than class '%s' "
                       "can hold (%u)",
                       n, c->sch.name, (unsigned)RS__SLOT_LIMIT(c));
    }
    /* Every index's new layout is allocated before any is applied, so
     * running out of memory halfway leaves the class as it was, its
     * memory included.  The layout is no change a caller can see: no
     * observer hears of it. */
    rs__index_plan plans[RS_MAX_FIELDS];
    uint32_t ni = c->sch.n_indexed;
    for (uint32_t i = 0; i < ni; i++) {
        if (rs__index_plan_reserve(st, &c->ix[i], n, &plans[i]) != RS_OK) {
            while (i-- > 0) {
                rs__index_plan_free(st, &c->ix[i], &plans[i]);
            }
            return rs__err(st, RS_ENOMEM,
                           "out of memory sizing the indexes of '%s' for %zu "
                           "records",
                           c->sch.name, n);
        }
    }
    for (uint32_t i = 0; i < ni; i++) {
        rs__index_apply(st, &c->ix[i], &plans[i]);
    }
    return RS_OK;
}

void rs__store_classes_truncate(rs_store *st, uint32_t n)
{
    uint32_t had = st->n_classes;
    if (had <= n) {
        return;
    }
    /* Only classes declared inside the failing call are dropped (a load,
     * a declaration the journal refused), so no scan can be open on one. */
    while (st->n_classes > n) {
        class_free(st, st->classes[--st->n_classes]);
    }
    if (n == 0) {
        rs__free(st, RS_MEM_META, st->classes, had * sizeof *st->classes);
        st->classes = NULL;
    } else { /* a shrink, which the allocator contract says cannot fail */
        st->classes =
            rs__realloc(st, RS_MEM_META, st->classes, had * sizeof *st->classes,
                        n * sizeof *st->classes);
    }
}

void rs__store_class_empty(rs_store *st, rs_class *c)
{
    for (uint32_t slot = 0; slot < c->n_slots; slot++) {
        if (rs__row_live(rs__row(c, slot))) {
            remove_slot(st, c, slot);
        }
    }
}

size_t rs_count(const rs_class *cls)
{
    return cls ? cls->n_live : 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static const char *key_phrase(const rs_class *c, rs_field f)
{
    return c->sch.fields[f].flags & RS_FIELD_KEY ? "duplicate key"
                                                 : "duplicate unique value";
}

static rs_status dup_err(rs_store *st, const rs_class *c, rs_field f,
                         const rs_value *v)
{
    char text[96];
    rs__class_fmt_value(text, sizeof text, v);
    return rs__err(st, RS_EEXIST, "%s.%s: %s %s", c->sch.name,
                   c->sch.fields[f].name, key_phrase(c, f), text);
}

/* Write a normalized value into its place in row; a long string goes to the
 * cell ref taken for it (rs__cell_arena_len() bytes), a long string of
 * digits is packed as a number. */
static void put_field(rs_class *c, uint8_t *row, rs_field f, const rs_value *v,
                      uint32_t ref)
{
    const rs__field *fd = &c->sch.fields[f];
    uint8_t *p = row + fd->off;
    if (fd->type != RS_STR) {
        rs__class_num_put(p, fd->type, v);
        return;
    }
    rs__cell_put(&c->st->strs, p, fd->width, v->v.s.ptr, v->v.s.len, ref);
}

/* Prepare index growth for one more key.  A group's rollback puts back
 * keys the group took out; if growth fails then, the key goes in past the
 * segment's load limit instead (the next prepare there rebuilds it), so a
 * rollback does not fail for want of memory. */
static rs_status ix_prepare(rs_store *st, rs__index *ix, uint64_t hash)
{
    rs_status rc = rs__index_prepare(st, ix, hash);
    if (rc != RS_OK && st->restoring && rs__index_has_room(ix, hash)) {
        rc = RS_OK;
    }
    return rc;
}

/* Make room for one more row: a free slot, or a page to put a new one in.
 * *added says whether a page was added (for undo_row_room). */
static rs_status row_room(rs_store *st, rs_class *c, bool *added,
                          uint32_t *old_cap)
{
    *added = false;
    *old_cap = c->cap_pages;
    if (c->free_head != RS_SLOT_NONE) {
        return RS_OK;
    }
    if (c->n_slots >= RS__SLOT_LIMIT(c)) {
        char group[96] = "";
        if (c->n_gfree > 0) {
            snprintf(group, sizeof group,
                     "; %u more freed by the open group, which takes none "
                     "of them",
                     c->n_gfree);
        }
        return rs__err(st, RS_EFULL,
                       "'%s' has no slot left: of its %u, "
                       "%zu hold live records, %u are free and %u retired%s "
                       "(a slot retires after %u records; see "
                       "RS_MAX_RECORDS)",
                       c->sch.name, c->n_slots, c->n_live, c->n_free,
                       c->n_retired, group, (unsigned)RS_SLOT_LIVES);
    }
    if (c->n_slots < (c->n_pages << c->page_shift)) {
        return RS_OK;
    }
    if (c->n_pages == c->cap_pages) {
        uint32_t cap = c->cap_pages ? c->cap_pages * 2 : 4;
        uint8_t **pages =
            rs__realloc(st, RS_MEM_META, c->pages, c->cap_pages * sizeof *pages,
                        cap * sizeof *pages);
        if (pages == NULL) {
            return rs__err(st, RS_ENOMEM, "out of memory growing '%s'",
                           c->sch.name);
        }
        c->pages = pages;
        c->cap_pages = cap;
    }
    uint8_t *page =
        rs__alloc(st, RS_MEM_RECORDS, (size_t)c->row_len << c->page_shift);
    if (page == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory for a page of '%s'",
                       c->sch.name);
    }
    c->pages[c->n_pages++] = page;
    *added = true;
    return RS_OK;
}

static void undo_row_room(rs_store *st, rs_class *c, bool added,
                          uint32_t old_cap)
{
    if (added) {
        rs__free(st, RS_MEM_RECORDS, c->pages[--c->n_pages],
                 (size_t)c->row_len << c->page_shift);
    }
    if (c->cap_pages > old_cap) {
        size_t len = c->cap_pages * sizeof *c->pages;
        if (old_cap == 0) {
            rs__free(st, RS_MEM_META, c->pages, len);
            c->pages = NULL;
        } else {
            c->pages = rs__realloc(st, RS_MEM_META, c->pages, len,
                                   old_cap * sizeof *c->pages);
        }
        c->cap_pages = old_cap;
    }
}

/* A string key names its record in the journal, in a server's key
 * ("Player:<key>") and in every lookup: an empty one names nothing. */
static rs_status empty_key(rs_store *st, const rs_class *c)
{
    return rs__err(st, RS_EINVAL, "%s.%s: a key cannot be empty", c->sch.name,
                   c->sch.fields[c->sch.key].name);
}

/* Insert into the next free slot, or (force_slot != RS_SLOT_NONE, undoing
 * a removal) back into force_slot with generation force_gen: the slot is
 * then at the head of the free list, or retired if its removal ran the
 * generation out.  Inlined into both callers, so rs_insert() pays no call
 * and no test of the forced path it never takes. */
static RS_ALWAYS_INLINE rs_status
insert_core(rs_store *st, rs_class *c, const rs_named *vals, size_t n_vals,
            uint32_t force_slot, uint16_t force_gen, rs_handle *out)
{
    if (c == NULL || c->st != st) {
        return rs__table_bad_class(st, c, "rs_insert");
    }
    if (vals == NULL && n_vals > 0) {
        return rs__err(st, RS_EINVAL, "rs_insert: %zu values at NULL", n_vals);
    }
    const rs__schema *sch = &c->sch;
    rs__attrs *a = &st->attrs;
    memset(c->given, 0, sch->n_fields);

    /* 1. Validate: every name, every value, the key present.  Names the
     * class does not declare are dynamic attributes (on a dynamic class):
     * new_list keeps their values, and the index of their name in vals. */
    uint32_t n_dyn = 0;
    for (size_t i = 0; i < n_vals; i++) {
        if (vals[i].name == NULL) {
            return rs__err(st, RS_EINVAL, "%s: value %zu has no name",
                           sch->name, i);
        }
        rs_field f = rs__table_field(c, vals[i].name, i);
        if (f < 0) {
            if (!(sch->flags & RS_CLASS_DYNAMIC)) {
                return rs__table_no_attr(st, c, vals[i].name);
            }
            for (uint32_t k = 0; k < n_dyn; k++) {
                if (strcmp(vals[a->new_list[k].name].name, vals[i].name) == 0) {
                    return rs__err(st, RS_EINVAL, "%s.%.64s: given twice",
                                   sch->name, vals[i].name);
                }
            }
            if (n_dyn == RS_ATTRS_PER_RECORD) {
                return rs__err(st, RS_EFULL,
                               "%s: more than %d dynamic "
                               "attributes on one record",
                               sch->name, RS_ATTRS_PER_RECORD);
            }
            rs_status rc = rs__attrs_check_value(
                st, c, vals[i].name, &vals[i].val, &a->new_list[n_dyn].val);
            if (rc != RS_OK) {
                return rc;
            }
            a->new_list[n_dyn++].name = (uint32_t)i;
            continue;
        }
        if (c->given[f]) {
            return rs__err(st, RS_EINVAL, "%s.%s: given twice", sch->name,
                           sch->fields[f].name);
        }
        rs_status rc = rs__class_coerce(st, sch, f, &vals[i].val, &c->vals[f]);
        if (rc != RS_OK) {
            return rc;
        }
        c->given[f] = 1;
    }
    if (!c->given[sch->key]) {
        return rs__err(st, RS_EINVAL, "%s: the key field '%s' must be given",
                       sch->name, sch->fields[sch->key].name);
    }
    if (c->vals[sch->key].type == RS_STR && c->vals[sch->key].v.s.len == 0 &&
        !st->reading_files && !st->restoring) {
        return empty_key(st, c);
    }
    for (uint32_t f = 0; f < sch->n_fields; f++) {
        if (!c->given[f]) {
            c->vals[f] = sch->fields[f].def;
        }
    }
    /* 2. Uniqueness.  Hash every indexed value and ask for the groups
     * first, so the indexes' cache misses overlap. */
    for (uint32_t i = 0; i < sch->n_indexed; i++) {
        c->hashes[i] = rs__table_key_hash(c, &c->vals[sch->indexed[i]]);
        rs__index_prefetch(&c->ix[i], c->hashes[i]);
    }
    for (uint32_t i = 0; i < sch->n_indexed; i++) {
        rs_field f = sch->indexed[i];
        if (rs__table_index_find(c, (int)i, c->hashes[i], &c->vals[f]) !=
            UINT32_MAX) {
            return dup_err(st, c, f, &c->vals[f]);
        }
    }
    /* 3. Reserve: string cells, a row, index growth. */
    rs__strs *strs = &st->strs;
    rs__strs_begin(strs);
    rs_status rc = RS_OK;
    for (uint32_t f = 0; f < sch->n_fields && rc == RS_OK; f++) {
        size_t alen =
            sch->fields[f].type != RS_STR
                ? 0
                : rs__cell_arena_len(c->vals[f].v.s.ptr, c->vals[f].v.s.len,
                                     sch->fields[f].width);
        if (alen > 0) {
            rc = rs__strs_take(st, strs, alen, &c->refs[f]);
        }
    }
    bool added = false, forced = force_slot != RS_SLOT_NONE;
    uint32_t old_cap = c->cap_pages, n_prepared = 0;
    if (rc == RS_OK && forced) {
        bool retired = rs__row_gen(rs__row(c, force_slot)) == 0;
        if (RS_NEVER(force_slot >= c->n_slots ||
                     (!retired && c->gfree_head != force_slot &&
                      c->free_head != force_slot))) {
            rc = rs__err(st, RS_ECORRUPT,
                         "%s: slot %u is not free to "
                         "restore",
                         sch->name, force_slot);
        }
    } else if (rc == RS_OK) {
        rc = row_room(st, c, &added, &old_cap);
    }
    uint32_t slot = forced                         ? force_slot
                    : c->free_head != RS_SLOT_NONE ? c->free_head
                                                   : c->n_slots;
    rs__aplan plan = {0};
    /* Without dynamic attributes nothing of theirs can change: no marks
     * to set, none to roll back to. */
    if (n_dyn > 0) {
        rs__attrs_begin(a);
    }
    if (rc == RS_OK && n_dyn > 0) {
        for (uint32_t k = 0; k < n_dyn && rc == RS_OK; k++) {
            rc = rs__shape_intern(st, a, vals[a->new_list[k].name].name,
                                  &a->new_list[k].name);
        }
        if (rc == RS_OK) {
            rc = rs__attrs_prepare(st, c, slot, n_dyn, 0, &plan);
        }
    }
    for (; rc == RS_OK && n_prepared < sch->n_indexed; n_prepared++) {
        rc = ix_prepare(st, &c->ix[n_prepared], c->hashes[n_prepared]);
        if (rc != RS_OK) {
            rc = rs__err(st, rc, "out of memory growing the index of %s.%s",
                         sch->name, sch->fields[sch->indexed[n_prepared]].name);
        }
    }
    uint16_t gen = 1;
    if (forced) {
        gen = force_gen;
    } else if (c->free_head != RS_SLOT_NONE) {
        gen = (uint16_t)((rs__row_gen(rs__row(c, slot)) + 1) & RS_ROW_GEN_MASK);
    }
    rs__change ch;
    if (rc == RS_OK && st->obs) {
        ch = (rs__change){.kind = RS__CHANGE_INSERT,
                          .restore = st->restoring,
                          .c = c,
                          .slot = slot,
                          .gen = gen,
                          .vals = c->vals,
                          .attrs = a->new_list,
                          .n_attrs = n_dyn};
        rc = rs__change_prepare(st, &ch);
    }
    if (rc != RS_OK) {
        while (n_prepared > 0) {
            rs__index_cancel(st, &c->ix[--n_prepared]);
        }
        if (n_dyn > 0) {
            rs__attrs_rollback(st, a);
        }
        undo_row_room(st, c, added, old_cap);
        rs__strs_rollback(st, strs);
        return rc;
    }
    /* 4. Write: nothing below can fail. */
    uint8_t *row = rs__row(c, slot);
    if (forced && rs__row_gen(row) == 0) {
        c->n_retired--;
    } else if (forced && slot == c->gfree_head) {
        memcpy(&c->gfree_head, row + RS_ROW_HEADER, 4);
        c->n_gfree--;
    } else if (slot == c->free_head) {
        memcpy(&c->free_head, row + RS_ROW_HEADER, 4);
        c->n_free--;
    } else {
        RS_ASSERT(slot == c->n_slots);
        c->n_slots++;
    }
    memcpy(row, &gen, 2);
    for (uint32_t f = 0; f < sch->n_fields; f++) {
        put_field(c, row, (rs_field)f, &c->vals[f], c->refs[f]);
    }
    if (n_dyn > 0) {
        rs__attrs_commit(st, c, slot, &plan);
    }
    for (uint32_t i = 0; i < sch->n_indexed; i++) {
        rs__index_insert(st, &c->ix[i], c->hashes[i], slot);
    }
    rs__strs_commit(strs);
    c->n_live++;
    if (st->n_commit_obs) {
        rs__change_commit(st, &ch);
    }
    if (out) {
        *out = rs__handle(c, slot);
    }
    return RS_OK;
}

/* Remove slot's record, telling the observers (which may refuse).  Out of
 * line: a store without observers removes in remove_impl(). */
static RS_NOINLINE rs_status remove_at(rs_store *st, rs_class *c, uint32_t slot)
{
    rs__change ch = {.kind = RS__CHANGE_REMOVE,
                     .restore = st->restoring,
                     .c = c,
                     .slot = slot};
    rs_status rc = rs__change_prepare(st, &ch);
    if (rc == RS_OK) {
        remove_slot(st, c, slot);
        if (st->n_commit_obs) {
            rs__change_commit(st, &ch);
        }
    }
    return rc;
}

static rs_status remove_impl(rs_store *st, rs_handle h)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (RS_LIKELY(st->obs == NULL)) {
        remove_slot(st, c, slot);
        return RS_OK;
    }
    return remove_at(st, c, slot);
}

static void remove_slot(rs_store *st, rs_class *c, uint32_t slot)
{
    uint8_t *row = rs__row(c, slot);
    for (uint32_t i = 0; i < c->sch.n_indexed; i++) {
        char buf[RS_KEY_TMP];
        rs_value v = rs__row_value(c, row, c->sch.indexed[i], buf);
        rs__index_delete(&c->ix[i], rs__table_key_hash(c, &v), slot);
    }
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        if (c->sch.fields[f].type == RS_STR) {
            rs__cell_release(&st->strs, row + c->sch.fields[f].off,
                             c->sch.fields[f].width);
        }
    }
    rs__attrs_drop(st, c, slot);
    uint16_t gen = (uint16_t)((rs__row_gen(row) + 1) & RS_ROW_GEN_MASK);
    memcpy(row, &gen, 2);
    if (gen == 0) {
        c->n_retired++; /* 16384 lives: never hand this slot out again */
    } else if (st->hold && !st->restoring) {
        memcpy(row + RS_ROW_HEADER, &c->gfree_head, 4); /* a group's */
        c->gfree_head = slot;
        c->n_gfree++;
    } else {
        memcpy(row + RS_ROW_HEADER, &c->free_head, 4);
        c->free_head = slot;
        c->n_free++;
    }
    c->n_live--;
}

/* Every index of every class: classes are not declared inside a group. */
static void hold_indexes(rs_store *st, uint32_t group)
{
    for (uint32_t i = 0; i < st->n_classes; i++) {
        rs_class *c = st->classes[i];
        for (uint32_t k = 0; k < c->sch.n_indexed; k++) {
            rs__index_hold(&c->ix[k], group);
        }
    }
}

void rs__store_group_begin(rs_store *st)
{
    /* A new number makes the counts segments kept for earlier groups
     * stale, so a group's end clears nothing (after 2^32 groups an old
     * count could match again: a segment would then only be sized
     * larger). */
    if (++st->group_no == 0) {
        st->group_no = 1;
    }
    hold_indexes(st, st->group_no);
}

void rs__store_group_end(rs_store *st)
{
    hold_indexes(st, 0);
    for (uint32_t i = 0; i < st->n_classes; i++) {
        rs_class *c = st->classes[i];
        /* The group's removals go on the free list, most recent first;
         * its length bounds the walk. */
        while (c->n_gfree > 0) {
            uint32_t slot = c->gfree_head;
            uint8_t *row = rs__row(c, slot);
            memcpy(&c->gfree_head, row + RS_ROW_HEADER, 4);
            c->n_gfree--;
            memcpy(row + RS_ROW_HEADER, &c->free_head, 4);
            c->free_head = slot;
            c->n_free++;
        }
        c->gfree_head = RS_SLOT_NONE;
    }
}

static rs_status set_slot(rs_store *st, rs_class *c, uint32_t slot, rs_field f,
                          const rs_value *val);

/* A set's change record, built out of line so that a store without
 * observers does not carry it through set_slot(). */
static RS_NOINLINE rs_status set_prepare(rs_store *st, rs_class *c,
                                         uint32_t slot, rs_field f,
                                         const rs_value *v)
{
    char buf[RS_KEY_TMP];
    rs_value old = rs__row_value(c, rs__row(c, slot), f, buf);
    rs__change ch = {.kind = RS__CHANGE_SET,
                     .restore = st->restoring,
                     .c = c,
                     .slot = slot,
                     .field = f,
                     .old = &old,
                     .val = v};
    return rs__change_prepare(st, &ch);
}

static RS_NOINLINE void set_commit(rs_store *st, rs_class *c, uint32_t slot,
                                   rs_field f, const rs_value *v)
{
    rs__change ch = {.kind = RS__CHANGE_SET,
                     .restore = st->restoring,
                     .c = c,
                     .slot = slot,
                     .field = f,
                     .val = v}; /* old: its bytes may be gone (change.h) */
    rs__change_commit(st, &ch);
}

static RS_ALWAYS_INLINE rs_status set_field_impl(rs_store *st, rs_handle h,
                                                 rs_field f,
                                                 const rs_value *val)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    uint16_t gen;
    if (val != NULL && rs__table_attr_field(st, f) &&
        rs__table_peek(st, h, &c, &slot, &gen)) {
        /* A record with attributes, live by its entry: no row read. */
        bool vouched;
        rs_status rc = rs__attrs_set_vouched(
            st, c, slot, gen, (uint32_t)(f - RS_ATTR_BASE), val, &vouched);
        if (vouched) {
            return rc;
        }
    }
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc == RS_OK && rs__table_attr_field(st, f)) {
        if (val == NULL) {
            return rs__err(st, RS_EINVAL, "rs_set_field: NULL value");
        }
        return rs__attrs_set(st, c, slot, NULL, (uint32_t)(f - RS_ATTR_BASE),
                             val);
    }
    if (rc == RS_OK) {
        rc = rs__table_check_field(st, c, f);
    }
    if (rc != RS_OK) {
        return rc;
    }
    if (val == NULL) {
        return rs__err(st, RS_EINVAL, "rs_set_field: NULL value");
    }
    return set_slot(st, c, slot, f, val);
}

static rs_status set_slot(rs_store *st, rs_class *c, uint32_t slot, rs_field f,
                          const rs_value *val)
{
    const rs__field *fd = &c->sch.fields[f];
    rs_value v;
    rs_status rc = rs__class_coerce(st, &c->sch, f, val, &v);
    if (rc != RS_OK) {
        return rc;
    }
    if (f == c->sch.key && v.type == RS_STR && v.v.s.len == 0 &&
        !st->reading_files && !st->restoring) {
        return empty_key(st, c);
    }
    uint8_t *row = rs__row(c, slot);
    uint64_t new_hash = 0;
    if (fd->ix >= 0) {
        new_hash = rs__table_key_hash(c, &v);
        uint32_t other = rs__table_index_find(c, fd->ix, new_hash, &v);
        if (other == slot) {
            return RS_OK; /* the same value: nothing to do */
        }
        if (other != UINT32_MAX) {
            return dup_err(st, c, f, &v);
        }
    }
    rs__strs_begin(&st->strs);
    uint32_t ref = 0;
    size_t alen = fd->type == RS_STR
                      ? rs__cell_arena_len(v.v.s.ptr, v.v.s.len, fd->width)
                      : 0;
    if (alen > 0) {
        rc = rs__strs_take(st, &st->strs, alen, &ref);
    }
    /* The old entry leaves the index before growth is prepared: prepare
     * gathers the keys that move, and this one must not be among them. */
    uint64_t old_hash = 0;
    bool unindexed = false;
    if (rc == RS_OK && fd->ix >= 0) {
        char buf[RS_KEY_TMP];
        rs_value old = rs__row_value(c, row, f, buf);
        old_hash = rs__table_key_hash(c, &old);
        rs__index_delete(&c->ix[fd->ix], old_hash, slot);
        unindexed = true;
        rc = ix_prepare(st, &c->ix[fd->ix], new_hash);
        if (rc != RS_OK) {
            rc = rs__err(st, rc, "out of memory growing the index of %s.%s",
                         c->sch.name, fd->name);
        }
    }
    if (rc == RS_OK && st->obs) {
        rc = set_prepare(st, c, slot, f, &v);
        if (rc != RS_OK && fd->ix >= 0) {
            rs__index_cancel(st, &c->ix[fd->ix]);
        }
    }
    if (rc != RS_OK && unindexed) {
        /* Back in: its bucket is still free, so this cannot fail. */
        rs__index_insert(st, &c->ix[fd->ix], old_hash, slot);
    }
    if (rc != RS_OK) {
        rs__strs_rollback(st, &st->strs);
        return rc;
    }
    /* The new string may be borrowed from this very cell (a value read
     * with rs_get_field() and set back): move its bytes to where they will
     * live, or aside, before the old cell is released or overwritten. */
    uint8_t aside[RS_KEY_TMP];
    if (fd->type == RS_STR && v.v.s.len > 0) {
        uint8_t *to = alen == 0
                          ? aside
                          : rs__cell_data(&st->strs, ref, v.v.s.len, fd->width);
        memmove(to, v.v.s.ptr, v.v.s.len);
        v.v.s.ptr = (const char *)to;
    }
    if (fd->type == RS_STR) {
        rs__cell_release(&st->strs, row + fd->off, fd->width);
    }
    put_field(c, row, f, &v, ref);
    if (fd->ix >= 0) {
        rs__index_insert(st, &c->ix[fd->ix], new_hash, slot);
    }
    rs__strs_commit(&st->strs);
    if (st->n_commit_obs) {
        set_commit(st, c, slot, f, &v);
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* The restore interface (store.h)                                           */
/* ------------------------------------------------------------------------ */

rs_status rs__store_restore_insert(rs_store *st, rs_class *c,
                                   const rs_named *vals, size_t n_vals,
                                   uint32_t slot, uint16_t gen)
{
    st->restoring = true;
    rs_status rc = insert_core(st, c, vals, n_vals, slot, gen, NULL);
    st->restoring = false;
    return rc;
}

rs_status rs__store_restore_remove(rs_store *st, rs_class *c, uint32_t slot)
{
    if (RS_NEVER(slot >= c->n_slots || !rs__row_live(rs__row(c, slot)))) {
        return rs__err(st, RS_ECORRUPT,
                       "%s: slot %u holds no record to "
                       "take back",
                       c->sch.name, slot);
    }
    st->restoring = true;
    rs_status rc = remove_at(st, c, slot);
    st->restoring = false;
    return rc;
}

rs_status rs__store_restore_set(rs_store *st, rs_class *c, uint32_t slot,
                                rs_field f, const rs_value *v)
{
    st->restoring = true;
    rs_status rc = set_slot(st, c, slot, f, v);
    st->restoring = false;
    return rc;
}

static rs_status set_attr_impl(rs_store *st, rs_handle h, const char *name,
                               const rs_value *val)
{
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    if (name == NULL || val == NULL) {
        return rs__err(st, RS_EINVAL, "rs_set_attr: NULL argument");
    }
    rs_field f = rs__table_field(c, name, 0);
    if (f < 0) {
        return rs__attrs_set(st, c, slot, name, 0, val);
    }
    return set_field_impl(st, h, f, val);
}

/* ------------------------------------------------------------------------ */
/* The mutations, as callers see them                                        */
/* ------------------------------------------------------------------------ */

rs_status rs_insert(rs_store *st, rs_class *c, const rs_named *vals,
                    size_t n_vals, rs_handle *out)
{
    RS__NEED_STORE(st);
    RS__MUTATION(st, insert_core(st, c, vals, n_vals, RS_SLOT_NONE, 0, out));
}

rs_status rs_remove(rs_store *st, rs_handle h)
{
    RS__NEED_STORE(st);
    RS__MUTATION(st, remove_impl(st, h));
}

rs_status rs_set_field(rs_store *st, rs_handle h, rs_field f,
                       const rs_value *val)
{
    RS__NEED_STORE(st);
    RS__MUTATION(st, set_field_impl(st, h, f, val));
}

rs_status rs_set_attr(rs_store *st, rs_handle h, const char *name,
                      const rs_value *val)
{
    RS__NEED_STORE(st);
    RS__MUTATION(st, set_attr_impl(st, h, name, val));
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

static rs_status class_check(const rs_class *c)
{
    size_t live = 0, free_n = 0, retired = 0;
    if ((size_t)c->n_slots > ((size_t)c->n_pages << c->page_shift) ||
        c->n_slots > RS__SLOT_LIMIT(c)) {
        return RS_ECORRUPT;
    }
    for (uint32_t s = 0; s < c->n_slots; s++) {
        const uint8_t *row = rs__row(c, s);
        uint16_t gen = rs__row_gen(row);
        retired += gen == 0;
        if (!(gen & 1u) && rs__row_has_attrs(row)) {
            return RS_ECORRUPT;
        }
        if (gen & 1u) {
            live++;
            for (uint32_t i = 0; i < c->sch.n_indexed; i++) {
                char buf[RS_KEY_TMP];
                rs_value v = rs__row_value(c, row, c->sch.indexed[i], buf);
                const uint8_t *k;
                size_t len;
                uint8_t tmp[RS_KEY_TMP];
                rs__table_key_bytes(&v, &k, &len, tmp);
                if (rs__index_find(&c->ix[i],
                                   rs__index_hash(c->st->hash_seed, k, len), k,
                                   len) != s) {
                    return RS_ECORRUPT;
                }
            }
        }
    }
    for (uint32_t s = c->free_head; s != RS_SLOT_NONE;) {
        if (s >= c->n_slots || rs__row_live(rs__row(c, s)) ||
            ++free_n > c->n_slots) {
            return RS_ECORRUPT;
        }
        memcpy(&s, rs__row(c, s) + RS_ROW_HEADER, 4);
    }
    size_t gfree_n = 0;
    for (uint32_t s = c->gfree_head; s != RS_SLOT_NONE;) {
        if (s >= c->n_slots || rs__row_live(rs__row(c, s)) ||
            ++gfree_n > c->n_slots) {
            return RS_ECORRUPT;
        }
        memcpy(&s, rs__row(c, s) + RS_ROW_HEADER, 4);
    }
    if (live != c->n_live || free_n != c->n_free || gfree_n != c->n_gfree ||
        retired != c->n_retired ||
        live + free_n + gfree_n + c->n_retired != c->n_slots) {
        return RS_ECORRUPT;
    }
    if (rs__attrs_check(c->st, c) != RS_OK) {
        return RS_ECORRUPT;
    }
    for (uint32_t i = 0; i < c->sch.n_indexed; i++) {
        if (c->ix[i].n != live || rs__index_check(&c->ix[i]) != RS_OK) {
            return RS_ECORRUPT;
        }
    }
    return RS_OK;
}

rs_status rs__store_check(const rs_store *st)
{
    for (uint32_t i = 0; i < st->n_classes; i++) {
        rs_status rc = class_check(st->classes[i]);
        if (rc != RS_OK) {
            return rc;
        }
    }
    return rs__strs_check(&st->strs);
}
