/*
 * test_big.c: growth to 10,000,000 records with the real page and index
 * segment sizes.  Every record is inserted, a sample is looked up by key and
 * by name, every twentieth is removed and re-inserted, and the structure
 * walk checks every index entry.  It reports (never asserts) the longest
 * single insert it saw, the growth pause; bench/ measures that properly.
 *
 *   test_big [N]     (default 10000000)
 */
#include "check.h"
#include "roster.h"
#include "store.h" /* rs__store_check */

#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static size_t n_players = 10000000;

static void name_of(size_t i, char *buf, size_t len)
{
    /* Names of 5 to 14 bytes: both sides of the 15-byte inline limit are
     * not needed here, only many distinct ones. */
    snprintf(buf, len, "n%0*zu", (int)(4 + i % 10), i);
}

static void test_ten_million(void)
{
    rs_store *st;
    rs_class *cls;
    const char *text = "Player { uid: str(16) key; name: str(32) unique; "
                       "level: u16 = 0 }";
    CHECK_OK(NULL, rs_store_open(NULL, NULL, &st));
    CHECK_OK(st, rs_class_parse(st, text, strlen(text), &cls));
    char uid[24], name[32];
    double worst = 0;
    for (size_t i = 0; i < n_players; i++) {
        snprintf(uid, sizeof uid, "%07zu", i + 1);
        name_of(i, name, sizeof name);
        rs_named v[] = {{"uid", rs_val_cstr(uid)},
                        {"name", rs_val_cstr(name)},
                        {"level", rs_val_int((int64_t)(i % 100))}};
        double t0 = now_us();
        rs_status rc = rs_insert(st, cls, v, 3, NULL);
        double dt = now_us() - t0;
        worst = dt > worst ? dt : worst;
        if (rc != RS_OK) {
            CHECK_OK(st, rc);
            break;
        }
    }
    CHECK_EQ(rs_count(cls), n_players);
    rs_field f_level = rs_class_field(cls, "level");
    rs_field f_name = rs_class_field(cls, "name");
    for (size_t i = 0; i < n_players; i += 9973) {
        rs_handle h, h2;
        snprintf(uid, sizeof uid, "%07zu", i + 1);
        name_of(i, name, sizeof name);
        CHECK_OK(st, rs_get(st, cls, uid, strlen(uid), &h));
        rs_value nv = rs_val_cstr(name);
        CHECK_OK(st, rs_find(st, cls, f_name, &nv, &h2));
        CHECK_EQ(h, h2);
        int64_t level;
        CHECK_OK(st, rs_get_int(st, h, f_level, &level));
        CHECK_EQ(level, (int64_t)(i % 100));
    }
    /* Churn a twentieth of them. */
    for (size_t i = 0; i < n_players; i += 20) {
        rs_handle h;
        snprintf(uid, sizeof uid, "%07zu", i + 1);
        CHECK_OK(st, rs_get(st, cls, uid, strlen(uid), &h));
        CHECK_OK(st, rs_remove(st, h));
        name_of(i, name, sizeof name);
        rs_named v[] = {{"uid", rs_val_cstr(uid)}, {"name", rs_val_cstr(name)}};
        CHECK_OK(st, rs_insert(st, cls, v, 2, NULL));
    }
    CHECK_EQ(rs_count(cls), n_players);
    CHECK_OK(st, rs__store_check(st));
    rs_mem_report m;
    rs_mem(st, &m);
    printf("%zu records: %.2f bytes a record accounted, longest insert "
           "%.0f us\n",
           n_players, (double)m.total / (double)n_players, worst);
    rs_store_close(st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
        n_players = strtoull(argv[1], NULL, 10);
        argc = 1;
    }
    static const check_case cases[] = {
        {"ten_million", test_ten_million},
        {NULL, NULL},
    };
    return check_main(argc, argv, cases);
}
