"""``[targets.NAME]`` options of an OpenStack target (``driver = "openstack"``). No SDK import:
validate checks them where openstacksdk is not installed."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from drivers.options import AbsolutePath, DriverOptions, Name, Names, Seconds


class OpenStackOptions(DriverOptions):
    """``cloud``: the clouds.yaml entry (default: OS_CLOUD / ``--os-cloud``, then
    ``govcloud-admin``); ``wait_timeout``: seconds for every wait; ``api_timeout``: seconds for one
    HTTP request (openstacksdk has none by default: a cloud that holds a request hung the run); ``volume_files`` /
    ``image_files``: where the Cinder file share and Glance's file store are visible to govcloud
    (absolute paths: decommissioning wipes the media there); ``operators``: who may hold roles on
    managed projects besides the department (``name``, ``name@domain``, ``group:name``);
    ``images`` / ``external_networks``: what the cloud offers, when the operator declares it
    (validate then refuses an approval naming anything else; unset: only the cloud's own lookup
    answers, when the object is made); ``read_concurrency``: how many of an observation's reads run
    at once (each kind's list, the survey's lists, the per-project quota sets; 1: one by one)."""
    cloud: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    wait_timeout: Seconds = 300
    api_timeout: Seconds = 60
    read_concurrency: Annotated[int, Field(ge=1, le=16)] = 4
    volume_files: AbsolutePath | None = None
    image_files: AbsolutePath | None = None
    operators: list[Annotated[str, Field(min_length=1, max_length=255)]] = \
        Field(default_factory=list, max_length=100)
    images: Names | None = None
    external_networks: Annotated[list[Name], Field(max_length=64)] | None = None

    def offered_images(self) -> frozenset[str] | None:
        return None if self.images is None else frozenset(self.images)

    def offered_external_networks(self) -> frozenset[str] | None:
        return None if self.external_networks is None else frozenset(self.external_networks)
