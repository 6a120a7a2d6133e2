"""Decommissioning (退出) a system: plan, backup, offline, hold, wipe, verify, reclaim, census,
certificate, billing stop.

A resumable workflow: each step is recorded in the state store (a workflow document) and the
audit log before the next starts, so a crash at any point is resumed by running the command
again. No step repeats unsafely (backups are re-made only if unrecorded, wiping again is
harmless, deletes tolerate NotFound), and reclaim refuses to start unless every medium's wipe
was verified.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from drivers.base import STACK_TAG, Census, Driver, MediaAccess, NotFound, PowerControl
from drivers.media import content_sha256, sparse_copy

from . import __version__, faults
from .errors import GovcloudError, Issue
from .executor import Executor
from .models.address import Address
from .models.cloud import Observed
from .models.plan import Plan
from .core.planner import collect_desired, make_actions
from .core.resources import KIND_ORDER, KINDS
from .sanitize import make_sanitizer, media_of, verify
from .state.base import StateStore, default_actor
from .core import exit as exitp
from .core.workdays import add_months
from .exit_subject import Subject, find_stack, find_subject  # noqa: F401 - used by the use case
from .workspace import Workspace

STEPS = ("plan", "backup", "offline", "request", "hold", "wipe", "verify", "reclaim", "census",
         "certificate", "billing")
# The lifecycle event each step records when it is done (profiles order them: exit_process).
STEP_EVENTS = {"backup": "backed-up", "offline": "offline", "wipe": "wiped", "verify": "verified",
               "reclaim": "reclaimed", "billing": "terminated"}


def workflow_name(stack: str) -> str:
    return f"decommission:{stack}"


def frozen_stacks(store: StateStore) -> dict[str, str]:
    """Stacks under or after decommissioning: regular plans leave their objects alone."""
    out = {}
    for name, data in _workflows(store):
        out[data["stack"]] = "decommissioned" if data.get("finished") else "being decommissioned"
    return out


def retired_approvals(store: StateStore) -> dict[str, set[str]]:
    """Finished decommissions: stack -> the approval numbers that left with it."""
    return {data["stack"]: set(data.get("approvals") or []) for _name, data in _workflows(store)
            if data.get("finished")}


def _index_of(store: StateStore) -> list[str]:
    return (store.get_workflow("decommission-index") or {}).get("stacks", [])


def _workflows(store: StateStore):
    for stack in _index_of(store):
        data = store.get_workflow(workflow_name(stack))
        if data:
            yield workflow_name(stack), data


@dataclass
class Options:
    dry_run: bool = False
    max_deletes: int | None = None
    now: dt.date | None = None
    sanitizer: str = "zeros"
    verify_mode: str = "full"
    backup_dir: Path | None = None
    operator: str | None = None
    organization: str = "云服务商 (cloud service provider)"
    override_reason: str | None = None   # --override-exit-order REASON (audited)
    # Asked once with the plan before anything is recorded (None: approved, --auto-approve).
    confirm: Callable[[list[dict[str, Any]]], bool] | None = None
    live: Callable[[str], None] | None = None    # a terminal: progress redrawn in place


class Cancelled(GovcloudError):
    """The operator said no at the confirmation: nothing was recorded or changed."""


class Decommission:
    def __init__(self, ws: Workspace, store: StateStore, drivers: dict[str, Driver],
                 spec: Subject, opts: Options, say: Callable[[str], None] = lambda s: None):
        self.ws, self.store, self.drivers, self.spec, self.opts = ws, store, drivers, spec, opts
        self.say = say
        self.stack = spec.stack
        self.actor = opts.operator or default_actor()
        self.today = opts.now or dt.date.today()
        self.doc: dict[str, Any] = store.get_workflow(workflow_name(self.stack)) or {}

    # --- bookkeeping -----------------------------------------------------------------------
    def _save(self) -> None:
        self.store.put_workflow(workflow_name(self.stack), self.doc)

    def _done(self, step: str, detail: dict[str, Any],
              events: tuple[tuple[str, str, dict[str, Any]], ...] = ()) -> None:
        """The step's workflow record, its audit entry and its lifecycle events (subject, kind,
        detail) in one transaction: a kill between them keeps none of them, and the step runs
        again (every step is idempotent)."""
        with self.store.atomic():
            self._record_now(events)
            self.doc.setdefault("steps", {})[step] = {"done": True, "at": self.today.isoformat(),
                                                      **detail}
            self._save()
            faults.point("decommission.workflow-written", step=step)
            self.store.append_audit(self.actor, f"decommission-{step}", self.stack, None, detail)
        self.say(f"  [ok] {step}: {_brief(detail)}")
        faults.point("decommission.step-done", step=step)   # the kill -9 tests stop here

    def _events(self) -> list[dict[str, Any]]:
        return [e for no in self._approval_nos() for e in self.store.events(no)]

    def _approval_nos(self) -> list[str]:
        return self.doc.get("approvals") or self.spec.approval_nos

    def _on(self) -> dict[str, dt.date]:
        return exitp.first_dates(self._events())

    def _new_events(self, kind: str, detail: dict[str, Any] | None = None,
                    again: bool = False) -> tuple[tuple[str, str, dict[str, Any]], ...]:
        """Lifecycle event ``kind`` for each approval of the system (once, unless ``again``: a
        resumed run does not record it twice), for ``_done`` to record with its step."""
        have = {(e["subject"], e["kind"]) for e in self._events()}
        return tuple((no, kind, {"stack": self.stack, **(detail or {})})
                     for no in self._approval_nos() if again or (no, kind) not in have)

    def _record_now(self, events: tuple[tuple[str, str, dict[str, Any]], ...]) -> None:
        for subject, kind, data in events:
            self.store.record_event(subject, kind, self.today.isoformat(), data)

    def _gate(self, stage: str, what: str) -> list[str]:
        """Refuse ``stage`` without the events the city requires (or log the override)."""
        absent = exitp.missing(self.ws.profile, stage, self._on())
        if absent and self.opts.override_reason:
            self.store.append_audit(self.actor, "decommission-override", self.stack, None,
                                    {"stage": stage, "missing": absent,
                                     "reason": self.opts.override_reason})
            self.say(f"  [override] {what}: {', '.join(absent)} missing; overridden by "
                     f"{self.actor}: {self.opts.override_reason}")
            return []
        return absent

    def _preconditions(self) -> None:
        from .core import policy
        profile = self.ws.profile
        p = exitp.process(profile)
        if p is not None and p.wipe_verification == "full" and self.opts.verify_mode != "full":
            raise GovcloudError(f"--verify {self.opts.verify_mode} refused: "
                                f"{profile.cite(profile.rules.exit_process)} requires data that "
                                f"cannot be recovered: every byte is read back",
                                fix="use --verify full")
        approvals = list(self.ws.load_approvals().values())
        for no in self._approval_nos():
            policy.check_exit_of(no, approvals, profile, self.today)
        if not self.doc.get("steps"):
            absent = self._gate("start", f"decommission of {self.stack}")
            if absent:
                raise exitp.refusal(profile, "start", f"cannot decommission {self.stack}", absent)

    def _is_done(self, step: str) -> bool:
        return bool(self.doc.get("steps", {}).get(step, {}).get("done"))

    # --- the objects ------------------------------------------------------------------------
    def _owned(self) -> list[tuple[str, Observed]]:
        out = []
        for name, drv in self.drivers.items():
            for o in drv.observe():
                if o.tags.get(STACK_TAG) == self.stack:
                    out.append((name, o))
        return sorted(out, key=lambda t: (KIND_ORDER.get(t[1].kind, 99), t[1].address))

    def _media(self) -> list[dict[str, Any]]:
        return self.doc.get("media", [])

    # --- steps -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        if self.doc.get("finished"):
            self.say(f"{self.stack} was decommissioned on {self.doc['finished']}; nothing to do.")
            return self.doc
        if not self.opts.dry_run:
            self._preconditions()
        objects = self.step_plan()
        if self.opts.dry_run:
            return {"stack": self.stack, "dry_run": True, "objects": objects}
        for step in STEPS[1:]:
            if self._is_done(step):
                continue
            result = getattr(self, f"step_{step}")()
            if result == "held":
                return self.doc
        self.doc["finished"] = self.today.isoformat()
        self._save()
        return self.doc

    def step_plan(self) -> list[dict[str, Any]]:
        if self._is_done("plan"):
            return self.doc["objects"]
        owned = self._owned()
        objects = []
        media = []
        unreachable: list[dict[str, Any]] = []
        for target, o in owned:
            kind = KINDS.get(o.kind)
            found = media_of(self.drivers[target], o) if kind and kind.wiped_before_delete else []
            wipe = found is None or bool(found) or (kind is not None and kind.holds_data)
            objects.append({"address": o.address, "kind": o.kind, "cloud_id": o.cloud_id,
                            "target": target, "actions": (["wipe"] if wipe else []) + ["delete"]})
            drv = self.drivers[target]
            extra = drv.census_ids(o) if isinstance(drv, Census) else []
            if extra:   # read while the object exists, for the census after it is gone
                objects[-1]["census_ids"] = extra
            if found is None:  # the cloud gives no access to the data's media: say so, never "pass"
                unreachable.append({"address": o.address, "kind": o.kind, "id": o.cloud_id,
                                    "target": target})
            for m in found or []:
                media.append({**m.describe(), "target": target})
                if m.kind == "image":  # a copy the cloud keeps under the object: show it too
                    objects[-1].setdefault("copies", []).append(f"image {m.id}")
        if self.opts.max_deletes is not None and len(objects) > self.opts.max_deletes:
            raise GovcloudError(f"decommissioning {self.stack} would delete {len(objects)} objects, "
                                f"more than --max-deletes {self.opts.max_deletes}",
                                fix="check the list with --dry-run, then raise --max-deletes")
        for ob in objects:
            self.say(f"  {'wipe+delete' if 'wipe' in ob['actions'] else 'delete':<11} {ob['address']}"
                     + (f" (with {', '.join(ob['copies'])})" if ob.get("copies") else ""))
        if self.opts.dry_run:
            self.say(f"Dry run: {len(objects)} objects, {len(media)} media to wipe. Nothing was changed.")
            return objects
        if self.opts.confirm is not None and not self.opts.confirm(objects):
            raise Cancelled(f"decommission of {self.stack} cancelled", fix=None)
        if not self.doc:
            self.doc = {"stack": self.stack, "started": self.today.isoformat(),
                        "operator": self.actor, "profile": self.spec.profile,
                        "department": self.spec.department, "system": self.spec.system,
                        "approvals": list(self.spec.approval_nos),
                        "orphaned": self.spec.orphaned}
            index = _index_of(self.store)
            if self.stack not in index:
                self._index(index + [self.stack])
        self.doc["objects"] = objects
        self.doc["media"] = media
        self.doc["media_unreachable"] = unreachable
        self._done("plan", {"objects": len(objects), "media": len(media)})
        return objects

    def _index(self, stacks: list[str]) -> None:
        # The store's meta table is not part of the public contract: keep the index as a workflow.
        self.store.put_workflow("decommission-index", {"stacks": sorted(stacks)})

    def _meter(self, label: str, total: int):
        from .progress import ByteMeter
        return ByteMeter(label, total, self.say, self.opts.live)

    def _allocated(self) -> int:
        from drivers.media import allocated_bytes
        return sum(allocated_bytes(Path(m["path"])) for m in self._media()
                   if Path(m["path"]).exists())

    def step_backup(self) -> None:
        cfg = self.ws.config.backup
        folder = f"{self.stack.replace('/', '__')}/{self.doc['started']}"
        s3 = None
        if cfg.kind == "s3" and self.opts.backup_dir is None:
            from drivers.libcloud.backup import S3Backup  # only when object storage is configured
            s3 = S3Backup(cfg.model_dump(exclude={"kind", "path"}))
            target = s3.uri(folder)
        else:
            root = self.opts.backup_dir or (Path(cfg.path) if cfg.path else self.ws.root / "backups")
            root = root if root.is_absolute() else self.ws.root / root
            target = str(root / folder)
        meter = self._meter("backup", self._allocated())
        keep = self.ws.profile.rules.backup_retention_months
        destroy_on = add_months(self.today, keep.value).isoformat() if keep else None
        for m in self._media():
            if m.get("backup"):
                continue
            src = Path(m["path"])
            name = f"{m['kind']}-{m['id']}.img"
            before = content_sha256(src)
            if s3 is not None:  # put_file reads the object back and compares its SHA-256
                rec = s3.put_file(src, f"{folder}/{name}")
                m["backup"] = {"uri": rec.uri, "sha256": before, "object_sha256": rec.sha256,
                               "destroy_on": destroy_on}
            else:
                dest = Path(target) / name
                sparse_copy(src, dest, meter)
                if content_sha256(dest) != before:
                    raise GovcloudError(f"backup of {m['id']} does not match its source (SHA-256)")
                m["backup"] = {"uri": dest.resolve().as_uri(), "sha256": before,
                               "destroy_on": destroy_on}
            self._save()
        meter.finish()
        self._done("backup", {"target": target, "copies": len(self._media())},
                   self._new_events("backed-up", {"target": target, "copies": len(self._media())}))

    def step_offline(self) -> None:
        stopped, released = 0, 0
        for target, o in self._owned():
            drv = self.drivers[target]
            if o.kind == "server" and o.status != "SHUTOFF":
                if isinstance(drv, PowerControl):
                    drv.set_power(o, "SHUTOFF")
                stopped += 1
            elif o.kind == "floating_ip":
                try:
                    drv.delete(o)
                    gone = "deleted"
                except NotFound:
                    gone = "already gone"
                with self.store.atomic():   # the state change and its audit entry: one record
                    self.store.remove(o.address)
                    self.store.append_audit(self.actor, "delete", o.address, None, {
                        "kind": o.kind, "target": target, "cloud_id": o.cloud_id,
                        "result": gone, "reason": "decommission: public IP released"})
                released += 1
        self.doc["offline_on"] = self.today.isoformat()
        self._done("offline", {"servers_stopped": stopped, "public_ips_released": released},
                   tuple((no, "offline", {"stack": self.stack}) for no in self._approval_nos()))

    def step_request(self) -> str | None:
        """四川 第十八条: backup and offline first, then the written exit request, then the wipe."""
        absent = self._gate("wipe", f"wiping {self.stack}")
        if not absent:
            self._done("request", {"events": sorted(self._on())})
            return None
        err = exitp.refusal(self.ws.profile, "wipe", f"{self.stack} is backed up and offline; "
                            f"wiping waits", absent)
        if self.doc.get("request_announced"):
            raise err
        self.doc["request_announced"] = True
        self._save()
        self.say(f"  [wait] {err.summary}. Record it, then run `govcloud decommission "
                 f"{self.stack} --resume`.")
        return "held"

    def step_hold(self) -> str | None:
        rule = self.ws.profile.rules.exit_transition_months
        if rule is None:
            self._done("hold", {"months": 0, "note": "the profile sets no transition period"})
            return None
        until, start = exitp.transition_until(self.ws.profile, self._on())
        if until is None:   # its starting event was overridden away: count from the offline
            start = "offline"
            until = add_months(dt.date.fromisoformat(self.doc["offline_on"]), rule.value)
        with self.store.atomic():   # the hold's event and the workflow record: one transaction
            if self.doc.get("hold_until") != until.isoformat():
                self._record_now(self._new_events("held-until", {
                    "until": until.isoformat(), "from": start, "article": rule.article}))
            self.doc["hold_until"] = until.isoformat()
            self.doc["hold_from"] = start
            self._save()
        if self.today < until:
            msg = (f"{self.stack} is offline and held for the {rule.value}-month transition period "
                   f"until {until}, counted from {start} ({self.ws.profile.name_zh} "
                   f"{rule.article}); run "
                   f"`govcloud decommission {self.stack} --resume` on or after {until}")
            if self.doc.get("hold_announced"):
                raise GovcloudError(f"transition hold: not before {until}",
                                    [Issue("hold_until", msg)], fix=f"resume on or after {until}")
            self.doc["hold_announced"] = True
            self._save()
            self.say(f"  [hold] {msg}")
            return "held"
        self._done("hold", {"months": rule.value, "until": until.isoformat(), "article": rule.article})
        return None

    def _sanitizer(self):
        return make_sanitizer(self.opts.sanitizer)

    def step_wipe(self) -> None:
        sanitizer = self._sanitizer()
        meter = self._meter("wipe", self._allocated())
        for m in self._media():
            if m.get("wipe", {}).get("done"):
                continue
            from drivers.media import Medium
            medium = Medium(m["id"], m["kind"], Path(m["path"]), m["address"], m["size_bytes"])
            result = sanitizer.sanitize(medium, meter)
            m["wipe"] = {"done": True, "method": sanitizer.name, "nist_method": sanitizer.nist_method,
                         "technique": sanitizer.technique, **result}
            self._save()
        meter.finish()
        self._done("wipe", {"media": len(self._media()), "method": sanitizer.name},
                   self._new_events("wiped", {"media": len(self._media()),
                                              "method": sanitizer.name}, again=True))

    def step_verify(self) -> None:
        from drivers.media import Medium
        sanitizer = self._sanitizer()
        failed = []
        meter = self._meter(f"verify ({self.opts.verify_mode})", self._allocated()
                            if self.opts.verify_mode == "full" else 0)
        for m in self._media():
            medium = Medium(m["id"], m["kind"], Path(m["path"]), m["address"], m["size_bytes"])
            check = verify(medium, sanitizer, self.opts.verify_mode,
                           progress=meter if self.opts.verify_mode == "full" else None)
            m["verification"] = check.to_dict()
            if not check.ok:
                failed.append(m)
                m["wipe"]["done"] = False  # wipe again on resume
        self._save()
        if self.opts.verify_mode == "full":
            meter.finish()
        if failed:
            with self.store.atomic():   # the wipe reopened, its audit entry and event: one record
                self.doc["steps"]["wipe"]["done"] = False
                self._save()
                self.store.append_audit(self.actor, "decommission-verify-failed", self.stack,
                                        None, {"media": [m["id"] for m in failed]})
                self._record_now(self._new_events("wipe-failed",
                                                  {"media": [m["id"] for m in failed]}, again=True))
            raise GovcloudError(
                f"wipe verification failed for {len(failed)} media of {self.stack}: nothing was deleted",
                [Issue(f"{m['kind']} {m['id']}", f"{m['verification']['bad_range_count']} ranges "
                       "still differ from the wipe pattern") for m in failed],
                fix="find the cause, then run the command again: the wipe is repeated and verified",
                changed_nothing=False)
        self._done("verify", {"media": len(self._media()), "mode": self.opts.verify_mode,
                              "result": "pass"},
                   self._new_events("verified", {"media": len(self._media()),
                                                 "mode": self.opts.verify_mode}, again=True))

    def step_reclaim(self) -> None:
        unverified = [m["id"] for m in self._media()
                      if m.get("verification", {}).get("result") != "pass"]
        if unverified:
            raise GovcloudError("refusing to reclaim: media without a verified wipe",
                                [Issue("media", ", ".join(unverified))])
        others = [s for s in self.ws.load_specs() if s.stack != self.stack]
        desired = collect_desired(r for s in others for r in s.resources)
        snapshot = self.store.read()
        observed = [o for d in self.drivers.values() for o in d.observe()]
        caps = {n: d.kinds for n, d in self.drivers.items()}
        actions = make_actions(desired, snapshot.records, observed, caps, release={self.stack})
        mine = {o.address for _, o in self._owned()} | \
            {r.address for r in snapshot.records.values() if r.stack == self.stack}
        dept = self.spec.department["code"]
        deletes = [a for a in actions if a.action == "delete" and
                   (Address.parse(a.address).base in mine or
                    (a.kind == "domain" and a.address.endswith(f"/{dept}")))]
        plan = Plan(self.ws.config.workspace.id, snapshot.lineage, snapshot.serial, "", deletes)
        results = Executor(plan, self.drivers, self.store, self.actor, self.ws.config.workspace.id,
                           parallelism=4).run()
        bad = [r for r in results if r.outcome != "ok"]
        if bad:
            raise GovcloudError(f"reclaim of {self.stack} incomplete",
                                [Issue(r.address, r.detail) for r in bad],
                                fix="run the command again to retry", changed_nothing=False)
        orphans = []
        for name, drv in self.drivers.items():
            if isinstance(drv, MediaAccess):  # only media whose wipe was verified reach this list
                orphans += drv.reclaim_media([m["path"] for m in self._media()
                                              if m.get("target") == name])
        # one count everywhere (console, JSON, certificate): the plan's objects, those released
        # at offline included, plus the department's domain when it went with the system
        released = self.doc["steps"].get("offline", {}).get("public_ips_released", 0)
        total = len(results) + released
        self.doc["reclaimed"] = {"total": total, "deleted_at_reclaim": len(results),
                                 "released_at_offline": released,
                                 "addresses": sorted(r.address for r in results)}
        self._done("reclaim", {"reclaimed": total, "deleted": len(results),
                               "released_at_offline": released, "orphan_files_removed": orphans},
                   self._new_events("reclaimed", {"deleted": total}))

    def step_census(self) -> None:
        from .census import census_ids, require_empty
        ids = census_ids(self.doc)
        require_empty(self.drivers, self.stack, ids, self.store.read().records.values())
        self._done("census", {"leftovers": 0, "checked_media": len(ids)})

    def step_certificate(self) -> None:
        from .certificate import write_certificate
        files = write_certificate(self.ws, self.doc, self.today, self.actor, self.opts.organization,
                                  __version__)
        digests = {name: hashlib.sha256(Path(path).read_bytes()).hexdigest()
                   for name, path in files.items()}
        self.doc["certificate"] = {"files": {k: str(v) for k, v in files.items()}, "sha256": digests}
        self._done("certificate", {"files": {k: Path(v).name for k, v in files.items()},
                                   "sha256": digests})

    def step_billing(self) -> None:
        from .calendar_files import workspace_calendar
        on = {**self._on(), "terminated": self.today}
        stop, article = exitp.billing_stop(self.ws.profile, on, workspace_calendar(self.ws.root))
        stop = stop or self.today
        self._done("billing", {"terminated_on": self.today.isoformat(),
                               "billing_stop": stop.isoformat(), "billing_article": article,
                               "approvals": self.doc["approvals"]},
                   tuple((no, "terminated", {"stack": self.stack, "reason": "decommissioned",
                                             "billing_stop": stop.isoformat(),
                                             "billing_article": article})
                         for no in self._approval_nos()))


def _brief(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items() if not isinstance(v, (dict, list)))
