"""The Swarm example end to end against a real Prometheus server scraping a test exporter.

Prometheus is Debian's ``prometheus`` package (``.ci/run`` installs it); the test starts it on
loopback with a temporary data directory and a free port. The exporter (prometheus-client)
serves the seed's metrics with a load the test controls.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server

from conftest import REPO

PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
EXAMPLE = REPO / "examples" / "python" / "swarm_autoscaler.py"
SERVICE = "sutazai_backend"
SPEC = """
min_replicas: 1
max_replicas: 10
threshold:
  rules:
    - {signal: inference_queue_depth, scale_up_above: 10, scale_down_below: 2}
    - {signal: response_time_p95, scale_up_above: 5, scale_down_below: 1}
"""

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="Debian's prometheus package is not installed (.ci/run installs it with apt-get)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(base: str, expr: str) -> list[float]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    return [float(s["value"][1]) for s in body["data"]["result"]]


def wait_for(predicate: object, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Exporter:
    """The seed's inference metrics, with a load the test sets."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queue = Gauge("sutazai_inference_queue_depth", "Inference requests waiting",
                           ["service"], registry=self.registry)
        self.duration = Histogram("sutazai_inference_duration_seconds", "AI inference duration in seconds",
                                  ["model", "service"], registry=self.registry,
                                  buckets=[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0])
        self.latency_s = 0.05
        self.stop = threading.Event()
        self.traffic = threading.Thread(target=self._serve_requests, daemon=True)
        self.traffic.start()
        self.port = free_port()
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def _serve_requests(self) -> None:
        while not self.stop.wait(0.05):
            self.duration.labels(model="m", service=SERVICE).observe(self.latency_s)

    def load(self, queue_depth: float, latency_s: float) -> None:
        self.queue.labels(service=SERVICE).set(queue_depth)
        self.latency_s = latency_s

    def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        self.traffic.join(timeout=5)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    e = Exporter()
    yield e
    e.close()


@pytest.fixture
def prometheus(tmp_path: Path, exporter: Exporter) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    assert PROMETHEUS is not None
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: ai-metrics-exporter\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n"
    )
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200, "prometheus ready")
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def run_example(base: str, spec: Path, *extra: str) -> str:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--prometheus", base, "--service", SERVICE, "--spec", str(spec),
         "--current-replicas", "2", "--dry-run", "--once", *extra],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return out.stdout


def test_scales_up_on_load_and_holds_when_prometheus_stops(
    tmp_path: Path, exporter: Exporter, prometheus: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, proc = prometheus
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)

    # quiet: both signals low -> one step down (2 -> 1)
    exporter.load(queue_depth=0, latency_s=0.05)
    wait_for(lambda: query(base, f'sutazai_inference_queue_depth{{service="{SERVICE}"}}') == [0.0], "a scrape")
    p95 = "histogram_quantile(0.95, sum by (le) (rate(sutazai_inference_duration_seconds_bucket[1m])))"
    wait_for(lambda: [v < 1 for v in query(base, p95)] == [True], "a p95 latency")
    out = run_example(base, spec)
    assert "ACTION: would run: docker service scale sutazai_backend=1" in out, out

    # load rises: the queue deepens -> scale up
    exporter.load(queue_depth=40, latency_s=8.0)
    wait_for(lambda: query(base, f'sutazai_inference_queue_depth{{service="{SERVICE}"}}') == [40.0], "the load")
    out = run_example(base, spec)
    assert "ACTION: would run: docker service scale sutazai_backend=3" in out, out

    # no series for this service: empty results -> hold, and say so
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--prometheus", base, "--service", "nosuch", "--spec", str(spec),
         "--current-replicas", "2", "--dry-run", "--once"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "ACTION: hold at 2 (inference_queue_depth: empty result" in out, out
    assert "docker service scale" not in out

    # stale: the exporter stops answering -> Prometheus marks the series stale -> hold
    exporter.load(queue_depth=0, latency_s=0.05)
    exporter.close()
    wait_for(lambda: query(base, 'up{job="ai-metrics-exporter"}') == [0.0], "the failed scrape")
    out = run_example(base, spec)
    assert "ACTION: hold at 2" in out and "docker service scale" not in out, out

    # Prometheus stopped -> hold, and say why
    proc.terminate()
    proc.wait(timeout=10)
    out = run_example(base, spec)
    assert "ACTION: hold at 2 (prometheus at" in out and "unreachable" in out, out
    assert "docker service scale" not in out


def test_hpa_spec_holds_when_prometheus_is_unreachable(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--prometheus", f"http://127.0.0.1:{free_port()}",
         "--service", SERVICE, "--spec", str(REPO / "testdata" / "seed" / "hpa.yaml"),
         "--current-replicas", "4", "--dry-run", "--once"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "ScalingActive=False" in out and "ACTION: hold at 4 (prometheus at" in out, out
