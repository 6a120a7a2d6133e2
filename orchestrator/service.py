"""Use cases behind the CLI: one function per command, returning values for the renderer.

This is where the pure core meets the edges: files (workspace), the state store and drivers.
"""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import hmac
import json
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import yaml

from .errors import GovcloudError, InputError, InputErrors, Issue, PlanRefused
from .inputs import ParseCache
from .models.plan import PLAN_FORMAT, Action, Plan
from .core.validate import check_all
from .workspace import GENERATED_HEADER, SHIPPED_CATALOG, Workspace, available_profiles

# Drivers, the state store, the executor, the compiler and the planner are imported by the
# functions that use them: `govcloud validate` and `init` need none (start-up time).
if TYPE_CHECKING:
    from drivers.base import Driver

    from .core.audit import ChainBreak
    from .executor import StepResult
    from .models.approval import Approval
    from .state.base import StateStore

# --- init ---------------------------------------------------------------------------------

CONFIG_TEMPLATE = """\
# govcloud workspace. Docs: README.md, section "File formats".
[workspace]
id = "{ws_id}"            # ownership tag on every cloud object; never change it
name = "{name}"
profile = "{profile}"      # policy profile: bazhong, datong, chongqing, bozhou, sichuan

[state]
url = "sqlite:///.govcloud/state.db"

# Each zone may point at its own cloud target (a separate resource pool, region or cloud).
[zones.internet]            # 互联网区
target = "local"
external_network = "internet"
tenant_pool = "10.64.0.0/10"
source_cidr = "0.0.0.0/0"   # what `source: zone:internet` admits

[zones.extranet]            # 电子政务外网区
target = "local"
external_network = "extranet"
tenant_pool = "10.128.0.0/10"
source_cidr = "59.192.0.0/10"   # the e-government extranet's address range (set yours)

[targets.local]
driver = "local"            # the embedded cloud: .govcloud/local-cloud
"""


def init_workspace(directory: Path, profile: str, examples: bool = True) -> dict[str, Any]:
    if profile not in available_profiles():
        from .workspace import load_profile
        load_profile(profile, where="--profile: profile")  # raises with a suggestion
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "govcloud.toml"
    if cfg.exists():
        raise GovcloudError(f"{cfg} already exists", fix="use another directory, or remove it first")
    ws_id = "ws-" + secrets.token_hex(6)
    cfg.write_text(CONFIG_TEMPLATE.format(ws_id=ws_id, name=directory.resolve().name,
                                          profile=profile), encoding="utf-8")
    (directory / "catalog").mkdir(exist_ok=True)
    shutil.copyfile(SHIPPED_CATALOG / "services.yaml", directory / "catalog" / "services.yaml")
    (directory / "approvals").mkdir(exist_ok=True)
    created = ["govcloud.toml", "catalog/services.yaml"]
    if examples:
        for src in sorted((SHIPPED_CATALOG / "examples" / "approvals").glob("*.yaml")):
            shutil.copyfile(src, directory / "approvals" / src.name)
            created.append(f"approvals/{src.name}")
    (directory / ".gitignore").write_text(".govcloud/\n*.plan.json\n", encoding="utf-8")
    created.append(".gitignore")
    return {"workspace": str(directory.resolve()), "id": ws_id, "profile": profile,
            "files": created}


# --- validate and compile -----------------------------------------------------------------

@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: compile and plan build millions of small objects
    (parsed YAML, models, state rows) that all stay alive, so the collector's repeated scans
    of them found nothing and were over half of a 1,000-approval no-op plan. Their data holds
    no reference cycles; whatever cycles arise are collected once the collector is back on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def validate(ws: Workspace, parse_cache: ParseCache | None = None) -> dict[str, Approval]:
    """Every input checked; raises with all problems; touches nothing (``parse_cache``: see
    Workspace.load_approvals)."""
    errors = InputErrors()
    ws.config  # the profile's name comes from it: a broken config is reported alone
    for load in (lambda: ws.catalog, lambda: ws.profile):
        try:
            load()
        except InputError as exc:
            errors.add(exc)
    errors.raise_if_any()
    approvals = ws.load_approvals(parse_cache)
    from .lifecycle_service import policy_errors  # the profile's rules, extension files
    for err in policy_errors(ws, approvals, check_all(approvals, ws.catalog, ws.profile, ws.config)):
        errors.add(err)
    errors.raise_if_any()
    return approvals


@dataclass
class CompileReport:
    written: list[str]
    unchanged: list[str]
    removed: list[str]
    stacks: int
    monthly_fee: str


