"""Fixtures for the gateway tests: stores on real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import Store, open_store
from tests.gateway.pgserver import PgServer, pg_bin_dir
from tests.gateway.sipclient import OPEN_CLIENTS

_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session (skips when the binaries are absent)."""
    if pg_bin_dir() is None:
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    try:
        server = PgServer()
    except RuntimeError as exc:  # e.g. root without a 'postgres' user to run initdb as
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session server."""
    import psycopg

    name = f"crcgw_test_{next(_db_numbers)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'crcgw.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store on each backend, TTL 10 s, pool size unset."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crcgw.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    st = open_store(url, ttl=10.0)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture(autouse=True)
def close_udp_clients() -> Iterator[None]:
    """Close the test SIP clients a failing test left open (no ResourceWarning on top)."""
    yield
    for client in list(OPEN_CLIENTS):
        client.close()
