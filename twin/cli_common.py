"""What every `twin` subcommand shares: the consoles and the one way to report a user error."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["out", "err", "fail"]

out = Console()
err = Console(stderr=True)


def fail(message: str) -> None:
    """Report a user error on one line per problem and exit 1: no traceback."""
    for line in message.splitlines():
        err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)
