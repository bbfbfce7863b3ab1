/*
 * test_crash.c: the crash test of durable stores.
 *
 * sigkill: each round forks a child that opens the durable store in a
 * temporary directory (RS_SYNC_ALWAYS) and runs a seeded stream of changes
 * on it: inserts, removes, sets of every field, binds and unbinds of
 * dynamic attributes, atomic groups (some of which fail part way and are
 * rolled back, some aborted) and now and then a compaction stepped in small
 * budgets between the changes.  The parent kills it with SIGKILL, copies
 * the files it left, opens the copy and compares every record with a model:
 * plain C arrays, and the same code that told the child which statuses to
 * expect.  The child reports each change on a pipe: START k before the
 * call, ACK k once it returned what the model predicted, so the files must
 * hold exactly changes 0..k-1 that were acknowledged, or those and the one
 * in flight (written before the kill, not yet acknowledged), nothing else:
 * not a lost acknowledged change, not part of a group, not a change never
 * started.  The next child opens the original files, not the copy, so a
 * crash during its own recovery (finishing a compaction cut short) is
 * tested too.  When the kill comes: see crash_round().
 *
 * Both sides draw the changes from next_op(rng, world): the child has the
 * parent's world (fork copies it) and keeps it in step by applying each
 * change as it issues it; the parent regenerates the same stream from the
 * round's seed and its world at the start of the round.  Changes are
 * generated so that their outcome is known from the world: a remove or set
 * names a live record, a duplicate key or name is refused with RS_EEXIST,
 * a level out of range with RS_ERANGE, an unbound name with RS_ENOATTR.
 *
 * SIGKILL loses the process, not the kernel's page cache: this finds what
 * the library writes in the wrong order or acknowledges too early, not a
 * missing fdatasync (that needs a power cut).
 *
 * write_failure: a child under RLIMIT_FSIZE (SIGXFSZ ignored) inserts until
 * the journal write fails with RS_EIO and checks that the failed call, and
 * every failed one after it (single changes, groups whose commit fails, a
 * compaction), left the store, the journal's length and the snapshot as
 * they were; the parent then opens the files without the limit and finds
 * exactly the acknowledged changes.
 *
 * cut_short_twice: the crash states sigkill reaches only by luck (two
 * kills in a row in two windows of a millisecond), made on purpose.
 *
 * `test_crash sigkill --rounds N` (or ROSTER_CRASH_ROUNDS=N) sets the rounds,
 * --seed S the stream; ROSTER_CRASH_VERBOSE=1 prints a line per round;
 * ROSTER_CRASH_KEEP=1 keeps the directory (kept anyway after a failure).
 */
#include "check.h"

#include "roster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLASS_TEXT                                                             \
    "Player { uid: str(16) key; name: str(32) unique; gold: i64 = 0; "         \
    "level: u16 = 1 } dynamic"

#define N_UIDS 300
#define N_NAMES 1000
#define N_ANAMES 6
#define MAX_SUB 5
#define MAX_OPS 2000 /* per child; then it waits to be killed */
#define MAX_DELAY_US 30000
#define ASTR_MAX 4096 /* longest attribute string the test binds */

static const char *const ANAMES[N_ANAMES] = {"hp",    "xp",    "item",
                                             "title", "guild", "mood"};

static long n_rounds = 200;
static bool verbose; /* ROSTER_CRASH_VERBOSE: a line per round */
static uint64_t base_seed = 1;
static char dir[64];
static rs_field F_NAME, F_GOLD, F_LEVEL;

/* ------------------------------------------------------------------------ */
/* Random numbers and names                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

/* Every seventh key and fifth name are all digits, which the row packs as
 * a number: the journal must bring those back as the same strings. */
static void uid_str(uint32_t i, char out[24])
{
    if (i % 7 == 3) {
        snprintf(out, 24, "%07u", 1000000u + i);
    } else {
        snprintf(out, 24, "u%03u", i);
    }
}

static void name_str(uint32_t i, char out[40])
{
    if (i % 5 == 2) {
        snprintf(out, 40, "%09u", 100000000u + i * 7919u);
    } else {
        snprintf(out, 40, "n%04u", i);
    }
}

/* ------------------------------------------------------------------------ */
/* The model                                                                 */
/* ------------------------------------------------------------------------ */

/* A dynamic attribute: an int, or a string given by its length and a seed
 * its bytes are made from (astr()), so ops and records stay fixed-size. */
typedef struct aval {
    uint8_t name; /* index in ANAMES */
    uint8_t is_str;
    uint16_t len;
    int64_t i; /* the int, or the string's seed */
} aval;

static void astr(const aval *a, char *buf)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789 -_.";
    uint64_t s = (uint64_t)a->i;
    for (uint32_t k = 0; k < a->len; k++) {
        buf[k] = alpha[rng_next(&s) % (sizeof alpha - 1)];
    }
}

static rs_value aval_value(const aval *a, char *buf)
{
    if (!a->is_str) {
        return rs_val_int(a->i);
    }
    astr(a, buf);
    return rs_val_str(buf, a->len);
}

typedef struct mrec {
    bool live;
    uint16_t name;
    uint32_t level;
    int64_t gold;
    uint8_t n_attrs;
    aval attrs[N_ANAMES]; /* binding order */
} mrec;

/* What both sides know: the records (by key number) and whether a
 * compaction is under way (it decides which ops come next). */
typedef struct world {
    mrec r[N_UIDS];
    uint32_t n_live;
    bool saving;
} world;

enum { S_INSERT = 1, S_REMOVE, S_GOLD, S_LEVEL, S_NAME, S_BIND, S_UNBIND };

typedef struct sub {
    uint8_t kind;
    uint8_t via_attr; /* S_GOLD through rs_set_attr("gold") */
    uint8_t n_av;     /* S_INSERT: dynamic attributes given */
    uint8_t given;    /* S_INSERT: 1 gold given, 2 level given */
    uint16_t uid, name;
    int64_t num;  /* S_GOLD, S_LEVEL; S_INSERT: gold */
    int64_t num2; /* S_INSERT: level */
    aval av[2];   /* S_BIND: av[0]; S_UNBIND: av[0].name; S_INSERT */
} sub;

enum { O_SINGLE = 1, O_GROUP, O_SAVE_BEGIN, O_SAVE_STEP, O_SAVE_FINISH };

typedef struct op {
    uint8_t kind;
    uint8_t n_sub;
    uint8_t abort;   /* O_GROUP: end with rs_group_abort() */
    uint32_t budget; /* O_SAVE_STEP */
    sub s[MAX_SUB];
} op;

/* What the model says an op does: each change's status (a group stops at
 * the first that fails), and the status that decides the op (a single
 * change's, a group's commit: RS_EGROUP if a change failed, RS_OK for an
 * abort). */
typedef struct expect {
    rs_status rc[MAX_SUB];
    int n;
    rs_status final;
} expect;

static int name_holder(const world *w, uint16_t name)
{
    for (int i = 0; i < N_UIDS; i++) {
        if (w->r[i].live && w->r[i].name == name) {
            return i;
        }
    }
    return -1;
}

static int attr_pos(const mrec *r, uint8_t name)
{
    for (int k = 0; k < r->n_attrs; k++) {
        if (r->attrs[k].name == name) {
            return k;
        }
    }
    return -1;
}

