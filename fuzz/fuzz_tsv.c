/*
 * fuzz_tsv.c: libFuzzer target for the TSV loader behind `roster load`.
 *
 * Every line of the input is loaded into a store of the default Player
 * class.  A line either loads or fails with a message and leaves the store
 * as it was: the count must move by exactly the lines that loaded, the
 * accounting must not change on a failed line, and the store's structure
 * walk must pass at the end.
 */
#include "roster.h"
#include "store.h" /* rs__store_check */
#include "tsv.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *cls_text =
        "Player { uid: str(16) key inline(4); name: str(32) unique "
        "inline(12); stat: u8 = 0; level: u16 = 0 } dynamic";
    rs_store *st;
    rs_class *cls;
    if (rs_store_open(NULL, NULL, &st) != RS_OK) {
        return 0;
    }
    if (rs_class_parse(st, cls_text, strlen(cls_text), &cls) != RS_OK) {
        abort();
    }
    tsv_loader ld;
    char err[512];
    if (tsv_loader_init(&ld, st, cls, err, sizeof err) != 0) {
        rs_store_close(st);
        return 0;
    }
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        rs_mem_report before, after;
        rs_mem(st, &before);
        size_t n0 = rs_count(cls);
        if (tsv_load_line(&ld, p, len, err, sizeof err) != 0) {
            rs_mem(st, &after);
            if (after.total != before.total || rs_count(cls) != n0 ||
                err[0] == '\0') {
                abort();
            }
        } else if (rs_count(cls) > n0 + 1) {
            abort();
        }
        p += len + 1;
    }
    if (rs__store_check(st) != RS_OK) {
        abort();
    }
    tsv_loader_free(&ld);
    rs_store_close(st);
    return 0;
}
