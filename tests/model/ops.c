/*
 * ops.c: the operations on records and the calls front ends use (ops.h).
 */
#include "ops.h"

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Injected allocation failures                                              */
/* ------------------------------------------------------------------------ */

/* Whether a call that ran armed came back with the injected failure; a
 * change (change) may also have swallowed it as ops.h says. */
static bool absorbed_any(const char *call, rs_status rc, rs_status want,
                         bool late, bool change)
{
    long failed = g_alloc.n_failed;
    bool inj = injected(rc);
    if (rc == RS_OK && failed > 0 && change && g_saving) {
        desc(" [allocation failure injected: the save must fail]");
        tally("(injected, the save's)", rc);
        g_save_starved = true;
    } else if (rc == RS_OK && failed > 0 && change && g_durable) {
        /* Once the entry is in the journal the change cannot fail; what
         * journal.c does after (noting which names the file declared)
         * may, harmlessly: it declares them again.  The change is compared
         * now and the journal at the next reopen. */
        tally("(injected, after the journal's write)", rc);
    } else if (rc == RS_OK && failed > 0) {
        fail("%s succeeded although allocation %ld failed", call,
             g_alloc.n_grows);
    }
    /* An error found only after the call allocated (late) may be
     * preceded by the injected failure. */
    if (!inj || (want != RS_OK && !late)) {
        return false; /* expect() compares with the model */
    }
    desc(" [allocation failure injected]");
    tally("(injected RS_ENOMEM)", rc);
    if (rs_errmsg(g_st)[0] == '\0') {
        fail("%s returned RS_ENOMEM with an empty rs_errmsg()", call);
    }
    check_walk("after the injected RS_ENOMEM");
    return true;
}

bool absorbed_change(const char *call, rs_status rc, rs_status want, bool late)
{
    return absorbed_any(call, rc, want, late, true);
}

bool absorbed(const char *call, rs_status rc, rs_status want)
{
    return absorbed_any(call, rc, want, false, false);
}

/* ------------------------------------------------------------------------ */
/* Failed changes, in a group or not                                         */
/* ------------------------------------------------------------------------ */

bool group_refuses(void)
{
    return m_group.open && m_group.failed;
}

bool change_failed(const char *call, rs_status rc, const rs_mem_report *before)
{
    if (m_group.open && !m_group.failed && rc != RS_EGROUP) {
        desc(" [%s failed: the group rolls back]", call);
        group_rolled_back(call);
        m_group.failed = true;
        return true;
    }
    mem_same_after_change(before, call);
    return false;
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */
/* ------------------------------------------------------------------------ */

/* The handle an insert into class c gave: of that class, no live record's,
 * and no removed record's. */
static void check_new_handle(int c, rs_handle h, const char *call)
{
    if (h == RS_NULL_HANDLE || h >> 48 != class_no[c] || m_by_handle(h) >= 0) {
        fail("%s gave handle 0x%016" PRIx64 ": null, of another class, or "
             "already live",
             call, h);
    }
    for (int i = 0; i < n_stale; i++) {
        if (stale[i] == h) {
            fail("%s gave 0x%016" PRIx64 ", the handle of a removed record",
                 call, h);
        }
    }
    for (int i = 0; i < n_ghosts; i++) {
        if (ghosts[i] == h) {
            char what[96];
            snprintf(what, sizeof what, "%s gave 0x%016" PRIx64, call, h);
            known_bug(KB_GROUP_HANDLE_REUSED, what);
        }
    }
}

void op_insert(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    rs_named vals[NF + 12];
    size_t n = 0;
    int err = chance(12) ? 1 + irand(4) : 0;
    enum { E_ATTR = 1, E_TWICE, E_BAD, E_NOKEY };
    int bad_field = err == E_BAD ? irand(NF) : -1;
    for (int f = 0; f < NF; f++) {
        bool give = f == F_UID    ? err != E_NOKEY
                    : f == F_NAME ? chance(95)
                                  : chance(60);
        if (f == bad_field) {
            give = true;
        }
        if (!give) {
            continue;
        }
        rs_value v = gen_value(f, f == bad_field);
        /* Often the key or name of a live record of the class: a
         * duplicate. */
        long j = (f == F_UID || f == F_NAME) && f != bad_field &&
                         chance(f == F_UID ? 15 : 10)
                     ? pick_in(c)
                     : -1;
        if (j >= 0) {
            const mval *m = &recs[j].f[f];
            char *b = new_buf();
            memcpy(b, m->s, m->len);
            v = rs_val_str(b, m->len);
        }
        vals[n].name = defs[f].name;
        vals[n].val = v;
        n++;
    }
    /* Dynamic attributes among the values (Player2 refuses them): distinct
     * names, but now and then one given twice. */
    if (chance(c == C_DYN ? 35 : 3)) {
        size_t first = n;
        int na = 1 + irand(4);
        for (int k = 0; k < na; k++) {
            const char *name = gen_attr_name();
            for (size_t t = first; t < n; t++) {
                if (strcmp(vals[t].name, name) == 0) {
                    name = NULL; /* already given: leave it */
                    break;
                }
            }
            if (name != NULL) {
                vals[n].name = name;
                vals[n].val = gen_attr_value();
                n++;
            }
        }
        if (n > first && chance(6)) {
            vals[n].name = vals[first + (size_t)irand((int)(n - first))].name;
            vals[n].val = gen_attr_value();
            n++;
        }
    }
    /* Shuffle: errors are found in the order the values are given. */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)irand((int)i);
        rs_named t = vals[i - 1];
        vals[i - 1] = vals[j];
        vals[j] = t;
    }
    if (err == E_ATTR || (err == E_TWICE && n > 0)) {
        static const char *const unknown[] = {"x", "Uid",  "tag ",
                                              "",  "uid2", "levels"};
        /* For E_TWICE, another value for a name given. */
        const char *twice = err == E_TWICE ? vals[irand((int)n)].name : NULL;
        int f = twice ? m_field_named(twice) : -1;
        size_t at = (size_t)irand((int)n + 1);
        memmove(&vals[at + 1], &vals[at], (n - at) * sizeof *vals);
        if (err == E_ATTR) {
            vals[at].name = unknown[irand(6)];
            vals[at].val = rs_val_int(1);
        } else {
            vals[at].name = twice;
            vals[at].val = f >= 0 ? gen_value(f, false) : gen_attr_value();
        }
        n++;
    }
    desc("insert %s {", class_names[c]);
    for (size_t i = 0; i < n; i++) {
        desc("%s%.70s=", i ? ", " : "", vals[i].name);
        desc_value(&vals[i].val);
    }
    desc("}");

    mrec want;
    const char *dyn[NF + 12];
    bool late;
    rs_status ws = m_insert(c, vals, n, &want, dyn, &late);
    if (group_refuses()) {
        ws = RS_EGROUP;
        late = false;
    }
    rs_mem_report before = mem_now();
    rs_handle h = RS_NULL_HANDLE;
    bool want_out = chance(90);
    maybe_arm();
    rs_status rc = rs_insert(g_st, classes[c], vals, n, want_out ? &h : NULL);
    if (absorbed_change("rs_insert", rc, ws, late)) {
        change_failed("rs_insert", rc, &before);
        return;
    }
    expect("rs_insert", rc, ws);
    for (size_t i = 0; i < n; i++) {
        if (m_field_named(vals[i].name) < 0) {
            tally("rs_insert (attributes)", rc);
            break;
        }
    }
    if (rc != RS_OK) {
        if (rc == RS_ENOATTR) {
            /* The first undeclared name refused. */
            for (size_t i = 0; i < n; i++) {
                if (m_field_named(vals[i].name) < 0) {
                    expect_msg("rs_insert", no_attr_msg(c, vals[i].name));
                    break;
                }
            }
        } else if (late) {
            expect_msg("rs_insert", "is not an attribute name");
        }
        change_failed("a failed rs_insert", rc, &before);
        return;
    }
    if (!want_out) {
        rs_status g =
            rs_get(g_st, classes[c], want.f[F_UID].s, want.f[F_UID].len, &h);
        expect("rs_get of the record just inserted", g, RS_OK);
    }
    check_new_handle(c, h, "rs_insert");
    want.h = h;
    /* The store interned the dynamic names in the order given. */
    for (uint32_t k = 0; k < want.n_attrs; k++) {
        want.a[k].name = m_intern(dyn[k]);
    }
    m_add(&want);
    acct_insert(n_recs - 1, &before, "rs_insert");
    compare_rec(&want, "after rs_insert");
}

