"""twin.scenario: YAML -> Scenario, `extends:` overlays, `site:` references, durations, and errors
that name the file, the line and the YAML path, through load_scenario and through the `twin` command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twin
from tests.conftest import FIXTURES, ROOT, line_of, small_site
from twin.errors import ScenarioError
from twin.model.durations import format_duration, parse_duration
from twin.model.scenario import Scenario
from twin.scenario import format_path, load_scenario, load_site, scenario_digest, validate_files

SITE_TEXT = (FIXTURES / "site_small.yaml").read_text()

HEAD = """\
name: small
site: site_small.yaml
horizon: 20d
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


# -- loading good files ----------------------------------------------------------------------------------


def test_loads_the_fixture_with_its_site_file() -> None:
    sc = load_scenario(FIXTURES / "baseline.yaml")
    assert sc.name == "small-baseline"
    assert sc.horizon == 20 * 24.0
    assert sc.replications == 2 and sc.seed == 7
    assert [i.id for i in sc.site.items] == ["gauze", "saline", "gloves"]
    assert sc.site.items[0].shelf_life == 30 * 24.0
    assert sc.site.suppliers[0].lead_time.mean == 72.0
    assert sc.policies.inventory.use == "s_S"
    assert sc.policies.inventory.params == {"service_level": 0.95}


def test_twin_load_scenario_is_the_loader() -> None:
    assert twin.load_scenario is load_scenario


def test_an_inline_site_equals_the_same_site_in_its_own_file(write) -> None:
    write("site_small.yaml", SITE_TEXT)
    referenced = write("a.yaml", HEAD)
    inline_text = HEAD.replace(
        "site: site_small.yaml\n", "site:\n" + "".join("  " + line + "\n" for line in SITE_TEXT.splitlines())
    )
    inline = write("b.yaml", inline_text)
    assert load_scenario(referenced) == load_scenario(inline)
    assert scenario_digest(load_scenario(referenced)) == scenario_digest(load_scenario(inline))


