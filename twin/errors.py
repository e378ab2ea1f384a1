"""The product's exceptions: one base class, user errors that name file, line, field and fix."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TwinError", "Problem", "ScenarioError"]


class TwinError(Exception):
    """Base class of every error LEMS Twin raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario or site file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(TwinError):
    """A scenario or site file that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
