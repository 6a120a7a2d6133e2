"""How the OpenStack driver's ``_api`` classifies keystoneauth's failures (no cloud needed):
a timed-out request (a held answer: the proxy's ``hang``), a broken connection and a 5xx while
authenticating are transient (retried); bad credentials and a 4xx are not (negative controls).
Before the fix ConnectTimeout was a permanent DriverError: one slow Keystone answer failed a
project's create on the loaded test cloud."""
from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ka

from drivers.base import DriverError, TransientError
from drivers.openstack.connection import Connection


class Api(Connection):
    def __init__(self):
        self.api_calls, self.timeout = 0, 60


@pytest.mark.parametrize("exc", [
    ka.ConnectTimeout("Request to http://127.0.0.1:5000/v3/users/x timed out"),
    ka.ConnectFailure("Connection reset by peer"),
    ka.UnknownConnectionError("RemoteDisconnected", None),
    ka.http.ServiceUnavailable(), ka.http.InternalServerError()])
def test_timeouts_resets_and_5xx_are_transient(exc):
    with pytest.raises(TransientError):
        with Api()._api():
            raise exc


@pytest.mark.parametrize("exc", [ka.http.Unauthorized(), ka.http.BadRequest(),
                                 ka.SSLError("certificate verify failed")])
def test_refusals_are_not_transient(exc):
    with pytest.raises(DriverError) as err:
        with Api()._api():
            raise exc
    assert not err.value.transient