def test_site_and_extends_resolve_relative_to_the_file_not_the_working_directory(write, tmp_path, monkeypatch) -> None:
    write("sites/site_small.yaml", SITE_TEXT)
    write("family/base.yaml", HEAD.replace("site_small.yaml", "../sites/site_small.yaml"))
    top = write(
        "family/variants/short.yaml",
        """
        extends: ../base.yaml
        name: short
        horizon: 5d
    """,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    sc = load_scenario(top)
    assert (sc.name, sc.horizon, sc.site.name) == ("short", 120.0, "small-site")


def test_load_site_reads_a_site_file_alone(site_file) -> None:
    site = load_site(site_file)
    assert site.name == "small-site"
    assert [w.id for w in site.warehouses] == ["main"]


def test_load_site_reports_problems_without_a_site_prefix(write) -> None:
    path = write("s.yaml", SITE_TEXT.replace("unit_cost: 5.0", "unit_cost: -5.0"))
    with pytest.raises(
        ScenarioError,
        match=rf"^{path}:{line_of(path, 'unit_cost: -5.0')}: items\[1\]\.unit_cost: "
        r"Input should be greater than or equal to 0 \(got -5.0\)$",
    ):
        load_site(path)


def test_format_path() -> None:
    assert format_path(("site", "items", 3, "unit_cost")) == "site.items[3].unit_cost"
    assert format_path((0, "a")) == "[0].a"
    assert format_path(()) == ""


# -- extends: overlays -----------------------------------------------------------------------------------


@pytest.fixture
def family(write, site_file):
    """A base scenario and an overlay that changes the horizon, one policy param and the disruptions."""
    base = write(
        "base.yaml",
        HEAD
        + """
        seed: 3
        policies:
          inventory: {use: s_S, params: {service_level: 0.95, S: 200}}
        disruptions:
          - {at: 2d, kind: demand_surge, duration: 1d, factor: 2}
          - {at: 5d, kind: supplier_outage, duration: 2d, supplier: medsupply}
    """.replace("\n        ", "\n"),
    )
    top = write(
        "top.yaml",
        """
        extends: base.yaml
        name: top
        horizon: 10d
        policies:
          inventory:
            params: {service_level: 0.9}
        disruptions:
          - {at: 1d, kind: stock_freeze, duration: 1d, items: gauze}
    """,
    )
    return base, top


def test_overlay_replaces_scalars_merges_mappings_and_replaces_lists(family) -> None:
    base, top = family
    b, t = load_scenario(base), load_scenario(top)
    assert (b.name, b.horizon, b.seed) == ("small", 480.0, 3)
    assert (t.name, t.horizon, t.seed) == ("top", 240.0, 3)  # seed inherited
    assert t.policies.inventory.use == "s_S"  # merged: the overlay only changed a param
    assert t.policies.inventory.params == {"service_level": 0.9, "S": 200}
    assert [d.kind for d in t.disruptions] == ["stock_freeze"]  # lists replace whole
    assert t.site == b.site


def test_overlays_chain(family, write) -> None:
    third = write("third.yaml", "extends: top.yaml\nname: third\nseed: 11\n")
    sc = load_scenario(third)
    assert (sc.name, sc.seed, sc.horizon) == ("third", 11, 240.0)


def test_an_error_inherited_from_the_base_points_at_the_base_file(family, write) -> None:
    base, _ = family
    broken_base = write("base.yaml", base.read_text().replace("factor: 2", "factor: -2"))
    write("child.yaml", "extends: base.yaml\nname: child\n")
    [problem] = problems_of(broken_base.parent / "child.yaml")
    line = line_of(broken_base, "factor: -2")
    assert problem.startswith(f"{broken_base}:{line}: disruptions[0].factor: Input should be greater than or equal")


def test_an_error_in_the_overlay_points_at_the_overlay_even_where_the_base_had_the_key(family, write) -> None:
    # The base's disruption[0] spans several keys; the overlay's replacement lacks 'duration'. The
    # error must not borrow the line of the base's (replaced) entry.
    write(
        "child.yaml",
        """
        extends: base.yaml
        name: child
        disruptions:
          - {at: 1d, kind: demand_surge, factor: 3}
    """,
    )
    child = family[0].parent / "child.yaml"
    [problem] = problems_of(child)
    assert problem == f"{child}:4: disruptions[0].duration: required key is missing"


def test_an_inline_site_in_a_base_keeps_its_site_prefix(write) -> None:
    inline = HEAD.replace(
        "site: site_small.yaml\n", "site:\n" + "".join("  " + ln + "\n" for ln in SITE_TEXT.splitlines())
    )
    base = write("base.yaml", inline.replace("unit_cost: 5.0", "unit_cost: -5.0"))
    top = write("top.yaml", "extends: base.yaml\nname: top\n")
    expected = f"{base}:{line_of(base, 'unit_cost: -5.0')}: site.items[1].unit_cost: Input should be greater"
    assert problems_of(base)[0].startswith(expected)
    assert problems_of(top)[0].startswith(expected)


def test_circular_extends_is_reported(write, site_file) -> None:
    a = write("a.yaml", "extends: b.yaml\n" + HEAD)
    write("b.yaml", "extends: a.yaml\n" + HEAD)
    with pytest.raises(ScenarioError, match=r"extends: circular extends: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_scenario(a)


def test_extends_must_be_a_path(write, site_file) -> None:
    path = write("a.yaml", HEAD + "extends: [x.yaml]\n")
    with pytest.raises(ScenarioError, match=rf"{path}:4: extends: extends must be a file path"):
        load_scenario(path)


# -- durations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("90s", 0.025),
        ("15min", 0.25),
        ("8h", 8.0),
        ("3d", 72.0),
        ("2w", 336.0),
        ("1.5h", 1.5),
        (" 36h ", 36.0),
        ("0s", 0.0),
        ("1e2s", 100 / 3600),
    ],
)
def test_durations_with_units(text: str, hours: float) -> None:
    assert parse_duration(text) == pytest.approx(hours, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, r"duration 3 has no unit; write it with one, e.g. '3d'"),
        (2.5, r"duration 2.5 has no unit"),
        (True, r"duration True has no unit"),
        ("3", r"cannot read duration '3'; use a number and a unit \(s, min, h, d, w\)"),
        ("3 days", r"cannot read duration '3 days'"),
        ("3D", r"cannot read duration '3D'"),
        ("-3d", r"cannot read duration '-3d'"),
        ("d", r"cannot read duration 'd'"),
        (None, r"duration must be text such as '3d' or '8h', not None"),
        ([3, "d"], r"duration must be text"),
    ],
)
def test_durations_without_a_unit_or_unreadable_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (72.0, "3d"),
        (336.0, "2w"),
        (1.5, "90min"),
        (0.025, "90s"),
        (8.0, "8h"),
        (0.0, "0h"),
        (1 / 7200, "0.000138889h"),
    ],
)
def test_format_duration(hours: float, text: str) -> None:
    assert format_duration(hours) == text


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["s", "min", "h", "d", "w"]))
def test_format_duration_round_trips(n: int, unit: str) -> None:
    hours = parse_duration(f"{n}{unit}")
    assert parse_duration(format_duration(hours)) == pytest.approx(hours, rel=1e-12, abs=1e-12)


