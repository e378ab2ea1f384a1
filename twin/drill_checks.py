"""Cross-reference checks of a drill (issue 8, training mode), called by the scenario loader so each
problem is reported as FILE:LINE: path: message: incidents must name the site's assets, the role the
operator takes over must exist on the site, the scored KPIs must be KPIs the twin computes."""

from __future__ import annotations

from collections.abc import Callable

from twin.model.assets import MAINTENANCE_KPI_NAMES
from twin.model.floor import FLOOR_KPI_NAMES
from twin.model.forecast import FORECAST_KPI_NAMES
from twin.model.network import FLEET_KPI_NAMES
from twin.model.production import PRODUCTION_KPI_NAMES
from twin.model.scenario import KPI_NAMES, Scenario

__all__ = ["drill_problems", "SCORABLE_KPIS"]

Add = Callable[[tuple[str | int, ...], str], None]

SCORABLE_KPIS: tuple[str, ...] = (*KPI_NAMES, *MAINTENANCE_KPI_NAMES, *PRODUCTION_KPI_NAMES, *FLEET_KPI_NAMES,
                                  *FLOOR_KPI_NAMES, *FORECAST_KPI_NAMES)


def drill_problems(scenario: Scenario, add: Add) -> None:
    """Report every problem of the scenario's ``drill:`` block (if any) through ``add(path, message)``."""
    drill = scenario.drill
    if drill is None:
        return
    site = scenario.site
    assets = {a.id for a in site.assets}
    for n, inc in enumerate(drill.incidents):
        if inc.asset not in assets:
            known = ", ".join(sorted(assets)) or "none on this site"
            add(("drill", "incidents", n, "asset"), f"unknown asset {inc.asset!r} (assets: {known})")
        if inc.at >= scenario.horizon:
            add(("drill", "incidents", n, "at"), "comes after the horizon ends")
    if drill.operator == "maintenance_dispatch" and not site.technicians:
        add(("drill", "operator"), "maintenance_dispatch needs a site with technicians")
    if drill.operator == "fleet_dispatch" and (site.network is None or not site.vehicles):
        add(("drill", "operator"), "fleet_dispatch needs a site with a network and vehicles")
    if drill.operator == "purchasing":
        items = {it.id for it in site.items}
        sel = drill.items.strip()
        if sel != "*" and ":" not in sel:
            for ident in (s.strip() for s in sel.split(",")):
                if ident not in items:
                    add(("drill", "items"), f"unknown item {ident!r}")
        elif ":" in sel and sel.split(":", 1)[0] not in ("class", "storage", "category"):
            add(("drill", "items"), f"unknown selector {sel!r}; use class:, storage: or category:")
    for kpi in drill.score:
        if kpi not in SCORABLE_KPIS:
            add(("drill", "score", kpi), f"unknown KPI {kpi!r}; use one of {', '.join(SCORABLE_KPIS)}")
