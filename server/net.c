/*
 * net.c: rosterd's event loop.  One thread, epoll (level-triggered), every
 * socket non-blocking.  A turn of the loop:
 *
 *   1. epoll_wait (at most 100 ms, 0 while a save has steps to do; with
 *      busy-poll set, after a turn that served requests, first polled
 *      without sleeping for up to that many microseconds: wait_events());
 *   2. for each readable client, one read of at most 16 KB (so one client
 *      cannot take a turn from the others), then every whole request in
 *      its buffer is run; replies go to the client's output buffer only;
 *   3. under appendfsync always, if the turn changed anything, one
 *      rs_journal_sync() for the whole turn (Redis's "one fsync per event
 *      loop turn"): only then are replies written, so a client never sees
 *      an acknowledgement of a change that a crash could lose;
 *   4. each client with replies gets one write(); what the socket does not
 *      take waits for EPOLLOUT (which only puts the client back on the next
 *      turn's write list, after that turn's fsync);
 *   5. one step of a running save (rs_save_step(): 256 records after a
 *      turn that served clients, 2,048 after an idle one), and once
 *      a second: the everysec fsync, idle timeouts, automatic compaction.
 *
 * Clients are freed only at the end of a turn, so no pointer kept during a
 * turn (the write list) ever dangles.  Limits: a client whose unparsed
 * input passes client-query-buffer-limit, or whose unsent output passes
 * client-output-buffer-limit (a client that pipelines and never reads), is
 * closed; maxclients is checked at accept.
 *
 * Why epoll directly and not libuv or libevent: the loop needs three
 * things (readiness, a timer, non-blocking writes) and the turn structure
 * above, which is simplest to state when the loop is ours; Redis's ae.c is
 * the same size.  Linux only, as the rest of roster's persistence (flock,
 * fdatasync) already assumes.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define READ_CHUNK (16 * 1024)
/* A save step after a turn that served clients adds its time to every
 * request of the next turn: 2,048 records (about a millisecond) a turn
 * put rosterd's p99 at 5x redis-server's while the compaction the
 * benchmark set off ran.  Small steps while clients wait, big ones when
 * none do. */
#define SAVE_STEP_BUSY 256
#define SAVE_STEP_IDLE 2048

extern volatile int got_signal;

/* ------------------------------------------------------------------------ */
/* Listening                                                                 */
/* ------------------------------------------------------------------------ */

