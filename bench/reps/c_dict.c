/* c_dict.c: the "c-dict" baseline of `roster bench` (see PROTOCOL.md).
 *
 * The C twin of a Python instance dictionary: what a C programmer writes when
 * asked for "objects with arbitrary named attributes", the way Python does it.
 *
 * - A player is a malloc'ed `dict` (used, capacity, pointer to its slots):
 *   a per-object open-addressing hash map from attribute name to value, with
 *   its slot array malloc'ed apart (as PyDictObject points to its keys
 *   table), so it can grow while the player's address, its handle, stays
 *   put.  Capacity a power of two, at least 8, linear probing, grown by
 *   doubling when more than 2/3 full, which are CPython's dict numbers: the
 *   four fixed attributes plus one extra fit in 8 slots, a second extra makes
 *   it 16.
 * - Attribute names are INTERNED C strings, as Python interns identifiers: a
 *   process-wide intern table hands out one canonical `const char *` per
 *   name ("uid", "name", "stat", "level", "x", "guild", "vip"), a slot holds
 *   that pointer, and a lookup hashes and compares the pointer.  Not
 *   strdup'ed per object: a C programmer imitating Python does not copy
 *   "level" into a million objects, and comparing pointers beats strcmp.
 *   Code that knows its attribute names holds their interned pointers (like
 *   the interned constants of Python bytecode); attr_get, which gets its
 *   name as text, interns it (a lookup in the small intern table) first.
 * - Every value is a malloc'ed box, a tagged union (int64, or a malloc'ed
 *   NUL-terminated string; a double case for completeness): uid, name,
 *   stat, level AND each extra are entries of the map.  Extras whose text is
 *   an integer become ints, others strings, as the Python baseline does.
 *   Setting an existing attribute rewrites its box in place.
 * - Two indexes, by uid and by name: open-addressing pointer hash tables of
 *   { hash, key, player } entries (the entry of a CPython dict), the key
 *   pointing at the string inside the player's own uid or name box (no
 *   copy).  Power of two, linear probing, at most 2/3 full, deletion by
 *   backward shift (no tombstones, so churn leaves no debris).  The string
 *   hash is the word-at-a-time multiply/xor-shift one c_packed.c uses, so
 *   representations differ in layout, not in hash quality.
 * - Removal unlinks the player from both indexes and frees everything: every
 *   box, every boxed string, the slot array, the dict.
 *
 * All memory comes from plain malloc (glibc), one allocation per object,
 * slot array, box and string: that is the point of this baseline, it is
 * what "a dict per object" costs.  accounted_bytes_per_player in the JSON is
 * the sum of the sizes asked of malloc (before the allocator's own headers
 * and rounding), walked after the load; RSS counts those too.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wconversion
 *        -Wmissing-prototypes -Werror -D_POSIX_C_SOURCE=200809L
 *        -Ibench/reps bench/reps/c_dict.c -o c_dict
 */
#include "common.h"

/* ---- allocation ---------------------------------------------------------- */

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p)
        bench_die("c-dict: out of memory (%zu bytes)", size);
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        bench_die("c-dict: out of memory (%zu x %zu bytes)", n, size);
    return p;
}