void op_remove(void)
{
    rs_mem_report before = mem_now();
    if (n_recs == 0 || chance(15)) {
        rs_handle h = gen_dead_handle();
        desc("remove dead handle 0x%016" PRIx64, h);
        rs_status rc = rs_remove(g_st, h);
        expect("rs_remove", rc, group_refuses() ? RS_EGROUP : RS_ESTALE);
        change_failed("a failed rs_remove", rc, &before);
        return;
    }
    size_t i = (size_t)irand((int)n_recs);
    mrec r = recs[i];
    desc("remove ");
    desc_rec(&r);
    rs_status rc = rs_remove(g_st, r.h);
    expect("rs_remove", rc, group_refuses() ? RS_EGROUP : RS_OK);
    if (rc != RS_OK) {
        mem_same(&before, "a refused rs_remove");
        return;
    }
    m_remove(i);
    acct_remove(&r, &before, "rs_remove");
    expect("rs_check of the removed record", rs_check(g_st, r.h), RS_ESTALE);
    if (rs_handle_class(g_st, r.h) != NULL) {
        fail("rs_handle_class of a removed record is not NULL");
    }
    rs_handle h;
    expect("rs_get of the removed key",
           rs_get(g_st, classes[r.c], r.f[F_UID].s, r.f[F_UID].len, &h),
           RS_ENOTFOUND);
    rs_value nv = rs_val_str(r.f[F_NAME].s, r.f[F_NAME].len);
    expect("rs_find of the removed name",
           rs_find(g_st, classes[r.c], F_NAME, &nv, &h), RS_ENOTFOUND);
    /* Its attributes went with it: no dict on the stale handle. */
    size_t na = 0;
    expect("rs_dict of a removed record", rs_dict(g_st, r.h, NULL, 0, &na),
           RS_ESTALE);
}

/* Set field f of the record at index i (or of the dead handle dead when i
 * is -1) through one of the set calls, and compare. */
void do_set(long i, rs_handle dead, int f, const rs_value *v, int api,
            const char *attr)
{
    rs_handle h = i >= 0 ? recs[i].h : dead;
    /* The model's answer, computed before the call: the value may be
     * borrowed from the store. */
    rs_status ws;
    mval nv;
    int mf = api == API_ATTR ? m_field_named(attr) : f;
    if (api == API_ATTR && mf < 0) {
        /* Not declared: a dynamic attribute (Player2 refuses it). */
        do_attr_set(i, dead, attr, -1, v);
        return;
    }
    if (i < 0) {
        ws = RS_ESTALE;
    } else if (mf < 0 || mf >= NF) {
        ws = RS_EINVAL;
    } else if ((ws = m_coerce(mf, v, &nv)) == RS_OK && mf == F_UID &&
               nv.len == 0) {
        ws = RS_EINVAL; /* a key cannot be empty */
    } else if (ws == RS_OK && is_indexed(mf)) {
        long j = m_find(recs[i].c, mf, &nv);
        if (j >= 0 && j != i) {
            ws = RS_EEXIST;
        }
    }
    if (group_refuses()) {
        ws = RS_EGROUP;
    }
    rs_mem_report before = mem_now();
    rs_status rc;
    const char *call;
    maybe_arm();
    switch (api) {
    case API_ATTR:
        call = "rs_set_attr";
        rc = rs_set_attr(g_st, h, attr, v);
        break;
    case API_INT:
        call = "rs_set_int";
        rc = rs_set_int(g_st, h, f, v->v.i);
        break;
    case API_STR:
        call = "rs_set_str";
        rc = rs_set_str(g_st, h, f, v->v.s.ptr, v->v.s.len);
        break;
    default:
        call = "rs_set_field";
        rc = rs_set_field(g_st, h, f, v);
        break;
    }
    if (absorbed_change(call, rc, ws, false)) {
        ws = RS_ENOMEM; /* nothing changed: compare the record below */
    }
    expect(call, rc, ws);
    if (rc != RS_OK) {
        if (change_failed(call, rc, &before)) {
            return; /* the model went back to the group's start */
        }
    } else {
        m_set_field((size_t)i, mf, &nv);
        acct_set((size_t)i, &before, is_str(mf), call);
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after a set");
    }
}

