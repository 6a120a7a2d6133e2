"""`govcloud init`: a new workspace with the shipped catalog and, optionally, example approvals."""
from __future__ import annotations

import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import GovcloudError
from ..workspace import SHIPPED_CATALOG, available_profiles, load_profile

INIT_FORMAT = "govcloud-init/1"

CONFIG_TEMPLATE = """\
# govcloud workspace. Docs: README.md, section "File formats".
[workspace]
id = "{ws_id}"            # ownership tag on every cloud object; never change it
name = "{name}"
profile = "{profile}"      # policy profile: bazhong, datong, chongqing, bozhou, sichuan

[state]
url = "sqlite:///.govcloud/state.db"

# Each zone may point at its own cloud target (a separate resource pool, region or cloud).
[zones.internet]            # 互联网区
target = "local"
external_network = "internet"
tenant_pool = "10.64.0.0/10"
source_cidr = "0.0.0.0/0"   # what `source: zone:internet` admits

[zones.extranet]            # 电子政务外网区
target = "local"
external_network = "extranet"
tenant_pool = "10.128.0.0/10"
source_cidr = "59.192.0.0/10"   # the e-government extranet's address range (set yours)

[targets.local]
driver = "local"            # the embedded cloud: .govcloud/local-cloud
"""


@dataclass
class InitResult:
    workspace: str
    id: str
    profile: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"format": INIT_FORMAT, **asdict(self)}


def init_workspace(directory: Path, profile: str, examples: bool = True) -> InitResult:
    if profile not in available_profiles():
        load_profile(profile, where="--profile: profile")  # raises with a suggestion
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "govcloud.toml"
    if cfg.exists():
        raise GovcloudError(f"{cfg} already exists", fix="use another directory, or remove it first")
    ws_id = "ws-" + secrets.token_hex(6)
    cfg.write_text(CONFIG_TEMPLATE.format(ws_id=ws_id, name=directory.resolve().name,
                                          profile=profile), encoding="utf-8")
    (directory / "catalog").mkdir(exist_ok=True)
    shutil.copyfile(SHIPPED_CATALOG / "services.yaml", directory / "catalog" / "services.yaml")
    (directory / "approvals").mkdir(exist_ok=True)
    created = ["govcloud.toml", "catalog/services.yaml"]
    if examples:
        for src in sorted((SHIPPED_CATALOG / "examples" / "approvals").glob("*.yaml")):
            shutil.copyfile(src, directory / "approvals" / src.name)
            created.append(f"approvals/{src.name}")
    (directory / ".gitignore").write_text(
        ".govcloud/\n*.plan.json\n"
        "# decommission backups: full copies of a system's data, never into the repository\n"
        "backups/\n", encoding="utf-8")
    created.append(".gitignore")
    return InitResult(str(directory.resolve()), ws_id, profile, created)
