"""Monthly fees of an approval, priced from the service catalog. Pure."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..models.approval import Approval
from ..models.catalog import Catalog, CatalogItem
from ..models.spec import BillingLine

CENT = Decimal("0.01")


def _line(approval: str, item: CatalogItem, quantity: Decimal | int, what: str) -> BillingLine:
    q = Decimal(quantity)
    return BillingLine(approval=approval, item=item.code, description=what, quantity=q,
                       unit=item.unit, unit_price=item.unit_price,
                       amount=(item.unit_price * q).quantize(CENT, rounding=ROUND_HALF_UP))


def price_approval(approval: Approval, catalog: Catalog) -> list[BillingLine]:
    """One line per priced thing, in approval order. Assumes the approval was validated."""
    items = catalog.by_code()
    no = approval.approval_no
    lines: list[BillingLine] = []
    for zone, req in approval.zones.items():
        for s in req.servers:
            lines.append(_line(no, items[s.flavor], s.count, f"{zone}/{s.name} x{s.count}"))
            lines.append(_line(no, items[s.system_disk.type], s.system_disk.gb * s.count,
                               f"{zone}/{s.name} system disk {s.system_disk.gb} GB x{s.count}"))
            for k, d in enumerate(s.data_disks, 1):
                lines.append(_line(no, items[d.type], d.gb * s.count,
                                   f"{zone}/{s.name} data disk {k} {d.gb} GB x{s.count}"))
        for v in req.volumes:
            lines.append(_line(no, items[v.type], v.gb, f"{zone}/{v.name} {v.gb} GB"))
        if req.public_ips:
            item = catalog.zone_item("public_ip", zone)
            lines.append(_line(no, item, req.public_ips, f"{zone} public IPs"))
        if req.bandwidth_mbps:
            item = catalog.zone_item("bandwidth", zone)
            lines.append(_line(no, item, req.bandwidth_mbps, f"{zone} bandwidth"))
    for svc in approval.services:
        lines.append(_line(no, items[svc.item], svc.quantity, items[svc.item].name_en))
    return lines


def total(lines: list[BillingLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00")).quantize(CENT)
