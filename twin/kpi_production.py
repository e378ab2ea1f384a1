"""Production KPIs from the event log alone (issue 3): oee, throughput, wip, work_order_lead_time,
on_time_completion, schedule_adherence, material_shortage_hours, mrp_exceptions, mrp_expedites.
Only work orders completed in [warmup, horizon) count.

mrp_exceptions counts the production planner's exception messages (``MrpException``: expedite,
de-expedite, cancel, past due) raised in [warmup, horizon), every planning run's own; mrp_expedites
counts the expedite messages among them (open orders that arrive later than the plan needs them).

schedule_adherence is the share of completed work orders that finished within ``tolerance`` hours
(default 24 h, either side) of their planned completion, the ``due`` the order was released with
(an MPS line is released its routing time plus the allowance before it, so ``due`` is when the plan
expects it done). Unlike on_time_completion it also counts finishing early as a miss: it measures
how well the floor follows the plan, not only lateness.

OEE = availability x performance x quality over the machines' loaded time: availability is run time
over run + set-up/changeover time + breakdown time (set-ups and machine hours down after a failure,
``MachineDown`` with reason 'failed' until ``MachineUp``, are the availability losses; planned
stops are not planned production time), performance is 1 (the model runs at the ideal rate),
quality is first-pass good units over units made (scrap and reworked units are the loss; see
``ProductionReworked``). The run time of an operation stopped by a failure counts up to the stop.
Material shortage hours run from an order's first 'held' or 'transfer:' shortage to its reservation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.model import events as E

__all__ = ["production_kpis"]


def production_kpis(events: Sequence[Any], warmup: float, horizon: float,
                    tolerance: float = 24.0) -> dict[str, float]:
    span = max(horizon - warmup, 1e-9)
    run = setup = good = scrap = 0.0
    released: dict[int, tuple[float, float]] = {}  # wo -> (released at, due)
    lead: list[float] = []
    on_time = 0
    adherent = 0
    reworked = 0.0
    held_since: dict[int, float] = {}
    broken_since: dict[str, float] = {}  # machine -> when it failed
    down = 0.0
    shortage_h = 0.0
    messages = expedites = 0
    wip_area = 0.0
    open_units = 0.0
    last_t = warmup
    for ev in events:
        t = ev.t
        if t >= horizon:
            break
        if t > warmup:
            wip_area += open_units * (t - max(last_t, warmup))
            last_t = t
        kind = type(ev)
        if kind is E.ProductionOrderReleased:
            released[ev.wo] = (t, ev.due)
            open_units += ev.qty
        elif kind is E.MaterialShortage and (ev.action == "held" or ev.action.startswith("transfer:")):
            held_since.setdefault(ev.wo, t)
        elif kind is E.MaterialReserved and ev.wo in held_since:
            start = held_since.pop(ev.wo)
            shortage_h += max(0.0, t - max(start, warmup))
        elif kind is E.OperationStarted and t >= warmup:
            setup += ev.setup
        elif (kind is E.OperationCompleted or kind is E.OperationInterrupted) and t >= warmup:
            run += ev.run
        elif kind is E.MachineDown and ev.reason == "failed":
            broken_since.setdefault(ev.machine, t)
        elif kind is E.MachineUp and ev.machine in broken_since:
            down += max(0.0, t - max(broken_since.pop(ev.machine), warmup))
        elif kind is E.ProductionScrapped:
            open_units -= ev.qty
            if t >= warmup:
                scrap += ev.qty
        elif kind is E.ProductionReceived:
            open_units -= ev.qty
            if t >= warmup:
                good += ev.qty
                at, due = released.get(ev.wo, (t, t))
                lead.append(t - at)
                on_time += t <= due + 1e-9
                adherent += abs(t - due) <= tolerance + 1e-9
        elif kind is E.ProductionReworked and t >= warmup:
            reworked += ev.qty
        elif kind is E.MrpException and t >= warmup:
            messages += 1
            expedites += ev.kind == "expedite"
    wip_area += open_units * max(0.0, horizon - max(last_t, warmup))
    shortage_h += sum(horizon - max(s, warmup) for s in held_since.values())
    down += sum(horizon - max(s, warmup) for s in broken_since.values())
    availability = run / (run + setup + down) if run + setup + down > 0 else float("nan")
    quality = max(good - reworked, 0.0) / (good + scrap) if good + scrap > 0 else float("nan")
    return {
        "oee": availability * 1.0 * quality,
        "throughput": good * 24.0 / span,  # good units per day
        "wip": wip_area / span,  # units in open work orders, time average
        "work_order_lead_time": sum(lead) / len(lead) if lead else float("nan"),
        "on_time_completion": on_time / len(lead) if lead else float("nan"),
        "schedule_adherence": adherent / len(lead) if lead else float("nan"),
        "material_shortage_hours": shortage_h,
        "mrp_exceptions": float(messages),
        "mrp_expedites": float(expedites),
    }
