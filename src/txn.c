/*
 * txn.c: atomic groups (rs_group_begin/commit/abort) and their undo log.
 *
 * While a group is open it is an observer of the store's changes
 * (change.h), registered after the journal, and the journal holds the
 * group's changes in one entry, written at commit (journal.h), so a crash
 * leaves all of a group or none.
 *
 * The undo log: for each change, at prepare, what puts it back (remove the
 * inserted slot; insert the removed record's image back into its slot with
 * its generation; set the old value; restore the old attribute list).
 * Undo runs newest first through the store's restore interface (store.h),
 * so each step finds the store as it was just after the change it undoes:
 * the string cells, attribute blocks and vector entries it needs are on
 * the free lists the change left them on, and an index key goes back into
 * its segment even if growing it would fail, so a rollback does not fail
 * for want of memory.  Observers that log changes skip a restore.
 *
 * Commits (change.h) are held while the group is open and delivered when
 * it commits, dropped when it aborts or fails.
 *
 * A change in the group that fails rolls the whole group back at once;
 * later changes are refused until rs_group_commit() (RS_EGROUP) or
 * rs_group_abort().  Classes cannot be
 * declared inside a group.
 */
#include "txn.h"

#include "attrs.h"
#include "journal.h"
#include "store.h"

enum { U_INSERT = 1, U_REMOVE, U_SET, U_ATTRS };

typedef struct rs__txn {
    rs__observer obs;      /* first: found on st->obs by its name */
    rs_status group_rc;    /* RS_OK, or the failure that rolled it back */
    rs__buf undo;          /* undo records, newest last */
    rs__buf undo_at;       /* offsets (size_t) of each record in undo */
    char group_msg[512];   /* the failure, as rs_errmsg() said it */
    rs__amark group_amark; /* names and shapes before the group */
    rs__hold hold;         /* its held commits (change.h) */
} rs__txn;

static const char txn_name[] = "group";

static rs__txn *txn_of(const rs_store *st)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->name == txn_name) {
            return (rs__txn *)o;
        }
    }
    return NULL;
}

bool rs__txn_open(const rs_store *st)
{
    return txn_of(st) != NULL;
}

/* ------------------------------------------------------------------------ */
/* The undo log                                                              */
/* ------------------------------------------------------------------------ */

/* Room for one undo record of up to more bytes. */
static rs_status undo_room(rs_store *st, rs__txn *p, size_t more)
{
    if (rs__codec_reserve(st, &p->undo, more) != RS_OK ||
        rs__codec_reserve(st, &p->undo_at, sizeof(size_t)) != RS_OK) {
        return rs__err(st, RS_ENOMEM, "out of memory journaling a change");
    }
    size_t at = p->undo.len;
    rs__codec_put_bytes(&p->undo_at, &at, sizeof at);
    return RS_OK;
}

/* Before every change in the group: what undoes it. */
static rs_status txn_prepare(rs_store *st, rs__observer *o,
                             const rs__change *ch)
{
    rs__txn *p = (rs__txn *)o;
    if (ch->restore) {
        return RS_OK;
    }
    rs_class *c = ch->c;
    rs__buf *u = &p->undo;
    switch (ch->kind) {
    case RS__CHANGE_INSERT:
        /* An insert into a fresh slot found the free list empty; its undo
         * leaves the slot on the free list, which keeps the list's order
         * (LIFO) right for every earlier undo. */
        if (undo_room(st, p, 1 + 10 + 10) != RS_OK) {
            return RS_ENOMEM;
        }
        rs__codec_put_u8(u, U_INSERT);
        rs__codec_put_uvar(u, c->id);
        rs__codec_put_uvar(u, ch->slot);
        return RS_OK;
    case RS__CHANGE_REMOVE:
        if (undo_room(st, p,
                      1 + 30 + rs__snapshot_image_bound(st, c, ch->slot)) !=
            RS_OK) {
            return RS_ENOMEM;
        }
        rs__codec_put_u8(u, U_REMOVE);
        rs__codec_put_uvar(u, c->id);
        rs__codec_put_uvar(u, ch->slot);
        rs__codec_put_uvar(u, rs__row_gen(rs__row(c, ch->slot)));
        rs__snapshot_put_image(st, u, c, ch->slot);
        return RS_OK;
    case RS__CHANGE_SET:
        if (undo_room(st, p, 1 + 30 + rs__codec_value_bound(ch->old)) !=
            RS_OK) {
            return RS_ENOMEM;
        }
        rs__codec_put_u8(u, U_SET);
        rs__codec_put_uvar(u, c->id);
        rs__codec_put_uvar(u, ch->slot);
        rs__codec_put_uvar(u, (uint64_t)ch->field);
        rs__codec_put_value(u, c->sch.fields[ch->field].type, ch->old);
        return RS_OK;
    case RS__CHANGE_ATTRS: {
        size_t need = 1 + 30;
        for (uint32_t k = 0; k < ch->n_attrs; k++) {
            need += 5 + rs__codec_value_bound(&ch->attrs[k].val);
        }
        if (undo_room(st, p, need) != RS_OK) {
            return RS_ENOMEM;
        }
        rs__codec_put_u8(u, U_ATTRS);
        rs__codec_put_uvar(u, c->id);
        rs__codec_put_uvar(u, ch->slot);
        rs__codec_put_uvar(u, ch->n_attrs);
        for (uint32_t k = 0; k < ch->n_attrs; k++) {
            rs__codec_put_uvar(u, ch->attrs[k].name);
            rs__codec_put_avalue(u, &ch->attrs[k].val);
        }
        return RS_OK;
    }
    case RS__CHANGE_CLASS:
        return rs__err(st, RS_EINVAL,
                       "class '%s': classes cannot be "
                       "declared inside a group",
                       c->sch.name);
    }
    return RS_OK;
}

