"""Scores and charts of fleet runs, from the client's records and the controller's steps.

Latency is the client's (loadgen.py: from each request's scheduled instant to its response),
judged per second of sending time: a second is "over the SLO" when the 95th percentile of the
requests sent in it exceeds the objective (a failed request counts as slower than any). The
cost is replica-minutes: worker processes alive (starting, serving or draining) over time.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from controller import Step
from fleet import ScaleEvent
from loadgen import Outcome, Pattern


@dataclass
class PolicyRun:
    """What one policy's run left: the client's outcomes, the controller's steps, the fleet's events."""

    policy: str
    started_s: float
    pattern: Pattern
    outcomes: list[Outcome]
    steps: list[Step]
    events: list[ScaleEvent]
    # seconds after the start from which the predictive source forecasts (its warm-up)
    learned_from_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return max((o.sent_s for o in self.outcomes), default=self.started_s) - self.started_s


@dataclass(frozen=True)
class Summary:
    policy: str
    requests: int
    failed: int
    failed_during_scale_down: int
    scale_downs: int
    seconds_p95_over_slo: int
    seconds_p95_over_slo_after_warmup: int
    replica_minutes: float
    replica_minutes_after_warmup: float


def per_second_p95(run: PolicyRun) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Start of each second (since the run's start) and the p95 latency of the requests sent in it
    (NaN for a second without requests; infinity when a failed request is in its slowest 5 %)."""
    n = int(np.ceil(run.duration_s)) + 1
    bins: list[list[float]] = [[] for _ in range(n)]
    for o in run.outcomes:
        i = int(o.sent_s - run.started_s)
        if 0 <= i < n:
            bins[i].append(float("inf") if o.error else o.latency_s)
    p95 = np.array([np.percentile(b, 95, method="higher") if b else np.nan for b in bins])
    return np.arange(n, dtype=np.float64), p95


