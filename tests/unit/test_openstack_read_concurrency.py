"""The OpenStack driver's reads at once (``read_concurrency``): a list two kinds need is fetched
once however many threads want it, API calls are counted exactly from threads, ``read_map``
keeps the order of its items, and the option is bounded (no SDK call: the SDK-free parts)."""
from __future__ import annotations

import threading
import time

import pytest

from drivers.openstack.connection import Connection
from drivers.openstack.kind import Listing
from drivers.openstack.options import OpenStackOptions


class Counter(Connection):
    def __init__(self, concurrency: int):
        self.api_calls, self.read_concurrency = 0, concurrency


def test_a_list_wanted_by_many_threads_is_fetched_once():
    drv, fetched = Counter(4), []

    def all_ports(d):
        fetched.append(threading.current_thread().name)
        time.sleep(0.05)             # long enough for every thread to ask while it is fetched
        return ["port-1"]
    listing = Listing(drv)
    got = []
    threads = [threading.Thread(target=lambda: got.append(listing(all_ports))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fetched) == 1 and got == [["port-1"]] * 8


def test_calls_counted_exactly_and_results_in_order_from_threads():
    drv = Counter(4)

    def read(i):
        for _ in range(500):
            drv.count()
        return i * i
    assert drv.read_map(read, list(range(16))) == [i * i for i in range(16)]
    assert drv.api_calls == 16 * 500
    one = Counter(1)
    assert one.read_map(lambda i: threading.current_thread().name, [1, 2]) == \
        [threading.current_thread().name] * 2     # 1: in the caller's thread, one by one


@pytest.mark.parametrize("bad", [0, 17, "4"])
def test_read_concurrency_is_bounded(bad):
    with pytest.raises(Exception, match="read_concurrency"):
        OpenStackOptions.model_validate({"read_concurrency": bad})
    assert OpenStackOptions.model_validate({}).read_concurrency == 4
