/*
 * ops_persist.c: the store of a run, and the operations that persist it or
 * group its changes (ops.h).
 *
 * The store: opened with the counting allocator, its classes declared from
 * defs[], and closed with every byte given back.  A durable run keeps its
 * files under BASE in a temporary directory made with mkdtemp(), removed at
 * exit.
 *
 * Save and reload (plain runs): rs_save_begin() to a file, in steps with
 * ordinary operations between them now and then, so the file must show the
 * store as it was at the start (the model keeps a checkpoint); the store is
 * closed, a fresh one declares none, some or all classes (in either order),
 * rs_load()s the file, now and then with an allocation failing first (the
 * load must then leave the fresh store as it was), and the run goes on with
 * the loaded store and the checkpoint, compared in everything.
 *
 * Journal replay (durable runs): the store is closed and a fresh one
 * rs_durable_open()s the same BASE, which replays the journal over the
 * snapshot; a failed open (an injected allocation failure) must change no
 * file.  Compaction: rs_save_begin(g_st, NULL) in steps with operations
 * between, then now and then a reopen at once.
 *
 * Groups: rs_group_begin(), a few changes and reads, then commit or abort
 * (or, durable, close the store with the group open).  The model follows
 * the store's rule: a change applies at once and reads see it; a change
 * that fails, or an abort, rolls everything back (group_rolled_back()
 * compares every record the group touched and the accounting with the
 * group's start); after a failure every change is RS_EGROUP and the commit
 * too.  Saves, loads, class declarations and a second group are refused
 * inside one.  A durable store reopened after the group finds exactly what
 * was committed.
 *
 * After a load or a replay, records have new handles (a file names records
 * by key) and names new ids (the store interns them as its records bring
 * them): adopt_store() finds each model record by its key and maps the
 * names through rs_attr_find(), which must know exactly the model's names
 * (all that records bind, no other), then compares everything.
 */
#include "ops.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The temporary directory                                                   */
/* ------------------------------------------------------------------------ */

static char dir[64];
static char snap_path[128]; /* plain saves */
static char base[128];      /* the durable store's BASE */

