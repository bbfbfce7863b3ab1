/*
 * test_change.c: the change pipeline (src/change.h) with observers of the
 * test's own: what a change record says at prepare, the order of prepare
 * and commit across observers, a prepare that refuses (nothing changes),
 * enter and leave around a public call, and commits held for a group:
 * delivered at its commit, dropped at its abort or failure, never for
 * the restores of a rollback.
 */
#include "alloc_check.h"
#include "check.h"

#include "change.h"
#include "store.h"

#include <unistd.h>

enum { LOG_MAX = 256 };

/* One observer: what it saw, in order. */
typedef struct spy {
    rs__observer obs; /* first */
    char name;        /* 'A', 'B': in the shared log */
    int refuse_kind;  /* refuse prepares of this kind (-1: none) */
    bool refuse_enter;
    int n_prepare, n_commit, n_restore, n_enter, n_leave;
    rs_status last_leave;
    rs__change last; /* the last change prepared (its pointers are dead) */
    int64_t last_set_old, last_set_new; /* a SET's values at prepare */
    char last_key[32];                  /* an INSERT's key at prepare */
} spy;

static char g_log[LOG_MAX];
static size_t g_n;

static void log_ev(char who, char what)
{
    if (g_n + 3 < LOG_MAX) {
        g_log[g_n++] = who;
        g_log[g_n++] = what;
        g_log[g_n] = '\0';
    }
}

static void log_reset(void)
{
    g_n = 0;
    g_log[0] = '\0';
}

static rs_status spy_prepare(rs_store *st, rs__observer *o,
                             const rs__change *ch)
{
    spy *s = (spy *)o;
    if (ch->restore) {
        s->n_restore++;
        return RS_OK;
    }
    s->n_prepare++;
    s->last = *ch;
    if (ch->kind == RS__CHANGE_SET && ch->old && ch->val &&
        ch->old->type != RS_STR) {
        s->last_set_old = ch->old->v.i;
        s->last_set_new = ch->val->v.i;
    }
    if (ch->kind == RS__CHANGE_INSERT) {
        rs_field k = ch->c->sch.key;
        const rs_value *kv = &ch->vals[k];
        snprintf(s->last_key, sizeof s->last_key, "%.*s", (int)kv->v.s.len,
                 kv->v.s.ptr);
    }
    log_ev(s->name, 'p');
    if ((int)ch->kind == s->refuse_kind) {
        return rs__err(st, RS_EIO, "spy %c refuses", s->name);
    }
    return RS_OK;
}

static void spy_commit(rs_store *st, rs__observer *o, const rs__change *ch)
{
    (void)st;
    spy *s = (spy *)o;
    s->n_commit++;
    s->last = *ch;
    log_ev(s->name, 'c');
}

static rs_status spy_enter(rs_store *st, rs__observer *o)
{
    spy *s = (spy *)o;
    s->n_enter++;
    return s->refuse_enter ? rs__err(st, RS_EGROUP, "spy busy") : RS_OK;
}

static rs_status spy_leave(rs_store *st, rs__observer *o, rs_status rc)
{
    (void)st;
    spy *s = (spy *)o;
    s->n_leave++;
    s->last_leave = rc;
    return rc;
}

static void spy_init(spy *s, char name)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->refuse_kind = -1;
    s->obs = (rs__observer){.name = "spy",
                            .enter = spy_enter,
                            .leave = spy_leave,
                            .prepare = spy_prepare,
                            .commit = spy_commit};
}

static alloc_check g_ac;

/* A store with Player(uid key, name unique, level u16) and attributes. */
static rs_store *open_store(rs_class **out)
{
    rs_store *st = NULL;
    CHECK_EQ(rs_store_open(alloc_check_fn, &g_ac, &st), RS_OK);
    const char *text = "Player { uid: str(16) key; name: str(32) unique; "
                       "level: u16 = 1 } dynamic";
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), out));
    return st;
}

static rs_handle add(rs_store *st, rs_class *c, const char *uid,
                     const char *name)
{
    rs_named v[2] = {{"uid", rs_val_cstr(uid)}, {"name", rs_val_cstr(name)}};
    rs_handle h = 0;
    CHECK_OK(st, rs_insert(st, c, v, 2, &h));
    return h;
}

static void close_store(rs_store *st)
{
    CHECK_EQ(rs__store_check(st), RS_OK);
    rs_store_close(st);
    alloc_check_clean(&g_ac, "test_change");
}

