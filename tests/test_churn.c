/*
 * test_churn.c: logout/login churn leaves memory where it was, with the
 * real page and index segment sizes (the small test build's segments are
 * a few groups, too coarse to say anything about an index's size).
 *
 * 200,000 players; 30 rounds in which a random 20% log out and as many
 * new ones log in.  Rows and strings must be reused exactly.  The index
 * may settle in the first rounds (segments that were about to split do;
 * tombstones accumulate to their working level), after which it must hold:
 * the last ten rounds may not grow it by more than 2%.
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs__store_check */

enum { N = 200000, ROUNDS = 30 };

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(uint32_t bound)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % bound);
}

static void test_churn_holds_memory(void)
{
    rs_store *st;
    rs_class *cls;
    const char *text = "Player { uid: str(16) key; name: str(32) unique "
                       "inline(12); level: u16 = 0 }";
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), &cls));
    static rs_handle h[N];
    char uid[16], name[16];
    uint32_t next = 0;
    for (int i = 0; i < N; i++, next++) {
        snprintf(uid, sizeof uid, "%07u", next);
        snprintf(name, sizeof name, "n%u", next);
        rs_named v[] = {{"uid", rs_val_cstr(uid)}, {"name", rs_val_cstr(name)}};
        CHECK_OK(st, rs_insert(st, cls, v, 2, &h[i]));
    }
    rs_mem_report start, settled, end;
    rs_mem(st, &start);
    for (int round = 1; round <= ROUNDS; round++) {
        for (int j = 0; j < N / 5; j++) {
            uint32_t i = rnd(N);
            while (rs_check(st, h[i]) != RS_OK) {
                i = (i + 1) % N;
            }
            CHECK_OK(st, rs_remove(st, h[i]));
        }
        for (int i = 0; i < N; i++) {
            if (rs_check(st, h[i]) == RS_OK) {
                continue;
            }
            snprintf(uid, sizeof uid, "%07u", next);
            snprintf(name, sizeof name, "n%u", next++);
            rs_named v[] = {{"uid", rs_val_cstr(uid)},
                            {"name", rs_val_cstr(name)}};
            CHECK_OK(st, rs_insert(st, cls, v, 2, &h[i]));
        }
        if (round == ROUNDS - 10) {
            rs_mem(st, &settled);
        }
    }
    rs_mem(st, &end);
    CHECK_EQ(rs_count(cls), N);
    /* Thirty rounds are far from a slot's RS_SLOT_LIVES: nothing retired,
     * and the room left is the real limit's. */
    CHECK_EQ(end.n_retired, 0);
    CHECK_EQ(end.n_room, RS_MAX_RECORDS - N);
    CHECK(end.fullest == cls);
    CHECK_EQ(end.bytes[RS_MEM_RECORDS], start.bytes[RS_MEM_RECORDS]);
    CHECK_EQ(end.bytes[RS_MEM_RECORDS] + end.bytes[RS_MEM_FREE] +
                 end.bytes[RS_MEM_STRINGS],
             start.bytes[RS_MEM_RECORDS] + start.bytes[RS_MEM_FREE] +
                 start.bytes[RS_MEM_STRINGS]);
    printf("index bytes: %zu loaded, %zu after %d rounds, %zu after %d\n",
           start.bytes[RS_MEM_INDEXES], settled.bytes[RS_MEM_INDEXES],
           ROUNDS - 10, end.bytes[RS_MEM_INDEXES], ROUNDS);
    CHECK(end.bytes[RS_MEM_INDEXES] <=
          settled.bytes[RS_MEM_INDEXES] + settled.bytes[RS_MEM_INDEXES] / 50);
    /* And the settling itself stays modest. */
    CHECK(end.bytes[RS_MEM_INDEXES] <=
          start.bytes[RS_MEM_INDEXES] + start.bytes[RS_MEM_INDEXES] / 5);
    CHECK_OK(st, rs__store_check(st));
    rs_store_close(st);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        {"churn_holds_memory", test_churn_holds_memory},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
