"""The HTTP API: a thin FastAPI face over load_scenario, simulate, compare and LiveTwin."""

from api.main import create_app

__all__ = ["create_app"]
