"""Byte progress of the long decommission steps (backup, wipe, verify): bytes done, rate, ETA.

On a terminal the line is redrawn in place (``live``); otherwise one line every ``every``
seconds and a last one at the end, so that a pipeline's log shows hours of work advancing.
The clock is injectable (tests)."""
from __future__ import annotations

import time
from typing import Callable


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


class ByteMeter:
    def __init__(self, label: str, total: int, line: Callable[[str], None],
                 live: Callable[[str], None] | None = None, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.total, self.line, self.live = label, max(total, 0), line, live
        self.every, self.clock = every, clock
        self.done = 0
        self.start = self.last = clock()

    def text(self) -> str:
        elapsed = max(self.clock() - self.start, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 and left > 0 else ("0 s" if left <= 0 else "?")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"  {self.label}: {human(self.done)} of {human(self.total)} ({pct:.0f}%), "
                f"{human(rate)}/s, ETA {eta}")

    def __call__(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if self.live is not None:
            if now - self.last >= 0.2:
                self.last = now
                self.live(self.text())
        elif now - self.last >= self.every:
            self.last = now
            self.line(self.text())

    def finish(self) -> None:
        if self.live is not None:
            self.live("")
        self.line(self.text())