/* Apply one change as the library defines it; on failure nothing changes. */
static rs_status sub_apply(world *w, const sub *s)
{
    mrec *r = &w->r[s->uid];
    if (s->kind == S_INSERT) {
        if (r->live || name_holder(w, s->name) >= 0) {
            return RS_EEXIST;
        }
        memset(r, 0, sizeof *r);
        r->live = true;
        r->name = s->name;
        r->gold = s->given & 1 ? s->num : 0;
        r->level = s->given & 2 ? (uint32_t)s->num2 : 1;
        r->n_attrs = s->n_av;
        memcpy(r->attrs, s->av, s->n_av * sizeof *s->av);
        w->n_live++;
        return RS_OK;
    }
    if (!r->live) {
        return RS_ENOTFOUND;
    }
    switch (s->kind) {
    case S_REMOVE:
        r->live = false;
        w->n_live--;
        return RS_OK;
    case S_GOLD:
        r->gold = s->num;
        return RS_OK;
    case S_LEVEL:
        if (s->num < 0 || s->num > UINT16_MAX) {
            return RS_ERANGE;
        }
        r->level = (uint32_t)s->num;
        return RS_OK;
    case S_NAME: {
        int j = name_holder(w, s->name);
        if (j >= 0 && j != s->uid) {
            return RS_EEXIST;
        }
        r->name = s->name;
        return RS_OK;
    }
    case S_BIND: {
        int k = attr_pos(r, s->av[0].name);
        if (k < 0) {
            k = r->n_attrs++;
        }
        r->attrs[k] = s->av[0];
        return RS_OK;
    }
    case S_UNBIND: {
        int k = attr_pos(r, s->av[0].name);
        if (k < 0) {
            return RS_ENOATTR;
        }
        memmove(&r->attrs[k], &r->attrs[k + 1],
                (size_t)(r->n_attrs - k - 1) * sizeof *r->attrs);
        r->n_attrs--;
        return RS_OK;
    }
    default:
        return RS_EINVAL;
    }
}

/* Ops name live records only (see gen_group): RS_ENOTFOUND would come
 * from the test's lookup, not from the store's change. */
static rs_status sub_apply_checked(world *w, const sub *s)
{
    rs_status rc = sub_apply(w, s);
    if (rc == RS_ENOTFOUND) {
        fprintf(stderr, "test_crash: an op names a record that is not "
                        "there (a bug in the test)\n");
        abort();
    }
    return rc;
}

static void op_apply(world *w, const op *o, expect *e)
{
    static world tmp;
    memset(e, 0, sizeof *e);
    switch (o->kind) {
    case O_SINGLE:
        e->rc[0] = e->final = sub_apply_checked(w, &o->s[0]);
        e->n = 1;
        return;
    case O_GROUP:
        tmp = *w;
        e->final = RS_OK;
        for (int j = 0; j < o->n_sub; j++) {
            e->rc[j] = sub_apply_checked(&tmp, &o->s[j]);
            e->n = j + 1;
            if (e->rc[j] != RS_OK) {
                e->final = o->abort ? RS_OK : RS_EGROUP;
                return;
            }
        }
        if (!o->abort) {
            *w = tmp;
        }
        return;
    case O_SAVE_BEGIN:
        w->saving = true;
        return;
    case O_SAVE_FINISH:
        w->saving = false;
        return;
    default:
        return;
    }
}

/* ------------------------------------------------------------------------ */
/* Generating ops                                                            */
/* ------------------------------------------------------------------------ */

/* A live record of w, or -1; `not` is excluded. */
static int pick_live(uint64_t *rng, const world *w, int not )
{
    if (w->n_live == 0 || (not >= 0 && w->n_live == 1)) {
        return -1;
    }
    uint32_t i = rng_below(rng, N_UIDS);
    for (;;) {
        if (w->r[i].live && (int)i != not ) {
            return (int)i;
        }
        i = (i + 1) % N_UIDS;
    }
}

static aval gen_aval(uint64_t *rng, uint8_t name)
{
    aval a = {name, 0, 0, 0};
    uint32_t r = rng_below(rng, 100);
    if (r < 50) {
        a.i = (int64_t)(rng_next(rng) % 2000001u) - 1000000;
        if (r < 3) {
            a.i = r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : -1;
        }
    } else {
        a.is_str = 1;
        a.i = (int64_t)(rng_next(rng) >> 1);
        a.len = (uint16_t)(r < 53 ? 100 + rng_below(rng, 1400)
                                  : rng_below(rng, 41));
    }
    return a;
}

static sub gen_insert(uint64_t *rng, uint16_t uid)
{
    sub s;
    memset(&s, 0, sizeof s);
    s.kind = S_INSERT;
    s.uid = uid;
    s.name = (uint16_t)rng_below(rng, N_NAMES);
    s.given = (uint8_t)rng_below(rng, 4);
    s.num = (int64_t)rng_below(rng, 100000);
    s.num2 = 1 + (int64_t)rng_below(rng, 200);
    s.n_av = (uint8_t)rng_below(rng, 3);
    uint8_t first = (uint8_t)rng_below(rng, N_ANAMES);
    for (uint8_t k = 0; k < s.n_av; k++) {
        s.av[k] = gen_aval(rng, (uint8_t)((first + k) % N_ANAMES));
    }
    return s;
}

/* One change on a live record of w (-1 if there is none: an insert). */
static sub gen_change(uint64_t *rng, const world *w, int target)
{
    sub s;
    memset(&s, 0, sizeof s);
    int who = target >= 0 ? target : pick_live(rng, w, -1);
    uint32_t r = rng_below(rng, 60);
    if (who < 0) {
        return gen_insert(rng, (uint16_t)rng_below(rng, N_UIDS));
    }
    s.uid = (uint16_t)who;
    const mrec *m = &w->r[who];
    if (r < 10) {
        s.kind = S_REMOVE;
    } else if (r < 22) {
        s.kind = S_GOLD;
        s.via_attr = rng_below(rng, 4) == 0;
        s.num = (int64_t)(rng_next(rng) % 2000001u) - 1000000;
    } else if (r < 28) {
        s.kind = S_LEVEL;
        s.num = (int64_t)rng_below(rng, 65536);
        if (rng_below(rng, 20) == 0) {
            s.num = rng_below(rng, 2) ? 65536 + (int64_t)rng_below(rng, 9) : -1;
        }
    } else if (r < 36) {
        s.kind = S_NAME;
        s.name = (uint16_t)rng_below(rng, N_NAMES);
    } else if (r < 52) {
        s.kind = S_BIND;
        s.av[0] = gen_aval(rng, (uint8_t)rng_below(rng, N_ANAMES));
    } else {
        s.kind = S_UNBIND;
        if (m->n_attrs > 0 && rng_below(rng, 10) != 0) {
            s.av[0].name = m->attrs[rng_below(rng, m->n_attrs)].name;
        } else {
            s.av[0].name = (uint8_t)rng_below(rng, N_ANAMES);
        }
    }
    return s;
}

/* A group: 2 to 4 records, sometimes with a change that fails (a name
 * another record holds), so the group rolls back.  Changes are drawn
 * against a scratch world the earlier ones were applied to, so they name
 * records that are live at that point. */
