/* c_slots.c: the "c-slots" baseline of `roster bench` (see PROTOCOL.md).
 *
 * The naive C program, the C twin of a Python `__slots__` class, and the
 * layout of DESIGN.md's anchor "naive C program (malloc per object, malloc
 * per string, pointer hash maps by uid and by name)":
 *
 * - One malloc'ed struct per player
 *       struct player { char *uid; char *name; char *extras;
 *                       uint16_t level; uint8_t stat; };   (32 bytes)
 *   with uid and name strdup'ed and the extras "key=value;..." text strdup'ed
 *   (NULL when the player has none): 3 or 4 allocations a player, each with
 *   malloc's header and rounding (glibc: a 32-byte struct takes a 48-byte
 *   chunk, a short string a 32-byte chunk).
 * - Two hash maps of `struct player *`, by uid and by name.  Chosen over
 *   separate chaining: open addressing of pointers (power-of-two capacity,
 *   linear probing, doubled when the load would pass 1/2, a sentinel pointer
 *   for deleted entries, rebuilt in place when those pass 1/4), which is what
 *   most hand-written and library C maps of pointers do, and what the
 *   DESIGN's ~150 bytes a player anchor was measured on.  A probe
 *   dereferences the pointer and strcmp's the key: no stored hash.
 * - Hash: FNV-1a 64 over the NUL-terminated key, the function a typical
 *   programmer copies; keys are plain C strings throughout.
 * - Dynamic attributes: attr_get parses the player's extras string; attr_set
 *   builds a new malloc'ed string with vip replaced or appended and frees the
 *   old one.
 * - Removal unlinks the player from both maps and frees its strings and its
 *   struct; the next insert mallocs afresh.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wconversion
 *        -Wmissing-prototypes -Werror -D_POSIX_C_SOURCE=200809L
 *        bench/reps/c_slots.c -o c_slots
 */
#include "common.h"

typedef struct player {
    char *uid;
    char *name;
    char *extras; /* "k=v;k=v" or NULL */
    uint16_t level;
    uint8_t stat;
} player;

static player tomb_sentinel;
#define TOMB (&tomb_sentinel)

enum { BY_UID = 0, BY_NAME = 1 };

typedef struct {
    player **slot; /* NULL = empty, TOMB = deleted */
    size_t cap;    /* power of two */
    size_t used, tomb;
    int which;
} map;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static const char *key_of(const player *p, int which)
{
    return which == BY_UID ? p->uid : p->name;
}

static void map_init(map *m, int which)
{
    m->cap = 16;
    m->used = m->tomb = 0;
    m->which = which;
    m->slot = calloc(m->cap, sizeof *m->slot);
    if (!m->slot)
        bench_die("c-slots: out of memory");
}

static void map_rehash(map *m, size_t new_cap)
{
    player **slot = calloc(new_cap, sizeof *slot);
    if (!slot)
        bench_die("c-slots: out of memory (map of %zu slots)", new_cap);
    for (size_t i = 0; i < m->cap; i++) {
        player *p = m->slot[i];
        if (!p || p == TOMB)
            continue;
        size_t j = (size_t)fnv1a(key_of(p, m->which)) & (new_cap - 1);
        while (slot[j])
            j = (j + 1) & (new_cap - 1);
        slot[j] = p;
    }
    free(m->slot);
    m->slot = slot;
    m->cap = new_cap;
    m->tomb = 0;
}

static player *map_get(const map *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)fnv1a(key) & mask;
    for (;;) {
        player *p = m->slot[i];
        if (!p)
            return NULL;
        if (p != TOMB && strcmp(key_of(p, m->which), key) == 0)
            return p;
        i = (i + 1) & mask;
    }
}

/* Where key would go, or NULL if it is already there. */
static player **map_slot_for(map *m, const char *key)
{
    if ((m->used + 1) * 2 > m->cap)
        map_rehash(m, m->cap * 2);
    size_t mask = m->cap - 1;
    size_t i = (size_t)fnv1a(key) & mask;
    player **first_tomb = NULL;
    for (;;) {
        player *p = m->slot[i];
        if (!p)
            return first_tomb ? first_tomb : &m->slot[i];
        if (p == TOMB) {
            if (!first_tomb)
                first_tomb = &m->slot[i];
        } else if (strcmp(key_of(p, m->which), key) == 0) {
            return NULL;
        }
        i = (i + 1) & mask;
    }
}

