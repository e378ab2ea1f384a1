"""The live event store: every accepted event, hash-chained, in an embedded SQLite database (WAL).

DESIGN principle 7: an event is written (and the write is on disk: WAL with ``synchronous=FULL``)
before the live twin acknowledges it. Each row carries the SHA-256 of the row before it, so
``verify()`` proves that no recorded event was altered or removed: changing a row breaks its own
hash, removing one breaks the sequence and the next row's link, and cutting rows off the end no
longer matches the head (count and hash) kept beside the log. Rejected input goes to ``dead_letter``
with the reason, never silently nowhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from twin.errors import TwinError

__all__ = ["EventStore", "StoredEvent", "NewEvent", "DeadLetter", "AuditReport", "EventStoreError",
           "GENESIS", "canonical"]

GENESIS = "0" * 64
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    t         REAL NOT NULL,
    n         INTEGER NOT NULL,
    source    TEXT NOT NULL,
    type      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    received  TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    n         INTEGER PRIMARY KEY,
    received  TEXT NOT NULL,
    source    TEXT NOT NULL,
    event_id  TEXT,
    stage     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    raw       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class EventStoreError(TwinError):
    """The event store cannot be opened or written."""


# One encoder for every event (``json.dumps`` with options builds a new one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(obj: Any) -> str:
    """The one JSON spelling of a value that is hashed (sorted keys, no spaces)."""
    return _CANONICAL.encode(obj)


class NewEvent(NamedTuple):
    """An accepted event about to be stored (its payload already validated). A named tuple, not a
    frozen dataclass: one is made per ingested event, and a tuple is several times cheaper to make."""

    id: str
    t: float
    n: int
    source: str
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    id: str
    t: float
    n: int
    source: str
    type: str
    payload: dict[str, Any]
    received: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class DeadLetter:
    n: int
    received: str
    source: str
    event_id: str | None
    stage: str  # 'ingest' (never stored) or 'apply' (stored, could not be applied: rolled back)
    reason: str
    raw: str


@dataclass
class AuditReport:
    ok: bool
    events: int
    head: str
    problems: list[str] = field(default_factory=list)


def _hash(prev: str, seq: int, e: NewEvent | StoredEvent, payload_text: str) -> str:
    """SHA-256 of a row: its link, place and fields, and the canonical payload text as stored."""
    return hashlib.sha256(f"{prev}|{seq}|{e.id}|{e.t!r}|{e.n}|{e.source}|{e.type}|{payload_text}".encode()).hexdigest()


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of ``moment``'s week: a new store's epoch, so that site time (hours since the
    epoch) modulo one week is the time of week every rule of the simulation reads (shifts, delivery
    windows, congestion, weekly demand), as in a forecast forked from the live state."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


class EventStore:
    """Events of one live site in ``path`` (SQLite). One writer at a time (a lock guards it);
    readers open their own connections, which WAL lets run beside the writer."""

    def __init__(self, path: str | Path, epoch: datetime | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise EventStoreError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); use a local disk")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            stamp = (epoch or week_start(datetime.now(UTC))).astimezone(UTC).isoformat()
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (stamp,))
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            row = self._conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise EventStoreError(f"event store {self.path}: {exc}") from exc
        self.epoch = datetime.fromisoformat(self._meta("epoch") or stamp)
        self._seq, self._head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        self._ids: set[str] = {r[0] for r in self._conn.execute("SELECT id FROM events")}

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- writing -------------------------------------------------------------------------------

    def known(self, event_id: str) -> bool:
        return event_id in self._ids

    def append(self, events: Sequence[NewEvent]) -> list[int]:
        """Store events in one transaction, chained; return their sequence numbers. Ids already
        stored are the caller's to filter out (``known``); a repeat here is an error, nothing written."""
        if not events:
            return []
        with self._lock:
            seq, head = self._seq, self._head
            rows = []
            now = datetime.now(UTC).isoformat(timespec="microseconds")
            for e in events:
                seq += 1
                text = canonical(e.payload)
                digest = _hash(head, seq, e, text)
                rows.append((seq, e.id, e.t, e.n, e.source, e.type, text, now, head, digest))
                head = digest
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('head', ?)", (f"{seq}:{head}",))
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise EventStoreError(f"event store {self.path}: cannot store {len(rows)} event(s): {exc}") from exc
            self._seq, self._head = seq, head
            self._ids.update(e.id for e in events)
            return [r[0] for r in rows]

    def dead_letter(self, entries: Sequence[tuple[str, str | None, str, str, str]]) -> None:
        """Record rejected input: (source, event id or None, stage, reason, raw text)."""
        if not entries:
            return
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT INTO dead_letter (received, source, event_id, stage, reason, raw) VALUES (?,?,?,?,?,?)",
                    [(now, s, i, st, r, raw[:10000]) for s, i, st, r, raw in entries])
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise EventStoreError(f"event store {self.path}: cannot write the dead letters: {exc}") from exc

    # -- reading -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise EventStoreError(f"event store {self.path}: {exc}") from exc
        finally:
            conn.close()

    @property
    def count(self) -> int:
        return self._seq

    @property
    def head(self) -> str:
        return self._head

    def events(self) -> Iterator[StoredEvent]:
        """Every stored event in sequence (arrival) order."""
        with self._reader() as conn:
            for row in conn.execute("SELECT seq, id, t, n, source, type, payload, received, prev_hash, hash "
                                    "FROM events ORDER BY seq"):
                yield StoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]),
                                  row[7], row[8], row[9])

    def events_at(self, seqs: Collection[int]) -> dict[int, StoredEvent]:
        """The stored events with these sequence numbers, by number (absent numbers are left out)."""
        wanted = set(seqs)
        if not wanted:
            return {}
        return {se.seq: se for se in self.events() if se.seq in wanted}

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self._reader() as conn:
            rows = conn.execute("SELECT n, received, source, event_id, stage, reason, raw FROM dead_letter "
                                "ORDER BY n DESC LIMIT ?", (limit,)).fetchall()
        return [DeadLetter(*row) for row in rows]

    def dead_letter_count(self) -> dict[str, int]:
        with self._reader() as conn:
            rows = conn.execute("SELECT stage, COUNT(*) FROM dead_letter GROUP BY stage").fetchall()
        return {str(stage): int(k) for stage, k in rows}

    def failed_ids(self) -> set[str]:
        """Stored events that could not be applied (their effect was rolled back)."""
        with self._reader() as conn:
            return {r[0] for r in conn.execute("SELECT event_id FROM dead_letter WHERE stage = 'apply'")}

    def verify(self) -> AuditReport:
        """Walk the chain: every row's hash, every link, no gap in the sequence, the head."""
        problems: list[str] = []
        prev, expected, n = GENESIS, 1, 0
        with self._reader() as conn:
            cur = conn.execute("SELECT seq, id, t, n, source, type, payload, prev_hash, hash FROM events ORDER BY seq")
            for seq, ident, t, k, source, kind, text, prev_hash, digest in cur:
                n += 1
                if seq != expected:
                    problems.append(f"event #{expected}..#{seq - 1} missing (removed?)")
                if prev_hash != prev:
                    problems.append(f"event #{seq} ({ident}): link to the previous event broken")
                e = NewEvent(ident, t, k, source, kind, {})
                if _hash(prev_hash, seq, e, text) != digest:
                    problems.append(f"event #{seq} ({ident}): content does not match its hash (altered)")
                prev, expected = digest, seq + 1
                if len(problems) > 50:
                    problems.append("... stopped after 50 problems")
                    break
            row = conn.execute("SELECT value FROM meta WHERE key = 'head'").fetchone()
        if row is not None and not problems:
            head_seq, head_hash = str(row[0]).split(":", 1)
            if int(head_seq) != expected - 1 or head_hash != prev:
                problems.append(f"the log ends at #{expected - 1} but its recorded head is #{head_seq}: "
                                "events were removed from the end (or the head was altered)")
        elif row is None and n:
            problems.append("the recorded head is missing")
        return AuditReport(not problems, n, prev, problems)
