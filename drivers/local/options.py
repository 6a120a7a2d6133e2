"""``[targets.NAME]`` options of the embedded cloud (``driver = "local"``)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from drivers.options import DriverOptions, Name, Names, WorkspacePath

DEFAULT_IMAGES = ("kylin-v10-sp3", "uos-server-20", "openeuler-22.03", "centos-7.9", "ubuntu-22.04")
DEFAULT_EXTERNAL_NETWORKS = ("internet", "extranet")


class LocalOptions(DriverOptions):
    """``data_dir``: where the cloud keeps its database and volume files (relative to the
    workspace, or absolute for a cloud shared by several workspaces); ``latency_ms``: simulated
    latency of every API call; ``external_networks`` and ``images``: what the cloud offers;
    ``fail_create``: address globs whose create leaves a broken object (fault injection)."""
    data_dir: WorkspacePath = ".govcloud/local-cloud"
    latency_ms: float = Field(default=0, ge=0, le=10_000, allow_inf_nan=False)  # 1e12: a hang
    external_networks: list[Name] = Field(
        default_factory=lambda: list(DEFAULT_EXTERNAL_NETWORKS), max_length=64)
    images: Names | None = None
    fail_create: list[Annotated[str, Field(min_length=1, max_length=512)]] = \
        Field(default_factory=list, max_length=1000)

    def offered_images(self) -> frozenset[str]:
        return frozenset(self.images or DEFAULT_IMAGES)

    def offered_external_networks(self) -> frozenset[str]:
        return frozenset(self.external_networks)