/* Remove every file in the directory. */
void dir_clean(void)
{
    DIR *d = dir[0] ? opendir(dir) : NULL;
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char path[384];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void dir_remove(void)
{
    dir_clean();
    if (dir[0]) {
        rmdir(dir);
    }
}

void dir_make(void)
{
    snprintf(dir, sizeof dir, "/tmp/roster-model-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("test_model: mkdtemp");
        exit(2);
    }
    atexit(dir_remove); /* fail() exits too */
    snprintf(snap_path, sizeof snap_path, "%s/model.snap", dir);
    snprintf(base, sizeof base, "%s/store", dir);
}

/* ------------------------------------------------------------------------ */
/* The store of a run                                                        */
/* ------------------------------------------------------------------------ */

static void store_open(void)
{
    memset(&g_alloc, 0, sizeof g_alloc);
    rs_status rc = rs_store_open(alloc_check_fn, &g_alloc, &g_st);
    if (rc != RS_OK) {
        fail("rs_store_open returned %s", rs_status_name(rc));
    }
    acct_new_store();
}

/* Close the store: every byte it allocated comes back. */
static void store_close(const char *ctx)
{
    rs_store_close(g_st);
    g_st = NULL;
    if (g_alloc.live_bytes != 0 || g_alloc.live_blocks != 0) {
        fail("%s: after rs_store_close, %zu bytes in %zu blocks are still "
             "allocated",
             ctx, g_alloc.live_bytes, g_alloc.live_blocks);
    }
}

/* Declare the classes in mask (bit c for class c), Player2 first when
 * reversed; returns how many. */
static size_t declare(unsigned mask, bool reversed)
{
    size_t n = 0;
    for (int k = 0; k < NC; k++) {
        int c = reversed ? NC - 1 - k : k;
        if (!(mask & 1u << c)) {
            continue;
        }
        rs_status rc =
            rs_class_create(g_st, class_names[c], defs, NF,
                            c == C_DYN ? RS_CLASS_DYNAMIC : 0, &classes[c]);
        if (rc != RS_OK) {
            fail("rs_class_create(%s) returned %s: %s", class_names[c],
                 rs_status_name(rc), rs_errmsg(g_st));
        }
        n++;
    }
    return n;
}

void store_setup(bool durable)
{
    g_durable = durable;
    g_saving = false;
    dir_clean();
    store_open();
    if (durable) {
        /* A first open (no files), then the classes: the journal records
         * their declarations. */
        rs_load_info li;
        expect("rs_durable_open (first)",
               rs_durable_open(g_st, base, RS_SYNC_NEVER, &li), RS_OK);
    }
    declare((1u << NC) - 1, false);
    check_classes("setup");
}

void store_teardown(void)
{
    /* A scan left open is closed with the store; nothing may leak. */
    rs_scan *sc;
    expect("rs_scan_open (left open)",
           rs_scan_open(g_st, classes[C_DYN], NULL, 0, &sc), RS_OK);
    store_close("the end of the run");
    g_durable = false;
    dir_clean();
}

/* ------------------------------------------------------------------------ */
/* A store loaded or replayed from files                                     */
/* ------------------------------------------------------------------------ */

static void adopt_store(const char *ctx)
{
    check_classes(ctx);
    /* Each record by its key: its handle in this store. */
    for (size_t i = 0; i < n_recs; i++) {
        mrec *r = &recs[i];
        rs_handle h = RS_NULL_HANDLE;
        rs_status rc =
            rs_get(g_st, classes[r->c], r->f[F_UID].s, r->f[F_UID].len, &h);
        if (rc != RS_OK) {
            desc(": ");
            desc_rec(r);
            fail("%s: a record of the model is not in the store (rs_get "
                 "returned %s)",
                 ctx, rs_status_name(rc));
        }
        r->h = h;
    }
    m_stale_clear(); /* the old store's handles mean nothing here */
    /* The names: the store must know every name a record binds, and no
     * name the model never interned. */
    rs_mem_report m = mem_now();
    long *new_id = malloc((m_n_names + 1) * sizeof *new_id);
    bool *bound = calloc(m_n_names + 1, sizeof *bound);
    bool *taken = calloc(m.n_attr_names + 1, sizeof *taken);
    if (new_id == NULL || bound == NULL || taken == NULL) {
        fail("out of memory in the model");
    }
    for (size_t i = 0; i < n_recs; i++) {
        for (uint32_t k = 0; k < recs[i].n_attrs; k++) {
            bound[recs[i].a[k].name] = true;
        }
    }
    size_t known = 0;
    for (uint32_t k = 0; k < m_n_names; k++) {
        rs_field f = -1;
        rs_status rc = rs_attr_find(g_st, classes[C_DYN], m_names[k], &f);
        size_t id = (size_t)(f - RS_ATTR_BASE);
        if (rc == RS_OK && f >= RS_ATTR_BASE && id < m.n_attr_names &&
            !taken[id]) {
            new_id[k] = (long)id;
            taken[id] = true;
            known++;
        } else if (rc == RS_ENOATTR && !bound[k]) {
            new_id[k] = -1;
        } else {
            fail("%s: the name \"%s\" (bound by a record: %s) is %s #%d "
                 "in a store of %zu names",
                 ctx, m_names[k], bound[k] ? "yes" : "no", rs_status_name(rc),
                 f, m.n_attr_names);
        }
    }
    if (known != m.n_attr_names) {
        fail("%s: the store knows %zu attribute names, %zu of them the "
             "model's",
             ctx, m.n_attr_names, known);
    }
    m_names_renumber(new_id, (uint32_t)known);
    free(new_id);
    free(bound);
    free(taken);
    full_check(ctx);
}

/* A load or an open that failed must leave the fresh store as it was: no
 * record, no name, only the classes declared before (capacity it grew may
 * stay, as free space). */
static void check_refused(const char *call, size_t n_declared,
                          const rs_mem_report *before)
{
    rs_mem_report m = mem_now();
    if (rs_n_classes(g_st) != n_declared || m.n_records != 0 ||
        m.bytes[RS_MEM_RECORDS] != 0 || m.bytes[RS_MEM_STRINGS] != 0 ||
        m.n_attr_names != 0 || m.n_shapes != before->n_shapes) {
        fail("%s failed (injected RS_ENOMEM) and left %zu classes (%zu "
             "before), %zu records, records %zu and strings %zu bytes, %zu "
             "names, %zu shapes",
             call, rs_n_classes(g_st), n_declared, m.n_records,
             m.bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_STRINGS], m.n_attr_names,
             m.n_shapes);
    }
    check_walk(call);
}

/* Arm the allocator for a load or an open: a failure somewhere among its
 * first allocations, so that some land mid-build. */
static void arm_deep(int pct, int within)
{
    g_alloc.n_grows = 0;
    g_alloc.n_failed = 0;
    g_alloc.fail_at = chance(pct) ? 1 + irand(within) : 0;
}

