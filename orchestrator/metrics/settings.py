"""Which PromQL gives each metric, and which label names the server. Defaults use
node_exporter's metric names; a workspace overrides any of them in ``metrics.yaml``:

```yaml
label: govcloud_address      # the label carrying the server's govcloud address (relabel the
                             # OpenStack SD's __meta_openstack_tag_govcloud_address into it)
step_seconds: 300
queries:
  mem_pct: '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)'
```
``$label`` in a query is replaced by the label. Each query must return one series per server,
carrying the label."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError, Issue

FS = 'fstype!~"tmpfs|overlay|squashfs",mountpoint!~"/|/boot.*"'
DEFAULT_QUERIES = {
    "cpu_pct": '100 * (1 - avg by ($label) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
    "mem_pct": ('100 * (1 - sum by ($label) (node_memory_MemAvailable_bytes) / '
                'sum by ($label) (node_memory_MemTotal_bytes))'),
    "disk_used_pct": (f'100 * (1 - sum by ($label) (node_filesystem_avail_bytes{{{FS}}}) / '
                      f'sum by ($label) (node_filesystem_size_bytes{{{FS}}}))'),
    "disk_free_gb": f'sum by ($label) (node_filesystem_avail_bytes{{{FS}}}) / 1073741824',
    "up": 'max by ($label) (up)',
}
METRICS = tuple(DEFAULT_QUERIES)
FILE = "metrics.yaml"


@dataclass(frozen=True)
class MetricSettings:
    label: str = "govcloud_address"
    step_seconds: int = 300
    queries: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_QUERIES))

    def query(self, metric: str) -> str:
        return self.queries[metric].replace("$label", self.label)


def load_settings(root: Path) -> MetricSettings:
    path = root / FILE
    if not path.is_file():
        return MetricSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(FILE, [Issue("", f"not YAML: {exc}")]) from None
    issues = [Issue(k, f"unknown key (known: label, step_seconds, queries)")
              for k in data if k not in ("label", "step_seconds", "queries")]
    queries = dict(DEFAULT_QUERIES)
    for k, v in (data.get("queries") or {}).items():
        if k not in DEFAULT_QUERIES:
            issues.append(Issue(f"queries.{k}", f"unknown metric (known: {', '.join(METRICS)})"))
        elif not isinstance(v, str) or not v.strip():
            issues.append(Issue(f"queries.{k}", "give a PromQL expression"))
        else:
            queries[k] = v
    step = data.get("step_seconds", 300)
    if not isinstance(step, int) or step < 1:
        issues.append(Issue("step_seconds", "give a whole number of seconds >= 1"))
    if issues:
        raise InputError(FILE, issues)
    return MetricSettings(str(data.get("label", "govcloud_address")), step, queries)