def test_duration_fields_hold_hours_and_serialise_with_units() -> None:
    data = {"name": "x", "site": small_site(), "horizon": "2w", "warmup": "36h"}
    sc = Scenario.model_validate(data)
    assert (sc.horizon, sc.warmup) == (336.0, 36.0)
    dumped = sc.model_dump(by_alias=True)
    assert (dumped["horizon"], dumped["warmup"]) == ("2w", "36h")
    assert Scenario.model_validate(dumped) == sc


def test_warmup_must_be_shorter_than_the_horizon(write, site_file) -> None:
    path = write("a.yaml", HEAD + "warmup: 20d\n")
    with pytest.raises(ScenarioError, match=rf"{path}:1: warmup must be shorter than the horizon"):
        load_scenario(path)


# -- unknown keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "line"),
    [
        ("horizn: 20d\n", "horizn", 4),
        ("policies:\n  inventory: {usee: s_S}\n", "policies.inventory.usee", 5),
        (
            "policies:\n  inventory: {use: s_S, params: {service_level: 0.9, sevice: 1}}\n",
            "policies.inventory.params.sevice",
            5,
        ),
        (
            "disruptions:\n  - {at: 1d, kind: demand_surge, duration: 1d, factr: 2}\n",
            "disruptions[0].factr",
            5,
        ),
        ("costing: {basis: period_end, perod: 1d}\n", "costing.perod", 4),
    ],
)
def test_unknown_keys_are_rejected(write, site_file, extra: str, path: str, line: int) -> None:
    file = write("a.yaml", HEAD + extra)
    assert f"{file}:{line}: {path}: unknown key (check its spelling; see `twin schema`)" in problems_of(file)


def test_unknown_keys_in_a_site_file_name_the_site_file(write, site_file) -> None:
    site_file.write_text(SITE_TEXT.replace("pickers: 2", "pickrs: 2"))
    file = write("a.yaml", HEAD)
    [problem] = problems_of(file)
    assert (
        problem == f"{site_file}:{line_of(site_file, 'pickrs')}: warehouses[0].pickrs: unknown key "
        "(check its spelling; see `twin schema`)"
    )


# -- every problem at once -------------------------------------------------------------------------------


def test_all_schema_problems_are_reported_together() -> None:
    path = FIXTURES / "invalid" / "uses_typos.yaml"
    site = FIXTURES / "invalid" / "site_typos.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    got = [(p.file, p.line, p.path) for p in info.value.problems]
    shown = os.path.relpath(site, Path.cwd()) if site.is_relative_to(Path.cwd()) else str(site)
    assert got == [
        (shown, line_of(site, "unit_cost: -2.0"), "items[0].unit_cost"),
        (shown, line_of(site, "colour"), "items[1].colour"),
        (shown, line_of(site, "lead_time"), "suppliers[0].lead_time.mean"),
    ]
    assert str(info.value).count("\n") == 2  # one line per problem


def test_all_cross_reference_and_policy_problems_are_reported_together() -> None:
    path = FIXTURES / "invalid" / "bad_refs.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    got = {(p.line, p.path, p.message) for p in info.value.problems}
    assert got == {
        (line_of(path, "plaster"), "site.demand[1].item", "unknown item 'plaster'"),
        (line_of(path, "nobody"), "disruptions[0].supplier", "unknown supplier 'nobody'"),
        (
            line_of(path, "service_level"),
            "policies.inventory.params.service_level",
            "service_level must be between 0 and 1 (exclusive), got 1.2",
        ),
    }


