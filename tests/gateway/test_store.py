"""The store's contract on both backends (SQLite file, real PostgreSQL server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import check_config, load_config
from gateway.store import Store, StoreUnavailableError, StoreUrlError, open_store
from tests.gateway.pgserver import PgServer


def test_unknown_pool_size_refuses_every_acquire(store: Store) -> None:
    assert store.pool_state().size is None and store.pool_size is None
    assert store.acquire("c1", "room", "t", "gw", now=100.0) is None
    store.pool_size = 1
    assert store.pool_size == 1
    assert store.acquire("c1", "room", "t", "gw", now=100.0) is not None
    with pytest.raises(ValueError):
        store.set_pool_size(-1)


def test_acquire_stops_at_the_pool_size_and_release_frees(store: Store) -> None:
    store.set_pool_size(2)
    a = store.acquire("c1", "room", "t", "gw", now=100.0)
    b = store.acquire("c2", "room", "t", "gw", now=100.0)
    assert a is not None and b is not None
    assert a.expires_at == 110.0
    assert store.acquire("c3", "room", "t", "gw", now=100.0) is None
    assert store.pool_state().as_dict() == {"size": 2, "leased": 2, "used_elsewhere": 0, "free": 0}
    released = store.release("c1")
    assert released is not None and released.call_id == "c1"
    assert store.release("c1") is None
    assert store.acquire("c3", "room", "t", "gw", now=101.0) is not None


def test_usage_elsewhere_shrinks_what_is_free(store: Store) -> None:
    store.set_pool_size(3)
    store.set_used_elsewhere(2)
    assert store.acquire("c1", "room", "t", "gw", now=1.0) is not None
    assert store.acquire("c2", "room", "t", "gw", now=1.0) is None
    assert store.pool_state().free == 0
    store.set_used_elsewhere(0)
    assert store.acquire("c2", "room", "t", "gw", now=1.0) is not None


def test_reacquire_is_idempotent_for_the_owner_only(store: Store) -> None:
    store.set_pool_size(5)
    first = store.acquire("c1", "room", "t", "gw-a", now=1.0)
    assert store.acquire("c1", "room", "t", "gw-a", now=2.0) == first
    assert store.acquire("c1", "room", "t", "gw-b", now=2.0) is None
    assert store.pool_state().leased == 1


def test_heartbeat_keeps_leases_and_silence_expires_them(store: Store) -> None:
    store.set_pool_size(4)
    store.acquire("a1", "room", "t", "gw-a", now=100.0)
    store.acquire("b1", "room", "t", "gw-b", now=100.0)
    assert store.heartbeat("gw-a", now=108.0) == 1
    expired = store.expire(now=110.0)
    assert [lease.call_id for lease in expired] == ["b1"]
    assert [lease.call_id for lease in store.leases()] == ["a1"]
    assert store.expire(now=117.9) == []
    assert [lease.call_id for lease in store.expire(now=118.0)] == ["a1"]


def test_an_acquire_reclaims_expired_leases_first(store: Store) -> None:
    store.set_pool_size(1)
    store.acquire("dead", "room", "t", "crashed", now=100.0)
    assert store.acquire("new", "room", "t", "gw", now=105.0) is None
    assert store.acquire("new", "room", "t", "gw", now=110.0) is not None


def test_release_owner_frees_a_restarted_gateways_leases(store: Store) -> None:
    store.set_pool_size(4)
    for n in range(3):
        store.acquire(f"c{n}", "room", "t", "gw-a", now=1.0)
    store.acquire("other", "room", "t", "gw-b", now=1.0)
    assert sorted(lease.call_id for lease in store.release_owner("gw-a")) == ["c0", "c1", "c2"]
    assert [lease.owner for lease in store.leases()] == ["gw-b"]
    assert store.leases(owner="gw-a") == []


def test_cdr_lifecycle(store: Store) -> None:
    first = store.record_cdr("c1", "boardroom", "87654321012@zoomcrc.com", 100.0, owner="gw")
    assert first.outcome is None and first.duration is None
    again = store.record_cdr("c1", "other", "x", 999.0)
    assert again.room == "boardroom"
    rtp = {"packets_rx": 250, "lost": 1, "jitter_ms": 0.4}
    updated = store.update_cdr(
        "c1", answered_at=101.5, ended_at=131.5, outcome="connected", sip_code=200,
        sip_reason="OK", rtp=rtp,
    )
    assert updated is not None
    assert updated.rtp == rtp and updated.duration == 30.0 and updated.sip_code == 200
    store.record_cdr("c2", "huddle", "t", 200.0)
    assert [c.call_id for c in store.cdrs()] == ["c2", "c1"]
    assert [c.call_id for c in store.cdrs(room="boardroom")] == ["c1"]
    assert [c.call_id for c in store.cdrs(limit=1)] == ["c2"]
    assert store.update_cdr("missing", outcome="x") is None
    with pytest.raises(ValueError, match="unknown CDR field"):
        store.update_cdr("c1", password="x")


def test_bad_urls_are_refused() -> None:
    with pytest.raises(StoreUrlError):
        open_store("mysql://localhost/x")
    with pytest.raises(ValueError):
        open_store("sqlite:///x", ttl=0)


@pytest.mark.postgres
def test_postgres_store_reconnects_after_the_link_drops(pg_url: str) -> None:
    import psycopg

    store = open_store(pg_url, ttl=10)
    store.set_pool_size(3)
    assert store.acquire("a", "room", "t", "gw", now=1.0) is not None
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(StoreUnavailableError, match="postgresql"):
        store.acquire("b", "room", "t", "gw", now=2.0)  # the call that finds the link dead
    assert store.acquire("b", "room", "t", "gw", now=2.0) is not None  # reconnected
    assert store.pool_state().leased == 2
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.pool_state()


@pytest.mark.postgres
def test_postgres_password_comes_from_the_configuration_not_the_url(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute("CREATE ROLE crcgw_pw LOGIN PASSWORD 'pw-secret-1'")
        admin.execute("CREATE DATABASE crcgw_pw_db OWNER crcgw_pw")
        hba = pg_server.data / "pg_hba.conf"
        hba.write_text("host all crcgw_pw 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        admin.execute("SELECT pg_reload_conf()")
    url = f"postgresql://crcgw_pw@127.0.0.1:{pg_server.port}/crcgw_pw_db"
    with pytest.raises(psycopg.OperationalError):
        open_store(url)
    config_file = tmp_path / "crcgw.yaml"
    config_file.write_text(f"store:\n  url: {url}\n  password_env: GW_DB_PASSWORD\n")
    monkeypatch.setenv("GW_DB_PASSWORD", "pw-secret-1")
    config = load_config(config_file)
    store = open_store(config.store_url, password=config.store_password())
    store.set_pool_size(1)
    assert store.acquire("a", "room", "t", "gw", now=1.0) is not None
    assert "pw-secret-1" not in repr(store) + repr(config)
    store.close()
    config_file.write_text(f"store:\n  url: {url.replace('crcgw_pw@', 'crcgw_pw:x@')}\n")
    _, issues = check_config(config_file)
    assert [(i.line, i.location) for i in issues] == [(2, "store.url")]
    assert "must not carry a password" in issues[0].message
