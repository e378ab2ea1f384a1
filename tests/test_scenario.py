"""twin.scenario, files that load: YAML -> Scenario, `site:` references, `extends:` overlays, durations
with units, and demand history files resolved relative to the file naming them.
Files that do not load are in tests/test_scenario_problems.py and tests/test_scenario_bad_input.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import twin
from tests.conftest import FIXTURES, line_of, small_site
from tests.helpers_scenario import HEAD, SITE_TEXT, problems_of
from twin.errors import ScenarioError
from twin.model.durations import format_duration, parse_duration
from twin.model.scenario import Scenario
from twin.scenario import format_path, load_scenario, load_site, scenario_digest

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
