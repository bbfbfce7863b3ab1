/*
 * test_model.c: the randomized model test.
 *
 * A seeded stream of random operations runs on a store and, side by side, on
 * a deliberately naive model: an unordered array of records searched
 * linearly, with its own value rules (type, range, length, UTF-8), its own
 * uniqueness checks and its own scan filter, written from roster.h and not
 * from the library's code.  After every operation the test compares what can
 * be observed: the exact status (RS_OK or the error the model predicts), the
 * rs_errmsg() contract (empty after success, set after failure), rs_count(),
 * the record touched, the record and string bytes of rs_mem(), and the
 * allocator's live bytes and blocks against rs_mem().  A failing operation
 * must leave rs_mem() exactly as it was.  Every K operations and at the end
 * it compares everything: each model record found by key and by name with
 * identical fields and size, a full scan returning exactly the model's set
 * in slot order, the accounting, and rs__store_check()'s walk of the
 * internal structures.
 *
 * The classes: two with the same fields,
 *
 *     Player {
 *         uid: str(12) key; name: str(20) unique; stat: u8 = 0;
 *         level: u16 = 1; score: i32 = -1; ratio: f64 = 0.0; flag: bool;
 *         tag: str(40) inline(7)
 *     } dynamic
 *
 * and Player2, the same but not dynamic: its records refuse undeclared
 * names like Python's __slots__ ("'Player2' object has no attribute 'y'").
 * Most operations pick Player.
 *
 * Operations: inserts (duplicate keys and names, values out of range, too
 * long, invalid UTF-8 or of the wrong type, unknown or repeated attributes,
 * the key left out, fields left to their defaults, dynamic attributes among
 * the values), removes (live, stale and made-up handles), sets by field
 * number, by name and through the typed setters (duplicates of unique
 * fields, a record's own value, values borrowed from the store), lookups by
 * key and by unique field, every getter on live and stale handles, filtered
 * scans (an AND of =, !=, <, <=, >, >=, PREFIX on numbers of every type and
 * on strings, on declared fields and on dynamic attributes, or a bad
 * condition), and scans that remove or set the record just returned, by
 * rs_scan_next(), by it with the scan reopened at rs_scan_cursor() now
 * and then, or by rs_scan_batch() from cursor to cursor.  One
 * call in ten that may allocate runs with one of its first allocations
 * failing: it may then fail with RS_ENOMEM where the model expected success,
 * and must have changed nothing.
 *
 * Dynamic attributes: the model keeps each record's attributes as an
 * ordered list (binding order; a rebind keeps the place, a delete removes,
 * as a Python dict does), the store's interned names in interning order and
 * the tree of shapes (attrs.c: a shape per distinct list of names, reached
 * by transitions from the empty one, at most RS_SHAPES_MAX, then the list
 * form), so that it predicts each record's block, rs_record_size() and the
 * attrs category exactly.  Operations: bind a name (a pool of 8 so shapes
 * repeat, now and then a fresh one so they multiply, an invalid one, the
 * longest valid one), rebind with another type (integers of every width,
 * negative, u64 above INT64_MAX, floats, bools, strings of 0..40 bytes,
 * rarely long ones, invalid UTF-8, more than 65535 bytes), by name or by
 * the id of rs_attr_id() through rs_set_field(), with values borrowed from
 * the same record; delete (bound, unbound, declared); read (bound, missing,
 * through every typed getter); rs_attr_id(), rs_dir() and rs_dict() with
 * short capacities; the same on Player2, which refuses.  The full
 * comparison also compares every record's rs_dict(), rs_dir() and
 * rs_record_size(), and each step rs_mem()'s attrs bytes, n_attr_names and
 * n_shapes.  Two fixed cases follow the random runs: a record with the
 * most attributes (255: one more is RS_EFULL), and an insert that takes an
 * arena cell for each of 255 string fields and one for its attributes.
 *
 * Keys and names come from a few thousand values, so duplicates, reuse of
 * removed keys and the empty-name default colliding are frequent; strings
 * sit on both sides of the inline limits (7 bytes for uid and tag, 15 for
 * name).  The population grows to about a thousand records and shrinks in
 * phases, so the class also goes empty and regrows.
 *
 *     test_model                      every case
 *     test_model model                the main run (seed 1)
 *     test_model --seed S [--ops N]   replay seed S (N operations; a
 *                                     failure prints the exact line)
 *     test_model --check-every K      full comparison every K operations
 *     test_model --trace              population at each phase change
 *
 * On the first difference it prints the seed, the step, the operation and
 * both sides, and exits 1.  The main run ends with how often each call gave
 * each status, to show what it covered.  Linked with the small-page
 * library, so a few dozen records already cross pages and split index
 * segments.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs__store_check: the structure walk */

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>

/* ------------------------------------------------------------------------ */
/* Run parameters and failure reporting                                      */
/* ------------------------------------------------------------------------ */

#define DEFAULT_OPS 200000
#define DEFAULT_CHECK_EVERY 1000

static uint64_t opt_seed = 1;
static long opt_ops = DEFAULT_OPS;
static long opt_check_every = DEFAULT_CHECK_EVERY;
static bool opt_seed_given;
static bool opt_trace;

static uint64_t g_seed;
static long g_step;
static long g_ops, g_check_every; /* of the run, for the replay line */
static char g_op[2048]; /* the operation being run, for the report */

static void fail(const char *fmt, ...) RS_PRINTF(1, 2);

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "test_model: seed %" PRIu64 " step %ld: %s\n  ", g_seed,
            g_step, g_op);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* The same number of operations: phases are a fraction of it. */
    fprintf(stderr,
            "\n  replay: test_model --seed %" PRIu64 " --ops %ld "
            "--check-every %ld\n",
            g_seed, g_ops, g_check_every);
    exit(1);
}

static void desc(const char *fmt, ...) RS_PRINTF(1, 2);

/* Append to the description of the current operation. */
static void desc(const char *fmt, ...)
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

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static int irand(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static bool chance(int pct)
{
    return irand(100) < pct;
}

/* ------------------------------------------------------------------------ */
/* A counting allocator: live bytes and blocks, and the size contract        */
/* ------------------------------------------------------------------------ */

typedef struct counting {
    size_t live_bytes, live_blocks;
    long fail_at; /* fail this allocation or growth of the call; 0: none */
    long n_grows; /* allocations and growths since armed */
    long failed;  /* failures injected since armed */
} counting;

static counting g_alloc;

/* Each block carries its size in a 16-byte header, so a free or realloc
 * with the wrong old_len (inexact accounting) is caught at once. */
static void *count_alloc(void *ud, void *ptr, size_t old_len, size_t new_len)
{
    counting *a = ud;
    unsigned char *base = ptr ? (unsigned char *)ptr - 16 : NULL;
    if (base) {
        size_t had;
        memcpy(&had, base, sizeof had);
        if (had != old_len) {
            fail("allocator: old_len %zu for a block of %zu bytes", old_len,
                 had);
        }
    } else if (old_len != 0) {
        fail("allocator: NULL pointer with old_len %zu", old_len);
    }
    if (new_len == 0) {
        if (base) {
            a->live_bytes -= old_len;
            a->live_blocks--;
            free(base);
        }
        return NULL;
    }
    if ((base == NULL || new_len > old_len) && a->fail_at > 0 &&
        ++a->n_grows == a->fail_at) {
        a->failed++; /* shrinks never fail: the rs_alloc_fn contract */
        return NULL;
    }
    unsigned char *p = realloc(base, new_len + 16);
    if (p == NULL) {
        fail("allocator: the C library is out of memory");
    }
    memcpy(p, &new_len, sizeof new_len);
    a->live_bytes = a->live_bytes - old_len + new_len;
    if (base == NULL) {
        a->live_blocks++;
    }
    return p + 16;
}

/* Now and then a call that may allocate runs with one of its first few
 * allocations failing.  If the model expects it to succeed it may then
 * fail with RS_ENOMEM instead, and must have changed nothing. */
static void maybe_arm(void)
{
    g_alloc.n_grows = 0;
    g_alloc.failed = 0;
    g_alloc.fail_at = chance(10) ? 1 + irand(3) : 0;
}

/* Disarm; whether the call's RS_ENOMEM was the injected failure. */
static bool injected(rs_status rc)
{
    g_alloc.fail_at = 0;
    return rc == RS_ENOMEM && g_alloc.failed > 0;
}

/* ------------------------------------------------------------------------ */
/* The class                                                                 */
/* ------------------------------------------------------------------------ */

enum { F_UID, F_NAME, F_STAT, F_LEVEL, F_SCORE, F_RATIO, F_FLAG, F_TAG, NF };

/* tag keeps 7 bytes inline (out of line past that), name the default 15
 * for its length, uid the default 7: both inline limits get crossed. */
static const rs_field_def defs[NF] = {
    {.name = "uid", .type = RS_STR, .max_len = 12, .flags = RS_FIELD_KEY},
    {.name = "name", .type = RS_STR, .max_len = 20, .flags = RS_FIELD_UNIQUE},
    {.name = "stat", .type = RS_U8, .has_default = true,
     .def = {.type = RS_U8, .v.u = 0}},
    {.name = "level", .type = RS_U16, .has_default = true,
     .def = {.type = RS_U16, .v.u = 1}},
    {.name = "score", .type = RS_I32, .has_default = true,
     .def = {.type = RS_I32, .v.i = -1}},
    {.name = "ratio", .type = RS_F64, .has_default = true,
     .def = {.type = RS_F64, .v.f = 0.0}},
    {.name = "flag", .type = RS_BOOL},
    {.name = "tag", .type = RS_STR, .max_len = 40, .inline_len = 7},
};

static rs_store *st;

/* The two classes of the run: the same fields, Player dynamic, Player2
 * not (its records refuse undeclared names, like __slots__). */
enum { C_DYN, C_SLOTS, NC };
static const char *const class_names[NC] = {"Player", "Player2"};
static rs_class *classes[NC];
static rs_class *cls; /* the one class of test_set_own_borrowed_value */

/* The longest value of each string field kept in the row (roster.h,
 * rs_field_def.inline_len: 7 or 15 by default) and the row's width (not
 * API: read from the class), fixed at setup.  Longer strings cost exactly
 * their length in the arena (strs.h: one pool per length up to 128). */
static size_t row_len;
static size_t inline_max[NF];

static bool is_str(int f)
{
    return defs[f].type == RS_STR;
}

static bool is_indexed(int f)
{
    return defs[f].flags != 0;
}

static bool t_signed(rs_type t)
{
    return t >= RS_I8 && t <= RS_I64;
}

static bool t_unsigned(rs_type t)
{
    return t >= RS_U8 && t <= RS_U64;
}

/* ------------------------------------------------------------------------ */
/* The model                                                                 */
/* ------------------------------------------------------------------------ */

/* A field's value in the model: the member its type uses. */
typedef struct mval {
    int64_t i;  /* i32 */
    uint64_t u; /* u8, u16 */
    double f;   /* f64 */
    bool b;     /* bool */
    size_t len; /* str */
    char s[48];
} mval;

/* A dynamic attribute in the model: its name's id (the store's: names are
 * numbered in the order they are interned) and its value, normalized as
 * the store keeps it (roster.h, rs_value: any integer reads back as i64,
 * or u64 above INT64_MAX; floats as f64).  Strings up to ASHORT bytes are
 * kept; longer ones are always LONG_CH repeated (the generator makes no
 * others), so the model keeps only their length. */
#define ASHORT 64
#define LONG_CH 'L'
#define ATTR_STR_MAX 65535 /* roster.h: bytes in a string attribute */
#define ATTRS_PER_RECORD 255
#define MAX_MATTRS 32  /* the model's room; the generator stays below */
#define BUSY_ATTRS 20  /* past this many, bind only names already bound */

typedef struct mattr {
    uint32_t name;
    rs_type type; /* RS_I64, RS_U64, RS_F64, RS_BOOL or RS_STR */
    int64_t i;
    uint64_t u;
    double f;
    bool b;
    uint32_t len;
    char s[ASHORT];
} mattr;

typedef struct mrec {
    rs_handle h;
    int c; /* C_DYN or C_SLOTS */
    mval f[NF];
    uint32_t n_attrs;
    uint32_t shape; /* the block's shape, 0 for the list form */
    size_t block;   /* the block's arena bytes; 0 without attributes */
    mattr a[MAX_MATTRS];
} mrec;

/* The live records, in no order; removal swaps the last one in. */
static mrec *recs;
static size_t n_recs, cap_recs;
static size_t n_of[NC]; /* live records per class */

/* The interned names, in interning order (their ids), and a hash table
 * over them (open addressing, ids + 1). */
static char **m_names;
static uint32_t m_n_names, m_cap_names;
static uint32_t *m_name_ix;
static uint32_t m_name_ix_cap;

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* The id of name, or -1 if it was never interned. */
static long m_lookup(const char *name)
{
    if (m_name_ix_cap == 0) {
        return -1;
    }
    uint32_t mask = m_name_ix_cap - 1;
    for (uint32_t i = fnv(name) & mask; m_name_ix[i] != 0;
         i = (i + 1) & mask) {
        if (strcmp(m_names[m_name_ix[i] - 1], name) == 0) {
            return (long)m_name_ix[i] - 1;
        }
    }
    return -1;
}

static void m_ix_put(uint32_t id)
{
    uint32_t mask = m_name_ix_cap - 1;
    uint32_t i = fnv(m_names[id]) & mask;
    while (m_name_ix[i] != 0) {
        i = (i + 1) & mask;
    }
    m_name_ix[i] = id + 1;
}

/* Intern a valid name: what a call that succeeds with it does. */
static uint32_t m_intern(const char *name)
{
    long id = m_lookup(name);
    if (id >= 0) {
        return (uint32_t)id;
    }
    if (m_n_names == m_cap_names) {
        m_cap_names = m_cap_names ? m_cap_names * 2 : 64;
        m_names = realloc(m_names, m_cap_names * sizeof *m_names);
    }
    if ((m_n_names + 1) * 2 > m_name_ix_cap) {
        free(m_name_ix);
        m_name_ix_cap = m_name_ix_cap ? m_name_ix_cap * 2 : 256;
        m_name_ix = calloc(m_name_ix_cap, sizeof *m_name_ix);
        if (m_name_ix == NULL || m_names == NULL) {
            fprintf(stderr, "test_model: out of memory in the model\n");
            exit(1);
        }
        for (uint32_t k = 0; k < m_n_names; k++) {
            m_ix_put(k);
        }
    }
    m_names[m_n_names] = strdup(name);
    if (m_names[m_n_names] == NULL) {
        fprintf(stderr, "test_model: out of memory in the model\n");
        exit(1);
    }
    m_ix_put(m_n_names);
    return m_n_names++;
}

static void m_names_free(void)
{
    for (uint32_t k = 0; k < m_n_names; k++) {
        free(m_names[k]);
    }
    free(m_names);
    free(m_name_ix);
    m_names = NULL;
    m_name_ix = NULL;
    m_n_names = m_cap_names = m_name_ix_cap = 0;
}

/* An attribute name (roster.h): an identifier of 1..RS_MAX_NAME bytes. */
static bool m_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > RS_MAX_NAME) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

