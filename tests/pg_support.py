"""PostgreSQL for the tests: one fresh database per test session, dropped at the end.

The server is the machine's PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth), or the
one GOVCLOUD_TEST_PG_URL names (any database on it: the tests create their own beside it).
Tests that need it FAIL, never skip, when it cannot be reached.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("GOVCLOUD_TEST_PG_URL") or DEFAULT_SERVER


def with_database(url: str, dbname: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment))


def _unreachable(exc: Exception) -> str:
    from orchestrator.models.config import redact_url
    p = urlsplit(server_url())
    where = f"{p.hostname or 'localhost'}:{p.port or 5432}"
    return (f"PostgreSQL not reachable at {where} ({redact_url(server_url())}): "
            f"{' '.join(str(exc).split())}\n"
            "start it with `service postgresql start` (or `pg_ctlcluster --skip-systemctl-redirect "
            "15 main start`), or set GOVCLOUD_TEST_PG_URL=postgresql://USER@HOST:PORT/DB to use "
            "another server")


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database named ``prefix`` + random hex, dropped afterwards; the URL. Fails the
    test, saying how to start the server, when it cannot be reached."""
    try:
        import psycopg
    except ImportError:
        pytest.fail('psycopg is not installed: pip install -e ".[test]"', pytrace=False)
    admin_url = server_url()
    dbname = prefix + secrets.token_hex(6)
    problem = None
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0 ENCODING \'UTF8\'')
    except psycopg.Error as exc:
        problem = _unreachable(exc)
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        yield with_database(admin_url, dbname)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a fresh database for this test session."""
    with scratch_database("govcloud_test_") as url:
        yield url


def pg_execute(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on the test database (for tampering with it like an attacker would)."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(sql, params)
        return cur.fetchall() if cur.description else []


def set_state_url(ws, url: str) -> None:
    """Point a workspace made by `govcloud init` at another state URL."""
    cfg = ws / "govcloud.toml"
    text = cfg.read_text(encoding="utf-8")
    old = 'url = "sqlite:///.govcloud/state.db"'
    assert old in text
    cfg.write_text(text.replace(old, f'url = "{url}"'), encoding="utf-8")
