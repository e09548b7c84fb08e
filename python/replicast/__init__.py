"""replicast: how many replicas now, and why.

A pure decision library for autoscalers. Load a spec (replicast's own format, a Kubernetes
``HorizontalPodAutoscaler`` manifest, as a dict or JSON/YAML text), keep one
:class:`ScalerState` per workload, and call :meth:`Scaler.decide` with each observation::

    import replicast

    scaler = replicast.Scaler({"max_replicas": 10, "hpa": {"metrics": [...]}})
    state = replicast.ScalerState()
    decision = scaler.decide(state, now_ms=..., current_replicas=3, metrics=[...])

Forecasting models and ``backtest`` come with the Rust core's forecasting and backtest
modules, which are not merged yet.
"""

from __future__ import annotations

from replicast._replicast import Decision, Scaler, ScalerSpec, ScalerState, __version__
from replicast.errors import (
    InsufficientDataError,
    InvalidConfigError,
    InvalidInputError,
    NotConvergedError,
    NumericalError,
    ReplicastError,
    SerializationError,
)

__all__ = [
    "Decision",
    "InsufficientDataError",
    "InvalidConfigError",
    "InvalidInputError",
    "NotConvergedError",
    "NumericalError",
    "ReplicastError",
    "Scaler",
    "ScalerSpec",
    "ScalerState",
    "SerializationError",
    "__version__",
]
