"""Self-contained HTML reports of scenario comparisons and parameter sweeps.

A report is one HTML string with its style inline and its plots as base64 PNGs, so it can be mailed
or archived as a single file and opened offline. Nothing here prints or writes except
``sweep_plot_png``, which writes the one file it is asked for.

Plots are drawn on ``matplotlib.figure.Figure`` objects, never through pyplot: that renders with
the Agg canvas whatever the process-wide backend is (no display needed, and a notebook or GUI face
keeps its own backend), keeps no global registry of open figures to close, and is safe when a web
face renders reports in several threads at once.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from twin.comparison import KPI_DIRECTION, ComparisonResult
from twin.errors import TwinError
from twin.model.durations import HOURS_PER_DAY, format_duration

__all__ = ["render_comparison_html", "render_sweep_html", "sweep_plot_png"]

DASH = "–"
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;
 max-width:1200px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right;vertical-align:top}
th{background:#f4f4f4}th.k,td.k{text-align:left}
.ci{color:#666;font-size:.85em}.facts th{text-align:left;width:11em}.facts td{text-align:left}
.warn{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;margin:1em 0}
.warn strong{color:#8a5a00}.bad{color:#b00020;font-weight:bold}.note{color:#555;font-style:italic}
tr.better td{background:#e6f4ea}tr.worse td{background:#fdecea}
tr.pareto td{background:#e8f0fe;font-weight:bold}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
"""


# -- formatting -------------------------------------------------------------------------------------

def _e(x: Any) -> str:
    return html.escape(str(x))


