"""The shared pieces of the driver contract: Address, assert_owned, wait_for, capabilities."""
import pytest

from drivers.base import (CAPABILITIES, Census, Driver, DriverError, MediaAccess, NotOwned,
                          OWNER_TAG, WaitTimeout, assert_owned, wait_for)
from orchestrator.models.address import Address, kind_of, target_of


def test_address_parses_every_shape():
    a = Address.parse("server:local/edu/edu-portal-internet/web-1")
    assert (a.kind, a.target, a.department, a.project, a.name) == \
        ("server", "local", "edu", "edu-portal-internet", "web-1")
    d = Address.parse("domain:os/edu")
    assert (d.department, d.project, d.name) == ("edu", None, "edu")
    dup = Address.parse("volume:local/edu/p/data#vol-9")
    assert dup.duplicate == "vol-9" and dup.base == "volume:local/edu/p/data"
    assert str(dup) == "volume:local/edu/p/data#vol-9"
    assert str(a.with_kind("quota")) == "quota:local/edu/edu-portal-internet/web-1"
    assert kind_of(str(a)) == "server" and target_of(str(a)) == "local"


@pytest.mark.parametrize("bad", ["", "server", "server:", "server:local", ":local/edu", "server:/edu"])
def test_address_refuses_what_is_not_one(bad):
    with pytest.raises(ValueError, match="not a resource address"):
        Address.parse(bad)


def test_assert_owned_refuses_foreign_and_untagged_objects():
    assert_owned({OWNER_TAG: "ws-1"}, "ws-1", "server x")        # ours: no error
    for tags in ({OWNER_TAG: "ws-2"}, {}):
        with pytest.raises(NotOwned, match="server x does not carry"):
            assert_owned(tags, "ws-1", "server x")


def test_wait_for_is_bounded_and_stops_on_failure():
    now = [0.0]
    values = iter(["BUILD", "BUILD", "ACTIVE"])
    got = wait_for(lambda: next(values), lambda v: v == "ACTIVE", "server x", timeout=10,
                   sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert got == "ACTIVE" and now[0] == 2.0
    now[0] = 0.0
    with pytest.raises(WaitTimeout, match="timed out after 3 s waiting for volume y") as exc:
        wait_for(lambda: "creating", lambda v: False, "volume y", timeout=3,
                 sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert exc.value.transient
    with pytest.raises(DriverError, match="server z: went to ERROR") as exc:
        wait_for(lambda: "ERROR", lambda v: False, "server z", timeout=3, sleep=lambda s: None,
                 failed=lambda v: "went to ERROR" if v == "ERROR" else None)
    assert not isinstance(exc.value, WaitTimeout)


def test_capabilities_are_declared_not_probed():
    class Bare(Driver):
        name, kinds = "bare", frozenset()
        def observe(self): return []
        def find(self, address): return None
        def create(self, req): raise NotImplementedError
        def update(self, current, req, fields): raise NotImplementedError
        def delete(self, current): raise NotImplementedError
        def media(self, obj): return []          # a method of that name declares nothing

    assert Bare.capabilities() == frozenset()
    assert not isinstance(Bare("t", {}, None, "ws"), MediaAccess)

    class WithCensus(Bare, Census):
        def census(self, stack, ids): return []
    assert WithCensus.capabilities() == {"census"}

    class Forgot(Bare, Census):   # declared but not implemented: cannot be made
        census = None
    Forgot.__abstractmethods__ = frozenset({"census"})
    with pytest.raises(TypeError):
        Forgot("t", {}, None, "ws")
    assert len({c.capability for c in CAPABILITIES}) == len(CAPABILITIES)


def test_shipped_drivers_declare_what_the_core_uses():
    from drivers.local.driver import LocalDriver
    assert {"media", "census", "power"} <= LocalDriver.capabilities()


def test_reads_are_retried_on_transient_errors_only():
    """observe/find/census of every driver retry a transient failure (a 503 while listing
    failed a whole plan: tests/faults); a permanent error is not retried; the attempts are
    bounded; changing calls are not wrapped (the executor retries those)."""
    from drivers.base import READ_ATTEMPTS, TransientError, driver_class
    calls = {"observe": 0, "find": 0, "create": 0}

    class Flaky(Driver):
        name, kinds = "flaky", frozenset()
        read_sleep = staticmethod(lambda s: None)
        fail_observe = 2

        def observe(self):
            calls["observe"] += 1
            if calls["observe"] <= self.fail_observe:
                raise TransientError("DescribeVpcs: HTTP 503")
            return ["ok"]

        def find(self, address):
            calls["find"] += 1
            raise DriverError("refused")

        def create(self, req):
            calls["create"] += 1
            raise TransientError("RunInstances: HTTP 503")

        update = delete = create

    d = Flaky("t", {}, None, "ws-1")
    assert d.observe() == ["ok"] and calls["observe"] == 3
    with pytest.raises(DriverError, match="refused"):
        d.find("x")
    assert calls["find"] == 1
    with pytest.raises(TransientError):
        d.create(None)
    assert calls["create"] == 1
    calls["observe"], Flaky.fail_observe = 0, 99
    with pytest.raises(TransientError):
        d.observe()
    assert calls["observe"] == READ_ATTEMPTS
    for name in ("local", "libcloud", "openstack"):
        cls = driver_class(name)
        assert all(getattr(getattr(cls, m), "retried", False) for m in ("observe", "find"))


def test_a_read_retried_alone_is_not_retried_again_by_the_whole_observe(monkeypatch):
    """OpenStack retries each read (and each kind's observation) on its own; an error that
    outlived those attempts is marked exhausted and the whole-observe retry gives up at once,
    so a cloud that stays down costs READ_ATTEMPTS calls per read, not their square."""
    import drivers.openstack.kind as kind
    from drivers.base import READ_ATTEMPTS, TransientError
    monkeypatch.setattr(kind.time, "sleep", lambda s: None)
    calls = {"n": 0}

    def down():
        calls["n"] += 1
        raise TransientError("ConnectFailure: connection refused")

    class Nested(Driver):
        name, kinds = "nested", frozenset()
        read_sleep = staticmethod(lambda s: None)

        def observe(self):
            return kind.read_retrying(lambda: kind.read_retrying(down))

        find = create = update = delete = observe

    with pytest.raises(TransientError) as err:
        Nested("t", {}, None, "ws-1").observe()
    assert calls["n"] == READ_ATTEMPTS and err.value.exhausted
    calls["n"] = 0          # a transient error that recovers is still retried through the nesting
    flaky = iter([TransientError("503"), TransientError("503")])

    def recovers():
        calls["n"] += 1
        e = next(flaky, None)
        if e:
            raise e
        return "ok"
    assert kind.read_retrying(recovers) == "ok" and calls["n"] == 3
