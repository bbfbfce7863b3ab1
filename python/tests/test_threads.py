"""Threads (the GIL build): the module never releases the GIL inside the
library, so threads sharing one store take turns; each thread's changes
are all there at the end and the indexes agree with the records."""
import threading

import roster


def test_threads_share_a_store():
    st = roster.Store()
    Player = roster.declare(st, "Player { uid: str(16) key; name: str(32) "
                                "unique; stat: u8 = 0; level: u16 = 0 } "
                                "dynamic")
    n_threads, per = 8, 2000
    errors = []

    def work(t):
        try:
            for i in range(per):
                uid = f"{t}-{i}"
                p = Player(uid, "n" + uid, level=i % 100)
                p.x = i
                if i % 3 == 0:
                    del Player[uid]
                else:
                    assert Player[uid].x == i
                    Player.find(name="n" + uid).level += 1
                if i % 500 == 0:
                    sum(1 for _ in Player.where(level__ge=50))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,))
               for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    want = {f"{t}-{i}" for t in range(n_threads) for i in range(per)
            if i % 3 != 0}
    assert {p.uid for p in Player} == want
    for uid in want:
        p = Player[uid]
        i = int(uid.split("-")[1])
        assert (p.level, p.x) == (i % 100 + 1, i)
        assert Player.find(name="n" + uid) == p
