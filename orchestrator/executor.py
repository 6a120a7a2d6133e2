"""Walks a saved plan, calls drivers, records each result: the only code that mutates.

Every change is one record: the resource's state and its audit entry commit in one transaction
(``StateStore.atomic``), so a kill between them cannot keep one without the other; records of
steps that finish together share a transaction (group_commit.py); the first
failed state write stops the run (no more cloud objects are made whose state could not be
kept: a re-run adopts what was made by its tags). Steps run
in parallel where the dependency graph allows — on worker threads, or, on an in-process cloud
(``Driver.in_process``: the embedded one), inline in batches whose cloud calls and records each
commit together (``_run_batch``); a failed step skips what depends on it and the rest goes
on. Transient driver errors are retried with jittered backoff under a deadline; a create always
looks for an object with its address tag first, so a retry or a re-run after a crash adopts
instead of duplicating.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, Callable

from tenacity import (Retrying, retry_if_exception, stop_after_attempt, stop_after_delay,
                      wait_exponential_jitter)

from drivers.base import (CreateFailed, Driver, DriverError, NotFound, Retagging, Unsupported,
                          ownership_tags)

from . import faults
from .group_commit import GroupCommit
from .errors import StateError
from .core.graph import Step, build
from .models.cloud import Observed, Request
from .models.address import Address
from .models.plan import Action, ActionKind as A, Cause, Plan
from .models.state import StateRecord
from .core.resources import KINDS
from .state.base import StateStore


class _FirstRetry:   # the retry state tenacity's wait sees after a first failed attempt
    attempt_number = 1


class _Shifted:      # a retry state one attempt later (the first attempt ran outside tenacity)
    def __init__(self, rs):
        self.attempt_number = rs.attempt_number + 1


@dataclass(frozen=True)
class StepResult:
    address: str
    phase: str
    action: str
    outcome: str          # "ok" | "failed" | "skipped"
    detail: str = ""
    seconds: float = 0.0


class Executor:
    def __init__(self, plan: Plan, drivers: dict[str, Driver], store: StateStore, actor: str,
                 owner: str, parallelism: int = 4,
                 on_event: Callable[[str, Step, StepResult | None], None] | None = None,
                 retry_deadline: float = 120.0, sleep: Callable[[float], None] = time.sleep,
                 sanitize: Callable[[Driver, Observed], dict | None] | None = None,
                 on_commit: Callable[[StateStore, Action, StateRecord | None], None] | None = None):
        self.plan = plan
        self.drivers = drivers
        self.store = store
        self.actor = actor
        self.owner = owner
        self.parallelism = max(1, parallelism)
        self.halted: str | None = None   # the first failed state write: nothing more starts
        self.on_event = on_event or (lambda *a: None)
        self.retry_deadline = retry_deadline
        self.sleep = sleep
        # Called before deleting an object that holds data; raises to stop the delete.
        self.sanitize = sanitize
        # Called inside each state write's transaction (the lifecycle's events, lifecycle_events.py).
        self.on_commit = on_commit
        self.actions = {a.address: a for a in plan.actions}
        self.group = GroupCommit(store)
        # In-process clouds (the embedded one) gain nothing from worker threads (one
        # interpreter, one writer): their steps run inline in batches of ``parallelism``.
        targets = {a.target for a in plan.actions if a.action != "no-op"}
        self.inline = bool(targets) and all(
            getattr(drivers.get(t), "in_process", False) for t in targets)
        self._deferred: list[tuple[Callable[[], None], Callable[[], None]]] | None = None
        self.ids: dict[str, str] = {}
        self._ids_lock = threading.Lock()
        for rec in store.read().records.values():
            if rec.cloud_id:
                self.ids[rec.address] = rec.cloud_id
        for a in plan.actions:   # a moved object keeps its id under its new address
            frm = (a.prior or {}).get("moved_from")
            if frm and frm in self.ids and a.address not in self.ids:
                self.ids[a.address] = self.ids[frm]

    # --- scheduling ---------------------------------------------------------------------
    def run(self) -> list[StepResult]:
        graph = build(self.plan.actions)
        waiting = {s: set(d) for s, d in graph.deps.items()}
        dependents: dict[Step, list[Step]] = {s: [] for s in graph.steps}
        for s, ds in graph.deps.items():
            for d in ds:
                dependents[d].append(s)
        results: list[StepResult] = []
        failed: set[Step] = set()
        ready = deque(s for s in graph.steps if not waiting[s])   # taken from the front

        def finish(step: Step, res: StepResult) -> None:
            results.append(res)
            self.on_event("done", step, res)
            blocked = res.outcome != "ok"
            if blocked:
                failed.add(step)
            for nxt in dependents[step]:
                if blocked:
                    self._skip(nxt, step, waiting, dependents, failed, results)
                elif nxt not in failed:
                    waiting[nxt].discard(step)
                    if not waiting[nxt]:
                        ready.append(nxt)

        if self.inline:
            while ready:
                batch = [ready.popleft() for _ in range(min(self.parallelism, len(ready)))]
                for step in batch:
                    self.on_event("start", step, None)
                for step, res in zip(batch, self._run_batch(batch)):
                    finish(step, res)
            return results
        running: dict[Future, Step] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            while ready or running:
                while ready and len(running) < self.parallelism:
                    step = ready.popleft()
                    self.on_event("start", step, None)
                    running[pool.submit(self._run_step, step)] = step
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    step = running.pop(fut)
                    finish(step, fut.result())
        return results

    def _run_batch(self, batch: list[Step]) -> list[StepResult]:
        """Inline mode: the batch's steps one after another in this thread, their cloud calls
        in one cloud transaction per driver (``Driver.batch``) and their records in one state
        transaction, written once every step of the batch is done; nothing of the next batch
        starts before. A kill loses at most this batch's records (at most ``parallelism``
        objects the cloud holds unrecorded, adopted by their tags on the next run) — the
        guarantee of ``parallelism`` workers each waiting for its own record."""
        self._deferred = []
        out: list[StepResult] = []
        owned: list[range] = []
        try:
            with ExitStack() as cloud:
                for d in {id(d): d for d in self._batch_drivers(batch)}.values():
                    cloud.enter_context(d.batch())
                for step in batch:
                    n = len(self._deferred)
                    out.append(self._run_step(step))
                    owned.append(range(n, len(self._deferred)))
        except Exception as exc:   # the cloud kept none of the batch (a full disk): nor do we
            self._deferred = None
            why = f"the cloud could not commit this batch of steps ({type(exc).__name__}: {exc})"
            return [StepResult(a, p, self.actions[a].action, "failed", why) for a, p in batch]
        deferred, self._deferred = self._deferred, None
        errors = self.group.commit_many([w for w, _ in deferred])
        for i, res in enumerate(out):
            errs = [errors[k] for k in owned[i] if errors[k] is not None]
            if errs:
                exc = errs[0]
                if isinstance(exc, StateError):
                    self.halted = self.halted or str(exc)
                    detail = f"StateError: {exc}"
                elif isinstance(exc, DriverError):
                    detail = f"{type(exc).__name__}: {exc}"
                else:
                    detail = f"unexpected {type(exc).__name__}: {exc}"
                out[i] = replace(res, outcome="failed", detail=detail)
                continue
            for k in owned[i]:
                deferred[k][1]()
        return out

    def _batch_drivers(self, batch: list[Step]) -> list[Driver]:
        """The drivers whose calls in ``batch`` share a cloud transaction: none when a step wipes
        a volume before deleting it (seconds to minutes of writes, during which the open
        transaction would hold the cloud's write lock against every other runner)."""
        if self.sanitize is not None and any(
                phase == "destroy" and KINDS[self.actions[a].kind].wiped_before_delete
                for a, phase in batch):
            return []
        return [self._driver(self.actions[address]) for address, _ in batch]

    def _skip(self, step, cause, waiting, dependents, failed, results):
        if step in failed:
            return
        failed.add(step)
        waiting.pop(step, None)
        res = StepResult(step[0], step[1], self.actions[step[0]].action, "skipped",
                         f"depends on {cause[0]} ({cause[1]}), which did not complete")
        results.append(res)
        self.on_event("done", step, res)
        for nxt in dependents[step]:
            self._skip(nxt, step, waiting, dependents, failed, results)

    # --- one step ---------------------------------------------------------------------------
    def _run_step(self, step: Step) -> StepResult:
        address, phase = step
        action = self.actions[address]
        t0 = time.monotonic()
        if self.halted:
            return StepResult(address, phase, action.action, "skipped",
                              f"not started: the state could not be written ({self.halted})")
        try:
            detail = self._destroy(action) if phase == "destroy" else self._apply(action)
            return StepResult(address, phase, action.action, "ok", detail, time.monotonic() - t0)
        except StateError as exc:
            self.halted = self.halted or str(exc)
            return StepResult(address, phase, action.action, "failed", f"StateError: {exc}",
                              time.monotonic() - t0)
        except DriverError as exc:
            return StepResult(address, phase, action.action, "failed", f"{type(exc).__name__}: {exc}",
                              time.monotonic() - t0)
        except Exception as exc:  # a driver bug must not kill the other workers
            return StepResult(address, phase, action.action, "failed",
                              f"unexpected {type(exc).__name__}: {exc}", time.monotonic() - t0)

    def _retry(self, fn: Callable[[], Any]) -> Any:
        if self.halted:   # a state write failed meanwhile (another worker's): no more cloud calls
            raise StateError(f"not continued: the state could not be written ({self.halted})")
        t0 = time.monotonic()
        try:   # the first attempt without tenacity's machinery (most calls need no retry)
            return fn()
        except DriverError as exc:
            if not exc.transient:
                raise
        wait = wait_exponential_jitter(multiplier=0.5, max=10)
        self.sleep(wait(_FirstRetry))   # then as before: 6 attempts in all, the same backoff
        for attempt in Retrying(
                retry=retry_if_exception(lambda e: isinstance(e, DriverError) and e.transient),
                wait=lambda rs: wait(_Shifted(rs)),
                stop=stop_after_attempt(5) | stop_after_delay(
                    max(0.0, self.retry_deadline - (time.monotonic() - t0))),
                sleep=self.sleep, reraise=True):
            with attempt:
                return fn()

    def _driver(self, action: Action) -> Driver:
        return self.drivers[action.target]

    def _forget_moved(self, action: Action) -> None:
        """A moved object's old address leaves the state (inside the record's transaction: a
        crash keeps the old record and no new one, and the next plan finds the object by its
        new tags)."""
        frm = (action.prior or {}).get("moved_from")
        if frm and frm != action.address:
            self.store.remove(frm)

    def _commit(self, action: Action, rec: StateRecord | None, what: str,
                detail: dict[str, Any], moved: bool = False) -> None:
        """The state change (``rec``, or removing the action's address when None) and its audit
        entry, in one transaction; ``moved``: the old address of a moved object leaves too."""
        address = rec.address if rec is not None else Address.parse(action.address).base

        def write() -> None:
            if moved and (rec is not None or address == action.address):
                self._forget_moved(action)
            if rec is not None:
                self.store.put(rec)
            elif address == action.address:  # a duplicate's key (ADDRESS#id) is not in state
                self.store.remove(address)
            faults.point("executor.state-written", address=address, what=what)
            self.store.append_audit(self.actor, what, action.address, action.approval,
                                    {"kind": action.kind, "target": action.target, **detail})
            if self.on_commit is not None:
                self.on_commit(self.store, action, rec)

        def committed() -> None:
            faults.point("executor.committed", address=address, what=what)
            with self._ids_lock:
                if rec is not None and rec.cloud_id:
                    self.ids[rec.address] = rec.cloud_id
                elif rec is None and address == action.address:
                    self.ids.pop(address, None)
        if self._deferred is not None:   # inline: written with the batch (_run_batch)
            self._deferred.append((write, committed))
            return
        self.group.commit(write)   # with the records of the steps that finished meanwhile
        committed()

    def _destroy(self, action: Action) -> str:
        prior = action.prior or {}
        cloud_id = prior.get("cloud_id")
        address = Address.parse(action.address).base
        wiped = None
        if cloud_id:
            current = Observed(address, action.kind, cloud_id, prior.get("properties", {}), {}, {})
            if self.sanitize is not None and KINDS[action.kind].wiped_before_delete:
                try:
                    wiped = self.sanitize(self._driver(action), current)
                except NotFound:
                    wiped = None
            try:
                self._retry(lambda: self._driver(action).delete(current))
                gone = "deleted"
            except NotFound:
                gone = "already gone"
        else:
            gone = "had no cloud object"
        self._commit(action, None, "delete" if action.action is A.DELETE else "replace-destroy",
                     {"cloud_id": cloud_id, "result": gone, "reason": action.reason,
                      **({"sanitization": wiped} if wiped else {})}, moved=True)
        return f"{gone} ({cloud_id})"

    def _request(self, action: Action) -> Request:
        d = action.desired
        refs = {}
        for field, addr in d.refs.items():
            with self._ids_lock:
                cid = self.ids.get(addr)
            if cid is None:
                raise DriverError(f"{field} {addr} has no cloud id (was it created?)")
            refs[field] = cid
        tags = ownership_tags(self.owner, d.address, d.stack, d.zone, d.approval)
        return Request(d.address, d.kind, d.name, dict(d.properties), refs, tags)

    def _state(self, action: Action, cloud_id: str | None, status: str = "ok") -> StateRecord:
        d = action.desired
        return StateRecord(d.address, d.kind, d.target, cloud_id, status, d.stack, d.approval,
                           dict(d.properties), dict(d.refs))

    def _apply(self, action: Action) -> str:
        driver = self._driver(action)
        req = self._request(action)
        fields = {f for f in action.changes if f in req.properties}
        if action.action in (A.CREATE, A.REPLACE):
            found = self._retry(lambda: driver.find(req.address))
            if found is not None and found.status != "ERROR" and \
                    (action.action is A.CREATE or found.cloud_id != (action.prior or {}).get("cloud_id")):
                obj = found
                if fields:
                    obj = self._retry(lambda: driver.update(found, req, fields))
                self._commit(action, self._state(action, obj.cloud_id), "adopt",
                             {"cloud_id": obj.cloud_id, "reason": "found by tags"})
                return f"adopted existing {obj.cloud_id}"
            attempts = []
            try:
                obj = self._retry(lambda: self._create_once(driver, req, attempts))
            except CreateFailed as exc:
                self._commit(action, self._state(action, exc.cloud_id, "tainted"), "create-failed",
                             {"cloud_id": exc.cloud_id, "error": str(exc)})
                raise
            self._commit(action, self._state(action, obj.cloud_id), "create",
                         {"cloud_id": obj.cloud_id, "reason": action.reason}, moved=True)
            return f"created {obj.cloud_id}"
        prior = action.prior or {}
        current = Observed(req.address, action.kind, prior["cloud_id"], prior.get("properties", {}),
                           {}, {})
        if action.cause is Cause.MOVED:
            if not isinstance(driver, Retagging):
                raise Unsupported(f"target {action.target} cannot rename objects in place")
            obj = self._retry(lambda: driver.rename(current, req))
            rest = fields - {"name"}
            if rest:
                obj = self._retry(lambda: driver.update(obj, req, rest))
            self._commit(action, self._state(action, obj.cloud_id), "move",
                         {"cloud_id": obj.cloud_id, "from": prior["moved_from"],
                          "changes": action.changes}, moved=True)
            return f"moved from {prior['moved_from']} ({obj.cloud_id})"
        if action.action is A.ADOPT:
            if fields:
                self._retry(lambda: driver.update(current, req, fields))
            self._commit(action, self._state(action, current.cloud_id), "adopt",
                         {"cloud_id": current.cloud_id, "changes": action.changes})
            return f"adopted {current.cloud_id}"
        obj = self._retry(lambda: driver.update(current, req, fields))
        self._commit(action, self._state(action, obj.cloud_id), "update",
                     {"cloud_id": obj.cloud_id, "changes": action.changes})
        return f"updated {obj.cloud_id}"

    @staticmethod
    def _create_once(driver: Driver, req: Request, attempts: list):
        # A retried create looks first: the failed attempt may have made the object. If it made
        # it only half (its tags are there, a follow-up call failed: a subnet never associated,
        # a gateway never attached; status ERROR), that object is removed before the next
        # attempt: left there it is a duplicate of the new one (EC2 internet gateways) or
        # makes the new one conflict (a subnet's CIDR). It is this run's own, made moments
        # ago, so it holds no data.
        if attempts:
            found = driver.find(req.address)
            if found is not None and found.status != "ERROR":
                return found
            if found is not None:
                try:
                    driver.delete(found)
                except NotFound:
                    pass
        attempts.append(1)
        return driver.create(req)
