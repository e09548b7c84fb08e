#!/usr/bin/env python3
"""Leave-one-trace-out check of the automatic forecaster's constants chosen on the shared traces.

Some of `replicast::forecast::Auto`'s defaults were picked by sweeping them on the shared traces,
which makes the forecast-eval medians in docs/forecasting.md in-sample figures for them. For each
constant of SWEEPS (one at a time, every other one at its default), this script runs
`replicast forecast-eval --trace FILE --json --auto KEY=VALUE` on every shared trace whose
evaluation step is at most 5 minutes (the traces the docs' medians are over). Then, for every
trace in turn, the value with the best median over the *other* traces of
mean(5-minute relMAE, 15-minute relMAE) is picked and scored on the held-out trace; the median of
those held-out scores is the constant's out-of-sample figure. A tie on that median (common: most
constants change few traces, and the median trace is often one they leave alone) goes to the
value with the best mean over the other traces, then to the default (`--ties first`: to the first
value listed, the rule of the hand-made table this script replaced).

It prints the Markdown of docs/forecasting.md's section "Constants chosen on the shared traces"
(between the markers MARK_BEGIN / MARK_END); with --write it also replaces that part of the file.
Raw documents are cached under target/forecast-loto/ (keyed by the binary's and the trace's
SHA-256: a rebuilt binary or a changed trace runs again). Any failed run stops the script with
its command and error output. Standard library only.

usage: scripts/forecast_loto.py [--binary PATH] [--traces DIR] [--jobs N] [--ties mean|first]
                               [--write] [--rerun]
"""

import argparse
import concurrent.futures
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (Auto field = `forecast-eval --auto` key, values swept as the CLI takes them, the default).
# The defaults must be Auto::default()'s: every run with a setting records the binary's full
# settings, and the script stops if the others are not these.
SWEEPS = [
    ("long_history_margin", ["0", "0.05", "0.1", "0.2"], "0.1"),
    ("correction_lags", ["1", "2"], "1"),
    ("combination_weight", ["0.25", "0.5", "0.75"], "0.25"),
    ("outlier_k", ["0", "4", "6"], "0"),
    ("min_acf", ["0.1", "0.2", "0.3"], "0.2"),
    ("correction_mean_weights", ["0.2", "0.05,0.1,0.2,0.4", "none"], "0.05,0.1,0.2,0.4"),
]

HORIZONS_S = (300, 900)
MAX_STEP_S = 300  # traces of 5-minute step or finer (the peers' rule, docs/forecast-peers.md)
MARK_BEGIN = "<!-- forecast-loto:begin (scripts/forecast_loto.py --write; do not edit by hand) -->"
MARK_END = "<!-- forecast-loto:end -->"
DOC = os.path.join(ROOT, "docs", "forecasting.md")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def as_cli(key, value):
    """The settings document's value for `--auto KEY=VALUE`, to compare with the binary's."""
    if key == "correction_mean_weights":
        return [] if value == "none" else [float(v) for v in value.split(",")]
    if key == "correction_lags":
        return int(value)
    return float(value)


def fail(message):
    sys.exit(f"forecast_loto.py: {message}")


class Runner:
    """Runs forecast-eval (or reads its cached document) for one trace and one setting."""

    def __init__(self, binary, cache_dir, rerun):
        self.binary = binary
        self.cache = os.path.join(cache_dir, sha256(binary)[:16])
        self.rerun = rerun
        self.ran = 0
        os.makedirs(self.cache, exist_ok=True)

    def path(self, trace, setting):
        stem = os.path.splitext(os.path.basename(trace))[0]
        name = "default" if setting is None else setting.replace(",", "_")
        return os.path.join(self.cache, f"{stem}.{sha256(trace)[:12]}.{name}.json")

    def __call__(self, trace, setting):
        """(5-minute relMAE, 15-minute relMAE, evaluation step s) of one run."""
        path = self.path(trace, setting)
        if not self.rerun and os.path.exists(path):
            with open(path) as f:
                doc = json.load(f)
        else:
            cmd = [self.binary, "forecast-eval", "--trace", trace, "--json"]
            if setting is not None:
                cmd += ["--auto", setting]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                fail(f"{' '.join(cmd)} exited with {out.returncode}:\n{out.stderr}")
            try:
                doc = json.loads(out.stdout)
            except json.JSONDecodeError as e:
                fail(f"{' '.join(cmd)} printed no JSON document ({e}):\n{out.stdout[:500]}")
            check(doc, setting, cmd)
            tmp = f"{path}.tmp{os.getpid()}"
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, path)
            self.ran += 1
        ev = doc["evaluation"]
        rel = {h["horizon_s"]: h["rel_mae"] for h in ev["horizons"]}
        return rel[HORIZONS_S[0]], rel[HORIZONS_S[1]], ev["step_s"]