static void gen_group(uint64_t *rng, const world *w, op *o)
{
    static world s;
    s = *w;
    o->kind = O_GROUP;
    o->n_sub = 0;
    int a = pick_live(rng, &s, -1), b = pick_live(rng, &s, a);
    uint32_t shape = rng_below(rng, 4);
    if (b < 0) {
        shape = 2;
    }
#define ADD(x)                                                                 \
    do {                                                                       \
        o->s[o->n_sub] = (x);                                                  \
        (void)sub_apply(&s, &o->s[o->n_sub]);                                  \
        o->n_sub++;                                                            \
    } while (0)
    sub x;
    memset(&x, 0, sizeof x);
    switch (shape) {
    case 0: { /* a pays b, who gets an item */
        int64_t amount = 1 + (int64_t)rng_below(rng, 500);
        x.kind = S_GOLD;
        x.uid = (uint16_t)a;
        x.num = s.r[a].gold - amount;
        ADD(x);
        x.uid = (uint16_t)b;
        x.num = s.r[b].gold + amount;
        x.via_attr = 1;
        ADD(x);
        x = (sub){0};
        x.kind = S_BIND;
        x.uid = (uint16_t)b;
        x.av[0] = gen_aval(rng, 2);
        ADD(x);
        if (rng_below(rng, 2)) {
            ADD(gen_change(rng, &s, -1));
        }
        break;
    }
    case 1: /* a leaves, and comes back under another name */
        x.kind = S_REMOVE;
        x.uid = (uint16_t)a;
        ADD(x);
        ADD(gen_insert(rng, (uint16_t)a));
        x.kind = S_BIND;
        x.av[0] = gen_aval(rng, (uint8_t)rng_below(rng, N_ANAMES));
        ADD(x);
        ADD(gen_change(rng, &s, b));
        break;
    case 2: { /* someone new, with an item */
        uint16_t k = (uint16_t)rng_below(rng, N_UIDS);
        ADD(gen_insert(rng, k));
        if (s.r[k].live) {
            x.kind = S_BIND;
            x.uid = k;
            x.av[0] = gen_aval(rng, 2);
            ADD(x);
            ADD(gen_change(rng, &s, k));
        }
        break;
    }
    default: /* anything, on two or three records */
        ADD(gen_change(rng, &s, a));
        if (s.r[b].live) {
            ADD(gen_change(rng, &s, b));
        }
        ADD(gen_change(rng, &s, -1));
        break;
    }
    /* One group in five carries a change that must fail. */
    if (rng_below(rng, 5) == 0 && o->n_sub < MAX_SUB) {
        int u = pick_live(rng, &s, -1), v = pick_live(rng, &s, u);
        if (v >= 0) {
            memset(&x, 0, sizeof x);
            x.kind = S_NAME;
            x.uid = (uint16_t)u;
            x.name = s.r[v].name;
            uint32_t at = rng_below(rng, o->n_sub + 1u);
            memmove(&o->s[at + 1], &o->s[at], (o->n_sub - at) * sizeof *o->s);
            o->s[at] = x;
            o->n_sub++;
            /* Before a change that makes u live (an insert) it would name
             * no record: that is a failed lookup, not a failed change. */
            s = *w;
            for (int j = 0; j < o->n_sub; j++) {
                rs_status rc = sub_apply(&s, &o->s[j]);
                if (rc == RS_ENOTFOUND) {
                    memmove(&o->s[at], &o->s[at + 1],
                            (o->n_sub - at - 1) * sizeof *o->s);
                    o->s[o->n_sub - 1] = x;
                    break;
                }
                if (rc != RS_OK) {
                    break;
                }
            }
        }
    }
#undef ADD
    o->abort = rng_below(rng, 10) == 0;
}

static op next_op(uint64_t *rng, const world *w)
{
    op o;
    memset(&o, 0, sizeof o);
    uint32_t r = rng_below(rng, 100);
    if (w->saving && r < 30) {
        o.kind = r < 3 ? O_SAVE_FINISH : O_SAVE_STEP;
        o.budget = 1 + rng_below(rng, 24);
        return o;
    }
    if (!w->saving && r < 2) {
        o.kind = O_SAVE_BEGIN;
        return o;
    }
    r = rng_below(rng, 100);
    if (r < 18) {
        gen_group(rng, w, &o);
        return o;
    }
    o.kind = O_SINGLE;
    o.n_sub = 1;
    if (r < 40 || w->n_live == 0) {
        o.s[0] = gen_insert(rng, (uint16_t)rng_below(rng, N_UIDS));
    } else {
        o.s[0] = gen_change(rng, w, -1);
    }
    return o;
}

static void op_fmt(const op *o, char *buf, size_t cap)
{
    static const char *const kinds[] = {"?",     "insert", "remove", "gold",
                                        "level", "name",   "bind",   "unbind"};
    size_t n = 0;
    buf[0] = '\0';
#define OUT(...)                                                               \
    do {                                                                       \
        if (n < cap) {                                                         \
            int k_ = snprintf(buf + n, cap - n, __VA_ARGS__);                  \
            n += k_ > 0 ? (size_t)k_ : 0;                                      \
        }                                                                      \
    } while (0)
    switch (o->kind) {
    case O_SAVE_BEGIN:
        OUT("rs_save_begin(NULL)");
        return;
    case O_SAVE_STEP:
        OUT("rs_save_step(%u)", o->budget);
        return;
    case O_SAVE_FINISH:
        OUT("rs_save_finish");
        return;
    case O_GROUP:
        OUT("group%s {", o->abort ? " (aborted)" : "");
        break;
    default:
        break;
    }
    for (int j = 0; j < o->n_sub; j++) {
        const sub *s = &o->s[j];
        char uid[24], nm[40];
        uid_str(s->uid, uid);
        name_str(s->name, nm);
        OUT(" %s %s", kinds[s->kind], uid);
        switch (s->kind) {
        case S_INSERT:
            OUT(" name=%s", nm);
            if (s->given & 1) {
                OUT(" gold=%" PRId64, s->num);
            }
            if (s->given & 2) {
                OUT(" level=%" PRId64, s->num2);
            }
            for (int k = 0; k < s->n_av; k++) {
                if (s->av[k].is_str) {
                    OUT(" %s=str(%u)", ANAMES[s->av[k].name], s->av[k].len);
                } else {
                    OUT(" %s=%" PRId64, ANAMES[s->av[k].name], s->av[k].i);
                }
            }
            break;
        case S_GOLD:
        case S_LEVEL:
            OUT("=%" PRId64 "%s", s->num, s->via_attr ? " (set_attr)" : "");
            break;
        case S_NAME:
            OUT("=%s", nm);
            break;
        case S_BIND:
            if (s->av[0].is_str) {
                OUT(" %s=str(%u)", ANAMES[s->av[0].name], s->av[0].len);
            } else {
                OUT(" %s=%" PRId64, ANAMES[s->av[0].name], s->av[0].i);
            }
            break;
        case S_UNBIND:
            OUT(" %s", ANAMES[s->av[0].name]);
            break;
        default:
            break;
        }
        if (o->kind == O_GROUP) {
            OUT(";");
        }
    }
    if (o->kind == O_GROUP) {
        OUT(" }");
    }
#undef OUT
}

/* ------------------------------------------------------------------------ */
/* The store side                                                            */
/* ------------------------------------------------------------------------ */

static rs_status open_durable_as(const char *base, const char *text,
                                 rs_store **st, rs_class **cls)
{
    *st = NULL;
    rs_status rc = rs_store_open(NULL, NULL, st);
    if (rc != RS_OK) {
        return rc;
    }
    rc = rs_class_parse(*st, text, strlen(text), cls);
    if (rc == RS_OK) {
        F_NAME = rs_class_field(*cls, "name");
        F_GOLD = rs_class_field(*cls, "gold");
        F_LEVEL = rs_class_field(*cls, "level");
        rc = rs_durable_open(*st, base, RS_SYNC_ALWAYS, NULL);
    }
    return rc;
}

static rs_status open_durable(const char *base, rs_store **st, rs_class **cls)
{
    return open_durable_as(base, CLASS_TEXT, st, cls);
}

static rs_status do_sub(rs_store *st, rs_class *cls, const sub *s)
{
    static char sbuf[2][ASTR_MAX];
    char uid[24], nm[40];
    uid_str(s->uid, uid);
    name_str(s->name, nm);
    if (s->kind == S_INSERT) {
        rs_named v[6];
        size_t n = 0;
        v[n++] = (rs_named){"uid", rs_val_cstr(uid)};
        v[n++] = (rs_named){"name", rs_val_cstr(nm)};
        if (s->given & 1) {
            v[n++] = (rs_named){"gold", rs_val_int(s->num)};
        }
        if (s->given & 2) {
            v[n++] = (rs_named){"level", rs_val_int(s->num2)};
        }
        for (int k = 0; k < s->n_av; k++) {
            v[n++] = (rs_named){ANAMES[s->av[k].name],
                                aval_value(&s->av[k], sbuf[k])};
        }
        return rs_insert(st, cls, v, n, NULL);
    }
    rs_handle h;
    rs_status rc = rs_get(st, cls, uid, strlen(uid), &h);
    if (rc != RS_OK) {
        return rc;
    }
    rs_value v;
    switch (s->kind) {
    case S_REMOVE:
        return rs_remove(st, h);
    case S_GOLD:
        v = rs_val_int(s->num);
        return s->via_attr ? rs_set_attr(st, h, "gold", &v)
                           : rs_set_field(st, h, F_GOLD, &v);
    case S_LEVEL:
        return rs_set_int(st, h, F_LEVEL, s->num);
    case S_NAME:
        return rs_set_str(st, h, F_NAME, nm, strlen(nm));
    case S_BIND:
        v = aval_value(&s->av[0], sbuf[0]);
        return rs_set_attr(st, h, ANAMES[s->av[0].name], &v);
    case S_UNBIND:
        return rs_del_attr(st, h, ANAMES[s->av[0].name]);
    default:
        return RS_EINVAL;
    }
}