static char *xstrndup(const char *s, size_t len)
{
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* ---- hashes -------------------------------------------------------------- */

/* Strings: word at a time (the same function as c_packed.c). */
static uint64_t hash_str(const char *key, size_t len)
{
    uint64_t h = 0x243F6A8885A308D3ULL ^ ((uint64_t)len * 0x9E3779B97F4A7C15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, key, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        key += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, key, len);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 29;
    return h;
}

/* Interned names: the pointer is the identity. */
static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* ---- the intern table ----------------------------------------------------- */

typedef struct {
    char **s;      /* canonical strings, NULL = empty */
    size_t cap;    /* power of two */
    size_t used;
} intern_table;

static intern_table interns;

static const char *intern_find(const char *s, size_t len)
{
    if (interns.cap == 0)
        return NULL;
    size_t mask = interns.cap - 1;
    for (size_t i = (size_t)hash_str(s, len) & mask;; i = (i + 1) & mask) {
        const char *c = interns.s[i];
        if (!c)
            return NULL;
        if (memcmp(c, s, len) == 0 && c[len] == '\0')
            return c;
    }
}

static const char *intern(const char *s, size_t len)
{
    const char *c = intern_find(s, len);
    if (c)
        return c;
    if ((interns.used + 1) * 2 > interns.cap) {
        size_t ncap = interns.cap ? interns.cap * 2 : 16;
        char **ns = xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < interns.cap; i++) {
            char *o = interns.s[i];
            if (!o)
                continue;
            size_t j = (size_t)hash_str(o, strlen(o)) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = o;
        }
        free(interns.s);
        interns.s = ns;
        interns.cap = ncap;
    }
    size_t mask = interns.cap - 1;
    size_t i = (size_t)hash_str(s, len) & mask;
    while (interns.s[i])
        i = (i + 1) & mask;
    interns.s[i] = xstrndup(s, len);
    interns.used++;
    return interns.s[i];
}

static void intern_free(void)
{
    for (size_t i = 0; i < interns.cap; i++)
        free(interns.s[i]);
    free(interns.s);
    memset(&interns, 0, sizeof interns);
}

/* The names the program knows, interned once at start-up. */
static const char *K_UID, *K_NAME, *K_STAT, *K_LEVEL, *K_VIP;

/* ---- boxed values ---------------------------------------------------------- */

typedef enum { BOX_INT, BOX_FLOAT, BOX_STR } box_tag;

typedef struct {
    box_tag tag;
    union {
        int64_t i;
        double f;
        char *s;   /* malloc'ed, NUL-terminated */
    } u;
} box;

static box *box_int(int64_t v)
{
    box *b = xmalloc(sizeof *b);
    b->tag = BOX_INT;
    b->u.i = v;
    return b;
}

static box *box_str(const char *s, size_t len)
{
    box *b = xmalloc(sizeof *b);
    b->tag = BOX_STR;
    b->u.s = xstrndup(s, len);
    return b;
}

static void box_free(box *b)
{
    if (b->tag == BOX_STR)
        free(b->u.s);
    free(b);
}

/* ---- the per-object dict ---------------------------------------------------- */

typedef struct {
    const char *key; /* interned name, NULL = empty */
    box *val;
} slot;

typedef struct {
    uint32_t used;
    uint32_t cap;    /* power of two, >= DICT_MINSIZE */
    slot *slots;
} dict;

enum { DICT_MINSIZE = 8 };

static dict *dict_new(void)
{
    dict *d = xmalloc(sizeof *d);
    d->used = 0;
    d->cap = DICT_MINSIZE;
    d->slots = xcalloc(DICT_MINSIZE, sizeof *d->slots);
    return d;
}

static box *dict_get(const dict *d, const char *key)
{
    size_t mask = d->cap - 1;
    for (size_t i = hash_ptr(key) & mask;; i = (i + 1) & mask) {
        const slot *s = &d->slots[i];
        if (s->key == key)
            return s->val;
        if (!s->key)
            return NULL;
    }
}

