#!/usr/bin/env python3
"""python_players.py: the Python baselines of `roster bench`.

    python3 python_players.py --kind dict|slots --file PLAYERS.tsv
                              [--rounds R] [--seed S] [--no-gc]

Two representations of the canonical players (bench/reps/PROTOCOL.md):

  python-dict   the classic plain class; a player's extras (x and vip as
                int, guild as str) are bound as dynamic attributes with
                setattr, so they live in the instance's __dict__.
  python-slots  the same class with __slots__ = ('uid', 'name', 'stat',
                'level'): no __dict__, so extras cannot be bound; the load
                skips them, attr_get_ns / attr_set_ns are null and the
                checksum counts 0 extras.

Both are indexed by uid in a dict and by name in a second dict (so lookup
by name is measured too; "indexes": 2 in the JSON).  Writes exactly one
line of JSON on stdout; errors go to stderr with a non-zero exit.  Standard
library only; runs on any Python 3 (3.7+ for perf_counter_ns and
gc.freeze, with fallbacks below that).

What is measured, and how it stays the representation's own:

- The whole TSV is read and split into plain lists BEFORE RSS0: uid and
  name as the file's UTF-8 bytes, stat and level as ints, extras as tuples
  of (key, raw bytes, is_integer).  Every other array the harness uses (the
  handle list, the lookup keys in random order, the update values, the
  attribute work list, the churn picks) is also built and written before
  RSS0, and gc.collect() + gc.freeze() park all of it outside the
  collector, so neither its bytes nor its traversal is counted.
- The load decodes the uid and name bytes into new str objects (and the
  extras into new int / str objects) inside the timed loop, the way the C
  stores copy their bytes on insert.  Were the input held as str, the
  players would share those objects with the input and their ~50-80 bytes
  each would escape the RSS count.
- Lookup keys are separate str objects (decoded apart, hash not yet
  computed), so each lookup hashes its key and compares bytes, as a
  request arriving from outside would; never an identity hit.
- The new uids and names of churn are formatted inside the timed loop
  (the C harness does its snprintf there too): they become the new
  players' own strings.
- Before RSS0, glibc's free heap pages are trimmed (malloc_trim through
  ctypes, where available), so memory the harness freed while reading is
  not resident yet and silently reused by the load.  Even so, at 1M
  players RSS shows two modes about 20 bytes/player apart from run to
  run, moved between bytes_per_player and churn growth (their sum stays
  put), probably from where the C heap places the dict tables as they
  resize (not pinned down).  Take
  the median of several runs.  anon_bytes_per_player (resident minus
  file-backed pages) is reported beside RSS.
- The garbage collector stays on (Python's default; --no-gc turns it off
  for the timed phases): its passes over the players are part of what a
  Python program pays.

Checksum (PROTOCOL.md), computed after the load by reading back from the
uid dict: sum mod 2^64 of FNV1a64(uid UTF-8) XOR FNV1a64(name UTF-8) +
stat + level + number of extras held.  The uid dict iterates in insertion
order, which is the file's order, which is uid order, so no sort is
needed (and the sum does not depend on the order anyway).  Extras held are
counted with getattr(p, key, default) over the keys of the data set (x,
guild, vip), which does not materialise an instance __dict__ in 3.11+.
The FNV is the plain byte loop; it costs about 1.5 s at 1M players and is
reported as checksum_s (outside every timed phase).
"""
import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from array import array

MASK64 = (1 << 64) - 1
FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
EXTRA_KEYS = ('x', 'guild', 'vip')

try:
    now_ns = time.perf_counter_ns
except AttributeError:  # Python < 3.7
    def now_ns():
        return int(time.perf_counter() * 1e9)


class Player:
    def __init__(self, uid, name, stat=0, level=0):
        self.uid = uid
        self.name = name
        self.stat = stat
        self.level = level


class PlayerSlots:
    __slots__ = ('uid', 'name', 'stat', 'level')

    def __init__(self, uid, name, stat=0, level=0):
        self.uid = uid
        self.name = name
        self.stat = stat
        self.level = level


def die(msg):
    sys.stderr.write('python_players: {}\n'.format(msg))
    sys.exit(1)


_PAGE = os.sysconf('SC_PAGE_SIZE')


def statm():
    """(resident bytes, resident file-backed/shared bytes)."""
    with open('/proc/self/statm', 'rb') as f:
        fields = f.read().split()
    return int(fields[1]) * _PAGE, int(fields[2]) * _PAGE


