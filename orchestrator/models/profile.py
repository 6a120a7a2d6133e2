"""Policy profiles: one per regulation (city). Rules are data with the article they come from."""
from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

from pydantic import Field

from .base import Frozen, NonEmptyStr

T = TypeVar("T")


class Rule(Frozen, Generic[T]):
    value: T
    article: NonEmptyStr  # e.g. "亳州市政务云管理办法 第三、四条"
    # True when the regulation leaves the point open and the value is a profile default.
    setting: bool = False
    note: str = ""


class ProfileRules(Frozen):
    max_dengbao_level: Rule[int]
    classified_allowed: Rule[bool]
    provision_deadline_workdays: Rule[int] | None = None
    # Exit (退出): what decommissioning must do. value: the requirement in the regulation's words.
    data_clearing: Rule[str] | None = None
    # Months between taking a system offline and wiping/reclaiming it (巴中: 3-month 过渡期).
    exit_transition_months: Rule[int] | None = None
    # Working days from the exit approval to reclaim (大同: 2).
    reclaim_deadline_workdays: Rule[int] | None = None


class Profile(Frozen):
    code: NonEmptyStr
    name_zh: NonEmptyStr
    regulation: NonEmptyStr
    status: Literal["draft", "trial", "interim", "in_force", "expired"]
    effective_from: date | None = None
    expires_on: date | None = None
    rules: ProfileRules
    notes: list[str] = Field(default_factory=list)
