/*
 * change.c: the store's observers and how a change reaches them (change.h).
 */
#include "change.h"

#include "table.h"

void rs__store_observe(rs_store *st, rs__observer *o)
{
    rs__observer **at = &st->obs;
    while (*at) {
        at = &(*at)->next;
    }
    o->next = NULL;
    *at = o;
}

void rs__store_unobserve(rs_store *st, rs__observer *o)
{
    for (rs__observer **at = &st->obs; *at; at = &(*at)->next) {
        if (*at == o) {
            *at = o->next;
            o->next = NULL;
            return;
        }
    }
}

/* Called with st->obs set only, so a store without observers never builds
 * a change record. */
rs_status rs__change_prepare(rs_store *st, const rs__change *ch)
{
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
