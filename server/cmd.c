/*
 * cmd.c: rosterd's command table and the commands that are not about
 * records: connection (PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET,
 * CLIENT), transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH),
 * introspection (COMMAND, CONFIG, INFO, TIME) and persistence (SAVE,
 * BGSAVE, LASTSAVE, SHUTDOWN).  The record commands are in hash.c.
 *
 * Dispatch follows Redis's processCommand(): the name is looked up in any
 * case (twemproxy forwards lower case), then authentication, then arity,
 * each with Redis's exact error text; inside MULTI a command is checked
 * the same way and queued.  The table is a 256-entry open-addressing hash
 * of the lower-case names, built once: a lookup is one hash and about one
 * string compare.
 *
 * EXEC runs its commands as one library group (rs_group_begin/commit):
 * all or none, which Redis does not offer.  If any queued command replies
 * with an error, or the commit fails, the group is rolled back, the
 * replies already made are dropped, and EXEC replies
 * "-EXECABORT Transaction rolled back: command N (NAME) failed: ...".
 */
#include "server.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

enum {
    F_WRITE = 1u << 0,  /* may change the store: the turn needs an fsync */
    F_NOAUTH = 1u << 1, /* allowed before AUTH */
    F_TXCTL = 1u << 2,  /* runs at once inside MULTI, never queued */
    F_READ = 1u << 3,
    F_ADMIN = 1u << 4,
    F_FAST = 1u << 5,
    F_NOMULTI = 1u << 6, /* refused inside MULTI */
};

typedef struct command {
    const char *name; /* lower case */
    int arity;        /* > 0 exactly, < 0 at least -arity */
    unsigned flags;
    cmd_fn *fn;
    int first, last, step; /* key positions, as COMMAND INFO gives them */
    const char *group;
    const char *summary;
} command;

static cmd_fn cmd_ping, cmd_echo, cmd_quit, cmd_select, cmd_hello, cmd_auth,
    cmd_reset, cmd_client, cmd_multi, cmd_exec, cmd_discard, cmd_watch,
    cmd_unwatch, cmd_command, cmd_config, cmd_info, cmd_time, cmd_save,
    cmd_bgsave, cmd_lastsave, cmd_shutdown;

