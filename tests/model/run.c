/*
 * run.c: the run's shared state (run.h): the classes, the failure report,
 * the random stream, the counting allocator and the status tally.
 */
#include "run.h"

#include <stdarg.h>

const char *g_case = "model";
uint64_t g_seed;
long g_step;
long g_ops, g_check_every; /* of the run, for the replay line */
char g_op[2048];           /* the operation being run, for the report */

void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "test_model: seed %" PRIu64 " step %ld: %s\n  ", g_seed,
            g_step, g_op);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* The same number of operations: phases are a fraction of it. */
    const char *hs = getenv("RS_TEST_HASH_SEED");
    fprintf(stderr,
            "\n  replay: RS_TEST_HASH_SEED=%s test_model %s --seed %" PRIu64
            " --ops %ld --check-every %ld\n",
            hs ? hs : "?", g_case, g_seed, g_ops, g_check_every);
    exit(1);
}

static long kb_seen[KB__COUNT];
static const char *const kb_names[KB__COUNT] = {
    "RS_ENOMEM reported as RS_EFORMAT by a load (persist.c, load_class)",
    "a rolled-back group's handle given to a new record (journal.c, "
    "rollback)",
    "a change that starved a save succeeds with the save's message in "
    "rs_errmsg() (persist.c, saver_err)",
    "a failed call on a durable store keeps memory it allocated (meta: "
    "journal.c, oom and rs__compact_begin)",
};

void known_bug(int kb, const char *what)
{
    if (!MT_TOLERATE_KNOWN_BUGS) {
        fail("%s: known library bug: %s", what, kb_names[kb]);
    }
    kb_seen[kb]++;
}

void known_bugs_report(void)
{
    for (int kb = 0; kb < KB__COUNT; kb++) {
        if (kb_seen[kb] > 0) {
            printf("  KNOWN LIBRARY BUG, seen %ld times: %s\n", kb_seen[kb],
                   kb_names[kb]);
        }
        kb_seen[kb] = 0;
    }
}

/* Append to the description of the current operation. */
void desc(const char *fmt, ...)
{
    size_t used = strlen(g_op);
    if (used + 1 >= sizeof g_op) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_op + used, sizeof g_op - used, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Random numbers: splitmix64, the same stream on every platform             */
/* ------------------------------------------------------------------------ */

uint64_t rng;

uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
int irand(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

bool chance(int pct)
{
    return irand(100) < pct;
}

/* ------------------------------------------------------------------------ */
/* A counting allocator: live bytes and blocks, and the size contract        */
/* ------------------------------------------------------------------------ */

alloc_check g_alloc;

/* Now and then a call that may allocate runs with one of its first few
 * allocations failing.  If the model expects it to succeed it may then
 * fail with RS_ENOMEM instead, and must have changed nothing. */
void maybe_arm(void)
{
    alloc_check_arm(&g_alloc, chance(10) ? 1 + irand(3) : 0);
}

/* Disarm; whether the call's RS_ENOMEM was the injected failure. */
bool injected(rs_status rc)
{
    alloc_check_disarm(&g_alloc);
    return rc == RS_ENOMEM && g_alloc.n_failed > 0;
}

/* ------------------------------------------------------------------------ */
/* The class                                                                 */
/* ------------------------------------------------------------------------ */

/* tag keeps 7 bytes inline (out of line past that), name the default 15
 * for its length, uid the default 7: both inline limits get crossed. */
const rs_field_def defs[NF] = {
    {.name = "uid", .type = RS_STR, .max_len = 12, .flags = RS_FIELD_KEY},
    {.name = "name", .type = RS_STR, .max_len = 20, .flags = RS_FIELD_UNIQUE},
    {.name = "stat",
     .type = RS_U8,
     .has_default = true,
     .def = {.type = RS_U8, .v.u = 0}},
    {.name = "level",
     .type = RS_U16,
     .has_default = true,
     .def = {.type = RS_U16, .v.u = 1}},
    {.name = "score",
     .type = RS_I32,
     .has_default = true,
     .def = {.type = RS_I32, .v.i = -1}},
    {.name = "ratio",
     .type = RS_F64,
     .has_default = true,
     .def = {.type = RS_F64, .v.f = 0.0}},
    {.name = "flag", .type = RS_BOOL},
    {.name = "tag", .type = RS_STR, .max_len = 40, .inline_len = 7},
};

rs_store *g_st;

/* The two classes of the run: the same fields, Player dynamic, Player2
 * not (its records refuse undeclared names, like __slots__). */
const char *const class_names[NC] = {"Player", "Player2"};
rs_class *classes[NC];
unsigned class_no[NC];
bool g_durable;
bool g_saving;
bool g_save_starved;

/* Read from the classes at setup (compare.c, check_classes()). */
size_t inline_max[NF];
/* ------------------------------------------------------------------------ */
/* The status tally                                                          */
/* ------------------------------------------------------------------------ */

/* How often each call answered each status: printed at the end of a run
 * to show what the run covered. */
#define N_CALLS 64
static const char *stat_call[N_CALLS];
static long stat_n[N_CALLS][RS_STATUS__COUNT];

void tally(const char *call, rs_status s)
{
    int i = 0;
    while (i < N_CALLS && stat_call[i] && strcmp(stat_call[i], call) != 0) {
        i++;
    }
    if (i == N_CALLS || (unsigned)s >= RS_STATUS__COUNT) {
        return;
    }
    stat_call[i] = call;
    stat_n[i][s]++;
}

void print_tally(void)
{
    for (int i = 0; i < N_CALLS && stat_call[i]; i++) {
        printf("  %-28s", stat_call[i]);
        for (int s = 0; s < RS_STATUS__COUNT; s++) {
            if (stat_n[i][s]) {
                printf(" %s %ld", rs_status_name((rs_status)s), stat_n[i][s]);
            }
        }
        printf("\n");
    }
}

void tally_reset(void)
{
    memset(stat_call, 0, sizeof stat_call);
    memset(stat_n, 0, sizeof stat_n);
}