/* Whether a load or an open failed with the injected RS_ENOMEM (run.h:
 * KB_ENOMEM_AS_EFORMAT).  One that succeeds although an allocation failed
 * took a fallback (persist.c: the class identity check is optional); what
 * it built is compared in full afterwards like any other. */
static bool injected_here(const char *call, rs_status rc)
{
    long failed = g_alloc.n_failed;
    if (rc == RS_EFORMAT && failed > 0 &&
        strstr(rs_errmsg(g_st), "bad class: out of memory") != NULL) {
        known_bug(KB_ENOMEM_AS_EFORMAT, call);
        rc = RS_ENOMEM;
    }
    bool inj = injected(rc);
    if (rc == RS_OK && failed > 0) {
        tally("(injected, a fallback taken)", rc);
    }
    if (inj) {
        desc(" [%s: allocation %ld failed]", call, g_alloc.n_grows);
        tally("(injected RS_ENOMEM)", rc);
    }
    return inj;
}

/* ------------------------------------------------------------------------ */
/* Saves                                                                     */
/* ------------------------------------------------------------------------ */

/* A save or compaction (path NULL) from begin to finish, with per_step
 * operations from between() after each step; true if it ran, false if it
 * failed as an injected allocation failure allows: its begin (which must
 * then have changed nothing), or a step after a change between could not
 * write its record early (g_save_starved).  The file must hold the
 * n_at_begin records of the start. */
static bool save_steps(const char *path, int per_step, void (*between)(void))
{
    char head[sizeof g_op];
    snprintf(head, sizeof head, "%s", g_op);
    size_t n_at_begin = n_recs;
    rs_mem_report before = mem_now();
    rs_saver *sv = NULL;
    maybe_arm();
    rs_status rc = rs_save_begin(g_st, path, &sv);
    if (absorbed("rs_save_begin", rc, RS_OK)) {
        mem_same_after_change(&before,
                              "rs_save_begin failing with an allocation");
        return false;
    }
    expect("rs_save_begin", rc, RS_OK);
    g_saving = true;
    g_save_starved = false;
    size_t budget = chance(20) ? 0 : 1 + (size_t)irand(64), steps = 0;
    while ((rc = rs_save_step(sv, budget)) == RS_OK) {
        steps++;
        for (int k = 0; k < per_step; k++) {
            snprintf(g_op, sizeof g_op, "during a save (step %zu): ", steps);
            between();
            step_checks();
        }
    }
    snprintf(g_op, sizeof g_op, "%s", head);
    g_saving = false;
    if (g_save_starved && rc == RS_DONE && !g_durable) {
        fail("a change could not write its record into the save (an "
             "allocation failed), yet the save went on to the end");
    }
    if (g_save_starved && rc != RS_DONE) {
        /* A record could not be written early: the save fails. */
        tally("rs_save_step (starved)", rc);
        rs_save_abort(sv);
        return false;
    }
    /* On a durable store the failed allocation may have been the
     * journal's harmless one after its write (ops.c): then the save ran
     * whole, and its file is checked below like any other. */
    if (rc != RS_DONE) {
        fail("rs_save_step returned %s: %s", rs_status_name(rc),
             rs_errmsg(g_st));
    }
    rs_save_info si;
    expect("rs_save_finish", rs_save_finish(sv, &si), RS_OK);
    if (si.n_records != n_at_begin || si.n_early > si.n_records) {
        fail("the save wrote %zu records (%zu early); %zu were live at its "
             "start",
             si.n_records, si.n_early, n_at_begin);
    }
    rs_file_info fi;
    const char *file = path;
    char snap[160];
    if (path == NULL) {
        snprintf(snap, sizeof snap, "%s.snap", base);
        file = snap;
    }
    expect("rs_inspect", rs_inspect(g_st, file, &fi), RS_OK);
    if (fi.kind != RS_FILE_SNAPSHOT || fi.n_records != n_at_begin ||
        fi.n_classes != NC) {
        fail("rs_inspect(%s): kind %d, %zu records, %zu classes; the save "
             "started with %zu records",
             file, (int)fi.kind, fi.n_records, fi.n_classes, n_at_begin);
    }
    return true;
}