def offered_rps(run: PolicyRun) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Requests sent per second (the offered load, as the client played it)."""
    n = int(np.ceil(run.duration_s)) + 1
    counts = np.zeros(n)
    for o in run.outcomes:
        i = int(o.sent_s - run.started_s)
        if 0 <= i < n:
            counts[i] += 1
    return np.arange(n, dtype=np.float64), counts


def during_scale_down(outcome: Outcome, events: list[ScaleEvent]) -> bool:
    """Whether the request was under way while a worker was being drained."""
    end = outcome.sent_s + outcome.latency_s
    return any(e.kind == "drained" and outcome.sent_s <= e.finished_s and end >= e.started_s for e in events)


def replica_seconds(run: PolicyRun, from_s: float = 0.0) -> float:
    """Worker processes alive integrated over the run (each step's count held until the next)."""
    total = 0.0
    end_s = run.started_s + run.duration_s
    for step, following in zip(run.steps, [*run.steps[1:], None]):
        t0 = max(step.t_s, run.started_s + from_s)
        t1 = min(following.t_s if following is not None else end_s, end_s)
        if t1 > t0:
            total += step.running * (t1 - t0)
    return total


def summarize(run: PolicyRun, slo_s: float) -> Summary:
    t, p95 = per_second_p95(run)
    over = p95 > slo_s  # NaN compares False: a second without requests is not over
    return Summary(
        policy=run.policy,
        requests=len(run.outcomes),
        failed=sum(1 for o in run.outcomes if o.error),
        failed_during_scale_down=sum(1 for o in run.outcomes if o.error and during_scale_down(o, run.events)),
        scale_downs=sum(1 for e in run.events if e.kind == "drained"),
        seconds_p95_over_slo=int(over.sum()),
        seconds_p95_over_slo_after_warmup=int(over[t >= run.learned_from_s].sum()),
        replica_minutes=round(replica_seconds(run) / 60, 1),
        replica_minutes_after_warmup=round(replica_seconds(run, run.learned_from_s) / 60, 1),
    )


@dataclass(frozen=True)
class CycleVerdict:
    """How the fleet met one repetition of the pattern (times in seconds since the load started).

    ``rise_s``: the first control step, after the serving count's low point before this
    repetition's ramp, at which more workers serve than at that low point. ``breach_s``: the
    first second from the ramp to the end of the fall whose p95 latency is over the SLO.
    ``serving_after_fall``: the fewest workers serving between the end of the fall and the next
    ramp (or the end of the run).
    """

    cycle: int
    rise_s: float | None
    breach_s: float | None
    peak_serving: int
    serving_after_fall: int | None

    @property
    def rose_before_breach(self) -> bool:
        return self.rise_s is not None and (self.breach_s is None or self.rise_s < self.breach_s)


def cycle_verdicts(run: PolicyRun, slo_s: float) -> list[CycleVerdict]:
    pattern = run.pattern
    steps = [(s.t_s - run.started_s, s.ready) for s in run.steps]
    t95, p95 = per_second_p95(run)
    verdicts = []
    for cycle in range(round(run.duration_s / pattern.period_s)):
        ramp = pattern.phase_start_s(cycle, "ramp")
        fall_end = pattern.phase_start_s(cycle, "low")
        low_from = pattern.phase_start_s(cycle - 1, "low") if cycle > 0 else 0.0
        low = [(t, n) for t, n in steps if low_from <= t <= ramp]
        if not low:
            continue
        base = min(n for _, n in low)
        low_point = max(t for t, n in low if n == base)
        rise = next((t for t, n in steps if low_point < t <= fall_end and n > base), None)
        over = t95[(t95 >= ramp) & (t95 < fall_end) & (p95 > slo_s)]
        during = [n for t, n in steps if ramp <= t <= fall_end]
        after = [n for t, n in steps if fall_end <= t <= pattern.phase_start_s(cycle + 1, "ramp")]
        verdicts.append(CycleVerdict(
            cycle=cycle,
            rise_s=rise,
            breach_s=float(over[0]) if over.size else None,
            peak_serving=max(during, default=base),
            serving_after_fall=min(after) if after else None,
        ))
    return verdicts


def markdown_table(rows: list[Summary], slo_s: float) -> str:
    header = ["policy", "requests", "failed", "failed during scale-down", "workers drained",
              f"s with p95 > {slo_s * 1000:.0f} ms", "… after warm-up", "replica-minutes", "… after warm-up"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for r in rows:
        values = [str(v) for v in asdict(r).values()]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def write_summary_csv(path: Path, rows: list[Summary]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[f.name for f in fields(Summary)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def draw_chart(runs: list[PolicyRun], slo_s: float, path: Path) -> None:
    """Offered load, workers and p95 latency over time, one column per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, len(runs), figsize=(6.5 * len(runs), 8), sharex="col", sharey="row", squeeze=False)
    for col, run in enumerate(runs):
        load_ax, replica_ax, latency_ax = axes[:, col]
        t, rps = offered_rps(run)
        load_ax.plot(t, rps, color="tab:blue", lw=1, label="offered load (req/s)")
        load_ax.plot(t, [run.pattern.rate(x) for x in t], color="tab:blue", lw=0.8, ls=":", label="pattern")
        load_ax.set_title(run.policy)
        steps_t = [s.t_s - run.started_s for s in run.steps]
        replica_ax.step(steps_t, [s.decided for s in run.steps], where="post", color="tab:orange", label="desired")
        replica_ax.step(steps_t, [s.ready for s in run.steps], where="post", color="tab:green", label="serving")
        replica_ax.step(steps_t, [s.running for s in run.steps], where="post", color="tab:gray", lw=0.8,
                        ls="--", label="running (incl. starting, draining)")
        t95, p95 = per_second_p95(run)
        latency_ax.plot(t95, np.where(np.isinf(p95), np.nan, p95), color="tab:red", lw=1, label="p95 latency (s)")
        failed = np.isinf(p95)
        if failed.any():
            latency_ax.plot(t95[failed], np.full(failed.sum(), slo_s * 4), "kx", label="failed request")
        latency_ax.axhline(slo_s, color="black", lw=0.8, ls="--", label=f"SLO {slo_s:g} s")
        latency_ax.set_yscale("log")
        latency_ax.set_xlabel("seconds since the load started")
        for ax in (load_ax, replica_ax, latency_ax):
            if run.learned_from_s > 0:
                ax.axvspan(0, run.learned_from_s, color="0.92", lw=0)
            ax.grid(alpha=0.3)
        if col == 0:
            load_ax.set_ylabel("requests / s")
            replica_ax.set_ylabel("workers")
            latency_ax.set_ylabel("p95 latency (s)")
        if col == len(runs) - 1:
            for ax in (load_ax, replica_ax, latency_ax):
                ax.legend(loc="upper left", fontsize=7)
    if any(run.learned_from_s > 0 for run in runs):
        fig.text(0.5, 0.005, "shaded: the predictive source's warm-up (it forecasts from then on)",
                 ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
