"""The shipped pipeline templates: valid YAML where they are YAML, each running both pipeline
commands with a cached virtualenv and no secret written in it; `ci init` writes each one."""
from __future__ import annotations

import re

import pytest
import yaml

from orchestrator.ci.templates import SYSTEMS, template_path


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_template_runs_both_commands_and_holds_no_secret(system):
    text = template_path(system).read_text(encoding="utf-8")
    if template_path(system).suffix == ".yml":
        doc = yaml.safe_load(text)
        scripts = [line for job in doc.values() if isinstance(job, dict)
                   for key in ("script", "after_script", "before_script")
                   for line in job.get(key, []) or []]
        assert all(isinstance(s, str) for s in scripts), scripts   # no line parsed as a mapping
    assert "govcloud ci plan" in text and "govcloud ci apply" in text
    assert "venv" in text and ("cache" in text)
    # secrets only by reference (masked variables, secrets, credentials), never a value
    assert not re.search(r"(PGPASSWORD|TOKEN)\s*[:=]\s*['\"]?[A-Za-z0-9]{8,}", text), text
    assert "echo $PGPASSWORD" not in text and "set -x" not in text


def test_ci_init_writes_each_template_and_keeps_existing_files(tmp_path, cli):
    for system, (_, dst) in SYSTEMS.items():
        r = cli("ci", "init", system, "-C", tmp_path)
        assert r.exit_code == 0, r.output
        assert (tmp_path / dst).read_bytes() == template_path(system).read_bytes()
    r = cli("ci", "init", "gitlab", "-C", tmp_path)
    assert r.exit_code == 1 and "already exists" in r.output
    assert cli("ci", "init", "gitlab", "-C", tmp_path, "--force").exit_code == 0
    r = cli("ci", "init", "circleci", "-C", tmp_path)
    assert r.exit_code == 1 and "unknown CI system" in r.output
