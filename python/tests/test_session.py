"""The classic session, line by line (classic_session.txt), and the parts
of it a doctest cannot show: AttributeError's .name and .obj, and the
"Did you mean" a typo gets."""
import doctest
import os
import subprocess
import sys
import traceback

import pytest

import roster


def roster_size(p):
    return p.__sizeof__()


def test_classic_session():
    path = os.path.join(os.path.dirname(__file__), "classic_session.txt")
    failed, tried = doctest.testfile(
        path, module_relative=False, globs={"roster_size": roster_size},
        optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL * 0)
    assert tried > 35
    assert failed == 0


def test_attribute_error_has_name_and_obj(players):
    Player, _ = players
    p = Player("00001", "Tom")
    with pytest.raises(AttributeError) as ei:
        p.x
    assert ei.value.name == "x"
    assert ei.value.obj == p
    assert str(ei.value) == "'Player' object has no attribute 'x'"


def test_typo_gets_did_you_mean():
    # CPython 3.11 computes the suggestion when it prints the exception
    # (the traceback module learns it in 3.12), so print one for real.
    code = ("import roster\n"
            "st = roster.Store()\n"
            "Player = roster.declare(st, 'Player { uid: str(16) key; "
            "level: u16 = 0 } dynamic')\n"
            "Player('00001').levle\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert r.stderr.rstrip().endswith(
        "AttributeError: 'Player' object has no attribute 'levle'. "
        "Did you mean: 'level'?"), r.stderr


def test_setattr_on_slots_class_has_name_and_obj(players):
    _, Player2 = players
    p = Player2("00003", "Jim")
    with pytest.raises(AttributeError) as ei:
        p.x = 123
    assert ei.value.name == "x" and ei.value.obj == p


def test_getsizeof_is_the_deep_size(players):
    Player, Player2 = players
    p1 = Player("00001", "Tom")
    p2 = Player2("00003", "Jim")
    base = sys.getsizeof(p1)
    p1.guild = "a guild name long enough to live outside the row"
    assert sys.getsizeof(p1) > base
    del p1.guild
    assert sys.getsizeof(p1) == base
    assert sys.getsizeof(p2) == p2.__sizeof__()


def test_proxy_sizes(players):
    # What roster_py.h says a proxy costs: 32 bytes, 40 with the weakref
    # slot of a dynamic class; never tracked by the cyclic GC.
    import gc
    Player, Player2 = players
    assert (Player.__basicsize__, Player2.__basicsize__) == (40, 32)
    assert not gc.is_tracked(Player("1", "a"))
