"""Shared paths and fixtures of the replicast Python tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SEED_HPA = (REPO / "testdata" / "seed" / "hpa.yaml").read_text()

CPU_SPEC = {
    "min_replicas": 1,
    "max_replicas": 10,
    "hpa": {
        "metrics": [
            {
                "type": "resource",
                "resource": "cpu",
                "target": {"type": "utilization", "average_utilization": 50},
            }
        ]
    },
}

NOW_MS = 1_700_000_000_000


@pytest.fixture
def repo() -> Path:
    return REPO
