"""backtest: default and custom policies, the oracle, timelines, errors, and the CLI's numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import replicast
from conftest import CPU_SPEC, REPO
from replicast.errors import InvalidConfigError, InvalidInputError

STEPS = 240
TIMESTAMPS = 1_700_000_000 + 60 * np.arange(STEPS)
LOAD = 200.0 + 150.0 * np.sin(np.arange(STEPS) / 20.0) ** 2

HPA_70 = (
    "min_replicas: 1\nmax_replicas: 50\nhpa: {metrics: [{type: resource, resource: cpu, "
    "target: {type: utilization, average_utilization: 70}}]}"
)
TIMELINE = {
    "timestamps_s": np.int64,
    "load": np.float64,
    "ready": np.int64,
    "provisioned": np.int64,
    "needed": np.int64,
}


def test_default_policies_and_the_oracle() -> None:
    result = replicast.backtest(TIMESTAMPS, LOAD)
    assert list(result["runs"]) == ["hpa", "threshold", "predictive", "oracle"]
    assert result["step_s"] == 60
    # auto capacity: the peak needs 20 replicas at 70 %
    assert result["capacity_per_replica"] == pytest.approx(LOAD.max() / (20 * 0.7))
    assert result["fleet"]["capacity_per_replica"] == result["capacity_per_replica"]
    assert result["fleet"]["startup_s"] == 120
    for name, run in result["runs"].items():
        timeline = run["timeline"]
        assert set(timeline) == set(TIMELINE), name
        for key, dtype in TIMELINE.items():
            assert timeline[key].dtype == dtype, (name, key)
            assert timeline[key].shape == (STEPS,), (name, key)
        np.testing.assert_array_equal(timeline["timestamps_s"], TIMESTAMPS)
        np.testing.assert_array_equal(timeline["load"], LOAD)
        assert (timeline["ready"] <= timeline["provisioned"]).all()
        assert run["scores"]["replica_hours"] > 0
    oracle = result["runs"]["oracle"]
    assert oracle["scores"]["minutes_overloaded"] == 0.0
    assert oracle["scores"]["load_dropped"] == 0.0
    assert oracle["scores"]["theta_under_pct"] == 0.0
    np.testing.assert_array_equal(oracle["timeline"]["ready"], oracle["timeline"]["needed"])
    cheapest = min(run["scores"]["replica_hours"] for run in result["runs"].values())
    assert oracle["scores"]["replica_hours"] == cheapest
    # only the forecasting policy is scored on its forecasts
    predictive = result["runs"]["predictive"]["scores"]
    assert 0.0 < predictive["forecast_mase"] and 0.0 <= predictive["forecast_coverage90"] <= 1.0
    assert "forecast_mase" not in result["runs"]["hpa"]["scores"]


def test_custom_specs_in_every_form() -> None:
    specs = {
        "as_spec": replicast.ScalerSpec(CPU_SPEC),
        "as_dict": CPU_SPEC,
        "as_json": json.dumps(CPU_SPEC),
        "as_yaml": HPA_70,
    }
    result = replicast.backtest(TIMESTAMPS.tolist(), LOAD.tolist(), specs=specs, capacity=25.0)
    assert list(result["runs"]) == [*specs, "oracle"]
    assert result["capacity_per_replica"] == 25.0
    # same spec, same run
    runs = result["runs"]
    assert runs["as_spec"]["scores"] == runs["as_dict"]["scores"] == runs["as_json"]["scores"]
    np.testing.assert_array_equal(runs["as_spec"]["timeline"]["ready"],
                                  runs["as_json"]["timeline"]["ready"])
    # the fleet starts with 12 (200 / (25 × 0.7)); the spec's max_replicas 10 then caps it and
    # cannot carry the peak of 350 at capacity 25
    assert runs["as_dict"]["timeline"]["provisioned"][0] == 12
    assert runs["as_dict"]["timeline"]["provisioned"][1:].max() <= 10
    assert runs["as_dict"]["scores"]["minutes_overloaded"] > 0


def test_matches_the_rust_doctest() -> None:
    # core/src/sim/mod.rs: constant load 100, capacity 10, 15 replicas at start (100 / (10 × 0.7)
    # rounded up), HPA at 70 %: it holds 15 replicas and is never overloaded
    ts = 60 * np.arange(60)
    result = replicast.backtest(ts, np.full(60, 100.0), specs={"hpa": HPA_70}, capacity=10.0)
    assert result["fleet"]["initial_replicas"] == 15
    hpa = result["runs"]["hpa"]
    assert hpa["timeline"]["ready"][-1] == 15
    assert hpa["scores"]["minutes_overloaded"] == 0.0
    assert hpa["scores"]["replica_hours"] == pytest.approx(15.0)


def test_slower_startup_and_decisions_cost_service() -> None:
    fast = replicast.backtest(TIMESTAMPS, LOAD, specs={"hpa": HPA_70}, startup_s=0)
    slow = replicast.backtest(TIMESTAMPS, LOAD, specs={"hpa": HPA_70}, startup_s=600,
                              interval_s=600)
    assert slow["fleet"]["decision_interval_s"] == 600
    assert (slow["runs"]["hpa"]["scores"]["minutes_overloaded"]
            > fast["runs"]["hpa"]["scores"]["minutes_overloaded"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"timestamps_s": [0, 60, 130]}, InvalidInputError, "trace must be regular"),
        ({"timestamps_s": [0.0, 60.5, 120.0]}, InvalidInputError,
         r"timestamps_s\[1\] must be a whole number of seconds, got 60.5"),
        ({"values": [1.0, float("nan"), 3.0]}, InvalidInputError,
         "trace value at row 2 must be a finite number >= 0, got NaN"),
        ({"values": [1.0, -2.0, 3.0]}, InvalidInputError, "must be a finite number >= 0"),
        ({"values": [1.0, 2.0]}, InvalidInputError, "trace has 3 timestamps but 2 values"),
        ({"timestamps_s": [0], "values": [1.0]}, InvalidInputError, "at least 2 points"),
        ({"capacity": -1.0}, InvalidInputError, "capacity must be a finite number > 0, got -1"),
        ({"startup_s": -5}, InvalidInputError, r"startup_s must be in \[0, 4294967295\]"),
        ({"specs": {"oracle": HPA_70}}, InvalidInputError, "'oracle' is reserved"),
        ({"specs": {}}, InvalidInputError, "at least one policy"),
        ({"specs": {"bad": {"max_replicas": 0}}}, InvalidConfigError, "max_replicas"),
        ({"specs": [HPA_70]}, TypeError, "specs must be a mapping of name to spec, got list"),
        ({"values": [[1.0, 2.0, 3.0]]}, ValueError, "values must be 1-D"),
        ({"values": ["a", "b", "c"]}, TypeError, "values must be numeric"),
    ],
)
def test_bad_input(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"timestamps_s": [0, 60, 120], "values": [1.0, 2.0, 3.0]}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        replicast.backtest(**args)  # type: ignore[arg-type]


def bundled_trace() -> tuple[np.ndarray, np.ndarray]:
    path = REPO / "testdata" / "traces" / "nasa_http_1995jul10-16_1min.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, 0].astype(np.int64), data[:, 1]


def cli_report() -> dict[str, object] | None:
    """`replicast backtest --json` on the bundled trace, or None without cargo."""
    cargo = shutil.which("cargo")
    if cargo is None:
        return None
    out = subprocess.run(
        [cargo, "run", "--quiet", "--locked", "-p", "replicast-cli", "--", "backtest", "--json"],
        cwd=Path(REPO),
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    report: dict[str, object] = json.loads(out)
    return report


def test_bundled_trace_equals_the_cli_json() -> None:
    report = cli_report()
    if report is None:
        pytest.skip("cargo is not available")
    timestamps_s, values = bundled_trace()
    result = replicast.backtest(timestamps_s, values)
    assert result["step_s"] == report["step_s"]
    assert result["capacity_per_replica"] == report["capacity_per_replica"]
    assert result["fleet"] == report["fleet"]
    runs = report["runs"]
    assert isinstance(runs, list)
    assert list(result["runs"]) == [run["policy"] for run in runs]
    for run in runs:
        assert result["runs"][run["policy"]]["scores"] == run["scores"], run["policy"]
