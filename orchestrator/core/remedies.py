"""What to do about each broken profile rule, in English and Chinese, keyed by the rule's
profile key. Every refusal or flag a profile rule produces ends with this text, so the message
quotes the rule and article, names the field, and says how to put it right. Pure.
"""
from __future__ import annotations

import re

REMEDIES: dict[str, tuple[str, str]] = {
    "max_dengbao_level": ("host the system on a platform for its 等保 level, or correct "
                          "system.dengbao_level if it is wrong", "按等保级别选择相应平台，或更正等保级别"),
    "classified_allowed": ("涉密 systems go to a classified platform, not this one; correct "
                           "system.classified if the system is not 涉密", "涉密系统不得上政务云，请更正或改用涉密平台"),
    "provision_deadline_workdays": ("the provider provisions the approved resources before the "
                                    "deadline: govcloud compile, then govcloud plan and govcloud "
                                    "apply (the apply that completes them records provisioned)",
                                    "云服务商应在时限内完成资源配置"),
    "deploy_deadline_workdays": ("deploy the system before the deadline and record it: govcloud "
                                 "record-event APPROVAL deployment-completed --document DOC, or "
                                 "govcloud confirm-delivery APPROVAL --date D",
                                 "使用单位应在时限内完成部署并登记"),
    "data_clearing": ("follow the profile's exit order (govcloud decommission) and record each step",
                      "按退出流程清除数据、回收资源"),
    "exit_transition_months": ("wait for the transition period (过渡期) to end, then run govcloud "
                               "decommission SYSTEM --resume to wipe and reclaim; nothing is "
                               "wiped before", "过渡期满后方可清除数据、回收资源"),
    "old_system_keep_months": ("keep the old system until the keep period has passed, then request "
                               "its exit", "原系统保留期满后再申请退出"),
    "emergency_approver": ("have the emergency request approved by the named authority and add "
                           "it to approvers", "报请指定部门审定同意，并在审批人中列明"),
    "log_retention_months": ("keep the logs at least this long: prune only entries older than the "
                             "minimum", "日志保存期限不得少于规定时间"),
    "expiry_warning_workdays": ("request an extension in time (govcloud extend APPROVAL --until "
                                "DATE) or let the term end: govcloud expire removes its resources "
                                "the day after the end", "到期前申请延期，或到期回收资源"),
    "exit_process": ("record the missing exit steps in the profile's order first (request-exit, "
                     "approve-exit, decommission), or pass --override-exit-order REASON",
                     "按退出流程依次登记所缺步骤"),
    "backup_retention_months": ("keep the backup until its destroy date (govcloud backup list)",
                                "备份保存期满后方可销毁"),
    "annual_request_deadline": ("the department files next year's resource requests into the "
                                "annual purchase plan before the deadline; a system outside it "
                                "sets in_annual_plan: false in its approval file",
                                "在年度申报截止日前提交下一年度政务云资源使用申请"),
    "go_live_gates": ("record the required test and assessment results first (govcloud "
                      "record-event APPROVAL KIND --document DOC)", "先登记所需测试、检测结果"),
    "required_materials": ("add the missing document under materials in the approval file",
                           "在审批文件的 materials 中补齐申请材料"),
    "window_max_months": ("shorten term.end to the latest end allowed, or file a new application "
                          "for the rest", "将临时扩容期限缩短至规定期限内，或另行申请"),
    "window_extension_notice_workdays": ("request the extension at least the notice period before "
                                         "the end: govcloud extend APPROVAL --until DATE by the "
                                         "last day to request", "应在规定时间前提出延期申请"),
    "window_extension_max_months": ("ask for a shorter extension (--until on or before the latest "
                                    "end allowed)", "缩短延期期限"),
    "emergency_max_months": ("shorten term.end to the latest end allowed, or apply for permanent "
                             "resources", "将临时资源使用期限缩短至规定期限内，或按程序正式申请"),
    "emergency_extension_notice_workdays": ("request the extension at least the notice period "
                                            "before the end: govcloud extend APPROVAL --until DATE "
                                            "by the last day to request", "应在规定时间前提出延期申请"),
    "emergency_extension_max_months": ("ask for a shorter extension (--until on or before the "
                                       "latest end allowed)", "缩短延期期限"),
    "major_change": ("file a full new application (a new approval) instead of a change, or split "
                     "the change below the threshold", "按照上云申请工作流程重新申请"),
    "platform_change_notice_workdays": ("move the change later or notify the departments earlier "
                                        "(at least the notice period ahead)", "提前通知使用单位，或推迟调整"),
    "platform_change_review": ("file the change plan, and for a 重大调整 the assessment and the "
                               "bureau's approval, before the work (--plan, --assessment, "
                               "--approval, --approved-on)", "先报送调整方案；重大调整须评估并经审核同意"),
    "emergency_configure_hours": ("record the 报备 to the bureau before the provider configures: "
                                  "govcloud record-event APPROVAL emergency-filed --at TIME "
                                  "--document DOC; a need not to be configured within the hours "
                                  "takes the ordinary application", "先向大数据主管部门报备，再配置"),
    "emergency_backfill_workdays": ("file the formal resource application (增补申请) within the "
                                    "deadline after the project approval and record both dates in "
                                    "the approval file (term.project_approved_on, term.backfilled_on)",
                                    "在时限内补办申请手续"),
    "catalog_revision_months": ("the bureau revises the service catalog: update catalog/services.yaml "
                                "and its revised_on date", "按期修订服务目录"),
    "change_deadline_workdays": ("the provider applies the change before the deadline: govcloud "
                                 "compile, then govcloud plan and govcloud apply (the apply records "
                                 "changed)", "云服务商应在时限内完成变更"),
    "reclaim_deadline_workdays": ("the provider reclaims the resources before the deadline: govcloud "
                                  "decommission SYSTEM (it records reclaimed and terminated)",
                                  "在时限内回收资源"),
    "expansion_same_provider": ("put the expansion in a zone of the cloud target the system already "
                                "uses", "扩容原则上由同一云服务商提供"),
}