def check(doc, setting, cmd):
    """Stops unless the document has both horizons' finite relMAE and, with a setting, the
    binary's settings are the script's defaults except the one set."""
    try:
        rel = {h["horizon_s"]: h["rel_mae"] for h in doc["evaluation"]["horizons"]}
        values = [rel[h] for h in HORIZONS_S]
    except (KeyError, TypeError) as e:
        fail(f"{' '.join(cmd)}: no relMAE at {HORIZONS_S} s ({e!r})")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        fail(f"{' '.join(cmd)}: relMAE not finite: {values}")
    if setting is None:
        return
    key, value = setting.split("=", 1)
    want = {k: as_cli(k, d) for k, _, d in SWEEPS}
    want[key] = as_cli(key, value)
    got = doc.get("auto")
    if got != want:
        fail(f"{' '.join(cmd)}: the binary ran with {got}, the script expected {want} "
             "(SWEEPS' defaults must be Auto::default()'s)")


def median_pair(pairs):
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def score(pair):
    """What a value is picked by: the mean of the 5- and 15-minute relMAE (lower is better)."""
    return (pair[0] + pair[1]) / 2


def short(stem):
    """A trace's name in the table: its first two words (`nab_ec2`, `azure_vm2019`)."""
    return "_".join(stem.split("_")[:2])


