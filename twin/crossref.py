"""Helpers shared by the cross-reference checks of scenario files (core and domain checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["Add", "duplicate_ids"]

Add = Callable[[tuple[str | int, ...], str], None]


def duplicate_ids(groups: Iterable[tuple[str, list[str]]], add: Add) -> None:
    """Report every id used twice within a list of the site: ``groups`` pairs a kind ('item') with
    the ids of ``site.<kind>s`` in file order; each repeat is reported at its own entry."""
    for kind, ids in groups:
        seen: set[str] = set()
        for n, ident in enumerate(ids):
            if ident in seen:
                add(("site", f"{kind}s", n, "id"), f"duplicate {kind} id {ident!r}")
            seen.add(ident)
