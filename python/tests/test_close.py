"""store.close() and `with roster.Store() as st:`.

A dropped store is freed only by the cyclic GC (its classes and it hold
each other), so close() is how a caller frees it, and a durable store's
files and lock, at a moment of its choosing.  Every object that reaches
the store afterwards must refuse with roster.ClosedError: the calls below
are all of them, and under the sanitizer build (ROSTER_SANITIZE) one that
read the freed store would fail the run.
"""
import gc
import pickle
import sys

import pytest

import roster

PLAYER = ('Player { uid: str(16) key; name: str(32) unique; '
          'stat: u8 = 0; level: u16 = 0 } dynamic')


def closed_store():
    """A closed store, with one object of every kind made before the close:
    the class, a proxy with an attribute, its __dict__, a query, a field
    descriptor, a condition, a scan part way through, a group not entered."""
    st = roster.Store()
    P = st.declare(PLAYER)
    p = P('u1', 'Tom', 1, 5)
    p.x = 7
    P('u2', 'Ann', 1, 9)
    objs = dict(st=st, P=P, p=p, d=p.__dict__, q=P.where(stat=1),
                none=P.where(nothing=1),
                field=P.level, cond=P.level >= 1, scan=iter(P),
                qscan=iter(P.where(level__ge=1)), group=st.group())
    next(objs['scan'])
    next(objs['qscan'])
    st.close()
    return objs


def every_call(o):
    st, P, p, d, q = o['st'], o['P'], o['p'], o['d'], o['q']
    return {
        'Store.declare': lambda: st.declare('Q { a: u8 key }'),
        'roster.declare': lambda: roster.declare(st, 'Q { a: u8 key }'),
        'Store[name]': lambda: st['Player'],
        'Store.classes': lambda: st.classes,
        'Store.group': st.group,
        'group.__enter__': o['group'].__enter__,
        'Store.memory': st.memory,
        'Store.save': lambda: st.save('/nonexistent/roster.snap'),
        'Store.load': lambda: st.load('/nonexistent/roster.snap'),
        'Store.durable': lambda: st.durable('/nonexistent/roster'),
        'Store.sync': st.sync,
        'Store.compact': st.compact,
        'Store.__enter__': st.__enter__,
        'class body': lambda: type('Q', (roster.Record,), {
            '__annotations__': {'a': roster.u8(key=True)}}, store=st),
        'Player(...)': lambda: P('u3', 'Bob'),
        'Player(kw)': lambda: P(uid='u3', name='Bob'),
        'Player.get': lambda: P.get('u1'),
        'Player[key]': lambda: P['u1'],
        'del Player[key]': lambda: P.__delitem__('u1'),
        'Player.find': lambda: P.find(name='Tom'),
        'Player.get_many': lambda: P.get_many(['u1']),
        'Player.insert_many': lambda: P.insert_many([('u3', 'Bob')]),
        'Player.reserve': lambda: P.reserve(10),
        'Player.where': lambda: P.where(stat=1),
        'Player.where(cond)': lambda: P.where(o['cond']),
        'len(Player)': lambda: len(P),
        'key in Player': lambda: 'u1' in P,
        'iter(Player)': lambda: iter(P),
        'Player.__text__': lambda: P.__text__,
        'next(scan)': lambda: next(o['scan']),
        'next(query scan)': lambda: next(o['qscan']),
        'query.count': q.count,
        'query.first': q.first,
        'iter(query)': lambda: iter(q),
        # A query on a name no record has matches none without asking the
        # library: it must still see the close.
        'query matching none.count': o['none'].count,
        'query matching none.first': o['none'].first,
        'iter(query matching none)': lambda: iter(o['none']),
        'p.field': lambda: p.level,
        'p.key': lambda: p.uid,
        'Player.level.__get__': lambda: o['field'].__get__(p, P),
        'p.field = v': lambda: setattr(p, 'level', 3),
        'Player.level.__set__': lambda: o['field'].__set__(p, 3),
        'p.attr': lambda: p.x,
        'getattr default': lambda: getattr(p, 'x', None),
        'getattr unbound': lambda: getattr(p, 'nothing', None),
        'p.attr = v': lambda: setattr(p, 'x', 8),
        'p.new = v': lambda: setattr(p, 'y', 8),
        'del p.attr': lambda: delattr(p, 'x'),
        'p.__dict__': lambda: p.__dict__,
        'vars(p)': lambda: vars(p),
        'dir(p)': lambda: dir(p),
        'sys.getsizeof(p)': lambda: sys.getsizeof(p),
        'p.update': lambda: p.update(level=3),
        'p.remove': p.remove,
        'd[name]': lambda: d['x'],
        'd[name] = v': lambda: d.__setitem__('x', 9),
        'del d[name]': lambda: d.__delitem__('x'),
        'len(d)': lambda: len(d),
        'name in d': lambda: 'x' in d,
        'iter(d)': lambda: iter(d),
        'd.keys': d.keys,
        'd.values': d.values,
        'd.items': d.items,
        'd.get': lambda: d.get('x'),
        'd.pop': lambda: d.pop('x'),
        'd.update': lambda: d.update(x=1),
        'd.copy': d.copy,
        'd == dict': lambda: d == {'x': 7},
    }


