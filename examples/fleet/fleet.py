"""The fleet on loopback: worker processes behind nginx, scraped by Prometheus.

``Fleet`` owns every process it starts (nginx, Prometheus, the workers) and stops them all on
``close()``, whatever happened before. ``Fleet.scale_to(n)`` only sets the desired count; a
reconciler thread starts and drains workers so that the controller's loop never blocks on a
start-up or a drain.

- **Adding a worker**: start the process and add it to Prometheus' file_sd targets, wait until
  its ``/healthz`` answers 200 (the model is loaded), add it to nginx's upstream, reload nginx.
- **Removing a worker** (the drain): take it out of the upstream and reload nginx; wait until
  every nginx worker process of the old configuration has exited (nginx lets an old worker exit
  only once each request it was serving is answered, so nothing can send the worker a request
  after that; a scale-up meanwhile does not wait for it); check its in-flight gauge is 0; SIGTERM it (the worker itself then closes its
  socket and finishes anything accepted); only then take it out of the scrape targets.
- **nginx metrics**: a small in-process exporter reads ``stub_status`` on each Prometheus scrape
  and serves it in the names of nginx-prometheus-exporter (``nginx_connections_active``,
  ``nginx_http_requests_total``, ...).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
    """Status and body of a GET; a refused connection raises ``OSError``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        with e:
            return int(e.code), e.read()


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float, poll_s: float = 0.05) -> None:
    """Polls ``predicate`` (an ``OSError`` counts as not yet) until true or ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``; always reaps."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children_of(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc: nginx reports its workers nowhere else)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may hold spaces and parentheses: the fields after the last ')' are fixed
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            children.add(int(entry.name))
    return children


@dataclass(frozen=True)
class WorkerSettings:
    """How each worker process is started (see worker.py)."""

    cpu_ms: float = 5.0
    service_ms: float = 50.0
    slots: int = 1
    startup_s: float = 4.0

    @property
    def capacity_rps(self) -> float:
        """Requests per second one worker serves at 100 %."""
        return self.slots * 1000.0 / self.service_ms


@dataclass(frozen=True)
class ScaleEvent:
    """One scaling step the fleet took, for the timeline (times in seconds since the epoch)."""

    kind: str  # "added" or "drained"
    port: int
    started_s: float
    finished_s: float


@dataclass
class Worker:
    port: int
    proc: subprocess.Popen[bytes]
    started_s: float
    in_upstream: bool = False
    draining: bool = False


class NginxStatusCollector(Collector):
    """nginx's stub_status as Prometheus metrics, read at each scrape."""

    def __init__(self, status_url: str) -> None:
        self.status_url = status_url

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        try:
            _, body = http_get(self.status_url)
        except OSError:
            yield GaugeMetricFamily("nginx_up", "Whether nginx's stub_status answered", value=0)
            return
        # Active connections: 1 \n server accepts handled requests \n 1 1 1 \n Reading: 0 Writing: 1 Waiting: 0
        lines = body.decode().split("\n")
        active = int(lines[0].split(":")[1])
        accepted, handled, requests = (int(v) for v in lines[2].split())
        words = lines[3].split()
        yield GaugeMetricFamily("nginx_up", "Whether nginx's stub_status answered", value=1)
        yield GaugeMetricFamily("nginx_connections_active", "Active client connections", value=active)
        for name in ("reading", "writing", "waiting"):
            value = int(words[words.index(name.capitalize() + ":") + 1])
            yield GaugeMetricFamily(f"nginx_connections_{name}", f"Connections {name}", value=value)
        yield CounterMetricFamily("nginx_connections_accepted", "Accepted client connections", value=accepted)
        yield CounterMetricFamily("nginx_connections_handled", "Handled client connections", value=handled)
        yield CounterMetricFamily("nginx_http_requests", "Client requests (stub_status reads included)",
                                  value=requests)


