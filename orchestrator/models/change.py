"""A change document (变更): ``changes/<CHANGE-NO>.yaml`` amends an approval that may already be
applied. The approval file itself is never edited once applied; compile applies its change
documents on top of it, in the order they were approved.

``zones`` is the system's request after the change (it replaces the approval's zones, so a
change can grow or shrink: 扩容 and 降配/回收 alike); ``services``, when given, replaces the billed
services. The profile's change rules (major change, the provider's deadline) apply to it."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, field_validator

from .approval import (Approver, Materials, Move, ServiceLine, System, ZoneRequest,
                       _approval_no)
from .base import Day, Input, NonEmptyStr
from .catalog import ZoneName


class ChangeDocument(Input):
    change_no: Annotated[str, AfterValidator(_approval_no)]
    changes: NonEmptyStr                 # the approval number it changes
    approved_on: Day
    approvers: list[Approver]
    zones: dict[ZoneName, ZoneRequest]
    services: list[ServiceLine] | None = None
    # A renamed system (its description after the change) and the renames the state and the
    # cloud objects follow (moved records, as in an approval); None: unchanged.
    system: System | None = None
    moved: list[Move] | None = None
    reason: str = ""
    materials: Materials | None = None

    @field_validator("approvers")
    @classmethod
    def _approved(cls, v: list[Approver]) -> list[Approver]:
        if not v:
            raise ValueError("a change needs at least one approver")
        return v

    @field_validator("zones")
    @classmethod
    def _some_zone(cls, v: dict) -> dict:
        if not v:
            raise ValueError("a change states the system's request after it: at least one zone "
                             "(to give up every resource, request an exit: govcloud request-exit)")
        return v
