/*
 * roster.c: the "roster" representation for `roster bench`: the library
 * with the default Player class (uid packed in 5 bytes, name inline, stat,
 * level, dynamic: the extras are dynamic attributes), following
 * PROTOCOL.md phase by phase.  Lookups go through the public calls a user
 * would write (rs_get by uid, rs_find by name, rs_set_int through the
 * handle, attribute ids from rs_attr_id for the attribute phases).
 */
#include "common.h"
#include "roster.h"

static const char *const player_class =
    "Player { uid: str(16) key inline(4); name: str(32) unique inline(12); "
    "stat: u8 = 0; level: u16 = 0 } dynamic";

static void fail(rs_store *st, const char *what)
{
    bench_die("roster: %s: %s", what, st ? rs_errmsg(st) : "");
}

/* The extras "k=v;..." of a player as named values: x and vip (and any
 * all-digit value) as integers, others as strings.  Returns how many. */
static size_t extras_of(const bench_player *p, rs_named *out, char keys[][16])
{
    size_t n = 0, start = 0;
    const char *s = p->extras;
    for (size_t i = 0; i <= p->extras_len && n < 3; i++) {
        if (i < p->extras_len && s[i] != ';') {
            continue;
        }
        const char *eq = memchr(s + start, '=', i - start);
        if (eq) {
            size_t klen = (size_t)(eq - (s + start));
            klen = klen < 15 ? klen : 15;
            memcpy(keys[n], s + start, klen);
            keys[n][klen] = '\0';
            const char *v = eq + 1;
            size_t vlen = (size_t)(s + i - v);
            bool digits = vlen > 0 && vlen < 19;
            int64_t num = 0;
            for (size_t k = 0; k < vlen && digits; k++) {
                digits = v[k] >= '0' && v[k] <= '9';
                num = num * 10 + (v[k] - '0');
            }
            out[n].name = keys[n];
            out[n].val = digits ? rs_val_int(num) : rs_val_str(v, vlen);
            n++;
        }
        start = i + 1;
    }
    return n;
}