static void dict_grow(dict *d)
{
    uint32_t ncap = d->cap * 2;
    slot *ns = xcalloc(ncap, sizeof *ns);
    for (uint32_t i = 0; i < d->cap; i++) {
        const slot *s = &d->slots[i];
        if (!s->key)
            continue;
        size_t j = hash_ptr(s->key) & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(d->slots);
    d->slots = ns;
    d->cap = ncap;
}

/* Binds a new box to key (the key must not be bound yet). */
static void dict_add(dict *d, const char *key, box *b)
{
    if ((d->used + 1) * 3 > d->cap * 2)
        dict_grow(d);
    size_t mask = d->cap - 1;
    size_t i = hash_ptr(key) & mask;
    while (d->slots[i].key)
        i = (i + 1) & mask;
    d->slots[i].key = key;
    d->slots[i].val = b;
    d->used++;
}

/* setattr(obj, key, int): rewrites the box if bound, else binds a new one. */
static void dict_set_int(dict *d, const char *key, int64_t v)
{
    box *b = dict_get(d, key);
    if (!b) {
        dict_add(d, key, box_int(v));
        return;
    }
    if (b->tag == BOX_STR)
        free(b->u.s);
    b->tag = BOX_INT;
    b->u.i = v;
}

static void dict_free(dict *d)
{
    for (uint32_t i = 0; i < d->cap; i++)
        if (d->slots[i].key)
            box_free(d->slots[i].val);
    free(d->slots);
    free(d);
}

/* ---- the two indexes ---------------------------------------------------------- */

typedef struct {
    uint64_t hash;
    const char *key; /* the string in the player's own uid or name box */
    dict *obj;       /* NULL = empty */
} ientry;

typedef struct {
    ientry *e;
    size_t cap;      /* power of two */
    size_t used;
} index_t;

static void index_init(index_t *t)
{
    t->cap = 8;
    t->used = 0;
    t->e = xcalloc(t->cap, sizeof *t->e);
}

static dict *index_find(const index_t *t, const char *key, size_t len)
{
    uint64_t h = hash_str(key, len);
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const ientry *e = &t->e[i];
        if (!e->obj)
            return NULL;
        if (e->hash == h && memcmp(e->key, key, len) == 0 &&
            e->key[len] == '\0')
            return e->obj;
    }
}

static void index_grow(index_t *t)
{
    size_t ncap = t->cap * 2, mask = ncap - 1;
    ientry *ne = xcalloc(ncap, sizeof *ne);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].obj)
            continue;
        size_t j = (size_t)t->e[i].hash & mask;
        while (ne[j].obj)
            j = (j + 1) & mask;
        ne[j] = t->e[i];
    }
    free(t->e);
    t->e = ne;
    t->cap = ncap;
}

/* Returns 0 if the key is already present (nothing inserted). */
static int index_insert(index_t *t, const char *key, size_t len, dict *obj)
{
    if ((t->used + 1) * 3 > t->cap * 2)
        index_grow(t);
    uint64_t h = hash_str(key, len);
    size_t mask = t->cap - 1, i = (size_t)h & mask;
    for (; t->e[i].obj; i = (i + 1) & mask)
        if (t->e[i].hash == h && memcmp(t->e[i].key, key, len) == 0 &&
            t->e[i].key[len] == '\0')
            return 0;
    t->e[i].hash = h;
    t->e[i].key = key;
    t->e[i].obj = obj;
    t->used++;
    return 1;
}

/* Removes obj's entry under key; backward-shift deletion. */
static void index_remove(index_t *t, const char *key, size_t len,
                         const dict *obj)
{
    uint64_t h = hash_str(key, len);
    size_t mask = t->cap - 1, i = (size_t)h & mask;
    while (t->e[i].obj != obj) {
        if (!t->e[i].obj)
            bench_die("c-dict: index entry for '%s' missing", key);
        i = (i + 1) & mask;
    }
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->e[j].obj)
            break;
        size_t home = (size_t)t->e[j].hash & mask;
        /* e[j] may move to the hole at i unless its home lies in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            t->e[i] = t->e[j];
            i = j;
        }
    }
    t->e[i].obj = NULL;
    t->e[i].key = NULL;
    t->e[i].hash = 0;
    t->used--;
}

/* ---- players ----------------------------------------------------------------- */

typedef struct {
    index_t by_uid, by_name;
    size_t live;
} store;