/* The shapes (attrs.c): shape 0 is the empty list; a transition (shape,
 * name) leads to the shape with that name appended.  A new list of names
 * creates the shapes of its prefixes that do not exist yet, in order,
 * until there are SHAPES_MAX (the empty one included); a list that then
 * still lacks a shape is stored in the list form. */
#define SHAPES_MAX 4096
#define TRANS_CAP 16384 /* > 2 * SHAPES_MAX: a fixed open-addressing table */
static uint32_t m_n_shapes; /* 0 until the first list, then 1 + made */
static struct {
    uint64_t key; /* shape << 32 | name, + 1; 0 is empty */
    uint32_t child;
} m_trans[TRANS_CAP];

static uint32_t m_trans_slot(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 50) & (TRANS_CAP - 1);
}

static uint32_t m_shape_for(const mattr *a, uint32_t n)
{
    if (m_n_shapes == 0) {
        m_n_shapes = 1;
    }
    uint32_t s = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint64_t key = ((uint64_t)s << 32 | a[k].name) + 1;
        uint32_t i = m_trans_slot(key);
        while (m_trans[i].key != 0 && m_trans[i].key != key) {
            i = (i + 1) & (TRANS_CAP - 1);
        }
        if (m_trans[i].key == 0) {
            if (m_n_shapes >= SHAPES_MAX) {
                return 0;
            }
            m_trans[i].key = key;
            m_trans[i].child = m_n_shapes++;
        }
        s = m_trans[i].child;
    }
    return s;
}

/* The block encoding (attrs.c): varint payload length, then the payload:
 * varint shape, [list form: varint n], then per attribute [list form:
 * varint name id] a tag byte and int: zigzag varint | uint: varint |
 * f64: 8 bytes | str: varint length + bytes | bool: nothing. */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t m_value_len(const mattr *a)
{
    switch (a->type) {
    case RS_I64:
        return 1 + varint_len(((uint64_t)a->i << 1) ^
                              (uint64_t)(a->i >> 63));
    case RS_U64:
        return 1 + varint_len(a->u);
    case RS_F64:
        return 9;
    case RS_BOOL:
        return 1;
    default:
        return 1 + varint_len(a->len) + a->len;
    }
}

/* The arena bytes of a cell of len bytes (strs.h: lengths up to 128 take
 * exactly theirs, longer ones round up to one of 8 sizes per power of
 * two). */
static size_t arena_cost(size_t len)
{
    if (len <= 128) {
        return len;
    }
    size_t b = 0;
    while (((size_t)2 << b) < len) {
        b++;
    }
    /* len lies in (2^b, 2^(b+1)]. */
    size_t step = (size_t)1 << (b - 3), base = (size_t)1 << b;
    return base + (len - base + step - 1) / step * step;
}

/* Bytes the model's live blocks take in the arena: rs_mem()'s attrs
 * category is these plus what the store allocated for names, shapes and
 * vectors. */
static size_t m_blocks;
static size_t m_with_attrs; /* live records with attributes */
static uint32_t m_max_attrs; /* the most a record had, for the summary */

/* Recompute r's block after its attributes changed (r not yet counted in
 * m_blocks). */
static void m_encode(mrec *r)
{
    r->shape = 0;
    r->block = 0;
    if (r->n_attrs == 0) {
        return;
    }
    r->shape = m_shape_for(r->a, r->n_attrs);
    size_t payload = varint_len(r->shape);
    if (r->shape == 0) {
        payload += varint_len(r->n_attrs);
    }
    for (uint32_t k = 0; k < r->n_attrs; k++) {
        if (r->shape == 0) {
            payload += varint_len(r->a[k].name);
        }
        payload += m_value_len(&r->a[k]);
    }
    size_t len = varint_len(payload) + payload;
    r->block = arena_cost(len < 8 ? 8 : len);
}

/* What r's attributes add to rs_record_size(): the block and the 8-byte
 * vector entry that finds it. */
static size_t attrs_size(const mrec *r)
{
    return r->n_attrs ? r->block + 8 : 0;
}

static long m_attr_find(const mrec *r, uint32_t name)
{
    for (uint32_t k = 0; k < r->n_attrs; k++) {
        if (r->a[k].name == name) {
            return (long)k;
        }
    }
    return -1;
}

/* Handles of removed records, to use again: they must stay stale. */
#define N_STALE 64
static rs_handle stale[N_STALE];
static int n_stale, stale_next;

static bool same_str(const mval *a, const mval *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* The record of class c whose indexed field f equals v, or -1: a linear
 * search. */
static long m_find(int c, int f, const mval *v)
{
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].c == c && same_str(&recs[i].f[f], v)) {
            return (long)i;
        }
    }
    return -1;
}

static long m_by_handle(rs_handle h)
{
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].h == h) {
            return (long)i;
        }
    }
    return -1;
}

static int m_field_named(const char *name)
{
    for (int f = 0; f < NF; f++) {
        if (strcmp(defs[f].name, name) == 0) {
            return f;
        }
    }
    return -1;
}

/* UTF-8 by decoding code points: no overlong forms, no surrogates, nothing
 * above U+10FFFF. */
static bool utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + need > n) {
            return false;
        }
        for (size_t j = 1; j < need; j++) {
            if ((p[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i + j] & 0x3Fu);
        }
        if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
            (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += need;
    }
    return true;
}

/* The model's value rules (roster.h, rs_value and rs_field_def): what a
 * value given for field f becomes, or which error it is. */
static rs_status m_coerce(int f, const rs_value *in, mval *out)
{
    memset(out, 0, sizeof *out);
    rs_type ft = defs[f].type, vt = in->type;
    if (ft == RS_STR) {
        if (vt != RS_STR) {
            return RS_ETYPE;
        }
        if (in->v.s.len > defs[f].max_len) {
            return RS_ETOOLONG;
        }
        if (!utf8_ok((const unsigned char *)in->v.s.ptr, in->v.s.len)) {
            return RS_EUTF8;
        }
        out->len = in->v.s.len;
        if (out->len > 0) {
            memcpy(out->s, in->v.s.ptr, out->len);
        }
        return RS_OK;
    }
    if (ft == RS_BOOL) {
        if (vt != RS_BOOL) {
            return RS_ETYPE;
        }
        out->b = in->v.b;
        return RS_OK;
    }
    if (ft == RS_F64) {
        if (t_signed(vt)) {
            out->f = (double)in->v.i;
        } else if (t_unsigned(vt)) {
            out->f = (double)in->v.u;
        } else if (vt == RS_F32 || vt == RS_F64) {
            out->f = in->v.f;
        } else {
            return RS_ETYPE;
        }
        return RS_OK;
    }
    __int128 x, lo, hi;
    if (t_signed(vt)) {
        x = in->v.i;
    } else if (t_unsigned(vt)) {
        x = in->v.u;
    } else {
        return RS_ETYPE;
    }
    switch (ft) {
    case RS_U8:
        lo = 0;
        hi = 255;
        break;
    case RS_U16:
        lo = 0;
        hi = 65535;
        break;
    default: /* RS_I32 */
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    }
    if (x < lo || x > hi) {
        return RS_ERANGE;
    }
    if (t_signed(ft)) {
        out->i = (int64_t)x;
    } else {
        out->u = (uint64_t)x;
    }
    return RS_OK;
}

static mval m_default(int f)
{
    mval v;
    rs_status s = m_coerce(f, &defs[f].def, &v);
    (void)s;
    if (!defs[f].has_default) {
        memset(&v, 0, sizeof v);
    }
    return v;
}

/* The model's rules for a dynamic attribute's value (roster.h): what v
 * becomes, or which error it is. */
static rs_status m_attr_value(const rs_value *in, mattr *out)
{
    memset(out, 0, sizeof *out);
    rs_type t = in->type;
    if (t_signed(t)) {
        out->type = RS_I64;
        out->i = in->v.i;
    } else if (t_unsigned(t)) {
        if (in->v.u <= INT64_MAX) {
            out->type = RS_I64;
            out->i = (int64_t)in->v.u;
        } else {
            out->type = RS_U64;
            out->u = in->v.u;
        }
    } else if (t == RS_F32 || t == RS_F64) {
        out->type = RS_F64;
        out->f = in->v.f;
    } else if (t == RS_BOOL) {
        out->type = RS_BOOL;
        out->b = in->v.b;
    } else if (t == RS_STR) {
        size_t len = in->v.s.len;
        if (in->v.s.ptr == NULL && len > 0) {
            return RS_EINVAL;
        }
        if (len > ATTR_STR_MAX) {
            return RS_ETOOLONG;
        }
        if (len > 0 &&
            !utf8_ok((const unsigned char *)in->v.s.ptr, len)) {
            return RS_EUTF8;
        }
        out->type = RS_STR;
        out->len = (uint32_t)len;
        if (len <= ASHORT) {
            if (len > 0) {
                memcpy(out->s, in->v.s.ptr, len);
            }
        } else {
            for (size_t k = 0; k < len; k++) {
                if (in->v.s.ptr[k] != LONG_CH) {
                    fail("a long attribute string (%zu bytes) has 0x%02x "
                         "at byte %zu: not all '%c' (borrowed from a "
                         "store that changed it?)",
                         len, (unsigned char)in->v.s.ptr[k], k, LONG_CH);
                }
            }
        }
    } else {
        return RS_EINVAL; /* a type that does not exist */
    }
    return RS_OK;
}

/* What rs_insert() must answer; on RS_OK *out holds the new record, with
 * its dynamic attributes' names in dyn[] (not interned yet).  *late is
 * set for an error the store finds only after it may have allocated: a
 * dynamic attribute's bad name, found when it is interned. */
static rs_status m_insert(int c, const rs_named *vals, size_t n, mrec *out,
                          const char **dyn, bool *late)
{
    bool given[NF] = {false};
    memset(out, 0, sizeof *out);
    out->c = c;
    *late = false;
    for (size_t i = 0; i < n; i++) {
        int f = m_field_named(vals[i].name);
        if (f < 0) {
            if (c != C_DYN) {
                return RS_ENOATTR;
            }
            for (uint32_t k = 0; k < out->n_attrs; k++) {
                if (strcmp(dyn[k], vals[i].name) == 0) {
                    return RS_EINVAL; /* given twice */
                }
            }
            if (out->n_attrs == ATTRS_PER_RECORD) {
                return RS_EFULL;
            }
            rs_status s = m_attr_value(&vals[i].val, &out->a[out->n_attrs]);
            if (s != RS_OK) {
                return s;
            }
            dyn[out->n_attrs++] = vals[i].name;
            continue;
        }
        if (given[f]) {
            return RS_EINVAL;
        }
        rs_status s = m_coerce(f, &vals[i].val, &out->f[f]);
        if (s != RS_OK) {
            return s;
        }
        given[f] = true;
    }
    if (!given[F_UID] || out->f[F_UID].len == 0) {
        return RS_EINVAL; /* no key, or an empty one */
    }
    for (int f = 0; f < NF; f++) {
        if (!given[f]) {
            out->f[f] = m_default(f);
        }
    }
    if (m_find(c, F_UID, &out->f[F_UID]) >= 0 ||
        m_find(c, F_NAME, &out->f[F_NAME]) >= 0) {
        return RS_EEXIST;
    }
    for (uint32_t k = 0; k < out->n_attrs; k++) {
        if (!m_name_ok(dyn[k])) {
            *late = true;
            return RS_EINVAL;
        }
    }
    return RS_OK;
}

/* Bytes a record keeps outside its row: strings too long for their cell
 * take exactly their length (up to 128, strs.h). */
static size_t out_of_line(const mrec *r)
{
    size_t n = 0;
    for (int f = 0; f < NF; f++) {
        if (is_str(f) && r->f[f].len > inline_max[f]) {
            /* Digits that fit the cell as a number are packed (strs.h):
             * up to 16 in an 8-byte cell, 19 in a wider one. */
            size_t len = r->f[f].len, d = 0;
            while (d < len && r->f[f].s[d] >= '0' && r->f[f].s[d] <= '9') {
                d++;
            }
            if (d == len && len <= (inline_max[f] >= 8 ? 19u : 16u)) {
                continue;
            }
            n += len;
        }
    }
    return n;
}

/* The bytes the model's live records keep outside their rows: what
 * rs_mem() must report as strings after every step. */
static size_t m_strings;

static void m_add(const mrec *r)
{
    m_strings += out_of_line(r);
    m_blocks += r->block;
    m_with_attrs += r->n_attrs > 0;
    n_of[r->c]++;
    if (n_recs == cap_recs) {
        cap_recs = cap_recs ? cap_recs * 2 : 256;
        recs = realloc(recs, cap_recs * sizeof *recs);
        if (recs == NULL) {
            fail("out of memory in the model");
        }
    }
    recs[n_recs++] = *r;
}

static void m_remove(size_t i)
{
    m_strings -= out_of_line(&recs[i]);
    m_blocks -= recs[i].block;
    m_with_attrs -= recs[i].n_attrs > 0;
    n_of[recs[i].c]--;
    stale[stale_next] = recs[i].h;
    stale_next = (stale_next + 1) % N_STALE;
    if (n_stale < N_STALE) {
        n_stale++;
    }
    recs[i] = recs[--n_recs];
}

/* Record i's attributes changed: its block again. */
static void m_attrs_changed(size_t i)
{
    m_blocks -= recs[i].block;
    m_with_attrs -= recs[i].block > 0; /* had attributes before */
    m_encode(&recs[i]);
    m_blocks += recs[i].block;
    m_with_attrs += recs[i].n_attrs > 0;
}

