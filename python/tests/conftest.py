import pytest

import roster


@pytest.fixture
def store():
    return roster.Store()


@pytest.fixture
def players(store):
    class Player(roster.Record, store=store, dynamic=True):
        uid: roster.str(16, key=True)
        name: roster.str(32, unique=True)
        stat: roster.u8 = 0
        level: roster.u16 = 0

    class Player2(roster.Record, store=store):
        uid: roster.str(16, key=True)
        name: roster.str(32, unique=True)
        stat: roster.u8 = 0
        level: roster.u16 = 0

    return Player, Player2