static void map_fill(map *m, player **slot, player *p)
{
    if (*slot == TOMB)
        m->tomb--;
    *slot = p;
    m->used++;
}

static void map_del(map *m, player *p)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)fnv1a(key_of(p, m->which)) & mask;
    while (m->slot[i] != p) {
        if (!m->slot[i])
            bench_die("c-slots: player %s missing from its map", p->uid);
        i = (i + 1) & mask;
    }
    m->slot[i] = TOMB;
    m->used--;
    m->tomb++;
    if (m->tomb > m->cap / 4)
        map_rehash(m, m->cap);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        bench_die("c-slots: out of memory");
    return d;
}

typedef struct {
    map by[2];
    size_t live;
} roster;

/* New player, or NULL if uid or name is taken (nothing changed then). */
static player *roster_add(roster *r, const char *uid, const char *name,
                          uint8_t stat, uint16_t level, const char *extras)
{
    player **su = map_slot_for(&r->by[BY_UID], uid);
    player **sn = map_slot_for(&r->by[BY_NAME], name);
    if (!su || !sn)
        return NULL;
    player *p = malloc(sizeof *p);
    if (!p)
        bench_die("c-slots: out of memory");
    p->uid = xstrdup(uid);
    p->name = xstrdup(name);
    p->extras = extras && *extras ? xstrdup(extras) : NULL;
    p->stat = stat;
    p->level = level;
    map_fill(&r->by[BY_UID], su, p);
    map_fill(&r->by[BY_NAME], sn, p);
    r->live++;
    return p;
}

static void roster_remove(roster *r, player *p)
{
    map_del(&r->by[BY_UID], p);
    map_del(&r->by[BY_NAME], p);
    free(p->uid);
    free(p->name);
    free(p->extras);
    free(p);
    r->live--;
}

/* Value of extra attribute key (length in *vlen), or NULL. */
static const char *attr_get(const player *p, const char *key, size_t *vlen)
{
    if (!p->extras)
        return NULL;
    size_t klen = strlen(key);
    const char *t = p->extras;
    while (*t) {
        const char *eq = strchr(t, '=');
        if (!eq)
            return NULL;
        const char *end = strchr(eq + 1, ';');
        if (!end)
            end = eq + strlen(eq);
        if ((size_t)(eq - t) == klen && memcmp(t, key, klen) == 0) {
            *vlen = (size_t)(end - eq - 1);
            return eq + 1;
        }
        t = *end ? end + 1 : end;
    }
    return NULL;
}

