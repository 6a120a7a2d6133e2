"""govcloud.toml: workspace identity, policy profile, state URL, zones and their cloud targets."""
from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator

from .base import Input, NonEmptyStr, leads_outside
from .catalog import ZoneName


class WorkspaceSection(Input):
    id: str
    name: NonEmptyStr
    profile: NonEmptyStr

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not re.fullmatch(r"ws-[0-9a-f]{12}", v):
            raise ValueError(f"{v!r} is not a workspace id (ws- and 12 hex digits, as "
                             "`govcloud init` writes it); it is the ownership tag of every object")
        return v

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", v):
            raise ValueError(f"{v[:80]!r} is not a profile name (lower-case letters, digits, - "
                             "and _, as in catalog/profiles/<name>.yaml; never a path)")
        return v


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url)
    if parts.password is None:
        # also ?password=... in the query string
        return re.sub(r"(password=)[^&]*", r"\1***", url)
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    query = re.sub(r"(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, query, parts.fragment))


class StateSection(Input):
    url: str = "sqlite:///.govcloud/state.db"

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if v.startswith(("postgresql://", "postgres://")):
            try:
                urlsplit(v).port
            except ValueError:
                raise ValueError(f"bad PostgreSQL state URL {redact_url(v)!r}: use "
                                 "postgresql://USER@HOST:PORT/DBNAME") from None
            return v
        if not v.startswith("sqlite:///"):
            shown = v
            if "://" in v:
                shown = redact_url(v)
            raise ValueError(f"unsupported state URL {shown[:200]!r}: use sqlite:///PATH or "
                             "postgresql://USER@HOST:PORT/DBNAME")
        path = v[len("sqlite:///"):]
        if not path or "\0" in path:
            raise ValueError(f"{v[:200]!r} names no database file: use sqlite:///PATH")
        if leads_outside(path):
            raise ValueError(f"{v[:200]!r} leads outside the workspace: a relative state path "
                             "stays inside it (give an absolute path for a place outside on "
                             "purpose)")
        return v


class ZoneSection(Input):
    target: NonEmptyStr = "local"
    external_network: NonEmptyStr
    tenant_pool: str
    subnet_prefix: int = Field(default=24, ge=16, le=28)
    # The zone's own address range, what `source: zone:<name>` in an inbound rule means.
    source_cidr: str

    @model_validator(mode="after")
    def _prefix_fits(self) -> "ZoneSection":
        pool = ipaddress.ip_network(self.tenant_pool)
        if self.subnet_prefix < pool.prefixlen:
            raise ValueError(f"subnet_prefix: /{self.subnet_prefix} subnets do not fit in the "
                             f"tenant pool {pool}")
        return self

    @field_validator("tenant_pool", "source_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_network(v, strict=True))
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a CIDR ({exc})")


class TargetSection(Input):
    model_config = Input.model_config | {"extra": "allow"}
    driver: Literal["local", "openstack", "libcloud"]
    # How compile lays a zone out on this target (orchestrator/layout.py): "openstack" (domain,
    # project, quota: Keystone and per-project quotas) or "vpc" (EC2-compatible clouds: no domain,
    # no quota object, the project is a VPC with the system's address block). Default: "vpc" for
    # the libcloud driver, "openstack" otherwise.
    layout: Literal["openstack", "vpc"] = "openstack"

    @model_validator(mode="before")
    @classmethod
    def _default_layout(cls, data):
        if isinstance(data, dict) and "layout" not in data:
            data = {**data, "layout": "vpc" if data.get("driver") == "libcloud" else "openstack"}
        return data


class BackupSection(Input):
    """Where decommissioning writes backups: a directory (default: <workspace>/backups) or
    S3-compatible object storage through libcloud (bucket, endpoint, region, prefix and the
    names of the environment variables holding the credentials: access_key_env, secret_key_env)."""

    model_config = Input.model_config | {"extra": "allow"}
    kind: Literal["directory", "s3"] = "directory"
    path: str | None = None


class ApprovalsSection(Input):
    """``[approvals]``: signed approvals (README: Trust). ``require_signatures``: validate, plan
    and apply refuse any approval or change document without a valid signature by a key of
    ``keyring``."""
    require_signatures: bool = False
    keyring: str = "trust/approvers.yaml"


TERM_END_FORMAT = "last-day"


class DatesSection(Input):
    """``[dates]``: how this workspace's dated inputs read (README: Dates). ``term_end =
    "last-day"``: a term's ``end`` and an extension's ``until`` are the last day of service,
    included (`govcloud init` writes it; a workspace without it was made when ``end`` was the
    first day without resources: `govcloud workspace upgrade` migrates it). ``legacy_approvals``:
    approval number -> sha256 of its file as it was when upgraded; while the file keeps those
    bytes, its old exclusive ``end`` is read as ``end - 1 day`` (a signed approval is never
    rewritten); a changed file is read as written in the new format."""
    term_end: Literal["last-day"]
    legacy_approvals: dict[str, str] = Field(default_factory=dict)


def _default_zones() -> dict[str, ZoneSection]:
    return {
        "internet": ZoneSection(external_network="internet", tenant_pool="10.64.0.0/10",
                                source_cidr="0.0.0.0/0"),
        "extranet": ZoneSection(external_network="extranet", tenant_pool="10.128.0.0/10",
                                source_cidr="59.192.0.0/10"),
    }


class SmtpSink(Input):
    host: NonEmptyStr
    port: int = Field(default=25, ge=1, le=65535)
    sender: NonEmptyStr = Field(alias="from")
    to: list[NonEmptyStr]
    starttls: bool = False
    username_env: str | None = None     # names of environment variables, never the values
    password_env: str | None = None


class RobotSink(Input):
    """A group robot (企业微信 / 钉钉): its webhook URL, or the environment variable holding it
    (the URL carries the robot's key); DingTalk's signing secret only by environment variable."""
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None

    @model_validator(mode="after")
    def _one_url(self):
        if bool(self.url) == bool(self.url_env):
            raise ValueError("give the robot's webhook as url_env (recommended: it carries a key) "
                             "or url, exactly one")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        return self


class NotifyRole(Input):
    """Where one role's notices go (``[notify.provider]``, ``[notify.department]``,
    ``[notify.bureau]``)."""
    smtp: SmtpSink | None = None
    wecom: RobotSink | None = None
    dingtalk: RobotSink | None = None
    jsonl: str | None = None
    webhook: str | None = None


class PlanSection(Input):
    # plan --refresh=auto reads everything when its last full check is older than this (hours;
    # 0: every plan reads everything). core/refresh_scope.py.
    full_refresh_hours: float = Field(default=24, ge=0, le=24 * 366)
    # From this many spec files on, plan --refresh=auto plans between full checks only the
    # departments whose specs, state or day changed (core/plan_scope.py); 0: never.
    skip_unchanged_from: int = Field(default=1000, ge=0)


class WorkspaceConfig(Input):
    workspace: WorkspaceSection
    state: StateSection = StateSection()
    zones: dict[ZoneName, ZoneSection] = Field(default_factory=_default_zones)
    targets: dict[str, TargetSection] = Field(
        default_factory=lambda: {"local": TargetSection(driver="local")})
    backup: BackupSection = BackupSection()
    approvals: ApprovalsSection = ApprovalsSection()
    plan: PlanSection = PlanSection()
    dates: DatesSection | None = None
    notify: dict[Literal["provider", "department", "bureau"], NotifyRole] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> "WorkspaceConfig":
        for zone, z in self.zones.items():
            if z.target not in self.targets:
                raise ValueError(f"zones.{zone}.target: unknown target {z.target!r} "
                                 f"(defined: {', '.join(sorted(self.targets))})")
        pools = {zone: ipaddress.ip_network(z.tenant_pool) for zone, z in self.zones.items()}
        names = sorted(pools)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if (self.zones[a].target == self.zones[b].target and pools[a].overlaps(pools[b])):
                    raise ValueError(f"zones.{b}.tenant_pool: {pools[b]} overlaps zones.{a}.tenant_pool "
                                     f"{pools[a]} on the same target")
                if self.zones[a].external_network == self.zones[b].external_network and \
                        self.zones[a].target == self.zones[b].target:
                    raise ValueError(f"zones.{b}.external_network: both zones use "
                                     f"{self.zones[a].external_network!r}; zones must not share a path")
        return self
