"""A real Prometheus on 127.0.0.1 for the tests, loaded with exact synthetic series: OpenMetrics
text -> ``promtool tsdb create-blocks-from openmetrics`` -> ``prometheus`` serving that TSDB.
A missing binary FAILS the test with the install command (scripts/prometheus/up.sh)."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pytest

INSTALL = "sudo apt-get install -y prometheus   (or: bash scripts/prometheus/up.sh)"


def binaries() -> tuple[str, str]:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not tool:
        pytest.fail(f"Prometheus is not installed (need prometheus and promtool on PATH): {INSTALL}")
    return prom, tool


def openmetrics(series: Iterable[tuple[str, dict[str, str], Iterable[tuple[int, float]]]]) -> str:
    """OpenMetrics text: one ``name{labels} value ts`` line per sample, grouped per metric."""
    by_name: dict[str, list[str]] = {}
    for name, labels, points in series:
        lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines = by_name.setdefault(name, [])
        for ts, v in points:
            lines.append(f"{name}{{{lab}}} {v!r} {ts}")
    out = []
    for name, lines in by_name.items():
        kind = "counter" if name.endswith("_total") else "gauge"
        base = name[:-len("_total")] if kind == "counter" else name
        out.append(f"# TYPE {base} {kind}")
        out.extend(lines)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prometheus(tmp: Path, text: str) -> Iterator[str]:
    """Serve ``text`` (OpenMetrics) from a fresh Prometheus; yields its base URL."""
    prom, tool = binaries()
    tsdb = tmp / "tsdb"
    tsdb.mkdir(parents=True)
    (tmp / "data.om").write_text(text, encoding="utf-8")
    r = subprocess.run([tool, "tsdb", "create-blocks-from", "openmetrics", str(tmp / "data.om"),
                        str(tsdb)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (tmp / "prometheus.yml").write_text("global: {scrape_interval: 1h}\nscrape_configs: []\n")
    port = _free_port()
    log = (tmp / "prometheus.log").open("w")
    proc = subprocess.Popen([prom, f"--config.file={tmp / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tsdb}", "--storage.tsdb.retention.time=100y",
                             f"--web.listen-address=127.0.0.1:{port}",
                             "--query.max-samples=200000000"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("prometheus did not start: "
                            + (tmp / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def query(url: str, q: str, t: int) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode(
            {"query": q, "time": t}), timeout=10) as r:
        return json.load(r)["data"]["result"]


import urllib.parse  # noqa: E402
