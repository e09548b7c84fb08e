"""Type stubs of the compiled module ``replicast._replicast`` (import ``replicast`` instead)."""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, final, overload

from typing_extensions import Self

import numpy as np
import numpy.typing as npt

from replicast.errors import ReplicastError
from replicast.types import BacktestResult, BacktestSummary, TuneResult

__version__: str
__all__ = [
    "Decision",
    "FittedModel",
    "Forecast",
    "Model",
    "Scaler",
    "ScalerSpec",
    "ScalerState",
    "__version__",
    "backtest",
    "backtest_batch",
    "parse_trace",
    "tune",
    "tune_batch",
]

@final
class ScalerSpec:
    """A validated scaler configuration.

    Accepts replicast's own format, a Kubernetes ``HorizontalPodAutoscaler`` manifest
    (autoscaling/v2) or another ``ScalerSpec``; as a dict, or as JSON or YAML text.

    Args:
        spec: The configuration.

    Raises:
        InvalidConfigError: The spec is malformed or a value is out of range.
        TypeError: ``spec`` is neither a dict, a str nor a ``ScalerSpec``.
    """

    def __new__(cls, spec: ScalerSpec | Mapping[str, Any] | str) -> Self: ...
    @staticmethod
    def from_json(text: str) -> ScalerSpec:
        """Parses and validates a spec from JSON text.

        Raises:
            InvalidConfigError: Malformed JSON, unknown fields or invalid values.
        """
    @staticmethod
    def from_yaml(text: str) -> ScalerSpec:
        """Parses and validates a spec from YAML text.

        Raises:
            InvalidConfigError: Malformed YAML, unknown fields or invalid values.
        """
    def to_json(self) -> str:
        """The spec as pretty JSON in replicast's own format."""
    def to_dict(self) -> dict[str, Any]:
        """The spec as a dict in replicast's own format."""
    @property
    def min_replicas(self) -> int:
        """Lower bound on replicas."""
    @property
    def max_replicas(self) -> int:
        """Upper bound on replicas."""
    @property
    def sources(self) -> list[str]:
        """The enabled sources (``"hpa"``, ``"keda"``, ``"threshold"``, ``"kpa"``,
        ``"predictive"``, ``"vpa"``)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class ScalerState:
    """Everything a scaler remembers about one workload between decisions.

    Persist it between decisions (``to_json`` / ``from_json``, or pickle). A decision that
    fails leaves it untouched.
    """

    def __new__(cls) -> Self: ...
    @staticmethod
    def from_json(text: str) -> ScalerState:
        """Restores a state from ``to_json`` output.

        Raises:
            SerializationError: Malformed JSON or an unsupported version.
        """
    def to_json(self) -> str:
        """The state as compact JSON."""
    @property
    def last_decision_ms(self) -> int | None:
        """The instant of the last successful decision."""
    @property
    def last_rescale_ms(self) -> int | None:
        """The instant of the last rescale."""
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class Decision:
    """The outcome of one decision: the replicas to run and why.

    ``str(decision)`` is a multi-line human summary.
    """

    @staticmethod
    def from_json(text: str) -> Decision:
        """Restores a decision from ``to_json`` output.

        Raises:
            SerializationError: The text is not a decision.
        """
    @property
    def replicas(self) -> int:
        """Replicas to run."""
    @property
    def current_replicas(self) -> int:
        """Replicas before this decision."""
    @property
    def rescale(self) -> bool:
        """Whether ``replicas != current_replicas``."""
    @property
    def proposals(self) -> list[dict[str, Any]]:
        """Each source's proposal: ``source``, ``name``, ``replicas`` (None on failure), ``reason``."""
    @property
    def steps(self) -> list[dict[str, Any]]:
        """The stages that changed the value, in order: ``stage``, ``from``, ``to``, ``reason``."""
    @property
    def conditions(self) -> list[dict[str, Any]]:
        """Kubernetes HPA status conditions: ``type``, ``status``, ``reason``, ``message``."""
    @property
    def errors(self) -> list[str]:
        """Failed metrics, by message."""
    @property
    def kpa(self) -> dict[str, Any] | None:
        """The KPA's view (a spec with a ``kpa`` source): ``scale`` (averages, panicking,
        excess_burst_capacity, desired_pod_count, steps) and ``reconcile`` (want, apply,
        waiting, sks_mode, activators); None for other specs."""
    @property
    def vertical(self) -> dict[str, Any] | None:
        """The vertical half (a spec with a ``vpa`` source): ``recommendation`` (per
        container target, bounds, requests, limits, reasons), ``apply`` (the requests and
        limits to set now) and ``notes`` (how each resource was coordinated with the HPA);
        None for other specs."""
    @property
    def keda(self) -> dict[str, Any] | None:
        """KEDA's view (a spec with a ``keda`` source): ``active``, ``error``, ``fallback``,
        ``composite_value``, ``triggers`` (``name``, ``value``, ``active``, ``failures``,
        ``fallback``) and ``notes``; None for other specs."""
    def to_dict(self) -> dict[str, Any]:
        """The whole decision as a dict (the JSON form)."""
    def to_json(self) -> str:
        """The whole decision as compact JSON."""
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class Scaler:
    """A validated spec, ready to decide. Immutable; share one across threads.

    Args:
        spec: A ``ScalerSpec``, a dict, or JSON/YAML text (see ``ScalerSpec``).

    Raises:
        InvalidConfigError: The spec is malformed or a value is out of range.
        TypeError: ``spec`` has an unsupported type.
    """

    def __new__(cls, spec: ScalerSpec | Mapping[str, Any] | str) -> Self: ...
    @property
    def spec(self) -> ScalerSpec:
        """The spec this scaler decides with."""
    def decide(
        self,
        state: ScalerState,
        *,
        now_ms: int,
        current_replicas: int,
        status_replicas: int | None = None,
        ready_replicas: int | None = None,
        pods: Sequence[Mapping[str, Any]] | None = None,
        metrics: Sequence[Mapping[str, Any]] | None = None,
        signals: Mapping[str, float] | None = None,
        healthy: bool | None = None,
        load: float | None = None,
        load_since_ms: int | None = None,
        load_samples: npt.ArrayLike | None = None,
        load_step_ms: int | None = None,
        kpa: Mapping[str, Any] | None = None,
        container_usage: Sequence[Mapping[str, Any]] | None = None,
        container_resources: Sequence[Mapping[str, Any]] | None = None,
    ) -> Decision:
        """Decides the replicas for one workload, updating ``state`` on success.

        The GIL is released while deciding.

        Args:
            state: The workload's state; updated only when the decision succeeds.
            now_ms: The decision instant in milliseconds; never before the previous one.
            current_replicas: The target's current desired replicas.
            status_replicas: Replicas that exist; defaults to ``current_replicas``.
            ready_replicas: Ready pods, when ``pods`` is not given.
            pods: Per-pod state, as in the Rust ``Pod`` (serde form).
            metrics: One input per HPA metric, in spec order, e.g.
                ``{"kind": "aggregated", "value": 85.0, "ready_replicas": 4}`` or
                ``{"kind": "unavailable", "reason": "prometheus down"}``.
            signals: Named values for the threshold source.
            healthy: The caller's health check; ``False`` blocks scale-down.
            load: The mean load since ``load_since_ms`` (or over the predictive source's last
                sample interval), for the predictive source, in the units of its
                ``capacity_per_replica``.
            load_since_ms: Where the window of ``load`` starts.
            load_samples: Instead of ``load``: the load samples since the previous decision,
                oldest first, the last ending at ``now_ms`` (1-D array-like); the predictive
                source averages them into its own sample interval.
            load_step_ms: The spacing of ``load_samples``, ms (required with them).
            kpa: For a ``kpa`` source: ``{"samples": [{"time_ms", "value"}, ...]}`` (the
                revision-wide totals since the previous decision) or ``{"averages":
                {"stable", "panic"}}``, optionally ``sks_proxy_since_ms`` and
                ``activator_in_path``.
            container_usage: For a ``vpa`` source: per-container usage, ``{"container",
                "pod", "cpu_cores", "memory_bytes"}`` (optionally ``start_ms``,
                ``oom_requested_memory_bytes``).
            container_resources: The pod's current ``{"container", "requests", "limits"}``
                (each ``{"cpu_millicores", "memory_bytes"}``).

        Returns:
            The decision, with its proposals, steps and conditions.

        Raises:
            InvalidInputError: An unusable observation (NaN, negative, out of order, the wrong
                number of metric inputs, a malformed metric or pod dict).
            TypeError: An argument of the wrong type.
        """
    def decide_batch(
        self,
        states: Sequence[ScalerState],
        *,
        now_ms: int,
        current_replicas: npt.ArrayLike,
        values: npt.ArrayLike,
        ready_replicas: npt.ArrayLike | None = None,
        on_error: Literal["raise", "nan"] = "raise",
    ) -> npt.NDArray[np.float64]:
        """Decides for many workloads at one instant, in one call, with the GIL released.

        Row ``i`` of ``values`` holds workload ``i``'s observations: one column per HPA
        metric of the spec (an aggregated value, as ``{"kind": "aggregated"}``), then one per
        threshold rule's signal. NaN marks a missing value: an unavailable metric, or a
        missing signal; either way the workload does not scale down on it.

        Args:
            states: One state per workload; each is updated when its decision succeeds.
            now_ms: The decision instant in milliseconds, shared by every workload.
            current_replicas: 1-D, one whole number per workload.
            values: 2-D ``(n_workloads, n_columns)``, or 1-D for a single column.
            ready_replicas: 1-D, ready pods per workload; defaults to ``current_replicas``.
            on_error: ``"raise"`` raises the first workload's error (after deciding every
                other workload); ``"nan"`` puts NaN in that workload's slot.

        Returns:
            A float64 array of replicas, one per workload.

        Raises:
            ValueError: An array of the wrong dimensionality or length.
            TypeError: A non-numeric array, or a ``states`` item that is not a ``ScalerState``.
            InvalidInputError: A workload's observation is unusable (with ``on_error="raise"``).
        """
    def __reduce__(self) -> tuple[Any, tuple[ScalerSpec]]: ...