/* Bind v (its name set) on r: in place if bound, else appended. */
static void m_bind(mrec *r, const mattr *v)
{
    long k = m_attr_find(r, v->name);
    if (k < 0) {
        if (r->n_attrs == MAX_MATTRS) {
            fprintf(stderr, "test_model: more than %d attributes on a "
                            "record: the model has no room\n", MAX_MATTRS);
            exit(1);
        }
        k = r->n_attrs++;
        if (r->n_attrs > m_max_attrs) {
            m_max_attrs = r->n_attrs;
        }
    }
    r->a[k] = *v;
}

static void m_unbind(mrec *r, uint32_t name)
{
    long k = m_attr_find(r, name);
    if (k >= 0) {
        memmove(&r->a[k], &r->a[k + 1],
                (r->n_attrs - (uint32_t)k - 1) * sizeof r->a[0]);
        r->n_attrs--;
    }
}

/* A number for comparisons: an integer (bool counts) or a double. */
typedef struct mnum {
    bool is_int;
    __int128 i;
    double f;
} mnum;

static mnum num_of_field(const mrec *r, int f)
{
    mnum n = {true, 0, 0};
    switch (defs[f].type) {
    case RS_BOOL:
        n.i = r->f[f].b;
        break;
    case RS_I32:
        n.i = r->f[f].i;
        break;
    case RS_F64:
        n.is_int = false;
        n.f = r->f[f].f;
        break;
    default:
        n.i = r->f[f].u;
        break;
    }
    return n;
}

static mnum num_of_value(const rs_value *v)
{
    mnum n = {true, 0, 0};
    if (v->type == RS_BOOL) {
        n.i = v->v.b;
    } else if (t_signed(v->type)) {
        n.i = v->v.i;
    } else if (t_unsigned(v->type)) {
        n.i = v->v.u;
    } else {
        n.is_int = false;
        n.f = v->v.f;
    }
    return n;
}

static double num_f(mnum n)
{
    return n.is_int ? (double)n.i : n.f;
}

/* LONG_CH repeated: the bytes of every long attribute string, and the
 * source of the long values the generator makes. */
static char long_buf[ATTR_STR_MAX + 16];

/* The bytes of attribute a's string. */
static const char *mattr_bytes(const mattr *a)
{
    return a->len <= ASHORT ? a->s : long_buf;
}

static mnum num_of_attr(const mattr *a)
{
    mnum n = {true, 0, 0};
    switch (a->type) {
    case RS_BOOL:
        n.i = a->b;
        break;
    case RS_I64:
        n.i = a->i;
        break;
    case RS_U64:
        n.i = a->u;
        break;
    default:
        n.is_int = false;
        n.f = a->f;
        break;
    }
    return n;
}

/* "string op value": bytewise, then by length; PREFIX. */
static bool m_test_str(const char *a, size_t alen, const rs_cond *c)
{
    size_t blen = c->val.v.s.len;
    const char *b = c->val.v.s.ptr;
    if (c->op == RS_PREFIX) {
        return alen >= blen && (blen == 0 || memcmp(a, b, blen) == 0);
    }
    size_t n = alen < blen ? alen : blen;
    int cmp = n ? memcmp(a, b, n) : 0;
    if (cmp == 0) {
        cmp = alen < blen ? -1 : alen > blen ? 1 : 0;
    }
    switch (c->op) {
    case RS_EQ:
        return cmp == 0;
    case RS_NE:
        return cmp != 0;
    case RS_LT:
        return cmp < 0;
    case RS_LE:
        return cmp <= 0;
    case RS_GT:
        return cmp > 0;
    default:
        return cmp >= 0;
    }
}

/* "number op value": integers exactly, anything with a float as double. */
static bool m_test_num(mnum x, const rs_cond *c)
{
    mnum y = num_of_value(&c->val);
    if (x.is_int && y.is_int) {
        switch (c->op) {
        case RS_EQ:
            return x.i == y.i;
        case RS_NE:
            return x.i != y.i;
        case RS_LT:
            return x.i < y.i;
        case RS_LE:
            return x.i <= y.i;
        case RS_GT:
            return x.i > y.i;
        default:
            return x.i >= y.i;
        }
    }
    double a = num_f(x), b = num_f(y);
    switch (c->op) {
    case RS_EQ:
        return a == b;
    case RS_NE:
        return a != b; /* NaN: only != holds */
    case RS_LT:
        return a < b;
    case RS_LE:
        return a <= b;
    case RS_GT:
        return a > b;
    default:
        return a >= b;
    }
}

/* Does record r satisfy "field op value"?  roster.h: numbers by value,
 * strings bytewise then by length, PREFIX for strings.  On a dynamic
 * attribute: a record without it does not match, nor one whose value is
 * of the other kind (a string against a number or the reverse). */
static bool m_test(const mrec *r, const rs_cond *c)
{
    if (c->field >= RS_ATTR_BASE) {
        long k = m_attr_find(r, (uint32_t)(c->field - RS_ATTR_BASE));
        if (k < 0) {
            return false;
        }
        const mattr *a = &r->a[k];
        if ((a->type == RS_STR) != (c->val.type == RS_STR)) {
            return false;
        }
        if (a->type == RS_STR) {
            return m_test_str(mattr_bytes(a), a->len, c);
        }
        return m_test_num(num_of_attr(a), c);
    }
    if (is_str(c->field)) {
        const mval *a = &r->f[c->field];
        return m_test_str(a->s, a->len, c);
    }
    return m_test_num(num_of_field(r, c->field), c);
}

/* Whether f names an interned attribute (scans and rs_get_field() take
 * those; any other number past the fields is invalid). */
static bool m_is_attr_field(rs_field f)
{
    return f >= RS_ATTR_BASE && (uint32_t)(f - RS_ATTR_BASE) < m_n_names;
}

/* What rs_scan_open() must answer for these conditions. */
static rs_status m_check_conds(const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m_is_attr_field(c[i].field)) {
            if ((unsigned)c[i].op > RS_PREFIX) {
                return RS_EINVAL;
            }
            if (c[i].op == RS_PREFIX && c[i].val.type != RS_STR) {
                return RS_ETYPE;
            }
            continue;
        }
        if (c[i].field < 0 || c[i].field >= NF) {
            return RS_EINVAL;
        }
        if ((unsigned)c[i].op > RS_PREFIX) {
            return RS_EINVAL;
        }
        bool fs = is_str(c[i].field), vs = c[i].val.type == RS_STR;
        if (fs != vs || (c[i].op == RS_PREFIX && !fs)) {
            return RS_ETYPE;
        }
    }
    return RS_OK;
}

static bool m_match(const mrec *r, const rs_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!m_test(r, &c[i])) {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Describing values                                                         */
/* ------------------------------------------------------------------------ */

static void fmt_str(char *buf, size_t cap, const char *p, size_t len)
{
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            buf[o++] = (char)c;
        } else {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        }
    }
    if (o + 2 <= cap) {
        buf[o++] = '"';
    }
    buf[o < cap ? o : cap - 1] = '\0';
}

static void fmt_value(char *buf, size_t cap, const rs_value *v)
{
    if (v->type == RS_STR) {
        if (v->v.s.ptr == NULL) {
            snprintf(buf, cap, "str(NULL, %zu)", v->v.s.len);
        } else {
            fmt_str(buf, cap, v->v.s.ptr, v->v.s.len);
        }
    } else if (v->type == RS_BOOL) {
        snprintf(buf, cap, "%s", v->v.b ? "true" : "false");
    } else if (t_signed(v->type)) {
        snprintf(buf, cap, "%" PRId64 "(%s)", v->v.i, rs_type_name(v->type));
    } else if (t_unsigned(v->type)) {
        snprintf(buf, cap, "%" PRIu64 "(%s)", v->v.u, rs_type_name(v->type));
    } else if (v->type == RS_F32 || v->type == RS_F64) {
        snprintf(buf, cap, "%.17g(%s)", v->v.f, rs_type_name(v->type));
    } else {
        snprintf(buf, cap, "(value of type %d)", (int)v->type);
    }
}

static void fmt_mval(char *buf, size_t cap, int f, const mval *v)
{
    switch (defs[f].type) {
    case RS_STR:
        fmt_str(buf, cap, v->s, v->len);
        break;
    case RS_BOOL:
        snprintf(buf, cap, "%s", v->b ? "true" : "false");
        break;
    case RS_I32:
        snprintf(buf, cap, "%" PRId64, v->i);
        break;
    case RS_F64:
        snprintf(buf, cap, "%.17g", v->f);
        break;
    default:
        snprintf(buf, cap, "%" PRIu64, v->u);
        break;
    }
}

static void desc_value(const rs_value *v)
{
    char buf[256];
    fmt_value(buf, sizeof buf, v);
    desc("%s", buf);
}

static void fmt_mattr(char *buf, size_t cap, const mattr *a)
{
    switch (a->type) {
    case RS_STR:
        if (a->len > ASHORT) {
            snprintf(buf, cap, "\"%c\" * %u", LONG_CH, a->len);
        } else {
            fmt_str(buf, cap, a->s, a->len);
        }
        break;
    case RS_BOOL:
        snprintf(buf, cap, "%s", a->b ? "true" : "false");
        break;
    case RS_I64:
        snprintf(buf, cap, "%" PRId64, a->i);
        break;
    case RS_U64:
        snprintf(buf, cap, "%" PRIu64 "(u64)", a->u);
        break;
    default:
        snprintf(buf, cap, "%.17g", a->f);
        break;
    }
}

static void desc_rec(const mrec *r)
{
    char buf[256];
    desc("{%s h=0x%016" PRIx64, class_names[r->c], r->h);
    for (int f = 0; f < NF; f++) {
        fmt_mval(buf, sizeof buf, f, &r->f[f]);
        desc(" %s=%s", defs[f].name, buf);
    }
    if (r->n_attrs > 0) {
        desc(" | shape %u:", r->shape);
        for (uint32_t k = 0; k < r->n_attrs; k++) {
            fmt_mattr(buf, sizeof buf, &r->a[k]);
            desc(" %s=%s", m_names[r->a[k].name], buf);
        }
    }
    desc("}");
}

static const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">=",
                                       "PREFIX"};

static void desc_conds(const rs_cond *c, size_t n)
{
    desc("[");
    for (size_t i = 0; i < n; i++) {
        const char *fname = c[i].field >= 0 && c[i].field < NF
                                ? defs[c[i].field].name
                            : m_is_attr_field(c[i].field)
                                ? m_names[c[i].field - RS_ATTR_BASE]
                                : "?";
        const char *op = (unsigned)c[i].op <= RS_PREFIX
                             ? op_names[c[i].op]
                             : "(bad op)";
        desc("%s%s#%d %s ", i ? " AND " : "", fname, c[i].field, op);
        desc_value(&c[i].val);
    }
    desc("]");
}

/* ------------------------------------------------------------------------ */
/* Comparing the store with the model                                        */
/* ------------------------------------------------------------------------ */

/* How often each call answered each status: printed at the end of a run
 * to show what the run covered. */
#define N_CALLS 64
static const char *stat_call[N_CALLS];
static long stat_n[N_CALLS][RS_STATUS__COUNT];

static void tally(const char *call, rs_status s)
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

static void print_tally(void)
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

/* The status of a call against the model's, and the rs_errmsg() contract:
 * empty after success, a message after a failure. */
static void expect(const char *call, rs_status got, rs_status want)
{
    tally(call, got);
    if (got != want) {
        fail("%s returned %s (\"%s\"), the model expects %s", call,
             rs_status_name(got), rs_errmsg(st), rs_status_name(want));
    }
    const char *msg = rs_errmsg(st);
    if (got == RS_OK && msg[0] != '\0') {
        fail("%s succeeded but rs_errmsg() is \"%s\"", call, msg);
    }
    if (got != RS_OK && msg[0] == '\0') {
        fail("%s returned %s with an empty rs_errmsg()", call,
             rs_status_name(got));
    }
}

/* Whether v, read from field f, is the model's value. */
static bool value_matches(const rs_value *v, int f, const mval *want)
{
    if (v->type != defs[f].type) {
        return false;
    }
    if (is_str(f)) {
        return v->v.s.len == want->len &&
               (want->len == 0 || memcmp(v->v.s.ptr, want->s, want->len) == 0);
    }
    if (v->type == RS_BOOL) {
        return v->v.b == want->b;
    }
    if (v->type == RS_I32) {
        return v->v.i == want->i;
    }
    if (v->type == RS_F64) {
        return (isnan(v->v.f) && isnan(want->f)) ||
               memcmp(&v->v.f, &want->f, sizeof(double)) == 0;
    }
    return v->v.u == want->u;
}

static void value_differs(const char *ctx, rs_handle h, int f,
                          const rs_value *v, const mval *want)
{
    char a[256], b[256];
    fmt_value(a, sizeof a, v);
    fmt_mval(b, sizeof b, f, want);
    fail("%s: record 0x%016" PRIx64 " field %s: store has %s, model %s", ctx,
         h, defs[f].name, a, b);
}

/* One field of the store's record h against the model's value. */
static void compare_field(rs_handle h, int f, const mval *want,
                          const char *ctx)
{
    rs_value v;
    rs_status rc = rs_get_field(st, h, f, &v);
    if (rc != RS_OK) {
        fail("%s: rs_get_field(0x%016" PRIx64 ", %s) returned %s: %s", ctx,
             h, defs[f].name, rs_status_name(rc), rs_errmsg(st));
    }
    if (!value_matches(&v, f, want)) {
        value_differs(ctx, h, f, &v, want);
    }
}

/* Whether v, read from a dynamic attribute, is the model's value. */
static bool attr_matches(const rs_value *v, const mattr *a)
{
    if (v->type != a->type) {
        return false;
    }
    switch (a->type) {
    case RS_I64:
        return v->v.i == a->i;
    case RS_U64:
        return v->v.u == a->u;
    case RS_F64: /* bit for bit: -0.0 and NaN come back as they went */
        return memcmp(&v->v.f, &a->f, sizeof(double)) == 0;
    case RS_BOOL:
        return v->v.b == a->b;
    default:
        return v->v.s.len == a->len &&
               (a->len == 0 ||
                (v->v.s.ptr != NULL &&
                 memcmp(v->v.s.ptr, mattr_bytes(a), a->len) == 0));
    }
}

/* The store's dict of a record, for a failure report. */
static void desc_dict(const rs_attr *items, size_t n)
{
    char buf[256];
    desc(" store's dict {");
    for (size_t k = 0; k < n; k++) {
        fmt_value(buf, sizeof buf, &items[k].val);
        desc("%s%s=%s", k ? ", " : "", items[k].name, buf);
    }
    desc("}");
}

