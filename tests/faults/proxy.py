"""A fault-injecting HTTP reverse proxy on 127.0.0.1, between a driver and a cloud API endpoint.

Why our own (stdlib ``ThreadingHTTPServer`` + ``http.client``, ~200 lines) and not mitmproxy with
an addon or a WSGI middleware in the test cloud's paste pipeline: it runs inside the test process
(no extra process to start and stop, no CA to install, nothing to change in the shared OpenStack
test cloud, which other engineers use at the same time), and it counts calls deterministically,
so "fail call 3 and 7" means the same request on every run, and the counters the figures print are
exact. It speaks plain HTTP/1.1 to loopback backends, which is all the test clouds offer.

Faults (``FAULTS``), chosen by call number or at a seeded random rate, for the calls that match a
method and path filter:

- ``500`` / ``503``: answered at once with that status and a non-XML, non-JSON body; the backend
  never sees the request.
- ``lost-500``: forwarded (the backend acts on it), then answered 500: a create whose reply was
  lost.
- ``reset``: the connection closed with a TCP RST before anything is forwarded.
- ``lost-reset``: forwarded, then reset: the backend acted, the client saw no answer.
- ``hang``: held ``hang_seconds`` (longer than the client's timeout), not forwarded, then closed.
- ``latency``: ``latency_ms`` added, then forwarded normally.

One ``FaultPlan`` (the schedule and the counters) may be shared by several proxies: an OpenStack
cloud gets one proxy per service endpoint, and call numbers count across all of them.
``rewrite`` edits a backend's answer (body and headers) before it goes back (``url_rewrite``
points Keystone's service catalog and the services' version documents at the proxies).
"""
from __future__ import annotations

import http.client
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable
from urllib.parse import urlparse

FAULTS = ("500", "503", "lost-500", "reset", "lost-reset", "hang", "latency")
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
        "upgrade", "content-length"}


@dataclass
class FaultPlan:
    """Which calls fail how. ``at``: {call number (1-based, among matching calls): fault};
    ``rate``: the share of other matching calls that get ``fault`` (random, ``seed``ed; ``fault``
    may be "mix": one of ``mix`` per faulted call). ``methods`` / ``path``: the filter (a regex
    searched in the path); ``limit``: at most this many faults in all."""

    at: dict[int, str] = field(default_factory=dict)
    rate: float = 0.0
    fault: str = "500"
    seed: int = 0
    mix: tuple[str, ...] = FAULTS
    methods: tuple[str, ...] | None = None
    path: str | None = None
    latency_ms: int = 200
    hang_seconds: float = 3.0
    limit: int | None = None

    def __post_init__(self):
        for f in [*self.at.values(), *([] if self.fault == "mix" else [self.fault]), *self.mix]:
            if f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; known: {', '.join(FAULTS)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.calls = 0          # every request through any proxy of this plan
        self.matched = 0        # those the filter selected (the numbers ``at`` counts)
        self.injected: Counter[str] = Counter()
        self.log: list[tuple[int, str, str, str | None]] = []   # (call, method, path, fault)
        self.enabled = True

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and \
            (self.path is None or re.search(self.path, path) is not None)

    def choose(self, method: str, path: str) -> str | None:
        """The fault for this request (None: forward it untouched); counts it."""
        with self._lock:
            self.calls += 1
            fault = None
            if self.enabled and self.matches(method, path):
                self.matched += 1
                fault = self.at.get(self.matched)
                if fault is None and self.rate and self._rng.random() < self.rate:
                    fault = self._rng.choice(self.mix) if self.fault == "mix" else self.fault
                if fault is not None and self.limit is not None and \
                        sum(self.injected.values()) >= self.limit:
                    fault = None
                if fault is not None:
                    self.injected[fault] += 1
            self.log.append((self.calls, method, path, fault))
            return fault

    @property
    def faults_injected(self) -> int:
        return sum(self.injected.values())


class FaultProxy:
    """One reverse proxy: ``url`` forwards to ``backend`` (http://host:port) under ``plan``."""

    def __init__(self, backend: str, plan: FaultPlan,
                 rewrite: Callable[[str, bytes], bytes] | None = None):
        u = urlparse(backend)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"backend {backend!r}: an http://host:port URL")
        self.backend = f"http://{u.hostname}:{u.port or 80}"
        self._host, self._port = u.hostname, u.port or 80
        self.plan = plan
        self.rewrite = rewrite
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()   # wakes held (hang) requests
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self._host, self._port, timeout=120)
        try:
            # identity encoding: a rewrite edits plain bytes
            out = {k: v for k, v in headers.items()
                   if k.lower() not in _HOP and k.lower() != "accept-encoding"}
            out["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):   # quiet
                pass

            def _reset(self):
                # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer"
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def _answer(self, status: int, reason: str, headers: Iterable, body: bytes):
                self.send_response_only(status, reason)
                for k, v in headers:
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.wfile.flush()

            def _fail(self, status: int):
                self._answer(status, http.client.responses[status],
                             [("Content-Type", "text/plain")],
                             f"injected fault: HTTP {status}\n".encode())

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                fault = proxy.plan.choose(self.command, self.path)
                if fault in ("500", "503"):
                    return self._fail(int(fault))
                if fault == "reset":
                    return self._reset()
                if fault == "hang":
                    proxy._stop.wait(proxy.plan.hang_seconds)
                    self.close_connection = True
                    return None
                if fault == "latency":
                    proxy._stop.wait(proxy.plan.latency_ms / 1000)
                status, reason, headers, data = proxy._forward(self.command, self.path,
                                                               self.headers, body)
                if fault == "lost-500":
                    return self._fail(500)
                if fault == "lost-reset":
                    return self._reset()
                if proxy.rewrite is not None:
                    data = proxy.rewrite(self.path, data)
                    headers = [(k, proxy.rewrite(self.path, v.encode("latin-1")).decode("latin-1"))
                               for k, v in headers]
                return self._answer(status, reason, headers, data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        return Handler


def url_rewrite(mapping: dict[str, str]) -> Callable[[str, bytes], bytes]:
    """A ``rewrite`` for OpenStack: every backend base URL of ``mapping`` (http://127.0.0.1:9696
    -> its proxy's URL) is replaced in the answers (Keystone's service catalog in a token, and
    the version documents each service answers discovery with), so the SDK's calls to every
    service go through its proxy."""
    olds = [(old.encode(), new.encode()) for old, new in mapping.items()]

    def rewrite(path: str, body: bytes) -> bytes:
        for old, new in olds:
            body = body.replace(old, new).replace(old.replace(b"/", b"\\/"),
                                                  new.replace(b"/", b"\\/"))
        return body
    return rewrite


def wait_reachable(url: str, timeout: float = 5.0) -> None:
    u = urlparse(url)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((u.hostname, u.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
