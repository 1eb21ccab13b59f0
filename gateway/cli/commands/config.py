"""``crcgw config``: check a configuration file (every error with its line) and show the
effective configuration (secrets are references only, never values)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.output import emit_json
from gateway.config import check_config

__all__ = ["register"]

app = typer.Typer(
    help="Check and show the gateway configuration (YAML, CRCGW_* environment overrides).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
NoSecrets = Annotated[
    bool,
    typer.Option(
        "--no-secrets",
        help="Do not resolve *_env / *_file secret references (check the file's shape only).",
    ),
]


@app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="The YAML configuration file.")],
    as_json: Json = False,
    no_secrets: NoSecrets = False,
) -> None:
    """Explain every problem as FILE:LINE:COL: where: what (one line each).

    Exit status 0 when the file is valid, 2 when it is not.
    """
    config, issues = check_config(file, secrets=not no_secrets)
    if as_json:
        emit_json({
            "file": str(file),
            "valid": config is not None,
            "errors": [issue.as_dict() for issue in issues],
        })
    elif config is None:
        for issue in issues:
            sys.stdout.write(f"{issue}\n")
    else:
        sys.stdout.write(
            f"{file}: valid ({len(config.rooms)} room(s), {len(config.dialplan)} dial-plan "
            f"rule(s), {'Zoom account' if config.zoom else 'embedded API emulator'}, "
            f"store {config.store_url.split(':', 1)[0]})\n"
        )
    if config is None:
        raise typer.Exit(2)


@app.command("show")
def show_command(
    file: Annotated[
        Path | None, typer.Argument(help="The YAML file; omit for the embedded defaults.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the effective configuration (file + CRCGW_* environment + defaults)."""
    config, issues = check_config(file, secrets=False)
    if config is None:
        for issue in issues:
            sys.stdout.write(f"{issue}\n")
        raise typer.Exit(2)
    data = config.model_dump(mode="json")
    data["store"]["effective_url"] = config.store_url
    if as_json:
        emit_json(data)
        return
    import yaml

    sys.stdout.write(yaml.safe_dump(data, sort_keys=False))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
