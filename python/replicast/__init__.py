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

Many workloads at once (one release of the GIL per batch; :mod:`replicast.fleet` runs them
on Ray): :func:`backtest_batch`, :func:`tune_batch` (``replicast tune --slo``) and
:meth:`Model.fit_batch`.
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
    backtest_batch,
    parse_trace,
    tune,
    tune_batch,
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
from replicast.types import (
    BacktestResult,
    BacktestRun,
    BacktestSummary,
    HeldOut,
    RunScores,
    Timeline,
    TuneResult,
)

__all__ = [
    "BacktestResult",
    "BacktestRun",
    "BacktestSummary",
    "Decision",
    "FittedModel",
    "Forecast",
    "HeldOut",
    "InsufficientDataError",
    "InvalidConfigError",
    "InvalidInputError",
    "Model",
    "NotConvergedError",
    "NumericalError",
    "ReplicastError",
    "RunScores",
    "Scaler",
    "ScalerSpec",
    "ScalerState",
    "SerializationError",
    "Timeline",
    "TuneResult",
    "__version__",
    "backtest",
    "backtest_batch",
    "parse_trace",
    "tune",
    "tune_batch",
]
