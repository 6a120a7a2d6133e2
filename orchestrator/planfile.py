"""The plan file (``govcloud plan -o FILE``, and ``--output json`` of a plan): its format, its
signature, saving, loading and the freshness check that `apply FILE` makes.

Format ``govcloud-plan/1``::

    {"format": "govcloud-plan/1", "workspace_id": "ws-...", "created_at": "...",
     "state": {"lineage": "...", "serial": 7}, "inputs_digest": "sha256:...",
     "summary": {"create": 3, "update": 1, "replace": 0, "delete": 0, "adopt": 0, "no-op": 40},
     "approvals": {"BZ-2026-0012": {"file": "approvals/BZ-2026-0012.yaml", "sha256": "...",
                                    "signature": {"key_id": "...", "sha256": "..."} | null}},
     "review": {"format": "govcloud-plan-review/1", "quota": [...], "fees": [...],
                "fee_total": {...}, "fees_before": "applied", "excess": []},
     "actions": [{"address": "server:local/edu/edu-portal-internet/web-1", "kind": "server",
                  "target": "local", "action": "create", "cause": "new",
                  "reason": "new in stack spec",
                  "changes": {"flavor": {"old": null, "new": "ecs.s2m4"}},
                  "desired": {...ResourceSpec...} | null,
                  "prior": {"cloud_id": "...", "status": "ok", "refs": {...}} | null}],
     "digest": "hmac-sha256:..."}

A saved file also carries ``"provider_signature": {"key_id", "public_key", "sha256",
"signature"}``: the provider key's (trust/provider_key.py) Ed25519 signature over ``sha256``,
the SHA-256 of the same canonical bytes the digest covers, so that a department or auditor can
check a plan with the public key alone; a file whose provider signature does not match is refused.

``review`` (orchestrator/core/review.py: quota view, fee change) is absent from plans nobody
reviews (the expiry job's). ``digest`` covers everything but ``created_at`` and itself, keyed by a secret kept in the state
store, so an edited plan file is refused; same inputs and state give the same digest. A saved
plan is applied only against the state it was made for (same lineage and serial).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from .errors import PlanRefused
from .models.plan import PLAN_FORMAT, Action, Plan
from .state.base import StateStore
from .workspace import Workspace


def _feed(plan: Plan, update) -> None:
    """The canonical body's bytes, in pieces of 1,000 actions (see ``sign``)."""
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str).encode
    update(b'{"actions":[')   # "actions" sorts before every other key of the body
    acts = plan.actions
    for i in range(0, len(acts), 1000):
        piece = encode([a.to_dict() for a in acts[i:i + 1000]])
        update((("," if i else "") + piece[1:-1]).encode("utf-8"))
    update(("]," + encode(plan.body(actions=False))[1:]).encode("utf-8"))


def body_sha256(plan: Plan) -> str:
    """SHA-256 of the same canonical bytes the digest covers (what the provider key signs)."""
    h = hashlib.sha256()
    _feed(plan, h.update)
    return h.hexdigest()


def sign(plan: Plan, key: str) -> str:
    """HMAC-SHA256 of ``json.dumps(plan.body(), sort_keys=True, ensure_ascii=False,
    separators=(",", ":"), default=str)``, fed to the MAC in pieces of 1,000 actions: the same
    bytes without the whole text in memory at once (~160 MB for 10,000 approvals)."""
    mac = hmac.new(key.encode(), digestmod=hashlib.sha256)
    _feed(plan, mac.update)
    return "hmac-sha256:" + mac.hexdigest()


def sign_lazily(plan: Plan, store: StateStore) -> None:
    """Sign with the workspace's key when the digest is first read (Plan.sign_with)."""
    key = store.get_meta("plan_key")
    plan.sign_with(lambda p: sign(p, key))


def save(plan: Plan, path: Path, provider=None) -> None:
    """Write the plan file; with ``provider`` (trust.provider_key.ProviderKey) it carries
    ``provider_signature {key_id, public_key, sha256, signature}``: the provider's Ed25519
    signature over the canonical body's SHA-256, checkable with the public key alone."""
    data = plan.to_dict()
    if provider is not None:
        import base64
        sha = body_sha256(plan)
        data["provider_signature"] = {"key_id": provider.key_id,
                                      "public_key": provider.public_pem(), "sha256": sha,
                                      "signature": base64.b64encode(
                                          provider.sign(sha.encode())).decode()}
    import os
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)   # it holds the state's view
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def check_provider_signature(data: dict, plan: Plan, path: str, ws: Workspace) -> None:
    sig = data.get("provider_signature")
    if sig is None:
        return
    import base64
    from .trust import provider_key
    try:
        own = provider_key.key_path(ws.root).exists() and \
            provider_key.load(ws.root).public_pem() != sig["public_key"]
        ok = not own and sig["sha256"] == body_sha256(plan) and provider_key.verify(
            sig["public_key"], sig["sha256"].encode(), base64.b64decode(sig["signature"]))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise PlanRefused(f"{path}: the provider's signature does not match the plan",
                          fix="run `govcloud plan -o FILE` again and apply the new file")


def read(path: Path) -> tuple[Plan, dict]:
    """The plan saved at ``path`` and its raw document, parsed but NOT verified (``govcloud
    show`` reads plans without a state store; ``load`` verifies)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanRefused(f"plan file {path} not found", fix="run `govcloud plan -o FILE` first")
    except IsADirectoryError:
        raise PlanRefused(f"{path} is a directory, not a plan file")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PlanRefused(f"{path} is not a govcloud plan file ({exc})")
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanRefused(f"{path} is not a {PLAN_FORMAT} plan file")
    try:
        plan = Plan(data["workspace_id"], data["state"]["lineage"], data["state"]["serial"],
                    data["inputs_digest"], [Action.from_dict(a) for a in data["actions"]],
                    data.get("created_at", ""), data.get("digest", ""),
                    data.get("approvals") or {}, data.get("review"), data.get("refresh") or None,
                    data.get("stacks"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanRefused(f"{path} is damaged: {exc}", fix="run `govcloud plan -o FILE` again")
    return plan, data


def verify(plan: Plan, data: dict, store: StateStore) -> bool:
    """Whether the plan's digest is this store's signature of it (and its summary its own)."""
    expected = sign(plan, store.get_meta("plan_key"))
    return hmac.compare_digest(expected, plan.digest) and data.get("summary") == plan.summary


def load(path: Path, ws: Workspace, store: StateStore) -> Plan:
    """The plan saved at ``path``, refused unless it is a plan of this workspace, unaltered."""
    plan, data = read(path)
    if plan.workspace_id != ws.config.workspace.id:
        raise PlanRefused(f"{path} was made for workspace {plan.workspace_id}, this is "
                          f"{ws.config.workspace.id}")
    if not verify(plan, data, store):
        raise PlanRefused(f"{path} was altered after it was made (its digest does not match)",
                          fix="run `govcloud plan -o FILE` again and apply the new file")
    check_provider_signature(data, plan, path, ws)
    return plan


def check_fresh(plan: Plan, store: StateStore) -> None:
    """Refuse a plan made against another state, or against this one before it moved on."""
    snap = store.read()
    if snap.lineage != plan.lineage:
        raise PlanRefused("the plan was made against a different state (lineage "
                          f"{plan.lineage}, state is {snap.lineage})",
                          fix="run `govcloud plan` again")
    if snap.serial != plan.serial:
        raise PlanRefused(f"the plan is stale: state serial {snap.serial}, plan made at "
                          f"{plan.serial}", fix="run `govcloud plan` again")
