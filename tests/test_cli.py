"""The `twin` command (run, validate, schema) and the same run from Python (twin.simulate)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

import twin
from tests.conftest import FIXTURES, ROOT
from twin.model.events import ROW_COLUMNS
from twin.model.scenario import KPI_NAMES

BASELINE = FIXTURES / "baseline.yaml"


@pytest.fixture(scope="module")
def baseline():
    return twin.load_scenario(BASELINE)


def read_outputs(out: Path) -> tuple[dict, pd.DataFrame]:
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "kpis.json"]
    return json.loads((out / "kpis.json").read_text()), pd.read_parquet(out / "events.parquet")


# -- twin run --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """`twin run` with every option given: 3 replications, seed 5, a 5-day horizon."""
    from typer.testing import CliRunner

    from twin.cli import app

    out = tmp_path_factory.mktemp("run") / "nested" / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(BASELINE),
            "--replications",
            "3",
            "--seed",
            "5",
            "--horizon",
            "5d",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    return result, out


def test_run_prints_a_kpi_table(short_run) -> None:
    result, out = short_run
    assert result.exit_code == 0, result.output
    assert "small-baseline: 3 replication(s), seed 5" in result.stdout
    for name in ("KPI", "mean", "95% CI", *KPI_NAMES):
        assert name in result.stdout
    wrote = f"wrote {out / 'kpis.json'} and {out / 'events.parquet'}"
    assert " ".join(wrote.split()) in " ".join(result.stdout.split())


def test_run_writes_kpis_json_in_the_documented_shape(short_run) -> None:
    _, out = short_run
    kpis, _ = read_outputs(out)
    assert {"scenario", "replications", "summary"} <= set(kpis)
    assert kpis["scenario"] == "small-baseline"
    assert len(kpis["replications"]) == 3
    for rep in kpis["replications"]:
        assert set(rep) == set(KPI_NAMES)
        assert all(v is None or isinstance(v, float) for v in rep.values())
    assert set(kpis["summary"]) == set(KPI_NAMES)
    for name, stats in kpis["summary"].items():
        assert set(stats) == {"mean", "ci_low", "ci_high"}
        values = [r[name] for r in kpis["replications"] if r[name] is not None]
        if values:
            assert stats["mean"] == pytest.approx(sum(values) / len(values))
            assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"]
    fill = [r["fill_rate"] for r in kpis["replications"]]
    assert all(0.0 <= f <= 1.0 for f in fill)


def test_run_writes_events_parquet_readable_by_pandas(short_run) -> None:
    _, out = short_run
    _, events = read_outputs(out)
    assert list(events.columns) == [*ROW_COLUMNS, "replication"]
    assert sorted(events["replication"].unique()) == [0, 1, 2]
    assert {"OrderPlaced", "Allocated", "Picked", "Shipped", "GoodsReceived", "PutAway"} <= set(events["type"])
    assert events["t"].max() < 5 * 24.0  # --horizon honoured
    assert events["t"].min() >= 0.0


def test_run_options_are_those_of_the_python_api(short_run, baseline) -> None:
    """--seed, --replications and --horizon mean what simulate(seed=, replications=, horizon=) means."""
    _, out = short_run
    kpis, events = read_outputs(out)
    assert kpis["seed"] == 5
    same = twin.simulate(baseline, replications=3, seed=5, horizon=5 * 24.0, workers=1)
    assert kpis["event_log_sha256"] == same.hashes
    pd.testing.assert_frame_equal(events, same.events, check_dtype=False)
    for rep, (_, row) in zip(kpis["replications"], same.kpis.iterrows(), strict=True):
        for name in KPI_NAMES:
            assert rep[name] == (None if math.isnan(row[name]) else pytest.approx(row[name]))


def test_run_defaults_come_from_the_scenario(cli, tmp_path, baseline) -> None:
    out = tmp_path / "out"
    result = cli("run", BASELINE, "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    kpis, events = read_outputs(out)
    assert kpis["seed"] == baseline.seed == 7
    assert len(kpis["replications"]) == baseline.replications == 2
    assert 5 * 24.0 < events["t"].max() < baseline.horizon


def test_run_seed_changes_the_run(cli, tmp_path) -> None:
    hashes = []
    for seed in ("1", "2", "1"):
        out = tmp_path / f"out{len(hashes)}"
        result = cli(
            "run",
            BASELINE,
            "--seed",
            seed,
            "--replications",
            "1",
            "--horizon",
            "3d",
            "--out",
            out,
            "--workers",
            "1",
        )
        assert result.exit_code == 0, result.output
        hashes.append(json.loads((out / "kpis.json").read_text())["event_log_sha256"][0])
    assert hashes[0] == hashes[2] != hashes[1]


def test_run_without_out_writes_nothing(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("run", BASELINE, "--replications", "1", "--horizon", "2d", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "fill_rate" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["10", "ten days", "-3d"])
def test_run_rejects_a_horizon_without_a_unit(cli, tmp_path, value: str) -> None:
    out = tmp_path / "out"
    result = cli("run", BASELINE, "--horizon", value, "--out", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: --horizon: cannot read duration {value!r}; use a number and a unit (s, min, h, d, w), e.g. '36h'"
    ]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_run_error_from_the_engine_is_one_line_and_writes_nothing(cli, write, tmp_path) -> None:
    (tmp_path / "site_small.yaml").write_text((FIXTURES / "site_small.yaml").read_text())
    main = write(
        "main.yaml",
        """
        name: continuous
        site: site_small.yaml
        horizon: 2d
        policies:
          inventory: {use: 'tests.helpers_policy:ContinuousWithoutReorderPoints'}
    """,
    )
    out = tmp_path / "out"
    result = cli("run", main, "--out", out, "--workers", "1")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "error: policy 'tests.helpers_policy:ContinuousWithoutReorderPoints' reviews continuously but has no "
        "reorder_points(observation); give it one, or a review period ('every: 1d')"
    ]
    assert not out.exists()


def test_run_error_from_the_engine_has_no_blank_line(cli, write, tmp_path) -> None:
    (tmp_path / "site_small.yaml").write_text((FIXTURES / "site_small.yaml").read_text())
    main = write(
        "main.yaml",
        """
        name: continuous
        site: site_small.yaml
        horizon: 2d
        policies:
          inventory: {use: 'tests.helpers_policy:ContinuousWithoutReorderPoints'}
    """,
    )
    result = cli("run", main, "--workers", "1")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1, repr(result.stderr)


# -- twin validate ---------------------------------------------------------------------------------------


def test_validate_lists_every_problem_of_several_files_at_once(cli) -> None:
    typos = FIXTURES / "invalid" / "uses_typos.yaml"
    refs = FIXTURES / "invalid" / "bad_refs.yaml"
    result = cli("validate", typos, refs)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "6 problem(s) in 2 file(s)"
    body = lines[:-1]
    expected = [
        ("site_typos.yaml:4: ", "items[0].unit_cost: Input should be greater than or equal to 0 (got -2.0)"),
        ("site_typos.yaml:5: ", "items[1].colour: unknown key"),
        ("site_typos.yaml:10: ", "suppliers[0].lead_time.mean: duration 3 has no unit"),
        ("bad_refs.yaml:14: ", "site.demand[1].item: unknown item 'plaster'"),
        ("bad_refs.yaml:18: ", "disruptions[0].supplier: unknown supplier 'nobody'"),
        (
            "bad_refs.yaml:16: ",
            "policies.inventory.params.service_level: service_level must be between 0 and 1",
        ),
    ]
    assert len(body) == len(expected)
    for line, (where, what) in zip(body, expected, strict=True):
        assert where + what in line, line


def test_validate_accepts_good_files(cli) -> None:
    result = cli("validate", BASELINE, FIXTURES / "base_stock.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2 file(s) valid"


def test_validate_checks_site_files_as_sites(cli, tmp_path) -> None:
    """A site file (scenarios/sites/) is checked as a site, cross references included, with its own
    lines; every site file of the library is valid."""
    sites = sorted((ROOT / "scenarios" / "sites").glob("*.yaml"))
    result = cli("validate", *sites)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{len(sites)} file(s) valid"
    bad = tmp_path / "bad-site.yaml"
    bad.write_text("name: small\n"
                   "items:\n"
                   "  - {id: gauze, unit_cost: 1, supplier: medline}\n"
                   "warehouses:\n"
                   "  - {id: main}\n"
                   "suppliers:\n"
                   "  - {id: medline, lead_time: {mean: 2d}}\n"
                   "demand:\n"
                   "  - {item: plaster, location: main, mean: 3}\n")
    result = cli("validate", bad)
    assert result.exit_code == 1
    assert "bad-site.yaml:9: demand[0].item: unknown item 'plaster'" in result.stderr, result.stderr
    assert "site-check" not in result.stderr  # nothing speaks of the probe scenario it is checked through


def test_validate_a_missing_file(cli, tmp_path) -> None:
    result = cli("validate", tmp_path / "nowhere.yaml")
    assert result.exit_code == 1
    assert f"{tmp_path / 'nowhere.yaml'}: file not found" in result.stderr


# -- twin schema -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_doc() -> dict:
    from typer.testing import CliRunner

    from twin.cli import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_schema_is_json_naming_the_scenario_keys(schema_doc) -> None:
    props = schema_doc["properties"]
    assert {"name", "horizon", "warmup", "site", "extends", "policies", "disruptions", "kpis"} <= set(props)
    assert schema_doc["additionalProperties"] is False
    assert "required" not in schema_doc  # overlay files inherit name, site and horizon
    horizon = props["horizon"]
    assert horizon["type"] == "string" and "pattern" in horizon


def test_schema_accepts_a_scenario_file_and_rejects_typos(schema_doc) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(yaml.safe_load(BASELINE.read_text()), schema_doc)
    with pytest.raises(jsonschema.ValidationError, match="horizn"):
        jsonschema.validate({"name": "x", "site": "s.yaml", "horizon": "3d", "horizn": "3d"}, schema_doc)
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate({"name": "x", "site": "s.yaml", "horizon": "3"}, schema_doc)


def test_schema_accepts_an_overlay_file(schema_doc) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.validators.validator_for(schema_doc)(schema_doc)
    overlay = yaml.safe_load((FIXTURES / "base_stock.yaml").read_text())
    assert [e.message for e in validator.iter_errors(overlay)] == []


# -- the same from Python --------------------------------------------------------------------------------


def test_simulate_returns_kpis_and_events_frames(baseline) -> None:
    calls = []
    result = twin.simulate(
        baseline,
        replications=2,
        seed=3,
        horizon=3 * 24.0,
        workers=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert isinstance(result, twin.SimulationResult)
    assert list(result.kpis.index) == [0, 1] and set(KPI_NAMES) <= set(result.kpis.columns)
    assert list(result.summary.index) == list(baseline.kpis)
    assert {"mean", "ci_low", "ci_high"} <= set(result.summary.columns)
    assert set(result.events["replication"]) == {0, 1}
    assert set(ROW_COLUMNS) <= set(result.events.columns)
    assert calls == [(1, 2), (2, 2)]
    assert result.to_json()["scenario"] == "small-baseline"


def test_simulate_defaults_to_the_scenarios_seed_and_replications(baseline) -> None:
    short = baseline.model_copy(update={"horizon": 48.0})
    result = twin.simulate(short, workers=1)
    assert result.seed == 7 and len(result.kpis) == 2


def test_replications_in_worker_processes_match_in_process(baseline) -> None:
    one = twin.simulate(baseline, replications=2, seed=9, horizon=4 * 24.0, workers=1)
    two = twin.simulate(baseline, replications=2, seed=9, horizon=4 * 24.0, workers=2)
    assert one.hashes == two.hashes
    assert one.hashes[0] != one.hashes[1]  # replications are independent streams
