"""Measures fleet throughput: a plain Python loop over the batch bindings, and Ray Data with 1
and 2 local workers, on the same synthetic fleet (a week of 5-minute data per workload).

    python examples/fleet_ray/bench.py --count 10000 --tune-count 1000

writes ``docs/fleet-ray-bench.json`` (every figure) and rewrites the table between the
``bench:begin``/``bench:end`` markers of ``docs/fleet-ray.md`` (``--render`` rewrites it from
the saved JSON without measuring). Each measurement runs in a
fresh process (a fresh Ray for each worker count). Timings are wall-clock; ``cpu_s`` is the
measuring process's CPU time (for Ray, the driver's only).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import replicast  # noqa: E402
from replicast import fleet  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_TRACES = REPO.parent / "shared" / "traces"

# the CLI's default HPA policy (core/src/sim/defaults.rs): the sim without forecasting
HPA_ONLY = (
    "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, "
    "target: {type: utilization, average_utilization: 70}}\n"
)


def digest(rows: list[dict[str, Any]]) -> str:
    """A hash of the rows, to check every engine wrote the same table."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def measure(args: argparse.Namespace) -> None:
    """One measurement, in this (fresh) process; prints its figures as JSON."""
    options = fleet.Options(tune=args.tune, slo=args.slo)
    out: dict[str, Any] = {"engine": args.engine, "workers": args.workers, "tune": args.tune}
    if args.engine == "ray":
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        out["init_s"] = time.perf_counter() - started
    cpu, started = time.process_time(), time.perf_counter()
    if args.engine == "loop":
        rows = fleet.run_loop(args.data, options, batch_size=args.batch_size)
    else:
        rows = fleet.run_ray(args.data, options, batch_size=args.batch_size)
    out["wall_s"] = time.perf_counter() - started
    out["cpu_s"] = time.process_time() - cpu
    out["workloads"] = len(rows)
    out["per_s"] = len(rows) / out["wall_s"]
    out["errors"] = sum(r["error"] is not None for r in rows)
    out["digest"] = digest(rows)
    print(json.dumps(out))


def in_process(data: str, n: int, batch_size: int) -> dict[str, Any]:
    """Per-workload costs on the first ``n`` workloads, one thread: the default backtest
    (3 policies and the oracle) in batches and one call at a time, and the HPA alone."""
    workloads = [w for b in fleet.read_source(data, batch_size=n) for w in b][:n]
    traces = [(w.timestamps_s, w.values) for w in workloads if isinstance(w, fleet.Workload)]
    out: dict[str, Any] = {"workloads": len(traces), "steps": len(traces[0][1])}

    def rate(name: str, run: Any) -> None:
        started = time.perf_counter()
        run()
        took = time.perf_counter() - started
        out[name] = {"wall_s": took, "per_s": len(traces) / took, "ms_each": 1e3 * took / len(traces)}

    rate("default_batch", lambda: [replicast.backtest_batch(traces[i : i + batch_size])
                                   for i in range(0, len(traces), batch_size)])
    rate("default_one_at_a_time", lambda: [replicast.backtest(ts, v) for ts, v in traces])
    rate("hpa_only_batch", lambda: [replicast.backtest_batch(traces[i : i + batch_size],
                                                             specs={"hpa": HPA_ONLY})
                                    for i in range(0, len(traces), batch_size)])
    rate("tune_fast_grid_batch", lambda: [replicast.tune_batch(traces[i : i + batch_size],
                                                               grid=fleet.FAST_GRID,
                                                               on_error="return")
                                          for i in range(0, len(traces), batch_size)])
    return out


def run_child(data: str, engine: str, workers: int, tune: bool, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "_measure", "--data", data, "--engine", engine,
               "--workers", str(workers), "--batch-size", str(args.batch_size),
               "--slo", str(args.slo)] + (["--tune"] if tune else [])
    print("  $", " ".join(command[1:]), file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"    {result['workloads']} workloads in {result['wall_s']:.1f} s: "
          f"{result['per_s']:.1f}/s", file=sys.stderr, flush=True)
    return result


def ensure_fleet(path: Path, count: int, traces: str) -> None:
    if path.exists() and fleet.count_workloads(path) == count:
        return
    print(f"generating {count} workloads into {path}", file=sys.stderr, flush=True)
    fleet.write_parquet(fleet.synthesize(count, traces_dir=traces), path)