@final
class Model:
    """A forecasting model description (unfitted), as the Rust ``ModelSpec``.

    The config is a dict or JSON text tagged by ``kind``: ``{"kind": "seasonal_naive",
    "period": 24}``, ``{"kind": "ets", "period": 24}`` (unset components are chosen by AICc),
    ``{"kind": "regression", "step_s": 60}`` (least squares on lags and calendar terms),
    ``{"kind": "multi_seasonal", "periods": [1440, 10080]}`` (seasonal profiles plus ETS on the
    remainder), or ``{"kind": "auto", "step_s": 60}`` (period detection and selection by rolling
    out-of-sample error). The named constructors build the common ones.

    Args:
        config: The spec, as a dict, JSON text or another ``Model``.

    Raises:
        InvalidConfigError: Unknown kind or field, or a value out of range.
        TypeError: ``config`` is neither a dict, a str nor a ``Model``.
    """

    def __new__(cls, config: Model | Mapping[str, Any] | str) -> Self: ...
    @staticmethod
    def from_config(config: Model | Mapping[str, Any] | str) -> Model:
        """The same as ``Model(config)``.

        Raises:
            InvalidConfigError: Unknown kind or field, or a value out of range.
            TypeError: ``config`` has an unsupported type.
        """
    @staticmethod
    def from_json(text: str) -> Model:
        """Parses and validates a spec from JSON text (``to_json`` output).

        Raises:
            InvalidConfigError: Malformed JSON, unknown fields or invalid values.
        """
    @staticmethod
    def seasonal_naive(*, period: int) -> Model:
        """Seasonal naive: repeats the value one period ago.

        Args:
            period: Season length in steps (1 repeats the last value).

        Raises:
            InvalidConfigError: ``period`` is below 1.
        """
    @staticmethod
    def ets(
        *,
        period: int = 1,
        error: Literal["additive", "multiplicative"] | None = None,
        trend: Literal["none", "additive", "additive_damped"] | None = None,
        season: Literal["none", "additive", "multiplicative"] | None = None,
    ) -> Model:
        """Exponential smoothing (Holt-Winters) with estimated parameters.

        Args:
            period: Season length in steps; 1 means no season.
            error: Error form; None chooses by AICc.
            trend: Trend form; None chooses by AICc.
            season: Season form; None chooses by AICc.

        Raises:
            InvalidConfigError: ``period`` is below 1 or a form is unknown.
        """
    @staticmethod
    def auto(*, step_s: int = 60, periods: Sequence[int] | None = None) -> Model:
        """Automatic model: detects seasons and selects by rolling out-of-sample error.

        Args:
            step_s: The series' sampling step in seconds.
            periods: Season lengths in steps; None detects them.

        Raises:
            InvalidConfigError: A value is out of range.
        """
    @property
    def kind(self) -> str:
        """``"seasonal_naive"``, ``"ets"``, ``"regression"``, ``"multi_seasonal"`` or ``"auto"``."""
    def to_json(self) -> str:
        """The spec as compact JSON, every field included."""
    def to_dict(self) -> dict[str, Any]:
        """The spec as a dict, every field included."""
    def fit(self, y: npt.ArrayLike) -> FittedModel:
        """Fits the model to a regular series, with the GIL released.

        Args:
            y: 1-D array-like of finite numbers, oldest first, one value per step.

        Returns:
            The fitted model.

        Raises:
            InvalidInputError: An empty series or a non-finite value (NaN, inf).
            InsufficientDataError: The series is too short for the model.
            NumericalError: Estimation broke down.
            ValueError: ``y`` is not 1-D.
            TypeError: ``y`` is not numeric.
        """
    @overload
    def fit_batch(
        self, ys: Sequence[npt.ArrayLike], *, on_error: Literal["raise"] = "raise"
    ) -> list[FittedModel]:
        """Fits the model to each series, with the GIL released once for the whole batch.

        Each fitted model equals ``self.fit(y)`` of its series. Every series is converted
        first; the fits then run in one release of the GIL (other Python threads run
        meanwhile).

        Example:
            >>> model = replicast.Model.seasonal_naive(period=2)
            >>> fitted = model.fit_batch([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
            >>> [f.predict(1).point.tolist() for f in fitted]
            [[2.0], [5.0]]

        Args:
            ys: A sequence of 1-D array-likes, one series per workload.
            on_error: ``"raise"`` the first failure (by index), or ``"return"`` each
                failure's exception in its workload's place and go on.

        Returns:
            One fitted model per series, in order (or the exception, with ``"return"``).

        Raises:
            InvalidInputError, InsufficientDataError, NumericalError, ValueError, TypeError:
                As :meth:`fit`, the message starting ``workload <index>:``.
        """
    @overload
    def fit_batch(
        self, ys: Sequence[npt.ArrayLike], *, on_error: Literal["return"]
    ) -> list[FittedModel | ReplicastError]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class FittedModel:
    """A fitted forecasting model. Forecasts, and absorbs new observations with ``update``.

    Safe to share across threads (updates are serialised by an internal lock).
    """

    @staticmethod
    def from_json(text: str) -> FittedModel:
        """Restores a fitted model from ``to_json`` output.

        Raises:
            SerializationError: The text is not a fitted model.
        """
    def to_json(self) -> str:
        """The fitted model as compact JSON."""
    @property
    def kind(self) -> str:
        """``"seasonal_naive"``, ``"ets"``, ``"regression"``, ``"multi_seasonal"`` or ``"auto"``."""
    @property
    def n_obs(self) -> int:
        """Observations absorbed (fit plus updates)."""
    def predict(self, horizon: int, *, level: float | None = None) -> Forecast:
        """Forecasts steps ``1..=horizon`` after the last observation, with the GIL released.

        Args:
            horizon: Steps ahead, at least 1.
            level: Coverage of a central prediction interval, in (0, 1); None for points only.

        Returns:
            The forecast.

        Raises:
            InvalidInputError: ``horizon`` below 1 or ``level`` outside (0, 1).
            InsufficientDataError: The model declines to forecast (``auto`` when every
                candidate did worse than persistence).
            NumericalError: A forecast is not finite.
        """
    def update(self, y: float) -> None:
        """Absorbs the observation one step after the last one, without refitting.

        Args:
            y: The new observation.

        Raises:
            InvalidInputError: ``y`` is not finite; the model is unchanged then.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class Forecast:
    """Point forecasts for steps ``1..=horizon``, with an optional central interval."""

    @staticmethod
    def from_json(text: str) -> Forecast:
        """Restores a forecast from ``to_json`` output.

        Raises:
            SerializationError: The text is not a forecast.
        """
    def to_json(self) -> str:
        """The forecast as compact JSON."""
    @property
    def point(self) -> npt.NDArray[np.float64]:
        """Point forecasts (the conditional mean), one per step ahead."""
    @property
    def lower(self) -> npt.NDArray[np.float64] | None:
        """Lower interval bounds, or None when no level was asked for."""
    @property
    def upper(self) -> npt.NDArray[np.float64] | None:
        """Upper interval bounds, or None when no level was asked for."""
    @property
    def level(self) -> float | None:
        """The interval's nominal coverage, or None."""
    @property
    def horizon(self) -> int:
        """Steps forecast."""
    def __len__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

