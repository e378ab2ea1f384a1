"""Run registry: every run, comparison and sweep recorded in an embedded SQLite database.

A registry lives in a home folder (``$TWIN_HOME``, else ``./.twin``)::

    <home>/registry.sqlite     one row per run: what ran, with which code, seed and result
    <home>/runs/<id>/          that run's traces, one Parquet file per replication

The engine never holds a thousand replications in memory: ``simulate(..., trace_dir=record.traces)``
writes each replication's events as it finishes, and the registry only records where they are.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import json
import math
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from twin.errors import TwinError

__all__ = ["KINDS", "STATUSES", "RegistryError", "RunNotFound", "AmbiguousRunId", "RunRecord",
           "RunRegistry", "default_home", "code_version", "file_sha256", "summary_to_dict"]

KINDS = ("run", "compare", "sweep")
STATUSES = ("running", "done", "failed", "cancelled")
DB_NAME = "registry.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    created      TEXT NOT NULL,
    names        TEXT NOT NULL,
    files        TEXT NOT NULL,
    file_hashes  TEXT NOT NULL,
    code_version TEXT NOT NULL,
    seed         INTEGER,
    replications INTEGER,
    summary      TEXT NOT NULL DEFAULT '{}',
    traces       TEXT NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
"""
_COLUMNS = ("id", "kind", "created", "names", "files", "file_hashes", "code_version", "seed",
            "replications", "summary", "traces", "status", "note")
_INSERT = f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class RegistryError(TwinError):
    """The registry cannot be opened or was asked for something it cannot do."""


class RunNotFound(RegistryError):
    """No run has the given id (or id prefix)."""


class AmbiguousRunId(RegistryError):
    """An id prefix matches more than one run."""


@dataclass(frozen=True)
class RunRecord:
    """One row of the registry, decoded."""

    id: str
    kind: str
    created: str  # UTC, ISO 8601
    names: list[str]
    files: list[str | None]
    file_hashes: list[dict[str, str | None]]  # per scenario: {"file": sha256 of bytes, "scenario": digest}
    code_version: str
    seed: int | None
    replications: int | None
    summary: dict[str, Any]
    traces: Path
    status: str
    note: str

    def trace_files(self) -> builtins.list[Path]:
        """The Parquet files under this run's trace folder (comparisons use one subfolder per scenario)."""
        return sorted(self.traces.rglob("*.parquet")) if self.traces.is_dir() else []


def default_home() -> Path:
    """The registry's home: ``$TWIN_HOME`` when set, else ``.twin`` in the current directory."""
    env = os.environ.get("TWIN_HOME")
    return Path(env) if env else Path.cwd() / ".twin"


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """The package version, plus ``+git.<commit>`` (and ``.dirty`` with uncommitted changes to tracked
    files) when the package is the top of a git checkout. Cached: it does not change within a process."""
    from twin import __version__  # imported late: twin/__init__ may be mid-import when store loads

    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        # Only our own checkout counts: an installed copy inside some other repository is not versioned by it.
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return __version__
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+git.{commit}" + (".dirty" if dirty else "")


def summary_to_dict(summary: pd.DataFrame) -> dict[str, Any]:
    """A KPI summary frame as JSON-ready data: ``{kpi: {mean, ci_low, ...}}`` for a frame indexed by
    kpi (SimulationResult.summary), ``{scenario: {kpi: {...}}}`` for one indexed by (scenario, kpi)
    (ComparisonResult.summary). NaN becomes None."""

    def clean(value: Any) -> Any:
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value

    result: dict[str, Any] = {}
    for index, row in summary.to_dict(orient="index").items():  # keeps each column's dtype (n stays int)
        stats = {str(k): clean(v) for k, v in row.items()}
        if isinstance(index, tuple):
            scenario, kpi = (str(part) for part in index)
            result.setdefault(scenario, {})[kpi] = stats
        else:
            result[str(index)] = stats
    return result


