"""Where sharded controllers keep workload state, ownership, membership and decisions.

``StateStore`` is the interface a controller needs; ``SqliteStateStore`` implements it over one
SQLite file (stdlib ``sqlite3``, WAL mode) that several processes on one machine share. Each
method's docstring says what it needs from a backend, so the same controller runs over Redis or
etcd with another implementation (``docs/sharded.md`` maps each method to their primitives).

Safety rests on one rule: **a workload's state is written only with the ownership epoch its
writer read when it claimed the workload** (a fencing token). Claiming bumps the epoch, so once a
new owner has claimed a workload every write of the previous owner - a process paused for longer
than its lease, a network partition - is refused, and the new owner's state stands.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

NO_TICK = -1
"""The ``tick`` of a workload never decided."""


@dataclass(frozen=True)
class WorkloadRecord:
    """One workload's row: who owns it, under which epoch, and what its scaler remembers.

    Attributes:
        workload: The workload's name.
        owner: The controller holding it, or None (never claimed, or released).
        epoch: The fencing token, bumped by every claim; writes must carry the current one.
        tick: The last tick decided for it (``NO_TICK`` before the first decision).
        replicas: The replicas its last decision set (what it runs now), or None.
        state_json: Its ``ScalerState`` as ``to_json`` wrote it, or None before the first
            decision.
    """

    workload: str
    owner: str | None
    epoch: int
    tick: int
    replicas: int | None
    state_json: str | None


@dataclass(frozen=True)
class DecisionRecord:
    """One decision as the decisions table keeps it (``(workload, tick)`` is unique)."""

    workload: str
    tick: int
    replicas: int
    controller: str
    epoch: int


class StateStore(Protocol):
    """What a sharded controller needs from its store.

    Every method is atomic on its own; none needs a transaction across calls. Time-based lease
    expiry is the backend's business (a server-side TTL is better than clients' clocks).
    """

    def join(self, controller: str, ttl_s: float) -> None:
        """Registers ``controller`` as a live member with a lease of ``ttl_s`` seconds.

        Needs: a key with a time to live (etcd: ``LeaseGrant`` + ``Put`` with the lease; Redis:
        ``SET members:<id> 1 PX <ttl>``). Replaces a previous lease of the same id.
        """
        ...

    def heartbeat(self, controller: str, ttl_s: float) -> bool:
        """Extends a live lease by ``ttl_s`` from now.

        Needs: renewing a TTL only while the key still exists (etcd: ``LeaseKeepAlive``, which
        fails on an expired lease; Redis: ``SET ... XX PX <ttl>``, or ``PEXPIRE``, which return
        0 on a missing key).

        Returns:
            False when the lease had already expired: the controller was out of the ring and
            must assume every workload it held has been claimed by another member.
        """
        ...

    def leave(self, controller: str) -> None:
        """Ends ``controller``'s lease now (a graceful stop): the others rebalance at once.

        Needs: deleting the member key (etcd: ``LeaseRevoke``; Redis: ``DEL``).
        """
        ...

    def live_members(self) -> list[str]:
        """The controllers whose lease has not expired, sorted.

        Needs: listing live keys under a prefix (etcd: ``Range`` over ``members/``; Redis:
        ``SCAN MATCH members:*``, or a sorted set scored by expiry and ``ZRANGEBYSCORE``).
        """
        ...

    def register(self, workloads: Iterable[str]) -> None:
        """Creates the rows of workloads not yet known (unowned, epoch 0, never decided).

        Needs: create-if-absent (etcd: txn on ``create_revision == 0``; Redis: ``HSETNX`` or
        ``SET NX``).
        """
        ...

    def workloads(self) -> list[str]:
        """Every registered workload, sorted."""
        ...

    def get(self, workload: str) -> WorkloadRecord:
        """The workload's row as last committed.

        Raises:
            KeyError: The workload is not registered.
        """
        ...

    def claim(self, workload: str, controller: str) -> WorkloadRecord | None:
        """Takes ownership of ``workload`` unless another live controller holds it.

        Succeeds when the workload is unowned (never claimed, or released), or its owner's lease
        has expired, or ``controller`` already owns it; then sets the owner to ``controller``
        and bumps the epoch, atomically with the check.

        Needs: a conditional write whose condition reads another key, the owner's lease (etcd:
        ``Txn`` comparing the owner key's value and the owner's member key's existence; Redis:
        ``WATCH owner-key member-key`` + ``MULTI``/``EXEC``, or one Lua script).

        Returns:
            The row with the new owner and epoch (and the state the previous owner last
            committed), or None when a live controller holds it.
        """
        ...

    def commit(
        self,
        workload: str,
        controller: str,
        epoch: int,
        *,
        tick: int,
        replicas: int,
        state_json: str,
    ) -> bool:
        """Stores a decision and the state after it, if ``controller`` still owns the workload
        under ``epoch`` and ``tick`` is after the last decided tick (compare-and-set).

        The state row and the decision row are written together or not at all.

        Needs: a multi-key compare-and-set (etcd: ``Txn`` comparing the owner and epoch, then
        two ``Put``s; Redis: ``WATCH`` + ``MULTI``/``EXEC`` or a Lua script).

        Returns:
            False when refused: another controller has claimed the workload since (the
            caller's epoch is stale), or this tick is already decided.
        """
        ...

    def release(self, workload: str, controller: str, epoch: int) -> bool:
        """Gives up ownership, keeping the state for the next owner (compare-and-set on owner
        and epoch, as ``commit``).

        Returns:
            False when ``controller`` no longer held it under ``epoch``.
        """
        ...

    def decisions(self) -> list[DecisionRecord]:
        """Every stored decision, by workload then tick."""
        ...


class LogicalClock(Protocol):
    """A shared tick counter that moves only when every workload has decided the current tick.

    It makes a multi-process run deterministic (the tests compare it with a serial run):
    controllers decide tick ``t`` for their workloads, and whoever notices that every workload
    has done so moves the clock to ``t + 1``. A production controller uses wall time instead
    (``tick = now_ms // interval_ms``; ``docs/sharded.md``).
    """

    def current_tick(self) -> int:
        """The tick being decided."""
        ...

    def advance(self, tick: int) -> int:
        """Moves the clock from ``tick`` to ``tick + 1`` if every registered workload has
        decided ``tick``; a no-op when the clock is already past ``tick``.

        Needs: a compare-and-set on the clock key conditioned on every workload's tick (etcd:
        ``Txn``; Redis: a Lua script). Returns the clock after the call.
        """
        ...


Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    controller TEXT PRIMARY KEY,
    expires_at REAL NOT NULL                -- seconds since the Unix epoch
);
CREATE TABLE IF NOT EXISTS workloads (
    workload   TEXT PRIMARY KEY,
    owner      TEXT,                        -- NULL: unowned
    epoch      INTEGER NOT NULL DEFAULT 0,  -- fencing token, bumped by every claim
    tick       INTEGER NOT NULL DEFAULT -1, -- last decided tick
    replicas   INTEGER,
    state_json TEXT
);
CREATE TABLE IF NOT EXISTS decisions (
    workload   TEXT NOT NULL,
    tick       INTEGER NOT NULL,
    replicas   INTEGER NOT NULL,
    controller TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    PRIMARY KEY (workload, tick)            -- a second decision of one tick cannot be stored
);
CREATE TABLE IF NOT EXISTS clock (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    tick INTEGER NOT NULL
);
INSERT OR IGNORE INTO clock (id, tick) VALUES (0, 0);
"""


class SqliteStateStore:
    """``StateStore`` and ``LogicalClock`` over one SQLite file, shared by processes.

    WAL mode lets readers run beside the one writer; every write is a short ``BEGIN
    IMMEDIATE`` transaction (it takes the write lock up front, so two writers never deadlock
    upgrading read locks) and waits up to ``busy_timeout_s`` for the lock. The conditions of
    ``claim``, ``commit``, ``release`` and ``advance`` are evaluated inside that transaction,
    which is what makes them compare-and-set.

    Lease expiry compares ``expires_at`` with ``wall_clock()`` (wall time by default: every
    process on the machine reads the same one, and, unlike ``time.monotonic()``, it survives a
    reboot; a large step of the system clock expires or extends leases early or late). SQLite
    serves processes on one machine (not a network file system); for controllers on several
    machines use a server (``docs/sharded.md``).

    Args:
        path: The database file; created with the schema when absent.
        wall_clock: Seconds since the epoch, for leases; tests pass a fake one.
        busy_timeout_s: How long a write waits for another process's write lock.
        synchronous: SQLite's ``synchronous`` pragma. ``NORMAL`` (the default) never loses a
            commit when a process dies, only the last ones on an OS crash or power loss;
            ``FULL`` syncs every commit.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        wall_clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 10.0,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        self.path = Path(path)
        self._wall_clock = wall_clock
        # isolation_level=None: no implicit transactions; each method opens its own.
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        with self._write():
            # Statement by statement: executescript() would commit the open transaction first.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def close(self) -> None:
        """Closes the connection."""
        self._db.close()

    def __enter__(self) -> SqliteStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # membership

    def join(self, controller: str, ttl_s: float) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO members (controller, expires_at) VALUES (?, ?) "
                "ON CONFLICT (controller) DO UPDATE SET expires_at = excluded.expires_at",
                (controller, self._wall_clock() + ttl_s),
            )

    def heartbeat(self, controller: str, ttl_s: float) -> bool:
        now = self._wall_clock()
        with self._write() as db:
            renewed = db.execute(
                "UPDATE members SET expires_at = ? WHERE controller = ? AND expires_at > ?",
                (now + ttl_s, controller, now),
            ).rowcount
            # An expired lease is gone, as in etcd or Redis: the controller must join again.
            db.execute("DELETE FROM members WHERE expires_at <= ?", (now,))
        return renewed == 1

    def leave(self, controller: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM members WHERE controller = ?", (controller,))

    def live_members(self) -> list[str]:
        rows = self._db.execute(
            "SELECT controller FROM members WHERE expires_at > ? ORDER BY controller",
            (self._wall_clock(),),
        ).fetchall()
        return [str(controller) for (controller,) in rows]

    # workloads

    def register(self, workloads: Iterable[str]) -> None:
        with self._write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO workloads (workload) VALUES (?)",
                [(workload,) for workload in workloads],
            )

    def workloads(self) -> list[str]:
        rows = self._db.execute("SELECT workload FROM workloads ORDER BY workload").fetchall()
        return [str(workload) for (workload,) in rows]

    def get(self, workload: str) -> WorkloadRecord:
        row = self._db.execute(
            "SELECT workload, owner, epoch, tick, replicas, state_json FROM workloads "
            "WHERE workload = ?",
            (workload,),
        ).fetchone()
        if row is None:
            raise KeyError(workload)
        return _workload_record(row)

    def claim(self, workload: str, controller: str) -> WorkloadRecord | None:
        with self._write() as db:
            claimed = db.execute(
                "UPDATE workloads SET owner = ?, epoch = epoch + 1 "
                "WHERE workload = ? AND (owner IS NULL OR owner = ? OR owner NOT IN "
                "(SELECT controller FROM members WHERE expires_at > ?))",
                (controller, workload, controller, self._wall_clock()),
            ).rowcount
            if claimed == 0:
                return None
            row = db.execute(
                "SELECT workload, owner, epoch, tick, replicas, state_json FROM workloads "
                "WHERE workload = ?",
                (workload,),
            ).fetchone()
        return _workload_record(row)

    def commit(
        self,
        workload: str,
        controller: str,
        epoch: int,
        *,
        tick: int,
        replicas: int,
        state_json: str,
    ) -> bool:
        with self._write() as db:
            updated = db.execute(
                "UPDATE workloads SET tick = ?, replicas = ?, state_json = ? "
                "WHERE workload = ? AND owner = ? AND epoch = ? AND tick < ?",
                (tick, replicas, state_json, workload, controller, epoch, tick),
            ).rowcount
            if updated == 0:
                return False
            db.execute(
                "INSERT INTO decisions (workload, tick, replicas, controller, epoch) "
                "VALUES (?, ?, ?, ?, ?)",
                (workload, tick, replicas, controller, epoch),
            )
        return True

    def release(self, workload: str, controller: str, epoch: int) -> bool:
        with self._write() as db:
            released = db.execute(
                "UPDATE workloads SET owner = NULL WHERE workload = ? AND owner = ? AND epoch = ?",
                (workload, controller, epoch),
            ).rowcount
        return released == 1

    def decisions(self) -> list[DecisionRecord]:
        rows = self._db.execute(
            "SELECT workload, tick, replicas, controller, epoch FROM decisions "
            "ORDER BY workload, tick"
        ).fetchall()
        return [
            DecisionRecord(str(w), int(t), int(r), str(c), int(e)) for (w, t, r, c, e) in rows
        ]

    # logical clock

    def current_tick(self) -> int:
        (tick,) = self._db.execute("SELECT tick FROM clock WHERE id = 0").fetchone()
        return int(tick)

    def advance(self, tick: int) -> int:
        # Idle controllers call this every pass: look first without taking the write lock.
        ready = self._db.execute(
            "SELECT tick = ? AND NOT EXISTS (SELECT 1 FROM workloads WHERE tick < ?) "
            "FROM clock WHERE id = 0",
            (tick, tick),
        ).fetchone()[0]
        if not ready:
            return self.current_tick()
        with self._write() as db:
            db.execute(
                "UPDATE clock SET tick = tick + 1 WHERE id = 0 AND tick = ? "
                "AND NOT EXISTS (SELECT 1 FROM workloads WHERE tick < ?)",
                (tick, tick),
            )
            (current,) = db.execute("SELECT tick FROM clock WHERE id = 0").fetchone()
        return int(current)


WorkloadRow = tuple[str, str | None, int, int, int | None, str | None]
"""A ``workloads`` row as SQLite returns it (the columns are declared with these types)."""


def _workload_record(row: WorkloadRow) -> WorkloadRecord:
    workload, owner, epoch, tick, replicas, state_json = row
    return WorkloadRecord(workload, owner, epoch, tick, replicas, state_json)