@pytest.mark.parametrize(
    ("site_edit", "path", "message"),
    [
        (
            ("{id: saline, unit_cost: 5.0}", "{id: gauze, unit_cost: 5.0}"),
            "items[1].id",
            "duplicate item id 'gauze'",
        ),
        (
            ("{id: saline, unit_cost: 5.0}", "{id: saline, unit_cost: 5.0, supplier: acme}"),
            "items[1].supplier",
            "unknown supplier 'acme'",
        ),
        (
            ("items: [gauze, saline, gloves]", "items: [gauze, gloves]"),
            "items[1].id",
            "item 'saline' has no supplier; name one with 'supplier:'",
        ),
        (
            ("items: [gauze, saline, gloves]", "items: [gauze, saline, gloves, tape]"),
            "suppliers[0].items[3]",
            "unknown item 'tape'",
        ),
        (
            ("{item: saline, location: main", "{item: saline, location: annex"),
            "demand[1].location",
            "unknown warehouse 'annex'",
        ),
        (("gauze: 40", "gauze: -40"), "warehouses[0].initial_stock.gauze", "negative quantity -40.0"),
        (("gauze: 40", "tape: 40"), "warehouses[0].initial_stock.tape", "unknown item 'tape'"),
        (
            ("mean: 8}", "mean: 8, dist: negbin, sd: 2}"),
            "demand[0]",
            r"dist: negbin needs sd with sd\^2 > mean",
        ),
        (("mean: 8}", "mean: 8, weekly: [1, 1]}"), "demand[0]", "weekly must be 7 non-negative factors"),
        (("mean: 8}", "dist: empirical}"), "demand[0]", "dist: empirical needs 'history'"),
        (
            ("{dist: gamma, mean: 3d, cv: 0.3}", "{dist: gamma, mean: 3d}"),
            "suppliers[0].lead_time",
            "a gamma lead time needs cv > 0",
        ),
    ],
)
def test_site_cross_checks(write, site_file, site_edit: tuple[str, str], path: str, message: str) -> None:
    old, new = site_edit
    assert old in SITE_TEXT
    site_file.write_text(SITE_TEXT.replace(old, new, 1))
    file = write("a.yaml", HEAD)
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    matching = [p for p in info.value.problems if p.path == path]
    assert matching, info.value
    assert matching[0].file == str(site_file)
    assert matching[0].line is not None
    assert re.search(message, matching[0].message), matching[0].message


