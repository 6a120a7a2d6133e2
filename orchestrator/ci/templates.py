"""`govcloud ci init SYSTEM`: the shipped pipeline templates (templates/ci/) into a repository."""
from __future__ import annotations

from pathlib import Path

from ..errors import GovcloudError
from ..workspace import PACKAGE_ROOT

TEMPLATES = PACKAGE_ROOT / "templates" / "ci"
# system -> (template file, where it goes in the repository)
SYSTEMS = {
    "gitlab": ("gitlab-ci.yml", ".gitlab-ci.yml"),
    "github": ("github-workflow.yml", ".github/workflows/govcloud.yml"),
    "gitea": ("github-workflow.yml", ".gitea/workflows/govcloud.yml"),   # same syntax (Forgejo too)
    "jenkins": ("Jenkinsfile", "Jenkinsfile"),
}


def template_path(system: str) -> Path:
    return TEMPLATES / SYSTEMS[system][0]


def write(system: str, repo: Path, force: bool = False) -> Path:
    if system not in SYSTEMS:
        raise GovcloudError(f"unknown CI system {system!r}", fix=f"use one of {', '.join(SYSTEMS)}")
    src, dst = SYSTEMS[system]
    out = repo / dst
    if out.exists() and not force:
        raise GovcloudError(f"{out} already exists", fix="pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes((TEMPLATES / src).read_bytes())
    return out
