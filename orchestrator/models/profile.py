"""Policy profiles: one per regulation (city). Rules are data with the article they come from.

Every rule is ``{value, article, setting, note, word}``:

* ``article`` — where the regulation says it (e.g. ``第二十二条``); messages cite it after the
  profile's ``name_zh``.
* ``setting: true`` — the regulation leaves the point open (no number, 及时, 原则上 without a bound,
  silent); the value is a profile default and every message says so.
* ``word`` — the comparison word of the regulation, kept per threshold because PRC legal usage
  (民法典 第一千二百五十九条) makes 超过 / 高于 / 大于 / 低于 exclude the bound and 以上 / 以下 / 及以下 /
  以内 / 未超过 / 不超过 include it. ``内`` (within N days), ``至少`` (at least) and ``提前`` (at least
  N ahead) include it too. :func:`satisfies` is the one place that reads the words.

Keys end in their unit: ``_workdays`` (工作日, PRC working days), ``_days`` (calendar days),
``_months`` (calendar months), ``_hours``, ``_pct``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import Field, model_validator

from .base import Day, Input, NonEmptyStr

T = TypeVar("T")

# word -> (relation, inclusive?) : "value <relation> bound"
COMPARISON_WORDS: dict[str, tuple[str, bool]] = {
    "超过": (">", False), "高于": (">", False), "大于": (">", False),
    "以上": (">", True), "至少": (">", True), "不少于": (">", True), "提前": (">", True),
    "低于": ("<", False), "少于": ("<", False),
    "以下": ("<", True), "及以下": ("<", True), "以内": ("<", True), "内": ("<", True),
    "未超过": ("<", True), "不超过": ("<", True),
}
Word = Literal["超过", "高于", "大于", "以上", "至少", "不少于", "提前", "低于", "少于", "以下",
               "及以下", "以内", "内", "未超过", "不超过"]


def satisfies(value: Any, bound: Any, word: str) -> bool:
    """Does ``value`` stand in the relation ``word`` to ``bound``?

    ``satisfies(3, 3, "不超过")`` is True (inclusive); ``satisfies(50, 50, "超过")`` is False
    (exclusive); ``satisfies(7, 7, "提前")`` is True (7 working days ahead is enough).
    Works for numbers and dates alike."""
    rel, inclusive = COMPARISON_WORDS[word]
    if value == bound:
        return inclusive
    return value > bound if rel == ">" else value < bound


# No regulation counts days, months, hours or levels beyond this: a larger (or negative) number
# is a typo, and 2**63 working days would never be counted out.
MAX_RULE_NUMBER = 10_000


class Rule(Input, Generic[T]):
    value: T
    article: NonEmptyStr  # e.g. "第二十二条"; the regulation's name comes from Profile.name_zh
    # True when the regulation leaves the point open and the value is a profile default.
    setting: bool = False
    note: str = ""
    # The regulation's comparison word for this threshold (see module doc); None when not numeric.
    word: Word | None = None

    @model_validator(mode="after")
    def _bounded(self) -> "Rule":
        values = self.value if isinstance(self.value, list) else [self.value]
        for v in values:   # (also for a reference rule, whose value's type is open)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and \
                    not 0 <= v <= MAX_RULE_NUMBER:   # (NaN compares false: refused too)
                raise ValueError(f"value: {v} is outside 0..{MAX_RULE_NUMBER}: no rule counts "
                                 "further (a typo?)")
        return self


class MajorChange(Input):
    """亳州 第二十二条 "云资源变更超过已有云资源50%或者云服务费增长超过50%": a change whose resources grow
    by more than ``resources_pct`` of the existing ones (on any of ``measures``), or whose monthly
    fee (priced from the catalog) grows by more than ``fee_pct``, needs a full new application."""

    resources_pct: int = Field(gt=0, le=1000)
    fee_pct: int = Field(gt=0, le=1000)
    measures: list[Literal["vcpus", "ram_gb", "disk_gb", "instances"]] = Field(
        default_factory=lambda: ["vcpus", "ram_gb", "disk_gb"], min_length=1)


ExitEvent = Literal["exit-requested", "exit-approved", "backed-up", "offline", "held-until",
                   "wiped", "wipe-failed", "verified", "reclaimed", "terminated"]


class ExitProcess(Input):
    """The order of a city's exit (退出) as lifecycle events, and where its clocks start.

    ``order`` is the regulation's sequence (shown by ``profile show``, checked by the tests);
    what is enforced: ``decommission`` does not begin without ``before_start`` (events recorded
    by commands: ``request-exit``, ``approve-exit``), does not wipe without ``before_wipe``;
    ``request-exit`` is refused without ``before_request`` (四川 第十八条: backup and offline
    first). The transition hold (``exit_transition_months``) counts from ``transition_from``,
    the reclaim deadline (``reclaim_deadline_workdays``) from ``reclaim_from``. ``inside_transition``
    must be recorded before the transition ends (巴中 第二十二条). ``wipe_verification: full``:
    every byte read back (亳州 第二十三条 不能以技术手段进行数据恢复; ``--verify sample`` refused)."""

    order: list[ExitEvent] = Field(min_length=1)
    before_start: list[ExitEvent] = Field(default_factory=list)
    before_wipe: list[ExitEvent] = Field(default_factory=list)
    before_request: list[ExitEvent] = Field(default_factory=list)
    transition_from: ExitEvent | None = None
    inside_transition: list[ExitEvent] = Field(default_factory=list)
    reclaim_from: ExitEvent | None = None
    wipe_verification: Literal["full", "sample"] | None = None


# Lifecycle actions a go-live gate can hold back (see GoLiveGate).
GateAction = Literal["confirm-delivery", "went-live", "cutover"]
Actor = Literal["provider", "department", "bureau"]


class GoLiveGate(Input):
    """An action refused until events are recorded (巴中 第二十条: 割接 only after the test
    reports are approved; 大同 第十四条: online only after the security test...). ``requires``
    are lifecycle event kinds (orchestrator/core/lifecycle.py EVENT_KINDS); ``migrated_only``:
    the gate holds only for systems migrated onto the cloud (approval ``migration``)."""

    action: GateAction
    requires: list[NonEmptyStr] = Field(min_length=1)
    migrated_only: bool = False


class RequiredMaterials(Input):
    """Application materials (申请材料) an approval must name (approval ``materials``): keys of
    orchestrator.models.approval.Materials. ``existing``: systems migrated onto the cloud
    (approval ``migration``, 已建系统); ``new``: the others; ``emergency``: emergency terms (None:
    as new/existing). Change approvals (change_of) file a 变更申请 and are not checked."""

    new: list[NonEmptyStr] = Field(default_factory=list)
    existing: list[NonEmptyStr] = Field(default_factory=list)
    emergency: list[NonEmptyStr] | None = None

    @model_validator(mode="after")
    def _known(self) -> "RequiredMaterials":
        from .approval import MATERIALS
        for where in ("new", "existing", "emergency"):
            for k in getattr(self, where) or []:
                if k not in MATERIALS:
                    raise ValueError(f"{where}: {k!r} is not a material "
                                     f"(one of {', '.join(MATERIALS)})")
        return self


class Obligation(Input):
    """A duty with a clock, tracked in `status` with who owes it (``actor``): due ``workdays``
    (工作日), ``days`` (calendar days) or ``months`` after the earliest ``after`` event (``approved``:
    the approval date), or at the date named by that event's ``until`` (重庆 第二十条: the trial
    period set in the contract); done when every ``closed_by`` event is recorded (on the latest
    of their dates). With no clock at all (亳州 第二十四条 及时) it is listed as open, never overdue.
    ``terms`` limits it to approvals of those term kinds."""

    key: NonEmptyStr
    what: NonEmptyStr
    actor: Actor
    after: list[NonEmptyStr] = Field(min_length=1)
    closed_by: list[NonEmptyStr] = Field(min_length=1)
    workdays: int | None = Field(default=None, ge=0, le=MAX_RULE_NUMBER)
    days: int | None = Field(default=None, ge=0, le=MAX_RULE_NUMBER)
    months: int | None = Field(default=None, ge=0, le=MAX_RULE_NUMBER)
    until_from_event: bool = False
    terms: list[Literal["permanent", "window", "emergency"]] | None = None
    # Once per ``after`` event (each closed by a closed_by event on or after it), not once.
    each: bool = False
    # Only for systems of at least this 等保 level (大同 第十四条: 等级保护三级 re-tests).
    min_dengbao_level: int | None = Field(default=None, ge=1, le=5)
    article: NonEmptyStr
    word: Word | None = None
    setting: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _one_clock(self) -> "Obligation":
        clocks = [x for x in (self.workdays, self.days, self.months) if x is not None]
        if len(clocks) + int(self.until_from_event) > 1:
            raise ValueError(f"obligation {self.key}: give at most one of workdays, days, months, "
                             f"until_from_event")
        return self


class PlatformReview(Input):
    """What a provider's platform change needs besides the notice: ``plan`` — the 调整方案 filed
    for review for every change; a 重大调整 always needs the assessment and the bureau's approval
    before the work."""

    plan: bool = True


class ProfileRules(Input):
    # --- scope ------------------------------------------------------------------------------
    max_dengbao_level: Rule[int]
    classified_allowed: Rule[bool]
    # --- deadlines (工作日 counted with orchestrator.core.workdays) ----------------------------------
    # Provider provisions after the approval (巴中 3 from 资源配置申请, 大同 2 from 审核意见,
    # 重庆 2: trial environment notified from receipt). Counted from approved_on.
    provision_deadline_workdays: Rule[int] | None = None
    # Department deploys after configuration (巴中 5); closed by `govcloud confirm-delivery`.
    deploy_deadline_workdays: Rule[int] | None = None
    # A change (变更) applied after its approval (大同 2).
    change_deadline_workdays: Rule[int] | None = None
    # --- exit (退出) -----------------------------------------------------------------------
    # What decommissioning must do. value: the requirement in the regulation's words.
    data_clearing: Rule[str] | None = None
    # Months between taking a system offline and wiping/reclaiming it (巴中: 3-month 过渡期).
    exit_transition_months: Rule[int] | None = None
    # Working days from the exit approval to reclaim (大同: 2).
    reclaim_deadline_workdays: Rule[int] | None = None
    # The exit as events: order, requirements, where the clocks start (see ExitProcess).
    exit_process: Rule[ExitProcess] | None = None
    # Backups made by decommission are kept this many months, then destroyed (profile setting).
    backup_retention_months: Rule[int] | None = None
    # Migration: the old system is kept at least this long after the cut-over (巴中, 亳州: 3).
    old_system_keep_months: Rule[int] | None = None
    # --- temporary expansion windows (临时扩容) and emergency resources (应急/临时资源) -------------
    window_max_months: Rule[int] | None = None
    window_extension_notice_workdays: Rule[int] | None = None
    window_extension_max_months: Rule[int] | None = None
    emergency_max_months: Rule[int] | None = None
    emergency_extension_notice_workdays: Rule[int] | None = None
    emergency_extension_max_months: Rule[int] | None = None
    # Who must approve emergency resources (巴中 第十四条: 市人民政府), matched in approvers[].org.
    emergency_approver: Rule[str] | None = None
    # Emergency resources configured within N hours of their start (重庆 第二十五条: 24).
    emergency_configure_hours: Rule[int] | None = None
    # Formal resource request backfilled within N working days of the project approval (重庆: 2).
    emergency_backfill_workdays: Rule[int] | None = None
    # Warnings before a window or emergency term ends, in working days (profile setting).
    expiry_warning_workdays: Rule[list[int]] | None = None
    # --- changes ---------------------------------------------------------------------------
    major_change: Rule[MajorChange] | None = None
    # An expansion of one system stays with the same provider (cloud target) (四川 第十六条).
    expansion_same_provider: Rule[bool] | None = None
    # The provider announces planned platform changes N working days ahead (大同 第十八条: 3).
    platform_change_notice_workdays: Rule[int] | None = None
    # The change plan for review, and for a 重大调整 the third-party/expert assessment and the
    # bureau's approval before the work (大同 第十八条, 亳州 第二十八条).
    platform_change_review: Rule[PlatformReview] | None = None
    # --- records -------------------------------------------------------------------------------
    # Operation logs (the audit log) are kept at least N months (巴中 第二十九条, 四川 第三十一条: 6).
    log_retention_months: Rule[int] | None = None
    # --- go-live and application materials --------------------------------------------------
    # Actions refused until tests/assessments are recorded (巴中 第二十条, 大同 第十四条, 重庆 第二十一条,
    # 亳州 第二十、二十一条).
    go_live_gates: Rule[list[GoLiveGate]] | None = None
    # Next year's resource requests due by this month-day ("09-30"), into the 年度采购计划; an
    # approval outside the plan (in_annual_plan: false) gets no 财政资金 in principle (巴中 第十四条).
    annual_request_deadline: Rule[str] | None = None
    # The service catalog (目录和限价) is revised at least every N months (重庆 第二十六条: 24).
    catalog_revision_months: Rule[int] | None = None
    # Materials an application must carry (巴中 第十五、十六条, 大同 第十一条, 亳州 第十七条, 四川 第十二条).
    required_materials: Rule[RequiredMaterials] | None = None

    @model_validator(mode="after")
    def _warnings(self) -> "ProfileRules":
        w = self.expiry_warning_workdays
        if w is not None and (not w.value or any(n < 0 for n in w.value)):
            raise ValueError("expiry_warning_workdays.value: give one or more working-day counts >= 0")
        return self


class Deduction(Input):
    """A settlement deduction: ``pct`` of the system's monthly fee for each provider deadline of
    kind ``deadline`` (a lifecycle deadline key: provision, reclaim...) that fell due in the month
    and was missed (done late, or still open after its due date)."""

    deadline: NonEmptyStr
    pct: Decimal = Field(ge=0, le=100, strict=False)   # 5 or 5.5 or "5.5"
    article: NonEmptyStr
    setting: bool = True
    note: str = ""


class Acceptance(Input):
    """重庆 第四十一条: the year's acceptance result (验收) reduces the fees of that year by ``pct``
    per result; read from ``settlement/acceptance-<YEAR>.yaml``."""

    failed_pct: Decimal = Field(ge=0, le=100, strict=False)
    deferred_pct: Decimal = Field(ge=0, le=100, strict=False)
    article: NonEmptyStr
    setting: bool = True
    note: str = ""


class Settlement(Input):
    article: NonEmptyStr
    basis: NonEmptyStr                # what the article says payment depends on
    deductions: list[Deduction] = Field(default_factory=list)
    acceptance: Acceptance | None = None
    note: str = ""


class Billing(Input):
    """When each city's fees start and stop, and how a part month is charged (issue 19).

    ``start_event`` / ``stop_event`` are lifecycle event kinds (orchestrator/core/lifecycle.py,
    the shared names); the date of an event is its ``detail.at`` (China time) when it has one,
    else its ``on`` day. When an event is not recorded, the ``*_fallback`` kinds are tried in
    order and the bill says which one it used. ``stop_event: reclaim-deadline`` (大同 第十六条)
    stops billing at the reclaim, at the latest ``reclaim_deadline_workdays`` after the exit
    approval (``exit-approved``, else ``exit-requested``) even when the provider is late.
    Window, emergency and change approvals start at ``temporary_start_event`` (their resources'
    provisioning, not before the term's start) and end on their term's last day (``end``)."""

    start_event: NonEmptyStr
    start_fallback: list[str] = Field(default_factory=list)
    start_article: NonEmptyStr
    start_setting: bool = False
    stop_event: NonEmptyStr
    stop_fallback: list[str] = Field(default_factory=list)
    stop_article: NonEmptyStr
    stop_setting: bool = False
    temporary_start_event: NonEmptyStr = "provisioned"
    # Monthly fee x days in service / days in the month, first and last day counted.
    proration_article: NonEmptyStr
    proration_setting: bool = False
    # Rounded half-up to the fen once per system per month.
    rounding_article: NonEmptyStr
    rounding_setting: bool = True
    settlement: Settlement | None = None
    note: str = ""


class SizingCondition(Input):
    """One measured condition of a right-sizing rule: ``statistic`` of ``metric`` over the
    rule's window compared with ``value`` by the article's ``word``. ``spikes_in_hour`` counts
    the samples ``above_word`` ``above`` within any one hour; ``down_since`` compares the day
    the server was last up with ``value`` months before the evaluation day."""

    metric: Literal["cpu_pct", "mem_pct", "disk_used_pct", "disk_free_gb", "idle_pct", "up"]
    statistic: Literal["max", "min", "mean", "spikes_in_hour", "down_since"]
    value: float = Field(ge=0, le=1_000_000)     # a percentage, GB or months
    word: Word
    above: float | None = Field(default=None, ge=0, le=1_000_000)
    above_word: Word | None = None

    @model_validator(mode="after")
    def _percent(self) -> "SizingCondition":
        if self.metric.endswith("_pct") and self.value > 100:
            raise ValueError(f"value: {self.value:g} is not a percentage of {self.metric} (0..100)")
        return self


class SizingEscalation(Input):
    """重庆 第十七条: reminder -> 超过 ``urge_after_months`` -> bureau urges -> 超过
    ``shrink_after_workdays`` working days -> the bureau may shrink."""

    urge_after_months: int = Field(ge=0, le=MAX_RULE_NUMBER)
    shrink_after_workdays: int = Field(ge=0, le=MAX_RULE_NUMBER)
    article: NonEmptyStr


class SizingRule(Input):
    key: NonEmptyStr
    action: Literal["expand", "shrink", "reclaim", "remind"]
    resource: Literal["vcpus", "ram_gb", "data_disk", "server", "system"]
    article: NonEmptyStr
    window_days: int = Field(gt=0, le=3660)
    match: Literal["any", "all"] = "any"
    scope: Literal["server", "system"] = "server"
    conditions: list[SizingCondition] = Field(min_length=1)
    setting: bool = False
    escalation: SizingEscalation | None = None
    note: str = ""


class ReportDuty(Input):
    """A report the regulation asks for: who sends it to whom, how often, with what (issue 19:
    `govcloud report` renders the ``monthly`` ones each month and lists the others when due)."""

    key: NonEmptyStr
    name_zh: NonEmptyStr
    cadence: Literal["monthly", "quarterly", "yearly"]
    sender: NonEmptyStr
    audience: list[Literal["bureau", "department", "finance", "cloud-management", "police"]]
    article: NonEmptyStr
    contents: list[Literal["fees", "utilisation", "recommendations", "deadlines", "windows",
                           "decommissions", "audit"]]
    setting: bool = False
    note: str = ""


class Profile(Input):
    code: NonEmptyStr
    name_zh: NonEmptyStr
    regulation: NonEmptyStr
    status: Literal["draft", "trial", "interim", "in_force", "expired"]
    effective_from: Day | None = None
    expires_on: Day | None = None
    rules: ProfileRules
    # Rules of the regulation that govcloud shows (profile show / diff) but does not enforce yet:
    # reporting cadences, right-sizing thresholds, contract filing... Same shape as a rule.
    reference: dict[str, Rule[Any]] = Field(default_factory=dict)
    # Duties with clocks, tracked in status with their actor (each carries its own article).
    obligations: list[Obligation] = Field(default_factory=list)
    billing: Billing | None = None
    # Right-sizing rules (issue 19): read by `govcloud rightsize` over the pulled metrics.
    rightsizing: list[SizingRule] = Field(default_factory=list)
    reports: list[ReportDuty] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def cite(self, rule: Rule) -> str:
        """"(亳州市政务云管理办法（试行） 第二十二条)" plus the setting marker when it is one."""
        text = f"{self.name_zh} {rule.article}"
        if rule.setting:
            return (f"{text}; profile setting: the regulation leaves this open, the value is this "
                    f"profile's default, not the regulation's")
        return text

    def warnings(self, today: date) -> list[str]:
        """Why this profile may not be the law in force on ``today`` (draft, expired, not yet)."""
        out = []
        if self.status == "draft":
            out.append(f"profile {self.code} is a draft (送审稿): its regulation is not in force")
        if self.status == "expired" or (self.expires_on is not None and today > self.expires_on):
            when = f" on {self.expires_on}" if self.expires_on else ""
            out.append(f"profile {self.code}'s regulation expired{when} (已失效); check for its "
                       f"successor before relying on it")
        if self.effective_from is not None and today < self.effective_from:
            out.append(f"profile {self.code}'s regulation takes effect on {self.effective_from} "
                       f"(尚未施行)")
        return out
