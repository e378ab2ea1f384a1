"""MRP against the published planned-order releases of ../shared/validation/mrp_example.yaml.

The file numbers weeks from 1; the planner numbers buckets from 0 (week w is bucket w - 1). The
inputs are read from the file, not retyped, so the check is against the file as published.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from policies.mrp import BomLine, Demand, LotSizing, MrpItem, MrpPlan, plan_mrp
from tests.validation.conftest import VALIDATION

WEEKS = 8


def _example(ident: str) -> dict[str, Any]:
    path = VALIDATION / "mrp_example.yaml"
    if not path.is_file():
        pytest.skip(f"validation data not found at {path}")
    data = yaml.safe_load(path.read_text())
    return next(e for e in data["examples"] if e["id"] == ident)  # type: ignore[no-any-return]


def _lot(text: str) -> LotSizing:
    if text == "lot-for-lot":
        return LotSizing()
    match = re.match(r"fixed lot (\d+)", text)
    assert match, f"lot-sizing text not understood: {text!r}"
    return LotSizing("fixed", qty=float(match.group(1)))


def _plan(ex: dict[str, Any], lot_sizing: dict[str, str]) -> MrpPlan:
    bom = [BomLine(parent, child, float(q)) for parent, kids in ex["product_structure"]["bom"].items()
           for child, q in kids.items()]
    parents = {b.parent for b in bom}
    items = [
        MrpItem(
            ident,
            "make" if ident in parents else "buy",
            int(spec["lead_time_weeks"]),
            on_hand=float(spec.get("on_hand_start", 0)),
            safety_stock=float(spec.get("safety_stock", 0)),
            scheduled_receipts={int(w) - 1: float(q) for w, q in (spec.get("scheduled_receipts") or {}).items()},
            lot=_lot(lot_sizing[ident]),
        )
        for ident, spec in ex["items"].items()
    ]
    schedule = ex.get("master_schedule") or ex.get("demand_forecast")
    demands = [Demand(item, int(w) - 1, float(q), f"{item}-w{w}") for item, weeks in schedule.items()
               for w, q in weeks.items()]
    return plan_mrp(items, bom, demands, WEEKS)


def _weeks(plan: MrpPlan, item: str, row: str = "planned_releases") -> dict[int, float]:
    return {t + 1: q for t, q in plan.record(item)[row].items()}


@pytest.mark.parametrize("variant", ["a_lot_for_lot", "b_lot_size"])
def test_stevenson_shutters_releases_exactly(variant: str) -> None:
    ex = _example("stevenson_shutters")
    var = ex["variants"][variant]
    plan = _plan(ex, var["lot_sizing"])
    for item, published in var["published_planned_order_releases"].items():
        assert _weeks(plan, item) == {int(w): float(q) for w, q in published.items()}, item
    # The whole recomputed records too: gross, net, planned receipts and projected on hand.
    for item, rec in var["full_records_recomputed"].items():
        for row, key in (("gross", "gross"), ("net", "net"), ("planned_receipts", "planned_receipts"),
                         ("scheduled", "scheduled_receipts")):
            if key in rec:
                assert _weeks(plan, item, row) == {int(w): float(q) for w, q in rec[key].items()}, (item, row)
        if "projected_on_hand_end_of_week" in rec:
            poh = {w: q for w, q in _weeks(plan, item, "projected_on_hand").items()}
            assert poh == {int(w): float(q) for w, q in rec["projected_on_hand_end_of_week"].items()}, item
    assert not [e for e in plan.exceptions if e.kind == "past_due"]


def test_stevenson_pegging_traces_to_the_customer_orders() -> None:
    ex = _example("stevenson_shutters")
    plan = _plan(ex, ex["variants"]["a_lot_for_lot"]["lot_sizing"])
    # The frame order received in week 3 serves the 100 shutters due in week 4, and only those.
    assert plan.trace("frame", 2) == {"shutter-w4"}
    assert plan.trace("wood_section", 6) == {"shutter-w8"}
    pegs = plan.pegging("wood_section")
    assert sum(p.qty for p in pegs if p.supply == "scheduled") == 70.0  # the open receipt covers week 3 first
    assert {p.cause for p in pegs} == {"parent:shutter@2", "parent:shutter@6"}


def test_aldershot_chairs_extra_check() -> None:
    ex = _example("aldershot_chairs")
    plan = _plan(ex, ex["lot_sizing"])
    for item, published in ex["published_planned_order_releases_weeks_1_to_4"].items():
        got = _weeks(plan, item)
        assert {w: got.get(w, 0.0) for w in range(1, 5)} == {int(w): float(q) for w, q in published.items()}, item
    for item, published in ex["published_projected_on_hand_weeks_0_to_4"].items():
        got = _weeks(plan, item, "projected_on_hand")
        assert {w: got[w] for w in range(1, 5)} == {int(w): float(q) for w, q in published.items() if w > 0}
    for item, rel in ex["recomputed_all_weeks"]["planned_order_releases"].items():
        assert _weeks(plan, item) == {int(w): float(q) for w, q in rel.items()}, item