void op_set(bool by_name)
{
    long i = -1;
    rs_handle dead = RS_NULL_HANDLE;
    if (n_recs == 0 || chance(8)) {
        dead = gen_dead_handle();
    } else {
        i = irand((int)n_recs);
    }
    static const int weights[NF] = {3, 4, 1, 1, 1, 1, 1, 4};
    int f = 0;
    for (int w = irand(16); w >= weights[f]; f++) {
        w -= weights[f];
    }
    rs_value v;
    if (i >= 0 && is_indexed(f) && chance(35)) {
        /* Another record's value (a duplicate if of the same class) or
         * its own (no change). */
        long j = chance(70) ? pick_in(recs[i].c) : i;
        const mval *m = &recs[j >= 0 ? j : i].f[f];
        char *b = new_buf();
        memcpy(b, m->s, m->len);
        v = rs_val_str(b, m->len);
    } else if (is_str(f) && n_recs > 0 && chance(10)) {
        /* A value borrowed from the store, "copied" on the way in: the
         * same field of another record or of this one (its own value), or
         * another string field of this one. */
        static const int str_fields[] = {F_UID, F_NAME, F_TAG};
        long j = i >= 0 && chance(40) ? i : irand((int)n_recs);
        int from = f;
        if (j == i && chance(50)) {
            from = str_fields[irand(3)];
        }
        const char *p;
        size_t len;
        rs_status rc = rs_get_str(g_st, recs[j].h, from, &p, &len);
        expect("rs_get_str", rc, RS_OK);
        v = rs_val_str(p, len);
        desc("(value borrowed from %s of %s) ", defs[from].name,
             j == i ? "this record" : "another record");
    } else {
        v = gen_value(f, chance(12));
    }
    int api = API_FIELD;
    const char *attr = defs[f].name;
    if (by_name) {
        api = API_ATTR;
        if (chance(6)) {
            static const char *const unknown[] = {"x", "Name", "uid ", "",
                                                  "levels"};
            attr = unknown[irand(5)];
        }
    } else if (chance(4)) {
        f = chance(50) ? -1 - irand(3) : NF + irand(100);
    } else if (v.type == RS_I64 && chance(50)) {
        api = API_INT;
    } else if (v.type == RS_STR && v.v.s.ptr != NULL && chance(50)) {
        api = API_STR;
    }
    desc("set %s 0x%016" PRIx64 " ", i >= 0 ? "live" : "dead",
         i >= 0 ? recs[i].h : dead);
    if (api == API_ATTR) {
        desc("attr \"%s\"", attr);
    } else {
        desc("field %d (%s)", f, f >= 0 && f < NF ? defs[f].name : "bad");
    }
    desc(" via %s = ", api == API_ATTR  ? "rs_set_attr"
                       : api == API_INT ? "rs_set_int"
                       : api == API_STR ? "rs_set_str"
                                        : "rs_set_field");
    desc_value(&v);
    if (i >= 0) {
        desc(" on ");
        desc_rec(&recs[i]);
    }
    do_set(i, dead, f, &v, api, attr);
}

void op_get_key(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    rs_value k = chance(10) ? gen_bad_str(F_UID) : gen_key();
    if (k.type != RS_STR) {
        k = str_val("");
    }
    if (n_recs > 0 && chance(40)) {
        const mval *m = &recs[irand((int)n_recs)].f[F_UID];
        char *b = new_buf();
        memcpy(b, m->s, m->len);
        k = rs_val_str(b, m->len);
    }
    desc("rs_get %s key ", class_names[c]);
    desc_value(&k);
    mval mk;
    memset(&mk, 0, sizeof mk);
    long j = -1;
    if (k.v.s.len <= sizeof mk.s) {
        mk.len = k.v.s.len;
        memcpy(mk.s, k.v.s.ptr, mk.len);
        j = m_find(c, F_UID, &mk);
    }
    rs_handle h = RS_NULL_HANDLE;
    const char *p = k.v.s.ptr ? k.v.s.ptr : "";
    rs_status rc = rs_get(g_st, classes[c], p, k.v.s.len, &h);
    expect("rs_get", rc, j >= 0 ? RS_OK : RS_ENOTFOUND);
    if (j >= 0 && h != recs[j].h) {
        fail("rs_get gave 0x%016" PRIx64 ", the model 0x%016" PRIx64, h,
             recs[j].h);
    }
}