void op_reload(void (*between)(void))
{
    int per_step = chance(40) ? 0 : 1 + irand(3);
    desc("save to a file%s, then load it into a fresh store",
         per_step ? " (changes between the steps)" : "");
    mcheck at;
    m_checkpoint(&at);
    if (!save_steps(snap_path, per_step, between)) {
        m_checkpoint_free(&at); /* no file: go on with this store */
        return;
    }
    step_checks();
    store_close("closing the saved store");
    /* The file shows the store as it was when the save began. */
    m_restore(&at);
    m_checkpoint_free(&at);
    store_open();
    size_t n_declared = declare((unsigned)irand(1 << NC), chance(50));
    rs_mem_report empty = mem_now();
    rs_load_info li;
    arm_deep(25, 60);
    rs_status rc = rs_load(g_st, snap_path, &li);
    if (injected_here("rs_load", rc)) {
        check_refused("rs_load", n_declared, &empty);
        rc = rs_load(g_st, snap_path, &li);
    }
    expect("rs_load", rc, RS_OK);
    if (li.n_records != n_recs || li.n_classes != NC || li.n_dropped != 0) {
        fail("rs_load: %zu records, %zu classes, %zu fields dropped (%s); "
             "the model has %zu records",
             li.n_records, li.n_classes, li.n_dropped, li.dropped, n_recs);
    }
    adopt_store("after the load");
}

/* ------------------------------------------------------------------------ */
/* The journal                                                               */
/* ------------------------------------------------------------------------ */