static int listen_one(const char *addr)
{
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    char port[16];
    snprintf(port, sizeof port, "%d", srv.cfg.port);
    int rc = getaddrinfo(addr, port, &hints, &res);
    if (rc != 0) {
        log_msg('#', "bind %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int ok = -1;
    for (ai = res; ai != NULL && srv.n_lfds < 16; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            listen(fd, 511) != 0) {
            log_msg('#', "could not listen on %s:%d: %s", addr, srv.cfg.port,
                    strerror(errno));
            close(fd);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        srv.lfds[srv.n_lfds++] = fd;
        ok = 0;
    }
    freeaddrinfo(res);
    return ok;
}

int net_listen(void)
{
    srv.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (srv.epfd < 0) {
        log_msg('#', "epoll_create1: %s", strerror(errno));
        return -1;
    }
    char addrs[sizeof srv.cfg.bind];
    snprintf(addrs, sizeof addrs, "%s", srv.cfg.bind);
    char *save = NULL;
    for (char *a = strtok_r(addrs, " \t", &save); a != NULL;
         a = strtok_r(NULL, " \t", &save)) {
        if (listen_one(a) != 0) {
            return -1;
        }
    }
    if (srv.n_lfds == 0) {
        log_msg('#', "no address to listen on");
        return -1;
    }
    return 0;
}

static bool is_listener(int fd)
{
    for (size_t i = 0; i < srv.n_lfds; i++) {
        if (srv.lfds[i] == fd) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                   */
/* ------------------------------------------------------------------------ */

static void fmt_addr(const struct sockaddr_storage *sa, char *buf, size_t n,
                     bool *loopback)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    bool lo = false;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
        lo = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
        lo = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
             (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
              s6->sin6_addr.s6_addr[12] == 127);
    }
    snprintf(buf, n, "%s:%d", ip, port);
    if (loopback) {
        *loopback = lo;
    }
}

static const char denied[] =
    "-DENIED rosterd is running in protected mode because protected mode "
    "is enabled and no password is set. In this mode connections are only "
    "accepted from the loopback interface. To accept others, set a "
    "password (--requirepass) or disable protected mode "
    "(--protected-mode no).\r\n";

/* Refuse a connection with msg.  What the client already sent is read
 * first: closing a socket with unread input resets the connection, and a
 * reset can destroy the reply before the client reads it. */
static void refuse(int fd, const char *msg, size_t len)
{
    char junk[4096];
    while (read(fd, junk, sizeof junk) > 0) {
    }
    ssize_t w = write(fd, msg, len);
    (void)w;
    shutdown(fd, SHUT_WR);
    while (read(fd, junk, sizeof junk) > 0) {
    }
    close(fd);
    srv.n_rejected++;
}

static void accept_all(int lfd)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                log_msg('#', "accept: %s", strerror(errno));
            }
            return;
        }
        srv.n_conns++;
        char addr[64];
        bool lo;
        fmt_addr(&sa, addr, sizeof addr, &lo);
        if ((long)srv.n_clients >= srv.cfg.maxclients) {
            static const char m[] = "-ERR max number of clients reached\r\n";
            refuse(fd, m, sizeof m - 1);
            continue;
        }
        if (srv.cfg.protected_mode && srv.cfg.requirepass == NULL && !lo) {
            refuse(fd, denied, sizeof denied - 1);
            continue;
        }
        if ((size_t)fd >= srv.fd_cap) {
            size_t cap = srv.fd_cap ? srv.fd_cap : 1024;
            while (cap <= (size_t)fd) {
                cap *= 2;
            }
            client **t = realloc(srv.by_fd, cap * sizeof *t);
            if (t == NULL) {
                close(fd);
                continue;
            }
            memset(t + srv.fd_cap, 0, (cap - srv.fd_cap) * sizeof *t);
            srv.by_fd = t;
            srv.fd_cap = cap;
        }
        client *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = ++srv.next_id;
        snprintf(c->addr, sizeof c->addr, "%s", addr);
        struct sockaddr_storage la;
        socklen_t ll = sizeof la;
        if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0) {
            fmt_addr(&la, c->laddr, sizeof c->laddr, NULL);
        }
        c->loopback = lo;
        c->proto = 2;
        c->events = EPOLLIN;
        c->authed = srv.cfg.requirepass == NULL;
        c->ctime = c->last = time(NULL);
        resp_parser_init(&c->parser);
        c->next = srv.clients;
        if (srv.clients) {
            srv.clients->prev = c;
        }
        srv.clients = c;
        srv.by_fd[fd] = c;
        srv.n_clients++;
    }
}

static void free_client(client *c)
{
    epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    srv.by_fd[c->fd] = NULL;
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        srv.clients = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    srv.n_clients--;
    client_release(c);
    resp_parser_free(&c->parser);
    rbuf_free(&c->out);
    free(c->qbuf);
    free(c->name);
    free(c->lib_name);
    free(c->lib_ver);
    free(c);
}

static void want_write(client *c)
{
    if (c->want_write) {
        return;
    }
    if (srv.n_writes == srv.cap_writes) {
        size_t cap = srv.cap_writes ? srv.cap_writes * 2 : 64;
        client **w = realloc(srv.writes, cap * sizeof *w);
        if (w == NULL) {
            c->close_asap = true; /* cannot reply: drop it */
            return;
        }
        srv.writes = w;
        srv.cap_writes = cap;
    }
    srv.writes[srv.n_writes++] = c;
    c->want_write = true;
}

/* Close c at the end of this turn (after its replies were sent if
 * graceful). */
static void close_later(client *c, bool graceful)
{
    if (graceful) {
        c->close_after_reply = true;
    } else {
        c->close_asap = true;
    }
    want_write(c);
}

/* ------------------------------------------------------------------------ */
/* Errors and WATCH                                                          */
/* ------------------------------------------------------------------------ */

void add_err(client *c, const char *msg)
{
    c->n_errors++;
    srv.n_errors++;
    reply_error(&c->out, msg);
}

void add_errf(client *c, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    add_err(c, tmp);
}

void add_lib_err(client *c)
{
    add_errf(c, "ERR %s", rs_errmsg(srv.st));
}

void add_arity(client *c, const char *name)
{
    add_errf(c, "ERR wrong number of arguments for '%s' command", name);
}

