"""A Prometheus HTTP API client: ``/api/v1/query_range``, one request per metric and time
chunk for every server at once (Prometheus answers at most 11,000 points per series, so a
long range is cut into chunks of 10,000 steps). Standard library only."""
from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

from ..errors import GovcloudError

MAX_POINTS = 10_000


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


def pull(base: str, queries: dict[str, str], label: str, start: int, end: int,
         step: int) -> Iterator[tuple[str, str, int, list[float]]]:
    """(metric, server, grid start, values on the grid start + k*step, NaN where missing) for
    every series, one query_range per metric and chunk."""
    for metric, query in queries.items():
        for lo, hi in chunks(start, end, step):
            n = (hi - lo) // step + 1
            for series in query_range(base, query, lo, hi, step):
                server = series["metric"].get(label)
                if not server:
                    continue
                values = [math.nan] * n
                for ts, v in series["values"]:
                    k = round((float(ts) - lo) / step)
                    if 0 <= k < n:
                        values[k] = float(v)
                yield metric, server, lo, values
