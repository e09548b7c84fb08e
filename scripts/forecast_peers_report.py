#!/usr/bin/env python3
"""Writes docs/forecast-peers.md from one run of scripts/forecast-peers.sh.

Inputs: the peers' output directory of bench_forecast.py (summary.csv, run_meta.json,
bench_args.txt) and replicast's `forecast-eval --json` documents, one per line.
Standard library only. Not part of the tests; see scripts/forecast-peers.sh.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import glob
import json
import os
import random
import statistics

HORIZONS = (("5min", 300), ("15min", 900))
MAX_STEP_S = 300  # medians over the traces of 5-minute step or finer (the peers' rule)


def fmt(v, digits=3):
    if v is None or v != v:  # None or NaN
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}g}" if abs(v) < 0.01 else f"{v:.{digits}f}"


def med(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else None


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def load_peers(out_dir):
    rows = list(csv.DictReader(open(os.path.join(out_dir, "summary.csv"))))
    per = {}  # (model, series) -> {"step_s", horizon -> metrics}
    for r in rows:
        if r["kind"] != "trace":
            continue
        d = per.setdefault((r["model"], r["series"]), {"step_s": num(r["step_s"])})
        d[r["horizon"]] = dict(
            mase=num(r["MASE"]), rel=num(r["relMAE_vs_snaive"]), cov=num(r["cov90"]),
            t_call=num(r["t_call_ms_median"]), t_update=num(r["t_update_ms_median"]),
            origins=f'{r["n_origins"]}/{r["n_planned"]}',
        )
    models = []
    for r in rows:
        if r["kind"] == "trace" and r["model"] not in models:
            models.append(r["model"])
    return per, models


def load_replicast(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        doc = json.loads(line)
        ev = doc["evaluation"]
        d = {"step_s": float(ev["step_s"]), "refit_ms": doc["refit_ms"],
             "update_us": doc["update_us"], "origins": ev["origins"],
             "no_forecast": ev["no_forecast"], "season": ev["season"]}
        for name, secs in HORIZONS:
            h = next(h for h in ev["horizons"] if h["horizon_s"] == secs)
            d[name] = dict(mase=h["mase"], rel=h["rel_mae"], cov=h["coverage"])
        out[os.path.splitext(os.path.basename(doc["trace"]))[0]] = d
    return out


def load_peer_origins(*dirs, tagged=False):
    """(series, horizon name) -> model -> origin -> MAE from bench_forecast.py output
    directories (their raw_origins.csv; with `tagged`, also the raw_origins_TAG.csv of runs
    made with --tag, e.g. one trace per process); empty without them."""
    peers = {}
    for d in dirs:
        if not (d and os.path.isdir(d)):
            continue
        raws = sorted(glob.glob(os.path.join(d, "raw_origins*.csv" if tagged else "raw_origins.csv")))
        for raw in raws:
            for r in csv.DictReader(open(raw)):
                if r["mae"] == "":
                    continue
                peers.setdefault((r["series"], r["horizon"]), {}).setdefault(r["model"], {})[
                    int(r["origin"])] = float(r["mae"])
    return peers


def load_replicast_origins(replicast_dir):
    """(series, horizon name) -> origin -> MAE from the forecast-eval --origins CSVs; empty
    without them."""
    ours = {}
    if not (replicast_dir and os.path.isdir(replicast_dir)):
        return ours
    secs = {s: name for name, s in HORIZONS}
    for path in glob.glob(os.path.join(replicast_dir, "*.csv")):
        series = os.path.splitext(os.path.basename(path))[0]
        for r in csv.DictReader(open(path)):
            name = secs.get(int(r["horizon_s"]))
            if name:
                ours.setdefault((series, name), {})[int(r["origin"])] = float(r["mae"])
    return ours


BOOT_TEXT = ("'ahead' = share of 2,000 bootstrap resamples (origins drawn with replacement within "
             "each trace, seed 1) in which replicast's median relMAE is at most the peer's; "
             "'gap' = the 5–95 % range of peer minus replicast over those resamples (> 0: "
             "replicast ahead).")


def paired_origins(peers, ours, series, horizon, model):
    """(peer MAE, replicast MAE, seasonal naive MAE) at each origin `model` was scored on."""
    by_model = peers.get((series, horizon), {})
    mine = ours.get((series, horizon), {})
    sn = by_model.get("SeasonalNaive", {})
    return [(by_model[model][o], mine[o], sn[o])
            for o in sorted(by_model.get(model, {})) if o in mine and o in sn]


def median_rel(per_trace):
    """Medians over traces of the peer's and replicast's relMAE (ratios of sums)."""
    peer = [sum(t[0] for t in v) / sum(t[2] for t in v) for v in per_trace if v]
    mine = [sum(t[1] for t in v) / sum(t[2] for t in v) for v in per_trace if v]
    return med(peer), med(mine)


def bootstrap_gap(per_trace, resamples=2000, seed=1):
    """Share of origin resamples with replicast's median relMAE <= the peer's, and the 5 % and
    95 % points of the gap (peer - replicast)."""
    rng = random.Random(seed)
    gaps = []
    for _ in range(resamples):
        drawn = [[v[rng.randrange(len(v))] for _ in v] for v in per_trace if v]
        peer, mine = median_rel(drawn)
        gaps.append(peer - mine)
    gaps.sort()
    ahead = sum(1 for g in gaps if g >= 0) / resamples
    return ahead, gaps[int(0.05 * resamples)], gaps[int(0.95 * resamples)]


def paired_tables(w, peers_o, ours_o, traces, models, per_trace_models=("AutoETS",)):
    """The paired medians per peer (with the bootstrap) and, against AutoETS, per trace."""
    head = ["peer", "traces", "origins per trace"]
    for h, _ in HORIZONS:
        head += [f"peer {h}", f"replicast {h}", f"ahead {h}", f"gap {h}"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for m in models:
        cells = [m]
        first = True
        for h, _ in HORIZONS:
            per_trace = [paired_origins(peers_o, ours_o, t, h, m) for t in traces]
            got = [v for v in per_trace if v]
            if first:
                counts = sorted(len(v) for v in got)
                cells += [str(len(got)), "–" if not counts else str(counts[0])
                          if counts[0] == counts[-1] else f"{counts[0]}–{counts[-1]}"]
                first = False
            if not got:
                cells += ["–"] * 4
                continue
            peer, mine = median_rel(got)
            ahead, lo, hi = bootstrap_gap(got)
            cells += [fmt(peer), fmt(mine), f"{ahead:.0%}", f"{lo:+.3f} … {hi:+.3f}"]
        w("| " + " | ".join(cells) + " |")
    w("")
    for m in (m for m in per_trace_models if m in models):
        w(f"Per trace against {m} (peer / replicast, origins; 'ahead' as above, within the trace):")
        w("")
        w("| trace | " + " | ".join(f"{h} peer / replicast | ahead {h}" for h, _ in HORIZONS) +
          " | origins |")
        w("|---|" + "---|" * (2 * len(HORIZONS) + 1))
        for t in traces:
            got = [paired_origins(peers_o, ours_o, t, h, m) for h, _ in HORIZONS]
            if not all(got):
                continue
            cells = []
            for v in got:
                p, r = median_rel([v])
                cells += [f"{fmt(p)} / {fmt(r)}", f"{bootstrap_gap([v])[0]:.0%}"]
            w(f"| {t} | " + " | ".join(cells) + f" | {len(got[0])} |")
        w("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", required=True, help="bench_forecast.py output directory")
    ap.add_argument("--replicast", required=True, help="forecast-eval --json lines")
    ap.add_argument("--replicast-origins", help="forecast-eval --origins CSVs, one per trace")
    ap.add_argument("--full-grid", action="append", default=[],
                    help="peers_full_grid.py output directory (optional, repeatable: runs of "
                         "other models or traces, e.g. MSTL one trace per process with --tag)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    per, models = load_peers(args.peers)
    rep = load_replicast(args.replicast)
    meta = json.load(open(os.path.join(args.peers, "run_meta.json")))
    bench_args_path = os.path.join(args.peers, "bench_args.txt")
    bench_args = open(bench_args_path).read().split("\n") if os.path.exists(bench_args_path) else []
    bench_args = [a if a else "''" for a in bench_args[:-1]] if bench_args else []

    traces = sorted(rep)
    fine = [t for t in traces if rep[t]["step_s"] <= MAX_STEP_S]
    coarse = [t for t in traces if t not in fine]

    def row(name, get, per_call, per_update):
        cells = [name, str(sum(1 for t in fine if get(t) is not None))]
        for key in ("mase", "rel", "cov"):
            for h, _ in HORIZONS:
                cells.append(fmt(med(get(t)[h][key] for t in fine if get(t) is not None)))
        cells += [per_call, per_update]
        return "| " + " | ".join(cells) + " |"

    lines = []
    w = lines.append
    w("# Forecast accuracy and cost: replicast beside the peers, one run")
    w("")
    w("Generated by `scripts/forecast-peers.sh` (do not edit by hand; rerun it to refresh). "
      f"Run of {datetime.date.today().isoformat()} on the project's 2-core shared VM: the peers' "
      "`bench_forecast.py` (from the shared `peers/` directory) and `replicast forecast-eval --json` "
      "on the same trace files, one after the other.")
    w("")
    w(f"- peers' command: `bench_forecast.py --traces-dir TRACES --out target/forecast-peers "
      f"{' '.join(bench_args)}` ({meta['total_s'] / 60:.1f} min). The script skips the synthetic "
      "series, the statsmodels co2 sanity set and the fresh-process memory probes, which do not "
      "enter the medians below; every other setting (origins, time boxes, history cap) is the "
      "peers' own.")
    w("- replicast: `replicast forecast-eval --trace FILE --json` per trace (every point of the "
      "last 25 % is an origin; history at most 4 days; the automatic model with its defaults).")
    vers = meta.get("versions", {})
    w("- versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    c0, c1 = meta.get("calib0", {}), meta.get("calib1", {})
    if c0 and c1:
        w(f"- calibration (peers' process, start → end): pure-Python loop "
          f"{c0['py_loop_2e6_ms']:.0f} → {c1['py_loop_2e6_ms']:.0f} ms, load average "
          f"{tuple(round(x, 2) for x in c0['loadavg'])} → {tuple(round(x, 2) for x in c1['loadavg'])}.")
    w("")
    w(f"## Medians over the {len(fine)} traces of 5-minute step or finer")
    w("")
    w("relMAE = MAE / MAE of seasonal naive on the same origins (< 1 beats it); MASE scale = "
      "in-sample seasonal-naive MAE before the evaluation region; cov90 = share of outcomes inside "
      "the 90 % interval. Time per call = one fit + forecast (replicast: one refit of the automatic "
      "model on 4 days, or all the history there is); per update = absorb one point and forecast "
      "again (replicast: `update`, O(1); statsforecast: `forward`, which refilters the window). "
      "Peers' times are medians over traces of per-trace medians.")
    w("")
    head = ["model", "traces"] + [f"{k} {h}" for k in ("MASE", "relMAE", "cov90") for h, _ in HORIZONS]
    head += ["time per call / refit", "time per update"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    r_call = med(rep[t]["refit_ms"] for t in fine)
    r_upd = med(rep[t]["update_us"] for t in fine)
    r_max = max(rep[t]["refit_ms"] for t in fine)
    w(row("**replicast Auto**", lambda t: rep[t], f"{fmt(r_call)} ms (max {fmt(r_max)})",
          f"{fmt(r_upd)} µs"))
    for m in models:
        get = lambda t, m=m: per.get((m, t))
        calls = med(get(t)["5min"]["t_call"] for t in fine if get(t))
        upds = med(get(t)["5min"]["t_update"] for t in fine if get(t))
        w(row(m, get, f"{fmt(calls)} ms", "–" if upds is None else f"{fmt(upds)} ms"))
    w("")
    w("## Per trace: relMAE (5 / 15 min)")
    w("")
    show = [m for m in ("AutoETS", "AutoARIMA") if m in models]
    head = ["trace", "step s", "replicast 5", "replicast 15", "replicast cov90 5 / 15",
            "replicast refit ms", "replicast update µs"]
    for m in show:
        head += [f"{m} 5", f"{m} 15", f"{m} origins"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for t in fine + coarse:
        d = rep[t]
        name = t if t in fine else f"{t} (not in the medians)"
        cells = [name, f"{d['step_s']:.0f}", fmt(d["5min"]["rel"]), fmt(d["15min"]["rel"]),
                 f"{fmt(d['5min']['cov'])} / {fmt(d['15min']['cov'])}", fmt(d["refit_ms"]),
                 fmt(d["update_us"] * 1.0)]
        for m in show:
            p = per.get((m, t))
            cells += [fmt(p["5min"]["rel"]), fmt(p["15min"]["rel"]), p["5min"]["origins"]] if p \
                else ["–", "–", "–"]
        w("| " + " | ".join(cells) + " |")
    w("")
    worst = max(fine, key=lambda t: max(rep[t]["5min"]["rel"], rep[t]["15min"]["rel"]))
    w(f"Worst single trace for replicast: `{worst}`, relMAE {fmt(rep[worst]['5min']['rel'])} / "
      f"{fmt(rep[worst]['15min']['rel'])} (goal: ≤ 1.02 on every trace). Origins declined by the "
      "automatic model (scored as the last value, which is what a reactive policy acts on): " +
      ", ".join(f"{t} {rep[t]['no_forecast']} of {rep[t]['origins']}" for t in traces
                if rep[t]["no_forecast"]) + ".")
    w("")
    peers_o = load_peer_origins(args.peers)
    ours_o = load_replicast_origins(args.replicast_origins)
    if peers_o and ours_o:
        w("## Paired: replicast on exactly the peers' origins")
        w("")
        w("The peers score 12–40 origins per trace and model, replicast every origin, so the medians "
          "above compare different origin sets. Here replicast's per-origin errors "
          "(`forecast-eval --origins`) are taken on exactly the origins each peer was scored on, "
          "both against seasonal naive on those origins (same protocol, same origins, one run). "
          "Medians over the traces of 5-minute step or finer where the peer has origins. " + BOOT_TEXT)
        w("")
        paired_tables(w, peers_o, ours_o, fine, [m for m in models if m != "SeasonalNaive"])
    grid_o = load_peer_origins(*args.full_grid, tagged=True)
    grid_models = sorted({m for d in grid_o.values() for m in d} - {"SeasonalNaive"})
    if grid_o and ours_o and grid_models:
        w("## Paired on the full origin grid")
        w("")
        w("Forty origins make a noisy judge (the interval columns above). "
          "`scripts/peers_full_grid.py` runs the peers' script again, unchanged, with the origin cap "
          f"lifted for {', '.join(grid_models)}: every origin of the peers' grid (up to 200 per trace, "
          "evenly spaced over the evaluation region; the same grid, history cap and model "
          "settings) or as many as a longer time box allows (the 'origins' column), and "
          "replicast's errors on exactly those origins. " + BOOT_TEXT)
        w("")
        paired_tables(w, grid_o, ours_o, fine, grid_models,
                      per_trace_models=("AutoETS", "AutoARIMA", "MSTL"))
    w("Caveats: replicast scores every origin of the evaluation region; the peers score up to 200 "
      "(seasonal naive) or 12–40 origins within a time box per (trace, model) — the 'origins' "
      "columns say how many — so a peer's per-trace figure on few origins is indicative only "
      "(relMAE pairs it with seasonal naive on the same origins; the paired sections put "
      "bootstrap intervals on the gaps). Absolute times are noisy on the shared machine; compare "
      "ratios within this run.")
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
