"""`twin regress`: baselines, paired statistical checks, JUnit/Markdown, bad input (exit 2), the
pytest plugin, and the project's own suite file.

The suites here run two tiny scenarios (three items, 60 days, 6 replications) in this process.
Scenario ``b`` uses a policy module written into the test's folder, so a test can change the
policy *code* the way a developer would, without touching a scenario file (a changed scenario file
invalidates its baseline by design; that is tested too).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import FIXTURES, ROOT, line_of
from twin.regress import Guard, check_kpi, load_suite, parse_tolerance

POLICY = '''
from policies.inventory import BaseStock, BaseStockParams

SERVICE_LEVEL = {level}


class Policy(BaseStock):
    """Base stock at a service level fixed in code: the policy a developer edits."""

    Params = None  # no parameters in the scenario file

    def __init__(self) -> None:
        super().__init__(BaseStockParams(service_level=SERVICE_LEVEL))
'''

SUITE = """\
name: tmp-suite
replications: 6
kpis:
  fill_rate: {better: higher, tolerance: 1%}
  total_cost: {better: lower, tolerance: 2%}
scenarios:
  - a.yaml
  - scenario: b.yaml
    kpis:
      order_cycle_time: {better: lower, tolerance: 1h}
"""


class Project:
    """A folder with a site, two scenarios, a policy module and a suite."""

    def __init__(self, root: Path, module: str) -> None:
        self.root = root
        self.module = module
        self.suite = root / "suite.yaml"
        (root / "site_small.yaml").write_text((FIXTURES / "site_small.yaml").read_text())
        for name, use in (("a", "s_S"), ("b", f"{module}:Policy")):
            params = "params: {service_level: 0.95}" if use == "s_S" else ""
            (root / f"{name}.yaml").write_text(
                f"# scenario {name}\nname: small-{name}\nsite: site_small.yaml\nhorizon: 60d\nwarmup: 10d\n"
                f"seed: 7\nreplications: 4\npolicies:\n  inventory: {{use: {use}, {params}}}\n")
        self.set_policy(0.95)
        self.suite.write_text(SUITE)

    def set_policy(self, level: float, extra: str = "") -> None:
        (self.root / f"{self.module}.py").write_text(POLICY.format(level=level) + extra)
        sys.modules.pop(self.module, None)  # the next run imports the edited code

    def baseline(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / "baselines" / f"{name}.json").read_text())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    module = f"regress_policy_{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # an edit within the same second must be seen
    proj = Project(tmp_path, module)
    yield proj
    sys.modules.pop(module, None)


def regress(cli: Callable[..., Result], project: Project, *args: str | Path) -> Result:
    return cli("regress", project.suite, "--workers", "1", *args)


@pytest.fixture
def recorded(project: Project, cli: Callable[..., Result]) -> Project:
    result = regress(cli, project, "--update")
    assert result.exit_code == 0, result.output
    return project


# -- baselines and checks -----------------------------------------------------------------------------


def test_update_writes_small_diffable_baselines(recorded: Project) -> None:
    b = recorded.baseline("small-b")
    assert b["format"] == "lems-twin-regress/1"
    assert b["scenario"]["file"] == "b.yaml"
    assert set(b["scenario"]["files"]) == {"b.yaml", "site_small.yaml"}
    assert all(len(h) == 64 for h in b["scenario"]["files"].values())
    assert b["run"] == {"seed": 7, "replications": 6, "horizon": 1440.0, "warmup": 240.0}
    assert b["code_version"].startswith("0.")
    assert len(b["event_log_sha256"]) == 6 and len(set(b["event_log_sha256"])) == 6
    assert len(b["kpis"]["fill_rate"]) == 6 and "order_cycle_time" in b["kpis"]


def test_unchanged_code_is_identical(recorded: Project, cli: Callable[..., Result], tmp_path: Path) -> None:
    result = regress(cli, recorded, "--junit", tmp_path / "j.xml", "--markdown", tmp_path / "m.md")
    assert result.exit_code == 0, result.output
    assert "small-a: identical (6/6 event logs unchanged" in result.stdout
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert junit.get("tests") == "5" and junit.get("failures") == "0"
    assert "no KPI regression" in (tmp_path / "m.md").read_text()


def test_degraded_policy_is_caught_and_unrelated_scenario_is_identical(
        recorded: Project, cli: Callable[..., Result], tmp_path: Path) -> None:
    recorded.set_policy(0.6)  # the developer lowers the service level in the policy code
    result = regress(cli, recorded, "--junit", tmp_path / "j.xml", "--markdown", tmp_path / "m.md")
    assert result.exit_code == 1, result.output
    assert "small-a: identical (6/6 event logs unchanged" in result.stdout  # it does not use the policy
    assert "REGRESSION small-b: fill_rate regressed" in result.stderr
    junit = ET.parse(tmp_path / "j.xml").getroot()
    failed = {(c.get("classname"), c.get("name")) for c in junit.iter("testcase") if c.find("failure") is not None}
    assert ("twin.regress.small-b", "fill_rate") in failed
    assert not any(cls == "twin.regress.small-a" for cls, _ in failed)
    assert int(junit.get("failures") or 0) == len(failed)
    md = (tmp_path / "m.md").read_text()
    assert "twin regress: " in md and "| small-b | fill_rate |" in md and "**❌ regressed**" in md


def test_a_code_change_that_changes_no_decision_is_identical(recorded: Project, cli: Callable[..., Result]) -> None:
    recorded.set_policy(0.95, extra="\n\ndef unused_helper() -> int:\n    return 42\n")
    result = regress(cli, recorded)
    assert result.exit_code == 0, result.output
    assert "small-b: identical" in result.stdout


def test_a_better_policy_is_reported_improved(recorded: Project, cli: Callable[..., Result]) -> None:
    recorded.set_policy(0.6)
    assert regress(cli, recorded, "--update").exit_code == 0  # a weak policy is the baseline
    recorded.set_policy(0.95)
    result = regress(cli, recorded)
    assert result.exit_code == 0, result.output
    assert any("fill_rate" in line and "improved" in line for line in result.stdout.splitlines())


def test_another_code_version_is_recorded_not_refused(recorded: Project, cli: Callable[..., Result]) -> None:
    path = recorded.root / "baselines" / "small-a.json"
    data = json.loads(path.read_text())
    data["code_version"] = "0.0.1+git.0123456789ab"
    path.write_text(json.dumps(data))
    result = regress(cli, recorded)
    assert result.exit_code == 0, result.output
    assert "baseline recorded with code 0.0.1+git.0123456789ab" in result.stdout


@pytest.mark.parametrize("edit, named", [
    (lambda p: (p.root / "a.yaml").write_text((p.root / "a.yaml").read_text().replace("0.95", "0.5")), "a.yaml"),
    (lambda p: (p.root / "site_small.yaml").write_text(
        (p.root / "site_small.yaml").read_text().replace("mean: 8", "mean: 9")), "site_small.yaml"),
])
def test_a_changed_scenario_or_site_invalidates_its_baseline(
        recorded: Project, cli: Callable[..., Result], tmp_path: Path, edit: Callable[[Project], Any],
        named: str) -> None:
    edit(recorded)
    result = regress(cli, recorded, "--junit", tmp_path / "j.xml")
    assert result.exit_code == 2, result.output
    line = line_of(recorded.suite, r"- a\.yaml")
    assert f"{recorded.suite}:{line}: scenarios[0]: {named} changed since the baseline" in result.stderr
    assert "not comparable" in result.stderr and "--update" in result.stderr
    assert not (tmp_path / "j.xml").exists()  # bad input writes nothing


def test_other_run_settings_invalidate_the_baseline(recorded: Project, cli: Callable[..., Result]) -> None:
    recorded.suite.write_text(SUITE.replace("replications: 6", "replications: 3"))
    result = regress(cli, recorded)
    assert result.exit_code == 2
    assert "with replications 3 but baseline" in result.stderr and "has 6" in result.stderr


def test_missing_and_broken_baselines_are_bad_input(recorded: Project, cli: Callable[..., Result]) -> None:
    (recorded.root / "baselines" / "small-b.json").write_text("{not json")
    (recorded.root / "baselines" / "small-a.json").unlink()
    result = regress(cli, recorded)
    assert result.exit_code == 2
    assert f"{recorded.suite}:{line_of(recorded.suite, r'- a.yaml')}: scenarios[0]: no baseline" in result.stderr
    assert "small-b.json:1: not a baseline file (bad JSON" in result.stderr


BAD_SUITES = [
    ("kpis:\n  fill_rat: {better: higher, tolerance: 1%}\n", "fill_rat",
     "kpis.fill_rat: unknown KPI 'fill_rat'; did you mean 'fill_rate'?"),
    ("kpis:\n  order_cycle_time: {better: lower, tolerance: 2}\n", "tolerance: 2",
     "kpis.order_cycle_time.tolerance: order_cycle_time is a time: give the tolerance a unit"),
    ("kpis:\n  fill_rate: {tolerance: 1%}\n", "fill_rate", "kpis.fill_rate.better: required key is missing"),
    ("kpis:\n  fill_rate: {better: up, tolerance: 1%}\n", "fill_rate",
     "kpis.fill_rate.better: Input should be 'higher' or 'lower'"),
    ("kpis:\n  fill_rate: {better: higher, tolerance: lots}\n", "fill_rate", "cannot read tolerance 'lots'"),
    ("kpis:\n  fill_rate: {better: higher, tolerance: 2}\n", "fill_rate", "did you mean '2%'?"),
    ("kpis:\n  total_cost: {better: lower, tolerance: 3d}\n", "total_cost", "total_cost is not a time"),
    ("kpis:\n  fill_rate: {better: higher, tolerance: 1%}\nscenarios: [nowhere.yaml]\n", "nowhere",
     "scenarios[0].scenario: file not found: nowhere.yaml"),
    ("replications: 1\nkpis:\n  fill_rate: {better: higher, tolerance: 1%}\n", "replications",
     "replications: Input should be greater than or equal to 2"),
]


@pytest.mark.parametrize("text, at, message", BAD_SUITES)
def test_bad_suites_exit_2_with_file_line_and_field(
        project: Project, cli: Callable[..., Result], tmp_path: Path, text: str, at: str, message: str) -> None:
    if "scenarios:" not in text:
        text += "scenarios: [a.yaml]\n"
    project.suite.write_text(text)
    result = regress(cli, project, "--update", "--junit", tmp_path / "j.xml")
    assert result.exit_code == 2, result.output
    assert f"{project.suite}:{line_of(project.suite, at)}: " in result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert not (project.root / "baselines").exists() and not (tmp_path / "j.xml").exists()


def test_a_kpi_the_scenario_does_not_report_is_bad_input(project: Project, cli: Callable[..., Result]) -> None:
    project.suite.write_text("kpis:\n  oee: {better: higher, tolerance: 0.01}\nscenarios: [a.yaml]\n")
    result = regress(cli, project, "--update")
    assert result.exit_code == 2
    assert f"{project.suite}:2: kpis.oee: 'small-a' does not report oee" in result.stderr
    assert not (project.root / "baselines").exists()


# -- the statistics --------------------------------------------------------------------------------------


def test_tolerances_parse_with_their_units() -> None:
    assert parse_tolerance("2%").kind == "relative" and parse_tolerance("2%").value == pytest.approx(0.02)
    assert parse_tolerance(0.01).kind == "absolute" and parse_tolerance(0.01).value == 0.01
    assert parse_tolerance("90min").value == pytest.approx(1.5) and parse_tolerance("90min").duration
    for bad in (-1, True, "2 percent", None):
        with pytest.raises(ValueError):
            parse_tolerance(bad)


def test_verdicts_follow_the_paired_confidence_interval() -> None:
    higher = Guard(better="higher", tolerance="1%")
    base = [0.90, 0.92, 0.91, 0.93, 0.90]
    # Clearly worse than 1% of 0.912 on every replication: regressed.
    assert check_kpi("s", "fill_rate", higher, base, [b - 0.05 for b in base], False).status == "regressed"
    # Worse, but by less than the tolerance: within tolerance even though significant.
    assert check_kpi("s", "fill_rate", higher, base, [b - 0.002 for b in base], False).status == "within tolerance"
    assert check_kpi("s", "fill_rate", higher, base, [b + 0.01 for b in base], False).status == "improved"
    # Noisy differences whose CI straddles the tolerance: not a regression.
    noisy = [0.90 - 0.05, 0.92 + 0.05, 0.91 - 0.04, 0.93 + 0.03, 0.90 - 0.01]
    assert check_kpi("s", "fill_rate", higher, base, noisy, False).status == "within tolerance"
    lower = Guard(better="lower", tolerance=1.0)
    c = check_kpi("s", "total_cost", lower, [10, 11, 12], [12.5, 13.4, 14.6], False)
    assert c.status == "regressed" and c.diff == pytest.approx(2.5) and c.allowed == 1.0
    assert check_kpi("s", "total_cost", lower, [10, 11, 12], [12.5, 13.4, 14.6], True).status == "identical"
    empty = check_kpi("s", "order_cycle_time", lower, [None, None], [math.nan, math.nan], False)
    assert empty.status == "no data"


# -- executors, the plugin, the project's own suite ----------------------------------------------------------


def test_scenarios_run_in_parallel_with_the_same_results(recorded: Project) -> None:
    from twin.executors import LocalPool
    from twin.regress import run_suite

    pool = LocalPool(2)
    try:
        report = run_suite(load_suite(recorded.suite), executor=pool)
    finally:
        pool.close()
    assert report.executor.startswith("local pool") and not report.regressions
    assert all(e.identical for e in report.entries)


def _pytest(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    # Plugins are not auto-loaded here (fast, and independent of what else is installed); the
    # plugin is named as the pytest11 entry point would name it.
    env = os.environ | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                        "PYTHONPATH": os.pathsep.join([str(project.root), str(ROOT)]),
                        "PYTHONDONTWRITEBYTECODE": "1"}
    (project.root / "tests_empty").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "twin.pytest_plugin", "-p", "no:cacheprovider",
                           "--twin-suite", str(project.suite), "--twin-workers", "1", "-rA",
                           str(project.root / "tests_empty"), *args],
                          capture_output=True, text=True, cwd=project.root, env=env, timeout=120)


def test_pytest_plugin_runs_the_suite_as_test_items(recorded: Project) -> None:
    ok = _pytest(recorded)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "5 passed" in ok.stdout and "suite.yaml::small-b::order_cycle_time" in ok.stdout
    recorded.set_policy(0.6)
    bad = _pytest(recorded)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAILED suite.yaml::small-b::fill_rate" in bad.stdout
    assert "small-b: fill_rate regressed" in bad.stdout
    assert "FAILED suite.yaml::small-a" not in bad.stdout


def test_pytest_plugin_is_registered_as_an_entry_point() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["pytest11"]["twin"] == "twin.pytest_plugin"


def test_the_projects_own_suite_is_valid() -> None:
    suite = load_suite(ROOT / "regress" / "suite.yaml")
    assert len(suite.entries) >= 3
    assert all(e.replications >= 2 and e.guards for e in suite.entries)
    assert all(e.baseline_file.parent == ROOT / "regress" / "baselines" for e in suite.entries)