/* A file's identity and state, to tell whether a refused open changed it. */
typedef struct file_sig {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_sig;

static file_sig sig_of(const char *ext)
{
    char path[160];
    snprintf(path, sizeof path, "%s%s", base, ext);
    struct stat sb;
    file_sig s = {0};
    if (stat(path, &sb) == 0) {
        s.exists = true;
        s.dev = sb.st_dev;
        s.ino = sb.st_ino;
        s.size = sb.st_size;
        s.mtime = sb.st_mtim;
    }
    return s;
}

static bool sig_same(const file_sig *a, const file_sig *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

void op_reopen(void)
{
    desc("close the durable store and open it again");
    if (chance(30)) {
        expect("rs_journal_sync", rs_journal_sync(g_st), RS_OK);
    }
    store_close("closing the durable store");
    store_open();
    size_t n_declared = declare((unsigned)irand(1 << NC), chance(50));
    rs_mem_report empty = mem_now();
    file_sig snap = sig_of(".snap"), journal = sig_of(".journal");
    rs_sync sync = chance(25) ? RS_SYNC_EVERYSEC : RS_SYNC_NEVER;
    rs_load_info li;
    arm_deep(25, 80);
    rs_status rc = rs_durable_open(g_st, base, sync, &li);
    if (injected_here("rs_durable_open", rc)) {
        check_refused("rs_durable_open", n_declared, &empty);
        file_sig snap2 = sig_of(".snap"), journal2 = sig_of(".journal");
        if (!sig_same(&snap, &snap2) || !sig_same(&journal, &journal2)) {
            fail("a refused rs_durable_open changed the snapshot or the "
                 "journal");
        }
        rc = rs_durable_open(g_st, base, sync, &li);
    }
    expect("rs_durable_open", rc, RS_OK);
    if (li.n_dropped != 0) {
        fail("rs_durable_open dropped %zu fields (%s)", li.n_dropped,
             li.dropped);
    }
    adopt_store("after the journal's replay");
}

void op_compact(void (*between)(void))
{
    int per_step = chance(30) ? 0 : 1 + irand(3);
    desc("compact the durable store%s",
         per_step ? " (changes between the steps)" : "");
    bool done = save_steps(NULL, per_step, between);
    if (!done && g_save_starved) {
        /* A compaction that fails leaves the old journal in use, which
         * must hold every change. */
        desc("; ");
        op_reopen();
    } else if (done && chance(50)) {
        desc("; ");
        op_reopen();
    }
}

/* ------------------------------------------------------------------------ */
/* Groups                                                                    */
/* ------------------------------------------------------------------------ */

static rs_mem_report group_mem; /* before rs_group_begin() */

void group_rolled_back(const char *why)
{
    char ctx[96];
    snprintf(ctx, sizeof ctx, "after the group's rollback (%s)", why);
    m_group_rollback();
    rs_mem_report m = mem_now();
    const rs_mem_report *b = &group_mem;
    /* Names rs_attr_id() handed out inside the group stay. */
    size_t names = b->n_attr_names > m_pinned ? b->n_attr_names : m_pinned;
    if (m.n_records != b->n_records ||
        m.bytes[RS_MEM_RECORDS] != b->bytes[RS_MEM_RECORDS] ||
        m.bytes[RS_MEM_STRINGS] != b->bytes[RS_MEM_STRINGS] ||
        m.n_attr_names != names || m.n_shapes != b->n_shapes) {
        fail("%s: %zu records (%zu before the group), records %zu bytes "
             "(%zu), strings %zu (%zu), %zu names (%zu), %zu shapes (%zu)",
             ctx, m.n_records, b->n_records, m.bytes[RS_MEM_RECORDS],
             b->bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_STRINGS],
             b->bytes[RS_MEM_STRINGS], m.n_attr_names, names, m.n_shapes,
             b->n_shapes);
    }
    /* Every record the group touched is as it was, or, if the group
     * inserted it, gone with its handle stale. */
    for (size_t k = 0; k < m_group.n_touched; k++) {
        rs_handle h = m_group.touched[k];
        long j = m_by_handle(h);
        if (j >= 0) {
            compare_rec(&recs[j], ctx);
            check_size(&recs[j], ctx);
        } else if (rs_check(g_st, h) != RS_ESTALE) {
            fail("%s: record 0x%016" PRIx64 ", which the group inserted, "
                 "is live",
                 ctx, h);
        }
    }
    check_walk(ctx);
}

/* Calls a group refuses with RS_EINVAL, which are no change: the group
 * goes on as it was. */
static void refused_in_group(void)
{
    rs_mem_report before = mem_now();
    const char *call;
    rs_status rc;
    rs_class *k = NULL;
    switch (irand(4)) {
    case 0:
        call = "rs_save in a group";
        rc = rs_save(g_st, snap_path, NULL);
        break;
    case 1:
        call = "rs_load in a group";
        rc = rs_load(g_st, snap_path, NULL);
        break;
    case 2:
        call = "rs_class_create in a group";
        rc = rs_class_create(g_st, "Extra", defs, NF, 0, &k);
        break;
    default:
        call = "rs_group_begin in a group";
        rc = rs_group_begin(g_st);
        break;
    }
    desc("%s", call);
    expect(call, rc, RS_EINVAL);
    mem_same(&before, call);
}

void op_group(void (*inner)(void))
{
    /* Mostly short, so that many commit whole; a long one nearly always
     * meets a failing change and rolls back. */
    int n = chance(70) ? 1 + irand(3) : 4 + irand(9);
    char head[128];
    snprintf(head, sizeof head, "a group of %d operations", n);
    desc("%s", head);
    group_mem = mem_now();
    maybe_arm();
    rs_status rc = rs_group_begin(g_st);
    if (absorbed("rs_group_begin", rc, RS_OK)) {
        mem_same(&group_mem, "rs_group_begin failing with an allocation");
        return;
    }
    expect("rs_group_begin", rc, RS_OK);
    m_group_begin();
    for (int k = 0; k < n; k++) {
        snprintf(g_op, sizeof g_op, "%s, %s, %d: ", head,
                 m_group.failed ? "rolled back" : "open", k + 1);
        if (chance(6)) {
            refused_in_group();
        } else {
            inner();
        }
        step_checks();
    }
    int end = irand(100);
    snprintf(g_op, sizeof g_op, "%s, %s: ", head,
             m_group.failed ? "rolled back" : "open");
    if (g_durable && end < 6) {
        /* The store closes with the group open: it is aborted, and the
         * journal never saw it. */
        desc("close the store with the group open; ");
        if (!m_group.failed) {
            m_group_rollback();
        }
        m_group_end();
        op_reopen();
        return;
    }
    if (end < 30) {
        desc("rs_group_abort");
        rs_group_abort(g_st);
        tally("rs_group_abort", RS_OK);
        if (!m_group.failed) {
            group_rolled_back("rs_group_abort");
        }
    } else {
        desc("rs_group_commit");
        rs_status want = m_group.failed ? RS_EGROUP : RS_OK;
        rs_mem_report before = mem_now();
        expect("rs_group_commit", rs_group_commit(g_st), want);
        if (want != RS_OK) {
            /* Rolled back already; the commit only ends the group. */
            rs_mem_report m = mem_now();
            if (m.n_records != before.n_records ||
                m.bytes[RS_MEM_STRINGS] != before.bytes[RS_MEM_STRINGS]) {
                fail("rs_group_commit of a failed group changed records");
            }
        }
    }
    m_group_end();
    step_checks();
    if (g_durable && chance(20)) {
        /* The journal holds exactly what was committed. */
        desc("; ");
        op_reopen();
    }
}
