/*
 * ops_attrs.c: the operations on dynamic attributes (ops.h): bind, rebind,
 * delete, read by name and by number, rs_attr_id(), rs_dir(), rs_dict().
 */
#include "ops.h"

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Dynamic attributes                                                        */
/* ------------------------------------------------------------------------ */

/* rs_attr_id(class c, name) against the model: a declared field's number,
 * RS_ATTR_BASE + the name's id (interning it: ids follow interning
 * order), or -1 with a message.  With arm, it may run with an allocation
 * failing: then -1, "out of memory", and nothing changed. */
rs_field do_attr_id(int c, const char *name, bool arm)
{
    int f = m_field_named(name);
    long want;
    const char *msg = NULL;
    rs_status ws = RS_OK;
    bool interns = false;
    if (f >= 0) {
        want = f;
    } else if (c != C_DYN) {
        want = -1;
        ws = RS_ENOATTR;
        msg = no_attr_msg(c, name);
    } else if (!m_name_ok(name)) {
        want = -1;
        ws = RS_EINVAL;
        msg = "is not an attribute name";
    } else {
        long id = m_lookup(name);
        interns = id < 0;
        want = RS_ATTR_BASE + (id >= 0 ? id : (long)m_n_names);
    }
    size_t used = strlen(g_op);
    desc("%srs_attr_id(%s, \"%.70s\")", used ? "; " : "", class_names[c], name);
    rs_mem_report before = mem_now();
    maybe_arm();
    if (!arm) {
        g_alloc.fail_at = 0;
    }
    rs_field got = rs_attr_id(g_st, classes[c], name);
    long failed = g_alloc.n_failed;
    bool inj = injected(got < 0 ? RS_ENOMEM : RS_OK);
    if (got >= 0 && failed > 0) {
        fail("rs_attr_id succeeded although allocation %ld failed",
             g_alloc.n_grows);
    }
    if (got < 0 && inj && want >= 0) {
        desc(" [allocation failure injected]");
        tally("rs_attr_id", RS_ENOMEM);
        expect_msg("rs_attr_id", "out of memory");
        mem_same(&before, "rs_attr_id failing with an allocation");
        check_walk("after rs_attr_id failed to allocate");
        g_op[used] = '\0';
        return -1;
    }
    tally("rs_attr_id", got >= 0 ? RS_OK : ws);
    if (got != want) {
        fail("rs_attr_id returned %d (\"%s\"), the model expects %ld", got,
             rs_errmsg(g_st), want);
    }
    if (got >= 0 && rs_errmsg(g_st)[0] != '\0') {
        fail("rs_attr_id succeeded but rs_errmsg() is \"%s\"", rs_errmsg(g_st));
    }
    if (got < 0) {
        expect_msg("rs_attr_id", msg);
    }
    if (!interns) {
        mem_same(&before, "rs_attr_id of a known name");
    } else {
        m_intern(name);
    }
    if (got >= RS_ATTR_BASE) {
        m_pinned = m_n_names; /* its id is out: the store keeps it */
    }
    g_op[used] = '\0';
    return got;
}

/* Bind an attribute of the record at index i (or of the dead handle dead
 * when i is -1): by name through rs_set_attr() (f < 0; name not declared)
 * or by number through rs_set_field() (f >= RS_ATTR_BASE, maybe past the
 * interned names).  The value may be borrowed from the store. */