@pytest.mark.parametrize(
    ("disruption", "path", "message"),
    [
        ("{at: 30d, kind: demand_surge, duration: 1d}", "disruptions[0].at", "starts after the horizon ends"),
        (
            "{at: 1d, kind: demand_surge, duration: 1d, items: 'gauze, tape'}",
            "disruptions[0].items",
            "unknown item 'tape'",
        ),
        (
            "{at: 1d, kind: demand_surge, duration: 1d, items: 'colour:red'}",
            "disruptions[0].items",
            "unknown selector 'colour:red'; use class:, storage: or category:",
        ),
        (
            "{at: 1d, kind: supplier_outage, duration: 1d}",
            "disruptions[0]",
            "a supplier_outage needs 'supplier'",
        ),
        ("{at: 1d, kind: earthquake, duration: 1d}", "disruptions[0].kind", "Input should be 'demand_surge'"),
    ],
)
def test_disruption_checks(write, site_file, disruption: str, path: str, message: str) -> None:
    file = write("a.yaml", HEAD + f"disruptions:\n  - {disruption}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.path) == (str(file), 5, path)
    assert message in problem.message


# -- the policy section ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policies", "line", "path", "message"),
    [
        (
            "  inventory: {use: s_S, params: {service_level: 1.2}}",
            5,
            "policies.inventory.params.service_level",
            r"^service_level must be between 0 and 1 \(exclusive\), got 1.2$",
        ),
        (
            "  inventory:\n    use: s_Q\n    params:\n      service_level: {A: 0.99, B: 1.5}",
            8,
            "policies.inventory.params.service_level",
            r"got 1.5",
        ),
        (
            "  inventory: {use: s_S, params: {}}",
            5,
            "policies.inventory.params",
            r"^give either s or service_level$",
        ),
        (
            "  inventory: {use: base_stock, params: {level: lots}}",
            5,
            "policies.inventory.params.level",
            r"Input should be a valid number",
        ),
        (
            "  inventory: {use: sS, params: {s: 3}}",
            5,
            "policies.inventory.use",
            r"^unknown policy 'sS'; use one of R_S, abc_cycle_count, base_stock",
        ),
        (
            "  inventory: {use: 'no_such_pkg.mod:Policy'}",
            5,
            "policies.inventory.use",
            r"^cannot import 'no_such_pkg.mod' for policy",
        ),
        (
            "  inventory: {use: 'tests.helpers_policy:Nothing'}",
            5,
            "policies.inventory.use",
            r"^module 'tests.helpers_policy' has no 'Nothing'",
        ),
        ("  allocation: {use: fefo_please}", 5, "policies.allocation.use", r"^unknown policy 'fefo_please'"),
        (
            "  cycle_count: {use: abc_cycle_count, params: {interval_days: {A: monthly}}}",
            5,
            "policies.cycle_count.params.interval_days.A",
            r"valid integer",
        ),
    ],
)
def test_policy_names_and_params_are_checked_when_loading(
    write, site_file, policies: str, line: int, path: str, message: str
) -> None:
    file = write("a.yaml", HEAD + "policies:\n" + policies + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    first = info.value.problems[0]
    assert (first.file, first.line, first.path) == (str(file), line, path)
    assert re.search(message, first.message), first.message


# -- demand history files --------------------------------------------------------------------------------


def test_history_csv_is_resolved_relative_to_the_site_file(write, tmp_path, monkeypatch) -> None:
    write("sites/data/gauze.csv", "date,qty\n2024-01-01,3\n2024-01-02,5\n2024-01-03,0\n")
    write(
        "sites/site.yaml",
        SITE_TEXT.replace(
            "{item: gauze, location: main, mean: 8}",
            "{item: gauze, location: main, dist: empirical, history: data/gauze.csv}",
        ),
    )
    path = write("scenarios/a.yaml", HEAD.replace("site_small.yaml", "../sites/site.yaml").replace("20d", "3d"))
    monkeypatch.chdir(tmp_path / "scenarios")
    sc = load_scenario(path)
    history = Path(sc.site.demand[0].history or "")
    assert history.is_absolute() and history == (tmp_path / "sites/data/gauze.csv").resolve()
    result = twin.simulate(sc, replications=1, seed=1, workers=1)
    placed = result.events[(result.events["type"] == "OrderPlaced") & (result.events["item"] == "gauze")]
    assert placed["qty"].sum() > 0


def test_history_csv_of_an_inline_site_is_resolved_relative_to_the_scenario(write, tmp_path, monkeypatch) -> None:
    write("family/hist.csv", "qty\n4\n")
    site = small_site()
    site["demand"][0] = {"item": "gauze", "location": "main", "dist": "empirical", "history": "hist.csv"}
    import yaml

    path = write("family/a.yaml", yaml.safe_dump({"name": "x", "horizon": "2d", "site": site}))
    monkeypatch.chdir(tmp_path)
    assert load_scenario(path).site.demand[0].history == str((tmp_path / "family/hist.csv").resolve())


def test_a_missing_history_file_is_reported_where_it_is_named(write, site_file) -> None:
    site_file.write_text(
        SITE_TEXT.replace(
            "{item: gauze, location: main, mean: 8}",
            "{item: gauze, location: main, dist: empirical, history: nope.csv}",
        )
    )
    file = write("a.yaml", HEAD)
    [problem] = problems_of(file)
    assert problem.startswith(f"{site_file}:{line_of(site_file, 'nope.csv')}: demand[0].history: file not found: ")
    assert problem.endswith("nope.csv")


# -- odd files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "{file}:1: the file is empty"),
        ("# only a comment\n", "{file}:1: the file is empty"),
        ("- a\n- b\n", "{file}:1: expected a mapping of keys at the top level"),
        ("name: a\nname: b\n", "{file}:2: name: duplicate key"),
        (
            "name: x\nhorizon: !!python/name:os.system 3d\n",
            "{file}:2: horizon: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'",
        ),
        (
            "name: x\n\tseed: 1\n",
            "{file}:2: seed: malformed YAML: found character '\\t' that cannot start any token",
        ),
        (
            "name: x\nhorizon: [3d\n",
            "{file}:3: horizon: malformed YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "name: x\npolicies:\n  inventory:\n    use: s_S\n   params: {}\n",
            "{file}:5: policies.inventory.params: malformed YAML: expected <block end>, "
            "but found '<block mapping start>'",
        ),
    ],
)
def test_odd_files(write, text: str, expected: str) -> None:
    path = write("odd.yaml", text)
    [problem] = problems_of(path)
    assert problem == expected.format(file=path)


