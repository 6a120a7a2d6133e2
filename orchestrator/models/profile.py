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


class Profile(Frozen):
    code: NonEmptyStr
    name_zh: NonEmptyStr
    regulation: NonEmptyStr
    status: Literal["draft", "trial", "interim", "in_force", "expired"]
    effective_from: date | None = None
    expires_on: date | None = None
    rules: ProfileRules
    notes: list[str] = Field(default_factory=list)
