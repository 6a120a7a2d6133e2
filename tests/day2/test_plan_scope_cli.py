"""`govcloud plan` of the changed departments only (core/plan_scope.py), through the CLI on the
embedded cloud: unchanged departments are skipped and the plan says so; a touched approval plans
its department exactly as a whole plan would; `--refresh=full` still reads everything (drift in a
skipped department); an apply of such a plan keeps the skipped departments' fees in force."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

from orchestrator.state.sqlite import SQLiteStateStore
from tests.policy.builders import write_change


def _plan(cli, ws, *extra):
    r = cli("plan", "-C", ws, "--output", "json", *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _scoped_ws(ws, cli):
    with open(ws / "govcloud.toml", "a", encoding="utf-8") as f:
        f.write("\n[plan]\nskip_unchanged_from = 1\n")
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    return ws


def _grow_edu_disk(ws, cli):
    def grow(zones):
        zones["internet"]["servers"][0]["data_disks"][0]["gb"] = 120
    write_change(ws, "BZ-2026-0012-CH1", "BZ-2026-0012.yaml", grow,
                 approved_on=dt.date.today().isoformat())
    assert cli("compile", "-C", ws).exit_code == 0


def _by_address(plan):
    return {a["address"]: a for a in plan["actions"]}


def test_unchanged_departments_are_skipped_and_a_touched_one_plans_as_a_whole_plan(ws, cli):
    _scoped_ws(ws, cli)
    first = _plan(cli, ws)                     # the apply wrote every row: all planned
    assert first["stacks"]["skipped"] == 0 and first["summary"]["create"] == 0
    second = _plan(cli, ws)
    assert second["stacks"] == {**second["stacks"], "planned": 0, "of": 2, "skipped": 2,
                                "departments": []}
    assert second["actions"] == [] and "--refresh=full" in second["stacks"]["reason"]
    text = cli("plan", "-C", ws).output
    assert "Stacks: 0 of 2 planned" in text and "2 skipped as unchanged" in text
    assert "No changes." in text

    _grow_edu_disk(ws, cli)
    part = _plan(cli, ws)
    assert part["stacks"]["departments"] == ["edu"] and part["stacks"]["skipped"] == 1
    whole = _plan(cli, ws, "--refresh", "full")
    assert whole["stacks"]["skipped"] == 0 and whole["stacks"]["reason"].startswith("--refresh=full")
    edu = {a: act for a, act in _by_address(whole).items() if "/edu" in a}
    assert _by_address(part) == edu            # the same actions, field for field
    changed = sorted(a["kind"] for a in part["actions"] if a["action"] != "no-op")
    assert changed == ["quota", "volume", "volume"]          # web-1's and web-2's disks
    assert {k: v for k, v in whole["summary"].items() if k != "no-op"} == \
        {k: v for k, v in part["summary"].items() if k != "no-op"}
    assert {f["approval"] for f in part["review"]["fees"]} == {"BZ-2026-0012"}
    assert [f for f in whole["review"]["fees"] if f["approval"] == "BZ-2026-0012"] == \
        part["review"]["fees"]                 # the change document's bigger disk priced
    assert part["review"]["fees"][0]["after"] != part["review"]["fees"][0]["before"]
    assert {r["department"] for r in part["review"]["quota"]} == {"edu"}
    assert [r for r in whole["review"]["quota"] if r["department"] == "edu"] == \
        part["review"]["quota"]


def test_drift_in_a_skipped_department_is_found_by_a_full_check(ws, cli):
    _scoped_ws(ws, cli)
    _plan(cli, ws)
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    with db:
        db.execute("DELETE FROM objects WHERE kind = 'volume' AND address LIKE '%/hrss/%'")
    db.close()
    assert _plan(cli, ws)["actions"] == []    # trusted between full checks, and said so
    full = _plan(cli, ws, "--refresh", "full")
    missing = [a for a in full["actions"] if a["cause"] == "missing"]
    assert missing and all("/hrss/" in a["address"] for a in missing)
    again = _plan(cli, ws)                    # hrss planned until it is clean again
    assert again["stacks"]["departments"] == ["hrss"]
    assert [a["address"] for a in again["actions"] if a["cause"] == "missing"] == \
        [a["address"] for a in missing]


def test_an_apply_of_one_department_keeps_the_others_fees_in_force(ws, cli):
    _scoped_ws(ws, cli)
    _plan(cli, ws)
    store = SQLiteStateStore(ws / ".govcloud" / "state.db")
    before = store.get_workflow("fees-in-force")["fees"]
    store.close()
    assert set(before) == {"BZ-2026-0012", "BZ-2026-0031"}
    _grow_edu_disk(ws, cli)
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    store = SQLiteStateStore(ws / ".govcloud" / "state.db")
    after = store.get_workflow("fees-in-force")["fees"]
    store.close()
    assert after["BZ-2026-0031"] == before["BZ-2026-0031"]
    assert after["BZ-2026-0012"]["fee"] != before["BZ-2026-0012"]["fee"]   # the bigger disk
    after_apply = _plan(cli, ws)
    assert after_apply["stacks"]["departments"] == ["edu"] and after_apply["summary"]["update"] == 0
    assert _plan(cli, ws)["stacks"]["planned"] == 0


def test_the_embedded_cloud_reads_some_departments_only(applied_ws):
    from orchestrator.state.base import department_of
    from orchestrator.usecases.session import open_drivers
    from orchestrator.workspace import Workspace
    with open_drivers(Workspace.at(applied_ws)) as drivers:
        drv = drivers.need(["local"])["local"]
        every = drv.observe()
        edu = [o for o in every if department_of(o.address) == "edu"]
        assert edu and len(edu) < len(every)
        got = drv.observe_departments(["edu", "ed", "nobody"])   # "ed" is no prefix match
        assert sorted(o.cloud_id for o in got) == sorted(o.cloud_id for o in edu)
        assert got[0] in every                                   # the same objects
        assert drv.observe_departments([]) == []


def test_a_saved_plan_of_one_department_applies_as_saved(ws, cli, tmp_path):
    _scoped_ws(ws, cli)
    _plan(cli, ws)
    _grow_edu_disk(ws, cli)
    saved = tmp_path / "edu.plan"
    r = cli("plan", "-C", ws, "-o", saved)
    assert r.exit_code == 0, r.output
    assert json.loads(saved.read_text())["stacks"]["departments"] == ["edu"]
    r = cli("apply", "-C", ws, saved)          # re-checked against the edu approvals only
    assert r.exit_code == 0, r.output
    assert _plan(cli, ws, "--refresh", "full")["summary"]["update"] == 0


def test_markdown_says_which_stacks_a_plan_skipped(ws, cli):
    _scoped_ws(ws, cli)
    _plan(cli, ws)
    r = cli("plan", "-C", ws, "--output", "markdown")
    assert r.exit_code == 0, r.output
    assert "0 of 2 stacks planned (departments none); 2 skipped as unchanged" in r.output


def test_only_clouds_that_read_by_address_skip_departments(ws):
    from orchestrator.usecases.plan_scope import enabled
    from orchestrator.workspace import Workspace
    with open(ws / "govcloud.toml", "a", encoding="utf-8") as f:
        f.write("\n[plan]\nskip_unchanged_from = 3\n")
    assert enabled(Workspace.at(ws), 3) and not enabled(Workspace.at(ws), 2)
    with open(ws / "govcloud.toml", "a", encoding="utf-8") as f:
        f.write('\n[targets.os]\ndriver = "openstack"\n')    # auto trusts its quotas instead
    assert not enabled(Workspace.at(ws), 3)


def test_strays_found_by_a_full_check_stay_in_the_next_scoped_plans(ws, cli):
    _scoped_ws(ws, cli)
    _plan(cli, ws)
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    with db:   # a second object with an hrss volume's tags, and one under an address no spec
        # or state has (an apply killed mid-retry, an approval's volume renamed by hand)
        db.execute("INSERT INTO objects SELECT 'dup-1', kind, project_id, name, props, refs, "
                   "tags, status, owner, address, created_at + 1 FROM objects WHERE kind = "
                   "'volume' AND address LIKE '%/hrss/%' LIMIT 1")
        db.execute("INSERT INTO objects SELECT 'stray-1', kind, project_id, name || '-x', props, "
                   "refs, json_set(tags, '$.\"govcloud.address\"', address || '-x'), status, "
                   "owner, address || '-x', created_at FROM objects WHERE id = 'dup-1'")
    db.close()
    assert _plan(cli, ws)["actions"] == []    # trusted between full checks
    full = _plan(cli, ws, "--refresh", "full")
    strays = sorted((a["cause"], a["address"]) for a in full["actions"] if a["action"] == "delete")
    assert [c for c, _ in strays] == ["duplicate", "owned-unknown"]
    assert all("/hrss/" in a for _, a in strays) and strays[0][1].endswith("#dup-1")
    again = _plan(cli, ws)                    # hrss has changes: planned, its strays read
    assert again["stacks"]["departments"] == ["hrss"]
    assert sorted((a["cause"], a["address"]) for a in again["actions"]
                  if a["action"] == "delete") == strays
