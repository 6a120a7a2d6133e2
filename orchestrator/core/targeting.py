"""``-target``: a plan cut down to some objects and what they depend on. Pure.

Like Terraform's ``-target``, for exceptional use (recovering from an error, one system of many
first): the selected actions, every object they refer to (transitively, so nothing is made
before what it points at), and the quota of each project in which something changes (a project's
limits are raised before anything is created in it). Everything else is left out of the plan;
the next full plan shows it again. Targeting only removes actions: it cannot add a change that
no approval compiles to.
"""
from __future__ import annotations

from typing import Iterable

from ..errors import GovcloudError, Issue
from ..models.address import Address
from ..models.plan import Action

WARNING = ("Resource targeting is in effect. You are creating a plan with the -target option, "
           "which means that the result of this plan may not represent all of the changes "
           "requested by the current configuration. The -target option is not for routine use, "
           "and is provided only for exceptional situations such as recovering from errors or "
           "mistakes, or when govcloud specifically suggests to use it as part of an error message.")
APPLIED_WARNING = ("Applied changes may be incomplete: the plan was created with the -target "
                   "option in effect, so some changes the approvals request may have been "
                   "ignored. Run `govcloud plan` to verify that no other changes are pending.")


def _matches(target: str, action: Action) -> bool:
    if ":" in target:
        return Address.parse(action.address).base == target
    stack = (action.desired.stack if action.desired is not None else
             (action.prior or {}).get("stack"))
    return stack == target


def select(actions: list[Action], targets: Iterable[str]) -> list[Action]:
    """The actions for ``targets`` (addresses, or DEPT/SYSTEM) and their dependencies."""
    targets = list(targets)
    by_addr = {a.address: a for a in actions}
    chosen: set[str] = set()
    for t in targets:
        hit = {a.address for a in actions if _matches(t, a)}
        if not hit:
            raise GovcloudError(f"-target {t}: no such object in the plan",
                                [Issue("-target", "not an address (or DEPT/SYSTEM) of any "
                                                  "spec, state record or owned object")],
                                fix="copy an address from `govcloud plan --show-unchanged`")
        chosen |= hit
    todo = list(chosen)
    while todo:
        a = by_addr[todo.pop()]
        refs = dict(a.desired.refs) if a.desired is not None else dict((a.prior or {}).get("refs") or {})
        for ref in refs.values():
            if ref in by_addr and ref not in chosen:
                chosen.add(ref)
                todo.append(ref)
    changing_projects = set()
    for addr in chosen:
        a = by_addr[addr]
        if a.action.value != "no-op":
            p = Address.parse(addr)
            if p.project:
                changing_projects.add(f"quota:{p.target}/{p.department}/{p.project}/quota")
    chosen |= changing_projects & set(by_addr)
    return [a for a in actions if a.address in chosen]
