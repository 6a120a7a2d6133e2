"""Certificates anyone can verify (their own digest + the provider's Ed25519 signature, by
content, not by name), one count everywhere, backups listed with where / SHA-256 / destroy
date, and backups kept out of the GitOps repository by the .gitignore `init` writes."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from drivers.media import content_sha256
from orchestrator import clock
from orchestrator.core.workdays import add_months
from tests.conftest import cloud_rows
from tests.decommission.test_exit_process import NO, gc, small


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("seal")
    ws = small(tmp, "bozhou")
    assert gc(ws, "request-exit", NO).returncode == 0
    before = cloud_rows(ws)
    r = gc(ws, "decommission", "exsys", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    after = cloud_rows(ws)
    cert = next((ws / "certificates").glob("*.json"))
    pub = tmp / "provider.pub.pem"
    k = gc(ws, "certificate", "public-key")
    assert k.returncode == 0 and k.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    pub.write_text(k.stdout)
    return {"ws": ws, "out": r.stdout, "cert": cert, "pub": pub, "tmp": tmp,
            "gone": len(before) - len(after)}


def test_console_json_and_certificate_count_the_same_objects(done):
    ws, cert = done["ws"], json.loads(done["cert"].read_text())
    doc = json.loads(gc(ws, "decommission", "exsys", "--output", "json").stdout)
    total = doc["workflow"]["reclaimed"]["total"]
    # the cloud lost exactly this many objects (the domain went with the system's objects,
    # which is why the plan's 7 and the executor's count used to disagree)
    assert total == done["gone"] == cert["objects_reclaimed"]
    assert f"{total} objects reclaimed" in done["out"]
    assert f"reclaimed={total}" in done["out"]
    assert len(doc["workflow"]["objects"]) != total   # the plan alone would have said otherwise


def test_certificate_lists_every_backup_still_held(done):
    cert = json.loads(done["cert"].read_text())
    held = cert["backups_held"]
    assert len(held) == 1 and len(cert["media"]) == 1
    b = held[0]
    path = Path(b["location"].removeprefix("file://"))
    assert path.is_file() and content_sha256(path) == b["sha256"]
    assert b["destroy_on"] == add_months(clock.today(), 6).isoformat()   # China time, as the CLI
    md = done["cert"].with_suffix(".md").read_text()
    assert b["sha256"] in md and b["destroy_on"] in md


def test_init_gitignore_keeps_backups_out_of_the_repository(done):
    ws = done["ws"]
    git = lambda *a: subprocess.run(["git", *a], cwd=ws, capture_output=True, text=True)  # noqa
    assert git("init", "-q").returncode == 0
    assert git("add", "-A").returncode == 0
    tracked = git("ls-files").stdout.splitlines()
    assert "approvals/EX-0001.yaml" in tracked and any(t.startswith("certificates/") for t in tracked)
    backups = [p for p in (ws / "backups").rglob("*.img")]
    assert backups   # positive control: they exist, yet none is tracked
    assert not [t for t in tracked if t.startswith("backups/")]
    assert git("check-ignore", "-q", str(backups[0].relative_to(ws))).returncode == 0


def test_a_renamed_copy_verifies_by_content(done):
    ws = done["ws"]
    for f in sorted((ws / "certificates").iterdir()):
        copy = ws / f"renamed-{f.stem}.copy{f.suffix}"
        shutil.copy(f, copy)
        r = gc(ws, "certificate", "verify", str(copy), "--output", "json")
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout)
        assert res["audit_checked"] and res["key_trusted"] and res["stack"] == "exd/exsys"


@pytest.mark.parametrize("suffix", [".json", ".md", ".html"])
def test_one_changed_byte_fails(done, suffix):
    src = done["cert"].with_suffix(suffix)
    data = bytearray(src.read_bytes())
    at = data.index(b"exsys") + 1
    data[at] ^= 0x01                   # one byte ("exsys" -> "eysys"), nothing else
    bad = done["tmp"] / f"bad{suffix}"
    bad.write_bytes(bytes(data))
    r = gc(done["ws"], "certificate", "verify", str(bad))
    assert r.returncode == 1 and "changed after it was issued" in r.stderr
    # negative control: the unchanged bytes under the same new name verify
    good = done["tmp"] / f"good{suffix}"
    good.write_bytes(src.read_bytes())
    assert gc(done["ws"], "certificate", "verify", str(good)).returncode == 0


def test_outside_the_workspace_with_the_public_key(done, tmp_path):
    elsewhere = tmp_path / "department"
    elsewhere.mkdir()
    copy = elsewhere / "our-certificate.html"
    shutil.copy(done["cert"].with_suffix(".html"), copy)
    r = gc(elsewhere, "certificate", "verify", str(copy), "--key", str(done["pub"]),
           "--output", "json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["key_trusted"] and not res["audit_checked"] and res["audit_entry"] is None
    # another provider's key: refused
    other = tmp_path / "other"
    from orchestrator.trust.provider_key import load_or_create
    (tmp_path / "other.pub").write_text(load_or_create(other).public_pem())
    r = gc(elsewhere, "certificate", "verify", str(copy), "--key", str(tmp_path / "other.pub"))
    assert r.returncode == 1 and "signature does not verify" in r.stderr
    # no key: checked against the key it carries, and said so
    r = gc(elsewhere, "certificate", "verify", str(copy))
    assert r.returncode == 0 and "pass --key" in r.stderr