def _dump(data: Any) -> str:
    from .core import yaml_emit
    text = yaml_emit.dump(data)   # the same bytes, faster (orchestrator/yaml_emit.py)
    if text is not None:
        return text
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


try:
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def compile_workspace(ws: Workspace) -> CompileReport:
    with gc_paused():
        inputs = _compile_inputs_digest(ws)
        report = _unchanged_since_last_compile(ws, inputs)
        if report is not None:
            return report
        ws.compile_index_path.unlink(missing_ok=True)
        report = _compile_workspace(ws)
        _write_compile_index(ws, inputs, report)
        return report


# A compile whose inputs are byte for byte those of the last successful one, on the same day
# (profile rules read the date), with the same code, and whose outputs are as it left them,
# would validate the same and write the same bytes: it is skipped (.govcloud/compile-index.json).
_INDEX_FORMAT = "govcloud-compile-index/1"


def _compile_inputs_digest(ws: Workspace) -> str:
    """SHA-256 over everything validate and compile read: govcloud.toml, approvals/,
    catalog/ (the workspace's and the shipped one), extensions/, the orchestrator's code, the
    library versions and today's date. stacks/ipam.yaml is read too, but compile rewrites it:
    it is checked as an output (allocation keeps existing blocks, so what compile left gives
    the same specs again)."""
    import sys
    import pydantic
    from . import clock
    from .lifecycle_service import EXTENSIONS_DIR
    from .workspace import PACKAGE_ROOT
    h = hashlib.sha256()
    h.update(f"{clock.today().isoformat()}|{sys.version}|{yaml.__version__}|"
             f"{pydantic.VERSION}\0".encode())
    roots = [ws.root / "govcloud.toml", ws.approvals_dir, ws.root / "catalog",
             ws.root / EXTENSIONS_DIR, SHIPPED_CATALOG,
             PACKAGE_ROOT / "orchestrator"]
    for root in roots:
        h.update(str(root).encode() + b"\0")
        if root.is_file():
            h.update(root.read_bytes() + b"\0")
            continue
        if not root.is_dir():
            h.update(b"-\0")
            continue
        for p in sorted(root.rglob("*")):
            if "__pycache__" in p.parts or not p.is_file():
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _unchanged_since_last_compile(ws: Workspace, inputs: str) -> CompileReport | None:
    try:
        index = json.loads(ws.compile_index_path.read_text(encoding="utf-8"))
        if index.get("format") != _INDEX_FORMAT or index.get("inputs") != inputs:
            return None
        outputs: dict[str, list[int]] = index["outputs"]
        on_disk = {ws.rel(p) for p in ws.spec_files()}
        if on_disk != set(outputs) - {"stacks/ipam.yaml"} or \
                _stat(ws.spec_cache_path) != index["spec_cache"] or \
                any(_stat(ws.root / rel) != st for rel, st in outputs.items()):
            return None
        in_stack_order = sorted(on_disk, key=lambda rel: rel[len("stacks/"):-len(".yaml")])
        return CompileReport([], in_stack_order, [], index["stacks"], index["monthly_fee"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_compile_index(ws: Workspace, inputs: str, report: CompileReport) -> None:
    rels = [*report.written, *report.unchanged, "stacks/ipam.yaml"]
    index = {"format": _INDEX_FORMAT, "inputs": inputs, "stacks": report.stacks,
             "monthly_fee": report.monthly_fee, "spec_cache": _stat(ws.spec_cache_path),
             "outputs": {rel: _stat(ws.root / rel) for rel in sorted(rels)}}
    if None in index["outputs"].values() or index["spec_cache"] is None:
        return
    try:
        tmp = ws.compile_index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index), encoding="utf-8")
        tmp.replace(ws.compile_index_path)
    except OSError:
        pass


