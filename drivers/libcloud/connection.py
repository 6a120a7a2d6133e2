"""The libcloud driver's way to the cloud: credentials (from the environment only), the quirk-fixed
libcloud EC2 connection (one per thread), and ``Connection``, the mixin whose ``call`` / ``req`` /
``describe`` every EC2 request goes through: counted, its failures translated into govcloud's error
classes (``translate``; transient ones are retried by the executor, not here). The backup module
and the isolation checks' second principal use the same credentials and endpoint handling.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterable
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError, LibcloudError

from drivers.base import (OWNER_TAG, Conflict, DriverError, NotFound, QuotaExceeded, Request,
                          TransientError, Unsupported)

from .common import Ref
from .ec2xml import items, text
from .options import CREDENTIAL_OPTION, ENV_OPTION
from .quirks import FixedEC2NodeDriver

# Options that would put a credential into govcloud.toml (and so into git) are refused: by the
# options schema in validate, and here for options handed over directly (tests, backups).
_CREDENTIAL_OPTIONS, _ENV_OPTION = CREDENTIAL_OPTION, ENV_OPTION

# EC2 error codes -> govcloud's error classes.
_TRANSIENT = ("RequestLimitExceeded", "Throttling", "ServiceUnavailable", "InternalError",
              "Unavailable", "IncorrectState", "IncorrectInstanceState", "InsufficientInstanceCapacity")
_CONFLICT = ("DependencyViolation", "VolumeInUse", "InvalidPermission.Duplicate",
             "Resource.AlreadyAssociated", "InvalidGroup.Duplicate", "InvalidSubnet.Conflict",
             "InvalidSubnet.Range", "InvalidVpc.Range", "RouteAlreadyExists",
             "InvalidGroup.InUse", "InvalidAttachment.NotFound")


def _error_code(exc: BaseHTTPError) -> tuple[str, str]:
    text = str(getattr(exc, "message", "") or exc)
    code, _, msg = text.partition(": ")
    return code.strip(), text


def translate(exc: Exception, what: str) -> DriverError:
    """A libcloud/HTTP failure as one of govcloud's error classes (never echoing credentials)."""
    if isinstance(exc, DriverError):
        return exc
    if isinstance(exc, InvalidCredsError):
        return DriverError(f"{what}: the cloud refused the credentials ({exc.value})")
    if isinstance(exc, BaseHTTPError):
        code, text = _error_code(exc)
        status = getattr(exc, "code", 0) or 0
        if code.endswith("NotFound") and code != "InvalidAttachment.NotFound" or \
                code in ("InvalidAMIID.Malformed",):
            return NotFound(f"{what}: {text}")
        if code.endswith("LimitExceeded") and code != "RequestLimitExceeded":
            return QuotaExceeded(f"{what}: {text}")
        if code in _TRANSIENT or status >= 500 or status == 429:
            return TransientError(f"{what}: {text or f'HTTP {status}'}")
        if code in _CONFLICT:
            return Conflict(f"{what}: {text}")
        if code in ("AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId"):
            return DriverError(f"{what}: the cloud refused the credentials ({text})")
        return DriverError(f"{what}: {text or f'HTTP {status}'}")
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)) or \
            type(exc).__module__.startswith(("requests", "urllib3")):
        return TransientError(f"{what}: cannot reach the cloud ({type(exc).__name__})")
    if isinstance(exc, LibcloudError):
        return DriverError(f"{what}: {exc.value}")
    return DriverError(f"{what}: {type(exc).__name__}: {exc}")


class Credentials:
    """Read from the environment once, when a target opens; kept in memory only.

    ``repr`` and ``str`` name the variables, never the values, so a credential cannot reach a
    log, a plan, the state or the audit log through an error message or a debug print.
    """

    __slots__ = ("access_env", "secret_env", "token_env", "_values")

    def __init__(self, options: dict[str, Any]):
        self.access_env = options.get("access_key_env", "AWS_ACCESS_KEY_ID")
        self.secret_env = options.get("secret_key_env", "AWS_SECRET_ACCESS_KEY")
        self.token_env = options.get("session_token_env", "AWS_SESSION_TOKEN")
        key, secret = os.environ.get(self.access_env), os.environ.get(self.secret_env)
        missing = [n for n, v in ((self.access_env, key), (self.secret_env, secret)) if not v]
        if missing:
            raise DriverError(f"credentials missing: set the environment variable(s) "
                              f"{', '.join(missing)} (credentials are read from the environment "
                              f"only, never from govcloud.toml)")
        self._values = (key, secret, os.environ.get(self.token_env) or None)

    def values(self) -> tuple[str, str, str | None]:
        return self._values

    def __repr__(self) -> str:
        return f"Credentials(from ${self.access_env}, ${self.secret_env}, ${self.token_env})"

    __str__ = __repr__


