"""`twin forecast HISTORY.csv|SCENARIO`: a face over twin.forecasting (no logic lives here)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.cli_common import fail as _fail
from twin.cli_common import out
from twin.errors import TwinError
from twin.model.durations import HOURS_PER_DAY, parse_duration

__all__ = ["forecast", "register"]

METHOD_HELP = ("a method (moving_average, ses, holt_winters_add, holt_winters_mul, croston, sba, tsb), "
               "auto (by demand pattern) or best (by backtest)")



def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.3f}"


def forecast(
    source: Annotated[Path, typer.Argument(help="history CSV (date,item[,location],qty) or a scenario YAML")],
    method: Annotated[str, typer.Option(help=METHOD_HELP)] = "auto",
    horizon: Annotated[str, typer.Option(help="how far ahead, with a unit (8w, 30d)")] = "8w",
    bucket: Annotated[str, typer.Option(help="period of the series: 1d or 1w")] = "1d",
    season: Annotated[int, typer.Option(min=2, help="season length in periods (Holt-Winters)")] = 7,
    items: Annotated[str | None, typer.Option(help="comma-separated items to forecast and plot (default: all, "
                                                   "plot the 4 largest)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for forecasts.csv, accuracy.csv, "
                                                              "accuracy_by_class.csv, forecast.png")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="scenario source: seed (default the scenario's)")] = None,
) -> None:
    """Forecast every item's demand, backtest it (rolling origin: MAE, RMSE, bias, MASE, sMAPE), and
    write the forecasts, the accuracy table by item and by ABC class and pattern, and a plot."""
    from twin.cli import write_atomically
    from twin.forecasting import forecast_items, history_from_events, read_history_csv

    try:
        hours = parse_duration(horizon)
    except ValueError as exc:
        _fail(f"--horizon: {exc}")
        return
    if bucket not in ("1d", "1w"):
        _fail(f"--bucket: use 1d or 1w, got {bucket!r}")
    period_days = 1 if bucket == "1d" else 7
    steps = max(int(math.ceil(hours / (HOURS_PER_DAY * period_days))), 1)
    chosen = [s.strip() for s in items.split(",") if s.strip()] if items else None
    try:
        if source.suffix.lower() in (".yaml", ".yml"):
            from twin.experiment import simulate
            from twin.scenario import load_scenario
            from twin.sim.layout import compile_layout

            sc = load_scenario(source)
            result = simulate(sc, replications=1, seed=seed, workers=1)
            history = history_from_events(result.events, compile_layout(sc).item_class, period_days,
                                          sc.horizon, f"{source} (replication 0)")
        else:
            history = read_history_csv(source, period_days)
        report = forecast_items(history, method, steps, season, chosen)
    except TwinError as exc:
        _fail(str(exc))
        return
    table = Table(title=f"{history.source}: {len(report.accuracy)} item(s), method {method}, "
                        f"{steps} x {bucket} ahead, rolling-origin backtest")
    for col in ("abc", "pattern", "items", "mae", "rmse", "bias", "mase", "smape"):
        table.add_column(col, justify="right" if col not in ("abc", "pattern") else "left")
    for _, r in report.summary.iterrows():
        table.add_row(str(r["abc"]), str(r["pattern"]), str(int(r["items"])),
                      *(_fmt(r[k]) for k in ("mae", "rmse", "bias", "mase", "smape")))
    out.print(table)
    for key, why in report.fallbacks.items():
        out.print(f"fallback: {key}: {why}", highlight=False)
    target = out_dir or Path("out") / f"forecast-{source.stem}"
    volume = {k: float(v.sum()) for k, v in history.series.items()}
    plot_items = chosen or sorted(volume, key=lambda k: -volume[k])[:4]

    def plot(path: Path) -> None:
        from twin.forecast_plot import forecast_png

        forecast_png(history, report.forecasts, plot_items, path)

    write_atomically(target, {
        "forecasts.csv": lambda p: report.forecasts.to_csv(p, index=False),
        "accuracy.csv": lambda p: report.accuracy.to_csv(p, index=False),
        "accuracy_by_class.csv": lambda p: report.summary.to_csv(p, index=False),
        "forecast.png": plot,
    })
    out.print(f"wrote {target}/forecasts.csv, accuracy.csv, accuracy_by_class.csv, forecast.png", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `twin forecast` to the main command."""
    app.command("forecast")(forecast)