def backtest(
    timestamps_s: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    specs: Mapping[str, ScalerSpec | Mapping[str, Any] | str] | None = None,
    capacity: float | None = None,
    startup_s: int = 120,
    interval_s: int = 0,
) -> BacktestResult:
    """Replays a load trace through policies and the oracle, and scores each run.

    The model (start-up delay, decisions every ``interval_s``, demand-based utilization, the
    oracle as cost floor) and the score formulas are those of ``replicast backtest``. The GIL
    is released while simulating.

    Args:
        timestamps_s: 1-D, the start of each step in whole seconds, on a regular step.
        values: 1-D, the load during each step, finite and non-negative.
        specs: Policy name to spec (a ``ScalerSpec``, dict, or JSON/YAML text); None runs the
            CLI's defaults ``hpa``, ``threshold`` and ``predictive``.
        capacity: Load one replica serves per step at 100 %; None sizes it so the peak needs
            20 replicas at 70 %.
        startup_s: Seconds from a scale-up decision to serving.
        interval_s: Seconds between decisions; 0 means ``max(15, step)``.

    Returns:
        A dict: ``step_s``, ``capacity_per_replica``, ``fleet`` (the modelled fleet) and
        ``runs``, policy name to ``{"scores": {...}, "timeline": {...}}`` in order, the
        ``oracle`` last. Scores are the CLI's JSON scores; the timeline holds ndarrays
        ``timestamps_s``, ``load`` (float64), ``ready``, ``provisioned`` and ``needed``
        (int64), one entry per step.

    Raises:
        InvalidInputError: An unusable trace (fewer than 2 points, irregular step, negative
            or non-finite load), capacity or duration, or the policy name ``oracle``.
        InvalidConfigError: A spec is malformed.
        ValueError: An array is not 1-D.
        TypeError: A non-numeric array or ``specs`` not a mapping.
    """