void do_attr_set(long i, rs_handle dead, const char *name, rs_field f,
                 const rs_value *v)
{
    rs_handle h = i >= 0 ? recs[i].h : dead;
    const char *nm = f < 0                ? name
                     : m_is_attr_field(f) ? m_names[f - RS_ATTR_BASE]
                                          : "(no such id)";
    /* The model's answer, before the call: v may be borrowed. */
    rs_status ws;
    mattr nv;
    const char *msg = NULL;
    char vmsg[160];
    int c = i >= 0 ? recs[i].c : -1;
    if (i < 0) {
        ws = RS_ESTALE;
    } else if (f >= 0 && !m_is_attr_field(f)) {
        ws = RS_EINVAL;
    } else if (c != C_DYN) {
        ws = RS_ENOATTR;
        msg = no_attr_msg(c, nm);
    } else if ((ws = m_attr_value(v, &nv)) != RS_OK) {
        if (ws == RS_EUTF8 || ws == RS_ETOOLONG) {
            snprintf(vmsg, sizeof vmsg, "Player.%s: %s", nm,
                     ws == RS_EUTF8 ? "invalid UTF-8" : "");
            msg = vmsg;
        }
    } else if (f < 0 && !m_name_ok(name)) {
        ws = RS_EINVAL;
        msg = "is not an attribute name";
    } else {
        long id = f >= 0 ? f - RS_ATTR_BASE : m_lookup(name);
        bool bound = id >= 0 && m_attr_find(&recs[i], (uint32_t)id) >= 0;
        ws = !bound && recs[i].n_attrs == ATTRS_PER_RECORD ? RS_EFULL : RS_OK;
    }
    if (group_refuses()) {
        ws = RS_EGROUP;
        msg = NULL;
    }
    const char *call =
        f >= 0 ? "rs_set_field (attribute)" : "rs_set_attr (attribute)";
    rs_mem_report before = mem_now();
    maybe_arm();
    rs_status rc =
        f >= 0 ? rs_set_field(g_st, h, f, v) : rs_set_attr(g_st, h, name, v);
    if (absorbed_change(call, rc, ws, false)) {
        ws = RS_ENOMEM; /* nothing changed: compare the record below */
        msg = NULL;
    }
    expect(call, rc, ws);
    if (rc != RS_OK) {
        expect_msg(call, msg);
        if (change_failed(call, rc, &before)) {
            return; /* the model went back to the group's start */
        }
    } else {
        nv.name = f >= 0 ? (uint32_t)(f - RS_ATTR_BASE) : m_intern(name);
        m_bind((size_t)i, &nv);
        acct_attrs((size_t)i, &before, call);
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after setting an attribute");
    }
}

/* Unbind name from the record at index i (or the dead handle). */
void do_attr_del(long i, rs_handle dead, const char *name)
{
    rs_handle h = i >= 0 ? recs[i].h : dead;
    rs_status ws;
    const char *msg = NULL;
    long id = m_lookup(name);
    if (i < 0) {
        ws = RS_ESTALE;
    } else if (m_field_named(name) >= 0) {
        ws = RS_EINVAL;
        msg = "is a declared field";
    } else if (id < 0 || m_attr_find(&recs[i], (uint32_t)id) < 0) {
        ws = RS_ENOATTR;
        msg = no_attr_msg(recs[i].c, name);
    } else {
        ws = RS_OK;
    }
    if (group_refuses()) {
        ws = RS_EGROUP;
        msg = NULL;
    }
    rs_mem_report before = mem_now();
    maybe_arm();
    rs_status rc = rs_del_attr(g_st, h, name);
    if (absorbed_change("rs_del_attr", rc, ws, false)) {
        ws = RS_ENOMEM;
        msg = NULL;
    }
    expect("rs_del_attr", rc, ws);
    if (rc != RS_OK) {
        expect_msg("rs_del_attr", msg);
        if (change_failed("a failed rs_del_attr", rc, &before)) {
            return;
        }
    } else {
        m_unbind((size_t)i, (uint32_t)id);
        acct_attrs((size_t)i, &before, "rs_del_attr");
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after deleting an attribute");
    }
}