def _compile_workspace(ws: Workspace) -> CompileReport:
    from .core import ipam as ipam_mod
    from .core.compile import compile_all, needed_blocks, spec_yaml
    parse_cache = ParseCache(ws.parse_cache_path)
    approvals = validate(ws, parse_cache)
    config = ws.config
    pools = {z: (zc.tenant_pool, zc.subnet_prefix) for z, zc in config.zones.items()}
    alloc = ipam_mod.allocate(ws.load_ipam(), needed_blocks(list(approvals.values())), pools)
    from .lifecycle_service import extension_ends  # recorded extensions move a term's end
    result = compile_all(list(approvals.values()), ws.catalog, ws.profile, config, alloc,
                         ends=extension_ends(ws))
    written, unchanged = [], []
    keep = set()
    sources: dict[str, list[str]] = {}   # one pass: a scan per stack was quadratic
    for f, a in approvals.items():
        sources.setdefault(a.stack, []).append(f)
    with ws.spec_cache_writer() as cache:   # streamed: 10,000 approvals' data is large
        for stack, spec in result.specs.items():
            path = ws.spec_path(stack)
            keep.add(path)
            data = spec.model_dump(mode="json")
            text = GENERATED_HEADER + f"# Sources: {', '.join(sorted(sources[stack]))}\n" + \
                spec_yaml(data)
            (written if _write_if_changed(path, text) else unchanged).append(ws.rel(path))
            cache(ws.rel(path), text, data)
    ipam_text = GENERATED_HEADER + _dump({"zones": result.ipam})
    _write_if_changed(ws.stacks_dir / "ipam.yaml", ipam_text)
    removed = []
    for path in ws.spec_files():  # specs of systems no longer approved (generated files only)
        if path not in keep and path.read_text(encoding="utf-8").startswith(GENERATED_HEADER):
            path.unlink()
            removed.append(ws.rel(path))
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    try:
        parse_cache.save()   # only now: the inputs were valid and the specs are written
    except OSError:
        pass
    fee = sum((s.monthly_fee for s in result.specs.values()), start=0)
    return CompileReport(written, unchanged, removed, len(result.specs), f"{fee:.2f}")


# --- drivers and state ---------------------------------------------------------------------

def open_state(ws: Workspace) -> StateStore:
    from .state import open_store
    return open_store(ws.config.state.url, ws.root, ws.config.workspace.id)


def open_drivers(ws: Workspace, targets: set[str]) -> dict[str, Driver]:
    from drivers.base import DriverError, driver_class
    drivers = {}
    for name in sorted(targets):
        section = ws.config.targets.get(name)
        if section is None:
            raise GovcloudError(f"target {name!r} is used by the state or specs but not defined",
                                [Issue(f"targets.{name}", "missing section in govcloud.toml")])
        options = section.model_dump()
        kind = options.pop("driver")
        try:
            drivers[name] = driver_class(kind)(name, options, ws.root, ws.config.workspace.id)
        except DriverError as exc:
            raise GovcloudError(f"cannot open cloud target {name!r}: {exc}") from None
    return drivers


def close_all(drivers: dict[str, Driver]) -> None:
    for d in drivers.values():
        d.close()


# --- plan ------------------------------------------------------------------------------------

def sign(plan: Plan, key: str) -> str:
    """HMAC-SHA256 of ``json.dumps(plan.body(), sort_keys=True, ensure_ascii=False,
    separators=(",", ":"), default=str)``, fed to the MAC in pieces of 1,000 actions: the same
    bytes without the whole text in memory at once (~160 MB for 10,000 approvals)."""
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str).encode
    mac = hmac.new(key.encode(), digestmod=hashlib.sha256)
    mac.update(b'{"actions":[')   # "actions" sorts before every other key of the body
    acts = plan.actions
    for i in range(0, len(acts), 1000):
        piece = encode([a.to_dict() for a in acts[i:i + 1000]])
        mac.update((("," if i else "") + piece[1:-1]).encode("utf-8"))
    mac.update(("]," + encode(plan.body(actions=False))[1:]).encode("utf-8"))
    return "hmac-sha256:" + mac.hexdigest()


def compute_plan(ws: Workspace, store: StateStore, drivers_factory=open_drivers,
                 today: dt.date | None = None) -> tuple[Plan, dict[str, Driver]]:
    with gc_paused():
        return _compute_plan(ws, store, drivers_factory, today)


