"""The gateway's configuration: one YAML file, environment overrides, secrets by reference only.

- Loaded with pydantic-settings (:class:`GatewayConfig`); unknown keys are errors
  (``extra="forbid"``), and no file at all is a valid configuration (embedded defaults).
- Environment variables override the file: ``CRCGW_`` prefix, ``__`` between nesting levels
  (``CRCGW_HTTP__BIND=127.0.0.1:9000``, ``CRCGW_PORTS__POOL_SIZE=20``; lists as JSON).
- Secrets never sit in the file: ``password_env``/``password_file``, ``token_env``/``token_file``,
  ``client_secret_env``/``client_secret_file`` name an environment variable or a file that holds
  the value. A literal ``password:`` (``token:``, ``client_secret:``) is refused with a message
  that says so. Resolved secrets are :class:`pydantic.SecretStr` and never printed.
- :func:`check_config` reports every problem with its line in the file (``FILE:LINE:COL: where:
  what``), mapping pydantic's error locations onto the YAML nodes (``yaml.compose``).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from gateway.dialplan import DEFAULT_RULES, DialPlan, DialPlanError, DialRule
from gateway.yamlmarks import ConfigIssue, dotted, mark_of, read_yaml
from signaling import hostport

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "DialRuleConfig",
    "GatewayConfig",
    "HttpConfig",
    "LifecycleConfig",
    "PortSipConfig",
    "PortsConfig",
    "RoomConfig",
    "SipConfig",
    "StoreConfig",
    "ZoomConfig",
    "check_config",
    "default_data_dir",
    "load_config",
    "parse_host_port",
    "parse_listen",
]

def parse_host_port(
    text: str, default_port: int | None = None, *, zero_port: bool = False
) -> tuple[str, int | None]:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` to ``(host, port)`` by the project's one
    address reader (:mod:`signaling.hostport`); ``ValueError`` names what is wrong. IPv6 hosts
    come back without brackets; ``zero_port`` for an address to bind (0 picks a free port)."""
    address = hostport.parse_host_port(text, default_port=default_port, zero_port=zero_port)
    return address.host, address.port


def parse_listen(text: str) -> tuple[Literal["udp", "tcp"], str, int]:
    """``udp://HOST:PORT`` or ``tcp://HOST:PORT`` to ``(transport, host, port)``; port 0 picks a
    free port."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("udp", "tcp"):
        raise ValueError(f"expected udp://HOST:PORT or tcp://HOST:PORT, got {text!r}")
    host, port = parse_host_port(rest, 5060, zero_port=True)
    assert port is not None
    return ("udp" if scheme.lower() == "udp" else "tcp"), host, port


def default_data_dir() -> Path:
    """systemd's ``$STATE_DIRECTORY`` when set (the unit uses ``StateDirectory=crcgw``), else
    ``~/.local/state/crcgw``."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "state" / "crcgw"


