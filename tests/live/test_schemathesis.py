"""(c) schemathesis against the OpenAPI spec (in-process, ASGI): no request it makes gives a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.live.helpers import scenario_file  # noqa: E402
from twin.keys import KeyStore  # noqa: E402

_state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("schemathesis")
    _state["key"] = KeyStore(home / "keys.sqlite").create("admin")[0]
    app = create_app(Settings(home=home, live_scenario=scenario_file(home), max_forecast_hours=24.0))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.services.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call(headers={"X-API-Key": _state["key"]})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