void op_find(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    int f = F_NAME;
    int r = irand(100);
    if (r < 10) {
        f = F_UID;
    } else if (r < 15) {
        f = F_STAT + irand(6); /* not indexed */
    } else if (r < 18) {
        f = chance(50) ? -1 : NF + irand(5);
    }
    int vf = f >= 0 && f < NF ? f : F_NAME;
    rs_value v = gen_value(vf, chance(10));
    if (is_str(vf) && n_recs > 0 && chance(40)) {
        const mval *m = &recs[irand((int)n_recs)].f[vf];
        char *b = new_buf();
        memcpy(b, m->s, m->len);
        v = rs_val_str(b, m->len);
    }
    desc("rs_find %s field %d = ", class_names[c], f);
    desc_value(&v);
    rs_status ws;
    mval mv;
    long j = -1;
    if (f < 0 || f >= NF || !is_indexed(f)) {
        ws = RS_EINVAL;
    } else if (v.type == RS_STR) {
        /* A lookup: no length or UTF-8 check (roster.h lists neither for
         * rs_find); a string that could not be stored is not found. */
        memset(&mv, 0, sizeof mv);
        if (v.v.s.len <= defs[f].max_len) {
            mv.len = v.v.s.len;
            if (mv.len) {
                memcpy(mv.s, v.v.s.ptr, mv.len);
            }
            j = m_find(c, f, &mv);
        }
        ws = j >= 0 ? RS_OK : RS_ENOTFOUND;
    } else if ((ws = m_coerce(f, &v, &mv)) == RS_OK) {
        j = m_find(c, f, &mv);
        ws = j >= 0 ? RS_OK : RS_ENOTFOUND;
    }
    rs_handle h = RS_NULL_HANDLE;
    expect("rs_find", rs_find(g_st, classes[c], f, &v, &h), ws);
    if (j >= 0 && h != recs[j].h) {
        fail("rs_find gave 0x%016" PRIx64 ", the model 0x%016" PRIx64, h,
             recs[j].h);
    }
}

