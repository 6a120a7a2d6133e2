"""The embedded cloud's project quotas (mixed into LocalDriver): what each object costs, what a
project uses, and the check every create and growing update makes inside its transaction."""
from __future__ import annotations

import json
from typing import Any

from drivers.base import QuotaExceeded

# What a project may use when no quota object has been set (OpenStack's defaults).
DEFAULT_QUOTA = {"cores": 20, "ram_mb": 51200, "instances": 10, "volumes": 10, "gigabytes": 1000,
                 "snapshots": 10, "floating_ips": 50, "networks": 100, "subnets": 100,
                 "routers": 10, "ports": 500, "security_groups": 10, "security_group_rules": 100}


class Quotas:
    def _usage(self, db, project_id: str) -> dict[str, int]:
        # Summed by SQLite (json_extract), not decoded row by row in Python: this runs for
        # every create and was a tenth of an apply's CPU.
        use = {k: 0 for k in DEFAULT_QUOTA}
        for kind, n, vcpus, ram_gb, disk_gb, size_gb, rules in db.execute(
                "SELECT kind, count(*), sum(json_extract(props,'$.vcpus')), "
                "sum(json_extract(props,'$.ram_gb')), sum(json_extract(props,'$.system_disk_gb')), "
                "sum(json_extract(props,'$.size_gb')), sum(json_array_length(props,'$.rules')) "
                "FROM objects WHERE project_id=? GROUP BY kind", (project_id,)):
            if kind == "server":
                use["cores"] += vcpus or 0
                use["ram_mb"] += (ram_gb or 0) * 1024
                use["instances"] += n
                use["volumes"] += n
                use["gigabytes"] += disk_gb or 0
                use["ports"] += n
            elif kind == "volume":
                use["volumes"] += n
                use["gigabytes"] += size_gb or 0
            elif kind == "floating_ip":
                use["floating_ips"] += n
            elif kind == "network":
                use["networks"] += n
            elif kind == "subnet":
                use["subnets"] += n
            elif kind == "router":
                use["routers"] += n
                use["ports"] += n
            elif kind == "security_group":
                use["security_groups"] += n
                use["security_group_rules"] += rules or 0
        return use

    def _limits(self, db, project_id: str) -> dict[str, int]:
        row = db.execute("SELECT props FROM objects WHERE project_id=? AND kind='quota'",
                         (project_id,)).fetchone()
        return json.loads(row[0]) if row else dict(DEFAULT_QUOTA)

    def _charge(self, db, project_id: str | None, delta: dict[str, int]) -> None:
        if not project_id or not delta:
            return
        use, limits = self._usage(db, project_id), self._limits(db, project_id)
        over = [f"{k}: {use[k]} in use + {n} requested > limit {limits[k]}"
                for k, n in delta.items() if n > 0 and use[k] + n > limits[k]]
        if over:
            raise QuotaExceeded(f"quota exceeded for project {project_id}: " + "; ".join(over))

    @staticmethod
    def _cost(kind: str, p: dict[str, Any]) -> dict[str, int]:
        if kind == "server":
            return {"cores": p["vcpus"], "ram_mb": p["ram_gb"] * 1024, "instances": 1, "volumes": 1,
                    "gigabytes": p["system_disk_gb"], "ports": 1}
        if kind == "volume":
            return {"volumes": 1, "gigabytes": p["size_gb"]}
        if kind == "security_group":
            return {"security_groups": 1, "security_group_rules": len(p.get("rules", []))}
        simple = {"floating_ip": "floating_ips", "network": "networks", "subnet": "subnets",
                  "router": "routers"}
        if kind in simple:
            return {simple[kind]: 1, **({"ports": 1} if kind == "router" else {})}
        return {}
