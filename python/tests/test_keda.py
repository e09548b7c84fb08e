"""KEDA through Python: a ScaledObject manifest as written, activation, fallback and formulas.

The same behaviours as core/tests/keda.rs, asserted on values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import replicast
from conftest import NOW_MS
from replicast.errors import InvalidConfigError, InvalidInputError


def aggregated(value: float, ready: int) -> dict[str, object]:
    return {"kind": "aggregated", "value": value, "ready_replicas": ready}


FAILED = {"kind": "unavailable", "reason": "broker unreachable"}


def test_the_example_scaled_object_loads_and_decides(repo: Path) -> None:
    spec = replicast.ScalerSpec((repo / "examples" / "specs" / "keda-scaledobject.yaml").read_text())
    assert (spec.min_replicas, spec.max_replicas, spec.sources) == (0, 40, ["keda"])
    keda = spec.to_dict()["keda"]
    assert [t["target"] for t in keda["triggers"]] == [20.0, 0.5]
    assert keda["fallback"] == {"failure_threshold": 3, "replicas": 6, "behavior": "static"}
    scaler = replicast.Scaler(spec)
    state = replicast.ScalerState()
    d = scaler.decide(
        state,
        now_ms=NOW_MS,
        current_replicas=2,
        ready_replicas=2,
        metrics=[aggregated(130.0, 2), aggregated(0.42, 2)],
    )
    # queue 130 / 20 -> 7, latency 0.42 / 0.5 x 2 -> 2; default scale-up from 2 allows 6
    assert [p["replicas"] for p in d.proposals] == [7, 2]
    assert [p["source"] for p in d.proposals] == ["keda", "keda"]
    assert d.replicas == 6
    assert d.keda is not None
    assert d.keda["active"] is True
    assert [t["value"] for t in d.keda["triggers"]] == [130.0, 0.42]


QUEUE = {
    "min_replicas": 0,
    "max_replicas": 30,
    "behavior": {"scale_down": {"stabilization_window_s": 0}},
    "keda": {
        "cooldown_period_s": 60,
        "triggers": [{"type": "rabbitmq", "name": "queue", "target": 10, "activation_target": 5}],
        "fallback": {"failure_threshold": 2, "replicas": 4},
    },
}


def test_activation_fallback_and_cooldown() -> None:
    scaler = replicast.Scaler(replicast.ScalerSpec(QUEUE))
    state = replicast.ScalerState()

    def decide(at_s: int, current: int, metric: dict[str, object]) -> replicast.Decision:
        return scaler.decide(
            state,
            now_ms=NOW_MS + at_s * 1000,
            current_replicas=current,
            ready_replicas=current,
            metrics=[metric],
        )

    assert decide(0, 0, aggregated(5.0, 0)).replicas == 0  # 5 is not above 5
    d = decide(15, 0, aggregated(6.0, 0))
    assert d.replicas == 1
    assert d.steps[-1]["stage"] == "activation"
    # ceil(60 / 10) = 6, the default scale-up policies allow 1 + max(100 %, 4 pods) = 5; the
    # activation 0 -> 1 was KEDA's, not an HPA scale event
    assert decide(30, 1, aggregated(60.0, 1)).replicas == 5
    assert decide(45, 5, FAILED).replicas == 5
    assert decide(60, 5, FAILED).keda["error"] is True  # type: ignore[index]
    d = decide(75, 5, FAILED)  # third failure > threshold 2: fallback of 4 replicas
    assert d.keda is not None and d.keda["fallback"] is True
    assert d.proposals[0]["replicas"] == 4
    assert d.replicas == 4
    assert decide(100, 4, aggregated(0.0, 4)).replicas == 1  # HPA floor, cooldown not over
    assert decide(136, 1, aggregated(0.0, 1)).replicas == 0  # 75 s + 60 s < 136 s


def test_formula_errors_name_the_problem() -> None:
    spec = {
        "min_replicas": 1,
        "max_replicas": 10,
        "keda": {
            "triggers": [{"type": "prometheus", "name": "queue", "target": 1}],
            "scaling_modifiers": {"formula": "queue + missing", "target": 5},
        },
    }
    with pytest.raises(InvalidConfigError, match="not a trigger name"):
        replicast.ScalerSpec(spec)
    spec["keda"]["scaling_modifiers"]["formula"] = "queue / 0"  # type: ignore[index]
    scaler = replicast.Scaler(replicast.ScalerSpec(spec))
    d = scaler.decide(
        replicast.ScalerState(), now_ms=NOW_MS, current_replicas=3, metrics=[aggregated(4.0, 3)]
    )
    assert d.replicas == 3
    assert any("divided by zero" in e for e in d.errors)


def test_an_observation_per_trigger_is_required() -> None:
    scaler = replicast.Scaler(replicast.ScalerSpec(QUEUE))
    with pytest.raises(InvalidInputError, match="one input per keda trigger"):
        scaler.decide(replicast.ScalerState(), now_ms=NOW_MS, current_replicas=1, metrics=[])