@pytest.mark.parametrize('name', sorted(every_call(closed_store())))
def test_every_call_after_close_raises(name):
    o = closed_store()
    with pytest.raises(roster.ClosedError, match='^the store is closed$'):
        every_call(o)[name]()
    # The error is a roster.Error and a ValueError, as for a closed file.
    assert issubclass(roster.ClosedError, roster.Error)
    assert issubclass(roster.ClosedError, ValueError)


def test_what_still_works_after_close():
    o = closed_store()
    st, P, p, d = o['st'], o['P'], o['p'], o['d']
    assert st.closed
    st.close()                     # twice is allowed, as for a file
    st.__exit__(None, None, None)  # and so is leaving a with again
    assert repr(st) == '<roster.Store: closed>'
    assert repr(p) == '<Player: store closed>'
    assert repr(d) == '<Player __dict__: store closed>'
    assert P.__name__ == 'Player' and P.__fields__ == (
        'uid', 'name', 'stat', 'level')
    assert hash(p) == hash(p) and p == p
    q = P.level >= 3               # built from the descriptor alone
    assert repr(q) == '<roster condition Player.level >= 3>'
    # A proxy of the closed store is not one of another store's.
    other = roster.Store()
    P2 = other.declare(PLAYER)
    p2 = P2('u1', 'Tom', 1, 5)
    assert p2 != p and p2.level == 5
    with pytest.raises(TypeError):
        pickle.dumps(p)
    with pytest.raises(TypeError, match='always holds a value'):
        del p.level                # a rule of the class, store or none
    with pytest.raises(TypeError, match='always holds a value'):
        del d['level']             # by the __dict__ too
    for k in list(o):
        del o[k]
    del st, P, p, d, q
    gc.collect()                   # everything freed after the close
    assert p2.name == 'Tom'


def test_close_releases_a_durable_store_at_once(tmp_path):
    base = str(tmp_path / 'game')
    st = roster.Store()
    st.durable(base, sync='never')
    P = st.declare(PLAYER)
    P('u1', 'Tom', 1, 5).x = 3
    # Dropped but not closed: the class cycle keeps the files locked
    # until the cyclic GC runs.
    gc.disable()
    try:
        del P, st
        with pytest.raises(OSError, match='another store'):
            roster.Store().durable(base)
    finally:
        gc.enable()
        gc.collect()
    st = roster.Store()
    st.durable(base, sync='never')
    P = st['Player']
    P('u2', 'Ann', 0, 1)
    st.close()                     # synced, unlocked: reopened at once
    st2 = roster.Store()
    info = st2.durable(base)
    assert info['classes'] == 1
    P2 = st2['Player']
    assert sorted(r.uid for r in P2) == ['u1', 'u2']
    assert P2['u1'].x == 3
    st2.close()


def test_with_closes_even_on_an_exception(tmp_path):
    with roster.Store() as st:
        P = st.declare(PLAYER)
        P('u1', 'Tom')
    assert st.closed
    with pytest.raises(roster.ClosedError):
        len(P)
    with pytest.raises(KeyError):
        with roster.Store() as st:
            P = st.declare(PLAYER)
            P['nobody']
    assert st.closed


def test_close_inside_a_group_is_refused():
    st = roster.Store()
    P = st.declare(PLAYER)
    with st.group():
        P('u1', 'Tom')
        with pytest.raises(roster.GroupError, match='inside a group'):
            st.close()
        assert not st.closed
        P('u2', 'Ann')
    assert len(P) == 2             # the group committed after the refusal
    st.close()
    assert st.closed


def test_a_scan_finished_before_the_close():
    st = roster.Store()
    P = st.declare(PLAYER)
    P('u1', 'Tom')
    it = iter(P)
    assert [r.uid for r in it] == ['u1']
    st.close()
    with pytest.raises(roster.ClosedError):
        next(it)


def test_get_many_whose_keys_close_the_store():
    st = roster.Store()
    P = st.declare(PLAYER)
    P('u1', 'Tom')

    def keys():
        yield 'u1'
        st.close()
        yield ['not', 'a', 'key']  # its error would name the freed field

    with pytest.raises(roster.ClosedError):
        P.get_many(keys())