/* Run o on the store.  Returns false (with why) if a change of a group
 * returned another status than the model's; *final is the status that
 * decides the op (see expect). */
static bool exec_op(rs_store *st, rs_class *cls, rs_saver **sv, const op *o,
                    const expect *e, rs_status *final, char *why, size_t cap)
{
    rs_status rc;
    switch (o->kind) {
    case O_SINGLE:
        *final = do_sub(st, cls, &o->s[0]);
        return true;
    case O_SAVE_BEGIN:
        *final = rs_save_begin(st, NULL, sv);
        return true;
    case O_SAVE_STEP:
        rc = rs_save_step(*sv, o->budget);
        *final = rc == RS_DONE ? RS_OK : rc;
        return true;
    case O_SAVE_FINISH:
        *final = rs_save_finish(*sv, NULL);
        *sv = NULL;
        return true;
    default:
        break;
    }
    rc = rs_group_begin(st);
    if (rc != RS_OK) {
        snprintf(why, cap, "rs_group_begin returned %s: %s", rs_status_name(rc),
                 rs_errmsg(st));
        return false;
    }
    for (int j = 0; j < e->n; j++) {
        rc = do_sub(st, cls, &o->s[j]);
        if (rc != e->rc[j]) {
            snprintf(why, cap,
                     "change %d of the group returned %s, the "
                     "model says %s: %s",
                     j, rs_status_name(rc), rs_status_name(e->rc[j]),
                     rs_errmsg(st));
            rs_group_abort(st);
            return false;
        }
    }
    if (o->abort) {
        rs_group_abort(st);
        *final = RS_OK;
    } else {
        *final = rs_group_commit(st);
    }
    return true;
}

/* Compare the store with w: every record's fields and attributes, and the
 * count (so the store holds no record the model lacks).  Describes the
 * first differences in why. */
static bool compare(rs_store *st, rs_class *cls, const world *w, char *why,
                    size_t cap)
{
    static char want[ASTR_MAX];
    size_t n = 0;
    int diffs = 0;
    why[0] = '\0';
#define DIFF(...)                                                              \
    do {                                                                       \
        if (diffs++ < 6 && n < cap) {                                          \
            int k_ = snprintf(why + n, cap - n, __VA_ARGS__);                  \
            n += k_ > 0 ? (size_t)k_ : 0;                                      \
        }                                                                      \
    } while (0)
    if (rs_count(cls) != w->n_live) {
        DIFF("\n    %zu records, the model has %u", rs_count(cls), w->n_live);
    }
    for (uint32_t i = 0; i < N_UIDS; i++) {
        const mrec *m = &w->r[i];
        char uid[24], nm[40];
        uid_str(i, uid);
        rs_handle h;
        rs_status rc = rs_get(st, cls, uid, strlen(uid), &h);
        if (rc != RS_OK) {
            if (m->live) {
                DIFF("\n    %s: missing (%s)", uid, rs_status_name(rc));
            }
            continue;
        }
        if (!m->live) {
            DIFF("\n    %s: present, the model has no such record", uid);
            continue;
        }
        const char *p = "";
        size_t len = 0;
        int64_t x = 0;
        name_str(m->name, nm);
        if (rs_get_str(st, h, F_NAME, &p, &len) != RS_OK || len != strlen(nm) ||
            memcmp(p, nm, len) != 0) {
            DIFF("\n    %s: name '%.*s', the model has '%s'", uid, (int)len, p,
                 nm);
        }
        if (rs_get_int(st, h, F_GOLD, &x) != RS_OK || x != m->gold) {
            DIFF("\n    %s: gold %" PRId64 ", the model has %" PRId64, uid, x,
                 m->gold);
        }
        if (rs_get_int(st, h, F_LEVEL, &x) != RS_OK || x != m->level) {
            DIFF("\n    %s: level %" PRId64 ", the model has %u", uid, x,
                 m->level);
        }
        rs_attr items[N_ANAMES + 2];
        size_t k = 0;
        if (rs_dict(st, h, items, N_ANAMES + 2, &k) != RS_OK ||
            k != m->n_attrs) {
            DIFF("\n    %s: %zu attributes, the model has %u", uid, k,
                 m->n_attrs);
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            const aval *a = &m->attrs[j];
            const rs_value *v = &items[j].val;
            bool same = strcmp(items[j].name, ANAMES[a->name]) == 0;
            if (a->is_str) {
                astr(a, want);
                same = same && v->type == RS_STR && v->v.s.len == a->len &&
                       memcmp(v->v.s.ptr, want, a->len) == 0;
            } else {
                same = same && v->type == RS_I64 && v->v.i == a->i;
            }
            if (!same) {
                DIFF("\n    %s: attribute %zu is %s (%s), the model has %s "
                     "(%s %" PRId64 ")",
                     uid, j, items[j].name, rs_type_name(v->type),
                     ANAMES[a->name], a->is_str ? "str of length" : "int",
                     a->is_str ? (int64_t)a->len : a->i);
            }
        }
    }
#undef DIFF
    return diffs == 0;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static void dir_clear(const char *d, bool remove_dir)
{
    DIR *dp = opendir(d);
    if (dp == NULL) {
        return;
    }
    struct dirent *de;
    char path[512];
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", d, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            dir_clear(path, true);
        } else {
            unlink(path);
        }
    }
    closedir(dp);
    if (remove_dir) {
        rmdir(d);
    }
}

static bool file_copy(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = in >= 0 && out >= 0;
    char buf[65536];
    while (ok) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r == 0) {
            break;
        }
        ok = r > 0 && write(out, buf, (size_t)r) == r;
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    return ok;
}

/* Copy every file of dir `from` (the files a crash left) into `to`. */
static bool dir_copy(const char *from, const char *to)
{
    DIR *dp = opendir(from);
    if (dp == NULL) {
        return false;
    }
    struct dirent *de;
    bool ok = true;
    char a[512], b[512];
    while (ok && (de = readdir(dp)) != NULL) {
        snprintf(a, sizeof a, "%s/%s", from, de->d_name);
        snprintf(b, sizeof b, "%s/%s", to, de->d_name);
        struct stat sb;
        if (lstat(a, &sb) == 0 && S_ISREG(sb.st_mode)) {
            ok = file_copy(a, b);
        }
    }
    closedir(dp);
    return ok;
}

