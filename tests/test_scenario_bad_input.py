"""twin.scenario, bad input end to end: each broken scenario gives one clear error naming the file, the
line and the YAML path, the same through load_scenario, `twin validate`, `twin run` (which writes
nothing) and the installed `twin` command (no traceback)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, line_of
from tests.helpers_scenario import HEAD, SITE_TEXT
from twin.errors import ScenarioError
from twin.scenario import load_scenario

# -- bad input, end to end: load_scenario, `twin validate` and `twin run` ---------------------------------


@dataclass(frozen=True)
class Bad:
    """A broken scenario: the files to write, the file to load, and where the one error must point."""

    id: str
    files: dict[str, str]
    where: str  # the file holding the mistake
    line_pattern: str  # regex of the line the error must name
    path: str  # the YAML path the error must name
    message: str  # regex the message must match


def _site(old: str, new: str) -> str:
    assert old in SITE_TEXT
    return SITE_TEXT.replace(old, new, 1)


BAD = [
    Bad(
        "malformed-yaml",
        {"main.yaml": HEAD.replace("horizon: 20d", "horizon: 20d: 5d"), "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^horizon:",
        "horizon",
        r"malformed YAML: mapping values are not allowed here",
    ),
    Bad(
        "malformed-site-yaml",
        {"main.yaml": HEAD, "site_small.yaml": _site("  - id: main", "  - id: main\n   oops: [")},
        "site_small.yaml",
        r"oops",
        "warehouses[0].oops",
        r"malformed YAML: expected <block end>",
    ),
    Bad(
        "negative-initial-stock",
        {"main.yaml": HEAD, "site_small.yaml": _site("gauze: 40", "gauze: -40")},
        "site_small.yaml",
        r"initial_stock",
        "warehouses[0].initial_stock.gauze",
        r"negative quantity -40",
    ),
    Bad(
        "negative-demand-mean",
        {"main.yaml": HEAD, "site_small.yaml": _site("mean: 4}", "mean: -4}")},
        "site_small.yaml",
        r"mean: -4",
        "demand[1].mean",
        r"greater than or equal to 0 \(got -4\)",
    ),
    Bad(
        "demand-for-unknown-item",
        {"main.yaml": HEAD, "site_small.yaml": _site("{item: saline,", "{item: plaster,")},
        "site_small.yaml",
        r"plaster",
        "demand[1].item",
        r"unknown item 'plaster'",
    ),
    Bad(
        "duration-without-unit",
        {"main.yaml": HEAD.replace("horizon: 20d", "horizon: 20"), "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^horizon",
        "horizon",
        r"duration 20 has no unit",
    ),
    Bad(
        "site-duration-without-unit",
        {"main.yaml": HEAD, "site_small.yaml": _site("shelf_life: 30d", "shelf_life: 30")},
        "site_small.yaml",
        r"shelf_life",
        "items[0].shelf_life",
        r"duration 30 has no unit",
    ),
    Bad(
        "service-level-1.2",
        {
            "main.yaml": HEAD + "policies:\n  inventory:\n    use: s_S\n    params:\n      service_level: 1.2\n",
            "site_small.yaml": SITE_TEXT,
        },
        "main.yaml",
        r"service_level",
        "policies.inventory.params.service_level",
        r"service_level must be between 0 and 1 \(exclusive\), got 1.2",
    ),
    Bad(
        "service-level-1.2-in-overlay",
        {
            "base.yaml": HEAD + "policies:\n  inventory: {use: s_S, params: {s: 5}}\n",
            "site_small.yaml": SITE_TEXT,
            "main.yaml": "extends: base.yaml\npolicies:\n  inventory:\n    params: {service_level: 1.2}\n",
        },
        "main.yaml",
        r"service_level",
        "policies.inventory.params.service_level",
        r"got 1.2",
    ),
    Bad(
        "missing-extends-file",
        {"main.yaml": "extends: nowhere.yaml\n" + HEAD, "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^extends",
        "extends",
        r"file not found: nowhere.yaml",
    ),
    Bad(
        "missing-site-file",
        {"main.yaml": HEAD.replace("site_small.yaml", "sites/nowhere.yaml")},
        "main.yaml",
        r"^site:",
        "site",
        r"file not found: sites/nowhere.yaml",
    ),
    Bad(
        "unknown-key",
        {"main.yaml": HEAD + "replicatons: 3\n", "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"replicatons",
        "replicatons",
        r"unknown key",
    ),
    Bad(
        "unknown-policy",
        {"main.yaml": HEAD + "policies:\n  inventory: {use: ss}\n", "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"use: ss",
        "policies.inventory.use",
        r"unknown policy 'ss'",
    ),
]


@pytest.fixture(params=BAD, ids=[b.id for b in BAD])
def bad(request, tmp_path: Path) -> tuple[Bad, Path, str]:
    """Write a broken scenario; return the case, the file to load, and the 'FILE:LINE: PATH: ' prefix."""
    case: Bad = request.param
    for name, text in case.files.items():
        (tmp_path / name).write_text(text)
    where = tmp_path / case.where
    prefix = f"{where}:{line_of(where, case.line_pattern)}: {case.path}: "
    return case, tmp_path / "main.yaml", prefix


def test_bad_input_load_scenario(bad) -> None:
    case, main, prefix = bad
    with pytest.raises(ScenarioError) as info:
        load_scenario(main)
    assert len(info.value.problems) == 1, str(info.value)
    text = str(info.value)
    assert text.startswith(prefix), text
    assert re.search(case.message, text), text


def test_bad_input_twin_validate(bad, cli) -> None:
    case, main, prefix = bad
    result = cli("validate", main)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # an orderly exit, not a crash
    lines = result.stderr.splitlines()
    assert lines[0].startswith(prefix), result.stderr
    assert lines[1:] == ["1 problem(s) in 1 file(s)"]
    assert "Traceback" not in result.output


def test_bad_input_twin_run_writes_nothing(bad, cli, tmp_path) -> None:
    case, main, prefix = bad
    out = tmp_path / "out"
    result = cli("run", main, "--out", out, "--workers", "1")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]  # one line
    assert result.stderr.startswith(f"error: {prefix}"), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".twin-")]  # no scratch folder left


def test_bad_input_leaves_an_existing_output_folder_empty(write, site_file, cli, tmp_path) -> None:
    main = write("main.yaml", HEAD + "policies:\n  inventory: {use: s_S, params: {service_level: 1.2}}\n")
    out = tmp_path / "out"
    out.mkdir()
    result = cli("run", main, "--out", out)
    assert result.exit_code == 1
    assert list(out.iterdir()) == []


def _twin_command() -> list[str]:
    exe = shutil.which("twin")
    return [exe] if exe else [sys.executable, "-m", "twin.cli"]


def test_bad_input_real_command_has_no_traceback(tmp_path: Path) -> None:
    """The installed `twin` command, not the in-process runner: exit 1, one line, no traceback."""
    runs = []
    for case_id in ("malformed-yaml", "service-level-1.2"):
        case = next(b for b in BAD if b.id == case_id)
        folder = tmp_path / case_id
        folder.mkdir()
        for name, text in case.files.items():
            (folder / name).write_text(text)
        out = folder / "out"
        proc = subprocess.Popen(
            [*_twin_command(), "run", str(folder / "main.yaml"), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200"},
        )
        runs.append((case, folder, out, proc))
    for case, folder, out, proc in runs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1, (case.id, stderr)
        assert "Traceback" not in stdout + stderr
        [line] = stderr.splitlines()
        where = folder / case.where
        assert line.startswith(f"error: {where}:{line_of(where, case.line_pattern)}: {case.path}: "), line
        assert not out.exists()