void touch_key(const char *key, size_t len)
{
    if (srv.n_watchers == 0) {
        return;
    }
    for (client *c = srv.clients; c != NULL; c = c->next) {
        for (size_t i = 0; i < c->n_watch && !c->watch_dirty; i++) {
            if (key == NULL || (c->watch[i].len == len &&
                                memcmp(c->watch[i].key, key, len) == 0)) {
                c->watch_dirty = true;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

/* Where input is read: see read_client(). */
static char shared_buf[READ_CHUNK];

static void run_requests(client *c)
{
    char *argv_stack[16];
    size_t lens_stack[16];
    time_t now = time(NULL); /* one clock read for the whole pipeline */
    while (!c->close_asap && !c->close_after_reply) {
        size_t used = 0;
        const char *err = NULL;
        char *buf = c->qbuf + c->qpos;
        resp_result r = resp_parse(&c->parser, buf, c->qlen - c->qpos,
                                   &srv.cfg.lim, &used, &err);
        if (r == RESP_MORE) {
            break;
        }
        if (r == RESP_ERROR) {
            add_err(c, err);
            log_msg('-', "client %s: %s; closing", c->addr, err);
            close_later(c, true);
            break;
        }
        if (r == RESP_NOMEM) {
            add_err(c, "ERR out of memory reading the request");
            close_later(c, true);
            break;
        }
        if (r == RESP_REQUEST) {
            size_t n = c->parser.n_args;
            char **argv = argv_stack;
            size_t *lens = lens_stack;
            if (n > 16) {
                argv = malloc(n * sizeof *argv);
                lens = malloc(n * sizeof *lens);
            }
            if (argv == NULL || lens == NULL) {
                if (argv != argv_stack) {
                    free(argv);
                    free(lens);
                }
                add_err(c, "ERR out of memory reading the request");
                close_later(c, true);
                break;
            }
            for (size_t i = 0; i < n; i++) {
                resp_arg a = c->parser.args[i];
                argv[i] = buf + a.off;
                lens[i] = a.len;
                buf[a.off + a.len] = '\0';
            }
            c->last = now;
            cmd_dispatch(c, (int)n, argv, lens);
            if (argv != argv_stack) {
                free(argv);
                free(lens);
            }
        }
        c->qpos += used;
        if (c->out.failed || c->out.len - c->opos > srv.cfg.obuf_limit) {
            log_msg('-',
                    "client %s closed: %zu bytes of replies unread "
                    "(client-output-buffer-limit %zu)",
                    c->addr, c->out.len - c->opos, srv.cfg.obuf_limit);
            close_later(c, false);
            break;
        }
        if (srv.shutdown) {
            break;
        }
    }
    if (c->qpos == c->qlen) {
        c->qpos = c->qlen = 0;
        if (c->qbuf != shared_buf) {
            free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        }
    } else if (c->qpos > 0) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
    if (c->out.len > c->opos) {
        want_write(c);
    }
}

/* Input is read into one buffer the server shares; only a request left
 * incomplete at the end of a read is copied into a buffer of the client's
 * own, which is freed as soon as it is empty.  So an idle client holds no
 * input buffer at all (10,000 idle clients cost their sockets and about
 * 500 bytes each), and a client whose requests arrive whole never copies
 * them. */
static void read_client(client *c)
{
    if (c->close_asap || c->close_after_reply) {
        return;
    }
    bool shared = c->qlen == 0;
    char *own = c->qbuf;
    size_t own_cap = c->qcap;
    if (shared) {
        c->qbuf = shared_buf;
        c->qcap = READ_CHUNK;
        c->qpos = 0;
    } else if (c->qcap - c->qlen < READ_CHUNK) {
        size_t cap = c->qcap;
        while (cap - c->qlen < READ_CHUNK) {
            cap *= 2;
        }
        char *q = realloc(c->qbuf, cap);
        if (q == NULL) {
            close_later(c, false);
            return;
        }
        c->qbuf = q;
        c->qcap = cap;
    }
    /* One read of at most 16 KB a turn; a request's big bulk (its length
     * already parsed) is read in bigger bites, up to the free room. */
    size_t room = c->qcap - c->qlen;
    if (room > READ_CHUNK && c->parser.bulk < 0) {
        room = READ_CHUNK;
    }
    ssize_t n = read(c->fd, c->qbuf + c->qlen, room);
    if (n <= 0) {
        if (shared) {
            c->qbuf = own;
            c->qcap = own_cap;
            c->qlen = 0;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close_later(c, false);
        }
        return;
    }
    c->qlen += (size_t)n;
    if (c->qlen - c->qpos > srv.cfg.qbuf_limit) {
        log_msg('-',
                "client %s closed: query buffer of %zu bytes "
                "(client-query-buffer-limit %zu)",
                c->addr, c->qlen - c->qpos, srv.cfg.qbuf_limit);
        if (shared) {
            c->qbuf = own;
            c->qcap = own_cap;
            c->qlen = 0;
        }
        close_later(c, false);
        return;
    }
    run_requests(c);
    if (shared) {
        /* run_requests() moved what is left to the start. */
        size_t left = c->qlen;
        c->qbuf = own;
        c->qcap = own_cap;
        if (left > 0) {
            size_t cap = own_cap >= 2 * READ_CHUNK ? own_cap : 2 * READ_CHUNK;
            char *q = cap == own_cap ? own : realloc(own, cap);
            if (q == NULL) {
                c->qlen = 0;
                close_later(c, false);
                return;
            }
            memcpy(q, shared_buf, left);
            c->qbuf = q;
            c->qcap = cap;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* Ask epoll for what c needs: input unless it is closing, output while
 * replies wait. */
static void update_events(client *c)
{
    unsigned want = (c->close_after_reply ? 0u : (unsigned)EPOLLIN) |
                    (c->out.len > c->opos ? (unsigned)EPOLLOUT : 0u);
    if (c->events == want) {
        return;
    }
    struct epoll_event ev = {.events = want, .data.fd = c->fd};
    if (epoll_ctl(srv.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
        c->events = want;
    }
}

static void write_client(client *c)
{
    while (c->out.len > c->opos) {
        ssize_t n = write(c->fd, c->out.ptr + c->opos, c->out.len - c->opos);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                c->close_asap = true;
            }
            break;
        }
        c->opos += (size_t)n;
    }
    if (c->opos == c->out.len) {
        c->opos = 0;
        c->out.len = 0;
        if (c->out.cap > 1024 * 1024) {
            rbuf_free(&c->out);
        }
        if (c->close_after_reply) {
            c->close_asap = true;
            return;
        }
        update_events(c);
    } else {
        if (c->opos > 1024 * 1024 && c->opos > c->out.len / 2) {
            memmove(c->out.ptr, c->out.ptr + c->opos, c->out.len - c->opos);
            c->out.len -= c->opos;
            c->opos = 0;
        }
        update_events(c);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The turn's fsync under appendfsync always; the everysec one from the
 * once-a-second timer. */
static void sync_journal(void)
{
    if (!srv.dirty) {
        return;
    }
    rs_status rc = rs_journal_sync(srv.st);
    srv.n_fsyncs++;
    if (rc != RS_OK) {
        /* Redis exits when an appendfsync-always fsync fails: replies
         * already computed cannot be taken back, and must not be sent. */
        log_msg('#',
                "journal fsync failed: %s; exiting without "
                "acknowledging the turn's writes",
                rs_errmsg(srv.st));
        exit(1);
    }
    srv.dirty = false;
}

static void check_timeouts(time_t now)
{
    if (srv.cfg.timeout <= 0) {
        return;
    }
    for (client *c = srv.clients; c != NULL; c = c->next) {
        if (!c->close_asap && now - c->last > srv.cfg.timeout) {
            log_msg('-', "client %s closed: idle for %ld s (timeout)", c->addr,
                    (long)(now - c->last));
            c->close_asap = true;
            want_write(c);
        }
    }
}

/* Compaction when the journal has grown past compact_pct percent of the
 * snapshot (and past compact_min), as Redis's auto-aof-rewrite does. */
static void check_compaction(void)
{
    if (srv.saver != NULL || srv.cfg.compact_pct <= 0) {
        return;
    }
    char path[PATH_MAX + 32];
    struct stat sj, ss;
    snprintf(path, sizeof path, "%s.journal", srv.base);
    if (stat(path, &sj) != 0) {
        return;
    }
    snprintf(path, sizeof path, "%s.snap", srv.base);
    off_t snap = stat(path, &ss) == 0 ? ss.st_size : 0;
    if ((size_t)sj.st_size < srv.cfg.compact_min) {
        return;
    }
    if ((double)sj.st_size >
        (double)snap * (double)(100 + srv.cfg.compact_pct) / 100.0) {
        log_msg('*', "journal is %lld bytes, snapshot %lld: compacting",
                (long long)sj.st_size, (long long)snap);
        srv.n_compactions++;
        (void)save_start(NULL, true);
    }
}

/* Wait for events.  A turn that served requests may be followed by more
 * at once; sleeping in between costs a context switch here and, on a
 * machine the clients share, a wake-up paid by the client that sends the
 * next request.  A server that answers faster than its clients ask sleeps
 * after nearly every turn: at `redis-benchmark -P 1` rosterd slept about
 * 17,000 times for 300,000 requests against redis-server's 3,000, and the
 * benchmark's one thread, the bottleneck, spent more of its time in the
 * kernel waking it.  busy-poll trades that for CPU: after a busy turn,
 * poll for up to busy_poll_us before sleeping (off by default: at moderate
 * rates it spins most of that time for nothing). */
static int wait_events(struct epoll_event *evs, int max, int timeout, bool busy)
{
    if (busy && srv.cfg.busy_poll_us > 0 && timeout > 0) {
        double until = now_s() + (double)srv.cfg.busy_poll_us / 1e6;
        do {
            int n = epoll_wait(srv.epfd, evs, max, 0);
            if (n != 0 || got_signal) {
                return n;
            }
        } while (now_s() < until);
    }
    /* A signal handled while polling interrupts no sleep: look before
     * sleeping, or the shutdown waits out the timeout. */
    return got_signal ? 0 : epoll_wait(srv.epfd, evs, max, timeout);
}

void net_loop(void)
{
    struct epoll_event evs[256];
    time_t last_cron = time(NULL);
    bool busy = false;
    while (!srv.shutdown) {
        if (got_signal) {
            log_msg('#', "received a signal: shutting down");
            srv.shutdown = true;
            break;
        }
        int timeout = srv.saver != NULL ? 0 : 100;
        int n = wait_events(evs, 256, timeout, busy);
        busy = n > 0;
        if (n < 0 && errno != EINTR) {
            log_msg('#', "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (is_listener(fd)) {
                accept_all(fd);
                continue;
            }
            client *c = (size_t)fd < srv.fd_cap ? srv.by_fd[fd] : NULL;
            if (c == NULL) {
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                /* Read what is left (a last request, then EOF). */
                read_client(c);
                if (!(evs[i].events & EPOLLIN)) {
                    close_later(c, false);
                }
                continue;
            }
            if (evs[i].events & EPOLLIN) {
                read_client(c);
            }
            if (evs[i].events & EPOLLOUT) {
                want_write(c);
            }
        }
        if (srv.cfg.appendfsync == FSYNC_ALWAYS) {
            sync_journal();
        }
        for (size_t i = 0; i < srv.n_writes; i++) {
            client *c = srv.writes[i];
            c->want_write = false;
            if (!c->close_asap) {
                write_client(c);
            }
        }
        /* Free the clients closed this turn (each is on the write list). */
        for (size_t i = 0; i < srv.n_writes; i++) {
            client *c = srv.writes[i];
            if (c->close_asap) {
                free_client(c);
            }
        }
        srv.n_writes = 0;
        if (srv.saver != NULL) {
            save_step(n > 0 ? SAVE_STEP_BUSY : SAVE_STEP_IDLE);
        }
        time_t now = time(NULL);
        if (now != last_cron) {
            last_cron = now;
            if (srv.cfg.appendfsync == FSYNC_EVERYSEC) {
                sync_journal();
            }
            check_timeouts(now);
            check_compaction();
        }
    }
    /* Shutdown: replies of the last turn are out; make the journal
     * durable whatever the policy, finish or drop a running save. */
    double t0 = now_s();
    if (srv.saver != NULL) {
        rs_save_abort(srv.saver);
        srv.saver = NULL;
    }
    if (srv.shutdown_save) {
        rs_save_info info;
        if (rs_save(srv.st, NULL, &info) != RS_OK) {
            log_msg('#', "save at shutdown failed: %s", rs_errmsg(srv.st));
        }
    }
    if (rs_journal_sync(srv.st) != RS_OK) {
        log_msg('#', "journal fsync at shutdown: %s", rs_errmsg(srv.st));
    }
    while (srv.clients) {
        free_client(srv.clients);
    }
    log_msg('#', "rosterd is now ready to exit, bye bye (%.3f s)",
            now_s() - t0);
}
