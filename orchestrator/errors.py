"""Errors with a summary, per-field details and a fix; the CLI renders them without tracebacks."""
from __future__ import annotations

from dataclasses import dataclass, field, replace


ERROR_FORMAT = "govcloud-error/1"


@dataclass(frozen=True)
class Issue:
    """One broken rule: where (field path, and the file when the error spans files), what, and
    the profile rule's key when a profile rule was broken."""

    path: str
    message: str
    file: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = ": ".join(x for x in (self.file, self.path) if x)
        return f"{where}: {self.message}" if where else self.message


class GovcloudError(Exception):
    """Base for every error shown to a user. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, summary: str, issues: list[Issue] | None = None, fix: str | None = None,
                 changed_nothing: bool = True):
        super().__init__(summary)
        self.summary = summary
        # a broken profile rule always says what to do (orchestrator/core/remedies.py)
        from .core.remedies import with_remedy
        self.issues = [i if i.rule is None else replace(i, message=with_remedy(i.message, i.rule))
                       for i in issues or []]
        self.fix = fix
        self.changed_nothing = changed_nothing

    def to_dict(self) -> dict:
        """The ``govcloud-error/1`` shape of ``--output json`` (docs/json-output.md)."""
        file = getattr(self, "file", None)
        return {
            "format": ERROR_FORMAT,
            "error": self.summary,
            "issues": [{"file": i.file or file, "field": i.path or None, "rule": i.rule,
                        "message": i.message} for i in self.issues],
            "fix": self.fix,
            "changed_nothing": self.changed_nothing,
        }


class InputError(GovcloudError):
    """Invalid approval, catalog, profile or config. Raised before anything is touched."""

    def __init__(self, file: str, issues: list[Issue], fix: str | None = None):
        super().__init__(f"invalid {file}", issues, fix)
        self.file = file


@dataclass
class InputErrors:
    """Collects InputErrors of many files so that one run reports all of them."""

    errors: list[InputError] = field(default_factory=list)

    def add(self, err: InputError) -> None:
        if any(e.file == err.file and e.issues == err.issues for e in self.errors):
            return   # the same problem met twice (catalog/ is read for the catalog and the profile)
        self.errors.append(err)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        issues = [Issue(i.path, i.message, file=e.file, rule=i.rule)
                  for e in self.errors for i in e.issues]
        raise GovcloudError(f"{len(self.errors)} invalid input files", issues)


class PlanRefused(GovcloudError):
    """A saved plan that may not be applied (stale, altered, other workspace)."""


class LockError(GovcloudError):
    """The state lock is held by someone else."""


class StateError(GovcloudError):
    """The state store cannot be read or written."""


class LockLost(StateError):
    """The connection holding the state lock ended (the database restarted, the session was
    terminated): another runner may hold the lock now, so this one must not write again.
    A StateError, so the executor halts on it like on any failed state write."""
