"""Batch forms (backtest_batch, tune_batch, Model.fit_batch): the one-at-a-time results,
errors that name the workload, and the GIL released for the whole batch."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

import replicast
from conftest import CPU_SPEC, REPO
from replicast.errors import InsufficientDataError, InvalidConfigError, InvalidInputError

SMALL_GRID = {
    "targets": [50, 70, 90],
    "tolerances": [0.1],
    "down_windows_s": [300],
    "predictive_targets": [80],
    "quantiles": [0.95],
    "peak_utilizations": [0.95],
    "slo_cost_ratios": [1.25],
}


def nasa_week() -> tuple[np.ndarray, np.ndarray]:
    path = REPO / "testdata" / "traces" / "nasa_http_1995jul10-16_1min.csv"
    return replicast.parse_trace(path.read_text())


def fleet(n: int, steps: int = 600, step_s: int = 300) -> list[tuple[np.ndarray, np.ndarray]]:
    """Workloads of different shapes: sines of different periods, levels and noise, one
    slice of the NASA trace averaged to 5 minutes."""
    out = []
    for i in range(n - 1):
        rng = np.random.default_rng(i)
        k = np.arange(steps)
        load = (50.0 + 10 * i) * (1.5 + np.sin(k / (20.0 + 7 * i))) + rng.normal(0, 3 + i, steps)
        out.append((1_700_000_000 + step_s * k, np.maximum(load, 0.0)))
    ts, values = nasa_week()
    five = values[: steps * 5].reshape(steps, 5).sum(axis=1)
    out.append((ts[: steps * 5 : 5], five))
    return out


def without_timelines(result: replicast.BacktestResult) -> dict[str, Any]:
    return {
        **result,
        "runs": {name: {"scores": run["scores"]} for name, run in result["runs"].items()},
    }


def test_parse_trace_reads_csv_and_prometheus() -> None:
    ts, values = replicast.parse_trace("timestamp,value\n0,10\n60,12.5\n")
    assert ts.dtype == np.int64 and values.dtype == np.float64
    assert ts.tolist() == [0, 60] and values.tolist() == [10.0, 12.5]
    doc = ('{"status": "success", "data": {"resultType": "matrix", "result": ['
           '{"values": [[0, "1"], [60, "2"]]}, {"values": [[0, "3"], [60, "4"]]}]}}')
    ts, values = replicast.parse_trace(doc, format="prometheus")
    assert ts.tolist() == [0, 60] and values.tolist() == [4.0, 6.0]
    with pytest.raises(InvalidInputError, match="trace CSV line 3"):
        replicast.parse_trace("timestamp,value\n0,1\nx,2\n")
    with pytest.raises(ValueError, match='format must be "csv" or "prometheus"'):
        replicast.parse_trace("", format="tsv")  # type: ignore[call-overload]


def test_backtest_batch_equals_backtest_per_workload() -> None:
    traces = fleet(6)
    batch = replicast.backtest_batch(traces)
    assert len(batch) == len(traces)
    for (ts, values), result in zip(traces, batch):
        assert result == without_timelines(replicast.backtest(ts, values))
    assert list(batch[0]["runs"]) == ["hpa", "threshold", "predictive", "oracle"]
    assert "timeline" not in batch[0]["runs"]["hpa"]


def test_backtest_batch_with_specs_capacities_and_durations() -> None:
    traces = fleet(4)
    capacities = [25.0, float("nan"), 40.0, 12.5]
    kwargs: dict[str, Any] = {"specs": {"cpu50": CPU_SPEC}, "startup_s": 300, "interval_s": 600}
    batch = replicast.backtest_batch(traces, capacity=np.array(capacities), **kwargs)
    for (ts, values), capacity, result in zip(traces, capacities, batch):
        one = replicast.backtest(ts, values, capacity=None if np.isnan(capacity) else capacity,
                                 **kwargs)
        assert result == without_timelines(one)
    # one capacity for all
    same = replicast.backtest_batch(traces, capacity=20.0, **kwargs)
    assert [r["capacity_per_replica"] for r in same] == [20.0] * 4
    assert same[1] == without_timelines(replicast.backtest(*traces[1], capacity=20.0, **kwargs))


def test_tune_batch_equals_tune_per_workload() -> None:
    traces = fleet(4, steps=400)
    batch = replicast.tune_batch(traces, slo=95.0, grid=SMALL_GRID, held_out_pct=20.0)
    for (ts, values), result in zip(traces, batch):
        one = replicast.tune(ts, values, slo=95.0, grid=SMALL_GRID, held_out_pct=20.0)
        assert result == one
        assert isinstance(result["spec"], replicast.ScalerSpec)
        # 3 HPA targets, 1 quantile x 2 start-ups, 1 self-calibrating
        assert result["tried"] == 3 + 2 + 1
        held_out = result["held_out"]
        assert held_out is not None and held_out["steps"] == 80
        assert result["scores"]["minutes_overloaded"] <= 0.05 * 320 * 5 + 1e-9


def test_tune_with_the_cli_grid_and_nothing_held_out() -> None:
    ts, values = fleet(1, steps=200)[0]
    [result] = replicast.tune_batch([(ts, values)], slo=99.0, held_out_pct=0.0)
    assert result == replicast.tune(ts, values, slo=99.0, held_out_pct=0.0)
    assert result["tried"] == 13 * 4 * 5 + 3 * 4 * 2 * 2 + 3 * 3
    assert result["held_out"] is None
    # the spec is a usable ScalerSpec
    replicast.Scaler(result["spec"])


@pytest.mark.parametrize(
    "model",
    [
        replicast.Model.seasonal_naive(period=12),
        replicast.Model.ets(period=12, season="additive"),
        replicast.Model.auto(step_s=300),
    ],
    ids=lambda m: m.kind,
)
def test_fit_batch_equals_fit(model: replicast.Model) -> None:
    series = [values for _, values in fleet(4, steps=300)]
    fitted = model.fit_batch(series)
    assert len(fitted) == 4
    for y, f in zip(series, fitted):
        one = model.fit(y)
        assert f == one
        np.testing.assert_array_equal(f.predict(12, level=0.9).point, one.predict(12, level=0.9).point)


def test_errors_name_the_workload() -> None:
    good = fleet(1, steps=50)[0]
    irregular = (np.array([0, 60, 130]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidInputError, match=r"^workload 1: trace must be regular"):
        replicast.backtest_batch([good, irregular, good])
    with pytest.raises(InvalidInputError, match=r"^workload 2: trace value at row 2 must be"):
        replicast.tune_batch([good, good, ([0, 60], [1.0, -1.0])], grid=SMALL_GRID, slo=50.0)
    with pytest.raises(ValueError, match=r"^workload 1: values must be 1-D"):
        replicast.backtest_batch([good, ([0, 60], [[1.0, 2.0]])])
    with pytest.raises(TypeError, match=r"^workload 0: a trace must be a \(timestamps_s, values\) pair, got int"):
        replicast.backtest_batch([3])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match=r"^workload 1: capacity must be a finite number > 0"):
        replicast.backtest_batch([good, good], capacity=[1.0, -2.0])
    with pytest.raises(InvalidInputError, match=r"^workload 1: y\[1\] must be finite, got NaN"):
        replicast.Model.seasonal_naive(period=2).fit_batch([[1.0, 2.0, 3.0], [1.0, np.nan, 2.0]])
    # not a workload's fault: no index
    with pytest.raises(TypeError, match="traces must be a sequence of"):
        replicast.backtest_batch("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"capacity must have one entry per workload \(2\), got 3"):
        replicast.backtest_batch([good, good], capacity=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidConfigError, match="invalid tuning grid: unknown field `target`"):
        replicast.tune_batch([good], grid={"target": [50]})
    with pytest.raises(ValueError, match='on_error must be "raise" or "return"'):
        replicast.backtest_batch([good], on_error="skip")  # type: ignore[call-overload]


def test_on_error_return_puts_each_error_in_place() -> None:
    good = fleet(1, steps=200)[0]
    traces = [good, ([0, 60, 130], [1.0, 2.0, 3.0]), good, ([0, 60], [[1.0, 2.0]])]
    out = replicast.backtest_batch(traces, on_error="return")
    assert out[0] == out[2] == without_timelines(replicast.backtest(*good))
    assert isinstance(out[1], InvalidInputError) and str(out[1]).startswith("workload 1: ")
    assert isinstance(out[3], ValueError) and str(out[3]).startswith("workload 3: ")
    # an SLO no configuration meets: that workload's InsufficientDataError, the others tuned
    flat = (good[0], np.full(200, 100.0))
    spiky = (good[0], np.where(np.arange(200) % 17 == 0, 5000.0, 10.0))
    tuned = replicast.tune_batch([flat, spiky], slo=100.0, grid=SMALL_GRID, max_replicas=5,
                                 capacity=30.0, on_error="return")
    assert not isinstance(tuned[0], Exception)
    assert isinstance(tuned[1], InsufficientDataError)
    assert str(tuned[1]).startswith("workload 1: no configuration of the ")
    with pytest.raises(InsufficientDataError, match="^workload 1: no configuration"):
        replicast.tune_batch([flat, spiky], slo=100.0, grid=SMALL_GRID, max_replicas=5,
                             capacity=30.0)
    fits = replicast.Model.seasonal_naive(period=2).fit_batch([[1.0, 2.0, 3.0], []],
                                                              on_error="return")
    assert isinstance(fits[0], replicast.FittedModel) and isinstance(fits[1], InvalidInputError)


def test_the_gil_is_released_for_the_whole_batch() -> None:
    traces = fleet(2, steps=2016) * 20
    gaps: list[float] = []
    done = threading.Event()
    took: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        replicast.backtest_batch(traces)
        took.append(time.perf_counter() - start)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    last = time.perf_counter()
    while not done.is_set():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    thread.join()
    # held through the replays, the GIL would stop this loop for most of the batch
    assert took[0] > 0.2
    assert max(gaps) < took[0] / 2
