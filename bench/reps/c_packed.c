/* c_packed.c: the "c-packed" baseline of `roster bench` (see PROTOCOL.md).
 *
 * What a careful C programmer writes in an afternoon to hold millions of
 * players, and the layout DESIGN.md's anchor figure (~51 bytes a player at
 * 1M) was measured on:
 *
 * - Rows: one array of fixed-width rows, grown by doubling with realloc.
 *   The input is scanned first, so uid and name are stored inline at the
 *   width of the longest value (churn uids and `p<uid>` names included),
 *   NUL-padded; with the canonical data a row is
 *       u32 extras offset | u16 level | u8 stat | u8 live | uid[7] | name[12]
 *   = 27 bytes, padded to 28 so the 32-bit word stays aligned.  No
 *   per-record or per-string allocation; a row number is the handle.
 * - Indexes: two open-addressing hash tables of 32-bit row numbers
 *   (row + 1; 0 = empty, UINT32_MAX = deleted), one by uid and one by name,
 *   power-of-two capacity, linear probing, doubled when the load would pass
 *   1/2.  This is the anchor's "two power-of-two tables of 32-bit slots": at
 *   1M players each table has 2^21 slots (load 0.48), 8 bytes a player per
 *   table.  No stored hash: a probe compares the key against the row, which
 *   is one cache miss since the row is small and the keys are inline.
 * - Hash: a word-at-a-time multiply/xor-shift hash written here (the
 *   wyhash/murmur family's idea, 8 bytes per step), not FNV byte by byte.
 *   Probe counts at 1M match FNV-1a's (about 1.45 slots per insert).
 * - Extras: one growing byte arena of "key=value;..." text, NUL-terminated;
 *   a row holds a 32-bit offset into it, 0 for none (byte 0 is reserved).
 *   attr_get parses the row's text for the key; attr_set writes the row's
 *   new text at the arena's end and repoints the row (the old text becomes
 *   garbage; no compaction, which is what an afternoon's version does).
 * - Removal: the row goes onto a free list (threaded through its extras
 *   word) and is reused by the next insert; its two hash entries become
 *   tombstones, and a table is rebuilt in place when its tombstones pass 1/4
 *   of its slots.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wconversion
 *        -Wmissing-prototypes -Werror -D_POSIX_C_SOURCE=200809L
 *        bench/reps/c_packed.c -o c_packed
 */
#include "common.h"

/* ---- hash --------------------------------------------------------------- */

static uint64_t rd64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    return h ^ (h >> 32);
}

/* Fixed-size loads only (wyhash's trick: a 4..7-byte key is read as two
 * overlapping 32-bit words, a longer key's tail as an overlapping 64-bit
 * word), so there is no variable-length memcpy call on the lookup path: one
 * here made lookups 3 times slower at 1M players. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0x243F6A8885A308D3ULL ^ ((uint64_t)len * 0x9E3779B97F4A7C15ULL);
    if (len >= 8) {
        const char *last = key + len - 8;
        for (; key < last; key += 8)
            h = mix(h, rd64(key));
        h = mix(h, rd64(last));
    } else if (len >= 4) {
        h = mix(h, rd32(key) | rd32(key + len - 4) << 32);
    } else if (len > 0) {
        const unsigned char *u = (const unsigned char *)key;
        h = mix(h, (uint64_t)u[0] << 16 | (uint64_t)u[len >> 1] << 8 | u[len - 1]);
    }
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

/* ---- the store ------------------------------------------------------------ */

enum { KEY_UID = 0, KEY_NAME = 1 };
enum { OFF_EXTRAS = 0, OFF_LEVEL = 4, OFF_STAT = 6, OFF_LIVE = 7, OFF_KEYS = 8 };

#define SLOT_EMPTY 0u
#define SLOT_TOMB UINT32_MAX
#define NO_ROW UINT32_MAX