/* "x=10548;guild=MoonYak;vip=3" -> one attribute per pair; integer text
 * (optional '-', then 1 to 18 digits) is boxed as an int, the rest as a
 * string. */
static void bind_extras(dict *d, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ';')
            continue;
        const char *kv = s + start;
        size_t kvlen = i - start;
        start = i + 1;
        const char *eq = memchr(kv, '=', kvlen);
        if (!eq || eq == kv)
            bench_die("c-dict: bad extra '%.*s'", (int)kvlen, kv);
        const char *key = intern(kv, (size_t)(eq - kv));
        const char *v = eq + 1;
        size_t vlen = kvlen - (size_t)(v - kv);
        size_t d0 = (vlen > 0 && v[0] == '-') ? 1 : 0;
        int num = vlen > d0 && vlen - d0 <= 18;
        int64_t x = 0;
        for (size_t k = d0; k < vlen && num; k++) {
            num = v[k] >= '0' && v[k] <= '9';
            x = x * 10 + (v[k] - '0');
        }
        box *b = num ? box_int(d0 ? -x : x) : box_str(v, vlen);
        box *old = dict_get(d, key);
        if (old) { /* a key given twice: the last one wins, as with setattr */
            size_t mask = d->cap - 1;
            for (size_t j = hash_ptr(key) & mask;; j = (j + 1) & mask)
                if (d->slots[j].key == key) {
                    d->slots[j].val = b;
                    break;
                }
            box_free(old);
        } else {
            dict_add(d, key, b);
        }
    }
}

static dict *player_insert(store *st, const char *uid, size_t ulen,
                           const char *name, size_t nlen, unsigned stat,
                           unsigned level, const char *extras, size_t elen)
{
    dict *d = dict_new();
    box *bu = box_str(uid, ulen), *bn = box_str(name, nlen);
    dict_add(d, K_UID, bu);
    dict_add(d, K_NAME, bn);
    dict_add(d, K_STAT, box_int(stat));
    dict_add(d, K_LEVEL, box_int(level));
    if (elen)
        bind_extras(d, extras, elen);
    if (!index_insert(&st->by_uid, bu->u.s, ulen, d))
        bench_die("c-dict: duplicate uid '%s'", uid);
    if (!index_insert(&st->by_name, bn->u.s, nlen, d))
        bench_die("c-dict: duplicate name '%s'", name);
    st->live++;
    return d;
}

static void player_remove(store *st, dict *d)
{
    const char *uid = dict_get(d, K_UID)->u.s;
    const char *name = dict_get(d, K_NAME)->u.s;
    index_remove(&st->by_uid, uid, strlen(uid), d);
    index_remove(&st->by_name, name, strlen(name), d);
    dict_free(d);
    st->live--;
}

/* Bytes asked of malloc by one player (dict, slots, boxes, strings). */
static size_t player_bytes(const dict *d)
{
    size_t b = sizeof *d + d->cap * sizeof(slot);
    for (uint32_t i = 0; i < d->cap; i++) {
        const box *v = d->slots[i].val;
        if (!d->slots[i].key)
            continue;
        b += sizeof *v;
        if (v->tag == BOX_STR)
            b += strlen(v->u.s) + 1;
    }
    return b;
}

