/*
 * sys.h: what the library needs of the system (sys.c): reading whole
 * files, creating temporary ones that never follow a planted link,
 * writing all of a buffer, making renames durable, a monotonic clock and
 * random ids.
 */
#ifndef RS_SYS_H
#define RS_SYS_H

#include "internal.h"

/* Read a whole file: RS_OK, RS_ENOTFOUND if it does not exist, RS_EIO. */
rs_status rs__sys_read_file(rs_store *st, const char *path, uint8_t **buf,
                            size_t *len);
/* Read a whole file already open (fd; path for messages). */
rs_status rs__sys_read_fd(rs_store *st, int fd, const char *path, uint8_t **buf,
                          size_t *len);
/* Create a temporary file beside path, named path + ".tmp-" and 16 hex
 * digits, written into name (room for strlen(path) + RS__SYS_TMP_EXTRA + 1
 * bytes).  O_EXCL and O_NOFOLLOW: it never follows a planted link and
 * never opens a file another writer is using.  The fd (read-write), or -1
 * with errno. */
#define RS__SYS_TMP_EXTRA 21
int rs__sys_tmp_create(const char *path, char *name);
/* fsync the directory that holds path. */
int rs__sys_fsync_dir(const char *path);
/* pwrite() all n bytes at off, through short writes and EINTR: 0, or -1
 * with errno (ENOSPC for a write that took nothing). */
int rs__sys_write_all(int fd, const uint8_t *p, size_t n, uint64_t off);
uint64_t rs__sys_now_ns(void);
uint64_t rs__sys_random64(void);

#endif
