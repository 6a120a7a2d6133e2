"""Where the money's inputs and records live: the acceptance results of 重庆 第四十一条
(``settlement/acceptance-<YEAR>.yaml``, reviewed in git like approvals) and closed monthly
bills (one document per month in the state store, ``bill:<YYYY-MM>``, with the adjustment
lines recorded after closing)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .core.settlement import RESULTS
from .errors import GovcloudError, Issue, InputError
from .state.base import StateStore


def load_acceptance(root: Path) -> dict[int, dict[str, str]]:
    """year -> {result, document} from settlement/acceptance-<YEAR>.yaml (absent: none)."""
    out: dict[int, dict[str, str]] = {}
    d = root / "settlement"
    if not d.is_dir():
        return out
    for path in sorted(d.glob("acceptance-*.yaml")):
        rel = f"settlement/{path.name}"
        try:
            year = int(path.stem.split("-", 1)[1])
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (ValueError, yaml.YAMLError) as exc:
            raise InputError(rel, [Issue("", f"not a YAML file named acceptance-<YEAR>.yaml: "
                                             f"{exc}")]) from None
        if not isinstance(data, dict) or data.get("result") not in RESULTS:
            raise InputError(rel, [Issue("result", f"give one of {', '.join(RESULTS)} "
                                                   f"(验收: 通过 / 暂缓通过 / 不通过)")])
        out[year] = {"result": str(data["result"]), "document": str(data.get("document", ""))}
    return out


def closed_key(month: str) -> str:
    return f"bill:{month}"


def load_closed(store: StateStore, month: str) -> dict[str, Any] | None:
    return store.get_workflow(closed_key(month))


def save_closed(store: StateStore, month: str, doc: dict[str, Any]) -> None:
    store.put_workflow(closed_key(month), doc)


def refuse_open_month(month: str, last, today) -> None:
    if today <= last:
        raise GovcloudError(f"--close: {month} is not over yet (its last day is {last}, today is "
                            f"{today}); a month is closed after its last day",
                            fix="bill it without --close, or close it from the next month on")
