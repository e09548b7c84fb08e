"""Tests of the sharded controllers: the ring, the store's fencing, and real processes.

The process tests start controller processes over one SQLite file, lose some of them mid-run
(SIGKILL, SIGTERM, a SIGSTOP longer than the lease) and compare every stored decision and every
final state with a serial, single-process run of the same fleet. Time is the store's logical
clock, so the outcome does not depend on scheduling; only who decided what does.

Run: ``python -m pytest -c python/pyproject.toml examples/sharded`` (scripts/test.sh does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import fleet
import replicast
from demo import check_run, read_events, start_controller, wait_until
from hashring import HashRing
from statestore import NO_TICK, SqliteStateStore

HERE = Path(__file__).resolve().parent
KEYS = [f"workload-{index:05d}" for index in range(10_000)]

# ---------------------------------------------------------------------------------------------
# the ring


@pytest.mark.parametrize("members", range(2, 11))
def test_ring_shares_are_within_20_percent_of_fair(members: int) -> None:
    ring = HashRing(f"controller-{index}" for index in range(members))
    shares = Counter(ring.owner(key) for key in KEYS)
    fair = len(KEYS) / members
    assert len(shares) == members
    assert all(0.8 * fair <= share <= 1.2 * fair for share in shares.values()), shares


def test_ring_moves_only_the_leaving_members_keys() -> None:
    members = [f"c{index}" for index in range(5)]
    before = HashRing(members).assignment(KEYS)
    after = HashRing(members[:2] + members[3:]).assignment(KEYS)
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if before[key] == "c2"}
    assert {after[key] for key in moved} == {"c0", "c1", "c3", "c4"}  # spread, not dumped on one


def test_ring_moves_only_keys_to_a_joining_member_about_a_fair_share() -> None:
    members = [f"c{index}" for index in range(4)]
    before = HashRing(members).assignment(KEYS)
    after = HashRing([*members, "c4"]).assignment(KEYS)
    moved = [key for key in KEYS if before[key] != after[key]]
    assert {after[key] for key in moved} == {"c4"}
    assert 0.8 * len(KEYS) / 5 <= len(moved) <= 1.2 * len(KEYS) / 5


def test_ring_is_the_same_in_every_process() -> None:
    # Python's str hash is salted per process; the ring must not depend on it.
    script = (
        "from hashring import HashRing; "
        "r = HashRing(['a', 'b', 'c']); "
        "print(','.join(str(r.owner(f'w{i}')) for i in range(200)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script], cwd=HERE, check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    ring = HashRing(["c", "b", "a", "a"])  # order and duplicates do not matter
    assert outputs == {",".join(str(ring.owner(f"w{i}")) for i in range(200)) + "\n"}


def test_ring_edges() -> None:
    assert HashRing([]).owner("anything") is None
    assert HashRing(["only"], virtual_nodes=1).owner("anything") == "only"
    with pytest.raises(ValueError, match="virtual_nodes must be at least 1, got 0"):
        HashRing(["a"], virtual_nodes=0)


# ---------------------------------------------------------------------------------------------
# the store, with a clock the test moves


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteStateStore]:
    with SqliteStateStore(tmp_path / "store.db", wall_clock=clock) as opened:
        opened.register(["w"])
        yield opened


def test_leases_expire_and_heartbeats_do_not_revive_them(
    store: SqliteStateStore, clock: FakeClock
) -> None:
    store.join("a", ttl_s=1.0)
    store.join("b", ttl_s=3.0)
    assert store.live_members() == ["a", "b"]
    clock.now += 2.0
    assert store.live_members() == ["b"]
    assert store.heartbeat("a", ttl_s=1.0) is False  # expired: must join again
    assert store.heartbeat("b", ttl_s=3.0) is True
    store.leave("b")
    assert store.live_members() == []


def test_a_live_owner_keeps_its_workload_until_it_releases_or_its_lease_expires(
    store: SqliteStateStore, clock: FakeClock
) -> None:
    store.join("a", ttl_s=1.0)
    store.join("b", ttl_s=10.0)
    first = store.claim("w", "a")
    assert first is not None and (first.owner, first.epoch, first.tick) == ("a", 1, NO_TICK)
    assert store.claim("w", "b") is None
    assert store.release("w", "a", epoch=1)
    released = store.claim("w", "b")
    assert released is not None and (released.owner, released.epoch) == ("b", 2)
    assert store.claim("w", "a") is None
    clock.now += 11.0  # b's lease ends without a goodbye
    store.join("a", ttl_s=1.0)
    taken = store.claim("w", "a")
    assert taken is not None and (taken.owner, taken.epoch) == ("a", 3)


def test_a_stale_owner_cannot_overwrite_the_new_owners_state(
    store: SqliteStateStore, clock: FakeClock
) -> None:
    """Fencing: A pauses past its lease, B claims and commits, A wakes up and tries to write."""
    store.join("a", ttl_s=1.0)
    claim_a = store.claim("w", "a")
    assert claim_a is not None
    assert store.commit("w", "a", claim_a.epoch, tick=0, replicas=3, state_json='{"by": "a"}')

    clock.now += 5.0  # A is paused; its lease expires
    store.join("b", ttl_s=1.0)
    claim_b = store.claim("w", "b")
    assert claim_b is not None and claim_b.epoch == claim_a.epoch + 1
    assert (claim_b.tick, claim_b.replicas, claim_b.state_json) == (0, 3, '{"by": "a"}')
    assert store.commit("w", "b", claim_b.epoch, tick=1, replicas=4, state_json='{"by": "b"}')

    # A resumes with its old epoch: both a write of the next tick and a release are refused.
    assert not store.commit("w", "a", claim_a.epoch, tick=2, replicas=9, state_json='{"by": "a"}')
    assert not store.release("w", "a", claim_a.epoch)
    record = store.get("w")
    assert (record.owner, record.epoch, record.tick, record.state_json) == (
        "b", claim_b.epoch, 1, '{"by": "b"}'
    )
    decided = [(d.tick, d.controller, d.replicas) for d in store.decisions()]
    assert decided == [(0, "a", 3), (1, "b", 4)]


def test_a_tick_is_committed_once(store: SqliteStateStore) -> None:
    store.join("a", ttl_s=1.0)
    claim = store.claim("w", "a")
    assert claim is not None
    assert store.commit("w", "a", claim.epoch, tick=0, replicas=2, state_json="{}")
    assert not store.commit("w", "a", claim.epoch, tick=0, replicas=5, state_json="{}")
    assert [d.replicas for d in store.decisions()] == [2]


def test_the_clock_waits_for_every_workload(store: SqliteStateStore) -> None:
    store.register(["v"])
    store.join("a", ttl_s=1.0)
    claims = {name: store.claim(name, "a") for name in ("v", "w")}
    assert store.advance(0) == 0
    claim_v = claims["v"]
    assert claim_v is not None
    store.commit("v", "a", claim_v.epoch, tick=0, replicas=1, state_json="{}")
    assert store.advance(0) == 0  # w has not decided tick 0
    claim_w = claims["w"]
    assert claim_w is not None
    store.commit("w", "a", claim_w.epoch, tick=0, replicas=1, state_json="{}")
    assert store.advance(0) == 1
    assert store.advance(0) == 1  # a late caller does not move it twice


# ---------------------------------------------------------------------------------------------
# the reference run


def test_losing_a_state_mid_run_would_change_the_decisions() -> None:
    """The comparison with the serial run can see a lost window or cooldown: restarting every
    workload's state at tick 30 (what a handover without the store would do) changes decisions."""
    workloads = fleet.make_fleet(30)
    reference = fleet.serial_reference(workloads, 60)
    by_kind = fleet.scalers()
    changed: set[str] = set()
    for workload in workloads:
        state = replicast.ScalerState()
        current = workload.initial_replicas
        for tick in range(60):
            if tick == 30:
                state = replicast.ScalerState()
            current = fleet.decide(by_kind[workload.kind], state, workload, tick, current).replicas
            if current != reference.replicas[(workload.name, tick)]:
                changed.add(workload.kind)
    assert changed == {"hpa", "threshold"}


