"""Lookups, batch calls, scans, update, groups, persistence, memory,
equality, repr: everything past the classic session."""
import gc
import os

import pytest

import roster


def fill(Player, n):
    for i in range(n):
        Player(f"{i:05d}", f"n{i}", stat=i % 4, level=i % 100)


def test_get_subscript_find_in_len(players):
    Player, _ = players
    fill(Player, 50)
    assert len(Player) == 50
    assert Player["00007"].name == "n7"
    assert Player.get("00007") == Player["00007"]
    assert Player.get("nope") is None
    assert Player.get("nope", 1) == 1
    assert Player.find(name="n9").uid == "00009"
    assert Player.find(name="zz") is None
    assert Player.find(uid="00003").name == "n3"
    assert "00003" in Player and "zz" not in Player and 3 not in Player
    p = Player["00003"]
    assert p in Player
    p.remove()
    assert p not in Player and len(Player) == 49
    with pytest.raises(KeyError):
        Player["00003"]
    with pytest.raises(ValueError, match="not a key or unique field"):
        Player.find(stat=1)
    with pytest.raises(TypeError):
        Player.find(name="a", uid="b")
    with pytest.raises(KeyError):
        del Player["00003"]


def test_integer_key(store):
    C = roster.declare(store, "C { id: u32 key; v: i64 = -1 }")
    C(7)
    C(id=8, v=2)
    assert C[7].v == -1 and C[8].v == 2 and C.get(9) is None
    assert [x and x.id for x in C.get_many([8, 9, 7])] == [8, None, 7]


def test_iteration_and_where(players):
    Player, _ = players
    fill(Player, 300)
    assert sorted(p.uid for p in Player) == [f"{i:05d}" for i in range(300)]
    want = sorted(f"{i:05d}" for i in range(300) if i % 4 == 1 and i % 100 >= 50)
    got = sorted(p.uid for p in Player.where(Player.level >= 50, stat=1))
    assert got == want
    assert Player.where(level__ge=50, stat=1).count() == len(want)
    assert Player.where(Player.stat == 1, Player.level >= 50).count() == len(want)
    assert Player.where(name__startswith="n1").count() == 111
    assert Player.where(Player.name.startswith("n29")).count() == 11
    assert Player.where(level__lt=10, level__gt=5).count() == 12
    assert Player.where(stat__ne=0).count() == 225
    assert Player.where(nothing_bound=1).count() == 0
    assert list(Player.where(nothing_bound=1)) == []
    assert Player.where(uid="00042").first().name == "n42"
    assert Player.where(uid="x").first() is None
    with pytest.raises(TypeError):
        bool(Player.level >= 1)
    with pytest.raises(TypeError):
        Player.where(level="x")


def test_iteration_under_writes(players):
    """Every record present from start to end is returned once; none
    twice; every record returned is live."""
    Player, _ = players
    fill(Player, 1000)
    seen = []
    for i, p in enumerate(Player):
        seen.append(p.uid)
        if i % 3 == 0:
            # remove a record further on, insert a new one
            victim = Player.get(f"{999 - i:05d}")
            if victim is not None and victim != p:
                victim.remove()
            Player(f"new{i:05d}", f"m{i}")
    assert len(seen) == len(set(seen))
    kept = {f"{i:05d}" for i in range(1000)} - {
        f"{999 - i:05d}" for i in range(0, 1000, 3)}
    assert kept <= set(seen)


def test_dynamic_where(players):
    Player, _ = players
    fill(Player, 20)
    Player["00001"].vip = 3
    Player["00002"].vip = 5
    Player["00003"].vip = "gold"
    assert sorted(p.uid for p in Player.where(vip__ge=4)) == ["00002"]
    assert Player.where(vip="gold").count() == 1


def test_get_many(players):
    Player, _ = players
    fill(Player, 10)
    got = Player.get_many(["00001", "zz", "00009"])
    assert [p and p.name for p in got] == ["n1", None, "n9"]
    got = Player.get_many(["n4", "n5", "q"], field="name")
    assert [p and p.uid for p in got] == ["00004", "00005", None]
    assert Player.get_many([]) == []
    assert Player.get_many(iter(["00002"]))[0].name == "n2"


def test_insert_many_all_or_none(players):
    Player, _ = players
    assert Player.insert_many([("1", "a"), {"uid": "2", "name": "b"}]) == 2
    with pytest.raises(roster.DuplicateError):
        Player.insert_many([("3", "c"), ("4", "a")])
    assert len(Player) == 2 and Player.get("3") is None
    with pytest.raises(TypeError):
        Player.insert_many([["5", "e"]])
    assert len(Player) == 2


