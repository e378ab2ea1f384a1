"""Durations with units. Files always say the unit; inside the twin every time is in hours."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["HOURS_PER", "parse_duration", "Duration", "format_duration", "HOURS_PER_DAY", "HOURS_PER_YEAR"]

HOURS_PER: dict[str, float] = {
    "s": 1 / 3600,
    "min": 1 / 60,
    "h": 1.0,
    "d": 24.0,
    "w": 168.0,
}
HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8760.0

_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|min|h|d|w)\s*$")


def parse_duration(value: Any) -> float:
    """Parse ``'90s'``, ``'15min'``, ``'8h'``, ``'3d'`` or ``'2w'`` into hours.

    A bare number is refused: a file that says ``lead_time: 3`` could mean days or hours, and
    guessing wrong silently is the worst outcome for a planner.
    """
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise ValueError(
            f"duration {value!r} has no unit; write it with one, e.g. '{value}d', '{value}h' or '{value}min'"
        )
    if not isinstance(value, str):
        raise ValueError(f"duration must be text such as '3d' or '8h', not {value!r}")
    match = _PATTERN.match(value)
    if not match:
        raise ValueError(f"cannot read duration {value!r}; use a number and a unit (s, min, h, d, w), e.g. '36h'")
    return float(match.group(1)) * HOURS_PER[match.group(2)]


def format_duration(hours: float) -> str:
    """The shortest exact spelling of a duration in hours, for reports and round-trips."""
    for unit in ("w", "d", "h", "min", "s"):
        n = hours / HOURS_PER[unit]
        if abs(n - round(n)) < 1e-9 and round(n) != 0:
            return f"{round(n)}{unit}"
    return f"{hours:g}h"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*[0-9]*\.?[0-9]+\s*(s|min|h|d|w)\s*$",
            "description": "a duration with its unit: 90s, 15min, 8h, 3d, 2w",
        }
    ),
]
"""A pydantic field type: accepts '8h'-style text, holds hours."""