/* rs_dict() of r against the model: names, order and values. */
static void compare_attrs(const mrec *r, const char *ctx)
{
    rs_attr items[MAX_MATTRS + 1];
    size_t n = (size_t)-1;
    rs_status rc = rs_dict(st, r->h, items, MAX_MATTRS + 1, &n);
    if (rc != RS_OK || rs_errmsg(st)[0] != '\0') {
        fail("%s: rs_dict(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(st));
    }
    if (n > MAX_MATTRS) {
        fail("%s: rs_dict(0x%016" PRIx64 ") says %zu attributes, the model "
             "has %u",
             ctx, r->h, n, r->n_attrs);
    }
    bool same = n == r->n_attrs;
    for (size_t k = 0; same && k < n; k++) {
        same = items[k].name != NULL &&
               strcmp(items[k].name, m_names[r->a[k].name]) == 0 &&
               attr_matches(&items[k].val, &r->a[k]);
    }
    if (!same) {
        desc(" model ");
        desc_rec(r);
        desc_dict(items, n);
        fail("%s: rs_dict(0x%016" PRIx64 ") differs from the model (%zu "
             "attributes, model %u)",
             ctx, r->h, n, r->n_attrs);
    }
}

/* rs_dir() of r: the declared fields in order, then the attributes in
 * binding order. */
static void compare_dir(const mrec *r, const char *ctx)
{
    const char *names[NF + MAX_MATTRS + 1];
    size_t n = (size_t)-1;
    rs_status rc = rs_dir(st, r->h, names, NF + MAX_MATTRS + 1, &n);
    if (rc != RS_OK) {
        fail("%s: rs_dir(0x%016" PRIx64 ") returned %s (\"%s\")", ctx, r->h,
             rs_status_name(rc), rs_errmsg(st));
    }
    if (n != NF + r->n_attrs) {
        fail("%s: rs_dir(0x%016" PRIx64 ") gives %zu names, the model %u",
             ctx, r->h, n, NF + r->n_attrs);
    }
    for (size_t k = 0; k < n; k++) {
        const char *want = k < NF ? defs[k].name
                                  : m_names[r->a[k - NF].name];
        if (names[k] == NULL || strcmp(names[k], want) != 0) {
            fail("%s: rs_dir(0x%016" PRIx64 ")[%zu] is \"%s\", the model "
                 "has \"%s\"",
                 ctx, r->h, k, names[k] ? names[k] : "(null)", want);
        }
    }
}

static void compare_rec(const mrec *r, const char *ctx)
{
    rs_status rc = rs_check(st, r->h);
    if (rc != RS_OK) {
        fail("%s: model record 0x%016" PRIx64 " is not live in the store: "
             "%s",
             ctx, r->h, rs_errmsg(st));
    }
    if (rs_handle_class(st, r->h) != classes[r->c]) {
        fail("%s: record 0x%016" PRIx64 " is not of class %s", ctx, r->h,
             class_names[r->c]);
    }
    for (int f = 0; f < NF; f++) {
        compare_field(r->h, f, &r->f[f], ctx);
    }
    compare_attrs(r, ctx);
}

typedef struct memsnap {
    rs_mem_report m;
} memsnap;

static memsnap mem_now(void)
{
    memsnap s;
    rs_mem(st, &s.m);
    return s;
}

/* A failed call must leave the accounting exactly as it was (peak aside:
 * a failure may have touched a higher total on its way). */
static void mem_same(const memsnap *a, const char *call)
{
    memsnap b = mem_now();
    bool same = a->m.total == b.m.total && a->m.n_allocs == b.m.n_allocs &&
                a->m.n_records == b.m.n_records &&
                a->m.n_attr_names == b.m.n_attr_names &&
                a->m.n_shapes == b.m.n_shapes;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        same = same && a->m.bytes[c] == b.m.bytes[c];
    }
    if (!same) {
        fail("%s changed the accounting: total %zu -> %zu, n_allocs %zu -> "
             "%zu, records %zu/%zu, strings %zu/%zu, indexes %zu/%zu, "
             "attrs %zu/%zu, free %zu/%zu, meta %zu/%zu, attribute names "
             "%zu/%zu, shapes %zu/%zu",
             call, a->m.total, b.m.total, a->m.n_allocs, b.m.n_allocs,
             a->m.bytes[RS_MEM_RECORDS], b.m.bytes[RS_MEM_RECORDS],
             a->m.bytes[RS_MEM_STRINGS], b.m.bytes[RS_MEM_STRINGS],
             a->m.bytes[RS_MEM_INDEXES], b.m.bytes[RS_MEM_INDEXES],
             a->m.bytes[RS_MEM_ATTRS], b.m.bytes[RS_MEM_ATTRS],
             a->m.bytes[RS_MEM_FREE], b.m.bytes[RS_MEM_FREE],
             a->m.bytes[RS_MEM_META], b.m.bytes[RS_MEM_META],
             a->m.n_attr_names, b.m.n_attr_names, a->m.n_shapes,
             b.m.n_shapes);
    }
}

/* After a call ran armed: true if it failed with the injected RS_ENOMEM
 * where the model expected success (then it must have changed nothing);
 * a failure the call swallowed is an error. */
static bool absorbed_late(const char *call, rs_status rc, rs_status want,
                          bool late, const memsnap *before)
{
    long failed = g_alloc.failed;
    bool inj = injected(rc);
    if (rc == RS_OK && failed > 0) {
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
    if (rs_errmsg(st)[0] == '\0') {
        fail("%s returned RS_ENOMEM with an empty rs_errmsg()", call);
    }
    mem_same(before, call);
    rs_status chk = rs__store_check(st);
    if (chk != RS_OK) {
        fail("after %s failed with RS_ENOMEM, rs__store_check returned %s",
             call, rs_status_name(chk));
    }
    return true;
}

static bool absorbed(const char *call, rs_status rc, rs_status want,
                     const memsnap *before)
{
    return absorbed_late(call, rc, want, false, before);
}

/* Checks cheap enough for every step. */
static void step_checks(void)
{
    for (int c = 0; c < NC; c++) {
        if (rs_count(classes[c]) != n_of[c]) {
            fail("rs_count(%s) is %zu, the model has %zu", class_names[c],
                 rs_count(classes[c]), n_of[c]);
        }
    }
    rs_mem_report m;
    rs_mem(st, &m);
    if (m.total != g_alloc.live_bytes || m.n_allocs != g_alloc.live_blocks) {
        fail("rs_mem() says %zu bytes in %zu blocks, the allocator has %zu "
             "in %zu",
             m.total, m.n_allocs, g_alloc.live_bytes, g_alloc.live_blocks);
    }
    if (m.n_records != n_recs) {
        fail("rs_mem().n_records is %zu, the model has %zu", m.n_records,
             n_recs);
    }
    if (m.bytes[RS_MEM_RECORDS] != n_recs * row_len ||
        m.bytes[RS_MEM_STRINGS] != m_strings) {
        fail("rs_mem(): records %zu bytes, strings %zu; the model expects "
             "%zu and %zu",
             m.bytes[RS_MEM_RECORDS], m.bytes[RS_MEM_STRINGS],
             n_recs * row_len, m_strings);
    }
    /* Attributes: the blocks exactly, the rest (names, shapes, vectors)
     * is what the store allocated under attrs; at least the names' bytes
     * and an 8-byte vector entry per record with attributes. */
    size_t alloc = rs__alloc_bytes(st, RS_MEM_ATTRS);
    if (m.bytes[RS_MEM_ATTRS] != m_blocks + alloc ||
        alloc < 8 * m_with_attrs + m_n_names * 2 ||
        m.n_attr_names != m_n_names ||
        m.n_shapes != (m_n_shapes ? m_n_shapes - 1 : 0)) {
        fail("rs_mem(): attrs %zu bytes (allocated %zu), %zu names, %zu "
             "shapes; the model expects %zu bytes of blocks and allocated "
             "at least %zu, %u names, %u shapes",
             m.bytes[RS_MEM_ATTRS], alloc, m.n_attr_names, m.n_shapes,
             m_blocks, 8 * m_with_attrs + m_n_names * 2, m_n_names,
             m_n_shapes ? m_n_shapes - 1 : 0);
    }
}

/* Everything: each record by key and by name, its fields, attributes,
 * dir and size, a full scan of each class, the accounting and the internal
 * walk. */
static void full_check(const char *when)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "full check (%s)", when);
    size_t strings = 0, blocks = 0;
    for (size_t i = 0; i < n_recs; i++) {
        const mrec *r = &recs[i];
        rs_class *c = classes[r->c];
        rs_handle h = 0;
        rs_status rc = rs_get(st, c, r->f[F_UID].s, r->f[F_UID].len, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_UID].s, r->f[F_UID].len);
            fail("%s: rs_get(%s, %s) gave %s 0x%016" PRIx64 ", model has "
                 "0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        rs_value name = rs_val_str(r->f[F_NAME].s, r->f[F_NAME].len);
        rc = rs_find(st, c, F_NAME, &name, &h);
        if (rc != RS_OK || h != r->h) {
            char k[128];
            fmt_str(k, sizeof k, r->f[F_NAME].s, r->f[F_NAME].len);
            fail("%s: rs_find(%s, name=%s) gave %s 0x%016" PRIx64 ", model "
                 "has 0x%016" PRIx64,
                 ctx, class_names[r->c], k, rs_status_name(rc), h, r->h);
        }
        compare_rec(r, ctx);
        compare_dir(r, ctx);
        size_t size = 0, want = row_len + out_of_line(r) + attrs_size(r);
        rc = rs_record_size(st, r->h, &size);
        if (rc != RS_OK || size != want) {
            g_op[0] = '\0';
            desc_rec(r);
            fail("%s: rs_record_size(0x%016" PRIx64 ") gave %s %zu, "
                 "expected %zu (row %zu, strings %zu, attributes %zu)",
                 ctx, r->h, rs_status_name(rc), size, want, row_len,
                 out_of_line(r), attrs_size(r));
        }
        strings += out_of_line(r);
        blocks += r->block;
    }
    /* A full scan of each class: exactly the model's records, in slot
     * order. */
    for (int c = 0; c < NC; c++) {
        rs_scan *sc;
        rs_status rc = rs_scan_open(st, classes[c], NULL, 0, &sc);
        if (rc != RS_OK) {
            fail("%s: rs_scan_open returned %s", ctx, rs_status_name(rc));
        }
        size_t n = 0;
        rs_handle h, prev = 0;
        while ((rc = rs_scan_next(sc, &h)) == RS_OK) {
            if (n > 0 && (uint32_t)h <= (uint32_t)prev) {
                fail("%s: scan returned slot %u after slot %u", ctx,
                     (uint32_t)h, (uint32_t)prev);
            }
            long j = m_by_handle(h);
            if (j < 0 || recs[j].c != c) {
                fail("%s: the scan of %s returned 0x%016" PRIx64 ", not a "
                     "record of it in the model",
                     ctx, class_names[c], h);
            }
            prev = h;
            n++;
        }
        rs_scan_close(sc);
        if (rc != RS_DONE || n != n_of[c]) {
            fail("%s: the full scan of %s ended with %s after %zu records, "
                 "the model has %zu",
                 ctx, class_names[c], rs_status_name(rc), n, n_of[c]);
        }
    }
    /* Accounting: categories add up, rows, strings and blocks are
     * exact. */
    rs_mem_report m;
    rs_mem(st, &m);
    size_t sum = 0;
    for (int c = 0; c < RS_MEM__COUNT; c++) {
        sum += m.bytes[c];
    }
    if (sum != m.total || m.bytes[RS_MEM_RECORDS] != n_recs * row_len ||
        m.bytes[RS_MEM_STRINGS] != strings || blocks != m_blocks ||
        m.peak < m.total) {
        fail("%s: rs_mem(): categories sum to %zu of total %zu (peak %zu); "
             "records %zu (expected %zu), strings %zu (expected %zu); the "
             "model's blocks %zu, summed %zu",
             ctx, sum, m.total, m.peak, m.bytes[RS_MEM_RECORDS],
             n_recs * row_len, m.bytes[RS_MEM_STRINGS], strings, m_blocks,
             blocks);
    }
    step_checks();
    rs_status rc = rs__store_check(st);
    if (rc != RS_OK) {
        fail("%s: rs__store_check returned %s", ctx, rs_status_name(rc));
    }
}

/* ------------------------------------------------------------------------ */
/* Generating values                                                         */
/* ------------------------------------------------------------------------ */

/* Buffers for the strings of one operation's values. */
#define N_BUFS 48
static char bufs[N_BUFS][96];
static int buf_next;

static char *new_buf(void)
{
    char *b = bufs[buf_next];
    buf_next = (buf_next + 1) % N_BUFS;
    return b;
}

static rs_value str_val(const char *p)
{
    return rs_val_str(p, strlen(p));
}

/* A key: short (inline) and long (out of line) ones, both sides of the
 * 7-byte boundary, multibyte, empty, and a rarer spread of others. */
static rs_value gen_key(void)
{
    char *b = new_buf();
    int r = irand(100);
    if (r < 40) {
        snprintf(b, 96, "k%d", irand(1000));
    } else if (r < 80) {
        snprintf(b, 96, "key-long-%d", irand(1000));
    } else if (r < 88) {
        const char *fmt = chance(50) ? "%07d" : "%08d";
        snprintf(b, 96, fmt, irand(200));
    } else if (r < 90) {
        b[0] = '\0';
    } else if (r < 95) {
        snprintf(b, 96, "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87%d", irand(40));
    } else {
        snprintf(b, 96, "zz%d", irand(1000));
    }
    return str_val(b);
}

static rs_value gen_name(void)
{
    char *b = new_buf();
    int r = irand(100);
    if (r < 35) {
        snprintf(b, 96, "n%d", irand(1500));
    } else if (r < 70) {
        snprintf(b, 96, "player-name-%d", irand(1500));
    } else if (r < 80) {
        /* Both sides of the 8- and 16-byte cells' inline limits. */
        static const char *const fmts[] = {"%07d", "%08d", "%015d", "%016d"};
        const char *fmt = fmts[irand(4)];
        snprintf(b, 96, fmt, irand(1000));
    } else if (r < 82) {
        b[0] = '\0';
    } else if (r < 92) {
        /* 6 bytes of CJK and one or two digits: 7 or 8 bytes. */
        snprintf(b, 96, "\xe5\x90\x8d\xe5\x89\x8d%d", irand(100));
    } else {
        snprintf(b, 96, "abcdefghijklmnop%04d", irand(1000)); /* 20 bytes */
    }
    return str_val(b);
}

