"""Required application materials per profile (巴中 第十五、十六条, 大同 第十一条, 亳州 第十七条,
四川 第十二条): a missing one is refused by validate with the article, file and field; the complete
application passes (negative control); which ones depend on new / existing (migrated) systems."""
from __future__ import annotations

import pytest

from tests.policy.builders import MATERIALS, approval, workspace


def without(*keys: str) -> dict:
    return {k: v for k, v in MATERIALS.items() if k not in keys}


def validate(cli, ws):
    return cli("validate", "-C", ws, "--output", "json")


@pytest.mark.parametrize("city,key,article,zh", [
    ("bazhong", "demand_assessment", "第十五、十六条", "资源需求论证表"),
    ("bazhong", "basis", "第十五、十六条", "建设依据"),
    ("bazhong", "deployment_mode", "第十五、十六条", "部署方式"),
    ("datong", "request_report", "第十一条", "上云请示报告"),
    ("datong", "migration_plan", "第十一条", "迁移（部署）方案"),
    ("datong", "project_approval", "第十一条", "项目批复文件"),
    ("bozhou", "project_approval", "第十七条", "建设批复"),
    ("bozhou", "construction_plan", "第十七条", "建设方案"),
    ("sichuan", "filing_no", "第十二条", "备案号"),
    ("sichuan", "cloud_plan", "第十二条", "上云方案"),
])
def test_a_missing_material_is_refused_with_its_article(tmp_path, cli, city, key, article, zh):
    ws = workspace(tmp_path, city, approval("A-1", materials=without(key)))
    r = validate(cli, ws)
    assert r.exit_code == 1, r.output
    issues = r.json()["issues"]
    assert [(i["file"], i["field"], i["rule"]) for i in issues] == [
        ("approvals/A-1.yaml", f"materials.{key}", "required_materials")]
    assert article in issues[0]["message"] and zh in issues[0]["message"]
    assert f"Add materials.{key}:" in issues[0]["message"]
    ok = workspace(tmp_path, city, approval("A-1"), name="complete")   # negative control
    assert validate(cli, ok).exit_code == 0


def test_existing_systems_need_more_than_new_ones(tmp_path, cli):
    old = approval("DT-OLD", system="old")
    # 大同 第十一条（二）: 已建 systems add the 等保备案证明 and 测评报告
    new = approval("DT-NEW", system="new", materials=without("dengbao_filing", "dengbao_report"))
    assert validate(cli, workspace(tmp_path, "datong", old, new)).exit_code == 0
    moved = approval("DT-NEW", system="new", migration={"from_approval": "DT-OLD"},
                     materials=without("dengbao_filing", "dengbao_report"))
    r = validate(cli, workspace(tmp_path, "datong", old, moved, name="moved"))
    assert r.exit_code == 1
    assert {i["field"] for i in r.json()["issues"]} == {"materials.dengbao_filing", "materials.dengbao_report"}
    # 四川 第十二条: migration adds the third party's 安全评估报告 and 性能测试报告
    moved = approval("SC-NEW", system="new", migration={"from_system": "机房旧系统"},
                     materials=without("security_assessment"))
    r = validate(cli, workspace(tmp_path, "sichuan", moved, name="sc"))
    assert r.exit_code == 1 and r.json()["issues"][0]["field"] == "materials.security_assessment"
    fresh = approval("SC-NEW", system="new", materials=without("security_assessment"))
    assert validate(cli, workspace(tmp_path, "sichuan", fresh, name="sc2")).exit_code == 0


def test_bazhong_migrated_system_needs_the_migration_plan(tmp_path, cli):
    moved = approval("BZ-M", migration={"from_system": "旧门户"}, materials=without("migration_plan"))
    r = validate(cli, workspace(tmp_path, "bazhong", moved))
    assert r.exit_code == 1 and r.json()["issues"][0]["field"] == "materials.migration_plan"
    assert "第十五、十六条" in r.json()["issues"][0]["message"]


def test_bozhou_emergency_resources_file_the_project_approval_later(tmp_path, cli):
    term = {"kind": "emergency", "start": "2026-06-01", "end": "2026-08-31", "reason": "防汛"}
    urgent = approval("BZ-E", approved_on="2026-06-01", term=term, materials={"request_form": "附件1"})
    assert validate(cli, workspace(tmp_path, "bozhou", urgent)).exit_code == 0
    none = approval("BZ-E", approved_on="2026-06-01", term=term, materials={})
    r = validate(cli, workspace(tmp_path, "bozhou", none, name="none"))
    assert r.exit_code == 1 and r.json()["issues"][0]["field"] == "materials.request_form"


def test_a_change_approval_is_not_checked_and_chongqing_asks_for_none(tmp_path, cli):
    base = approval("DT-A")
    change = approval("DT-C", approved_on="2026-03-09", change_of="DT-A", materials={}, servers=[{
        "name": "more", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
        "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])
    assert validate(cli, workspace(tmp_path, "datong", base, change)).exit_code == 0
    bare = approval("CQ-1", materials={})
    assert validate(cli, workspace(tmp_path, "chongqing", bare, name="cq")).exit_code == 0
    assert validate(cli, workspace(tmp_path, "datong", approval("DT-A", materials={}),
                                   name="dt")).exit_code == 1


def test_the_shipped_examples_are_complete(tmp_path, cli):
    from orchestrator.usecases.init import init_workspace
    ws = tmp_path / "ex"
    init_workspace(ws, "bazhong")
    assert validate(cli, ws).exit_code == 0
    text = (ws / "approvals" / "BZ-2026-0012.yaml").read_text(encoding="utf-8")
    assert "materials:" in text and "basis:" in text


def test_a_profile_naming_an_unknown_material_is_refused():
    from pydantic import ValidationError
    from orchestrator.models.profile import RequiredMaterials
    with pytest.raises(ValidationError, match="'bais' is not a material"):
        RequiredMaterials(new=["bais"])