def _nan(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _fmt(x: Any) -> str:
    """A value for HTML: numbers to 4 significant digits, thousands separated; NaN or None as a dash."""
    return _e(_plain(x))


def _plain(x: Any) -> str:
    if _nan(x):
        return DASH
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(x)


def _ci(lo: Any, hi: Any) -> str:
    return DASH if _nan(lo) or _nan(hi) else f"[{_fmt(lo)}, {_fmt(hi)}]"


def _direction(kpi: str) -> str:
    return "higher is better" if KPI_DIRECTION[kpi] > 0 else "lower is better"


def _verdict(kpi: str, diff: float) -> str:
    if _nan(diff):
        return DASH
    signed = diff * KPI_DIRECTION[kpi]
    return "better" if signed > 0 else "worse" if signed < 0 else "same"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _img(fig: Figure, alt: str) -> str:
    data = base64.b64encode(_png(fig)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _colours(n: int) -> list[Any]:
    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _panels(n: int, cols: int, height: float) -> tuple[Figure, list[Axes]]:
    rows = max(1, math.ceil(n / cols))
    fig = Figure(figsize=(3.1 * cols, height * rows + 0.6), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


# -- comparison -------------------------------------------------------------------------------------

def _kpi_names(result: ComparisonResult) -> list[str]:
    return list(dict.fromkeys(result.summary.index.get_level_values("kpi")))


def _facts(r: ComparisonResult) -> str:
    w, p = r.warmup, r.precision
    if _nan(w.hours):
        cut = "differs between scenarios"
    else:
        cut = "none (0 h)" if w.hours == 0 else f"{format_duration(w.hours)} ({w.hours:g} h)"
    if p.target is None:
        prec = f"no precision target: a fixed {p.replications} replications per scenario"
    elif p.reached:
        prec = (f"target: 95% CI half-width within {p.target:.1%} of the mean for every KPI and scenario. "
                f"<strong>Reached</strong> with {p.replications} replications (cap {p.cap}).")
    else:
        short = sorted(((k, v) for k, v in p.worst.items() if not v <= p.target), key=lambda kv: -kv[1])
        worst = ", ".join(f"{_e(k)} {v:.1%}" if math.isfinite(v) else f"{_e(k)} no CI" for k, v in short)
        prec = (f"target: 95% CI half-width within {p.target:.1%} of the mean. <span class=bad>NOT reached: "
                f"the cap of {p.cap} replications was hit</span>; widest relative half-widths: {worst}.")
    rows = [("Scenarios", ", ".join(_e(n) for n in r.names)), ("Seed", _e(r.seed)),
            ("Replications", f"{r.replications} per scenario, paired by common random numbers"),
            ("Executor", _e(r.executor)),
            ("Warm-up", f"{_e(cut)}; how it was chosen: <strong>{_e(w.method)}</strong> — {_e(w.detail)}"),
            ("Precision", prec)]
    return "<table class=facts>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _summary_table(r: ComparisonResult, kpis: list[str]) -> str:
    head = "".join(f"<th>{_e(n)}</th>" for n in r.names)
    rows = []
    for k in kpis:
        cells = "".join(
            f"<td>{_fmt(r.summary.loc[(n, k), 'mean'])}<br><span class=ci>"
            f"{_ci(r.summary.loc[(n, k), 'ci_low'], r.summary.loc[(n, k), 'ci_high'])}</span></td>"
            for n in r.names)
        rows.append(f"<tr><th class=k>{_e(k)}</th><td class=k>{_direction(k)}</td>{cells}</tr>")
    return (f"<table><tr><th class=k>KPI</th><th class=k>direction</th>{head}</tr>"
            + "".join(rows) + "</table><p class=ci>Each cell: mean over replications, 95% CI below.</p>")


def _differences_table(r: ComparisonResult) -> str:
    rows = []
    for (name, k), d in zip(r.differences.index, r.differences.to_dict("records"), strict=True):
        sig = bool(d["significant"])
        # Only a significant difference is called better or worse; otherwise the sign is noise.
        verdict = _verdict(str(k), d["diff"]) if sig else "no evidence"
        cls = f" class={verdict}" if sig and verdict in ("better", "worse") else ""
        rows.append(f"<tr{cls}><td class=k>{_e(name)}</td><td class=k>{_e(k)}</td><td>{_fmt(d['diff'])}</td>"
                    f"<td>{_ci(d['ci_low'], d['ci_high'])}</td><td>{'yes' if sig else 'no'}</td>"
                    f"<td class=k>{verdict}</td></tr>")
    return ("<table><tr><th class=k>scenario</th><th class=k>KPI</th><th>mean difference</th><th>95% CI</th>"
            "<th>significant</th><th class=k>better or worse</th></tr>" + "".join(rows) + "</table>")


def _ranking(r: ComparisonResult) -> str:
    g = r.ranking
    if g is None:
        return ("<p class=note>No ranking: subset selection needs at least three scenarios and two "
                "replications.</p>")

    def names(xs: list[str]) -> str:
        return ", ".join(_e(x) for x in xs) if xs else "none"

    means = "".join(f"<tr><td class=k>{_e(n)}</td><td>{_fmt(m)}</td></tr>" for n, m in g.means.items())
    return (f"<p>Ranked by <strong>{_e(g.kpi)}</strong> ({_direction(g.kpi)}) with the procedure: "
            f"<strong>{_e(g.procedure)}</strong>, alpha = {g.alpha:g}. The best scenario is among those that "
            f"could be best with probability at least {1 - g.alpha:.0%}.</p>"
            f"<ul><li><strong>Could be best:</strong> {names(g.could_be_best)}</li>"
            f"<li><strong>Statistically not best:</strong> {names(g.not_best)}</li></ul>"
            f"<table><tr><th class=k>scenario</th><th>mean {_e(g.kpi)}</th></tr>{means}</table>")


def _bar_plot(r: ComparisonResult, kpis: list[str]) -> Figure:
    fig, axes = _panels(len(kpis), 4, 2.4)
    colours = _colours(len(r.names))
    x = np.arange(len(r.names))
    for ax, k in zip(axes, kpis, strict=True):
        s = r.summary.xs(k, level="kpi").reindex(r.names)
        mean = s["mean"].to_numpy(dtype=float)
        err = np.nan_to_num(np.vstack([mean - s["ci_low"].to_numpy(dtype=float),
                                       s["ci_high"].to_numpy(dtype=float) - mean]))
        ax.bar(x, np.nan_to_num(mean), yerr=err, color=colours, capsize=4, ecolor="black")
        ax.set_title(f"{k} ({'↑' if KPI_DIRECTION[k] > 0 else '↓'} better)", fontsize=9)
        ax.set_xticks(x, [str(i + 1) for i in x], fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    _legend(fig, r.names, colours, numbered=True)
    return fig


def _legend(fig: Figure, names: list[str], colours: list[Any], numbered: bool = False) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=f"{i + 1}: {n}" if numbered else n)
               for i, (n, c) in enumerate(zip(names, colours, strict=True))]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(names), 4), fontsize=9)


