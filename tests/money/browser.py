"""Headless Chromium for the report test: a screenshot, the boxes of the page's SVG charts
(through --dump-dom of a copy that writes them into an attribute) and the console lines
(--enable-logging). A missing Chromium FAILS the test with the install command."""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

INSTALL = "sudo apt-get install -y chromium   (or: bash scripts/chromium/install.sh)"
BOXES = """<script>
document.body.setAttribute('data-boxes', JSON.stringify(Array.from(
  document.querySelectorAll('svg.chart')).map(function (s) {
    var r = s.getBoundingClientRect();
    return {id: s.id, x: r.left, y: r.top, w: r.width, h: r.height}; })));
</script></body>"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail(f"Chromium is not installed: {INSTALL}")
    return exe


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
            f"--user-data-dir={cwd / 'chromium-profile'}"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=120, cwd=cwd)


def render(html: Path, work: Path, width: int = 1280, height: int = 5000):
    """(png bytes, chart boxes, console lines) of ``html`` at width x height."""
    work.mkdir(parents=True, exist_ok=True)
    png = work / "shot.png"
    r = _run([f"--window-size={width},{height}", f"--screenshot={png}", html.as_uri()], work)
    assert png.is_file(), r.stderr[-2000:]
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    probe = work / "probe.html"
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", BOXES), encoding="utf-8")
    r2 = _run([f"--window-size={width},{height}", "--dump-dom", probe.as_uri()], work)
    m = re.search(r'data-boxes="([^"]*)"', r2.stdout)
    assert m, r2.stderr[-2000:]
    boxes = json.loads(m.group(1).replace("&quot;", '"'))
    return png.read_bytes(), boxes, console


def decode_png(data: bytes, rows: int | None = None) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw rows without filter bytes) of an 8-bit RGB(A) PNG;
    only the first ``rows`` rows when given (the rest stay black)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = bytearray(stride * h)
    prev = bytearray(stride)
    for y in range(min(h, rows or h)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 0 or (f == 2 and not any(line)) or (f == 1 and not any(line)):
            line = line if f == 0 else bytearray(prev) if f == 2 else line
            out[y * stride:(y + 1) * stride] = line
            prev = line
            continue
        if f == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, prev))
            out[y * stride:(y + 1) * stride] = line
            prev = line
            continue
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, bpp, bytes(out)


def coloured(img: tuple[int, int, int, bytes], box: dict) -> int:
    """Pixels inside ``box`` that are neither white nor the charts' near-white background."""
    w, h, bpp, px = img
    n = 0
    x0, y0 = max(0, int(box["x"])), max(0, int(box["y"]))
    x1, y1 = min(w, int(box["x"] + box["w"])), min(h, int(box["y"] + box["h"]))
    for y in range(y0, y1):
        row = y * w * bpp
        for x in range(x0, x1):
            r, g, b = px[row + x * bpp:row + x * bpp + 3]
            if min(r, g, b) < 235:
                n += 1
    return n