/* Every kind of change, as prepare sees it, then commit, A before B. */
static void records(void)
{
    rs_class *c;
    rs_store *st = open_store(&c);
    spy a, b;
    spy_init(&a, 'A');
    spy_init(&b, 'B');
    rs__change_observe(st, &a.obs);
    rs__change_observe(st, &b.obs);
    log_reset();

    rs_handle h = add(st, c, "u1", "ann");
    CHECK_STR(g_log, "ApBpAcBc");
    CHECK_EQ(a.last.kind, RS__CHANGE_INSERT);
    CHECK_STR(a.last_key, "u1");
    CHECK_EQ(a.last.slot, (uint32_t)h);
    CHECK_EQ(a.last.gen, (uint16_t)(h >> 32));

    log_reset();
    rs_value lv = rs_val_int(7);
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "level"), &lv));
    CHECK_STR(g_log, "ApBpAcBc");
    CHECK_EQ(b.last.kind, RS__CHANGE_SET);
    CHECK_EQ(b.last_set_old, 1); /* the default, before */
    CHECK_EQ(b.last_set_new, 7);
    CHECK(b.last.old == NULL); /* cleared at commit */

    log_reset();
    rs_value x = rs_val_int(5);
    CHECK_OK(st, rs_set_attr(st, h, "x", &x));
    CHECK_EQ(a.last.kind, RS__CHANGE_ATTRS);
    CHECK_OK(st, rs_del_attr(st, h, "x"));
    CHECK_EQ(a.last.kind, RS__CHANGE_ATTRS);
    CHECK(a.last.val == NULL); /* an unbind */
    CHECK_STR(g_log, "ApBpAcBcApBpAcBc");

    log_reset();
    CHECK_OK(st, rs_remove(st, h));
    CHECK_STR(g_log, "ApBpAcBc");
    CHECK_EQ(a.last.kind, RS__CHANGE_REMOVE);

    /* A class declared is a change too. */
    log_reset();
    rs_field_def k = {.name = "id", .type = RS_U32, .flags = RS_FIELD_KEY};
    rs_class *item;
    CHECK_OK(st, rs_class_create(st, "Item", &k, 1, 0, &item));
    CHECK_STR(g_log, "ApBpAcBc");
    CHECK_EQ(a.last.kind, RS__CHANGE_CLASS);

    /* A call that fails its own checks reaches no observer's prepare. */
    log_reset();
    add(st, c, "u2", "bob");
    rs_named dup[2] = {{"uid", rs_val_cstr("u3")},
                       {"name", rs_val_cstr("bob")}};
    CHECK_FAIL(st, rs_insert(st, c, dup, 2, NULL), RS_EEXIST, "bob");
    CHECK_STR(g_log, "ApBpAcBc");
    CHECK_EQ(a.n_enter, a.n_leave);
    CHECK_EQ(a.last_leave, RS_EEXIST);

    rs__change_unobserve(st, &a.obs);
    rs__change_unobserve(st, &b.obs);
    CHECK(st->obs == NULL);
    close_store(st);
}

/* A prepare that refuses cancels the change: nothing changed, no commit
 * to anyone, the observer before it prepared, the one after it not. */
static void refusal(void)
{
    rs_class *c;
    rs_store *st = open_store(&c);
    rs_handle h = add(st, c, "u1", "ann");
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    spy a, b, z;
    spy_init(&a, 'A');
    spy_init(&b, 'B');
    spy_init(&z, 'Z');
    b.refuse_kind = RS__CHANGE_INSERT;
    rs__change_observe(st, &a.obs);
    rs__change_observe(st, &b.obs);
    rs__change_observe(st, &z.obs);

    log_reset();
    rs_named v[2] = {{"uid", rs_val_cstr("u2")}, {"name", rs_val_cstr("bo")}};
    CHECK_FAIL(st, rs_insert(st, c, v, 2, NULL), RS_EIO, "spy B refuses");
    CHECK_STR(g_log, "ApBp");
    CHECK_EQ(rs_count(c), 1);
    rs_mem(st, &m1);
    CHECK_EQ(m1.total, m0.total);
    rs_handle none;
    CHECK_FAIL(st, rs_get(st, c, "u2", 2, &none), RS_ENOTFOUND, "u2");

    /* The same for a set and a remove: the record as it was. */
    b.refuse_kind = RS__CHANGE_SET;
    rs_value nv = rs_val_cstr("zed");
    CHECK_FAIL(st, rs_set_field(st, h, rs_class_field(c, "name"), &nv), RS_EIO,
               "refuses");
    rs_value got;
    CHECK_OK(st, rs_get_field(st, h, rs_class_field(c, "name"), &got));
    CHECK(got.v.s.len == 3 && memcmp(got.v.s.ptr, "ann", 3) == 0);
    CHECK_OK(st, rs_get(st, c, "u1", 2, &none)); /* the index too */
    rs_handle by_name;
    rs_value ann = rs_val_cstr("ann");
    CHECK_OK(st, rs_find(st, c, rs_class_field(c, "name"), &ann, &by_name));
    CHECK_EQ(by_name, h);
    b.refuse_kind = RS__CHANGE_REMOVE;
    CHECK_FAIL(st, rs_remove(st, h), RS_EIO, "refuses");
    CHECK_OK(st, rs_check(st, h));
    CHECK_EQ(a.n_commit + b.n_commit + z.n_commit, 0);
    CHECK_EQ(z.n_prepare, 0);

    /* enter refuses: the call is not made at all. */
    b.refuse_kind = -1;
    a.refuse_enter = true;
    log_reset();
    rs_value lv = rs_val_int(9);
    CHECK_FAIL(st, rs_set_field(st, h, rs_class_field(c, "level"), &lv),
               RS_EGROUP, "spy busy");
    CHECK_STR(g_log, "");
    a.refuse_enter = false;

    rs__change_unobserve(st, &a.obs);
    rs__change_unobserve(st, &b.obs);
    rs__change_unobserve(st, &z.obs);
    close_store(st);
}

