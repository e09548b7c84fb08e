#!/usr/bin/env python3
"""A real fleet on this machine, autoscaled by replicast: the one command of the demo.

For each policy, on loopback: nginx in front of worker processes, Prometheus scraping them,
the controller (controller.py) deciding every 2 s, and the load generator (loadgen.py) playing
the repeated pattern. Then the chart (offered load, replicas, p95 latency per policy) and the
summary table (printed, and written as CSV and markdown). Every process is stopped at the end,
also when something fails.

Example (about 9 minutes: two policies, six 40-second repetitions each):
    .venv/bin/python examples/fleet/run.py --out-dir /tmp/fleet --chart docs/fleet.png \\
        --summary docs/fleet-summary.md --readme README.md
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import replicast

from controller import POLICIES, QUERIES, SERVICE, Controller, Step
from fleet import Fleet, ScaleEvent, WorkerSettings, stop_process, wait_until
from loadgen import Pattern, read_csv
from report import PolicyRun, draw_chart, markdown_table, summarize, write_summary_csv

HERE = Path(__file__).resolve().parent
README_BEGIN = "<!-- fleet-summary:begin (written by examples/fleet/run.py --readme) -->"
README_END = "<!-- fleet-summary:end -->"


@dataclass(frozen=True)
class RunConfig:
    cycles: float
    pattern: Pattern
    settings: WorkerSettings
    interval_s: float = 2.0
    seed: int = 1


def warmup_s(spec: str) -> float:
    """How long a spec's predictive source warms up before it forecasts (0 without one)."""
    predictive = replicast.Scaler(spec).spec.to_dict().get("predictive")
    if not predictive:
        return 0.0
    return float(predictive["warmup_samples"] * predictive["sample_interval_s"])


def run_policy(policy: str, spec: str, config: RunConfig, workdir: Path, *, compare_from_s: float = 0.0) -> PolicyRun:
    """Runs the load once against a fresh fleet under ``spec``; every process ends with it.

    ``compare_from_s``: where the summary's "after warm-up" columns start (the same for every
    policy of a comparison).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    requests_csv = workdir / "requests.csv"
    duration_s = config.cycles * config.pattern.period_s
    with Fleet(workdir, settings=config.settings) as fleet:
        controller = Controller(fleet, spec, interval_s=config.interval_s)
        # the controller reads nothing before Prometheus has scraped a worker once
        first_scrape = QUERIES["load"].fresh
        assert first_scrape is not None
        wait_until(lambda: bool(controller.prometheus.query(first_scrape.format(service=SERVICE))),
                   "a first scrape of the workers", timeout_s=30)
        p = config.pattern
        loadgen = subprocess.Popen(
            [sys.executable, str(HERE / "loadgen.py"), "--url", f"{fleet.url}/infer", "--out", str(requests_csv),
             "--period-s", str(p.period_s), "--cycles", str(config.cycles), "--base-rps", str(p.base_rps),
             "--plateau-rps", str(p.plateau_rps), "--burst-rps", str(p.burst_rps), "--seed", str(config.seed)],
            cwd=workdir,
        )
        try:
            started_s = time.time()
            controller.start()
            loadgen.wait(timeout=duration_s + 60)
        finally:
            controller.stop()
            stop_process(loadgen)
        if loadgen.returncode != 0:
            raise RuntimeError(f"the load generator failed with exit code {loadgen.returncode}")
        events = list(fleet.events)
    outcomes = read_csv(requests_csv)
    run = PolicyRun(policy, started_s, config.pattern, outcomes, controller.steps, events, compare_from_s)
    write_records(workdir, controller.steps, events)
    return run


def write_records(workdir: Path, steps: list[Step], events: list[ScaleEvent]) -> None:
    for name, rows in (("steps.csv", [asdict(s) for s in steps]), ("events.csv", [asdict(e) for e in events])):
        with (workdir / name).open("w", newline="") as f:
            if rows:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)


def update_readme(readme: Path, table: str) -> None:
    """Replaces the README's summary block (between the markers) with ``table``."""
    text = readme.read_text()
    begin, end = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    readme.write_text(text[:begin] + "\n" + table + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--policies", nargs="+", choices=sorted(POLICIES), default=["reactive", "predictive"])
    parser.add_argument("--cycles", type=float, default=6.0, help="repetitions of the load pattern")
    parser.add_argument("--period-s", type=float, default=Pattern.period_s,
                        help="the pattern's period (predictive.yaml's warm-up is sized for 40 s)")
    parser.add_argument("--out-dir", type=Path, help="logs and per-request records (default: a temp dir)")
    parser.add_argument("--chart", type=Path, help="PNG chart (default: OUT_DIR/fleet.png)")
    parser.add_argument("--summary", type=Path, help="markdown summary (default: OUT_DIR/summary.md)")
    parser.add_argument("--readme", type=Path, help="also write the summary into this README's block")
    parser.add_argument("--slo-s", type=float, default=0.5, help="p95 latency objective, seconds")
    args = parser.parse_args(argv)

    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="replicast-fleet-"))
    chart = args.chart or out_dir / "fleet.png"
    summary_md = args.summary or out_dir / "summary.md"
    config = RunConfig(cycles=args.cycles, pattern=Pattern(period_s=args.period_s), settings=WorkerSettings())
    compare_from_s = max(warmup_s(POLICIES[p].read_text()) for p in args.policies)
    runs = []
    for policy in args.policies:
        print(f"== {policy}: {args.cycles:g} x {args.period_s:g}s of load", file=sys.stderr, flush=True)
        runs.append(run_policy(policy, POLICIES[policy].read_text(), config, out_dir / policy,
                               compare_from_s=compare_from_s))
    rows = [summarize(run, args.slo_s) for run in runs]
    table = markdown_table(rows, args.slo_s)
    print(table)
    write_summary_csv(out_dir / "summary.csv", rows)
    summary_md.parent.mkdir(parents=True, exist_ok=True)
    summary_md.write_text(table)
    draw_chart(runs, args.slo_s, chart)
    if args.readme is not None:
        update_readme(args.readme, table)
    print(f"records in {out_dir}; chart {chart}; summary {summary_md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

