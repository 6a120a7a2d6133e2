"""The reads of a plan of some departments (core/plan_scope.py decides which) and its index,
``.govcloud/plan-index.json``: per spec file, the SHA-256 of its bytes, whether its department
planned clean (every action a no-op) and whether it holds dated resources; with the state
lineage and serial, the compile's shared digest, the frozen stacks and the day it stands on.
A cache: a missing, damaged or foreign file means "plan everything"."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from drivers.base import STACK_TAG, DepartmentReads, DriverError

from ..cache_file import write_cache
from ..core import plan_scope as core
from ..errors import GovcloudError, InputError, InputErrors
from ..inputs import parse, read_yaml
from ..models.plan import ActionKind
from ..models.spec import StackSpec
from ..state.base import StateSnapshot, department_of
from ..workspace import Workspace
from . import stack_index

FILE = "plan-index.json"


def enabled(ws: Workspace, n_specs: int) -> bool:
    """Whether plans of this workspace may skip unchanged departments (``[plan]
    skip_unchanged_from``: that many spec files or more; 0: never), on clouds that read by
    address."""
    n = ws.config.plan.skip_unchanged_from
    return n > 0 and n_specs >= n and _reads_by_address(ws)


def _reads_by_address(ws: Workspace) -> bool:
    """Every target's driver reads some departments only (DepartmentReads). Elsewhere a plan reads
    the whole cloud anyway, and on OpenStack ``auto``'s quotas taken from the state
    (core/refresh_scope.py) save more calls than skipping departments would."""
    from drivers.base import Unsupported, driver_class
    try:
        return all(issubclass(driver_class(t.driver), DepartmentReads)
                   for t in ws.config.targets.values())
    except Unsupported:
        return False


def load_index(ws: Workspace) -> dict[str, Any]:
    try:
        data = json.loads((ws.data_dir / FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_index(ws: Workspace, index: dict[str, Any]) -> None:
    # a read-only workspace: not written, and the next plan plans everything
    write_cache(ws.data_dir / FILE, json.dumps(index, separators=(",", ":")))


def shared_digest(ws: Workspace) -> str:
    """The last compile's digest of what every stack shares (config, catalogs, code)."""
    try:
        with open(stack_index.path(ws), "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
        # The index starts {"format":…,"shared":"<hex>",…}: read the head, not 8,000 entries.
        at = head.index('"shared":"') + len('"shared":"')
        return head[at:head.index('"', at)]
    except (OSError, ValueError):
        return ""


class Digests:
    """A files digest for Workspace.load_specs that also keeps each spec file's SHA-256 (its
    update() gets ``rel NUL bytes NUL`` per file)."""

    def __init__(self, files_digest):
        self.files, self.shas = files_digest, {}

    def update(self, data: bytes) -> None:
        self.files.update(data)
        rel, _, rest = data.partition(b"\0")
        self.shas[rel.decode("utf-8")] = hashlib.sha256(rest[:-1]).hexdigest()


def spec_digests(ws: Workspace, files_digest) -> dict[str, str]:
    """Spec file -> SHA-256 of its bytes, feeding ``files_digest`` as load_specs does."""
    d = Digests(files_digest)
    for path in ws.spec_files():
        d.update(ws.rel(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return d.shas


def load_specs(ws: Workspace, rels: Iterable[str]) -> list[StackSpec]:
    """The specs of these files only, validated (a handful: no spec cache needed)."""
    errors, specs = InputErrors(), []
    for rel in sorted(rels):
        try:
            specs.append(parse(StackSpec, read_yaml(ws.root / rel, rel), rel))
        except InputError as exc:
            errors.add(exc)
    errors.raise_if_any()
    return specs


def observe(drivers, departments: frozenset[str], frozen) -> list:
    """The objects of ``departments`` (DepartmentReads); a driver without it (not planned so:
    enabled) read whole and filtered."""
    out = []
    for name, drv in drivers.items():
        try:
            if isinstance(drv, DepartmentReads):
                got = drv.observe_departments(departments)
            else:
                got = [o for o in drv.observe() if department_of(o.address) in departments]
        except DriverError as exc:
            raise GovcloudError(f"cannot read cloud target {name!r}: {exc}") from None
        out.extend(o for o in got if o.tags.get(STACK_TAG) not in frozen)
    return out


def moves_inside(moves: list[dict[str, str]], departments: frozenset[str]) -> bool:
    """Whether every ``from`` of these moves lies in ``departments`` (a system move names
    DEPT/SYSTEM, an address move its address)."""
    for m in moves:
        frm = m.get("from", "")
        dept = department_of(frm) if ":" in frm else frm.partition("/")[0]
        if dept not in departments:
            return False
    return True


def dated_departments(desired) -> set[str]:
    """Departments with windows, ``not_before`` or ``expires_on`` (before make_actions, which
    takes the scheduled ones out of ``desired``)."""
    return {department_of(a) for a, r in desired.items()
            if r.windows or r.not_before or r.expires_on}


@dataclass
class Reads:
    """What a plan that keeps the index read: the specs and state rows of the departments it
    plans (every one when ``choice.departments`` is None), and what it records afterwards."""
    specs: list[StackSpec]
    snapshot: StateSnapshot
    choice: core.Choice
    index: dict[str, Any]
    key: core.Key
    digests: dict[str, str]
    now: dt.datetime

    def note(self) -> dict[str, Any]:
        """What the plan covers (Plan.stacks): every stack, or the planned ones and why."""
        c, total = self.choice, len(self.choice.stacks)
        planned = total if c.departments is None else \
            sum(1 for d in c.stacks.values() if d in c.departments)
        return {"planned": planned, "of": total, "skipped": total - planned,
                "departments": None if c.departments is None else sorted(c.departments),
                "reason": c.reason, "last_full": c.last_full}


def read(ws: Workspace, store, mode: str, frozen, files_digest, today: dt.date | None,
         serialized: dict) -> Reads:
    """Decide which departments to plan (core/plan_scope.choose) and read their specs and
    state rows; ``files_digest`` gets every spec file (the plan's inputs digest), and
    ``serialized`` the spec cache's resource data when every stack is planned."""
    digests = spec_digests(ws, files_digest)
    index = load_index(ws)
    key = core.Key(store.get_meta("lineage") or "", int(store.get_meta("serial") or 0),
                   shared_digest(ws), tuple(sorted(frozen)))
    serial = index.get("serial")
    changed = store.changed_since(serial) if isinstance(serial, int) else None
    now = dt.datetime.now(dt.timezone.utc)
    choice = core.choose(mode, index, key, digests, changed, today, now,
                         ws.config.plan.full_refresh_hours, department_of)
    depts = choice.departments
    if depts is not None:
        specs = load_specs(ws, [r for r, d in choice.stacks.items() if d in depts])
        if all(s.stack.partition("/")[0] in depts for s in specs) and \
                moves_inside([m for s in specs for m in s.moved], depts):
            return Reads(specs, store.read_departments(set(depts)), choice, index, key, digests,
                         now)
        choice = core.Choice(None, "a spec or move reaches outside its department: every "
                             "stack planned", choice.last_full, choice.stacks)
    specs = ws.load_specs(serialized)
    # A skipped department's specs are not read: only when every spec lies under its own
    # department's directory (as compile writes them) may a later plan skip any.
    index["aligned"] = all(s.stack.partition("/")[0] == d
                           for s, d in zip(specs, choice.stacks.values()))
    return Reads(specs, store.read(), choice, index, key, digests, now)


def record(ws: Workspace, reads: Reads, actions, dated: set[str],
           today: dt.date | None) -> None:
    """Save the index after a plan: which planned departments came out clean; ``dated``: the
    departments holding resources whose plan depends on the day (dated_departments)."""
    index, key, choice = reads.index, reads.key, reads.choice
    dirty = {department_of(a.address.partition("#")[0]) for a in actions
             if a.action is not ActionKind.NOOP}
    planned = choice.departments if choice.departments is not None else set(choice.stacks.values())
    full_at = (reads.now.isoformat(timespec="seconds") if choice.departments is None
               else index.get("full_at"))
    save_index(ws, {"format": core.INDEX_FORMAT, "lineage": key.lineage, "serial": key.serial,
                    "shared": key.shared, "frozen": list(key.frozen),
                    "aligned": bool(index.get("aligned")),
                    "pending": core.pending_after(index, choice, dirty),
                    "today": today.isoformat() if today else None, "full_at": full_at,
                    "stacks": core.entries_after(index, choice, reads.digests,
                                                 set(planned) - dirty, dated)})
