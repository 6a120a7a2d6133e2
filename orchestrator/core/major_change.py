"""The major-change test (重大变更), one exact comparison for approvals with ``change_of`` and for
change documents alike. Pure.

Readings of the articles (the seeds are the authority):

- 亳州 第二十二条: 「需要调整（扩容、降配或回收）云资源的……涉及重大变更的（云资源变更超过已有云资源50%或者
  云服务费增长超过50%）」. The resource half says 变更 right after listing 扩容、降配或回收, so it counts
  a change either way: growth and reduction are both measured against 已有云资源 (the request just
  before the change), per measure of the profile (vCPU, memory, storage). The fee half says 增长:
  only a fee growth counts; a cheaper system is never a major change by its fee.
- 四川 第十六条: 「涉及重大变更，需按照重新申请云资源工作流程办理」 defines no threshold; the profile's
  numbers are an operator setting (``setting: true``), applied with the same reading as 亳州.
- 超过 is exclusive: exactly +50 % (or −50 %) is not a major change, and the test is exact
  (fractions, never a rounded percent: +50.025 % is over). Growth from nothing (已有 0) is over any
  percentage of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ..models.profile import satisfies


@dataclass(frozen=True)
class Measured:
    """One measure (or the fee) before and after a change that crossed the threshold."""
    key: str                   # "vcpus", "ram_gb", "disk_gb", "instances" or "fee"
    before: Decimal | int
    after: Decimal | int

    @property
    def ratio(self) -> Fraction | None:
        """The exact change in percent of ``before`` (absolute value); None from nothing."""
        if self.before == 0:
            return None
        return abs(Fraction(self.after) - Fraction(self.before)) * 100 / Fraction(self.before)

    @property
    def way(self) -> str:
        return "grows" if self.after > self.before else "reduces"

    @property
    def percent(self) -> str:
        """The percent for messages: exact when it has at most 3 decimals, else marked ≈."""
        r = self.ratio
        if r is None:
            return "from nothing"
        d = Decimal(r.numerator) / Decimal(r.denominator)
        q = d.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        return f"{q.normalize():f}%" if Fraction(q) == r else f"≈{q:f}%"


def over(before: Decimal | int, after: Decimal | int, limit_pct: int, word: str) -> bool:
    """Is ``after`` changed from ``before`` by ``word`` (超过) ``limit_pct`` percent? Exact."""
    if after == before:
        return False
    if before == 0:
        return True
    ratio = abs(Fraction(after) - Fraction(before)) * 100 / Fraction(before)
    return satisfies(ratio, Fraction(limit_pct), word)


def resource_change(before: dict[str, int], after: dict[str, int], measures: list[str],
                    limit_pct: int, word: str) -> Measured | None:
    """The first measure changed (either way) by more than the limit, or None."""
    for k in measures:
        if over(before[k], after[k], limit_pct, word):
            return Measured(k, before[k], after[k])
    return None


def fee_growth(before: Decimal, after: Decimal, limit_pct: int, word: str) -> Measured | None:
    """The monthly fee grown by more than the limit (a reduction never counts: 「增长」)."""
    if after > before and over(before, after, limit_pct, word):
        return Measured("fee", before, after)
    return None
