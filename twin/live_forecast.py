"""Fork a forecast from the live state: "from now, what happens over the next 72 h if ...?".

The forecast is an ordinary scenario run whose time 0 is *now*: each warehouse starts with the
live twin's book stock (on hand plus held, per item), and the overlay (a partial scenario: mappings
merge, lists replace, e.g. ``{"disruptions": [{"at": "0h", "kind": "supplier_outage", ...}]}``)
is laid over the site's scenario. Times in the overlay count from now.

Carried over: stock. Not carried over (yet): open purchase orders and their due dates, open customer
orders and backorders, machine and work-order states; the forecast starts them afresh.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from twin.errors import Problem, ScenarioError
from twin.model.scenario import Scenario
from twin.model.state import State

__all__ = ["forecast_scenario", "merge"]


def merge(base: Any, overlay: Any) -> Any:
    """Mappings merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return overlay


def forecast_scenario(scenario: Scenario, state: State, horizon: float, overlay: dict[str, Any] | None = None,
                      replications: int = 1) -> Scenario:
    """The scenario of a forecast from ``state`` over ``horizon`` hours, with ``overlay`` applied."""
    data = scenario.model_dump(mode="json", by_alias=True)
    stock: dict[str, dict[str, float]] = {}
    for (item, location), sku in state.skus.items():
        qty = max(sku.on_hand + sku.held - sku.reserved, 0.0)
        stock.setdefault(location, {})[item] = round(qty, 6)
    for wh in data["site"]["warehouses"]:
        wh["initial_stock"] = stock.get(wh["id"], {})
    data.update(name=f"{scenario.name}-forecast", horizon=f"{horizon}h", warmup="0h", replications=replications)
    data = merge(data, overlay or {})
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([Problem("overlay", None, ".".join(str(p) for p in e["loc"]), e["msg"])
                             for e in exc.errors()]) from None
