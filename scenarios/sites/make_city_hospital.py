"""Generate ``city-hospital.yaml``: the consumables and surgical-kit stores of a ~600-bed city hospital.

What it makes
-------------
A LEMS Twin site file with

- ~250 items (issue units, EUR unit costs, shelf lives, storage classes, categories): PPE, wound
  care, trauma, IV therapy, general clinical, respiratory, urology, linen, nutrition, maternity,
  pharmacy (ambient, controlled and cold-chain drugs), laboratory (tubes and cold reagents) and
  theatre consumables, sterile procedure packs and orthopaedic implants;
- five suppliers: the main medical distributor (``medsupply``, ~2d gamma lead time), a pharma
  wholesaler, a specialist sterile-kit supplier (7d, less reliable, partial deliveries), an implant
  supplier and a cold-chain lab-reagent supplier;
- two warehouses: the central store (serves wards by requisition) and the theatre store (serves
  the surgery schedule's kits and theatre top-ups);
- customers (wards) with ``order_every``: their usage is gathered into daily or twice-daily
  requisitions;
- demand streams per item and ward (poisson for steady movers, negbin for erratic ones; weekly
  factors with lower weekend demand, weekday-only outpatients);
- procedures (surgery types) with per-day rates, weekday-only elective lists, and a kit (bill of
  consumables) drawn from the theatre store.

Everything is fixed data and integer arithmetic on it: the output is the same on every run.

How to re-run
-------------
From the repository root::

    python scenarios/sites/make_city_hospital.py          # writes scenarios/sites/city-hospital.yaml
    python scenarios/sites/make_city_hospital.py --check  # also prints the expected load per day

Edit the tables in ``city_hospital_data.py`` (not the YAML) and re-run; then
``twin validate scenarios/hospital/*.yaml``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import yaml
from city_hospital_data import CUSTOMERS, SHARES, SUPPLIERS, WAREHOUSES, item_rows, procedure_kits

OUT = Path(__file__).with_name("city-hospital.yaml")


# -- assembly ----------------------------------------------------------------------------------------
def _num(x: float) -> float | int:
    """Round for the file: whole numbers as int, else 2 decimals (or 3 for small rates)."""
    r = round(x, 2) if x >= 1 else round(x, 3)
    return int(r) if r == int(r) else r


def _split(total: float, shares: dict[str, float]) -> list[tuple[str, float]]:
    """Split a daily mean over wards; slow movers go to fewer wards (a real store's pattern)."""
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    keep = 6 if total >= 40 else 4 if total >= 10 else 2 if total >= 2 else 1
    ranked = ranked[:keep]
    norm = sum(s for _, s in ranked)
    return [(w, total * s / norm) for w, s in ranked]


def _stream(item: str, ward: str, mean: float, kind: str) -> dict:
    name, _every, weekly, location = CUSTOMERS[ward]
    s: dict = {"item": item, "location": location, "customer": ward}
    m = _num(mean)
    if kind == "n":
        # Over-dispersed: variance = mean + mean^2 / 2 (a negative binomial with size 2).
        sd = math.sqrt(m + m * m / 2)
        sd = round(sd + 0.005, 2)
        while sd * sd <= m:
            sd = round(sd + 0.01, 2)
        s |= {"dist": "negbin", "mean": m, "sd": sd}
    else:
        s |= {"dist": "poisson", "mean": m}
    if weekly is not None:
        s["weekly"] = weekly
    return s


def build() -> tuple[dict, dict]:
    rows = item_rows()
    # A kit holds whole units; an item used in only some operations (a fractional quantity) is
    # drawn by the theatre as a top-up instead, at the same mean rate.
    kits: dict[str, tuple[str, float, list[float] | None, dict[str, float]]] = {}
    extra_topup: dict[str, float] = {}
    for pid, (name, per_day, weekly, kit) in procedure_kits().items():
        whole = {}
        for k, v in kit.items():
            n = math.floor(v + 1e-9)
            if n >= 1:
                whole[k] = float(n)
            if v - n > 1e-9:
                extra_topup[k] = extra_topup.get(k, 0.0) + (v - n) * per_day
        kits[pid] = (name, per_day, weekly, whole)
    items, demand = [], []
    stats = {"ward_lines": 0.0, "topup_lines": 0.0, "kit_lines": 0.0, "units": 0.0}
    for (ident, name, cat, cost, shelf, storage, supplier, ward_d, kind, theatre_d, extra) in rows:
        item: dict = {"id": ident, "name": name, "category": cat, "unit_cost": cost}
        if shelf:
            item["shelf_life"] = shelf
        if storage != "ambient":
            item["storage"] = storage
        item["supplier"] = supplier
        extra = dict(extra)
        if extra.pop("backorder_cost_factor", None):
            item["backorder_cost"] = _num(max(cost, 5.0))
        wards = extra.pop("wards", None)
        item |= extra
        items.append(item)
        if ward_d > 0:
            for ward, m in _split(ward_d, wards or SHARES[cat]):
                demand.append(_stream(ident, ward, m, kind))
                every = CUSTOMERS[ward][1]
                per = {"8h": 3, "12h": 2, "1d": 1}[every or "1d"]
                stats["ward_lines"] += per * (1 - math.exp(-m / per))
                stats["units"] += m
        theatre_d += extra_topup.pop(ident, 0.0)
        if theatre_d > 0:
            demand.append(_stream(ident, "theatre-topup", theatre_d, kind))
            stats["topup_lines"] += 2 * (1 - math.exp(-theatre_d / 2))
            stats["units"] += theatre_d
    procedures = []
    assert not extra_topup, f"kit items missing from the item table: {sorted(extra_topup)}"
    known = {r[0] for r in rows}
    used = {d["item"] for d in demand} | {k for _, _, _, kit in kits.values() for k in kit}
    assert used <= known, f"unknown items: {sorted(used - known)}"
    assert known <= used, f"items nobody uses: {sorted(known - used)}"
    for pid, (name, per_day, weekly, kit) in kits.items():
        proc: dict = {"id": pid, "location": "theatre", "customer": "theatres", "per_day": per_day}
        if weekly is not None:
            proc["weekly"] = weekly
        proc["kit"] = {k: _num(v) for k, v in kit.items()}
        procedures.append((name, proc))
        stats["kit_lines"] += per_day * len(kit)
        stats["units"] += per_day * sum(kit.values())
    customers = [{"id": c, "order_every": v[1], "#": v[0]} for c, v in CUSTOMERS.items()]
    site = {"items": items, "suppliers": SUPPLIERS, "warehouses": WAREHOUSES, "customers": customers,
            "demand": demand, "procedures": procedures}
    return site, stats


def _flow(d: dict) -> str:
    return yaml.safe_dump(d, default_flow_style=True, sort_keys=False, width=10_000, allow_unicode=True).strip()


def _wrapped(d: dict, indent: int, width: int = 110) -> str:
    """A flow mapping as a list entry, wrapped at ``width`` (continuation lines indented past the dash)."""
    parts = [_flow({k: v})[1:-1] for k, v in d.items()]
    lines, line = [], " " * indent + "- {"
    for n, part in enumerate(parts):
        piece = part + ("}" if n == len(parts) - 1 else ",")
        if len(line) + len(piece) + 1 > width and not line.endswith("{"):
            lines.append(line)
            line = " " * (indent + 3) + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    lines.append(line)
    return "\n".join(lines)


def render(site: dict) -> str:
    out = [
        "# City hospital: consumables and surgical-kit stores (~600 beds, 10 theatres).",
        "# GENERATED by make_city_hospital.py in this folder; edit the script, not this file, and re-run:",
        "#   python scenarios/sites/make_city_hospital.py",
        "# Units are issue units (each, pack or box as named). Costs in EUR. Demand is per day.",
        "name: city-hospital",
        "description: >-",
        "  Central store serving wards by daily or twice-daily requisition, and a theatre store serving",
        "  the surgery schedule (one order per operation's kit) and theatre top-ups. Five suppliers:",
        "  the main medical distributor, a pharma wholesaler, a specialist sterile-kit supplier, an",
        "  implant supplier and a cold-chain lab-reagent supplier.",
        "",
        "suppliers:",
    ]
    for s in site["suppliers"]:
        out.append(_wrapped(s, 2))
    out += ["", "warehouses:"]
    for w in site["warehouses"]:
        out.append(_wrapped(w, 2))
    out += ["", "# Wards and other requisitioners: order_every gathers a ward's usage into one requisition.",
            "customers:"]
    for c in site["customers"]:
        entry = _flow({k: v for k, v in c.items() if v is not None and k != "#"})
        out.append(f"  - {entry:<40} # {c['#']}")
    out += ["", f"# {len(site['items'])} items.", "items:"]
    last = None
    for it in site["items"]:
        if it["category"] != last:
            out.append(f"  # {it['category']}")
            last = it["category"]
        out.append(f"  - {_flow(it)}")
    out += ["", "# Ward and theatre top-up usage: poisson for steady movers, negbin (sd^2 > mean) for erratic",
            "# ones; weekly factors (Monday first) average 1, lower at weekends.", "demand:"]
    last = None
    for d in site["demand"]:
        if d["item"] != last:
            last = d["item"]
        out.append(f"  - {_flow(d)}")
    out += ["", "# The surgery schedule: Poisson operations per day (elective lists Monday to Friday only);",
            "# each operation orders its kit from the theatre store as one order.", "procedures:"]
    for name, p in site["procedures"]:
        out.append(f"  # {name}")
        head = {k: v for k, v in p.items() if k != "kit"}
        out.append(_wrapped(head, 2)[:-1] + ",")
        # The kit, wrapped: a bill of consumables, item -> units per operation.
        kit = _wrapped(p["kit"], 5 - 2, width=108).replace("   - {", "     kit: {", 1)
        out.append(kit.replace("\n      ", "\n           ") + "}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="print the expected daily load")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    site, stats = build()
    text = render(site)
    # The written file must read back to the same data.
    back = yaml.safe_load(text)
    assert len(back["items"]) == len(site["items"]) and len(back["procedures"]) == len(site["procedures"])
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(site['items'])} items, {len(site['demand'])} demand streams, "
          f"{len(site['procedures'])} procedures, {len(site['suppliers'])} suppliers")
    if args.check:
        total = stats["ward_lines"] + stats["topup_lines"] + stats["kit_lines"]
        print(f"expected order lines/day: wards {stats['ward_lines']:.0f}, theatre top-ups "
              f"{stats['topup_lines']:.0f}, kits {stats['kit_lines']:.0f}, total {total:.0f}; "
              f"units/day {stats['units']:.0f}")


if __name__ == "__main__":
    main()
