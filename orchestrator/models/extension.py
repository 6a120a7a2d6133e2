"""Recorded extensions of a temporary window or emergency term: ``extensions/<APPROVAL_NO>.yaml``.

Written by ``govcloud extend`` after the profile accepted the request, reviewed and committed in
git like an approval, and read by ``govcloud compile``: the approval's effective end (its last
day of service, included) is the ``until`` of its last extension, so the compiled specs (``expires_on``, quota windows) move with
it and stay a deterministic function of the files::

    approval_no: BZ-2026-0040
    extensions:
      - {previous_end: 2026-07-19, until: 2026-08-19, requested_on: 2026-07-08,
         recorded_by: ops@host, recorded_at: "2026-07-08T10:00:00+08:00"}
"""
from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from .base import Day, Input, NonEmptyStr


class Extension(Input):
    previous_end: Day
    until: Day
    requested_on: Day
    recorded_by: str = ""
    recorded_at: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _later(self) -> "Extension":
        if self.until <= self.previous_end:
            raise ValueError(f"until: {self.until} is not after previous_end {self.previous_end}")
        return self


class ExtensionFile(Input):
    approval_no: NonEmptyStr
    extensions: list[Extension] = Field(min_length=1)

    @model_validator(mode="after")
    def _chained(self) -> "ExtensionFile":
        for i in range(1, len(self.extensions)):
            prev, cur = self.extensions[i - 1], self.extensions[i]
            if cur.previous_end != prev.until:
                raise ValueError(f"extensions[{i}].previous_end: {cur.previous_end} does not "
                                 f"continue extensions[{i - 1}].until {prev.until}")
        return self

    @property
    def until(self) -> date:
        return self.extensions[-1].until
