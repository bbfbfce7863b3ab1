/*
 * test_strs.c: the string cells and the string arena (src/strs.h) on their
 * own, beside a store that only lends its allocator and accounting.
 *
 * - cells: every cell width (5..16) against strings that go inline,
 *   packed (digits, leading zeros kept) or out of line, written with
 *   rs__cell_put() and read back with rs__cell_get() byte for byte; the
 *   arena bytes each takes are what rs__cell_arena_len() said; releasing
 *   them all leaves no live byte.
 * - rollback: takes of a failed operation go back exactly: live bytes,
 *   allocated bytes, and the next take gets the same cells.
 * - reuse: a released cell is the next one its pool hands out, so churn
 *   at a constant count allocates nothing more.
 * - cost: rs__strs_cost() of every length from 8 to 2^20 is at least the
 *   length and wastes under 12.5% past 128 bytes (strs.h).
 * - take_fails: an allocation failing in a take gives nothing back wrong.
 */
#include "alloc_check.h"
#include "check.h"

#include "store.h"

static alloc_check g_ac;

static rs_store *open_store(void)
{
    rs_store *st = NULL;
    CHECK_EQ(rs_store_open(alloc_check_fn, &g_ac, &st), RS_OK);
    return st;
}

static void close_store(rs_store *st, rs__strs *s)
{
    CHECK_EQ(rs__strs_check(s), RS_OK);
    rs__strs_free(st, s);
    rs_store_close(st);
    alloc_check_clean(&g_ac, "test_strs");
}

/* Write text into a cell of width (taking an arena cell if it needs one)
 * and read it back; returns the arena bytes it took. */
static size_t roundtrip(rs_store *st, rs__strs *s, uint32_t width,
                        const char *text, size_t len, uint8_t *cell)
{
    size_t alen = rs__cell_arena_len(text, len, width);
    uint32_t ref = RS_REF_NONE;
    rs__strs_begin(s);
    if (alen > 0 && !CHECK_EQ(rs__strs_take(st, s, alen, &ref), RS_OK)) {
        return 0;
    }
    rs__strs_commit(s);
    memset(cell, 0xAA, 17); /* every caller passes 17 bytes */
    rs__cell_put(s, cell, width, text, len, ref);
    CHECK(cell[width] == 0xAA); /* nothing past the cell */
    char buf[RS_KEY_TMP];
    const char *ptr;
    size_t got;
    rs__cell_get(s, cell, width, buf, &ptr, &got);
    if (!CHECK_EQ(got, len) || (len > 0 && memcmp(ptr, text, len) != 0)) {
        fprintf(stderr, "  width %u, '%.*s'\n", width, (int)len, text);
    }
    /* What the cell says about itself. */
    if (len < width) {
        CHECK_EQ(cell[0], len);
    } else if (alen == 0) {
        CHECK_EQ(cell[0], RS_CELL_DIGITS | len);
    } else {
        CHECK_EQ(cell[0], RS_CELL_LONG);
    }
    return alen;
}

static void cells(void)
{
    rs_store *st = open_store();
    rs__strs s;
    rs__strs_init(&s);
    static char big[70000];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (char)('a' + i % 26);
    }
    const char *texts[] = {"",
                           "a",
                           "abcd",
                           "abcdefghijk",
                           "1234567",
                           "0000123",
                           "00001234", /* even counts: two digits a step */
                           "987654321012345678",
                           "000000000000000",
                           "9999999999999999999",
                           "18446744073709551615",
                           "12345678901234567890123",
                           "12a45678",
                           "a name with spaces and more than sixteen bytes"};
    enum { N_TEXTS = sizeof texts / sizeof texts[0] };
    uint8_t cellv[N_TEXTS][12][17];
    size_t taken = 0, n_out = 0;
    for (uint32_t w = 5; w <= 16; w++) {
        for (size_t i = 0; i < N_TEXTS; i++) {
            taken += roundtrip(st, &s, w, texts[i], strlen(texts[i]),
                               cellv[i][w - 5]);
        }
        /* Digits at the packing limit of this width, and one past it. */
        char digits[24];
        uint32_t max = rs__cell_digits_max(w);
        memset(digits, '7', sizeof digits);
        if (max >= w) {
            CHECK_EQ(rs__cell_arena_len(digits, max, w), 0);
        }
        CHECK(rs__cell_arena_len(digits, max + 1, w) > 0);
        /* A long string, out of line at every width. */
        uint8_t cell[17];
        size_t a = roundtrip(st, &s, w, big, sizeof big, cell);
        CHECK(a >= sizeof big);
        rs__cell_release(&s, cell, w);
        n_out++;
    }
    CHECK(taken > 0);
    CHECK_EQ(s.live_bytes > 0, 1);
    /* Release every cell: nothing live is left. */
    for (uint32_t w = 5; w <= 16; w++) {
        for (size_t i = 0; i < N_TEXTS; i++) {
            rs__cell_release(&s, cellv[i][w - 5], w);
        }
    }
    CHECK_EQ(s.live_bytes, 0);
    CHECK_EQ(n_out, 12);
    close_store(st, &s);
}

