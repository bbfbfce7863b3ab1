/*
 * sys.c: what the snapshot and journal modules need of the system
 * (sys.h).
 */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

uint64_t rs__sys_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rs__sys_random64(void)
{
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, &v, sizeof v);
        close(fd);
        if (n == (ssize_t)sizeof v && v != 0) {
            return v;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return XXH3_64bits(&ts, sizeof ts) ^ (uint64_t)getpid() ^ 1u;
}

int rs__sys_fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Files are opened O_NONBLOCK, so a FIFO or a device at the path is
 * refused by the type check instead of hanging the open; for a regular
 * file the flag changes nothing. */
rs_status rs__sys_read_file(rs_store *st, const char *path, uint8_t **buf,
                            size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return rs__err(st, RS_ENOTFOUND, "%s: no such file", path);
        }
        return rs__err(st, RS_EIO, "%s: %s", path, strerror(errno));
    }
    rs_status rc = rs__sys_read_fd(st, fd, path, buf, len);
    close(fd);
    return rc;
}

rs_status rs__sys_read_fd(rs_store *st, int fd, const char *path, uint8_t **buf,
                          size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        return rs__err(st, RS_EIO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        return rs__err(st, RS_EIO, "%s: not a regular file (%s)", path,
                       S_ISDIR(sb.st_mode)    ? "a directory"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO or pipe"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                                              : "a device");
    }
    if ((uint64_t)sb.st_size > SIZE_MAX - 1) {
        return rs__err(st, RS_ENOMEM, "%s: too large to read", path);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *p = rs__alloc(st, RS_MEM_META, n ? n : 1);
    if (p == NULL) {
        return rs__err(st, RS_ENOMEM, "%s: out of memory reading %zu bytes",
                       path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            int e = errno;
            rs__free(st, RS_MEM_META, p, n ? n : 1);
            return rs__err(st, RS_EIO, "%s: %s", path,
                           r == 0 ? "file shrank while read" : strerror(e));
        }
        got += (size_t)r;
    }
    *buf = p;
    *len = n;
    return RS_OK;
}

int rs__sys_tmp_create(const char *path, char *name)
{
    size_t n = strlen(path);
    memcpy(name, path, n);
    for (int tries = 0; tries < 16; tries++) {
        snprintf(name + n, RS__SYS_TMP_EXTRA + 1, ".tmp-%016llx",
                 (unsigned long long)rs__sys_random64());
        int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
        if (fd >= 0 || errno != EEXIST) {
            return fd;
        }
    }
    return -1; /* errno is EEXIST */
}

int rs__sys_write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            if (w == 0) {
                errno = ENOSPC;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}
