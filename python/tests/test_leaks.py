"""No leak over 1,000,000 proxy creations.  A release build has no
sys.gettotalrefcount, so the test measures what a leak would show:
tracemalloc's count of Python allocations, the process's RSS, the
class's reference count, and the store's own accounting."""
import gc
import os
import sys
import tracemalloc

import roster

N = 1_000_000


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def churn_proxies(Player, uids, n):
    k = len(uids)
    for i in range(n):
        p = Player[uids[i % k]]
        p.level
        p.x
        if i % 7 == 0:
            p.__dict__["x"]
            p.level = i % 100
        if i % 101 == 0:
            repr(p)
            dir(p)
            p.update(stat=1)
            sys.getsizeof(p)
            Player.get_many(uids[:3])
            for q in Player.where(uid=uids[0]):
                q.name
        if i % 997 == 0:
            try:
                p.nope
            except AttributeError:
                pass


def test_no_leak_over_a_million_proxies():
    st = roster.Store()
    Player = roster.declare(st, "Player { uid: str(16) key; name: str(32) "
                                "unique; stat: u8 = 0; level: u16 = 0 } "
                                "dynamic")
    uids = [f"{i:07d}" for i in range(1000)]
    for u in uids:
        Player(u, "n" + u, x=1)
    churn_proxies(Player, uids, 20_000)  # warm caches and free lists
    gc.collect()
    refs = sys.getrefcount(Player)
    acct = st.memory()["total"]
    rss0 = rss_bytes()
    tracemalloc.start()
    t0, _ = tracemalloc.get_traced_memory()
    churn_proxies(Player, uids, N)
    gc.collect()
    t1, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = rss_bytes()
    assert sys.getrefcount(Player) == refs
    assert st.memory()["total"] == acct
    # A leaked 32-byte proxy each time would be 32 MB; allow noise.
    assert t1 - t0 < 64 * 1024, (t0, t1)
    if not os.environ.get("ROSTER_PY_SANITIZED"):
        # Under ASan freed blocks wait in its quarantine (256 MB), so RSS
        # grows whatever the module does; tracemalloc still counts.
        assert rss1 - rss0 < 4 * 1024 * 1024, (rss0, rss1)
