"""The simulated fleet the sharded controllers scale: workloads, their specs and their load.

Everything here is a pure function of (workload, tick) so that any controller process - and the
serial reference run - sees the same observations for a workload at a tick, whoever decides it.
A real controller reads Prometheus (``examples/python/swarm_autoscaler.py``) and the workload's
replicas from its orchestrator instead; the rest of the loop stays as it is.

Two kinds of workload alternate, both with memory a handover must not lose:

- ``hpa``: a Kubernetes HPA on CPU utilization with ``behavior`` (a 30 s scale-up window with at
  most 2 pods per 30 s, a 120 s scale-down stabilization window);
- ``threshold``: the seed's hysteresis bands on CPU with scale-up/scale-down cooldowns.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Literal

import replicast

TICK_MS = 15_000
"""Logical time between two ticks: the controllers' decision interval."""

START_MS = 1_700_000_000_000
"""The instant of tick 0."""

HPA_SPEC: dict[str, Any] = {
    "min_replicas": 1,
    "max_replicas": 20,
    "hpa": {
        "metrics": [
            {
                "type": "resource",
                "resource": "cpu",
                "target": {"type": "utilization", "average_utilization": 60},
            }
        ]
    },
    "behavior": {
        "scale_up": {
            "stabilization_window_s": 30,
            "policies": [{"type": "pods", "value": 2, "period_s": 30}],
        },
        "scale_down": {"stabilization_window_s": 120},
    },
}

THRESHOLD_SPEC: dict[str, Any] = {
    "min_replicas": 1,
    "max_replicas": 20,
    "threshold": {"rules": [{"signal": "cpu", "scale_up_above": 70, "scale_down_below": 30}]},
    "cooldown": {"scale_up_s": 45, "scale_down_s": 90},
}

Kind = Literal["hpa", "threshold"]


@dataclass(frozen=True)
class Workload:
    """One scaled workload.

    Attributes:
        name: Its unique name (the consistent-hash key).
        kind: Which spec scales it.
        initial_replicas: What it runs before its first decision.
    """

    name: str
    kind: Kind
    initial_replicas: int = 2


def make_fleet(count: int) -> list[Workload]:
    """``count`` workloads, alternating HPA and threshold specs."""
    return [
        Workload(f"workload-{index:04d}", "hpa" if index % 2 == 0 else "threshold")
        for index in range(count)
    ]


def scalers() -> dict[Kind, replicast.Scaler]:
    """One scaler per kind: a ``Scaler`` is immutable and shared by every workload of its kind."""
    return {"hpa": replicast.Scaler(HPA_SPEC), "threshold": replicast.Scaler(THRESHOLD_SPEC)}


def _unit_noise(name: str, tick: int) -> float:
    """A deterministic pseudo-random number in [0, 1) for (workload, tick), equal in every
    process (BLAKE2b, not the per-process salted ``hash()``)."""
    digest = hashlib.blake2b(f"{name}@{tick}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def demand_cores(name: str, tick: int) -> float:
    """The workload's CPU demand at ``tick``, in cores (one replica has one core).

    A daily-like wave compressed to 40 ticks (10 logical minutes), with a per-workload phase and
    amplitude, plus noise: enough up and down movement to exercise windows and cooldowns.
    """
    phase = _unit_noise(name, -1) * 40
    amplitude = 1.5 + 3.0 * _unit_noise(name, -2)
    wave = math.sin(2 * math.pi * (tick + phase) / 40)
    return max(0.1, 3.0 + amplitude * wave + 0.8 * (_unit_noise(name, tick) - 0.5))


def decide(
    scaler: replicast.Scaler,
    state: replicast.ScalerState,
    workload: Workload,
    tick: int,
    current_replicas: int,
) -> replicast.Decision:
    """Observes ``workload`` at ``tick`` and decides, updating ``state``.

    The observation is the CPU utilization the demand puts on the current replicas, as the
    aggregated HPA metric or as the threshold rule's ``cpu`` signal.
    """
    utilization = 100.0 * demand_cores(workload.name, tick) / current_replicas
    now_ms = START_MS + tick * TICK_MS
    if workload.kind == "hpa":
        metric = {"kind": "aggregated", "value": utilization, "ready_replicas": current_replicas}
        return scaler.decide(
            state, now_ms=now_ms, current_replicas=current_replicas, metrics=[metric]
        )
    return scaler.decide(
        state, now_ms=now_ms, current_replicas=current_replicas, signals={"cpu": utilization}
    )


@dataclass(frozen=True)
class ReferenceRun:
    """What one uninterrupted, single-process run decides.

    Attributes:
        replicas: ``(workload, tick)`` to the replicas decided.
        final_states: Each workload's state after its last tick, as ``to_json`` text.
    """

    replicas: dict[tuple[str, int], int]
    final_states: dict[str, str]


def serial_reference(fleet: list[Workload], ticks: int) -> ReferenceRun:
    """Decides every workload at ticks ``0 .. ticks - 1`` in one loop, states in memory."""
    by_kind = scalers()
    replicas: dict[tuple[str, int], int] = {}
    final_states: dict[str, str] = {}
    for workload in fleet:
        state = replicast.ScalerState()
        current = workload.initial_replicas
        for tick in range(ticks):
            current = decide(by_kind[workload.kind], state, workload, tick, current).replicas
            replicas[(workload.name, tick)] = current
        final_states[workload.name] = state.to_json()
    return ReferenceRun(replicas, final_states)