static const command table[] = {
    {"ping", -1, F_FAST, cmd_ping, 0, 0, 0, "connection",
     "Returns the server's liveliness response."},
    {"echo", 2, F_FAST, cmd_echo, 0, 0, 0, "connection",
     "Returns the given string."},
    {"quit", -1, F_NOAUTH | F_TXCTL | F_FAST, cmd_quit, 0, 0, 0, "connection",
     "Closes the connection."},
    {"select", 2, F_FAST, cmd_select, 0, 0, 0, "connection",
     "Changes the selected database (rosterd has only 0)."},
    {"hello", -1, F_NOAUTH | F_FAST, cmd_hello, 0, 0, 0, "connection",
     "Handshakes with the server (RESP2 or RESP3)."},
    {"auth", -2, F_NOAUTH | F_FAST, cmd_auth, 0, 0, 0, "connection",
     "Authenticates the connection."},
    {"reset", 1, F_NOAUTH | F_TXCTL | F_FAST, cmd_reset, 0, 0, 0, "connection",
     "Resets the connection."},
    {"client", -2, 0, cmd_client, 0, 0, 0, "connection",
     "CLIENT ID, SETNAME, GETNAME, SETINFO, LIST, INFO."},
    {"multi", 1, F_TXCTL | F_FAST, cmd_multi, 0, 0, 0, "transactions",
     "Starts a transaction."},
    {"exec", 1, F_TXCTL, cmd_exec, 0, 0, 0, "transactions",
     "Executes the queued commands as one atomic group."},
    {"discard", 1, F_TXCTL | F_FAST, cmd_discard, 0, 0, 0, "transactions",
     "Discards a transaction."},
    {"watch", -2, F_TXCTL | F_FAST, cmd_watch, 1, -1, 1, "transactions",
     "Monitors changes to keys to determine the execution of a "
     "transaction."},
    {"unwatch", 1, F_TXCTL | F_FAST, cmd_unwatch, 0, 0, 0, "transactions",
     "Forgets about watched keys of a transaction."},
    {"command", -1, 0, cmd_command, 0, 0, 0, "server",
     "COMMAND, COMMAND COUNT, DOCS, INFO."},
    {"config", -2, F_ADMIN, cmd_config, 0, 0, 0, "server",
     "CONFIG GET (SET is refused: restart with the option)."},
    {"info", -1, 0, cmd_info, 0, 0, 0, "server",
     "Returns information and statistics about the server."},
    {"time", 1, F_FAST, cmd_time, 0, 0, 0, "server",
     "Returns the server time."},
    {"save", 1, F_ADMIN | F_NOMULTI, cmd_save, 0, 0, 0, "server",
     "Compacts: a new snapshot, written now, and a fresh journal."},
    {"bgsave", -1, F_ADMIN | F_NOMULTI, cmd_bgsave, 0, 0, 0, "server",
     "Compacts in steps between event-loop turns (no fork)."},
    {"lastsave", 1, F_FAST, cmd_lastsave, 0, 0, 0, "server",
     "Returns the Unix time of the last successful save."},
    {"shutdown", -1, F_ADMIN | F_NOMULTI, cmd_shutdown, 0, 0, 0, "server",
     "Syncs the journal (and saves with SAVE) and exits."},
    {"hset", -4, F_WRITE | F_FAST, cmd_hset, 1, 1, 1, "hash",
     "Sets fields of a record, inserting it if it does not exist."},
    {"hmset", -4, F_WRITE | F_FAST, cmd_hmset, 1, 1, 1, "hash",
     "Sets fields of a record (replies OK)."},
    {"hsetnx", 4, F_WRITE | F_FAST, cmd_hsetnx, 1, 1, 1, "hash",
     "Sets a field only if it has no value."},
    {"hget", 3, F_READ | F_FAST, cmd_hget, 1, 1, 1, "hash",
     "Returns the value of a field of a record."},
    {"hmget", -3, F_READ | F_FAST, cmd_hmget, 1, 1, 1, "hash",
     "Returns the values of fields of a record."},
    {"hgetall", 2, F_READ, cmd_hgetall, 1, 1, 1, "hash",
     "Returns every field and dynamic attribute of a record."},
    {"hdel", -3, F_WRITE | F_FAST, cmd_hdel, 1, 1, 1, "hash",
     "Deletes dynamic attributes (declared fields cannot be deleted)."},
    {"hexists", 3, F_READ | F_FAST, cmd_hexists, 1, 1, 1, "hash",
     "Determines whether a field exists."},
    {"hlen", 2, F_READ | F_FAST, cmd_hlen, 1, 1, 1, "hash",
     "Returns the number of fields and attributes of a record."},
    {"hkeys", 2, F_READ, cmd_hkeys, 1, 1, 1, "hash",
     "Returns the field and attribute names of a record (dir order)."},
    {"hvals", 2, F_READ, cmd_hvals, 1, 1, 1, "hash",
     "Returns the values of a record."},
    {"hstrlen", 3, F_READ | F_FAST, cmd_hstrlen, 1, 1, 1, "hash",
     "Returns the length of a field's value."},
    {"hincrby", 4, F_WRITE | F_FAST, cmd_hincrby, 1, 1, 1, "hash",
     "Increments an integer field or attribute."},
    {"hincrbyfloat", 4, F_WRITE | F_FAST, cmd_hincrbyfloat, 1, 1, 1, "hash",
     "Increments a float field or attribute."},
    {"hscan", -3, F_READ, cmd_hscan, 1, 1, 1, "hash",
     "Iterates over the fields of a record."},
    {"del", -2, F_WRITE, cmd_del, 1, -1, 1, "generic", "Removes records."},
    {"unlink", -2, F_WRITE | F_FAST, cmd_del, 1, -1, 1, "generic",
     "Removes records."},
    {"exists", -2, F_READ | F_FAST, cmd_exists, 1, -1, 1, "generic",
     "Counts the keys that exist."},
    {"type", 2, F_READ | F_FAST, cmd_type, 1, 1, 1, "generic",
     "Returns hash for a record, none otherwise."},
    {"scan", -2, F_READ, cmd_scan, 0, 0, 0, "generic",
     "Iterates over the keys, class by class."},
    {"dbsize", 1, F_READ | F_FAST, cmd_dbsize, 0, 0, 0, "server",
     "Returns the number of records."},
    {"flushall", -1, F_WRITE, cmd_flushall, 0, 0, 0, "server",
     "Removes every record (classes stay)."},
    {"flushdb", -1, F_WRITE, cmd_flushall, 0, 0, 0, "server",
     "Removes every record (classes stay)."},
    {"memory", -2, F_READ, cmd_memory, 0, 0, 0, "server",
     "MEMORY USAGE key: the record's deep size in bytes."},
    {"get", 2, F_READ | F_FAST, cmd_get_wrongtype, 1, 1, 1, "string",
     "rosterd holds records (hashes): WRONGTYPE on a record, nil else."},
    {"roster.class", 2, F_WRITE, cmd_roster, 0, 0, 0, "roster",
     "ROSTER.CLASS TEXT: declares a class from its text form."},
    {"roster.classes", 1, F_READ, cmd_roster, 0, 0, 0, "roster",
     "Returns the text form of every class."},
    {"roster.find", 4, F_READ | F_FAST, cmd_roster, 0, 0, 0, "roster",
     "ROSTER.FIND CLASS FIELD VALUE: the key of the record whose unique "
     "field holds VALUE."},
    {"roster.scan", -3, F_READ, cmd_roster, 0, 0, 0, "roster",
     "ROSTER.SCAN CLASS CURSOR [WHERE FIELD OP VALUE]... [COUNT N]: a "
     "filtered scan."},
    {"roster.mem", 1, F_READ, cmd_roster, 0, 0, 0, "roster",
     "The store's memory report by category."},
    {"roster.reserve", 3, F_WRITE, cmd_roster, 0, 0, 0, "roster",
     "ROSTER.RESERVE CLASS N: sizes the class's indexes for N records "
     "before a bulk load."},
};

#define N_COMMANDS (sizeof table / sizeof table[0])
#define HASH_SLOTS 256

static const command *slots[HASH_SLOTS];
static size_t slot_len[HASH_SLOTS]; /* strlen of slots[i]->name */

/* ASCII case folding: what tolower() does in the C locale rosterd runs
 * in, without a call per byte (every request's name is hashed). */
static inline unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* From the length and three bytes: the names are few and short, a
 * collision costs one more probe, and name_eq() decides anyway. */
static unsigned name_hash(const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    return (unsigned)n * 2654435761u ^ fold((unsigned char)s[0]) * 137u ^
           fold((unsigned char)s[n / 2]) * 59u ^
           fold((unsigned char)s[n - 1]) * 11u;
}

void cmd_init(void)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t n = strlen(table[i].name);
        unsigned h = name_hash(table[i].name, n);
        while (slots[h % HASH_SLOTS] != NULL) {
            h++;
        }
        slots[h % HASH_SLOTS] = &table[i];
        slot_len[h % HASH_SLOTS] = n;
    }
}

/* Table names are lower case: compare the request's name folded. */
static bool name_eq(const char *lower, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)lower[i] != fold((unsigned char)name[i])) {
            return false;
        }
    }
    return true;
}

