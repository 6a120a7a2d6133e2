"""A city's policy profile applied to approvals, extensions, notices and log retention. Pure.

Every broken rule is a :class:`Finding` whose message quotes the rule and its article in English
and Chinese, and says when the value is a profile setting rather than the regulation's own
number. ``check_all`` adds these findings to the cross-document checks of
:mod:`orchestrator.core.validate`; the other ``check_*`` functions back commands (``extend``,
``platform-change``, ``request-exit``) and raise :class:`PolicyViolation`.

Dates: a term's ``end`` is its last day of service, included (approval forms write periods
inclusively: 「2026年7月1日至9月30日」 is ``end: 2026-09-30``; `govcloud expire` removes the
resources the next day). "N months from D" follows 民法典 第二百零一、二百零二条
(:func:`~orchestrator.core.workdays.add_months`: the start day is not counted, the period ends on
the corresponding day of the last month, or that month's last day), so a window of at most N
months may have ``add_months(start, N)`` as its last day. Notice "n working days before the
end" counts to the last day with resources (:meth:`WorkCalendar.latest_day_to_act`). Working days come from a
:class:`~orchestrator.core.workdays.WorkCalendar` passed in; nothing here reads files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from ..errors import GovcloudError, InputError, Issue
from ..models.approval import Approval, EmergencyTerm, PermanentTerm, WindowTerm
from ..models.catalog import Catalog
from ..models.config import WorkspaceConfig
from ..models.profile import Profile, Rule, satisfies
from . import major_change
from .pricing import price_approval, total
from .workdays import WorkCalendar, add_months


@dataclass(frozen=True)
class Finding:
    rule: str           # profile key, e.g. "window_max_months"
    path: str           # field path in the input ("term.end"), or "" for a command argument
    en: str
    zh: str
    citation: str       # Profile.cite(rule): regulation name + article (+ setting marker)
    severity: str = "error"   # "error" refuses; "warning" is reported and flagged

    @property
    def message(self) -> str:
        return f"{self.en} ({self.citation}); {self.zh}"

    def issue(self) -> Issue:
        return Issue(self.path, self.message, rule=self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "path": self.path, "message": self.message, "en": self.en,
                "zh": self.zh, "citation": self.citation, "severity": self.severity}


class PolicyViolation(GovcloudError):
    """A request refused by the profile's rules (exit 1, nothing changed)."""

    def __init__(self, summary: str, findings: list[Finding], fix: str | None = None):
        super().__init__(summary, [f.issue() for f in findings], fix)
        self.findings = findings


def _rule(profile: Profile, key: str) -> Rule | None:
    return getattr(profile.rules, key)


def _finding(profile: Profile, key: str, path: str, en: str, zh: str,
             severity: str = "error") -> Finding:
    return Finding(key, path, en, zh, profile.cite(_rule(profile, key)), severity)


# --- lengths ---------------------------------------------------------------------------------
def describe_length(start: date, end: date) -> str:
    """"3 months", "4 months 2 days", "20 days" (calendar months, 民法典 第二百零二条)."""
    months = 0
    while add_months(start, months + 1) <= end:
        months += 1
    days = (end - add_months(start, months)).days
    parts = []
    if months:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    if days or not months:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    return " ".join(parts)


def _zh_length(start: date, end: date) -> str:
    months = 0
    while add_months(start, months + 1) <= end:
        months += 1
    days = (end - add_months(start, months)).days
    return (f"{months}个月" if months else "") + (f"{days}天" if days or not months else "")


def max_end(start: date, months: int) -> date:
    """Latest allowed last day of a term of at most ``months`` months from ``start``
    (民法典 第二百零一、二百零二条, :func:`add_months`)."""
    return add_months(start, months)


