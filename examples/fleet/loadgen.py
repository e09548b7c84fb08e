#!/usr/bin/env python3
"""Open-loop load on the fleet: a repeated pattern of arrivals, every request's outcome recorded.

The pattern, one period: low, a ramp, a plateau, a burst, a fall, low again (``Pattern``). Arrivals
are a Poisson process at the pattern's rate (seeded), sent at their scheduled instant whatever
the fleet's state: a slow fleet does not slow the arrivals down (a closed-loop generator would,
and hide the latency it causes). A request's latency is measured from its scheduled instant.

aiohttp does the HTTP. One connection per request (``force_close``), as nginx answers with
``Connection: close``. Each request ends in one row of the CSV: ``sent_s`` (scheduled, seconds
since the epoch), ``latency_s``, ``status`` (0 when no HTTP status came back) and ``error`` (empty
for a 2xx; else the HTTP status or the exception's class).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp


@dataclass(frozen=True)
class Pattern:
    """The offered load, requests per second, as a function of the time since the start.

    The phases are fractions of ``period_s`` so that a longer period stretches the same shape.
    """

    period_s: float = 40.0
    base_rps: float = 8.0
    plateau_rps: float = 40.0
    burst_rps: float = 60.0
    # phase ends as fractions of the period: low, ramp, plateau, burst, fall (then low)
    low_end: float = 0.20
    ramp_end: float = 0.35
    plateau_end: float = 0.60
    burst_end: float = 0.70
    fall_end: float = 0.775

    def rate(self, t_s: float) -> float:
        x = (t_s % self.period_s) / self.period_s
        if x < self.low_end:
            return self.base_rps
        if x < self.ramp_end:
            return self.base_rps + (self.plateau_rps - self.base_rps) * (x - self.low_end) / (self.ramp_end - self.low_end)
        if x < self.plateau_end:
            return self.plateau_rps
        if x < self.burst_end:
            return self.burst_rps
        if x < self.fall_end:
            return self.burst_rps + (self.base_rps - self.burst_rps) * (x - self.burst_end) / (self.fall_end - self.burst_end)
        return self.base_rps

    @property
    def peak_rps(self) -> float:
        return max(self.base_rps, self.plateau_rps, self.burst_rps)

    def phase_start_s(self, cycle: int, phase: str) -> float:
        """When ``phase`` ("ramp", "plateau", "burst", "fall", "low") of cycle ``cycle`` begins."""
        starts = {"ramp": self.low_end, "plateau": self.ramp_end, "burst": self.plateau_end,
                  "fall": self.burst_end, "low": self.fall_end}
        return (cycle + starts[phase]) * self.period_s


def arrivals(pattern: Pattern, duration_s: float, seed: int) -> list[float]:
    """Poisson arrival times over ``duration_s`` at the pattern's rate (thinning; seeded)."""
    rng = random.Random(seed)
    peak = pattern.peak_rps
    times: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= duration_s:
            return times
        if rng.random() * peak < pattern.rate(t):
            times.append(t)


@dataclass
class Outcome:
    sent_s: float
    latency_s: float
    status: int
    error: str


async def one_request(session: aiohttp.ClientSession, url: str, sent_s: float, started: float) -> Outcome:
    """One request; never raises: a failure is an outcome too."""
    try:
        async with session.get(url) as response:
            await response.read()
            status = response.status
            error = "" if 200 <= status < 300 else f"http_{status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        status, error = 0, type(e).__name__
    return Outcome(sent_s, time.monotonic() - started, status, error)


async def play(url: str, pattern: Pattern, duration_s: float, seed: int, timeout_s: float) -> list[Outcome]:
    schedule = arrivals(pattern, duration_s, seed)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    tasks: list[asyncio.Task[Outcome]] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0_mono, t0_wall = time.monotonic(), time.time()
        for offset in schedule:
            delay = t0_mono + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # latency counts from the scheduled instant, not from when the loop got round to it
            tasks.append(asyncio.create_task(one_request(session, url, t0_wall + offset, t0_mono + offset)))
        return list(await asyncio.gather(*tasks))


def write_csv(path: Path, outcomes: list[Outcome]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sent_s", "latency_s", "status", "error"])
        for o in sorted(outcomes, key=lambda o: o.sent_s):
            writer.writerow([f"{o.sent_s:.4f}", f"{o.latency_s:.4f}", o.status, o.error])


def read_csv(path: Path) -> list[Outcome]:
    with path.open(newline="") as f:
        return [Outcome(float(r["sent_s"]), float(r["latency_s"]), int(r["status"]), r["error"])
                for r in csv.DictReader(f)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="where to send the requests (nginx)")
    parser.add_argument("--out", required=True, type=Path, help="CSV of every request's outcome")
    parser.add_argument("--period-s", type=float, default=Pattern.period_s)
    parser.add_argument("--cycles", type=float, default=5.0, help="repetitions of the pattern")
    parser.add_argument("--base-rps", type=float, default=Pattern.base_rps)
    parser.add_argument("--plateau-rps", type=float, default=Pattern.plateau_rps)
    parser.add_argument("--burst-rps", type=float, default=Pattern.burst_rps)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=10.0, help="a slower request counts as failed")
    args = parser.parse_args(argv)

    pattern = Pattern(args.period_s, args.base_rps, args.plateau_rps, args.burst_rps)
    duration_s = args.cycles * pattern.period_s
    if not math.isfinite(duration_s) or duration_s <= 0:
        parser.error("--cycles and --period-s must give a positive duration")
    outcomes = asyncio.run(play(args.url, pattern, duration_s, args.seed, args.timeout_s))
    write_csv(args.out, outcomes)
    failed = sum(1 for o in outcomes if o.error)
    print(f"loadgen: {len(outcomes)} requests, {failed} failed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
