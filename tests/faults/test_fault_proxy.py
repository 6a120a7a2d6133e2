"""The fault proxy itself, against a real HTTP backend on loopback that counts what reaches it:
each fault does what it says (reaches the backend or not, answers or not), call numbers and
filters select the same requests every time, a seed repeats a random schedule, and with no fault
planned every byte passes untouched (the negative control)."""
from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.faults.proxy import FAULTS, FaultPlan, FaultProxy, url_rewrite


@pytest.fixture
def backend():
    seen: list[tuple[str, str, bytes]] = []

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _do(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            seen.append((self.command, self.path, body))
            out = f'{{"self": "http://{self.server.server_address[0]}:' \
                  f'{self.server.server_address[1]}/v2", "n": {len(seen)}}}'.encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_DELETE = _do

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    srv.seen = seen
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def call(proxy, method="GET", path="/x", body=b"", timeout=5.0):
    """(status, body) or the exception's class name."""
    host, port = proxy.url.rsplit(":", 1)
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        conn.close()


def test_no_fault_passes_everything_untouched(backend):
    plan = FaultPlan()
    with FaultProxy(backend.url, plan) as p:
        assert call(p, "POST", "/servers", b'{"a": 1}') == (201, f'{{"self": "{backend.url}/v2", "n": 1}}'.encode())
        assert call(p, "GET", "/servers?x=1")[0] == 200
    assert backend.seen == [("POST", "/servers", b'{"a": 1}'), ("GET", "/servers?x=1", b"")]
    assert plan.calls == 2 and plan.faults_injected == 0 and not plan.injected


@pytest.mark.parametrize("fault, reaches_backend, client_sees", [
    ("500", False, 500), ("503", False, 503), ("lost-500", True, 500),
    ("reset", False, "error"), ("lost-reset", True, "error"), ("hang", False, "error"),
    ("latency", True, 201)])
def test_each_fault_at_its_call_number(backend, fault, reaches_backend, client_sees):
    plan = FaultPlan(at={2: fault}, hang_seconds=2.0, latency_ms=300)
    with FaultProxy(backend.url, plan) as p:
        first = call(p, "POST", "/a")
        t0 = time.monotonic()
        second = call(p, "POST", "/b", timeout=0.5)
        took = time.monotonic() - t0
        third = call(p, "POST", "/c")
    assert first[0] == 201 and third[0] == 201           # only call 2 is touched
    paths = [s[1] for s in backend.seen]
    assert paths == (["/a", "/b", "/c"] if reaches_backend else ["/a", "/c"])
    if client_sees == "error":
        assert isinstance(second, str), second            # no HTTP answer at all
        if fault == "hang":
            assert second in ("TimeoutError", "timeout") and took >= 0.5
    else:
        assert second[0] == client_sees
        if client_sees >= 500:
            assert b"injected fault" in second[1]         # neither XML nor JSON
    if fault == "latency":
        assert took >= 0.3
    assert plan.injected == {fault: 1} and plan.calls == 3
    assert [f for *_, f in plan.log] == [None, fault, None]


def test_filters_count_only_matching_calls(backend):
    plan = FaultPlan(at={1: "500", 2: "503"}, methods=("POST",), path=r"^/servers")
    with FaultProxy(backend.url, plan) as p:
        got = [call(p, "GET", "/servers")[0], call(p, "POST", "/networks")[0],
               call(p, "POST", "/servers")[0], call(p, "POST", "/servers/1")[0],
               call(p, "POST", "/servers")[0]]
    assert got == [200, 201, 500, 503, 201]
    assert plan.matched == 3 and plan.calls == 5


def test_seeded_random_schedule_repeats_and_rate_zero_injects_nothing(backend):
    def schedule(seed, rate):
        plan = FaultPlan(rate=rate, fault="mix", mix=("500", "503", "lost-500"), seed=seed)
        with FaultProxy(backend.url, plan) as p:
            for i in range(40):
                call(p, "GET", f"/{i}")
        return [f for *_, f in plan.log], plan
    a, plan = schedule(7, 0.3)
    assert a == schedule(7, 0.3)[0]
    assert 3 <= plan.faults_injected <= 25 and set(plan.injected) <= {"500", "503", "lost-500"}
    assert a != schedule(8, 0.3)[0]
    none, plan0 = schedule(7, 0.0)
    assert none == [None] * 40 and plan0.faults_injected == 0


def test_limit_and_disable(backend):
    plan = FaultPlan(rate=1.0, fault="500", limit=2)
    with FaultProxy(backend.url, plan) as p:
        assert [call(p)[0] for _ in range(4)] == [500, 500, 200, 200]
        plan.enabled = False
        plan.limit = None
        assert call(p)[0] == 200
    assert plan.faults_injected == 2


def test_url_rewrite_points_answers_at_the_proxies(backend):
    plan = FaultPlan()
    with FaultProxy(backend.url, plan) as p:
        p.rewrite = url_rewrite({backend.url: p.url})
        status, body = call(p)
    assert status == 200 and p.url.encode() in body and backend.url.encode() not in body


def test_unknown_fault_and_bad_backend_refused():
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        FaultPlan(at={1: "boom"})
    with pytest.raises(ValueError, match="http://host:port"):
        FaultProxy("https://example.org", FaultPlan())
    assert set(FAULTS) == {"500", "503", "lost-500", "reset", "lost-reset", "hang", "latency"}
