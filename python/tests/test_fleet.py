"""The fleet demo (examples/fleet) end to end: real workers behind nginx, a real Prometheus, the
predictive policy on five repetitions of the load pattern (about 3.5 minutes, loopback only).

nginx and Prometheus are Debian's packages (``.ci/run`` installs them). Every process the run
starts has the test's temporary directory as its working directory: the test checks that none
is left, also when the run failed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "examples" / "fleet"))
from controller import POLICIES  # noqa: E402
from fleet import WorkerSettings  # noqa: E402
from loadgen import Pattern  # noqa: E402
from report import cycle_verdicts, draw_chart, markdown_table, summarize  # noqa: E402
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


def test_readme_shows_the_summary_the_demo_wrote() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index(README_BEGIN) + len(README_BEGIN):readme.index(README_END)]
    assert block.strip() == (REPO / "docs" / "fleet-summary.md").read_text().strip()
    assert (REPO / "docs" / "fleet.png").stat().st_size > 10_000
