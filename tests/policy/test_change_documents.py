"""Change documents (changes/<CHANGE-NO>.yaml, `changes: <approval>`): an applied approval is never
edited in place (refused, saying how to file a change), an identical duplicate file is named as
such, compile applies the change on top of the approval, and the major-change rule (亳州 第二十二条)
measures growth and reduction exactly against the request before the change."""
from __future__ import annotations

import pytest

from tests.conftest import edit_yaml
from tests.policy.builders import approval, kinds, workspace, write_change

DISK = {"name": "data", "type": "blk.sata", "gb": 4000}


def applied(tmp_path, cli, monkeypatch, city="bozhou", **kw):
    ws = workspace(tmp_path, city, approval("A-1", approved_on="2026-03-02", servers=[],
                                            volumes=[dict(DISK)], **kw))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-04-20")
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    return ws


def grow_to(gb):
    return lambda z: z["internet"]["volumes"][0].update(gb=gb)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_applied_approval_edited_in_place_is_refused(tmp_path, cli, monkeypatch, request, backend):
    ws = workspace(tmp_path, "bozhou", approval("A-1", approved_on="2026-03-02"))
    if backend == "postgres":          # the applied-approval digests live in the state store
        from tests.pg_support import set_state_url
        set_state_url(ws, request.getfixturevalue("pg_url"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-04-20")
    edit_yaml(ws / "approvals" / "A-1.yaml", lambda d: d.update(purpose="不曾施行"))
    assert cli("validate", "-C", ws).exit_code == 0          # not applied yet: edits are fine
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    edit_yaml(ws / "approvals" / "A-1.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=9))
    for cmd in ("validate", "compile"):
        r = cli(cmd, "-C", ws)
        assert r.exit_code == 1, r.output
        assert "approvals/A-1.yaml" in r.output and "never edited in place" in r.output
        assert "changes/<CHANGE-NO>.yaml with `changes: A-1`" in r.output
    r = cli("validate", "-C", ws, "--output", "json")
    assert r.json()["issues"][0]["rule"] == "applied_approval"


def test_an_identical_duplicate_is_named_as_such(tmp_path, cli):
    ws = workspace(tmp_path, "sichuan", approval("A-1"))
    (ws / "approvals" / "copy.yaml").write_bytes((ws / "approvals" / "A-1.yaml").read_bytes())
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "approvals/copy.yaml" in r.output
    assert "identical duplicate of approvals/A-1.yaml" in r.output
    assert "is also the number of" not in r.output
    # a different file with the same number stays a contradiction (negative control)
    edit_yaml(ws / "approvals" / "copy.yaml", lambda d: d.update(purpose="另一份"))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "is also the number of" in r.output and "identical" not in r.output


def test_a_change_document_is_applied_on_top_of_its_approval(tmp_path, cli, monkeypatch):
    ws = applied(tmp_path, cli, monkeypatch)
    write_change(ws, "CH-1", "A-1.yaml", grow_to(5000))
    assert cli("compile", "-C", ws).exit_code == 0
    plan = cli("plan", "-C", ws, "--output", "json").json()
    upd = [a for a in plan["actions"] if a["action"] != "no-op" and a["kind"] == "volume"]
    assert [(a["action"], a["address"].split("/")[-1]) for a in upd] == [("update", "data")]
    assert upd[0]["changes"]["size_gb"] == {"old": 4000, "new": 5000}
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert kinds(ws, "A-1")[-1] == "changed"
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    # a second change applies on top of the first, in approval order
    write_change(ws, "CH-2", "A-1.yaml", grow_to(5500), approved_on="2026-04-21")
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-04-21")
    assert cli("compile", "-C", ws).exit_code == 0
    plan = cli("plan", "-C", ws, "--output", "json").json()
    upd = [a for a in plan["actions"] if a["action"] != "no-op" and a["kind"] == "volume"]
    assert upd[0]["changes"]["size_gb"] == {"old": 5000, "new": 5500}


@pytest.mark.parametrize("gb,major", [(6000, False), (6001, True), (2000, False), (1999, True)])
def test_major_change_compares_exactly_growth_and_reduction(tmp_path, cli, monkeypatch, gb, major):
    # 4000 GB: 6000 is +50 % (not 超过), 6001 is +50.025 %; 2000 is -50 %, 1999 is -50.025 %
    ws = applied(tmp_path, cli, monkeypatch)
    write_change(ws, "CH-1", "A-1.yaml", grow_to(gb))
    r = cli("validate", "-C", ws, "--output", "json")
    if not major:
        assert r.exit_code == 0, r.output
        return
    assert r.exit_code == 1
    issue = r.json()["issues"][0]           # (growth may raise the fee by over 50 % too)
    assert (issue["file"], issue["rule"]) == ("changes/CH-1.yaml", "major_change")
    assert "50.025%" in issue["message"] and "第二十二条" in issue["message"]
    assert ("grows" if gb > 4000 else "reduces") in issue["message"]


def test_a_60_percent_reduction_is_a_major_change_by_resources_not_by_fee(tmp_path, cli, monkeypatch):
    # 亳州 第二十二条: 「调整（扩容、降配或回收）……云资源变更超过已有云资源50%」 counts either way;
    # 「云服务费增长超过50%」 only growth: the refusal names the storage, never the (lower) fee
    ws = applied(tmp_path, cli, monkeypatch)
    write_change(ws, "CH-1", "A-1.yaml", grow_to(1600))
    r = cli("validate", "-C", ws, "--output", "json")
    assert r.exit_code == 1
    [issue] = r.json()["issues"]
    assert (issue["file"], issue["field"], issue["rule"]) == ("changes/CH-1.yaml", "zones", "major_change")
    assert "reduces the storage GB of A-1 by 60% (4000 -> 1600)" in issue["message"]
    assert "monthly fee" not in issue["message"]


@pytest.mark.parametrize("doc,message", [
    ({"changes": "NOPE"}, "'NOPE' is not an approval under approvals/"),
    ({"approved_on": "2026-03-01"}, "before A-1 itself (2026-03-02)"),
    ({"change_no": "A-1"}, "is the number of the approval approvals/A-1.yaml"),
])
def test_a_broken_change_document_is_refused(tmp_path, cli, monkeypatch, doc, message):
    ws = applied(tmp_path, cli, monkeypatch, city="sichuan")
    path = write_change(ws, "CH-1", "A-1.yaml", grow_to(4100))
    edit_yaml(path, lambda d: d.update(doc))
    r = cli("compile", "-C", ws)
    assert r.exit_code == 1 and message in r.output and "changes/CH-1.yaml" in r.output, r.output
    # plan refuses what validate refuses (never "No changes" over stale inputs), naming it too
    r = cli("plan", "-C", ws, "--detailed-exitcode")
    assert r.exit_code == 1 and message in r.output and "Nothing was changed." in r.output


def test_a_window_is_not_changed_but_extended(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou", approval("W-1", approved_on="2026-03-02",
                   term={"kind": "window", "start": "2026-06-01", "end": "2026-06-30"}))
    base = approval("W-1", approved_on="2026-03-02")
    write_change(ws, "CH-1", "W-1.yaml", lambda z: z["internet"]["servers"][0].update(count=3))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "a temporary term is extended" in r.output
    assert base  # the permanent one is changeable: covered above


def test_datong_change_document_applied_within_2_workdays(tmp_path, cli, monkeypatch):
    ws = applied(tmp_path, cli, monkeypatch, city="datong")          # provisioned 2026-04-20
    write_change(ws, "CH-1", "A-1.yaml", grow_to(4500), approved_on="2026-04-20")
    assert cli("compile", "-C", ws).exit_code == 0

    def deadline(now):
        data = cli("status", "-C", ws, "--output", "json", "--now", now).json()
        return next(d for d in data["approvals"][0]["deadlines"] if d["key"] == "change:CH-1")
    d = deadline("2026-04-22")
    assert (d["due"], d["actor"], d["done_on"], d["overdue"]) == ("2026-04-22", "provider", None, False)
    assert "第十五条" in d["citation"]
    assert deadline("2026-04-23")["overdue"]
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-04-23")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    d = deadline("2026-04-24")
    assert (d["done_on"], d["late"], d["overdue"]) == ("2026-04-23", True, False)


def test_approvals_of_some_departments_come_with_their_changes_and_only_theirs(tmp_path):
    """What a plan of some departments reads (Workspace.load_approvals(departments=)): their
    approvals with their change documents applied, another department's files and changes left
    unread, and a file without a department mapping still validated (and refused)."""
    from orchestrator.errors import GovcloudError
    from orchestrator.workspace import Workspace
    ws = workspace(tmp_path, "bozhou", approval("A-1", volumes=[dict(DISK)]),
                   approval("B-1", system="hr-sys", dept=("hrss", "市人社局"), volumes=[dict(DISK)]))
    write_change(ws, "CH-A", "A-1.yaml", grow_to(4100))
    write_change(ws, "CH-B", "B-1.yaml", grow_to(4200))
    got = Workspace.at(ws).load_approvals(departments={"edu"})
    assert [a.approval_no for a in got.values()] == ["A-1"]
    assert got["approvals/A-1.yaml"].zones["internet"].volumes[0].gb == 4100   # CH-A applied
    edit_yaml(ws / "approvals" / "B-1.yaml", lambda d: d.update(purpose=7))  # broken, not read
    assert list(Workspace.at(ws).load_approvals(departments={"edu"})) == ["approvals/A-1.yaml"]
    with pytest.raises(GovcloudError, match="B-1.yaml"):   # negative control: read whole
        Workspace.at(ws).load_approvals()
    (ws / "approvals" / "odd.yaml").write_text("approval_no: X-1\ndepartment: edu\n",
                                               encoding="utf-8")
    with pytest.raises(GovcloudError, match="odd.yaml"):
        Workspace.at(ws).load_approvals(departments={"edu"})
