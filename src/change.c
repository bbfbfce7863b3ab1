/*
 * change.c: the store's observers and how a change reaches them (change.h).
 *
 * Held commits: while a group is open (txn.c) a commit is not delivered
 * but queued, as the change's identity only (kind, record, field or
 * name), and the queue is released at the group's commit or dropped at
 * its abort.  Room for each is reserved at prepare, where failing is
 * allowed, so holding never makes a commit fail.  Nothing is queued when
 * no observer has a commit callback.
 */
#include "change.h"

#include "table.h"

static bool any_commit(const rs_store *st)
{
    return st->n_commit_obs > 0;
}

void rs__change_observe(rs_store *st, rs__observer *o)
{
    rs__observer **at = &st->obs;
    while (*at) {
        at = &(*at)->next;
    }
    o->next = NULL;
    *at = o;
    st->n_commit_obs += o->commit != NULL;
}

void rs__change_unobserve(rs_store *st, rs__observer *o)
{
    for (rs__observer **at = &st->obs; *at; at = &(*at)->next) {
        if (*at == o) {
            *at = o->next;
            o->next = NULL;
            st->n_commit_obs -= o->commit != NULL;
            return;
        }
    }
}

/* Called with st->obs set only, so a store without observers never builds
 * a change record. */
rs_status rs__change_prepare(rs_store *st, const rs__change *ch)
{
    rs__hold *h = st->hold;
    if (h && !ch->restore && h->n == h->cap && any_commit(st)) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        rs__held *v = rs__realloc(st, RS_MEM_META, h->v, h->cap * sizeof *v,
                                  cap * sizeof *v);
        if (v == NULL) {
            return rs__err(st, RS_ENOMEM,
                           "out of memory holding a change "
                           "for the group's commit");
        }
        h->v = v;
        h->cap = cap;
    }
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->prepare) {
            rs_status rc = o->prepare(st, o, ch);
            if (rc != RS_OK) {
                return rc;
            }
        }
    }
    return RS_OK;
}

void rs__change_commit(rs_store *st, const rs__change *ch)
{
    rs__hold *h = st->hold;
    if (ch->restore) {
        return; /* it undoes changes whose commits were held: dropped */
    }
    if (h) {
        if (h->n < h->cap) { /* room was reserved at prepare */
            h->v[h->n++] = (rs__held){ch->kind, ch->c->id, ch->gen,
                                      ch->slot, ch->field, ch->name};
        }
        return;
    }
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->commit) {
            o->commit(st, o, ch);
        }
    }
}

rs_status rs__change_enter(rs_store *st)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->enter) {
            rs_status rc = o->enter(st, o);
            if (rc != RS_OK) {
                return rc;
            }
        }
    }
    return RS_OK;
}

rs_status rs__change_leave(rs_store *st, rs_status rc)
{
    for (rs__observer *o = st->obs; o; o = o->next) {
        if (o->leave) {
            rc = o->leave(st, o, rc);
        }
    }
    return rc;
}

void rs__change_hold(rs_store *st, rs__hold *h)
{
    *h = (rs__hold){NULL, 0, 0};
    st->hold = h;
}

void rs__change_drop(rs_store *st)
{
    rs__hold *h = st->hold;
    if (h) {
        st->hold = NULL;
        rs__free(st, RS_MEM_META, h->v, h->cap * sizeof *h->v);
        *h = (rs__hold){NULL, 0, 0};
    }
}

void rs__change_release(rs_store *st)
{
    rs__hold *h = st->hold;
    if (h == NULL) {
        return;
    }
    st->hold = NULL; /* delivered now, not held again */
    for (size_t i = 0; i < h->n; i++) {
        const rs__held *e = &h->v[i];
        rs__change ch = {.kind = e->kind,
                         .c = st->classes[e->class_id - 1],
                         .slot = e->slot,
                         .gen = e->gen,
                         .field = e->field,
                         .name = e->name};
        rs__change_commit(st, &ch);
    }
    st->hold = h;
    rs__change_drop(st);
}
