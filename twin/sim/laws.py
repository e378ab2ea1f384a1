"""Draws from the failure and duration laws of twin.model.assets, and technician shift calendars."""

from __future__ import annotations

import math

import numpy as np

from twin.model.assets import DurationLaw, FailureLaw, Shift

__all__ = ["draw_life", "draw_duration", "shift_windows", "WEEK"]

WEEK = 168.0


def draw_life(law: FailureLaw, age: float, gen: np.random.Generator) -> float:
    """The (virtual) age at which an asset of virtual age ``age`` will fail: a draw of the time to
    failure conditional on having survived to ``age`` (so a partly reset asset keeps its wear)."""
    if law.dist == "exponential":
        return age + float(gen.exponential(float(law.mean or 0.0)))
    if law.dist == "weibull":
        k, scale = float(law.shape), float(law.scale)  # type: ignore[arg-type]
        # S(t) = exp(-(t/scale)^k); conditional on T > age, (T/scale)^k - (age/scale)^k ~ Exp(1).
        return scale * ((age / scale) ** k + float(gen.exponential(1.0))) ** (1.0 / k)
    samples = np.asarray(law.samples, dtype=float)
    longer = samples[samples > age]
    if len(longer):
        return float(gen.choice(longer))
    # Older than anything observed: the asset is living on borrowed time; a short residual life.
    return age + float(gen.choice(samples)) * 0.1


def draw_duration(law: DurationLaw, gen: np.random.Generator) -> float:
    """One duration in hours."""
    mean = float(law.mean or 0.0)
    if law.dist == "fixed":
        return mean
    if law.dist == "exponential":
        return float(gen.exponential(mean))
    if law.dist == "gamma":
        shape = 1.0 / law.cv**2
        return float(gen.gamma(shape, mean / shape))
    if law.dist == "lognormal":
        sigma2 = math.log1p(law.cv**2)
        return float(gen.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2)))
    return float(gen.choice(np.asarray(law.samples, dtype=float)))


def shift_windows(shifts: list[Shift]) -> list[tuple[float, float]] | None:
    """The working windows of a week (hours from Monday 00:00, merged, sorted), or None when the
    shifts cover the whole week (always on duty)."""
    raw: list[tuple[float, float]] = []
    for s in shifts:
        for d in s.days:
            start = d * 24.0 + s.start
            end = start + s.length
            if end <= WEEK:
                raw.append((start, end))
            else:  # a Sunday night shift runs into Monday
                raw.append((start, WEEK))
                raw.append((0.0, end - WEEK))
    raw.sort()
    merged: list[list[float]] = []
    for start, end in raw:
        if merged and start <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if len(merged) == 1 and merged[0][0] <= 1e-9 and merged[0][1] >= WEEK - 1e-9:
        return None
    return [(a, b) for a, b in merged]
