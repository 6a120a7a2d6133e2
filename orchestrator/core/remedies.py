"""What to do about each broken profile rule, in English and Chinese, keyed by the rule's
profile key. Every refusal or flag a profile rule produces ends with this text, so the message
quotes the rule and article, names the field, and says how to put it right. Pure.
"""
from __future__ import annotations

REMEDIES: dict[str, tuple[str, str]] = {
    "max_dengbao_level": ("host the system on a platform for its 等保 level, or correct "
                          "system.dengbao_level if it is wrong", "按等保级别选择相应平台，或更正等保级别"),
    "classified_allowed": ("涉密 systems go to a classified platform, not this one; correct "
                           "system.classified if the system is not 涉密", "涉密系统不得上政务云，请更正或改用涉密平台"),
    "provision_deadline_workdays": ("the provider provisions the resources (govcloud apply) before "
                                    "the deadline", "云服务商应在时限内完成资源配置"),
    "deploy_deadline_workdays": ("deploy the system and record it (govcloud confirm-delivery / "
                                 "record-event deployment-completed) before the deadline",
                                 "使用单位应在时限内完成部署并登记"),
    "data_clearing": ("follow the profile's exit order (govcloud decommission) and record each step",
                      "按退出流程清除数据、回收资源"),
    "exit_transition_months": ("wait for the transition period to end before wiping and reclaiming",
                               "过渡期满后方可清除数据、回收资源"),
    "old_system_keep_months": ("keep the old system until the keep period has passed, then request "
                               "its exit", "原系统保留期满后再申请退出"),
    "emergency_approver": ("have the emergency request approved by the named authority and add "
                           "it to approvers", "报请指定部门审定同意，并在审批人中列明"),
    "log_retention_months": ("keep the logs at least this long: prune only entries older than the "
                             "minimum", "日志保存期限不得少于规定时间"),
    "expiry_warning_workdays": ("request an extension (govcloud extend) or let the term end; the "
                                "resources are removed at its end", "到期前申请延期，或到期回收资源"),
    "exit_process": ("record the missing exit steps in the profile's order first (request-exit, "
                     "approve-exit, decommission), or pass --override-exit-order REASON",
                     "按退出流程依次登记所缺步骤"),
    "backup_retention_months": ("keep the backup until its destroy date (govcloud backup list)",
                                "备份保存期满后方可销毁"),
    "annual_request_deadline": ("file the year's request before the annual deadline, or mark it "
                                "out of plan", "在年度申报截止日前提交需求"),
    "go_live_gates": ("record the required test and assessment results first (govcloud "
                      "record-event APPROVAL KIND --document DOC)", "先登记所需测试、检测结果"),
    "required_materials": ("add the missing document under materials in the approval file",
                           "在审批文件的 materials 中补齐申请材料"),
    "window_max_months": ("shorten term.end to the latest end allowed, or file a new application "
                          "for the rest", "将临时扩容期限缩短至规定期限内，或另行申请"),
    "window_extension_notice_workdays": ("request extensions earlier: at least the notice period "
                                         "before the end", "应在规定时间前提出延期申请"),
    "window_extension_max_months": ("ask for a shorter extension (--until on or before the latest "
                                    "end allowed)", "缩短延期期限"),
    "emergency_max_months": ("shorten term.end to the latest end allowed, or apply for permanent "
                             "resources", "将临时资源使用期限缩短至规定期限内，或按程序正式申请"),
    "emergency_extension_notice_workdays": ("request the extension at least the notice period "
                                            "before the end", "应在规定时间前提出延期申请"),
    "emergency_extension_max_months": ("ask for a shorter extension (--until on or before the "
                                       "latest end allowed)", "缩短延期期限"),
    "major_change": ("file a full new application (a new approval) instead of a change, or split "
                     "the change below the threshold", "按照上云申请工作流程重新申请"),
    "platform_change_notice_workdays": ("move the change later or notify the departments earlier "
                                        "(at least the notice period ahead)", "提前通知使用单位，或推迟调整"),
    "platform_change_review": ("file the change plan, and for a 重大调整 the assessment and the "
                               "bureau's approval, before the work (--plan, --assessment, "
                               "--approval, --approved-on)", "先报送调整方案；重大调整须评估并经审核同意"),
    "emergency_configure_hours": ("record the 报备 to the bureau (record-event emergency-filed --at) "
                                  "before configuring", "先向大数据主管部门报备，再配置"),
    "emergency_backfill_workdays": ("backfill the formal application (term.backfilled_on) within "
                                    "the deadline", "在时限内补办申请手续"),
    "catalog_revision_months": ("the bureau revises the service catalog; update catalog/services.yaml "
                                "and its revision date", "按期修订服务目录"),
    "change_deadline_workdays": ("the provider applies the change (govcloud apply) before the "
                                 "deadline", "云服务商应在时限内完成变更"),
    "reclaim_deadline_workdays": ("reclaim the resources (govcloud decommission) before the deadline",
                                  "在时限内回收资源"),
    "expansion_same_provider": ("put the expansion in a zone of the cloud target the system already "
                                "uses", "扩容原则上由同一云服务商提供"),
}


def what_to_do(rule: str) -> str:
    en, zh = REMEDIES[rule]
    return f"What to do: {en}; 处理：{zh}"


def with_remedy(message: str, rule: str | None) -> str:
    """``message`` ending with the rule's remedy (once), or unchanged for a rule without one."""
    if rule is None or rule not in REMEDIES or "What to do:" in message:
        return message
    return f"{message}. {what_to_do(rule)}"
