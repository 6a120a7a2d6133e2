"""Signed approvals through the CLI: init's demo signing, `approval sign|verify|keygen`, and every
refusal (unsigned, forged, altered, unknown / expired / revoked key, the provider's own key,
replayed), each with "Nothing was changed." and the state and cloud untouched."""
from __future__ import annotations

import base64
import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from orchestrator.usecases.init import init_workspace

A12 = "approvals/BZ-2026-0012.yaml"
A31 = "approvals/BZ-2026-0031.yaml"
DEMO_KEY = ".govcloud/demo-bureau-key.yaml"


@pytest.fixture
def sws(tmp_path) -> Path:
    path = tmp_path / "ws"
    init_workspace(path, "bazhong", signatures=True)
    return path


def serial(ws: Path) -> int:
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    try:
        return int(db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()[0])
    finally:
        db.close()


def refused(cli, ws: Path, reason: str, commands=("validate", "plan")) -> None:
    """Every command refuses, naming ``reason``, and changes nothing."""
    before = serial(ws) if (ws / ".govcloud" / "state.db").exists() else None
    for c in commands:
        r = cli(c, "-C", ws)
        assert r.exit_code == 1, (c, r.output)
        flat = " ".join(r.output.split())
        assert reason in flat and "Nothing was changed." in flat, (c, r.output)
    if before is not None:
        assert serial(ws) == before


def keyring_edit(ws: Path, fn) -> None:
    path = ws / "trust" / "approvers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data["keys"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_init_signs_the_examples_and_everything_verifies(sws, cli):
    toml = (sws / "govcloud.toml").read_text()
    assert "require_signatures = true" in toml
    assert (sws / DEMO_KEY).stat().st_mode & 0o777 == 0o600
    assert ".govcloud/" in (sws / ".gitignore").read_text()   # the demo key is never committed
    assert "demo: true" in (sws / "trust" / "approvers.yaml").read_text()
    r = cli("approval", "verify", "-C", sws)
    assert r.exit_code == 0 and "2 of 2 signatures valid" in r.output, r.output
    r = cli("approval", "verify", "-C", sws, "--output", "json")
    doc = r.json()
    assert doc["format"] == "govcloud-approval-verify/1" and doc["ok"] and doc["required"]
    assert {f["algorithm"] for f in doc["files"]} == {"sm2-sm3"}
    assert cli("validate", "-C", sws).exit_code == 0
    assert cli("compile", "-C", sws).exit_code == 0
    r = cli("apply", "-C", sws, "--auto-approve")
    assert r.exit_code == 0, r.output


def test_cli_init_says_it_made_a_demo_key(tmp_path, cli):
    r = cli("init", tmp_path / "w")
    assert r.exit_code == 0 and "DEMO bureau key" in r.output, r.output
    r = cli("init", tmp_path / "v", "--no-signatures")
    assert r.exit_code == 0 and "DEMO" not in r.output
    assert "require_signatures" not in (tmp_path / "v" / "govcloud.toml").read_text()


def test_unsigned_is_refused(sws, cli):
    (sws / (A12 + ".sig")).unlink()
    refused(cli, sws, f"{A12} is not signed")
    r = cli("approval", "verify", "-C", sws)
    assert r.exit_code == 1 and "1 of 2 signatures valid" in r.output


def test_altered_after_signing_is_refused(sws, cli):
    p = sws / A12
    p.write_bytes(p.read_bytes().replace(b"count: 2", b"count: 20"))
    refused(cli, sws, f"{A12} was altered after it was signed")


def test_forged_signature_is_refused(sws, cli, tmp_path):
    # a key of the forger's own, made to look like the bureau's (same key id)
    r = cli("approval", "keygen", tmp_path / "forger.yaml", "--key-id", "demo-bureau-sm2",
            "--office", "x", "--person", "y")
    assert r.exit_code == 0, r.output
    p = sws / A12
    p.write_bytes(p.read_bytes().replace(b"count: 2", b"count: 20"))
    assert cli("approval", "sign", sws / A12, "--key", tmp_path / "forger.yaml").exit_code == 0
    refused(cli, sws, "the signature is not valid for key demo-bureau-sm2 (forged or damaged)")


def test_unknown_key_is_refused(sws, cli, tmp_path):
    assert cli("approval", "keygen", tmp_path / "k.yaml", "--key-id", "someone-else",
               "--algorithm", "ed25519", "--office", "x", "--person", "y").exit_code == 0
    assert cli("approval", "sign", sws / A12, "--key", tmp_path / "k.yaml").exit_code == 0
    refused(cli, sws, "signed by key 'someone-else', which is not in trust/approvers.yaml")


