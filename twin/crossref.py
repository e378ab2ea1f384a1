"""Helpers shared by the cross-reference checks of scenario files (core and domain checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Add", "duplicate_ids", "opening_problems"]

Add = Callable[[tuple[str | int, ...], str], None]


def duplicate_ids(groups: Iterable[tuple[str, list[str]]], add: Add) -> None:
    """Report every id used twice within a list of the site: ``groups`` pairs a kind ('item') with
    the ids of ``site.<kind>s`` in file order; each repeat is reported at its own entry."""
    for kind, ids in groups:
        seen: set[str] = set()
        for n, ident in enumerate(ids):
            if ident in seen:
                add(("site", f"{kind}s", n, "id"), f"duplicate {kind} id {ident!r}")
            seen.add(ident)


def opening_problems(scenario: Any, add: Add) -> None:
    """``opening:`` (what a run starts with, issue 7) may name only the site's items, warehouses,
    suppliers, assets, network nodes and vehicles: each unknown one is reported at its own entry."""
    opening = scenario.opening
    if opening is None:
        return
    site = scenario.site
    items = {i.id for i in site.items}
    warehouses = {w.id for w in site.warehouses}
    suppliers = {s.id for s in site.suppliers}
    assets = {a.id for a in site.assets}
    for section, entries in (("purchase_orders", opening.purchase_orders), ("backorders", opening.backorders)):
        for n, entry in enumerate(entries):
            if entry.item not in items:
                add(("opening", section, n, "item"), f"unknown item {entry.item!r}")
            if entry.location not in warehouses:
                add(("opening", section, n, "location"), f"unknown warehouse {entry.location!r}")
    for n, po in enumerate(opening.purchase_orders):
        if po.supplier not in suppliers:
            add(("opening", "purchase_orders", n, "supplier"), f"unknown supplier {po.supplier!r}")
    for n, down in enumerate(opening.assets_down):
        if down.asset not in assets:
            add(("opening", "assets_down", n, "asset"), f"unknown asset {down.asset!r}"
                + ("" if assets else " (the site has no assets)"))
    _fleet_opening_problems(scenario, add)


def _fleet_opening_problems(scenario: Any, add: Add) -> None:
    """``opening.consignments`` and ``opening.vehicles`` name the network's nodes and the site's
    vehicles; each consignment is numbered once and is on board one vehicle at most."""
    opening = scenario.opening
    site = scenario.site
    if not opening.consignments and not opening.vehicles:
        return
    nodes = {n.id for n in site.network.nodes} if site.network is not None else set()
    note = "" if nodes else " (the site has no road network)"
    warehouses = {w.id for w in site.warehouses}
    vehicles = {v.id if v.count == 1 else f"{v.id}-{k + 1}" for v in site.vehicles for k in range(v.count)}
    numbers: set[int] = set()
    for n, c in enumerate(opening.consignments):
        if c.consignment in numbers:
            add(("opening", "consignments", n, "consignment"), f"duplicate consignment {c.consignment}")
        numbers.add(c.consignment)
        if c.origin not in warehouses or c.origin not in nodes:
            add(("opening", "consignments", n, "origin"), f"unknown warehouse on the network {c.origin!r}{note}")
        if c.destination not in nodes:
            add(("opening", "consignments", n, "destination"), f"unknown network node {c.destination!r}{note}")
    aboard: dict[int, str] = {}
    seen: set[str] = set()
    for n, u in enumerate(opening.vehicles):
        if u.vehicle not in vehicles:
            add(("opening", "vehicles", n, "vehicle"), f"unknown vehicle {u.vehicle!r}"
                + ("" if vehicles else " (the site has no vehicles)"))
        elif u.vehicle in seen:
            add(("opening", "vehicles", n, "vehicle"), f"vehicle {u.vehicle!r} is under way twice")
        seen.add(u.vehicle)
        for key in ("at", "next"):
            if getattr(u, key) not in nodes:
                add(("opening", "vehicles", n, key), f"unknown network node {getattr(u, key)!r}{note}")
        for k, c in enumerate(u.stops):
            if c not in numbers:
                add(("opening", "vehicles", n, "stops", k), f"consignment {c} is not in opening.consignments")
            elif c in aboard:
                add(("opening", "vehicles", n, "stops", k), f"consignment {c} is already on board {aboard[c]!r}")
            else:
                aboard[c] = u.vehicle
