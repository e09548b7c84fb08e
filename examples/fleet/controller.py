"""The fleet's autoscaler: PromQL each interval, a replicast decision, the fleet resized.

The Prometheus code is the Swarm example's (``examples/python/swarm_autoscaler.py``): the same
client, the same staleness check, the same rule that a missing or stale signal holds the
fleet (``healthy=False``: never a scale-down on missing data). What differs is the actuator
(``Fleet.scale_to`` instead of ``docker service scale``) and the signals:

- ``load``: arrivals per second over the fleet, ``sum(rate(..._received_total[5s]))``. The HPA
  source reads it per ready worker (a Pods metric with an AverageValue target); the predictive
  source gets it as the mean load since the previous decision.
- ``response_time_p95``: ``histogram_quantile`` over the workers' latency histogram, logged
  beside each decision (the SLO is judged on the client's own measurements, see report.py).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import replicast

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from swarm_autoscaler import Prometheus, Query, Reading, metric_input, read_signal  # noqa: E402

from fleet import Fleet  # noqa: E402

HERE = Path(__file__).resolve().parent
POLICIES = {"reactive": HERE / "reactive.yaml", "predictive": HERE / "predictive.yaml"}
SERVICE = "fleet"

QUERIES = {
    "load": Query(
        'sum(rate(sutazai_inference_requests_received_total{{service="{service}"}}[5s]))',
        'sutazai_inference_requests_received_total{{service="{service}"}}',
    ),
    "response_time_p95": Query(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(sutazai_inference_duration_seconds_bucket{{service="{service}"}}[10s])))',
        'sutazai_inference_duration_seconds_count{{service="{service}"}}',
    ),
}


@dataclass(frozen=True)
class Step:
    """One control interval, as the controller saw and decided it (time in seconds since the epoch)."""

    t_s: float
    desired: int
    ready: int
    draining: int
    running: int
    load_rps: float | None
    p95_s: float | None
    hpa_replicas: int | None
    predictive_replicas: int | None
    decided: int
    note: str


def proposal_of(decision: replicast.Decision, source: str) -> int | None:
    for proposal in decision.proposals:
        if str(proposal.get("source", "")).lower() == source and proposal.get("replicas") is not None:
            return int(proposal["replicas"])
    return None


class Controller:
    """Decides every ``interval_s`` until ``stop()``; ``steps`` is the record of the run."""

    def __init__(self, fleet: Fleet, spec: str, *, interval_s: float = 2.0, max_age_s: float = 10.0) -> None:
        self.fleet = fleet
        self.scaler = replicast.Scaler(spec)
        self.state = replicast.ScalerState()
        self.prometheus = Prometheus(fleet.prometheus_url)
        self.interval_s = interval_s
        self.max_age_s = max_age_s
        self.steps: list[Step] = []
        self._previous_ms: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="controller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.step()
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def step(self) -> Step:
        """One read-decide-act cycle."""
        now_ms = int(time.time() * 1000)
        load = read_signal(self.prometheus, "load", QUERIES["load"], SERVICE, self.max_age_s)
        p95 = read_signal(self.prometheus, "response_time_p95", QUERIES["response_time_p95"], SERVICE,
                          self.max_age_s)
        current, ready = self.fleet.desired, self.fleet.ready_count()
        problems = [load.why] if load.value is None else []
        per_worker = Reading(load.value / ready) if load.value is not None and ready > 0 else \
            Reading(None, load.why or "no ready worker")
        metrics = [metric_input(m, per_worker, ready) for m in (self.scaler.spec.to_dict().get("hpa") or {})
                   .get("metrics", [])]
        decision = self.scaler.decide(
            self.state,
            now_ms=now_ms,
            current_replicas=current,
            ready_replicas=ready,
            metrics=metrics,
            healthy=not problems,
            load=load.value,
            load_since_ms=self._previous_ms if load.value is not None else None,
        )
        # the next load window starts here; after a gap the source assumes one sample interval
        self._previous_ms = now_ms if load.value is not None else None
        if decision.rescale:
            self.fleet.scale_to(decision.replicas)
        step = Step(
            t_s=now_ms / 1000, desired=current, ready=ready, draining=self.fleet.draining_count(),
            running=self.fleet.running_count(), load_rps=load.value, p95_s=p95.value,
            hpa_replicas=proposal_of(decision, "hpa"), predictive_replicas=proposal_of(decision, "predictive"),
            decided=decision.replicas, note="; ".join(problems),
        )
        self.steps.append(step)
        return step