def test_reserve(players, store):
    Player, _ = players
    before = store.memory()["indexes"]
    assert Player.reserve(20000) is None
    grown = store.memory()["indexes"]
    assert grown > before
    Player.reserve(100)  # room already there: nothing changes
    assert store.memory()["indexes"] == grown
    assert Player.insert_many(("%05d" % i, "n%d" % i) for i in range(5000)) == 5000
    assert Player.find(name="n4321").uid == "04321"
    with pytest.raises(ValueError, match="0 or more, not -1"):
        Player.reserve(-1)
    with pytest.raises(TypeError):
        Player.reserve("10")
    with pytest.raises(ValueError, match="more than class 'Player' can hold"):
        Player.reserve(2 ** 40)
    with pytest.raises(OverflowError):
        Player.reserve(2 ** 80)
    assert len(Player) == 5000


def test_insert_many_sized_from_its_length(players, store):
    Player, _ = players
    before = store.memory()["indexes"]
    rows = [("%05d" % i, "n%d" % i) for i in range(20000)]
    assert Player.insert_many(rows[:1]) == 1
    assert store.memory()["indexes"] == before  # one row: room there
    seen = []

    def rows_noting_memory():
        seen.append(store.memory()["indexes"])
        yield from rows[1:]

    # A list is sized first; a generator's rows are counted as they come.
    assert Player.insert_many(rows_noting_memory()) == 19999
    assert seen[0] == before
    # Inside a group the reserve is refused, which is no reason to fail.
    with store.group():
        assert Player.insert_many([("x1", "y1"), ("x2", "y2")]) == 2
    assert Player.get("x2").name == "y2"
    with pytest.raises(ValueError, match="not inside a group"):
        with store.group():
            Player.reserve(100000)

    class Lying:
        """A __len__ that raises, and one that lies: neither is asked."""

        def __len__(self):
            raise ValueError("no length")

        def __iter__(self):
            return iter([("l1", "m1"), ("l1", "m2")])

    grown = store.memory()["indexes"]
    with pytest.raises(roster.DuplicateError):
        Player.insert_many(Lying())
    # No reserve: the one insert the rollback undoes may have grown a
    # segment of each index (kept as free space, as a group's growth is),
    # at most one segment's rebuild (a few dozen KB), where a reserve for
    # any length would have laid out every segment anew.
    assert store.memory()["indexes"] - grown < 65536
    assert Player.get("l1") is None
    assert Player.get("19999").name == "n19999"


def test_update_all_or_none(players):
    Player, _ = players
    fill(Player, 3)
    p = Player["00001"]
    p.update(level=9, stat=2, guild="x")
    assert (p.level, p.stat, p.guild) == (9, 2, "x")
    with pytest.raises(OverflowError):
        p.update(level=10, stat=300)
    assert (p.level, p.stat) == (9, 2)
    with pytest.raises(roster.DuplicateError):
        p.update(level=11, name="n2")
    assert (p.level, p.name) == (9, "n1")
    p.update({"level": 12})
    assert p.level == 12
    p.__dict__.update(level=13, vip=1)
    assert p.level == 13 and p.vip == 1


def test_dict_update_refuses_two_mappings(players):
    # As dict.update: never a silent no-op for a second mapping.
    Player, _ = players
    p = Player("1", "a")
    for update in (p.update, p.__dict__.update):
        with pytest.raises(TypeError):
            update({"level": 1}, {"stat": 2})
        assert (p.level, p.stat) == (0, 0)


def test_update_takes_what_dict_update_takes(players):
    # A mapping or an iterable of pairs, then keywords; else dict.update's
    # own errors, not "'int' object has no attribute 'keys'".
    Player, _ = players
    p = Player("1", "a")
    p.update([("level", 3), ("stat", 1)], vip=2)
    assert (p.level, p.stat, p.vip) == (3, 1, 2)
    p.__dict__.update((("level", 4),), stat=2)
    assert (p.level, p.stat) == (4, 2)
    p.update(zip(["level"], [5]))
    assert p.level == 5
    for update in (p.update, p.__dict__.update):
        with pytest.raises(TypeError) as ei:
            update(5)
        assert str(ei.value) == "'int' object is not iterable"
        with pytest.raises(TypeError):
            update([1])
        with pytest.raises(ValueError):
            update([("level", 1, 2)])
        assert p.level == 5


def test_group(store, players):
    Player, _ = players
    with store.group():
        Player("1", "a")
        Player("2", "b")
    assert len(Player) == 2
    with pytest.raises(ZeroDivisionError):
        with store.group():
            Player("3", "c")
            Player["1"].level = 5
            1 / 0
    assert len(Player) == 2 and Player["1"].level == 0
    with pytest.raises(roster.DuplicateError):
        with store.group():
            Player("4", "d")
            Player("5", "a")
    assert len(Player) == 2 and Player.get("4") is None
    g = store.group()
    with g:
        with pytest.raises(roster.GroupError):
            with store.group():
                pass


