"""Hardened input: only regular files of bounded size are read, driver options are validated
per driver, YAML aliases are bounded; each refusal is one clear line, fast, with no internal
error. (The file-based cases are in tests/badinput/cases/120-125.)"""
from __future__ import annotations

import os
import threading
import time

import pytest

from orchestrator.inputs import read_bounded
from orchestrator.errors import InputError


def _set_option(ws, line: str) -> None:
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('driver = "local"', f'driver = "local"\n{line}'))


@pytest.mark.parametrize("line,message", [
    ('latency_ms = "abc"', "targets.local.latency_ms: Input should be a valid number"),
    ("latency_ms = 1e12", "targets.local.latency_ms: Input should be less than or equal to 10000"),
    ('latncy_ms = 5', "targets.local.latncy_ms"),
    ("external_networks = 3", "targets.local.external_networks"),
])
def test_local_driver_options_are_validated(ws, cli, line, message):
    assert cli("compile", "-C", ws).exit_code == 0
    _set_option(ws, line)
    t0 = time.monotonic()
    r = cli("plan", "-C", ws)
    assert time.monotonic() - t0 < 5, "a bad option must be refused at once"
    assert r.exit_code == 1 and message in r.output, r.output
    assert "internal error" not in r.output


def test_negative_control_a_valid_option_plans(ws, cli):
    assert cli("compile", "-C", ws).exit_code == 0
    _set_option(ws, "latency_ms = 1")
    assert cli("plan", "-C", ws).exit_code == 0


def test_a_fifo_approval_is_refused_without_blocking(ws, cli):
    os.mkfifo(ws / "approvals" / "F.yaml")
    done = []
    t = threading.Thread(target=lambda: done.append(cli("validate", "-C", ws)), daemon=True)
    t.start()
    t.join(10)
    assert done, "validate blocked on a FIFO"
    r = done[0]
    assert r.exit_code == 1 and "approvals/F.yaml" in r.output and "not a regular file" in r.output


def test_devices_and_oversized_files_are_refused(tmp_path):
    with pytest.raises(InputError) as err:
        read_bounded(__import__("pathlib").Path("/dev/zero"), "x.yaml")
    assert "not a regular file" in str(err.value.issues)
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(17 * 1024 * 1024)       # sparse: 17 MB without writing them
    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        read_bounded(big, "big.yaml")
    assert "over the limit" in str(err.value.issues)
    assert time.monotonic() - t0 < 1
    small = tmp_path / "ok.yaml"
    small.write_text("a: 1\n")
    assert read_bounded(small, "ok.yaml") == b"a: 1\n"   # negative control


def test_billion_laughs_is_refused_fast(ws, cli):
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    prev = "a"
    for c in "bcdefghi":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    (ws / "approvals" / "L.yaml").write_text("\n".join(lines) + "\n")
    t0 = time.monotonic()
    r = cli("validate", "-C", ws)
    assert time.monotonic() - t0 < 5
    assert r.exit_code == 1 and "billion laughs" in r.output, r.output


def test_negative_control_a_few_aliases_are_fine(tmp_path):
    from orchestrator.inputs import read_yaml
    p = tmp_path / "a.yaml"
    p.write_text("d: &d {x: 1}\nlist: [*d, *d, *d]\n")
    assert read_yaml(p)["list"] == [{"x": 1}] * 3
