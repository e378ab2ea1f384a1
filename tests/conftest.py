"""Shared fixtures: small scenarios (as YAML files and as plain data), a CLI runner, event helpers.

Everything here is small on purpose: a few items, one warehouse, horizons of days, so the whole
unit suite stays well under a minute.
"""

from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from twin.model import events as E
from twin.model.scenario import Scenario
from twin.sim.engine import RunOutput, run_replication

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# -- scenarios as plain data ---------------------------------------------------------------------------


def small_site() -> dict[str, Any]:
    """Three items at one warehouse, one supplier, Poisson demand (the shape of fixtures/site_small.yaml)."""
    return {
        "name": "small-site",
        "items": [
            {"id": "gauze", "unit_cost": 2.0, "shelf_life": "30d"},
            {"id": "saline", "unit_cost": 5.0},
            {"id": "gloves", "unit_cost": 0.5},
        ],
        "warehouses": [
            {
                "id": "main",
                "pickers": 2,
                "counters": 1,
                "initial_stock": {"gauze": 40, "saline": 30, "gloves": 100},
            }
        ],
        "suppliers": [
            {
                "id": "medsupply",
                "lead_time": {"dist": "gamma", "mean": "3d", "cv": 0.3},
                "order_cost": 25,
                "items": ["gauze", "saline", "gloves"],
            }
        ],
        "demand": [
            {"item": "gauze", "location": "main", "mean": 8},
            {"item": "saline", "location": "main", "mean": 4},
            {"item": "gloves", "location": "main", "mean": 20, "line_size": 5},
        ],
    }


def small_scenario_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "small",
        "site": small_site(),
        "horizon": "20d",
        "seed": 7,
        "policies": {"inventory": {"use": "s_S", "params": {"service_level": 0.95}}},
    }
    data.update(copy.deepcopy(overrides))
    return data


def small_scenario(**overrides: Any) -> Scenario:
    return Scenario.model_validate(small_scenario_data(**overrides))


def with_extra_item(data: dict[str, Any], item: str = "bandage", mean: float = 30.0) -> dict[str, Any]:
    """The same scenario with one more item, its own demand stream (listed first) and opening stock."""
    out = copy.deepcopy(data)
    site = out["site"]
    site["items"].append({"id": item, "unit_cost": 1.0})
    site["suppliers"][0]["items"].append(item)
    site["demand"].insert(0, {"item": item, "location": "main", "mean": mean})
    site["warehouses"][0]["initial_stock"][item] = 10
    return out


# -- runs and events -----------------------------------------------------------------------------------


def run(scenario: Scenario, seed: int = 1, replication: int = 0, horizon_days: float | None = None) -> RunOutput:
    return run_replication(scenario, seed, replication, None if horizon_days is None else horizon_days * 24.0)


def demand_by_item(events: Any) -> dict[str, list[tuple[float, float, str, str]]]:
    """Per item, the (time, qty, location, customer) of every order line placed, in order."""
    out: dict[str, list[tuple[float, float, str, str]]] = {}
    for ev in events:
        if isinstance(ev, E.OrderPlaced):
            for item, qty in ev.lines:
                out.setdefault(item, []).append((ev.t, qty, ev.location, ev.customer))
    return out


# -- files and the command line ------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _run_registry_out_of_the_working_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`twin run` records every run under $TWIN_HOME (default ./.twin): keep tests' runs out of the
    repository (session-wide, so module-scoped fixtures that run the CLI are covered too)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWIN_HOME", str(tmp_path_factory.mktemp("twin-home")))
        yield


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write('a/b.yaml', text) -> the path; the text is dedented so tests can indent it."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def line_of(path: Path, pattern: str, nth: int = 0) -> int:
    """1-based number of the ``nth`` line of a file matching the regular expression ``pattern``."""
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if re.search(pattern, line)]
    assert len(hits) > nth, f"{pattern!r} not found {nth + 1} time(s) in {path}"
    return hits[nth]


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the `twin` command in this process; the result has exit_code, stdout, stderr, output."""
    from twin.cli import app

    runner = CliRunner()

    def _invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    return _invoke


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """A copy of fixtures/site_small.yaml in the test's folder (so relative references resolve there)."""
    path = tmp_path / "site_small.yaml"
    path.write_text((FIXTURES / "site_small.yaml").read_text())
    return path
