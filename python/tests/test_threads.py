"""One Scaler shared by threads (GIL released while deciding) gives the serial results, for
every source: HPA, KEDA, the KPA and HPA+VPA."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

import replicast
from conftest import NOW_MS, REPO, SEED_HPA


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


# ---- every source (issue 13 item 6): one shared Scaler per spec, threads with their own states

SOURCES = {
    s["name"]: s["spec"]
    for s in json.loads((REPO / "testdata" / "vectors" / "api" / "sources.json").read_text())["scenarios"]
}
SOURCE_SPECS: dict[str, Any] = {
    "hpa": SEED_HPA,
    "keda": SOURCES["keda-scaledobject-activation-fallback-cooldown"],
    "kpa": SOURCES["kpa-knative-service-panic-and-zero"],
    "vpa": SOURCES["hpa-vpa-seed"],
}


def source_input(source: str, rng: np.random.Generator, step: int, current: int) -> dict[str, Any]:
    """Scaler.decide's keyword arguments for one closed-loop step of `source`."""

    def agg(v: float) -> dict[str, Any]:
        return {"kind": "aggregated", "value": v, "ready_replicas": current}

    kw: dict[str, Any] = {"current_replicas": current, "ready_replicas": current}
    if source == "hpa":
        kw["now_ms"] = NOW_MS + 15_000 * step
        kw["metrics"] = [agg(float(rng.uniform(10, 150))), {"kind": "object", "value_milli": int(rng.integers(0, 200_000))}]
    elif source == "keda":
        kw["now_ms"] = NOW_MS + 30_000 * step
        queue: dict[str, Any] = agg(float(rng.uniform(0, 60)))
        if rng.uniform() < 0.15:
            queue = {"kind": "unavailable", "reason": "scaler unreachable"}
        kw["metrics"] = [queue, agg(float(rng.uniform(0, 1)))]
    elif source == "kpa":
        tick = NOW_MS + 6_000 * (step + 1)
        total = 0.0 if step > 20 else float(rng.uniform(0, 200))
        kw["now_ms"] = tick
        kw["kpa"] = {"samples": [{"time_ms": tick - 5_000 + 1_000 * k, "value": total} for k in range(6)]}
    else:
        kw["now_ms"] = NOW_MS + 600_000 * step
        cpu = float(rng.uniform(0.5, 3.5))
        kw["metrics"] = [agg(100 * cpu / current), {"kind": "object", "value_milli": 40_000}]
        kw["container_usage"] = [
            {"container": "sutazai-backend", "pod": f"backend-{p}", "cpu_cores": cpu / current,
             "memory_bytes": float(rng.uniform(1e9, 1.5e9))}
            for p in range(current)
        ]
        kw["container_resources"] = [{"container": "sutazai-backend",
                                      "requests": {"cpu_millicores": 1000, "memory_bytes": 2_147_483_648},
                                      "limits": {"cpu_millicores": 2000, "memory_bytes": 4_294_967_296}}]
    return kw


def run_source(scaler: replicast.Scaler, source: str, seed: int) -> tuple[list[str], str]:
    rng = np.random.default_rng(seed)
    state = replicast.ScalerState()
    current = 2
    decisions = []
    for step in range(30):
        d = scaler.decide(state, **source_input(source, rng, step, current))
        current = d.replicas
        decisions.append(d.to_json())
    return decisions, state.to_json()


def test_concurrent_decide_every_source_matches_serial() -> None:
    scalers = {name: replicast.Scaler(spec) for name, spec in SOURCE_SPECS.items()}
    work = [(source, seed) for source in SOURCE_SPECS for seed in range(4)]
    serial = {w: run_source(scalers[w[0]], *w) for w in work}
    for (source, _), (decisions, _) in serial.items():
        assert any('"rescale":true' in d for d in decisions), source
    part = {"hpa": '"proposals"', "keda": '"keda"', "kpa": '"kpa"', "vpa": '"vertical"'}
    for (source, _), (decisions, _) in serial.items():
        assert any(part[source] in d for d in decisions), source
    # every worker runs every workload from a different start: each scaler is shared by threads
    jobs = [work[(k + i) % len(work)] for k in range(6) for i in range(len(work))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda w: (w, run_source(scalers[w[0]], *w)), jobs))
    for w, result in results:
        assert result == serial[w], w