def test_a_file_that_is_not_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=rf"^{path}: not a UTF-8 text file"):
        load_scenario(path)


def test_a_scenario_file_that_does_not_exist(tmp_path) -> None:
    with pytest.raises(ScenarioError, match=r"nowhere\.yaml: file not found"):
        load_scenario(tmp_path / "nowhere.yaml")


def test_validate_files_collects_problems_of_every_file(write, site_file) -> None:
    a = write("a.yaml", HEAD + "horizn: 1d\n")
    b = write("b.yaml", HEAD.replace("20d", "20"))
    good = write("c.yaml", HEAD)
    problems = validate_files([a, good, b])
    assert [(p.file, p.path) for p in problems] == [(str(a), "horizn"), (str(b), "horizon")]


# -- bad input, end to end: load_scenario, `twin validate` and `twin run` ---------------------------------


@dataclass(frozen=True)
class Bad:
    """A broken scenario: the files to write, the file to load, and where the one error must point."""

    id: str
    files: dict[str, str]
    where: str  # the file holding the mistake
    line_pattern: str  # regex of the line the error must name
    path: str  # the YAML path the error must name
    message: str  # regex the message must match


def _site(old: str, new: str) -> str:
    assert old in SITE_TEXT
    return SITE_TEXT.replace(old, new, 1)