def test_revoked_key_is_refused(sws, cli):
    keyring_edit(sws, lambda keys: keys[0].update(revoked_on=str(dt.date.today())))
    refused(cli, sws, "key demo-bureau-sm2 was revoked on")


def test_expired_key_is_refused_today(sws, cli):
    keyring_edit(sws, lambda keys: keys[0].update(valid_until="2020-12-31"))
    refused(cli, sws, "key demo-bureau-sm2 expired on 2020-12-31")


def test_key_dead_before_the_approval_date_is_refused(sws, cli):
    """Checked at the approval's date too: a key revoked before the approval was made never
    vouches for it (here it is fine again today: revoked_on is checked against both days)."""
    approved_on = yaml.safe_load((sws / A12).read_text())["approved_on"]
    keyring_edit(sws, lambda keys: keys[0].update(revoked_on=str(approved_on)))
    refused(cli, sws, f"was revoked on {approved_on} (checked at the approval date, {approved_on})")


def test_key_not_yet_valid_today_is_refused(sws, cli):
    later = dt.date.today() + dt.timedelta(days=30)
    keyring_edit(sws, lambda keys: keys[0].update(valid_from=str(later)))
    refused(cli, sws, f"is valid only from {later} (checked at today")


def test_ed25519_keys_work_and_rotation_is_a_keyring_edit(sws, cli, tmp_path):
    r = cli("approval", "keygen", tmp_path / "new.yaml", "--key-id", "bz-dsj-2027",
            "--algorithm", "ed25519", "--office", "市政务服务和大数据管理局", "--person", "李华")
    assert r.exit_code == 0, r.output
    entry = r.output[r.output.index("  - key_id"):]
    with open(sws / "trust" / "approvers.yaml", "a", encoding="utf-8") as f:
        f.write(entry)
    assert cli("approval", "sign", sws / A12, sws / A31, "--key", tmp_path / "new.yaml").exit_code == 0
    keyring_edit(sws, lambda keys: keys[0].update(revoked_on=str(dt.date.today())))
    r = cli("approval", "verify", "-C", sws, "--output", "json")
    assert r.exit_code == 0 and {f["key_id"] for f in r.json()["files"]} == {"bz-dsj-2027"}
    assert cli("validate", "-C", sws).exit_code == 0


def test_the_provider_key_can_never_sign_approvals(sws, cli, tmp_path):
    from orchestrator.trust import provider_key
    pk = provider_key.load_or_create(sws)
    # 1. it cannot be a keyring entry
    pem = "\n".join("      " + line for line in pk.public_pem().strip().splitlines())
    with open(sws / "trust" / "approvers.yaml", "a", encoding="utf-8") as f:
        f.write(f"  - key_id: provider\n    algorithm: ed25519\n    public_key: |\n{pem}\n"
                "    holder: {office: provider, person: ops}\n    valid_from: 2020-01-01\n")
    refused(cli, sws, "this is the provider's own signing key")
    keyring_edit(sws, lambda keys: keys.pop())
    assert cli("validate", "-C", sws).exit_code == 0          # control: the keyring is fine again
    # 2. a signature by it is refused by name, whatever key id it claims
    data = (sws / A12).read_bytes()
    sig = sws / (A12 + ".sig")
    text = sig.read_text()
    text = re.sub(r"algorithm: .*", "algorithm: ed25519", text)
    text = re.sub(r"signature: .*", "signature: " + base64.b64encode(pk.sign(data)).decode(), text)
    sig.write_text(text)
    refused(cli, sws, "signed by the provider's own key")
    # 3. `approval sign` refuses it as a key file
    raw = pk._private.private_bytes_raw()
    (tmp_path / "pk.yaml").write_text(f"format: govcloud-signing-key/1\nkey_id: p\n"
                                      f"algorithm: ed25519\nprivate_key: {raw.hex()}\n")
    r = cli("approval", "sign", sws / A31, "--key", tmp_path / "pk.yaml", "-C", sws)
    assert r.exit_code == 1 and "provider's own key" in r.output, r.output


