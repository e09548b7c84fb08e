#!/usr/bin/env python3
"""Per-call overhead of Scaler.decide from Python, and decide_batch throughput.

Compare the first figure with the Rust criterion bench of the same decision, and the batch
with the core's own batch:
``cargo bench -p replicast-benches --bench decide -- 'decide/hpa_aggregated|decide_batch'``.
The machine's other load inflates both; run them back to back (docs/bindings.md keeps the
figures).

Run: ``python python/bench/bench_decide.py`` (after ``maturin develop --release``).
"""

from __future__ import annotations

import time

import numpy as np

import replicast

SPEC = {
    "min_replicas": 1,
    "max_replicas": 100,
    "hpa": {"metrics": [{"type": "resource", "resource": "cpu",
                         "target": {"type": "utilization", "average_utilization": 70}}]},
}
NOW_MS = 1_700_000_000_000


def best_of(runs: int, fn: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    scaler = replicast.Scaler(SPEC)
    state = replicast.ScalerState()
    # the Rust bench's input (benches/src/lib.rs `aggregated_input`): 10 replicas, a utilization
    # of 40 + i % 60 over 10 ready pods; prebuilt so that the loop measures the call
    inputs = [[{"kind": "aggregated", "value": 40.0 + k, "ready_replicas": 10}] for k in range(60)]
    calls = 20_000

    clock = [NOW_MS]

    def single() -> None:
        # time advances 15 s per decision, as in the Rust bench (a frozen clock would let the
        # stabilization window's history grow without bound)
        now = clock[0]
        decide = scaler.decide
        for i in range(calls):
            now += 15_000
            decide(state, now_ms=now, current_replicas=10, metrics=inputs[i % 60])
        clock[0] = now

    def loop() -> None:
        # the same loop without the call: the part of the figure above that is not the call
        now = clock[0]
        for i in range(calls):
            now += 15_000
            inputs[i % 60]  # noqa: B018

    t = best_of(15, single)
    print(f"decide (1 aggregated cpu metric): {t / calls * 1e6:.2f} us/call ({calls} calls, best of 15)")
    t = best_of(15, loop)
    print(f"  of which the loop around the call: {t / calls * 1e6:.2f} us/call")

    n = 100_000
    rng = np.random.default_rng(1)
    current = rng.integers(1, 50, n).astype(np.float64)
    values = rng.uniform(0, 200, (n, 1))
    states = [replicast.ScalerState() for _ in range(n)]

    def batch() -> None:
        scaler.decide_batch(states, now_ms=NOW_MS, current_replicas=current, values=values)

    t = best_of(5, batch)
    print(f"decide_batch ({n} workloads): {t * 1e3:.1f} ms/batch, {n / t / 1e6:.2f} M workloads/s, "
          f"{t / n * 1e9:.0f} ns/workload (best of 5)")


if __name__ == "__main__":
    main()
