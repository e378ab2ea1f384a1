"""twin.scenario, files that do not load: unknown keys, every problem of a file reported at once, site,
disruption and policy cross-checks, odd files (empty, not YAML, not UTF-8, missing), and
validate_files; each problem names the file, the line and the YAML path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, line_of
from tests.helpers_scenario import HEAD, SITE_TEXT, problems_of
from twin.errors import ScenarioError
from twin.scenario import load_scenario, validate_files

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
