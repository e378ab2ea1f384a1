"""The run registry (twin.store) and `twin runs list / show / rm` (twin.cli_runs)."""

from __future__ import annotations

import hashlib
import math
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

import twin
from tests.conftest import small_scenario
from twin import cli_runs, store
from twin.errors import TwinError
from twin.store import AmbiguousRunId, RegistryError, RunNotFound, RunRegistry, default_home, summary_to_dict

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def ticking(step: timedelta = timedelta(seconds=1)) -> Callable[[], datetime]:
    """A clock that starts at T0 and moves on by ``step`` each time it is read."""
    state = {"n": 0}

    def clock() -> datetime:
        state["n"] += 1
        return T0 + step * (state["n"] - 1)

    return clock


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text("name: baseline\n# not loaded: the registry only hashes the bytes\n")
    return path


@pytest.fixture
def registry(tmp_path: Path) -> RunRegistry:
    return RunRegistry(tmp_path / "home", clock=ticking())


def new(reg: RunRegistry, scenario_file: Path | None = None, name: str = "baseline") -> Any:
    return reg.new_run("run", [name], [scenario_file], ["d1g3st"], seed=7, replications=3)


SUMMARY = {"fill_rate": {"mean": 0.95, "ci_low": 0.93, "ci_high": 0.97, "half_width": 0.02, "n": 3},
           "total_cost": {"mean": 1234.5, "ci_low": None, "ci_high": None, "half_width": None, "n": 1}}


# -- the registry ------------------------------------------------------------------------------------------


def test_new_run_records_everything_and_makes_its_trace_folder(registry: RunRegistry,
                                                               scenario_file: Path) -> None:
    rec = new(registry, scenario_file)
    assert rec.id.startswith("r20260102-030405-") and len(rec.id) == len("r20260102-030405-abcd")
    assert rec.kind == "run" and rec.status == "running" and rec.summary == {}
    assert rec.created == "2026-01-02T03:04:05.000000+00:00"
    assert rec.names == ["baseline"] and rec.files == [str(scenario_file.resolve())]
    assert rec.file_hashes == [{"file": hashlib.sha256(scenario_file.read_bytes()).hexdigest(),
                                "scenario": "d1g3st"}]
    assert rec.code_version.startswith(twin.__version__)
    assert (rec.seed, rec.replications) == (7, 3)
    assert rec.traces == (registry.home / "runs" / rec.id).resolve() and rec.traces.is_dir()
    assert registry.db_path.is_file()


def test_a_scenario_built_in_python_has_no_file_hash(registry: RunRegistry) -> None:
    rec = new(registry, None)
    assert rec.files == [None] and rec.file_hashes == [{"file": None, "scenario": "d1g3st"}]


def test_registry_uses_wal_mode(registry: RunRegistry) -> None:
    new(registry)
    with sqlite3.connect(registry.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_finish_stores_summary_and_status(registry: RunRegistry) -> None:
    rec = new(registry)
    done = registry.finish(rec.id, SUMMARY, note="nightly")
    assert done.status == "done" and done.summary == SUMMARY and done.note == "nightly"
    assert registry.finish(rec.id[:-1], {}, status="cancelled").status == "cancelled"  # a prefix works too
    assert registry.get(rec.id).note == "nightly"  # kept when not given


def test_list_is_newest_first_and_limited(registry: RunRegistry) -> None:
    ids = [new(registry, name=f"s{i}").id for i in range(4)]
    assert [r.id for r in registry.list()] == ids[::-1]
    assert [r.id for r in registry.list(limit=2)] == ids[:1:-1]


def test_same_second_runs_get_unique_ids_and_list_in_creation_order(tmp_path: Path) -> None:
    reg = RunRegistry(tmp_path, clock=lambda: T0)
    ids = [new(reg).id for _ in range(20)]
    assert len(set(ids)) == 20
    assert [r.id for r in reg.list()] == ids[::-1]


def test_get_by_id_and_unique_prefix(registry: RunRegistry) -> None:
    a = new(registry)  # 03:04:05
    b = new(registry)  # 03:04:06
    assert registry.get(a.id) == a
    assert registry.get("r20260102-030406").id == b.id


def test_ambiguous_prefix_is_an_error(registry: RunRegistry) -> None:
    new(registry)
    new(registry)
    with pytest.raises(AmbiguousRunId, match=r"run id 'r2026' is ambiguous: it starts r20260102-030405-"):
        registry.get("r2026")


@pytest.mark.parametrize("bad", ["zzz", "", "r2026%"])
def test_unknown_id_is_an_error(registry: RunRegistry, bad: str) -> None:
    new(registry)
    with pytest.raises(RunNotFound, match="no run|empty run id"):
        registry.get(bad)
    assert issubclass(RunNotFound, TwinError)


def test_remove_deletes_row_and_trace_folder(registry: RunRegistry) -> None:
    keep, gone = new(registry), new(registry)
    (gone.traces / "rep-0000.parquet").write_bytes(b"x")
    removed = registry.remove(gone.id)
    assert removed.id == gone.id and not gone.traces.exists()
    assert [r.id for r in registry.list()] == [keep.id] and keep.traces.is_dir()
    with pytest.raises(RunNotFound, match=f"no run '{gone.id}'"):
        registry.get(gone.id)


def test_remove_never_deletes_outside_the_runs_folder(registry: RunRegistry, tmp_path: Path) -> None:
    rec = new(registry)
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    with sqlite3.connect(registry.db_path) as conn:
        conn.execute("UPDATE runs SET traces = ? WHERE id = ?", (str(elsewhere), rec.id))
    registry.remove(rec.id)
    assert elsewhere.is_dir() and not rec.traces.exists()


def test_bad_inputs_are_refused(registry: RunRegistry, scenario_file: Path) -> None:
    with pytest.raises(RegistryError, match="unknown run kind 'replay'"):
        registry.new_run("replay", ["a"], [None], ["d"], 1, 1)
    with pytest.raises(RegistryError, match=r"differ in length \(2, 1, 1\)"):
        registry.new_run("compare", ["a", "b"], [None], ["d"], 1, 1)
    with pytest.raises(RegistryError, match="cannot hash scenario file"):
        registry.new_run("run", ["a"], [scenario_file.parent / "missing.yaml"], ["d"], 1, 1)
    rec = new(registry)
    with pytest.raises(RegistryError, match="unknown run status 'ok'"):
        registry.finish(rec.id, {}, status="ok")
    with pytest.raises(RegistryError, match="summary is not plain JSON"):
        registry.finish(rec.id, {"fill_rate": {"mean": math.nan}})


def test_a_file_that_is_not_a_registry_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / store.DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RegistryError, match="not a LEMS Twin registry, or damaged"):
        RunRegistry(tmp_path).list()


