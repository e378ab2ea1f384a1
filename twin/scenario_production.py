"""Cross-reference checks of a site's production section (called by twin.scenario._cross_reference):
items and machine groups must exist, BOMs must not be cyclic, a made item must have a routing,
and an item cannot be both bought and made."""

from __future__ import annotations

from collections.abc import Callable

from policies.mrp import BomLine, MrpError, low_level_codes
from twin.model.site import Site

__all__ = ["production_problems", "made_items"]

Add = Callable[[tuple[str | int, ...], str], None]


def made_items(site: Site) -> set[str]:
    return {r.item for r in site.production.routings} if site.production is not None else set()


def production_problems(site: Site, add: Add) -> None:
    prod = site.production
    if prod is None:
        return
    items = {it.id for it in site.items}
    base = ("site", "production")
    warehouses = {w.id for w in site.warehouses}
    if prod.warehouse not in warehouses:
        add((*base, "warehouse"), f"unknown warehouse {prod.warehouse!r}")
    if prod.finished_goods is not None and prod.finished_goods not in warehouses:
        add((*base, "finished_goods"), f"unknown warehouse {prod.finished_goods!r}; "
                                       f"warehouses are {', '.join(sorted(warehouses))}")
    groups = {m.group for line in prod.lines for m in line.machines}
    made = made_items(site)
    bought = {i.id for i in site.items if i.supplier} | {i for s in site.suppliers for i in s.items}
    for n, routing in enumerate(prod.routings):
        if routing.item not in items:
            add((*base, "routings", n, "item"), f"unknown item {routing.item!r}")
        if routing.item in bought:
            add((*base, "routings", n, "item"),
                f"item {routing.item!r} is both bought (it has a supplier) and made (it has a routing); "
                "remove one of them")
        for k, op in enumerate(routing.operations):
            if op.machine_group not in groups:
                add((*base, "routings", n, "operations", k, "machine_group"),
                    f"unknown machine group {op.machine_group!r}; groups are {', '.join(sorted(groups))}")
    lines: list[BomLine] = []
    for n, bom in enumerate(prod.boms):
        if bom.item not in items:
            add((*base, "boms", n, "item"), f"unknown item {bom.item!r}")
        elif bom.item not in made:
            add((*base, "boms", n, "item"), f"item {bom.item!r} has a BOM but no routing (how is it made?)")
        for k, comp in enumerate(bom.components):
            for ident in (comp.item, *comp.substitutes):
                if ident not in items:
                    add((*base, "boms", n, "components", k, "item"), f"unknown item {ident!r}")
            lines.append(BomLine(bom.item, comp.item, comp.qty, comp.scrap))
    try:
        low_level_codes(sorted(items), lines)
    except MrpError as exc:
        add((*base, "boms"), str(exc))
    for n, order in enumerate(prod.schedule):
        if order.item not in made:
            add((*base, "schedule", n, "item"), f"item {order.item!r} has no routing; only made items can be scheduled")
