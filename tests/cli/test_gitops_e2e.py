"""The GitOps pipeline end to end, with real git and real processes.

A bare origin; the provider's first commit (workspace, keyring, the shipped GitLab template); the
bureau's clone commits a signed approval on a branch; the merge-request job runs exactly the
`script:` of templates/ci/gitlab-ci.yml (read from the file, run in bash, in a fresh clone, with
GitLab's variables); the merge to main runs the apply job's script; the embedded cloud then holds
the system; a second pipeline is a no-op. Then the refusals: forged, revoked key, replayed under
another number and under another file name, altered after signing: each MR pipeline fails with
the reason and nothing changes. Last, two apply pipelines at once: one applies, the other waits
for the lock naming the first pipeline and ends without applying anything twice.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "ci" / "gitlab-ci.yml"
EXAMPLES = REPO / "catalog" / "examples" / "approvals"
GC = [sys.executable, "-m", "orchestrator.cli"]


def sh(cwd: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"{args} failed:\n{r.stdout}\n{r.stderr}")
    return r


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return sh(cwd, "git", "-c", "user.email=bureau@example.gov.cn", "-c", "user.name=bureau",
              *args, check=check).stdout


class Lab:
    def __init__(self, root: Path):
        self.root = root
        self.origin = root / "origin.git"
        self.shared = root / "shared"            # the state and the cloud, outside any clone
        self.secrets = root / "bureau-secrets"   # the bureau's private keys: never in git
        self.bin = root / "bin"
        self.runs = 0
        self.bin.mkdir(parents=True)
        wrapper = self.bin / "govcloud"
        wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m "
                           f"orchestrator.cli \"$@\"\n")
        wrapper.chmod(0o755)

    def job(self, name: str, ref: str, pipeline: int, extra_env: dict | None = None,
            background: bool = False):
        """A fresh runner checkout of ``ref``, then exactly the template job's script."""
        start = self.prepare(name, ref, pipeline, extra_env)
        if background:
            return start(), None
        p = start()
        out, _ = p.communicate(timeout=600)
        return p.returncode, out, self.root / f"runner-{self.runs}"

    def prepare(self, name: str, ref: str, pipeline: int, extra_env: dict | None = None):
        """The checkout and environment of a job; returns a function that starts it."""
        self.runs += 1
        checkout = self.root / f"runner-{self.runs}"
        git(self.root, "clone", "-q", "--branch", ref, str(self.origin), str(checkout))
        spec = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
        script = "\n".join(["set -e", *spec[name]["script"]])
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", "CI": "true",
               "CI_PROJECT_DIR": str(checkout), "CI_PIPELINE_ID": str(pipeline),
               "CI_DEFAULT_BRANCH": "main", "GOVCLOUD_NOW": "",
               **({"CI_PIPELINE_SOURCE": "merge_request_event",
                   "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"} if name == "govcloud-plan"
                  else {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": ref}),
               **(extra_env or {})}
        env.pop("GOVCLOUD_NOW")
        for k, v in spec.get("variables", {}).items():
            env[k] = os.path.expandvars(str(v).replace("$CI_PROJECT_DIR", str(checkout)))
        return lambda: subprocess.Popen(["bash", "-c", script], cwd=checkout, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def cloud(self) -> list[tuple]:
        db = sqlite3.connect(self.shared / "cloud" / "cloud.db")
        try:
            return sorted(db.execute("SELECT address, status FROM objects").fetchall())
        finally:
            db.close()

    def serial(self) -> int:
        db = sqlite3.connect(self.shared / "state.db")
        try:
            return int(db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()[0])
        finally:
            db.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp("gitops"))
    git(lab.root, "init", "-q", "--bare", "-b", "main", str(lab.origin))
    # the provider's first commit: the workspace (no approvals yet), the keyring, the template
    ws = lab.root / "provider"
    sh(lab.root, *GC, "init", str(ws), "--no-examples")
    cfg = (ws / "govcloud.toml").read_text()
    cfg = cfg.replace('url = "sqlite:///.govcloud/state.db"',
                      f'url = "sqlite:///{lab.shared}/state.db"')
    cfg = cfg.replace('driver = "local"            # the embedded cloud: .govcloud/local-cloud',
                      f'driver = "local"\ndata_dir = "{lab.shared}/cloud"\nlatency_ms = 40')
    (ws / "govcloud.toml").write_text(cfg)
    lab.secrets.mkdir()
    (ws / ".govcloud" / "demo-bureau-key.yaml").rename(lab.secrets / "bureau.yaml")
    # a second, revoked key (a leaked one) stays in the keyring, marked revoked
    r = sh(lab.root, *GC, "approval", "keygen", str(lab.secrets / "leaked.yaml"), "--key-id",
           "bz-leaked-2025", "--office", "资源审核科", "--person", "张三", "--now", "2025-01-01")
    entry = r.stdout[r.stdout.index("  - key_id"):].replace(
        "revoked_on: null", f"revoked_on: {dt.date.today() - dt.timedelta(days=10)}")
    with open(ws / "trust" / "approvers.yaml", "a", encoding="utf-8") as f:
        f.write(entry)
    sh(ws, *GC, "ci", "init", "gitlab", "-C", str(ws))
    assert (ws / ".gitlab-ci.yml").read_bytes() == TEMPLATE.read_bytes()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "workspace")
    git(ws, "remote", "add", "origin", str(lab.origin))
    git(ws, "push", "-q", "origin", "main")
    # the bureau's clone
    bureau = lab.root / "bureau"
    git(lab.root, "clone", "-q", str(lab.origin), str(bureau))
    lab.bureau = bureau
    return lab


