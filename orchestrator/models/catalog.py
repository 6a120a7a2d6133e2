"""The service catalog (服务目录): what can be approved, at what price, provisioning what."""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from .base import Input, Money, Name

Category = Literal[
    "compute", "block_storage", "object_storage", "network", "bandwidth", "public_ip",
    "security_service", "database", "middleware", "backup",
]
ZoneName = Literal["internet", "extranet"]


class FlavorProvision(Input):
    kind: Literal["flavor"]
    vcpus: Annotated[int, Field(gt=0, le=1024)]       # bounded: no cloud quota meets 2**63
    ram_gb: Annotated[int, Field(gt=0, le=32768)]
    arch: Literal["x86_64", "aarch64"] = "x86_64"


class VolumeProvision(Input):
    kind: Literal["volume"]
    volume_type: Name
    max_gb: Annotated[int, Field(gt=0, le=1048576)] = 32768


class BandwidthProvision(Input):
    kind: Literal["bandwidth"]
    zone: ZoneName


class PublicIPProvision(Input):
    kind: Literal["public_ip"]
    zone: ZoneName


class ServiceProvision(Input):
    """Billed, not provisioned by govcloud's drivers (WAF, bastion, DB licences...)."""

    kind: Literal["service"]
    service: Name
    dengbao_level: int | None = Field(default=None, ge=1, le=3)


Provision = Annotated[
    Union[FlavorProvision, VolumeProvision, BandwidthProvision, PublicIPProvision, ServiceProvision],
    Field(discriminator="kind"),
]


class CatalogItem(Input):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(\.[a-z0-9-]+)+$")]
    name_zh: Name
    name_en: Name
    category: Category
    unit: Literal["台·月", "GB·月", "Mbps·月", "个·月", "套·月", "核·月"]
    unit_price: Money
    price_ceiling: Money
    provisions: Provision

    @model_validator(mode="after")
    def _category_matches(self) -> "CatalogItem":
        allowed = {"flavor": {"compute"}, "volume": {"block_storage"}, "bandwidth": {"bandwidth"},
                   "public_ip": {"public_ip"}}.get(self.provisions.kind)
        if allowed and self.category not in allowed:
            raise ValueError(f"category: a {self.provisions.kind} item must be in category "
                             f"{'/'.join(sorted(allowed))}, not {self.category}")
        return self

    @model_validator(mode="after")
    def _within_ceiling(self) -> "CatalogItem":
        if self.unit_price > self.price_ceiling:
            raise ValueError(
                f"unit_price {self.unit_price} exceeds the price ceiling (限价) {self.price_ceiling}")
        return self


class Catalog(Input):
    version: int = Field(gt=0, le=1_000_000)
    currency: Literal["CNY"] = "CNY"
    revised_on: str | None = None
    items: list[CatalogItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> "Catalog":
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if item.code in seen:
                raise ValueError(f"items[{i}].code: duplicate catalog code {item.code!r}")
            seen.add(item.code)
        zoned: dict[tuple[str, str], str] = {}
        for i, item in enumerate(self.items):
            zone = getattr(item.provisions, "zone", None)
            if zone is None:
                continue
            key = (item.provisions.kind, zone)
            if key in zoned:
                raise ValueError(f"items[{i}].provisions: a second {key[0]} item for the {zone} "
                                 f"zone (also {zoned[key]}); which one to bill would be a guess")
            zoned[key] = item.code
        return self

    @cached_property
    def items_by_code(self) -> dict[str, CatalogItem]:
        """code -> item, built once (not a field: equality and dumps ignore it)."""
        return {i.code: i for i in self.items}

    def by_code(self) -> dict[str, CatalogItem]:
        """code -> item (compile and validate ask per approval and stack): read it, do not
        change it."""
        return self.items_by_code

    def codes_of(self, kind: str) -> list[str]:
        return [i.code for i in self.items if i.provisions.kind == kind]

    def zone_item(self, kind: str, zone: str) -> CatalogItem | None:
        for item in self.items:
            if item.provisions.kind == kind and getattr(item.provisions, "zone", None) == zone:
                return item
        return None
