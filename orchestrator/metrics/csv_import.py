"""CSV import for platforms without Prometheus: ``server,metric,timestamp,value`` rows (a header
line with those names; ``timestamp``: Unix seconds or an ISO date-time, China time when it has
no offset). Each server's metric becomes one series on its own timestamps."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from ..errors import InputError, Issue
from .settings import METRICS

CHINA = dt.timezone(dt.timedelta(hours=8))
COLUMNS = ("server", "metric", "timestamp", "value")


def _ts(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        t = dt.datetime.fromisoformat(text)
        return int((t if t.tzinfo else t.replace(tzinfo=CHINA)).timestamp())


def read_csv(path: Path) -> dict[tuple[str, str], list[tuple[int, float]]]:
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    issues: list[Issue] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise InputError(str(path), [Issue("header", f"expected {','.join(COLUMNS)}, got "
                                                         f"{','.join(reader.fieldnames or [])}")])
        for n, row in enumerate(reader, 2):
            try:
                if row["metric"] not in METRICS:
                    raise ValueError(f"metric {row['metric']!r} is not one of {', '.join(METRICS)}")
                out.setdefault((row["server"], row["metric"]), []).append(
                    (_ts(row["timestamp"]), float(row["value"])))
            except (ValueError, TypeError) as exc:
                issues.append(Issue(f"line {n}", str(exc)))
            if len(issues) >= 20:
                break
    if issues:
        raise InputError(str(path), issues)
    return out
