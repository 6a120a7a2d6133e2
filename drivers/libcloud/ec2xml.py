"""Reading EC2 query-API replies (after quirks.py has normalised their namespace)."""
from __future__ import annotations

from libcloud.compute.drivers.ec2 import NAMESPACE


def _ns(path: str) -> str:
    return "/".join(f"{{{NAMESPACE}}}{p}" for p in path.split("/"))


def text(el, path: str, default: str | None = None) -> str | None:
    found = el.find(_ns(path))
    return default if found is None or found.text is None else found.text


def items(el, path: str) -> list:
    return el.findall(_ns(path))


def tags(el) -> dict[str, str]:
    return {text(i, "key"): text(i, "value", "") for i in items(el, "tagSet/item")}


def tagspec(resource_type: str, tag_map: dict[str, str], n: int = 1) -> dict[str, str]:
    """TagSpecification.N parameters: tags set in the same call that creates the object."""
    out = {f"TagSpecification.{n}.ResourceType": resource_type}
    for i, (k, v) in enumerate(sorted(tag_map.items()), 1):
        out[f"TagSpecification.{n}.Tag.{i}.Key"] = k
        out[f"TagSpecification.{n}.Tag.{i}.Value"] = str(v)
    return out
