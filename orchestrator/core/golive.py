"""Go-live gates: an action (confirm-delivery, went-live, cutover) refused until the tests and
assessments its article asks for are recorded as lifecycle events. Pure.

巴中 第二十条 (割接 after the test reports are 审核同意), 大同 第十四条 (上线 after the security test),
重庆 第二十一条 (开通运行 after the trial test passes), 亳州 第二十、二十一条 (正式上线 after the trial
run and the security check). Which action each city gates is data: ``go_live_gates`` in the
profile.
"""
from __future__ import annotations

from datetime import date

from ..errors import GovcloudError, Issue
from ..models.approval import Approval
from ..models.profile import Profile

# What each gated event is, for messages (中文, English).
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "trial-passed": ("试运行（试用）测试通过", "trial test passed"),
    "security-tested": ("安全测试（入云安全检测）通过", "security test passed"),
    "test-report-approved": ("测试报告和安全风险评估报告审核同意", "test reports approved"),
    "tests-completed": ("压力测试、内部测试和安全风险预评估完成", "tests completed"),
    "tests-filed": ("测试情况和等保备案证明报备", "test record and 等保 certificate filed"),
    "cutover": ("系统割接", "cut-over"),
    "went-live": ("正式上线", "went live"),
    "deployment-completed": ("系统部署完成", "deployment completed"),
    "configuration-completed": ("云资源配置完成（确认时间）", "configuration completed"),
    "emergency-filed": ("紧急配置报备", "emergency filing (报备)"),
    "contract-signed": ("服务合同（协议）签订", "service contract signed"),
    "contract-filed": ("服务合同（协议）备案", "service contract filed"),
    "project-approval-filed": ("系统建设批复备案", "project approval filed"),
    "confirm-delivery": ("交付确认", "delivery confirmation"),
}


def gate_for(profile: Profile, approval: Approval, action: str) -> list[str]:
    """The event kinds ``action`` needs first for this approval ([] when ungated)."""
    rule = profile.rules.go_live_gates
    if rule is None:
        return []
    need: list[str] = []
    for g in rule.value:
        if g.action == action and (not g.migrated_only or approval.migration is not None):
            need.extend(k for k in g.requires if k not in need)
    return need


def check_gate(profile: Profile, approval: Approval, action: str, recorded: dict[str, date],
               on: date) -> None:
    """Refuse ``action`` on ``on`` unless every required event was recorded on or before it.
    ``recorded``: event kind -> its first date."""
    need = gate_for(profile, approval, action)
    missing = [k for k in need if k not in recorded or recorded[k] > on]
    if not missing:
        return
    rule = profile.rules.go_live_gates
    law = profile.cite(rule)
    act_zh, act_en = EVENT_NAMES.get(action, (action, action))
    names = "、".join(EVENT_NAMES.get(k, (k, k))[0] for k in missing)
    names_en = ", ".join(EVENT_NAMES.get(k, (k, k))[1] for k in missing)
    late = [k for k in missing if k in recorded]
    when = (f" ({', '.join(f'{k} is recorded on {recorded[k]}, after {on}' for k in late)})"
            if late else "")
    raise GovcloudError(
        f"{approval.approval_no}: {act_en} ({act_zh}) refused: {names_en} not recorded yet{when} "
        f"({law}); {names}后方可{act_zh}",
        [Issue("events", f"missing {', '.join(missing)} ({law}); {names}后方可{act_zh}",
               rule="go_live_gates")],
        fix="record the result with its document first: "
            + "; ".join(f"govcloud record-event {approval.approval_no} {k} --document DOC "
                        f"[--date D]" for k in missing))


def gate_flags(profile: Profile, approval: Approval, recorded: dict[str, date]) -> list[str]:
    """Status flags: a gated step that happened without its prerequisites (巴中 第二十条: the
    approval's ``migration.cutover_on`` written without the test reports approved first)."""
    out: list[str] = []
    m = approval.migration
    cut = recorded.get("cutover") or (m.cutover_on if m is not None else None)
    if cut is not None:
        missing = [k for k in gate_for(profile, approval, "cutover")
                   if k not in recorded or recorded[k] > cut]
        if missing:
            out.append(f"cut-over on {cut} without {', '.join(missing)} recorded before it "
                       f"({profile.cite(profile.rules.go_live_gates)})")
    return out