def _distribution_plot(r: ComparisonResult, kpis: list[str]) -> Figure:
    fig, axes = _panels(len(kpis), 4, 2.4)
    colours = _colours(len(r.names))
    for ax, k in zip(axes, kpis, strict=True):
        data = [r.kpis.xs(n, level="scenario")[k].dropna().to_numpy(dtype=float) for n in r.names]
        if not any(len(d) for d in data):
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        for i, d in enumerate(data):
            if len(d) >= 2:
                # Drawn by hand: Axes.boxplot reads every rcParam, which imports pyplot to resolve the
                # backend; this module keeps off pyplot (see the module docstring).
                q1, med, q3 = np.percentile(d, [25, 50, 75])
                ax.vlines(i + 1, d.min(), d.max(), color="black", linewidth=0.8)
                box = ax.bar(i + 1, q3 - q1, bottom=q1, width=0.55, color="white", edgecolor="black",
                             zorder=2)
                box[0].sticky_edges.y.clear()  # let the axis pad beyond the box, as for any data
                ax.hlines(med, i + 0.72, i + 1.28, color="black", linewidth=1.5, zorder=2)
            # Spread the points evenly across the box (no random jitter: the picture is reproducible).
            offsets = np.linspace(-0.18, 0.18, len(d)) if len(d) > 1 else np.zeros(len(d))
            ax.scatter(i + 1 + offsets, d, s=14, color=colours[i], zorder=3, edgecolors="black",
                       linewidths=0.4)
        ax.set_xticks(range(1, len(r.names) + 1), [str(i + 1) for i in range(len(r.names))], fontsize=8)
        ax.set_xlim(0.4, len(r.names) + 0.6)
        ax.set_title(k, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    _legend(fig, r.names, colours, numbered=True)
    return fig


def _time_plot(r: ComparisonResult) -> Figure:
    fig = Figure(figsize=(11, 6.4), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    colours = _colours(len(r.names))
    cuts = [(r.warmup.hours / HOURS_PER_DAY, "black")]
    if _nan(r.warmup.hours):  # each scenario file keeps its own warm-up: one line per scenario
        cuts = [(sc.warmup / HOURS_PER_DAY, c) for sc, c in zip(r.scenarios, colours, strict=True)]
        cuts = cuts if len({d for d, _ in cuts}) > 1 else [(cuts[0][0], "black")]
    for ax, col, label in zip(axes, ("on_hand_value", "backorders"),
                              ("inventory: on-hand value", "backlog: backorders (units)"), strict=True):
        for name, c in zip(r.names, colours, strict=True):
            g = r.daily[r.daily["scenario"] == name].groupby("day")[col]
            if not len(g):
                continue
            stats = g.agg(["mean", "min", "max"])
            ax.fill_between(stats.index, stats["min"], stats["max"], color=c, alpha=0.18, linewidth=0)
            ax.plot(stats.index, stats["mean"], color=c, linewidth=1.2, label=name)
        for day, c in cuts:
            if day > 0:
                ax.axvline(day, color=c, linestyle="--", linewidth=1.2)
                ax.annotate("warm-up cut", (day, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                            textcoords="offset points", fontsize=8, color=c)
        ax.set_ylabel(label)
    axes[-1].set_xlabel("day")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4) or 1, fontsize=9)
    return fig


def render_comparison_html(result: ComparisonResult) -> str:
    """The comparison as one self-contained HTML document (inline style, plots as base64 PNGs).

    Shows the run's facts (seed, replications, executor, how the warm-up was chosen, whether the
    precision target was reached), any warnings, each scenario's KPI means with 95% CIs, the paired
    differences against the first scenario, the subset of scenarios that could be best, and plots
    of the KPIs, their spread over replications and inventory and backlog over time. No date is
    written, so the same result always renders the same document.
    """
    r, kpis = result, _kpi_names(result)
    title = "Scenario comparison: " + " vs ".join(r.names)
    parts = [f"<h1>{_e(title)}</h1>", _facts(r)]
    if r.warnings:
        parts.append("<div class=warn><strong>Warnings — read before trusting the numbers</strong><ul>"
                     + "".join(f"<li>{_e(w)}</li>" for w in r.warnings) + "</ul></div>")
    single = ("<p class=note>Only one replication per scenario: there are no confidence intervals and no "
              "significance tests; run more replications.</p>") if r.replications < 2 else ""
    parts += ["<h2>KPI summary</h2>", single, _summary_table(r, kpis),
              f"<h2>Paired differences vs {_e(r.names[0])}</h2>",
              "<p>Each scenario minus the first, replication by replication (same random numbers). "
              "Significant: the 95% CI excludes zero. Better or worse follows each KPI's direction.</p>",
              _differences_table(r), "<h2>Which scenarios could be best</h2>", _ranking(r),
              "<h2>KPIs with 95% confidence intervals</h2>",
              _img(_bar_plot(r, kpis), "KPI means with 95% CIs"),
              "<h2>Inventory and backlog over time</h2>"]
    if r.daily.empty or not {"scenario", "day", "on_hand_value", "backorders"} <= set(r.daily.columns):
        parts.append("<p class=note>No daily stock levels were recorded (record_levels is off in the "
                     "scenarios), so this plot is omitted.</p>")
    else:
        parts += ["<p>Mean over replications per day; the band spans the lowest to the highest replication. "
                  "The dashed line is the warm-up cut: KPIs count only what happens after it.</p>",
                  _img(_time_plot(r), "on-hand value and backorders over time")]
    parts += ["<h2>Spread over replications</h2>",
              "<p>Each point is one replication. Where there are two or more, the box spans the quartiles "
              "with a line at the median and the whisker runs from the lowest to the highest.</p>",
              _img(_distribution_plot(r, kpis), "KPI distributions over replications")]
    return _page(title, "\n".join(p for p in parts if p))


# -- sweeps -----------------------------------------------------------------------------------------

def _axis(table: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Values of a KPI (``{name}_mean`` with its CI) or of a plain column such as a parameter."""
    if f"{name}_mean" in table.columns:
        mean = table[f"{name}_mean"].to_numpy(dtype=float)
        if {f"{name}_ci_low", f"{name}_ci_high"} <= set(table.columns):
            err = np.vstack([mean - table[f"{name}_ci_low"].to_numpy(dtype=float),
                             table[f"{name}_ci_high"].to_numpy(dtype=float) - mean])
            return mean, np.nan_to_num(err)
        return mean, None
    if name in table.columns:
        return table[name].to_numpy(dtype=float), None
    raise TwinError(f"sweep table has no column {name!r} or {name + '_mean'!r}; "
                    f"its columns are {', '.join(map(str, table.columns))}")


def _point_label(row: pd.Series, params: Sequence[str]) -> str:
    return ", ".join(f"{p}={_plain(row[p])}" for p in params)


def _check_sweep(table: pd.DataFrame, pareto: Sequence[bool], params: Sequence[str]) -> None:
    if len(pareto) != len(table):
        raise TwinError(f"pareto has {len(pareto)} flags but the sweep table has {len(table)} rows; "
                        "give one flag per sweep point")
    missing = [p for p in params if p not in table.columns]
    if missing:
        raise TwinError(f"sweep table has no parameter column {', '.join(map(repr, missing))}")


def _sweep_figure(table: pd.DataFrame, x: str, y: str, pareto: Sequence[bool],
                  params: Sequence[str]) -> Figure:
    xs, xerr = _axis(table, x)
    ys, yerr = _axis(table, y)
    front = np.asarray(pareto, dtype=bool)
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(xs[~front], ys[~front], xerr=None if xerr is None else xerr[:, ~front],
                yerr=None if yerr is None else yerr[:, ~front], fmt="o", color="grey", ecolor="lightgrey",
                capsize=3, label="dominated")
    order = np.argsort(xs[front], kind="stable")
    ax.errorbar(xs[front][order], ys[front][order], xerr=None if xerr is None else xerr[:, front][:, order],
                yerr=None if yerr is None else yerr[:, front][:, order], fmt="D-", color="tab:red",
                ecolor="tab:red", markersize=8, capsize=3, linewidth=1.5, label="Pareto-efficient (frontier)")
    # Frontier labels above the point, dominated ones below, so close pairs stay readable.
    for (_, row), px, py, eff in zip(table.iterrows(), xs, ys, front, strict=True):
        ax.annotate(_point_label(row, params), (px, py), xytext=(6, 6 if eff else -12),
                    textcoords="offset points", fontsize=7, color="tab:red" if eff else "dimgrey")
    ax.margins(x=0.15, y=0.08)
    ax.set_xlabel(f"{x} ({_direction(x)})" if x in KPI_DIRECTION else x)
    ax.set_ylabel(f"{y} ({_direction(y)})" if y in KPI_DIRECTION else y)
    ax.set_title(f"Trade-off: {y} against {x} (bars: 95% CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def sweep_plot_png(table: pd.DataFrame, x: str, y: str, pareto: Sequence[bool], path: str | Path,
                   params: Sequence[str] | None = None) -> Path:
    """Write the trade-off plot of ``y`` against ``x`` to ``path`` as a PNG and return the path.

    ``x`` and ``y`` are KPI names (columns ``{kpi}_mean``, ``{kpi}_ci_low``, ``{kpi}_ci_high``) or
    plain columns. Pareto-efficient points are red diamonds joined as the frontier; every point is
    labelled with its parameter values (``params``; by default every column that is not a KPI
    statistic).
    """
    names = list(params) if params is not None else [
        c for c in table.columns if not str(c).endswith(("_mean", "_ci_low", "_ci_high"))]
    _check_sweep(table, pareto, names)
    out = Path(path)
    out.write_bytes(_png(_sweep_figure(table, x, y, pareto, names)))
    return out


def render_sweep_html(table: pd.DataFrame, x: str, y: str, pareto: list[bool], params: list[str]) -> str:
    """A self-contained HTML report of a parameter sweep: the trade-off plot and the table.

    The table has one row per sweep point with the parameter columns ``params`` and, per KPI,
    ``{kpi}_mean``, ``{kpi}_ci_low`` and ``{kpi}_ci_high``; Pareto-efficient rows are highlighted.
    """
    _check_sweep(table, pareto, params)
    kpis = [str(c)[: -len("_mean")] for c in table.columns if str(c).endswith("_mean")]
    head = "".join(f"<th>{_e(p)}</th>" for p in params) + "".join(
        f"<th>{_e(k)}<br><span class=ci>mean [95% CI]</span></th>" for k in kpis)
    head += "<th>Pareto-efficient</th>"
    rows = []
    for (_, row), eff in zip(table.iterrows(), pareto, strict=True):
        cells = "".join(f"<td>{_fmt(row[p])}</td>" for p in params) + "".join(
            f"<td>{_fmt(row[f'{k}_mean'])}<br><span class=ci>"
            f"{_ci(row.get(f'{k}_ci_low'), row.get(f'{k}_ci_high'))}</span></td>" for k in kpis)
        rows.append(f"<tr{' class=pareto' if eff else ''}>{cells}<td>{'yes ★' if eff else 'no'}</td></tr>")
    title = f"Parameter sweep: {y} against {x}"
    body = (f"<h1>{_e(title)}</h1><p>{len(table)} sweep points over {', '.join(_e(p) for p in params)}; "
            f"{sum(map(bool, pareto))} are Pareto-efficient: no other point is at least as good on both "
            f"{_e(x)} and {_e(y)} and better on one.</p>"
            + _img(_sweep_figure(table, x, y, pareto, params), f"{y} against {x}")
            + f"<h2>Sweep points</h2><table><tr>{head}</tr>{''.join(rows)}</table>")
    return _page(title, body)
