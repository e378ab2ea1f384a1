"""API keys with roles (viewer < planner < operator < admin), optionally scoped to a site or a
site/warehouse. Only a salted scrypt hash of each key is stored (``<home>/keys.sqlite``); the key
itself is shown once, when it is created.

A key reads ``lems_<key id>_<secret>``: the id finds the row, the secret is checked against its hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from twin.errors import TwinError

__all__ = ["ROLES", "KeyStore", "ApiKey", "KeyError_", "role_at_least"]

ROLES = ("viewer", "planner", "operator", "admin")
CACHE_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id   TEXT PRIMARY KEY,
    salt     BLOB NOT NULL,
    hash     BLOB NOT NULL,
    role     TEXT NOT NULL,
    scope    TEXT,
    name     TEXT NOT NULL,
    created  TEXT NOT NULL,
    revoked  INTEGER NOT NULL DEFAULT 0
);
"""


class KeyError_(TwinError):  # noqa: N801 - not the builtin KeyError
    """A key cannot be created or the key store cannot be opened."""


def role_at_least(role: str, minimum: str) -> bool:
    return ROLES.index(role) >= ROLES.index(minimum)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: str
    scope: str | None  # 'SITE' or 'SITE/WAREHOUSE'
    name: str
    created: str

    @property
    def warehouse(self) -> str | None:
        return self.scope.split("/", 1)[1] if self.scope and "/" in self.scope else None

    @property
    def site(self) -> str | None:
        return self.scope.split("/", 1)[0] if self.scope else None


def _digest(secret: str, salt: bytes) -> bytes:
    # scrypt with modest cost: checked on every request, so a few ms at most (results are cached).
    return hashlib.scrypt(secret.encode(), salt=salt, n=2**12, r=8, p=1, dklen=32)


class KeyStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # Checked keys, for CACHE_SECONDS: a key revoked by another process stops working within that.
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise KeyError_(f"cannot open the key store {self.path}: {exc}") from exc
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def create(self, role: str, scope: str | None = None, name: str = "") -> tuple[str, ApiKey]:
        """A new key of ``role``; returns (the key to hand out, its record)."""
        if role not in ROLES:
            raise KeyError_(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if scope is not None and (not scope.strip("/") or scope.count("/") > 1 or scope != scope.strip()):
            raise KeyError_(f"scope {scope!r}: give SITE or SITE/WAREHOUSE")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_bytes(16)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            conn.execute("INSERT INTO api_keys (key_id, salt, hash, role, scope, name, created) VALUES (?,?,?,?,?,?,?)",
                         (key_id, salt, _digest(secret, salt), role, scope, name, created))
        return f"lems_{key_id}_{secret}", ApiKey(key_id, role, scope, name, created)

    def check(self, key: str) -> ApiKey | None:
        """The record of a valid, unrevoked key, else None."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        parts = key.split("_", 2)
        found: ApiKey | None = None
        if len(parts) == 3 and parts[0] == "lems":
            with self._connect() as conn:
                row = conn.execute("SELECT key_id, salt, hash, role, scope, name, created FROM api_keys "
                                   "WHERE key_id = ? AND revoked = 0", (parts[1],)).fetchone()
            if row is not None and hmac.compare_digest(_digest(parts[2], row[1]), row[2]):
                found = ApiKey(row[0], row[3], row[4], row[5], row[6])
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, found)
        return found

    def list(self) -> list[tuple[ApiKey, bool]]:
        with self._connect() as conn:
            rows = conn.execute("SELECT key_id, role, scope, name, created, revoked FROM api_keys "
                                "ORDER BY created").fetchall()
        return [(ApiKey(r[0], r[1], r[2], r[3], r[4]), bool(r[5])) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self._connect() as conn:
            n = conn.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)).rowcount
        self._cache.clear()
        return n > 0
