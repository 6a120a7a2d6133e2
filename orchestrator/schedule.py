"""Unit files for running `govcloud expire` on a schedule: cron, a systemd timer, a Kubernetes
CronJob, rendered from templates/schedule/*.j2 for one workspace (`govcloud schedule show`)."""
from __future__ import annotations

import getpass
import json
import shlex
import sys
from pathlib import Path

from .errors import GovcloudError

FILES = {
    "cron": ["govcloud-expire.cron"],
    "systemd": ["govcloud-expire.service", "govcloud-expire.timer"],
    "kubernetes": ["govcloud-expire.cronjob.yaml"],
}


def default_executable() -> str:
    beside = Path(sys.executable).parent / "govcloud"
    return str(beside) if beside.is_file() else "govcloud"


def render(kind: str, workspace: Path, minutes: int = 5, notify: list[str] | None = None,
           user: str | None = None, executable: str | None = None,
           image: str = "registry.example.gov.cn/govcloud:latest", pvc: str = "govcloud-workspace",
           log: str = "/var/log/govcloud/expire.log") -> dict[str, str]:
    """File name -> text."""
    if kind not in FILES:
        raise GovcloudError(f"unknown schedule kind {kind!r}: use {', '.join(FILES)}")
    if not 1 <= minutes <= 59 or 60 % minutes:
        raise GovcloudError(f"--every {minutes}: use a number of minutes that divides 60 (1-30)")
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from .workspace import PACKAGE_ROOT
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates" / "schedule"),
                      undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    notify = list(notify or [])
    exe = executable or default_executable()
    base = [exe, "expire", "-C", str(workspace), "--lock-timeout", "60"]
    values = {
        "minutes": minutes, "notify": notify, "workspace": str(workspace),
        "user": user or _user(), "image": image, "pvc": pvc, "log": log,
        "command": shlex.join(base + [x for n in notify for x in ("--notify", n)]),
        "command_no_notify": shlex.join(base),
        "args_json": json.dumps(["expire", "-C", "/workspace", "--lock-timeout", "60"]),
    }
    return {name: env.get_template(name + ".j2").render(**values) for name in FILES[kind]}


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "govcloud"
