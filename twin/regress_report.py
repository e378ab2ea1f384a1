"""A regression report as JUnit XML (one test case per scenario and KPI) and as Markdown for a
pull-request comment. Both are built from a SuiteReport; nothing here runs a simulation."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from twin.regress import KpiCheck, SuiteReport

__all__ = ["junit_xml", "markdown", "fmt"]

_MARK = {"regressed": "❌ regressed", "improved": "✅ improved", "identical": "identical",
         "within tolerance": "within tolerance", "no data": "no data", "recorded": "recorded"}


def fmt(x: float | None) -> str:
    """A number for a table: 4 significant digits, thousands separated, '-' when missing."""
    if x is None or not math.isfinite(x):
        return "-"
    ax = abs(x)
    return f"{x:,.4f}" if ax < 10 else f"{x:,.2f}" if ax < 1e4 else f"{x:,.0f}"


def diff_text(c: KpiCheck) -> str:
    if c.status in ("identical", "recorded") or not math.isfinite(c.diff):
        return "-"
    ci = "" if math.isnan(c.ci_low) else f" [{fmt(c.ci_low)}, {fmt(c.ci_high)}]"
    sign = "+" if c.diff > 0 else ""
    return f"{sign}{fmt(c.diff)}{ci}"


def junit_xml(report: SuiteReport) -> str:
    """JUnit XML: a test suite per scenario, a test case per guarded KPI, a failure per regression."""
    root = ET.Element("testsuites", name=f"twin regress {report.suite}", tests=str(len(report.checks)),
                      failures=str(len(report.regressions)), errors="0", time=f"{report.seconds:.3f}")
    for e in report.entries:
        failures = sum(k.failed for k in e.kpis)
        skipped = sum(k.status == "no data" for k in e.kpis)
        suite = ET.SubElement(root, "testsuite", name=e.name, tests=str(len(e.kpis)), failures=str(failures),
                              errors="0", skipped=str(skipped), file=e.scenario)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="scenario", value=e.scenario)
        ET.SubElement(props, "property", name="identical_event_logs", value=f"{e.same_logs}/{e.replications}")
        ET.SubElement(props, "property", name="code_version", value=report.code_version)
        for c in e.kpis:
            case = ET.SubElement(suite, "testcase", classname=f"twin.regress.{e.name}", name=c.kpi, file=e.scenario)
            if c.failed:
                failure = ET.SubElement(case, "failure", message=c.explain(), type="KpiRegression")
                failure.text = c.explain() + ("\n" + "\n".join(e.notes) if e.notes else "")
            elif c.status == "no data":
                ET.SubElement(case, "skipped", message=f"{c.kpi} has no values in the baseline or now")
            else:
                ET.SubElement(case, "system-out").text = c.explain()
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown(report: SuiteReport) -> str:
    """A summary for a pull-request comment: the verdict first, regressions in full, identical
    scenarios folded into one line each."""
    n_reg = len(report.regressions)
    head = (f"### ❌ twin regress: {n_reg} KPI regression{'s' if n_reg != 1 else ''}" if n_reg
            else "### ✅ twin regress: no KPI regression")
    lines = [head, "",
             f"Suite `{report.file}` ({report.suite}): {len(report.entries)} scenarios, {len(report.checks)} guarded "
             f"KPIs; code `{report.code_version}`; {report.seconds:.1f} s on {report.executor}.", ""]
    identical = [e for e in report.entries if e.identical]
    changed = [e for e in report.entries if not e.identical]
    if changed:
        lines += ["| scenario | KPI | baseline | now | paired difference [95% CI] | better | tolerance | verdict |",
                  "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |"]
        for e in changed:
            for c in sorted(e.kpis, key=lambda c: (not c.failed, c.kpi)):
                verdict = f"**{_MARK[c.status]}**" if c.failed else _MARK[c.status]
                lines.append(f"| {e.name} | {c.kpi} | {fmt(c.baseline_mean)} | {fmt(c.current_mean)} | "
                             f"{diff_text(c)} | {c.better} | {c.tolerance} | {verdict} |")
        lines.append("")
    for e in identical:
        lines.append(f"- {e.name} (`{e.scenario}`): identical, all {e.replications} event logs unchanged")
    notes = [f"- {e.name}: {note}" for e in report.entries for note in e.notes]
    if notes:
        lines += ["", "<details><summary>notes</summary>", "", *notes, "", "</details>"]
    lines += ["", "A KPI regresses when the 95% CI of its paired difference (same seeds, replication by "
              "replication) lies entirely beyond its tolerance on the worse side."]
    return "\n".join(lines) + "\n"
