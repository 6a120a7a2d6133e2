"""plan --refresh=auto's choice of departments (orchestrator/core/plan_scope.py): what is planned
again after a touched spec, a state write, a new day, and when everything is."""
from __future__ import annotations

import datetime as dt

from orchestrator.core.plan_scope import (INDEX_FORMAT, Choice, Key, choose, entries_after,
                                          pending_after)
from orchestrator.state.base import department_of

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 12, 4)
KEY = Key("lin", 7, "shared", ())
DIGESTS = {"stacks/a/s1.yaml": "h1", "stacks/a/s2.yaml": "h2", "stacks/b/s3.yaml": "h3",
           "stacks/c/s4.yaml": "h4"}


def index(**over):
    stacks = {rel: {"sha256": sha, "clean": True, "dated": False} for rel, sha in DIGESTS.items()}
    base = {"format": INDEX_FORMAT, "lineage": "lin", "serial": 7, "shared": "shared",
            "frozen": [], "aligned": True, "today": TODAY.isoformat(),
            "full_at": (NOW - dt.timedelta(hours=2)).isoformat(), "stacks": stacks}
    base.update(over)
    return base


def pick(idx, digests=DIGESTS, changed=frozenset(), today=TODAY, key=KEY, mode="auto", hours=24):
    return choose(mode, idx, key, digests, None if changed is None else set(changed), today,
                  NOW, hours, department_of)


def test_nothing_changed_plans_no_department_and_says_so():
    c = pick(index())
    assert c.departments == frozenset() and "--refresh=full" in c.reason
    assert c.stacks == {"stacks/a/s1.yaml": "a", "stacks/a/s2.yaml": "a",
                        "stacks/b/s3.yaml": "b", "stacks/c/s4.yaml": "c"}


def test_a_touched_spec_plans_its_whole_department_only():
    assert pick(index(), {**DIGESTS, "stacks/a/s2.yaml": "new"}).departments == {"a"}


def test_new_and_removed_spec_files_plan_their_departments():
    digests = {k: v for k, v in DIGESTS.items() if k != "stacks/b/s3.yaml"}
    digests["stacks/d/s5.yaml"] = "h5"
    assert pick(index(), digests).departments == {"b", "d"}


def test_state_rows_written_since_plan_their_departments():
    changed = {"server:local/c/s4-internet/web-1", "domain:local/b"}
    assert pick(index(), changed=changed).departments == {"b", "c"}


def test_a_department_that_planned_with_changes_is_planned_until_clean():
    idx = index()
    idx["stacks"]["stacks/b/s3.yaml"]["clean"] = False
    assert pick(idx).departments == {"b"}


def test_dated_departments_are_planned_again_on_a_new_day_only():
    idx = index()
    idx["stacks"]["stacks/c/s4.yaml"]["dated"] = True
    assert pick(idx).departments == frozenset()
    assert pick(idx, today=TODAY + dt.timedelta(days=1)).departments == {"c"}


def test_everything_is_planned_when_the_index_cannot_be_trusted():
    full = [pick({}), pick(index(format="other")), pick(index(lineage="x")),
            pick(index(shared="other code")), pick(index(frozen=["a/s1"])),
            pick(index(full_at=None)), pick(index(), changed=None),
            pick(index(full_at=(NOW - dt.timedelta(hours=25)).isoformat())),
            pick(index(), hours=0), pick(index(), mode="full"),
            pick(index(serial=9)),   # the state went back (a state push)
            pick(index(aligned=False)), pick(index(), key=Key("lin", 7, "", ()))]
    assert [c.departments for c in full] == [None] * len(full)
    assert "25.0 h old" in full[7].reason and "--refresh=full" in full[9].reason


def test_entries_after_a_scoped_plan_keep_the_skipped_departments_as_they_were():
    idx = index()
    idx["stacks"]["stacks/c/s4.yaml"] = {"sha256": "h4", "clean": True, "dated": True}
    choice = Choice(frozenset({"a"}), "", None, {r: r.split("/")[1] for r in DIGESTS})
    out = entries_after(idx, choice, {**DIGESTS, "stacks/a/s1.yaml": "new"}, clean=set(),
                        dated={"a"})
    assert out["stacks/a/s1.yaml"] == {"sha256": "new", "clean": False, "dated": True}
    assert out["stacks/c/s4.yaml"] == {"sha256": "h4", "clean": True, "dated": True}
    whole = entries_after(idx, Choice(None, "", None, choice.stacks), DIGESTS,
                          clean={"a", "b", "c"}, dated=set())
    assert whole["stacks/c/s4.yaml"] == {"sha256": "h4", "clean": True, "dated": False}


def test_changes_in_a_department_without_specs_keep_it_planned_until_clean():
    stacks = {r: r.split("/")[1] for r in DIGESTS}
    whole = Choice(None, "", None, stacks)
    assert pending_after({}, whole, dirty={"gone", "a"}) == ["gone"]   # "a" has its entries
    assert pick(index(pending=["gone"])).departments == {"gone"}
    part = Choice(frozenset({"gone"}), "", None, stacks)
    assert pending_after(index(pending=["gone", "old"]), part, dirty=set()) == ["old"]
