"""The crcgw command line as a whole: help on every command, the main job's demo."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import build_app, commands
from gateway.cli.catalog import CATALOG, PANELS

runner = CliRunner()
app = build_app()


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, through the groups' own lookup (the root loads its commands lazily)."""
    paths = [prefix]
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in sorted(command.list_commands(ctx)):
            paths += command_paths(command.get_command(ctx, name), prefix + (name,))
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


def test_the_catalog_lists_every_command_with_its_module_and_summary() -> None:
    """The root lists commands from gateway.cli.catalog without importing them: the table must
    say what the modules register, each summary the opening of the command's own help."""
    registered: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if not callable(getattr(module, "register", None)):
            continue
        holder = typer.Typer()
        module.register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            summary = " ".join((command.help or "").split("\n\n", 1)[0].split())
            registered[name] = (info.name, summary)
    assert {e.name: e.module for e in CATALOG} == {n: m for n, (m, _) in registered.items()}
    for entry in CATALOG:  # the listing's line opens the command's own help
        assert registered[entry.name][1].startswith(entry.summary), entry.name
        assert entry.summary.endswith("."), entry.name
    assert {e.panel for e in CATALOG} == set(PANELS)


def test_help_groups_the_commands_by_what_a_person_does() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    sections = [line[:-1] for line in result.output.splitlines() if line.endswith(":")]
    assert sections[-len(PANELS):] == list(PANELS)
    listing = result.output.split(PANELS[0] + ":", 1)[1]
    for entry in CATALOG:
        assert f"  {entry.name} " in listing
    dial = listing.split(PANELS[1] + ":", 1)[0]
    assert "  test-dial " in dial and "  dialstring " in dial and "  serve " not in dial


_HEAVY = ("pjsua2", "pydantic", "pycrate_core", "pycrate_asn1rt", "numpy", "httpx")

# Runs crcgw in this interpreter and reports, for each heavy library, the module that imported
# it first (None: never imported).
_PROBE = textwrap.dedent("""
    import json, runpy, sys
    heavy = {HEAVY!r}
    first = {{}}

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name in heavy and name not in first:
                frame = sys._getframe(1)
                while frame and frame.f_globals.get("__name__", "").startswith(
                        ("importlib", "_frozen_importlib")):
                    frame = frame.f_back
                first[name] = frame.f_globals.get("__name__") if frame else "?"
            return None

    sys.meta_path.insert(0, Watch())
    sys.argv = ["crcgw", *sys.argv[1:]]
    try:
        runpy.run_module("gateway", run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    import typer
    version = [int(p) for p in typer.__version__.split(".")[:2]]
    sys.stderr.write("PROBE " + json.dumps({{"code": code, "first": first, "typer": version}})
                     + "\\n")
""").format(HEAVY=_HEAVY)


def _first_importers(*args: str) -> tuple[int, dict[str, str], tuple[int, ...]]:
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=60,
        cwd=root, check=False,
        env={**os.environ,
             "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))},
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE ")]
    assert line, proc.stderr
    import json

    data = json.loads(line[-1][len("PROBE "):])
    return data["code"], data["first"], tuple(data["typer"])


@pytest.mark.parametrize(
    "args",
    [("--help",), ("dialstring", "sip", "824 1937 4650", "--passcode", "1234"),
     ("dialstring", "parse", "82419374650.1234@zoomcrc.com")],
    ids=["help", "dialstring-sip", "dialstring-parse"],
)
def test_quick_commands_do_not_load_the_heavy_libraries(args: tuple[str, ...]) -> None:
    """Start-up time: ``crcgw --help`` and ``crcgw dialstring`` import no pjsua2, pycrate,
    numpy or httpx, and no pydantic with the typer pyproject.toml asks for (< 0.29; typer 0.29
    converts option values with pydantic: then only typer may import it, never crcgw's code)."""
    code, first, typer_version = _first_importers(*args)
    assert code == 0
    pydantic_by = first.pop("pydantic", None)
    if typer_version < (0, 29):  # what pyproject.toml asks for: no pydantic at all
        assert pydantic_by is None, pydantic_by
    else:
        assert pydantic_by is None or pydantic_by.startswith("typer."), pydantic_by
    assert first == {}


def test_the_probe_sees_a_heavy_import() -> None:
    """The check above can fail: a command that does load pjsua2 is caught."""
    code, first, _ = _first_importers("dial", "--help")
    assert code == 0 and "pjsua2" in first and not first["pjsua2"].startswith("typer.")
