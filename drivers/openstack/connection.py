"""Talking to the cloud: the admin connection, connections scoped to a tenant project or made as
one of its users, the retry of a freshly changed password, and ``_api``, the one place where
openstacksdk and keystoneauth exceptions become govcloud's DriverError classes (and where API
calls are counted). No message leaves here with a password, secret or token in it.
"""
from __future__ import annotations

import contextlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, TypeVar

from drivers.base import Conflict, DriverError, NotFound, QuotaExceeded, TransientError

T = TypeVar("T")


API_TIMEOUT = 60.0   # seconds for one HTTP request (openstacksdk's default: none, wait forever)


def connect(cloud: str, api_timeout: float = API_TIMEOUT):
    """The authorized connection to a clouds.yaml entry; a failure names the cloud, never secrets.
    ``api_timeout`` bounds every HTTP request (connections made from this one inherit it)."""
    import openstack

    from drivers.apilog import hook_openstack
    try:
        conn = hook_openstack(openstack.connect(cloud=cloud, api_timeout=api_timeout))
        conn.authorize()
    except Exception as exc:  # keystoneauth / config errors
        raise DriverError(f"cannot connect to OpenStack cloud {cloud!r} "
                          f"({type(exc).__name__}); check clouds.yaml / OS_CLIENT_CONFIG_FILE "
                          "and that the cloud is up (scripts/openstack/up.sh)") from None
    return conn


def user_connection(admin, username: str, password: str, domain_id: str, project_id: str):
    """A connection as a (department or probe) user, to the admin's endpoint and region."""
    import openstack

    from drivers.apilog import hook_openstack
    return hook_openstack(openstack.connect(
        auth_url=admin.config.auth["auth_url"], username=username, password=password,
        user_domain_id=domain_id, project_id=project_id, region_name=admin.config.region_name,
        api_timeout=admin.config.config.get("api_timeout") or API_TIMEOUT))


def retry(call: Callable[[], T], attempts: int, delay: float) -> T:
    """``call()`` after ``delay`` seconds, again on a DriverError, at most ``attempts`` times."""
    for attempt in range(attempts):
        time.sleep(delay)
        try:
            return call()
        except DriverError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _msg(exc: Exception) -> str:
    text = str(getattr(exc, "details", None) or exc)
    # never echo a request body or auth data back to the user
    return re.sub(r"(password|secret|token)[^,;]*", r"\1=***", text, flags=re.I)[:500]


class Connection:
    """The driver's connections (``conn``, admin; ``_scoped``, per project) and ``_api``."""

    conn: Any
    timeout: float
    api_calls: int
    _scoped: dict[str, Any]
    handlers: dict[str, Any]

    _counting = threading.Lock()     # reads run in threads (read_map): counts stay exact
    read_concurrency = 1

    def count(self, attr: str = "api_calls") -> None:
        with self._counting:
            setattr(self, attr, getattr(self, attr) + 1)

    def read_map(self, fn: Callable[[Any], Any], items: list) -> list:
        """``[fn(x) for x in items]``, up to ``read_concurrency`` at once (reads only)."""
        if self.read_concurrency <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(min(self.read_concurrency, len(items)),
                                thread_name_prefix="govcloud-read") as pool:
            return list(pool.map(fn, items))

    @contextlib.contextmanager
    def _api(self) -> Iterator[None]:
        """One counted API call (or a few that belong together), its errors translated."""
        from openstack import exceptions as ox
        self.count()
        try:
            yield
        except ox.NotFoundException as exc:
            raise NotFound(_msg(exc)) from None
        except ox.ConflictException as exc:
            raise Conflict(_msg(exc)) from None
        except ox.ForbiddenException as exc:
            if "quota" in str(exc).lower():
                raise QuotaExceeded(_msg(exc)) from None
            raise DriverError(_msg(exc)) from None
        except ox.HttpException as exc:
            code = getattr(exc, "status_code", None) or 0
            text = _msg(exc)
            if code == 400 and ("must be greater than or equal to" in text
                                or "status must be" in text or "in-use" in text):
                raise Conflict(text) from None
            if code == 413 or "quota" in text.lower() or "exceed" in text.lower():
                raise QuotaExceeded(text) from None
            if code >= 500:
                raise TransientError(text) from None
            raise DriverError(text) from None
        except ox.ResourceTimeout as exc:  # openstacksdk's own wait_for_* (bounded by wait=)
            raise DriverError(f"timed out after {self.timeout:g}s: {_msg(exc)}") from None
        except (ConnectionError, TimeoutError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        except ox.SDKException as exc:
            raise DriverError(_msg(exc)) from None
        except Exception as exc:
            from keystoneauth1 import exceptions as ka
            # A request that timed out (ConnectTimeout: keystoneauth's name for a read timeout
            # too) or whose connection broke is retried; it was a permanent DriverError, so one
            # slow Keystone answer or reset failed the step. A 5xx from keystoneauth itself
            # (during authentication) likewise.
            if isinstance(exc, (ka.RetriableConnectionFailure, ka.UnknownConnectionError)) or \
                    isinstance(exc, ka.HttpError) and (exc.http_status or 0) >= 500:
                raise TransientError(f"cannot reach the cloud: {type(exc).__name__}: "
                                     f"{_msg(exc)}") from None
            if isinstance(exc, ka.ClientException):
                raise DriverError(f"{type(exc).__name__}: {_msg(exc)}") from None
            raise

    def _project_conn(self, project_id: str):
        """A connection scoped to a tenant project (admin holds the admin role there)."""
        conn = self._scoped.get(project_id)
        if conn is None:
            with self._api():
                project = self.conn.identity.get_project(project_id)
            # idempotent: also repairs a project adopted after a crash
            self.handlers["project"].grant(project)
            with self._api():
                from drivers.apilog import hook_openstack
                conn = hook_openstack(self.conn.connect_as(project_id=project_id,
                                                           project_domain_id=project.domain_id))
            self._scoped[project_id] = conn
        return conn

    def close(self) -> None:
        for c in [self.conn, *self._scoped.values()]:
            with contextlib.suppress(Exception):
                c.close()
