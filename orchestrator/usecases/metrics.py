"""`govcloud metrics pull | import | show`: utilisation series per server, from a Prometheus
HTTP API (batched query_range: every server in each request, a metric's range in requests of
at most 500,000 points, metrics/prom.py) or a CSV file, stored in ``.govcloud/metrics.db`` with the pulled time range."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GovcloudError
from ..metrics import prom
from ..metrics.csv_import import read_csv
from ..metrics.settings import load_settings
from ..metrics.store import MetricStore
from ..workspace import Workspace

CHINA = dt.timezone(dt.timedelta(hours=8))


def store_path(ws: Workspace) -> Path:
    return ws.data_dir / "metrics.db"


def open_metrics(ws: Workspace) -> MetricStore:
    return MetricStore(store_path(ws))


def parse_time(text: str, option: str) -> int:
    """YYYY-MM-DD (midnight) or an ISO date-time, China time unless it has an offset."""
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GovcloudError(f"{option} {text!r}: give YYYY-MM-DD or an ISO date-time "
                            f"(e.g. 2026-06-01T00:00)") from None
    return int((t if t.tzinfo else t.replace(tzinfo=CHINA)).timestamp())


def known_servers(ws: Workspace) -> set[str]:
    return {r["address"] for r in ws.server_rows()}


@dataclass
class PullResult:
    source: str
    since: int
    until: int
    step: int
    requests: int
    servers: int
    series: int
    points: int
    unknown: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        iso = lambda t: dt.datetime.fromtimestamp(t, CHINA).isoformat()   # noqa: E731
        return {"format": "govcloud-metrics-pull/1", "source": self.source,
                "since": iso(self.since), "until": iso(self.until), "step": self.step,
                "requests": self.requests, "servers": self.servers, "series": self.series,
                "points": self.points, "unknown_servers": self.unknown[:50]}


def pull(ws: Workspace, source: str, since: int, until: int, step: int | None = None,
         servers: set[str] | None = None) -> PullResult:
    if until <= since:
        raise GovcloudError("--until must be after --since")
    settings = load_settings(ws.root)
    step = step or settings.step_seconds
    known = known_servers(ws) if servers is None else servers
    queries = {m: settings.query(m) for m in settings.queries}
    requests = len(queries) * len(prom.requests(since, until, step, len(known)))
    unknown: set[str] = set()
    seen: set[str] = set()

    def rows():
        for metric, server, start, values in prom.pull(source, queries, settings.label, since,
                                                       until, step, len(known)):
            if server not in known:
                unknown.add(server)
                continue
            seen.add(server)
            yield server, metric, start, step, values
    with open_metrics(ws) as st:
        n, pts = st.put_many(rows())
        st.record_pull(prom._redact(source), since, until, step, len(seen), pts)
    return PullResult(prom._redact(source), since, until, step, requests, len(seen), n, pts,
                      sorted(unknown))


@dataclass
class ImportResult:
    file: str
    series: int
    points: int
    unknown: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-metrics-import/1", "file": self.file, "series": self.series,
                "points": self.points, "unknown_servers": self.unknown[:50]}


def import_csv(ws: Workspace, path: Path) -> ImportResult:
    data = read_csv(path)
    known = known_servers(ws)
    unknown = sorted({s for s, _ in data if s not in known})
    keep = {k: v for k, v in data.items() if k[0] in known}
    with open_metrics(ws) as st:
        n = st.put_points(keep)
        if keep:
            ts = [t for v in keep.values() for t, _ in v]
            st.record_pull(f"csv:{path.name}", min(ts), max(ts), 0, len({s for s, _ in keep}), n)
    return ImportResult(str(path), len(keep), n, unknown)
