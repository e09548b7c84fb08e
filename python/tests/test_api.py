"""The Python surface: spec forms, decisions, errors, repr, equality, pickling."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

import replicast
from conftest import CPU_SPEC, NOW_MS, SEED_HPA
from replicast.errors import (
    InsufficientDataError,
    InvalidConfigError,
    InvalidInputError,
    NotConvergedError,
    NumericalError,
    ReplicastError,
    SerializationError,
)


def aggregated(value: float, ready: int) -> dict[str, object]:
    return {"kind": "aggregated", "value": value, "ready_replicas": ready}


def test_spec_from_dict_json_yaml_and_manifest_agree() -> None:
    from_dict = replicast.ScalerSpec(CPU_SPEC)
    assert replicast.ScalerSpec(json.dumps(CPU_SPEC)) == from_dict
    assert replicast.ScalerSpec.from_json(json.dumps(CPU_SPEC)) == from_dict
    assert replicast.ScalerSpec(from_dict.to_json()) == from_dict
    assert replicast.ScalerSpec(from_dict.to_dict()) == from_dict
    assert replicast.ScalerSpec(from_dict) == from_dict
    manifest = replicast.ScalerSpec(SEED_HPA)
    assert replicast.ScalerSpec.from_yaml(SEED_HPA) == manifest
    assert (manifest.min_replicas, manifest.max_replicas, manifest.sources) == (2, 20, ["hpa"])
    assert repr(manifest) == "ScalerSpec(min_replicas=2, max_replicas=20, sources=['hpa'])"
    assert manifest != from_dict


def test_seed_hpa_decision_matches_the_readme() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    state = replicast.ScalerState()
    decision = scaler.decide(
        state,
        now_ms=NOW_MS,
        current_replicas=4,
        metrics=[aggregated(85.0, 4), {"kind": "object", "value_milli": 120_000}],
    )
    assert decision.replicas == 6 and decision.rescale and decision.current_replicas == 4
    assert [p["replicas"] for p in decision.proposals] == [5, 6]
    assert decision.steps == [{"stage": "combine", "from": 4, "to": 6, "reason": "largest proposal"}]
    assert decision.conditions[0]["reason"] == "SucceededRescale"
    assert decision.errors == []
    assert str(decision).startswith("scale 4 -> 6\n")
    assert repr(decision) == (
        "Decision(replicas=6, current_replicas=4, rescale=True, proposals=2, steps=1, errors=0)"
    )
    assert state.last_decision_ms == NOW_MS and state.last_rescale_ms == NOW_MS
    assert replicast.Decision.from_json(decision.to_json()) == decision


def test_unavailable_metric_holds_and_says_why() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    decision = scaler.decide(
        replicast.ScalerState(),
        now_ms=NOW_MS,
        current_replicas=4,
        metrics=[{"kind": "unavailable", "reason": "prometheus unreachable"}],
    )
    assert decision.replicas == 4 and not decision.rescale
    assert any("prometheus unreachable" in e for e in decision.errors)


def test_error_classes_and_codes() -> None:
    expected = [
        (InvalidInputError, 1, ValueError),
        (InvalidConfigError, 2, ValueError),
        (InsufficientDataError, 3, InvalidInputError),
        (NotConvergedError, 4, RuntimeError),
        (NumericalError, 5, ArithmeticError),
        (SerializationError, 6, ValueError),
    ]
    for cls, code, builtin in expected:
        assert issubclass(cls, ReplicastError) and issubclass(cls, builtin)
        assert cls.code == code
    assert replicast.InvalidConfigError is InvalidConfigError


def test_invalid_config_raises() -> None:
    with pytest.raises(InvalidConfigError, match=r"max_replicas must be in \[1, 2147483647\], got 0"):
        replicast.Scaler({"max_replicas": 0})
    with pytest.raises(InvalidConfigError, match="bogus"):
        replicast.ScalerSpec({"max_replicas": 3, "bogus": 1})
    with pytest.raises(InvalidConfigError, match="malformed YAML"):
        replicast.ScalerSpec("max_replicas: [")
    with pytest.raises(TypeError, match="spec must be a ScalerSpec, a dict, or JSON/YAML text, got int"):
        replicast.Scaler(3)  # type: ignore[arg-type]


def test_invalid_input_raises_and_leaves_state_untouched() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    state = replicast.ScalerState()
    scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=[aggregated(40.0, 2)])
    before = state.to_json()
    with pytest.raises(InvalidInputError, match="timestamps out of order"):
        scaler.decide(state, now_ms=NOW_MS - 1, current_replicas=2, metrics=[aggregated(40.0, 2)])
    with pytest.raises(InvalidInputError, match="aggregated value must be a finite number"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=[aggregated(-1.0, 2)])
    with pytest.raises(InvalidInputError, match=r"current_replicas must be in \[0, 2147483647\], got -1"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=-1, metrics=[aggregated(40.0, 2)])
    with pytest.raises(InvalidInputError, match=r"metrics\[0\]: unknown variant `bogus`"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=[{"kind": "bogus"}])
    with pytest.raises(InvalidInputError, match="values must be finite numbers, got NaN"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=[aggregated(float("nan"), 2)])
    with pytest.raises(TypeError, match="expected plain data"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=[{"value": object()}])
    with pytest.raises(TypeError, match="metrics must be a sequence of dicts"):
        scaler.decide(state, now_ms=NOW_MS, current_replicas=2, metrics=aggregated(1.0, 2))  # type: ignore[arg-type]
    assert state.to_json() == before


class _Dict(dict[str, object]):
    pass


def test_aggregated_metric_items_decide_alike_on_every_route() -> None:
    # plain dicts in a list are read directly; a subclass, a numpy scalar or a tuple take
    # the generic route: the decisions and the errors must not differ
    import numpy as np

    scaler = replicast.Scaler(CPU_SPEC)

    def decide(metrics: object) -> replicast.Decision:
        return scaler.decide(replicast.ScalerState(), now_ms=NOW_MS, current_replicas=4,
                             metrics=metrics)  # type: ignore[arg-type]

    direct = decide([aggregated(85.0, 4)])
    assert direct.replicas == 7  # ceil(4 * 85 / 50)
    assert decide((aggregated(85.0, 4),)) == direct
    assert decide([_Dict(aggregated(85.0, 4))]) == direct
    assert decide([aggregated(np.float64(85.0), int(np.int64(4)))]) == direct
    assert decide([aggregated(85, 4)]) == decide([aggregated(85.0, 4)])
    state = replicast.ScalerState()
    for bad, error, match in [
        (aggregated(True, 4), InvalidInputError, r"metrics\[0\]: invalid type: boolean"),
        (aggregated(85.0, -1), InvalidInputError, r"metrics\[0\]: invalid value"),
        (aggregated(85.0, 2**32), InvalidInputError, r"metrics\[0\]: invalid value"),
        (aggregated(85.0, 4.0), InvalidInputError, r"metrics\[0\]: invalid type: floating point"),
        (aggregated(float("inf"), 4), InvalidInputError, "values must be finite numbers, got inf"),
        ({**aggregated(85.0, 4), "extra": 1}, InvalidInputError, r"metrics\[0\]: unknown field `extra`"),
        ({"kind": "aggregated", "value": 85.0}, InvalidInputError, "missing field `ready_replicas`"),
    ]:
        with pytest.raises(error, match=match):
            scaler.decide(state, now_ms=NOW_MS, current_replicas=4, metrics=[bad])
    assert state.last_decision_ms is None


def test_options_are_keyword_only() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    with pytest.raises(TypeError):
        scaler.decide(replicast.ScalerState(), NOW_MS, 2)  # type: ignore[misc]


def test_state_serialization_errors() -> None:
    with pytest.raises(SerializationError, match="invalid scaler state"):
        replicast.ScalerState.from_json("{")
    with pytest.raises(SerializationError, match="scaler state version must be 1, got 7"):
        replicast.ScalerState.from_json('{"version": 7}')
    with pytest.raises(SerializationError, match="invalid decision"):
        replicast.Decision.from_json("[]")


def test_pickling_and_copy() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    state = replicast.ScalerState()
    decision = scaler.decide(
        state, now_ms=NOW_MS, current_replicas=4,
        metrics=[aggregated(85.0, 4), {"kind": "object", "value_milli": 120_000}],
    )
    for obj in (scaler.spec, state, decision):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert copy.deepcopy(obj) == obj
    clone = pickle.loads(pickle.dumps(scaler))
    assert repr(clone) == repr(scaler) == "Scaler(min_replicas=2, max_replicas=20, sources=['hpa'])"
    assert clone.spec == scaler.spec
    # a copied state is independent of the original
    copied = copy.copy(state)
    scaler.decide(copied, now_ms=NOW_MS + 15_000, current_replicas=6,
                  metrics=[aggregated(60.0, 6), {"kind": "object", "value_milli": 100_000}])
    assert copied != state
    assert repr(replicast.ScalerState()) == "ScalerState(last_decision_ms=None, last_rescale_ms=None)"


def test_panics_do_not_abort() -> None:
    # No public path panics; make sure a pathological input is an exception, not an abort.
    scaler = replicast.Scaler(CPU_SPEC)
    with pytest.raises((InvalidInputError, OverflowError)):
        scaler.decide(replicast.ScalerState(), now_ms=2**70, current_replicas=1, metrics=[])


def test_predictive_load_samples_and_slo() -> None:
    """One-second load samples since the previous decision are averaged into the predictive
    source's minute samples, and its headroom is calibrated to the SLO."""
    import numpy as np

    scaler = replicast.Scaler(
        {
            "min_replicas": 1,
            "max_replicas": 100,
            "predictive": {
                "capacity_per_replica": 10,
                "decision_interval_s": 15,
                "warmup_samples": 10,
                "slo": {"max_overloaded_pct": 0.5, "max_cost_ratio": 1.2},
            },
        }
    )
    state = replicast.ScalerState()
    decision = None
    for i in range(1, 4 * 30 + 1):
        samples = 200.0 + (i * 15 + np.arange(15)) % 60  # a 60 s sawtooth, mean 229.5
        decision = scaler.decide(
            state,
            now_ms=NOW_MS + i * 15_000,
            current_replicas=30,
            ready_replicas=30,
            load_samples=samples,
            load_step_ms=1_000,
        )
    assert decision is not None
    (reason,) = [p["reason"] for p in decision.proposals if p["source"] == "predictive"]
    assert "peaks at 229.5" in reason and "σ" in reason and "(budget 0.5 %)" in reason
    assert "(bound 1.2)" in reason
    # the state round-trips with its calibration
    assert replicast.ScalerState.from_json(state.to_json()) == state

    with pytest.raises(TypeError, match="load_samples and load_step_ms go together"):
        scaler.decide(state, now_ms=NOW_MS + 10**7, current_replicas=30, load_samples=[1.0])
    with pytest.raises(InvalidInputError, match=r"load_samples.values\[1\] must be a finite"):
        scaler.decide(
            state,
            now_ms=NOW_MS + 10**7,
            current_replicas=30,
            load_samples=[1.0, float("nan")],
            load_step_ms=1_000,
        )
    with pytest.raises(InvalidConfigError, match="max_overloaded_pct must be in"):
        replicast.Scaler(
            {"max_replicas": 5, "predictive": {"capacity_per_replica": 1, "slo": {"max_overloaded_pct": 80}}}
        )
