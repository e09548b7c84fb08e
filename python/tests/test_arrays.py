"""decide_batch: numpy in and out, dtype / ndim / contiguity handling, agreement with decide."""

from __future__ import annotations

import numpy as np
import pytest

import replicast
from conftest import CPU_SPEC, NOW_MS, SEED_HPA
from replicast.errors import InvalidInputError


def states(n: int) -> list[replicast.ScalerState]:
    return [replicast.ScalerState() for _ in range(n)]


def test_batch_agrees_with_decide() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    rng = np.random.default_rng(7)
    n = 200
    current = rng.integers(2, 20, n).astype(np.float64)
    values = np.column_stack([rng.uniform(0, 200, n), rng.uniform(0, 60, n)])
    values[::17, 1] = np.nan  # an unavailable queue-depth metric
    got = scaler.decide_batch(states(n), now_ms=NOW_MS, current_replicas=current, values=values)
    assert got.dtype == np.float64 and got.shape == (n,)
    for i in range(n):
        metrics: list[dict[str, object]] = [
            {"kind": "aggregated", "value": float(values[i, 0]), "ready_replicas": int(current[i])},
            {"kind": "unavailable", "reason": "no value for metric 1 (NaN)"}
            if np.isnan(values[i, 1])
            else {"kind": "aggregated", "value": float(values[i, 1]), "ready_replicas": int(current[i])},
        ]
        one = scaler.decide(replicast.ScalerState(), now_ms=NOW_MS, current_replicas=int(current[i]), metrics=metrics)
        assert got[i] == one.replicas, i


def test_batch_updates_states() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    batch = states(3)
    out = scaler.decide_batch(batch, now_ms=NOW_MS, current_replicas=[2, 2, 2], values=[100.0, 50.0, 10.0])
    assert out.tolist() == [4.0, 2.0, 2.0]
    assert all(s.last_decision_ms == NOW_MS for s in batch)
    assert batch[0].last_rescale_ms == NOW_MS and batch[1].last_rescale_ms is None


@pytest.mark.parametrize(
    "values",
    [
        np.array([100, 50, 10], dtype=np.int32),
        np.array([100, 50, 10], dtype=np.uint8),
        np.array([100, 50, 10], dtype=np.float32),
        np.array([[100.0], [50.0], [10.0]]),
        np.asfortranarray(np.array([[100.0], [50.0], [10.0]])),
        np.array([100.0, 0.0, 50.0, 0.0, 10.0, 0.0])[::2],  # non-contiguous view
        (100, 50, 10),
        [100, 50.0, 10],
    ],
    ids=["int32", "uint8", "float32", "2-D", "fortran", "strided", "tuple", "list"],
)
def test_batch_accepts_any_numeric_array_like(values: object) -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    out = scaler.decide_batch(states(3), now_ms=NOW_MS, current_replicas=np.array([2, 2, 2], dtype=np.int64), values=values)
    assert out.tolist() == [4.0, 2.0, 2.0]


def test_batch_wrong_ndim_is_value_error() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    with pytest.raises(ValueError, match="values must be 1-D or 2-D, got a 3-D array"):
        scaler.decide_batch(states(1), now_ms=NOW_MS, current_replicas=[1], values=np.zeros((1, 1, 1)))
    with pytest.raises(ValueError, match="current_replicas must be 1-D, got a 0-D array"):
        scaler.decide_batch(states(1), now_ms=NOW_MS, current_replicas=1, values=[1.0])
    with pytest.raises(ValueError, match=r"values must have shape \(2, 1\)"):
        scaler.decide_batch(states(2), now_ms=NOW_MS, current_replicas=[1, 1], values=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"current_replicas must have one entry per state \(2\), got 3"):
        scaler.decide_batch(states(2), now_ms=NOW_MS, current_replicas=[1, 1, 1], values=[1.0, 1.0])


def test_batch_non_numeric_is_type_error() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    with pytest.raises(TypeError, match="values must be numeric"):
        scaler.decide_batch(states(2), now_ms=NOW_MS, current_replicas=[1, 1], values=["a", "b"])
    with pytest.raises(TypeError, match="values must be numeric"):
        scaler.decide_batch(states(2), now_ms=NOW_MS, current_replicas=[1, 1], values=[1.0, None])
    with pytest.raises(TypeError, match="values must be numeric"):
        scaler.decide_batch(states(1), now_ms=NOW_MS, current_replicas=[1], values=np.array([1j]))
    with pytest.raises(TypeError, match="states must contain ScalerState objects, got int"):
        scaler.decide_batch([1], now_ms=NOW_MS, current_replicas=[1], values=[1.0])  # type: ignore[list-item]


def test_batch_errors_raise_or_nan() -> None:
    scaler = replicast.Scaler(CPU_SPEC)
    batch = states(3)
    with pytest.raises(InvalidInputError, match=r"current_replicas\[1\] must be a whole number"):
        scaler.decide_batch(batch, now_ms=NOW_MS, current_replicas=[2, 2.5, 2], values=[100.0, 50.0, 10.0])
    assert batch[0].last_decision_ms == NOW_MS and batch[1].last_decision_ms is None
    out = scaler.decide_batch(
        states(3), now_ms=NOW_MS, current_replicas=[2, 2, 2], values=[100.0, -5.0, 10.0], on_error="nan"
    )
    assert out[0] == 4.0 and np.isnan(out[1]) and out[2] == 2.0
    with pytest.raises(InvalidInputError, match=r"workload 1: metrics\[0\]: aggregated value must be a finite number >= 0, got -5"):
        scaler.decide_batch(states(3), now_ms=NOW_MS, current_replicas=[2, 2, 2], values=[100.0, -5.0, 10.0])
    with pytest.raises(ValueError, match='on_error must be "raise" or "nan"'):
        scaler.decide_batch(states(1), now_ms=NOW_MS, current_replicas=[1], values=[1.0], on_error="skip")  # type: ignore[arg-type]


def test_batch_threshold_columns_are_signals() -> None:
    spec = {
        "min_replicas": 1,
        "max_replicas": 10,
        "threshold": {"rules": [
            {"signal": "cpu", "scale_up_above": 70, "scale_down_below": 30},
            {"signal": "inference_queue_depth", "scale_up_above": 10, "scale_down_below": 2},
        ]},
    }
    scaler = replicast.Scaler(spec)
    values = np.array([[80.0, 0.0], [10.0, 1.0], [10.0, np.nan], [50.0, 5.0]])
    out = scaler.decide_batch(states(4), now_ms=NOW_MS, current_replicas=[3, 3, 3, 3], values=values)
    # up on cpu; down when all below; hold when a signal is missing; hold inside the bands
    assert out.tolist() == [4.0, 2.0, 3.0, 3.0]