/* ---- the benchmark -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, &a);
    bench_input in;
    bench_read_tsv(a.file, &in);
    const size_t n = in.n;
    const size_t k20 = n / 5;

    /* Harness arrays: allocated and written before RSS0. */
    dict **hs = bench_alloc_touched(n, sizeof *hs);
    uint32_t *perm = bench_alloc_touched(n, sizeof *perm);
    uint32_t *live = bench_alloc_touched(n, sizeof *live);
    bench_rng rng = bench_rng_seed(a.seed);
    bench_permutation(perm, n, &rng);
    bench_keys uids, names;
    bench_keys_make(&uids, &in, perm, BENCH_KEY_UID);
    bench_keys_make(&names, &in, perm, BENCH_KEY_NAME);
    for (size_t i = 0; i < n; i++)
        live[i] = (uint32_t)i;

    K_UID = intern("uid", 3);
    K_NAME = intern("name", 4);
    K_STAT = intern("stat", 4);
    K_LEVEL = intern("level", 5);
    K_VIP = intern("vip", 3);

    bench_result r;
    bench_result_init(&r, "c-dict");
    r.players = n;
    uint64_t sink = 0;

    /* 1. load */
    size_t rss0 = bench_rss_bytes();
    store st;
    index_init(&st.by_uid);
    index_init(&st.by_name);
    st.live = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        const bench_player *p = &in.p[i];
        hs[i] = player_insert(&st, p->uid, p->uid_len, p->name, p->name_len,
                              p->stat, p->level, p->extras, p->extras_len);
    }
    r.insert_ns = (double)(bench_now_ns() - t0) / (double)n;
    size_t rss1 = bench_rss_bytes();
    r.bytes_per_player = ((double)rss1 - (double)rss0) / (double)n;

    size_t accounted = (st.by_uid.cap + st.by_name.cap) * sizeof(ientry);
    size_t dict_slots_8 = 0, dict_slots_16 = 0, boxes = 0;
    for (size_t i = 0; i < n; i++) {
        accounted += player_bytes(hs[i]);
        boxes += hs[i]->used;
        if (hs[i]->cap == 8)
            dict_slots_8++;
        else if (hs[i]->cap == 16)
            dict_slots_16++;
    }
    double index_load = (double)st.by_uid.used / (double)st.by_uid.cap;

    /* checksum: read back from the representation, in uid order (the input
     * is in uid order; each player is found through the uid index). */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const dict *d = index_find(&st.by_uid, in.p[i].uid, in.p[i].uid_len);
        if (d != hs[i])
            bench_die("c-dict: uid %s not found after load", in.p[i].uid);
        const box *u = dict_get(d, K_UID), *nm = dict_get(d, K_NAME);
        const box *stat = dict_get(d, K_STAT), *lv = dict_get(d, K_LEVEL);
        sum += bench_checksum_term(u->u.s, strlen(u->u.s), nm->u.s,
                                   strlen(nm->u.s), (uint64_t)stat->u.i,
                                   (uint64_t)lv->u.i, d->used - 4u);
    }
    r.checksum = sum;

    /* 2. get by uid, random order, reading level */
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        size_t len;
        const char *key = bench_key(&uids, k, &len);
        const dict *d = index_find(&st.by_uid, key, len);
        if (!d)
            bench_die("c-dict: uid %s not found", key);
        sink += (uint64_t)dict_get(d, K_LEVEL)->u.i;
    }
    r.get_uid_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 3. get by name */
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        size_t len;
        const char *key = bench_key(&names, k, &len);
        const dict *d = index_find(&st.by_name, key, len);
        if (!d)
            bench_die("c-dict: name %s not found", key);
        sink += (uint64_t)dict_get(d, K_LEVEL)->u.i;
    }
    r.get_name_ns = (double)(bench_now_ns() - t0) / (double)n;
    bench_keys_free(&uids);
    bench_keys_free(&names);

    /* 4. update level through the handle (the player pointer) */
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++)
        dict_set_int(hs[perm[k]], K_LEVEL, bench_update_level(k));
    r.update_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 5. scan: stat == 1 and level >= 50, over the uid index's entries */
    size_t scan_count = 0;
    t0 = bench_now_ns();
    for (size_t i = 0; i < st.by_uid.cap; i++) {
        const dict *d = st.by_uid.e[i].obj;
        if (d && dict_get(d, K_STAT)->u.i == 1 &&
            dict_get(d, K_LEVEL)->u.i >= 50)
            scan_count++;
    }
    r.scan_ns = (double)(bench_now_ns() - t0) / (double)n;

    /* 6. attributes: getattr(p, <first extra>), then p.vip = int, for every
     * player with extras, in the random order. */
    size_t m = in.n_with_extras;
    if (m) {
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            const bench_player *p = &in.p[perm[k]];
            if (!p->extras_len)
                continue;
            size_t klen;
            const char *name = bench_first_key(p->extras, p->extras_len, &klen);
            const char *key = intern_find(name, klen);
            const box *b = key ? dict_get(hs[perm[k]], key) : NULL;
            if (!b)
                bench_die("c-dict: attribute %.*s missing", (int)klen, name);
            sink += b->tag == BOX_STR ? strlen(b->u.s) : (uint64_t)b->u.i;
        }
        r.attr_get_ns = (double)(bench_now_ns() - t0) / (double)m;
        size_t j = 0;
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            if (!in.p[perm[k]].extras_len)
                continue;
            dict_set_int(hs[perm[k]], K_VIP, bench_vip_value(j++));
        }
        r.attr_set_ns = (double)(bench_now_ns() - t0) / (double)m;
    }

    /* 7. churn: R rounds, a random 20% removed, as many new players in */
    uint64_t next_uid = in.max_uid_num + 1;
    size_t rss_c0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (unsigned round = 0; round < a.rounds && k20; round++) {
        bench_pick(live, n, k20, &rng);
        for (size_t j = 0; j < k20; j++)
            player_remove(&st, hs[live[j]]);
        for (size_t j = 0; j < k20; j++) {
            char uid[32], name[40];
            size_t ulen = bench_churn_uid(uid, next_uid++);
            size_t nlen = bench_churn_name(name, uid, ulen);
            hs[live[j]] = player_insert(&st, uid, ulen, name, nlen, 1, 1,
                                        NULL, 0);
        }
    }
    uint64_t churn_t = bench_now_ns() - t0;
    size_t rss_c1 = bench_rss_bytes();
    if (a.rounds && k20) {
        r.churn_ns = (double)churn_t / (2.0 * (double)k20 * (double)a.rounds);
        r.churn_growth_bytes_per_player =
            ((double)rss_c1 - (double)rss_c0) / (double)n;
    }

    /* sanity (untimed): n players, each found by its uid and its name */
    if (st.live != n || st.by_uid.used != n || st.by_name.used != n)
        bench_die("c-dict: %zu live players after churn, expected %zu",
                  st.live, n);
    for (size_t i = 0; i < n; i++) {
        const char *u = dict_get(hs[i], K_UID)->u.s;
        const char *nm = dict_get(hs[i], K_NAME)->u.s;
        if (index_find(&st.by_uid, u, strlen(u)) != hs[i] ||
            index_find(&st.by_name, nm, strlen(nm)) != hs[i])
            bench_die("c-dict: index inconsistent after churn");
    }

    char extra[512];
    snprintf(extra, sizeof extra,
             "\"accounted_bytes_per_player\": %.2f, \"key_strings\": "
             "\"interned\", \"boxes_per_player\": %.3f, \"dicts_cap8\": %zu, "
             "\"dicts_cap16\": %zu, \"index_load\": %.3f, \"indexes\": 2, "
             "\"players_with_extras\": %zu, \"scan_count\": %zu, "
             "\"rounds\": %u, \"seed\": %llu, \"sink\": %llu",
             (double)accounted / (double)n, (double)boxes / (double)n,
             dict_slots_8, dict_slots_16, index_load, m, scan_count, a.rounds,
             (unsigned long long)a.seed, (unsigned long long)sink);
    r.extra_json = extra;
    bench_print_json(&r);

    for (size_t i = 0; i < n; i++)
        dict_free(hs[i]);
    free(st.by_uid.e);
    free(st.by_name.e);
    intern_free();
    free(hs);
    free(perm);
    free(live);
    free(in.p);
    free(in.buf);
    return 0;
}