static const command *lookup(const char *name, size_t n)
{
    unsigned h = name_hash(name, n);
    for (;;) {
        const command *c = slots[h % HASH_SLOTS];
        if (c == NULL) {
            return NULL;
        }
        if (slot_len[h % HASH_SLOTS] == n && name_eq(c->name, name, n)) {
            return c;
        }
        h++;
    }
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

static void unknown_command(client *c, int argc, char **argv, size_t *lens)
{
    char args[256] = "";
    size_t len = 0;
    for (int i = 1; i < argc && len < 128; i++) {
        int k =
            snprintf(args + len, sizeof args - len, "'%.*s' ",
                     (int)(128 - len < lens[i] ? 128 - len : lens[i]), argv[i]);
        if (k < 0 || (size_t)k >= sizeof args - len) {
            break;
        }
        len += (size_t)k;
    }
    add_errf(c, "ERR unknown command '%.128s', with args beginning with: %s",
             argv[0], args);
}

static void queue_command(client *c, int argc, char **argv, size_t *lens)
{
    if (c->n_queue == c->cap_queue) {
        size_t cap = c->cap_queue ? c->cap_queue * 2 : 8;
        queued *q = realloc(c->queue, cap * sizeof *q);
        if (q == NULL) {
            c->multi_error = true;
            add_err(c, "ERR out of memory queueing the command");
            return;
        }
        c->queue = q;
        c->cap_queue = cap;
    }
    size_t bytes = (size_t)argc * (sizeof(char *) + sizeof(size_t));
    for (int i = 0; i < argc; i++) {
        bytes += lens[i] + 1;
    }
    char *blk = malloc(bytes);
    if (blk == NULL) {
        c->multi_error = true;
        add_err(c, "ERR out of memory queueing the command");
        return;
    }
    queued *q = &c->queue[c->n_queue++];
    q->argc = argc;
    q->argv = (char **)(void *)blk;
    q->lens = (size_t *)(void *)(blk + (size_t)argc * sizeof(char *));
    char *p = blk + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], lens[i]);
        p[lens[i]] = '\0';
        q->argv[i] = p;
        q->lens[i] = lens[i];
        p += lens[i] + 1;
    }
    reply_simple(&c->out, "QUEUED");
}

static void run(const command *cmd, client *c, int argc, char **argv,
                size_t *lens)
{
    c->last_cmd = cmd->name;
    srv.n_cmds++;
    if (cmd->flags & F_WRITE) {
        srv.dirty = true;
    }
    cmd->fn(c, argc, argv, lens);
}

void cmd_dispatch(client *c, int argc, char **argv, size_t *lens)
{
    const command *cmd = lookup(argv[0], lens[0]);
    if (cmd == NULL) {
        if (c->in_multi) {
            c->multi_error = true;
        }
        unknown_command(c, argc, argv, lens);
        return;
    }
    if (!c->authed && !(cmd->flags & F_NOAUTH)) {
        if (c->in_multi) {
            c->multi_error = true;
        }
        add_err(c, "NOAUTH Authentication required.");
        return;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) ||
        (cmd->arity < 0 && argc < -cmd->arity)) {
        if (c->in_multi) {
            c->multi_error = true;
        }
        add_arity(c, cmd->name);
        return;
    }
    if (c->in_multi && !(cmd->flags & F_TXCTL)) {
        if (cmd->flags & F_NOMULTI) {
            c->multi_error = true;
            add_errf(c, "ERR Command not allowed inside a transaction");
            return;
        }
        queue_command(c, argc, argv, lens);
        return;
    }
    run(cmd, c, argc, argv, lens);
}

/* ------------------------------------------------------------------------ */
/* Connection                                                                */
/* ------------------------------------------------------------------------ */

static void cmd_ping(client *c, int argc, char **argv, size_t *lens)
{
    if (argc > 2) {
        add_arity(c, "ping");
    } else if (argc == 2) {
        reply_bulk(&c->out, argv[1], lens[1]);
    } else {
        reply_simple(&c->out, "PONG");
    }
}

static void cmd_echo(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    reply_bulk(&c->out, argv[1], lens[1]);
}

static void cmd_quit(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    reply_simple(&c->out, "OK");
    c->close_after_reply = true;
}

static void cmd_select(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    long long db;
    if (!resp_parse_ll(argv[1], lens[1], &db)) {
        add_err(c, "ERR value is not an integer or out of range");
    } else if (db != 0) {
        add_err(c, "ERR DB index is out of range");
    } else {
        reply_simple(&c->out, "OK");
    }
}

/* Compare without an early exit, so the time taken does not tell how much
 * of a guess was right (Redis's time_independent_strcmp). */
static bool password_ok(const char *p, size_t n)
{
    if (srv.cfg.requirepass == NULL) {
        return true;
    }
    const unsigned char *a = (const unsigned char *)p;
    const unsigned char *b = (const unsigned char *)srv.cfg.requirepass;
    size_t bl = srv.cfg.requirepass_len;
    size_t m = n > bl ? n : bl;
    unsigned diff = (unsigned)(n ^ bl);
    for (size_t i = 0; i < m; i++) {
        unsigned char x = i < n ? a[i] : 0;
        unsigned char y = i < bl ? b[i] : 0;
        diff |= (unsigned)(x ^ y);
    }
    return diff == 0;
}

static bool auth_pair(const char *user, size_t ul, const char *pass, size_t pl)
{
    bool u = ul == 7 && memcmp(user, "default", 7) == 0;
    bool p = password_ok(pass, pl);
    return u && p;
}

static void cmd_auth(client *c, int argc, char **argv, size_t *lens)
{
    if (argc > 3) {
        add_err(c, "ERR syntax error");
        return;
    }
    if (argc == 2 && srv.cfg.requirepass == NULL) {
        add_err(c, "ERR AUTH <password> called without any password "
                   "configured for the default user. Are you sure your "
                   "configuration is correct?");
        return;
    }
    bool ok = argc == 2 ? password_ok(argv[1], lens[1])
                        : auth_pair(argv[1], lens[1], argv[2], lens[2]);
    if (!ok) {
        add_err(c, "WRONGPASS invalid username-password pair or user is "
                   "disabled.");
        return;
    }
    c->authed = true;
    reply_simple(&c->out, "OK");
}

static bool valid_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '!' || s[i] > '~') {
            return false;
        }
    }
    return true;
}

static void set_str(char **dst, const char *s, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (n > 0) {
        *dst = malloc(n + 1);
        if (*dst) {
            memcpy(*dst, s, n);
            (*dst)[n] = '\0';
        }
    }
}