# --- terms: windows and emergency resources -------------------------------------------------
def term_findings(a: Approval, profile: Profile) -> list[Finding]:
    out: list[Finding] = []
    t = a.term
    if isinstance(t, WindowTerm):
        r = profile.rules.window_max_months
        if r is not None and not satisfies(t.end, max_end(t.start, r.value), r.word or "不超过"):
            out.append(_finding(profile, "window_max_months", "term.end",
                f"temporary window of {describe_length(t.start, t.end)} ({t.start} to {t.end}) "
                f"exceeds {r.value} months: it may end on {max_end(t.start, r.value)} at the latest",
                f"临时扩容时间段为{_zh_length(t.start, t.end)}，超过{r.value}个月（原则上不超过{r.value}个月）"))
    elif isinstance(t, EmergencyTerm):
        r = profile.rules.emergency_max_months
        if r is not None and not satisfies(t.end, max_end(t.start, r.value), r.word or "不超过"):
            out.append(_finding(profile, "emergency_max_months", "term.end",
                f"emergency resources for {describe_length(t.start, t.end)} ({t.start} to {t.end}) "
                f"exceed {r.value} months from their configuration: they may last until "
                f"{max_end(t.start, r.value)} at the latest",
                f"临时资源使用期限{_zh_length(t.start, t.end)}，自资源配置之日起不得超过{r.value}个月"))
        r = profile.rules.emergency_approver
        if r is not None and not any(r.value in ap.org for ap in a.approvers):
            out.append(_finding(profile, "emergency_approver", "approvers",
                f"emergency resources need the approval of {r.value}; no approver's org is "
                f"{r.value} (approvers: {', '.join(ap.org for ap in a.approvers)})",
                f"特殊或紧急的政务云资源需求须报{r.value}审定同意"))
    return out


# --- changes: major change and same provider ------------------------------------------------
MEASURE_NAMES = {"vcpus": ("vCPUs", "vCPU"), "ram_gb": ("memory GB", "内存"),
                 "disk_gb": ("storage GB", "存储"), "instances": ("servers", "云主机数量")}


def measures(a: Approval, catalog: Catalog) -> dict[str, int]:
    """Resource totals of one approval, from the catalog (assumes it was validated)."""
    items = catalog.by_code()
    m = {"vcpus": 0, "ram_gb": 0, "disk_gb": 0, "instances": 0}
    for req in a.zones.values():
        for s in req.servers:
            f = items[s.flavor].provisions
            m["vcpus"] += f.vcpus * s.count
            m["ram_gb"] += f.ram_gb * s.count
            m["instances"] += s.count
            m["disk_gb"] += (s.system_disk.gb + sum(d.gb for d in s.data_disks)) * s.count
        m["disk_gb"] += sum(v.gb for v in req.volumes)
    return m


def _existing(change: Approval, approvals: Iterable[Approval]) -> list[Approval]:
    """What the system already holds before ``change``: its permanent approvals approved earlier
    (earlier changes included); temporary windows and emergency terms are not 已有云资源."""
    key = (change.approved_on, change.approval_no)
    return [a for a in approvals if a.stack == change.stack and a.approval_no != change.approval_no
            and isinstance(a.term, PermanentTerm) and (a.approved_on, a.approval_no) < key]


def change_findings(change: Approval, approvals: list[Approval], catalog: Catalog,
                    profile: Profile, config: WorkspaceConfig) -> list[Finding]:
    """Rules for a change approval (``change_of`` set): major change, same provider."""
    out: list[Finding] = []
    if change.change_of is None or not isinstance(change.term, PermanentTerm):
        return out
    existing = _existing(change, approvals)
    if not existing:
        return out  # reported by check_all as a broken reference
    r = profile.rules.major_change
    if r is not None:
        # a change approval only adds (reductions are change documents: core/changes.py)
        mc = r.value
        word = r.word or "超过"
        before = {k: sum(measures(a, catalog)[k] for a in existing) for k in mc.measures}
        added = measures(change, catalog)
        hit = major_change.resource_change(before, {k: before[k] + added[k] for k in mc.measures},
                                           mc.measures, mc.resources_pct, word)
        if hit is not None:
            en_name, zh_name = MEASURE_NAMES[hit.key]
            growth = "from nothing" if hit.ratio is None else f"by {hit.percent}"
            out.append(_finding(profile, "major_change", "zones",
                f"change {change.approval_no} grows the system's {en_name} {growth} "
                f"({hit.before} -> {hit.after}): a change of more than "
                f"{mc.resources_pct}% of the existing resources is a major change (重大变更) "
                f"and needs a full new application, not a change approval",
                f"{zh_name}变更{'' if hit.ratio is None else hit.percent}，超过已有云资源{mc.resources_pct}%，"
                f"属于重大变更，应按照上云申请工作流程办理"))
        fee_before = sum((total(price_approval(a, catalog)) for a in existing), Decimal("0.00"))
        fee_added = total(price_approval(change, catalog))
        hit = major_change.fee_growth(fee_before, fee_before + fee_added, mc.fee_pct, word)
        if hit is not None:
            out.append(_finding(profile, "major_change", "zones",
                f"change {change.approval_no} raises the monthly fee by "
                f"{'an amount on top of nothing' if hit.ratio is None else hit.percent} "
                f"(¥{fee_before} -> ¥{fee_before + fee_added}, priced from the catalog): more than "
                f"{mc.fee_pct}% is a major change (重大变更) and needs a full new application",
                f"云服务费增长{'' if hit.ratio is None else hit.percent}，超过{mc.fee_pct}%，属于重大变更，"
                f"应按照上云申请工作流程办理"))
    r = profile.rules.expansion_same_provider
    if r is not None and r.value:
        have = {config.zones[z].target for a in existing for z in a.zones if z in config.zones}
        for z in sorted(change.zones):
            zc = config.zones.get(z)
            if zc is not None and zc.target not in have:
                out.append(_finding(profile, "expansion_same_provider", f"zones.{z}",
                    f"expansion {change.approval_no} of {change.stack} would use cloud target "
                    f"{zc.target!r} (zone {z}), but the system's existing resources are with "
                    f"{', '.join(sorted(have))}: an expansion stays with the same provider",
                    "同一系统的资源扩容原则上由同一云服务商提供"))
    return out


