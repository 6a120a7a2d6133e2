"""The provider's platform changes (优化、升级、调整) beyond the notice: the change plan (调整方案)
filed for review, and for a 重大调整 the third-party or expert assessment and the bureau's
approval before the work (大同 第十八条, 亳州 第二十八条). Pure."""
from __future__ import annotations

from datetime import date

from ..errors import GovcloudError, Issue
from ..models.profile import Profile


def check_platform_documents(profile: Profile, change_on: date, major: bool, plan: str | None,
                             assessment: str | None, approval: str | None,
                             approved_on: date | None) -> None:
    rule = profile.rules.platform_change_review
    if rule is None:
        return
    law = profile.cite(rule)
    issues: list[Issue] = []
    if rule.value.plan and not (plan or "").strip():
        issues.append(Issue("--plan", f"the change plan (调整方案) filed with the bureau is not "
                            f"named ({law}); 调整前须制定调整方案并报送审核", rule="platform_change_review"))
    if major:
        if not (assessment or "").strip():
            issues.append(Issue("--assessment", f"a major change (重大调整) needs the third-party or "
                                f"expert assessment of its plan ({law}); 涉及重大调整的，须委托第三方"
                                f"机构或组织专家进行评估", rule="platform_change_review"))
        if not (approval or "").strip() or approved_on is None:
            issues.append(Issue("--approval" if not (approval or "").strip() else "--approved-on",
                                f"a major change needs the bureau's approval (document and date) "
                                f"before the work ({law}); 报主管部门审核同意后方可实施",
                                rule="platform_change_review"))
        elif approved_on > change_on:
            issues.append(Issue("--approved-on", f"approved on {approved_on}, after the change on "
                                f"{change_on}: the work starts only once approved ({law}); "
                                f"审核通过后实施", rule="platform_change_review"))
    if issues:
        raise GovcloudError(f"platform change on {change_on} refused: "
                              + "; ".join(i.path for i in issues) + " missing or late", issues,
                              fix="name the documents: --plan DOC"
                                  + (" --assessment REPORT --approval DOC --approved-on DATE"
                                     if major else ""))
