#!/usr/bin/env python3
"""Backtest a load trace in Python: the score table and a chart, like ``replicast backtest``.

Loads a CSV trace (``timestamp,value``: seconds, load per step), replays it through the
CLI's default policies (HPA, threshold bands, predictive) and the oracle with
:func:`replicast.backtest`, prints each run's scores, and plots load capacity against
replicas with matplotlib (Agg backend: no display needed). Also forecasts the next hour
with an automatic model fitted to the trace.

Example:
    python examples/python/backtest_notebook.py --out chart.png
    python examples/python/backtest_notebook.py --trace my.csv --capacity 40 --startup-s 300
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after selecting the backend
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

import replicast  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TRACE = REPO / "testdata" / "traces" / "nasa_http_1995jul10-16_1min.csv"

COLUMNS = [
    ("replica_hours", "replica-h", "{:.1f}"),
    ("minutes_overloaded", "overload-m", "{:.0f}"),
    ("load_dropped_pct", "dropped%", "{:.3f}"),
    ("theta_under_pct", "θU%", "{:.2f}"),
    ("theta_over_pct", "θO%", "{:.1f}"),
    ("tau_under_pct", "τU%", "{:.2f}"),
    ("tau_over_pct", "τO%", "{:.1f}"),
    ("instability_pct", "υ%", "{:.2f}"),
    ("actions_per_hour", "actions/h", "{:.2f}"),
]


def load_trace(path: Path) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Reads a ``timestamp,value`` CSV with a header row."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, 0].astype(np.int64), data[:, 1].astype(np.float64)


def score_table(runs: dict[str, replicast.BacktestRun]) -> str:
    """The scores of every run as a fixed-width text table."""
    lines = [f"{'policy':<12}" + "".join(f" {head:>10}" for _, head, _ in COLUMNS)]
    for name, run in runs.items():
        cells = (fmt.format(run["scores"][key]) for key, _, fmt in COLUMNS)
        lines.append(f"{name:<12}" + "".join(f" {cell:>10}" for cell in cells))
    return "\n".join(lines)


def plot(result: replicast.BacktestResult, title: str, out: Path) -> None:
    """Load in replica units and each policy's ready replicas over time."""
    runs = result["runs"]
    capacity = result["capacity_per_replica"]
    first = next(iter(runs.values()))["timeline"]
    hours = (first["timestamps_s"] - first["timestamps_s"][0]) / 3600.0
    fig, ax = plt.subplots(figsize=(12, 5))
    ax.fill_between(hours, first["load"] / capacity, color="0.85", label="load / capacity")
    for name, run in runs.items():
        style = "k--" if name == "oracle" else "-"
        ax.plot(hours, run["timeline"]["ready"], style, linewidth=0.8, label=f"{name} ready")
    ax.set_xlabel("hours since start")
    ax.set_ylabel("replicas")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trace", type=Path, default=DEFAULT_TRACE, help="CSV timestamp,value")
    parser.add_argument("--capacity", type=float, default=None,
                        help="load per replica per step (default: peak needs 20 at 70 %%)")
    parser.add_argument("--startup-s", type=int, default=120, help="replica start-up, seconds")
    parser.add_argument("--interval-s", type=int, default=0,
                        help="seconds between decisions (0: max(15, step))")
    parser.add_argument("--out", type=Path, default=None, help="write the chart to this PNG")
    args = parser.parse_args()

    timestamps_s, values = load_trace(args.trace)
    result = replicast.backtest(timestamps_s, values, capacity=args.capacity,
                                startup_s=args.startup_s, interval_s=args.interval_s)
    hours = len(values) * result["step_s"] / 3600.0
    print(f"trace {args.trace.name}: {len(values)} steps of {result['step_s']} s "
          f"({hours:.1f} h), peak {values.max():g}")
    print(f"capacity {result['capacity_per_replica']:.3f} per replica per step, "
          f"start-up {args.startup_s} s\n")
    print(score_table(result["runs"]))

    step_s = result["step_s"]
    horizon = max(1, 3600 // step_s)
    try:
        forecast = replicast.Model.auto(step_s=step_s).fit(values).predict(horizon, level=0.9)
        print(f"\nnext {horizon} steps (auto model): mean {forecast.point.mean():.1f}, "
              f"90 % interval up to {np.max(forecast.upper if forecast.upper is not None else 0):.1f}")
    except replicast.InsufficientDataError as e:
        print(f"\nno forecast: {e}")

    if args.out is not None:
        plot(result, f"replicast backtest: {args.trace.name}", args.out)
        print(f"chart written to {args.out}")


if __name__ == "__main__":
    main()