# --- migration: the old system is kept after the cut-over -----------------------------------
def keep_until(profile: Profile, cutover_on: date) -> date | None:
    r = profile.rules.old_system_keep_months
    return None if r is None else add_months(cutover_on, r.value)


def migration_findings(approvals: dict[str, Approval], profile: Profile,
                       today: date) -> dict[str, list[Finding]]:
    """An old system's approval removed while the new one's cut-over is younger than the keep
    period (or has not happened): reported on the file of the new system."""
    r = profile.rules.old_system_keep_months
    out: dict[str, list[Finding]] = {}
    if r is None:
        return out
    present = {a.approval_no for a in approvals.values()}
    for f, a in sorted(approvals.items()):
        m = a.migration
        if m is None or m.from_approval is None or m.from_approval in present:
            continue
        if m.cutover_on is None:
            out.setdefault(f, []).append(_finding(profile, "old_system_keep_months",
                "migration.from_approval",
                f"the old system's approval {m.from_approval} is gone but {a.approval_no} has not "
                f"been cut over yet (migration.cutover_on is empty): the old system must be kept "
                f"at least {r.value} months after the cut-over",
                f"原政务信息系统应在割接后至少保留{r.value}个月"))
        elif today < keep_until(profile, m.cutover_on):
            out.setdefault(f, []).append(_finding(profile, "old_system_keep_months",
                "migration.from_approval",
                f"the old system's approval {m.from_approval} is gone {describe_length(m.cutover_on, today)} "
                f"after the cut-over on {m.cutover_on}: it must be kept at least {r.value} months, "
                f"until {keep_until(profile, m.cutover_on)}",
                f"系统割接后原政务信息系统至少保留{r.value}个月（至{keep_until(profile, m.cutover_on)}）"))
    return out


def check_exit(a: Approval, approvals: Iterable[Approval], profile: Profile, on: date) -> None:
    """Refuse an exit request of an old system still inside its keep period."""
    check_exit_of(a.approval_no, approvals, profile, on)


def check_exit_of(approval_no: str, approvals: Iterable[Approval], profile: Profile,
                  on: date) -> None:
    """The same by number: also for an approval whose file is gone (an orphaned system), and
    for ``decommission`` itself (巴中 第二十条, 亳州 第二十一条)."""
    r = profile.rules.old_system_keep_months
    if r is None:
        return
    for b in approvals:
        m = b.migration
        if m is None or m.from_approval != approval_no:
            continue
        if m.cutover_on is None or on < keep_until(profile, m.cutover_on):
            when = (f"the cut-over to {b.approval_no} has not happened" if m.cutover_on is None else
                    f"{b.approval_no} was cut over on {m.cutover_on}; keep it until "
                    f"{keep_until(profile, m.cutover_on)}")
            raise PolicyViolation(f"{approval_no} cannot leave the cloud yet", [
                _finding(profile, "old_system_keep_months", "--date",
                         f"{approval_no} is the old system of a migration and must be kept at "
                         f"least {r.value} months after the cut-over: {when}",
                         f"迁移上云的信息系统割接后，原系统应至少保留{r.value}个月")])


# --- extensions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtensionCheck:
    approval_no: str
    kind: str           # window | emergency
    current_end: date
    until: date
    request_date: date
    notice_workdays: int | None     # working days from the request to the current last day
    latest_request: date | None     # last day the profile accepts a request for this end