static bool read_full(int fd, void *p, size_t n)
{
    uint8_t *q = p;
    while (n > 0) {
        ssize_t r = read(fd, q, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        q += r;
        n -= (size_t)r;
    }
    return true;
}

static void write_full(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t r = write(fd, q, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            _exit(9);
        }
        q += r;
        n -= (size_t)r;
    }
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u),
                          (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------------ */
/* sigkill                                                                   */
/* ------------------------------------------------------------------------ */

/* A pipe record from the child: what happened to op k. */
enum { M_READY = 1, M_START, M_ACK };
typedef struct msg {
    uint32_t kind, k;
} msg;

static uint64_t round_seed(long round)
{
    return base_seed * 0x100000001b3u + (uint64_t)round * 0x9e3779b1u + 7u;
}

/* The child: open, check what it found against w, then run the round's
 * ops until killed.  Exits (3..6) only if something is wrong. */
static void crash_child(int wfd, const char *base, world *w, long round)
{
    rs_store *st;
    rs_class *cls;
    static char why[2048], desc[1024];
    rs_status rc = open_durable(base, &st, &cls);
    if (rc != RS_OK) {
        fprintf(stderr, "round %ld: child: rs_durable_open returned %s: %s\n",
                round, rs_status_name(rc), st ? rs_errmsg(st) : "");
        _exit(3);
    }
    if (!compare(st, cls, w, why, sizeof why)) {
        fprintf(stderr,
                "round %ld: child: the store it opened differs from "
                "the model:%s\n",
                round, why);
        _exit(4);
    }
    msg m = {M_READY, 0};
    write_full(wfd, &m, sizeof m);
    uint64_t rng = round_seed(round);
    rs_saver *sv = NULL;
    for (uint32_t k = 0; k < MAX_OPS; k++) {
        op o = next_op(&rng, w);
        expect e;
        op_apply(w, &o, &e);
        m = (msg){M_START, k};
        write_full(wfd, &m, sizeof m);
        rs_status got;
        bool ok = exec_op(st, cls, &sv, &o, &e, &got, why, sizeof why);
        if (ok && got != e.final) {
            snprintf(why, sizeof why, "returned %s, the model says %s: %s",
                     rs_status_name(got), rs_status_name(e.final),
                     rs_errmsg(st));
            ok = false;
        }
        if (!ok) {
            op_fmt(&o, desc, sizeof desc);
            fprintf(stderr, "round %ld: child: op %u (%s) %s\n", round, k, desc,
                    why);
            _exit(5);
        }
        m = (msg){M_ACK, k};
        write_full(wfd, &m, sizeof m);
    }
    for (;;) {
        pause();
    }
}

/* What the parent has read of the child's messages: READY, then START k
 * and ACK k for k = 0, 1, ... */
typedef struct tally {
    uint32_t acked;
    bool ready, started, order_ok;
} tally;

static void tally_msg(tally *t, const msg *m)
{
    if (m->kind == M_READY && !t->ready) {
        t->ready = true;
    } else if (m->kind == M_START && t->ready && !t->started &&
               m->k == t->acked) {
        t->started = true;
    } else if (m->kind == M_ACK && t->started && m->k == t->acked) {
        t->started = false;
        t->acked++;
    } else {
        t->order_ok = false;
    }
}

/* Read the child's messages until it is READY (k == UINT32_MAX) or has
 * started op k; false if the deadline (now_us()) or the pipe's end came
 * first.  Each message is one write(2) of 8 bytes, which a pipe delivers
 * whole. */
static bool wait_for(int fd, tally *t, uint64_t deadline, uint32_t k)
{
    for (;;) {
        if (k == UINT32_MAX ? t->ready
                            : t->acked > k || (t->acked == k && t->started)) {
            return true;
        }
        uint64_t now = now_us();
        if (now >= deadline) {
            return false;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        int ms = (int)((deadline - now + 999u) / 1000u);
        if (poll(&pf, 1, ms) == 1 && (pf.revents & POLLIN)) {
            msg m;
            if (!read_full(fd, &m, sizeof m)) {
                return false;
            }
            tally_msg(t, &m);
        } else if (pf.revents & (POLLHUP | POLLERR)) {
            return false;
        }
    }
}

typedef struct crash_stats {
    long acked, in_flight_landed, killed_before_ready, saves_begun, saves_done;
    uint64_t ready_us, n_ready; /* the child's open, fork to READY */
    uint64_t ops_us, n_ops;     /* ops, READY to START k */
    bool open_compacts;         /* the files need a compaction at open */
    bool forced;                /* so this round's kill came in the open */
    long opens_compacting;
    long damaged_refused; /* damage_round(): opens that refused */
} crash_stats;

/* A digest of every file in d, names and bytes, in name order. */
static uint64_t dir_digest(const char *d)
{
    struct dirent **names;
    int n = scandir(d, &names, NULL, alphasort);
    uint64_t h = 1469598103934665603u;
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", d, names[i]->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            for (const char *c = names[i]->d_name; *c; c++) {
                h = (h ^ (uint8_t)*c) * 1099511628211u;
            }
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            uint8_t buf[65536];
            ssize_t r;
            while (fd >= 0 && (r = read(fd, buf, sizeof buf)) > 0) {
                for (ssize_t k = 0; k < r; k++) {
                    h = (h ^ buf[k]) * 1099511628211u;
                }
            }
            if (fd >= 0) {
                close(fd);
            }
        }
        free(names[i]);
    }
    free(names);
    return h;
}

/* Damage the journal a crash left (a copy of it in vdir) beyond what one
 * write cut short can do, by a seeded choice: zeros from a whole entry to
 * the end, a flipped byte in a whole entry's checksum or payload, or a
 * whole entry's length made to run past the end.  Every such journal must
 * be refused by the open (RS_EFORMAT), with every file in the directory
 * exactly as it was: nothing truncated, compacted, created or deleted.
 * false if it found a failure; *refused counts the checks made. */
