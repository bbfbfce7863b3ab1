/*
 * status.c: the status table and the store's error message.
 *
 * RS_STATUS_MAP in roster.h is the one list of codes; the enum, the names
 * and the default messages are all generated from it (libuv's
 * UV_ERRNO_MAP), so adding a code is one line.
 */
#include "store.h"

#include <stdio.h>

const char *rs_status_name(rs_status s)
{
    static const char *const names[] = {
#define RS__STATUS_NAME(name, msg) "RS_" #name,
        RS_STATUS_MAP(RS__STATUS_NAME)
#undef RS__STATUS_NAME
    };
    return (unsigned)s < RS_STATUS__COUNT ? names[s] : "RS_UNKNOWN";
}

const char *rs_status_str(rs_status s)
{
    static const char *const msgs[] = {
#define RS__STATUS_MSG(name, msg) msg,
        RS_STATUS_MAP(RS__STATUS_MSG)
#undef RS__STATUS_MSG
    };
    return (unsigned)s < RS_STATUS__COUNT ? msgs[s] : "unknown status";
}

rs_status rs__err(rs_store *st, rs_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return s;
}

void rs__clear_err(rs_store *st)
{
    st->err[0] = '\0';
}

const char *rs_errmsg(const rs_store *st)
{
    return st ? st->err : "no store";
}

const char *rs_version(void)
{
    return RS_VERSION;
}
