"""The audit chain cannot be rolled back: signed checkpoints of its head, outside the state.

Tamper cases (after an apply published audit-checkpoint.json), on SQLite and PostgreSQL:
cut the tail and the head row, delete everything, rebuild the chain after editing an entry
(the hashes recomputed: no key protects them), restore an older database, replace the database
by an empty one, forge the checkpoint. `audit verify` alone says "intact" for the first three
(the negative control that the checkpoint is what catches them); `audit verify --checkpoint`
and every command taking the lock refuse. Also: the department export verifies with the public
key alone and not once altered; a lost state with our objects still in the cloud is refused
until `state recover --confirm`.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from orchestrator.core.audit import GENESIS, entry_hash
from orchestrator.usecases.init import init_workspace
from tests.conftest import cloud_rows
from tests.faulty_govcloud import run as gc
from tests.pg_support import pg_execute, pg_url, set_state_url  # noqa: F401 (fixture)

CP = "audit-checkpoint.json"


class Backend:
    def __init__(self, kind: str, ws: Path, url: str | None):
        self.kind, self.ws, self.url = kind, ws, url
        self.wid = next(line.split('"')[1] for line in (ws / "govcloud.toml").read_text().splitlines()
                        if line.startswith("id ="))

    def sql(self, sqlite_sql: str, pg_sql: str, params: tuple = ()) -> list:
        if self.kind == "sqlite":
            con = sqlite3.connect(self.ws / ".govcloud" / "state.db")
            try:
                rows = con.execute(sqlite_sql, params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        return pg_execute(self.url, pg_sql, params)

    def entries(self) -> list[tuple]:
        return self.sql("SELECT seq, ts, actor, action, target, approval, detail, prev_hash, hash "
                        "FROM audit ORDER BY seq",
                        "SELECT seq, ts, actor, action, target, approval, detail, prev_hash, hash "
                        "FROM govcloud_audit WHERE ws = %s ORDER BY seq", () if self.kind == "sqlite"
                        else (self.wid,))

    def set_head(self, seq: int, h: str) -> None:
        if self.kind == "sqlite":
            self.sql("UPDATE meta SET value=? WHERE key='audit_head'", "", (f"{seq}:{h}",))
        else:
            self.sql("", "UPDATE govcloud_meta SET value=%s WHERE ws=%s AND key='audit_head'",
                     (f"{seq}:{h}", self.wid))

    def cut_after(self, seq: int) -> None:
        if self.kind == "sqlite":
            self.sql("DELETE FROM audit WHERE seq > ?", "", (seq,))
        else:
            self.sql("", "DELETE FROM govcloud_audit WHERE ws=%s AND seq > %s", (self.wid, seq))

    def rewrite(self, seq: int, detail: dict) -> None:
        """Edit entry ``seq`` and recompute every hash after it, as an attacker can."""
        prev = GENESIS
        for row in self.entries():
            s, ts, actor, action, target, approval, d, _, _ = row
            d = json.loads(d)
            if s == seq:
                d = detail
            h = entry_hash(s, ts, actor, action, target, approval, d, prev)
            if self.kind == "sqlite":
                self.sql("UPDATE audit SET detail=?, prev_hash=?, hash=? WHERE seq=?", "",
                         (json.dumps(d, sort_keys=True), prev, h, s))
            else:
                self.sql("", "UPDATE govcloud_audit SET detail=%s, prev_hash=%s, hash=%s "
                             "WHERE ws=%s AND seq=%s", (json.dumps(d, sort_keys=True), prev, h,
                                                        self.wid, s))
            prev = h
        self.set_head(s, prev)


@pytest.fixture(params=["sqlite", "postgres"])
def applied(request, tmp_path) -> Backend:
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        set_state_url(ws, url)
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert (ws / CP).is_file()
    return Backend(request.param, ws, url)


def _refused(ws: Path, *why: str) -> None:
    r = gc(ws, "audit", "verify", "--checkpoint", ws / CP)
    assert r.returncode == 1, r.stdout + r.stderr
    r = gc(ws, "plan")
    assert r.returncode == 1 and "audit checkpoint" in r.stderr, r.stdout + r.stderr
    assert any(w in r.stderr for w in why), r.stderr


def test_negative_control_untampered_state_continues_its_checkpoint(applied):
    ws = applied.ws
    assert gc(ws, "audit", "verify", "--checkpoint", ws / CP).returncode == 0
    assert gc(ws, "plan", "--detailed-exitcode").returncode == 0


def test_cut_tail_and_head_row_is_detected(applied):
    rows = applied.entries()
    keep = rows[-4]
    applied.cut_after(keep[0])
    applied.set_head(keep[0], keep[8])
    assert gc(applied.ws, "audit", "verify").returncode == 0, "the chain alone cannot see this"
    _refused(applied.ws, "cut off")


def test_deleting_everything_is_detected(applied):
    applied.cut_after(0)
    applied.sql("DELETE FROM meta WHERE key='audit_head'",
                "DELETE FROM govcloud_meta WHERE ws=%s AND key='audit_head'",
                () if applied.kind == "sqlite" else (applied.wid,))
    assert gc(applied.ws, "audit", "verify").returncode == 0, "the chain alone cannot see this"
    _refused(applied.ws, "cut off")


def test_rebuilt_chain_after_an_edit_is_detected(applied):
    applied.rewrite(2, {"forged": True})
    assert gc(applied.ws, "audit", "verify").returncode == 0, "the chain alone cannot see this"
    _refused(applied.ws, "rewritten")


def test_forged_checkpoint_is_refused(applied):
    cp = json.loads((applied.ws / CP).read_text())
    cp["seq"] = 1
    (applied.ws / CP).write_text(json.dumps(cp))
    _refused(applied.ws, "signature")


def test_restoring_an_older_sqlite_database_is_detected(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    later = sorted((ws / "approvals").glob("*.yaml"))[-1]
    shutil.move(later, tmp_path / later.name)     # applied only after the backup
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    backup = tmp_path / "old.db"
    src = sqlite3.connect(ws / ".govcloud" / "state.db")
    dst = sqlite3.connect(backup)
    src.backup(dst)
    src.close(), dst.close()
    shutil.move(tmp_path / later.name, later)
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stderr
    for p in (ws / ".govcloud").glob("state.db*"):
        p.unlink()
    shutil.copyfile(backup, ws / ".govcloud" / "state.db")
    assert gc(ws, "audit", "verify").returncode == 0, "the old database verifies on its own"
    before = sorted(cloud_rows(ws))
    _refused(ws, "cut off", "rewritten")
    assert gc(ws, "apply", "--auto-approve").returncode == 1
    assert sorted(cloud_rows(ws)) == before
    # the operator accepts the restored state explicitly: recorded, and the commands run again
    r = gc(ws, "audit", "checkpoint", "--accept-rollback")
    assert r.returncode == 0, r.stderr
    assert gc(ws, "plan").returncode == 0
    assert "checkpoint-rollback-accepted" in gc(ws, "audit", "list").stdout


def test_lost_state_with_our_objects_in_the_cloud_needs_a_confirmed_recovery(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    n = len(cloud_rows(ws))
    for p in (ws / ".govcloud").glob("state.db*"):
        p.unlink()
    (ws / ".govcloud" / "state.db").write_bytes(b"")   # a zero-length database
    (ws / CP).unlink()                                 # and no checkpoint to compare with
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 1 and "state database was lost" in r.stderr, r.stdout + r.stderr
    assert gc(ws, "state", "recover").returncode == 1          # needs --confirm
    assert gc(ws, "state", "recover", "--confirm").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(cloud_rows(ws)) == n, "recovered by adoption: no duplicate"
    assert gc(ws, "plan", "--detailed-exitcode").returncode == 0


def test_department_export_verifies_with_the_public_key_alone(applied, tmp_path):
    ws = applied.ws
    out = tmp_path / "edu.json"
    assert gc(ws, "audit", "export-signed", "--department", "edu", "-o", out).returncode == 0
    doc = json.loads(out.read_text())
    assert doc["entries"] and all("edu" in e["target"] or "edu/" in str(e["detail"])
                                  for e in doc["entries"])
    listed = gc(ws, "audit", "list", "--department", "edu", "--last", "0", "--output", "json")
    assert json.loads(listed.stdout)["total"] == len(doc["entries"])
    pem = tmp_path / "provider.pem"
    pem.write_text(doc["public_key"])
    assert gc(ws, "audit", "verify-export", out, "--public-key", pem).returncode == 0
    doc["entries"][0]["detail"]["cloud_id"] = "forged"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = gc(ws, "audit", "verify-export", bad, "--public-key", pem)
    assert r.returncode == 1 and "does not match its hash" in r.stderr
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem.write_bytes(other)
    r = gc(ws, "audit", "verify-export", out, "--public-key", pem)
    assert r.returncode == 1 and "signature" in r.stderr