static void cmd_hello(client *c, int argc, char **argv, size_t *lens)
{
    long long proto = c->proto;
    int i = 1;
    if (argc >= 2) {
        if (!resp_parse_ll(argv[1], lens[1], &proto)) {
            add_err(c, "ERR Protocol version is not an integer or out of "
                       "range");
            return;
        }
        if (proto != 2 && proto != 3) {
            add_err(c, "NOPROTO unsupported protocol version");
            return;
        }
        i = 2;
    }
    const char *user = NULL, *pass = NULL, *name = NULL;
    size_t ul = 0, pl = 0, nl = 0;
    for (; i < argc; i++) {
        if (strcasecmp(argv[i], "auth") == 0 && i + 2 < argc) {
            user = argv[i + 1];
            ul = lens[i + 1];
            pass = argv[i + 2];
            pl = lens[i + 2];
            i += 2;
        } else if (strcasecmp(argv[i], "setname") == 0 && i + 1 < argc) {
            name = argv[i + 1];
            nl = lens[i + 1];
            i++;
        } else {
            add_errf(c, "ERR Syntax error in HELLO option '%.128s'", argv[i]);
            return;
        }
    }
    if (user != NULL) {
        if (!auth_pair(user, ul, pass, pl)) {
            add_err(c, "WRONGPASS invalid username-password pair or user "
                       "is disabled.");
            return;
        }
        c->authed = true;
    }
    if (!c->authed) {
        add_err(c, "NOAUTH HELLO must be called with the client already "
                   "authenticated, otherwise the HELLO <proto> AUTH <user> "
                   "<pass> option can be used to authenticate the client "
                   "and select the RESP protocol version at the same time");
        return;
    }
    if (name != NULL) {
        if (!valid_name(name, nl)) {
            add_err(c, "ERR Client names cannot contain spaces, newlines or "
                       "special characters.");
            return;
        }
        set_str(&c->name, name, nl);
    }
    c->proto = (int)proto;
    rbuf *o = &c->out;
    reply_map(o, c->proto, 7);
    reply_cstr(o, "server");
    reply_cstr(o, "redis");
    reply_cstr(o, "version");
    reply_cstr(o, ROSTERD_REDIS_VERSION);
    reply_cstr(o, "proto");
    reply_int(o, proto);
    reply_cstr(o, "id");
    reply_int(o, (long long)c->id);
    reply_cstr(o, "mode");
    reply_cstr(o, "standalone");
    reply_cstr(o, "role");
    reply_cstr(o, "master");
    reply_cstr(o, "modules");
    reply_array(o, 0);
}

static void discard_queue(client *c)
{
    for (size_t i = 0; i < c->n_queue; i++) {
        free(c->queue[i].argv);
    }
    c->n_queue = 0;
    c->in_multi = false;
    c->multi_error = false;
}

static void unwatch_all(client *c)
{
    for (size_t i = 0; i < c->n_watch; i++) {
        free(c->watch[i].key);
    }
    if (c->n_watch > 0) {
        srv.n_watchers--;
    }
    free(c->watch);
    c->watch = NULL;
    c->n_watch = 0;
    c->watch_dirty = false;
}

static void cmd_reset(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    discard_queue(c);
    unwatch_all(c);
    c->proto = 2;
    set_str(&c->name, NULL, 0);
    c->authed = srv.cfg.requirepass == NULL;
    reply_simple(&c->out, "RESET");
}