static bool damage_round(long round, const char *dir_from, const char *vdir,
                         const char *vbase, uint64_t *prng, long *refused)
{
    dir_clear(vdir, false);
    if (!dir_copy(dir_from, vdir)) {
        fprintf(stderr, "round %ld: copying %s failed\n", round, dir_from);
        return false;
    }
    char jpath[200];
    snprintf(jpath, sizeof jpath, "%s.journal", vbase);
    int fd = open(jpath, O_RDWR | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return true; /* no journal (a crash before the first open ended) */
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *jb = malloc(len + 1);
    bool ok = jb && read_full(fd, jb, len);
    /* The whole entries, after the 32-byte header. */
    size_t at[MAX_OPS + 64], ne = 0, off = 32;
    while (ok && off + 12 <= len && ne < sizeof at / sizeof at[0]) {
        uint32_t n;
        memcpy(&n, jb + off, 4);
        if (n == 0 || n > len - off - 12) {
            break;
        }
        at[ne++] = off;
        off += 12 + n;
    }
    if (!ok || ne == 0) {
        close(fd);
        free(jb);
        return true;
    }
    size_t k = ne - 1 - rng_below(prng, ne < 4 ? (uint32_t)ne : 4u);
    uint32_t kind = rng_below(prng, 4);
    uint32_t n;
    memcpy(&n, jb + at[k], 4);
    switch (kind) {
    case 0:
        memset(jb + at[k], 0, len - at[k]);
        break;
    case 1:
        jb[at[k] + 4 + rng_below(prng, 8)] ^= 0x20;
        break;
    case 2:
        jb[at[k] + 12 + rng_below(prng, n)] ^= 0x01;
        break;
    default: {
        uint32_t big = (uint32_t)(len - at[k]);
        memcpy(jb + at[k], &big, 4);
        break;
    }
    }
    ok = pwrite(fd, jb, len, 0) == (ssize_t)len;
    close(fd);
    free(jb);
    uint64_t before = dir_digest(vdir);
    rs_store *st = NULL;
    rs_class *cls;
    rs_status rc = ok ? open_durable(vbase, &st, &cls) : RS_EIO;
    if (rc != RS_EFORMAT) {
        fprintf(stderr,
                "round %ld: a journal damaged in entry %zu of %zu "
                "(kind %u) opened with %s: %s\n",
                round, k + 1, ne, kind, rs_status_name(rc),
                st ? rs_errmsg(st) : "");
        ok = false;
    }
    rs_store_close(st);
    if (ok && dir_digest(vdir) != before) {
        fprintf(stderr, "round %ld: a refused open changed the files\n", round);
        ok = false;
    }
    *refused += ok;
    return ok;
}

/* One round; false if it found a failure (reported). */
static bool crash_round(long round, const char *base, const char *vdir,
                        const char *vbase, world *w, uint64_t *prng,
                        crash_stats *stats)
{
    static char why_a[4096], why_b[4096], desc[1024];
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    uint64_t t_fork = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        crash_child(fds[1], base, w, round);
    }
    close(fds[1]);
    /* When to kill.  A quarter of the rounds 0-30 ms after the child's
     * READY; half at a random moment of op K (K 0..100: between its START
     * and twice an op's usual time later), so that rounds run enough ops
     * for compactions to finish however fast the disk is; a quarter 0-2
     * open-times after the fork, in or just after the open: the replay, a
     * compaction finished at open.  When the files need a compaction at
     * open (the last kill cut one short), the next kill is timed from the
     * fork too (not twice in a row, so the test goes on if the open is
     * slower than it thinks): a crash while recovering from a crash.  The
     * open's and an op's time are learnt as the test goes. */
    tally t = {0, false, false, true};
    uint32_t mode = (uint32_t)(rng_next(prng) % 4);
    bool forced = stats->open_compacts && !stats->forced;
    if (forced) {
        mode = 0;
    }
    if (mode == 0 && stats->n_ready == 0) {
        mode = 1; /* nothing learnt yet */
    }
    stats->forced = forced && mode == 0;
    uint64_t deadline = t_fork + 10000000u, delay = 0;
    if (mode == 0) {
        delay = rng_next(prng) % (2 * stats->ready_us / stats->n_ready + 1);
        deadline = t_fork + delay;
    }
    if (wait_for(fds[0], &t, deadline, UINT32_MAX)) {
        stats->ready_us += now_us() - t_fork;
        stats->n_ready++;
    }
    uint64_t t0 = mode == 0 ? t_fork : now_us();
    if (mode == 1) {
        delay = rng_next(prng) % (MAX_DELAY_US + 1);
    } else if (mode >= 2) {
        uint32_t k = (uint32_t)(rng_next(prng) % 101);
        uint64_t op_us = stats->n_ops ? stats->ops_us / stats->n_ops : 1000;
        delay = rng_next(prng) % (2 * op_us + 1);
        if (wait_for(fds[0], &t, now_us() + 10000000u, k) && k > 0) {
            stats->ops_us += now_us() - t0;
            stats->n_ops += k;
        }
        t0 = now_us();
    }
    uint64_t el = now_us() - t0;
    if (el < delay) {
        sleep_us(delay - el);
    }
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* What the child acknowledged. */
    msg m;
    while (read_full(fds[0], &m, sizeof m)) {
        tally_msg(&t, &m);
    }
    close(fds[0]);
    uint32_t acked = t.acked;
    bool ready = t.ready, started = t.started;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL || !t.order_ok) {
        fprintf(stderr,
                "round %ld: the child %s %d (not killed by SIGKILL)"
                "%s\n",
                round, WIFSIGNALED(status) ? "died of signal" : "exited with",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                t.order_ok ? "" : "; its messages were out of order");
        return false;
    }
    stats->acked += acked;
    stats->killed_before_ready += !ready;
    /* The model after the acknowledged ops (a), and after the one in
     * flight too (b), regenerated from the round's seed. */
    static world a, b;
    a = *w;
    uint64_t rng = round_seed(round);
    expect e;
    for (uint32_t k = 0; k < acked; k++) {
        op o = next_op(&rng, &a);
        stats->saves_begun += o.kind == O_SAVE_BEGIN;
        stats->saves_done += o.kind == O_SAVE_FINISH;
        op_apply(&a, &o, &e);
    }
    op next = next_op(&rng, &a);
    b = a;
    if (started) {
        op_apply(&b, &next, &e);
    }
    /* Open a copy of what the crash left; the next child gets the files as
     * they are. */
    dir_clear(vdir, false);
    if (!dir_copy(dir, vdir)) {
        fprintf(stderr, "round %ld: copying %s failed\n", round, dir);
        return false;
    }
    /* Whether the open rewrites the snapshot (a compaction at open): the
     * next child's open will too. */
    char vsnap[200];
    struct stat sb0, sb1;
    snprintf(vsnap, sizeof vsnap, "%s.snap", vbase);
    bool had_snap = stat(vsnap, &sb0) == 0;
    rs_store *st;
    rs_class *cls;
    rs_status rc = open_durable(vbase, &st, &cls);
    stats->open_compacts =
        had_snap && stat(vsnap, &sb1) == 0 && sb1.st_ino != sb0.st_ino;
    stats->opens_compacting += stats->open_compacts;
    if (rc != RS_OK) {
        op_fmt(&next, desc, sizeof desc);
        fprintf(stderr,
                "round %ld: after %u acknowledged ops (in flight: "
                "%s) rs_durable_open returned %s: %s\n",
                round, acked, started ? desc : "none", rs_status_name(rc),
                st ? rs_errmsg(st) : "");
        rs_store_close(st);
        return false;
    }
    if (verbose) {
        op_fmt(&next, desc, sizeof desc);
        printf("round %ld: mode %u, killed %llu us after %s, %u acked, in "
               "flight: %s\n",
               round, mode, (unsigned long long)delay,
               mode == 0   ? "the fork"
               : mode == 1 ? "READY"
                           : "the op's start",
               acked, started ? desc : "none");
    }
    bool ok = true;
    if (compare(st, cls, &a, why_a, sizeof why_a)) {
        *w = a;
    } else if (started && compare(st, cls, &b, why_b, sizeof why_b)) {
        *w = b;
        stats->in_flight_landed++;
    } else {
        op_fmt(&next, desc, sizeof desc);
        fprintf(stderr,
                "round %ld: the store differs from the model after "
                "the %u acknowledged ops:%s\n",
                round, acked, why_a);
        if (started) {
            fprintf(stderr, "  and after the op in flight too (%s):%s\n", desc,
                    why_b);
        }
        ok = false;
    }
    w->saving = false;
    rs_store_close(st);
    /* One round in three, the same files damaged beyond a torn write. */
    if (ok && round % 3 == 0) {
        ok = damage_round(round, dir, vdir, vbase, prng,
                          &stats->damaged_refused);
    }
    return ok;
}

static void test_sigkill(void)
{
    static world w;
    char base[128], vdir[128], vbase[160];
    memset(&w, 0, sizeof w);
    snprintf(base, sizeof base, "%s/players", dir);
    snprintf(vdir, sizeof vdir, "%s.verify", dir);
    snprintf(vbase, sizeof vbase, "%s/players", vdir);
    if (mkdir(vdir, 0700) != 0) {
        perror(vdir);
        check_failures++;
        return;
    }
    crash_stats stats;
    memset(&stats, 0, sizeof stats);
    uint64_t prng = base_seed ^ 0x5bd1e995u;
    uint64_t t0 = now_us();
    long round;
    for (round = 0; round < n_rounds; round++) {
        if (!crash_round(round, base, vdir, vbase, &w, &prng, &stats)) {
            fprintf(stderr,
                    "sigkill: failed in round %ld (--seed %" PRIu64
                    "); the files are in %s\n",
                    round, base_seed, dir);
            check_failures++;
            break;
        }
    }
    if (getenv("ROSTER_CRASH_KEEP") == NULL) {
        dir_clear(vdir, true);
    }
    printf("sigkill: %ld rounds, %ld ops acknowledged, the op in flight on "
           "disk %ld times, %ld kills before the child was open (%.2f ms "
           "on average), %ld compactions begun and %ld finished, %ld "
           "cut short and finished at open, %ld damaged journals "
           "refused with every file unchanged, %u records at the end, "
           "%.1f s\n",
           round, stats.acked, stats.in_flight_landed,
           stats.killed_before_ready,
           stats.n_ready ? (double)stats.ready_us / 1e3 / (double)stats.n_ready
                         : 0.0,
           stats.saves_begun, stats.saves_done, stats.opens_compacting,
           stats.damaged_refused, w.n_live, (double)(now_us() - t0) / 1e6);
}

/* ------------------------------------------------------------------------ */
/* write_failure                                                             */
/* ------------------------------------------------------------------------ */

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void set_fsize(rlim_t limit)
{
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = limit;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
        perror("setrlimit");
        _exit(8);
    }
}

/* The child's state: its world (what was acknowledged) and the paths. */
typedef struct wf {
    rs_store *st;
    rs_class *cls;
    world w;
    int wfd;
    char jpath[160];
    long n_eio;
} wf;

/* Run o: it must do what the model says, or fail with RS_EIO (only where
 * the model says RS_OK) and change nothing, in memory or in the journal.
 * Acknowledged ops go to the parent. */
