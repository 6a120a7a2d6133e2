"""Approval-bound, priced plans through `govcloud plan` and `govcloud apply` (issue 14): every
plan shows the quota view and the fee change (text, JSON, Markdown), figures computed from the
catalog; a plan beyond its approval is refused naming the approval, the zone and each figure,
with nothing written; a saved plan is applied only while its approvals, and the catalog they
are sized and priced with, are as they were when it was made."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import yaml

from orchestrator.usecases.init import init_workspace
from tests.conftest import cloud_rows
from tests.policy.builders import approval, workspace

A12 = "approvals/BZ-2026-0012.yaml"
PORTAL = "stacks/edu/edu-portal.yaml"
ZERO = {"vcpus": 0, "ram_gb": 0, "disk_gb": 0, "public_ips": 0}


def serial(ws: Path) -> int:
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    try:
        return int(db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()[0])
    finally:
        db.close()


def catalog(ws: Path) -> dict:
    data = yaml.safe_load((ws / "catalog" / "services.yaml").read_text(encoding="utf-8"))
    return {i["code"]: i for i in data["items"]}


def edit_catalog(ws: Path, code: str, fn) -> bytes:
    """Edit one catalog item; returns the file's bytes before, to put back."""
    path = ws / "catalog" / "services.yaml"
    before = path.read_bytes()
    data = yaml.safe_load(before)
    fn(next(i for i in data["items"] if i["code"] == code))
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return before


def expected_edu_portal(ws: Path) -> tuple[dict, Decimal]:
    """BZ-2026-0012's internet zone (2 x ecs.s2m4, 40 GB system + 100 GB data disk each, 1 public
    IP) and its monthly fee, line by line from the workspace's catalog (the approval file's
    figures written out here, not govcloud's pricing)."""
    c = catalog(ws)
    flavor = c["ecs.s2m4"]["provisions"]
    internet = {"vcpus": 2 * flavor["vcpus"], "ram_gb": 2 * flavor["ram_gb"],
                "disk_gb": 2 * (40 + 100), "public_ips": 1}
    p = {code: Decimal(str(item["unit_price"])) for code, item in c.items()}
    fee = (2 * p["ecs.s2m4"] + 2 * 40 * p["blk.ssd"] + 2 * 100 * p["blk.ssd"]       # internet
           + p["eip.internet"] + 20 * p["bw.internet"]
           + p["ecs.s4m8"] + 40 * p["blk.ssd"]                                      # extranet
           + p["ecs.m4m32"] + 40 * p["blk.ssd"] + 500 * p["blk.essd"] + 1000 * p["blk.sata"]
           + p["sec.dengbao2"] + p["db.dm8"])                                       # services
    return internet, fee.quantize(Decimal("0.01"))


def as_json(r) -> dict:
    """The JSON document of a run (stderr notes such as "compiled first" come before it)."""
    text = r.output
    return json.loads(text[text.index("\n{") + 1:] if not text.startswith("{") else text)


def plan_json(cli, ws: Path, *args: str) -> dict:
    r = cli("plan", "-C", ws, "--output", "json", *args)
    assert r.exit_code == 0, r.output
    return as_json(r)


def rows(doc: dict) -> dict:
    return {(q["department"], q["zone"]): q for q in doc["review"]["quota"]}


def fees(doc: dict) -> dict:
    return {f["approval"]: f for f in doc["review"]["fees"]}


