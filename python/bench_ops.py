#!/usr/bin/python3
"""bench_ops.py: one operation of the module at a time, for profiling and
for before/after comparisons of the module's paths (not the bench
protocol: `roster bench` is that).

    /usr/bin/python3 python/bench_ops.py --module-dir build-pb/python \\
        --op held_get [--kind roster|slots|plain] [--n 1000000] [--reps 3]

Builds N players (uid '%07d', name 'n%07d', stat i % 2, level i % 100, a
tenth of them with x bound; or, with --file PLAYERS.tsv, the canonical
players of `roster gen`, x bound on those with extras) of one kind:
`roster` (the README's canonical dynamic Player), `slots` (a __slots__
class with uid and name dicts) or `plain` (a plain class, the same dicts);
or, for --op insert alone, `loop`: the load's loop with no store, its two
decodes and a call of a C function that makes one object and ignores its
arguments (itertools.chain), no extras bound: what every kind's insert
pays before its own work.  It then times OP over all of them in a seeded
random order, REPS times, and prints one JSON line: ns per
operation, the best and the median of the reps.

Ops:
  insert     the load itself (the class called with uid, name, stat,
             level; x bound with setattr on a tenth), timed once per rep
             into a fresh store or fresh dicts
  get_uid    Player[uid].level (slots/plain: by_uid[uid].level)
  get_name   Player.find(name=...).level (by_name[name].level)
  held_get   p.level on held proxies / objects, random order
  held_set   p.level = v on held proxies / objects, random order
  hot_get    p.level on one object, N times
  attr_get   p.x on the tenth that bound it (held, random order)
  attr_set   p.vip = v on those (the first rep binds, the others rebind)
  scan       stat == 1 and level >= 50: roster counts in C
             (where().count()), the others loop in Python
  none       nothing: the set-up alone (callgrind's baseline)

Under callgrind, each timed loop is marked: os.getppid() just before it
and os.getpgrp() just after, so

    valgrind --tool=callgrind --zero-before=getppid --dump-before=getpgrp \
        /usr/bin/python3 python/bench_ops.py --op held_get --n 100000 \
        --reps 1 ...

dumps the loop's instructions alone (callgrind.out.PID.1), whatever the
set-up did; divided by N (by the players with x, for attr_*) it is the
instructions an operation takes, the loop's own bytecode included.
"""
import argparse
import gc
import json
import os
import random
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--module-dir')
    ap.add_argument('--op', required=True)
    ap.add_argument('--kind', default='roster',
                    choices=('roster', 'slots', 'plain', 'loop'))
    ap.add_argument('--n', type=int, default=1000000)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--file', help='canonical players (roster gen)')
    a = ap.parse_args()
    if a.kind == 'loop' and a.op != 'insert':
        ap.error('--kind loop times --op insert only')
    if a.module_dir:
        sys.path.insert(0, a.module_dir)
    if a.file:
        rows = []
        with open(a.file, 'rb') as f:
            for line in f:
                col = line.rstrip(b'\n').split(b'\t')
                rows.append((col[0], col[1], int(col[2]), int(col[3]),
                             len(col) > 4 and col[4] != b''))
                if len(rows) == a.n:
                    break
        n = len(rows)
        ub = [r[0] for r in rows]
        nb = [r[1] for r in rows]
        stats = [r[2] for r in rows]
        levels = [r[3] for r in rows]
        has_x = [r[4] for r in rows]
        del rows
    else:
        n = a.n
        ub = [b'%07d' % i for i in range(n)]
        nb = [b'n%07d' % i for i in range(n)]
        stats = [i & 1 for i in range(n)]
        levels = [i % 100 for i in range(n)]
        has_x = [i % 10 == 3 for i in range(n)]
    rng = random.Random(a.seed)
    perm = list(range(n))
    rng.shuffle(perm)
    uids = [u.decode() for u in ub]
    with_x = [i for i in perm if has_x[i]]
    # lookup keys as their own str objects, in lookup order
    uid_keys = [ub[i].decode() for i in perm]
    name_keys = [nb[i].decode() for i in perm]

    if a.kind == 'loop':
        import itertools

        def fresh():
            # A C callable that takes the four values and makes one new
            # object without looking at them, as Player(...) makes a proxy.
            return None, itertools.chain, None, None
    elif a.kind == 'roster':
        import roster

        def fresh():
            st = roster.Store()
            P = roster.declare(
                st, 'Player { uid: str(16) key inline(4); name: str(32) '
                'unique inline(12); stat: u8 = 0; level: u16 = 0 } dynamic')
            return st, P, None, None
    else:
        class Plain:
            def __init__(self, uid, name, stat=0, level=0):
                self.uid = uid
                self.name = name
                self.stat = stat
                self.level = level

        class Slots:
            __slots__ = ('uid', 'name', 'stat', 'level')

            def __init__(self, uid, name, stat=0, level=0):
                self.uid = uid
                self.name = name
                self.stat = stat
                self.level = level

        def fresh():
            return None, (Plain if a.kind == 'plain' else Slots), {}, {}

    # The load decodes uid and name inside the loop, as the bench
    # protocol's does: the str objects are the player's own (slots, plain)
    # or the arguments of the insert (roster).
    def load(P, du, dn):
        if du is None:
            for i, u, nm, s, lv, x in zip(range(n), ub, nb, stats, levels,
                                          has_x):
                p = P(u.decode(), nm.decode(), s, lv)
                if x and a.kind == 'roster':
                    p.x = i
        else:
            dyn = a.kind == 'plain'
            for i, u, nm, s, lv, x in zip(range(n), ub, nb, stats, levels,
                                          has_x):
                u = u.decode()
                nm = nm.decode()
                p = P(u, nm, s, lv)
                if dyn and x:
                    p.x = i
                du[u] = p
                dn[nm] = p

    gc.collect()
    gc.freeze()
    st, P, du, dn = fresh()
    times = []
    if a.op == 'insert':
        for _ in range(a.reps):
            st, P, du, dn = fresh()
            os.getppid()  # callgrind: --zero-before=getppid
            t0 = time.perf_counter_ns()
            load(P, du, dn)
            times.append((time.perf_counter_ns() - t0) / n)
            os.getpgrp()  # callgrind: --dump-before=getpgrp
    else:
        load(P, du, dn)
        if du is None:
            hs = P.get_many(uids)
        else:
            hs = [du[u] for u in uids]
        work = with_x if a.op.startswith('attr_') else perm
        if a.op == 'attr_set' and a.kind == 'slots':
            work = []
        count = len(work) or 1
        for r in range(a.reps):
            acc = 0
            os.getppid()  # callgrind: --zero-before=getppid
            t0 = time.perf_counter_ns()
            if a.op == 'none':
                pass
            elif a.op == 'get_uid':
                if du is None:
                    for k in uid_keys:
                        acc += P[k].level
                else:
                    for k in uid_keys:
                        acc += du[k].level
            elif a.op == 'get_name':
                if du is None:
                    for k in name_keys:
                        acc += P.find(name=k).level
                else:
                    for k in name_keys:
                        acc += dn[k].level
            elif a.op == 'held_get':
                for i in perm:
                    acc += hs[i].level
            elif a.op == 'held_set':
                for i in perm:
                    hs[i].level = i % 100 + r
            elif a.op == 'hot_get':
                p = hs[0]
                for _ in perm:
                    acc += p.level
            elif a.op == 'attr_get':
                if a.kind != 'slots':
                    for i in with_x:
                        acc += hs[i].x
            elif a.op == 'attr_set':
                for i in work:
                    hs[i].vip = r
            elif a.op == 'scan':
                if du is None:
                    acc = P.where(stat=1, level__ge=50).count()
                else:
                    for p in hs:
                        if p.stat == 1 and p.level >= 50:
                            acc += 1
            else:
                sys.exit('bench_ops: unknown op ' + a.op)
            times.append((time.perf_counter_ns() - t0) / count)
            os.getpgrp()  # callgrind: --dump-before=getpgrp
    times.sort()
    print(json.dumps({'kind': a.kind, 'op': a.op, 'n': n,
                      'count': n if a.op == 'insert' else count,
                      'best_ns': round(times[0], 1),
                      'median_ns': round(times[len(times) // 2], 1),
                      'reps': a.reps,
                      'module': sys.modules['roster'].__file__
                      if 'roster' in sys.modules else None}))


if __name__ == '__main__':
    main()
