"""The fleet demo (examples/fleet) end to end: real workers behind nginx, a real Prometheus, the
predictive policy on five repetitions of the load pattern (about 3.5 minutes, loopback only).

nginx and Prometheus are Debian's packages (``.ci/run`` installs them). Every process the run
starts has the test's temporary directory as its working directory: the test checks that none
is left, also when the run failed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "examples" / "fleet"))
from controller import POLICIES, Step  # noqa: E402
from fleet import WORKER, ScaleEvent, WorkerSettings, free_port, http_get, wait_until  # noqa: E402
from loadgen import Outcome, Pattern  # noqa: E402
from report import PolicyRun, cycle_verdicts, draw_chart, markdown_table, summarize  # noqa: E402
from run import README_BEGIN, README_END, RunConfig, run_policy, warmup_s  # noqa: E402

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
SLO_S = 0.5


def processes_in(directory: Path) -> list[str]:
    """Live processes whose working directory is ``directory`` or below it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = (entry / "cwd").resolve()
            if cwd == directory or directory in cwd.parents:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{entry.name}: {command}")
        except OSError:
            continue
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path.resolve()
    yield directory
    assert not processes_in(directory), "processes left running after the run"


@pytest.mark.fleet
@pytest.mark.skipif(NGINX is None or PROMETHEUS is None,
                    reason="needs Debian's nginx and prometheus packages (.ci/run installs them)")
def test_predictive_fleet_scales_ahead_of_the_load_and_drains_without_failures(workdir: Path) -> None:
    spec = POLICIES["predictive"].read_text()
    learned_from_s = warmup_s(spec)
    pattern = Pattern()
    # warm-up, then two repetitions with forecasts
    cycles = learned_from_s / pattern.period_s + 2
    assert cycles <= 5, "the CI run must stay short: predictive.yaml's warm-up grew"
    run = run_policy("predictive", spec, RunConfig(cycles=cycles, pattern=pattern, settings=WorkerSettings()),
                     workdir / "predictive", compare_from_s=learned_from_s)

    chart = workdir / "fleet.png"
    draw_chart([run], SLO_S, chart)
    assert chart.stat().st_size > 10_000

    summary = summarize(run, SLO_S)
    table = markdown_table([summary], SLO_S)
    assert summary.requests > 3000, table
    assert summary.scale_downs > 0, table
    assert summary.failed_during_scale_down == 0, table

    verdicts = cycle_verdicts(run, SLO_S)
    report = table + "\n".join(map(str, verdicts))
    learned = [v for v in verdicts if v.cycle * pattern.period_s >= learned_from_s]
    assert learned, report
    # with forecasts: more workers serve before the latency breaks the SLO (if it ever does)
    assert any(v.rose_before_breach for v in learned), report
    # and fewer again once the load has fallen, in every repetition the run saw to its end
    fallen = [v for v in verdicts if v.serving_after_fall is not None and v.cycle < len(verdicts) - 1]
    assert fallen and all(v.serving_after_fall is not None and v.serving_after_fall < v.peak_serving
                          for v in fallen), report


def test_worker_drains_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    worker = subprocess.Popen([sys.executable, str(WORKER), "--port", str(port), "--startup-s", "0",
                               "--service-ms", "1500"], cwd=tmp_path)
    try:
        wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, "the worker", timeout_s=20)
        answers: list[tuple[int, bytes]] = []
        request = threading.Thread(target=lambda: answers.append(http_get(f"http://127.0.0.1:{port}/infer",
                                                                          timeout_s=10)))
        request.start()
        wait_until(lambda: b"sutazai_inference_in_flight{service=\"fleet\"} 1.0" in
                   http_get(f"http://127.0.0.1:{port}/metrics")[1], "the request in flight", timeout_s=5)
        worker.terminate()
        time.sleep(0.5)
        # no longer accepting, still finishing the request it has
        with pytest.raises(OSError):
            http_get(f"http://127.0.0.1:{port}/healthz")
        assert worker.wait(timeout=10) == 0
        request.join(timeout=10)
        assert answers == [(200, b"ok\n")]
    finally:
        worker.kill()
        worker.wait()


def test_verdicts_and_scale_down_failures_on_a_made_up_run() -> None:
    pattern = Pattern(period_s=40.0)
    t0 = 1_000.0
    # serving: 1 until 6 s, 3 from 6 s (before the ramp at 8 s), 1 again from 36 s
    steps = [Step(t0 + t, 1, n, 0, n, None, None, None, None, n, "")
             for t, n in [(0, 1), (2, 1), (4, 1), (6, 3), (10, 3), (20, 3), (30, 3), (36, 1), (39, 1)]]
    drain = ScaleEvent("drained", 1, t0 + 33.0, t0 + 34.0)
    outcomes = [Outcome(t0 + t / 10, 0.05, 200, "") for t in range(400)]
    outcomes += [Outcome(t0 + 12.2, 0.9, 200, ""), Outcome(t0 + 33.5, 0.1, 0, "ServerDisconnectedError"),
                 Outcome(t0 + 20.0, 10.0, 0, "TimeoutError")]
    run = PolicyRun("made-up", t0, pattern, outcomes, steps, [drain])
    [verdict] = cycle_verdicts(run, SLO_S)
    assert (verdict.rise_s, verdict.breach_s, verdict.rose_before_breach) == (6.0, 12.0, True)
    assert (verdict.peak_serving, verdict.serving_after_fall) == (3, 1)
    summary = summarize(run, SLO_S)
    assert (summary.failed, summary.failed_during_scale_down, summary.scale_downs) == (2, 1, 1)
    assert summary.seconds_p95_over_slo == 3  # 12 s (0.9 s latency), 20 s (failed), 33 s (failed)


def test_readme_shows_the_summary_the_demo_wrote() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index(README_BEGIN) + len(README_BEGIN):readme.index(README_END)]
    assert block.strip() == (REPO / "docs" / "fleet-summary.md").read_text().strip()
    assert (REPO / "docs" / "fleet.png").stat().st_size > 10_000