static rs_class *undo_class(rs_store *st, rs__rd *r)
{
    uint64_t id = rs__codec_get_uvar(r);
    return id >= 1 && id <= st->n_classes ? st->classes[id - 1] : NULL;
}

/* Undo one record; false if it could not be (which the rollback's design
 * rules out: see the top of the file). */
static bool undo_one(rs_store *st, const uint8_t *at, const uint8_t *end)
{
    rs__rd r = {at, end, false};
    rs__attrs *a = &st->attrs;
    unsigned kind = rs__codec_get_u8(&r);
    rs_class *c = undo_class(st, &r);
    uint32_t slot = (uint32_t)rs__codec_get_uvar(&r);
    if (c == NULL || r.bad || slot >= c->n_slots) {
        return false;
    }
    switch (kind) {
    case U_INSERT:
        return rs__store_restore_remove(st, c, slot) == RS_OK;
    case U_REMOVE: {
        uint16_t gen = (uint16_t)rs__codec_get_uvar(&r);
        rs_named nv[RS_MAX_FIELDS + RS_ATTRS_PER_RECORD];
        size_t n = 0;
        for (uint32_t f = 0; f < c->sch.n_fields; f++) {
            nv[n].name = c->sch.fields[f].name;
            nv[n++].val = rs__codec_get_value(&r, c->sch.fields[f].type);
        }
        uint64_t k = rs__codec_get_uvar(&r);
        for (uint64_t j = 0;
             j < k && !r.bad && n < RS_MAX_FIELDS + RS_ATTRS_PER_RECORD; j++) {
            uint64_t id = rs__codec_get_uvar(&r);
            rs_value v = rs__codec_get_avalue(&r);
            if (id >= a->n_names) {
                return false;
            }
            nv[n].name = a->names[id].s;
            nv[n++].val = v;
        }
        return !r.bad &&
               rs__store_restore_insert(st, c, nv, n, slot, gen) == RS_OK;
    }
    case U_SET: {
        uint64_t f = rs__codec_get_uvar(&r);
        if (f >= c->sch.n_fields) {
            return false;
        }
        rs_value v = rs__codec_get_value(&r, c->sch.fields[f].type);
        return !r.bad &&
               rs__store_restore_set(st, c, slot, (rs_field)f, &v) == RS_OK;
    }
    case U_ATTRS: {
        uint64_t k = rs__codec_get_uvar(&r);
        if (k > RS_ATTRS_PER_RECORD) {
            return false;
        }
        for (uint64_t j = 0; j < k && !r.bad; j++) {
            a->new_list[j].name = (uint32_t)rs__codec_get_uvar(&r);
            a->new_list[j].val = rs__codec_get_avalue(&r);
        }
        return !r.bad && rs__attrs_restore(st, c, slot, (uint32_t)k) == RS_OK;
    }
    default:
        return false;
    }
}

