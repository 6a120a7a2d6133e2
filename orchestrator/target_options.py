"""Each cloud target's ``[targets.NAME]`` options, checked against its driver's schema
(drivers/options.py): by `validate` (every target, before any cloud is called) and again before
a driver is made. A bad table is refused naming govcloud.toml, the table, the field and the rule."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from drivers.options import DriverOptions, options_model

from .core.validate import Offer
from .errors import InputError, Issue
from .inputs import issues_from
from .models.config import TargetSection, WorkspaceConfig

CONFIG = "govcloud.toml"


def driver_options(name: str, section: TargetSection) -> tuple[str, dict[str, Any], list[Issue]]:
    """(driver, the options handed to it, what is wrong with them)."""
    options = section.model_dump()
    kind = options.pop("driver")
    schema = options_model(kind)
    try:
        schema.model_validate(options)
    except ValidationError as exc:
        return kind, options, [Issue(f"targets.{name}.{i.path}" if i.path else f"targets.{name}",
                                     i.message) for i in issues_from(exc, schema)]
    return kind, options, []


def checked_targets(config: WorkspaceConfig) -> dict[str, DriverOptions]:
    """Every target's options as its driver's model; InputError naming every bad field."""
    issues: list[Issue] = []
    out: dict[str, DriverOptions] = {}
    for name, section in sorted(config.targets.items()):
        kind, options, bad = driver_options(name, section)
        issues += bad
        if not bad:
            out[name] = options_model(kind).model_validate(options)
    if issues:
        raise InputError(CONFIG, issues)
    return out


def offers(config: WorkspaceConfig) -> dict[str, Offer]:
    """What each target offers, as far as its options say (validate's image and external
    network checks, orchestrator/core/validate.py)."""
    return {name: Offer(o.offered_images(), o.offered_external_networks())
            for name, o in checked_targets(config).items()}