@overload
def backtest_batch(
    traces: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    specs: Mapping[str, ScalerSpec | Mapping[str, Any] | str] | None = None,
    capacity: float | npt.ArrayLike | None = None,
    startup_s: int = 120,
    interval_s: int = 0,
    on_error: Literal["raise"] = "raise",
) -> list[BacktestSummary]:
    """Backtests many workloads, with the GIL released once for the whole batch.

    Each result equals :func:`backtest` of its workload with the same arguments, less the
    timelines (``runs[name]`` holds only ``scores``): a fleet wants the scores, and building
    five arrays per run would cost more than some replays. Every workload is converted first;
    the replays then run in one release of the GIL.

    Example:
        >>> ts = 300 * np.arange(2016)
        >>> load = 100.0 + 50.0 * np.sin(np.arange(2016) / 46.0)
        >>> [r["runs"]["oracle"]["scores"]["minutes_overloaded"]
        ...  for r in replicast.backtest_batch([(ts, load), (ts, 2 * load)])]
        [0.0, 0.0]

    Args:
        traces: A sequence of ``(timestamps_s, values)`` pairs, one per workload, each as
            :func:`backtest` takes them.
        specs: As :func:`backtest`, for every workload; None runs the defaults, sized for
            each workload's fleet.
        capacity: Load one replica serves per step at 100 %: one number for every workload,
            or one per workload (NaN: automatic for that one); None: automatic (the peak
            needs 20 replicas at 70 %).
        startup_s: Seconds from a scale-up decision to serving.
        interval_s: Seconds between decisions; 0 means ``max(15, step)``.
        on_error: ``"raise"`` the first failure (by index), or ``"return"`` each failure's
            exception in its workload's place and go on.

    Returns:
        One dict per workload, in order: ``step_s``, ``capacity_per_replica``, ``fleet`` and
        ``runs`` (policy name to ``{"scores": {...}}``, the ``oracle`` last).

    Raises:
        InvalidInputError: An unusable trace or capacity (``workload <index>: ...``), or
            duration, or the policy name ``oracle``.
        InvalidConfigError: A spec is malformed.
        ValueError: An array is not 1-D (``workload <index>: ...``), or ``capacity`` has not
            one entry per workload.
        TypeError: ``traces`` is not a sequence of pairs, an array is not numeric, or
            ``specs`` is not a mapping.
    """