def test_plan_shows_the_quota_view_and_the_fee_change(ws, cli):
    internet, fee = expected_edu_portal(ws)
    assert internet == {"vcpus": 4, "ram_gb": 8, "disk_gb": 280, "public_ips": 1}
    assert fee == Decimal("5710.00")
    assert cli("compile", "-C", ws).exit_code == 0
    doc = plan_json(cli, ws)
    edu = rows(doc)[("edu", "internet")]
    # nothing applied yet: approved = planned = the quota the plan sets; nothing used
    assert edu["approved"] == edu["planned"] == edu["quota"] == internet
    assert edu["used"] == edu["scheduled"] == ZERO and edu["excess"] == {}
    f = fees(doc)["BZ-2026-0012"]
    assert f == {"approval": "BZ-2026-0012", "system": "edu/edu-portal", "before": None,
                 "after": str(fee), "change": str(fee)}
    total = sum(Decimal(x["after"]) for x in doc["review"]["fees"])
    assert doc["review"]["fee_total"] == {"before": "0.00", "after": str(total),
                                          "change": str(total)}
    assert doc["review"]["fees_before"] == "applied" and doc["review"]["excess"] == []
    # the same figures in text and in Markdown
    text = " ".join(cli("plan", "-C", ws).output.split())
    assert "edu/internet approved 4/8/280/1 planned 4/8/280/1 scheduled 0/0/0/0 quota 4/8/280/1 " \
           "used 0/0/0/0" in text, text
    assert "BZ-2026-0012 edu/edu-portal — -> 5710.00 (+5710.00)" in text, text
    assert f"Total: 0.00 -> {total} (+{total} a month)" in text, text
    md = cli("plan", "-C", ws, "--output", "markdown").output
    assert "| BZ-2026-0012 | edu/edu-portal | — | 5710.00 | +5710.00 |" in md, md
    assert "| edu | internet | 4 / 8 / 280 / 1 | 4 / 8 / 280 / 1 | 0 / 0 / 0 / 0 | " \
           "4 / 8 / 280 / 1 | 0 / 0 / 0 / 0 | ok |" in md, md

    # applied: used = planned, the fees are in force (before = after)
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    doc = plan_json(cli, ws)
    assert rows(doc)[("edu", "internet")]["used"] == internet
    assert fees(doc)["BZ-2026-0012"]["before"] == fees(doc)["BZ-2026-0012"]["after"] == "5710.00"
    assert doc["review"]["fee_total"]["change"] == "0.00"
    assert f"Monthly fees unchanged: {total} yuan a month." in cli("plan", "-C", ws).output

    # the catalog raises ecs.s2m4 by 10 yuan: a fee change of 2 x 10, never silent, although no
    # object changes; the other approval (no ecs.s2m4) is unchanged (negative control)
    edit_catalog(ws, "ecs.s2m4", lambda i: i.update(unit_price=str(Decimal(str(i["unit_price"]))
                                                                    + 10)))
    _, raised = expected_edu_portal(ws)
    assert raised == Decimal("5730.00")
    doc = plan_json(cli, ws)
    assert doc["summary"]["create"] == doc["summary"]["update"] == 0
    assert fees(doc)["BZ-2026-0012"] == {"approval": "BZ-2026-0012", "system": "edu/edu-portal",
                                         "before": "5710.00", "after": "5730.00",
                                         "change": "20.00"}
    assert fees(doc)["BZ-2026-0031"]["change"] == "0.00"
    assert doc["review"]["fee_total"]["change"] == "20.00"
    assert "BZ-2026-0012 edu/edu-portal 5710.00 -> 5730.00 (+20.00)" in \
        " ".join(cli("plan", "-C", ws).output.split())
    # an apply (nothing to change in the cloud) puts the new price in force
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    doc = plan_json(cli, ws)
    assert fees(doc)["BZ-2026-0012"]["before"] == "5730.00"
    assert doc["review"]["fee_total"]["change"] == "0.00"