BAD = [
    Bad(
        "malformed-yaml",
        {"main.yaml": HEAD.replace("horizon: 20d", "horizon: 20d: 5d"), "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^horizon:",
        "horizon",
        r"malformed YAML: mapping values are not allowed here",
    ),
    Bad(
        "malformed-site-yaml",
        {"main.yaml": HEAD, "site_small.yaml": _site("  - id: main", "  - id: main\n   oops: [")},
        "site_small.yaml",
        r"oops",
        "warehouses[0].oops",
        r"malformed YAML: expected <block end>",
    ),
    Bad(
        "negative-initial-stock",
        {"main.yaml": HEAD, "site_small.yaml": _site("gauze: 40", "gauze: -40")},
        "site_small.yaml",
        r"initial_stock",
        "warehouses[0].initial_stock.gauze",
        r"negative quantity -40",
    ),
    Bad(
        "negative-demand-mean",
        {"main.yaml": HEAD, "site_small.yaml": _site("mean: 4}", "mean: -4}")},
        "site_small.yaml",
        r"mean: -4",
        "demand[1].mean",
        r"greater than or equal to 0 \(got -4\)",
    ),
    Bad(
        "demand-for-unknown-item",
        {"main.yaml": HEAD, "site_small.yaml": _site("{item: saline,", "{item: plaster,")},
        "site_small.yaml",
        r"plaster",
        "demand[1].item",
        r"unknown item 'plaster'",
    ),
    Bad(
        "duration-without-unit",
        {"main.yaml": HEAD.replace("horizon: 20d", "horizon: 20"), "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^horizon",
        "horizon",
        r"duration 20 has no unit",
    ),
    Bad(
        "site-duration-without-unit",
        {"main.yaml": HEAD, "site_small.yaml": _site("shelf_life: 30d", "shelf_life: 30")},
        "site_small.yaml",
        r"shelf_life",
        "items[0].shelf_life",
        r"duration 30 has no unit",
    ),
    Bad(
        "service-level-1.2",
        {
            "main.yaml": HEAD + "policies:\n  inventory:\n    use: s_S\n    params:\n      service_level: 1.2\n",
            "site_small.yaml": SITE_TEXT,
        },
        "main.yaml",
        r"service_level",
        "policies.inventory.params.service_level",
        r"service_level must be between 0 and 1 \(exclusive\), got 1.2",
    ),
    Bad(
        "service-level-1.2-in-overlay",
        {
            "base.yaml": HEAD + "policies:\n  inventory: {use: s_S, params: {s: 5}}\n",
            "site_small.yaml": SITE_TEXT,
            "main.yaml": "extends: base.yaml\npolicies:\n  inventory:\n    params: {service_level: 1.2}\n",
        },
        "main.yaml",
        r"service_level",
        "policies.inventory.params.service_level",
        r"got 1.2",
    ),
    Bad(
        "missing-extends-file",
        {"main.yaml": "extends: nowhere.yaml\n" + HEAD, "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"^extends",
        "extends",
        r"file not found: nowhere.yaml",
    ),
    Bad(
        "missing-site-file",
        {"main.yaml": HEAD.replace("site_small.yaml", "sites/nowhere.yaml")},
        "main.yaml",
        r"^site:",
        "site",
        r"file not found: sites/nowhere.yaml",
    ),
    Bad(
        "unknown-key",
        {"main.yaml": HEAD + "replicatons: 3\n", "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"replicatons",
        "replicatons",
        r"unknown key",
    ),
    Bad(
        "unknown-policy",
        {"main.yaml": HEAD + "policies:\n  inventory: {use: ss}\n", "site_small.yaml": SITE_TEXT},
        "main.yaml",
        r"use: ss",
        "policies.inventory.use",
        r"unknown policy 'ss'",
    ),
]


@pytest.fixture(params=BAD, ids=[b.id for b in BAD])
def bad(request, tmp_path: Path) -> tuple[Bad, Path, str]:
    """Write a broken scenario; return the case, the file to load, and the 'FILE:LINE: PATH: ' prefix."""
    case: Bad = request.param
    for name, text in case.files.items():
        (tmp_path / name).write_text(text)
    where = tmp_path / case.where
    prefix = f"{where}:{line_of(where, case.line_pattern)}: {case.path}: "
    return case, tmp_path / "main.yaml", prefix


def test_bad_input_load_scenario(bad) -> None:
    case, main, prefix = bad
    with pytest.raises(ScenarioError) as info:
        load_scenario(main)
    assert len(info.value.problems) == 1, str(info.value)
    text = str(info.value)
    assert text.startswith(prefix), text
    assert re.search(case.message, text), text


def test_bad_input_twin_validate(bad, cli) -> None:
    case, main, prefix = bad
    result = cli("validate", main)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # an orderly exit, not a crash
    lines = result.stderr.splitlines()
    assert lines[0].startswith(prefix), result.stderr
    assert lines[1:] == ["1 problem(s) in 1 file(s)"]
    assert "Traceback" not in result.output


def test_bad_input_twin_run_writes_nothing(bad, cli, tmp_path) -> None:
    case, main, prefix = bad
    out = tmp_path / "out"
    result = cli("run", main, "--out", out, "--workers", "1")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]  # one line
    assert result.stderr.startswith(f"error: {prefix}"), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".twin-")]  # no scratch folder left


def test_bad_input_leaves_an_existing_output_folder_empty(write, site_file, cli, tmp_path) -> None:
    main = write("main.yaml", HEAD + "policies:\n  inventory: {use: s_S, params: {service_level: 1.2}}\n")
    out = tmp_path / "out"
    out.mkdir()
    result = cli("run", main, "--out", out)
    assert result.exit_code == 1
    assert list(out.iterdir()) == []


def _twin_command() -> list[str]:
    exe = shutil.which("twin")
    return [exe] if exe else [sys.executable, "-m", "twin.cli"]


def test_bad_input_real_command_has_no_traceback(tmp_path: Path) -> None:
    """The installed `twin` command, not the in-process runner: exit 1, one line, no traceback."""
    runs = []
    for case_id in ("malformed-yaml", "service-level-1.2"):
        case = next(b for b in BAD if b.id == case_id)
        folder = tmp_path / case_id
        folder.mkdir()
        for name, text in case.files.items():
            (folder / name).write_text(text)
        out = folder / "out"
        proc = subprocess.Popen(
            [*_twin_command(), "run", str(folder / "main.yaml"), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200"},
        )
        runs.append((case, folder, out, proc))
    for case, folder, out, proc in runs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1, (case.id, stderr)
        assert "Traceback" not in stdout + stderr
        [line] = stderr.splitlines()
        where = folder / case.where
        assert line.startswith(f"error: {where}:{line_of(where, case.line_pattern)}: {case.path}: "), line
        assert not out.exists()
