/*
 * txn.h: atomic groups (txn.c); the public calls are in roster.h.
 */
#ifndef RS_TXN_H
#define RS_TXN_H

#include "internal.h"

#include <stdbool.h>

/* Whether a group is open on st. */
bool rs__txn_open(const rs_store *st);

#endif