static rs_status wf_run(wf *x, const op *o)
{
    static world before;
    static char why[2048], desc[1024];
    before = x->w;
    off_t jlen = file_size(x->jpath);
    expect e;
    op_apply(&x->w, o, &e);
    rs_status got;
    op_fmt(o, desc, sizeof desc);
    if (!exec_op(x->st, x->cls, NULL, o, &e, &got, why, sizeof why)) {
        fprintf(stderr, "write_failure: %s: %s\n", desc, why);
        check_failures++;
        x->w = before;
        return RS_ECORRUPT;
    }
    if (got == e.final) {
        write_full(x->wfd, o, sizeof *o);
        return got;
    }
    x->w = before;
    if (got != RS_EIO || e.final != RS_OK) {
        fprintf(stderr,
                "write_failure: %s returned %s, the model says %s: "
                "%s\n",
                desc, rs_status_name(got), rs_status_name(e.final),
                rs_errmsg(x->st));
        check_failures++;
        return got;
    }
    x->n_eio++;
    if (strstr(rs_errmsg(x->st), ".journal") == NULL) {
        fprintf(stderr,
                "write_failure: %s: RS_EIO, but the message does "
                "not name the journal: %s\n",
                desc, rs_errmsg(x->st));
        check_failures++;
    }
    if (o->kind == O_GROUP && strstr(rs_errmsg(x->st), "rolled back") == NULL) {
        fprintf(stderr,
                "write_failure: %s: RS_EIO, but the message does "
                "not say the group was rolled back: %s\n",
                desc, rs_errmsg(x->st));
        check_failures++;
    }
    if (!compare(x->st, x->cls, &x->w, why, sizeof why)) {
        fprintf(stderr,
                "write_failure: %s failed with RS_EIO but changed "
                "the store:%s\n",
                desc, why);
        check_failures++;
    }
    if (file_size(x->jpath) != jlen) {
        fprintf(stderr,
                "write_failure: %s failed with RS_EIO but the "
                "journal is %lld bytes, was %lld\n",
                desc, (long long)file_size(x->jpath), (long long)jlen);
        check_failures++;
    }
    return got;
}

static op single(sub s)
{
    op o;
    memset(&o, 0, sizeof o);
    o.kind = O_SINGLE;
    o.n_sub = 1;
    o.s[0] = s;
    return o;
}

static aval long_str(uint8_t name, uint16_t len, int64_t seed)
{
    aval a = {name, 1, len, seed};
    return a;
}

/* A name no record holds, from `from` on (the groups below must fail for
 * want of room, not for a duplicate). */
static uint16_t free_name(const world *w, uint32_t from)
{
    uint32_t i = from;
    while (i < N_NAMES - 1 && name_holder(w, (uint16_t)i) >= 0) {
        i++;
    }
    return (uint16_t)i;
}

static void wf_child(int wfd, const char *base)
{
    static wf x;
    static char why[2048];
    check_failures = 0; /* the parent's, from earlier cases, are not ours */
    memset(&x, 0, sizeof x);
    x.wfd = wfd;
    snprintf(x.jpath, sizeof x.jpath, "%s.journal", base);
    char spath[160], stmp[170], jtmp[170];
    snprintf(spath, sizeof spath, "%s.snap", base);
    snprintf(stmp, sizeof stmp, "%s.snap.tmp", base);
    snprintf(jtmp, sizeof jtmp, "%s.journal.tmp", base);
    signal(SIGXFSZ, SIG_IGN);
    /* Small enough that a hundred-odd inserts reach it; child messages to
     * a log file past this size would be lost too, so keep them few. */
    set_fsize(8192);
    rs_status rc = open_durable(base, &x.st, &x.cls);
    if (rc != RS_OK) {
        fprintf(stderr, "write_failure: rs_durable_open returned %s: %s\n",
                rs_status_name(rc), rs_errmsg(x.st));
        _exit(2);
    }
    uint64_t rng = 42;
    /* 1. Inserts until the journal is full. */
    uint16_t i;
    for (i = 0; i < N_UIDS; i++) {
        sub s = gen_insert(&rng, i);
        s.name = i;
        s.n_av = 1;
        s.av[0] = long_str((uint8_t)(i % N_ANAMES), 40, i);
        size_t n = rs_count(x.cls);
        op o = single(s);
        rc = wf_run(&x, &o);
        if (rc == RS_EIO) {
            char uid[24];
            rs_handle h;
            uid_str(i, uid);
            CHECK_EQ(rs_count(x.cls), n);
            CHECK_EQ(rs_get(x.st, x.cls, uid, strlen(uid), &h), RS_ENOTFOUND);
            break;
        }
        CHECK_EQ(rc, RS_OK);
    }
    CHECK(i > 10 && i < N_UIDS); /* the limit was reached, not at once */
    /* 2. Every kind of change, each acknowledged or refused cleanly. */
    for (int k = 0; k < 60; k++) {
        op o = next_op(&rng, &x.w);
        if (o.kind == O_SAVE_BEGIN || o.kind == O_SAVE_STEP ||
            o.kind == O_SAVE_FINISH) {
            continue;
        }
        (void)wf_run(&x, &o);
    }
    /* 3. Groups whose entry cannot fit: the commit fails, and the store is
     * as before the group, handles included. */
    int a = pick_live(&rng, &x.w, -1), b = pick_live(&rng, &x.w, a);
    CHECK(a >= 0 && b >= 0);
    if (a >= 0 && b >= 0) {
        char ua[24];
        rs_handle ha, hb;
        uid_str((uint32_t)a, ua);
        CHECK_OK(x.st, rs_get(x.st, x.cls, ua, strlen(ua), &ha));
        op g;
        memset(&g, 0, sizeof g);
        g.kind = O_GROUP;
        g.n_sub = 3;
        g.s[0] = (sub){.kind = S_GOLD, .uid = (uint16_t)a, .num = -5};
        g.s[1] =
            (sub){.kind = S_GOLD, .uid = (uint16_t)b, .num = 5, .via_attr = 1};
        g.s[2] = (sub){
            .kind = S_BIND, .uid = (uint16_t)b, .av = {long_str(2, 3000, 7)}};
        CHECK_EQ(wf_run(&x, &g), RS_EIO);
        /* a leaves and comes back (the same slot, a new generation), b
         * loses an attribute, someone new arrives. */
        g.n_sub = 5;
        g.s[0] = (sub){.kind = S_REMOVE, .uid = (uint16_t)a};
        g.s[1] = gen_insert(&rng, (uint16_t)a);
        g.s[1].name = free_name(&x.w, 0);
        g.s[1].n_av = 1;
        g.s[1].av[0] = long_str(4, 3000, 8);
        g.s[2] = (sub){
            .kind = S_BIND, .uid = (uint16_t)b, .av = {long_str(5, 20, 9)}};
        g.s[3] = (sub){
            .kind = S_UNBIND, .uid = (uint16_t)b, .av = {long_str(5, 0, 0)}};
        int fresh = -1;
        for (int k = 0; k < N_UIDS && fresh < 0; k++) {
            fresh = x.w.r[k].live ? -1 : k;
        }
        CHECK(fresh >= 0);
        if (fresh >= 0) {
            g.s[4] = gen_insert(&rng, (uint16_t)fresh);
            g.s[4].name = free_name(&x.w, g.s[1].name + 1);
        } else {
            g.n_sub = 4;
        }
        CHECK_EQ(wf_run(&x, &g), RS_EIO);
        /* The handle a had before the groups still names it. */
        CHECK_OK(x.st, rs_check(x.st, ha));
        CHECK_OK(x.st, rs_get(x.st, x.cls, ua, strlen(ua), &hb));
        CHECK_EQ(hb, ha);
        /* A group of small changes may still fit, or fail the same way. */
        g.n_sub = 2;
        g.s[0] = (sub){.kind = S_GOLD, .uid = (uint16_t)a, .num = 1};
        g.s[1] = (sub){.kind = S_LEVEL, .uid = (uint16_t)b, .num = 2};
        rc = wf_run(&x, &g);
        CHECK(rc == RS_OK || rc == RS_EIO);
    }
    /* 4. A compaction whose files cannot be written: RS_EIO, the old
     * snapshot and journal untouched, no temporary file left. */
    CHECK(x.n_eio >= 3);
    off_t snap_len = file_size(spath), jlen = file_size(x.jpath);
    set_fsize(1024);
    rs_saver *sv;
    rc = rs_save_begin(x.st, NULL, &sv);
    if (rc == RS_OK) {
        rc = rs_save_finish(sv, NULL);
    }
    CHECK_EQ(rc, RS_EIO);
    CHECK(!file_exists(stmp));
    CHECK(!file_exists(jtmp));
    CHECK_EQ(file_size(spath), snap_len);
    CHECK_EQ(file_size(x.jpath), jlen);
    if (!compare(x.st, x.cls, &x.w, why, sizeof why)) {
        fprintf(stderr,
                "write_failure: the failed compaction changed the "
                "store:%s\n",
                why);
        check_failures++;
    }
    /* 5. With room again: a compaction, then inserts are acknowledged. */
    set_fsize(RLIM_INFINITY);
    CHECK_OK(x.st, rs_save(x.st, NULL, NULL));
    CHECK(file_size(x.jpath) < jlen);
    for (int k = 0; k < 20; k++) {
        op o = single(gen_insert(&rng, (uint16_t)rng_below(&rng, N_UIDS)));
        rc = wf_run(&x, &o);
        CHECK(rc == RS_OK || rc == RS_EEXIST);
    }
    rs_store_close(x.st);
    fflush(stderr);
    _exit(check_failures ? 1 : 0);
}

