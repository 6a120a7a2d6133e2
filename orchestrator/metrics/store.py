"""Metric series kept next to the state: ``.govcloud/metrics.db`` (SQLite), one row per server,
metric and pulled chunk: the grid (start, step, count) and its values as zlib-compressed
float64 (NaN where Prometheus had no point). A pull of the same range again replaces its rows;
``pulls`` records each pull's source, range and counts."""
from __future__ import annotations

import array
import math
import sqlite3
import zlib
from pathlib import Path
from typing import Iterable, Sequence

SCHEMA = """
CREATE TABLE IF NOT EXISTS series(server TEXT, metric TEXT, start INTEGER, step INTEGER,
    count INTEGER, data BLOB, PRIMARY KEY(server, metric, start));
CREATE TABLE IF NOT EXISTS points(server TEXT, metric TEXT, ts INTEGER, value REAL,
    PRIMARY KEY(server, metric, ts));
CREATE TABLE IF NOT EXISTS pulls(id INTEGER PRIMARY KEY, source TEXT, since INTEGER,
    until INTEGER, step INTEGER, servers INTEGER, points INTEGER);
"""


class MetricStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        try:
            path.chmod(0o600)
        except OSError:
            pass

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "MetricStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put_many(self, rows: Iterable[tuple[str, str, int, int, Sequence[float]]]
                 ) -> tuple[int, int]:
        """(server, metric, start, step, values) rows; returns (series, points with a value)."""
        n = pts = 0
        with self.db:
            for server, metric, start, step, values in rows:
                if not isinstance(values, array.array) or values.typecode != "d":
                    values = array.array("d", values)
                blob = zlib.compress(values.tobytes(), 1)
                self.db.execute("INSERT OR REPLACE INTO series VALUES (?,?,?,?,?,?)",
                                (server, metric, start, step, len(values), blob))
                n += 1
                pts += len(values) - sum(map(math.isnan, values))
        return n, pts

    def put_points(self, series: dict[tuple[str, str], list[tuple[int, float]]]) -> int:
        """Irregular points (CSV import), replacing any at the same timestamp."""
        with self.db:
            rows = [(srv, m, ts, v) for (srv, m), pts in series.items() for ts, v in pts]
            self.db.executemany("INSERT OR REPLACE INTO points VALUES (?,?,?,?)", rows)
        return len(rows)

    def record_pull(self, source: str, since: int, until: int, step: int, servers: int,
                    points: int) -> None:
        with self.db:
            self.db.execute("INSERT INTO pulls(source, since, until, step, servers, points) "
                            "VALUES (?,?,?,?,?,?)", (source, since, until, step, servers, points))

    def pulls(self) -> list[dict]:
        rows = self.db.execute("SELECT source, since, until, step, servers, points FROM pulls "
                               "ORDER BY id").fetchall()
        return [dict(zip(("source", "since", "until", "step", "servers", "points"), r))
                for r in rows]

    def samples(self, since: int, until: int) -> dict[str, dict[str, list[tuple[int, float]]]]:
        """server -> metric -> [(ts, value)] in [since, until], sorted, NaN left out; where
        pulled chunks overlap, the chunk with the later start wins at a timestamp, and imported
        points win over pulled ones."""
        out: dict[str, dict[str, dict[int, float]]] = {}
        q = ("SELECT server, metric, start, step, count, data FROM series "
             "WHERE start <= ? AND start + (count - 1) * step >= ? ORDER BY start")
        for server, metric, start, step, count, data in self.db.execute(q, (until, since)):
            values = array.array("d")
            values.frombytes(zlib.decompress(data))
            pts = out.setdefault(server, {}).setdefault(metric, {})
            for k, v in enumerate(values):
                ts = start + k * step
                if since <= ts <= until and not math.isnan(v):
                    pts[ts] = v
        q = "SELECT server, metric, ts, value FROM points WHERE ts BETWEEN ? AND ?"
        for server, metric, ts, v in self.db.execute(q, (since, until)):
            out.setdefault(server, {}).setdefault(metric, {})[ts] = v
        return {s: {m: sorted(p.items()) for m, p in ms.items()} for s, ms in out.items()}