def bureau_branch(lab: Lab, branch: str, change, key: str = "bureau.yaml", base: str = "main"):
    """The bureau commits on ``branch``: ``change(clone)`` edits files, then it signs the given
    approvals (change returns their paths; [] to sign nothing), compiles, commits and pushes."""
    b = lab.bureau
    git(b, "fetch", "-q", "origin")
    git(b, "checkout", "-q", "-B", branch, f"origin/{base}")
    to_sign = change(b)
    for f in to_sign:
        sh(b, *GC, "approval", "sign", str(f), "--key", str(lab.secrets / key))
    sh(b, *GC, "compile", "-C", str(b), check=False)   # a refused input leaves stacks/ alone
    git(b, "add", "-A")
    git(b, "commit", "-qm", f"{branch}")
    git(b, "push", "-q", "-f", "origin", branch)


def merge(lab: Lab, branch: str) -> None:
    b = lab.bureau
    git(b, "checkout", "-q", "main")
    git(b, "pull", "-q", "origin", "main")
    git(b, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    git(b, "push", "-q", "origin", "main")


def add_example(name: str):
    def change(b: Path):
        dst = b / "approvals" / name
        dst.parent.mkdir(exist_ok=True)
        dst.write_bytes((EXAMPLES / name).read_bytes())
        return [dst]
    return change


def test_1_merge_request_plans_merge_applies_second_pipeline_is_a_no_op(lab):
    bureau_branch(lab, "mr-0012", add_example("BZ-2026-0012.yaml"))
    code, out, checkout = lab.job("govcloud-plan", "mr-0012", 101)
    assert code == 0, out
    report = (checkout / "govcloud-plan.md").read_text(encoding="utf-8")
    assert "### Fee change (monthly, yuan)" in report and "5710.00" in report, report
    assert "**Total: 0.00 → 5710.00 (+5710.00 per month)**" in report, report
    assert "### Quota view" in report and "| edu | internet | 4 / 8 / 280 / 1 |" in report, report
    assert "demo-bureau-sm2" in report                    # whose signature it carries
    assert lab.serial() == 0                                # the plan changed nothing
    merge(lab, "mr-0012")
    code, out, _ = lab.job("govcloud-apply", "main", 102)
    assert code == 0 and "Applied the reviewed plan" in out, out
    rows = lab.cloud()
    assert any(a.startswith("server:local/edu/edu-portal-internet/web-") for a, _ in rows), rows
    # a second pipeline on the same commit: nothing to do
    code, out, _ = lab.job("govcloud-apply", "main", 103)
    assert code == 0 and "No changes" in out and "applied by pipeline 102" in out, out
    assert lab.cloud() == rows


def _refused(lab: Lab, branch: str, change, reason: str, key: str = "bureau.yaml", pipeline=0):
    before = (lab.serial(), lab.cloud())
    bureau_branch(lab, branch, change, key)
    code, out, checkout = lab.job("govcloud-plan", branch, pipeline)
    flat = " ".join(out.split())
    assert code == 1 and reason in flat and "Nothing was changed." in flat, out
    assert (lab.serial(), lab.cloud()) == before
    # and merging it anyway is refused by the apply job: no plan was reviewed for it
    return checkout


def test_2_forged_signature_fails_the_pipeline(lab):
    sh(lab.root, *GC, "approval", "keygen", str(lab.secrets / "forger.yaml"), "--key-id",
       "demo-bureau-sm2", "--office", "x", "--person", "y")
    _refused(lab, "mr-forged", add_example("BZ-2026-0031.yaml"),
             "the signature is not valid for key demo-bureau-sm2 (forged or damaged)",
             key="forger.yaml", pipeline=201)


def test_3_revoked_key_fails_the_pipeline(lab):
    _refused(lab, "mr-revoked", add_example("BZ-2026-0031.yaml"),
             "key bz-leaked-2025 was revoked on", key="leaked.yaml", pipeline=202)


def test_4_replayed_under_another_number_fails(lab):
    def change(b: Path):
        src = b / "approvals" / "BZ-2026-0012.yaml"
        dst = b / "approvals" / "BZ-2026-0099.yaml"
        dst.write_bytes(src.read_bytes().replace(b"BZ-2026-0012", b"BZ-2026-0099")
                        .replace(b"edu-portal", b"edu-portal2"))
        (b / "approvals" / "BZ-2026-0099.yaml.sig").write_bytes(
            (b / "approvals" / "BZ-2026-0012.yaml.sig").read_bytes())
        return []
    _refused(lab, "mr-replay-number", change,
             "approvals/BZ-2026-0099.yaml was altered after it was signed", pipeline=203)


def test_5_replayed_under_another_file_name_fails(lab):
    def change(b: Path):
        for suffix in ("", ".sig"):
            (b / "approvals" / f"BZ-2026-0012.yaml{suffix}").rename(
                b / "approvals" / f"edu-portal-copy.yaml{suffix}")
        return []
    _refused(lab, "mr-replay-file", change,
             "approval BZ-2026-0012 was applied from approvals/BZ-2026-0012.yaml; the same "
             "signed content under another file name is a replay", pipeline=204)


def test_6_altered_after_signing_fails(lab):
    def change(b: Path):
        p = b / "approvals" / "BZ-2026-0012.yaml"
        p.write_bytes(p.read_bytes().replace(b"count: 2", b"count: 9"))
        return []
    _refused(lab, "mr-altered", change,
             "approvals/BZ-2026-0012.yaml was altered after it was signed", pipeline=205)
    # merged without a reviewed plan anyway (branch protection off): apply refuses
    merge(lab, "mr-altered")
    before = (lab.serial(), lab.cloud())
    code, out, _ = lab.job("govcloud-apply", "main", 206)
    assert code == 1 and "no plan was reviewed for commit" in out, out
    assert (lab.serial(), lab.cloud()) == before
    # the bureau reverts it on main
    b = lab.bureau
    git(b, "revert", "--no-edit", "HEAD", "-m", "1")
    git(b, "push", "-q", "origin", "main")


def test_6b_a_hand_written_spec_beyond_the_approval_fails_the_pipeline(lab):
    def change(b: Path):   # a spec no compile made (no header: compile keeps it), committed
        text = (b / "stacks" / "edu" / "edu-portal.yaml").read_text(encoding="utf-8")
        body = "".join(x for x in text.splitlines(keepends=True) if not x.startswith("#"))
        (b / "stacks" / "edu" / "edu-extra.yaml").write_text(
            body.replace("edu-portal", "edu-extra"), encoding="utf-8")
        return []
    checkout = _refused(lab, "mr-extra-spec", change,
                        "approval BZ-2026-0012: vCPU planned 8, approved 4", pipeline=207)
    report = (checkout / "govcloud-plan.md").read_text(encoding="utf-8")
    assert "**Beyond the approval (the plan is refused):**" in report, report
    assert "| edu | internet | 4 / 8 / 280 / 1 | 8 / 16 / 560 / 2 |" in report, report
    assert not (checkout / "govcloud.plan.json").exists()   # no plan to apply


def test_7_two_apply_pipelines_at_once(lab):
    def change(b: Path):   # a slower cloud (300 ms a call), so that the two runs overlap
        cfg = b / "govcloud.toml"
        cfg.write_text(cfg.read_text().replace("latency_ms = 40", "latency_ms = 300"))
        return add_example("BZ-2026-0031.yaml")(b)
    bureau_branch(lab, "mr-0031", change)
    code, out, _ = lab.job("govcloud-plan", "mr-0031", 301)
    assert code == 0, out
    merge(lab, "mr-0031")
    start_second = lab.prepare("govcloud-apply", "main", 303)
    first, _ = lab.job("govcloud-apply", "main", 302, background=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:           # until the first holds the workspace lock
        db = sqlite3.connect(lab.shared / "state.db")
        held = db.execute("SELECT operation FROM locks").fetchall()
        db.close()
        if held and "pipeline 302" in held[0][0]:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the first apply pipeline never took the lock")
    second = start_second()
    out1, _ = first.communicate(timeout=600)
    out2, _ = second.communicate(timeout=600)
    assert first.returncode == 0 and "Applied the reviewed plan" in out1, out1
    assert second.returncode == 0, out2
    assert "waiting for lock held by pipeline 302" in out2, out2
    assert "Applied the reviewed plan" not in out2 and "applied" in out2 and "302" in out2, out2
    rows = lab.cloud()
    assert any(a.startswith("server:local/hrss/") for a, _ in rows)
    assert len({a for a, _ in rows}) == len(rows)   # nothing created twice