def test_window_resources_not_yet_open_count_as_scheduled_in_the_quota_view(tmp_path, cli):
    window = approval("BZ-W", approved_on="2026-06-01",
                      term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"})
    ws = workspace(tmp_path, "bozhou", window)
    assert cli("compile", "-C", ws).exit_code == 0
    flavor = catalog(ws)["ecs.s4m8"]["provisions"]     # 2 x ecs.s4m8, 40 GB system disks
    size = {"vcpus": 2 * flavor["vcpus"], "ram_gb": 2 * flavor["ram_gb"], "disk_gb": 80,
            "public_ips": 0}
    before = rows(plan_json(cli, ws, "--now", "2026-06-10"))
    assert before[("edu", "internet")]["scheduled"] == size
    assert before[("edu", "internet")]["planned"] == ZERO
    assert before[("edu", "internet")]["approved"] == size
    during = rows(plan_json(cli, ws, "--now", "2026-06-25"))
    assert during[("edu", "internet")]["planned"] == size      # control: open, so planned
    assert during[("edu", "internet")]["scheduled"] == ZERO


def _hand_written_copy(ws: Path) -> Path:
    """stacks/edu/edu-extra.yaml: the compiled edu-portal spec as a hand-written file (no
    generated header, so compile leaves it), for a system no approval names, its resources
    still claiming approval BZ-2026-0012."""
    text = (ws / PORTAL).read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    extra = ws / "stacks" / "edu" / "edu-extra.yaml"
    extra.write_text(body.replace("edu-portal", "edu-extra"), encoding="utf-8")
    return extra


def test_a_hand_written_spec_beyond_the_approval_is_refused_by_plan(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    ok = tmp_path / "ok.json"
    r = cli("plan", "-C", ws, "-o", ok)                # control: within the approval
    assert r.exit_code == 0 and ok.is_file(), r.output
    extra = _hand_written_copy(ws)
    out = tmp_path / "p.json"
    r = cli("plan", "-C", ws, "-o", out)
    assert r.exit_code == 1, r.output
    flat = " ".join(r.output.split())
    assert "the plan goes beyond what is approved" in flat, flat
    assert "BZ-2026-0012.zones.internet: approval BZ-2026-0012: vCPU planned 8, approved 4; " \
           "RAM GB planned 16, approved 8; disk GB planned 560, approved 280; public IPs " \
           "planned 2, approved 1 (planned by stacks/edu/edu-extra.yaml, " \
           "stacks/edu/edu-portal.yaml)" in flat, flat
    assert "the project quota of edu/edu-extra stands on no approval (none is for this " \
           "system): vCPU planned 4, approved 0" in flat, flat
    assert "Nothing was changed." in flat
    assert not out.exists(), "a refused plan was written"
    assert extra.is_file(), "compile-first removed a hand-written spec (it must keep it)"
    for fmt in ("json", "markdown"):
        r = cli("plan", "-C", ws, "--output", fmt)
        assert r.exit_code == 1 and "beyond what is approved" in r.output, (fmt, r.output)
    err = as_json(cli("plan", "-C", ws, "--output", "json"))
    assert err["format"] == "govcloud-error/1" and err["changed_nothing"] is True
    assert {i["rule"] for i in err["issues"]} == {"within-approval"}
    assert serial(ws) == 0 and cloud_rows(ws) == []
    # and apply (which plans without compiling first) refuses it the same way
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 1 and "beyond what is approved" in r.output, r.output
    assert serial(ws) == 0 and cloud_rows(ws) == []
    extra.unlink()                                     # control: without it, all is well
    assert cli("plan", "-C", ws, "-o", out).exit_code == 0 and out.is_file()


def test_a_hand_edited_spec_is_refused_by_apply(ws, cli):
    """`apply` without a saved plan does not compile first: the edited spec reaches the plan,
    whose review refuses it. `plan` compiles first and so puts the approved figures back."""
    assert cli("compile", "-C", ws).exit_code == 0
    path = ws / PORTAL
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    web = next(r for r in data["resources"] if r["address"].endswith("edu-portal-internet/web-1"))
    web["properties"]["vcpus"] = 8                    # the flavor stays ecs.s2m4 (2 vCPU)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 1, r.output
    flat = " ".join(r.output.split())
    assert "approval BZ-2026-0012: vCPU planned 10, approved 4 (planned by " \
           "stacks/edu/edu-portal.yaml)" in flat, flat
    assert serial(ws) == 0 and cloud_rows(ws) == []
    # a flavor edited instead of the figure is sized from the catalog: refused too
    web["properties"].update(vcpus=2, flavor="ecs.s16m32")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 1 and "vCPU planned 18, approved 4" in " ".join(r.output.split()), \
        r.output
    assert cloud_rows(ws) == []
    # the servers as approved, but the project's quota raised: the room to make more
    web["properties"].update(flavor="ecs.s2m4")
    quota = next(r for r in data["resources"] if r["address"].endswith("edu-portal-internet/quota"))
    quota["properties"]["cores"] = 40
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = cli("apply", "-C", ws, "--auto-approve")
    flat = " ".join(r.output.split())
    assert r.exit_code == 1 and "the project quota of edu/edu-portal goes beyond approval " \
        "BZ-2026-0012: vCPU planned 40, approved 4 (set by stacks/edu/edu-portal.yaml)" in flat, \
        r.output
    assert cloud_rows(ws) == []
    assert cli("plan", "-C", ws).exit_code == 0       # compile-first restores the spec
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert serial(ws) > 0


def _changed_approval_is_refused(ws: Path, cli, tmp_path, sign: bool) -> None:
    assert cli("compile", "-C", ws).exit_code == 0
    plan = tmp_path / "p.json"
    assert cli("plan", "-C", ws, "-o", plan).exit_code == 0
    original = (ws / A12).read_bytes()
    doc = json.loads(plan.read_text(encoding="utf-8"))
    # the plan is bound to the approval's bytes, and each action to its approval number
    assert doc["approvals"]["BZ-2026-0012"]["sha256"] == hashlib.sha256(original).hexdigest()
    assert {a["desired"]["approval"] for a in doc["actions"]
            if a["address"].startswith("server:local/edu/")} == {"BZ-2026-0012"}
    # the approval changes after planning (fewer servers: within any quota, still a change)
    (ws / A12).write_bytes(original.replace(b"count: 2", b"count: 1"))
    if sign:
        r = cli("approval", "sign", ws / A12, "--key", ws / ".govcloud" / "demo-bureau-key.yaml")
        assert r.exit_code == 0, r.output
    r = cli("apply", "-C", ws, plan)
    assert r.exit_code == 1, r.output
    flat = " ".join(r.output.split())
    assert "the approvals changed since the plan was made" in flat, flat
    assert f"{A12}: BZ-2026-0012: changed since planning" in flat, flat
    assert "Nothing was changed." in flat
    assert serial(ws) == 0 and cloud_rows(ws) == []
    # control: the approval as it was when planned (and its signature), the same plan applies
    (ws / A12).write_bytes(original)
    if sign:
        r = cli("approval", "sign", ws / A12, "--key", ws / ".govcloud" / "demo-bureau-key.yaml")
        assert r.exit_code == 0, r.output
        # same bytes, another signature: refused as a changed signature status
        r = cli("apply", "-C", ws, plan)
        assert r.exit_code == 1 and "changed its signature status since planning" in r.output
        assert cli("plan", "-C", ws, "-o", plan).exit_code == 0
    r = cli("apply", "-C", ws, plan)
    assert r.exit_code == 0, r.output
    assert serial(ws) > 0


def test_a_saved_plan_whose_approval_changed_is_refused_by_apply(ws, cli, tmp_path):
    _changed_approval_is_refused(ws, cli, tmp_path, sign=False)


def test_a_saved_plan_whose_approval_was_changed_and_re_signed_is_refused(tmp_path, cli):
    ws = tmp_path / "sws"
    init_workspace(ws, "bazhong", signatures=True)
    _changed_approval_is_refused(ws, cli, tmp_path, sign=True)


def test_apply_rechecks_a_saved_plan_against_the_catalog_of_the_moment(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    plan = tmp_path / "p.json"
    assert cli("plan", "-C", ws, "-o", plan).exit_code == 0
    # ecs.s2m4 made a 1-vCPU flavor after planning: the approval now grants 2 vCPU, the plan
    # still makes two 2-vCPU servers
    saved = edit_catalog(ws, "ecs.s2m4", lambda i: i["provisions"].update(vcpus=1))
    r = cli("apply", "-C", ws, plan)
    assert r.exit_code == 1, r.output
    flat = " ".join(r.output.split())
    assert "the plan goes beyond what is approved" in flat and \
        "approval BZ-2026-0012: vCPU planned 4, approved 2" in flat, flat
    assert serial(ws) == 0 and cloud_rows(ws) == []
    (ws / "catalog" / "services.yaml").write_bytes(saved)
    # a price changed after planning: the fees the plan showed are not those of the moment
    edit_catalog(ws, "ecs.s2m4", lambda i: i.update(unit_price="150.00"))
    r = cli("apply", "-C", ws, plan)
    assert r.exit_code == 1, r.output
    flat = " ".join(r.output.split())
    assert "the monthly fees changed since the plan was made" in flat and \
        "BZ-2026-0012: monthly fee 5710.00 in the plan, 5690.00 now" in flat, flat
    assert serial(ws) == 0 and cloud_rows(ws) == []
    (ws / "catalog" / "services.yaml").write_bytes(saved)
    r = cli("apply", "-C", ws, plan)                   # control: the catalog as planned
    assert r.exit_code == 0, r.output
    assert serial(ws) > 0
