"""`govcloud approval sign | verify | keygen`, and the signature gate of validate, plan and apply.

When ``[approvals] require_signatures = true``, every approval (``approvals/*.yaml``) and change
document (``changes/*.yaml``) must carry a valid detached signature by a key of the keyring
that is valid on the approval's date and today, and not the provider's own key; and an approval
number the state has applied must come with the same bytes from the same file (replay).
Everything is checked before anything is compiled, planned or applied.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GovcloudError, InputError, Issue, PlanRefused
from ..inputs import read_yaml
from ..state.base import StateStore
from ..trust import keyring, signatures
from ..trust.signatures import Verdict
from ..workspace import Workspace

VERIFY_FORMAT = "govcloud-approval-verify/1"
SIGN_FORMAT = "govcloud-approval-sign/1"
KEYGEN_FORMAT = "govcloud-approval-keygen/1"


def signed_files(ws: Workspace) -> list[Path]:
    """The documents a bureau signs: approvals and change documents."""
    changes = ws.root / "changes"
    extra = sorted(p for p in changes.iterdir() if p.suffix in (".yaml", ".yml")
                   and not p.name.startswith(".")) if changes.is_dir() else []
    return ws.approval_files() + extra


_NUMBER = re.compile(rb"^approval_no:[ \t]*[\"']?([A-Za-z0-9][A-Za-z0-9._/-]*)[\"']?[ \t]*(?:#.*)?$",
                     re.M)


def _fields(path: Path, display: str) -> tuple[str | None, dt.date | None]:
    """(approval number, approval date) read loosely: validation reports bad files itself."""
    try:
        data = read_yaml(path, display)
    except InputError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    number = data.get("approval_no") or data.get("change_no")
    day = data.get("approved_on")
    if isinstance(day, dt.datetime):
        day = day.date()
    return (str(number) if number else None), (day if isinstance(day, dt.date) else None)


@dataclass
class VerifyResult:
    required: bool
    verdicts: list[Verdict]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        return {"format": VERIFY_FORMAT, "required": self.required, "ok": self.ok,
                "files": [v.to_dict() for v in self.verdicts]}


def verify(ws: Workspace, today: dt.date, files: list[Path] | None = None) -> VerifyResult:
    """The signature status of ``files`` (default: every approval and change document)."""
    provider = signatures.provider_public_raw(ws.root)
    keys = keyring.load(ws.root, provider, ws.config.approvals.keyring)
    cache = signatures.VerifiedCache(ws.data_dir / "signature-cache.json")
    out = []
    for path in (files if files else signed_files(ws)):
        path = path if path.is_absolute() else Path.cwd() / path
        display = ws.rel(path.resolve())
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise GovcloudError(f"{display}: cannot read ({exc.strerror})") from None
        sig = signatures.sig_path(path)
        sig_text = sig.read_text(encoding="utf-8") if sig.is_file() else None
        number, approved_on = _fields(path, display)
        days = [("today", today)]
        if approved_on is not None:
            days.insert(0, ("the approval date", approved_on))
        v = signatures.verify_bytes(display, data, sig_text, keys, days, provider, cache)
        v.details = {"number": number, "approved_on": str(approved_on) if approved_on else None}
        out.append(v)
    if all(v.ok for v in out):    # like the parse cache: a failing run leaves .govcloud/ alone
        cache.save()
    return VerifyResult(ws.config.approvals.require_signatures, out)


def refuse(bad: list[Verdict]) -> None:
    if bad:
        raise GovcloudError(f"{len(bad)} approval file(s) not validly signed",
                            [Issue("signature", v.reason, file=v.file, rule=v.status) for v in bad],
                            fix="have the bureau sign them (`govcloud approval sign FILE --key "
                                "KEYFILE`); see README: Trust")


def seals(ws: Workspace, today: dt.date) -> dict[str, dict[str, Any]]:
    """approval number -> {file, sha256, signature}: what a plan is bound to. With
    ``require_signatures``, refuses (nothing changed) unless every file is validly signed."""
    required = ws.config.approvals.require_signatures
    out: dict[str, dict[str, Any]] = {}
    if required:
        res = verify(ws, today)
        refuse([v for v in res.verdicts if not v.ok])
        for v in res.verdicts:
            if v.details.get("number"):
                out[v.details["number"]] = {"file": v.file, "sha256": v.sha256,
                                            "signature": {"key_id": v.key_id,
                                                          "sha256": v.signature_sha256}}
        return out
    for path in ws.approval_files():
        display = ws.rel(path)
        raw = path.read_bytes()
        m = _NUMBER.search(raw)    # no YAML parse: a no-op plan of 10,000 approvals reads none
        number = m.group(1).decode("utf-8", "replace") if m else _fields(path, display)[0]
        if number:
            out[number] = {"file": display, "sha256": hashlib.sha256(raw).hexdigest(),
                           "signature": None}
    return out


def check_replay(ws: Workspace, current: dict[str, dict[str, Any]], store: StateStore) -> None:
    """Refuse, when signatures are required, an applied approval number that comes back with
    other bytes, or its applied bytes under another file or number."""
    if not ws.config.approvals.require_signatures:
        return
    applied = store.approval_digests()
    by_sha = {sha: (number, file) for number, (sha, file) in applied.items()}
    issues = []
    for number, seal in sorted(current.items()):
        seen = applied.get(number)
        if seen and seen[0] != seal["sha256"]:
            issues.append(Issue("approval_no", f"approval {number} was applied from {seen[1]} with "
                                f"other content (sha256 {seen[0][:12]}…, now {seal['sha256'][:12]}…):"
                                " an applied approval is changed by a change document, never "
                                "edited or replaced", file=seal["file"], rule="replay"))
        elif seen and seen[1] != seal["file"]:
            issues.append(Issue("approval_no", f"approval {number} was applied from {seen[1]}; the "
                                "same signed content under another file name is a replay",
                                file=seal["file"], rule="replay"))
        elif not seen and seal["sha256"] in by_sha:
            other, file = by_sha[seal["sha256"]]
            issues.append(Issue("approval_no", f"these bytes were applied as approval {other} "
                                f"({file}): replayed under another number", file=seal["file"],
                                rule="replay"))
    if issues:
        raise GovcloudError("approval replayed or changed after it was applied", issues,
                            fix="restore the applied approval file; changes go through a change "
                                "document (changes/), signed by the bureau")


def check_plan_seals(planned: dict[str, Any], current: dict[str, dict[str, Any]]) -> None:
    """A saved plan is applied only with the approvals (bytes and signatures) it was made with."""
    issues = []
    for number in sorted(set(planned) | set(current)):
        a, b = planned.get(number), current.get(number)
        if a == b:
            continue
        if a is None or b is None:
            what = "is new since planning" if a is None else "is gone since planning"
        elif a.get("sha256") != b.get("sha256"):
            what = "changed since planning"
        else:
            what = "changed its signature status since planning"
        issues.append(Issue(number, what, file=(b or a or {}).get("file")))
    if issues:
        raise PlanRefused("the approvals changed since the plan was made", issues,
                          fix="run `govcloud plan` again and review the new plan")


# --- sign / keygen ---------------------------------------------------------------------
@dataclass
class SignResult:
    signed: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": SIGN_FORMAT, "signed": self.signed}


def sign(files: list[Path], keyfile: Path, today: dt.date,
         workspace_root: Path | None = None) -> SignResult:
    key = signatures.read_key(keyfile)
    if workspace_root is not None:
        provider = signatures.provider_public_raw(workspace_root)
        if provider is not None and key.algorithm == "ed25519" and \
                keyring.raw_public("ed25519", key.public_pem()) == provider:
            raise GovcloudError("refusing to sign approvals with the provider's own key",
                                fix="approvals are signed by the bureau's key (separation of duties)")
    out = []
    for f in files:
        sig = signatures.sign_file(f, key, today)
        out.append({"file": str(f), "signature": str(sig), "key_id": key.key_id,
                    "algorithm": key.algorithm})
    return SignResult(out)


@dataclass
class KeygenResult:
    key_file: str
    key_id: str
    algorithm: str
    keyring_entry: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": KEYGEN_FORMAT, "key_file": self.key_file, "key_id": self.key_id,
                "algorithm": self.algorithm, "keyring_entry": self.keyring_entry}


def keygen(keyfile: Path, key_id: str, algorithm: str, office: str, person: str,
           today: dt.date, demo: bool = False) -> KeygenResult:
    key = signatures.generate_key(key_id, algorithm)
    signatures.write_key(key, keyfile, "demo key made by govcloud init" if demo else "")
    entry = keyring.entry_yaml(key_id, algorithm, key.public_pem(), office, person, today, demo)
    return KeygenResult(str(keyfile), key_id, algorithm, entry)