static size_t utoa(char *out, unsigned v)
{
    char tmp[12];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Sets extra attribute key to the integer v: a new string with key's value
 * replaced (or key=v appended), the old one freed. */
static void attr_set_uint(player *p, const char *key, unsigned v)
{
    size_t klen = strlen(key);
    const char *t = p->extras ? p->extras : "";
    char *out = malloc(strlen(t) + klen + 13), *o = out;
    if (!out)
        bench_die("c-slots: out of memory");
    int done = 0;
    while (*t) {
        const char *end = strchr(t, ';');
        if (!end)
            end = t + strlen(t);
        const char *eq = memchr(t, '=', (size_t)(end - t));
        if (o != out)
            *o++ = ';';
        if (eq && (size_t)(eq - t) == klen && memcmp(t, key, klen) == 0) {
            memcpy(o, key, klen);
            o += klen;
            *o++ = '=';
            o += utoa(o, v);
            done = 1;
        } else {
            memcpy(o, t, (size_t)(end - t));
            o += end - t;
        }
        t = *end ? end + 1 : end;
    }
    if (!done) {
        if (o != out)
            *o++ = ';';
        memcpy(o, key, klen);
        o += klen;
        *o++ = '=';
        o += utoa(o, v);
    }
    *o = '\0';
    free(p->extras);
    p->extras = out;
}

/* ---- the benchmark ------------------------------------------------------- */

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, &a);
    bench_input in;
    bench_read_tsv(a.file, &in);
    const size_t n = in.n;
    const size_t churn_k = n / 5;
    char nbuf[40];

    /* Harness arrays: allocated and written before RSS0. */
    player **handle = bench_alloc_touched(n, sizeof *handle);
    uint32_t *churn_idx = bench_alloc_touched(n, sizeof *churn_idx);
    char *churn_uids = bench_alloc_touched(churn_k ? churn_k : 1, 32);
    for (size_t i = 0; i < n; i++)
        churn_idx[i] = (uint32_t)i;

    roster r;
    map_init(&r.by[BY_UID], BY_UID);
    map_init(&r.by[BY_NAME], BY_NAME);
    r.live = 0;
    bench_result res;
    bench_result_init(&res, "c-slots");
    res.players = n;
    bench_rng rng = bench_rng_seed(a.seed);
    uint64_t sink = 0;

    /* 1. load */
    size_t rss0 = bench_rss_bytes();
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        const bench_player *p = &in.p[i];
        player *q = roster_add(&r, p->uid, p->name, p->stat, p->level, p->extras);
        if (!q)
            bench_die("c-slots: cannot insert line %zu (uid %s, name %s):"
                      " duplicate", i + 1, p->uid, p->name);
        handle[i] = q;
    }
    uint64_t t1 = bench_now_ns();
    size_t rss1 = bench_rss_bytes();
    res.insert_ns = (double)(t1 - t0) / (double)n;
    res.bytes_per_player = ((double)rss1 - (double)rss0) / (double)n;
    /* bytes requested from malloc (its headers and rounding not included) */
    size_t requested = (r.by[0].cap + r.by[1].cap) * sizeof(player *) +
                       n * sizeof(player);
    for (size_t i = 0; i < n; i++)
        requested += in.p[i].uid_len + 1u + in.p[i].name_len + 1u +
                     (in.p[i].extras_len ? in.p[i].extras_len + 1u : 0u);
    double map_load = (double)r.by[0].used / (double)r.by[0].cap;

    /* checksum: read back from the maps, in uid order */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const player *p = map_get(&r.by[BY_UID], in.p[i].uid);
        if (p != handle[i])
            bench_die("c-slots: uid %s not found after load", in.p[i].uid);
        sum += bench_checksum_term(
            p->uid, strlen(p->uid), p->name, strlen(p->name), p->stat, p->level,
            p->extras ? bench_count_extras(p->extras, strlen(p->extras)) : 0);
    }
    res.checksum = sum;

    /* 2./3. lookups by uid, then by name, in random order */
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        bench_die("c-slots: out of memory");
    for (int which = 0; which < 2; which++) {
        bench_permutation(perm, n, &rng);
        bench_keys ks;
        bench_keys_make(&ks, &in, perm, which == 0 ? BENCH_KEY_UID : BENCH_KEY_NAME);
        const map *m = &r.by[which == 0 ? BY_UID : BY_NAME];
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            size_t len;
            const char *key = bench_key(&ks, k, &len);
            const player *p = map_get(m, key);
            if (!p)
                bench_die("c-slots: key %s not found", key);
            sink += p->level;
        }
        t1 = bench_now_ns();
        bench_keys_free(&ks);
        if (which == 0)
            res.get_uid_ns = (double)(t1 - t0) / (double)n;
        else
            res.get_name_ns = (double)(t1 - t0) / (double)n;
    }

    /* 4. update level through the pointer, random order */
    bench_permutation(perm, n, &rng);
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++)
        handle[perm[k]]->level = bench_update_level(k);
    t1 = bench_now_ns();
    res.update_ns = (double)(t1 - t0) / (double)n;

    /* 5. scan (walking the uid map): stat == 1 and level >= 50 */
    size_t scan_count = 0;
    t0 = bench_now_ns();
    for (size_t i = 0; i < r.by[BY_UID].cap; i++) {
        const player *p = r.by[BY_UID].slot[i];
        if (p && p != TOMB && p->stat == 1 && p->level >= 50)
            scan_count++;
    }
    t1 = bench_now_ns();
    res.scan_ns = (double)(t1 - t0) / (double)n;

    /* 6. dynamic attributes: read the first extra, then set vip */
    size_t m = in.n_with_extras;
    if (m) {
        uint32_t *xs = malloc(m * sizeof *xs), *xperm = malloc(m * sizeof *xperm);
        player **xp = malloc(m * sizeof *xp);
        char (*xkey)[16] = malloc(m * sizeof *xkey);
        if (!xs || !xperm || !xp || !xkey)
            bench_die("c-slots: out of memory");
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (in.p[i].extras_len)
                xs[j++] = (uint32_t)i;
        bench_permutation(xperm, m, &rng);
        for (size_t k = 0; k < m; k++) {
            const bench_player *p = &in.p[xs[xperm[k]]];
            size_t klen;
            const char *key = bench_first_key(p->extras, p->extras_len, &klen);
            if (klen >= sizeof xkey[k])
                bench_die("c-slots: extra key too long on line %u", xs[xperm[k]] + 1);
            memcpy(xkey[k], key, klen);
            xkey[k][klen] = '\0';
            xp[k] = handle[xs[xperm[k]]];
        }
        t0 = bench_now_ns();
        for (size_t k = 0; k < m; k++) {
            size_t vlen;
            const char *v = attr_get(xp[k], xkey[k], &vlen);
            if (!v)
                bench_die("c-slots: extra missing on player %s", xp[k]->uid);
            sink += vlen + (unsigned char)v[0];
        }
        t1 = bench_now_ns();
        res.attr_get_ns = (double)(t1 - t0) / (double)m;
        t0 = bench_now_ns();
        for (size_t k = 0; k < m; k++)
            attr_set_uint(xp[k], "vip", bench_vip_value(k));
        t1 = bench_now_ns();
        res.attr_set_ns = (double)(t1 - t0) / (double)m;
        free(xs); free(xperm); free(xp); free(xkey);
    }
    free(perm);

    /* 7. churn: remove a random 20%, insert as many new players */
    uint64_t next_uid = in.max_uid_num;
    uint64_t churn_t = 0;
    size_t rss_c0 = bench_rss_bytes();
    for (unsigned round = 0; round < a.rounds && churn_k; round++) {
        bench_pick(churn_idx, n, churn_k, &rng);
        for (size_t j = 0; j < churn_k; j++)
            bench_churn_uid(churn_uids + j * 32, ++next_uid);
        t0 = bench_now_ns();
        for (size_t j = 0; j < churn_k; j++)
            roster_remove(&r, handle[churn_idx[j]]);
        for (size_t j = 0; j < churn_k; j++) {
            const char *u = churn_uids + j * 32;
            bench_churn_name(nbuf, u, strlen(u));
            player *p = roster_add(&r, u, nbuf, 1, 1, NULL);
            if (!p)
                bench_die("c-slots: churn insert of %s failed", u);
            handle[churn_idx[j]] = p;
        }
        churn_t += bench_now_ns() - t0;
    }
    size_t rss_c1 = bench_rss_bytes();
    if (churn_k && a.rounds) {
        res.churn_ns = (double)churn_t / (2.0 * (double)churn_k * a.rounds);
        res.churn_growth_bytes_per_player =
            ((double)rss_c1 - (double)rss_c0) / (double)n;
    }
    /* sanity (untimed): every pointer still finds itself by its uid */
    if (r.live != n)
        bench_die("c-slots: %zu live players after churn, expected %zu", r.live, n);
    for (size_t i = 0; i < n; i++)
        if (map_get(&r.by[BY_UID], handle[i]->uid) != handle[i])
            bench_die("c-slots: map inconsistent after churn");

    char extra[512];
    snprintf(extra, sizeof extra,
             "\"accounted_bytes_per_player\": %.2f, \"map_load\": %.3f, "
             "\"scan_count\": %zu, \"sink\": %llu",
             (double)requested / (double)n, map_load, scan_count,
             (unsigned long long)sink);
    res.extra_json = extra;
    bench_print_json(&res);

    for (size_t i = 0; i < n; i++)
        roster_remove(&r, handle[i]);
    free(r.by[0].slot);
    free(r.by[1].slot);
    free(handle);
    free(churn_idx);
    free(churn_uids);
    free(in.p);
    free(in.buf);
    return 0;
}
