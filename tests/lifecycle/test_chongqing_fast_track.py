"""重庆 第二十五条, the emergency fast track, end to end through the CLI on the embedded local
cloud: `record-event emergency-filed --at` (the 报备, to the minute), `apply`,
`record-event configuration-completed --at`, then `status`. 「24小时内配置」 says which needs may
take the fast track; the required step is the 报备 before the provider configures. Each flag has
its negative control (the same workspace with the 报备 in time shows none)."""
from __future__ import annotations

import pytest

from tests.policy.builders import approval, workspace

ARTICLE_ZH = "政务部门因紧急业务需要在24小时内配置云资源的，向本级大数据主管部门报备后，可以先行协商政务云服务商予以配置"
EMERGENCY = approval("CQ-E", approved_on="2026-05-11", term={
    "kind": "emergency", "start": "2026-05-11", "end": "2026-06-11", "reason": "防汛应急"})


def run(tmp_path, cli, monkeypatch, filed_at: str | None, configured_at: str) -> dict:
    ws = workspace(tmp_path, "chongqing", EMERGENCY)
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-05-13T12:00+08:00")
    if filed_at:
        r = cli("record-event", "CQ-E", "emergency-filed", "-C", ws, "--at", filed_at,
                "--document", "渝大数据报备〔2026〕7号")
        assert r.exit_code == 0, r.output
    monkeypatch.setenv("GOVCLOUD_NOW", configured_at)      # the provider configures (apply)
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-05-13T12:00+08:00")
    r = cli("record-event", "CQ-E", "configuration-completed", "-C", ws, "--at", configured_at)
    assert r.exit_code == 0, r.output
    r = cli("status", "-C", ws, "--output", "json")
    assert r.exit_code in (0, 3), r.output
    st = r.json()
    rows = st["approvals"] if isinstance(st, dict) else st
    return next(a for a in rows if a["approval_no"] == "CQ-E")


def fast_track(row: dict) -> list[str]:
    return [f for f in row["flags"] if "第二十五条" in f]


def test_filed_before_and_configured_within_24_hours_is_clean(tmp_path, cli, monkeypatch):
    row = run(tmp_path, cli, monkeypatch, "2026-05-11T09:30+08:00", "2026-05-12T09:30+08:00")
    assert fast_track(row) == [], row["flags"]          # exactly 24 h is still 「24小时内」
    assert not [d for d in row["deadlines"] if d.get("key") == "provision"]   # no provider SLA


@pytest.mark.parametrize("filed", [None, "2026-05-11T21:01+08:00"])
def test_configuration_without_a_prior_filing_is_flagged(tmp_path, cli, monkeypatch, filed):
    row = run(tmp_path, cli, monkeypatch, filed, "2026-05-11T21:00+08:00")
    [flag] = fast_track(row)
    assert flag.startswith("events.emergency-filed:")                        # the file/field
    assert "without the prior 报备" in flag and ARTICLE_ZH in flag              # EN and the article
    assert "govcloud record-event CQ-E emergency-filed --at" in flag         # what to do
    assert "2026-05-11T21:00" in flag


def test_fast_track_beyond_24_hours_is_flagged(tmp_path, cli, monkeypatch):
    row = run(tmp_path, cli, monkeypatch, "2026-05-11T09:30+08:00", "2026-05-12T09:31+08:00")
    [flag] = fast_track(row)
    assert flag.startswith("events.configuration-completed:")
    assert "beyond 24 hours" in flag and "24 h 01 min after the 报备" in flag and ARTICLE_ZH in flag
    assert "ordinary resource application" in flag
