"""The FastAPI app: wires the routers and the shared services; no logic lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.deps import Services
from api.routers import runs, scenarios, twin
from api.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.services.close()

    app = FastAPI(title="LEMS Twin", version="0.1.0", lifespan=lifespan,
                  description="Scenarios, runs and comparisons, and the live twin. Every route needs an API key "
                              "(X-API-Key) of at least the role in its x-min-role.")
    app.state.settings = settings
    app.state.services = Services.open(settings)
    app.include_router(scenarios.router)
    app.include_router(runs.router)
    app.include_router(twin.router)
    return app
