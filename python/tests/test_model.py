"""The randomized model test from Python: seeded random operations on a
dynamic class and on a dict of dicts, compared after every step.  The
first difference names the seed and the step; ROSTER_PY_SEED=S replays
one seed."""
import os
import random

import pytest

import roster

FIELDS = ("uid", "name", "stat", "level")
ATTRS = ("x", "guild", "vip")


def check(Player, model, step, seed):
    where = f"seed {seed} step {step}"
    assert len(Player) == len(model), where
    for uid, rec in model.items():
        p = Player.get(uid)
        assert p is not None, where
        assert p.__dict__ == rec, f"{where}: {uid}"
    names = {r["name"]: u for u, r in model.items()}
    assert {p.uid for p in Player} == set(model), where
    n = sum(1 for r in model.values() if r["stat"] == 1 and r["level"] >= 50)
    assert Player.where(stat=1, level__ge=50).count() == n, where
    assert len(names) == len(model), where


def run(seed, steps):
    rng = random.Random(seed)
    st = roster.Store()
    Player = roster.declare(st, "Player { uid: str(16) key; name: str(32) "
                                "unique; stat: u8 = 0; level: u16 = 0 } "
                                "dynamic")
    model = {}
    next_uid = 0
    for step in range(steps):
        op = rng.random()
        uids = list(model)
        if op < 0.3 or not uids:
            uid = f"{next_uid:07d}"
            next_uid += 1
            name = rng.choice(["n", "\u738b", "x_"]) + str(rng.randrange(500))
            stat, level = rng.randrange(4), rng.randrange(1, 101)
            clash = any(r["name"] == name for r in model.values())
            if clash:
                with pytest.raises(roster.DuplicateError):
                    Player(uid, name, stat, level)
            else:
                Player(uid, name, stat=stat, level=level)
                model[uid] = {"uid": uid, "name": name, "stat": stat,
                              "level": level}
        elif op < 0.4:
            uid = rng.choice(uids)
            del Player[uid]
            del model[uid]
        elif op < 0.6:
            uid = rng.choice(uids)
            v = rng.choice([rng.randrange(70000), rng.randrange(300)])
            f = rng.choice(["stat", "level"])
            lim = 255 if f == "stat" else 65535
            if v > lim:
                with pytest.raises(OverflowError):
                    setattr(Player[uid], f, v)
            else:
                setattr(Player[uid], f, v)
                model[uid][f] = v
        elif op < 0.8:
            uid = rng.choice(uids)
            a = rng.choice(ATTRS)
            v = rng.randrange(1000) if a != "guild" else f"g{rng.randrange(9)}"
            setattr(Player[uid], a, v)
            model[uid][a] = v
        elif op < 0.9:
            uid = rng.choice(uids)
            a = rng.choice(ATTRS)
            p = Player[uid]
            if a in model[uid]:
                del p.__dict__[a]
                del model[uid][a]
            else:
                with pytest.raises(AttributeError):
                    delattr(p, a)
        else:
            uid = rng.choice(uids)
            upd = {"level": rng.randrange(1, 101), "vip": rng.randrange(5)}
            if rng.random() < 0.3:
                upd["stat"] = 999  # out of range: nothing changes
                with pytest.raises(OverflowError):
                    Player[uid].update(**upd)
            else:
                Player[uid].update(**upd)
                model[uid].update(upd)
        if step % 25 == 0 or step == steps - 1:
            check(Player, model, step, seed)


def test_model_random():
    seeds = [int(os.environ["ROSTER_PY_SEED"])] if "ROSTER_PY_SEED" in \
        os.environ else range(1, 9)
    for seed in seeds:
        run(seed, 1500)
