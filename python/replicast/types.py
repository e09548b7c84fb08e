"""Typed shapes of the plain-data results (for type checkers; at runtime they are dicts)."""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

__all__ = ["BacktestResult", "BacktestRun", "Timeline"]


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


class BacktestRun(TypedDict):
    """One policy's replay."""

    scores: dict[str, float]
    """The scores, keyed as in ``replicast backtest --json`` (``replica_hours``, ...)."""
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
