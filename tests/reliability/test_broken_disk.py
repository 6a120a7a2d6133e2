"""Full disk and broken state (issue 16, item 10): a clear error naming the cause and the fix,
never an internal error, and an apply stops creating cloud objects at the first state write that
fails. The read-only and full-disk cases run in a mount namespace of their own (``unshare -m``,
a read-only bind mount and a small tmpfs): root or CAP_SYS_ADMIN is needed, as CI has."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.usecases.init import init_workspace

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
REPO = Path(__file__).resolve().parents[2]


def gc(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def _ws(tmp_path: Path, cloud_outside: bool = False) -> Path:
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    if cloud_outside:   # the embedded cloud's data off the broken disk: only the state breaks
        cfg = ws / "govcloud.toml"
        cfg.write_text(cfg.read_text().replace('driver = "local"', f'driver = "local"\ndata_dir = '
                                               f'"{tmp_path / "cloud"}"', 1))
    assert gc(ws, "compile").returncode == 0
    return ws


def _in_namespace(script: str) -> subprocess.CompletedProcess:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed: apt-get install -y util-linux")
    r = subprocess.run(["unshare", "-m", "bash", "-c", "set -e\n" + script], capture_output=True,
                       text=True, timeout=300, cwd=REPO)
    if "unshare failed" in r.stderr or "Operation not permitted" in r.stderr:
        pytest.fail(f"cannot make a mount namespace here (run the tests as root): {r.stderr}")
    return r


def _clean_error(r: subprocess.CompletedProcess) -> str:
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "internal error" not in out and "Traceback" not in out, out
    return out


def test_a_state_directory_that_is_a_file(tmp_path):
    ws = _ws(tmp_path)
    shutil.rmtree(ws / ".govcloud")
    (ws / ".govcloud").write_text("not a directory")
    out = _clean_error(gc(ws, "plan"))
    assert ".govcloud is not a directory" in out and "move" in out
    (ws / ".govcloud").unlink()                  # negative control: once moved away, it works
    assert gc(ws, "plan").returncode == 0


def test_corrupted_database_pages(tmp_path):
    ws = _ws(tmp_path)
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    db = ws / ".govcloud" / "state.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    with open(db, "r+b") as f:
        f.seek(2 * 4096)
        f.write(b"\xff" * 4096)
    out = _clean_error(gc(ws, "plan"))
    assert "malformed" in out and "restore it from your backup" in out and "audit verify" in out


def test_a_read_only_workspace(tmp_path):
    ws = _ws(tmp_path)
    r = _in_namespace(f"mount --bind {ws} {ws}; mount -o remount,ro,bind {ws}\n"
                      f"{' '.join(GOVCLOUD)} apply --auto-approve -C {ws}")
    out = _clean_error(r)
    assert "read-only" in out and "make the workspace writable" in out, out
    # negative control: the same workspace, writable
    assert gc(ws, "apply", "--auto-approve").returncode == 0


def test_a_full_disk_stops_the_apply_at_the_first_failed_state_write(tmp_path):
    ws = _ws(tmp_path, cloud_outside=True)
    data = ws / ".govcloud"
    r = _in_namespace(f"""
cp -a {data} {tmp_path}/saved
mount -t tmpfs -o size=2m tmpfs {data}
cp -a {tmp_path}/saved/. {data}/
avail=$(df --output=avail -B1 {data} | tail -1)
dd if=/dev/zero of={data}/filler bs=1024 count=$(( (avail - 300000) / 1024 )) status=none || true
{' '.join(GOVCLOUD)} apply --auto-approve --parallelism 1 -C {ws} || echo "exit=$?"
mkdir {tmp_path}/after; cp -a {data}/state.db* {tmp_path}/after/
""")
    out = r.stdout + r.stderr
    assert "exit=1" in out, out
    assert "internal error" not in out and "Traceback" not in out, out
    assert "the disk holding it is full" in out and "nothing more was started" in out, out
    assert "free space" in out and "adopted by its tags" in out, out
    cloud = {r[0] for r in sqlite3.connect(tmp_path / "cloud" / "cloud.db").execute(
        "SELECT id FROM objects")}
    state = {r[0] for r in sqlite3.connect(tmp_path / "after" / "state.db").execute(
        "SELECT cloud_id FROM resources")}
    assert cloud, out[-2000:]          # the apply got going before the disk filled up
    assert "ok created" in out and " 56 to create" in out
    # it stopped at the first failed state write: the one object whose record could not be
    # written (the next run adopts it by its tags) and nothing after it
    assert len(cloud - state) <= 1, (len(cloud), len(state))
    assert len(cloud) < 56