@dataclass
class Fleet:
    """Workers behind nginx, Prometheus scraping them; every process is stopped by ``close()``.

    Every process runs in ``workdir`` (its current directory), so that a leftover one can be
    found by it.
    """

    workdir: Path
    settings: WorkerSettings = field(default_factory=WorkerSettings)
    min_workers: int = 1
    scrape_interval_s: float = 1.0
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        self.workdir = self.workdir.resolve()
        self.nginx_dir = self.workdir / "nginx"
        self.prom_dir = self.workdir / "prometheus"
        self.nginx_port = free_port()
        self.status_port = free_port()
        self.prometheus_port = free_port()
        self.exporter_port = free_port()
        self.url = f"http://127.0.0.1:{self.nginx_port}"
        self.prometheus_url = f"http://127.0.0.1:{self.prometheus_port}"
        self.events: list[ScaleEvent] = []
        self._workers: list[Worker] = []
        self._desired = self.min_workers
        self._lock = threading.Lock()  # guards _workers, _desired, events
        self._upstream_lock = threading.Lock()  # one nginx reload at a time
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._nginx: subprocess.Popen[bytes] | None = None
        self._prometheus: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        self._exporter: tuple[WSGIServer, threading.Thread] | None = None
        self._reconciler: threading.Thread | None = None
        self._threads: list[threading.Thread] = []  # admissions and drains under way

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Starts nginx, the nginx exporter, Prometheus and ``min_workers`` ready workers."""
        for d in (self.nginx_dir / "logs", self.nginx_dir / "temp", self.prom_dir / "data"):
            d.mkdir(parents=True, exist_ok=True)
        self._write_targets()
        self._write_nginx_conf()
        self._nginx = subprocess.Popen(self._nginx_cmd(), stdout=self._log_file("nginx"), stderr=subprocess.STDOUT,
                                       cwd=self.workdir)
        wait_until(lambda: http_get(f"http://127.0.0.1:{self.status_port}/stub_status")[0] == 200,
                   "nginx", timeout_s=10)
        registry = CollectorRegistry()
        registry.register(NginxStatusCollector(f"http://127.0.0.1:{self.status_port}/stub_status"))
        self._exporter = start_http_server(self.exporter_port, addr="127.0.0.1", registry=registry)
        self._write_prometheus_conf()
        self._prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.prom_dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.prom_dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}"],
            stdout=self._log_file("prometheus"), stderr=subprocess.STDOUT, cwd=self.workdir,
        )
        wait_until(lambda: http_get(f"{self.prometheus_url}/-/ready")[0] == 200, "prometheus", timeout_s=30)
        for _ in range(self.min_workers):
            self._add_worker()
        self._reconciler = threading.Thread(target=self._reconcile, name="fleet-reconciler", daemon=True)
        self._reconciler.start()

    def close(self) -> None:
        """Stops every process this fleet started (idempotent; safe after a failed start)."""
        self._stop.set()
        self._wake.set()
        if self._reconciler is not None:
            self._reconciler.join(timeout=60)
        for thread in list(self._threads):
            thread.join(timeout=60)
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            stop_process(worker.proc)
        for proc in (self._nginx, self._prometheus):
            if proc is not None:
                stop_process(proc)
        if self._exporter is not None:
            server, thread = self._exporter
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._exporter = None
        for log in self._logs:
            log.close()
        self._logs = []

    def __enter__(self) -> Fleet:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the controller's view ---------------------------------------------------------------

    def scale_to(self, replicas: int) -> None:
        """Sets the desired number of workers; the reconciler gets there in the background."""
        with self._lock:
            self._desired = max(self.min_workers, replicas)
        self._wake.set()

    @property
    def desired(self) -> int:
        with self._lock:
            return self._desired

    def ready_count(self) -> int:
        """Workers in nginx's upstream and not draining: the ones serving new requests."""
        with self._lock:
            return sum(1 for w in self._workers if w.in_upstream and not w.draining)

    def running_count(self) -> int:
        """Worker processes alive (starting, serving or draining): what the fleet pays for."""
        with self._lock:
            return len(self._workers)

    def draining_count(self) -> int:
        with self._lock:
            return sum(1 for w in self._workers if w.draining)

    # -- reconciliation ----------------------------------------------------------------------

    def _reconcile(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=0.2)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                serving = [w for w in self._workers if not w.draining]
                surplus = len(serving) - self._desired
                # the newest first: a worker still starting is the cheapest to give up
                victims = sorted(serving, key=lambda w: w.started_s, reverse=True)[:max(surplus, 0)]
                for worker in victims:
                    worker.draining = True
            for _ in range(-surplus):
                self._background(self._admit, self._start_worker(), "admit")
            for worker in victims:
                self._background(self._drain, worker, "drain")

    def _background(self, target: Callable[[Worker], None], worker: Worker, what: str) -> None:
        thread = threading.Thread(target=target, args=(worker,), name=f"fleet-{what}-{worker.port}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _add_worker(self) -> None:
        """Starts a worker and returns once it serves (the fleet's first workers)."""
        self._admit(self._start_worker())

    def _start_worker(self) -> Worker:
        """Starts a worker process; it joins the upstream in ``_admit`` once ready."""
        port = free_port()
        s = self.settings
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "--port", str(port), "--cpu-ms", str(s.cpu_ms),
             "--service-ms", str(s.service_ms), "--slots", str(s.slots), "--startup-s", str(s.startup_s)],
            stdout=self._log_file(f"worker-{port}"), stderr=subprocess.STDOUT, cwd=self.workdir,
        )
        worker = Worker(port=port, proc=proc, started_s=time.time())
        with self._lock:
            self._workers.append(worker)
        # Scraped from its start: when nginx sends it its first requests, Prometheus already has
        # its counter at 0, so rate() sees them at once (least_conn gives a new worker nearly
        # every request until it is as busy as the others: missing it would hide the load).
        self._write_targets()
        return worker

    def _admit(self, worker: Worker) -> None:
        """Waits until the worker is ready, then adds it to nginx's upstream."""
        port, proc = worker.port, worker.proc
        try:
            wait_until(lambda: self._stop.is_set() or proc.poll() is not None
                       or http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
                       f"worker {port} ready", timeout_s=self.settings.startup_s + 30, poll_s=0.1)
            if self._stop.is_set():
                return  # close() stops it
            if proc.poll() is not None:
                raise RuntimeError(f"worker {port} exited with {proc.returncode} during start-up")
        except (TimeoutError, RuntimeError) as e:
            self.log(f"fleet: {e}")
            with self._lock:
                if worker in self._workers and not worker.draining:
                    self._workers.remove(worker)
                    stop_process(proc)
            self._write_targets()
            return
        with self._upstream_lock:
            # checked under the upstream lock: a drain decided meanwhile has seen it out of the
            # upstream, and stops it without a reload
            with self._lock:
                if worker.draining:
                    return
                worker.in_upstream = True
            self._reload_nginx()
        with self._lock:
            self.events.append(ScaleEvent("added", port, worker.started_s, time.time()))
        self.log(f"fleet: worker {port} added ({time.time() - worker.started_s:.1f}s), {self.ready_count()} serving")

    def _drain(self, worker: Worker) -> None:
        started = time.time()
        old_nginx_workers: set[int] = set()
        with self._upstream_lock:
            was_in_upstream = worker.in_upstream
            with self._lock:
                worker.in_upstream = False
            if was_in_upstream:
                old_nginx_workers = self._reload_nginx()
        # Outside the lock: a scale-up need not wait for this. Once the old nginx workers are
        # gone, nothing can send this worker a request, and what they sent has been answered.
        try:
            self._wait_old_nginx_workers(old_nginx_workers)
            wait_until(lambda: self._stop.is_set() or self._in_flight(worker.port) == 0, f"worker {worker.port} idle",
                       timeout_s=30)
        except TimeoutError as e:
            self.log(f"fleet: {e}; stopping it anyway")
        stop_process(worker.proc, timeout_s=30)
        with self._lock:
            if worker in self._workers:  # close() may have taken the list meanwhile
                self._workers.remove(worker)
        self._write_targets()
        with self._lock:
            self.events.append(ScaleEvent("drained", worker.port, started, time.time()))
        self.log(f"fleet: worker {worker.port} drained ({time.time() - started:.1f}s), "
                 f"exit {worker.proc.returncode}, {self.ready_count()} serving")

    def _in_flight(self, port: int) -> float:
        _, body = http_get(f"http://127.0.0.1:{port}/metrics")
        for line in body.decode().splitlines():
            if line.startswith("sutazai_inference_in_flight{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    # -- nginx -------------------------------------------------------------------------------

    def _nginx_cmd(self, *extra: str) -> list[str]:
        return [NGINX, "-p", f"{self.nginx_dir}/", "-c", str(self.nginx_dir / "nginx.conf"), "-e", "stderr", *extra]

    def _write_nginx_conf(self) -> None:
        with self._lock:
            ports = [w.port for w in self._workers if w.in_upstream]
        # nginx refuses an empty upstream: before the first worker, a closed port stands in
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports) or \
            f"        server 127.0.0.1:{self.status_port} down;"
        temp = self.nginx_dir / "temp"
        conf = f"""\
daemon off;
master_process on;
worker_processes 1;
pid {self.nginx_dir / 'nginx.pid'};
error_log stderr notice;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # No kept-alive client connections: on a reload nginx closes idle ones, and a client that
    # is just then sending its next request on one would see it fail.
    keepalive_timeout 0;
    upstream workers {{
        least_conn;
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location / {{
            proxy_pass http://workers;
            # a refused connection (a worker that died) is retried on another worker
            proxy_next_upstream error timeout http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
    server {{
        listen 127.0.0.1:{self.status_port};
        location = /stub_status {{ stub_status; }}
    }}
}}
"""
        tmp = self.nginx_dir / "nginx.conf.tmp"
        tmp.write_text(conf)
        tmp.replace(self.nginx_dir / "nginx.conf")

    def _reload_nginx(self) -> set[int]:
        """Writes the upstream, reloads nginx and returns once the new configuration serves.

        Returns the nginx worker processes of the old configuration: each exits once the
        requests it was serving are answered (``_wait_old_nginx_workers``). Call with
        ``_upstream_lock`` held.
        """
        if self._nginx is None:
            raise RuntimeError("nginx is not running")
        master = self._nginx.pid
        before = children_of(master)
        self._write_nginx_conf()
        subprocess.run(self._nginx_cmd("-s", "reload"), check=True, capture_output=True, timeout=30)
        wait_until(lambda: bool(children_of(master) - before), "nginx's new workers", timeout_s=30, poll_s=0.02)
        return before

    def _wait_old_nginx_workers(self, old: set[int]) -> None:
        if self._nginx is None:
            return
        master = self._nginx.pid
        wait_until(lambda: self._stop.is_set() or not children_of(master) & old, "nginx's old workers to exit",
                   timeout_s=60, poll_s=0.02)

    # -- Prometheus --------------------------------------------------------------------------

    def _write_prometheus_conf(self) -> None:
        interval = f"{self.scrape_interval_s:g}s"
        (self.prom_dir / "prometheus.yml").write_text(
            f"global: {{scrape_interval: {interval}, evaluation_interval: {interval}}}\n"
            "scrape_configs:\n"
            "  - job_name: workers\n"
            f"    file_sd_configs: [{{files: ['{self.prom_dir / 'targets.json'}'], refresh_interval: 1s}}]\n"
            "  - job_name: nginx\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{self.exporter_port}']}}]\n"
        )

    def _write_targets(self) -> None:
        """The workers to scrape: every one started and not yet stopped (file_sd; atomic rename)."""
        with self._lock:
            targets = [f"127.0.0.1:{w.port}" for w in self._workers]
        tmp = self.prom_dir / "targets.json.tmp"
        tmp.write_text(json.dumps([{"targets": targets}]))
        tmp.replace(self.prom_dir / "targets.json")

    def _log_file(self, name: str) -> IO[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        self._logs.append(log)
        return log