class RunRegistry:
    """Runs recorded in ``<home>/registry.sqlite``; their traces under ``<home>/runs/<id>/``.

    Every method opens its own short connection, so several processes may share one registry (WAL
    mode lets readers work while a run is being written). ``clock`` returns the current UTC time;
    tests pass a fixed one.
    """

    def __init__(self, home: str | Path, clock: Callable[[], datetime] | None = None) -> None:
        self.home = Path(home)
        self.db_path = self.home / DB_NAME
        self.runs_dir = self.home / "runs"
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ready = False

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.db_path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise RegistryError(f"cannot open the run registry at {self.db_path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        try:
            if not self._ready:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise RegistryError(f"{self.db_path}: SQLite refused WAL mode (got {mode!r}); "
                                        "put TWIN_HOME on a local disk")
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._ready = True
            with conn:  # one transaction: commit on success, roll back on error
                yield conn
        except sqlite3.OperationalError as exc:  # locked, disk full, read-only, ...
            raise RegistryError(f"run registry {self.db_path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"run registry {self.db_path}: {exc} (not a LEMS Twin registry, "
                                "or damaged; move it away to start afresh)") from exc
        finally:
            conn.close()

    def new_run(
        self,
        kind: str,
        names: Sequence[str],
        files: Sequence[str | Path | None],
        digests: Sequence[str],
        seed: int | None,
        replications: int | None,
        note: str = "",
    ) -> RunRecord:
        """Record a run as 'running' and create its trace folder.

        ``files`` are the scenario files (None for a scenario built in Python) and ``digests`` the
        ``scenario_digest`` of each resolved scenario, both in the order of ``names``.
        """
        if kind not in KINDS:
            raise RegistryError(f"unknown run kind {kind!r}: use one of {', '.join(KINDS)}")
        if not len(names) == len(files) == len(digests):
            raise RegistryError(f"names, files and digests differ in length ({len(names)}, {len(files)}, "
                                f"{len(digests)}): give one of each per scenario")
        paths = [str(Path(f).resolve()) if f is not None else None for f in files]
        try:
            hashes = [{"file": file_sha256(p) if p is not None else None, "scenario": d}
                      for p, d in zip(paths, digests, strict=True)]
        except OSError as exc:
            raise RegistryError(f"cannot hash scenario file: {exc}") from exc
        now = self._clock().astimezone(UTC)
        created = now.isoformat(timespec="microseconds")
        version = code_version()
        with self._connect() as conn:
            # The suffix makes ids unique within a second; retry on the (rare) collision.
            for _ in range(100):
                run_id = f"r{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
                traces = (self.runs_dir / run_id).resolve()
                try:
                    conn.execute(_INSERT, (run_id, kind, created, json.dumps(list(names)), json.dumps(paths),
                                           json.dumps(hashes), version, seed, replications, "{}", str(traces),
                                           "running", note))
                    break
                except sqlite3.IntegrityError:
                    continue
            else:
                raise RegistryError(f"could not find a free run id for {now:%Y-%m-%d %H:%M:%S}")
            try:  # inside the transaction: no row without its folder
                traces.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(f"run {run_id}: cannot create its trace folder {traces}: {exc}") from exc
        return self.get(run_id)

    def finish(
        self, id: str, summary: Mapping[str, Any], status: str = "done", note: str | None = None
    ) -> RunRecord:
        """Store a run's KPI summary (JSON-ready, e.g. from ``summary_to_dict``) and its final status."""
        if status not in STATUSES:
            raise RegistryError(f"unknown run status {status!r}: use one of {', '.join(STATUSES)}")
        try:
            text = json.dumps(summary, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"run {id}: summary is not plain JSON ({exc}); "
                                "use summary_to_dict()") from exc
        record = self.get(id)
        with self._connect() as conn:
            conn.execute("UPDATE runs SET summary = ?, status = ?, note = COALESCE(?, note) WHERE id = ?",
                         (text, status, note, record.id))
        return self.get(record.id)

    def list(self, limit: int = 50) -> builtins.list[RunRecord]:
        """The most recent runs, newest first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM runs ORDER BY created DESC, rowid DESC LIMIT ?",
                                (limit,)).fetchall()
        return [_record(row) for row in rows]

    def get(self, id: str) -> RunRecord:
        """The run with this id, or the only run whose id starts with it."""
        if not id:
            raise RunNotFound("empty run id: give an id from `twin runs list`")
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (id,)).fetchone()
            if row is not None:
                return _record(row)
            rows = conn.execute("SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                                (len(id), id)).fetchall()
        if not rows:
            raise RunNotFound(f"no run {id!r} in {self.db_path} (see `twin runs list`)")
        if len(rows) > 1:
            shown = ", ".join(r["id"] for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
            raise AmbiguousRunId(f"run id {id!r} is ambiguous: it starts {shown}; give more characters")
        return _record(rows[0])

    def remove(self, id: str) -> RunRecord:
        """Delete a run's row and its trace folder; return the record as it was."""
        record = self.get(id)
        # Only ever delete inside our own runs folder, whatever path the row holds.
        folder = self.runs_dir / record.id
        with self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (record.id,))
            try:  # inside the transaction: if the folder cannot go, the row stays too
                if folder.is_dir():
                    shutil.rmtree(folder)
            except OSError as exc:
                raise RegistryError(f"run {record.id}: cannot delete its traces at {folder}: {exc}") from exc
        return record


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], kind=row["kind"], created=row["created"], names=json.loads(row["names"]),
        files=json.loads(row["files"]), file_hashes=json.loads(row["file_hashes"]),
        code_version=row["code_version"], seed=row["seed"], replications=row["replications"],
        summary=json.loads(row["summary"]), traces=Path(row["traces"]), status=row["status"],
        note=row["note"])