typedef struct {
    uint32_t *slot; /* row + 1, SLOT_EMPTY or SLOT_TOMB */
    uint32_t cap;   /* power of two */
    uint32_t used;  /* live entries */
    uint32_t tomb;  /* tombstones */
    int which;      /* KEY_UID or KEY_NAME */
} table;

typedef struct {
    unsigned char *rows;
    size_t stride;
    size_t key_off[2], key_w[2]; /* offset and width of uid, name in a row */
    uint32_t n_rows;             /* high-water mark */
    uint32_t cap_rows;
    uint32_t free_head;          /* row + 1 of the first free row, 0 = none */
    uint32_t live;
    table idx[2];
    char *arena;
    size_t arena_len, arena_cap;
} store;

static unsigned char *row_ptr(const store *s, uint32_t r)
{
    return s->rows + (size_t)r * s->stride;
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

static uint16_t row_level(const store *s, uint32_t r)
{
    uint16_t v;
    memcpy(&v, row_ptr(s, r) + OFF_LEVEL, 2);
    return v;
}

static void row_set_level(store *s, uint32_t r, uint16_t v)
{
    memcpy(row_ptr(s, r) + OFF_LEVEL, &v, 2);
}

static const char *row_key(const store *s, uint32_t r, int which, size_t *len)
{
    const char *k = (const char *)row_ptr(s, r) + s->key_off[which];
    *len = strnlen(k, s->key_w[which]);
    return k;
}

static int row_key_eq(const store *s, uint32_t r, int which, const char *key,
                      size_t len)
{
    const char *k = (const char *)row_ptr(s, r) + s->key_off[which];
    return memcmp(k, key, len) == 0 && (len == s->key_w[which] || k[len] == 0);
}

static void store_init(store *s, size_t uid_w, size_t name_w)
{
    memset(s, 0, sizeof *s);
    s->key_off[KEY_UID] = OFF_KEYS;
    s->key_w[KEY_UID] = uid_w;
    s->key_off[KEY_NAME] = OFF_KEYS + uid_w;
    s->key_w[KEY_NAME] = name_w;
    s->stride = (OFF_KEYS + uid_w + name_w + 3) & ~(size_t)3;
    for (int w = 0; w < 2; w++) {
        s->idx[w].which = w;
        s->idx[w].cap = 16;
        s->idx[w].slot = calloc(16, sizeof(uint32_t));
        if (!s->idx[w].slot)
            bench_die("c-packed: out of memory");
    }
    s->arena_cap = 4096;
    s->arena = malloc(s->arena_cap);
    if (!s->arena)
        bench_die("c-packed: out of memory");
    s->arena[0] = '\0';
    s->arena_len = 1; /* offset 0 means "no extras" */
}

static void store_free(store *s)
{
    free(s->rows);
    free(s->idx[0].slot);
    free(s->idx[1].slot);
    free(s->arena);
}

/* Rebuilds t at capacity new_cap (a power of two), dropping tombstones. */
static void tab_rehash(const store *s, table *t, uint32_t new_cap)
{
    uint32_t *old = t->slot, old_cap = t->cap;
    uint32_t *slot = calloc(new_cap, sizeof *slot);
    if (!slot)
        bench_die("c-packed: out of memory (index of %u slots)", new_cap);
    uint32_t mask = new_cap - 1;
    for (uint32_t i = 0; i < old_cap; i++) {
        uint32_t v = old[i];
        if (v == SLOT_EMPTY || v == SLOT_TOMB)
            continue;
        size_t len;
        const char *k = row_key(s, v - 1, t->which, &len);
        uint32_t j = (uint32_t)hash_key(k, len) & mask;
        while (slot[j] != SLOT_EMPTY)
            j = (j + 1) & mask;
        slot[j] = v;
    }
    free(old);
    t->slot = slot;
    t->cap = new_cap;
    t->tomb = 0;
}

static uint32_t tab_find(const store *s, const table *t, const char *key,
                         size_t len)
{
    uint32_t mask = t->cap - 1;
    uint32_t i = (uint32_t)hash_key(key, len) & mask;
    for (;;) {
        uint32_t v = t->slot[i];
        if (v == SLOT_EMPTY)
            return NO_ROW;
        if (v != SLOT_TOMB && row_key_eq(s, v - 1, t->which, key, len))
            return v - 1;
        i = (i + 1) & mask;
    }
}

/* Where key would go (first tombstone or the empty slot ending the probe);
 * NULL if key is already present. */
static uint32_t *tab_slot_for(const store *s, const table *t, const char *key,
                              size_t len)
{
    uint32_t mask = t->cap - 1;
    uint32_t i = (uint32_t)hash_key(key, len) & mask;
    uint32_t *first_tomb = NULL;
    for (;;) {
        uint32_t v = t->slot[i];
        if (v == SLOT_EMPTY)
            return first_tomb ? first_tomb : &t->slot[i];
        if (v == SLOT_TOMB) {
            if (!first_tomb)
                first_tomb = &t->slot[i];
        } else if (row_key_eq(s, v - 1, t->which, key, len)) {
            return NULL;
        }
        i = (i + 1) & mask;
    }
}

static void tab_fill(table *t, uint32_t *slot, uint32_t row)
{
    if (*slot == SLOT_TOMB)
        t->tomb--;
    *slot = row + 1;
    t->used++;
}

static void tab_erase(const store *s, table *t, uint32_t row)
{
    size_t len;
    const char *k = row_key(s, row, t->which, &len);
    uint32_t mask = t->cap - 1;
    uint32_t i = (uint32_t)hash_key(k, len) & mask;
    while (t->slot[i] != row + 1) {
        if (t->slot[i] == SLOT_EMPTY)
            bench_die("c-packed: row %u missing from its index", row);
        i = (i + 1) & mask;
    }
    t->slot[i] = SLOT_TOMB;
    t->used--;
    t->tomb++;
    if (t->tomb > t->cap / 4)
        tab_rehash(s, t, t->cap);
}

/* Appends len bytes plus a NUL to the arena; returns the offset. */
static uint32_t arena_reserve(store *s, size_t len)
{
    if (s->arena_len + len + 1 > s->arena_cap) {
        size_t cap = s->arena_cap;
        while (s->arena_len + len + 1 > cap)
            cap *= 2;
        if (cap > (size_t)UINT32_MAX + 1)
            bench_die("c-packed: extras arena past 4 GiB");
        char *a = realloc(s->arena, cap);
        if (!a)
            bench_die("c-packed: out of memory (arena)");
        s->arena = a;
        s->arena_cap = cap;
    }
    uint32_t off = (uint32_t)s->arena_len;
    s->arena_len += len + 1;
    return off;
}

/* Inserts a player; returns its row, or NO_ROW if uid or name is taken or
 * does not fit the row's widths (the store is then unchanged). */
static uint32_t store_insert(store *s, const char *uid, size_t uid_len,
                             const char *name, size_t name_len, uint8_t stat,
                             uint16_t level, const char *extras,
                             size_t extras_len)
{
    if (uid_len == 0 || uid_len > s->key_w[KEY_UID] || name_len == 0 ||
        name_len > s->key_w[KEY_NAME])
        return NO_ROW;
    for (int w = 0; w < 2; w++) { /* keep load <= 1/2 after this insert */
        table *t = &s->idx[w];
        if ((uint64_t)(t->used + 1) * 2 > t->cap)
            tab_rehash(s, t, t->cap * 2);
    }
    uint32_t *su = tab_slot_for(s, &s->idx[KEY_UID], uid, uid_len);
    uint32_t *sn = tab_slot_for(s, &s->idx[KEY_NAME], name, name_len);
    if (!su || !sn)
        return NO_ROW;

    uint32_t r;
    if (s->free_head) {
        r = s->free_head - 1;
        s->free_head = get_u32(row_ptr(s, r) + OFF_EXTRAS);
    } else {
        if (s->n_rows == s->cap_rows) {
            uint32_t cap = s->cap_rows ? s->cap_rows * 2 : 1024;
            if (cap >= NO_ROW - 1)
                bench_die("c-packed: too many rows");
            unsigned char *rows = realloc(s->rows, (size_t)cap * s->stride);
            if (!rows)
                bench_die("c-packed: out of memory (rows)");
            s->rows = rows;
            s->cap_rows = cap;
        }
        r = s->n_rows++;
    }
    uint32_t xoff = 0;
    if (extras_len) {
        xoff = arena_reserve(s, extras_len);
        memcpy(s->arena + xoff, extras, extras_len);
        s->arena[xoff + extras_len] = '\0';
    }
    unsigned char *p = row_ptr(s, r);
    memset(p, 0, s->stride);
    put_u32(p + OFF_EXTRAS, xoff);
    memcpy(p + OFF_LEVEL, &level, 2);
    p[OFF_STAT] = stat;
    p[OFF_LIVE] = 1;
    memcpy(p + s->key_off[KEY_UID], uid, uid_len);
    memcpy(p + s->key_off[KEY_NAME], name, name_len);
    tab_fill(&s->idx[KEY_UID], su, r);
    tab_fill(&s->idx[KEY_NAME], sn, r);
    s->live++;
    return r;
}

static void store_remove(store *s, uint32_t r)
{
    unsigned char *p = row_ptr(s, r);
    if (!p[OFF_LIVE])
        bench_die("c-packed: removing a free row %u", r);
    tab_erase(s, &s->idx[KEY_UID], r);
    tab_erase(s, &s->idx[KEY_NAME], r);
    p[OFF_LIVE] = 0;
    put_u32(p + OFF_EXTRAS, s->free_head); /* the extras text is garbage now */
    s->free_head = r + 1;
    s->live--;
}

static const char *row_extras(const store *s, uint32_t r)
{
    return s->arena + get_u32(row_ptr(s, r) + OFF_EXTRAS);
}

/* Value of extra attribute key for row r (length in *vlen), or NULL. */
static const char *attr_get(const store *s, uint32_t r, const char *key,
                            size_t klen, size_t *vlen)
{
    const char *t = row_extras(s, r);
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

/* Sets extra attribute key to the integer v: writes the row's new extras
 * text at the arena's end (replacing key's value in place in the text, or
 * appending key=v) and points the row at it. */
static void attr_set_uint(store *s, uint32_t r, const char *key, size_t klen,
                          unsigned v)
{
    uint32_t old = get_u32(row_ptr(s, r) + OFF_EXTRAS);
    size_t old_len = strlen(s->arena + old);
    uint32_t off = arena_reserve(s, old_len + klen + 12); /* may move arena */
    const char *t = s->arena + old;
    char *out = s->arena + off, *o = out;
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
    s->arena_len = off + (size_t)(o - out) + 1; /* give back the slack */
    put_u32(row_ptr(s, r) + OFF_EXTRAS, off);
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

    /* Size the rows to the longest values, churn's new players included. */
    char ubuf[32], nbuf[40];
    uint64_t last_uid = in.max_uid_num + (uint64_t)churn_k * a.rounds;
    size_t churn_uid_len = bench_churn_uid(ubuf, last_uid);
    size_t uid_w = in.max_uid_len > churn_uid_len ? in.max_uid_len : churn_uid_len;
    size_t name_w = in.max_name_len > churn_uid_len + 1 ? in.max_name_len
                                                        : churn_uid_len + 1;
    if (n >= NO_ROW / 2)
        bench_die("c-packed: too many players");

    /* Harness arrays: allocated and written before RSS0. */
    uint32_t *handle = bench_alloc_touched(n, sizeof *handle);
    uint32_t *churn_idx = bench_alloc_touched(n, sizeof *churn_idx);
    char *churn_uids = bench_alloc_touched(churn_k ? churn_k : 1, 32);
    for (size_t i = 0; i < n; i++)
        churn_idx[i] = (uint32_t)i;

    store s;
    store_init(&s, uid_w, name_w);
    bench_result res;
    bench_result_init(&res, "c-packed");
    res.players = n;
    bench_rng rng = bench_rng_seed(a.seed);
    uint64_t sink = 0;

    /* 1. load */
    size_t rss0 = bench_rss_bytes();
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        const bench_player *p = &in.p[i];
        uint32_t r = store_insert(&s, p->uid, p->uid_len, p->name, p->name_len,
                                  p->stat, p->level, p->extras, p->extras_len);
        if (r == NO_ROW)
            bench_die("c-packed: cannot insert line %zu (uid %s, name %s):"
                      " duplicate or too long", i + 1, p->uid, p->name);
        handle[i] = r;
    }
    uint64_t t1 = bench_now_ns();
    size_t rss1 = bench_rss_bytes();
    res.insert_ns = (double)(t1 - t0) / (double)n;
    res.bytes_per_player = ((double)rss1 - (double)rss0) / (double)n;
    size_t accounted = (size_t)s.n_rows * s.stride +
                       ((size_t)s.idx[0].cap + s.idx[1].cap) * sizeof(uint32_t) +
                       s.arena_len;
    double index_load = (double)s.idx[0].used / (double)s.idx[0].cap;

    /* checksum: read back from the store, in uid order */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = tab_find(&s, &s.idx[KEY_UID], in.p[i].uid, in.p[i].uid_len);
        if (r != handle[i])
            bench_die("c-packed: uid %s not found after load", in.p[i].uid);
        size_t ulen, nlen;
        const char *u = row_key(&s, r, KEY_UID, &ulen);
        const char *nm = row_key(&s, r, KEY_NAME, &nlen);
        const char *x = row_extras(&s, r);
        sum += bench_checksum_term(u, ulen, nm, nlen, row_ptr(&s, r)[OFF_STAT],
                                   row_level(&s, r),
                                   bench_count_extras(x, strlen(x)));
    }
    res.checksum = sum;

    /* 2./3. lookups by uid, then by name, in random order */
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        bench_die("c-packed: out of memory");
    for (int which = 0; which < 2; which++) {
        bench_permutation(perm, n, &rng);
        bench_keys ks;
        bench_keys_make(&ks, &in, perm, which == 0 ? BENCH_KEY_UID : BENCH_KEY_NAME);
        const table *t = &s.idx[which == 0 ? KEY_UID : KEY_NAME];
        t0 = bench_now_ns();
        for (size_t k = 0; k < n; k++) {
            size_t len;
            const char *key = bench_key(&ks, k, &len);
            uint32_t r = tab_find(&s, t, key, len);
            if (r == NO_ROW)
                bench_die("c-packed: key %s not found", key);
            sink += row_level(&s, r);
        }
        t1 = bench_now_ns();
        bench_keys_free(&ks);
        if (which == 0)
            res.get_uid_ns = (double)(t1 - t0) / (double)n;
        else
            res.get_name_ns = (double)(t1 - t0) / (double)n;
    }

    /* 4. update level through the handle, random order */
    bench_permutation(perm, n, &rng);
    t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++)
        row_set_level(&s, handle[perm[k]], bench_update_level(k));
    t1 = bench_now_ns();
    res.update_ns = (double)(t1 - t0) / (double)n;

    /* 5. scan: stat == 1 and level >= 50 */
    size_t scan_count = 0;
    t0 = bench_now_ns();
    for (uint32_t r = 0; r < s.n_rows; r++) {
        const unsigned char *p = row_ptr(&s, r);
        if (p[OFF_LIVE] && p[OFF_STAT] == 1 && row_level(&s, r) >= 50)
            scan_count++;
    }
    t1 = bench_now_ns();
    res.scan_ns = (double)(t1 - t0) / (double)n;

    /* 6. dynamic attributes: read the first extra, then set vip */
    size_t m = in.n_with_extras;
    if (m) {
        uint32_t *xs = malloc(m * sizeof *xs), *xperm = malloc(m * sizeof *xperm);
        uint32_t *xrow = malloc(m * sizeof *xrow);
        const char **xkey = malloc(m * sizeof *xkey);
        size_t *xklen = malloc(m * sizeof *xklen);
        if (!xs || !xperm || !xrow || !xkey || !xklen)
            bench_die("c-packed: out of memory");
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (in.p[i].extras_len)
                xs[j++] = (uint32_t)i;
        bench_permutation(xperm, m, &rng);
        for (size_t k = 0; k < m; k++) {
            const bench_player *p = &in.p[xs[xperm[k]]];
            xrow[k] = handle[xs[xperm[k]]];
            xkey[k] = bench_first_key(p->extras, p->extras_len, &xklen[k]);
        }
        t0 = bench_now_ns();
        for (size_t k = 0; k < m; k++) {
            size_t vlen;
            const char *v = attr_get(&s, xrow[k], xkey[k], xklen[k], &vlen);
            if (!v)
                bench_die("c-packed: extra missing on row %u", xrow[k]);
            sink += vlen + (unsigned char)v[0];
        }
        t1 = bench_now_ns();
        res.attr_get_ns = (double)(t1 - t0) / (double)m;
        t0 = bench_now_ns();
        for (size_t k = 0; k < m; k++)
            attr_set_uint(&s, xrow[k], "vip", 3, bench_vip_value(k));
        t1 = bench_now_ns();
        res.attr_set_ns = (double)(t1 - t0) / (double)m;
        free(xs); free(xperm); free(xrow); free(xkey); free(xklen);
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
            store_remove(&s, handle[churn_idx[j]]);
        for (size_t j = 0; j < churn_k; j++) {
            const char *u = churn_uids + j * 32;
            size_t ulen = strlen(u);
            size_t nlen = bench_churn_name(nbuf, u, ulen);
            uint32_t r = store_insert(&s, u, ulen, nbuf, nlen, 1, 1, NULL, 0);
            if (r == NO_ROW)
                bench_die("c-packed: churn insert of %s failed", u);
            handle[churn_idx[j]] = r;
        }
        churn_t += bench_now_ns() - t0;
    }
    size_t rss_c1 = bench_rss_bytes();
    if (churn_k && a.rounds) {
        res.churn_ns = (double)churn_t / (2.0 * (double)churn_k * a.rounds);
        res.churn_growth_bytes_per_player =
            ((double)rss_c1 - (double)rss_c0) / (double)n;
    }
    /* sanity (untimed): every handle still finds itself by its uid */
    if (s.live != n)
        bench_die("c-packed: %u live rows after churn, expected %zu", s.live, n);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *u = row_key(&s, handle[i], KEY_UID, &len);
        if (tab_find(&s, &s.idx[KEY_UID], u, len) != handle[i])
            bench_die("c-packed: index inconsistent after churn");
    }

    char extra[512];
    snprintf(extra, sizeof extra,
             "\"accounted_bytes_per_player\": %.2f, \"row_bytes\": %zu, "
             "\"index_load\": %.3f, \"scan_count\": %zu, \"sink\": %llu",
             (double)accounted / (double)n, s.stride, index_load, scan_count,
             (unsigned long long)sink);
    res.extra_json = extra;
    bench_print_json(&res);

    store_free(&s);
    free(handle);
    free(churn_idx);
    free(churn_uids);
    free(in.p);
    free(in.buf);
    (void)ubuf;
    return 0;
}
