"""One Scaler shared by threads (GIL released while deciding) gives the serial results."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import replicast
from conftest import NOW_MS, SEED_HPA


def run_workload(scaler: replicast.Scaler, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    state = replicast.ScalerState()
    current = 4
    out = []
    for step in range(200):
        d = scaler.decide(
            state,
            now_ms=NOW_MS + 15_000 * step,
            current_replicas=current,
            metrics=[
                {"kind": "aggregated", "value": float(rng.uniform(10, 150)), "ready_replicas": current},
                {"kind": "object", "value_milli": int(rng.integers(0, 200_000))},
            ],
        )
        current = d.replicas
        out.append(current)
    return out


def test_concurrent_decide_matches_serial() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    serial = [run_workload(scaler, seed) for seed in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda s: run_workload(scaler, s), range(16)))
    assert concurrent == serial


def test_concurrent_batches_match_serial() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    rng = np.random.default_rng(3)
    n = 5_000
    current = rng.integers(2, 20, n).astype(np.float64)
    values = np.column_stack([rng.uniform(0, 200, n), rng.uniform(0, 60, n)])

    def batch(_: int) -> np.ndarray:
        states = [replicast.ScalerState() for _ in range(n)]
        return scaler.decide_batch(states, now_ms=NOW_MS, current_replicas=current, values=values)

    serial = batch(0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for out in pool.map(batch, range(8)):
            np.testing.assert_array_equal(out, serial)


def test_shared_state_is_serialised_not_corrupted() -> None:
    scaler = replicast.Scaler(SEED_HPA)
    state = replicast.ScalerState()

    def decide(i: int) -> int:
        return scaler.decide(
            state, now_ms=NOW_MS, current_replicas=4,
            metrics=[{"kind": "aggregated", "value": 85.0, "ready_replicas": 4},
                     {"kind": "object", "value_milli": 120_000}],
        ).replicas

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(decide, range(64))) == {6}
    assert replicast.ScalerState.from_json(state.to_json()) == state
