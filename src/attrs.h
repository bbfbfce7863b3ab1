/*
 * attrs.h: records' dynamic attributes: where each record's block is, and
 * the operations that read and change them (attrs.c; names and shapes are
 * shape.h's).
 */
#ifndef RS_ATTRS_H
#define RS_ATTRS_H

#include "shape.h"

/* A record's block, from its row page's sorted vector. */
typedef struct rs__aent {
    uint32_t ref;
    uint16_t off; /* slot within the row page */
    uint16_t gen; /* the record's generation: an entry that matches a
                     handle's vouches that the record is live, so a read
                     need not touch the row (rs__attrs_get_by_entry) */
} rs__aent;

typedef struct rs__avec {
    rs__aent *e;
    uint32_t n, cap;
} rs__avec;

/* What an operation prepared for one record's new block, and where the
 * record's vector entry is (found once, by the prepare). */
typedef struct rs__aplan {
    uint32_t n;     /* attributes in new_list; 0 removes the block */
    uint32_t shape; /* 0: the list form */
    size_t len;     /* block bytes */
    size_t payload; /* block bytes after its length prefix */
    uint32_t ref;
    uint32_t at;    /* the entry's index in its page's vector, or where
                       a new one goes */
    bool has_entry; /* the record has a block now */
    bool in_place;  /* the new block goes into the old one's cell */
} rs__aplan;

void rs__attrs_class_free(rs_store *st, rs_class *c);

/* Check a value for a dynamic attribute and normalize it (integers to
 * RS_I64 or RS_U64, floats to RS_F64). */
rs_status rs__attrs_check_value(rs_store *st, const rs_class *c,
                                const char *name, const rs_value *in,
                                rs_value *out);

/* Decode slot's attributes into a->old_list and their shape into
 * a->old_shape; returns their number (0 when it has none). */
uint32_t rs__attrs_load(rs_store *st, const rs_class *c, uint32_t slot);

/* The value of attribute name (an id) of slot: RS_OK or RS_ENOATTR (no
 * message).  No allocation. */
rs_status rs__attrs_get(rs_store *st, const rs_class *c, uint32_t slot,
                        uint32_t name, rs_value *out);
/* The same for a handle's slot and generation not yet checked against the
 * row: true with *out when the record's vector entry carries gen and its
 * block the name.  False (*out untouched) says nothing: the caller takes
 * the row's path, which tells a stale handle from a missing name.  One
 * memory miss fewer than through the row, on the read that matters most
 * to dynamic attributes. */
bool rs__attrs_get_by_entry(const rs_store *st, const rs_class *c,
                            uint32_t slot, uint16_t gen, uint32_t name,
                            rs_value *out);
/* rs__attrs_get_by_entry() of handle h and field number f, when f is an
 * attribute's: the whole of rs_get_field()'s short path in one call. */
bool rs__attrs_read(const rs_store *st, rs_handle h, rs_field f, rs_value *out);

/* An operation that changes one record's attributes: begin, fill
 * a->new_list with the record's attributes afterwards (names interned),
 * prepare (reserves the shape, the block, the vector entry; the only step
 * that can fail), then commit, or rollback.  The string arena's own
 * begin/commit/rollback bracket the same operation (strs.h).  from is a
 * shape whose names begin new_list, where the shape's walk starts (0
 * always is one).  Nothing may change the record's page vector between
 * the prepare and the commit. */
void rs__attrs_begin(rs__attrs *a);
rs_status rs__attrs_prepare(rs_store *st, rs_class *c, uint32_t slot,
                            uint32_t n, uint32_t from, rs__aplan *plan);
void rs__attrs_commit(rs_store *st, rs_class *c, uint32_t slot,
                      const rs__aplan *plan);
void rs__attrs_rollback(rs_store *st, rs__attrs *a);

/* Drop all of slot's attributes (removal).  Never fails. */
void rs__attrs_drop(rs_store *st, rs_class *c, uint32_t slot);

/* Bytes slot's attributes take: its block and its vector entry. */
size_t rs__attrs_size(const rs_store *st, const rs_class *c, uint32_t slot);

rs_status rs__attrs_check(const rs_store *st, const rs_class *c);

/* Bind (val != NULL) or unbind (val == NULL) one dynamic attribute of
 * slot, named by text (interned inside the operation) or, when text is
 * NULL, by the interned id: validates, reserves, tells the observers,
 * then writes. */
rs_status rs__attrs_set(rs_store *st, rs_class *c, uint32_t slot,
                        const char *text, uint32_t id, const rs_value *val);
/* rs__attrs_set() by id, of a handle (from rs__table_peek) vouched for by
 * slot's vector entry carrying gen, with no look at the row.  *vouched
 * false (nothing done, RS_OK): no entry carries gen, and the caller takes
 * the row's path, which tells a stale handle from a record without
 * attributes. */
rs_status rs__attrs_set_vouched(rs_store *st, rs_class *c, uint32_t slot,
                                uint16_t gen, uint32_t id, const rs_value *val,
                                bool *vouched);
/* The restore interface's part for attributes (store.h): put back slot's
 * whole attribute list, the first n of st->attrs.new_list. */
rs_status rs__attrs_restore(rs_store *st, rs_class *c, uint32_t slot,
                            uint32_t n);

#endif
