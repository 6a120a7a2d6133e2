"""The ``[targets.NAME]`` options of govcloud.toml: one strict schema per driver.

Each driver declares its options as a ``DriverOptions`` model in a small module of its own that
imports no cloud SDK (``OPTION_MODELS``, a lazy table like ``drivers.base.DRIVERS``), so that
`govcloud validate` checks every target's table before any cloud is called, also where the
driver's SDK is not installed. The models forbid unknown fields, never coerce a type silently
(``"300"`` is not a number of seconds), refuse NaN and infinity, and bound every number, list and
string: a wait of 1e12 seconds or a poll interval of 0 is refused, not waited out.

A model also says what its cloud offers where the options state it (``offered_images``,
``offered_external_networks``; None: only the cloud knows). validate refuses an approval that
names anything else (orchestrator/core/offerings.py), before a plan is made.
"""
from __future__ import annotations

import importlib
import os
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestrator.models.base import leads_outside

OPTION_MODELS: dict[str, str] = {
    "local": "drivers.local.options:LocalOptions",
    "openstack": "drivers.openstack.options:OpenStackOptions",
    "libcloud": "drivers.libcloud.options:LibcloudOptions",
}

MAX_WAIT_SECONDS = 3600.0        # the bound of one wait for one object: an hour


class DriverOptions(BaseModel):
    """Base of every driver's options. ``layout`` is the target section's own (how compile lays
    zones out, orchestrator/models/config.py); it is passed along with the driver's options."""
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    layout: Literal["openstack", "vpc"] = "openstack"

    def offered_images(self) -> frozenset[str] | None:
        """The image names this target offers, when its options say (None: ask the cloud)."""
        return None

    def offered_external_networks(self) -> frozenset[str] | None:
        """The external networks this target has, when its options say (None: ask the cloud)."""
        return None


def options_model(driver: str) -> type[DriverOptions]:
    module, cls = OPTION_MODELS[driver].split(":")
    return getattr(importlib.import_module(module), cls)


# --- field types the drivers share -------------------------------------------------------------
def _no_nul(v: str) -> str:
    if "\0" in v:
        raise ValueError("contains a NUL character: not a path")
    return v


def _inside(v: str) -> str:
    """A relative path must stay inside the workspace (an absolute one is the operator's explicit
    choice, e.g. an embedded cloud shared by several workspaces)."""
    if leads_outside(v):
        raise ValueError(f"{v[:200]!r} leads outside the workspace: a relative path stays "
                         "inside it (give an absolute path for a place outside on purpose)")
    return v


def _absolute(v: str) -> str:
    if not os.path.isabs(v):
        raise ValueError(f"{v[:200]!r} is not an absolute path (the directory where the cloud's "
                         "backend keeps its files, as this machine sees it)")
    return v


# A duration in seconds: positive, finite, at most an hour (TOML integers are accepted as floats).
Seconds = Annotated[float, Field(gt=0, le=MAX_WAIT_SECONDS, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=128)]
Names = Annotated[list[Name], Field(max_length=1000)]
WorkspacePath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_no_nul),
                          AfterValidator(_inside)]
AbsolutePath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_no_nul),
                         AfterValidator(_absolute)]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _env_name(v: str) -> str:
    if not _ENV_NAME.fullmatch(v):
        raise ValueError(f"{v[:80]!r} is not the name of an environment variable (letters, "
                         "digits and _, not starting with a digit): the option names the "
                         "variable that holds the value, never the value")
    return v


EnvName = Annotated[str, AfterValidator(_env_name)]