def _compute_plan(ws: Workspace, store: StateStore, drivers_factory=open_drivers,
                  today: dt.date | None = None) -> tuple[Plan, dict[str, Driver]]:
    from drivers.base import STACK_TAG, DriverError

    from .core.planner import collect_desired, make_actions
    from .state.base import StateSnapshot
    serialized: dict[str, tuple] = {}   # address -> (resource, its JSON data) from the cache
    files = hashlib.sha256()            # the plan's inputs_digest, from the same reads
    specs = ws.load_specs(serialized, files)
    if not specs and not ws.approval_files():
        pass
    elif not specs:
        raise GovcloudError("no stack specs under stacks/", fix="run `govcloud compile` first")
    snapshot = store.read()
    # Systems being (or already) decommissioned are the decommission workflow's alone.
    from .decommission import frozen_stacks
    frozen = frozen_stacks(store)
    if frozen:
        specs = [s for s in specs if s.stack not in frozen]
        snapshot = StateSnapshot(snapshot.lineage, snapshot.serial,
                                 {a: r for a, r in snapshot.records.items() if r.stack not in frozen})
    desired = collect_desired(r for s in specs for r in s.resources)
    targets = {r.target for r in desired.values()} | {r.target for r in snapshot.records.values()}
    drivers = drivers_factory(ws, targets)
    observed = []
    for name, drv in drivers.items():
        try:
            observed.extend(o for o in drv.observe() if o.tags.get(STACK_TAG) not in frozen)
        except DriverError as exc:
            close_all(drivers)
            raise GovcloudError(f"cannot read cloud target {name!r}: {exc}") from None
    caps = {name: drv.kinds for name, drv in drivers.items()}
    try:
        actions = make_actions(desired, snapshot.records, observed, caps, today, serialized)
    except GovcloudError:
        close_all(drivers)
        raise
    plan = Plan(ws.config.workspace.id, snapshot.lineage, snapshot.serial, "sha256:" + files.hexdigest(),
                actions, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    key = store.get_meta("plan_key")
    plan.sign_with(lambda p: sign(p, key))   # computed when first read (Plan.sign_with)
    return plan, drivers


def save_plan(plan: Plan, path: Path) -> None:
    path.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1, default=str),
                    encoding="utf-8")


def load_plan(path: Path, ws: Workspace, store: StateStore) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanRefused(f"plan file {path} not found", fix="run `govcloud plan -o FILE` first")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PlanRefused(f"{path} is not a govcloud plan file ({exc})")
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanRefused(f"{path} is not a {PLAN_FORMAT} plan file")
    try:
        plan = Plan(data["workspace_id"], data["state"]["lineage"], data["state"]["serial"],
                    data["inputs_digest"], [Action(**a) for a in data["actions"]],
                    data.get("created_at", ""), data.get("digest", ""))
    except (KeyError, TypeError) as exc:
        raise PlanRefused(f"{path} is damaged: {exc}", fix="run `govcloud plan -o FILE` again")
    if plan.workspace_id != ws.config.workspace.id:
        raise PlanRefused(f"{path} was made for workspace {plan.workspace_id}, this is "
                          f"{ws.config.workspace.id}")
    expected = sign(plan, store.get_meta("plan_key"))
    if not hmac.compare_digest(expected, plan.digest) or data.get("summary") != plan.summary:
        raise PlanRefused(f"{path} was altered after it was made (its digest does not match)",
                          fix="run `govcloud plan -o FILE` again and apply the new file")
    return plan


def check_fresh(plan: Plan, store: StateStore) -> None:
    snap = store.read()
    if snap.lineage != plan.lineage:
        raise PlanRefused("the plan was made against a different state (lineage "
                          f"{plan.lineage}, state is {snap.lineage})",
                          fix="run `govcloud plan` again")
    if snap.serial != plan.serial:
        raise PlanRefused(f"the plan is stale: state serial {snap.serial}, plan made at "
                          f"{plan.serial}", fix="run `govcloud plan` again")


def execute(ws: Workspace, plan: Plan, store: StateStore, drivers: dict[str, Driver],
            parallelism: int, on_event: Callable | None = None) -> list[StepResult]:
    missing = {a.target for a in plan.actions if a.action != "no-op"} - set(drivers)
    drivers = {**drivers, **open_drivers(ws, missing)} if missing else drivers
    from .executor import Executor
    from .state.base import default_actor
    actor = default_actor()
    store.append_audit(actor, "apply-start", ws.config.workspace.id, None,
                       {"plan_digest": plan.digest, "summary": plan.summary})
    from .sanitize import wipe_and_verify
    ex = Executor(plan, drivers, store, actor, ws.config.workspace.id, parallelism,
                  recovery_file=ws.data_dir / "state-recovery.jsonl", on_event=on_event,
                  sanitize=wipe_and_verify)
    owners = {a: r.approval for a, r in store.read().records.items()}  # for lifecycle events
    results = ex.run()
    failed = [r for r in results if r.outcome != "ok"]
    store.append_audit(actor, "apply-end", ws.config.workspace.id, None,
                       {"plan_digest": plan.digest, "steps": len(results), "failed": len(failed)})
    from .lifecycle_service import after_apply
    after_apply(ws, store, plan, results, owners)   # lifecycle: approved, provisioned, changed
    close_all(drivers)
    return results


def verify_audit(store: StateStore) -> tuple[int, ChainBreak | None]:
    from .core.audit import verify_chain
    entries = store.audit_entries()
    return len(entries), verify_chain(entries, store.audit_head())