# `status` items that no profile rule of their own covers, keyed by the deadline or flag key.
STATUS_REMEDIES: dict[str, tuple[str, str]] = {
    "provision": REMEDIES["provision_deadline_workdays"],
    "end": ("the department requests an extension in time (govcloud extend APPROVAL --until "
            "DATE), or the term ends and govcloud expire removes its resources the day after",
            "到期前申请延期，或到期由 govcloud expire 回收资源"),
    "not-expired": ("run govcloud expire: it removes the ended term's resources",
                    "执行 govcloud expire 回收到期资源"),
    "late": ("nothing left to do on it: it was done after its deadline, which stays on record "
             "(the bureau sees it)", "已逾期完成，记录在案"),
    "out-of-plan": ("a special or urgent need goes to the city government as emergency resources; "
                    "otherwise put the system into next year's annual plan",
                    "特殊或紧急需求报市政府按应急资源处理，其余纳入下一年度计划"),
    "profile": ("check which regulation is in force and change the workspace's profile if it "
                "changed (govcloud profile list, profile show CODE)", "核对现行规定，必要时更换城市规则配置"),
    "calendar": ("add the year's working-day calendar: govcloud calendar import NOTICE.txt, or "
                 "govcloud calendar provisional YEAR", "补充该年度工作日历"),
}

# How a lifecycle event gets recorded, for a duty closed by it (default: record-event).
RECORD_WITH = {
    "provisioned": "govcloud apply", "changed": "govcloud apply",
    "delivery-confirmed": "govcloud confirm-delivery APPROVAL --date D",
    "extended": "govcloud extend APPROVAL --until DATE",
    "exit-requested": "govcloud request-exit APPROVAL --date D --document NO",
    "exit-approved": "govcloud approve-exit APPROVAL --date D --document NO",
    **{k: "govcloud decommission SYSTEM" for k in ("backed-up", "offline", "held-until", "wiped",
                                                     "verified", "reclaimed", "terminated")},
}


def _named(text: str, approval: str, system: str) -> str:
    return re.sub(r"\bSYSTEM\b", system, re.sub(r"\bAPPROVAL\b", approval, text))


def status_remedy(*keys: str, approval: str = "APPROVAL", system: str = "SYSTEM") -> str:
    """What to do about a `status` deadline, flag or warning, in English and Chinese, with the
    approval and system named: the remedy of the first of ``keys`` (rule keys, then the item's own
    key) that has one; "" when none has."""
    for key in keys:
        pair = REMEDIES.get(key) or STATUS_REMEDIES.get(key)
        if pair is not None:
            return f"{_named(pair[0], approval, system)}; 处理：{pair[1]}"
    return ""


def record_remedy(kinds: list[str], approval: str, system: str) -> str:
    """A duty closed by recording ``kinds``: the commands that record them."""
    how = [_named(RECORD_WITH.get(k, f"govcloud record-event APPROVAL {k} --document DOC"),
                  approval, system) for k in kinds]
    return (f"do it and record {' and '.join(kinds)} when done: {'; '.join(how)}; "
            f"处理：完成后登记")


def what_to_do(rule: str) -> str:
    en, zh = REMEDIES[rule]
    return f"What to do: {en}; 处理：{zh}"


def with_remedy(message: str, rule: str | None) -> str:
    """``message`` ending with the rule's remedy (once), or unchanged for a rule without one."""
    if rule is None or rule not in REMEDIES or "What to do:" in message:
        return message
    return f"{message}. {what_to_do(rule)}"
