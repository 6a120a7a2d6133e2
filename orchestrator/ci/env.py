"""What the CI system tells a job, from its environment variables (GitLab, GitHub and
Gitea/Forgejo Actions, Jenkins; GOVCLOUD_* override them all)."""
from __future__ import annotations

import os

PIPELINE_VARS = ("GOVCLOUD_PIPELINE_ID", "CI_PIPELINE_ID", "GITHUB_RUN_ID", "BUILD_TAG",
                 "BUILD_NUMBER")
TARGET_BRANCH_VARS = ("GOVCLOUD_TARGET_BRANCH", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
                      "GITHUB_BASE_REF", "CHANGE_TARGET", "CI_DEFAULT_BRANCH")
BRANCH_VARS = ("GOVCLOUD_BRANCH", "CI_COMMIT_BRANCH", "GITHUB_REF_NAME", "BRANCH_NAME")


def _first(names: tuple[str, ...], environ=None) -> str | None:
    env = os.environ if environ is None else environ
    for n in names:
        if env.get(n):
            return env[n]
    return None


def pipeline_id(environ=None) -> str:
    return _first(PIPELINE_VARS, environ) or f"local-{os.getpid()}"


def target_branch(environ=None) -> str:
    return _first(TARGET_BRANCH_VARS, environ) or "main"


def branch(environ=None) -> str | None:
    return _first(BRANCH_VARS, environ)