static void client_list_line(rbuf *b, const client *x, time_t now)
{
    char line[1024];
    int k = snprintf(
        line, sizeof line,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%ld idle=%ld flags=%s "
        "db=0 sub=0 psub=0 ssub=0 multi=%ld qbuf=%zu qbuf-free=%zu "
        "argv-mem=0 multi-mem=0 obl=0 oll=0 omem=%zu tot-mem=%zu events=r "
        "cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
        (unsigned long long)x->id, x->addr, x->laddr, x->fd,
        x->name ? x->name : "", (long)(now - x->ctime), (long)(now - x->last),
        x->in_multi ? "x" : "N", x->in_multi ? (long)x->n_queue : -1L,
        x->qlen - x->qpos, x->qcap - x->qlen, x->out.len - x->opos,
        x->qcap + x->out.cap + sizeof *x, x->last_cmd ? x->last_cmd : "NULL",
        x->proto, x->lib_name ? x->lib_name : "", x->lib_ver ? x->lib_ver : "");
    if (k > 0) {
        rbuf_put(b, line,
                 (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
    }
}

static void cmd_client(client *c, int argc, char **argv, size_t *lens)
{
    const char *sub = argv[1];
    time_t now = time(NULL);
    if (strcasecmp(sub, "id") == 0 && argc == 2) {
        reply_int(&c->out, (long long)c->id);
    } else if (strcasecmp(sub, "getname") == 0 && argc == 2) {
        if (c->name) {
            reply_cstr(&c->out, c->name);
        } else {
            reply_null(&c->out, c->proto);
        }
    } else if (strcasecmp(sub, "setname") == 0 && argc == 3) {
        if (!valid_name(argv[2], lens[2])) {
            add_err(c, "ERR Client names cannot contain spaces, newlines or "
                       "special characters.");
            return;
        }
        set_str(&c->name, argv[2], lens[2]);
        reply_simple(&c->out, "OK");
    } else if (strcasecmp(sub, "setinfo") == 0 && argc == 4) {
        if (!valid_name(argv[3], lens[3])) {
            add_errf(c,
                     "ERR %s cannot contain spaces, newlines or special "
                     "characters.",
                     argv[2]);
            return;
        }
        if (strcasecmp(argv[2], "lib-name") == 0) {
            set_str(&c->lib_name, argv[3], lens[3]);
        } else if (strcasecmp(argv[2], "lib-ver") == 0) {
            set_str(&c->lib_ver, argv[3], lens[3]);
        } else {
            add_errf(c, "ERR Unrecognized option '%.128s'", argv[2]);
            return;
        }
        reply_simple(&c->out, "OK");
    } else if (strcasecmp(sub, "list") == 0 || strcasecmp(sub, "info") == 0) {
        if ((strcasecmp(sub, "info") == 0 && argc != 2) ||
            (argc != 2 && argc != 4)) {
            add_err(c, "ERR syntax error");
            return;
        }
        rbuf b = {0};
        if (strcasecmp(sub, "info") == 0) {
            client_list_line(&b, c, now);
        } else {
            for (client *x = srv.clients; x != NULL; x = x->next) {
                if (argc == 4 && strcasecmp(argv[2], "id") == 0) {
                    char id[32];
                    snprintf(id, sizeof id, "%llu", (unsigned long long)x->id);
                    if (strcmp(id, argv[3]) != 0) {
                        continue;
                    }
                }
                client_list_line(&b, x, now);
            }
        }
        reply_verbatim(&c->out, c->proto, b.ptr ? b.ptr : "", b.len);
        rbuf_free(&b);
    } else if (strcasecmp(sub, "help") == 0) {
        static const char *help[] = {
            "CLIENT <subcommand> [<arg> ...]. Subcommands are:",
            "ID",
            "GETNAME",
            "SETNAME <name>",
            "SETINFO <lib-name|lib-ver> <value>",
            "LIST [ID <id>]",
            "INFO"};
        reply_array(&c->out, sizeof help / sizeof help[0]);
        for (size_t i = 0; i < sizeof help / sizeof help[0]; i++) {
            reply_simple(&c->out, help[i]);
        }
    } else if (strcasecmp(sub, "id") == 0 || strcasecmp(sub, "getname") == 0 ||
               strcasecmp(sub, "setname") == 0 ||
               strcasecmp(sub, "setinfo") == 0) {
        char full[64];
        snprintf(full, sizeof full, "client|%s", sub);
        for (char *p = full; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        add_arity(c, full);
    } else {
        add_errf(c, "ERR unknown subcommand '%.128s'. Try CLIENT HELP.", sub);
    }
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */
/* ------------------------------------------------------------------------ */

static void cmd_multi(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    if (c->in_multi) {
        add_err(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->in_multi = true;
    reply_simple(&c->out, "OK");
}

static void cmd_discard(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    if (!c->in_multi) {
        add_err(c, "ERR DISCARD without MULTI");
        return;
    }
    discard_queue(c);
    unwatch_all(c);
    reply_simple(&c->out, "OK");
}

static void cmd_exec(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    if (!c->in_multi) {
        add_err(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->multi_error) {
        discard_queue(c);
        unwatch_all(c);
        add_err(c, "EXECABORT Transaction discarded because of previous "
                   "errors.");
        return;
    }
    if (c->watch_dirty) {
        discard_queue(c);
        unwatch_all(c);
        reply_null_array(&c->out, c->proto);
        return;
    }
    if (rs_group_begin(srv.st) != RS_OK) {
        discard_queue(c);
        unwatch_all(c);
        add_lib_err(c);
        return;
    }
    srv.in_group = true;
    size_t mark = c->out.len;
    unsigned errs = c->n_errors;
    reply_array(&c->out, c->n_queue);
    size_t failed = 0;
    const char *failed_name = NULL;
    for (size_t i = 0; i < c->n_queue; i++) {
        queued *q = &c->queue[i];
        const command *cmd = lookup(q->argv[0], q->lens[0]);
        run(cmd, c, q->argc, q->argv, q->lens);
        if (c->n_errors != errs) {
            failed = i + 1;
            failed_name = cmd->name;
            break;
        }
    }
    srv.in_group = false;
    char why[512] = "";
    if (failed) {
        /* The failing command's error reply is the last thing in out. */
        size_t end = c->out.len;
        size_t start = end >= 2 ? end - 2 : 0;
        while (start > mark && c->out.ptr[start - 1] != '\n') {
            start--;
        }
        snprintf(why, sizeof why, "%.*s", (int)(end - start - 3),
                 c->out.ptr + start + 1);
        rs_group_abort(srv.st);
    } else if (rs_group_commit(srv.st) != RS_OK) {
        snprintf(why, sizeof why, "%s", rs_errmsg(srv.st));
    }
    bool sent = !failed && why[0] == '\0';
    discard_queue(c);
    unwatch_all(c);
    if (!sent) {
        rbuf_cut(&c->out, mark);
        if (failed) {
            add_errf(c,
                     "EXECABORT Transaction rolled back: command %zu "
                     "(%s) failed: %s",
                     failed, failed_name, why);
        } else {
            add_errf(c, "EXECABORT Transaction rolled back: %s", why);
        }
    }
}

static void cmd_watch(client *c, int argc, char **argv, size_t *lens)
{
    if (c->in_multi) {
        add_err(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < argc; i++) {
        bool have = false;
        for (size_t j = 0; j < c->n_watch && !have; j++) {
            have = c->watch[j].len == lens[i] &&
                   memcmp(c->watch[j].key, argv[i], lens[i]) == 0;
        }
        if (have) {
            continue;
        }
        watched *w = realloc(c->watch, (c->n_watch + 1) * sizeof *w);
        if (w == NULL) {
            add_err(c, "ERR out of memory");
            return;
        }
        c->watch = w;
        char *k = malloc(lens[i] + 1);
        if (k == NULL) {
            add_err(c, "ERR out of memory");
            return;
        }
        memcpy(k, argv[i], lens[i] + 1);
        if (c->n_watch == 0) {
            srv.n_watchers++;
        }
        c->watch[c->n_watch].key = k;
        c->watch[c->n_watch].len = lens[i];
        c->n_watch++;
    }
    reply_simple(&c->out, "OK");
}

static void cmd_unwatch(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    unwatch_all(c);
    reply_simple(&c->out, "OK");
}

void client_release(client *c)
{
    discard_queue(c);
    free(c->queue);
    c->queue = NULL;
    unwatch_all(c);
}

/* ------------------------------------------------------------------------ */
/* COMMAND                                                                   */
/* ------------------------------------------------------------------------ */

static void command_info(client *c, const command *cmd)
{
    rbuf *o = &c->out;
    reply_array(o, 10);
    reply_cstr(o, cmd->name);
    reply_int(o, cmd->arity);
    static const struct {
        unsigned f;
        const char *n;
    } flags[] = {{F_WRITE, "write"}, {F_READ, "readonly"},
                 {F_ADMIN, "admin"}, {F_NOAUTH, "no_auth"},
                 {F_FAST, "fast"},   {F_NOMULTI, "no_multi"}};
    size_t nf = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        nf += (cmd->flags & flags[i].f) ? 1 : 0;
    }
    reply_set(o, c->proto, nf);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (cmd->flags & flags[i].f) {
            reply_simple(o, flags[i].n);
        }
    }
    reply_int(o, cmd->first);
    reply_int(o, cmd->last);
    reply_int(o, cmd->step);
    reply_set(o, c->proto, 1);
    char cat[64];
    snprintf(cat, sizeof cat, "@%s", cmd->group);
    reply_simple(o, cat);
    reply_array(o, 0); /* tips */
    reply_array(o, 0); /* key specs */
    reply_array(o, 0); /* subcommands */
}

static void command_doc(client *c, const command *cmd)
{
    rbuf *o = &c->out;
    reply_cstr(o, cmd->name);
    reply_map(o, c->proto, 3);
    reply_cstr(o, "summary");
    reply_cstr(o, cmd->summary);
    reply_cstr(o, "since");
    reply_cstr(o, "1.0.0");
    reply_cstr(o, "group");
    reply_cstr(o, cmd->group);
}

static void cmd_command(client *c, int argc, char **argv, size_t *lens)
{
    if (argc == 1) {
        reply_array(&c->out, N_COMMANDS);
        for (size_t i = 0; i < N_COMMANDS; i++) {
            command_info(c, &table[i]);
        }
        return;
    }
    const char *sub = argv[1];
    if (strcasecmp(sub, "count") == 0 && argc == 2) {
        reply_int(&c->out, (long long)N_COMMANDS);
    } else if (strcasecmp(sub, "info") == 0) {
        if (argc == 2) {
            reply_array(&c->out, N_COMMANDS);
            for (size_t i = 0; i < N_COMMANDS; i++) {
                command_info(c, &table[i]);
            }
            return;
        }
        reply_array(&c->out, (size_t)(argc - 2));
        for (int i = 2; i < argc; i++) {
            const command *cmd = lookup(argv[i], lens[i]);
            if (cmd) {
                command_info(c, cmd);
            } else {
                reply_null_array(&c->out, c->proto);
            }
        }
    } else if (strcasecmp(sub, "docs") == 0) {
        if (argc == 2) {
            reply_map(&c->out, c->proto, N_COMMANDS);
            for (size_t i = 0; i < N_COMMANDS; i++) {
                command_doc(c, &table[i]);
            }
            return;
        }
        size_t n = 0;
        for (int i = 2; i < argc; i++) {
            n += lookup(argv[i], lens[i]) ? 1 : 0;
        }
        reply_map(&c->out, c->proto, n);
        for (int i = 2; i < argc; i++) {
            const command *cmd = lookup(argv[i], lens[i]);
            if (cmd) {
                command_doc(c, cmd);
            }
        }
    } else if (strcasecmp(sub, "count") == 0) {
        add_arity(c, "command|count");
    } else {
        add_errf(c, "ERR unknown subcommand '%.128s'. Try COMMAND HELP.", sub);
    }
}

/* ------------------------------------------------------------------------ */
/* CONFIG, INFO, TIME                                                        */
/* ------------------------------------------------------------------------ */

static void cmd_config(client *c, int argc, char **argv, size_t *lens)
{
    (void)lens;
    const char *sub = argv[1];
    if (strcasecmp(sub, "get") == 0) {
        if (argc < 3) {
            add_arity(c, "config|get");
            return;
        }
        const config *cf = &srv.cfg;
        char v[32][64];
        const char *names[32];
        const char *vals[32];
        size_t n = 0;
#define P(name, ...)                                                           \
    do {                                                                       \
        names[n] = name;                                                       \
        snprintf(v[n], sizeof v[n], __VA_ARGS__);                              \
        vals[n] = v[n];                                                        \
        n++;                                                                   \
    } while (0)
        P("port", "%d", cf->port);
        names[n] = "bind";
        vals[n++] = cf->bind;
        names[n] = "dir";
        vals[n++] = cf->dir;
        P("appendonly", "yes");
        P("appendfsync", "%s",
          cf->appendfsync == FSYNC_ALWAYS     ? "always"
          : cf->appendfsync == FSYNC_EVERYSEC ? "everysec"
                                              : "no");
        P("save", "%s", "");
        names[n] = "requirepass";
        vals[n++] = cf->requirepass ? cf->requirepass : "";
        P("protected-mode", "%s", cf->protected_mode ? "yes" : "no");
        P("maxclients", "%ld", cf->maxclients);
        P("timeout", "%ld", cf->timeout);
        P("busy-poll", "%ld", cf->busy_poll_us);
        P("databases", "1");
        P("maxmemory", "0");
        P("maxmemory-policy", "noeviction");
        P("proto-max-bulk-len", "%zu", cf->lim.max_bulk);
        P("client-query-buffer-limit", "%zu", cf->qbuf_limit);
        P("client-output-buffer-limit", "normal %zu %zu 0", cf->obuf_limit,
          cf->obuf_limit);
        P("auto-aof-rewrite-percentage", "%ld", cf->compact_pct);
        P("auto-aof-rewrite-min-size", "%zu", cf->compact_min);
        P("auto-compact-percentage", "%ld", cf->compact_pct);
        P("auto-compact-min-size", "%zu", cf->compact_min);
        P("cluster-enabled", "no");
#undef P
        bool hit[32] = {false};
        size_t nh = 0;
        for (int a = 2; a < argc; a++) {
            for (size_t i = 0; i < n; i++) {
                if (!hit[i] && glob_match(argv[a], lens[a], names[i],
                                          strlen(names[i]), true)) {
                    hit[i] = true;
                    nh++;
                }
            }
        }
        reply_map(&c->out, c->proto, nh);
        for (size_t i = 0; i < n; i++) {
            if (hit[i]) {
                reply_cstr(&c->out, names[i]);
                reply_cstr(&c->out, vals[i]);
            }
        }
    } else if (strcasecmp(sub, "resetstat") == 0) {
        srv.n_cmds = srv.n_conns = srv.n_rejected = 0;
        srv.hits = srv.misses = srv.n_errors = 0;
        reply_simple(&c->out, "OK");
    } else if (strcasecmp(sub, "set") == 0 || strcasecmp(sub, "rewrite") == 0) {
        add_errf(c,
                 "ERR CONFIG %s is not supported by rosterd: restart it "
                 "with the option",
                 sub);
    } else {
        add_errf(c, "ERR unknown subcommand '%.128s'. Try CONFIG HELP.", sub);
    }
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void human(char *buf, size_t n, double b)
{
    const char *u = "B";
    if (b >= 1024.0 * 1024 * 1024) {
        b /= 1024.0 * 1024 * 1024;
        u = "G";
    } else if (b >= 1024.0 * 1024) {
        b /= 1024.0 * 1024;
        u = "M";
    } else if (b >= 1024.0) {
        b /= 1024.0;
        u = "K";
    }
    snprintf(buf, n, "%.2f%s", b, u);
}

static void bprintf(rbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bprintf(rbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) {
        rbuf_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
    }
}

static bool want_section(int argc, char **argv, const char *name,
                         bool in_default)
{
    if (argc <= 1) {
        return in_default;
    }
    for (int i = 1; i < argc; i++) {
        if (strcasecmp(argv[i], name) == 0 || strcasecmp(argv[i], "all") == 0 ||
            strcasecmp(argv[i], "everything") == 0 ||
            (in_default && strcasecmp(argv[i], "default") == 0)) {
            return true;
        }
    }
    return false;
}

static void cmd_info(client *c, int argc, char **argv, size_t *lens)
{
    (void)lens;
    rbuf b = {0};
    time_t now = time(NULL);
    rs_mem_report mr;
    rs_mem(srv.st, &mr);
    if (want_section(argc, argv, "server", true)) {
        bprintf(&b,
                "# Server\r\nredis_version:%s\r\nrosterd_version:%s\r\n"
                "libroster_version:%s\r\nredis_mode:standalone\r\n"
                "os:Linux\r\narch_bits:%zu\r\nmultiplexing_api:epoll\r\n"
                "process_id:%d\r\ntcp_port:%d\r\nuptime_in_seconds:%ld\r\n"
                "uptime_in_days:%ld\r\nexecutable:rosterd\r\n\r\n",
                ROSTERD_REDIS_VERSION, ROSTERD_VERSION, rs_version(),
                sizeof(void *) * 8, (int)getpid(), srv.cfg.port,
                (long)(now - srv.start), (long)(now - srv.start) / 86400);
    }
    if (want_section(argc, argv, "clients", true)) {
        bprintf(&b,
                "# Clients\r\nconnected_clients:%zu\r\nmaxclients:%ld\r\n"
                "blocked_clients:0\r\nwatching_clients:%zu\r\n\r\n",
                srv.n_clients, srv.cfg.maxclients, srv.n_watchers);
    }
    if (want_section(argc, argv, "memory", true)) {
        char h1[32], h2[32], h3[32];
        long rss = rss_bytes();
        human(h1, sizeof h1, (double)mr.total);
        human(h2, sizeof h2, (double)rss);
        human(h3, sizeof h3, (double)mr.peak);
        bprintf(&b,
                "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\n"
                "used_memory_rss:%ld\r\nused_memory_rss_human:%s\r\n"
                "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
                "maxmemory:0\r\nmaxmemory_policy:noeviction\r\n"
                "mem_allocator:libc\r\n\r\n",
                mr.total, h1, rss, h2, mr.peak, h3);
    }
    if (want_section(argc, argv, "persistence", true)) {
        char path[PATH_MAX + 32];
        struct stat sj, ss;
        snprintf(path, sizeof path, "%s.journal", srv.base);
        long long jb = stat(path, &sj) == 0 ? (long long)sj.st_size : 0;
        snprintf(path, sizeof path, "%s.snap", srv.base);
        long long sb = stat(path, &ss) == 0 ? (long long)ss.st_size : 0;
        bprintf(&b,
                "# Persistence\r\nloading:0\r\n"
                "rdb_changes_since_last_save:%llu\r\n"
                "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%ld\r\n"
                "rdb_last_bgsave_status:%s\r\naof_enabled:1\r\n"
                "aof_rewrite_in_progress:%d\r\n"
                "aof_last_write_status:ok\r\nappendfsync:%s\r\n"
                "journal_bytes:%lld\r\nsnapshot_bytes:%lld\r\n"
                "journal_fsyncs:%llu\r\ncompactions_auto:%llu\r\n"
                "recovery_seconds:%.3f\r\nrecovered_records:%zu\r\n\r\n",
                (unsigned long long)srv.changes_since_save, srv.saver != NULL,
                (long)srv.lastsave, srv.last_save_ok ? "ok" : "err",
                srv.saver != NULL,
                srv.cfg.appendfsync == FSYNC_ALWAYS     ? "always"
                : srv.cfg.appendfsync == FSYNC_EVERYSEC ? "everysec"
                                                        : "no",
                jb, sb, (unsigned long long)srv.n_fsyncs,
                (unsigned long long)srv.n_compactions, srv.recovery_s,
                srv.recovered);
    }
    if (want_section(argc, argv, "stats", true)) {
        bprintf(&b,
                "# Stats\r\ntotal_connections_received:%llu\r\n"
                "total_commands_processed:%llu\r\n"
                "rejected_connections:%llu\r\nkeyspace_hits:%llu\r\n"
                "keyspace_misses:%llu\r\ntotal_error_replies:%llu\r\n\r\n",
                (unsigned long long)srv.n_conns, (unsigned long long)srv.n_cmds,
                (unsigned long long)srv.n_rejected,
                (unsigned long long)srv.hits, (unsigned long long)srv.misses,
                (unsigned long long)srv.n_errors);
    }
    if (want_section(argc, argv, "replication", true)) {
        bprintf(&b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
                    "\r\n");
    }
    if (want_section(argc, argv, "keyspace", true)) {
        bprintf(&b, "# Keyspace\r\n");
        if (mr.n_records > 0) {
            bprintf(&b, "db0:keys=%zu,expires=0,avg_ttl=0\r\n", mr.n_records);
        }
        bprintf(&b, "\r\n");
    }
    if (want_section(argc, argv, "roster", true)) {
        double n = mr.n_records ? (double)mr.n_records : 1.0;
        bprintf(&b,
                "# Roster\r\nrecords:%zu\r\nbytes:%zu\r\n"
                "bytes_per_record:%.2f\r\n",
                mr.n_records, mr.total, (double)mr.total / n);
        for (int k = 0; k < RS_MEM__COUNT; k++) {
            bprintf(&b, "bytes_%s:%zu\r\nbytes_per_record_%s:%.2f\r\n",
                    rs_mem_cat_name((rs_mem_cat)k), mr.bytes[k],
                    rs_mem_cat_name((rs_mem_cat)k), (double)mr.bytes[k] / n);
        }
        bprintf(&b, "attr_names:%zu\r\nshapes:%zu\r\nretired_slots:%zu\r\n",
                mr.n_attr_names, mr.n_shapes, mr.n_retired);
        for (size_t i = 0; i < rs_n_classes(srv.st); i++) {
            rs_class *cls = rs_class_at(srv.st, i);
            bprintf(&b, "class_%s:records=%zu,fields=%zu,dynamic=%d\r\n",
                    rs_class_name(cls), rs_count(cls), rs_class_n_fields(cls),
                    (rs_class_flags(cls) & RS_CLASS_DYNAMIC) ? 1 : 0);
        }
        bprintf(&b, "\r\n");
    }
    /* No trailing blank line, as Redis. */
    if (b.len >= 2) {
        b.len -= 2;
    }
    reply_verbatim(&c->out, c->proto, b.ptr ? b.ptr : "", b.len);
    rbuf_free(&b);
}

static void cmd_time(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char s[32], u[32];
    int a = snprintf(s, sizeof s, "%ld", (long)tv.tv_sec);
    int d = snprintf(u, sizeof u, "%ld", (long)tv.tv_usec);
    reply_array(&c->out, 2);
    reply_bulk(&c->out, s, (size_t)a);
    reply_bulk(&c->out, u, (size_t)d);
}

/* ------------------------------------------------------------------------ */
/* Persistence                                                               */
/* ------------------------------------------------------------------------ */

int save_start(client *c, bool background)
{
    if (srv.saver != NULL) {
        if (c) {
            add_err(c, "ERR Background save already in progress");
        }
        return -1;
    }
    if (!background) {
        rs_save_info info;
        if (rs_save(srv.st, NULL, &info) != RS_OK) {
            log_msg('#', "SAVE failed: %s", rs_errmsg(srv.st));
            srv.last_save_ok = false;
            if (c) {
                add_lib_err(c);
            }
            return -1;
        }
        log_msg('*', "DB saved on disk: %zu records, %llu bytes, %.3f s",
                info.n_records, (unsigned long long)info.bytes, info.seconds);
        srv.lastsave = time(NULL);
        srv.last_save_ok = true;
        srv.changes_since_save = 0;
        return 0;
    }
    if (rs_save_begin(srv.st, NULL, &srv.saver) != RS_OK) {
        log_msg('#', "BGSAVE failed to start: %s", rs_errmsg(srv.st));
        srv.saver = NULL;
        if (c) {
            add_lib_err(c);
        }
        return -1;
    }
    srv.save_started = time(NULL);
    log_msg('*', "Background saving started (in steps, no fork)");
    return 0;
}

void save_step(size_t budget)
{
    rs_status rc = rs_save_step(srv.saver, budget);
    if (rc == RS_OK) {
        return;
    }
    if (rc == RS_DONE) {
        rs_save_info info;
        rc = rs_save_finish(srv.saver, &info);
        srv.saver = NULL;
        if (rc == RS_OK) {
            log_msg('*',
                    "Background saving terminated with success: %zu "
                    "records (%zu written early), %llu bytes, %.3f s, "
                    "%zu bytes of extra memory",
                    info.n_records, info.n_early,
                    (unsigned long long)info.bytes, info.seconds,
                    info.extra_bytes);
            srv.lastsave = time(NULL);
            srv.last_save_ok = true;
            srv.changes_since_save = 0;
            return;
        }
    } else {
        rs_save_abort(srv.saver);
        srv.saver = NULL;
    }
    log_msg('#', "Background saving failed: %s", rs_errmsg(srv.st));
    srv.last_save_ok = false;
}

static void cmd_save(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    if (save_start(c, false) == 0) {
        reply_simple(&c->out, "OK");
    }
}

static void cmd_bgsave(client *c, int argc, char **argv, size_t *lens)
{
    (void)lens;
    if (argc > 2 || (argc == 2 && strcasecmp(argv[1], "schedule") != 0)) {
        add_err(c, "ERR syntax error");
        return;
    }
    if (save_start(c, true) == 0) {
        reply_simple(&c->out, "Background saving started");
    }
}

static void cmd_lastsave(client *c, int argc, char **argv, size_t *lens)
{
    (void)argc;
    (void)argv;
    (void)lens;
    reply_int(&c->out, (long long)srv.lastsave);
}

static void cmd_shutdown(client *c, int argc, char **argv, size_t *lens)
{
    (void)lens;
    bool save = false;
    for (int i = 1; i < argc; i++) {
        if (strcasecmp(argv[i], "save") == 0) {
            save = true;
        } else if (strcasecmp(argv[i], "nosave") == 0 ||
                   strcasecmp(argv[i], "now") == 0 ||
                   strcasecmp(argv[i], "force") == 0) {
            continue;
        } else {
            add_err(c, "ERR syntax error");
            return;
        }
    }
    log_msg('#', "User requested shutdown...");
    srv.shutdown = true;
    srv.shutdown_save = save;
    /* Redis sends no reply: the connection closes. */
    c->close_asap = true;
}
