"""Type stubs of the compiled module ``replicast._replicast`` (import ``replicast`` instead)."""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, final

from typing_extensions import Self

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = ["Decision", "Scaler", "ScalerSpec", "ScalerState", "__version__"]

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
        """The enabled sources (``"hpa"``, ``"threshold"``)."""
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
            load: The load of the last sample interval, for the predictive source.

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
