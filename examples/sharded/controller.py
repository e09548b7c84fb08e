#!/usr/bin/env python3
"""One sharded controller replica: decides for the workloads the hash ring gives it.

Each pass of the loop:

1. renews its lease (``heartbeat``); a lease found expired means the others may have claimed its
   workloads, so it forgets every claim and joins again;
2. builds the ring from the live members and releases the workloads it no longer owns;
3. for each workload the ring gives it: claims it if it does not hold it yet (which succeeds only
   when nobody live holds it, and bumps the workload's epoch), decides the current tick from the
   state the previous owner last committed, and commits the new state with the decision under its
   epoch (refused if another controller has claimed the workload since: fencing);
4. moves the shared logical clock on once every workload has decided the current tick.

On SIGTERM (or once the clock reaches ``--ticks``) it releases its workloads and leaves, so the
others take them over at once; killed, its lease expires after ``--lease-ttl`` seconds and the
others take them over then.

Example (``demo.py`` starts several and registers the workloads first):
    python examples/sharded/controller.py --db /tmp/sharded.db --id c0 --workloads 30 --ticks 60
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import replicast

import fleet
from hashring import DEFAULT_VIRTUAL_NODES, HashRing
from statestore import LogicalClock, SqliteStateStore, StateStore, WorkloadRecord

EventLog = Callable[[dict[str, Any]], None]
"""Where a controller reports what it did (claims, releases, refused writes, lease losses)."""


@dataclass
class Claim:
    """A workload this controller holds, as of its own last commit.

    Attributes:
        epoch: The fencing token its claim got; every commit carries it.
        tick: The last tick decided.
        replicas: What the workload runs now.
        state: The scaler's memory (windows, cooldowns), updated in place by ``decide``.
    """

    epoch: int
    tick: int
    replicas: int
    state: replicast.ScalerState

    @staticmethod
    def resume(record: WorkloadRecord, workload: fleet.Workload) -> Claim:
        """Continues from what the previous owner last committed (or from scratch)."""
        state = (
            replicast.ScalerState()
            if record.state_json is None
            else replicast.ScalerState.from_json(record.state_json)
        )
        replicas = workload.initial_replicas if record.replicas is None else record.replicas
        return Claim(record.epoch, record.tick, replicas, state)


class Controller:
    """The loop of one replica; ``step`` is one pass, ``run`` loops until told to stop.

    Args:
        controller_id: Unique among the running controllers (two processes with one id would
            take each other's workloads back and forth; fencing still keeps the state whole).
        store: Membership, ownership, states and decisions.
        clock: The shared tick.
        workloads: The fleet; every controller must be given the same one.
        lease_ttl_s: How long the lease lives without a heartbeat: the time others wait before
            taking over the workloads of a controller that died without leaving.
        virtual_nodes: Points per member on the ring; the same in every controller.
        log: Receives one dict per event.
        stall_at_tick: Fault injection for the tests: at the first commit of this tick or a
            later one, stop the process (SIGSTOP) after deciding and before committing, as a
            long GC pause or a frozen VM would. None in production.
    """

    def __init__(
        self,
        controller_id: str,
        store: StateStore,
        clock: LogicalClock,
        workloads: list[fleet.Workload],
        *,
        lease_ttl_s: float,
        virtual_nodes: int = DEFAULT_VIRTUAL_NODES,
        log: EventLog = lambda event: None,
        stall_at_tick: int | None = None,
    ) -> None:
        self.id = controller_id
        self.store = store
        self.clock = clock
        self.workloads = workloads
        self.lease_ttl_s = lease_ttl_s
        self.virtual_nodes = virtual_nodes
        self.log = log
        self.stall_at_tick = stall_at_tick
        self.scalers = fleet.scalers()
        self.claims: dict[str, Claim] = {}
        self._last_heartbeat = 0.0

    def join(self) -> None:
        """Takes a lease: from now on the others' rings include this controller."""
        self.store.join(self.id, self.lease_ttl_s)
        self._last_heartbeat = time.monotonic()
        self.log({"event": "joined"})

    def leave(self) -> None:
        """Releases every workload (keeping its state) and the lease: a graceful stop."""
        for name, claim in sorted(self.claims.items()):
            if self.store.release(name, self.id, claim.epoch):
                self.log({"event": "released", "workload": name, "epoch": claim.epoch})
        self.claims.clear()
        self.store.leave(self.id)
        self.log({"event": "left"})

    def _keep_lease(self) -> None:
        # A heartbeat is a write; renewing four times per TTL keeps the lease with margin
        # without making every pass write.
        if time.monotonic() - self._last_heartbeat < self.lease_ttl_s / 4:
            return
        if self.store.heartbeat(self.id, self.lease_ttl_s):
            self._last_heartbeat = time.monotonic()
            return
        # Out of the ring for a while: others may have claimed our workloads, and our epochs
        # are stale for those. Forget every claim (commits would be refused anyway) and rejoin.
        self.log({"event": "lease_lost", "dropped": sorted(self.claims)})
        self.claims.clear()
        self.join()

    def step(self, end_tick: int) -> int:
        """One pass over the owned workloads, deciding the current tick if it is before
        ``end_tick``.

        Returns:
            How many decisions it committed (0: nothing to do until the clock moves).
        """
        self._keep_lease()
        ring = HashRing(self.store.live_members(), virtual_nodes=self.virtual_nodes)
        mine = [w for w in self.workloads if ring.owner(w.name) == self.id]
        mine_names = {w.name for w in mine}
        for name in sorted(set(self.claims) - mine_names):
            # The ring moved it (a member joined): hand it over with its state.
            epoch = self.claims.pop(name).epoch
            if self.store.release(name, self.id, epoch):
                self.log({"event": "released", "workload": name, "epoch": epoch})

        tick = self.clock.current_tick()
        if tick >= end_tick:
            return 0
        committed = 0
        for workload in mine:
            # Before each workload, not once per pass: a long pass (or a pause inside it) must
            # not go on deciding with a lease that has run out.
            self._keep_lease()
            claim = self.claims.get(workload.name)
            if claim is None:
                record = self.store.claim(workload.name, self.id)
                if record is None:
                    continue  # a live controller still holds it; it releases it on its next pass
                claim = Claim.resume(record, workload)
                self.claims[workload.name] = claim
                self.log(
                    {"event": "claimed", "workload": workload.name, "epoch": claim.epoch,
                     "resumes_after_tick": claim.tick}
                )
            if claim.tick >= tick:
                continue
            if self._commit_next(workload, claim, tick):
                committed += 1
        # Every pass, not only after our own commits: the controller that committed the tick's
        # last decision may have died before moving the clock.
        self.clock.advance(tick)
        return committed

    def _commit_next(self, workload: fleet.Workload, claim: Claim, tick: int) -> bool:
        scaler = self.scalers[workload.kind]
        decision = fleet.decide(scaler, claim.state, workload, tick, claim.replicas)
        if self.stall_at_tick is not None and tick >= self.stall_at_tick:
            self.stall_at_tick = None
            self.log({"event": "stalled", "workload": workload.name, "tick": tick,
                      "epoch": claim.epoch})
            os.kill(os.getpid(), signal.SIGSTOP)  # resumes on SIGCONT, epoch possibly stale
        if not self.store.commit(
            workload.name,
            self.id,
            claim.epoch,
            tick=tick,
            replicas=decision.replicas,
            state_json=claim.state.to_json(),
        ):
            # Fenced: someone claimed it since (our lease expired meanwhile). Their state
            # stands; ours, one decision ahead of the store, is dropped.
            del self.claims[workload.name]
            self._last_heartbeat = -math.inf  # someone took over: check our lease right away
            self.log({"event": "fenced", "workload": workload.name, "tick": tick,
                      "epoch": claim.epoch, "store_epoch": self.store.get(workload.name).epoch})
            return False
        claim.tick = tick
        claim.replicas = decision.replicas
        return True

    def run(
        self,
        *,
        end_tick: int,
        should_stop: Callable[[], bool] = lambda: False,
        min_members: int = 1,
        idle_sleep_s: float = 0.01,
    ) -> None:
        """Joins, loops until the clock reaches ``end_tick`` or ``should_stop()``, leaves.

        Args:
            end_tick: The first tick not to decide.
            should_stop: Polled between passes (a signal handler sets what it reads).
            min_members: Start deciding only once this many controllers are live. Replicas
                started together otherwise see the first one claim every workload and hand
                most of them over a moment later.
            idle_sleep_s: Pause after a pass with nothing to commit.
        """
        self.join()
        while len(self.store.live_members()) < min_members and not should_stop():
            self._keep_lease()
            time.sleep(idle_sleep_s)
        while not should_stop() and self.clock.current_tick() < end_tick:
            if self.step(end_tick) == 0:
                time.sleep(idle_sleep_s)
        self.leave()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", type=Path, required=True, help="the SQLite store (registered)")
    parser.add_argument("--id", required=True, help="this controller's unique id")
    parser.add_argument("--workloads", type=int, required=True, help="fleet size (as registered)")
    parser.add_argument("--ticks", type=int, required=True, help="stop once the clock reaches it")
    parser.add_argument("--lease-ttl", type=float, default=1.0, help="seconds (default 1.0)")
    parser.add_argument("--virtual-nodes", type=int, default=DEFAULT_VIRTUAL_NODES)
    parser.add_argument("--min-members", type=int, default=1,
                        help="start deciding once this many controllers are live (default 1)")
    parser.add_argument("--stall-at-tick", type=int, help="fault injection (tests): SIGSTOP self")
    args = parser.parse_args(argv)

    # Installed first: a SIGTERM that arrives while starting up must also end in a clean leave.
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True  # finish the pass, then release and leave

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def log(event: dict[str, Any]) -> None:
        print(json.dumps({"controller": args.id, **event}), flush=True)

    workloads = fleet.make_fleet(args.workloads)
    with SqliteStateStore(args.db) as store:
        registered = store.workloads()
        if registered != sorted(w.name for w in workloads):
            print(f"{args.db}: registered workloads differ from --workloads {args.workloads}",
                  file=sys.stderr)
            return 2
        controller = Controller(
            args.id, store, store, workloads,
            lease_ttl_s=args.lease_ttl,
            virtual_nodes=args.virtual_nodes,
            log=log,
            stall_at_tick=args.stall_at_tick,
        )
        controller.run(end_tick=args.ticks, should_stop=lambda: stop_requested,
                       min_members=args.min_members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
