#!/usr/bin/env python3
"""Sharded controllers end to end: N processes over one SQLite store, two of them lost mid-run.

Registers the workloads, starts ``--controllers`` controller processes, and once the shared
clock reaches a third of ``--ticks`` kills the first with SIGKILL (its workloads move when its
lease expires), at two thirds stops the second with SIGTERM (it releases them at once). When the
run is over it checks the store against a serial, single-process run of the same fleet and
prints a summary; the exit status is 1 if any check fails.

Example:
    python examples/sharded/demo.py --controllers 3 --workloads 100
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fleet
from statestore import SqliteStateStore

CONTROLLER = Path(__file__).resolve().parent / "controller.py"


def start_controller(
    db: Path,
    controller_id: str,
    *,
    workloads: int,
    ticks: int,
    lease_ttl_s: float,
    log_dir: Path,
    min_members: int = 1,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """Starts one controller process; its events (JSON lines) go to ``log_dir/<id>.jsonl``."""
    with open(log_dir / f"{controller_id}.jsonl", "wb") as out:
        return subprocess.Popen(
            [
                sys.executable, str(CONTROLLER), "--db", str(db), "--id", controller_id,
                "--workloads", str(workloads), "--ticks", str(ticks),
                "--lease-ttl", str(lease_ttl_s), "--min-members", str(min_members), *extra_args,
            ],
            stdout=out,
        )


def read_events(log_dir: Path, controller_id: str) -> list[dict[str, Any]]:
    """The events a controller logged so far."""
    path = log_dir / f"{controller_id}.jsonl"
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def wait_until(
    condition: Callable[[], bool], *, timeout_s: float, what: str, poll_s: float = 0.02
) -> None:
    """Polls ``condition()`` until it is true.

    Raises:
        TimeoutError: It stayed false for ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(poll_s)


@dataclass
class RunCheck:
    """How a run's stored decisions compare with the serial reference run.

    Attributes:
        missing: ``(workload, tick)`` pairs without a stored decision.
        unexpected: Stored decisions outside the fleet or the ticks.
        different: Pairs where the stored replicas differ from the reference's.
        different_final_states: Workloads whose final stored state differs from the reference's.
        decisions_by_controller: How many decisions each controller committed.
        handed_over: Workloads decided by more than one controller.
    """

    missing: list[tuple[str, int]] = field(default_factory=list)
    unexpected: list[tuple[str, int]] = field(default_factory=list)
    different: list[tuple[str, int]] = field(default_factory=list)
    different_final_states: list[str] = field(default_factory=list)
    decisions_by_controller: dict[str, int] = field(default_factory=dict)
    handed_over: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every decision present once and equal to the reference, final states included."""
        return not (
            self.missing or self.unexpected or self.different or self.different_final_states
        )


def check_run(store: SqliteStateStore, workloads: list[fleet.Workload], ticks: int) -> RunCheck:
    """Compares the store with ``fleet.serial_reference`` (decisions and final states).

    Duplicates cannot be stored (``(workload, tick)`` is the decisions table's key), so one row
    per expected pair and no other row means "exactly once".
    """
    reference = fleet.serial_reference(workloads, ticks)
    stored = {(d.workload, d.tick): d for d in store.decisions()}
    check = RunCheck()
    check.missing = sorted(set(reference.replicas) - set(stored))
    check.unexpected = sorted(set(stored) - set(reference.replicas))
    check.different = sorted(
        key for key, replicas in reference.replicas.items()
        if key in stored and stored[key].replicas != replicas
    )
    check.different_final_states = [
        w.name for w in workloads if store.get(w.name).state_json != reference.final_states[w.name]
    ]
    by_controller = Counter(d.controller for d in stored.values())
    check.decisions_by_controller = dict(sorted(by_controller.items()))
    deciders: defaultdict[str, set[str]] = defaultdict(set)
    for decision in stored.values():
        deciders[decision.workload].add(decision.controller)
    check.handed_over = sorted(name for name, who in deciders.items() if len(who) > 1)
    return check


def run_demo(
    *, controllers: int, workloads: int, ticks: int, lease_ttl_s: float, workdir: Path
) -> int:
    """Runs the controllers, loses two, checks the store and prints a summary; 0 if all OK."""
    db = workdir / "sharded.db"
    fleet_ = fleet.make_fleet(workloads)
    ids = [f"c{index}" for index in range(controllers)]
    started = time.monotonic()
    with SqliteStateStore(db) as store:
        store.register(w.name for w in fleet_)
        processes = {
            cid: start_controller(
                db, cid, workloads=workloads, ticks=ticks, lease_ttl_s=lease_ttl_s,
                log_dir=workdir, min_members=controllers,
            )
            for cid in ids
        }
        try:
            # The losses: SIGKILL (no goodbye: wait for the lease) and SIGTERM (release, leave).
            losses = [
                (ticks // 3, ids[0], signal.SIGKILL),
                (2 * ticks // 3, ids[1], signal.SIGTERM),
            ]
            for at_tick, cid, signum in losses[: controllers - 1]:
                wait_until(
                    lambda: store.current_tick() >= at_tick, timeout_s=120, what=f"tick {at_tick}"
                )
                processes[cid].send_signal(signum)
                name = signal.Signals(signum).name
                print(f"tick {store.current_tick():>4}: sent {name} to {cid}")
            for cid, process in processes.items():
                process.wait(timeout=300)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
        elapsed = time.monotonic() - started
        check = check_run(store, fleet_, ticks)
        claims = sum(
            1 for cid in ids for event in read_events(workdir, cid) if event["event"] == "claimed"
        )

    print(f"{controllers} controllers, {workloads} workloads, {ticks} ticks in {elapsed:.1f} s")
    print(f"decisions by controller: {check.decisions_by_controller}")
    print(f"claims (initial and handovers): {claims}; workloads decided by more than one "
          f"controller: {len(check.handed_over)}")
    print(f"missing decisions: {len(check.missing)}, unexpected: {len(check.unexpected)}")
    print(f"decisions differing from the serial reference run: {len(check.different)}; "
          f"final states differing: {len(check.different_final_states)}")
    print("OK: every workload decided once per tick, as the serial run decides" if check.ok
          else "FAILED")
    return 0 if check.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sharded replicast controllers, end to end.")
    parser.add_argument("--controllers", type=int, default=3)
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=40, help="logical ticks of 15 s (default 40)")
    parser.add_argument("--lease-ttl", type=float, default=1.0, help="seconds (default 1.0)")
    parser.add_argument("--workdir", type=Path, help="keep the store and logs here")
    args = parser.parse_args(argv)
    if args.controllers < 1 or args.workloads < 1 or args.ticks < 1:
        parser.error("--controllers, --workloads and --ticks must be at least 1")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return run_demo(controllers=args.controllers, workloads=args.workloads, ticks=args.ticks,
                        lease_ttl_s=args.lease_ttl, workdir=args.workdir)
    with tempfile.TemporaryDirectory(prefix="replicast-sharded-") as tmp:
        return run_demo(controllers=args.controllers, workloads=args.workloads, ticks=args.ticks,
                        lease_ttl_s=args.lease_ttl, workdir=Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
