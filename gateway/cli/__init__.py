"""The ``crcgw`` command line (typer + rich).

Every sub-command lives in a module of :mod:`gateway.cli.commands` that defines
``register(app: typer.Typer) -> None``; :func:`build_app` discovers them, so adding a command never
touches this file.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
from typing import TYPE_CHECKING

from gateway import __version__
from gateway.cli import commands

if TYPE_CHECKING:
    import typer

__all__ = ["build_app", "main"]


def _version(value: bool) -> None:
    import typer

    if value:
        sys.stdout.write(f"crcgw {__version__}\n")
        raise typer.Exit()


def build_app(only: str | None = None) -> typer.Typer:
    """The ``crcgw`` app; with ``only``, just the command module of that name (when it exists
    and registers a command or group of that name), so one command starts without importing
    every other's dependencies."""
    import typer

    app = typer.Typer(
        name="crcgw",
        help="Room-system gateway for Zoom's Cloud Room Connector: dial strings, SIP, H.323.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
        verbose: int = typer.Option(
            0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."
        ),
    ) -> None:
        level = logging.WARNING - 10 * min(verbose, 2)
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
    if only is not None and only in names and not only.startswith("_"):
        module = importlib.import_module(f"{commands.__name__}.{only}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)
            known = {c.name for c in app.registered_commands} | {
                g.name for g in app.registered_groups
            }
            if only in known:
                return app
        return build_app()
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)
    return app


def main() -> None:
    """Console-script entry point: one-line errors, never a traceback for expected failures."""
    first = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        if first == "analyze":
            from gateway.cli.quick_analyze import run_quick

            if run_quick(sys.argv[2:]):
                return  # handled without building the typer app (its start-up is most of a run)
        build_app(first)()
    except KeyboardInterrupt:
        from gateway.cli.output import print_error

        print_error("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence for the CLI
        from gateway.cli.output import CliError, print_error  # rich: only when needed

        if isinstance(exc, CliError):
            print_error(str(exc))
            sys.exit(exc.exit_code)
        if os.environ.get("CRCGW_DEBUG"):
            raise
        print_error(
            f"internal error: {type(exc).__name__}: {exc} (CRCGW_DEBUG=1 shows a traceback)"
        )
        sys.exit(1)
