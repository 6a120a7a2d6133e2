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

[dates]
term_end = "last-day"       # a term's end is its last day of service (as the approval form writes it)

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
{approvals}"""

APPROVALS_SECTION = """
# Approvals must carry the bureau's signature (README: Trust): approvals/X.yaml.sig by a key of
# trust/approvers.yaml. The key made by init is a DEMO key: replace it with the bureau's.
[approvals]
require_signatures = true
"""

KEYRING_HEADER = """\
# The bureau's keys: who may sign approvals and change documents (README: Trust).
# Rotation: add the new key, sign with it, later set valid_until on the old one.
# Revocation: set revoked_on (the day it stopped being trusted). Review changes in git.
# DEMO: the entry below was made by `govcloud init`; its private key is
# .govcloud/demo-bureau-key.yaml (never committed). Replace it with the bureau's real key.
keys:
"""
DEMO_KEY = ".govcloud/demo-bureau-key.yaml"


@dataclass
class InitResult:
    workspace: str
    id: str
    profile: str
    files: list[str]
    demo_key: str | None = None       # the demo bureau key init made and signed with

    def to_dict(self) -> dict[str, Any]:
        return {"format": INIT_FORMAT, **asdict(self)}


def init_workspace(directory: Path, profile: str, examples: bool = True,
                   signatures: bool = False) -> InitResult:
    """``signatures``: require signed approvals, make a demo bureau key (SM2) outside what git
    sees, put its public half in trust/approvers.yaml and sign the examples with it."""
    if profile not in available_profiles():
        load_profile(profile, where="--profile: profile")  # raises with a suggestion
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "govcloud.toml"
    if cfg.exists():
        raise GovcloudError(f"{cfg} already exists", fix="use another directory, or remove it first")
    ws_id = "ws-" + secrets.token_hex(6)
    cfg.write_text(CONFIG_TEMPLATE.format(ws_id=ws_id, name=directory.resolve().name,
                                          profile=profile,
                                          approvals=APPROVALS_SECTION if signatures else ""),
                   encoding="utf-8")
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
    demo = None
    if signatures:
        demo = _demo_signing(directory, [directory / f for f in created if f.startswith("approvals/")])
        created += ["trust/approvers.yaml"] + [f + ".sig" for f in created
                                                 if f.startswith("approvals/")]
    return InitResult(str(directory.resolve()), ws_id, profile, created, demo)


def _demo_signing(directory: Path, approvals: list[Path]) -> str:
    import datetime as dt
    from ..trust.signatures import sign_file
    from .approval import keygen
    from ..trust.signatures import read_key
    today = dt.date.today()
    key_path = directory / DEMO_KEY
    res = keygen(key_path, "demo-bureau-sm2", "sm2-sm3", "演示：市政务服务和大数据管理局",
                 "演示签名人", dt.date(2000, 1, 1), demo=True)
    (directory / "trust").mkdir(exist_ok=True)
    (directory / "trust" / "approvers.yaml").write_text(KEYRING_HEADER + res.keyring_entry,
                                                        encoding="utf-8")
    key = read_key(key_path)
    for a in approvals:
        sign_file(a, key, today)
    return DEMO_KEY