/* Insert every player with its extras, handles into hs. */
static void load(rs_store *st, rs_class *cls, const bench_input *in,
                 rs_handle *hs)
{
    for (size_t i = 0; i < in->n; i++) {
        const bench_player *p = &in->p[i];
        rs_named v[7] = {
            {"uid", rs_val_str(p->uid, p->uid_len)},
            {"name", rs_val_str(p->name, p->name_len)},
            {"stat", rs_val_uint(p->stat)},
            {"level", rs_val_uint(p->level)},
        };
        char keys[3][16];
        size_t k = p->n_extras ? extras_of(p, v + 4, keys) : 0;
        if (rs_insert(st, cls, v, 4 + k, &hs[i]) != RS_OK) {
            fail(st, "insert");
        }
    }
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, &a);
    bench_input in;
    bench_read_tsv(a.file, &in);
    size_t n = in.n;
    rs_handle *hs = bench_alloc_touched(n, sizeof *hs);
    uint32_t *perm = bench_alloc_touched(n, sizeof *perm);
    uint32_t *live = bench_alloc_touched(n, sizeof *live);
    bench_rng rng = bench_rng_seed(a.seed);
    bench_permutation(perm, n, &rng);
    bench_keys uids, names;
    bench_keys_make(&uids, &in, perm, BENCH_KEY_UID);
    bench_keys_make(&names, &in, perm, BENCH_KEY_NAME);
    bench_result r;
    bench_result_init(&r, "roster");
    r.players = n;

    size_t rss0 = bench_rss_bytes();
    rs_store *st;
    rs_class *cls;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        fail(NULL, "open");
    }
    if (rs_class_parse(st, player_class, strlen(player_class), &cls) != RS_OK) {
        fail(st, "class");
    }
    /* 1. Load. */
    uint64_t t0 = bench_now_ns();
    load(st, cls, &in, hs);
    r.insert_ns = (double)(bench_now_ns() - t0) / (double)n;
    r.bytes_per_player = (double)(bench_rss_bytes() - rss0) / (double)n;
    rs_mem_report mem;
    rs_mem(st, &mem);

    /* The checksum, read back in uid order. */
    rs_field f_name = rs_class_field(cls, "name");
    rs_field f_stat = rs_class_field(cls, "stat");
    rs_field f_level = rs_class_field(cls, "level");
    for (size_t i = 0; i < n; i++) {
        const char *uid = "", *name = "";
        size_t ulen = 0, nlen = 0, n_attrs = 0;
        uint64_t stat = 0, level = 0;
        if (rs_get_str(st, hs[i], 0, &uid, &ulen) != RS_OK ||
            rs_get_str(st, hs[i], f_name, &name, &nlen) != RS_OK ||
            rs_get_uint(st, hs[i], f_stat, &stat) != RS_OK ||
            rs_get_uint(st, hs[i], f_level, &level) != RS_OK ||
            rs_dict(st, hs[i], NULL, 0, &n_attrs) != RS_OK) {
            fail(st, "read back");
        }
        char ubuf[32];
        memcpy(ubuf, uid, ulen < 31 ? ulen : 31); /* packed: a ring buffer */
        r.checksum += bench_checksum_term(
            ubuf, ulen, name, nlen, (unsigned)stat, (unsigned)level, n_attrs);
    }

    /* 2, 3. Lookups in random order. */
    uint64_t sink = 0;
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        size_t len;
        const char *key = bench_key(&uids, k, &len);
        rs_handle h;
        uint64_t level = 0;
        if (rs_get(st, cls, key, len, &h) != RS_OK ||
            rs_get_uint(st, h, f_level, &level) != RS_OK) {
            fail(st, "get uid");
        }
        sink += level;
    }
    r.get_uid_ns = (double)(bench_now_ns() - t0) / (double)n;
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        size_t len;
        const char *key = bench_key(&names, k, &len);
        rs_value v = rs_val_str(key, len);
        rs_handle h;
        uint64_t level = 0;
        if (rs_find(st, cls, f_name, &v, &h) != RS_OK ||
            rs_get_uint(st, h, f_level, &level) != RS_OK) {
            fail(st, "get name");
        }
        sink += level;
    }
    r.get_name_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 4. Update. */
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        if (rs_set_int(st, hs[perm[k]], f_level, bench_update_level(k)) !=
            RS_OK) {
            fail(st, "update");
        }
    }
    r.update_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 5. Scan. */
    rs_cond conds[] = {{f_stat, RS_EQ, rs_val_int(1)},
                       {f_level, RS_GE, rs_val_int(50)}};
    rs_scan *sc;
    rs_handle h;
    t0 = bench_now_ns();
    if (rs_scan_open(st, cls, conds, 2, &sc) != RS_OK) {
        fail(st, "scan");
    }
    while (rs_scan_next(sc, &h) == RS_OK) {
        sink++;
    }
    rs_scan_close(sc);
    r.scan_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 6. Attributes: the first extra of each player who has any, then vip,
     * through attribute ids. */
    rs_field f_vip = rs_attr_id(st, cls, "vip");
    if (in.n_with_extras > 0 && f_vip >= 0) {
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            const bench_player *p = &in.p[perm[k]];
            if (p->n_extras == 0) {
                continue;
            }
            size_t klen;
            const char *key = bench_first_key(p->extras, p->extras_len, &klen);
            char name[16];
            memcpy(name, key, klen < 15 ? klen : 15);
            name[klen < 15 ? klen : 15] = '\0';
            rs_value v;
            if (rs_get_attr(st, hs[perm[k]], name, &v) != RS_OK) {
                fail(st, "attr get");
            }
            sink += v.type == RS_STR ? v.v.s.len : (uint64_t)v.v.i;
        }
        r.attr_get_ns =
            (double)(bench_now_ns() - t0) / (double)in.n_with_extras;
        t0 = bench_now_ns();
        size_t j = 0;
        for (size_t k = 0; k < n; k++) {
            if (in.p[perm[k]].n_extras == 0) {
                continue;
            }
            if (rs_set_int(st, hs[perm[k]], f_vip, bench_vip_value(j++)) !=
                RS_OK) {
                fail(st, "attr set");
            }
        }
        r.attr_set_ns =
            (double)(bench_now_ns() - t0) / (double)in.n_with_extras;
    }

    /* 7. Churn: R rounds, 20% out, as many new ones in. */
    for (size_t i = 0; i < n; i++) {
        live[i] = (uint32_t)i;
    }
    size_t k20 = n / 5;
    uint64_t next_uid = in.max_uid_num + 1;
    /* A round's new uids and names are formatted before its clock starts,
     * as c-packed does: snprintf is the harness's cost, not the store's. */
    char(*cu)[32] = bench_alloc_touched(k20 ? k20 : 1, 32);
    char(*cn)[40] = bench_alloc_touched(k20 ? k20 : 1, 40);
    size_t rss_before = bench_rss_bytes();
    uint64_t churn_ns = 0;
    for (unsigned round = 0; round < a.rounds; round++) {
        bench_pick(live, n, k20, &rng);
        for (size_t j = 0; j < k20; j++) {
            size_t ulen = bench_churn_uid(cu[j], next_uid++);
            bench_churn_name(cn[j], cu[j], ulen);
        }
        t0 = bench_now_ns();
        for (size_t j = 0; j < k20; j++) {
            if (rs_remove(st, hs[live[j]]) != RS_OK) {
                fail(st, "logout");
            }
        }
        for (size_t j = 0; j < k20; j++) {
            rs_named v[] = {{"uid", rs_val_cstr(cu[j])},
                            {"name", rs_val_cstr(cn[j])},
                            {"stat", rs_val_uint(1)},
                            {"level", rs_val_uint(1)}};
            if (rs_insert(st, cls, v, 4, &hs[live[j]]) != RS_OK) {
                fail(st, "login");
            }
        }
        churn_ns += bench_now_ns() - t0;
    }
    if (a.rounds > 0 && k20 > 0) {
        r.churn_ns = (double)churn_ns / (double)(2 * k20 * a.rounds);
        r.churn_growth_bytes_per_player =
            ((double)bench_rss_bytes() - (double)rss_before) / (double)n;
    }

    /* 8. The store to a snapshot and back (not part of the protocol's
     * phases: roster's persistence, reported beside them). */
    char snap[] = "/tmp/roster-bench-snap-XXXXXX";
    int sfd = mkstemp(snap);
    if (sfd < 0) {
        bench_die("roster: mkstemp: %s", snap);
    }
    close(sfd);
    rs_save_info si;
    t0 = bench_now_ns();
    if (rs_save(st, snap, &si) != RS_OK) {
        fail(st, "snapshot save");
    }
    double save_s = (double)(bench_now_ns() - t0) / 1e9;
    rs_store *back;
    rs_load_info li;
    if (rs_store_open(NULL, NULL, &back) != RS_OK) {
        fail(NULL, "open");
    }
    t0 = bench_now_ns();
    if (rs_load(back, snap, &li) != RS_OK || li.n_records != rs_count(cls)) {
        fail(back, "snapshot load");
    }
    double load_s = (double)(bench_now_ns() - t0) / 1e9;
    rs_mem_report now;
    rs_mem(st, &now);
    rs_store_close(back);
    unlink(snap);

    /* 9. The load again into a second store, its indexes sized first with
     * rs_class_reserve() (not a protocol phase: what a bulk load of a
     * known count costs; the protocol's load grows them from empty, as
     * every other representation grows its tables).  The first store
     * stays open, so this load takes fresh memory as the first did. */
    rs_store *st2;
    rs_class *cls2;
    if (rs_store_open(NULL, NULL, &st2) != RS_OK) {
        fail(NULL, "open");
    }
    if (rs_class_parse(st2, player_class, strlen(player_class), &cls2) !=
        RS_OK) {
        fail(st2, "class");
    }
    t0 = bench_now_ns();
    if (rs_class_reserve(st2, cls2, n) != RS_OK) {
        fail(st2, "reserve");
    }
    load(st2, cls2, &in, hs);
    double insert_reserved_ns = (double)(bench_now_ns() - t0) / (double)n;
    rs_store_close(st2);

    char extra[768];
    int len = snprintf(extra, sizeof extra,
                       "\"insert_reserved_ns\": %.2f, "
                       "\"accounted_bytes_per_player\": %.2f, "
                       "\"shapes\": %zu, \"snapshot_save_s\": %.4f, "
                       "\"snapshot_load_s\": %.4f, "
                       "\"snapshot_bytes_per_player\": %.2f, "
                       "\"snapshot_ratio\": %.3f",
                       insert_reserved_ns, (double)mem.total / (double)n,
                       mem.n_shapes, save_s, load_s,
                       (double)si.bytes / (double)li.n_records,
                       (double)si.bytes / (double)now.total);
    for (int c = 0; c < RS_MEM__COUNT && len > 0 && len < (int)sizeof extra;
         c++) {
        len += snprintf(extra + len, sizeof extra - (size_t)len,
                        ", \"cat_%s\": %.2f", rs_mem_cat_name((rs_mem_cat)c),
                        (double)mem.bytes[c] / (double)n);
    }
    r.extra_json = extra;
    bench_print_json(&r);
    rs_store_close(st);
    volatile uint64_t keep = sink; /* the reads must not be optimized out */
    (void)keep;
    return 0;
}
