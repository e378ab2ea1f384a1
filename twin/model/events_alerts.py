"""Discrepancy alerts (issue 7, point 4): what the site reports is too far from what the twin expects.

The live twin raises them itself (twin.live_alerts) and records each as an event through the one
reducer, so alerts are in the event store, replay with it and count in the state. The simulation
never emits them, so a simulated event log is unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["DiscrepancyRaised", "ALERT_EVENTS", "ALERT_KINDS", "alert_row", "HANDLERS"]

ALERT_KINDS = ("stock_count", "temperature", "arrival", "overdue_po")


class DiscrepancyRaised(NamedTuple):
    """``reported`` (a count, a reading, an arrival time) differs from ``expected`` (the twin's book
    stock, the sensor's set point, the purchase order's due time) by more than ``threshold``.
    ``subject`` names what it is about (``gauze@main``, a sensor id, ``po 7``); ``cause`` is the id of
    the site event that showed it (empty for an overdue purchase order: no event came)."""

    t: float
    kind: str  # one of ALERT_KINDS
    subject: str
    expected: float
    reported: float
    threshold: float
    cause: str


ALERT_EVENTS: tuple[type, ...] = (DiscrepancyRaised,)


def alert_row(seq: int, ev: Any) -> tuple[Any, ...]:
    """The flat row: no stock moves; ``qty`` is the reported value, ``info`` the rest."""
    item, _, location = ev.subject.partition("@") if ev.kind == "stock_count" else ("", "", "")
    info = f"{ev.kind}:{ev.subject} expected={ev.expected!r} threshold={ev.threshold!r} cause={ev.cause}"
    return (seq, ev.t, "DiscrepancyRaised", -1, item, location, -1, ev.reported, 0.0, 0.0, 0.0, 0.0, info)


def _raised(state: Any, e: DiscrepancyRaised) -> None:
    state.alerts.append(e)


HANDLERS: dict[type, Any] = {DiscrepancyRaised: _raised}
