"""Scale: compile and a no-op plan of N synthetic approvals on the local driver.

    python benchmarks/bench_scale.py [--sizes 1000,10000] [--workdir DIR] [--json]
                                     [--parallelism 8] [--profile] [--keep] [--seed 1]

For each N, in a fresh workspace (`govcloud init --no-examples`) under a temporary directory:

  setup     generate N valid approvals (N/10 departments; systems with one to three approvals;
            internet-only, extranet-only and two-zone systems; temporary windows; mixed
            flavors, disks, volumes, public IPs and inbound rules)
  baseline  yaml.load of the N approval files with libyaml's CSafeLoader, and nothing else
  (a)       compile: validate + compile + write every spec (stacks/ is empty before, and there is
            no approval parse cache: every file is parsed as YAML)
  (b)       compile again: nothing changed, so it must write nothing (checked: file list, sizes
            and mtimes of stacks/ are identical before and after, and the report says 0 written);
            it is skipped: its inputs (every file validate and compile read, the code, the day)
            hash to what the last compile recorded in .govcloud/compile-index.json, and its
            outputs are as that compile left them
  (b')      compile with one approval file touched (a comment appended): everything is validated
            again, the other files' data comes from the parse cache; its validated data is
            unchanged, so the per-stack index (.govcloud/stack-index.json) keeps every spec: it
            compiles no stack and writes nothing (bench_incremental.py times a content change)
  setup     apply everything (usecases.apply.apply, as `apply --auto-approve`; --parallelism workers)
  baseline  yaml.load of the compiled spec files with CSafeLoader, and nothing else
  (c)       plan: a no-op plan (every stack: refresh "full"); it must report zero changes, or
            the run stops with an error
  (c')      the plan through the CLI (`govcloud plan --detailed-exitcode`, exit 0 = none); its
            default `--refresh=auto` skips, from [plan] skip_unchanged_from spec files, every
            department (c) found unchanged (bench_plan_scale.py compares the two)

Every timed step runs in a fresh child Python, so peak RSS is that step's own (os.wait4's
ru_maxrss of the child). "wall" is the child process from spawn to exit (interpreter start and
imports included: what a user waits for); "in-phase" is the use-case call alone, timed inside
the child. With --profile the largest N's compile (as (b) without its index: a full compile
with the parse cache warm) and plan (c) are run once more under cProfile and the top functions
printed. Everything is deleted at the end unless --keep.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1 << 20
TARGET_SECONDS = 10.0      # compile (a) + plan (c) of 10,000 approvals, process wall time
TARGET_MIB = 1024          # peak RSS of either step

# --- synthetic approvals -----------------------------------------------------------------------

FLAVORS = ["ecs.s1m2", "ecs.s2m4", "ecs.s2m4", "ecs.s4m8", "ecs.s4m8", "ecs.s8m16", "ecs.c4m8",
           "ecs.c8m16", "ecs.m4m32", "ecs.m8m64", "ecs.k4m8", "ecs.k8m16"]
DISK_TYPES = ["blk.ssd", "blk.ssd", "blk.sata", "blk.essd"]
IMAGES = ["kylin-v10-sp3", "uos-server-20", "openeuler-22.03"]
ROLES = ["web", "app", "db", "cache", "mq", "gis", "api", "etl", "search", "file"]
DEPT_WORDS = ["教育局", "人力资源和社会保障局", "卫生健康委员会", "公安局", "民政局", "财政局",
              "自然资源和规划局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
              "农业农村局", "商务局", "文化广电旅游局", "应急管理局", "市场监督管理局",
              "医疗保障局", "统计局", "林业局", "退役军人事务局"]
SYSTEM_WORDS = ["政务服务门户", "业务办理系统", "数据共享平台", "档案管理系统", "视频会议系统",
                "监管执法平台", "统计分析系统", "公众服务小程序后台", "协同办公系统", "地理信息平台"]


def _servers(rng: random.Random, names: list[str]) -> list[dict]:
    out = []
    for name in names:
        s = {"name": name, "flavor": rng.choice(FLAVORS), "image": rng.choice(IMAGES),
             "system_disk": {"type": rng.choice(["blk.ssd", "blk.ssd", "blk.sata"]),
                             "gb": rng.choice([40, 40, 50, 100])}}
        disks = rng.choices([0, 1, 2], weights=[4, 5, 1])[0]
        if disks:
            s["data_disks"] = [{"type": rng.choice(DISK_TYPES), "gb": rng.choice([100, 200, 500, 1000])}
                               for _ in range(disks)]
        count = rng.choices([1, 2, 3, 4], weights=[5, 4, 2, 1])[0]
        if count > 1:
            s["count"] = count
        out.append(s)
    return out


def _zone_request(rng: random.Random, zone: str, names: list[str], vol_name: str | None) -> dict:
    req: dict = {"servers": _servers(rng, names)}
    if vol_name:
        req["volumes"] = [{"name": vol_name, "type": rng.choice(["blk.sata", "blk.ssd"]),
                           "gb": rng.choice([500, 1000, 2000])}]
    if zone == "internet":
        if rng.random() < 0.7:
            req["public_ips"] = rng.choice([1, 1, 2])
            req["bandwidth_mbps"] = rng.choice([10, 20, 50, 100])
        rules = [{"protocol": "tcp", "port": 443, "source": "0.0.0.0/0", "description": "HTTPS"}]
        if rng.random() < 0.5:
            rules.append({"protocol": "tcp", "port": 80, "source": "0.0.0.0/0"})
        if rng.random() < 0.3:
            rules.append({"protocol": "tcp", "port": 22,
                          "source": f"203.0.113.{rng.randrange(1, 255)}/32", "description": "运维"})
        if rng.random() < 0.1:
            rules.append({"protocol": "udp", "port": 30000, "port_max": 30100, "source": "0.0.0.0/0"})
    else:
        if rng.random() < 0.2:
            req["public_ips"] = 1
            req["bandwidth_mbps"] = rng.choice([10, 20])
        rules = [{"protocol": "tcp", "port": 8443, "source": "zone:extranet", "description": "政务外网接口"}]
        if rng.random() < 0.6:
            rules.append({"protocol": "icmp", "source": "zone:extranet"})
        if rng.random() < 0.3:
            rules.append({"protocol": "tcp", "port": 1521, "source": "59.203.16.0/24",
                          "description": "市级数据交换前置"})
    req["inbound"] = rules
    return req


def generate(approvals_dir: Path, n: int, today: dt.date, seed: int) -> dict:
    """Write ``n`` valid approval files; returns what was generated."""
    import yaml
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    rng = random.Random(seed)
    n_depts = max(1, n // 10)
    systems: dict[int, list[dict]] = {d: [] for d in range(n_depts)}   # dept -> its systems
    stats = {"approvals": n, "departments": n_depts, "systems": 0, "internet_only": 0,
             "extranet_only": 0, "both_zones": 0, "follow_up_approvals": 0, "window_terms": 0,
             "server_groups": 0}
    # Approval dates rise with the file number (a change comes after what it amends); the
    # temporary windows are open today (start 60 days ago, six months long).
    first_day, last_day = dt.date(2023, 1, 1), today - dt.timedelta(days=120)
    span = (last_day - first_day).days
    win_start, win_end = today - dt.timedelta(days=60), today + dt.timedelta(days=122)
    for i in range(n):
        d = i % n_depts
        dept = {"code": f"d{d:05d}", "name": f"第{d}{DEPT_WORDS[d % len(DEPT_WORDS)]}"}
        own = systems[d]
        follow_up = bool(own) and rng.random() < 0.2 and len(own[-1]["approvals"]) < 3
        if follow_up:
            sysrec = own[-1]
            zones = [z for z in sysrec["zones"] if rng.random() < 0.7] or sysrec["zones"][:1]
            stats["follow_up_approvals"] += 1
        else:
            k = len(own)
            level = rng.choices([1, 2, 3], weights=[1, 6, 3])[0]
            sysrec = {"code": f"s{k:03d}-{rng.choice(ROLES)}",
                      "name": f"{SYSTEM_WORDS[k % len(SYSTEM_WORDS)]}{k}", "dengbao_level": level,
                      "zones": rng.choices([["internet"], ["extranet"], ["internet", "extranet"]],
                                           weights=[4, 3, 3])[0],
                      "approvals": [], "used": set()}
            own.append(sysrec)
            stats["systems"] += 1
            stats[{("internet",): "internet_only", ("extranet",): "extranet_only"}.get(
                tuple(sysrec["zones"]), "both_zones")] += 1
            zones = sysrec["zones"]
        approved_on = first_day + dt.timedelta(days=i * span // n)
        window = follow_up and rng.random() < 0.4
        if window:
            approved_on = win_start - dt.timedelta(days=10)
        approval_no = f"BZ-{approved_on.year}-{i:05d}"
        request = {}
        for z in zones:
            free = [r for r in ROLES if f"{z}/{r}" not in sysrec["used"]]
            if not free:   # every role name taken in this zone: name by approval
                free = [f"x{i}"]
            names = rng.sample(free, min(len(free), rng.choices([1, 2, 3], weights=[3, 5, 2])[0]))
            sysrec["used"].update(f"{z}/{r}" for r in names)
            vol = f"archive-{i}" if rng.random() < 0.15 else None
            request[z] = _zone_request(rng, z, names, vol)
            stats["server_groups"] += len(names)
        if window:
            term = {"kind": "window", "start": win_start, "end": win_end}
            stats["window_terms"] += 1
        else:
            term = {"kind": "permanent"}
        level = sysrec["dengbao_level"]
        services = [{"item": f"sec.dengbao{level}"}] if level in (2, 3) and not follow_up else []
        if rng.random() < 0.2:
            services.append({"item": rng.choice(["sec.waf", "db.dm8", "sec.bastion", "mw.tongweb"])})
        doc = {
            "approval_no": approval_no,
            "department": dept,
            "system": {"code": sysrec["code"], "name": sysrec["name"], "dengbao_level": level},
            "approvers": [{"name": "王敏", "org": "市政务服务和大数据管理局", "role": "资源审核"},
                          {"name": f"审批人{d}", "org": dept["name"], "role": "主管领导"}],
            "approved_on": approved_on,
            "term": term,
            "purpose": f"{dept['name']}{sysrec['name']} (synthetic, bench_scale.py)",
            "contact": f"联系人{i} 0827-{5550000 + i % 10000}",
            "zones": request,
            # 巴中 第十六条: a new system's application materials
            "materials": {"demand_assessment": f"论证表 {i}", "basis": f"建设依据 {i}",
                          "deployment_mode": "按区部署"},
        }
        if follow_up and not window:   # a change (变更) of the system's first, permanent approval
            doc["change_of"] = sysrec["approvals"][0]
        if services:
            doc["services"] = services
        sysrec["approvals"].append(approval_no)
        (approvals_dir / f"{approval_no}.yaml").write_text(
            yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return stats


# --- one timed step in a fresh child Python ------------------------------------------------------

def child(phase: str, ws_dir: Path, today: dt.date, parallelism: int, profile_out: str | None) -> None:
    """Runs in the child process: do one step, print one JSON line."""
    import resource
    t_imp = time.perf_counter()
    if phase.startswith("yaml-"):
        import yaml
        loader = yaml.CSafeLoader
    else:
        from orchestrator.usecases.apply import apply
        from orchestrator.usecases.compile import compile_workspace
        from orchestrator.usecases.plan import plan
        from orchestrator.workspace import Workspace
    import_s = time.perf_counter() - t_imp

    def yaml_files(paths):
        n = 0
        for p in paths:
            yaml.load(p.read_bytes().decode("utf-8"), Loader=loader)
            n += 1
        return {"files": n}

    def compile_():
        rep = compile_workspace(Workspace.at(ws_dir), today)
        return {"stacks": rep.stacks, "written": len(rep.written), "unchanged": len(rep.unchanged),
                "removed": len(rep.removed), "monthly_fee": rep.monthly_fee}

    def plan_():
        p = plan(Workspace.at(ws_dir), today, lock_timeout=60).plan
        changing = [a for a in p.actions if a.action != "no-op"]
        return {"summary": p.summary, "has_changes": p.has_changes,
                "examples": [f"{a.action} {a.address}: {a.reason}" for a in changing[:10]]}

    def apply_():   # as `govcloud apply --auto-approve`
        res = apply(Workspace.at(ws_dir), None, today, parallelism, lock_timeout=600)
        return {"summary": res.plan.summary, "steps": len(res.results), "failed": len(res.failed),
                "examples": [f"{r.address}: {r.outcome} {r.detail}" for r in res.failed[:10]]}

    work = {
        "yaml-approvals": lambda: yaml_files(sorted((ws_dir / "approvals").glob("*.yaml"))),
        "yaml-specs": lambda: yaml_files(sorted((ws_dir / "stacks").glob("*/*.yaml"))),
        "compile": compile_, "recompile": compile_, "plan": plan_, "apply": apply_,
    }[phase]
    prof = None
    if profile_out:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    result = work()
    phase_s = time.perf_counter() - t0
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile_out)
    result.update(phase_s=phase_s, import_s=import_s,
                  self_maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


def spawn(cmd: list[str], log: Path) -> tuple[int, dict]:
    """Run ``cmd``; return its exit code and wall seconds, CPU seconds (user + system), peak RSS
    (MiB) of that child alone, and the 1-minute load average when it started."""
    load = os.getloadavg()[0]
    with open(log, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)   # reaped here: tell Popen
    return p.returncode, {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
                          "peak_rss_mib": ru.ru_maxrss / 1024,   # ru_maxrss is KiB on Linux
                          "load_1min": load}


class BenchFailure(Exception):
    pass


def run_phase(phase: str, ws: Path, args, today: dt.date, profile_out: str | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_phase", phase, "--_ws", str(ws),
           "--_today", today.isoformat(), "--parallelism", str(args.parallelism)]
    if profile_out:
        cmd += ["--_profile", profile_out]
    log = ws.parent / f"{ws.name}.{phase}.log"
    rc, usage = spawn(cmd, log)
    text = log.read_text(errors="replace")
    if rc != 0:
        raise BenchFailure(f"{phase} failed (exit {rc}):\n{text[-4000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    result.update(usage)
    return result


def stacks_listing(ws: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(ws)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted((ws / "stacks").rglob("*")) if p.is_file()}


def cloud_objects(ws: Path) -> int:
    owner = tomllib.loads((ws / "govcloud.toml").read_text())["workspace"]["id"]
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    try:
        return db.execute("SELECT count(*) FROM objects WHERE owner=?", (owner,)).fetchone()[0]
    finally:
        db.close()


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def best_of(k: int, fn) -> dict:
    """Run a measured step ``k`` times; keep the fastest (wall), note every wall time."""
    runs = [fn() for _ in range(max(1, k))]
    r = min(runs, key=lambda x: x["wall_s"])
    r["runs_wall_s"] = [round(x["wall_s"], 3) for x in runs]
    return r


def bench_size(n: int, base: Path, args, today: dt.date, log, reuse: bool = False) -> dict:
    ws = base / f"ws-{n}"
    setup_file = base / f"ws-{n}.setup.json"
    rec: dict = {"n": n, "phases": {}}
    ph = rec["phases"]
    k = args.repeat
    if reuse:   # generated and applied by an earlier run with --keep
        if not setup_file.is_file():
            raise BenchFailure(f"{setup_file} not found: --reuse takes a directory that an earlier "
                               f"run of the same sizes kept (--keep)")
        saved = json.loads(setup_file.read_text())
        today = dt.date.fromisoformat(saved["today"])   # the day its windows were applied for
        rec["generated"], rec["reused_setup"] = saved["generated"], str(base)
        ph["generate"], ph["apply"] = saved["generate"], saved["apply"]
        log(f"  reusing {ws} (generated and applied for {today})")
    else:
        t0 = time.perf_counter()
        rc, _ = spawn([sys.executable, "-m", "orchestrator.cli", "init", "--no-examples", str(ws)],
                      base / f"init-{n}.log")
        if rc:
            raise BenchFailure(f"govcloud init failed: {(base / f'init-{n}.log').read_text()}")
        # unsigned synthetic approvals: signing is measured on its own (bench_signing.py)
        cfg = ws / "govcloud.toml"
        cfg.write_text(cfg.read_text().replace("require_signatures = true",
                                               "require_signatures = false"))
        rec["generated"] = generate(ws / "approvals", n, today, args.seed)
        ph["generate"] = {"wall_s": time.perf_counter() - t0, "setup": True}
        log(f"  generated {n} approvals in {ph['generate']['wall_s']:.1f} s")

    ph["yaml_approvals"] = best_of(k, lambda: run_phase("yaml-approvals", ws, args, today))
    log(f"  baseline yaml.load approvals: {ph['yaml_approvals']['phase_s']:.2f} s")

    def compile_fresh() -> dict:
        stacks, prev = ws / "stacks", ws / "stacks.prev"
        if prev.exists():
            shutil.rmtree(prev)
        if stacks.exists():   # a repeat (or --reuse): compile into an empty stacks/ again
            stacks.rename(prev)
        # (a) stays a first compile: no approval parse cache either (compile leaves one)
        (ws / ".govcloud" / "approval-parse-cache.json").unlink(missing_ok=True)
        r = run_phase("compile", ws, args, today)
        if r["written"] != r["stacks"] or r["stacks"] == 0:
            raise BenchFailure(f"compile wrote {r['written']} of {r['stacks']} specs into an "
                               f"empty stacks/")
        if prev.exists():
            old, new = tree_bytes(prev), tree_bytes(stacks)
            if old != new:
                diff = sorted(f for f in old.keys() | new.keys() if old.get(f) != new.get(f))
                raise BenchFailure(f"compiling the same inputs again gave other bytes: {diff[:10]}")
            shutil.rmtree(prev)
        log(f"  compile: {r['wall_s']:.2f} s, {r['peak_rss_mib']:.0f} MiB, {r['stacks']} specs")
        return r

    def recompile_nothing() -> dict:
        before = stacks_listing(ws)
        r = run_phase("recompile", ws, args, today)
        after = stacks_listing(ws)
        if r["written"] or r["removed"] or before != after:
            changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
            raise BenchFailure(f"the second compile changed files: report {r['written']} written, "
                               f"{r['removed']} removed; on disk: {changed[:10]}")
        log(f"  compile again: {r['wall_s']:.2f} s, wrote nothing")
        return r

    ph["compile"] = best_of(k, compile_fresh)
    def recompile_touched() -> dict:
        """One approval file gets a comment: its bytes change, its data does not. The whole
        workspace is validated again (only that file is parsed as YAML); no stack is compiled
        (its validated data is the same: the per-stack index keeps every spec)."""
        victim = sorted((ws / "approvals").glob("*.yaml"))[n // 2]
        original = victim.read_bytes()
        victim.write_bytes(original + b"# touched by bench_scale.py\n")
        try:
            before = stacks_listing(ws)
            r = run_phase("recompile", ws, args, today)
            after = stacks_listing(ws)
        finally:
            victim.write_bytes(original)
        if r["written"] or r["removed"] or before != after:
            raise BenchFailure(f"a comment in {victim.name} changed specs: {r['written']} written")
        log(f"  compile, one file touched: {r['wall_s']:.2f} s, wrote nothing")
        return r

    ph["recompile"] = best_of(k, recompile_nothing)
    ph["touched"] = best_of(k, recompile_touched)
    listing = stacks_listing(ws)
    rec["spec_files"] = len(listing) - 1   # minus stacks/ipam.yaml
    rec["spec_mib"] = sum(size for _, size in listing.values()) / MIB

    if not reuse:
        ph["apply"] = r = run_phase("apply", ws, args, today)
        r["setup"] = True
        if r["failed"]:
            raise BenchFailure(f"setup apply: {r['failed']} steps failed: " + "\n".join(r["examples"]))
        log(f"  setup apply: {r['wall_s']:.1f} s, {r['steps']} steps")
        setup_file.write_text(json.dumps({"today": today.isoformat(), "generated": rec["generated"],
                                          "generate": ph["generate"], "apply": ph["apply"]}))
    rec["objects"] = cloud_objects(ws)

    ph["yaml_specs"] = best_of(k, lambda: run_phase("yaml-specs", ws, args, today))

    def plan_noop() -> dict:
        r = run_phase("plan", ws, args, today)
        if r["has_changes"]:
            raise BenchFailure(f"the plan after apply is not a no-op: {r['summary']}\n"
                               + "\n".join(r["examples"]))
        if r["summary"]["no-op"] != rec["objects"]:
            raise BenchFailure(f"the plan covers {r['summary']['no-op']} objects, the cloud holds "
                               f"{rec['objects']}")
        log(f"  plan: {r['wall_s']:.2f} s, {r['peak_rss_mib']:.0f} MiB, no changes "
            f"({rec['objects']} objects)")
        return r

    def cli_plan_noop() -> dict:
        log_file = base / f"cli-plan-{n}.log"
        rc, usage = spawn([sys.executable, "-m", "orchestrator.cli", "plan", "-C", str(ws),
                           "--detailed-exitcode", "--now", today.isoformat()], log_file)
        if rc != 0:
            raise BenchFailure(f"`govcloud plan --detailed-exitcode` exited {rc} (2 = changes):\n"
                               + log_file.read_text()[-3000:])
        log(f"  govcloud plan (CLI): {usage['wall_s']:.2f} s, {usage['peak_rss_mib']:.0f} MiB, exit 0")
        return usage

    ph["plan"] = best_of(k, plan_noop)
    ph["cli_plan"] = best_of(k, cli_plan_noop)
    return rec


ROWS = [  # key, label, is it a headline step
    ("generate", "setup: generate approval files", False),
    ("yaml_approvals", "baseline: yaml.load approvals (C)", False),
    ("compile", "(a) compile, writing all specs", True),
    ("recompile", "(b) compile again, no change", True),
    ("touched", "(b') compile, one file touched", True),
    ("apply", "setup: apply everything", False),
    ("yaml_specs", "baseline: yaml.load specs (C)", False),
    ("plan", "(c) plan, no-op", True),
    ("cli_plan", "(c') govcloud plan CLI, no-op", True),
]


def report(runs: list[dict], args) -> dict:
    out = []
    for rec in runs:
        n = rec["n"]
        g = rec["generated"]
        out.append(f"\nN = {n:,} approvals: {g['departments']:,} departments, {g['systems']:,} "
                   f"systems ({g['internet_only']:,} internet only, {g['extranet_only']:,} extranet "
                   f"only, {g['both_zones']:,} both), {g['follow_up_approvals']:,} follow-up "
                   f"approvals ({g['window_terms']:,} temporary windows)")
        out.append(f"  {rec['objects']:,} objects in the cloud; {rec['spec_files']:,} spec files, "
                   f"{rec['spec_mib']:.1f} MiB of YAML")
        if rec.get("reused_setup"):
            out.append(f"  (setup rows: from the run that prepared {rec['reused_setup']})")
        if args.repeat > 1:
            out.append(f"  (measured steps: fastest of {args.repeat} runs)")
        out.append(f"  {'step':<38}{'wall s':>9}{'CPU s':>9}{'in-phase s':>12}{'peak RSS MiB':>14}"
                   f"{'ms/approval':>13}{'load':>6}")
        for key, label, _ in ROWS:
            p = rec["phases"].get(key)
            if p is None:
                continue
            inph = f"{p['phase_s']:.2f}" if "phase_s" in p else "-"
            rss = f"{p['peak_rss_mib']:.0f}" if "peak_rss_mib" in p else "-"
            cpu = f"{p['cpu_s']:.2f}" if "cpu_s" in p else "-"
            load = f"{p['load_1min']:.1f}" if "load_1min" in p else "-"
            if key == "apply":
                label = f"setup: apply everything (P={args.parallelism})"
            out.append(f"  {label:<38}{p['wall_s']:>9.2f}{cpu:>9}{inph:>12}{rss:>14}"
                       f"{1000 * p['wall_s'] / n:>13.3f}{load:>6}")
        c, pl = rec["phases"]["compile"], rec["phases"]["plan"]
        both = c["wall_s"] + pl["wall_s"]
        peak = max(c["peak_rss_mib"], pl["peak_rss_mib"])
        rec["compile_plus_plan"] = {"wall_s": both, "cpu_s": c["cpu_s"] + pl["cpu_s"],
                                    "peak_rss_mib": peak}
        out.append(f"  {'(a) + (c)':<38}{both:>9.2f}{c['cpu_s'] + pl['cpu_s']:>9.2f}"
                   f"{c['phase_s'] + pl['phase_s']:>12.2f}{peak:>14.0f}{1000 * both / n:>13.3f}")
        pa = c["phase_s"] and rec["phases"]["yaml_approvals"]["phase_s"] / c["phase_s"]
        ps = pl["phase_s"] and rec["phases"]["yaml_specs"]["phase_s"] / pl["phase_s"]
        out.append(f"  parsing alone is {100 * pa:.0f}% of compile's in-phase time (approvals) "
                   f"and {100 * ps:.0f}% of plan's (specs)")
    linearity = {}
    if len(runs) >= 2:
        lo, hi = runs[0], runs[-1]
        k = hi["n"] / lo["n"]
        out.append(f"\nLinearity, N={hi['n']:,} over N={lo['n']:,} (x{k:g} approvals; "
                   f"x{hi['objects'] / lo['objects']:.2f} objects): time ratio, {k:g} = linear")
        for key, label, _ in ROWS:
            a, b = lo["phases"].get(key), hi["phases"].get(key)
            if not a or not b:
                continue
            r_wall = b["wall_s"] / a["wall_s"]
            entry = {"wall": r_wall}
            line = f"  {label:<38} wall x{r_wall:6.2f}"
            if "cpu_s" in a and "cpu_s" in b and a["cpu_s"] > 0:
                entry["cpu"] = b["cpu_s"] / a["cpu_s"]
                line += f"   CPU x{entry['cpu']:6.2f}"
            if "phase_s" in a and a["phase_s"] > 0:
                entry["in_phase"] = b["phase_s"] / a["phase_s"]
                line += f"   in-phase x{entry['in_phase']:6.2f}"
            linearity[key] = entry
            out.append(line)
    target = {}
    for rec in runs:
        if rec["n"] == 10000:
            cp = rec["compile_plus_plan"]
            ok = cp["wall_s"] < TARGET_SECONDS and cp["peak_rss_mib"] < TARGET_MIB
            target = {"n": 10000, "wall_s": cp["wall_s"], "cpu_s": cp["cpu_s"],
                      "peak_rss_mib": cp["peak_rss_mib"], "met": ok}
            out.append(f"\nTarget (10,000 approvals: compile + plan < {TARGET_SECONDS:g} s and "
                       f"< {TARGET_MIB} MiB): {cp['wall_s']:.2f} s wall ({cp['cpu_s']:.2f} s CPU), "
                       f"{cp['peak_rss_mib']:.0f} MiB -> {'MET' if ok else 'MISSED'}")
    return {"text": "\n".join(out), "linearity": linearity, "target": target}


def print_profile(path: str, title: str, limit: int) -> str:
    import io
    import pstats
    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf)
    st.strip_dirs()
    buf.write(f"\n===== cProfile: {title} (top {limit} by own time) =====\n")
    st.sort_stats("tottime").print_stats(limit)
    buf.write(f"\n===== cProfile: {title} (top {limit} by cumulative time) =====\n")
    st.sort_stats("cumulative").print_stats(limit)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated approval counts")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="directory for the temporary workspaces (default: the system temp dir)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--parallelism", type=int, default=8, help="apply workers in the setup")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true",
                    help="also profile compile and plan of the largest size (cProfile)")
    ap.add_argument("--keep", action="store_true", help="keep the workspaces (prints where)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measured step this many times and report the fastest")
    ap.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                    help="measure again in workspaces an earlier run kept (skips generating and "
                         "applying; DIR is never deleted)")
    ap.add_argument("--_phase", help=argparse.SUPPRESS)
    ap.add_argument("--_ws", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_today", help=argparse.SUPPRESS)
    ap.add_argument("--_profile", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._phase:
        child(args._phase, args._ws, dt.date.fromisoformat(args._today), args.parallelism,
              args._profile)
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    today = dt.date.today()
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else \
        (lambda msg: print(msg, flush=True))
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    base = args.reuse.resolve() if args.reuse else \
        Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.workdir))
    # A SIGTERM still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "platform": platform.platform(), "today": today.isoformat()}
    log(f"bench_scale: sizes {sizes}, data in {base}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, load average {os.getloadavg()[0]:.1f}")
    runs, profiles = [], ""
    try:
        for n in sorted(sizes):
            log(f"N = {n:,}")
            runs.append(bench_size(n, base, args, today, log, reuse=args.reuse is not None))
        if args.profile and runs:
            ws = base / f"ws-{runs[-1]['n']}"
            for phase in ("recompile", "plan"):
                if phase == "recompile":   # profile a compile that runs (not the skip)
                    (ws / ".govcloud" / "compile-index.json").unlink(missing_ok=True)
                out = str(base / f"{phase}.prof")
                run_phase(phase, ws, args, today, profile_out=out)
                profiles += print_profile(out, f"{phase}, N={runs[-1]['n']:,}", 30)
    except BenchFailure as exc:
        print(f"bench_scale: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep or args.reuse:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    rep = report(runs, args)
    if args.json:
        print(json.dumps({"machine": machine, "runs": runs, "linearity": rep["linearity"],
                          "target": rep["target"]}, indent=1, default=str))
    else:
        print(rep["text"])
        if profiles:
            print(profiles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