/* A tag: lengths clustered around 7/8 and up to the 40 limit, from a small
 * alphabet so that prefixes and equalities hit. */
static rs_value gen_tag(void)
{
    static const char *const starts[] = {"", "a", "ab", "b", "tag-",
                                         "tag-long-", "\xc3\xa9"};
    static const int lens[] = {0,  1,  3,  6,  7,  7,  8,  8,  9,
                               12, 14, 15, 15, 16, 16, 17, 20, 39, 40};
    char *b = new_buf();
    size_t want = (size_t)lens[irand((int)(sizeof lens / sizeof lens[0]))];
    const char *s = starts[irand((int)(sizeof starts / sizeof starts[0]))];
    size_t n = strlen(s) < want ? strlen(s) : 0;
    memcpy(b, s, n);
    while (n < want) {
        b[n++] = "ab"[irand(2)];
    }
    b[n] = '\0';
    if (want == 0 && chance(30)) {
        return rs_val_str(NULL, 0); /* NULL with length 0 is "" */
    }
    return rs_val_str(b, n);
}

/* A bad string for field f: too long, invalid UTF-8, or not a string. */
static rs_value gen_bad_str(int f)
{
    static const char *const bad_utf8[] = {
        "\xff",         "\x80",         "a\xc0\x80",  "\xc1\xbf",
        "\xe0\x80\x80", "\xed\xa0\x80", "\xe5\xbc",   "ab\xe5",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf0\x80\x80\x80",
        "ok\xc3",
    };
    char *b = new_buf();
    int r = irand(3);
    if (r == 0) {
        size_t n = defs[f].max_len + 1 + (size_t)irand(10);
        memset(b, 'x', n);
        b[0] = 'k';
        b[n] = '\0';
        return rs_val_str(b, n);
    }
    if (r == 1) {
        snprintf(b, 96, "%s", bad_utf8[irand(12)]);
        return str_val(b);
    }
    switch (irand(4)) {
    case 0:
        return rs_val_int(1);
    case 1:
        return rs_val_bool(true);
    case 2:
        return rs_val_f64(1.0);
    default:
        return rs_val_uint(7);
    }
}

/* An integer value of any integer type holding x (values beyond the type's
 * own range are left as they are: the library reads .i or .u). */
static rs_value any_int(int64_t x)
{
    static const rs_type st_types[] = {RS_I8, RS_I16, RS_I32, RS_I64};
    static const rs_type ut_types[] = {RS_U8, RS_U16, RS_U32, RS_U64};
    rs_value v;
    if (x >= 0 && chance(40)) {
        v.type = ut_types[irand(4)];
        v.v.u = (uint64_t)x;
    } else {
        v.type = st_types[irand(4)];
        v.v.i = x;
    }
    return v;
}

static double gen_double(void)
{
    static const double ds[] = {0.0,   -0.0,    0.5,     -1.5,   2.0,
                                3.25,  1e300,   -1e-300, 1e-310, 100.0,
                                -7.0,  0.1,     255.5,   -2.5,   1.0};
    int r = irand(100);
    if (r < 3) {
        return INFINITY;
    }
    if (r < 5) {
        return -INFINITY;
    }
    if (r < 6) {
        return NAN;
    }
    return ds[irand((int)(sizeof ds / sizeof ds[0]))];
}

/* A value for field f: valid, or (bad) one the field must refuse. */
static rs_value gen_value(int f, bool bad)
{
    switch (f) {
    case F_UID:
        return bad ? gen_bad_str(f) : gen_key();
    case F_NAME:
        return bad ? gen_bad_str(f) : gen_name();
    case F_TAG:
        return bad ? gen_bad_str(f) : gen_tag();
    case F_FLAG:
        if (bad) {
            return chance(50) ? rs_val_int(1) : str_val("true");
        }
        return rs_val_bool(chance(50));
    case F_RATIO: {
        if (bad) {
            return chance(50) ? rs_val_bool(false) : str_val("1.5");
        }
        int r = irand(10);
        if (r == 0) {
            return any_int(irand(7) - 3);
        }
        if (r == 1) {
            return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
        }
        if (r == 2) {
            rs_value v = {.type = RS_F32};
            v.v.f = 0.25;
            return v;
        }
        return rs_val_f64(gen_double());
    }
    default:
        break;
    }
    /* The integer fields stat u8, level u16, score i32. */
    int64_t lo = f == F_SCORE ? INT32_MIN : 0;
    int64_t hi = f == F_STAT ? 255 : f == F_LEVEL ? 65535 : INT32_MAX;
    if (bad) {
        switch (irand(7)) {
        case 0:
            return any_int(lo - 1 - irand(3));
        case 1:
            return any_int(hi + 1 + irand(3));
        case 2:
            return rs_val_uint(UINT64_MAX);
        case 3:
            return rs_val_int(INT64_MIN);
        case 4:
            return rs_val_f64(1.0);
        case 5:
            return rs_val_bool(true);
        default:
            return str_val("1");
        }
    }
    switch (irand(8)) {
    case 0:
        return any_int(lo);
    case 1:
        return any_int(hi);
    default:
        return any_int(f == F_SCORE ? irand(9) - 4 : irand(6));
    }
}

/* A comparison operand for field f: often a value some record holds, or a
 * piece of one for a prefix. */
static rs_value gen_operand(int f, rs_op op)
{
    if (is_str(f)) {
        if (n_recs > 0 && chance(40)) {
            const mval *v = &recs[irand((int)n_recs)].f[f];
            char *b = new_buf();
            size_t n = v->len;
            if (op == RS_PREFIX || chance(30)) {
                n = (size_t)irand((int)v->len + 1);
            }
            memcpy(b, v->s, n);
            return rs_val_str(b, n);
        }
        rs_value v = gen_value(f, false);
        if (op == RS_PREFIX && v.v.s.len > 0 && chance(60)) {
            v.v.s.len = (size_t)irand((int)v.v.s.len + 1);
        }
        return v;
    }
    int r = irand(10);
    if (r < 2) {
        /* Two draws, in this order on every compiler. */
        int whole = irand(11) - 5;
        return rs_val_f64(whole + (chance(50) ? 0.5 : 0.0));
    }
    if (r < 3) {
        return rs_val_bool(chance(50));
    }
    if (r < 4) {
        return rs_val_f64(gen_double());
    }
    if (r < 5) {
        return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
    }
    if (f == F_RATIO && n_recs > 0 && chance(50)) {
        return rs_val_f64(recs[irand((int)n_recs)].f[f].f);
    }
    return gen_value(f, false);
}

/* Attribute names: a pool of 8 (shapes repeat), now and then a fresh one
 * (shapes multiply, names accumulate), the longest valid one, and invalid
 * ones.  None is a declared field's name. */
static const char *const pool_names[8] = {"x",  "guild", "vip",   "hp",
                                          "mp", "_t",    "zone2", "Rank"};
static char name_64[RS_MAX_NAME + 1];     /* the longest valid name */
static char name_65[RS_MAX_NAME + 2];     /* one byte too long */

static const char *gen_bad_attr_name(void)
{
    static const char *const bad[] = {"",    "9lives", "has space", "tag ",
                                      "a-b", "\xc3\xa9t\xc3\xa9", "x.y",
                                      "_\x01"};
    return chance(15) ? name_65 : bad[irand(8)];
}

static const char *gen_attr_name(void)
{
    int r = irand(100);
    if (r < 82) {
        return pool_names[irand(8)];
    }
    if (r < 91) {
        char *b = new_buf();
        snprintf(b, 96, "f%d", irand(100000));
        return b;
    }
    if (r < 93) {
        return name_64;
    }
    return gen_bad_attr_name();
}

/* A string of 0..40 bytes from a small alphabet (prefixes and equalities
 * hit), ASCII or with a 2-byte character. */
static rs_value gen_attr_str(void)
{
    static const char *const starts[] = {"", "a", "ab", "b", "Iron",
                                         "\xc3\xa9"};
    static const int lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 12, 16, 20, 31, 40};
    char *b = new_buf();
    size_t want = (size_t)lens[irand((int)(sizeof lens / sizeof lens[0]))];
    const char *s = starts[irand((int)(sizeof starts / sizeof starts[0]))];
    size_t n = strlen(s) <= want ? strlen(s) : 0;
    memcpy(b, s, n);
    while (n < want) {
        b[n++] = "ab"[irand(2)];
    }
    b[n] = '\0';
    return rs_val_str(b, n);
}

/* A value for a dynamic attribute: every kind, mostly valid. */
static rs_value gen_attr_value(void)
{
    static const char *const bad_utf8[] = {
        "\xff", "a\xc0\x80", "\xed\xa0\x80", "ab\xe5", "\xf4\x90\x80\x80",
        "Iron\x80", "\xc3"};
    int r = irand(100);
    if (r < 18) {
        return any_int(irand(201) - 100);
    }
    if (r < 24) {
        static const int64_t big[] = {INT64_MIN, INT64_MIN + 1, -1000000007,
                                      INT64_MAX, 1ll << 40, -(1ll << 35)};
        return any_int(big[irand(6)]);
    }
    if (r < 30) { /* above INT64_MAX: kept as u64 */
        return rs_val_uint(chance(30) ? UINT64_MAX
                                      : (uint64_t)INT64_MAX + 1 +
                                            (uint64_t)irand(1000));
    }
    if (r < 42) {
        if (chance(20)) {
            rs_value v = {.type = RS_F32};
            v.v.f = 0.25;
            return v;
        }
        return rs_val_f64(gen_double());
    }
    if (r < 52) {
        return rs_val_bool(chance(50));
    }
    if (r < 88) {
        return gen_attr_str();
    }
    if (r < 93) {
        char *b = new_buf();
        snprintf(b, 96, "%s", bad_utf8[irand(7)]);
        return str_val(b);
    }
    if (r < 97) { /* long, valid: past the 128-byte arena classes */
        size_t len = chance(15) ? ATTR_STR_MAX : 41 + (size_t)irand(260);
        return rs_val_str(long_buf, len);
    }
    if (r < 98) { /* too long */
        return rs_val_str(long_buf, ATTR_STR_MAX + 1 + (size_t)irand(4));
    }
    switch (irand(3)) {
    case 0:
        return rs_val_str(NULL, 0); /* NULL with length 0 is "" */
    case 1:
        return rs_val_str(NULL, 3); /* RS_EINVAL */
    default: {
        rs_value v = rs_val_int(1);
        v.type = (rs_type)(RS_TYPE__COUNT + irand(3)); /* RS_EINVAL */
        return v;
    }
    }
}

/* A record's attribute value as an rs_value (bytes in the model). */
static rs_value mattr_value(const mattr *a)
{
    switch (a->type) {
    case RS_I64:
        return rs_val_int(a->i);
    case RS_U64:
        return rs_val_uint(a->u);
    case RS_F64:
        return rs_val_f64(a->f);
    case RS_BOOL:
        return rs_val_bool(a->b);
    default: {
        if (a->len > ASHORT) {
            return rs_val_str(long_buf, a->len);
        }
        char *b = new_buf();
        memcpy(b, a->s, a->len);
        return rs_val_str(b, a->len);
    }
    }
}

/* A comparison operand for a dynamic attribute: often a value some
 * record holds, or a piece of one for a prefix. */
static rs_value gen_attr_operand(uint32_t name, rs_op op)
{
    if (n_recs > 0 && chance(50)) {
        const mrec *r = &recs[irand((int)n_recs)];
        long k = m_attr_find(r, name);
        if (k >= 0) {
            rs_value v = mattr_value(&r->a[k]);
            if (v.type == RS_STR && (op == RS_PREFIX || chance(20))) {
                v.v.s.len = (size_t)irand((int)v.v.s.len + 1);
            }
            if (op != RS_PREFIX || v.type == RS_STR) {
                return v;
            }
        }
    }
    if (op == RS_PREFIX) {
        return gen_attr_str();
    }
    int r = irand(10);
    if (r < 3) {
        return gen_attr_str();
    }
    if (r < 5) {
        /* Two draws, in this order on every compiler. */
        int whole = irand(11) - 5;
        return rs_val_f64(whole + (chance(50) ? 0.5 : 0.0));
    }
    if (r < 6) {
        return rs_val_bool(chance(50));
    }
    if (r < 7) {
        return chance(50) ? rs_val_uint(UINT64_MAX) : rs_val_int(INT64_MIN);
    }
    return any_int(irand(21) - 10);
}

static rs_field do_attr_id(int c, const char *name, bool arm);

/* n conditions, valid unless bad (then exactly one is wrong); some on
 * dynamic attributes. */
static size_t gen_conds(rs_cond *c, bool bad)
{
    size_t n = (size_t)irand(4) + (bad ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        if (chance(30)) {
            /* rs_attr_id() interns: the id stays valid for the scan. */
            const char *name = chance(90) ? pool_names[irand(8)]
                                          : gen_attr_name();
            rs_field f = m_name_ok(name) ? do_attr_id(C_DYN, name, false)
                                         : -1;
            if (f >= RS_ATTR_BASE) {
                rs_op op = (rs_op)irand(7);
                c[i].field = f;
                c[i].op = op;
                c[i].val = gen_attr_operand((uint32_t)(f - RS_ATTR_BASE),
                                            op);
                continue;
            }
        }
        int f = irand(NF);
        rs_op op = (rs_op)irand(is_str(f) ? 7 : 6);
        if (is_str(f) && chance(25)) {
            op = RS_PREFIX;
        }
        c[i].field = f;
        c[i].op = op;
        c[i].val = gen_operand(f, op);
    }
    if (bad) {
        size_t i = (size_t)irand((int)n);
        switch (irand(7)) {
        case 0:
            c[i].field = chance(50) ? -1 : NF + irand(3);
            break;
        case 1:
            c[i].op = (rs_op)(7 + irand(3));
            break;
        case 2: /* PREFIX on a number */
            c[i].field = F_STAT + irand(5);
            c[i].op = RS_PREFIX;
            c[i].val = str_val("1");
            break;
        case 3: /* a string against a number */
            c[i].field = F_STAT + irand(5);
            c[i].val = str_val("3");
            break;
        case 4: /* a number past the interned attributes */
            c[i].field = RS_ATTR_BASE + (rs_field)m_n_names + irand(3);
            break;
        case 5: { /* PREFIX with a number on an attribute */
            rs_field f = do_attr_id(C_DYN, pool_names[irand(8)], false);
            c[i].field = f;
            c[i].op = RS_PREFIX;
            c[i].val = chance(50) ? rs_val_int(1) : rs_val_bool(true);
            break;
        }
        default: /* a number against a string */
            c[i].field = chance(50) ? F_NAME : F_TAG;
            c[i].op = RS_EQ;
            c[i].val = rs_val_int(3);
            break;
        }
    }
    return n;
}