@overload
def backtest_batch(
    traces: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    specs: Mapping[str, ScalerSpec | Mapping[str, Any] | str] | None = None,
    capacity: float | npt.ArrayLike | None = None,
    startup_s: int = 120,
    interval_s: int = 0,
    on_error: Literal["return"],
) -> list[BacktestSummary | ReplicastError]: ...

def tune(
    timestamps_s: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    slo: float = 99.9,
    capacity: float | None = None,
    startup_s: int = 120,
    max_replicas: int = 100,
    held_out_pct: float = 25.0,
    grid: Mapping[str, Any] | None = None,
) -> TuneResult:
    """Searches the cheapest HPA or predictive policy meeting an overload SLO, as ``replicast tune``.

    The search runs on all but the last ``held_out_pct`` percent of the history; the pick is
    then scored on that tail, which it never saw. The GIL is released while searching.

    Example:
        >>> ts = 60 * np.arange(320)
        >>> load = 100.0 + np.arange(320) % 60
        >>> grid = {"targets": [50, 70, 90], "tolerances": [0.1], "down_windows_s": [300],
        ...         "quantiles": [], "slo_cost_ratios": []}
        >>> best = replicast.tune(ts, load, slo=99.0, capacity=10.0, max_replicas=100,
        ...                       startup_s=120, grid=grid)
        >>> best["tried"], best["held_out"]["steps"]
        (3, 80)

    Args:
        timestamps_s: 1-D, the start of each step in whole seconds, on a regular step.
        values: 1-D, the load during each step, finite and non-negative.
        slo: Percent of time not overloaded to guarantee (99.9 allows 0.1 % overloaded).
        capacity: Load one replica serves per step at 100 %; None sizes it so the peak needs
            20 replicas at 70 %.
        startup_s: Seconds from a scale-up decision to serving.
        max_replicas: Largest replica count a policy may use.
        held_out_pct: Percent of the history, at its end, held back from the search.
        grid: Fields of the search grid (``targets``, ``tolerances``, ``down_windows_s``,
            ``predictive_targets``, ``quantiles``, ``peak_utilizations``, ``startups_s``,
            ``slo_cost_ratios``); a missing one takes ``replicast tune``'s default.

    Returns:
        A dict: ``step_s``, ``capacity_per_replica``, ``fleet``, then the pick: ``spec`` (a
        :class:`ScalerSpec`), ``scores`` on the searched part, ``tried``, ``feasible`` and
        ``held_out`` (its figures on the tail, or None).

    Raises:
        InvalidInputError: An unusable trace, capacity or duration, an SLO outside (0, 100]
            or a held-out share outside [0, 90].
        InsufficientDataError: No configuration meets the SLO, or too little history is left
            to search on.
        InvalidConfigError: A malformed grid.
        ValueError: An array is not 1-D.
        TypeError: A non-numeric array, or ``grid`` not a dict.
    """

