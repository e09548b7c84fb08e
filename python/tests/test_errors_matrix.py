"""The bad-input matrix (testdata/vectors/api/errors.json, docs/errors.md) through Python.

Each case the Python binding exposes is called the Python way; the exception must be exactly the
case's class (``InvalidInputError`` for ``invalid_input``, which is also a ``ValueError``) with
its ``.code``, its message must contain the case's ``message_contains``, no ``PanicException``
may escape, and a refused ``decide`` or ``update`` must leave the state or model as it was.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import replicast
from conftest import REPO
from replicast.errors import (
    InsufficientDataError,
    InvalidConfigError,
    InvalidInputError,
    NotConvergedError,
    NumericalError,
    ReplicastError,
    SerializationError,
)

DOC = json.loads((REPO / "testdata" / "vectors" / "api" / "errors.json").read_text())
CASES: list[dict[str, Any]] = DOC["cases"]

KINDS: dict[str, tuple[type[Exception], int]] = {
    "invalid_input": (InvalidInputError, 1),
    "invalid_config": (InvalidConfigError, 2),
    "insufficient_data": (InsufficientDataError, 3),
    "not_converged": (NotConvergedError, 4),
    "numerical": (NumericalError, 5),
    "serialization": (SerializationError, 6),
}
BUILTINS: dict[str, type[Exception]] = {"TypeError": TypeError}

PYTHON_CALLS = {"spec", "decide", "decide_aggregated", "state", "fit", "update", "predict", "model_json", "trace"}


def number(v: Any) -> float:
    if v == "NaN":
        return math.nan
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return float(v)


def decide_kwargs(input: dict[str, Any]) -> dict[str, Any]:
    """A DecisionInput's JSON as Scaler.decide's keyword arguments."""
    kwargs = dict(input)
    samples = kwargs.pop("load_samples", None)
    if samples is not None:
        kwargs["load_samples"] = samples["values"]
        kwargs["load_step_ms"] = samples["step_ms"]
    return kwargs


def scaler_and_state(case: dict[str, Any]) -> tuple[replicast.Scaler, replicast.ScalerState]:
    scaler = replicast.Scaler(case["spec"])
    state = (
        replicast.ScalerState.from_json(case["state_json"]) if "state_json" in case else replicast.ScalerState()
    )
    for before in case.get("before", []):
        scaler.decide(state, **decide_kwargs(before))
    return scaler, state


def fitted(case: dict[str, Any]) -> replicast.FittedModel:
    return replicast.Model(case["model"]).fit([number(v) for v in case["series"]])


def run(case: dict[str, Any]) -> tuple[str, str] | None:
    """Calls the case; returns (before, after) serialisations for a decide or update."""
    call = case["call"]
    if call == "spec":
        replicast.Scaler(replicast.ScalerSpec.from_json(case["spec_json"]))
    elif call in ("decide", "decide_aggregated"):
        scaler, state = scaler_and_state(case)
        before = state.to_json()
        try:
            if call == "decide":
                scaler.decide(state, **decide_kwargs(case["input"]))
            else:
                i = case["input"]
                scaler.decide(
                    state,
                    now_ms=i["now_ms"],
                    current_replicas=i["current_replicas"],
                    ready_replicas=i["ready_replicas"],
                    metrics=[
                        {"kind": "aggregated", "value": number(v), "ready_replicas": i["ready_replicas"]}
                        for v in case["values"]
                    ],
                )
        finally:
            after = state.to_json()
            assert before == after or case["expected"]["kind"] == "ok", "a refused decide changed the state"
        return before, after
    elif call == "state":
        replicast.ScalerState.from_json(case["state_json"])
    elif call == "fit":
        replicast.Model(case["model"]).fit([number(v) for v in case["series"]])
    elif call in ("update", "predict"):
        model = fitted(case)
        before = model.to_json()
        try:
            if call == "update":
                model.update(number(case["value"]))
            else:
                level = number(case["level"])
                model.predict(case["horizon"], level=None if level == 0 else level)
        finally:
            assert model.to_json() == before or call == "update" and case["expected"]["kind"] == "ok"
    elif call == "model_json":
        replicast.FittedModel.from_json(case["model_json"])
    elif call == "trace":
        replicast.backtest(case["timestamps_s"], [number(v) for v in case["values"]])
    else:
        raise AssertionError(f"unknown call {call}")
    return None


@pytest.mark.parametrize("case", [c for c in CASES if c["call"] in PYTHON_CALLS], ids=lambda c: c["name"])
def test_the_shared_matrix(case: dict[str, Any]) -> None:
    expected = case["expected"].get("python", case["expected"])
    kind = expected["kind"]
    if kind == "ok":
        run(case)
        return
    if kind in BUILTINS:
        with pytest.raises(BUILTINS[kind]) as info:
            run(case)
        assert not isinstance(info.value, ReplicastError)
        assert expected["message_contains"] in str(info.value)
        return
    cls, code = KINDS[kind]
    # a pyo3 PanicException derives from BaseException: it would escape this `raises` and fail
    with pytest.raises(ReplicastError) as info:
        run(case)
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == code
    assert expected["message_contains"] in str(info.value), str(info.value)


def test_invalid_input_is_a_value_error_with_its_code() -> None:
    case = next(c for c in CASES if c["name"] == "decide/hpa/now-before-previous")
    with pytest.raises(ValueError) as info:
        run(case)
    assert isinstance(info.value, InvalidInputError)
    assert info.value.code == 1


def test_every_class_is_covered() -> None:
    classes = {c["class"] for c in CASES if c["call"] in PYTHON_CALLS}
    assert classes >= {
        "nan", "inf", "negative", "zero_target", "out_of_order", "repeated", "gaps", "huge",
        "empty", "min_gt_max", "unknown_field", "wrong_version", "corrupted_state",
    }
