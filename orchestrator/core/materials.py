"""Required application materials (申请材料) per profile. Pure.

巴中 第十五、十六条, 大同 第十一条, 亳州 第十七条, 四川 第十二条: which documents an application must
come with depends on the city and on whether the system already exists (migrated, 已建) or is new.
"""
from __future__ import annotations

from ..errors import Issue
from ..models.approval import MATERIALS, Approval, EmergencyTerm
from ..models.profile import Profile


def required(profile: Profile, approval: Approval) -> list[str]:
    rule = profile.rules.required_materials
    if rule is None or approval.change_of:
        return []
    v = rule.value
    if isinstance(approval.term, EmergencyTerm) and v.emergency is not None:
        return list(v.emergency)
    return list(v.existing if approval.migration is not None else v.new)


def check_materials(profile: Profile, approval: Approval) -> list[Issue]:
    rule = profile.rules.required_materials
    have = approval.materials
    out: list[Issue] = []
    which = "an existing (migrated, 已建) system" if approval.migration is not None else "a new system"
    if isinstance(approval.term, EmergencyTerm) and rule is not None and rule.value.emergency is not None:
        which = "emergency resources"
    for key in required(profile, approval):
        value = getattr(have, key, None) if have is not None else None
        if value is None or not str(value).strip():
            zh, en = MATERIALS[key]
            out.append(Issue(f"materials.{key}",
                f"the application for {which} must include the {en} ({zh}): missing "
                f"({profile.cite(rule)}); 申请材料缺少{zh}. Add materials.{key}: <document number, "
                f"title or file>", rule="required_materials"))
    return out