/* A handle that names no live record: a removed one, or a made-up one. */
static rs_handle gen_dead_handle(void)
{
    if (n_stale > 0 && chance(80)) {
        return stale[irand(n_stale)];
    }
    switch (irand(5)) {
    case 0:
        return RS_NULL_HANDLE;
    case 1:
        return (rs_handle)3 << 48 | (rs_handle)1 << 32; /* no class 3 */
    case 2:
        return (rs_handle)1 << 48 | (rs_handle)1 << 32 | 0x01ffffffu;
    case 3:
        return (rs_handle)1 << 48 | (rs_handle)2 << 32; /* even: free */
    default:
        return n_recs ? recs[irand((int)n_recs)].h & 0xFFFFFFFFFFFFull
                      : RS_NULL_HANDLE; /* a live one, class bits cut */
    }
}

/* ------------------------------------------------------------------------ */
/* Dynamic attributes                                                        */
/* ------------------------------------------------------------------------ */

/* A live record, of class c most of the time (some tries), or -1. */
static long pick_in(int c)
{
    for (int t = 0; t < 16 && n_recs > 0; t++) {
        long i = irand((int)n_recs);
        if (recs[i].c == c) {
            return i;
        }
    }
    return -1;
}

/* A live record for an attribute operation: mostly of Player. */
static long pick_for_attrs(void)
{
    long i = pick_in(chance(85) ? C_DYN : C_SLOTS);
    return i >= 0 || n_recs == 0 ? i : irand((int)n_recs);
}

/* The message of RS_ENOATTR (roster.h). */
static const char *no_attr_msg(int c, const char *name)
{
    static char msg[160];
    snprintf(msg, sizeof msg, "'%s' object has no attribute '%.64s'",
             class_names[c], name);
    return msg;
}

/* A failed call's message must contain text (when given). */
static void expect_msg(const char *call, const char *text)
{
    if (text != NULL && strstr(rs_errmsg(st), text) == NULL) {
        fail("%s: the message \"%s\" lacks \"%s\"", call, rs_errmsg(st),
             text);
    }
}

/* rs_attr_id(class c, name) against the model: a declared field's number,
 * RS_ATTR_BASE + the name's id (interning it: ids follow interning
 * order), or -1 with a message.  With arm, it may run with an allocation
 * failing: then -1, "out of memory", and nothing changed. */
static rs_field do_attr_id(int c, const char *name, bool arm)
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
    desc("%srs_attr_id(%s, \"%.70s\")", used ? "; " : "", class_names[c],
         name);
    memsnap before = mem_now();
    maybe_arm();
    if (!arm) {
        g_alloc.fail_at = 0;
    }
    rs_field got = rs_attr_id(st, classes[c], name);
    long failed = g_alloc.failed;
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
        rs_status chk = rs__store_check(st);
        if (chk != RS_OK) {
            fail("after rs_attr_id failed to allocate, rs__store_check "
                 "returned %s",
                 rs_status_name(chk));
        }
        g_op[used] = '\0';
        return -1;
    }
    tally("rs_attr_id", got >= 0 ? RS_OK : ws);
    if (got != want) {
        fail("rs_attr_id returned %d (\"%s\"), the model expects %ld", got,
             rs_errmsg(st), want);
    }
    if (got >= 0 && rs_errmsg(st)[0] != '\0') {
        fail("rs_attr_id succeeded but rs_errmsg() is \"%s\"", rs_errmsg(st));
    }
    if (got < 0) {
        expect_msg("rs_attr_id", msg);
    }
    if (!interns) {
        mem_same(&before, "rs_attr_id of a known name");
    } else {
        m_intern(name);
    }
    g_op[used] = '\0';
    return got;
}

/* Bind an attribute of the record at index i (or of the dead handle dead
 * when i is -1): by name through rs_set_attr() (f < 0; name not declared)
 * or by number through rs_set_field() (f >= RS_ATTR_BASE, maybe past the
 * interned names).  The value may be borrowed from the store. */
static void do_attr_set(long i, rs_handle dead, const char *name, rs_field f,
                        const rs_value *v)
{
    rs_handle h = i >= 0 ? recs[i].h : dead;
    const char *nm = f < 0                 ? name
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
    const char *call = f >= 0 ? "rs_set_field (attribute)"
                              : "rs_set_attr (attribute)";
    memsnap before = mem_now();
    maybe_arm();
    rs_status rc = f >= 0 ? rs_set_field(st, h, f, v)
                          : rs_set_attr(st, h, name, v);
    if (absorbed(call, rc, ws, &before)) {
        ws = RS_ENOMEM; /* nothing changed: compare the record below */
        msg = NULL;
    }
    expect(call, rc, ws);
    if (rc != RS_OK) {
        mem_same(&before, call);
        expect_msg(call, msg);
    } else {
        nv.name = f >= 0 ? (uint32_t)(f - RS_ATTR_BASE) : m_intern(name);
        m_bind(&recs[i], &nv);
        m_attrs_changed((size_t)i);
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after setting an attribute");
    }
}

/* Unbind name from the record at index i (or the dead handle). */
static void do_attr_del(long i, rs_handle dead, const char *name)
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
    memsnap before = mem_now();
    maybe_arm();
    rs_status rc = rs_del_attr(st, h, name);
    if (absorbed("rs_del_attr", rc, ws, &before)) {
        ws = RS_ENOMEM;
        msg = NULL;
    }
    expect("rs_del_attr", rc, ws);
    if (rc != RS_OK) {
        mem_same(&before, "a failed rs_del_attr");
        expect_msg("rs_del_attr", msg);
    } else {
        m_unbind(&recs[i], (uint32_t)id);
        m_attrs_changed((size_t)i);
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after deleting an attribute");
    }
}

