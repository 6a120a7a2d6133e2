"""What a use case holds while it runs, as context managers: the state store, the drivers of the
cloud targets, the workspace lock, and a pause of the garbage collector. Each is released when
its ``with`` block ends, however it ends, so no error path leaves a connection open or the
workspace locked. (The store and the drivers are also plain values, for tests and benchmarks
that hold them longer.)"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterable, Iterator

from drivers.base import Driver, DriverError, driver_class

from ..errors import GovcloudError, InputError, Issue
from ..state import open_store
from ..state.base import LockInfo, StateStore
from ..target_options import CONFIG, driver_options
from ..workspace import Workspace


def open_state(ws: Workspace) -> StateStore:
    """The workspace's state store; ``with open_state(ws) as store:`` closes it."""
    store = open_store(ws.config.state.url, ws.root, ws.config.workspace.id)
    from .. import clock
    reason = clock.backdated()
    if reason is not None:   # a back-dated correction: every audit entry of the run says why
        inner = store.append_audit

        def append_audit(actor, action, target, approval, detail):
            return inner(actor, action, target, approval, {**detail, "backdated": reason})
        store.append_audit = append_audit  # type: ignore[method-assign]
    return store


@contextmanager
def locked(store: StateStore, operation: str, timeout: float,
           ws: Workspace | None = None, scopes: list[str] | None = None) -> Iterator[LockInfo]:
    """The workspace lock, or with ``scopes`` those stacks' locks alone (usecases/scopes.py)
    (LockError after ``timeout`` seconds, naming the holder). With
    ``ws``: the state must continue the published audit checkpoint (orchestrator/checkpoint.py)
    or nothing runs; when the block ends, a new checkpoint is published if the head moved."""
    from .. import checkpoint
    lock = store.acquire(operation, timeout, scopes)
    guarded = failing = False
    try:
        if ws is not None:
            checkpoint.guard(ws.root, ws.config.workspace.id, store)
            guarded = True
        yield lock
    except BaseException:
        failing = True
        raise
    finally:
        try:
            if guarded:   # never over a checkpoint the state failed to continue
                checkpoint.publish(ws.root, ws.config.workspace.id, store)
        except (OSError, GovcloudError):
            pass   # a read-only workspace: the guard still compares with the last one published
        finally:
            try:
                store.release(lock)
            except GovcloudError:
                # the flock is released whatever happens; the row naming the holder is stale
                # and ignored by the next run. Never hide what stopped the block (a full disk).
                if not failing:
                    import sys
                    print("warning: the workspace lock's holder record could not be removed "
                          "(it is ignored by the next run)", file=sys.stderr)


class Drivers(dict):
    """Target name -> open driver; ``with`` closes them all. ``need`` opens targets not open
    yet (a plan learns its targets from the specs and the state; an apply of a saved plan from
    its actions)."""

    def __init__(self, ws: Workspace):
        super().__init__()
        self.ws = ws

    def need(self, targets: Iterable[str]) -> "Drivers":
        for name in sorted(set(targets) - set(self)):
            self[name] = _open_driver(self.ws, name)
        return self

    def close(self) -> None:
        for d in self.values():
            d.close()
        self.clear()

    def __enter__(self) -> "Drivers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_drivers(ws: Workspace, targets: Iterable[str] = ()) -> Drivers:
    """The drivers of ``targets`` (more with ``need``); ``with open_drivers(...) as d:``."""
    drivers = Drivers(ws)
    try:
        return drivers.need(targets)
    except BaseException:
        drivers.close()   # the ones opened before the failing target
        raise


def _open_driver(ws: Workspace, name: str) -> Driver:
    section = ws.config.targets.get(name)
    if section is None:
        raise GovcloudError(f"target {name!r} is used by the state or specs but not defined",
                            [Issue(f"targets.{name}", "missing section in govcloud.toml")])
    kind, options, bad = driver_options(name, section)
    if bad:   # each driver's own options, validated: never "internal error"
        raise InputError(CONFIG, bad)
    try:
        return driver_class(kind)(name, options, ws.root, ws.config.workspace.id)
    except DriverError as exc:
        raise GovcloudError(f"cannot open cloud target {name!r}: {exc}") from None


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