static void test_write_failure(void)
{
    char base[128];
    snprintf(base, sizeof base, "%s/wf", dir);
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        check_failures++;
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        wf_child(fds[1], base);
    }
    close(fds[1]);
    static world w;
    memset(&w, 0, sizeof w);
    op o;
    expect e;
    long n = 0;
    while (read_full(fds[0], &o, sizeof o)) {
        op_apply(&w, &o, &e);
        n++;
    }
    close(fds[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "write_failure: the child %s %d\n",
                pid < 0               ? "could not be forked:"
                : WIFSIGNALED(status) ? "died of signal"
                                      : "exited with",
                pid < 0               ? errno
                : WIFSIGNALED(status) ? WTERMSIG(status)
                                      : WEXITSTATUS(status));
        check_failures++;
    }
    CHECK(n > 10);
    rs_store *st;
    rs_class *cls;
    CHECK_OK(st, open_durable(base, &st, &cls));
    static char why[4096];
    if (check_failures == 0 && !compare(st, cls, &w, why, sizeof why)) {
        fprintf(stderr,
                "write_failure: the files differ from the %ld "
                "acknowledged ops:%s\n",
                n, why);
        check_failures++;
    }
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */
/* cut_short_twice                                                           */
/* ------------------------------------------------------------------------ */

/* n ops of the stream (no saves) on st and w; false if one returned
 * another status than the model's. */
static bool run_ops(rs_store *st, rs_class *cls, world *w, uint64_t *rng, int n)
{
    static char why[2048], desc[1024];
    for (int k = 0; k < n; k++) {
        op o = next_op(rng, w);
        if (o.kind == O_SAVE_BEGIN || o.kind == O_SAVE_STEP ||
            o.kind == O_SAVE_FINISH) {
            continue;
        }
        expect e;
        op_apply(w, &o, &e);
        rs_status got;
        bool ok = exec_op(st, cls, NULL, &o, &e, &got, why, sizeof why);
        if (ok && got != e.final) {
            snprintf(why, sizeof why, "returned %s, the model says %s: %s",
                     rs_status_name(got), rs_status_name(e.final),
                     rs_errmsg(st));
            ok = false;
        }
        if (!ok) {
            op_fmt(&o, desc, sizeof desc);
            fprintf(stderr, "cut_short_twice: %s %s\n", desc, why);
            check_failures++;
            return false;
        }
    }
    return true;
}

/* Open base (as class text) and compare it with w; the store stays open
 * in *st (NULL if the open failed). */
static bool reopen_check(const char *base, const char *text, const world *w,
                         const char *when, rs_store **st, rs_class **cls)
{
    static char why[4096];
    rs_status rc = open_durable_as(base, text, st, cls);
    if (rc != RS_OK) {
        fprintf(stderr,
                "cut_short_twice: %s: rs_durable_open returned %s: "
                "%s\n",
                when, rs_status_name(rc), rs_errmsg(*st));
        check_failures++;
        rs_store_close(*st);
        *st = NULL;
        return false;
    }
    if (!compare(*st, *cls, w, why, sizeof why)) {
        fprintf(stderr,
                "cut_short_twice: %s: the store differs from what "
                "was acknowledged:%s\n",
                when, why);
        check_failures++;
        return false;
    }
    return true;
}

/* A compaction cut short between its two renames (the new snapshot in
 * place, the old journal still there), then the compaction the next open
 * does to finish it, cut short the same way; and the compaction an open
 * does when the class changed shape, cut short.  Each time the files must
 * still open, to what was acknowledged.  sigkill reaches the second state
 * only when two kills in a row fall in those windows; here the states are
 * made by putting the old journal back, byte for byte what the crash
 * leaves: the snapshot is renamed into place before the journal is. */
static void test_cut_short_twice(void)
{
    static const char text2[] =
        "Player { uid: str(16) key; name: str(32) unique; gold: i64 = 0; "
        "level: u16 = 1; rank: u8 = 0 } dynamic";
    static world w;
    char base[128], jpath[160], keep[170];
    snprintf(base, sizeof base, "%s/twice", dir);
    snprintf(jpath, sizeof jpath, "%s.journal", base);
    snprintf(keep, sizeof keep, "%s.journal.keep", base);
    memset(&w, 0, sizeof w);
    uint64_t rng = 99;
    rs_store *st;
    rs_class *cls;
    if (!reopen_check(base, CLASS_TEXT, &w, "the first open", &st, &cls) ||
        !run_ops(st, cls, &w, &rng, 150)) {
        rs_store_close(st);
        return;
    }
    /* 1. A compaction with changes during it, cut short. */
    rs_saver *sv;
    CHECK_OK(st, rs_save_begin(st, NULL, &sv));
    CHECK_EQ(rs_save_step(sv, 10), RS_OK);
    bool ok = run_ops(st, cls, &w, &rng, 20);
    CHECK(file_copy(jpath, keep));
    CHECK_OK(st, rs_save_finish(sv, NULL));
    rs_store_close(st);
    CHECK(file_copy(keep, jpath));
    /* 2. The open that finishes it, cut short the same way. */
    if (!ok || !reopen_check(base, CLASS_TEXT, &w,
                             "the open after a "
                             "compaction cut short",
                             &st, &cls)) {
        rs_store_close(st);
        return;
    }
    rs_store_close(st);
    CHECK(file_copy(keep, jpath));
    if (!reopen_check(base, CLASS_TEXT, &w,
                      "the open after that open's "
                      "own compaction was cut short",
                      &st, &cls) ||
        !run_ops(st, cls, &w, &rng, 50)) {
        rs_store_close(st);
        return;
    }
    rs_store_close(st);
    /* 3. An open under a new declaration (a field more) compacts at once;
     * cut short. */
    CHECK(file_copy(jpath, keep));
    if (!reopen_check(base, text2, &w, "the open with a field more", &st,
                      &cls)) {
        rs_store_close(st);
        return;
    }
    rs_store_close(st);
    CHECK(file_copy(keep, jpath));
    if (reopen_check(base, text2, &w,
                     "the open after the compaction of "
                     "the open with a field more was cut short",
                     &st, &cls)) {
        CHECK_EQ(rs_class_n_fields(cls), 5);
    }
    rs_store_close(st);
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"sigkill", test_sigkill},
        {"write_failure", test_write_failure},
        {"cut_short_twice", test_cut_short_twice},
        {NULL, NULL},
    };
    verbose = getenv("ROSTER_CRASH_VERBOSE") != NULL;
    const char *env = getenv("ROSTER_CRASH_ROUNDS");
    if (env) {
        n_rounds = strtol(env, NULL, 10);
    }
    /* Options out, the case name (if any) left for check_main. */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            n_rounds = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            base_seed = strtoull(argv[++i], NULL, 10);
        } else {
            argv[n++] = argv[i];
        }
    }
    argc = n;
    snprintf(dir, sizeof dir, "/tmp/roster-crash-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    int rc = check_main(argc, argv, cases);
    if (getenv("ROSTER_CRASH_KEEP") == NULL && rc == 0) {
        dir_clear(dir, true);
    } else {
        fprintf(stderr, "test_crash: the files are in %s\n", dir);
    }
    return rc;
}
