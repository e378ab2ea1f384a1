"""Cross-reference checks of a site's maintenance data (assets, technicians, sensors, requests),
called by the scenario loader so each problem is reported as FILE:LINE: path: message."""

from __future__ import annotations

from collections.abc import Callable

from twin.crossref import duplicate_ids
from twin.errors import Problem
from twin.model.site import Site

__all__ = ["maintenance_problems", "maintenance_warnings"]

Add = Callable[[tuple[str | int, ...], str], None]


def maintenance_problems(site: Site, add: Add) -> list[Problem]:
    """Report every problem through ``add(path, message)``; returns [] (the problems go to ``add``)."""
    items = {it.id for it in site.items}
    warehouses = {w.id for w in site.warehouses}
    assets = {a.id for a in site.assets}
    duplicate_ids((("asset", [a.id for a in site.assets]), ("technician", [t.id for t in site.technicians]),
                   ("sensor", [s.id for s in site.sensors])), add)
    for n, a in enumerate(site.assets):
        for ident in a.repair_parts:
            if ident not in items:
                add(("site", "assets", n, "repair_parts", ident), f"unknown item {ident!r}")
        if a.parts_store is not None and a.parts_store not in warehouses:
            add(("site", "assets", n, "parts_store"), f"unknown warehouse {a.parts_store!r}")
        if a.service is not None:
            for ident in a.service.parts:
                if ident not in items:
                    add(("site", "assets", n, "service", "parts", ident), f"unknown item {ident!r}")
    vehicles = {v.id if v.count == 1 else f"{v.id}-{k + 1}" for v in site.vehicles for k in range(v.count)}
    for n, s in enumerate(site.sensors):
        if s.attached_to in vehicles:
            pass  # sensors on vehicles: twin/fleet_checks.py
        elif s.attached_to not in assets and s.attached_to not in warehouses:
            add(("site", "sensors", n, "attached_to"), f"unknown asset or warehouse {s.attached_to!r}")
        if s.cooled_by is not None and s.cooled_by not in assets:
            add(("site", "sensors", n, "cooled_by"), f"unknown asset {s.cooled_by!r}")
        if s.excursion is not None and s.kind != "temperature":
            add(("site", "sensors", n, "excursion"), "only a temperature sensor can have an excursion rule")
    req = site.repair_requests
    if req is not None:
        for k, ident in enumerate(req.assets):
            if ident not in assets:
                add(("site", "repair_requests", "assets", k), f"unknown asset {ident!r}")
    return []


def maintenance_warnings(site: Site, warn: Add) -> None:
    """Things that run but deserve a look, through ``warn(path, message)``: a work order needing a skill
    nobody has (the run goes on; those work orders wait in the backlog, which the KPIs count)."""
    skills = {s for t in site.technicians for s in t.skills}
    unserved = "no technician has skill {!r}: its work orders will wait in the backlog (counted in the " \
        "backlog KPI); add the skill to a technician's skills"
    for n, a in enumerate(site.assets):
        if a.skill not in skills:
            warn(("site", "assets", n, "skill"), unserved.format(a.skill))
        if a.service is not None and a.service.skill is not None and a.service.skill not in skills:
            warn(("site", "assets", n, "service", "skill"), unserved.format(a.service.skill))
    req = site.repair_requests
    if req is not None and req.skill not in skills:
        warn(("site", "repair_requests", "skill"), unserved.format(req.skill))