/* Undo every change of the group, newest first. */
static rs_status rollback(rs_store *st, rs__txn *p)
{
    bool ok = true;
    size_t n = p->undo_at.len / sizeof(size_t);
    size_t end = p->undo.len;
    while (n > 0) {
        size_t at;
        memcpy(&at, p->undo_at.p + (n - 1) * sizeof at, sizeof at);
        ok &= undo_one(st, p->undo.p + at, p->undo.p + end);
        end = at;
        n--;
    }
    p->undo.len = p->undo_at.len = 0;
    rs__journal_drop(st, false);
    /* No record uses a name or shape the group made any more: a group
     * that fails leaves the name table as it found it, so failing calls
     * cannot fill it. */
    rs__shape_undo_to(st, &st->attrs, &p->group_amark);
    if (RS_NEVER(!ok)) {
        return rs__err(st, RS_ECORRUPT, "a group's rollback failed");
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------ */
/* Groups                                                                    */
/* ------------------------------------------------------------------------ */

static rs_status txn_enter(rs_store *st, rs__observer *o)
{
    rs__txn *p = (rs__txn *)o;
    if (p->group_rc != RS_OK) {
        return rs__err(st, RS_EGROUP,
                       "the group already failed and was "
                       "rolled back (%s); end it with rs_group_abort()",
                       p->group_msg);
    }
    return RS_OK;
}

static rs_status txn_leave(rs_store *st, rs__observer *o, rs_status rc)
{
    rs__txn *p = (rs__txn *)o;
    if (rc == RS_OK) {
        return rc;
    }
    /* A change in the group failed: everything before it goes back. */
    char msg[sizeof st->err];
    memcpy(msg, st->err, sizeof msg);
    memcpy(p->group_msg, msg, sizeof p->group_msg);
    p->group_msg[sizeof p->group_msg - 1] = '\0';
    p->group_rc = rc;
    (void)rollback(st, p);
    rs__change_drop(st); /* the group's commits will never come */
    return rs__err(st, rc, "%s", msg);
}

static void txn_close(rs_store *st, rs__observer *o)
{
    (void)o;
    rs_group_abort(st);
}

rs_status rs_group_begin(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    if (txn_of(st)) {
        return rs__err(st, RS_EINVAL,
                       "a group is already open (groups do "
                       "not nest)");
    }
    rs__txn *p = rs__calloc(st, RS_MEM_META, sizeof *p);
    if (p == NULL) {
        return rs__err(st, RS_ENOMEM, "out of memory opening a group");
    }
    p->obs = (rs__observer){.name = txn_name,
                            .enter = txn_enter,
                            .leave = txn_leave,
                            .prepare = txn_prepare,
                            .close = txn_close};
    rs__change_hold(st, &p->hold);
    rs__shape_mark(&st->attrs, &p->group_amark);
    rs__journal_hold(st);
    rs__change_observe(st, &p->obs);
    rs__store_group_begin(st);
    return RS_OK;
}

/* The group ends; its held commits are delivered (committed) or dropped. */
static void group_end(rs_store *st, rs__txn *p, bool committed)
{
    rs__journal_drop(st, true);
    rs__store_group_end(st);
    rs__change_unobserve(st, &p->obs);
    /* Outside the group now: its held commits (in p) are delivered as
     * changes of no group, or forgotten. */
    if (committed) {
        rs__change_release(st);
    } else {
        rs__change_drop(st);
    }
    rs__codec_free(st, &p->undo);
    rs__codec_free(st, &p->undo_at);
    rs__free(st, RS_MEM_META, p, sizeof *p);
}

rs_status rs_group_commit(rs_store *st)
{
    RS__NEED_STORE(st);
    rs__clear_err(st);
    rs__txn *p = txn_of(st);
    if (p == NULL) {
        return rs__err(st, RS_EINVAL, "rs_group_commit: no group is open");
    }
    if (p->group_rc != RS_OK) {
        rs_status rc = rs__err(st, RS_EGROUP, "the group was rolled back: %s",
                               p->group_msg);
        group_end(st, p, false);
        return rc;
    }
    rs_status rc = rs__journal_release(st);
    if (rc != RS_OK) {
        char msg[sizeof st->err];
        memcpy(msg, st->err, sizeof msg);
        (void)rollback(st, p);
        group_end(st, p, false);
        return rs__err(st, rc, "%s (the group was rolled back)", msg);
    }
    group_end(st, p, true);
    return RS_OK;
}

void rs_group_abort(rs_store *st)
{
    rs__txn *p = st ? txn_of(st) : NULL;
    if (p == NULL) {
        return;
    }
    if (p->group_rc == RS_OK) {
        (void)rollback(st, p);
    }
    group_end(st, p, false);
}
