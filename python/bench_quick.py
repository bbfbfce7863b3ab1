#!/usr/bin/python3
"""A quick look at the issue's targets, not the bench protocol: load the
canonical players into roster (dynamic Player, extras bound) or into a
__slots__ class with uid and name dicts, in a fresh process each, and
print bytes a player by RSS and ns per operation.

    PYTHONPATH=build-py/python /usr/bin/python3 python/bench_quick.py \\
        --kind roster|slots --file build/players-1000000.tsv
"""
import argparse
import gc
import json
import random
import sys
import time


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=("roster", "slots"), required=True)
    ap.add_argument("--file", required=True)
    a = ap.parse_args()
    rows = []
    with open(a.file, "rb") as f:
        for line in f:
            uid, name, stat, level, extras = line.rstrip(b"\n").split(b"\t")
            ex = []
            if extras:
                for kv in extras.split(b";"):
                    k, v = kv.split(b"=", 1)
                    ex.append((k.decode(), v.decode()))
            rows.append((uid, name, int(stat), int(level), ex))
    n = len(rows)
    rng = random.Random(1)
    order = list(range(n))
    rng.shuffle(order)
    keys = [rows[i][0].decode() for i in order]
    names = [rows[i][1].decode() for i in order]
    gc.collect()
    gc.freeze()
    r0 = rss()
    t = time.perf_counter_ns()
    if a.kind == "roster":
        import roster
        st = roster.Store()
        P = roster.declare(st, "Player { uid: str(16) key inline(4); "
                               "name: str(32) unique inline(12); stat: u8 = 0;"
                               " level: u16 = 0 } dynamic")
        for uid, name, stat, level, ex in rows:
            p = P(uid.decode(), name.decode(), stat, level)
            for k, v in ex:
                setattr(p, k, int(v) if k != "guild" else v)
        by_uid = P.__getitem__
        by_name = lambda nm: P.find(name=nm)
    else:
        class Player:
            __slots__ = ("uid", "name", "stat", "level")

            def __init__(self, uid, name, stat, level):
                self.uid, self.name = uid, name
                self.stat, self.level = stat, level
        du, dn = {}, {}
        for uid, name, stat, level, ex in rows:
            p = Player(uid.decode(), name.decode(), stat, level)
            du[p.uid] = p
            dn[p.name] = p
        by_uid = du.__getitem__
        by_name = dn.__getitem__
    insert_ns = (time.perf_counter_ns() - t) / n
    gc.collect()
    r1 = rss()
    out = {"kind": a.kind, "players": n,
           "bytes_per_player": (r1 - r0) / n, "insert_ns": insert_ns}
    t = time.perf_counter_ns()
    s = 0
    for k in keys:
        s += by_uid(k).level
    out["get_uid_level_ns"] = (time.perf_counter_ns() - t) / n
    t = time.perf_counter_ns()
    for k in names:
        s += by_name(k).level
    out["get_name_level_ns"] = (time.perf_counter_ns() - t) / n
    held = [by_uid(k) for k in keys[:100000]]
    t = time.perf_counter_ns()
    for p in held:
        s += p.level
    out["held_get_ns"] = (time.perf_counter_ns() - t) / len(held)
    t = time.perf_counter_ns()
    for p in held:
        p.level = 7
    out["held_set_ns"] = (time.perf_counter_ns() - t) / len(held)
    hot = held[0]
    t = time.perf_counter_ns()
    for _ in range(1000000):
        s += hot.level
    out["hot_get_ns"] = (time.perf_counter_ns() - t) / 1e6
    t = time.perf_counter_ns()
    if a.kind == "roster":
        c = P.where(stat=1, level__ge=50).count()
        out["scan_count_ns"] = (time.perf_counter_ns() - t) / n
        t = time.perf_counter_ns()
        c2 = sum(1 for _ in P.where(stat=1, level__ge=50))
        out["scan_iter_ns"] = (time.perf_counter_ns() - t) / n
        out["store_bytes_per_player"] = st.memory()["total"] / n
    else:
        c = sum(1 for p in du.values() if p.stat == 1 and p.level >= 50)
        out["scan_count_ns"] = (time.perf_counter_ns() - t) / n
        c2 = c
    out["matches"] = [c, c2]
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v
                      for k, v in out.items()}))


if __name__ == "__main__":
    sys.exit(main())
