/*
 * server.h: what rosterd's files share: the configuration, the server's
 * state, a client, and the calls between the event loop (net.c), the
 * command table (cmd.c), the record commands (hash.c) and startup (main.c).
 *
 * One thread: every structure here is touched only by the event loop's
 * thread, so nothing locks.
 */
#ifndef ROSTERD_SERVER_H
#define ROSTERD_SERVER_H

#include "resp.h"

#include <roster.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ROSTERD_VERSION "0.1.0"
/* The Redis version rosterd answers to (HELLO, INFO): the commands it
 * serves behave as Redis 7.0's do. */
#define ROSTERD_REDIS_VERSION "7.0.0"

#define DEFAULT_CLASS                                                          \
    "Player { uid: str(16) key inline(4); "                                    \
    "name: str(32) unique inline(12); stat: u8 = 0; level: u16 = 0 } "         \
    "dynamic"

enum { FSYNC_ALWAYS, FSYNC_EVERYSEC, FSYNC_NO };

typedef struct config {
    int port;
    char bind[256]; /* addresses separated by blanks */
    char dir[PATH_MAX];
    int appendfsync;
    char *requirepass; /* NULL: none */
    size_t requirepass_len;
    long maxclients;
    long timeout; /* seconds idle before a client is closed; 0 never */
    bool protected_mode;
    char **classes; /* --class texts, in order */
    size_t n_classes;
    resp_limits lim;
    size_t qbuf_limit;  /* a client's unparsed input */
    size_t obuf_limit;  /* a client's unsent output */
    long compact_pct;   /* compact when journal > snapshot * (100+pct)/100 */
    size_t compact_min; /* ... and the journal is at least this big */
    char logfile[PATH_MAX];
    long busy_poll_us; /* poll this long after a busy turn before sleeping */
} config;

/* A queued MULTI command: argc arguments in one block. */
typedef struct queued {
    int argc;
    char **argv;
    size_t *lens;
} queued;

typedef struct watched {
    char *key;
    size_t len;
} watched;

typedef struct client {
    int fd;
    uint64_t id;
    char addr[64];  /* peer "ip:port" */
    char laddr[64]; /* local */
    bool loopback;
    char *qbuf; /* input, qbuf[qpos..qlen) not yet parsed */
    size_t qlen, qpos, qcap;
    resp_parser parser;
    rbuf out; /* replies, out.ptr[opos..out.len) not yet sent */
    size_t opos;
    int proto; /* 2 or 3 */
    bool authed;
    bool close_asap;        /* closed at the end of this turn, unsent */
    bool close_after_reply; /* closed once its replies are sent */
    bool want_write;        /* in the turn's write list */
    unsigned events;        /* what epoll watches for it */
    /* MULTI */
    bool in_multi;
    bool multi_error; /* a command failed to queue: EXECABORT */
    queued *queue;
    size_t n_queue, cap_queue;
    watched *watch;
    size_t n_watch;
    bool watch_dirty;
    unsigned n_errors; /* error replies so far (EXEC checks it) */
    char *name, *lib_name, *lib_ver;
    time_t ctime, last;
    const char *last_cmd;
    struct client *next, *prev; /* all clients */
} client;

typedef struct server {
    config cfg;
    rs_store *st;
    int epfd;
    int lfds[16];
    size_t n_lfds;
    client **by_fd;
    size_t fd_cap;
    client *clients; /* list of all */
    size_t n_clients;
    size_t n_watchers; /* clients watching keys */
    uint64_t next_id;
    client **writes; /* clients with replies to send this turn */
    size_t n_writes, cap_writes;
    bool dirty;    /* journal entries not yet fsynced */
    bool in_group; /* inside EXEC */
    bool shutdown;
    bool shutdown_save;
    /* saves */
    rs_saver *saver;
    time_t save_started;
    time_t lastsave;
    bool last_save_ok;
    uint64_t changes_since_save;
    char base[PATH_MAX + 16]; /* DIR/rosterd */
    double recovery_s;
    size_t recovered;
    /* stats */
    time_t start;
    uint64_t n_conns, n_cmds, n_rejected, hits, misses, n_errors;
    uint64_t n_compactions, n_fsyncs;
    /* scratch for rs_read() */
    rs_attr *items;
    size_t items_cap;
    char *scratch;
    size_t scratch_cap;
    char **names; /* rs_dir() names */
} server;

extern server srv;

/* Log like Redis: "pid:M 01 Dec 2026 12:00:00.000 * message". */
void log_msg(char level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* net.c */
int net_listen(void);
void net_loop(void);

/* Errors go through these so EXEC knows a command failed. */
void add_err(client *c, const char *msg);
void add_errf(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void add_lib_err(client *c); /* "ERR " + rs_errmsg() */
void add_arity(client *c, const char *name);

/* A write on key (or on every key with key NULL): WATCHers of it lose
 * their EXEC. */
void touch_key(const char *key, size_t len);

/* cmd.c */
typedef void cmd_fn(client *c, int argc, char **argv, size_t *lens);
void cmd_init(void);
/* Run or queue one request: argv[i] are NUL-terminated, lens their
 * lengths (a bulk may hold NUL bytes). */
void cmd_dispatch(client *c, int argc, char **argv, size_t *lens);
/* Free c's MULTI queue and WATCHed keys. */
void client_release(client *c);
/* Start (bg) or run (fg) a compaction; returns 0 or -1 with the error
 * replied to c (c may be NULL). */
int save_start(client *c, bool background);
/* One step of the running save: up to budget records. */
void save_step(size_t budget);

/* hash.c: the record commands */
cmd_fn cmd_hset, cmd_hmset, cmd_hsetnx, cmd_hget, cmd_hmget, cmd_hgetall,
    cmd_hdel, cmd_hexists, cmd_hlen, cmd_hkeys, cmd_hvals, cmd_hstrlen,
    cmd_hincrby, cmd_hincrbyfloat, cmd_hscan, cmd_del, cmd_exists, cmd_type,
    cmd_scan, cmd_dbsize, cmd_flushall, cmd_memory, cmd_get_wrongtype,
    cmd_roster;

#endif
