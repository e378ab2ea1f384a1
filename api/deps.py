"""Shared handles (registry, key store, live twin, jobs) and the role check, all through Depends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import APIKeyHeader

from api.jobs import JobManager
from api.settings import Settings
from twin.event_store import EventStore
from twin.keys import ROLES, ApiKey, KeyStore, role_at_least
from twin.live import LiveConfig, LiveTwin
from twin.store import RunRegistry

__all__ = ["Services", "get_services", "require", "role", "get_twin", "key_of"]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key from `twin keys create`")


@dataclass
class Services:
    settings: Settings
    registry: RunRegistry
    keys: KeyStore
    jobs: JobManager
    _twin: LiveTwin | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    shadow: Any = None  # twin.live_shadow.ShadowRunner while shadow mode runs (`twin serve --shadow`)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        registry = RunRegistry(settings.home)
        return cls(settings, registry, KeyStore(settings.home / "keys.sqlite"), JobManager(registry, settings))

    def twin(self) -> LiveTwin | None:
        """The live twin, opened (and rebuilt from its store) on first use."""
        if self.settings.live_scenario is None:
            return None
        with self._lock:
            if self._twin is None:
                from twin.scenario import load_scenario

                scenario = load_scenario(self.settings.live_scenario)
                store = EventStore(self.settings.events_path)
                config = LiveConfig(window=self.settings.window_hours, max_ahead=self.settings.max_ahead_hours,
                                    alerts=self.settings.alerts)
                self._twin = LiveTwin(scenario, store, config)
            return self._twin

    def close(self) -> None:
        if self.shadow is not None:
            self.shadow.stop()
        self.jobs.shutdown()
        if self._twin is not None:
            self._twin.store.close()


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def key_of(services: Services, key: str | None, minimum: str) -> ApiKey:
    """The caller's key, if it has at least ``minimum``'s role: 401 without a valid key, 403 below it."""
    if not key:
        raise HTTPException(401, "missing API key: send it in the X-API-Key header (see `twin keys create`)",
                            headers={"WWW-Authenticate": "X-API-Key"})
    found = services.keys.check(key)
    if found is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "X-API-Key"})
    if not role_at_least(found.role, minimum):
        raise HTTPException(403, f"this needs the {minimum} role; the key has {found.role}")
    return found


def require(minimum: str) -> Callable[..., Any]:
    if minimum not in ROLES:
        raise ValueError(f"unknown role {minimum!r}")

    # async: a cached key check is a dict look-up, cheaper than a trip to the thread pool.
    async def check(key: str | None = Depends(_api_key), services: Services = Depends(get_services)) -> ApiKey:
        return key_of(services, key, minimum)

    return check


def role(minimum: str) -> dict[str, Any]:
    """Route keywords declaring a route's minimum role (checked, and shown in the OpenAPI spec)."""
    return {"dependencies": [Depends(require(minimum))], "openapi_extra": {"x-min-role": minimum}}


async def get_twin(services: Services = Depends(get_services)) -> LiveTwin:
    twin = services.twin()
    if twin is None:
        raise HTTPException(409, "no live site: start the server with `twin serve --live SCENARIO`")
    return twin


def websocket_services(ws: WebSocket) -> Services:
    services: Services = ws.app.state.services
    return services