@overload
def tune_batch(
    traces: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    slo: float = 99.9,
    capacity: float | npt.ArrayLike | None = None,
    startup_s: int = 120,
    max_replicas: int = 100,
    held_out_pct: float = 25.0,
    grid: Mapping[str, Any] | None = None,
    on_error: Literal["raise"] = "raise",
) -> list[TuneResult]:
    """Tunes many workloads, with the GIL released once for the whole batch.

    Each result equals :func:`tune` of its workload with the same arguments. A fleet usually
    wants ``on_error="return"``: a workload no configuration serves within the SLO gets its
    ``InsufficientDataError`` in place instead of stopping the batch.

    Example:
        >>> ts = 60 * np.arange(320)
        >>> load = 100.0 + np.arange(320) % 60
        >>> grid = {"targets": [50, 70, 90], "tolerances": [0.1], "down_windows_s": [300],
        ...         "quantiles": [], "slo_cost_ratios": []}
        >>> [r["tried"] for r in replicast.tune_batch([(ts, load), (ts, load)], slo=99.0,
        ...                                           grid=grid)]
        [3, 3]

    Args:
        traces: A sequence of ``(timestamps_s, values)`` pairs, one per workload.
        slo: As :func:`tune`, for every workload.
        capacity: One number for every workload, one per workload (NaN: automatic for that
            one), or None (automatic).
        startup_s: As :func:`tune`.
        max_replicas: As :func:`tune`.
        held_out_pct: As :func:`tune`.
        grid: As :func:`tune`.
        on_error: ``"raise"`` the first failure (by index), or ``"return"`` each failure's
            exception in its workload's place and go on.

    Returns:
        One dict per workload, in order, as :func:`tune` returns.

    Raises:
        As :func:`tune`; a workload's failure names it (``workload <index>: ...``).
    """
@overload
def tune_batch(
    traces: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    slo: float = 99.9,
    capacity: float | npt.ArrayLike | None = None,
    startup_s: int = 120,
    max_replicas: int = 100,
    held_out_pct: float = 25.0,
    grid: Mapping[str, Any] | None = None,
    on_error: Literal["return"],
) -> list[TuneResult | ReplicastError]: ...

def parse_trace(
    text: str, *, format: Literal["csv", "prometheus"] = "csv"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Parses a trace file's text with replicast's own parsers (``replicast backtest --trace``).

    Example:
        >>> ts, load = replicast.parse_trace("timestamp,value\n0,10\n60,12\n")
        >>> ts.tolist(), load.tolist()
        ([0, 60], [10.0, 12.0])

    Args:
        text: CSV with the header ``timestamp,value`` (integer seconds, load per step), or a
            Prometheus ``query_range`` JSON response (several series are summed).
        format: ``"csv"`` or ``"prometheus"``.

    Returns:
        ``(timestamps_s, values)``: int64 and float64 arrays, checked as :func:`backtest`
        checks a trace (regular step, finite non-negative load).

    Raises:
        InvalidInputError: Malformed text (the line or point named), or an unusable trace.
        ValueError: An unknown ``format``.
    """