/* Commits are held for a group: none until it commits, then all of them
 * in order, each naming its record; none at all when it aborts or fails,
 * and none for the restores a rollback makes. */
static void groups(void)
{
    rs_class *c;
    rs_store *st = open_store(&c);
    rs_handle h = add(st, c, "u1", "ann");
    spy a;
    spy_init(&a, 'A');
    rs__change_observe(st, &a.obs);

    log_reset();
    CHECK_OK(st, rs_group_begin(st));
    rs_handle h2 = add(st, c, "u2", "bob");
    rs_value lv = rs_val_int(3);
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "level"), &lv));
    CHECK_OK(st, rs_remove(st, h2));
    CHECK_STR(g_log, "ApApAp");
    CHECK_EQ(a.n_commit, 0);
    CHECK_OK(st, rs_group_commit(st));
    CHECK_STR(g_log, "ApApApAcAcAc");
    CHECK_EQ(a.n_commit, 3);
    CHECK_EQ(a.last.kind, RS__CHANGE_REMOVE); /* in order: the remove last */
    CHECK_EQ(a.last.slot, (uint32_t)h2);
    CHECK(a.last.vals == NULL && a.last.val == NULL);

    /* Abort: the changes go back through restores, which observers see
     * at prepare (marked) and never as commits. */
    log_reset();
    a.n_commit = a.n_restore = 0;
    CHECK_OK(st, rs_group_begin(st));
    add(st, c, "u3", "cy");
    lv = rs_val_int(4);
    CHECK_OK(st, rs_set_field(st, h, rs_class_field(c, "level"), &lv));
    rs_group_abort(st);
    CHECK_EQ(a.n_commit, 0);
    CHECK_EQ(a.n_restore, 2);
    CHECK_EQ(rs_count(c), 1);

    /* A change that fails inside the group: rolled back, nothing
     * delivered, not even after the group ends. */
    CHECK_OK(st, rs_group_begin(st));
    add(st, c, "u4", "dee");
    rs_named dup[2] = {{"uid", rs_val_cstr("u5")},
                       {"name", rs_val_cstr("ann")}};
    CHECK_FAIL(st, rs_insert(st, c, dup, 2, NULL), RS_EEXIST, "ann");
    CHECK_FAIL(st, rs_group_commit(st), RS_EGROUP, "rolled back");
    CHECK_EQ(a.n_commit, 0);
    CHECK_EQ(rs_count(c), 1);

    /* Outside a group again: delivered at once. */
    add(st, c, "u6", "eve");
    CHECK_EQ(a.n_commit, 1);

    rs__change_unobserve(st, &a.obs);
    close_store(st);
}

/* Holding a commit needs room, reserved at prepare: when that fails the
 * change fails (and so does the group), never the commit. */
static void hold_without_memory(void)
{
    rs_class *c;
    rs_store *st = open_store(&c);
    spy a;
    spy_init(&a, 'A');
    rs__change_observe(st, &a.obs);
    int refused = 0;
    for (long k = 1; k < 40; k++) {
        CHECK_OK(st, rs_group_begin(st));
        char uid[16], name[16];
        snprintf(uid, sizeof uid, "k%ld", k);
        snprintf(name, sizeof name, "n%ld", k);
        rs_named v[2] = {{"uid", rs_val_cstr(uid)},
                         {"name", rs_val_cstr(name)}};
        a.n_commit = 0;
        alloc_check_arm(&g_ac, k);
        rs_status rc = rs_insert(st, c, v, 2, NULL);
        alloc_check_disarm(&g_ac);
        if (rc == RS_OK) {
            CHECK_OK(st, rs_group_commit(st));
            CHECK_EQ(a.n_commit, 1);
        } else {
            CHECK_EQ(rc, RS_ENOMEM);
            refused++;
            rs_group_abort(st);
            CHECK_EQ(a.n_commit, 0);
        }
        CHECK_EQ(rs__store_check(st), RS_OK);
    }
    CHECK(refused > 0);
    rs__change_unobserve(st, &a.obs);
    close_store(st);
}

/* Found in review (wt-review), fails today: change.h says an observer's
 * callbacks may each be NULL, yet rs_store_close() unregisters the last
 * observer only if its close did, or if it is first on the list: one
 * without close behind another loops for ever.  (An alarm fails the case
 * instead of hanging the suite.) */
static void close_observer_without_close(void)
{
    rs_class *c;
    rs_store *st = open_store(&c);
    spy a, b;
    spy_init(&a, 'A');
    spy_init(&b, 'B');
    rs__change_observe(st, &a.obs);
    rs__change_observe(st, &b.obs); /* neither has a close callback */
    add(st, c, "u1", "ann");
    alarm(10);
    rs_store_close(st);
    alarm(0);
    alloc_check_clean(&g_ac, "test_change");
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"records", records},
        {"refusal", refusal},
        {"groups", groups},
        {"hold_without_memory", hold_without_memory},
        {"close_observer_without_close", close_observer_without_close},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
