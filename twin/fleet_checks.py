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
    for n, d in enumerate(scenario.disruptions):
        if d.kind == "road_closure" and d.road is not None:
            for end in d.road:
                if end not in nodes:
                    add(("disruptions", n, "road"), f"unknown node {end!r}")
            if net.roads and not any(set(r.between) == set(d.road) for r in net.roads):
                add(("disruptions", n, "road"), f"no road links {d.road[0]!r} and {d.road[1]!r}")
