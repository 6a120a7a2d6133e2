"""`govcloud metrics pull` against a real Prometheus on 127.0.0.1 loaded with exact synthetic
node_exporter series (tests/money/prometheus.py), and the CSV import."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestrator.errors import GovcloudError
from orchestrator.metrics import prom
from orchestrator.usecases import metrics
from orchestrator.workspace import Workspace
from tests.money.helpers import small, ws_with
from tests.money.prometheus import openmetrics, prometheus

T0 = int(dt.datetime(2026, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
GB = 1 << 30
A1 = "server:local/edu/edu-portal-internet/app-1"
A2 = "server:local/edu/edu-portal-internet/app-2"
MINUTES = 180


def mem(server: str, i: int) -> float:
    return 40 + (i % 7) if server == A1 else 85.0


def node_series(servers: list[str], minutes: int = MINUTES, every: int = 1):
    for srv in servers:
        lab = {"govcloud_address": srv, "instance": srv.rsplit("/", 1)[1] + ":9100"}
        ts = [T0 + 60 * i for i in range(0, minutes, every)]
        yield "node_memory_MemTotal_bytes", lab, [(t, 8 * GB) for t in ts]
        yield "node_memory_MemAvailable_bytes", lab, [
            (t, 8 * GB * (100 - mem(srv, (t - T0) // 60)) / 100) for t in ts]
        # idle counter growing 45 s per minute on one cpu: 25 % busy
        yield "node_cpu_seconds_total", {**lab, "cpu": "0", "mode": "idle"}, [
            (t, 45.0 * (t - T0) / 60) for t in ts]
        fs = {**lab, "mountpoint": "/data", "fstype": "ext4", "device": "/dev/vdb"}
        yield "node_filesystem_size_bytes", fs, [(t, 1000 * GB) for t in ts]
        yield "node_filesystem_avail_bytes", fs, [(t, 600 * GB) for t in ts]
        yield "up", lab, [(t, 1) for t in ts]


@pytest.fixture
def ws(tmp_path, cli):
    ws = ws_with(tmp_path, "bazhong", small("BZ-1", servers=[{
        "name": "app", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
        "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 2}]))
    assert cli("compile", "-C", ws).exit_code == 0
    return ws


def test_pull_stores_the_exact_series_per_server_in_one_request_per_metric(tmp_path, ws,
                                                                          monkeypatch):
    text = openmetrics([*node_series([A1, A2]),
                        *node_series(["server:local/other/x-internet/y-1"], 30)])
    calls = []
    real = prom.query_range
    monkeypatch.setattr(prom, "query_range", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    with prometheus(tmp_path / "prom", text) as url:
        res = metrics.pull(Workspace.at(ws), url, T0 + 600, T0 + 60 * (MINUTES - 1), 300)
        assert len(calls) == 5 == res.requests               # 5 metrics, both servers at once
        assert res.servers == 2 and res.unknown == ["server:local/other/x-internet/y-1"]
        with metrics.open_metrics(Workspace.at(ws)) as st:
            got = st.samples(T0, T0 + 86400)
            (pull,) = st.pulls()
        assert pull["since"] == T0 + 600 and pull["step"] == 300 and pull["servers"] == 2
        m1 = dict(got[A1]["mem_pct"])
        assert sorted(m1) == list(range(T0 + 600, T0 + 60 * MINUTES, 300))
        for ts, v in m1.items():
            assert v == pytest.approx(mem(A1, (ts - T0) // 60), abs=1e-9)
        assert all(v == pytest.approx(85.0, abs=1e-9) for _, v in got[A2]["mem_pct"])
        assert all(v == pytest.approx(25.0, abs=1e-6) for _, v in got[A1]["cpu_pct"])
        assert all(v == pytest.approx(600.0) for _, v in got[A2]["disk_free_gb"])
        assert all(v == pytest.approx(40.0) for _, v in got[A2]["disk_used_pct"])
        # Chunked: a long range is cut into 10,000-step requests, not per server.
        calls.clear()
        monkeypatch.setattr(prom, "MAX_POINTS", 10)
        res2 = metrics.pull(Workspace.at(ws), url, T0 + 600, T0 + 60 * (MINUTES - 1), 300)
        assert len(calls) == res2.requests == 5 * 4          # 35 steps -> 4 chunks of <= 10
        with metrics.open_metrics(Workspace.at(ws)) as st:
            again = st.samples(T0, T0 + 86400)
        assert dict(again[A1]["mem_pct"]) == m1              # same values, whichever chunking
        # A window's requests are cut further to bound one response (servers x steps): with
        # 6 points a response, 2 servers get 3 steps a request; still every server at once, and
        # stored as one series per server, metric and window.
        calls.clear()
        monkeypatch.setattr(prom, "MAX_RESPONSE_POINTS", 6)
        res3 = metrics.pull(Workspace.at(ws), url, T0 + 600, T0 + 60 * (MINUTES - 1), 300)
        assert len(calls) == res3.requests == 5 * (4 + 4 + 4 + 2)   # windows 10,10,10,5 steps
        with metrics.open_metrics(Workspace.at(ws)) as st:
            third = st.samples(T0, T0 + 86400)
            rows = st.db.execute("SELECT count(*) FROM series WHERE server=? AND metric=?",
                                 (A1, "mem_pct")).fetchone()[0]
        assert dict(third[A1]["mem_pct"]) == m1 and third[A2] == again[A2]
        assert rows == 4                                     # one per 10-step window


def test_a_bad_query_and_an_absent_server_are_errors(tmp_path, ws):
    (ws / "metrics.yaml").write_text("queries:\n  mem_pct: 'sum(('\n", encoding="utf-8")
    with prometheus(tmp_path / "prom", openmetrics(node_series([A1], 10))) as url:
        with pytest.raises(GovcloudError, match="refused the query"):
            metrics.pull(Workspace.at(ws), url, T0, T0 + 300, 60)
    with pytest.raises(GovcloudError, match="cannot reach Prometheus"):
        metrics.pull(Workspace.at(ws), url, T0, T0 + 300, 60)          # it is stopped now


def test_csv_import(tmp_path, ws):
    f = tmp_path / "m.csv"
    f.write_text("server,metric,timestamp,value\n"
                 f"{A1},mem_pct,2026-06-01T00:00,12.5\n{A1},mem_pct,{T0 + 60},13.5\n"
                 "server:local/x/y-internet/z-1,mem_pct,2026-06-01T00:00,1\n", encoding="utf-8-sig")
    res = metrics.import_csv(Workspace.at(ws), f)
    assert res.points == 2 and res.unknown == ["server:local/x/y-internet/z-1"]
    with metrics.open_metrics(Workspace.at(ws)) as st:
        assert st.samples(T0, T0 + 120)[A1]["mem_pct"] == [(T0, 12.5), (T0 + 60, 13.5)]
    f.write_text("server,metric,timestamp,value\nx,cpu,1,2\n", encoding="utf-8")
    with pytest.raises(GovcloudError) as e:
        metrics.import_csv(Workspace.at(ws), f)
    assert "line 2" in str(e.value.issues[0].path)


def test_pull_then_rightsize_drafts_a_priced_change(tmp_path, ws, cli):
    """End to end on 巴中: memory at 85 % on app-2 for the last week -> expand (第二十四条（一）)."""
    week = 8 * 24 * 60
    with prometheus(tmp_path / "prom", openmetrics(node_series([A1, A2], week, every=5))) as url:
        r = cli("metrics", "pull", "--from", url, "--since", "2026-06-01T00:00",
                "--until", "2026-06-08T23:55", "-C", ws)
        assert r.exit_code == 0, r.output
        assert "for 2 servers" in r.output and "5 requests" in r.output
    out = tmp_path / "changes"
    r = cli("rightsize", "--now", "2026-06-08T23:55", "--draft", str(out), "-C", ws,
            "--output", "json")
    assert r.exit_code == 0, r.output
    d = r.json()
    (rec,) = d["recommendations"]
    assert (rec["server"], rec["action"], rec["article"]) == (A2, "expand", "第二十四条（一）")
    assert rec["fee_delta"] == "160.00"                       # s2m4 -> s4m8
    (f,) = d["drafts"]
    import yaml
    from orchestrator.models.change import ChangeDocument
    doc = yaml.safe_load(open(f, encoding="utf-8"))
    assert doc["changes"] == "BZ-1" and doc["approvers"] == []      # not valid until signed off
    (group,) = doc["zones"]["internet"]["servers"]
    assert group["flavor"] == "ecs.s4m8" and group["count"] == 2
    assert "第二十四条（一）" in doc["reason"] and "+320.00 CNY" in doc["reason"]   # both servers
    with pytest.raises(Exception, match="at least one approver"):
        ChangeDocument.model_validate(doc)
    doc["approvers"] = [{"name": "王敏", "org": "市政务服务和大数据管理局", "role": "资源审核"}]
    assert ChangeDocument.model_validate(doc).changes == "BZ-1"