def table(report: dict[str, Any]) -> str:
    """The Markdown that goes between the markers of docs/fleet-ray.md."""
    lines = [
        f"Measured {report['date']} with `{report['command']}` on {report['machine']}; "
        f"load average before/after: {report['load_before']} / {report['load_after']} "
        "(the machine was shared: figures are lower bounds of an idle one).",
        "",
        f"**Single thread, first {report['in_process']['workloads']} workloads "
        f"({report['in_process']['steps']} steps each):**",
        "",
        "| what | workloads/s | ms per workload |",
        "|---|---:|---:|",
    ]
    names = {
        "default_batch": "backtest, default policies + oracle, `backtest_batch`",
        "default_one_at_a_time": "the same, one `backtest()` call each (timelines included)",
        "hpa_only_batch": "backtest, HPA policy only, `backtest_batch`",
        "tune_fast_grid_batch": "`tune_batch`, SLO 99.9 %, fast grid (9 configurations)",
    }
    for key, label in names.items():
        m = report["in_process"][key]
        lines.append(f"| {label} | {m['per_s']:.1f} | {m['ms_each']:.2f} |")
    for job, label in (("backtest", "backtest only (default policies + oracle)"),
                       ("backtest_tune", "backtest + tune --slo 99.9 (fast grid)")):
        runs = report[job]
        loop = runs["loop"]
        lines += [
            "",
            f"**Fleet, {label}, {loop['workloads']} workloads, batches of {report['batch_size']}:**",
            "",
            "| engine | wall s | workloads/s | vs loop | Ray overhead per workload | ray.init s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, name in (("loop", "plain Python loop (1 process)"), ("ray1", "Ray Data, 1 worker"),
                          ("ray2", "Ray Data, 2 workers")):
            m = runs[key]
            if key == "loop":
                vs, overhead, init = "1.00", "-", "-"
            else:
                vs = f"{loop['wall_s'] / m['wall_s']:.2f}x"
                per = (m["wall_s"] - loop["wall_s"]) / m["workloads"] * 1e3
                overhead = f"{per:+.2f} ms ({100 * (m['wall_s'] / loop['wall_s'] - 1):+.1f} %)" \
                    if key == "ray1" else "-"
                init = f"{m['init_s']:.1f}"
            lines.append(f"| {name} | {m['wall_s']:.1f} | {m['per_s']:.1f} | {vs} | {overhead} | {init} |")
        same = len({runs[k]["digest"] for k in ("loop", "ray1", "ray2")}) == 1
        errors = loop["errors"]
        lines += ["", f"Same table from all three engines: {'yes' if same else 'NO'}"
                  + (f"; {errors} workloads with an error (no tuned configuration met the SLO)"
                     if errors else "") + "."]
    lines += ["", extrapolation(report)]
    return "\n".join(lines)


def extrapolation(report: dict[str, Any], workloads: int = 100_000) -> str:
    """100 000 workloads on a cluster, from the measured figures: each core scores at the lower
    of the loop's and the Ray 1-worker rate (the latter carries Ray's overheads but also gets
    help from the driver's process), plus ``ray.init``."""
    lines = [
        f"**Extrapolated to {workloads:,} workloads on a cluster** (each core at the lower of "
        "the loop's and the Ray 1-worker rate, plus `ray.init`; a real cluster adds scheduling "
        "and data transfer across machines that this does not measure):",
        "",
        "| job | per core /s | 2-worker scaling | 16 cores | 64 cores | 256 cores |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for job, label in (("backtest", "backtest"), ("backtest_tune", "backtest + tune")):
        runs = report[job]
        per_core = min(runs["ray1"]["per_s"], runs["loop"]["per_s"])
        scaling = runs["ray2"]["per_s"] / runs["ray1"]["per_s"]
        fixed = runs["ray1"]["init_s"]

        def at(cores: int) -> str:
            seconds = workloads / (per_core * cores) + fixed
            return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"

        lines.append(f"| {label} | {per_core:.1f} | {scaling:.2f}x | {at(16)} | {at(64)} | {at(256)} |")
    return "\n".join(lines)


def render(report: dict[str, Any], doc: Path) -> None:
    """Rewrites the table between the markers of ``doc`` from a saved report."""
    text = doc.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n{table(report)}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    m = sub.add_parser("_measure")
    m.add_argument("--data", required=True)
    m.add_argument("--engine", choices=["loop", "ray"], required=True)
    m.add_argument("--workers", type=int, default=1)
    m.add_argument("--batch-size", type=int, default=256)
    m.add_argument("--slo", type=float, default=99.9)
    m.add_argument("--tune", action="store_true")
    parser.add_argument("--count", type=int, default=10_000, help="workloads, backtest only")
    parser.add_argument("--tune-count", type=int, default=1_000,
                        help="workloads for backtest + tune (a prefix of the same fleet)")
    parser.add_argument("--in-process-count", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--slo", type=float, default=99.9)
    parser.add_argument("--data-dir", default="/tmp", help="where the synthetic fleets go")
    parser.add_argument("--traces", default=str(DEFAULT_TRACES))
    parser.add_argument("--json", default=str(REPO / "docs" / "fleet-ray-bench.json"))
    parser.add_argument("--doc", default=str(REPO / "docs" / "fleet-ray.md"))
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the doc's table from the saved --json report")
    args = parser.parse_args()
    if args.command == "_measure":
        measure(args)
        return
    if args.render:
        render(json.loads(Path(args.json).read_text()), Path(args.doc))
        return

    data_dir = Path(args.data_dir)
    big = data_dir / f"replicast-fleet-{args.count}.parquet"
    small = data_dir / f"replicast-fleet-{args.tune_count}.parquet"
    ensure_fleet(big, args.count, args.traces)
    ensure_fleet(small, args.tune_count, args.traces)
    import ray

    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "command": "python examples/fleet_ray/bench.py " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
                   f"Python {platform.python_version()}, Ray {ray.__version__}, "
                   f"replicast {replicast.__version__}",
        "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "batch_size": args.batch_size,
    }
    print("in process", file=sys.stderr, flush=True)
    report["in_process"] = in_process(str(small), min(args.in_process_count, args.tune_count),
                                      args.batch_size)
    for job, data, tune in (("backtest", big, False), ("backtest_tune", small, True)):
        print(job, file=sys.stderr, flush=True)
        report[job] = {
            "loop": run_child(str(data), "loop", 1, tune, args),
            "ray1": run_child(str(data), "ray", 1, tune, args),
            "ray2": run_child(str(data), "ray", 2, tune, args),
        }
    report["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    render(report, Path(args.doc))
    print(table(report))


if __name__ == "__main__":
    main()
