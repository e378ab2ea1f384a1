"""HTML reports of comparisons and sweeps: one self-contained document that says what it must."""

from __future__ import annotations

import base64
import dataclasses
import html
import math
import re
from typing import Any

import pandas as pd
import pytest

from twin.comparison import ComparisonResult, PrecisionReport, compare
from twin.errors import TwinError
from twin.model.scenario import Scenario
from twin.report import render_comparison_html, render_sweep_html, sweep_plot_png

PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
NAMES = ("lean <25>", "base 35", "rich & 50")


def scenario(name: str, level: int) -> Scenario:
    """One item, Poisson demand, a 2-day lead time and a base-stock policy at ``level``."""
    return Scenario.model_validate({
        "name": name, "horizon": "60d", "warmup": "5d", "seed": 11,
        "site": {"name": "one-item",
                 "items": [{"id": "x", "unit_cost": 1, "holding_cost": 1, "backorder_cost": 9}],
                 "warehouses": [{"id": "w", "receive_time": "0s", "putaway_time": "0s",
                                 "pick_time_per_order": "0s", "pick_time_per_line": "0s"}],
                 "suppliers": [{"id": "s", "lead_time": {"mean": "2d"}, "items": ["x"]}],
                 "demand": [{"item": "x", "location": "w", "mean": 10}]},
        "policies": {"inventory": {"use": "base_stock", "params": {"level": level}}},
        "costing": {"basis": "period_end", "period": "1d"},
    })


@pytest.fixture(scope="module")
def result() -> ComparisonResult:
    return compare([scenario(n, lv) for n, lv in zip(NAMES, (25, 35, 50), strict=True)],
                   replications=3, warmup="auto", workers=1)


@pytest.fixture(scope="module")
def page(result: ComparisonResult) -> str:
    return render_comparison_html(result)


def text_only(doc: str) -> str:
    """The document without its embedded images (base64 can spell anything)."""
    return PNG.sub("<img>", doc)


def slim(result: ComparisonResult, kpis: list[str], **changes: Any) -> ComparisonResult:
    """The result cut down to a few KPIs, so a second render stays quick."""
    keep = result.summary.index.get_level_values("kpi").isin(kpis)
    return dataclasses.replace(result, summary=result.summary[keep].copy(), kpis=result.kpis[kpis],
                               differences=result.differences[result.differences.index
                                                              .get_level_values("kpi").isin(kpis)],
                               **changes)


def row_of(doc: str, header: str) -> str:
    match = re.search(rf"<tr><th class=k>{re.escape(header)}</th>.*?</tr>", doc)
    assert match, f"no table row for {header}"
    return match.group(0)


# -- comparison report -------------------------------------------------------------------------------


