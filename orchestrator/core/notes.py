"""A flag or warning of `govcloud status` as a value: its text, the profile rule and article it
comes from, the file field it is about, who must act and what to do. Pure.

``ApprovalStatus.flags`` / ``warnings`` stay the texts (JSON ``flags[]`` / ``warnings[]``); each
text has its Note in ``flag_details[]`` / ``warning_details[]``, so that every flag says what to
do and who does it (issue 13) without changing the meaning of a documented key.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..models.profile import Profile
from .remedies import status_remedy


@dataclass(frozen=True)
class Note:
    text: str
    rule: str = ""          # profile rule key ("" when no rule of the profile is behind it)
    citation: str = ""      # "<regulation> <article>"
    actor: str = ""         # provider | department | bureau ("" when not stated)
    field: str = ""         # the file field or event it is about, e.g. term.backfilled_on
    file: str = ""          # the input file that field is in ("" for an event in the state)
    remedy: str = ""        # what to do, English; 处理：Chinese

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def note(profile: Profile, text: str, rule: str = "", *, key: str = "", actor: str = "",
         field: str = "", approval: str = "APPROVAL", system: str = "SYSTEM",
         citation: str | None = None, remedy: str | None = None, file: str = "") -> Note:
    """The Note of ``text``: the rule's citation, and the remedy of ``key`` (an item's own remedy,
    e.g. ``late``) or else of ``rule``, with the approval and the system named."""
    r = getattr(profile.rules, rule, None) if rule else None
    if citation is None:
        citation = profile.cite(r) if r is not None else ""
    if remedy is None:
        remedy = status_remedy(*(k for k in (key, rule) if k), approval=approval, system=system)
    return Note(text, rule, citation, actor, field, file, remedy)


def details(texts: list[str], notes: list[Note]) -> list[dict[str, Any]]:
    """One detail per text, in order (a text added without a Note gets a bare one)."""
    by = {n.text: n for n in notes}
    return [by.get(t, Note(t)).to_dict() for t in texts]
