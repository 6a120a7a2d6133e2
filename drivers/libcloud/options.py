"""``[targets.NAME]`` options of an EC2-compatible target (``driver = "libcloud"``). No libcloud
import: validate checks them where apache-libcloud is not installed."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from drivers.options import DriverOptions, EnvName, Name, Seconds

# An option that looks like a credential (and is not the name of a variable holding one).
CREDENTIAL_OPTION = re.compile(r"(^|_)(key|secret|password|token|credentials?)$", re.I)
ENV_OPTION = re.compile(r"_env$")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _endpoint(v: str) -> str:
    try:
        url = urlsplit(v if "://" in v else f"https://{v}")
        url.port
    except ValueError as exc:
        raise ValueError(f"{v[:200]!r} is not an endpoint URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"{v[:200]!r} is not an endpoint URL (http[s]://HOST[:PORT])")
    return v


def _region(v: str) -> str:
    if not _REGION.fullmatch(v):
        raise ValueError(f"{v[:80]!r} is not a region name (lower-case letters, digits, -)")
    return v


Region = Annotated[str, AfterValidator(_region)]
Mapping = Annotated[dict[Name, Name], Field(max_length=1000)]


class LibcloudOptions(DriverOptions):
    """README "EC2-compatible clouds through libcloud" and drivers/libcloud/driver.py say what
    each option does. Credentials are named by environment variable only."""
    layout: Literal["openstack", "vpc"] = "vpc"
    provider: Literal["ec2"] = "ec2"
    endpoint: Annotated[str, Field(min_length=1, max_length=2048),
                        AfterValidator(_endpoint)] | None = None
    region: Region = "us-east-1"
    availability_zone: Region | None = None
    external_networks: Annotated[list[Name], Field(max_length=64)] = \
        Field(default_factory=lambda: ["internet", "extranet"])
    images: Mapping = Field(default_factory=dict)          # image name -> AMI id
    instance_types: Mapping = Field(default_factory=dict)  # flavor -> instance type
    volume_types: Mapping = Field(default_factory=dict)    # govcloud type -> EBS type
    timeout: Seconds = 60                                  # of one HTTP request
    poll_seconds: Annotated[float, Field(ge=0.001, le=60, allow_inf_nan=False)] = 1.0
    wait_seconds: Seconds = 300                            # the bound of every wait
    access_key_env: EnvName = "AWS_ACCESS_KEY_ID"
    secret_key_env: EnvName = "AWS_SECRET_ACCESS_KEY"
    session_token_env: EnvName = "AWS_SESSION_TOKEN"
    alternate_access_key_env: EnvName | None = None        # verify-isolation's second principal
    alternate_secret_key_env: EnvName | None = None
    alternate_session_token_env: EnvName | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k in data if isinstance(k, str) and CREDENTIAL_OPTION.search(k)
                         and not ENV_OPTION.search(k))
            if bad:
                raise ValueError(f"{bad[0]}: credentials never go in govcloud.toml; set "
                                 "access_key_env / secret_key_env / session_token_env to the names "
                                 "of environment variables that hold them")
        return data

    def offered_external_networks(self) -> frozenset[str]:
        return frozenset(self.external_networks)