def trim_heap():
    """Give the C heap's free pages back (glibc malloc_trim), so memory
    the harness freed while reading the input is not resident at RSS0 and
    then silently reused by the load.  A no-op where unavailable."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.malloc_trim(0)
        return True
    except Exception:
        return False


def fnv1a64(data):
    h = FNV_OFFSET
    for c in data:
        h = ((h ^ c) * FNV_PRIME) & MASK64
    return h


def read_tsv(path):
    """The input arrays, held outside what is measured."""
    with open(path, 'rb') as f:
        data = f.read()
    uids, names, stats, levels, extras = [], [], [], [], []
    intern = sys.intern
    for lineno, line in enumerate(data.split(b'\n'), 1):
        if not line:
            continue
        col = line.split(b'\t')
        if len(col) < 4:
            die('{}:{}: expected at least 4 columns'.format(path, lineno))
        uids.append(col[0])
        names.append(col[1])
        stats.append(int(col[2]))
        levels.append(int(col[3]))
        ex = None
        if len(col) >= 5 and col[4]:
            pairs = []
            for kv in col[4].split(b';'):
                if not kv:
                    continue
                key, sep, val = kv.partition(b'=')
                if not sep:
                    die('{}:{}: bad extra {!r}'.format(path, lineno, kv))
                v = val[1:] if val[:1] == b'-' else val
                pairs.append((intern(key.decode()), val,
                              v.isdigit()))
            ex = tuple(pairs[:3]) if pairs else None
        extras.append(ex)
    del data
    return uids, names, stats, levels, extras


def checksum(by_uid):
    """(checksum, number of extras held), read back in uid order."""
    total = 0
    held_all = 0
    for uid, p in by_uid.items():
        if p.uid != uid:
            raise RuntimeError('uid index out of step at {!r}'.format(uid))
        held = 0
        for k in EXTRA_KEYS:
            if getattr(p, k, None) is not None:
                held += 1
        held_all += held
        total += (fnv1a64(p.uid.encode('utf-8')) ^
                  fnv1a64(p.name.encode('utf-8'))) + p.stat + p.level + held
    return total & MASK64, held_all


def main():
    ap = argparse.ArgumentParser(description='Python baselines for roster bench')
    ap.add_argument('--kind', choices=('dict', 'slots'), required=True)
    ap.add_argument('--file', required=True, help='canonical TSV (roster gen)')
    ap.add_argument('--rounds', type=int, default=10, help='churn rounds (10)')
    ap.add_argument('--seed', type=int, default=1, help='PRNG seed (1)')
    ap.add_argument('--no-gc', action='store_true',
                    help='disable the garbage collector in the timed phases')
    args = ap.parse_args()
    if args.rounds < 0:
        die('--rounds must be >= 0')
    dynamic = args.kind == 'dict'
    cls = Player if dynamic else PlayerSlots

    # ---- input, and every harness array, before RSS0 --------------------
    try:
        uids_b, names_b, stats, levels, extras = read_tsv(args.file)
    except (IOError, OSError) as e:
        die('{}: {}'.format(args.file, e))
    except ValueError as e:
        die('{}: {}'.format(args.file, e))
    n = len(uids_b)
    if n == 0:
        die('{}: no players'.format(args.file))
    rng = random.Random(args.seed)
    perm = list(range(n))
    rng.shuffle(perm)
    # lookup keys in lookup order: own str objects, hash not yet computed
    uid_keys = [uids_b[i].decode('utf-8') for i in perm]
    name_keys = [names_b[i].decode('utf-8') for i in perm]
    upd_vals = [i % 100 + 1 for i in perm]
    attr_idx, attr_key, attr_val = [], [], []
    if dynamic:
        for i in perm:
            ex = extras[i]
            if ex is not None:
                attr_idx.append(i)
                attr_key.append(ex[0][0])
                attr_val.append(i % 10)
    n_with_extras = sum(1 for ex in extras if ex is not None)
    k = n // 5
    rounds = args.rounds
    picks = array('q', [0]) * (k * rounds)
    rr = rng.random
    for j in range(k * rounds):
        picks[j] = int(rr() * n) % n
    freed = array('q', [1]) * max(k, 1)
    hs = [None] * n           # the harness's handles: allocated and written
    by_uid = {}
    by_name = {}
    gc.collect()
    if hasattr(gc, 'freeze'):
        gc.freeze()
    trimmed = trim_heap()
    if args.no_gc:
        gc.disable()

    # ---- 1. load --------------------------------------------------------
    rss0, file0 = statm()
    t0 = now_ns()
    if dynamic:
        for i, ub, nb, st, lv, ex in zip(range(n), uids_b, names_b, stats,
                                         levels, extras):
            uid = ub.decode('utf-8')
            name = nb.decode('utf-8')
            p = cls(uid, name, st, lv)
            if ex is not None:
                for key, raw, isnum in ex:
                    setattr(p, key, int(raw) if isnum else raw.decode('utf-8'))
            by_uid[uid] = p
            by_name[name] = p
            hs[i] = p
    else:
        for i, ub, nb, st, lv in zip(range(n), uids_b, names_b, stats, levels):
            uid = ub.decode('utf-8')
            name = nb.decode('utf-8')
            p = cls(uid, name, st, lv)
            by_uid[uid] = p
            by_name[name] = p
            hs[i] = p
    insert_ns = (now_ns() - t0) / n
    rss1, file1 = statm()
    if len(by_uid) != n or len(by_name) != n:
        die('duplicate uid or name in the input ({} uids, {} names, {} rows)'
            .format(len(by_uid), len(by_name), n))

    # ---- checksum, read back from the representation --------------------
    t0 = now_ns()
    csum, extras_held = checksum(by_uid)
    checksum_s = (now_ns() - t0) / 1e9

    # ---- 2. get by uid, 3. get by name ----------------------------------
    acc = 0
    t0 = now_ns()
    for key in uid_keys:
        acc += by_uid[key].level
    get_uid_ns = (now_ns() - t0) / n
    t0 = now_ns()
    for key in name_keys:
        acc += by_name[key].level
    get_name_ns = (now_ns() - t0) / n

    # ---- 4. update level through the handle ------------------------------
    t0 = now_ns()
    for i, v in zip(perm, upd_vals):
        hs[i].level = v
    update_ns = (now_ns() - t0) / n

    # ---- 5. scan stat == 1 and level >= 50 -------------------------------
    t0 = now_ns()
    matched = 0
    for p in by_uid.values():
        if p.stat == 1 and p.level >= 50:
            matched += 1
    scan_ns = (now_ns() - t0) / n

    # ---- 6. dynamic attributes (dict only) -------------------------------
    attr_get_ns = attr_set_ns = None
    if dynamic and attr_idx:
        t0 = now_ns()
        for i, key in zip(attr_idx, attr_key):
            v = getattr(hs[i], key)
        attr_get_ns = (now_ns() - t0) / len(attr_idx)
        t0 = now_ns()
        for i, v in zip(attr_idx, attr_val):
            hs[i].vip = v
        attr_set_ns = (now_ns() - t0) / len(attr_idx)

    # ---- 7. churn: R rounds, 20% log out, as many new players log in ----
    rss_before, file_before = statm()
    t0 = now_ns()
    nid = n
    pj = 0
    for _ in range(rounds):
        for j in range(k):
            i = picks[pj]
            pj += 1
            while hs[i] is None:
                i += 1
                if i == n:
                    i = 0
            p = hs[i]
            hs[i] = None
            del by_uid[p.uid]
            del by_name[p.name]
            freed[j] = i
        for j in range(k):
            nid += 1
            uid = '%07d' % nid
            name = 'p' + uid
            p = cls(uid, name, 1, 1)
            by_uid[uid] = p
            by_name[name] = p
            hs[freed[j]] = p
    elapsed = now_ns() - t0
    churn_ns = elapsed / (2 * k * rounds) if k * rounds else None
    rss_after, file_after = statm()
    churn_growth = (rss_after - rss_before) / n
    if args.no_gc:
        gc.enable()
    if len(by_uid) != n or len(by_name) != n:
        die('churn left {} uids and {} names for {} players (name clash?)'
            .format(len(by_uid), len(by_name), n))

    def r(x, d=1):
        return None if x is None else round(x, d)

    out = {
        'name': 'python-dict' if dynamic else 'python-slots',
        'players': n,
        'bytes_per_player': r((rss1 - rss0) / n, 2),
        'insert_ns': r(insert_ns),
        'get_uid_ns': r(get_uid_ns),
        'get_name_ns': r(get_name_ns),
        'update_ns': r(update_ns),
        'scan_ns': r(scan_ns),
        'attr_get_ns': r(attr_get_ns),
        'attr_set_ns': r(attr_set_ns),
        'churn_ns': r(churn_ns),
        'churn_growth_bytes_per_player': r(churn_growth, 2),
        'checksum': str(csum),
        'indexes': 2,
        'anon_bytes_per_player': r(((rss1 - file1) - (rss0 - file0)) / n, 2),
        'churn_anon_growth_bytes_per_player': r(
            ((rss_after - file_after) - (rss_before - file_before)) / n, 2),
        'players_with_extras': n_with_extras,
        'extras_held': extras_held,
        'scan_matched': matched,
        'rounds': rounds,
        'seed': args.seed,
        'gc': not args.no_gc,
        'heap_trimmed_before_rss0': trimmed,
        'checksum_s': round(checksum_s, 2),
        'python': '{} {}'.format(platform.python_implementation(),
                                 platform.python_version()),
        'executable': sys.executable,
    }
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write('python_players: interrupted\n')
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as e:  # any error: stderr, non-zero exit
        sys.stderr.write('python_players: {}: {}\n'.format(type(e).__name__, e))
        sys.exit(1)
