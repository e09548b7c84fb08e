#!/usr/bin/env python3
"""The seed's Docker Swarm autoscaler, rebuilt on replicast.

Each iteration reads the service's metrics from a Prometheus server's HTTP API (PromQL over
urllib), decides with a replicast spec (threshold bands or an HPA-style spec, e.g. the seed's
HPA manifest), and scales with ``docker service scale``. Anything doubtful - Prometheus
unreachable, an empty result, a stale series - becomes a missing signal / an unavailable
metric / ``healthy=False``: the decision holds and says why; it never scales down on it.

Example:
    python examples/python/swarm_autoscaler.py --prometheus http://127.0.0.1:9090 \\
        --service sutazai_backend --spec examples/python/swarm-spec.yaml --dry-run --once
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import replicast


@dataclass(frozen=True)
class Query:
    """A PromQL expression for one signal, plus the raw series whose age tells staleness."""

    expr: str
    fresh: str | None = None


# The seed's metric names; `{service}` is the Swarm service. cpu / memory come from cAdvisor.
QUERIES: dict[str, Query] = {
    "inference_queue_depth": Query(
        'sum(sutazai_inference_queue_depth{{service="{service}"}})',
        'sutazai_inference_queue_depth{{service="{service}"}}',
    ),
    "ai_agent_queue_depth": Query(
        'sum(sutazai_inference_queue_depth{{service="{service}"}})',
        'sutazai_inference_queue_depth{{service="{service}"}}',
    ),
    "response_time_p95": Query(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(sutazai_inference_duration_seconds_bucket{{service="{service}"}}[1m])))',
        'sutazai_inference_duration_seconds_count{{service="{service}"}}',
    ),
    "cpu": Query(
        "100 * avg(rate(container_cpu_usage_seconds_total"
        '{{container_label_com_docker_swarm_service_name="{service}"}}[1m]))',
        'container_cpu_usage_seconds_total{{container_label_com_docker_swarm_service_name="{service}"}}',
    ),
    "memory": Query(
        "100 * avg(container_memory_usage_bytes"
        '{{container_label_com_docker_swarm_service_name="{service}"}} / '
        "container_spec_memory_limit_bytes"
        '{{container_label_com_docker_swarm_service_name="{service}"}})',
        'container_memory_usage_bytes{{container_label_com_docker_swarm_service_name="{service}"}}',
    ),
}


class PrometheusError(Exception):
    """Prometheus could not answer (unreachable, HTTP error, query error)."""


class Prometheus:
    """A minimal client of the Prometheus HTTP API (``/api/v1/query``)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def query(self, expr: str) -> list[float]:
        """Evaluates an instant query; one float per series of the result (maybe empty)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise PrometheusError(f"prometheus at {self.url} unreachable: {e}") from e
        if body.get("status") != "success":
            raise PrometheusError(f"query {expr!r} failed: {body.get('error', body)}")
        result = body["data"]["result"]
        if body["data"]["resultType"] == "scalar":
            return [float(result[1])]
        return [float(series["value"][1]) for series in result]


@dataclass
class Reading:
    """One signal: its value, or why there is none."""

    value: float | None
    why: str = ""


def read_signal(prom: Prometheus, name: str, query: Query, service: str, max_age_s: float) -> Reading:
    """Reads one signal; never raises for Prometheus trouble (it becomes a missing reading)."""
    try:
        values = prom.query(query.expr.format(service=service))
        if not values:
            return Reading(None, f"{name}: empty result")
        value = values[0]
        if math.isnan(value) or math.isinf(value):
            return Reading(None, f"{name}: no usable value ({value})")
        if query.fresh is not None:
            ages = prom.query(f"time() - timestamp({query.fresh.format(service=service)})")
            if not ages:
                return Reading(None, f"{name}: empty result")
            if min(ages) > max_age_s:
                return Reading(None, f"{name}: stale series (last sample {min(ages):.0f}s ago)")
        return Reading(value)
    except PrometheusError as e:
        return Reading(None, f"{name}: {e}")


def metric_signal(metric: dict[str, Any]) -> str:
    """The signal an HPA-style metric reads (a resource name or the metric's name)."""
    if metric["type"] in ("resource", "container_resource"):
        return str(metric["resource"])
    return str(metric.get("name", ""))


def metric_input(metric: dict[str, Any], reading: Reading, ready: int) -> dict[str, Any]:
    """An HPA metric's input: aggregated for resource/pods metrics, the value for object/external."""
    if reading.value is None:
        return {"kind": "unavailable", "reason": reading.why}
    kind = metric["type"]
    if kind == "object":
        return {"kind": "object", "value_milli": round(reading.value * 1000)}
    if kind == "external":
        return {"kind": "external", "values_milli": [round(reading.value * 1000)]}
    return {"kind": "aggregated", "value": reading.value, "ready_replicas": ready}


def current_replicas(service: str) -> int:
    """The service's desired replicas, from ``docker service inspect``."""
    out = subprocess.run(
        ["docker", "service", "inspect", service, "--format", "{{.Spec.Mode.Replicated.Replicas}}"],
        check=True, capture_output=True, text=True,
    )
    return int(out.stdout.strip())


def iteration(args: argparse.Namespace, scaler: replicast.Scaler, state: replicast.ScalerState) -> int:
    """One read-decide-act cycle; returns the replicas the service should run."""
    spec = scaler.spec.to_dict()
    current = args.current_replicas if args.current_replicas is not None else current_replicas(args.service)
    prom = Prometheus(args.prometheus)
    queries = dict(QUERIES)
    for override in args.query:
        name, _, expr = override.partition("=")
        queries[name] = Query(expr)

    try:
        prom.query("vector(1)")
        down = ""
    except PrometheusError as e:
        down = str(e)

    def read(name: str) -> Reading:
        if down:
            return Reading(None, down)
        if name not in queries:
            return Reading(None, f"{name}: no query configured (use --query {name}=PROMQL)")
        return read_signal(prom, name, queries[name], args.service, args.max_age)

    problems: list[str] = [down] if down else []
    signals: dict[str, float] = {}
    for rule in (spec.get("threshold") or {}).get("rules", []):
        reading = read(rule["signal"])
        if reading.value is None:
            if not down:
                problems.append(reading.why)
        else:
            signals[rule["signal"]] = reading.value
    metrics = []
    for metric in (spec.get("hpa") or {}).get("metrics", []):
        reading = read(metric_signal(metric))
        if reading.value is None and not down:
            problems.append(reading.why)
        metrics.append(metric_input(metric, reading, current))

    decision = scaler.decide(
        state,
        now_ms=int(time.time() * 1000),
        current_replicas=current,
        ready_replicas=current,
        metrics=metrics,
        signals=signals,
        healthy=not problems,
    )
    print(decision, end="")
    if decision.rescale:
        command = ["docker", "service", "scale", f"{args.service}={decision.replicas}"]
        if args.dry_run:
            print("ACTION: would run:", " ".join(command))
        else:
            subprocess.run(command, check=True)
            print("ACTION: ran:", " ".join(command))
    else:
        why = "; ".join(problems) if problems else "no change needed"
        print(f"ACTION: hold at {decision.replicas} ({why})")
    sys.stdout.flush()
    return decision.replicas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus base URL")
    parser.add_argument("--service", required=True, help="the Swarm service to scale")
    parser.add_argument("--spec", required=True, type=Path, help="replicast spec (YAML or JSON)")
    parser.add_argument("--state", type=Path, help="file keeping the scaler state between runs")
    parser.add_argument("--current-replicas", type=int, help="skip `docker service inspect`")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between iterations")
    parser.add_argument("--max-age", type=float, default=120.0, help="older series are stale (s)")
    parser.add_argument("--query", action="append", default=[], metavar="SIGNAL=PROMQL",
                        help="override or add the PromQL of a signal")
    parser.add_argument("--once", action="store_true", help="run one iteration and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the scale command instead")
    args = parser.parse_args(argv)

    scaler = replicast.Scaler(args.spec.read_text())
    if args.state is not None and args.state.exists():
        state = replicast.ScalerState.from_json(args.state.read_text())
    else:
        state = replicast.ScalerState()
    while True:
        replicas = iteration(args, scaler, state)
        if args.state is not None:
            args.state.write_text(state.to_json())
        if args.once:
            return 0
        if args.current_replicas is not None:
            args.current_replicas = replicas
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