class ConfigError(ValueError):
    """The configuration cannot be used; ``issues`` holds one entry per problem."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues) or "invalid configuration")


# -- sections ---------------------------------------------------------------------------------


def _literal_secret(name: str) -> Any:
    """A field that only exists to refuse a literal secret with a helpful message."""
    return Field(default=None, exclude=True, repr=False, json_schema_extra={"secret": name})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The secrets of the section: each has ``NAME_env`` and ``NAME_file`` references, and a
    #: literal ``NAME`` field that only exists to be refused.
    _secrets: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _no_literal(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name in cls._secrets and value is not None:
            raise ValueError(
                f"a literal secret is not allowed in the configuration: use {name}_env: "
                f"VARIABLE (an environment variable) or {name}_file: PATH (a file) instead"
            )
        return value

    def secret(self, name: str, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        """Resolve secret ``name`` from its ``NAME_env`` variable or ``NAME_file``; ``None`` when
        neither is set. :class:`ValueError` (naming the variable or file, never the value) when
        the reference cannot be read."""
        env_name: str | None = getattr(self, f"{name}_env")
        file_path: Path | None = getattr(self, f"{name}_file")
        environ = os.environ if environ is None else environ
        if env_name:
            if env_name not in environ:
                raise ValueError(f"{name}_env: environment variable {env_name} is not set")
            return SecretStr(environ[env_name])
        if file_path is not None:
            try:
                return SecretStr(file_path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ValueError(f"{name}_file: cannot read {file_path}: {exc.strerror}") from None
        return None

    def secret_problems(self, environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
        """``(field, message)`` for each secret reference that cannot be resolved."""
        problems = []
        for name in self._secrets:
            try:
                self.secret(name, environ)
            except ValueError as exc:
                field_name = str(exc).split(":", 1)[0]
                problems.append((field_name, str(exc).split(": ", 1)[1]))
        return problems

    @model_validator(mode="after")
    def _one_reference(self) -> _Section:
        for name in self._secrets:
            if getattr(self, f"{name}_env") and getattr(self, f"{name}_file") is not None:
                raise ValueError(f"set either {name}_env or {name}_file, not both")
        return self


EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class RoomConfig(_Section):
    """One room system's SIP identity (and optional H.323 alias)."""

    _secrets: ClassVar[tuple[str, ...]] = ("password",)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    registrar: str
    user: str = Field(min_length=1, pattern=r"^[^\s@:;]+$")
    auth_user: str | None = None
    password: Any = _literal_secret("password")
    password_env: EnvName | None = None
    password_file: Path | None = None
    transport: Literal["udp", "tcp", "tls", "auto"] = "udp"
    expires: int = Field(default=300, ge=30, le=86400, description="REGISTER expiry, seconds")
    outbound_proxy: str | None = None
    tls_ca: Path | None = None
    tls_insecure: bool = False
    h323_alias: str | None = Field(default=None, min_length=1, max_length=64)
    h323_ip: str | None = Field(
        default=None, min_length=1, max_length=255,
        description="the room system's own address, for its Zoom H.323 device record",
    )
    #: Answer calls to the room (a meeting's room-system call-out) instead of ringing out.
    answer_calls: bool = True
    #: Offer video on the room's calls and answer video offers (H.264/VP8, a test pattern).
    video: bool = False

    @field_validator("registrar", "outbound_proxy")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_host_port(value)
        return value

    @model_validator(mode="after")
    def _tls_options(self) -> RoomConfig:
        if self.transport not in ("tls", "auto") and (self.tls_ca or self.tls_insecure):
            raise ValueError("tls_ca and tls_insecure apply to transport tls or auto only")
        if self.tls_ca is not None and self.tls_insecure:
            raise ValueError("tls_insecure disables the tls_ca check: set only one of them")
        return self


class ZoomConfig(_Section):
    """A real Zoom account (server-to-server OAuth). Absent: the embedded API emulator."""

    _secrets: ClassVar[tuple[str, ...]] = ("client_secret",)

    account_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: Any = _literal_secret("client_secret")
    client_secret_env: EnvName | None = None
    client_secret_file: Path | None = None
    base_url: str = Field(default="https://api.zoom.us/v2", pattern=r"^https?://\S+$")

    @model_validator(mode="after")
    def _needs_secret(self) -> ZoomConfig:
        if not self.client_secret_env and self.client_secret_file is None:
            raise ValueError("zoom needs client_secret_env or client_secret_file")
        return self


class PortSipConfig(_Section):
    """An optional PortSIP PBX (REST API)."""

    _secrets: ClassVar[tuple[str, ...]] = ("password",)

    url: str = Field(pattern=r"^https?://\S+$")
    user: str = Field(min_length=1)
    domain: str | None = Field(default=None, min_length=1, description="tenant SIP domain")
    password: Any = _literal_secret("password")
    password_env: EnvName | None = None
    password_file: Path | None = None