static void op_attr_set(void)
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
            expect("rs_get_attr (to borrow)", rs_get_attr(st, r->h, from, &v),
                   RS_OK);
            desc(" = (borrowed from attribute %s of this record) ", from);
        } else {
            static const int str_fields[] = {F_UID, F_NAME, F_TAG};
            int from = str_fields[irand(3)];
            const char *p;
            size_t len;
            expect("rs_get_str (to borrow)",
                   rs_get_str(st, r->h, from, &p, &len), RS_OK);
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

static void op_attr_del(void)
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
static void op_attr_get(void)
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
    desc("get attribute \"%.70s\" (#%d) of %s 0x%016" PRIx64 " via %s", name,
         f, i >= 0 ? "live" : "dead", h,
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
    memsnap before = mem_now();
    char tmsg[160];
    snprintf(tmsg, sizeof tmsg, "Player.%.64s: the value is not", name);
    switch (api) {
    case 0:
    case 1: {
        rs_value v;
        rs_status rc = api == 0 ? rs_get_attr(st, h, name, &v)
                                : rs_get_field(st, h, f, &v);
        const char *call = api == 0 ? "rs_get_attr (attribute)"
                                    : "rs_get_field (attribute)";
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
        expect("rs_get_int (attribute)", rs_get_int(st, h, f, &x), ws);
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
        expect("rs_get_uint (attribute)", rs_get_uint(st, h, f, &x), ws);
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
        expect("rs_get_f64 (attribute)", rs_get_f64(st, h, f, &x), ws);
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
        expect("rs_get_str (attribute)", rs_get_str(st, h, f, &p, &len), ws);
        expect_msg("rs_get_str (attribute)", msg);
        if (ws == RS_OK &&
            (len != a->len ||
             (len && memcmp(p, mattr_bytes(a), len) != 0))) {
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
static void op_attr_misc(void)
{
    int r = irand(100);
    if (r < 40) {
        const char *name = chance(10) ? defs[irand(NF)].name
                                      : gen_attr_name();
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
    memsnap before = mem_now();
    size_t n = 12345;
    if (r < 65) {
        size_t total = NF + (m ? m->n_attrs : 0);
        size_t cap = (size_t)irand((int)total + 2);
        const char *names[NF + MAX_MATTRS + 2];
        for (size_t k = 0; k < NF + MAX_MATTRS + 2; k++) {
            names[k] = "(untouched)";
        }
        expect("rs_dir", rs_dir(st, h, names, cap, &n), ws);
        for (size_t k = 0; m && k < NF + MAX_MATTRS + 2; k++) {
            const char *want = k >= cap || k >= total ? "(untouched)"
                               : k < NF ? defs[k].name
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
        expect("rs_dict", rs_dict(st, h, items, cap, &n), ws);
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
        expect("rs_record_size", rs_record_size(st, h, &size), ws);
        size_t want = m ? row_len + out_of_line(m) + attrs_size(m) : 0;
        if (m && size != want) {
            fail("rs_record_size = %zu, the model expects %zu (row %zu, "
                 "strings %zu, attributes %zu)",
                 size, want, row_len, out_of_line(m), attrs_size(m));
        }
    }
    mem_same(&before, "introspection");
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */
/* ------------------------------------------------------------------------ */

static void op_insert(void)
{
    int c = chance(75) ? C_DYN : C_SLOTS;
    rs_named vals[NF + 12];
    size_t n = 0;
    int err = chance(12) ? 1 + irand(4) : 0;
    enum { E_ATTR = 1, E_TWICE, E_BAD, E_NOKEY };
    int bad_field = err == E_BAD ? irand(NF) : -1;
    for (int f = 0; f < NF; f++) {
        bool give = f == F_UID  ? err != E_NOKEY
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
        static const char *const unknown[] = {"x", "Uid", "tag ", "",
                                              "uid2", "levels"};
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
    memsnap before = mem_now();
    rs_handle h = RS_NULL_HANDLE;
    bool want_out = chance(90);
    maybe_arm();
    rs_status rc = rs_insert(st, classes[c], vals, n, want_out ? &h : NULL);
    if (absorbed_late("rs_insert", rc, ws, late, &before)) {
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
        mem_same(&before, "a failed rs_insert");
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
        return;
    }
    if (!want_out) {
        rs_status g = rs_get(st, classes[c], want.f[F_UID].s,
                             want.f[F_UID].len, &h);
        expect("rs_get of the record just inserted", g, RS_OK);
    }
    if (h == RS_NULL_HANDLE || h >> 48 != (rs_handle)c + 1 ||
        m_by_handle(h) >= 0) {
        fail("rs_insert gave handle 0x%016" PRIx64 ": null, of another "
             "class, or already live",
             h);
    }
    for (int i = 0; i < n_stale; i++) {
        if (stale[i] == h) {
            fail("rs_insert gave 0x%016" PRIx64 ", the handle of a removed "
                 "record",
                 h);
        }
    }
    want.h = h;
    /* The store interned the dynamic names in the order given. */
    for (uint32_t k = 0; k < want.n_attrs; k++) {
        want.a[k].name = m_intern(dyn[k]);
    }
    if (want.n_attrs > m_max_attrs) {
        m_max_attrs = want.n_attrs;
    }
    m_encode(&want);
    m_add(&want);
    compare_rec(&want, "after rs_insert");
}

static void op_remove(void)
{
    memsnap before = mem_now();
    if (n_recs == 0 || chance(15)) {
        rs_handle h = gen_dead_handle();
        desc("remove dead handle 0x%016" PRIx64, h);
        expect("rs_remove", rs_remove(st, h), RS_ESTALE);
        mem_same(&before, "a failed rs_remove");
        return;
    }
    size_t i = (size_t)irand((int)n_recs);
    mrec r = recs[i];
    desc("remove ");
    desc_rec(&r);
    expect("rs_remove", rs_remove(st, r.h), RS_OK);
    m_remove(i);
    expect("rs_check of the removed record", rs_check(st, r.h), RS_ESTALE);
    if (rs_handle_class(st, r.h) != NULL) {
        fail("rs_handle_class of a removed record is not NULL");
    }
    rs_handle h;
    expect("rs_get of the removed key",
           rs_get(st, classes[r.c], r.f[F_UID].s, r.f[F_UID].len, &h),
           RS_ENOTFOUND);
    rs_value nv = rs_val_str(r.f[F_NAME].s, r.f[F_NAME].len);
    expect("rs_find of the removed name",
           rs_find(st, classes[r.c], F_NAME, &nv, &h), RS_ENOTFOUND);
    /* Its attributes went with it: no dict on the stale handle. */
    size_t na = 0;
    expect("rs_dict of a removed record", rs_dict(st, r.h, NULL, 0, &na),
           RS_ESTALE);
}

enum { API_FIELD, API_ATTR, API_INT, API_STR };

/* Set field f of the record at index i (or of the dead handle dead when i
 * is -1) through one of the set calls, and compare. */
static void do_set(long i, rs_handle dead, int f, const rs_value *v, int api,
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
    memsnap before = mem_now();
    rs_status rc;
    const char *call;
    maybe_arm();
    switch (api) {
    case API_ATTR:
        call = "rs_set_attr";
        rc = rs_set_attr(st, h, attr, v);
        break;
    case API_INT:
        call = "rs_set_int";
        rc = rs_set_int(st, h, f, v->v.i);
        break;
    case API_STR:
        call = "rs_set_str";
        rc = rs_set_str(st, h, f, v->v.s.ptr, v->v.s.len);
        break;
    default:
        call = "rs_set_field";
        rc = rs_set_field(st, h, f, v);
        break;
    }
    if (absorbed(call, rc, ws, &before)) {
        ws = RS_ENOMEM; /* nothing changed: compare the record below */
    }
    expect(call, rc, ws);
    if (rc != RS_OK) {
        mem_same(&before, call);
    } else {
        m_strings -= out_of_line(&recs[i]);
        recs[i].f[mf] = nv;
        m_strings += out_of_line(&recs[i]);
    }
    if (i >= 0) {
        compare_rec(&recs[i], "after a set");
    }
}

static void op_set(bool by_name)
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
        rs_status rc = rs_get_str(st, recs[j].h, from, &p, &len);
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
    desc(" via %s = ",
         api == API_ATTR  ? "rs_set_attr"
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

static void op_get_key(void)
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
    rs_status rc = rs_get(st, classes[c], p, k.v.s.len, &h);
    expect("rs_get", rc, j >= 0 ? RS_OK : RS_ENOTFOUND);
    if (j >= 0 && h != recs[j].h) {
        fail("rs_get gave 0x%016" PRIx64 ", the model 0x%016" PRIx64, h,
             recs[j].h);
    }
}

static void op_find(void)
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
    expect("rs_find", rs_find(st, classes[c], f, &v, &h), ws);
    if (j >= 0 && h != recs[j].h) {
        fail("rs_find gave 0x%016" PRIx64 ", the model 0x%016" PRIx64, h,
             recs[j].h);
    }
}

/* Read the fields of a live or dead handle through every getter. */
static void op_get_fields(void)
{
    long i = n_recs > 0 && chance(80) ? irand((int)n_recs) : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    desc("get fields of %s 0x%016" PRIx64, i >= 0 ? "live" : "dead", h);
    rs_status dead = i >= 0 ? RS_OK : RS_ESTALE;
    memsnap before = mem_now();
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
            expect("rs_get_field", rs_get_field(st, h, ff, &v), ws);
            if (ws == RS_OK) {
                compare_field(h, f, m, "rs_get_field");
            }
            break;
        }
        case 1: {
            rs_value v;
            const char *name = badf ? "nope" : defs[f].name;
            ws = dead ? dead : badf ? RS_ENOATTR : RS_OK;
            expect("rs_get_attr", rs_get_attr(st, h, name, &v), ws);
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
            expect("rs_get_int", rs_get_int(st, h, ff, &x), ws);
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
            expect("rs_get_uint", rs_get_uint(st, h, ff, &x), ws);
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
            expect("rs_get_f64", rs_get_f64(st, h, ff, &x), ws);
            if (ws == RS_OK && !(x == want || (isnan(x) && isnan(want)))) {
                fail("rs_get_f64(%s) = %.17g, model %.17g", defs[f].name, x,
                     want);
            }
            break;
        }
        default: {
            const char *p = NULL;
            size_t len = 0;
            ws = dead ? dead : badf ? RS_EINVAL : t == RS_STR ? RS_OK
                                                              : RS_ETYPE;
            expect("rs_get_str", rs_get_str(st, h, ff, &p, &len), ws);
            if (ws == RS_OK &&
                (len != m->len || (len && memcmp(p, m->s, len) != 0))) {
                fail("rs_get_str(%s) differs from the model", defs[f].name);
            }
            break;
        }
        }
    }
    size_t size = 0;
    expect("rs_record_size", rs_record_size(st, h, &size), dead);
    if (i >= 0 &&
        size != row_len + out_of_line(&recs[i]) + attrs_size(&recs[i])) {
        fail("rs_record_size = %zu, expected %zu", size,
             row_len + out_of_line(&recs[i]) + attrs_size(&recs[i]));
    }
    expect("rs_check", rs_check(st, h), dead);
    if ((rs_handle_class(st, h) != NULL) != (i >= 0)) {
        fail("rs_handle_class disagrees with the model");
    }
    mem_same(&before, "reading fields");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The model's matches for conds among the records of class cl, sorted by
 * handle, into *out (malloc'd). */
static size_t model_matches(int cl, const rs_cond *c, size_t n,
                            rs_handle **out)
{
    rs_handle *m = malloc((n_recs + 1) * sizeof *m);
    size_t k = 0;
    if (m == NULL) {
        fail("out of memory in the model");
    }
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].c == cl && m_match(&recs[i], c, n)) {
            m[k++] = recs[i].h;
        }
    }
    qsort(m, k, sizeof *m, cmp_u64);
    *out = m;
    return k;
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
                   rs_scan_open(st, classes[s->cl], s->c, s->n, &s->sc),
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
        rs_status rc = rs_scan_batch(st, classes[s->cl], s->c, s->n,
                                     s->cursor, 1 + (size_t)irand(30),
                                     s->buf, 1 + (size_t)irand(8), &n_out,
                                     &s->cursor);
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

/* A filtered scan; with modify, each returned record may be removed or
 * have a field or attribute set or deleted before the next (roster.h
 * allows exactly that). */
static void op_scan(bool modify)
{
    rs_cond conds[8];
    int cl = chance(80) ? C_DYN : C_SLOTS;
    bool bad = !modify && chance(8);
    size_t n = gen_conds(conds, bad);
    desc("%s %s ", modify ? "scan and modify" : "scan", class_names[cl]);
    desc_conds(conds, n);
    rs_status ws = m_check_conds(conds, n);
    memsnap before = mem_now();
    rs_scan *sc = NULL;
    maybe_arm();
    rs_status rc = rs_scan_open(st, classes[cl], conds, n, &sc);
    if (absorbed("rs_scan_open", rc, ws, &before)) {
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
    char keep[8][96]; /* the operands those read, out of new_buf()'s ring */
    for (size_t i = 0; i < n && mode >= 6; i++) {
        if (conds[i].val.type == RS_STR && conds[i].val.v.s.len > 0 &&
            conds[i].val.v.s.len <= sizeof keep[i]) {
            memcpy(keep[i], conds[i].val.v.s.ptr, conds[i].val.v.s.len);
            conds[i].val.v.s.ptr = keep[i];
        }
    }
    for (size_t i = 0; i < n && mode < 6; i++) {
        if (conds[i].val.type == RS_STR && conds[i].val.v.s.len > 0) {
            for (int b = 0; b < N_BUFS; b++) {
                if (conds[i].val.v.s.ptr >= bufs[b] &&
                    conds[i].val.v.s.ptr < bufs[b] + sizeof bufs[b]) {
                    memset(bufs[b], '#', sizeof bufs[b]);
                }
            }
        }
    }
    size_t got = 0;
    rs_handle h, prev = 0;
    bool *seen = calloc(n_want + 1, sizeof *seen);
    if (seen == NULL) {
        fail("out of memory in the model");
    }
    scan_src src = {sc, mode >= 8, mode >= 6, cl, conds, n, 0, false, {0},
                    0, 0};
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
                 "model", h);
        }
        int r = irand(100);
        if (r < 3) {
            expect("rs_remove during a scan", rs_remove(st, h), RS_OK);
            m_remove((size_t)i);
        } else if (r < 15) {
            int f = irand(NF);
            rs_value v = gen_value(f, chance(10));
            do_set(i, RS_NULL_HANDLE, f, &v, API_FIELD, defs[f].name);
        } else if (r < 22) {
            rs_value v = gen_attr_value();
            const mrec *m = &recs[i];
            const char *name = m->n_attrs >= BUSY_ATTRS
                                   ? m_names[m->a[0].name]
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

static void op_check_handle(void)
{
    long i = n_recs > 0 && chance(50) ? irand((int)n_recs) : -1;
    rs_handle h = i >= 0 ? recs[i].h : gen_dead_handle();
    desc("rs_check 0x%016" PRIx64, h);
    expect("rs_check", rs_check(st, h), i >= 0 ? RS_OK : RS_ESTALE);
    if (rs_handle_class(st, h) != (i >= 0 ? classes[recs[i].c] : NULL)) {
        fail("rs_handle_class disagrees with the model");
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
           rs_find_many(st, classes[c], f, vals, n, got, &found), RS_OK);
    if (found != want_found) {
        fail("rs_find_many found %zu, the model %zu", found, want_found);
    }
    for (size_t k = 0; k < n; k++) {
        if (got[k] != want[k]) {
            fail("rs_find_many value %zu gave 0x%016" PRIx64 ", the model "
                 "0x%016" PRIx64, k, got[k], want[k]);
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
    expect("rs_read", rs_read(st, r->h, items, NF + MAX_MATTRS, &n, buf,
                              sizeof buf, &need), RS_OK);
    if (n != NF + r->n_attrs) {
        fail("rs_read gave %zu items, the model has %u fields and %u "
             "attributes", n, NF, r->n_attrs);
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
            fail("rs_read: attribute %u is %s, the model has %s", k,
                 it->name, m_names[r->a[k].name]);
        }
    }
    /* Too little room: the sizes it needs, whatever the buffers. */
    if (n > 1) {
        size_t n2 = 0, need2 = 0;
        expect("rs_read with too few items",
               rs_read(st, r->h, items, n - 1, &n2, buf, sizeof buf, &need2),
               RS_ETOOLONG);
        if (n2 != n || need2 != need) {
            fail("rs_read short of room said %zu items and %zu bytes, "
                 "not %zu and %zu", n2, need2, n, need);
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
    expect("rs_get_str_copy",
           rs_get_str_copy(st, r->h, f, buf, cap, &len), want);
    if (len != r->f[f].len) {
        fail("rs_get_str_copy said %zu bytes, the model has %zu", len,
             r->f[f].len);
    }
    if (want == RS_OK && (memcmp(buf, r->f[f].s, len) != 0 ||
                          buf[len] != '\0')) {
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
    rs_status ws = old + delta < 0 && f != F_SCORE ? RS_ERANGE
                                                   : m_coerce(f, &sum, &nv);
    int64_t out = 0;
    memsnap before = mem_now();
    expect("rs_incr", rs_incr(st, recs[i].h, f, delta, &out), ws);
    if (ws == RS_OK) {
        recs[i].f[f] = nv;
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
    rs_status rc = rs_remove_key(st, classes[c], k.v.s.ptr ? k.v.s.ptr : "",
                                 k.v.s.len);
    expect("rs_remove_key", rc, j >= 0 ? RS_OK : RS_ENOTFOUND);
    if (j >= 0 && rc == RS_OK) {
        m_remove((size_t)j);
    }
}

/* rs_set_many() of 2 or 3 fields: all of them, or none when one is bad, a
 * duplicate name, or a field named twice. */
static void front_set_many(void)
{
    static const int fields[] = {F_NAME, F_STAT,  F_LEVEL, F_SCORE,
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
    expect("rs_set_many", rs_set_many(st, recs[i].h, v, n), ws);
    if (ws == RS_OK) {
        for (size_t k = 0; k < n; k++) {
            m_strings -= out_of_line(&recs[i]);
            recs[i].f[fs[k]] = nv[k];
            m_strings += out_of_line(&recs[i]);
        }
    }
    compare_rec(&recs[i], "after rs_set_many");
}

static void op_front(void)
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

/* ------------------------------------------------------------------------ */
/* The run                                                                   */
/* ------------------------------------------------------------------------ */

/* Weights per phase: grow, mixed, shrink (down to empty), mixed. */
typedef struct weights {
    int insert, remove, set, set_attr, get_key, find, get_fields, scan,
        scan_modify, check, dyn_set, dyn_get, dyn_del, dyn_misc, front;
} weights;

static const weights phases[4] = {
    {45, 4, 14, 6, 8, 6, 6, 5, 1, 3, 14, 6, 4, 3, 6},
    {26, 12, 15, 6, 8, 7, 8, 5, 2, 3, 14, 7, 6, 3, 8},
    {10, 35, 12, 4, 7, 5, 6, 4, 1, 3, 8, 4, 3, 2, 5},
    {26, 12, 15, 6, 8, 7, 8, 5, 2, 3, 14, 7, 6, 3, 8},
};

static void one_op(const weights *w)
{
    int total = w->insert + w->remove + w->set + w->set_attr + w->get_key +
                w->find + w->get_fields + w->scan + w->scan_modify +
                w->check + w->dyn_set + w->dyn_get + w->dyn_del +
                w->dyn_misc + w->front;
    int r = irand(total);
    if ((r -= w->insert) < 0) {
        op_insert();
    } else if ((r -= w->remove) < 0) {
        op_remove();
    } else if ((r -= w->set) < 0) {
        op_set(false);
    } else if ((r -= w->set_attr) < 0) {
        op_set(true);
    } else if ((r -= w->get_key) < 0) {
        op_get_key();
    } else if ((r -= w->find) < 0) {
        op_find();
    } else if ((r -= w->get_fields) < 0) {
        op_get_fields();
    } else if ((r -= w->scan) < 0) {
        op_scan(false);
    } else if ((r -= w->scan_modify) < 0) {
        op_scan(true);
    } else if ((r -= w->check) < 0) {
        op_check_handle();
    } else if ((r -= w->dyn_set) < 0) {
        op_attr_set();
    } else if ((r -= w->dyn_get) < 0) {
        op_attr_get();
    } else if ((r -= w->dyn_del) < 0) {
        op_attr_del();
    } else if ((r -= w->dyn_misc) < 0) {
        op_attr_misc();
    } else {
        op_front();
    }
}

static void run(uint64_t seed, long ops, long check_every, bool verbose)
{
    g_seed = seed;
    g_ops = ops;
    g_check_every = check_every;
    g_step = -1;
    rng = seed;
    n_recs = 0;
    memset(n_of, 0, sizeof n_of);
    m_strings = 0;
    m_blocks = m_with_attrs = 0;
    m_max_attrs = 0;
    m_names_free();
    m_n_shapes = 0;
    memset(m_trans, 0, sizeof m_trans);
    memset(long_buf, LONG_CH, sizeof long_buf);
    memset(name_64, 'n', RS_MAX_NAME);
    memcpy(name_64, "longest_", 8);
    name_64[RS_MAX_NAME] = '\0';
    memset(name_65, 'n', RS_MAX_NAME + 1);
    memcpy(name_65, "too_long_", 9);
    name_65[RS_MAX_NAME + 1] = '\0';
    n_stale = stale_next = 0;
    buf_next = 0;
    memset(&g_alloc, 0, sizeof g_alloc);
    snprintf(g_op, sizeof g_op, "setup");
    rs_status rc = rs_store_open(count_alloc, &g_alloc, &st);
    if (rc != RS_OK) {
        fail("rs_store_open returned %s", rs_status_name(rc));
    }
    for (int c = 0; c < NC; c++) {
        rc = rs_class_create(st, class_names[c], defs, NF,
                             c == C_DYN ? RS_CLASS_DYNAMIC : 0, &classes[c]);
        if (rc != RS_OK) {
            fail("rs_class_create(%s) returned %s: %s", class_names[c],
                 rs_status_name(rc), rs_errmsg(st));
        }
        if (rs_class_flags(classes[c]) !=
            (c == C_DYN ? RS_CLASS_DYNAMIC : 0u)) {
            fail("class %s has flags %u", class_names[c],
                 rs_class_flags(classes[c]));
        }
        if (classes[c]->id != c + 1 ||
            classes[c]->row_len != classes[0]->row_len) {
            fail("class %s is number %u with rows of %u bytes", class_names[c],
                 classes[c]->id, classes[c]->row_len);
        }
    }
    rs_class *cl = classes[C_DYN];
    for (int f = 0; f < NF; f++) {
        if (rs_class_field(cl, defs[f].name) != f) {
            fail("field %s is not number %d", defs[f].name, f);
        }
    }
    row_len = cl->row_len;
    for (int f = 0; f < NF; f++) {
        rs_field_def d;
        rc = rs_class_field_def(cl, f, &d);
        if (rc != RS_OK) {
            fail("rs_class_field_def(%d) returned %s", f, rs_status_name(rc));
        }
        uint32_t want = !is_str(f)             ? 0
                        : defs[f].inline_len    ? defs[f].inline_len
                        : defs[f].max_len <= 16 ? 7
                                                : RS_MAX_INLINE;
        if (d.inline_len != want) {
            fail("field %s keeps %u bytes inline, expected %u", defs[f].name,
                 d.inline_len, want);
        }
        inline_max[f] = d.inline_len;
    }
    long phase_len = ops / 8 < 20000 ? ops / 8 : 20000;
    if (phase_len < 500) {
        phase_len = 500;
    }
    size_t max_live = 0;
    int empties = 0;
    for (g_step = 0; g_step < ops; g_step++) {
        g_op[0] = '\0';
        one_op(&phases[(g_step / phase_len) % 4]);
        step_checks();
        if (n_recs > max_live) {
            max_live = n_recs;
        }
        if (n_recs == 0) {
            empties++;
        }
        if (opt_trace && (g_step + 1) % phase_len == 0) {
            printf("step %ld: %zu live\n", g_step + 1, n_recs);
        }
        if ((g_step + 1) % check_every == 0) {
            g_op[0] = '\0';
            full_check("periodic");
        }
    }
    g_op[0] = '\0';
    snprintf(g_op, sizeof g_op, "end of run");
    full_check("end");
    /* A scan left open is closed with the store; nothing may leak. */
    rs_scan *sc;
    rc = rs_scan_open(st, classes[C_DYN], NULL, 0, &sc);
    if (rc != RS_OK) {
        fail("rs_scan_open returned %s", rs_status_name(rc));
    }
    size_t n_lists = 0;
    for (size_t i = 0; i < n_recs; i++) {
        n_lists += recs[i].n_attrs > 0 && recs[i].shape == 0;
    }
    uint32_t names = m_n_names, shapes = m_n_shapes ? m_n_shapes - 1 : 0;
    rs_store_close(st);
    st = NULL;
    if (g_alloc.live_bytes != 0 || g_alloc.live_blocks != 0) {
        fail("after rs_store_close, %zu bytes in %zu blocks are still "
             "allocated",
             g_alloc.live_bytes, g_alloc.live_blocks);
    }
    printf("seed %" PRIu64 ": %ld operations, up to %zu live records, "
           "empty %d times (row %zu bytes; inline up to uid %zu, name %zu, "
           "tag %zu)\n",
           seed, ops, max_live, empties, row_len, inline_max[F_UID],
           inline_max[F_NAME], inline_max[F_TAG]);
    printf("  attributes: %u names, %u shapes, %zu records in the list "
           "form at the end, up to %u on a record\n",
           names, shapes, n_lists, m_max_attrs);
    if (verbose) {
        print_tally();
    }
    memset(stat_call, 0, sizeof stat_call);
    memset(stat_n, 0, sizeof stat_n);
    free(recs);
    recs = NULL;
    cap_recs = 0;
    m_names_free();
}

/* Set a string field to its own current value, borrowed from the store
 * with rs_get_str(): the value is "copied" on the way in, so the record
 * must keep it, inline (up to 7 bytes) or out of line.  The same for a
 * value borrowed from another field of the same record. */
static void test_set_own_borrowed_value(void)
{
    snprintf(g_op, sizeof g_op, "set_own_borrowed_value");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(count_alloc, &g_alloc, &st));
    CHECK_OK(st, rs_class_create(st, "Player", defs, NF, 0, &cls));
    static const char *const tags[] = {
        "", "abc", "abcdefg", "abcdefgh", "fifteen-bytes-x", "sixteen-bytes-xx",
        "a-tag-of-twenty-byte", "forty-bytes-of-tag-forty-bytes-of-tag-40"};
    for (int t = 0; t < 8; t++) {
        for (int api = 0; api < 3; api++) {
            char uid[16];
            snprintf(uid, sizeof uid, "u%d-%d", t, api);
            rs_named v[] = {{"uid", str_val(uid)},
                            {"name", str_val(uid)},
                            {"tag", str_val(tags[t])}};
            rs_handle h = RS_NULL_HANDLE;
            CHECK_OK(st, rs_insert(st, cls, v, 3, &h));
            const char *p = NULL;
            size_t len = 0;
            CHECK_OK(st, rs_get_str(st, h, F_TAG, &p, &len));
            rs_value own = rs_val_str(p, len);
            if (api == 0) {
                CHECK_OK(st, rs_set_str(st, h, F_TAG, p, len));
            } else if (api == 1) {
                CHECK_OK(st, rs_set_field(st, h, F_TAG, &own));
            } else {
                CHECK_OK(st, rs_set_attr(st, h, "tag", &own));
            }
            CHECK_OK(st, rs_get_str(st, h, F_TAG, &p, &len));
            if (len != strlen(tags[t]) || memcmp(p, tags[t], len) != 0) {
                char got[256], want[256];
                fmt_str(got, sizeof got, p, len);
                fmt_str(want, sizeof want, tags[t], strlen(tags[t]));
                fprintf(stderr,
                        "%s:%d: tag set to its own borrowed value (%zu "
                        "bytes, %s): store has %s, expected %s\n",
                        __FILE__, __LINE__, strlen(tags[t]),
                        api == 0   ? "rs_set_str"
                        : api == 1 ? "rs_set_field"
                                   : "rs_set_attr",
                        got, want);
                check_failures++;
            }
        }
    }
    /* Another field of the same record: tag = name. */
    rs_named v[] = {{"uid", str_val("x")},
                    {"name", str_val("a-name-past-seven")}};
    rs_handle h = RS_NULL_HANDLE;
    CHECK_OK(st, rs_insert(st, cls, v, 2, &h));
    const char *p = NULL;
    size_t len = 0;
    CHECK_OK(st, rs_get_str(st, h, F_NAME, &p, &len));
    CHECK_OK(st, rs_set_str(st, h, F_TAG, p, len));
    CHECK_OK(st, rs_get_str(st, h, F_TAG, &p, &len));
    CHECK(len == 17 && memcmp(p, "a-name-past-seven", 17) == 0);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
    st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

/* The most attributes a record may have (roster.h: 255): one more is
 * RS_EFULL and changes nothing, by rs_set_attr() and by rs_insert();
 * rebinding and deleting still work. */
static void test_attrs_full(void)
{
    snprintf(g_op, sizeof g_op, "attrs_full");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(count_alloc, &g_alloc, &st));
    rs_class *c = NULL;
    CHECK_OK(st, rs_class_create(st, "Player", defs, NF, RS_CLASS_DYNAMIC,
                                 &c));
    static char names[ATTRS_PER_RECORD + 1][16];
    for (int k = 0; k <= ATTRS_PER_RECORD; k++) {
        snprintf(names[k], sizeof names[k], "a%d", k);
    }
    rs_named key[] = {{"uid", str_val("full")}};
    rs_handle h = RS_NULL_HANDLE;
    CHECK_OK(st, rs_insert(st, c, key, 1, &h));
    for (int k = 0; k < ATTRS_PER_RECORD; k++) {
        rs_value v = rs_val_int(k);
        CHECK_OK(st, rs_set_attr(st, h, names[k], &v));
    }
    rs_mem_report m0, m1;
    rs_mem(st, &m0);
    rs_value v = rs_val_int(-1);
    CHECK_FAIL(st, rs_set_attr(st, h, names[ATTRS_PER_RECORD], &v), RS_EFULL,
               "more than 255");
    rs_field f = rs_attr_id(st, c, names[ATTRS_PER_RECORD]);
    rs_mem(st, &m0); /* the id interned the name */
    CHECK_FAIL(st, rs_set_field(st, h, f, &v), RS_EFULL, "more than 255");
    static rs_named vals[ATTRS_PER_RECORD + 3];
    vals[0] = (rs_named){"uid", str_val("full2")};
    vals[1] = (rs_named){"name", str_val("full2")};
    for (int k = 0; k <= ATTRS_PER_RECORD; k++) {
        vals[k + 2] = (rs_named){names[k], rs_val_bool(k % 2 == 0)};
    }
    CHECK_FAIL(st, rs_insert(st, c, vals, ATTRS_PER_RECORD + 3, NULL),
               RS_EFULL, "more than 255");
    rs_mem(st, &m1);
    CHECK_EQ(m1.total, m0.total);
    CHECK_EQ(m1.n_allocs, m0.n_allocs);
    CHECK_EQ(m1.bytes[RS_MEM_ATTRS], m0.bytes[RS_MEM_ATTRS]);
    CHECK_EQ(m1.n_attr_names, m0.n_attr_names);
    CHECK_EQ(m1.n_shapes, m0.n_shapes);
    /* 255 by insert is fine. */
    CHECK_OK(st, rs_insert(st, c, vals, ATTRS_PER_RECORD + 2, NULL));
    /* Rebind in place, delete the first, bind the one refused. */
    CHECK_OK(st, rs_set_attr(st, h, names[7], &v));
    CHECK_OK(st, rs_del_attr(st, h, names[0]));
    CHECK_OK(st, rs_set_field(st, h, f, &v));
    static rs_attr items[ATTRS_PER_RECORD + 1];
    size_t n = 0;
    CHECK_OK(st, rs_dict(st, h, items, ATTRS_PER_RECORD + 1, &n));
    CHECK_EQ(n, ATTRS_PER_RECORD);
    for (size_t k = 0; k < n && k < ATTRS_PER_RECORD; k++) {
        int64_t want = k + 1 == 7 || k + 1 == ATTRS_PER_RECORD
                           ? -1
                           : (int64_t)k + 1;
        if (strcmp(items[k].name, names[k + 1]) != 0 ||
            items[k].val.type != RS_I64 || items[k].val.v.i != want) {
            fprintf(stderr, "%s:%d: item %zu is %s, expected %s = %" PRId64
                            "\n",
                    __FILE__, __LINE__, k, items[k].name, names[k + 1],
                    want);
            check_failures++;
            break;
        }
    }
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
    st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

/* An insert into a class of 255 string fields, each given a value too
 * long to be inline (and not digits, which would be packed), and a
 * dynamic attribute: 256 arena cells reserved by one operation.  The
 * string arena logs each cell an operation takes, to give it back on
 * failure (strs.h: rs__strs.log[RS_MAX_FIELDS]). */
static void test_wide_record_attrs(void)
{
    snprintf(g_op, sizeof g_op, "wide_record_attrs");
    memset(&g_alloc, 0, sizeof g_alloc);
    CHECK_OK(NULL, rs_store_open(count_alloc, &g_alloc, &st));
    static rs_field_def wide[RS_MAX_FIELDS];
    static char names[RS_MAX_FIELDS][8];
    for (int f = 0; f < RS_MAX_FIELDS; f++) {
        snprintf(names[f], sizeof names[f], "f%d", f);
        wide[f] = (rs_field_def){.name = names[f], .type = RS_STR,
                                 .max_len = 16, .inline_len = 7,
                                 .flags = f == 0 ? RS_FIELD_KEY : 0u};
    }
    rs_class *c = NULL;
    CHECK_OK(st, rs_class_create(st, "Wide", wide, RS_MAX_FIELDS,
                                 RS_CLASS_DYNAMIC, &c));
    static char big[101];
    memset(big, 'q', 100);
    for (int r = 0; r < 2 && c; r++) {
        static rs_named vals[RS_MAX_FIELDS + 1];
        for (int f = 0; f < RS_MAX_FIELDS; f++) {
            vals[f] = (rs_named){names[f], str_val(r ? "out-of-line-b"
                                                     : "out-of-line-a")};
        }
        vals[RS_MAX_FIELDS] = (rs_named){"x", rs_val_str(big, (size_t)(100 - r))};
        rs_handle h = RS_NULL_HANDLE;
        CHECK_OK(st, rs_insert(st, c, vals, RS_MAX_FIELDS + 1, &h));
        rs_attr items[2];
        size_t n = 0;
        CHECK_OK(st, rs_dict(st, h, items, 2, &n));
        CHECK(n == 1 && strcmp(items[0].name, "x") == 0 &&
              items[0].val.type == RS_STR &&
              items[0].val.v.s.len == (size_t)(100 - r));
        const char *p = NULL;
        size_t len = 0;
        CHECK_OK(st, rs_get_str(st, h, RS_MAX_FIELDS - 1, &p, &len));
        CHECK(len == 13 && memcmp(p, r ? "out-of-line-b" : "out-of-line-a",
                                  13) == 0);
        CHECK_OK(st, rs__store_check(st));
    }
    rs_store_close(st);
    st = NULL;
    CHECK_EQ(g_alloc.live_bytes, 0);
}

static void test_model(void)
{
    run(opt_seed, opt_ops, opt_check_every, true);
}

/* Other seeds, shorter, with the full comparison more often. */
static void test_seeds(void)
{
    for (uint64_t s = 2; s <= 6; s++) {
        run(s, 20000, 250, false);
    }
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"model", test_model},
        {"seeds", test_seeds},
        {"set_own_borrowed_value", test_set_own_borrowed_value},
        {"attrs_full", test_attrs_full},
        {"wide_record_attrs", test_wide_record_attrs},
        {NULL, NULL},
    };
    char *rest[4] = {argv[0], NULL, NULL, NULL};
    int n_rest = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            opt_seed = strtoull(argv[++i], NULL, 10);
            opt_seed_given = true;
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            opt_ops = strtol(argv[++i], NULL, 10);
            opt_seed_given = true;
        } else if (strcmp(argv[i], "--trace") == 0) {
            opt_trace = true;
        } else if (strcmp(argv[i], "--check-every") == 0 && i + 1 < argc) {
            opt_check_every = strtol(argv[++i], NULL, 10);
        } else if (n_rest < 2) {
            rest[n_rest++] = argv[i];
        } else {
            fprintf(stderr, "usage: %s [case] [--seed S] [--ops N] "
                            "[--check-every K] [--trace]\n",
                    argv[0]);
            return 2;
        }
    }
    if (opt_ops < 1 || opt_check_every < 1) {
        fprintf(stderr, "--ops and --check-every take a positive number\n");
        return 2;
    }
    if (opt_seed_given && n_rest == 1) {
        rest[n_rest++] = "model"; /* a replay runs just that seed */
    }
    return check_main(n_rest, rest, cases);
}
