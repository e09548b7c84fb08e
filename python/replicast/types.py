"""Typed shapes of the plain-data results (for type checkers; at runtime they are dicts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from replicast._replicast import ScalerSpec

__all__ = [
    "BacktestResult",
    "BacktestRun",
    "BacktestSummary",
    "HeldOut",
    "RunScores",
    "Timeline",
    "TuneResult",
]


class Timeline(TypedDict):
    """One run, step by step; every array has one entry per trace step."""

    timestamps_s: npt.NDArray[np.int64]
    """Start of each step, seconds."""
    load: npt.NDArray[np.float64]
    """Load during each step."""
    ready: npt.NDArray[np.int64]
    """Ready (serving) replicas during each step."""
    provisioned: npt.NDArray[np.int64]
    """Provisioned (billed) replicas during each step."""
    needed: npt.NDArray[np.int64]
    """Replicas the load needed at 100 %: ``max(1, ceil(load / capacity))``."""


class RunScores(TypedDict):
    """One policy's scores (what :func:`replicast.backtest_batch` keeps of a run)."""

    scores: dict[str, float]
    """The scores, keyed as in ``replicast backtest --json`` (``replica_hours``, ...)."""


class BacktestRun(RunScores):
    """One policy's replay."""

    timeline: Timeline
    """Step by step."""


class BacktestResult(TypedDict):
    """What :func:`replicast.backtest` returns."""

    step_s: int
    """The trace's step, seconds."""
    capacity_per_replica: float
    """Load one replica serves per step at 100 %."""
    fleet: dict[str, Any]
    """The modelled fleet, as in ``replicast backtest --json``."""
    runs: dict[str, BacktestRun]
    """Policy name to run, in order, the ``oracle`` last."""


class BacktestSummary(TypedDict):
    """What :func:`replicast.backtest_batch` returns per workload: a backtest without timelines."""

    step_s: int
    """The trace's step, seconds."""
    capacity_per_replica: float
    """Load one replica serves per step at 100 %."""
    fleet: dict[str, Any]
    """The modelled fleet, as in ``replicast backtest --json``."""
    runs: dict[str, RunScores]
    """Policy name to scores, in order, the ``oracle`` last."""


class HeldOut(TypedDict):
    """How a tuned pick did on the tail of the history the search never saw."""

    steps: int
    """Steps held back (the last ones)."""
    scores: dict[str, float]
    """The pick's scores on them (replayed over the whole history, scored on the tail)."""
    allowed_minutes: float
    """Minutes overloaded the SLO allows on them."""
    meets_slo: bool
    """Whether the pick met the SLO on them."""


class TuneResult(TypedDict):
    """What :func:`replicast.tune` returns (and :func:`replicast.tune_batch` per workload)."""

    step_s: int
    """The trace's step, seconds."""
    capacity_per_replica: float
    """Load one replica serves per step at 100 %."""
    fleet: dict[str, Any]
    """The modelled fleet the search replayed."""
    spec: ScalerSpec
    """The cheapest spec that met the SLO on the searched part of the history."""
    scores: dict[str, float]
    """Its scores on that part."""
    tried: int
    """How many configurations were tried."""
    feasible: int
    """How many met the SLO."""
    held_out: HeldOut | None
    """The pick on the held-back tail; None when ``held_out_pct`` is 0."""