def test_registry_refuses_to_run_without_wal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_connect = sqlite3.connect
    monkeypatch.setattr(store.sqlite3, "connect", lambda *a, **k: real_connect(":memory:"))  # no WAL there
    with pytest.raises(RegistryError, match="SQLite refused WAL mode \\(got 'memory'\\)"):
        RunRegistry(tmp_path).list()


def test_a_home_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("")
    with pytest.raises(RegistryError, match="cannot open the run registry at"):
        RunRegistry(tmp_path / "home").list()


def test_id_collisions_are_retried_then_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    reg = RunRegistry(tmp_path, clock=lambda: T0)
    suffixes = iter(["aaaa", "aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(store.secrets, "token_hex", lambda n: next(suffixes))
    assert new(reg).id.endswith("-aaaa") and new(reg).id.endswith("-bbbb")  # two collisions, then free
    monkeypatch.setattr(store.secrets, "token_hex", lambda n: "aaaa")
    with pytest.raises(RegistryError, match="could not find a free run id for 2026-01-02 03:04:05"):
        new(reg)


def test_remove_keeps_the_row_when_the_traces_cannot_be_deleted(
    monkeypatch: pytest.MonkeyPatch, registry: RunRegistry
) -> None:
    rec = new(registry)

    def refuse(path: Any) -> None:
        raise PermissionError(f"permission denied: {path}")

    monkeypatch.setattr(store.shutil, "rmtree", refuse)
    with pytest.raises(RegistryError, match=f"run {rec.id}: cannot delete its traces"):
        registry.remove(rec.id)
    assert registry.get(rec.id) == rec


def test_no_row_is_left_when_the_trace_folder_cannot_be_made(registry: RunRegistry) -> None:
    registry.runs_dir.parent.mkdir(parents=True)
    registry.runs_dir.write_text("")  # a file where the runs folder should be
    with pytest.raises(RegistryError, match="cannot create its trace folder"):
        new(registry)
    assert registry.list() == []


def test_default_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWIN_HOME", raising=False)
    assert default_home() == tmp_path / ".twin"
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"


def test_code_version_without_git_is_the_package_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert store.code_version.__wrapped__() == twin.__version__


def test_summary_to_dict_for_runs_and_comparisons() -> None:
    rows = [{"scenario": s, "kpi": "fill_rate", "mean": 0.9, "ci_low": math.nan, "n": 1} for s in ("a", "b")]
    frame = pd.DataFrame(rows)
    assert summary_to_dict(frame.drop(columns="scenario").iloc[:1].set_index("kpi")) == {
        "fill_rate": {"mean": 0.9, "ci_low": None, "n": 1}}
    nested = summary_to_dict(frame.set_index(["scenario", "kpi"]))
    assert nested == {s: {"fill_rate": {"mean": 0.9, "ci_low": None, "n": 1}} for s in ("a", "b")}


# -- streaming traces --------------------------------------------------------------------------------------


def test_simulate_streams_traces_into_the_run_folder(registry: RunRegistry) -> None:
    from twin.experiment import simulate
    from twin.scenario import scenario_digest

    scenario = small_scenario(horizon="30d")
    rec = registry.new_run("run", [scenario.name], [None], [scenario_digest(scenario)], 7, 3)
    result = simulate(scenario, replications=3, seed=7, workers=1, keep_events=False, trace_dir=rec.traces)
    assert result.events.empty  # nothing held in memory
    files = registry.get(rec.id).trace_files()
    assert [f.name for f in files] == ["rep-0000.parquet", "rep-0001.parquet", "rep-0002.parquet"]
    for f in files:
        assert len(pd.read_parquet(f)) > 0
    done = registry.finish(rec.id, summary_to_dict(result.summary))
    assert done.summary["fill_rate"]["n"] == 3
    assert done.summary["total_cost"]["mean"] == pytest.approx(result.summary.loc["total_cost", "mean"])


# -- twin runs ---------------------------------------------------------------------------------------------


@pytest.fixture
def runs_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """`twin runs ...` through a local app that mounts runs_app as twin.cli will; a wide console so
    tables are not cropped."""
    app = typer.Typer()
    app.add_typer(cli_runs.runs_app, name="runs")
    monkeypatch.setattr(cli_runs.out, "width", 200)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["runs", *(str(a) for a in args)])


@pytest.fixture
def filled(registry: RunRegistry, scenario_file: Path) -> tuple[Any, Any]:
    run = registry.finish(new(registry, scenario_file).id, SUMMARY)
    (run.traces / "rep-0000.parquet").write_bytes(b"PAR1")
    cmp = registry.new_run("compare", ["base", "alt"], [None, None], ["d1", "d2"], 3, 5)
    cmp = registry.finish(cmp.id, {
        "base": {"fill_rate": {"mean": 0.91, "ci_low": 0.9, "ci_high": 0.92, "n": 5}},
        "alt": {"fill_rate": {"mean": 0.97, "ci_low": 0.96, "ci_high": 0.98, "n": 5}}})
    (cmp.traces / "alt").mkdir()
    (cmp.traces / "alt" / "rep-0004.parquet").write_bytes(b"PAR1")
    return run, cmp


def test_runs_list(runs_cli: Callable[..., Result], registry: RunRegistry, filled: tuple[Any, Any]) -> None:
    run, cmp = filled
    result = runs_cli("list", "--home", registry.home)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "fill_rate" in result.stdout and "total_cost" in result.stdout  # the headline KPI columns
    at_run = next(i for i, line in enumerate(lines) if run.id in line)
    at_cmp = next(i for i, line in enumerate(lines) if cmp.id in line)
    assert at_cmp < at_run  # newest first
    for text in ("run", "2026-01-02 03:04", "baseline", "3", "done", "0.9500", "1,234.5"):
        assert text in lines[at_run], text
    for text in ("compare", "base", "5", "done", "0.9100"):
        assert text in lines[at_cmp], text
    assert "alt" in lines[at_cmp + 1] and "0.9700" in lines[at_cmp + 1]  # one line per scenario


def test_runs_list_empty_and_home_from_env(runs_cli: Callable[..., Result], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "empty"))
    result = runs_cli("list")
    assert result.exit_code == 0 and "no runs recorded yet" in result.stdout
    assert (tmp_path / "empty" / store.DB_NAME).is_file()