def check_extension(a: Approval, current_end: date, until: date, request_date: date,
                    today: date, profile: Profile, cal: WorkCalendar) -> ExtensionCheck:
    """Raise PolicyViolation unless the extension is acceptable; return what was checked."""
    t = a.term
    if isinstance(t, PermanentTerm):
        raise GovcloudError(f"{a.approval_no} is permanent: only temporary windows and emergency "
                            f"resources have an end to extend")
    kind = "window" if isinstance(t, WindowTerm) else "emergency"
    if until <= current_end:
        raise GovcloudError(f"--until {until} is not after the current end {current_end} of "
                            f"{a.approval_no}")
    if request_date > today:
        raise GovcloudError(f"--request-date {request_date} is an event dated in the future "
                             f"(today is {today})", [Issue("--request-date", "the request was made")])
    if request_date < a.approved_on:
        raise GovcloudError(f"--request-date {request_date} is before the approval "
                            f"({a.approved_on})")
    findings: list[Finding] = []
    notice = _rule(profile, f"{kind}_extension_notice_workdays")
    gap = cal.notice_workdays(request_date, current_end)
    latest = None
    if notice is not None:
        latest = cal.latest_day_to_act(current_end, notice.value)
        if request_date > current_end:
            findings.append(_finding(profile, f"{kind}_extension_notice_workdays", "--request-date",
                f"extension requested on {request_date}, when the {kind} had already ended "
                f"(its last day was {current_end}); a request must come at least {notice.value} working days "
                f"before the end (by {latest})",
                f"延期申请应在到期前提前{notice.value}个工作日提出，{kind == 'window' and '临时扩容' or '临时资源'}已于{current_end}到期"))
        elif request_date > latest:
            findings.append(_finding(profile, f"{kind}_extension_notice_workdays", "--request-date",
                f"extension requested on {request_date}, {gap} working day{'s' if gap != 1 else ''} "
                f"before the end {current_end}: it must be requested at least {notice.value} "
                f"working days before the end (by {latest})",
                f"延期申请仅提前{gap}个工作日，应提前{notice.value}个工作日提出（最迟{latest}）"))
    longest = _rule(profile, f"{kind}_extension_max_months")
    if longest is not None and not satisfies(until, max_end(current_end, longest.value),
                                             longest.word or "不超过"):
        findings.append(_finding(profile, f"{kind}_extension_max_months", "--until",
            f"an extension of {describe_length(current_end, until)} ({current_end} to {until}) "
            f"exceeds {longest.value} months: it may run until {max_end(current_end, longest.value)}"
            f" at the latest",
            f"延期{_zh_length(current_end, until)}，超过{longest.value}个月"))
    if findings:
        raise PolicyViolation(f"extension of {a.approval_no} to {until} refused", findings,
                              fix="file a new application for the resources instead")
    return ExtensionCheck(a.approval_no, kind, current_end, until, request_date,
                          gap, latest)


# --- provider's planned platform changes -----------------------------------------------------
def check_platform_notice(change_on: date, notified_on: date, profile: Profile,
                          cal: WorkCalendar) -> int | None:
    """Raise unless departments were told at least N working days before a planned platform
    change (大同 第十八条). Returns the notice given in working days (None: no such rule)."""
    r = profile.rules.platform_change_notice_workdays
    if notified_on > change_on:
        raise GovcloudError(f"--notified {notified_on} is after the change date {change_on}")
    gap = cal.notice_workdays(notified_on, change_on)
    if r is None:
        return gap
    latest = cal.latest_day_to_act(change_on, r.value)
    if notified_on > latest:
        raise PolicyViolation(f"platform change on {change_on} refused: too little notice", [
            _finding(profile, "platform_change_notice_workdays", "--notified",
                     f"departments were notified on {notified_on}, {gap} working day"
                     f"{'s' if gap != 1 else ''} before the change on {change_on}; they must be "
                     f"notified at least {r.value} working days ahead (by {latest})",
                     f"平台调整可能影响云上系统的，应提前{r.value}个工作日通知使用部门（最迟{latest}）")],
            fix=f"move the change to {cal.earliest_day_after_notice(notified_on, r.value)} or later")
    return gap


# --- operation logs ------------------------------------------------------------------------
def log_retention_cutoff(profile: Profile, today: date) -> date | None:
    """Audit entries on or after this date must be kept (None: no retention rule)."""
    r = profile.rules.log_retention_months
    return None if r is None else add_months(today, -r.value)