/* Read the fields of a live or dead handle through every getter. */
void op_get_fields(void)
{
    long i = n_recs > 0 && chance(80) ? irand((int)n_recs) : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    desc("get fields of %s 0x%016" PRIx64, i >= 0 ? "live" : "dead", h);
    rs_status dead = i >= 0 ? RS_OK : RS_ESTALE;
    rs_mem_report before = mem_now();
    for (int k = 0; k < 6; k++) {
        int f = irand(NF);
        bool badf = chance(5);
        int ff = badf ? (chance(50) ? -1 : NF + irand(9)) : f;
        rs_type t = defs[f].type;
        const mval *m = i >= 0 ? &recs[i].f[f] : NULL;
        rs_status ws;
        switch (irand(6)) {
        case 0: {
            rs_value v;
            ws = dead ? dead : badf ? RS_EINVAL : RS_OK;
            expect("rs_get_field", rs_get_field(g_st, h, ff, &v), ws);
            if (ws == RS_OK) {
                compare_field(h, f, m, "rs_get_field");
            }
            break;
        }
        case 1: {
            rs_value v;
            const char *name = badf ? "nope" : defs[f].name;
            ws = dead ? dead : badf ? RS_ENOATTR : RS_OK;
            expect("rs_get_attr", rs_get_attr(g_st, h, name, &v), ws);
            if (ws == RS_OK && !value_matches(&v, f, m)) {
                value_differs("rs_get_attr", h, f, &v, m);
            }
            break;
        }
        case 2: {
            int64_t x = 0, want = 0;
            ws = dead ? dead : badf ? RS_EINVAL : RS_OK;
            if (ws == RS_OK) {
                if (t == RS_BOOL) {
                    want = m->b;
                } else if (t == RS_I32) {
                    want = m->i;
                } else if (t == RS_U8 || t == RS_U16) {
                    want = (int64_t)m->u;
                } else {
                    ws = RS_ETYPE;
                }
            }
            expect("rs_get_int", rs_get_int(g_st, h, ff, &x), ws);
            if (ws == RS_OK && x != want) {
                fail("rs_get_int(%s) = %" PRId64 ", model %" PRId64,
                     defs[f].name, x, want);
            }
            break;
        }
        case 3: {
            uint64_t x = 0, want = 0;
            ws = dead ? dead : badf ? RS_EINVAL : RS_OK;
            if (ws == RS_OK) {
                if (t == RS_BOOL) {
                    want = m->b;
                } else if (t == RS_I32) {
                    if (m->i < 0) {
                        ws = RS_ERANGE;
                    }
                    want = (uint64_t)m->i;
                } else if (t == RS_U8 || t == RS_U16) {
                    want = m->u;
                } else {
                    ws = RS_ETYPE;
                }
            }
            expect("rs_get_uint", rs_get_uint(g_st, h, ff, &x), ws);
            if (ws == RS_OK && x != want) {
                fail("rs_get_uint(%s) = %" PRIu64 ", model %" PRIu64,
                     defs[f].name, x, want);
            }
            break;
        }
        case 4: {
            double x = 0, want = 0;
            ws = dead ? dead : badf ? RS_EINVAL : RS_OK;
            if (ws == RS_OK) {
                if (t == RS_F64) {
                    want = m->f;
                } else if (t == RS_I32) {
                    want = (double)m->i;
                } else if (t == RS_U8 || t == RS_U16) {
                    want = (double)m->u;
                } else {
                    ws = RS_ETYPE; /* bool and str are not numbers */
                }
            }
            expect("rs_get_f64", rs_get_f64(g_st, h, ff, &x), ws);
            if (ws == RS_OK && !(x == want || (isnan(x) && isnan(want)))) {
                fail("rs_get_f64(%s) = %.17g, model %.17g", defs[f].name, x,
                     want);
            }
            break;
        }
        default: {
            const char *p = NULL;
            size_t len = 0;
            ws = dead          ? dead
                 : badf        ? RS_EINVAL
                 : t == RS_STR ? RS_OK
                               : RS_ETYPE;
            expect("rs_get_str", rs_get_str(g_st, h, ff, &p, &len), ws);
            if (ws == RS_OK &&
                (len != m->len || (len && memcmp(p, m->s, len) != 0))) {
                fail("rs_get_str(%s) differs from the model", defs[f].name);
            }
            break;
        }
        }
    }
    size_t size = 0;
    expect("rs_record_size", rs_record_size(g_st, h, &size), dead);
    if (i >= 0) {
        check_size(&recs[i], "rs_record_size");
    }
    expect("rs_check", rs_check(g_st, h), dead);
    if ((rs_handle_class(g_st, h) != NULL) != (i >= 0)) {
        fail("rs_handle_class disagrees with the model");
    }
    mem_same(&before, "reading fields");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The position of h in the sorted a[n], or -1. */
static long pos_sorted(const rs_handle *a, size_t n, rs_handle h)
{
    const rs_handle *p = bsearch(&h, a, n, sizeof *a, cmp_u64);
    return p ? (long)(p - a) : -1;
}

/* Where op_scan() takes its records from: rs_scan_next() (now and then
 * closing the scan and resuming a new one at rs_scan_cursor()), or
 * rs_scan_batch() calls of random budget and capacity, each resuming at
 * the cursor the last one left (roster.h: the same guarantee). */
typedef struct scan_src {
    rs_scan *sc;
    bool batch, resume;
    int cl;
    const rs_cond *c;
    size_t n;
    uint64_t cursor;
    bool done;
    rs_handle buf[8];
    size_t n_buf, at;
} scan_src;

static rs_status src_next(scan_src *s, rs_handle *h)
{
    if (!s->batch) {
        if (s->resume && chance(10)) {
            uint64_t cur = rs_scan_cursor(s->sc);
            rs_scan_close(s->sc);
            expect("rs_scan_open to resume",
                   rs_scan_open(g_st, classes[s->cl], s->c, s->n, &s->sc),
                   RS_OK);
            expect("rs_scan_resume", rs_scan_resume(s->sc, cur), RS_OK);
        }
        return rs_scan_next(s->sc, h);
    }
    while (s->at == s->n_buf) {
        if (s->done) {
            return RS_DONE;
        }
        size_t n_out;
        rs_status rc = rs_scan_batch(g_st, classes[s->cl], s->c, s->n,
                                     s->cursor, 1 + (size_t)irand(30), s->buf,
                                     1 + (size_t)irand(8), &n_out, &s->cursor);
        if (rc != RS_OK) {
            return rc;
        }
        s->n_buf = n_out;
        s->at = 0;
        s->done = s->cursor == 0;
    }
    *h = s->buf[s->at++];
    return RS_OK;
}

/* A condition's attribute number: rs_attr_id() on Player, never armed
 * (the id must stay valid for the scan). */
static rs_field cond_attr_id(const char *name)
{
    return do_attr_id(C_DYN, name, false);
}

/* A filtered scan; with modify, each returned record may be removed or
 * have a field or attribute set or deleted before the next (roster.h
 * allows exactly that). */
void op_scan(bool modify)
{
    rs_cond conds[8];
    int cl = chance(80) ? C_DYN : C_SLOTS;
    bool bad = !modify && chance(8);
    size_t n = gen_conds(conds, bad, cond_attr_id);
    desc("%s %s ", modify ? "scan and modify" : "scan", class_names[cl]);
    desc_conds(conds, n);
    rs_status ws = m_check_conds(conds, n);
    rs_mem_report before = mem_now();
    rs_scan *sc = NULL;
    maybe_arm();
    rs_status rc = rs_scan_open(g_st, classes[cl], conds, n, &sc);
    if (absorbed("rs_scan_open", rc, ws)) {
        mem_same(&before, "rs_scan_open failing with an allocation");
        return;
    }
    expect("rs_scan_open", rc, ws);
    for (size_t i = 0; i < n; i++) {
        if (conds[i].field >= RS_ATTR_BASE) {
            tally("rs_scan_open (attributes)", rc);
            break;
        }
    }
    if (rc != RS_OK) {
        mem_same(&before, "a failed rs_scan_open");
        return;
    }
    rs_handle *want;
    size_t n_want = model_matches(cl, conds, n, &want);
    /* The operands were copied: scribble over the caller's buffers (but
     * rs_scan_batch() and a scan opened again to resume read them). */
    int mode = irand(10); /* 0-5 rs_scan_next, 6-7 with resumes, 8-9 batch */
    char keep[8][96];     /* the operands those read, out of new_buf()'s ring */
    for (size_t i = 0; i < n && mode >= 6; i++) {
        if (conds[i].val.type == RS_STR && conds[i].val.v.s.len > 0 &&
            conds[i].val.v.s.len <= sizeof keep[i]) {
            memcpy(keep[i], conds[i].val.v.s.ptr, conds[i].val.v.s.len);
            conds[i].val.v.s.ptr = keep[i];
        }
    }
    for (size_t i = 0; i < n && mode < 6; i++) {
        if (conds[i].val.type == RS_STR && conds[i].val.v.s.len > 0) {
            gen_scribble(conds[i].val.v.s.ptr);
        }
    }
    size_t got = 0;
    rs_handle h, prev = 0;
    bool *seen = calloc(n_want + 1, sizeof *seen);
    if (seen == NULL) {
        fail("out of memory in the model");
    }
    scan_src src = {sc, mode >= 8, mode >= 6, cl, conds, n,
                    0,  false,     {0},       0,  0};
    while ((rc = src_next(&src, &h)) == RS_OK) {
        long at = pos_sorted(want, n_want, h);
        if (at >= 0) {
            seen[at] = true;
        } else {
            long j = m_by_handle(h);
            if (j >= 0) {
                desc(" returned ");
                desc_rec(&recs[j]);
            }
            fail("rs_scan_next returned 0x%016" PRIx64 ", which the model "
                 "does not match (model: %zu matches)",
                 h, n_want);
        }
        if (got > 0 && (uint32_t)h <= (uint32_t)prev) {
            fail("rs_scan_next returned slot %u after slot %u", (uint32_t)h,
                 (uint32_t)prev);
        }
        prev = h;
        got++;
        if (!modify) {
            continue;
        }
        long i = m_by_handle(h);
        if (i < 0) {
            fail("rs_scan_next returned 0x%016" PRIx64 ", not live in the "
                 "model",
                 h);
        }
        int r = irand(100);
        if (r < 3) {
            rs_mem_report before_rm = mem_now();
            mrec gone = recs[i];
            expect("rs_remove during a scan", rs_remove(g_st, h), RS_OK);
            m_remove((size_t)i);
            acct_remove(&gone, &before_rm, "rs_remove during a scan");
        } else if (r < 15) {
            int f = irand(NF);
            rs_value v = gen_value(f, chance(10));
            do_set(i, RS_NULL_HANDLE, f, &v, API_FIELD, defs[f].name);
        } else if (r < 22) {
            rs_value v = gen_attr_value();
            const mrec *m = &recs[i];
            const char *name = m->n_attrs >= BUSY_ATTRS ? m_names[m->a[0].name]
                                                        : pool_names[irand(8)];
            do_attr_set(i, RS_NULL_HANDLE, name, -1, &v);
        } else if (r < 26) {
            const mrec *m = &recs[i];
            do_attr_del(i, RS_NULL_HANDLE,
                        m->n_attrs > 0 && chance(80)
                            ? m_names[m->a[irand((int)m->n_attrs)].name]
                            : pool_names[irand(8)]);
        }
    }
    rs_scan_close(src.sc);
    if (rc != RS_DONE || got != n_want) {
        for (size_t k = 0; k < n_want; k++) {
            long j = m_by_handle(want[k]);
            if (!seen[k] && j >= 0) {
                desc(" missed: ");
                desc_rec(&recs[j]);
                break;
            }
        }
        fail("the scan ended with %s after %zu records; the model matches "
             "%zu",
             rs_status_name(rc), got, n_want);
    }
    free(want);
    free(seen);
    if (!modify) {
        mem_same(&before, "a scan opened and closed");
    }
}

void op_check_handle(void)
{
    long i = n_recs > 0 && chance(50) ? irand((int)n_recs) : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    desc("rs_check 0x%016" PRIx64, h);
    expect("rs_check", rs_check(g_st, h), i >= 0 ? RS_OK : RS_ESTALE);
    if (rs_handle_class(g_st, h) != (i >= 0 ? classes[recs[i].c] : NULL)) {
        fail("rs_handle_class disagrees with the model");
    }
}

/* Churn (roster.h: churn without growth): a record no other has, with a
 * fresh key and name, inserted and removed, then the same again.  Each
 * time the records and strings categories come back to where they were.
 * The first time may grow the store (a page, a string cell, a shape, an
 * index segment); the second must find all it needs where the first left
 * it free, so every category but the indexes (whose segments may be
 * rebuilt by tombstones: index.c) ends where the first left it. */
void op_churn(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    char *key = new_buf(), *name = new_buf();
    snprintf(key, 96, "ch%ld", g_step); /* no generator makes these */
    snprintf(name, 96, "churn-%ld", g_step);
    rs_named vals[NF + 4];
    size_t n = 0;
    vals[n++] = (rs_named){"uid", str_val(key)};
    vals[n++] = (rs_named){"name", str_val(name)};
    vals[n++] = (rs_named){"tag", gen_value(F_TAG, false)};
    vals[n++] = (rs_named){"level", gen_value(F_LEVEL, false)};
    for (int k = c == C_DYN && chance(50) ? 1 + irand(3) : 0; k > 0; k--) {
        rs_value v = gen_attr_value();
        mattr a;
        if (m_attr_value(&v, &a) == RS_OK) {
            vals[n++] = (rs_named){pool_names[irand(8)], v};
        }
    }
    mrec want;
    const char *dyn[NF + 4];
    bool late;
    if (m_insert(c, vals, n, &want, dyn, &late) != RS_OK) {
        return; /* a pool name drawn twice */
    }
    desc("churn %s {", class_names[c]);
    for (size_t i = 0; i < n; i++) {
        desc("%s%s=", i ? ", " : "", vals[i].name);
        desc_value(&vals[i].val);
    }
    desc("}");
    rs_mem_report before = mem_now(), after[2];
    rs_handle h[2];
    for (int round = 0; round < 2; round++) {
        expect("rs_insert (churn)",
               rs_insert(g_st, classes[c], vals, n, &h[round]), RS_OK);
        check_new_handle(c, h[round], "rs_insert (churn)");
        for (uint32_t k = 0; round == 0 && k < want.n_attrs; k++) {
            m_intern(dyn[k]); /* the store interned them */
        }
        expect("rs_remove (churn)", rs_remove(g_st, h[round]), RS_OK);
        m_stale_add(h[round]);
        after[round] = mem_now();
        if (after[round].n_records != before.n_records ||
            after[round].bytes[RS_MEM_RECORDS] !=
                before.bytes[RS_MEM_RECORDS] ||
            after[round].bytes[RS_MEM_STRINGS] !=
                before.bytes[RS_MEM_STRINGS]) {
            fail("after insert and remove %d, %zu records in %zu bytes, "
                 "strings %zu; before, %zu in %zu, strings %zu",
                 round + 1, after[round].n_records,
                 after[round].bytes[RS_MEM_RECORDS],
                 after[round].bytes[RS_MEM_STRINGS], before.n_records,
                 before.bytes[RS_MEM_RECORDS], before.bytes[RS_MEM_STRINGS]);
        }
    }
    if (h[0] == h[1]) {
        fail("two inserts gave the same handle 0x%016" PRIx64, h[0]);
    }
    const rs_mem_report *a = &after[0], *b = &after[1];
    bool quiet = !g_durable; /* a journal's buffers are meta */
    bool same =
        a->n_attr_names == b->n_attr_names && a->n_shapes == b->n_shapes;
    for (int k = 0; k < RS_MEM__COUNT; k++) {
        if (k != RS_MEM_INDEXES && (quiet || k != RS_MEM_META)) {
            same = same && a->bytes[k] == b->bytes[k];
        }
    }
    if (quiet && a->bytes[RS_MEM_INDEXES] == b->bytes[RS_MEM_INDEXES]) {
        same = same && a->total == b->total && a->n_allocs == b->n_allocs;
    }
    if (!same) {
        fail("the second insert and remove grew the store: total %zu -> "
             "%zu in %zu -> %zu blocks, records %zu -> %zu, strings %zu -> "
             "%zu, indexes %zu -> %zu, attrs %zu -> %zu, free %zu -> %zu, "
             "meta %zu -> %zu, names %zu -> %zu, shapes %zu -> %zu",
             a->total, b->total, a->n_allocs, b->n_allocs,
             a->bytes[RS_MEM_RECORDS], b->bytes[RS_MEM_RECORDS],
             a->bytes[RS_MEM_STRINGS], b->bytes[RS_MEM_STRINGS],
             a->bytes[RS_MEM_INDEXES], b->bytes[RS_MEM_INDEXES],
             a->bytes[RS_MEM_ATTRS], b->bytes[RS_MEM_ATTRS],
             a->bytes[RS_MEM_FREE], b->bytes[RS_MEM_FREE],
             a->bytes[RS_MEM_META], b->bytes[RS_MEM_META], a->n_attr_names,
             b->n_attr_names, a->n_shapes, b->n_shapes);
    }
}

/* ------------------------------------------------------------------------ */
/* The calls front ends use                                                  */
/* ------------------------------------------------------------------------ */

/* rs_find_many() of up to 20 values, live, missing and of the wrong kind:
 * each answer is rs_find()'s, as the model sees it. */
static void front_find_many(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    int f = chance(50) ? F_UID : F_NAME;
    size_t n = 1 + (size_t)irand(20);
    rs_value vals[20];
    rs_handle want[20], got[20];
    size_t want_found = 0;
    desc("rs_find_many %s %s, %zu values", class_names[c], defs[f].name, n);
    for (size_t k = 0; k < n; k++) {
        if (n_recs > 0 && chance(60)) {
            const mval *m = &recs[irand((int)n_recs)].f[f];
            char *b = new_buf();
            memcpy(b, m->s, m->len);
            vals[k] = rs_val_str(b, m->len);
        } else {
            vals[k] = gen_value(f, chance(20));
        }
        mval mv;
        memset(&mv, 0, sizeof mv);
        long j = -1;
        if (vals[k].type == RS_STR) {
            if (vals[k].v.s.len <= defs[f].max_len) {
                mv.len = vals[k].v.s.len;
                if (mv.len) {
                    memcpy(mv.s, vals[k].v.s.ptr, mv.len);
                }
                j = m_find(c, f, &mv);
            }
        } else if (m_coerce(f, &vals[k], &mv) == RS_OK) {
            j = m_find(c, f, &mv);
        }
        want[k] = j >= 0 ? recs[j].h : RS_NULL_HANDLE;
        want_found += j >= 0;
    }
    size_t found = 0;
    expect("rs_find_many",
           rs_find_many(g_st, classes[c], f, vals, n, got, &found), RS_OK);
    if (found != want_found) {
        fail("rs_find_many found %zu, the model %zu", found, want_found);
    }
    for (size_t k = 0; k < n; k++) {
        if (got[k] != want[k]) {
            fail("rs_find_many value %zu gave 0x%016" PRIx64 ", the model "
                 "0x%016" PRIx64,
                 k, got[k], want[k]);
        }
    }
}

/* rs_read() of a record: every field, then every attribute, strings in
 * the caller's buffer, against the model. */
static void front_read(void)
{
    static char buf[MAX_MATTRS * (ATTR_STR_MAX + 1) + NF * 64];
    static rs_attr items[NF + MAX_MATTRS];
    const mrec *r = &recs[irand((int)n_recs)];
    desc("rs_read ");
    desc_rec(r);
    size_t n = 0, need = 0;
    expect(
        "rs_read",
        rs_read(g_st, r->h, items, NF + MAX_MATTRS, &n, buf, sizeof buf, &need),
        RS_OK);
    if (n != NF + r->n_attrs) {
        fail("rs_read gave %zu items, the model has %u fields and %u "
             "attributes",
             n, NF, r->n_attrs);
        return;
    }
    for (int f = 0; f < NF; f++) {
        if (strcmp(items[f].name, defs[f].name) != 0 ||
            !value_matches(&items[f].val, f, &r->f[f])) {
            value_differs("rs_read", r->h, f, &items[f].val, &r->f[f]);
        }
        if (is_str(f) && (items[f].val.v.s.ptr < buf ||
                          items[f].val.v.s.ptr >= buf + sizeof buf)) {
            fail("rs_read: %s is not in the caller's buffer", defs[f].name);
        }
    }
    for (uint32_t k = 0; k < r->n_attrs; k++) {
        const rs_attr *it = &items[NF + k];
        if (strcmp(it->name, m_names[r->a[k].name]) != 0 ||
            !attr_matches(&it->val, &r->a[k])) {
            fail("rs_read: attribute %u is %s, the model has %s", k, it->name,
                 m_names[r->a[k].name]);
        }
    }
    /* Too little room: the sizes it needs, whatever the buffers. */
    if (n > 1) {
        size_t n2 = 0, need2 = 0;
        expect("rs_read with too few items",
               rs_read(g_st, r->h, items, n - 1, &n2, buf, sizeof buf, &need2),
               RS_ETOOLONG);
        if (n2 != n || need2 != need) {
            fail("rs_read short of room said %zu items and %zu bytes, "
                 "not %zu and %zu",
                 n2, need2, n, need);
        }
    }
}

/* rs_get_str_copy() of a string field into a buffer that fits or not. */
static void front_str_copy(void)
{
    static const int str_fields[] = {F_UID, F_NAME, F_TAG};
    const mrec *r = &recs[irand((int)n_recs)];
    int f = str_fields[irand(3)];
    char buf[64];
    memset(buf, '#', sizeof buf);
    size_t cap = chance(20) ? (size_t)irand(8) : sizeof buf, len = 0;
    desc("rs_get_str_copy %s (cap %zu) of ", defs[f].name, cap);
    desc_rec(r);
    rs_status want = r->f[f].len + 1 <= cap ? RS_OK : RS_ETOOLONG;
    expect("rs_get_str_copy", rs_get_str_copy(g_st, r->h, f, buf, cap, &len),
           want);
    if (len != r->f[f].len) {
        fail("rs_get_str_copy said %zu bytes, the model has %zu", len,
             r->f[f].len);
    }
    if (want == RS_OK &&
        (memcmp(buf, r->f[f].s, len) != 0 || buf[len] != '\0')) {
        fail("rs_get_str_copy copied the wrong bytes");
    }
    if (want != RS_OK && buf[0] != '#') {
        fail("rs_get_str_copy wrote into a buffer too small");
    }
}

/* rs_incr() of stat (u8), level (u16) or score (i32): in range or not. */
static void front_incr(void)
{
    static const int num_fields[] = {F_STAT, F_LEVEL, F_SCORE};
    long i = irand((int)n_recs);
    int f = num_fields[irand(3)];
    int64_t delta = chance(70) ? irand(601) - 300
                               : (int64_t)(rnd() % 5000000000u) - 2500000000;
    int64_t old = f == F_SCORE ? recs[i].f[f].i : (int64_t)recs[i].f[f].u;
    desc("rs_incr %s by %" PRId64 " of ", defs[f].name, delta);
    desc_rec(&recs[i]);
    mval nv;
    rs_value sum = rs_val_int(old + delta);
    rs_status ws =
        old + delta < 0 && f != F_SCORE ? RS_ERANGE : m_coerce(f, &sum, &nv);
    int64_t out = 0;
    rs_mem_report before = mem_now();
    expect("rs_incr", rs_incr(g_st, recs[i].h, f, delta, &out), ws);
    if (ws == RS_OK) {
        m_set_field((size_t)i, f, &nv);
        acct_set((size_t)i, &before, false, "rs_incr");
        if (out != old + delta) {
            fail("rs_incr gave %" PRId64 ", the model %" PRId64, out,
                 old + delta);
        }
    } else {
        mem_same(&before, "a failed rs_incr");
    }
    compare_rec(&recs[i], "after rs_incr");
}

/* rs_remove_key() of a live key, or of one no record has. */
static void front_remove_key(void)
{
    int c;
    rs_value k;
    if (chance(80)) {
        const mrec *r = &recs[irand((int)n_recs)];
        c = r->c;
        char *b = new_buf();
        memcpy(b, r->f[F_UID].s, r->f[F_UID].len);
        k = rs_val_str(b, r->f[F_UID].len);
    } else {
        c = chance(50) ? C_DYN : C_SLOTS;
        k = gen_key();
    }
    desc("rs_remove_key %s ", class_names[c]);
    desc_value(&k);
    mval mk;
    memset(&mk, 0, sizeof mk);
    long j = -1;
    if (k.v.s.len <= sizeof mk.s) {
        mk.len = k.v.s.len;
        memcpy(mk.s, k.v.s.ptr, mk.len);
        j = m_find(c, F_UID, &mk);
    }
    rs_mem_report before = mem_now();
    rs_status rc =
        rs_remove_key(g_st, classes[c], k.v.s.ptr ? k.v.s.ptr : "", k.v.s.len);
    expect("rs_remove_key", rc, j >= 0 ? RS_OK : RS_ENOTFOUND);
    if (rc == RS_OK) {
        mrec gone = recs[j];
        m_remove((size_t)j);
        acct_remove(&gone, &before, "rs_remove_key");
    } else {
        mem_same(&before, "a failed rs_remove_key");
    }
}

/* rs_set_many() of 2 or 3 fields: all of them, or none when one is bad, a
 * duplicate name, or a field named twice. */
static void front_set_many(void)
{
    static const int fields[] = {F_NAME,  F_STAT, F_LEVEL, F_SCORE,
                                 F_RATIO, F_FLAG, F_TAG};
    long i = irand((int)n_recs);
    size_t n = 2 + (size_t)irand(2);
    rs_named v[3];
    int fs[3];
    bool twice = false;
    for (size_t k = 0; k < n; k++) {
        fs[k] = fields[irand(7)];
        for (size_t q = 0; q < k; q++) {
            twice = twice || fs[q] == fs[k];
        }
        v[k].name = defs[fs[k]].name;
        if (fs[k] == F_NAME && n_recs > 1 && chance(30)) {
            const mval *m = &recs[irand((int)n_recs)].f[F_NAME];
            char *b = new_buf();
            memcpy(b, m->s, m->len);
            v[k].val = rs_val_str(b, m->len);
        } else {
            v[k].val = gen_value(fs[k], chance(15));
        }
    }
    desc("rs_set_many of %zu pairs on ", n);
    desc_rec(&recs[i]);
    rs_status ws = twice ? RS_EINVAL : RS_OK;
    mval nv[3];
    for (size_t k = 0; k < n && ws == RS_OK; k++) {
        ws = m_coerce(fs[k], &v[k].val, &nv[k]);
        if (ws == RS_OK && fs[k] == F_NAME) {
            long j = m_find(recs[i].c, F_NAME, &nv[k]);
            ws = j >= 0 && j != i ? RS_EEXIST : RS_OK;
        }
    }
    rs_mem_report before = mem_now();
    expect("rs_set_many", rs_set_many(g_st, recs[i].h, v, n), ws);
    if (ws == RS_OK) {
        bool strings = false;
        for (size_t k = 0; k < n; k++) {
            m_set_field((size_t)i, fs[k], &nv[k]);
            strings = strings || is_str(fs[k]);
        }
        acct_set((size_t)i, &before, strings, "rs_set_many");
    } else {
        /* All or none: a set that went before the failing one is rolled
         * back (its group's capacity may stay, as free space). */
        rs_mem_report m = mem_now();
        if (m.bytes[RS_MEM_RECORDS] != before.bytes[RS_MEM_RECORDS] ||
            m.bytes[RS_MEM_STRINGS] != before.bytes[RS_MEM_STRINGS] ||
            m.n_attr_names != before.n_attr_names) {
            fail("a failed rs_set_many moved the records, strings or names");
        }
    }
    compare_rec(&recs[i], "after rs_set_many");
}

void op_front(void)
{
    int kind = n_recs == 0 ? 0 : irand(6);
    switch (kind) {
    case 0:
        front_find_many();
        break;
    case 1:
        front_read();
        break;
    case 2:
        front_str_copy();
        break;
    case 3:
        front_incr();
        break;
    case 4:
        front_remove_key();
        break;
    default:
        front_set_many();
        break;
    }
}