static void rollback(void)
{
    rs_store *st = open_store();
    rs__strs s;
    rs__strs_init(&s);
    uint32_t first[3];
    rs__strs_begin(&s);
    size_t lens[3] = {20, 300, 5000};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(st, rs__strs_take(st, &s, lens[i], &first[i]));
    }
    rs__strs_rollback(st, &s);
    CHECK_EQ(s.live_bytes, 0);
    size_t bytes = g_ac.live_bytes;
    /* The same takes again get the same cells. */
    rs__strs_begin(&s);
    for (int i = 0; i < 3; i++) {
        uint32_t ref;
        CHECK_OK(st, rs__strs_take(st, &s, lens[i], &ref));
        CHECK_EQ(ref, first[i]);
    }
    rs__strs_commit(&s);
    CHECK(g_ac.live_bytes >= bytes);
    for (int i = 0; i < 3; i++) {
        rs__strs_release(&s, first[i], lens[i]);
    }
    CHECK_EQ(s.live_bytes, 0);
    close_store(st, &s);
}

static void reuse(void)
{
    rs_store *st = open_store();
    rs__strs s;
    rs__strs_init(&s);
    enum { N = 500 };
    uint32_t refs[N];
    rs__strs_begin(&s);
    for (int i = 0; i < N; i++) {
        rs__strs_commit(&s);
        rs__strs_begin(&s);
        CHECK_OK(st, rs__strs_take(st, &s, 40, &refs[i]));
    }
    rs__strs_commit(&s);
    size_t bytes = g_ac.live_bytes, live = s.live_bytes;
    for (int round = 0; round < 20; round++) {
        for (int i = round % 7; i < N; i += 7) {
            rs__strs_release(&s, refs[i], 40);
            uint32_t again;
            rs__strs_begin(&s);
            CHECK_OK(st, rs__strs_take(st, &s, 40, &again));
            rs__strs_commit(&s);
            CHECK_EQ(again, refs[i]); /* the free list's head */
        }
    }
    CHECK_EQ(g_ac.live_bytes, bytes);
    CHECK_EQ(s.live_bytes, live);
    for (int i = 0; i < N; i++) {
        rs__strs_release(&s, refs[i], 40);
    }
    CHECK_EQ(s.live_bytes, 0);
    close_store(st, &s);
}

static void cost(void)
{
    size_t bad = 0;
    for (size_t len = 8; len <= ((size_t)1 << 20) && bad == 0; len++) {
        size_t c = rs__strs_cost(len);
        bool ok =
            c >= len && (len <= 128 ? c == len /* exact lengths up to 128 */
                                    : (double)c <= (double)len * 1.125 + 1);
        if (!ok) {
            bad = len;
            fprintf(stderr, "  len %zu costs %zu\n", len, c);
        }
    }
    CHECK_EQ(bad, 0);
}

static void take_fails(void)
{
    rs_store *st = open_store();
    rs__strs s;
    rs__strs_init(&s);
    int failed = 0;
    for (long k = 1; k < 10; k++) {
        size_t bytes = g_ac.live_bytes;
        rs__strs_begin(&s);
        uint32_t a, b;
        rs_status rc = rs__strs_take(st, &s, 900 + (size_t)k * 100, &a);
        alloc_check_arm(&g_ac, 1);
        if (rc == RS_OK) {
            rc = rs__strs_take(st, &s, 70000 + (size_t)k * 1000, &b);
        }
        alloc_check_disarm(&g_ac);
        if (rc != RS_OK) {
            CHECK_EQ(rc, RS_ENOMEM);
            failed++;
            rs__strs_rollback(st, &s);
            CHECK_EQ(g_ac.live_bytes, bytes);
        } else {
            rs__strs_commit(&s);
        }
    }
    CHECK(failed > 0);
    close_store(st, &s);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"cells", cells}, {"rollback", rollback},     {"reuse", reuse},
        {"cost", cost},   {"take_fails", take_fails}, {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