def test_runs_show(runs_cli: Callable[..., Result], registry: RunRegistry, filled: tuple[Any, Any],
                   scenario_file: Path) -> None:
    run, cmp = filled
    result = runs_cli("show", run.id[:-2], "--home", registry.home)
    assert result.exit_code == 0, result.output
    for text in (run.id, "code version", run.code_version, "seed", "7", "replications",
                 str(scenario_file.resolve()), run.file_hashes[0]["file"], "d1g3st", "KPI summary",
                 "fill_rate", "0.9500", "[0.9300, 0.9700]", "total_cost", "1,234.5", f"traces: {run.traces}",
                 "rep-0000.parquet", "4 bytes"):
        assert text in result.stdout, text
    result = runs_cli("show", cmp.id, "--home", registry.home)
    assert result.exit_code == 0, result.output
    for text in ("scenario 2", "alt", "0.9700", "[0.9600, 0.9800]", str(Path("alt") / "rep-0004.parquet")):
        assert text in result.stdout, text


def test_runs_rm(runs_cli: Callable[..., Result], registry: RunRegistry, filled: tuple[Any, Any]) -> None:
    run, cmp = filled
    result = runs_cli("rm", cmp.id, "--home", registry.home)
    assert result.exit_code == 0, result.output
    assert f"removed run {cmp.id} (compare of base, alt)" in result.stdout
    assert "(1 trace file)" in result.stdout
    assert not cmp.traces.exists() and [r.id for r in registry.list()] == [run.id]


@pytest.mark.parametrize("command", ["show", "rm"])
@pytest.mark.parametrize("bad", ["nope", "r2026"])
def test_unknown_or_ambiguous_id_is_one_line_and_exit_1(
    runs_cli: Callable[..., Result], registry: RunRegistry, filled: tuple[Any, Any], command: str, bad: str
) -> None:
    result = runs_cli(command, bad, "--home", registry.home)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert ("no run 'nope'" if bad == "nope" else "is ambiguous") in lines[0]
    assert len(registry.list()) == 2  # nothing removed
