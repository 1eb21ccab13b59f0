"""Shared plumbing of the API commands (``crc``, ``devices``, ``numbers``, ``rooms``, ``trunk``).

Credentials come from the environment (``CRCGW_ZOOM_ACCOUNT_ID``, ``CRCGW_ZOOM_CLIENT_ID``,
``CRCGW_ZOOM_CLIENT_SECRET``, ``CRCGW_ZOOM_BASE_URL``, ``CRCGW_PORTSIP_URL``,
``CRCGW_PORTSIP_USER``, ``CRCGW_PORTSIP_PASSWORD``), else from the ``zoom:``/``portsip:``
sections of the gateway configuration (``--config FILE`` or ``CRCGW_CONFIG``). With neither, the
commands start the API emulator in-process on a free loopback port, with its state in
``$XDG_DATA_HOME/crcgw/emulator.sqlite`` (``~/.local/share/crcgw/…``; a temporary directory when
that is not writable), and say so on stderr.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from api_client import (
    ApiError,
    PortSipClient,
    PortSipCredentials,
    ZoomClient,
    ZoomCredentials,
)
from api_client.emulator import EmulatorServer, run_emulator
from gateway.cli.output import emit_json, fail, print_table

__all__ = [
    "ConfigOption",
    "JsonOption",
    "api_errors",
    "emit",
    "parse_date",
    "portsip_client",
    "show_rows",
    "validated",
    "zoom_client",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

ZOOM_ENV = ("CRCGW_ZOOM_ACCOUNT_ID", "CRCGW_ZOOM_CLIENT_ID", "CRCGW_ZOOM_CLIENT_SECRET")
PORTSIP_ENV = ("CRCGW_PORTSIP_URL", "CRCGW_PORTSIP_USER", "CRCGW_PORTSIP_PASSWORD")

JsonOption = typer.Option(False, "--json", help="Print the result as JSON (secrets masked).")
ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    envvar="CRCGW_CONFIG",
    help="Gateway configuration whose zoom:/portsip: sections give the credentials.",
    dir_okay=False,
)


def data_dir(environ: Mapping[str, str]) -> Path:
    """Where the CLI's embedded emulator keeps its SQLite file."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    target = Path(base) / "crcgw"
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError:
        target = Path(tempfile.gettempdir()) / "crcgw"
        target.mkdir(parents=True, exist_ok=True)
    return target


def _from_config(path: Path | None) -> tuple[ZoomCredentials | None, PortSipCredentials | None]:
    if path is None:
        return None, None
    from gateway.config import ConfigError, load_config

    try:
        config = load_config(path)
    except ConfigError as exc:
        fail(f"{path}: {exc}")
    zoom = portsip = None
    # a gateway on embedded defaults is up: its emulator (gateway.daemon.EMULATOR_URL_FILE)
    running = Path(config.data_dir) / "emulator.url"
    if config.zoom is None and running.is_file():
        url = running.read_text(encoding="utf-8").strip()
        zoom = ZoomCredentials("emulator-account", "crcgw-cli", "crcgw-cli", base_url=url)
    if config.zoom is not None:
        secret = config.zoom.secret("client_secret")
        zoom = ZoomCredentials(
            config.zoom.account_id,
            config.zoom.client_id,
            secret.get_secret_value() if secret else "",
            base_url=config.zoom.base_url,
        )
    if config.portsip is not None:
        password = config.portsip.secret("password")
        portsip = PortSipCredentials(
            config.portsip.user,
            password.get_secret_value() if password else "",
            base_url=config.portsip.url,
            domain=config.portsip.domain,
        )
    return zoom, portsip


def zoom_credentials(
    environ: Mapping[str, str], config: Path | None
) -> ZoomCredentials | None:
    """Zoom credentials from the environment or the configuration; ``None``: use the emulator."""
    values = [environ.get(name, "") for name in ZOOM_ENV]
    base_url = environ.get("CRCGW_ZOOM_BASE_URL", "")
    if any(values):
        missing = [name for name, value in zip(ZOOM_ENV, values, strict=True) if not value]
        if missing:
            fail("Zoom credentials are incomplete: set " + ", ".join(missing))
        account, client, secret = values
        return ZoomCredentials(
            account, client, secret, base_url=base_url or ZoomCredentials.base_url
        )
    if base_url:  # an emulator or a compatible service that takes any client credentials
        return ZoomCredentials("me", "crcgw-cli", "crcgw-cli", base_url=base_url)
    return _from_config(config)[0]


def portsip_credentials(
    environ: Mapping[str, str], config: Path | None
) -> PortSipCredentials | None:
    values = [environ.get(name, "") for name in PORTSIP_ENV]
    if any(values):
        url, user, password = values
        if not url:
            fail("CRCGW_PORTSIP_URL is not set")
        return PortSipCredentials(user or "admin", password or "admin", base_url=url)
    return _from_config(config)[1]


@contextmanager
def _embedded() -> Iterator[EmulatorServer]:
    db = data_dir(os.environ) / "emulator.sqlite"
    with run_emulator(db) as server:
        print_error_note(f"no API credentials: using the embedded emulator at {server.base_url} "
                         f"(state in {db})")
        yield server


def print_error_note(message: str) -> None:
    typer.echo(f"crcgw: note: {message}", err=True)


@contextmanager
def zoom_client(config: Path | None = None) -> Iterator[ZoomClient]:
    """A Zoom client for the configured account, or for an embedded emulator."""
    credentials = zoom_credentials(os.environ, config)
    if credentials is not None:
        with api_errors(), ZoomClient(credentials) as client:
            yield client
        return
    with _embedded() as server, api_errors(), ZoomClient(server.zoom_credentials()) as client:
        yield client


@contextmanager
def portsip_client(config: Path | None = None) -> Iterator[PortSipClient]:
    """A PortSIP client for the configured PBX, or for an embedded emulator."""
    credentials = portsip_credentials(os.environ, config)
    if credentials is not None:
        with api_errors(), PortSipClient(credentials) as client:
            yield client
        return
    with _embedded() as server, api_errors(), PortSipClient(server.portsip_credentials()) as client:
        yield client


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


@contextmanager
def api_errors() -> Iterator[None]:
    """API errors become one line on stderr and exit code 1; bad input, exit code 2."""
    try:
        yield
    except ApiError as exc:
        fail(str(exc), exit_code=1)
    except ValidationError as exc:
        fail(_validation_message(exc))
    except ValueError as exc:
        fail(str(exc))


def parse_date(text: str | None, name: str) -> dt.date | None:
    """An option's ``YYYY-MM-DD`` date; bad input exits 2 naming the option."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD (got {text!r})")


def validated(model: type[M], data: Mapping[str, Any]) -> M:
    """Build a request model from options, unset (``None``) options left out; bad input exits 2."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        fail(_validation_message(exc))


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list | tuple):
        return [dump(item) for item in value]
    return value


def emit(value: Any, as_json: bool, show: Callable[[Any], None]) -> None:
    """``--json``: the JSON of ``value`` (secrets masked); else ``show(value)``."""
    if as_json:
        emit_json(dump(value))
    else:
        show(value)


def show_rows(
    title: str, columns: Sequence[str], items: Sequence[BaseModel]
) -> Callable[[Any], None]:
    """A table of ``columns`` (attribute names) over ``items``."""

    def show(_: Any) -> None:
        rows = []
        for item in items:
            data = item.model_dump(mode="json")
            rows.append([_cell(data.get(column)) for column in columns])
        print_table(f"{title} ({len(items)})", columns, rows)

    return show


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    return str(value)
