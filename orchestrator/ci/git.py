"""Git, as the pipeline sees it: the commit and tree being built, the branch tip on the remote,
files at another revision, and whether compile left the committed stacks/ as they were."""
from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import GovcloudError


def git(root: Path, *args: str, check: bool = True) -> str:
    try:
        r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                           timeout=120)
    except FileNotFoundError:
        raise GovcloudError("git is not installed", fix="install git on the runner") from None
    if check and r.returncode != 0:
        raise GovcloudError(f"git {' '.join(args)} failed: {r.stderr.strip()[:300]}",
                            fix="run the pipeline in a git checkout of the workspace repository")
    return r.stdout if r.returncode == 0 else ""


def toplevel(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--show-toplevel").strip())


def head(root: Path) -> tuple[str, str]:
    """(commit SHA, tree SHA) of HEAD."""
    return (git(root, "rev-parse", "HEAD").strip(), git(root, "rev-parse", "HEAD^{tree}").strip())


def remote_tip(root: Path, branch: str, remote: str = "origin") -> str | None:
    """The branch's tip on the remote now (None without that remote or branch)."""
    if remote not in git(root, "remote", check=False).split():
        return None
    out = git(root, "ls-remote", remote, f"refs/heads/{branch}", check=False).split()
    return out[0] if out else None


def merge_base(root: Path, branch: str, remote: str = "origin") -> str | None:
    """Where this commit left ``branch`` (what a merge request is compared against)."""
    if remote in git(root, "remote", check=False).split():
        git(root, "fetch", "-q", remote, branch, check=False)
        ref = f"{remote}/{branch}"
        base = git(root, "merge-base", "HEAD", "FETCH_HEAD", check=False).strip() or \
            git(root, "merge-base", "HEAD", ref, check=False).strip()
        if base:
            return base
    base = git(root, "merge-base", "HEAD", branch, check=False).strip()
    return base or None


def files_at(root: Path, rev: str, prefix: str) -> dict[str, bytes]:
    """path (relative to the repository) -> bytes, of the files under ``prefix`` at ``rev``."""
    names = git(root, "ls-tree", "-r", "--name-only", rev, "--", prefix, check=False).split("\n")
    out = {}
    for name in filter(None, names):
        r = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{name}"], capture_output=True,
                           timeout=60)
        if r.returncode == 0:
            out[name] = r.stdout
    return out


def changed_under(root: Path, path: Path) -> list[str]:
    """Files under ``path`` that differ from the commit (modified, deleted or untracked)."""
    out = git(root, "status", "--porcelain", "--untracked-files=all", "--", str(path))
    return sorted(line[3:] for line in out.splitlines() if line.strip())
