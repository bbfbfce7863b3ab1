"""Every exception type the module raises, with its message, and bad
input: wrong types, huge ints and strings, NUL, lone surrogates."""
import pytest

import roster


def test_exception_classes():
    assert issubclass(roster.DuplicateError, ValueError)
    assert issubclass(roster.DuplicateError, roster.Error)
    assert issubclass(roster.StaleError, ReferenceError)
    assert issubclass(roster.FormatError, ValueError)
    assert issubclass(roster.GroupError, roster.Error)


@pytest.mark.parametrize("value, exc, msg", [
    (70000, OverflowError, "Player.level: 70000 out of range for u16"),
    (-1, OverflowError, "Player.level: -1 out of range for u16"),
    (2 ** 70, OverflowError,
     "Player.level: 1180591620717411303424 out of range for 64 bits"),
    ("x", TypeError, "Player.level: expected u16, got str"),
    (1.5, TypeError, None),
    (None, TypeError,
     "Player.level: expected bool, int, float or str, got NoneType"),
    ([1], TypeError, "Player.level: expected bool, int, float or str, got list"),
    (b"1", TypeError, None),
])
def test_field_set_errors(players, value, exc, msg):
    Player, _ = players
    p = Player("1", "a")
    with pytest.raises(exc) as ei:
        p.level = value
    if msg is not None:
        assert str(ei.value) == msg
    assert p.level == 0


def test_status_attribute(players):
    Player, _ = players
    p = Player("1", "a")
    with pytest.raises(OverflowError) as ei:
        p.stat = 256
    assert ei.value.status == "RS_ERANGE"
    with pytest.raises(roster.DuplicateError) as ei:
        Player("1", "b")
    assert ei.value.status == "RS_EEXIST"
    assert str(ei.value) == 'Player.uid: duplicate key "1"'


def test_string_limits(players):
    Player, _ = players
    p = Player("1", "a")
    with pytest.raises(ValueError) as ei:
        p.name = "x" * 33
    assert "Player.name" in str(ei.value)
    p.name = "x" * 32
    p.name = "\u00e9" * 16  # 32 bytes in UTF-8
    with pytest.raises(ValueError):
        p.name = "\u00e9" * 17
    huge = "y" * (1 << 20)
    with pytest.raises(ValueError):
        p.name = huge
    p.big = "y" * 65535  # an attribute holds up to 65535 bytes
    assert p.big == "y" * 65535
    with pytest.raises(ValueError):
        p.big = "z" * 65536


def test_attribute_string_limit(players):
    Player, _ = players
    p = Player("1", "a")
    with pytest.raises(ValueError):
        p.big = "z" * (1 << 20)
    p.big = "z" * 1000
    assert p.big == "z" * 1000


def test_nul_and_surrogates(players):
    Player, _ = players
    p = Player("1", "a")
    p.name = "a\0b"
    assert p.name == "a\0b"
    assert Player.find(name="a\0b") == p
    with pytest.raises(UnicodeEncodeError):
        p.name = "\ud800"
    with pytest.raises(UnicodeEncodeError):
        Player("\udcff", "z")
    assert p.name == "a\0b" and len(Player) == 1
    with pytest.raises(AttributeError):
        getattr(p, "a\0b")
    with pytest.raises(AttributeError):
        getattr(p, "\ud800")
    with pytest.raises(AttributeError):
        setattr(p, "a\0b", 1)
    with pytest.raises(AttributeError):
        setattr(p, "\ud800", 1)
    with pytest.raises((ValueError, AttributeError)):
        setattr(p, "not an identifier", 1)
    with pytest.raises(UnicodeEncodeError):
        Player.get("\ud800")


def test_lookups_never_intern(store, players):
    Player, _ = players
    p = Player("1", "a")
    before = store.memory()["n_attr_names"]
    for i in range(1000):
        assert getattr(p, f"never{i}", None) is None
        assert f"never{i}" not in p.__dict__
        assert Player.where(**{f"never{i}": 1}).count() == 0
    assert store.memory()["n_attr_names"] == before


def test_wrong_types_elsewhere(players):
    Player, _ = players
    Player("1", "a")
    with pytest.raises(TypeError):
        Player["1"].update(1, 2)
    with pytest.raises(TypeError):
        Player(1, "b")
    with pytest.raises(TypeError):
        Player("2", "b", "c", "d", "e")
    with pytest.raises(TypeError):
        getattr(Player["1"], 1)
    with pytest.raises(TypeError):
        Player.get()
    with pytest.raises(TypeError):
        roster.declare(1, "X { k: u8 key }")
    with pytest.raises(TypeError):
        roster.declare(Player.__store__, b"X { k: u8 key }")
    with pytest.raises(TypeError):
        Player["1"] = 3
    with pytest.raises(TypeError):
        Player.__store__.save(3.5)


def test_stale_everywhere(players):
    Player, Player2 = players
    p = Player("1", "a", x=1)
    d = p.__dict__
    p.remove()
    for f in (lambda: p.level, lambda: p.x, lambda: setattr(p, "level", 1),
              lambda: setattr(p, "x", 2), lambda: d["x"], lambda: p.remove(),
              lambda: p.update(level=1), lambda: dir(p), lambda: len(d),
              lambda: p.__sizeof__()):
        with pytest.raises(roster.StaleError):
            f()
    # A new record in the same slot does not revive the old proxy.
    q = Player("1", "a")
    assert p != q
    with pytest.raises(roster.StaleError):
        p.level


@pytest.mark.parametrize("kw", ["level\x00x__ge", "level\x00", "level__ge\x00",
                                "\udc80"])
def test_where_keyword_that_is_no_name(players, kw):
    # A NUL in a keyword must not cut the name short to another field's.
    for cls in players:
        cls("1", "a", level=5)
        with pytest.raises(TypeError) as ei:
            cls.where(**{kw: 5})
        assert str(ei.value) == (f"{cls.__name__}.where(): {kw!r} is not a "
                                 "field or attribute name")


def test_in_is_false_for_what_no_key_can_hold(players):
    Player, _ = players
    Player("1", "a")
    assert "\udc80" not in Player and "1\ud800" not in Player
    assert 5 not in Player and None not in Player and 2 ** 70 not in Player
    assert "x" * 1000 not in Player
    assert "1" in Player


@pytest.mark.parametrize("args, kw", [((-1,), {}), ((1 << 24,), {}),
                                      ((16,), {"inline": 16})])
def test_str_type_bounds_message(args, kw):
    with pytest.raises(ValueError) as ei:
        roster.str(*args, **kw)
    n, inl = args[0], kw.get("inline", 0)
    assert str(ei.value) == (f"roster.str({n}, inline={inl}): the length is "
                             "1..16777215 bytes, inline 0 or 4..15")
