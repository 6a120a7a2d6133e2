"""Which departments a `plan --refresh=auto` plans, from the index of the last plan. Pure.

At province scale a no-op plan read every spec, state row and cloud object (185,000 at 10,000
approvals) to find that nothing changed. Between full checks, ``auto`` plans only the
departments whose inputs changed since the last plan found them up to date: a spec file's bytes
(new, changed or gone), a state row written since (state history), a department that last
planned with changes (until a plan finds it clean), one with dated resources when the day moved
on (windows, ``not_before``, ``expires_on``). The department is the unit, not the stack: its
domain is shared by its systems, IPAM allocates across it and the quota view is per department
and zone, so a department planned whole gives the same actions and review rows as a full plan.

Everything else is trusted as the last plan saw it, like the quotas of core/refresh_scope.py: a
change made outside govcloud to a skipped department (drift, an owned object in no state) is
found at the next full check — when the index is missing or foreign (another state lineage,
config, catalog or code, decommissions), when the last full plan is older than ``[plan]
full_refresh_hours``, when the history cannot say what changed, or with ``--refresh=full``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

INDEX_FORMAT = "govcloud-plan-index/1"


@dataclass(frozen=True)
class Key:
    """What a skipped department's "unchanged" stands on besides its own entries."""
    lineage: str
    serial: int
    shared: str          # compile's digest of govcloud.toml, catalogs and code (stack index)
    frozen: tuple[str, ...]   # stacks held by the decommission workflow


@dataclass(frozen=True)
class Choice:
    departments: frozenset[str] | None   # None: plan everything (a full check)
    reason: str
    last_full: str | None = None
    stacks: dict[str, str] = field(default_factory=dict)   # spec file -> department (all)


def department_of_spec(rel: str) -> str:
    """``stacks/DEPT/SYSTEM.yaml`` -> DEPT (Workspace.spec_files lists only such paths)."""
    return rel.replace("\\", "/").split("/")[-2]


def choose(mode: str, index: Mapping[str, Any], key: Key, digests: Mapping[str, str],
           changed: set[str] | None, today: dt.date | None, now: dt.datetime,
           full_every_hours: float, department_of) -> Choice:
    """``digests``: spec file -> SHA-256 of its bytes now; ``changed``: the state addresses
    written since the index's serial (None: unknown); ``department_of``: address -> DEPT."""
    stacks = {rel: department_of_spec(rel) for rel in digests}
    last = index.get("full_at") if isinstance(index, Mapping) else None

    def full(why: str) -> Choice:
        return Choice(None, why, last, stacks)

    if mode != "auto":
        return full("--refresh=full: every stack planned")
    if full_every_hours <= 0:
        return full("[plan] full_refresh_hours = 0: every plan reads everything")
    if not index or index.get("format") != INDEX_FORMAT or not isinstance(index.get("stacks"), dict):
        return full("no plan index: every stack planned")
    if not key.shared or not index.get("aligned"):
        return full("no compile index to compare config, catalog and code with, or a spec "
                    "outside its department's directory: every stack planned")
    if (index.get("lineage"), index.get("shared"), tuple(index.get("frozen") or ())) != \
            (key.lineage, key.shared, key.frozen):
        return full("the state lineage, config, catalog, code or decommissions changed since "
                    "the last plan: every stack planned")
    try:
        at = dt.datetime.fromisoformat(last)
    except (TypeError, ValueError):
        return full("no full check on record: every stack planned")
    age_h = (now - at).total_seconds() / 3600
    if age_h < 0 or age_h >= full_every_hours:
        return full(f"the last full check ({last}) is {age_h:.1f} h old, the period is "
                    f"{full_every_hours:g} h: every stack planned")
    if changed is None or key.serial < int(index.get("serial", -1)):
        return full("the state history cannot say what changed since the last plan: every "
                    "stack planned")
    entries: Mapping[str, Any] = index["stacks"]
    depts = set(filter(None, (department_of(a) for a in changed)))
    new_day = index.get("today") != (today.isoformat() if today else None)
    for rel, sha in digests.items():
        e = entries.get(rel)
        if not isinstance(e, Mapping) or e.get("sha256") != sha or not e.get("clean") or \
                (new_day and e.get("dated")):
            depts.add(stacks[rel])
    depts.update(department_of_spec(rel) for rel in entries if rel not in digests)
    depts.update(index.get("pending") or ())   # changes planned last time outside any spec
    return Choice(frozenset(depts), f"{len(depts)} department(s) whose specs, state or day "
                  f"changed planned; the rest unchanged since the last plan and not read; last "
                  f"full check {last} (`--refresh=full` reads all)", last, stacks)


def pending_after(index: Mapping[str, Any], choice: Choice, dirty: set[str]) -> list[str]:
    """The departments without a spec file whose last plan had changes (an object owned but in
    no state, a duplicate): planned again until clean, as they have no entry to say so."""
    with_spec = set(choice.stacks.values())
    kept = set() if choice.departments is None else \
        set(index.get("pending") or ()) - choice.departments
    return sorted(kept | (dirty - with_spec))


def entries_after(index: Mapping[str, Any], choice: Choice, digests: Mapping[str, str],
                  clean: Iterable[str], dated: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The index's stack entries after a plan: the planned departments' from this plan
    (``clean``/``dated``: departments), the skipped ones as they were."""
    clean, dated = set(clean), set(dated)
    old = index.get("stacks") if choice.departments is not None else None
    out = {}
    for rel, sha in sorted(digests.items()):
        dept = choice.stacks[rel]
        if old is not None and dept not in choice.departments and rel in old:
            out[rel] = old[rel]
        else:
            out[rel] = {"sha256": sha, "clean": dept in clean, "dated": dept in dated}
    return out