def test_a_declaration_repeated_makes_classes_that_all_see_the_close():
    # Each declaration of the same class makes another Python class over
    # the same rs_class; the store's dict keeps the newest only, and every
    # one of them must forget the freed rs_class.
    st = roster.Store()
    P1 = st.declare(PLAYER)
    P2 = roster.declare(st, PLAYER)

    class Player(roster.Record, store=st, dynamic=True):
        uid: roster.str(16, key=True)
        name: roster.str(32, unique=True)
        stat: roster.u8 = 0
        level: roster.u16 = 0

    assert P1 is not P2 and P2 is not Player and st['Player'] is Player
    dicts = []
    for i, cls in enumerate((P1, P2, Player)):
        p = cls('u%d' % i, 'n%d' % i)
        p.x = i
        dicts.append(p.__dict__)
    st.close()
    for cls, d in zip((P1, P2, Player), dicts):
        with pytest.raises(roster.ClosedError):
            del d['x']
        with pytest.raises(TypeError, match='always holds a value'):
            del d['uid']
        with pytest.raises(roster.ClosedError):
            len(cls)
        with pytest.raises(roster.ClosedError):
            cls.where(cls.level >= 0)


def test_a_class_body_that_closes_the_store():
    st = roster.Store()

    class Closes:
        def __set_name__(self, owner, name):
            st.close()             # while the class is being made

    with pytest.raises(roster.ClosedError):
        class Player(roster.Record, store=st):
            uid: roster.str(16, key=True)
            level: roster.u16 = 0
            closer = Closes()
    assert st.closed


class CloseAtCollection:
    """Close st at the n-th collection of the cyclic GC from now, made to
    run at nearly every allocation of a container: as a finalizer (a
    __del__ that closes, in a cycle) may, in the middle of a module call."""

    def __init__(self, st, n):
        self.st, self.n = st, n

    def __call__(self, phase, info):
        if phase == 'start':
            self.n -= 1
            if self.n == 0:
                self.st.close()

    def __enter__(self):
        gc.collect()
        # No free dicts, lists or tuples: each one made is a new
        # allocation that counts towards a collection.
        self.hold = [({}, [], (i,)) for i in range(2000)]
        self.threshold = gc.get_threshold()
        gc.callbacks.append(self)
        gc.set_threshold(1)
        return self

    def __exit__(self, *exc):
        gc.set_threshold(*self.threshold)
        gc.callbacks.remove(self)
        del self.hold


def loaded_store(tmp_path):
    """A store whose classes came from a snapshot: Python has none yet."""
    path = str(tmp_path / 'two.snap')
    with roster.Store() as src:
        src.declare(PLAYER)
        src.declare('Guild { gid: u32 key; name: str(20) }')
        src['Player']('u1', 'Tom').x = 1
        src.save(path)
    st = roster.Store()
    st.load(path)
    return st


def player_dict(st):
    return st['Player']['u1'].__dict__


# What each call is on (made before the GC is armed), and the call.
CALLS_THAT_ALLOCATE = {
    'Store.classes': (lambda st: st, lambda st: st.classes),
    'Store[name]': (lambda st: st, lambda st: st['Guild']),
    'Store.declare': (lambda st: st, lambda st: st.declare('Q { a: u8 key }')),
    'roster.declare': (lambda st: st,
                       lambda st: roster.declare(st, 'Q { a: u8 key }')),
    'repr(p)': (lambda st: st['Player']['u1'], repr),
    'dir(p)': (lambda st: st['Player']['u1'], dir),
    'd.copy': (player_dict, lambda d: d.copy()),
    'd.keys': (player_dict, lambda d: d.keys()),
    'list(d)': (player_dict, list),
    'd == dict': (player_dict, lambda d: d == {}),
}


@pytest.mark.parametrize('name', sorted(CALLS_THAT_ALLOCATE))
def test_a_finalizer_that_closes_the_store_mid_call(tmp_path, name):
    # At every collection in turn, until the call ends before it: the
    # call either ends before the close or raises ClosedError; under the
    # sanitizer a read of the freed store fails the run.
    on, call = CALLS_THAT_ALLOCATE[name]
    for n in range(1, 60):
        st = loaded_store(tmp_path)
        obj = on(st)
        with CloseAtCollection(st, n):
            try:
                call(obj)
            except roster.ClosedError:
                pass
        if not st.closed:
            break
        st.close()
    else:
        pytest.fail('the call never ended before the close')


def test_proxies_of_one_record_stay_equal_after_close():
    st = roster.Store()
    P = st.declare(PLAYER)
    P('u1', 'Tom')
    a, b = P['u1'], P['u1']
    seen = {a: 'Tom'}
    st.close()
    assert a is not b and a == b and not (a != b) and hash(a) == hash(b)
    assert seen[b] == 'Tom'


def test_close_from_the_rows_of_insert_many_is_refused():
    # insert_many() holds a group while its rows' code runs: a close there
    # is refused, and says why, though the caller opened no group.
    st = roster.Store()
    P = st.declare(PLAYER)

    def rows():
        yield ('u1', 'Tom')
        with pytest.raises(roster.GroupError, match='insert_many'):
            st.close()
        yield ('u2', 'Ann')

    assert P.insert_many(rows()) == 2 and not st.closed
    st.close()