def test_insert_many_rows_cannot_end_the_group_around_it(store, players):
    """insert_many() inside `with store.group():` inserts in that group; its
    rows' code may not end the group part way, or the rest of the rows
    would go in outside it, no longer all or none."""
    Player, _ = players
    g = store.group()
    refused = []

    def rows():
        yield ("1", "a")
        try:
            g.__exit__(None, None, None)
        except roster.GroupError as e:
            refused.append(str(e))
        yield ("2", "b")
        yield ("3", "a")  # a duplicate name: the whole group rolls back

    with pytest.raises(roster.DuplicateError):
        with g:
            Player.insert_many(rows())
    assert refused and "insert_many()" in refused[0]
    assert len(Player) == 0
    # The same group object abandoned by the rows' code lives on until
    # insert_many() is done with it.
    def dropping():
        nonlocal g2
        yield ("4", "d")
        g2 = None
        yield ("5", "e")

    g2 = store.group()
    g2.__enter__()
    assert Player.insert_many(dropping()) == 2
    # Dropped while open, the group aborts, as any abandoned group does.
    assert len(Player) == 0
    with store.group():
        Player("6", "f")
    assert len(Player) == 1


def test_save_load_durable(tmp_path, store, players):
    Player, Player2 = players
    fill(Player, 100)
    Player["00001"].x = 5
    info = store.save(tmp_path / "a.snap")
    assert info["records"] == 100 and info["bytes"] > 0
    st2 = roster.Store()
    info = st2.load(str(tmp_path / "a.snap"))
    assert info["records"] == 100
    P = st2["Player"]
    assert P.__name__ == "Player" and len(P) == 100
    assert P["00001"].x == 5 and P["00042"].level == 42
    assert set(st2.classes) == {"Player", "Player2"}
    with pytest.raises(KeyError):
        st2["Nope"]
    with pytest.raises(OSError):
        st2.load(tmp_path / "missing.snap")
    (tmp_path / "bad.snap").write_bytes(b"not a snapshot at all" * 10)
    with pytest.raises(roster.FormatError):
        roster.Store().load(tmp_path / "bad.snap")

    base = str(tmp_path / "d")
    st3 = roster.Store()
    D = roster.declare(st3, "D { k: u32 key; v: str(8) = \"\" } dynamic")
    st3.durable(base, sync="never")
    D(1, "a")
    D(2, "b").z = 1
    with st3.group():
        D(3)
        D[1].v = "c"
    del st3, D
    gc.collect()  # a class and its store are freed by the collector
    st4 = roster.Store()
    info = st4.durable(base, sync="always")
    D = st4["D"]
    assert sorted((d.k, d.v) for d in D) == [(1, "c"), (2, "b"), (3, "")]
    assert D[2].z == 1
    with pytest.raises(ValueError):
        st4.durable(base, sync="sometimes")


def test_redeclare_binds_or_refuses(store):
    A = roster.declare(store, "A { k: u32 key }")
    A(1)
    B = roster.declare(store, "A { k: u32 key }")
    assert B[1].k == 1
    with pytest.raises(roster.DuplicateError, match="already declared"):
        roster.declare(store, "A { k: u64 key }")


def test_memory_report(store, players):
    Player, _ = players
    fill(Player, 1000)
    m = store.memory()
    assert set(m) >= {"records", "strings", "indexes", "attrs", "free",
                      "meta", "total", "peak", "n_records"}
    assert m["n_records"] == 1000
    assert sum(m[k] for k in ("records", "strings", "indexes", "attrs",
                              "free", "meta")) == m["total"]


def test_equality_hash_repr(players):
    Player, Player2 = players
    p = Player("1", "a", x=1)
    q = Player["1"]
    assert p == q and not (p != q) and hash(p) == hash(q) and p is not q
    assert len({p, q}) == 1
    r = Player("2", "b")
    assert p != r
    assert p != 1
    assert repr(p) == "Player(uid='1', name='a', stat=0, level=0, x=1)"
    p2 = Player2("1", "a")
    assert p != p2
    p.remove()
    assert repr(p).startswith("<Player: stale handle 0x")


def test_class_body_types_and_defaults(store):
    class T(roster.Record, store=store):
        k: roster.u64(key=True)
        a: roster.i8 = -5
        b: roster.f32 = 1.5
        c: roster.bool = True
        d: int = 7
        e: float
        f: bool
        s: roster.str(4, unique=True, inline=4) = "ab"
    t = T(2 ** 64 - 1)
    assert (t.k, t.a, t.b, t.c, t.d, t.e, t.f, t.s) == (
        2 ** 64 - 1, -5, 1.5, True, 7, 0.0, False, "ab")
    assert T.__fields__ == ("k", "a", "b", "c", "d", "e", "f", "s")
    assert "k: u64 key" in T.__text__
    assert T.__store__ is store
    assert T.__name__ == "T" and T.__qualname__.endswith("T")
    assert repr(roster.str(16, key=True)) == "roster.str(16, key=True)"
    assert repr(roster.u8) == "roster.u8"


