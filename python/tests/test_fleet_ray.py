"""replicast.fleet: rows equal to the bindings' values, the readers, the synthetic fleet, and
Ray Data giving the plain loop's table (skipped only when ray is not importable)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import replicast
from conftest import REPO
from replicast import fleet

TRACES = REPO / "testdata" / "traces"
STEPS = 576  # two days of 5-minute steps: quick, and long enough for the predictive policy
OPTIONS = fleet.Options(slo=99.5)


def small_fleet(n: int) -> list[fleet.Workload]:
    return list(fleet.synthesize(n, traces_dir=TRACES, seed=7, steps=STEPS))


def test_synthesize_is_deterministic_and_prefix_stable() -> None:
    a = small_fleet(6)
    b = list(fleet.synthesize(3, traces_dir=TRACES, seed=7, steps=STEPS))
    c = list(fleet.synthesize(3, traces_dir=TRACES, seed=8, steps=STEPS))
    assert [w.name for w in a] == [f"w{i:06d}" for i in range(6)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.values, y.values)
    assert not np.array_equal(a[0].values, c[0].values)
    for w in a:
        assert w.values.shape == (STEPS,) and (w.values >= 0).all()
        assert (np.diff(w.timestamps_s) == 300).all()


def test_score_batch_rows_hold_the_bindings_values() -> None:
    workloads = small_fleet(3)
    rows = fleet.score_batch(workloads, OPTIONS)
    assert [r["workload"] for r in rows] == [w.name for w in workloads]
    for w, row in zip(workloads, rows):
        assert list(row) == list(fleet.COLUMNS)
        result = replicast.backtest(w.timestamps_s, w.values)
        for policy in fleet.POLICIES:
            scores = result["runs"][policy]["scores"]
            assert row[f"{policy}_replica_hours"] == scores["replica_hours"]
            assert row[f"{policy}_minutes_overloaded"] == scores["minutes_overloaded"]
        assert row["capacity_per_replica"] == result["capacity_per_replica"]
        try:
            tuned = replicast.tune(w.timestamps_s, w.values, slo=99.5, grid=fleet.FAST_GRID)
        except replicast.InsufficientDataError as e:
            assert row["error"] == f"tune: {e}"
            assert row["tuned_spec"] is None
            continue
        assert row["error"] is None
        assert replicast.ScalerSpec(json.loads(row["tuned_spec"])) == tuned["spec"]
        assert row["tuned_replica_hours"] == tuned["scores"]["replica_hours"]
        assert row["tried"] == tuned["tried"] == 9


def test_read_source_folders_and_bad_files(tmp_path: Path) -> None:
    workloads = small_fleet(3)
    assert fleet.write_csv_folder(workloads[:2], tmp_path) == 2
    doc = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"values": [[int(t), str(v)] for t, v in zip(workloads[2].timestamps_s, workloads[2].values)]}
    ]}}
    (tmp_path / "prom.json").write_text(json.dumps(doc))
    (tmp_path / "broken.csv").write_text("timestamp,value\n0,1\n60,oops\n")
    [batch] = list(fleet.read_source(tmp_path))
    read = {w.name: w for w in batch if isinstance(w, fleet.Workload)}
    assert sorted(read) == ["prom", "w000000", "w000001"]
    np.testing.assert_array_equal(read["w000001"].values, workloads[1].values)
    np.testing.assert_array_equal(read["prom"].values, workloads[2].values)
    rows = fleet.run_loop(tmp_path, fleet.Options(tune=False))
    assert [r["workload"] for r in rows] == ["broken", "prom", "w000000", "w000001"]
    assert rows[0]["error"] == 'read: trace CSV line 3: expected `timestamp,value`, got "60,oops"'
    assert rows[0]["hpa_replica_hours"] is None
    assert all(r["error"] is None for r in rows[1:])


def test_parquet_round_trip_and_table(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    workloads = small_fleet(5)
    assert fleet.write_parquet(workloads, tmp_path / "fleet.parquet", row_group=2) == 5
    batches = list(fleet.read_source(tmp_path / "fleet.parquet", batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    for w, r in zip(workloads, [w for b in batches for w in b]):
        assert isinstance(r, fleet.Workload) and r.name == w.name
        np.testing.assert_array_equal(r.values, w.values)
        np.testing.assert_array_equal(r.timestamps_s, w.timestamps_s)
    rows = fleet.run_loop(tmp_path / "fleet.parquet", fleet.Options(tune=False), batch_size=2)
    fleet.write_table(rows, tmp_path / "scores.parquet")
    fleet.write_table(rows, tmp_path / "scores.csv")
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "scores.parquet")
    assert table.column_names == list(fleet.COLUMNS)
    assert table.to_pylist() == rows
    assert (tmp_path / "scores.csv").read_text().count("\n") == 6


@pytest.fixture(scope="module")
def ray_local() -> Any:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not importable (pip install 'ray[data]')")
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


# Ray warns about its own deprecated settings while it starts a dataset
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")
def test_ray_gives_the_plain_loops_table(ray_local: Any, tmp_path: Path) -> None:
    workloads = small_fleet(120)
    fleet.write_parquet(workloads, tmp_path / "fleet.parquet", row_group=40)
    loop = fleet.run_loop(tmp_path / "fleet.parquet", OPTIONS, batch_size=32)
    on_ray = fleet.run_ray(tmp_path / "fleet.parquet", OPTIONS, batch_size=32)
    assert len(on_ray) == 120
    assert on_ray == loop
    assert sum(r["error"] is None for r in loop) > 0
    # a folder of files goes through read_binary_files: same rows
    fleet.write_csv_folder(workloads[:10], tmp_path / "csv")
    assert fleet.run_ray(tmp_path / "csv", OPTIONS) == [
        r for r in loop if r["workload"] < "w000010"
    ]


def test_readme_quotes_the_benchmarks_figure() -> None:
    report = json.loads((REPO / "docs" / "fleet-ray-bench.json").read_text())
    per_core = report["backtest"]["loop"]["per_s"]
    readme = (REPO / "README.md").read_text()
    section = readme.split("## A fleet on Ray", 1)[1].split("\n## ", 1)[0]
    assert f"{per_core:.1f} workload backtests per second per core" in section
    assert f"{report['backtest']['loop']['workloads']:,}".replace(",", " ") in section