void op_attr_set(void)
{
    long i = -1;
    rs_handle dead = RS_NULL_HANDLE;
    if (n_recs == 0 || chance(5)) {
        dead = gen_dead_handle();
    } else {
        i = pick_for_attrs();
    }
    const mrec *r = i >= 0 ? &recs[i] : NULL;
    /* The name: one the record has (a rebind, maybe of another type), or
     * a new one; a busy record only rebinds. */
    const char *name;
    if (r && r->n_attrs > 0 && (chance(35) || r->n_attrs >= BUSY_ATTRS)) {
        name = m_names[r->a[irand((int)r->n_attrs)].name];
    } else {
        name = gen_attr_name();
    }
    desc("set attribute \"%.70s\" of %s 0x%016" PRIx64, name,
         i >= 0 ? "live" : "dead", i >= 0 ? recs[i].h : dead);
    /* By name, or by number: the id of rs_attr_id() (asked of Player or
     * of Player2, which refuses), or a number past the interned names. */
    rs_field f = -1;
    if (chance(30)) {
        if (!m_name_ok(name) || chance(5)) {
            f = RS_ATTR_BASE + (rs_field)m_n_names + irand(3);
        } else {
            f = do_attr_id(chance(90) ? C_DYN : C_SLOTS, name, true);
        }
    }
    /* The value: made up, or borrowed from this very record (one of its
     * attributes or a declared string field), after rs_attr_id() (which
     * writes). */
    rs_value v;
    if (i >= 0 && chance(12)) {
        r = &recs[i];
        if (r->n_attrs > 0 && chance(70)) {
            const char *from = m_names[r->a[irand((int)r->n_attrs)].name];
            expect("rs_get_attr (to borrow)", rs_get_attr(g_st, r->h, from, &v),
                   RS_OK);
            desc(" = (borrowed from attribute %s of this record) ", from);
        } else {
            static const int str_fields[] = {F_UID, F_NAME, F_TAG};
            int from = str_fields[irand(3)];
            const char *p;
            size_t len;
            expect("rs_get_str (to borrow)",
                   rs_get_str(g_st, r->h, from, &p, &len), RS_OK);
            v = rs_val_str(p, len);
            desc(" = (borrowed from field %s of this record) ",
                 defs[from].name);
        }
    } else {
        v = gen_attr_value();
        desc(" = ");
    }
    desc_value(&v);
    desc(" via %s", f >= 0 ? "rs_set_field" : "rs_set_attr");
    if (f >= 0) {
        desc(" #%d", f);
    }
    if (i >= 0) {
        desc(" on ");
        desc_rec(&recs[i]);
    }
    do_attr_set(i, dead, name, f, &v);
}

void op_attr_del(void)
{
    long i = -1;
    rs_handle dead = RS_NULL_HANDLE;
    if (n_recs == 0 || chance(5)) {
        dead = gen_dead_handle();
    } else {
        i = pick_for_attrs();
    }
    const mrec *r = i >= 0 ? &recs[i] : NULL;
    const char *name;
    int k = irand(100);
    if (r && r->n_attrs > 0 && k < 60) {
        name = m_names[r->a[irand((int)r->n_attrs)].name];
    } else if (k < 66) {
        name = defs[irand(NF)].name; /* declared: RS_EINVAL */
    } else {
        name = gen_attr_name();
    }
    desc("delete attribute \"%.70s\" of %s 0x%016" PRIx64, name,
         i >= 0 ? "live" : "dead", i >= 0 ? recs[i].h : dead);
    if (i >= 0) {
        desc(" on ");
        desc_rec(&recs[i]);
    }
    do_attr_del(i, dead, name);
}

/* Read an attribute: by name, or by number through rs_get_field() and the
 * typed getters; bound, missing, of every kind. */
