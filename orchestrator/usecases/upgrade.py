"""`govcloud workspace upgrade`: migrate a workspace made when a term's ``end`` (and an
extension's ``until``) was the first day WITHOUT resources to the current format, where it is
the last day of service (as approval forms write periods: 「7月1日至9月30日」 is ``end: 09-30``).

* ``govcloud.toml`` gets ``[dates] term_end = "last-day"`` and ``legacy_approvals``: every
  window/emergency approval's number -> the sha256 of its file. Approvals are signed documents
  and are never rewritten: while a file keeps those bytes its old ``end`` is read as
  ``end - 1`` (:func:`orchestrator.term_dates.legacy_end`); an edited file is read as the new format.
* ``extensions/*.yaml`` (written by govcloud, not signed) are rewritten: every ``previous_end``
  and ``until`` one day earlier.
* State: the ``warning-sent`` events recorded before keep their old ``end``; they carry no
  ``end_format`` and are read as ``end - 1`` (usecases/expire.py ``sent_end``), so no warning
  is sent twice. Events are history and are not rewritten.
* The stacks are recompiled (a compiled window's ``end`` is now its last day; ``expires_on``,
  the day expire removes the resources, does not move).

Idempotent: a workspace that has ``[dates]`` is reported as current and nothing changes.
Audited (``workspace-upgrade``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from ..errors import GovcloudError
from ..extensions import extension_files
from ..inputs import read_yaml
from ..lifecycle_events import audit
from ..models.config import TERM_END_FORMAT
from ..workspace import CONFIG_NAME, Workspace
from .session import open_state

UPGRADE_FORMAT = "govcloud-workspace-upgrade/1"
_ONE = dt.timedelta(days=1)


@dataclass
class UpgradeReport:
    workspace: str
    term_end: str = TERM_END_FORMAT
    upgraded: bool = False               # false: already current, nothing changed
    legacy_approvals: dict[str, str] = field(default_factory=dict)   # number -> sha256
    extensions: list[str] = field(default_factory=list)              # files rewritten
    recompiled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"format": UPGRADE_FORMAT, **asdict(self)}


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dates_section(legacy: dict[str, str]) -> str:
    pairs = ", ".join(f"{_toml_str(no)} = {_toml_str(d)}" for no, d in sorted(legacy.items()))
    return ("\n[dates]\n"
            f'term_end = "{TERM_END_FORMAT}"       # a term\'s end is its last day of service\n'
            "# Approvals signed when end was the first day without resources, by the sha256 of\n"
            "# their file (`govcloud workspace upgrade`): read as end - 1 while unchanged.\n"
            f"legacy_approvals = {{{pairs}}}\n")


def _shifted_extension(text_data: dict[str, Any]) -> dict[str, Any]:
    out = dict(text_data)
    out["extensions"] = []
    for e in text_data.get("extensions") or []:
        e = dict(e)
        for k in ("previous_end", "until"):
            if k in e:
                e[k] = (dt.date.fromisoformat(str(e[k])[:10]) - _ONE).isoformat()
        out["extensions"].append(e)
    return out


def upgrade_workspace(ws: Workspace, today: dt.date) -> UpgradeReport:
    rep = UpgradeReport(str(ws.root))
    if ws.config.dates is not None:
        rep.legacy_approvals = dict(ws.config.dates.legacy_approvals)
        return rep
    approvals = ws._load_approval_files()          # as the files say (no format check)
    for display, a in sorted(approvals.items()):
        if a.term.kind != "permanent":
            rep.legacy_approvals[a.approval_no] = hashlib.sha256(
                (ws.root / display).read_bytes()).hexdigest()
    # Every new text first, then the writes (each atomic), the config last: a run that fails
    # before the config is written leaves a workspace that upgrade refuses nothing of.
    writes = []
    for path in extension_files(ws):
        display = ws.rel(path)
        data = read_yaml(path, display)
        if not isinstance(data, dict):
            raise GovcloudError(f"{display}: not an extension file (a mapping)",
                                fix="fix or remove it, then run the upgrade again")
        text = ("# Recorded by `govcloud extend`; dates moved to the last day of service by "
                "`govcloud workspace upgrade`.\n"
                + yaml.safe_dump(_shifted_extension(data), allow_unicode=True, sort_keys=False))
        writes.append((path, text))
        rep.extensions.append(display)
    for path, text in writes:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    cfg = ws.root / CONFIG_NAME
    old = cfg.read_text(encoding="utf-8")
    tmp = cfg.with_suffix(".toml.tmp")
    tmp.write_text(old.rstrip("\n") + "\n" + _dates_section(rep.legacy_approvals), encoding="utf-8")
    tmp.replace(cfg)
    rep.upgraded = True
    fresh = Workspace.at(ws.root)
    if fresh.spec_files():
        from .compile import compile_workspace
        compile_workspace(fresh, today)
        rep.recompiled = True
    with open_state(fresh) as store:
        audit(store, fresh, "workspace-upgrade", None,
              {"term_end": TERM_END_FORMAT, "legacy_approvals": rep.legacy_approvals,
               "extensions": rep.extensions, "recompiled": rep.recompiled})
    return rep
