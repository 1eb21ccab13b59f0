"""The crcgw command line as a whole: help on every command, the main job's demo."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import build_app

runner = CliRunner()
app = build_app()


def command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in sorted(subcommands.items()):
            paths += command_paths(sub, prefix + (name,))
    return paths


PATHS = command_paths(typer.main.get_command(app))


def test_the_expected_command_groups_exist() -> None:
    assert {("dialstring",), ("dialstring", "parse"), ("demo",)} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "crcgw" for p in PATHS])
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    body = result.output.split("Usage:", 1)[1]
    assert len(body.strip().splitlines()) >= 2


def test_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("crcgw ")
