#!/usr/bin/env python3
"""python_roster.py: the python-roster representation of `roster bench`.

    python3 python_roster.py --file PLAYERS.tsv [--module-dir DIR]
                             [--rounds R] [--seed S] [--no-gc]

The canonical players loaded from Python through `import roster` (the
CPython extension, python/README.md), into the README's canonical class:

    Player { uid: str(16) key inline(4); name: str(32) unique inline(12);
             stat: u8 = 0; level: u16 = 0 } dynamic

with a player's extras (x and vip as int, guild as str) bound as dynamic
attributes with setattr, as python-dict binds them.  The store's own
indexes find a player by uid (Player[uid]) and by name
(Player.find(name=...)); no Python dict is kept.  --module-dir is the
directory holding the built module (`roster bench` passes
<build>/python, where python/CMakeLists.txt puts it); without it the
module is imported from sys.path.

It follows bench/reps/PROTOCOL.md phase by phase, with the harness of
python_players.py (python-dict, python-slots), so the figures compare:
the same input arrays built before RSS0 (uid and name as bytes, decoded
into new str objects inside the timed load), the same permutation, keys,
update values, attribute work list and churn picks drawn from the same
seeded PRNG in the same order, gc.collect() + gc.freeze() and
malloc_trim before RSS0, the garbage collector on.  The helpers below are
copies of python_players.py's (this file runs on its own, beside the
roster binary, as roster-rep-python-roster.py).

What differs, because a roster record is not a Python object:

- The load keeps nothing: `Player(uid, name, stat, level)` inserts the
  record and returns a proxy (class, handle) that is dropped at once.  So
  RSS1 - RSS0 is the store alone, plus the module's few objects: "a
  record never touched from Python costs nothing extra".
- The proxies the later phases go through (update, attributes, churn:
  "through the handle the representation uses") are made after RSS1 and
  outside every timing, by one Player.get_many() over the uids, which
  also reads the checksum back in uid order.  They are the harness's
  handles, as the C roster representation's rs_handle array is: 48 bytes
  each here (a dynamic class's proxy with its weakref slot), never in
  bytes_per_player.
- scan_ns is Player.where(stat=1, level__ge=50).count(), evaluated in C
  by the library's scan (the __slots__ baseline loops in Python over its
  objects).  scan_iter_ns also makes a proxy per match:
  `for p in Player.where(...)`.
- held_get_ns (not a protocol phase): `hs[i].level` on every held proxy
  in the random order, the read beside update_ns's write.
- insert_reserved_ns (not a protocol phase): the load again into a second
  store after Player.reserve(n), which sizes its indexes for n records
  first (the protocol's load grows them from empty, as the dicts of
  python-dict and python-slots grow).
- churn removes through the proxy (`p.remove()`) and inserts by calling
  the class; the new proxies replace the old ones in the handle list.

Checksum (PROTOCOL.md): sum mod 2^64 of FNV1a64(uid UTF-8) XOR
FNV1a64(name UTF-8) + stat + level + the extras the record holds
(getattr(p, key, None) over x, guild, vip, as python_players.py counts).
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
PLAYER = ('Player { uid: str(16) key inline(4); name: str(32) unique '
          'inline(12); stat: u8 = 0; level: u16 = 0 } dynamic')

now_ns = time.perf_counter_ns


def die(msg):
    sys.stderr.write('python_roster: {}\n'.format(msg))
    sys.exit(1)


_PAGE = os.sysconf('SC_PAGE_SIZE')


def statm():
    """(resident bytes, resident file-backed/shared bytes)."""
    with open('/proc/self/statm', 'rb') as f:
        fields = f.read().split()
    return int(fields[1]) * _PAGE, int(fields[2]) * _PAGE


def trim_heap():
    """glibc malloc_trim, as python_players.py does before RSS0."""
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
    """The input arrays, held outside what is measured (as
    python_players.py reads them)."""
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
                pairs.append((intern(key.decode()), val, v.isdigit()))
            ex = tuple(pairs[:3]) if pairs else None
        extras.append(ex)
    del data
    return uids, names, stats, levels, extras


def main():
    ap = argparse.ArgumentParser(description='python-roster for roster bench')
    ap.add_argument('--file', required=True, help='canonical TSV (roster gen)')
    ap.add_argument('--module-dir', help='directory of the built module')
    ap.add_argument('--rounds', type=int, default=10, help='churn rounds (10)')
    ap.add_argument('--seed', type=int, default=1, help='PRNG seed (1)')
    ap.add_argument('--no-gc', action='store_true',
                    help='disable the garbage collector in the timed phases')
    args = ap.parse_args()
    if args.rounds < 0:
        die('--rounds must be >= 0')
    if args.module_dir:
        sys.path.insert(0, args.module_dir)
    try:
        import roster
    except ImportError as e:
        die('cannot import roster: {} (build it: cmake --build BUILD '
            '--target roster_python)'.format(e))

    # ---- input, and every harness array, before RSS0 --------------------
    try:
        uids_b, names_b, stats, levels, extras = read_tsv(args.file)
    except (IOError, OSError, ValueError) as e:
        die('{}: {}'.format(args.file, e))
    n = len(uids_b)
    if n == 0:
        die('{}: no players'.format(args.file))
    # The same draws, in the same order, as python_players.py.
    rng = random.Random(args.seed)
    perm = list(range(n))
    rng.shuffle(perm)
    uid_keys = [uids_b[i].decode('utf-8') for i in perm]
    name_keys = [names_b[i].decode('utf-8') for i in perm]
    upd_vals = [i % 100 + 1 for i in perm]
    attr_idx, attr_key, attr_val = [], [], []
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
    hs = [None] * n           # the harness's handles (filled after RSS1)
    gc.collect()
    if hasattr(gc, 'freeze'):
        gc.freeze()
    trimmed = trim_heap()
    if args.no_gc:
        gc.disable()

    def load(P):
        for ub, nb, s, lv, ex in zip(uids_b, names_b, stats, levels, extras):
            p = P(ub.decode('utf-8'), nb.decode('utf-8'), s, lv)
            if ex is not None:
                for key, raw, isnum in ex:
                    setattr(p, key, int(raw) if isnum else raw.decode('utf-8'))

    # ---- 1. load --------------------------------------------------------
    rss0, file0 = statm()
    st = roster.Store()
    P = roster.declare(st, PLAYER)
    t0 = now_ns()
    load(P)
    insert_ns = (now_ns() - t0) / n
    rss1, file1 = statm()
    p = None
    mem = st.memory()
    if len(P) != n:
        die('{} records for {} rows (duplicate uid or name?)'
            .format(len(P), n))

    # ---- checksum, read back in uid order; the held proxies -------------
    t0 = now_ns()
    hs[:] = P.get_many([u.decode('utf-8') for u in uids_b])
    total = 0
    extras_held = 0
    for ub, q in zip(uids_b, hs):
        if q is None:
            die('uid {!r} not found after the load'.format(ub))
        held = 0
        for key in EXTRA_KEYS:
            if getattr(q, key, None) is not None:
                held += 1
        extras_held += held
        total += (fnv1a64(q.uid.encode('utf-8')) ^
                  fnv1a64(q.name.encode('utf-8'))) + q.stat + q.level + held
    csum = total & MASK64
    q = None
    checksum_s = (now_ns() - t0) / 1e9

    # ---- 2. get by uid, 3. get by name ----------------------------------
    acc = 0
    t0 = now_ns()
    for key in uid_keys:
        acc += P[key].level
    get_uid_ns = (now_ns() - t0) / n
    t0 = now_ns()
    for key in name_keys:
        acc += P.find(name=key).level
    get_name_ns = (now_ns() - t0) / n

    # ---- 4. update level through the handle ------------------------------
    t0 = now_ns()
    for i, v in zip(perm, upd_vals):
        hs[i].level = v
    update_ns = (now_ns() - t0) / n
    t0 = now_ns()
    for i in perm:
        acc += hs[i].level
    held_get_ns = (now_ns() - t0) / n

    # ---- 5. scan stat == 1 and level >= 50 -------------------------------
    t0 = now_ns()
    matched = P.where(stat=1, level__ge=50).count()
    scan_ns = (now_ns() - t0) / n
    t0 = now_ns()
    matched_iter = 0
    for _ in P.where(stat=1, level__ge=50):
        matched_iter += 1
    scan_iter_ns = (now_ns() - t0) / n
    if matched_iter != matched:
        die('count() says {}, iteration {}'.format(matched, matched_iter))

    # ---- 6. dynamic attributes -------------------------------------------
    attr_get_ns = attr_set_ns = None
    if attr_idx:
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
            p.remove()
            freed[j] = i
        for j in range(k):
            nid += 1
            uid = '%07d' % nid
            hs[freed[j]] = P(uid, 'p' + uid, 1, 1)
    elapsed = now_ns() - t0
    p = None
    churn_ns = elapsed / (2 * k * rounds) if k * rounds else None
    rss_after, file_after = statm()
    churn_growth = (rss_after - rss_before) / n
    if len(P) != n:
        die('churn left {} players for {}'.format(len(P), n))

    # ---- the load again, its indexes sized first (not a protocol phase) --
    # Player.reserve(n) before the same loop, into a second store while
    # the first stays, so it takes fresh memory as the first load did.
    st2 = roster.Store()
    P2 = roster.declare(st2, PLAYER)
    t0 = now_ns()
    P2.reserve(n)
    load(P2)
    insert_reserved_ns = (now_ns() - t0) / n
    if len(P2) != n:
        die('the reserved load holds {} players for {}'.format(len(P2), n))
    del P2, st2
    if args.no_gc:
        gc.enable()

    def r(x, d=1):
        return None if x is None else round(x, d)

    out = {
        'name': 'python-roster',
        'players': n,
        'bytes_per_player': r((rss1 - rss0) / n, 2),
        'insert_ns': r(insert_ns),
        'insert_reserved_ns': r(insert_reserved_ns),
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
        'accounted_bytes_per_player': r(mem['total'] / n, 2),
        'anon_bytes_per_player': r(((rss1 - file1) - (rss0 - file0)) / n, 2),
        'churn_anon_growth_bytes_per_player': r(
            ((rss_after - file_after) - (rss_before - file_before)) / n, 2),
        'held_get_ns': r(held_get_ns),
        'scan_iter_ns': r(scan_iter_ns),
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
        'module': roster.__file__,
    }
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write('python_roster: interrupted\n')
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as e:  # any error: stderr, non-zero exit
        sys.stderr.write('python_roster: {}: {}\n'.format(type(e).__name__, e))
        sys.exit(1)
