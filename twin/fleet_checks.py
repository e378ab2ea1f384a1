"""Cross-reference checks of a site's transport data (network, vehicles, crews, emergencies) and
road closures, called by the scenario loader so each problem is reported as FILE:LINE: path: message."""

from __future__ import annotations

from collections.abc import Callable

from twin.model.scenario import Scenario

__all__ = ["fleet_problems"]

Add = Callable[[tuple[str | int, ...], str], None]


def fleet_problems(scenario: Scenario, add: Add) -> None:
    """Report every problem through ``add(path, message)``."""
    site = scenario.site
    net = site.network
    warehouses = {w.id for w in site.warehouses}
    items = {it.id: it for it in site.items}
    if net is None:
        if site.vehicles:
            add(("site", "vehicles"), "vehicles need a 'network' of nodes and roads")
        if site.emergencies is not None:
            add(("site", "emergencies"), "emergency orders need a 'network'")
        for n, d in enumerate(scenario.disruptions):
            if d.kind == "road_closure":
                add(("disruptions", n, "road"), "a road_closure needs a site with a 'network'")
        return
    nodes: set[str] = set()
    for n, node in enumerate(net.nodes):
        if node.id in nodes:
            add(("site", "network", "nodes", n, "id"), f"duplicate node id {node.id!r}")
        nodes.add(node.id)
    for n, road in enumerate(net.roads):
        for end in road.between:
            if end not in nodes:
                add(("site", "network", "roads", n, "between"), f"unknown node {end!r}")
        if road.distance is None and net.matrix is None and any(
                nd.position is None for nd in net.nodes if nd.id in road.between):
            add(("site", "network", "roads", n, "distance"), "give a distance (its nodes have no position)")
    if net.matrix is not None:
        for k, ident in enumerate(net.matrix.nodes):
            if ident not in nodes:
                add(("site", "network", "matrix", "nodes", k), f"unknown node {ident!r}")
    seen: set[str] = set()
    crews_quals = {q for c in site.crews if c.role == "driver" for q in c.qualifications}
    escorts = any(c.role == "escort" for c in site.crews)
    for n, v in enumerate(site.vehicles):
        if v.id in seen:
            add(("site", "vehicles", n, "id"), f"duplicate vehicle id {v.id!r}")
        seen.add(v.id)
        if v.depot not in warehouses:
            add(("site", "vehicles", n, "depot"), f"unknown warehouse {v.depot!r}")
        elif v.depot not in nodes:
            add(("site", "vehicles", n, "depot"),
                f"warehouse {v.depot!r} is not a network node; add a node with its id")
        if v.needs_escort and not escorts:
            add(("site", "vehicles", n, "needs_escort"), "no crew has role 'escort': the vehicle would never leave")
        if v.qualification is not None and v.qualification not in crews_quals:
            add(("site", "vehicles", n, "qualification"),
                f"no driver crew has qualification {v.qualification!r}: the vehicle would never leave")
    units = {v.id if v.count == 1 else f"{v.id}-{k + 1}": v for v in site.vehicles for k in range(v.count)}
    for n, s in enumerate(site.sensors):
        unit = units.get(s.attached_to)
        if unit is None:
            continue
        if s.kind == "vibration":
            add(("site", "sensors", n, "kind"), "a sensor on a vehicle measures temperature or humidity (a reefer's), "
                "fuel or weight, not vibration")
        elif s.kind in ("temperature", "humidity") and unit.reefer is None:
            add(("site", "sensors", n, "kind"), f"a {s.kind} sensor on a vehicle watches its reefer body; "
                f"vehicle {s.attached_to!r} has no 'reefer'")
        elif s.kind == "fuel" and unit.range_km is None:
            add(("site", "sensors", n, "attached_to"), f"a fuel sensor needs the vehicle's tank: give vehicle "
                f"{unit.id!r} a range_km")
    em = site.emergencies
    if em is not None:
        for ident in em.nodes:
            if ident not in nodes:
                add(("site", "emergencies", "nodes"), f"unknown node {ident!r}")
        for ident in em.items:
            if ident not in items:
                add(("site", "emergencies", "items", ident), f"unknown item {ident!r}")
        if not site.vehicles:
            add(("site", "emergencies"), "emergency orders need vehicles to deliver them")
    sourced: set[tuple[str, str]] = set()
    for n, src in enumerate(net.sources):
        for field in ("warehouse", "source"):
            ident = getattr(src, field)
            if ident not in warehouses:
                add(("site", "network", "sources", n, field), f"unknown warehouse {ident!r}")
            elif ident not in nodes:
                add(("site", "network", "sources", n, field),
                    f"warehouse {ident!r} is not a network node; add a node with its id")
        if src.source == src.warehouse:
            add(("site", "network", "sources", n, "source"), f"warehouse {src.warehouse!r} cannot be its own source")
        if src.source in warehouses and not any(v.depot == src.source for v in site.vehicles):
            add(("site", "network", "sources", n, "source"),
                f"no vehicle is based at {src.source!r} to carry its transfers; add one with depot: {src.source}")
        for k, item in enumerate(src.items):
            if item not in items:
                add(("site", "network", "sources", n, "items", k), f"unknown item {item!r}")
            elif (item, src.warehouse) in sourced:
                add(("site", "network", "sources", n, "items", k),
                    f"item {item!r} at {src.warehouse!r} already has a source")
            sourced.add((item, src.warehouse))
    for n, d in enumerate(scenario.disruptions):
        if d.kind == "road_closure" and d.road is not None:
            for end in d.road:
                if end not in nodes:
                    add(("disruptions", n, "road"), f"unknown node {end!r}")
            if net.roads and not any(set(r.between) == set(d.road) for r in net.roads):
                add(("disruptions", n, "road"), f"no road links {d.road[0]!r} and {d.road[1]!r}")
