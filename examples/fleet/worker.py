#!/usr/bin/env python3
"""An inference stand-in: one replica of the fleet, exporting the seed's metrics.

Each request to ``/infer`` waits for the replica's inference slot, spends ``--cpu-ms`` of CPU in a
busy loop (GIL released) and holds the slot for ``--service-ms`` in all (the rest as a wait, the stand-in for an
accelerator). The slot is what gives one replica a fixed capacity (``slots * 1000 / service_ms``
requests per second) on a machine whose few cores are shared: with pure CPU work, six replicas on
two cores would have no more capacity than two, and the autoscaler would be scaling nothing.

Start-up takes ``--startup-s`` (the stand-in for loading a model): ``/metrics`` answers at once,
``/healthz`` and ``/infer`` answer 503 until the model is "loaded". SIGTERM drains: the listening
socket closes (no new connections), requests already accepted finish, then the process exits 0.

Metrics (prometheus_client, the seed's names where it has one):
``sutazai_inference_requests_received_total`` (arrivals: the offered load, even when the replica
is saturated), ``sutazai_inference_requests_total{status}`` (completions),
``sutazai_inference_in_flight`` and ``sutazai_inference_queue_depth`` (waiting for the slot),
``sutazai_inference_duration_seconds`` (arrival to response, queueing included) and the process
collector's ``process_cpu_seconds_total``.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

MODEL = "standin"
SERVICE = "fleet"

RECEIVED = Counter("sutazai_inference_requests_received", "Inference requests received (arrivals)",
                   ["model", "service"])
COMPLETED = Counter("sutazai_inference_requests", "Total AI inference requests", ["model", "status", "service"])
IN_FLIGHT = Gauge("sutazai_inference_in_flight", "Inference requests accepted and not yet answered", ["service"])
QUEUE_DEPTH = Gauge("sutazai_inference_queue_depth", "Inference requests waiting for the inference slot",
                    ["service"])
# The seed's buckets start at 0.1 s, too coarse for a 50 ms stand-in: finer ones around the SLO.
DURATION = Histogram("sutazai_inference_duration_seconds", "AI inference duration in seconds", ["model", "service"],
                     buckets=[0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0])


class FifoSlots:
    """The replica's inference slots, granted in arrival order (a ``threading.Semaphore`` wakes
    waiters in no particular order, which would make the queue's latency a lottery)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: deque[threading.Event] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the slot passes straight to the next in line
            else:
                self._free += 1


# Hashing a block this size releases the GIL: the CPU work runs beside the request threads, as a
# native inference library would, instead of starving them (and the accept loop) of the GIL.
WORK_BLOCK = bytes(32 * 1024)


class Replica:
    """The replica's model: its inference slots and the time one inference takes."""

    def __init__(self, *, cpu_ms: float, service_ms: float, slots: int, startup_s: float) -> None:
        self.cpu_s = cpu_ms / 1000.0
        self.service_s = max(service_ms, cpu_ms) / 1000.0
        self.slots = FifoSlots(slots)
        self.ready_at = time.monotonic() + startup_s

    def ready(self) -> bool:
        return time.monotonic() >= self.ready_at

    def infer(self) -> None:
        QUEUE_DEPTH.labels(SERVICE).inc()
        self.slots.acquire()
        try:
            QUEUE_DEPTH.labels(SERVICE).dec()
            started = time.monotonic()
            cpu_until = time.thread_time() + self.cpu_s
            while time.thread_time() < cpu_until:
                hashlib.sha256(WORK_BLOCK).digest()
            rest = self.service_s - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)
        finally:
            self.slots.release()


def handler_for(replica: Replica) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0 and one request per connection: nginx opens one upstream connection per
        # request, so a drained replica holds no idle connection that could hide a request.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._reply(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._reply(200 if replica.ready() else 503, b"ok\n" if replica.ready() else b"loading\n")
            elif self.path.startswith("/infer"):
                self._infer()
            else:
                self._reply(404, b"not found\n")

        def _infer(self) -> None:
            arrived = time.monotonic()
            if not replica.ready():
                COMPLETED.labels(MODEL, "unavailable", SERVICE).inc()
                self._reply(503, b"model loading\n")
                return
            RECEIVED.labels(MODEL, SERVICE).inc()
            IN_FLIGHT.labels(SERVICE).inc()
            try:
                replica.infer()
                self._reply(200, b"ok\n")
                COMPLETED.labels(MODEL, "ok", SERVICE).inc()
            except OSError:
                # the client (nginx) hung up before the answer: nothing left to answer
                COMPLETED.labels(MODEL, "error", SERVICE).inc()
            finally:
                IN_FLIGHT.labels(SERVICE).dec()
                DURATION.labels(MODEL, SERVICE).observe(time.monotonic() - arrived)

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: one line per request would cost more CPU than the request."""

    return Handler


class Server(ThreadingHTTPServer):
    # A burst opens many connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 256
    # Joined on close: the drain waits for every accepted request.
    daemon_threads = False
    block_on_close = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--cpu-ms", type=float, default=5.0, help="CPU time per request (hashing, GIL released)")
    parser.add_argument("--service-ms", type=float, default=50.0, help="time a request holds the slot")
    parser.add_argument("--slots", type=int, default=1, help="requests served at once")
    parser.add_argument("--startup-s", type=float, default=4.0, help="time to load the model")
    args = parser.parse_args(argv)

    # Series exist from the first scrape (a labelled child appears only once it is used): the
    # controller tells "no traffic" (a rate of 0) from "no data" (hold).
    RECEIVED.labels(MODEL, SERVICE)
    for status in ("ok", "error", "unavailable"):
        COMPLETED.labels(MODEL, status, SERVICE)
    IN_FLIGHT.labels(SERVICE)
    QUEUE_DEPTH.labels(SERVICE)
    DURATION.labels(MODEL, SERVICE)
    replica = Replica(cpu_ms=args.cpu_ms, service_ms=args.service_ms, slots=args.slots, startup_s=args.startup_s)
    server = Server(("127.0.0.1", args.port), handler_for(replica))
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="serve")
    serving.start()
    while not stop.wait(0.5):
        pass
    # Drain: stop the accept loop, close the listening socket, then join the request threads.
    server.shutdown()
    serving.join()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