class PortsConfig(_Section):
    """CRC port accounting."""

    pool_size: int | None = Field(
        default=None, ge=0, description="ports when the API only offers /metrics/crc"
    )
    reconcile_interval: float = Field(default=30.0, gt=0, le=3600)
    lease_ttl: float = Field(default=90.0, gt=0, le=86400)
    heartbeat_interval: float = Field(default=15.0, gt=0, le=3600)
    api_deadline: float = Field(
        default=10.0, gt=0, le=600,
        description="overall deadline of one API usage request, retries included (seconds)",
    )
    stale_after: float = Field(
        default=300.0, gt=0, le=86400,
        description="use the last good API figures this long; then pool_size, or refuse calls",
    )

    @model_validator(mode="after")
    def _heartbeat_before_ttl(self) -> PortsConfig:
        if self.heartbeat_interval * 2 > self.lease_ttl:
            raise ValueError(
                "heartbeat_interval must be at most half of lease_ttl, or live leases expire"
            )
        return self


class StoreConfig(_Section):
    """Where leases and call records live: ``sqlite:///PATH`` or ``postgresql://…``. Empty: a
    SQLite file ``crcgw.sqlite3`` in the data directory. A PostgreSQL password comes from
    ``password_env``/``password_file`` (or libpq's own ``PGPASSWORD``/``~/.pgpass``), never
    from the URL."""

    _secrets: ClassVar[tuple[str, ...]] = ("password",)

    url: str | None = None
    busy_timeout: float = Field(
        default=2.0, gt=0, le=60,
        description="seconds a store operation waits for a lock before new calls get 503",
    )
    password: Any = _literal_secret("password")
    password_env: EnvName | None = None
    password_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(sqlite:///.+|postgres(ql)?://\S+)$", value):
            raise ValueError("expected sqlite:///PATH or postgresql://USER@HOST/DB")
        if value is not None and re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", value):
            raise ValueError(
                "the URL must not carry a password: use store.password_env: VARIABLE or "
                "store.password_file: PATH (or PGPASSWORD / ~/.pgpass)"
            )
        return value


class HttpConfig(_Section):
    """The control API. Every change needs ``Authorization: Bearer`` with the token; the
    status page (``/status``) also accepts the read-only ``read_token`` for viewing."""

    _secrets: ClassVar[tuple[str, ...]] = ("token", "read_token", "webhook_secret")

    bind: str = "127.0.0.1:8080"
    token: Any = _literal_secret("token")
    token_env: EnvName | None = None
    token_file: Path | None = None
    read_token: Any = _literal_secret("read_token")
    read_token_env: EnvName | None = None
    read_token_file: Path | None = None
    max_connections: int = Field(default=256, ge=1, le=100000)
    request_timeout: float = Field(
        default=10.0, gt=0, le=3600, description="seconds for a request to arrive whole"
    )
    keep_alive: int = Field(default=5, ge=1, le=3600, description="idle seconds after a response")
    #: The Zoom app's secret token: enables ``POST /zoom/webhook`` (gateway.webhook).
    webhook_secret: Any = _literal_secret("webhook_secret")
    webhook_secret_env: EnvName | None = None
    webhook_secret_file: Path | None = None

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        parse_host_port(value, 8080, zero_port=True)
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = parse_host_port(self.bind, 8080, zero_port=True)
        assert port is not None
        return host, port


class RedirectAuthConfig(_Section):
    """An optional digest challenge (RFC 7616 style, as SIP uses it) before any redirect."""

    _secrets: ClassVar[tuple[str, ...]] = ("password",)

    realm: str = Field(default="crcgw", pattern=r'^[^"\\\r\n]{1,64}$')
    user: str = Field(min_length=1, max_length=64, pattern=r'^[^"\\\s]+$')
    password: Any = _literal_secret("password")
    password_env: EnvName | None = None
    password_file: Path | None = None
    nonce_ttl: float = Field(default=300.0, ge=10, le=86400)

    @model_validator(mode="after")
    def _needs_secret(self) -> RedirectAuthConfig:
        if not self.password_env and self.password_file is None:
            raise ValueError("auth needs password_env or password_file")
        return self


_LOOPBACK: list[IPvAnyNetwork] = [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class RedirectAccessConfig(_Section):
    """Who may use the redirect, how often, and what the answers reveal (``sip.redirect``)."""

    trusted: list[IPvAnyNetwork] = Field(
        default_factory=lambda: _LOOPBACK.copy(),
        description="source networks allowed to be redirected (others get 403)",
    )
    trust_registrars: bool = Field(
        default=True, description="also trust the addresses of the rooms' registrars"
    )
    rate: float = Field(default=2.0, gt=0, le=10000, description="INVITEs per second per source")
    burst: int = Field(default=10, ge=1, le=100000, description="INVITEs a source may send at once")
    auth: RedirectAuthConfig | None = None
    conceal: bool = Field(
        default=False, description="answer 404 to untrusted or unauthorised sources too"
    )
    reveal: Literal["full", "no-secrets"] = Field(
        default="full", description="what the 302 Contact carries: the whole dial string or "
        "no passcode or host key (the room keys them at Zoom's prompt)",
    )
    server_header: bool = Field(default=True, description="send 'Server: crcgw'")


class SipConfig(_Section):
    """The dial-string redirect service."""

    listen: list[str] = Field(default_factory=lambda: ["udp://127.0.0.1:5060"])
    redirect_hold: float = Field(
        default=60.0, ge=0, le=3600, description="seconds a redirect keeps its port lease"
    )
    busy_status: Literal[486, 503] = 503
    retry_after: int = Field(default=30, ge=1, le=3600)
    redirect: RedirectAccessConfig = Field(default_factory=RedirectAccessConfig)
    tcp_idle_timeout: float = Field(
        default=120.0, gt=0, le=86400, description="seconds an idle SIP TCP connection stays open"
    )
    tcp_max_connections: int = Field(default=256, ge=1, le=100000)

    @field_validator("busy_status", mode="before")
    @classmethod
    def _status_number(cls, value: object) -> object:
        # The environment gives text ("486"); a Literal of ints does not convert it by itself.
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: list[str]) -> list[str]:
        for item in value:
            parse_listen(item)
        return value


class DialRuleConfig(_Section):
    """One dial-plan rule (see :mod:`gateway.dialplan`)."""

    pattern: str
    transform: str | None = None
    kind: Literal["sip", "h323"] = "sip"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    name: str = ""

    def rule(self) -> DialRule:
        return DialRule(self.pattern, self.transform, self.kind, self.host, self.port, self.name)

    @model_validator(mode="after")
    def _compiles(self) -> DialRuleConfig:
        try:
            self.rule()
        except DialPlanError as exc:
            raise ValueError(str(exc)) from None
        return self


class LifecycleConfig(_Section):
    """What SIGTERM does to calls in progress, and how long shutdown may take."""

    on_shutdown: Literal["hangup", "handover"] = "hangup"
    shutdown_timeout: float = Field(default=10.0, gt=0, le=300)
    rtp_timeout: float = Field(
        default=30.0, ge=0, le=3600,
        description="seconds without RTP before a connected call is ended and its port "
        "released (the far end vanished); 0: never",
    )


def _default_rules() -> list[DialRuleConfig]:
    return [
        DialRuleConfig(
            pattern=r.pattern, transform=r.transform, kind=r.kind, host=r.host, name=r.name
        )
        for r in DEFAULT_RULES
    ]


class GatewayConfig(BaseSettings):
    """The whole configuration. ``GatewayConfig()`` alone is valid: embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="CRCGW_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    instance_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$",
        description="this gateway's id in a shared store (default: host name + data dir)",
    )
    rooms: list[RoomConfig] = Field(default_factory=list)
    zoom: ZoomConfig | None = None
    portsip: PortSipConfig | None = None
    ports: PortsConfig = Field(default_factory=PortsConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    sip: SipConfig = Field(default_factory=SipConfig)
    dialplan: list[DialRuleConfig] = Field(default_factory=_default_rules)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: it overrides what the file (passed as init kwargs) says.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_rooms(self) -> GatewayConfig:
        seen: set[str] = set()
        for room in self.rooms:
            if room.name in seen:
                raise ValueError(f"room name {room.name!r} is used twice")
            seen.add(room.name)
        return self

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / 'crcgw.sqlite3'}"

    @property
    def owner_id(self) -> str:
        """The owner of this gateway's port leases: ``instance_id``, else the host name and a
        digest of the data directory. Stable across restarts, so a restarted gateway frees what
        it held before (:meth:`gateway.ports.PortPool.restart`)."""
        if self.instance_id:
            return self.instance_id
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:8]
        return f"{socket.gethostname()}-{digest}"

    @property
    def uses_emulator(self) -> bool:
        """No ``zoom`` section: the embedded API emulator stands in for Zoom."""
        return self.zoom is None

    def dial_plan(self) -> DialPlan:
        return DialPlan.from_rules(rule.rule() for rule in self.dialplan)

    def http_token(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        return self.http.secret("token", environ)

    def store_password(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        return self.store.secret("password", environ)

    def secret_problems(
        self, environ: Mapping[str, str] | None = None
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """``(location, message)`` for every secret reference that cannot be resolved now."""
        sections: list[tuple[tuple[str | int, ...], _Section]] = [
            (("http",), self.http), (("store",), self.store)
        ]
        sections += [(("rooms", i), room) for i, room in enumerate(self.rooms)]
        if self.zoom is not None:
            sections.append((("zoom",), self.zoom))
        if self.portsip is not None:
            sections.append((("portsip",), self.portsip))
        if self.sip.redirect.auth is not None:
            sections.append((("sip", "redirect", "auth"), self.sip.redirect.auth))
        return [
            ((*loc, field_name), message)
            for loc, section in sections
            for field_name, message in section.secret_problems(environ)
        ]


# -- loading and explaining -------------------------------------------------------------------


def _env_origin(loc: Sequence[str | int]) -> str:
    """`` (from CRCGW_X__Y)`` when an environment variable set the value at ``loc``."""
    upper = {key.upper() for key in os.environ}
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            break
        parts.append(str(part).upper())
        variable = "CRCGW_" + "__".join(parts)
        if variable in upper:
            return f" (from the environment: {variable})"
    return ""


def _message(error: Mapping[str, Any]) -> str:
    text = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if error["type"] == "extra_forbidden":
        text = "unknown key (not a setting of this section; check the spelling)"
    elif error["type"] == "missing":
        text = "required setting is missing"
    return text


def check_config(
    path: Path | None,
    *,
    secrets: bool = True,
    environ: Mapping[str, str] | None = None,
) -> tuple[GatewayConfig | None, list[ConfigIssue]]:
    """Load ``path`` (``None``: defaults only) and list every problem with its line.

    ``secrets=True`` also resolves every ``*_env``/``*_file`` reference now (a missing variable
    or unreadable file is a problem). Returns the configuration (``None`` when invalid) and the
    issues (empty when valid).
    """
    name, root, data, issues = read_yaml(path)
    if root is None and path is not None and issues:
        return None, issues
    odd = [key for key in data if not isinstance(key, str)]
    if odd:
        return None, issues + [
            ConfigIssue(name, *mark_of(root, (str(key),)), str(key),
                        "section names must be words (rooms, zoom, ports, ...)")
            for key in odd
        ]
    try:
        config = GatewayConfig(**data)
    except SettingsError as exc:
        # An environment override that is not valid JSON where a list or section is expected.
        field_name = str(exc).split('"')[1] if '"' in str(exc) else ""
        variable = f"CRCGW_{field_name.upper()}"
        return None, issues + [ConfigIssue(
            name, *mark_of(root, (field_name,)), field_name,
            f"the environment variable {variable} (or {variable}__...) cannot be read: "
            "lists and sections must be JSON there",
        )]
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            message = _message(error) + _env_origin(loc)
            issues.append(ConfigIssue(name, *mark_of(root, loc), dotted(loc), message))
        issues.sort(key=lambda issue: (issue.line, issue.column))
        return None, issues
    if secrets:
        for loc, message in config.secret_problems(environ):
            issues.append(ConfigIssue(name, *mark_of(root, loc), dotted(loc), message))
    issues.sort(key=lambda issue: (issue.line, issue.column))
    return (config if not issues else None), issues


def load_config(
    path: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    """The configuration from ``path`` (``None``: embedded defaults) plus the environment;
    raises :class:`ConfigError` listing every problem (secret references included)."""
    config, issues = check_config(
        None if path is None else Path(path), secrets=True, environ=environ
    )
    if config is None:
        raise ConfigError(issues)
    return config