def test_declaration_errors(store):
    with pytest.raises(TypeError, match="needs its maximum length"):
        class A(roster.Record, store=store):
            k: roster.str(key=True)
    with pytest.raises(TypeError, match="annotation is a roster type"):
        class B(roster.Record, store=store):
            k: list
    with pytest.raises(ValueError):
        class C(roster.Record, store=store):
            k: roster.u8
    with pytest.raises(TypeError, match="store"):
        class D(roster.Record):
            k: roster.u8(key=True)
    with pytest.raises(ValueError, match="syntax|expected"):
        roster.declare(store, "E { k: u8 key")
    P = roster.declare(store, "P { k: u8 key }")
    with pytest.raises(TypeError, match="subclassed"):
        class Q(P):
            pass
    with pytest.raises(TypeError):
        roster.Record()
    with pytest.raises(OverflowError):
        class F(roster.Record, store=store):
            k: roster.u8(key=True)
            v: roster.u8 = 300
    # __slots__ in the body is refused, not silently replaced by the
    # annotations' fields (or dropped on a dynamic class).
    for dyn in (False, True):
        with pytest.raises(TypeError, match="not __slots__"):
            class G(roster.Record, store=store, dynamic=dyn):
                __slots__ = ('k', 'v')
                k: roster.u8(key=True)
    with pytest.raises(TypeError, match="not __slots__"):
        class H(roster.Record, store=store):
            __slots__ = ('k',)
    assert 'G' not in store.classes and 'H' not in store.classes


def test_a_class_is_true_whatever_it_holds(store):
    # bool() of a class must not fall back on len(): an empty class, the
    # base roster.Record and a class of a closed store are all true, and
    # help(roster) (pydoc tests `if cls:`) works.
    import pydoc
    Player = store.declare("Player { uid: str(16) key }")
    assert len(Player) == 0 and bool(Player) is True
    assert bool(roster.Record) is True
    assert "class Record" in pydoc.plain(pydoc.render_doc(roster))
    store.close()
    assert bool(Player) is True


def test_a_query_sees_attributes_bound_after_it_was_made(players):
    # A query is kept and run again: one made before any record bound its
    # attribute matches the records that bind it later.
    Player, _ = players
    fill(Player, 5)
    q = Player.where(vip__ge=4)
    q2 = Player.where(Player.level >= 0, vip=5)
    assert q.count() == 0 and list(q) == [] and q.first() is None
    Player["00002"].vip = 5
    assert [p.uid for p in q] == ["00002"]
    assert q.count() == 1 and q2.count() == 1
    assert q.first() == Player["00002"]
    del Player["00002"].vip
    assert q.count() == 0 and list(q2) == []


@pytest.mark.parametrize("kw", ["level__gte", "level__", "vip__gte"])
def test_where_unknown_operator(players, kw):
    # A misspelt operator on a field or a bound attribute is an error, not
    # a condition on an attribute no record has, which matches nothing.
    Player, Player2 = players
    fill(Player, 3)
    Player["00001"].vip = 1
    for cls in (Player, Player2) if kw.startswith("level") else (Player,):
        with pytest.raises(TypeError) as ei:
            cls.where(**{kw: 1})
        op = kw.split("__")[1]
        assert str(ei.value) == (
            f"{cls.__name__}.where(): unknown operator '{op}' in {kw!r} "
            "(eq, ne, lt, le, gt, ge, startswith, prefix)")
    # An attribute whose name has __ in it is still a name.
    Player["00002"].a__b = 3
    assert Player.where(a__b=3).count() == 1
    assert Player.where(a__b__ge=3).count() == 1
    assert Player.where(nobody__gte=1).count() == 0


def test_get_default_by_keyword(players):
    # get(key, default=None), as the stubs and the README write it.
    Player, _ = players
    fill(Player, 2)
    assert Player.get("nope", default=7) == 7
    assert Player.get("00001", default=7) == Player["00001"]
    assert Player["00001"].get("nope", default=8) == 8
    assert type(Player).get(Player, "nope", default=9) == 9
    for bad in ({"dflt": 1}, {"default": 1, "x": 2}):
        with pytest.raises(TypeError) as ei:
            Player.get("nope", **bad)
        assert str(ei.value) == ("Player.get(key, default=None): one key, "
                                 "and a default by position or as default=")
    with pytest.raises(TypeError):
        Player.get("nope", 1, default=2)
    with pytest.raises(TypeError):
        Player.get(default=2)
