"""Backtest and tune a fleet: many workload histories in, one row of scores per workload out.

A workload is a load history (:class:`Workload`). :func:`score_batch` backtests a batch of them
(:func:`replicast.backtest_batch`: the default policies and the oracle) and tunes each one for
an SLO (:func:`replicast.tune_batch`, what ``replicast tune --slo`` does), both with the GIL
released once for the batch, and returns one row per workload (:data:`COLUMNS`). A workload
that fails gets its error in the ``error`` column; the batch goes on.

Two runners apply it to a whole fleet read from a source (a folder of CSV files or Prometheus
``query_range`` JSON exports, or a Parquet dataset with one row per workload, see
:func:`read_source`): :func:`run_loop`, a plain Python loop over batches, and :func:`run_ray`,
the same batches as a Ray Data ``map_batches`` on a local Ray or a cluster. Both return the
same rows, sorted by workload. :func:`synthesize` makes a fleet of any size from a few real
traces (time-shifted, scaled, noised; deterministic per seed).

Ray and pyarrow are optional: they are imported when a function needs them
(``pip install 'ray[data]'``)::

    from replicast import fleet

    fleet.write_parquet(fleet.synthesize(200, traces_dir="traces"), "fleet.parquet")
    rows = fleet.run_loop("fleet.parquet", fleet.Options(slo=99.9))
    rows = fleet.run_ray("fleet.parquet", fleet.Options(slo=99.9), num_cpus=2)
    fleet.write_table(rows, "scores.parquet")
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import replicast

__all__ = [
    "COLUMNS",
    "FAST_GRID",
    "Options",
    "POLICIES",
    "Workload",
    "count_workloads",
    "read_source",
    "run_loop",
    "run_ray",
    "score_batch",
    "score_batch_or_errors",
    "synthesize",
    "to_table",
    "write_csv_folder",
    "write_parquet",
    "write_table",
]

POLICIES = ("hpa", "threshold", "predictive", "oracle")
"""The backtest's runs, in order: the CLI's default policies, then the oracle (cost floor)."""

FAST_GRID: Mapping[str, Any] = {
    "targets": [20, 30, 40, 50, 60, 70],
    "tolerances": [0.1],
    "down_windows_s": [300],
    "predictive_targets": [50, 70, 80],
    "quantiles": [],
    "slo_cost_ratios": [1.5],
}
"""A small tuning grid: 6 HPA targets (tolerance 0.1, scale-down window 300 s) and 3
self-calibrating predictive policies (cost bound 1.5), 9 configurations instead of ``replicast
tune``'s 317, for fleets where the full search costs too much. ``Options(grid=None)`` searches
the full grid."""

_SCORES = ("replica_hours", "minutes_overloaded", "load_dropped_pct")

COLUMNS: tuple[str, ...] = (
    "workload",
    "steps",
    "step_s",
    "capacity_per_replica",
    *(f"{p}_{s}" for p in POLICIES for s in _SCORES),
    "tuned_spec",
    "tuned_sources",
    "tuned_replica_hours",
    "tuned_minutes_overloaded",
    "tried",
    "feasible",
    "held_out_replica_hours",
    "held_out_minutes_overloaded",
    "held_out_allowed_minutes",
    "held_out_meets_slo",
    "error",
)
"""The output table's columns, in order. Per policy of :data:`POLICIES`: replica-hours,
minutes overloaded and percent of load dropped over the whole history. ``tuned_*``: the spec
``tune`` picked (JSON), its sources, its figures on the searched part; ``held_out_*``: on the
tail held back from the search. Missing values (a step that failed, or was not run) are None;
``error`` holds the failures' messages, ``read: ...``, ``backtest: ...`` or ``tune: ...`` (e.g.
no configuration met the SLO), or None."""


@dataclass(frozen=True)
class Workload:
    """One workload's load history.

    Example:
        >>> w = Workload("api", np.array([0, 300]), np.array([10.0, 12.0]))
        >>> w.name, len(w.values)
        ('api', 2)
    """

    name: str
    """A name unique in the fleet (the file name without extension, or the Parquet row's)."""
    timestamps_s: npt.NDArray[np.int64]
    """The start of each step, whole seconds, on a regular step."""
    values: npt.NDArray[np.float64]
    """The load during each step."""


@dataclass(frozen=True)
class Options:
    """What :func:`score_batch` runs on each workload (the CLI's defaults unless set).

    Example:
        >>> Options(slo=99.5, grid=FAST_GRID).startup_s
        120
    """

    slo: float = 99.9
    """Percent of time not overloaded ``tune`` must guarantee."""
    startup_s: int = 120
    """Seconds from a scale-up decision to serving."""
    max_replicas: int = 100
    """Largest replica count a tuned policy may use."""
    held_out_pct: float = 25.0
    """Percent of each history, at its end, held back from the search."""
    grid: Mapping[str, Any] | None = field(default_factory=lambda: dict(FAST_GRID))
    """The tuning grid (:func:`replicast.tune`'s ``grid``); None: ``replicast tune``'s full one."""
    backtest: bool = True
    """Backtest the default policies and the oracle."""
    tune: bool = True
    """Tune a policy for the SLO."""


def _row(workload: Workload) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["workload"] = workload.name
    row["steps"] = len(workload.values)
    return row


def _add_error(row: dict[str, Any], step: str, error: Exception) -> None:
    # the row names the workload: drop the batch's "workload <index>: "
    message = f"{step}: {str(error).split(': ', 1)[-1]}"
    row["error"] = message if row["error"] is None else f"{row['error']}; {message}"


def score_batch(workloads: Sequence[Workload], options: Options | None = None) -> list[dict[str, Any]]:
    """Backtests and tunes a batch of workloads; one row (:data:`COLUMNS`) each, in order.

    Example:
        >>> ts = 300 * np.arange(2016)
        >>> load = 100.0 + 50.0 * np.sin(np.arange(2016) / 46.0)
        >>> [row] = score_batch([Workload("w0", ts, load)])
        >>> row["oracle_minutes_overloaded"], row["error"]
        (0.0, None)

    Args:
        workloads: The batch.
        options: What to run; None: :class:`Options`' defaults.

    Returns:
        One dict per workload with every column of :data:`COLUMNS`.
    """
    options = options or Options()
    rows = [_row(w) for w in workloads]
    traces = [(w.timestamps_s, w.values) for w in workloads]
    if options.backtest:
        results = replicast.backtest_batch(traces, startup_s=options.startup_s, on_error="return")
        for row, result in zip(rows, results):
            if isinstance(result, replicast.ReplicastError):
                _add_error(row, "backtest", result)
                continue
            row["step_s"] = result["step_s"]
            row["capacity_per_replica"] = result["capacity_per_replica"]
            for policy in POLICIES:
                scores = result["runs"][policy]["scores"]
                for score in _SCORES:
                    row[f"{policy}_{score}"] = scores[score]
    if options.tune:
        tuned = replicast.tune_batch(
            traces,
            slo=options.slo,
            startup_s=options.startup_s,
            max_replicas=options.max_replicas,
            held_out_pct=options.held_out_pct,
            grid=options.grid,
            on_error="return",
        )
        for row, pick in zip(rows, tuned):
            if isinstance(pick, replicast.ReplicastError):
                _add_error(row, "tune", pick)
                continue
            row["step_s"] = pick["step_s"]
            row["capacity_per_replica"] = pick["capacity_per_replica"]
            row["tuned_spec"] = json.dumps(pick["spec"].to_dict(), separators=(",", ":"))
            row["tuned_sources"] = ",".join(pick["spec"].sources)
            row["tuned_replica_hours"] = pick["scores"]["replica_hours"]
            row["tuned_minutes_overloaded"] = pick["scores"]["minutes_overloaded"]
            row["tried"] = pick["tried"]
            row["feasible"] = pick["feasible"]
            held_out = pick["held_out"]
            if held_out is not None:
                row["held_out_replica_hours"] = held_out["scores"]["replica_hours"]
                row["held_out_minutes_overloaded"] = held_out["scores"]["minutes_overloaded"]
                row["held_out_allowed_minutes"] = held_out["allowed_minutes"]
                row["held_out_meets_slo"] = held_out["meets_slo"]
    return rows


# --- reading a fleet ------------------------------------------------------------------------


def _optional(module: str) -> Any:
    """Imports an optional dependency, or says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package = module.split(".")[0]
        hint = "'ray[data]'" if package == "ray" else package
        raise ImportError(f"replicast.fleet needs {package} for this: pip install {hint}") from e


def _is_parquet(path: Path) -> bool:
    return path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet")))


def _parquet_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.glob("*.parquet"))


def _trace_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix in (".csv", ".json"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .csv or .json workload files")
    return files


def _parse_file(name: str, text: str, suffix: str) -> Workload:
    timestamps_s, values = replicast.parse_trace(
        text, format="prometheus" if suffix == ".json" else "csv"
    )
    return Workload(name, timestamps_s, values)


def _workloads_from_files(paths: Sequence[str], contents: Sequence[bytes]) -> list[Workload | str]:
    """Parsed workloads, or the parse error's message in place of one."""
    out: list[Workload | str] = []
    for path, content in zip(paths, contents):
        p = Path(path)
        try:
            out.append(_parse_file(p.stem, content.decode(), p.suffix))
        except (replicast.ReplicastError, UnicodeDecodeError) as e:
            out.append(f"{p.stem}\0read: {e}")
    return out


def _list_column(column: Any) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """A pyarrow list column's flat values and offsets, without a copy per row."""
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    flat = array.flatten().to_numpy(zero_copy_only=False)
    offsets = array.offsets.to_numpy() - array.offsets[0].as_py()
    return flat, offsets


def _workloads_from_arrow(batch: Any) -> list[Workload]:
    """Workloads from a pyarrow table or record batch: ``workload``, ``values`` (a list per
    row), and either ``timestamps_s`` (a list per row) or ``start_s`` and ``step_s``."""
    names = batch.column("workload").to_pylist()
    flat, offsets = _list_column(batch.column("values"))
    values = flat.astype(np.float64, copy=False)
    if "timestamps_s" in batch.schema.names:
        ts_flat, ts_offsets = _list_column(batch.column("timestamps_s"))
        stamps = [ts_flat[ts_offsets[i] : ts_offsets[i + 1]].astype(np.int64) for i in range(len(names))]
    else:
        starts, steps = batch.column("start_s").to_pylist(), batch.column("step_s").to_pylist()
        stamps = [
            int(starts[i]) + int(steps[i]) * np.arange(offsets[i + 1] - offsets[i], dtype=np.int64)
            for i in range(len(names))
        ]
    return [
        Workload(str(name), stamps[i], values[offsets[i] : offsets[i + 1]])
        for i, name in enumerate(names)
    ]


def read_source(source: str | Path, *, batch_size: int = 256) -> Iterator[list[Workload | str]]:
    """Reads a fleet in batches of workloads.

    A folder of ``.csv`` files (``timestamp,value``) and ``.json`` files (Prometheus
    ``query_range`` responses; several series are summed) holds one workload per file, named
    by the file's stem. A Parquet file (or a folder of them) holds one workload per row:
    ``workload`` (str), ``values`` (list of float) and either ``timestamps_s`` (list of int)
    or ``start_s`` and ``step_s`` (int); :func:`write_parquet` writes that.

    Example:
        >>> for batch in read_source("fleet.parquet", batch_size=256):  # doctest: +SKIP
        ...     rows = score_batch([w for w in batch if isinstance(w, Workload)])

    Args:
        source: The folder or Parquet path.
        batch_size: Workloads per batch.

    Yields:
        Lists of at most ``batch_size`` workloads; a file that cannot be parsed appears as a
        string ``"<name>\\0read: <error>"`` in its place (:func:`score_batch_or_errors` turns
        it into a row with the error).
    """
    path = Path(source)
    if _is_parquet(path):
        pq = _optional("pyarrow.parquet")
        for file in _parquet_files(path):
            for batch in pq.ParquetFile(file).iter_batches(batch_size=batch_size):
                yield list(_workloads_from_arrow(batch))
        return
    files = _trace_files(path)
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        yield _workloads_from_files([str(p) for p in chunk], [p.read_bytes() for p in chunk])


def score_batch_or_errors(batch: Sequence[Workload | str], options: Options | None = None) -> list[dict[str, Any]]:
    """:func:`score_batch` of a batch :func:`read_source` yields: the workloads that could not be
    read get a row with only their name and the error."""
    workloads = [w for w in batch if isinstance(w, Workload)]
    scored = iter(score_batch(workloads, options))
    rows = []
    for item in batch:
        if isinstance(item, Workload):
            rows.append(next(scored))
        else:
            name, error = item.split("\0", 1)
            row = dict.fromkeys(COLUMNS)
            row["workload"] = name
            row["error"] = error
            rows.append(row)
    return rows


# --- running a fleet ------------------------------------------------------------------------


def _progress(total: int | None, enabled: bool) -> Callable[[int], None]:
    """A progress bar over workloads (tqdm when installed, else a line on stderr)."""
    if not enabled:
        return lambda n: None
    try:
        tqdm = importlib.import_module("tqdm")
        bar = tqdm.tqdm(total=total, unit="workload", smoothing=0.1, file=sys.stderr)
    except ImportError:
        done = [0]

        def line(n: int) -> None:
            done[0] += n
            of = f"/{total}" if total is not None else ""
            print(f"\r{done[0]}{of} workloads", end="", file=sys.stderr, flush=True)

        return line

    def update(n: int) -> None:
        bar.update(n)
        if total is not None and bar.n >= total:
            bar.close()

    return update


def count_workloads(source: str | Path) -> int:
    """How many workloads a source holds (files, or Parquet rows from the metadata).

    Example:
        >>> count_workloads("fleet.parquet")  # doctest: +SKIP
        10000
    """
    path = Path(source)
    if not _is_parquet(path):
        return len(_trace_files(path))
    pq = _optional("pyarrow.parquet")
    return sum(int(pq.ParquetFile(f).metadata.num_rows) for f in _parquet_files(path))


def _sorted(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: str(r["workload"]))


def run_loop(
    source: str | Path,
    options: Options | None = None,
    *,
    batch_size: int = 256,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Scores a fleet in a plain Python loop over batches (the comparison for :func:`run_ray`).

    Example:
        >>> rows = run_loop("fleet.parquet", Options(grid=FAST_GRID))  # doctest: +SKIP

    Args:
        source: As :func:`read_source`.
        options: As :func:`score_batch`.
        batch_size: Workloads per call of the batch bindings.
        progress: Show a progress bar on stderr.

    Returns:
        One row per workload (:data:`COLUMNS`), sorted by workload.
    """
    tick = _progress(count_workloads(source) if progress else None, progress)
    rows: list[dict[str, Any]] = []
    for batch in read_source(source, batch_size=batch_size):
        rows.extend(score_batch_or_errors(batch, options))
        tick(len(batch))
    return _sorted(rows)


def _ray_batch(options: Options) -> Callable[[Any], Any]:
    """The ``map_batches`` function: a pyarrow table of input rows → one of output rows."""

    def score(batch: Any) -> Any:
        if "bytes" in batch.schema.names:  # read_binary_files: one file per row
            items: list[Workload | str] = _workloads_from_files(
                batch.column("path").to_pylist(), batch.column("bytes").to_pylist()
            )
        else:
            items = list(_workloads_from_arrow(batch))
        return to_table(score_batch_or_errors(items, options))

    return score


def run_ray(
    source: str | Path,
    options: Options | None = None,
    *,
    batch_size: int = 256,
    address: str | None = None,
    num_cpus: int | None = None,
    concurrency: int | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Scores a fleet with Ray Data: each block of workloads goes through ``map_batches``
    calling the batch bindings, a Ray task per batch.

    Starts a local Ray (``ray.init``, without the dashboard) unless one is running; with
    ``address`` it joins that cluster (``"auto"``, or ``"ray://head:10001"``) instead.

    Example:
        >>> rows = run_ray("fleet.parquet", num_cpus=2)  # doctest: +SKIP

    Args:
        source: As :func:`read_source`; a cluster's workers must see the same path.
        options: As :func:`score_batch`.
        batch_size: Workloads per ``map_batches`` call.
        address: A Ray cluster to join; None: a local Ray.
        num_cpus: CPUs a local Ray may use (its workers); None: all.
        concurrency: Ray tasks scoring at once; None: as many as Ray schedules.
        progress: Show a progress bar over workloads on stderr (Ray's own bars are off).

    Returns:
        One row per workload (:data:`COLUMNS`), sorted by workload.
    """
    ray = _optional("ray")
    options = options or Options()
    if not ray.is_initialized():
        ray.init(
            address=address,
            num_cpus=None if address else num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    path = Path(source)
    # a block per batch, so that every worker gets some of a small fleet too
    if _is_parquet(path):
        total = count_workloads(path)
        dataset = ray.data.read_parquet(str(path), override_num_blocks=-(-total // batch_size))
    else:
        files = [str(p) for p in _trace_files(path)]
        total = len(files)
        dataset = ray.data.read_binary_files(
            files, include_paths=True, override_num_blocks=-(-total // batch_size)
        )
    scored = dataset.map_batches(
        _ray_batch(options),
        batch_size=batch_size,
        batch_format="pyarrow",
        concurrency=concurrency,
    )
    tick = _progress(total if progress else None, progress)
    rows: list[dict[str, Any]] = []
    for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
        rows.extend(batch.to_pylist())
        tick(batch.num_rows)
    return _sorted(rows)


# --- writing the table ----------------------------------------------------------------------

_TYPES = {
    "workload": "string",
    "steps": "int64",
    "step_s": "int64",
    "tried": "int64",
    "feasible": "int64",
    "tuned_spec": "string",
    "tuned_sources": "string",
    "held_out_meets_slo": "bool_",
    "error": "string",
}


def to_table(rows: Sequence[Mapping[str, Any]]) -> Any:
    """The rows as a ``pyarrow.Table`` with a fixed schema (:data:`COLUMNS`; floats float64)."""
    pa = _optional("pyarrow")
    schema = pa.schema([(c, getattr(pa, _TYPES.get(c, "float64"))()) for c in COLUMNS])
    return pa.table({c: [r[c] for r in rows] for c in COLUMNS}, schema=schema)


def write_table(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """Writes the rows as one Parquet file (``.parquet``) or one CSV file (any other suffix).

    Example:
        >>> write_table(run_loop("fleet.parquet"), "scores.parquet")  # doctest: +SKIP
    """
    path = Path(path)
    table = to_table(rows)
    if path.suffix == ".parquet":
        _optional("pyarrow.parquet").write_table(table, path)
    else:
        _optional("pyarrow.csv").write_csv(table, path)


# --- a synthetic fleet ----------------------------------------------------------------------


def _load_bases(traces_dir: Path, step_s: int) -> list[tuple[str, npt.NDArray[np.float64]]]:
    """Every trace of the folder averaged (or held) to ``step_s``, scaled to a mean of 1."""
    bases = []
    for path in sorted(traces_dir.glob("*.csv")):
        ts, values = replicast.parse_trace(path.read_text())
        step = int(ts[1] - ts[0])
        if step <= step_s:
            k = step_s // step
            values = values[: len(values) // k * k].reshape(-1, k).mean(axis=1)
        else:
            values = np.repeat(values, step // step_s)
        mean = float(values.mean())
        if len(values) >= 2 and mean > 0:
            bases.append((path.stem, values / mean))
    if not bases:
        raise FileNotFoundError(f"{traces_dir}: no usable timestamp,value CSV traces")
    return bases


def synthesize(
    count: int,
    *,
    traces_dir: str | Path,
    seed: int = 0,
    steps: int = 2016,
    step_s: int = 300,
    start_s: int = 1_767_225_600,
) -> Iterator[Workload]:
    """A synthetic fleet made from real traces: workload ``i`` is one of the traces (averaged to
    ``step_s``), started at a random offset (wrapping around), scaled by a log-normal factor
    (median 100, so loads span about 10 to 1 000) and multiplied by Gaussian noise of a random
    level (0 to 15 %), clipped at 0.

    Workload ``i`` depends only on ``seed``, ``i`` and the traces, not on ``count``.

    Example:
        >>> fleet = list(synthesize(3, traces_dir="/work/shared/traces"))  # doctest: +SKIP
        >>> [w.name for w in fleet], len(fleet[0].values)
        (['w000000', 'w000001', 'w000002'], 2016)

    Args:
        count: Workloads.
        traces_dir: A folder of ``timestamp,value`` CSV traces.
        seed: The random seed.
        steps: Steps per workload (2016: a week of 5-minute steps).
        step_s: The step, seconds.
        start_s: Every workload's first timestamp.

    Yields:
        The workloads, ``w000000`` first.
    """
    bases = _load_bases(Path(traces_dir), step_s)
    ts = start_s + step_s * np.arange(steps, dtype=np.int64)
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        _, base = bases[int(rng.integers(len(bases)))]
        offset = int(rng.integers(len(base)))
        index = (offset + np.arange(steps)) % len(base)
        scale = 100.0 * math.exp(rng.normal(0.0, 1.0))
        noise = rng.normal(1.0, rng.uniform(0.0, 0.15), steps)
        values = np.maximum(base[index] * scale * noise, 0.0).round(3)
        yield Workload(f"w{i:06d}", ts, values)


def write_parquet(workloads: Iterable[Workload], path: str | Path, *, row_group: int = 1024) -> int:
    """Writes workloads to one Parquet file, one row each (``workload``, ``start_s``,
    ``step_s``, ``values``: what :func:`read_source` reads), ``row_group`` rows per group.

    Example:
        >>> write_parquet(synthesize(100, traces_dir="traces"), "fleet.parquet")  # doctest: +SKIP
        100

    Returns:
        The number of workloads written.
    """
    pa = _optional("pyarrow")
    pq = _optional("pyarrow.parquet")
    schema = pa.schema(
        [("workload", pa.string()), ("start_s", pa.int64()), ("step_s", pa.int64()),
         ("values", pa.list_(pa.float64()))]
    )
    written = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        chunk: list[Workload] = []

        def flush() -> None:
            writer.write_table(pa.table({
                "workload": [w.name for w in chunk],
                "start_s": [int(w.timestamps_s[0]) for w in chunk],
                "step_s": [int(w.timestamps_s[1] - w.timestamps_s[0]) for w in chunk],
                "values": [w.values for w in chunk],
            }, schema=schema))
            chunk.clear()

        for w in workloads:
            chunk.append(w)
            written += 1
            if len(chunk) == row_group:
                flush()
        if chunk:
            flush()
    return written


def write_csv_folder(workloads: Iterable[Workload], folder: str | Path) -> int:
    """Writes workloads as a folder of ``<name>.csv`` files (``timestamp,value``).

    Example:
        >>> write_csv_folder(synthesize(10, traces_dir="traces"), "fleet/")  # doctest: +SKIP
        10

    Returns:
        The number of workloads written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for w in workloads:
        lines = "\n".join(f"{t},{v!r}" for t, v in zip(w.timestamps_s.tolist(), w.values.tolist()))
        (folder / f"{w.name}.csv").write_text(f"timestamp,value\n{lines}\n")
        written += 1
    return written