def check_audit_prune(before: date, today: date, profile: Profile) -> None:
    """Refuse pruning audit entries dated on or after ``before`` when that reaches into the
    retention period: entries younger than N months can never be pruned."""
    cutoff = log_retention_cutoff(profile, today)
    if cutoff is not None and before > cutoff:
        r = profile.rules.log_retention_months
        raise PolicyViolation(f"pruning audit entries before {before} refused", [
            _finding(profile, "log_retention_months", "",
                     f"operation logs must be kept at least {r.value} months: entries since "
                     f"{cutoff} may not be pruned",
                     f"运行操作日志信息至少完整保存{r.value}个月")])


# --- the validate pass ---------------------------------------------------------------------
def approval_findings(approvals: dict[str, Approval], catalog: Catalog, profile: Profile,
                      config: WorkspaceConfig, today: date,
                      extension_ends: dict[str, date] | None = None) -> dict[str, list[Finding]]:
    """Profile rules over every approval, by file. Assumes the catalog references were checked
    (change rules price approvals from the catalog)."""
    out: dict[str, list[Finding]] = {}
    by_stack: dict[str, list[Approval]] = {}   # a change looks at its own system's approvals
    for a in approvals.values():               # only (a scan of all per change was quadratic)
        by_stack.setdefault(a.stack, []).append(a)
    for f, a in sorted(approvals.items()):
        found = term_findings(a, profile)
        found += change_findings(a, by_stack[a.stack], catalog, profile, config)
        if found:
            out[f] = found
    for f, found in migration_findings(approvals, profile, today).items():
        out.setdefault(f, []).extend(found)
    return out


def reference_issues(approvals: dict[str, Approval]) -> dict[str, list[Issue]]:
    """References between approvals that no profile decides: change_of and migration."""
    by_no = {a.approval_no: a for a in approvals.values()}
    out: dict[str, list[Issue]] = {}
    for f, a in sorted(approvals.items()):
        if a.change_of is not None:
            base = by_no.get(a.change_of)
            if base is None:
                out.setdefault(f, []).append(Issue("change_of", f"{a.change_of!r} is not an approval "
                                                   f"in this workspace"))
            elif base.stack != a.stack:
                out.setdefault(f, []).append(Issue("change_of", f"{a.change_of} is for {base.stack}, "
                                                   f"not {a.stack}: a change amends its own system"))
            elif (base.approved_on, base.approval_no) >= (a.approved_on, a.approval_no):
                out.setdefault(f, []).append(Issue("change_of", f"{a.change_of} was approved on "
                                                   f"{base.approved_on}, not before this change"))
            elif not isinstance(base.term, PermanentTerm):
                out.setdefault(f, []).append(Issue("change_of", f"{a.change_of} is a temporary term; "
                                                   f"a change amends permanent resources"))
        m = a.migration
        if m is not None and m.from_approval is not None:
            old = by_no.get(m.from_approval)
            if m.from_approval == a.approval_no:
                out.setdefault(f, []).append(Issue("migration.from_approval",
                                                   "an approval cannot replace itself"))
            elif old is not None and old.stack == a.stack:
                out.setdefault(f, []).append(Issue("migration.from_approval",
                    f"{m.from_approval} is the same system {a.stack}; a migration replaces another one"))
    return out


def check_all(approvals: dict[str, Approval], catalog: Catalog, profile: Profile,
              config: WorkspaceConfig, today: date, base: list[InputError]) -> list[InputError]:
    """``base``: the errors of :func:`orchestrator.core.validate.check_all`. Files with catalog
    errors are not priced (their references are broken); everything is merged per file."""
    issues: dict[str, list[Issue]] = {e.file: list(e.issues) for e in base}
    for f, found in reference_issues(approvals).items():
        issues.setdefault(f, []).extend(found)
    for f, a in approvals.items():
        if a.approved_on > today:  # provisioning must follow the approval, never precede it
            issues.setdefault(f, []).append(Issue(
                "approved_on", f"{a.approved_on} is after today ({today}): nothing is provisioned "
                f"for an approval dated in the future; correct the date, or wait until that day"))
    clean = {f: a for f, a in approvals.items() if f not in issues}
    priced_ok = {f: a for f, a in approvals.items() if f in clean or not _catalog_broken(issues[f])}
    for f, found in approval_findings(priced_ok, catalog, profile, config, today).items():
        issues.setdefault(f, []).extend(x.issue() for x in found if x.severity == "error")
    return [InputError(f, found) for f, found in sorted(issues.items()) if found]


def _catalog_broken(issues: list[Issue]) -> bool:
    return any(i.path.endswith((".flavor", ".type", ".item", ".gb")) or
               "catalog" in i.message for i in issues)
