"""Policies and the model are pure (DESIGN principle 1, STYLE habit 2): importing any module of
policies/ or twin/model/ must not import simpy, mesa, pygame, fastapi, twin.sim or twin.live.

Each module is imported in a fresh interpreter (all of them at once, to keep this fast), so what
other tests imported earlier cannot hide a leak.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN_TOP = {"simpy", "mesa", "pygame", "fastapi"}
FORBIDDEN_PREFIX = ("twin.sim", "twin.live")


def modules_under(package: str) -> list[str]:
    """Every module of a package, found on disk (importing the package to list it would defeat the test)."""
    folder = ROOT / package.replace(".", "/")
    names = [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]
    return sorted(names)


POLICY_MODULES = modules_under("policies")
MODEL_MODULES = modules_under("twin.model")


def forbidden(modules: list[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in FORBIDDEN_TOP or any(m == p or m.startswith(p + ".") for p in FORBIDDEN_PREFIX)
    )


# In the child: import the modules one after the other and report, for each, the modules its import
# added (or the error it raised). One child per package keeps this fast.
PROBE = """
import importlib, json, sys, types
bypass_twin_init, twin_dir, names = sys.argv[1] == "1", sys.argv[2], sys.argv[3:]
if bypass_twin_init:
    # Load the twin package without running twin/__init__.py, to see what the modules themselves import.
    pkg = types.ModuleType("twin")
    pkg.__path__ = [twin_dir]
    sys.modules["twin"] = pkg
report = {}
for name in names:
    before = set(sys.modules)
    try:
        importlib.import_module(name)
    except Exception as exc:
        report[name] = {"error": f"{type(exc).__name__}: {exc}", "added": sorted(set(sys.modules) - before)}
    else:
        report[name] = {"added": sorted(set(sys.modules) - before)}
print(json.dumps(report))
"""

PACKAGES = {"policies": POLICY_MODULES, "twin.model": MODEL_MODULES}


def _probe(bypass_twin_init: bool) -> dict[str, dict[str, dict]]:
    procs = {
        package: subprocess.Popen(
            [sys.executable, "-c", PROBE, "1" if bypass_twin_init else "0", str(ROOT / "twin"), *names],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for package, names in PACKAGES.items()
    }
    results: dict[str, dict[str, dict]] = {}
    for package, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        results[package] = json.loads(stdout.strip().splitlines()[-1])
    return results


def leaks(report: dict[str, dict]) -> dict[str, list[str] | str]:
    """Per module: the error its import raised, or the forbidden modules its import added."""
    out: dict[str, list[str] | str] = {}
    for name, result in report.items():
        if "error" in result:
            out[name] = result["error"]
        elif forbidden(result["added"]):
            out[name] = forbidden(result["added"])
    return out


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, dict[str, dict]]:
    return _probe(bypass_twin_init=False)


@pytest.fixture(scope="module")
def own_imports() -> dict[str, dict[str, dict]]:
    return _probe(bypass_twin_init=True)


def test_the_module_lists_are_complete() -> None:
    assert {"policies", "policies.base", "policies.inventory"} <= set(POLICY_MODULES)
    assert {"twin.model", "twin.model.state", "twin.model.events", "twin.model.observations"} <= set(MODEL_MODULES)


@pytest.mark.parametrize("package", PACKAGES)
def test_the_modules_own_imports_are_pure(own_imports: dict[str, dict[str, dict]], package: str) -> None:
    """With twin/__init__.py out of the way: what the modules themselves (and what they name) pull in."""
    assert set(own_imports[package]) == set(PACKAGES[package])
    assert leaks(own_imports[package]) == {}




@pytest.mark.parametrize("package", PACKAGES)
def test_importing_every_module_in_a_fresh_interpreter_is_pure(
    fresh_imports: dict[str, dict[str, dict]], package: str
) -> None:
    assert leaks(fresh_imports[package]) == {}


def _imports_in(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", ["policies", "twin/model"])
def test_no_source_file_names_an_engine_or_a_face(package: str) -> None:
    """Static check, function-level imports included (a lazy import would slip past the import test)."""
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = forbidden(sorted(_imports_in(path)))
        assert bad == [], f"{path.relative_to(ROOT)} imports {bad}"


def test_the_checks_fire() -> None:
    """The detector itself: it must flag what it is meant to flag."""
    assert forbidden(["simpy.core", "twin.sim", "twin.sim.engine", "twin.live", "mesa", "fastapi.routing"]) == [
        "fastapi.routing",
        "mesa",
        "simpy.core",
        "twin.live",
        "twin.sim",
        "twin.sim.engine",
    ]
    assert forbidden(["twin.simple", "twin.model", "simpyx", "numpy"]) == []
