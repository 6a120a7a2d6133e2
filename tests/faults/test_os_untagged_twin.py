"""Neutron takes tags only after the create: when the create's answer or the tag call is lost
(the fault proxy's lost-500 / reset), the object exists untagged and no listing of ours sees
it. The retry must tag and take it, not make a second one (no cloud needed: Neutron's calls are
stubbed, the handler is the product's)."""
from __future__ import annotations

import contextlib
from types import SimpleNamespace as NS

from drivers.openstack.network import Network
from orchestrator.models.cloud import Request


def handler(existing):
    made, tagged = [], []

    def create_network(**attrs):
        made.append(attrs)
        return NS(id=f"new-{len(made)}", tags=[], **attrs)

    net = NS(networks=lambda **q: [o for o in existing
                                   if all(getattr(o, k) == v for k, v in q.items())],
             create_network=create_network, set_tags=lambda o, t: tagged.append((o.id, t)),
             get_network=lambda i: NS(id=i, name="f16p-net", project_id="p1",
                                      tags=tagged[-1][1] if tagged else []))
    drv = NS(conn=NS(network=net), api_calls=0, _api=contextlib.nullcontext,
             owner_tag="govcloud.workspace=ws-1")
    return Network(drv), made, tagged


REQ = Request("network:os/edu/p/net", "network", "net", {"name": "f16p-net"}, {"project": "p1"},
              {"govcloud.workspace": "ws-1", "govcloud.address": "network:os/edu/p/net"})


def test_an_untagged_twin_is_tagged_not_made_again():
    twin = NS(id="lost-1", name="f16p-net", project_id="p1", tags=[])
    h, made, tagged = handler([twin])
    obs = h.create(REQ)
    assert made == [] and tagged[0][0] == "lost-1" and obs.cloud_id == "lost-1"


def test_tagged_or_foreign_objects_are_not_taken():
    """Negative controls: another workspace's (or a released) object of the same name, and an
    untagged one in another project, are left alone: a new network is made."""
    others = [NS(id="theirs", name="f16p-net", project_id="p1", tags=["govcloud.workspace=ws-2"]),
              NS(id="released", name="f16p-net", project_id="p1",
                 tags=["govcloud.released-from=ws-1"]),
              NS(id="elsewhere", name="f16p-net", project_id="p2", tags=[])]
    h, made, tagged = handler(others)
    obs = h.create(REQ)
    assert len(made) == 1 and obs.cloud_id == "new-1" and tagged[0][0] == "new-1"