def fmt_pair(pair):
    return f"{pair[0]:.3f} / {pair[1]:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\nusage:")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="replicast binary (default: build target/release/replicast "
                                     "with cargo first)")
    ap.add_argument("--traces",
                    default=os.path.normpath(os.path.join(ROOT, "..", "shared", "traces")),
                    help="directory of the shared traces (default ../shared/traces)")
    ap.add_argument("--cache", default=os.path.join(ROOT, "target", "forecast-loto"),
                    help="where raw forecast-eval documents are kept (default target/forecast-loto)")
    ap.add_argument("--jobs", type=int, default=1, help="forecast-eval runs at a time (default 1)")
    ap.add_argument("--write", action="store_true",
                    help=f"also replace the part of {os.path.relpath(DOC, ROOT)} between the markers")
    ap.add_argument("--rerun", action="store_true", help="ignore cached documents")
    ap.add_argument("--ties", choices=("mean", "first"), default="mean",
                    help="a tie on the median goes to the best mean over the other traces "
                         "(default), or to the first value listed")
    args = ap.parse_args()

    started = time.monotonic()
    binary = args.binary
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "-p",
                        "replicast-cli"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "replicast")
    if not os.access(binary, os.X_OK):
        fail(f"no executable {binary}")
    if not os.path.isdir(args.traces):
        fail(f"no trace directory {args.traces}")
    traces = sorted(os.path.join(args.traces, f) for f in os.listdir(args.traces)
                    if f.endswith(".csv"))
    if not traces:
        fail(f"no .csv trace in {args.traces}")
    run = Runner(binary, args.cache, args.rerun)

    settings = [None] + [f"{key}={v}" for key, values, default in SWEEPS
                         for v in values if v != default]
    # the defaults first: they select the traces
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        default = dict(zip(traces, pool.map(lambda t: run(t, None), traces)))
        fine = [t for t in traces if default[t][2] <= MAX_STEP_S]
        coarse = [t for t in traces if t not in fine]
        jobs = [(t, s) for s in settings[1:] for t in fine]
        results = dict(zip(jobs, pool.map(lambda j: run(*j), jobs)))
    if len(fine) < 3:
        fail(f"only {len(fine)} traces of step <= {MAX_STEP_S} s in {args.traces}")
    names = [os.path.splitext(os.path.basename(t))[0] for t in fine]

    def rel(trace, key, value, default_value):
        if value == default_value:
            return default[trace][:2]
        return results[(trace, f"{key}={value}")][:2]

    lines = [
        MARK_BEGIN,
        "",
        f"Traces: the {len(fine)} of step ≤ {MAX_STEP_S // 60} min "
        f"({', '.join(f'`{n}`' for n in names)})"
        + (f"; left out: {', '.join(os.path.splitext(os.path.basename(t))[0] for t in coarse)}"
           " (coarser step)." if coarse else "."),
        "",
        f"| constant (`Auto` field) | values swept | default | in-sample median (default) | "
        f"picked on the other {len(fine) - 1}, per held-out trace | leave-one-trace-out median |",
        "|---|---|---|---|---|---|",
    ]
    detail = [
        "",
        f"Per value: the median over the {len(fine)} traces (5 / 15 min relMAE), then each "
        "trace's 5 / 15 min relMAE (the default's row is the in-sample column above).",
        "",
        "| setting | median | " + " | ".join(short(n) for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    not_default = []
    ties_by = "mean" if args.ties == "mean" else "order"
    for key, values, default_value in SWEEPS:
        table = {v: [rel(t, key, v, default_value) for t in fine] for v in values}
        order = {v: i for i, v in enumerate(values)}

        def rank(v, on):
            # the median decides; tied medians (to 1e-12) go to the mean, then to the default
            # (--ties first: to the first value listed)
            scores = [score(table[v][i]) for i in on]
            median = round(statistics.median(scores), 12)
            if args.ties == "first":
                return (median, order[v])
            return (median, round(statistics.fmean(scores), 12), v != default_value, order[v])

        def best(on):
            """The pick on the traces `on`, and whether medians tied for it."""
            ranked = sorted(values, key=lambda v: rank(v, on))
            return ranked[0], rank(ranked[0], on)[0] == rank(ranked[1], on)[0]

        splits = [best([j for j in range(len(fine)) if j != i]) for i in range(len(fine))]
        picks = [p for p, _ in splits]
        tied = sum(t for _, t in splits)
        in_sample, _ = best(range(len(fine)))
        if in_sample != default_value:
            not_default.append(f"`{key}` {in_sample}")
        held_out = median_pair([table[p][i] for i, p in enumerate(picks)])
        counts = sorted({p: picks.count(p) for p in picks}.items(),
                        key=lambda kv: (-kv[1], order[kv[0]]))
        picked = ", ".join(f"{v} ×{c}" for v, c in counts)
        others = [f"{short(names[i])} {p}" for i, p in enumerate(picks) if p != default_value]
        if others and len(counts) > 1:
            picked += f" ({'; '.join(others)})"
        if tied:
            picked += f"; medians tied in {tied}, picked by the {ties_by}"
        lines.append(f"| `{key}` | {' / '.join(values)} | {default_value} | "
                     f"{fmt_pair(median_pair(table[default_value]))} | {picked} | "
                     f"{fmt_pair(held_out)} |")
        for v in values:
            detail.append(f"| `{key}={v}`{' (default)' if v == default_value else ''} | "
                          f"{fmt_pair(median_pair(table[v]))} | "
                          + " | ".join(fmt_pair(p) for p in table[v]) + " |")
    lines += ["", f"Picked on all {len(fine)} traces by the same rule (in sample): "
              + ("the default for every constant." if not not_default else
                 "the default except " + ", ".join(not_default) + ".")]
    lines += detail + ["", MARK_END]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)

    if args.write:
        with open(DOC) as f:
            doc = f.read()
        begin, end = doc.find(MARK_BEGIN), doc.find(MARK_END)
        if begin < 0 or end < begin:
            fail(f"{DOC} has no {MARK_BEGIN} ... {MARK_END} markers")
        end += len(MARK_END) + 1
        with open(DOC, "w") as f:
            f.write(doc[:begin] + text + doc[end:])
        print(f"wrote {DOC}", file=sys.stderr)
    print(f"{run.ran} forecast-eval runs ({len(traces) + len(jobs) - run.ran} cached) in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
