"""A forecast forked from the live twin starts at the live site's time of week (issue 7, point 5):
the run's clock starts at the site clock (``opening.at``, hours since the site's Monday 00:00
epoch), so delivery windows, weekly demand and the KPI window read the real time, not a Monday
00:00; a run without a start is the run it always was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import small_scenario, small_scenario_data
from tests.live.helpers import EPOCH
from tests.live.test_fork_fleet import FIELD, leg_hours, ready, stock
from tests.live.test_fork_fleet import env as tms
from twin.event_store import EventStore
from twin.experiment import run_kpis, simulate
from twin.kpi import KpiWindow, compute_kpis, daily_levels, events_frame, level_series
from twin.live import LiveConfig, LiveTwin
from twin.live_forecast import forecast_scenario, opening_of
from twin.model import events as E
from twin.model.scenario import Scenario
from twin.scenario import load_scenario
from twin.sim.engine import Engine, run_replication
from twin.sim.layout import compile_layout
from twin.sim.opening import CARRIED

WEDNESDAY_14 = 2 * 24.0 + 14.0  # 62 h after the Monday 00:00 epoch


def live(tmp_path: Path, scenario: Scenario, events: list[dict[str, Any]]) -> LiveTwin:
    twin = LiveTwin(scenario, EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))
    result = twin.ingest(events)
    assert not result.rejected, result.rejected
    return twin


def erp(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "erp", "type": type_, "payload": payload}


def test_a_wednesday_afternoon_fork_delivers_inside_the_open_window_at_once(tmp_path: Path) -> None:
    # Truck n-truck-1 left fwd-north at 13:30 on Wednesday with consignment 11 for op-n1 (window
    # 06:00-20:00) on board; the site clock is Wednesday 14:00.
    now = WEDNESDAY_14
    events = [*stock(1.0, "fwd-north", fuel=5000.0, rations=1200.0, medkit=50.0, ammo=150.0),
              *stock(1.0, "fwd-east", fuel=5000.0, rations=1200.0, medkit=50.0, ammo=150.0),
              {**ready(11, 901, "fwd-north", "op-n1", 850.0, now + 10.0), "t": now - 1.0},
              tms("d7", now - 0.5, "VehicleDispatched", trip=7, vehicle="n-truck-1", origin="fwd-north",
                  consignments=[11], km=60.0),
              tms("tick", now, "StockCounted", item="fuel", location="fwd-north", book=5000.0, counted=5000.0,
                  duration=0.1)]
    twin = live(tmp_path, load_scenario(FIELD), events)
    assert twin.state.clock == now
    [truck] = opening_of(twin.scenario, twin.state)["vehicles"]
    fork = forecast_scenario(twin.scenario, twin.state, 24.0)
    assert fork.opening is not None and fork.opening.at == now
    out = run_replication(fork, seed=5, replication=0, horizon=24.0)
    assert (out.start, out.horizon) == (now, now + 24.0)
    first = next(e for e in out.log if isinstance(e, E.Delivered))
    # Inside the window: delivered on arrival (its eta), plus 10 min to unload, within the first hours.
    assert first.node == "op-n1" and first.t == pytest.approx(now + truck["eta"] + 10 / 60, abs=1e-6)
    assert first.t < now + 4.0
    # The same fork read as starting on Monday 00:00 (the old behaviour) waits for 06:00.
    monday = fork.model_copy(update={"opening": fork.opening.model_copy(update={"at": 0.0})})
    old = next(e for e in run_replication(monday, seed=5, replication=0, horizon=24.0).log
               if isinstance(e, E.Delivered))
    assert old.t == pytest.approx(6.0 + 10 / 60, abs=1e-6)
    assert leg_hours((10, 60), (0, 85), 40.0) < 6.0  # it would be there long before 06:00


def _weekday_only() -> Scenario:
    data = small_scenario_data()
    for stream in data["site"]["demand"]:
        stream["weekly"] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]  # no orders on Saturday and Sunday
    return Scenario.model_validate(data)


@pytest.mark.parametrize(("at", "weekend"), [(5 * 24.0, True), (4 * 24.0, False), (12 * 24.0 + 6.0, True)])
def test_a_fork_on_a_weekend_draws_weekend_demand(tmp_path: Path, at: float, weekend: bool) -> None:
    scenario = _weekday_only()
    twin = live(tmp_path, scenario, [erp("c", at, "StockCounted", item="saline", location="main", book=0.0,
                                          counted=0.0, duration=0.1)])
    fork = forecast_scenario(scenario, twin.state, 24.0 if not weekend else 18.0)
    out = run_replication(fork, seed=3, replication=0, horizon=fork.horizon)
    placed = [e.t for e in out.log if isinstance(e, E.OrderPlaced) and e.customer != CARRIED]
    assert all(at <= t < at + fork.horizon for t in placed)
    if weekend:  # Saturday 00:00 - 24:00, and Sunday 06:00 - 24:00 of the second week
        assert placed == []
    else:  # Friday: the weekday rate (8 + 4 + 20/5 lines a day at the small site)
        assert len(placed) > 5
    # Read as a Monday (the old behaviour) the same fork draws the weekday rate.
    monday = fork.model_copy(update={"opening": fork.opening.model_copy(update={"at": 0.0})})  # type: ignore[union-attr]
    assert len([e for e in run_replication(monday, seed=3, replication=0, horizon=fork.horizon).log
                if isinstance(e, E.OrderPlaced)]) > 0


def test_the_forecast_kpi_window_is_now_to_now_plus_the_horizon(tmp_path: Path) -> None:
    now, horizon = 100.0, 72.0
    # Gauze is out; 120 are on order, due in 12 h: it is out for the first 12 h of the forecast.
    events = [erp("r", 1.0, "GoodsReceived", po=-1, item="saline", location="main", lot=1, qty=400.0, scanned=400.0,
                  expiry=None, closes_po=True),
              erp("p", 1.0, "PutAway", item="saline", location="main", lot=1, status="available"),
              erp("po41", 80.0, "PurchaseOrderPlaced", po=41, item="gauze", location="main", supplier="medsupply",
                  qty=120.0, due=now + 12.0, policy="erp"),
              erp("c", now, "StockCounted", item="saline", location="main", book=400.0, counted=400.0, duration=0.1)]
    scenario = small_scenario()
    twin = live(tmp_path, scenario, events)
    fork = forecast_scenario(scenario, twin.state, horizon, replications=2)
    out = run_replication(fork, seed=3, replication=0, horizon=horizon)
    df = events_frame(out.log)
    assert df["t"].min() == now and df["t"].max() < now + horizon
    params = compile_layout(fork).params
    kpis = run_kpis(fork, out, df, fork.warmup)
    assert kpis == compute_kpis(df, params, KpiWindow(now, now + horizon, fork.costing))
    # Gauze is out from the start until the order arrives (>= 12 h); a window from 0 would see none of it.
    assert 12.0 <= kpis["stockout_hours"] <= 3 * horizon
    assert compute_kpis(df, params, KpiWindow(0.0, horizon, fork.costing))["stockout_hours"] == 0.0
    daily = daily_levels(level_series(df), params, out.horizon, out.start)
    assert daily["day"].tolist() == [1.0, 2.0, 3.0]  # the ends of the forecast's days, from now
    # The experiment runner (what POST /twin/forecast runs) gives the same KPIs.
    res = simulate(fork, seed=3, replications=1, horizon=horizon, workers=1)
    assert res.kpis.iloc[0][list(kpis)].to_dict() == pytest.approx(kpis, nan_ok=True)


def test_runs_without_a_start_are_unchanged() -> None:
    scenario = small_scenario(horizon="5d")
    plain = run_replication(scenario, seed=7, replication=0)
    engine = Engine(scenario, 7, 0)
    assert engine.start == 0 and engine.env.now == 0 and type(engine.env.now) is int
    assert plain.start == 0.0 and plain.horizon == 120.0
    # An empty opening (start 0h, nothing under way) is the same run, event for event.
    opened = scenario.model_copy(update={"opening": scenario.model_validate(
        {**small_scenario_data(horizon="5d"), "opening": {}}).opening})
    again = run_replication(opened, seed=7, replication=0)
    assert again.log.content_hash() == plain.log.content_hash()
