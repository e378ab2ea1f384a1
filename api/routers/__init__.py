"""One router per resource: scenarios, runs (and comparisons), the live twin."""

from api.routers import runs, scenarios, twin

__all__ = ["runs", "scenarios", "twin"]
