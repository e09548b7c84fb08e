"""The shared HPA reconcile vectors through Python agree with Rust and with upstream."""

from __future__ import annotations

import json
from typing import Any

import pytest

import replicast
from conftest import REPO

CASES: list[dict[str, Any]] = json.loads(
    (REPO / "testdata" / "vectors" / "api" / "reconcile.json").read_text()
)["vectors"]
VECTORS = {
    v["name"]: v
    for v in json.loads((REPO / "testdata" / "vectors" / "hpa" / "hpa.json").read_text())["vectors"]
    if v["group"] == "reconcile"
}


def test_every_accepted_reconcile_vector_is_replayed() -> None:
    assert len(CASES) >= 50
    assert {c["name"] for c in CASES} <= set(VECTORS)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reconcile_vector(case: dict[str, Any]) -> None:
    scaler = replicast.Scaler(case["spec"])
    state = replicast.ScalerState.from_json(json.dumps(case["state"]))
    decision = scaler.decide(state, **case["input"])

    # binding parity: exactly the decision and the state Rust produced
    assert decision.to_dict() == case["decision"]
    assert json.loads(state.to_json()) == case["state_after"]

    # and the upstream controller's expectation
    expected = VECTORS[case["name"]]["expected"]
    assert decision.replicas == expected["replicas_after"]
    assert decision.rescale == expected["rescaled"]
    got = [(c["type"], "True" if c["status"] else "False", c["reason"]) for c in decision.conditions]
    want = [(c["type"], c["status"], c["reason"]) for c in expected["conditions"]]
    assert got == want


SCENARIOS: list[dict[str, Any]] = json.loads(
    (REPO / "testdata" / "vectors" / "api" / "sources.json").read_text()
)["scenarios"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_source_scenario(scenario: dict[str, Any]) -> None:
    """KEDA, KPA and VPA sequences exported by the Rust test golden_sources: each decision and
    the final state are exactly Rust's."""
    scaler = replicast.Scaler(scenario["spec"])
    state = replicast.ScalerState()
    for i, step in enumerate(scenario["steps"]):
        decision = scaler.decide(state, **step["input"])
        assert decision.to_dict() == step["decision"], f"step {i}"
    assert json.loads(state.to_json()) == scenario["state_after"]