void op_attr_get(void)
{
    long i = n_recs > 0 && chance(92) ? pick_for_attrs() : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    const mrec *r = i >= 0 ? &recs[i] : NULL;
    const char *name;
    if (r && r->n_attrs > 0 && chance(55)) {
        name = m_names[r->a[irand((int)r->n_attrs)].name];
    } else if (chance(15)) {
        char *b = new_buf();
        snprintf(b, 96, "never_%d", irand(1000)); /* never interned */
        name = b;
    } else {
        name = gen_attr_name();
    }
    int api = irand(6); /* 0 by name, 1 rs_get_field, 2.. typed getters */
    rs_field f = -1;
    if (api > 0) {
        if (!m_name_ok(name) || chance(4)) {
            f = RS_ATTR_BASE + (rs_field)m_n_names + irand(3);
        } else {
            f = do_attr_id(C_DYN, name, false);
        }
    }
    desc("get attribute \"%.70s\" (#%d) of %s 0x%016" PRIx64 " via %s", name, f,
         i >= 0 ? "live" : "dead", h,
         (const char *[]){"rs_get_attr", "rs_get_field", "rs_get_int",
                          "rs_get_uint", "rs_get_f64", "rs_get_str"}[api]);
    if (r) {
        desc(" on ");
        desc_rec(r);
    }
    /* The model: which attribute, or which error. */
    rs_status ws = RS_OK;
    const char *msg = NULL;
    const mattr *a = NULL;
    if (i < 0) {
        ws = RS_ESTALE;
    } else if (api > 0 && !m_is_attr_field(f)) {
        ws = RS_EINVAL;
    } else {
        long id = api > 0 ? f - RS_ATTR_BASE : m_lookup(name);
        long k = id >= 0 ? m_attr_find(r, (uint32_t)id) : -1;
        if (k < 0) {
            ws = RS_ENOATTR;
            msg = no_attr_msg(r->c, name);
        } else {
            a = &r->a[k];
        }
    }
    rs_mem_report before = mem_now();
    char tmsg[160];
    snprintf(tmsg, sizeof tmsg, "Player.%.64s: the value is not", name);
    switch (api) {
    case 0:
    case 1: {
        rs_value v;
        rs_status rc = api == 0 ? rs_get_attr(g_st, h, name, &v)
                                : rs_get_field(g_st, h, f, &v);
        const char *call =
            api == 0 ? "rs_get_attr (attribute)" : "rs_get_field (attribute)";
        expect(call, rc, ws);
        expect_msg(call, msg);
        if (a && !attr_matches(&v, a)) {
            char got[256], want[256];
            fmt_value(got, sizeof got, &v);
            fmt_mattr(want, sizeof want, a);
            fail("%s: store has %s, model %s", call, got, want);
        }
        break;
    }
    case 2: {
        int64_t x = 0, want = 0;
        if (a) {
            if (a->type == RS_BOOL) {
                want = a->b;
            } else if (a->type == RS_I64) {
                want = a->i;
            } else if (a->type == RS_U64) {
                ws = RS_ERANGE; /* above INT64_MAX */
            } else {
                ws = RS_ETYPE;
                msg = tmsg;
            }
        }
        expect("rs_get_int (attribute)", rs_get_int(g_st, h, f, &x), ws);
        expect_msg("rs_get_int (attribute)", msg);
        if (ws == RS_OK && x != want) {
            fail("rs_get_int = %" PRId64 ", model %" PRId64, x, want);
        }
        break;
    }
    case 3: {
        uint64_t x = 0, want = 0;
        if (a) {
            if (a->type == RS_BOOL) {
                want = a->b;
            } else if (a->type == RS_I64) {
                ws = a->i < 0 ? RS_ERANGE : RS_OK;
                want = (uint64_t)a->i;
            } else if (a->type == RS_U64) {
                want = a->u;
            } else {
                ws = RS_ETYPE;
                msg = tmsg;
            }
        }
        expect("rs_get_uint (attribute)", rs_get_uint(g_st, h, f, &x), ws);
        expect_msg("rs_get_uint (attribute)", msg);
        if (ws == RS_OK && x != want) {
            fail("rs_get_uint = %" PRIu64 ", model %" PRIu64, x, want);
        }
        break;
    }
    case 4: {
        double x = 0, want = 0;
        if (a) {
            if (a->type == RS_F64) {
                want = a->f;
            } else if (a->type == RS_I64) {
                want = (double)a->i;
            } else if (a->type == RS_U64) {
                want = (double)a->u;
            } else {
                ws = RS_ETYPE; /* bool and str are not numbers */
                msg = tmsg;
            }
        }
        expect("rs_get_f64 (attribute)", rs_get_f64(g_st, h, f, &x), ws);
        expect_msg("rs_get_f64 (attribute)", msg);
        if (ws == RS_OK && !(x == want || (isnan(x) && isnan(want)))) {
            fail("rs_get_f64 = %.17g, model %.17g", x, want);
        }
        break;
    }
    default: {
        const char *p = NULL;
        size_t len = 0;
        if (a && a->type != RS_STR) {
            ws = RS_ETYPE;
            msg = tmsg;
        }
        expect("rs_get_str (attribute)", rs_get_str(g_st, h, f, &p, &len), ws);
        expect_msg("rs_get_str (attribute)", msg);
        if (ws == RS_OK &&
            (len != a->len || (len && memcmp(p, mattr_bytes(a), len) != 0))) {
            fail("rs_get_str differs from the model");
        }
        break;
    }
    }
    mem_same(&before, "reading an attribute");
}

