"""A Prometheus HTTP API client: ``/api/v1/query_range``, every server in each request (one
query per metric, never per server). A range is cut into windows of at most 10,000 steps (the
storage unit: one series per server, metric and window) and each window into requests of at
most MAX_RESPONSE_POINTS points (servers x steps), so that the answer to one request (its JSON
document, decoded) stays tens of megabytes at a thousand servers. Standard library only."""
from __future__ import annotations

import array
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from operator import itemgetter
from typing import Iterator

from ..errors import GovcloudError

MAX_POINTS = 10_000            # steps per series and window (Prometheus answers up to 11,000)
MAX_RESPONSE_POINTS = 500_000  # points per response: servers x steps of one request


def _redact(text: str) -> str:
    try:
        from ..redact import redact        # issue 16's one redaction function, when it lands
        return redact(text)
    except ImportError:
        p = urllib.parse.urlsplit(text)
        if p.password:
            return text.replace(f":{p.password}@", ":***@")
        return text


def chunks(start: int, end: int, step: int) -> Iterator[tuple[int, int]]:
    """[start, end] cut into ranges of at most MAX_POINTS steps, aligned on ``step``."""
    t = start
    while t <= end:
        hi = min(end, t + (MAX_POINTS - 1) * step)
        yield t, hi
        t = hi + step


def query_range(base: str, query: str, start: int, end: int, step: int,
                timeout: float = 120) -> list[dict]:
    """The ``result`` of one query_range: ``[{"metric": {labels}, "values": [[ts, "v"], ...]}]``."""
    qs = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    url = base.rstrip("/") + "/api/v1/query_range?" + qs
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc).get("error", "")
        except Exception:  # noqa: BLE001 - the status is enough then
            detail = ""
        raise GovcloudError(f"Prometheus at {_redact(base)} refused the query ({exc.code}): "
                            f"{detail}", fix="check the query in metrics.yaml (promtool check "
                            "or the Prometheus console)") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GovcloudError(f"cannot reach Prometheus at {_redact(base)}: {reason}",
                            fix="start it, or give --from http://HOST:9090") from None
    if body.get("status") != "success" or body.get("data", {}).get("resultType") != "matrix":
        raise GovcloudError(f"Prometheus at {_redact(base)} answered {body.get('status')}: "
                            f"{body.get('error', 'not a matrix')}")
    return body["data"]["result"]


def steps_per_request(servers: int) -> int:
    """Steps of one request for ``servers`` series: at most MAX_RESPONSE_POINTS points, at
    most MAX_POINTS steps, at least one."""
    return max(1, min(MAX_POINTS, MAX_RESPONSE_POINTS // max(1, servers)))


def requests(start: int, end: int, step: int, servers: int) -> list[tuple[int, int, int, int]]:
    """(window start, window steps, request start, request end) of every request of one
    metric: windows of MAX_POINTS steps, each in requests of ``steps_per_request`` steps."""
    per = steps_per_request(servers)
    out = []
    for lo, hi in chunks(start, end, step):
        n = (hi - lo) // step + 1
        for k in range(0, n, per):
            out.append((lo, n, lo + k * step, lo + min(n - 1, k + per - 1) * step))
    return out


def pull(base: str, queries: dict[str, str], label: str, start: int, end: int,
         step: int, servers: int = 1) -> Iterator[tuple[str, str, int, array.array]]:
    """(metric, server, window start, values on the grid window start + k*step, NaN where
    missing) for every series and window, from the requests of ``requests`` (``servers``: how
    many series to expect per request)."""
    nan = math.nan
    for metric, query in queries.items():
        window: tuple[int, int] | None = None
        got: dict[str, array.array] = {}
        for lo, n, a, b in requests(start, end, step, servers):
            if window != (lo, n):                  # a new window: the last one is complete
                for srv, vals in got.items():
                    yield metric, srv, window[0], vals
                window, got = (lo, n), {}
            off = (a - lo) // step
            m = (b - a) // step + 1
            for series in query_range(base, query, a, b, step):
                server = series["metric"].get(label)
                if not server:
                    continue
                vals = got.get(server)
                if vals is None:
                    vals = got[server] = array.array("d", [nan]) * n
                points = series["values"]
                if len(points) == m and float(points[0][0]) == a and float(points[-1][0]) == b:
                    # every step answered (the usual case): no index arithmetic per point
                    vals[off:off + m] = array.array("d", map(float, map(itemgetter(1), points)))
                    continue
                for ts, v in points:
                    k = round((float(ts) - a) / step)
                    if 0 <= k < m:
                        vals[off + k] = float(v)
        for srv, vals in got.items():
            yield metric, srv, window[0], vals