def test_the_report_is_one_self_contained_document(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<html") == 1
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "url(" not in page


def test_the_report_names_every_scenario_and_kpi(page: str, result: ComparisonResult) -> None:
    for name in NAMES:
        assert html.escape(name) in page
    for kpi in result.kpis.columns:
        assert row_of(page, kpi)
    assert f"Scenario comparison: {' vs '.join(html.escape(n) for n in NAMES)}" in page


def test_text_is_escaped(page: str) -> None:
    assert "lean &lt;25&gt;" in page and "rich &amp; 50" in page
    assert "lean <25>" not in page and "rich & 50" not in page


def test_the_report_says_how_the_warmup_was_chosen_and_the_ranking(page: str,
                                                                   result: ComparisonResult) -> None:
    assert result.warmup.method == "MSER-5"
    assert "how it was chosen: <strong>MSER-5</strong>" in page
    assert html.escape(result.warmup.detail) in page
    assert result.ranking is not None
    assert html.escape(result.ranking.procedure) in page
    assert "alpha = 0.05" in page
    assert "Could be best:" in page and "Statistically not best:" in page
    assert "no precision target" in page and "executor" in page.lower()


def test_the_differences_are_called_better_or_worse_by_the_kpi_direction(page: str) -> None:
    table = page.split("<h2>Paired differences", 1)[1].split("<h2>", 1)[0]
    # More stock fills more demand (better) and costs more to hold (worse).
    fill = re.search(r"<tr[^>]*><td class=k>base 35</td><td class=k>fill_rate</td>.*?</tr>", table)
    hold = re.search(r"<tr[^>]*><td class=k>base 35</td><td class=k>holding_cost</td>.*?</tr>", table)
    assert fill and "<td class=k>better</td>" in fill.group(0)
    assert hold and "<td class=k>worse</td>" in hold.group(0)
    assert "<td>yes</td>" in table


def test_the_report_embeds_three_png_plots(page: str) -> None:
    images = PNG.findall(page)
    assert len(images) >= 3
    assert page.count('<img src="data:image/png;base64,') == len(images)
    assert all(base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n") for data in images)
    assert "warm-up cut" in page


def test_nan_shows_as_a_dash_and_a_missing_time_series_is_noted(result: ComparisonResult) -> None:
    small = slim(result, ["fill_rate", "total_cost"], daily=pd.DataFrame())
    small.summary.loc[(NAMES[1], "total_cost"), ["mean", "ci_low", "ci_high"]] = math.nan
    doc = render_comparison_html(small)
    assert "<td>–<br><span class=ci>–</span></td>" in row_of(doc, "total_cost")
    assert not re.search(r"\bnan\b", text_only(doc), re.IGNORECASE)
    assert "No daily stock levels were recorded" in doc
    assert len(PNG.findall(doc)) == 2


def test_a_missed_precision_target_is_said_plainly(result: ComparisonResult) -> None:
    missed = PrecisionReport(0.01, False, 3, 3, {"fill_rate": 0.04, "total_cost": math.inf})
    doc = render_comparison_html(slim(result, ["fill_rate", "total_cost"], precision=missed))
    assert "NOT reached: the cap of 3 replications was hit" in doc
    assert "fill_rate 4.0%" in doc and "total_cost no CI" in doc


def test_a_single_replication_has_no_intervals_and_no_ranking() -> None:
    one = compare([scenario("a", 30), scenario("b", 40)], replications=1, warmup=0.0, workers=1)
    doc = render_comparison_html(slim(one, ["fill_rate", "total_cost"]))
    assert "Only one replication per scenario" in doc
    assert "<span class=ci>–</span>" in row_of(doc, "fill_rate")
    assert "No ranking" in doc
    assert "how it was chosen: <strong>command line</strong>" in doc


def test_warnings_are_shown_prominently(result: ComparisonResult) -> None:
    warning = "b runs 30d but a runs 60d: the comparison is not paired"
    warned = slim(result, ["total_cost"], warnings=[warning])
    doc = render_comparison_html(warned)
    assert '<div class=warn><strong>Warnings' in doc
    assert doc.index("class=warn>") < doc.index("<h2>KPI summary")
    assert "the comparison is not paired" in doc


# -- sweep report ------------------------------------------------------------------------------------


@pytest.fixture
def sweep() -> pd.DataFrame:
    rows = []
    for s, S, hold, fill in [(20, 40, 10.0, 0.50), (20, 60, 14.0, 0.70), (30, 60, 15.0, 0.69),
                             (20, 80, 18.0, 0.78)]:
        rows.append({"reorder_point": s, "order_up_to": S,
                     "holding_cost_mean": hold, "holding_cost_ci_low": hold - 1,
                     "holding_cost_ci_high": hold + 1,
                     "fill_rate_mean": fill, "fill_rate_ci_low": fill - 0.02,
                     "fill_rate_ci_high": math.nan if S == 80 else fill + 0.02})
    return pd.DataFrame(rows)


def test_the_sweep_report_marks_the_pareto_points(sweep: pd.DataFrame) -> None:
    pareto = [True, True, False, True]
    doc = render_sweep_html(sweep, "holding_cost", "fill_rate", pareto, ["reorder_point", "order_up_to"])
    assert "http://" not in doc and "https://" not in doc and "<script" not in doc
    assert len(PNG.findall(doc)) == 1
    assert doc.count("<tr class=pareto>") == 3
    assert doc.count("<td>yes ★</td>") == 3 and doc.count("<td>no</td>") == 1
    assert "3 are Pareto-efficient" in doc
    assert "<th>reorder_point</th>" in doc and "<th>order_up_to</th>" in doc
    assert "<span class=ci>–</span>" in doc  # the NaN CI end


def test_the_sweep_plot_is_written_as_a_png(sweep: pd.DataFrame, tmp_path: Any) -> None:
    out = sweep_plot_png(sweep, "holding_cost", "fill_rate", [False, False, False, False], tmp_path / "s.png")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_sweep_refuses_mismatched_flags_and_unknown_columns(sweep: pd.DataFrame, tmp_path: Any) -> None:
    with pytest.raises(TwinError, match="pareto has 2 flags but the sweep table has 4 rows"):
        render_sweep_html(sweep, "holding_cost", "fill_rate", [True, False], ["reorder_point"])
    with pytest.raises(TwinError, match="no column 'cost' or 'cost_mean'"):
        sweep_plot_png(sweep, "cost", "fill_rate", [True] * 4, tmp_path / "s.png")
    with pytest.raises(TwinError, match="no parameter column 'lot_size'"):
        render_sweep_html(sweep, "holding_cost", "fill_rate", [True] * 4, ["lot_size"])
