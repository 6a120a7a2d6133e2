from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _slug(v: str) -> str:
    if not SLUG_RE.match(v):
        raise ValueError(
            f"{v!r} is not a valid code: use lower-case letters, digits and single hyphens, "
            "starting with a letter (e.g. 'edu-portal')")
    if len(v) > 40:
        raise ValueError(f"{v!r} is longer than 40 characters")
    return v


Slug = Annotated[str, AfterValidator(_slug)]


MAX_MONEY = Decimal("100000000.00")   # 1亿 yuan a month for one unit: nothing costs more


def _money(v: Decimal) -> Decimal:
    if not v.is_finite():
        raise ValueError(f"{v} is not a price")
    if v < 0:
        raise ValueError("a price cannot be negative")
    if v > MAX_MONEY:
        raise ValueError(f"{v:.6g} is above the largest price a catalog item may have "
                         f"({MAX_MONEY} yuan a month)")
    if v != v.quantize(Decimal("0.01")):
        raise ValueError(f"{v} has more than 2 decimal places (yuan and fen only)")
    return v.quantize(Decimal("0.01"))


Money = Annotated[Decimal, AfterValidator(_money)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
