"""Whatever stands where an input file should be is read or refused, never skipped for a default:
a FIFO, a directory, a dangling or looping link in place of the catalog or the workspace's
profile was silently replaced by the shipped one (found by tests/fuzz). The corpus in
tests/badinput cannot hold FIFOs or links, so these cases are here."""
from __future__ import annotations

import os
import shutil
import threading

import pytest

FILES = {"catalog": "catalog/services.yaml", "profile": "catalog/profiles/bazhong.yaml",
         "config": "govcloud.toml"}


def _fifo(p):
    os.mkfifo(p)


def _directory(p):
    p.mkdir()


def _dangling(p):
    p.symlink_to(p.parent / "unmounted" / p.name)


def _loop(p):
    p.symlink_to(p.name)


KINDS = {"fifo": (_fifo, "not a regular file"), "directory": (_directory, "a directory, not a file"),
         "dangling": (_dangling, "a symlink that leads nowhere"), "loop": (_loop, "cannot be read")}


def _own_profile(ws):
    from orchestrator.workspace import SHIPPED_CATALOG
    (ws / "catalog" / "profiles").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHIPPED_CATALOG / "profiles" / "bazhong.yaml", ws / FILES["profile"])


def _validate(cli, ws):
    done = []
    t = threading.Thread(target=lambda: done.append(cli("validate", "-C", ws)), daemon=True)
    t.start()
    t.join(10)
    assert done, "validate blocked"
    return done[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", FILES)
def test_a_file_that_is_not_a_file_is_refused(ws, cli, which, kind):
    _own_profile(ws)
    assert cli("validate", "-C", ws).exit_code == 0          # positive control
    path = ws / FILES[which]
    path.unlink()
    make, message = KINDS[kind]
    make(path)
    r = _validate(cli, ws)
    assert r.exit_code == 1, r.output
    assert f"invalid {FILES[which]}" in r.output and message in r.output, r.output
    assert "internal error" not in r.output


@pytest.mark.parametrize("which,make,message", [
    ("catalog", lambda p: p.write_text("x"), "not a directory"),
    ("catalog/profiles", _dangling, "does not exist"),
    ("catalog/profiles", _loop, "cannot be followed"),
])
def test_a_catalog_directory_that_is_not_one_is_refused(ws, cli, which, make, message):
    _own_profile(ws)
    shutil.rmtree(ws / which)
    make(ws / which)
    r = _validate(cli, ws)
    assert r.exit_code == 1 and f"invalid {which}/" in r.output and message in r.output, r.output


def test_negative_control_nothing_there_means_the_shipped_catalog_and_profile(ws, cli):
    """Only when nothing stands there: the shipped catalog and profile (as before)."""
    (ws / FILES["catalog"]).unlink()
    assert not (ws / "catalog" / "profiles").exists()
    r = cli("validate", "-C", ws)
    assert r.exit_code == 0 and "profile bazhong" in r.output, r.output
