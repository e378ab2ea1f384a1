"""pytest plugin: ``pytest --twin-suite regress/suite.yaml`` runs a `twin regress` suite's checks as
test items, one per scenario and guarded KPI, beside a team's own tests.

Registered through the ``pytest11`` entry point of the package. It imports nothing heavy until a
suite is asked for, so it costs nothing in test runs that do not use it. The suite runs once, when
its first item runs; a regressed KPI fails its item, a KPI with no data skips it, and a bad suite
or baseline fails one item with the FILE:LINE message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_collection_modifyitems"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("twin", "LEMS Twin policy regression")
    group.addoption("--twin-suite", action="append", default=[], metavar="SUITE",
                    help="run the checks of this `twin regress` suite file as test items (repeatable)")
    group.addoption("--twin-workers", type=int, default=None, metavar="N",
                    help="local processes for the suite's replications (default: all cores; 1 = in-process)")


class KpiRegression(Exception):
    """A guarded KPI got worse beyond its tolerance."""


class TwinSuite(pytest.File):
    """A suite file: its items are its (scenario, KPI) checks; the suite runs once for all of them."""

    def collect(self) -> Iterator[pytest.Item]:
        from twin.errors import TwinError
        from twin.regress import check_baselines, guarded, load_suite

        try:
            self.loaded = load_suite(self.path)
            check_baselines(self.loaded)
        except TwinError as exc:
            yield SuiteProblem.from_parent(self, name="suite", message=str(exc))
            return
        self._report: Any = None
        self._error: str | None = None
        for entry, kpi in guarded(self.loaded):
            yield KpiItem.from_parent(self, name=f"{entry.name}::{kpi}", entry=entry.name, kpi=kpi)

    def report(self) -> Any:
        from twin.errors import TwinError
        from twin.regress import run_suite

        if self._report is None and self._error is None:
            try:
                self._report = run_suite(self.loaded, workers=self.config.getoption("twin_workers"))
            except TwinError as exc:
                self._error = str(exc)
        if self._error is not None:
            raise KpiRegression(self._error)
        return self._report


class KpiItem(pytest.Item):
    def __init__(self, *, entry: str, kpi: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.kpi = kpi

    def runtest(self) -> None:
        assert isinstance(self.parent, TwinSuite)
        report = self.parent.report()
        check = next(c for c in report.checks if c.entry == self.entry and c.kpi == self.kpi)
        self.user_properties.append(("verdict", check.status))
        if check.status == "no data":
            pytest.skip(f"{self.kpi} has no values in the baseline or now")
        if check.failed:
            raise KpiRegression(f"{self.entry}: {check.explain()}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, KpiRegression):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"twin regress {self.entry}: {self.kpi}"


class SuiteProblem(pytest.Item):
    """Stands for a suite that cannot be used: fails with its FILE:LINE problems."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise KpiRegression(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.message

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "twin regress suite"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    for suite in config.getoption("twin_suite"):
        node = TwinSuite.from_parent(session, path=Path(suite).resolve())
        items.extend(node.collect())
