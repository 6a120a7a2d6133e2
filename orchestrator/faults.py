"""The one seam for fault injection: named points in the product code, hooks only tests install.

Product code marks a point and passes what a test may want to change:
``kw = faults.point("sanitizer.options", kw, method=m)``; with no hook installed a point returns
its value untouched and costs a dict lookup. Tests install hooks in-process (``install``), or run
the CLI in a subprocess through ``tests/faulty_govcloud.py``, which installs them before calling
the CLI. Nothing here reads the environment: a production process cannot be made to fail by a
variable left set.

Points: ``decommission.step-done`` (``step``: the step just recorded), ``sanitizer.options``
(value: the sanitizer's keyword arguments; ``method``), and in ``backup destroy``
(orchestrator/backup_destroy.py; ``what``: the medium id) ``backup.wiped`` (overwritten, not yet
read back), ``backup.deleted`` (the file deleted, not yet recorded), ``backup.recorded`` (inside
the record's transaction, before its audit entry).
"""
from __future__ import annotations

from typing import Any, Callable

Hook = Callable[..., Any]
_hooks: dict[str, list[Hook]] = {}


def point(name: str, value: Any = None, **info: Any) -> Any:
    """Run the hooks installed at ``name`` in order; each gets the value (and ``info``) and
    returns the value the next one, and finally the caller, sees."""
    for hook in _hooks.get(name, ()):
        value = hook(value, **info)
    return value


def install(name: str, hook: Hook) -> Callable[[], None]:
    """Install ``hook`` at ``name``; returns the function that removes it."""
    _hooks.setdefault(name, []).append(hook)
    return lambda: _hooks.get(name, []).remove(hook) if hook in _hooks.get(name, []) else None


def clear() -> None:
    _hooks.clear()
