"""Backtest and tune a fleet of workloads on Ray, one row of scores per workload.

Commands (see README.md beside this file)::

    # a synthetic fleet of 10 000 workloads, a week of 5-minute data each, from the shared traces
    python examples/fleet_ray/fleet.py generate --count 10000 --out /tmp/fleet.parquet

    # backtest and tune --slo each workload with Ray Data (a local Ray; --address for a cluster)
    python examples/fleet_ray/fleet.py run --input /tmp/fleet.parquet --out /tmp/scores.parquet

``--input`` is a Parquet file or folder (one row per workload: ``workload``, ``values`` and
``start_s``/``step_s`` or ``timestamps_s``) or a folder of ``.csv`` (``timestamp,value``) and
Prometheus ``query_range`` ``.json`` files, one workload each. ``--engine loop`` runs the same
batches in a plain Python loop instead of Ray.
"""

from __future__ import annotations

import os

# numpy's BLAS threads would compete with the scoring for the cores (set before numpy loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from replicast import fleet  # noqa: E402

DEFAULT_TRACES = Path(__file__).resolve().parents[3] / "shared" / "traces"


def generate(args: argparse.Namespace) -> None:
    workloads = fleet.synthesize(args.count, traces_dir=args.traces, seed=args.seed,
                                 steps=args.steps, step_s=args.step_s)
    out = Path(args.out)
    if out.suffix == ".parquet":
        n = fleet.write_parquet(workloads, out)
    else:
        n = fleet.write_csv_folder(workloads, out)
    print(f"{n} workloads of {args.steps} steps of {args.step_s} s written to {out}")


def run(args: argparse.Namespace) -> None:
    options = fleet.Options(
        slo=args.slo,
        startup_s=args.startup_s,
        max_replicas=args.max_replicas,
        held_out_pct=args.held_out,
        grid=None if args.grid == "full" else fleet.FAST_GRID,
        backtest=not args.no_backtest,
        tune=not args.no_tune,
    )
    started = time.perf_counter()
    if args.engine == "loop":
        rows = fleet.run_loop(args.input, options, batch_size=args.batch_size,
                              progress=not args.quiet)
    else:
        rows = fleet.run_ray(args.input, options, batch_size=args.batch_size,
                             address=args.address, num_cpus=args.workers,
                             progress=not args.quiet)
    took = time.perf_counter() - started
    for out in args.out:
        fleet.write_table(rows, out)
    failed = sum(1 for r in rows if r["error"] is not None)
    print(f"{len(rows)} workloads in {took:.1f} s ({len(rows) / took:.0f} per second, "
          f"{args.engine}); {failed} with an error; written to {', '.join(args.out)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic fleet made from real traces")
    g.add_argument("--count", type=int, default=10_000, help="workloads (default 10000)")
    g.add_argument("--out", required=True,
                   help="a .parquet file, or a folder to fill with one CSV per workload")
    g.add_argument("--traces", default=str(DEFAULT_TRACES),
                   help="folder of timestamp,value CSV traces to draw from")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--steps", type=int, default=2016, help="steps per workload (a week of 5 min)")
    g.add_argument("--step-s", type=int, default=300)
    g.set_defaults(func=generate)

    r = sub.add_parser("run", help="backtest and tune every workload; write one table")
    r.add_argument("--input", required=True, help="Parquet file/folder, or folder of CSV/JSON")
    r.add_argument("--out", required=True, action="append",
                   help="output table: .parquet, else CSV (repeat for both)")
    r.add_argument("--engine", choices=["ray", "loop"], default="ray")
    r.add_argument("--address", help="Ray cluster to join (e.g. auto); default: a local Ray")
    r.add_argument("--workers", type=int, help="CPUs of the local Ray (default: all)")
    r.add_argument("--batch-size", type=int, default=256, help="workloads per batch call")
    r.add_argument("--slo", type=float, default=99.9,
                   help="percent of time not overloaded the tuned policy must meet")
    r.add_argument("--startup-s", type=int, default=120)
    r.add_argument("--max-replicas", type=int, default=100)
    r.add_argument("--held-out", type=float, default=25.0,
                   help="percent of each history held back from the search")
    r.add_argument("--grid", choices=["fast", "full"], default="fast",
                   help="tuning grid: fast (9 configurations) or full (replicast tune's 317)")
    r.add_argument("--no-backtest", action="store_true")
    r.add_argument("--no-tune", action="store_true")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=run)

    args = parser.parse_args()
    try:
        args.func(args)
    except (FileNotFoundError, ImportError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
