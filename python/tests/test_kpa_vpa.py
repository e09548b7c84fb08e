"""Knative's KPA and the vertical recommender through Python (as core/tests/kpa_scaler.rs and
core/tests/vertical.rs), asserted on values."""

from __future__ import annotations

from pathlib import Path

import pytest

import replicast
from conftest import NOW_MS
from replicast.errors import InvalidInputError


def kpa_tick(at_s: int, total: float) -> dict[str, object]:
    now = NOW_MS + at_s * 1000
    return {"samples": [{"time_ms": now - 1000, "value": total}, {"time_ms": now, "value": total}]}


def test_kpa_panics_then_scales_to_zero() -> None:
    scaler = replicast.Scaler({"min_replicas": 0, "max_replicas": 50, "kpa": {}})
    assert scaler.spec.sources == ["kpa"]
    state = replicast.ScalerState()

    def decide(at_s: int, current: int, total: float) -> replicast.Decision:
        return scaler.decide(
            state,
            now_ms=NOW_MS + at_s * 1000,
            current_replicas=current,
            ready_replicas=current,
            kpa=kpa_tick(at_s, total),
        )

    d = decide(2, 1, 140.0)
    assert d.replicas == 2
    assert d.proposals[0]["source"] == "kpa"
    assert d.kpa is not None
    assert d.kpa["scale"]["panicking"] is True
    assert d.kpa["scale"]["excess_burst_capacity"] == -251
    current, zero_at = d.replicas, None
    for at in range(4, 201, 2):
        current = decide(at, current, 0.0).replicas
        if current == 0:
            zero_at = at
            break
    assert zero_at is not None and 60 <= zero_at <= 130


def test_kpa_samples_must_be_numbers_in_range() -> None:
    scaler = replicast.Scaler({"min_replicas": 0, "max_replicas": 5, "kpa": {}})
    with pytest.raises(InvalidInputError, match="kpa: samples"):
        scaler.decide(
            replicast.ScalerState(),
            now_ms=NOW_MS,
            current_replicas=1,
            ready_replicas=1,
            kpa=kpa_tick(0, -3.0),
        )


def test_the_seed_hpa_and_vpa_decide_together(repo: Path) -> None:
    spec = replicast.ScalerSpec((repo / "examples" / "specs" / "hpa-vpa.yaml").read_text())
    assert spec.sources == ["hpa", "vpa"]
    observation = __import__("json").loads(
        (repo / "examples" / "inputs" / "hpa-vpa-observation.json").read_text()
    )
    d = replicast.Scaler(spec).decide(replicast.ScalerState(), **observation)
    # 140 % of 500m; the VPA moves the request to 1000m (minAllowed), the HPA sees 70 %
    assert d.replicas == 4
    assert d.vertical is not None
    apply = d.vertical["apply"][0]
    assert apply["requests"] == {"cpu_millicores": 1000, "memory_bytes": 2 << 30}
    assert apply["limits"] == {"cpu_millicores": 2000, "memory_bytes": 4 << 30}
    assert "utilization 70%" in d.proposals[0]["reason"]
    assert "500m is below min_allowed 1000m" in d.vertical["notes"][0]