# ---------------------------------------------------------------------------------------------
# real processes

WORKLOADS = 30
TICKS = 60
LEASE_TTL_S = 1.0


def test_controllers_lose_members_and_decide_as_one_serial_run(tmp_path: Path) -> None:
    """4 controllers over one SQLite file: c0 is killed (SIGKILL) at tick 15, c1 stopped
    (SIGTERM) at tick 30, c2 freezes (SIGSTOP) between a decision and its commit at tick 40
    and is resumed once c3 has taken its workloads over; c3 runs throughout."""
    db = tmp_path / "sharded.db"
    workloads = fleet.make_fleet(WORKLOADS)
    ids = ["c0", "c1", "c2", "c3"]
    with SqliteStateStore(db) as store:
        store.register(w.name for w in workloads)
        processes = {
            cid: start_controller(
                db, cid, workloads=WORKLOADS, ticks=TICKS, lease_ttl_s=LEASE_TTL_S,
                log_dir=tmp_path, min_members=len(ids),
                extra_args=("--stall-at-tick", "40") if cid == "c2" else (),
            )
            for cid in ids
        }
        try:
            wait_until(lambda: store.current_tick() >= 15, timeout_s=20, what="tick 15")
            processes["c0"].send_signal(signal.SIGKILL)
            killed_at = store.current_tick()

            wait_until(lambda: store.current_tick() >= 30, timeout_s=20, what="tick 30")
            processes["c1"].send_signal(signal.SIGTERM)
            assert processes["c1"].wait(timeout=10) == 0

            def stalled() -> bool:
                return any(e["event"] == "stalled" for e in read_events(tmp_path, "c2"))

            wait_until(stalled, timeout_s=20, what="c2 to stall")
            stall = next(e for e in read_events(tmp_path, "c2") if e["event"] == "stalled")
            # The clock can only pass the stalled tick once another controller has claimed the
            # frozen one's workloads (after its lease expired) and decided them.
            wait_until(lambda: store.current_tick() > stall["tick"] + 1, timeout_s=20,
                       what="the others to take over c2's workloads")
            processes["c2"].send_signal(signal.SIGCONT)

            for cid in ("c2", "c3"):
                assert processes[cid].wait(timeout=30) == 0
            assert processes["c0"].wait(timeout=5) == -signal.SIGKILL
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()

        # (a) + (b): every (workload, tick) decided exactly once, equal to the serial run,
        # and every final state (windows, cooldowns) equal to the serial run's.
        check = check_run(store, workloads, TICKS)
        assert len(store.decisions()) == WORKLOADS * TICKS
        assert check.missing == []
        assert check.unexpected == []
        assert check.different == []
        assert check.different_final_states == []
        assert set(check.decisions_by_controller) == set(ids)

        # The losses really handed workloads over: c0's last workloads were continued by others.
        decisions = store.decisions()
        c0_last_tick = max(d.tick for d in decisions if d.controller == "c0")
        assert c0_last_tick <= killed_at + 1
        c0_workloads = {
            d.workload for d in decisions if d.controller == "c0" and d.tick == c0_last_tick
        }
        assert c0_workloads and c0_workloads <= set(check.handed_over)
        assert max(d.tick for d in decisions if d.controller == "c1") < TICKS - 1
        assert {"released", "left"} <= {e["event"] for e in read_events(tmp_path, "c1")}

        # (c) fencing: the frozen owner's commit was refused; the new owner's decision stands.
        c2_events = read_events(tmp_path, "c2")
        fenced = [e for e in c2_events if e["event"] == "fenced"]
        assert fenced
        assert (fenced[0]["workload"], fenced[0]["tick"]) == (stall["workload"], stall["tick"])
        assert fenced[0]["store_epoch"] > fenced[0]["epoch"]
        assert [e["event"] for e in c2_events].index("lease_lost") > c2_events.index(fenced[0])
        stalled_decision = next(
            d for d in decisions if (d.workload, d.tick) == (stall["workload"], stall["tick"])
        )
        assert stalled_decision.controller != "c2"
        assert stalled_decision.epoch > stall["epoch"]


def test_demo_prints_a_passing_summary(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "demo.py"), "--controllers", "3", "--workloads", "40",
         "--ticks", "30", "--workdir", str(tmp_path)],
        check=False, capture_output=True, text=True, timeout=50,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent SIGKILL to c0" in result.stdout and "sent SIGTERM to c1" in result.stdout
    assert "decisions differing from the serial reference run: 0; final states differing: 0" in (
        result.stdout
    )
