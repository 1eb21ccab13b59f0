"""The ``crcgw`` command line (typer + rich).

Every sub-command lives in a module of :mod:`gateway.cli.commands` that defines
``register(app: typer.Typer) -> None`` and is listed in :mod:`gateway.cli.catalog`, which imports
the module only when its command runs: ``crcgw --help`` and ``crcgw dialstring ...`` start
without pjsua2, pydantic, httpx, numpy or pycrate. ``crcgw analyze`` is parsed before typer is
imported at all (:mod:`gateway.cli.quick_analyze`), falling back to the typer command for
anything it does not handle.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from gateway import __version__

if TYPE_CHECKING:
    import typer

__all__ = ["build_app", "main"]


def _version(value: bool) -> None:
    import typer

    if value:
        sys.stdout.write(f"crcgw {__version__}\n")
        raise typer.Exit()


def build_app() -> typer.Typer:
    import typer

    from gateway.cli.catalog import CommandCatalog

    app = typer.Typer(
        name="crcgw",
        cls=CommandCatalog,
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
        import logging  # here: `crcgw analyze` starts tshark before logging is imported

        level = logging.WARNING - 10 * min(verbose, 2)
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    return app


def main() -> None:
    """Console-script entry point: one-line errors, never a traceback for expected failures."""
    try:
        if sys.argv[1:2] == ["analyze"]:
            from gateway.cli.quick_analyze import run_quick

            if run_quick(sys.argv[2:]):
                return  # handled without building the typer app (its start-up is most of a run)
        build_app()()
    except KeyboardInterrupt:
        _exit("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - last line of defence for the CLI
        from gateway.cli.output import CliError  # not before: it loads rich

        if isinstance(exc, CliError):
            _exit(str(exc), exc.exit_code)
        if os.environ.get("CRCGW_DEBUG"):
            raise
        _exit(f"internal error: {type(exc).__name__}: {exc} (CRCGW_DEBUG=1 shows a traceback)", 1)


def _exit(message: str, code: int) -> None:
    from gateway.cli.output import print_error

    print_error(message)
    sys.exit(code)
