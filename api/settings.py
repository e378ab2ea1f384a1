"""Settings of the HTTP API (``twin serve``): where things live, how the live twin behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from twin.live_alerts import AlertThresholds

__all__ = ["Settings", "get_settings"]


@dataclass(frozen=True)
class Settings:
    """``home``: run registry, uploaded scenarios and API keys. ``events_db``: the live event store
    (default ``home/events.sqlite``). ``live_scenario``: the scenario whose site the live twin mirrors
    (no live twin without one). ``workers``: processes per run (1 runs in the job's thread)."""

    home: Path
    events_db: Path | None = None
    live_scenario: Path | None = None
    workers: int = 1
    window_hours: float = 0.25
    max_ahead_hours: float | None = 1.0
    max_batch: int = 10000
    max_forecast_hours: float = 90 * 24.0
    alerts: AlertThresholds | None = AlertThresholds()  # discrepancy alert thresholds (None: off)

    @property
    def events_path(self) -> Path:
        return self.events_db or self.home / "events.sqlite"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
