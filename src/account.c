/*
 * account.c: what the store reports of its memory: rs_mem() by category,
 * and rs_record_size(), one record's deep size.
 *
 * The allocation counts are exact (alloc.c).  The report adds a derived
 * category, free space: bytes allocated as records or strings but holding
 * nothing live are moved from those categories to "free", computed from
 * what the record and string pages hold.  Attribute blocks live in the
 * string arena and count as attributes.
 */
#include "attrs.h"
#include "store.h"

const char *rs_mem_cat_name(rs_mem_cat c)
{
    static const char *const names[] = {
#define RS__MEM_NAME(name, label) label,
        RS_MEM_MAP(RS__MEM_NAME)
#undef RS__MEM_NAME
    };
    return (unsigned)c < RS_MEM__COUNT ? names[c] : "unknown";
}

rs_status rs_record_size(rs_store *st, rs_handle h, size_t *out)
{
    RS__NEED_STORE(st);
    if (out == NULL) {
        return rs__err(st, RS_EINVAL, "rs_record_size: NULL argument");
    }
    rs_class *c = NULL;
    uint32_t slot = 0;
    rs__clear_err(st);
    rs_status rc = rs__table_resolve(st, h, &c, &slot);
    if (rc != RS_OK) {
        return rc;
    }
    const uint8_t *row = rs__row(c, slot);
    size_t size = c->row_len;
    for (uint32_t f = 0; f < c->sch.n_fields; f++) {
        if (c->sch.fields[f].type == RS_STR) {
            char buf[RS_KEY_TMP];
            rs_value v = rs__row_value(c, row, (rs_field)f, buf);
            size_t alen = rs__cell_arena_len(v.v.s.ptr, v.v.s.len,
                                             c->sch.fields[f].width);
            if (alen > 0) {
                size += rs__strs_cost(alen);
            }
        }
    }
    *out = size + rs__attrs_size(st, c, slot);
    return RS_OK;
}

void rs_mem(const rs_store *st, rs_mem_report *out)
{
    if (st == NULL || out == NULL) {
        return;
    }
    memset(out, 0, sizeof *out);
    size_t live_rows = 0;
    out->n_room = RS_MAX_RECORDS;
    for (uint32_t i = 0; i < st->n_classes; i++) {
        const rs_class *c = st->classes[i];
        live_rows += c->n_live * c->row_len;
        out->n_records += c->n_live;
        out->n_retired += c->n_retired;
        /* Free slots and never used ones can both take a record; slots
         * an open group freed cannot until it ends (store.c). */
        size_t room =
            (size_t)RS__SLOT_LIMIT(c) - c->n_live - c->n_retired - c->n_gfree;
        if (out->fullest == NULL || room < out->n_room) {
            out->n_room = room;
            out->fullest = c;
        }
    }
    size_t rec = rs__alloc_bytes(st, RS_MEM_RECORDS);
    size_t str = rs__alloc_bytes(st, RS_MEM_STRINGS);
    /* Attribute blocks share the string arena; they count as attrs. */
    size_t blocks = st->attrs.block_bytes;
    out->bytes[RS_MEM_RECORDS] = live_rows;
    out->bytes[RS_MEM_STRINGS] = st->strs.live_bytes - blocks;
    out->bytes[RS_MEM_INDEXES] = rs__alloc_bytes(st, RS_MEM_INDEXES);
    out->bytes[RS_MEM_ATTRS] = rs__alloc_bytes(st, RS_MEM_ATTRS) + blocks;
    out->n_attr_names = st->attrs.n_names;
    out->n_shapes = st->attrs.n_shapes > 0 ? st->attrs.n_shapes - 1 : 0;
    out->bytes[RS_MEM_FREE] = (rec - live_rows) + (str - st->strs.live_bytes);
    out->bytes[RS_MEM_META] = rs__alloc_bytes(st, RS_MEM_META);
    out->total = st->mem_total;
    out->peak = st->mem_peak;
    out->n_allocs = st->n_allocs;
}
