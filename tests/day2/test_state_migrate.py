"""`govcloud state migrate --to postgresql://...`: a SQLite state with resources, history, an
audit chain, lifecycle events, a published checkpoint, moved into PostgreSQL: everything
copied and verified, govcloud.toml switched, the next plan a no-op on the new backend; a
non-empty target refused with nothing changed; a password in the URL never written to the file."""
from __future__ import annotations


import pytest

from tests.pg_support import pg_execute, scratch_database


@pytest.fixture
def h15c_db():
    with scratch_database("h15c_migrate_") as url:
        yield url


def test_migrate_copies_everything_verifies_and_switches(tmp_path, cli, h15c_db):
    ws = tmp_path / "ws"
    assert cli("init", ws, "--profile", "bazhong").exit_code == 0
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    before = cli("state", "list", "-C", ws, "--output", "json").json()
    audit_before = cli("audit", "list", "-C", ws, "--output", "json").json()
    assert (ws / "audit-checkpoint.json").exists()   # the copy must continue it (guarded)
    r = cli("state", "migrate", "--to", h15c_db, "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    res = r.json()
    assert res["switched"] and res["copied"]["resources"] == len(before["resources"]) == 56
    assert res["copied"]["audit"] == audit_before["total"] and res["copied"]["events"] > 0
    assert res["copied"]["history"] >= 56
    assert f'url = "{h15c_db}"' in (ws / "govcloud.toml").read_text()
    # Now on PostgreSQL: same records and serial, the chain intact, nothing left to do.
    after = cli("state", "list", "-C", ws, "--output", "json").json()
    assert (after["lineage"], after["serial"]) == (before["lineage"], before["serial"])
    assert after["resources"] == before["resources"]
    r = cli("audit", "verify", "-C", ws)
    assert r.exit_code == 0 and "intact" in r.output, r.output
    r = cli("plan", "-C", ws, "--detailed-exitcode")
    assert r.exit_code == 0, r.output
    assert pg_execute(h15c_db, "SELECT count(*) FROM govcloud_resources") == [(56,)]
    # The SQLite file is kept as it was (the backup).
    assert (ws / ".govcloud" / "state.db").exists()


def test_a_non_empty_target_is_refused_and_nothing_changes(tmp_path, cli, h15c_db):
    first, second = tmp_path / "a", tmp_path / "b"
    for ws in (first, second):
        assert cli("init", ws, "--profile", "bazhong").exit_code == 0
    # b gets a's workspace id, so that both would land on the same rows.
    ws_id = [line for line in (first / "govcloud.toml").read_text().splitlines()
             if line.startswith("id = ")][0]
    text = (second / "govcloud.toml").read_text().splitlines()
    (second / "govcloud.toml").write_text("\n".join(ws_id if line.startswith("id = ") else line
                                                    for line in text) + "\n")
    assert cli("state", "migrate", "--to", h15c_db, "-C", first).exit_code == 0
    rows = pg_execute(h15c_db, "SELECT count(*) FROM govcloud_audit")
    cfg = (second / "govcloud.toml").read_text()
    r = cli("state", "migrate", "--to", h15c_db, "-C", second)
    assert r.exit_code == 1 and "already holds state for workspace" in r.output, r.output
    assert (second / "govcloud.toml").read_text() == cfg
    assert pg_execute(h15c_db, "SELECT count(*) FROM govcloud_audit") == rows


def test_a_password_in_the_url_is_not_written_and_a_postgres_state_is_refused(tmp_path, cli,
                                                                              h15c_db):
    ws = tmp_path / "ws"
    assert cli("init", ws, "--profile", "bazhong").exit_code == 0
    url = h15c_db.replace("postgres@", "postgres:s3cret@")   # trust auth ignores it
    cfg = (ws / "govcloud.toml").read_text()
    r = cli("state", "migrate", "--to", url, "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    assert not r.json()["switched"] and "PGPASSWORD" in r.json()["how"]
    assert "s3cret" not in r.output and (ws / "govcloud.toml").read_text() == cfg
    r = cli("state", "migrate", "--to", "mysql://x/y", "-C", ws)
    assert r.exit_code == 1 and "not a PostgreSQL URL" in r.output