def check_options(options: dict[str, Any]) -> None:
    bad = sorted(k for k in options if _CREDENTIAL_OPTIONS.search(k) and not _ENV_OPTION.search(k))
    if bad:
        raise Unsupported(f"option(s) {', '.join(bad)}: credentials never go in govcloud.toml; "
                          "set access_key_env / secret_key_env / session_token_env to the names "
                          "of environment variables that hold them")


def endpoint_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """libcloud's host/port/secure arguments from an ``endpoint`` URL option (none: the default)."""
    endpoint = options.get("endpoint")
    if not endpoint:
        return {}
    url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    return {"host": url.hostname, "port": url.port or (443 if url.scheme == "https" else 80),
            "secure": url.scheme == "https"}


def connect(options: dict[str, Any], credentials: Credentials | None = None):
    """A libcloud EC2 driver (with every quirk fixed) for these target options."""
    check_options(options)
    provider = options.get("provider", "ec2")
    if provider != "ec2":
        raise Unsupported(f"provider {provider!r}: govcloud's libcloud driver supports EC2-compatible "
                          "clouds (provider = \"ec2\"); OpenStack targets use driver = \"openstack\"")
    key, secret, token = (credentials or Credentials(options)).values()
    region = options.get("region", "us-east-1")
    kw: dict[str, Any] = {"region": region, "token": token, "signature_version": "4",
                          "timeout": float(options.get("timeout", 60))}
    kw.update(endpoint_kwargs(options))
    try:
        from drivers.apilog import instrument_libcloud
        return instrument_libcloud(FixedEC2NodeDriver(key, secret, **kw))
    except ValueError as exc:  # an unknown region
        raise DriverError(f"cannot connect: {exc}") from None


class Connection:
    """Mixin of LibcloudDriver: its requests to EC2 and the tags it writes. Needs the driver's
    ``options`` and ``owner``; ``_open`` reads the credentials."""

    def _open(self, options: dict[str, Any]) -> None:
        check_options(options)
        self.credentials = Credentials(options)
        self._tls = threading.local()
        self._lock = threading.Lock()

    @property
    def ec2(self):
        """One libcloud driver per thread (the executor runs steps in parallel)."""
        drv = getattr(self._tls, "ec2", None)
        if drv is None:
            drv = connect(self.options, self.credentials)
            self._tls.ec2 = drv
        return drv

    def close(self) -> None:
        self._tls = threading.local()

    def _count(self) -> None:
        with self._lock:
            self.api_calls += 1

    def call(self, what: str, fn: Callable[..., Any], *args, **kwargs):
        """A libcloud driver method, counted, its failures translated."""
        self._count()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise translate(exc, what) from None

    def req(self, action: str, **params) -> ET.Element:
        """One EC2 API request through libcloud's (fixed) connection."""
        return self.call(action, lambda: self.ec2.connection.request(
            self.ec2.path, params={"Action": action, **params}).object)

    def describe(self, action: str, item_path: str, **params) -> list:
        """A Describe* call, following nextToken pages."""
        found, token = [], None
        while True:
            extra = {"NextToken": token} if token else {}
            body = self.req(action, **params, **extra)
            found.extend(items(body, item_path))
            token = text(body, "nextToken")
            if not token:
                return found

    @staticmethod
    def filters(by: dict[str, str | list[str]]) -> dict[str, str]:
        """EC2 Filter.N.Name / Filter.N.Value.M parameters (names as EC2 spells them)."""
        out: dict[str, str] = {}
        for i, (name, values) in enumerate(by.items(), 1):
            out[f"Filter.{i}.Name"] = name
            for j, v in enumerate(values if isinstance(values, list) else [values], 1):
                out[f"Filter.{i}.Value.{j}"] = v
        return out

    def owned(self, **more: str | list[str]) -> dict[str, str]:
        """Filters: objects with this workspace's owner tag (plus ``more``)."""
        return self.filters({f"tag:{OWNER_TAG}": self.owner, **more})

    def _tags_for(self, req: Request, **extra: str) -> dict[str, str]:
        """The tags a new object is created with: the request's, its Name, the owner tag."""
        tags = {**req.tags, "Name": req.properties.get("name", req.name), **extra}
        tags.setdefault(OWNER_TAG, self.owner)
        return tags

    def _set_tags(self, resource_id: str, tags: dict[str, str]) -> None:
        if tags:
            self.call("CreateTags", self.ec2.ex_create_tags, Ref(resource_id), tags)

    def _untag(self, rid: str, keys: Iterable[str]) -> None:
        self.call("DeleteTags", self.ec2.ex_delete_tags, Ref(rid), {k: None for k in keys})
