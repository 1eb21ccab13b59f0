"""Shared CLI output: rich tables for people, ``--json`` for scripts, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

__all__ = [
    "CliError", "console", "emit_json", "err_console", "fail", "print_error", "print_table",
]

console = Console()
err_console = Console(stderr=True, highlight=False)  # progress beside --json output
_err_console = err_console


class CliError(Exception):
    """An expected failure: printed as one line on stderr, exit code ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Stop the command with a one-line message (``crcgw: error: …``) and ``exit_code``."""
    raise CliError(message, exit_code)


def print_error(message: str) -> None:
    _err_console.print(f"crcgw: error: {message}", markup=False, soft_wrap=True)


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    table = Table(title=title, header_style="bold cyan", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)