/* rs_attr_id() of any name on either class; rs_dir() and rs_dict() with
 * short capacities (they fill at most cap and report the total);
 * rs_record_size(). */
void op_attr_misc(void)
{
    int r = irand(100);
    if (r < 40) {
        const char *name = chance(10) ? defs[irand(NF)].name : gen_attr_name();
        int c = chance(80) ? C_DYN : C_SLOTS;
        do_attr_id(c, name, true);
        return;
    }
    long i = n_recs > 0 && chance(90) ? pick_for_attrs() : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    const mrec *m = i >= 0 ? &recs[i] : NULL;
    rs_status ws = m ? RS_OK : RS_ESTALE;
    desc("introspect %s 0x%016" PRIx64, m ? "live" : "dead", h);
    if (m) {
        desc(" ");
        desc_rec(m);
    }
    rs_mem_report before = mem_now();
    size_t n = 12345;
    if (r < 65) {
        size_t total = NF + (m ? m->n_attrs : 0);
        size_t cap = (size_t)irand((int)total + 2);
        const char *names[NF + MAX_MATTRS + 2];
        for (size_t k = 0; k < NF + MAX_MATTRS + 2; k++) {
            names[k] = "(untouched)";
        }
        expect("rs_dir", rs_dir(g_st, h, names, cap, &n), ws);
        for (size_t k = 0; m && k < NF + MAX_MATTRS + 2; k++) {
            const char *want = k >= cap || k >= total ? "(untouched)"
                               : k < NF               ? defs[k].name
                                        : m_names[m->a[k - NF].name];
            if (n != total || strcmp(names[k], want) != 0) {
                fail("rs_dir(cap %zu): total %zu (model %zu), names[%zu] "
                     "\"%s\", model \"%s\"",
                     cap, n, total, k, names[k], want);
            }
        }
    } else if (r < 90) {
        size_t total = m ? m->n_attrs : 0;
        size_t cap = (size_t)irand((int)total + 2);
        rs_attr items[MAX_MATTRS + 2];
        for (size_t k = 0; k < MAX_MATTRS + 2; k++) {
            items[k].name = "(untouched)";
        }
        expect("rs_dict", rs_dict(g_st, h, items, cap, &n), ws);
        for (size_t k = 0; m && k < MAX_MATTRS + 2; k++) {
            bool in = k < cap && k < total;
            const char *want = in ? m_names[m->a[k].name] : "(untouched)";
            if (n != total || strcmp(items[k].name, want) != 0 ||
                (in && !attr_matches(&items[k].val, &m->a[k]))) {
                fail("rs_dict(cap %zu): total %zu (model %zu), item %zu "
                     "\"%s\" differs from the model's \"%s\"",
                     cap, n, total, k, items[k].name, want);
            }
        }
    } else {
        size_t size = 0;
        expect("rs_record_size", rs_record_size(g_st, h, &size), ws);
        if (m) {
            check_size(m, "rs_record_size");
        }
    }
    mem_same(&before, "introspection");
}