def test_replay_after_apply_is_refused(sws, cli):
    assert cli("compile", "-C", sws).exit_code == 0
    assert cli("apply", "-C", sws, "--auto-approve").exit_code == 0
    original = (sws / A12).read_bytes(), (sws / (A12 + ".sig")).read_bytes()
    # the same number with other content, validly signed: a change document's job
    (sws / A12).write_bytes(original[0].replace(b"count: 2", b"count: 3"))
    assert cli("approval", "sign", sws / A12, "--key", sws / DEMO_KEY).exit_code == 0
    # refused as an in-place edit (issue 13) by validate and compile, and so by plan (which
    # compiles first); apply of the compiled specs by the signature layer's replay check
    refused(cli, sws, "approval BZ-2026-0012 was applied from approvals/BZ-2026-0012.yaml and "
                      "this file differs", commands=("validate", "compile", "plan"))
    refused(cli, sws, "approval BZ-2026-0012 was applied from approvals/BZ-2026-0012.yaml with "
                      "other content", commands=("apply",))
    # the applied bytes under another file name
    (sws / A12).unlink()
    (sws / (A12 + ".sig")).unlink()
    (sws / "approvals" / "copy.yaml").write_bytes(original[0])
    (sws / "approvals" / "copy.yaml.sig").write_bytes(original[1])
    assert cli("compile", "-C", sws).exit_code == 0
    refused(cli, sws, "the same signed content under another file name is a replay",
            commands=("plan",))
    # control: back as applied, the plan is clean
    (sws / "approvals" / "copy.yaml").rename(sws / A12)
    (sws / "approvals" / "copy.yaml.sig").rename(sws / (A12 + ".sig"))
    assert cli("compile", "-C", sws).exit_code == 0
    r = cli("plan", "-C", sws, "--detailed-exitcode")
    assert r.exit_code == 0, r.output


def test_apply_refuses_a_plan_whose_approvals_changed(sws, cli, tmp_path):
    assert cli("compile", "-C", sws).exit_code == 0
    plan = tmp_path / "p.json"
    assert cli("plan", "-C", sws, "-o", plan).exit_code == 0
    doc = __import__("json").loads(plan.read_text())
    assert set(doc["approvals"]) == {"BZ-2026-0012", "BZ-2026-0031"}
    assert doc["approvals"]["BZ-2026-0012"]["signature"]["key_id"] == "demo-bureau-sm2"
    # re-signed (same bytes, another signature): the signature status changed since planning
    assert cli("approval", "sign", sws / A12, "--key", sws / DEMO_KEY).exit_code == 0
    r = cli("apply", "-C", sws, plan)
    assert r.exit_code == 1 and "changed its signature status since planning" in r.output, r.output
    assert serial(sws) == 0
    # control: a fresh plan applies
    assert cli("plan", "-C", sws, "-o", plan).exit_code == 0
    assert cli("apply", "-C", sws, plan).exit_code == 0
    assert serial(sws) > 0


def test_verified_signatures_are_cached_but_dates_and_bytes_still_checked(sws, cli, monkeypatch):
    from orchestrator.trust import signatures
    assert cli("approval", "verify", "-C", sws).exit_code == 0
    assert (sws / ".govcloud" / "signature-cache.json").is_file()
    calls = []
    real = signatures.check_signature
    monkeypatch.setattr(signatures, "check_signature",
                        lambda *a: calls.append(a) or real(*a))
    assert cli("approval", "verify", "-C", sws).exit_code == 0
    assert calls == []                                  # nothing verified twice
    keyring_edit(sws, lambda keys: keys[0].update(revoked_on=str(dt.date.today())))
    refused(cli, sws, "key demo-bureau-sm2 was revoked on")   # the dates are not cached
    keyring_edit(sws, lambda keys: keys[0].update(revoked_on=None))
    p = sws / A12
    p.write_bytes(p.read_bytes() + b"# more\n")
    refused(cli, sws, f"{A12} was altered after it was signed")   # other bytes: verified again
    assert len(calls) >= 1


def test_saved_plans_carry_the_provider_signature(sws, cli, tmp_path):
    import json

    from orchestrator.trust import provider_key
    assert cli("compile", "-C", sws).exit_code == 0
    plan = tmp_path / "p.json"
    assert cli("plan", "-C", sws, "-o", plan).exit_code == 0
    doc = json.loads(plan.read_text())
    sig = doc["provider_signature"]
    assert sig["key_id"] == provider_key.load(sws).key_id
    # checkable with the public key alone
    assert provider_key.verify(sig["public_key"], sig["sha256"].encode(),
                               base64.b64decode(sig["signature"]))
    assert not provider_key.verify(sig["public_key"], ("0" * 64).encode(),
                                   base64.b64decode(sig["signature"]))
    # a forged provider signature is refused, nothing applied
    doc["provider_signature"]["sha256"] = "0" * 64
    plan.write_text(json.dumps(doc))
    r = cli("apply", "-C", sws, plan)
    assert r.exit_code == 1 and "the provider's signature does not match" in r.output, r.output
    assert serial(sws) == 0
