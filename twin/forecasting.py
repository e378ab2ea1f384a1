"""Forecasting on demand history: read a history CSV (checked row by row) or take the history from a
simulated event log, bucket it by day or week, forecast and backtest every item.

The core of ``twin forecast`` (the CLI only prints and writes). History CSV columns:
``date,item[,location],qty`` with ISO dates (2024-03-01). Within an item, dates absent between its
first and the file's last date count as periods of zero demand (intermittent items are often
written only when they move); an empty or unreadable date is an error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from policies.forecast import CHOOSERS, FALLBACK, METHODS, ForecastError, fit_forecast, min_points
from policies.forecast_backtest import accuracy_table, summarise_accuracy
from twin.errors import TwinError
from twin.model.durations import HOURS_PER_DAY

__all__ = ["History", "read_history_csv", "history_from_events", "ForecastReport", "forecast_items",
           "MIN_HISTORY"]

MIN_HISTORY = 2  # fewer periods than this cannot be forecast or backtested at all


@dataclass
class History:
    """Demand per period per item (key 'item' or 'item@location'), oldest first."""

    series: dict[str, np.ndarray]
    period_days: int
    start: dict[str, date | None]  # first period's date (None: simulated days from 0)
    source: str
    abc: dict[str, str] = field(default_factory=dict)


def read_history_csv(path: str | Path, period_days: int = 1) -> History:
    """Read and check a history CSV; a bad cell raises TwinError naming file, line and column."""
    file = Path(path)
    if not file.is_file():
        raise TwinError(f"{path}: history file not found")
    with file.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise TwinError(f"{path}:1: empty file; expected a header 'date,item[,location],qty'")
    header = [h.strip().lower() for h in rows[0]]
    for need in ("date", "item", "qty"):
        if need not in header:
            raise TwinError(f"{path}:1: no column {need!r}; expected a header 'date,item[,location],qty', "
                            f"got {','.join(rows[0])!r}")
    ci, cd, cq = header.index("item"), header.index("date"), header.index("qty")
    cl = header.index("location") if "location" in header else None
    records: list[tuple[str, date, float]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        where = f"{path}:{line}"
        raw_date = cells[cd].strip()
        if not raw_date:
            raise TwinError(f"{where}: column 'date': missing date")
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise TwinError(f"{where}: column 'date': {raw_date!r} is not a date (write YYYY-MM-DD)") from None
        item = cells[ci].strip()
        if not item:
            raise TwinError(f"{where}: column 'item': missing item")
        raw_qty = cells[cq].strip()
        try:
            qty = float(raw_qty)
        except ValueError:
            raise TwinError(f"{where}: column 'qty': {raw_qty!r} is not a number") from None
        if not math.isfinite(qty):
            raise TwinError(f"{where}: column 'qty': {raw_qty!r} is not a finite number")
        if qty < 0:
            raise TwinError(f"{where}: column 'qty': negative demand {raw_qty} (returns belong in another file)")
        key = item if cl is None or not cells[cl].strip() else f"{item}@{cells[cl].strip()}"
        records.append((key, day, qty))
    if not records:
        raise TwinError(f"{path}: no data rows under the header")
    frame = pd.DataFrame(records, columns=["key", "date", "qty"])
    last = max(frame["date"])
    ordinal_last = last.toordinal() // period_days
    series: dict[str, np.ndarray] = {}
    start: dict[str, date | None] = {}
    for key_, grp in frame.groupby("key", sort=True):
        key = str(key_)
        ords = np.array([d.toordinal() for d in grp["date"]]) // period_days
        first = int(ords.min())
        y = np.zeros(ordinal_last - first + 1)
        np.add.at(y, ords - first, grp["qty"].to_numpy(dtype=float))
        series[key] = y
        start[key] = date.fromordinal(first * period_days) if period_days > 1 else min(grp["date"])
    totals = {k: float(v.sum()) for k, v in series.items()}
    return History(series, period_days, start, str(path), abc=_abc_by_volume(totals))


def _abc_by_volume(totals: dict[str, float]) -> dict[str, str]:
    from policies.inventory import abc_classify

    keys = list(totals)
    classes = abc_classify(np.array([totals[k] for k in keys]))
    return dict(zip(keys, classes, strict=True))


def history_from_events(events: pd.DataFrame, item_class: dict[str, str], period_days: int = 1,
                        horizon: float | None = None, source: str = "simulation") -> History:
    """Customer demand per SKU and period from the flat event rows (OrderPlaced lines)."""
    placed = events[events["type"] == "OrderPlaced"]
    end = horizon if horizon is not None else (float(events["t"].max()) if len(events) else 0.0)
    n = max(int(math.ceil(end / (HOURS_PER_DAY * period_days))), 1)
    series: dict[str, np.ndarray] = {}
    period = (placed["t"].to_numpy(dtype=float) // (HOURS_PER_DAY * period_days)).astype(int)
    keys = (placed["item"].astype(str) + "@" + placed["location"].astype(str)).to_numpy()
    qty = placed["qty"].to_numpy(dtype=float)
    for key in sorted(set(keys.tolist())):
        sel = keys == key
        y = np.zeros(n)
        np.add.at(y, np.minimum(period[sel], n - 1), qty[sel])
        series[key] = y
    abc = {k: item_class.get(k.split("@")[0], "") for k in series}
    return History(series, period_days, dict.fromkeys(series), source, abc)


@dataclass
class ForecastReport:
    forecasts: pd.DataFrame  # item, period, date (or day), forecast, method
    accuracy: pd.DataFrame  # per item (policies.forecast_backtest.accuracy_table)
    summary: pd.DataFrame  # by ABC class and pattern
    fallbacks: dict[str, str]  # item -> why another method was used


def forecast_items(history: History, method: str, horizon: int, season_length: int = 7,
                   items: list[str] | None = None) -> ForecastReport:
    """Forecast every item (or the chosen ones) ``horizon`` periods ahead and backtest it."""
    if method not in METHODS + CHOOSERS:
        raise TwinError(f"unknown method {method!r}; use one of {', '.join(METHODS + CHOOSERS)}")
    series = history.series
    if items:
        missing = [i for i in items if i not in series]
        if missing:
            raise TwinError(f"{history.source}: no history for item(s) {', '.join(missing)}; "
                            f"items are: {', '.join(list(series)[:10])}{' ...' if len(series) > 10 else ''}")
        series = {k: series[k] for k in items}
    for key, y in series.items():
        if len(y) < MIN_HISTORY:
            raise TwinError(f"{history.source}: item {key!r}: {len(y)} period(s) of history; forecasting "
                            f"needs at least {MIN_HISTORY} (give more history or leave the item out)")
    try:
        acc = accuracy_table(series, method, horizon, abc=history.abc, season_length=season_length)
        rows = []
        fallbacks: dict[str, str] = {}
        chosen = dict(zip(acc["item"], acc["method"], strict=True))
        for key, y in series.items():
            use = chosen[key] if method in CHOOSERS else method
            fit = fit_forecast(y, use, horizon, season_length)
            if fit.fallback:
                fallbacks[key] = fit.fallback
            first = history.start.get(key)
            for h, value in enumerate(fit.forecast, start=1):
                when = (date.fromordinal(first.toordinal() + (len(y) + h - 1) * history.period_days).isoformat()
                        if first is not None else str((len(y) + h - 1) * history.period_days))
                rows.append({"item": key, "step": h, "period_start": when, "forecast": float(value),
                             "method": fit.method})
    except ForecastError as exc:
        raise TwinError(str(exc)) from None
    for key, note in zip(acc["item"], acc["fallback"], strict=True):
        if note and key not in fallbacks:
            fallbacks[key] = note
    forecasts = pd.DataFrame(rows, columns=["item", "step", "period_start", "forecast", "method"])
    return ForecastReport(forecasts, acc, summarise_accuracy(acc), fallbacks)


def needs(method: str, season_length: int) -> int:
    """Fewest periods ``method`` needs (for messages)."""
    return min_points(method if method in METHODS else FALLBACK, season_length)
