#!/usr/bin/env python3
"""Runs the peers' bench_forecast.py with chosen models scored on every origin of its grid.

The peers' script draws up to 200 evenly spaced origins per trace (its grid) but scores AutoETS
and the other slow models on only the first 40 of them, inside a 12-second time box. Forty origins
make a noisy judge: a bootstrap over those origins puts a 90 % interval of about ±0.05 on the
median relMAE gap between two models. This wrapper imports the script unchanged and lifts, for the
models named in --full-grid, the origin cap and the time box (or sets a longer box: MODEL:SECONDS),
and the two-minute cap on a single call, before calling its main(); every other setting (grid, history cap, horizons, model configuration)
stays the peers' own. Used by scripts/forecast-peers.sh; the rest of the command line goes to
bench_forecast.py as it is.

    peers_full_grid.py --peers-dir DIR --full-grid AutoETS,AutoARIMA:60 -- BENCH_ARGS...
"""
from __future__ import annotations

import argparse
import math
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers-dir", required=True, help="directory holding bench_forecast.py")
    ap.add_argument("--full-grid", required=True,
                    help="comma-separated models to score on every origin of the grid, each "
                         "optionally MODEL:SECONDS, a time box per trace (default: none)")
    args, bench_args = ap.parse_known_args()
    if bench_args[:1] == ["--"]:
        bench_args = bench_args[1:]

    sys.path.insert(0, os.path.abspath(args.peers_dir))
    import bench_forecast  # noqa: PLC0415 (the peers' directory is known only now)

    for item in (m for m in args.full_grid.split(",") if m):
        name, _, seconds = item.partition(":")
        if name not in bench_forecast.DEFAULT_PLAN:
            sys.exit(f"unknown model {name}: bench_forecast.py has {sorted(bench_forecast.DEFAULT_PLAN)}")
        try:
            budget_s = float(seconds) if seconds else math.inf
        except ValueError:
            sys.exit(f"{item}: the time box after ':' must be a number of seconds")
        bench_forecast.DEFAULT_PLAN[name] = dict(max_origins=sys.maxsize, budget_s=budget_s)
    # The script also stops a model after one call over two minutes: on a loaded machine a
    # one-minute MSTL call can take that long, and the time box above is the limit asked for.
    bench_forecast.HARD_CALL_CAP_S = math.inf
    sys.argv = ["bench_forecast.py"] + bench_args
    bench_forecast.main()


if __name__ == "__main__":
    main()
