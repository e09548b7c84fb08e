"""replicast: how many replicas now, and why.

A pure decision library for autoscalers. Load a spec (replicast's own format, a Kubernetes
``HorizontalPodAutoscaler`` manifest, as a dict or JSON/YAML text), keep one
:class:`ScalerState` per workload, and call :meth:`Scaler.decide` with each observation::

    import replicast

    scaler = replicast.Scaler({"max_replicas": 10, "hpa": {"metrics": [...]}})
    state = replicast.ScalerState()
    decision = scaler.decide(state, now_ms=..., current_replicas=3, metrics=[...])

Forecast a load series with a :class:`Model` (seasonal naive, ETS, or the automatic
choice), and replay a load trace through policies with :func:`backtest`::

    model = replicast.Model.ets(period=1440)
    forecast = model.fit(load).predict(30, level=0.9)  # .point, .lower, .upper: ndarrays

    result = replicast.backtest(timestamps_s, load)  # the CLI's default policies + oracle
    result["runs"]["hpa"]["scores"]["replica_hours"]
"""

from __future__ import annotations

from replicast._replicast import (
    Decision,
    FittedModel,
    Forecast,
    Model,
    Scaler,
    ScalerSpec,
    ScalerState,
    __version__,
    backtest,
)
from replicast.errors import (
    InsufficientDataError,
    InvalidConfigError,
    InvalidInputError,
    NotConvergedError,
    NumericalError,
    ReplicastError,
    SerializationError,
)
from replicast.types import BacktestResult, BacktestRun, Timeline

__all__ = [
    "BacktestResult",
    "BacktestRun",
    "Decision",
    "FittedModel",
    "Forecast",
    "InsufficientDataError",
    "InvalidConfigError",
    "InvalidInputError",
    "Model",
    "NotConvergedError",
    "NumericalError",
    "ReplicastError",
    "Scaler",
    "ScalerSpec",
    "ScalerState",
    "SerializationError",
    "Timeline",
    "__version__",
    "backtest",
]
