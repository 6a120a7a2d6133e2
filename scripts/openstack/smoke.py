#!/usr/bin/env python3
"""osbox smoke test: drive the osbox services with openstacksdk.

Run with the osbox venv's python after up.sh:
    $OSBOX_DIR/venv/bin/python smoke.py
Prints one line per step and PASS/FAIL per item (1 keystone, 2 neutron,
3 placement+nova, 4 cinder; 5 is an extra: attach + boot from volume).
Cleans up what it created. Exit code 0 only if items 1-4 pass.
"""
import hashlib
import os
import sys
import tempfile
import time
import traceback
import uuid

OSBOX_DIR = os.environ.get("OSBOX_DIR", "/var/tmp/govcloud-osbox")
os.environ.setdefault("OS_CLIENT_CONFIG_FILE", os.path.join(OSBOX_DIR, "clouds.yaml"))

import openstack  # noqa: E402

SFX = uuid.uuid4().hex[:6]
RESULTS = {}
CLEANUP = []  # (label, fn) run in reverse order


def step(item, label, fn):
    t = time.time()
    try:
        out = fn()
        print(f"  ok   [{item}] {label} ({time.time() - t:.1f}s)", flush=True)
        return out
    except Exception as e:
        RESULTS[item] = False
        msg = str(e).strip().replace("\n", " ")[:400]
        print(f"  FAIL [{item}] {label}: {type(e).__name__}: {msg}", flush=True)
        if os.environ.get("SMOKE_TRACE"):
            traceback.print_exc()
        raise


def item(n, title, fn):
    RESULTS.setdefault(n, True)
    print(f"== item {n}: {title}", flush=True)
    t = time.time()
    try:
        fn()
    except Exception:
        RESULTS[n] = False
    print(f"{'PASS' if RESULTS[n] else 'FAIL'} item {n}: {title} ({time.time() - t:.1f}s)", flush=True)


def wait_until(pred, timeout=120, what="condition"):
    t = time.time()
    while time.time() - t < timeout:
        v = pred()
        if v:
            return v
        time.sleep(1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


admin = openstack.connect(cloud="osbox")
CTX = {}


# ------------------------------------------------------------------ 1 keystone
def keystone():
    idn = admin.identity
    dom = step(1, "create domain", lambda: idn.create_domain(name=f"smoke-dom-{SFX}"))
    CLEANUP.append(("domain", lambda: (idn.update_domain(dom, is_enabled=False), idn.delete_domain(dom))))
    proj = step(1, "create project with tags", lambda: idn.create_project(
        name=f"smoke-proj-{SFX}", domain_id=dom.id, tags=["osbox", "tenant-a"]))
    CLEANUP.append(("project", lambda: idn.delete_project(proj)))

    def tags():
        p = idn.get_project(proj.id)
        p.add_tag(idn, "added-later")
        p = idn.get_project(proj.id)
        assert set(p.tags) == {"osbox", "tenant-a", "added-later"}, p.tags
        found = [x.id for x in idn.projects(tags="tenant-a")]
        assert proj.id in found, found
    step(1, "project tags add/list/filter", tags)
    pw = "Pw-" + uuid.uuid4().hex
    user = step(1, "create user", lambda: idn.create_user(
        name=f"smoke-user-{SFX}", password=pw, domain_id=dom.id, default_project_id=proj.id))
    CLEANUP.append(("user", lambda: idn.delete_user(user)))
    member = idn.find_role("member")

    def assign():
        idn.assign_project_role_to_user(proj, user, member)
        assert idn.validate_user_has_project_role(proj, user, member)
        ras = list(idn.role_assignments(user_id=user.id, scope_project_id=proj.id))
        assert ras, "no role assignment listed"
    step(1, "role assignment (member on project)", assign)

    ucon = openstack.connect(
        load_yaml_config=False, load_envvars=False, auth_type="password",
        auth=dict(auth_url=admin.auth["auth_url"], username=user.name, password=pw,
                  user_domain_id=dom.id, project_id=proj.id),
        region_name="RegionOne", identity_api_version="3")
    appcred = step(1, "create application credential (as the user)", lambda: ucon.identity.create_application_credential(
        user=user.id, name=f"smoke-ac-{SFX}", roles=[{"name": "member"}]))

    def appcred_auth():
        acon = openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type="v3applicationcredential",
            auth=dict(auth_url=admin.auth["auth_url"], application_credential_id=appcred.id,
                      application_credential_secret=appcred.secret),
            region_name="RegionOne", identity_api_version="3")
        tok = acon.session.get_token()
        assert tok
        assert acon.current_project_id == proj.id
        return acon
    acon = step(1, "authenticate with application credential", appcred_auth)
    CTX.update(dom=dom, proj=proj, user=user, pw=pw, ucon=ucon, acon=acon)


# ------------------------------------------------------------------ 2 neutron
def neutron():
    net = admin.network
    proj = CTX["proj"]
    acon = CTX["acon"]
    exts = {}

    def provider(name, physnet):
        n = net.find_network(name)
        if n is None:
            n = net.create_network(name=name, provider_network_type="flat",
                                   provider_physical_network=physnet,
                                   is_router_external=True, shared=False)
        return n
    for name, cidr in (("internet", "198.18.0.0/24"), ("extranet", "198.18.1.0/24")):
        # 198.18.0.0/15 is a benchmarking range; nothing is ever sent there (no agents, no dataplane)
        exts[name] = step(2, f"provider flat external network '{name}'", lambda n=name: provider(n, n))
        if not list(net.subnets(network_id=exts[name].id)):
            step(2, f"subnet on '{name}'", lambda n=name, c=cidr: net.create_subnet(
                network_id=exts[n].id, ip_version=4, cidr=c, enable_dhcp=False, name=f"{n}-subnet"))
    ext = exts["internet"]
    assert ext.provider_network_type == "flat" and ext.provider_physical_network == "internet"
    # govcloud's bootstrap removes Neutron's wildcard access_as_external policy: the smoke
    # project then needs its own targeted grant to use `internet` as a router gateway.
    if not any(p.target_project_id in ("*", proj.id)
               for p in net.rbac_policies(object_id=ext.id, action="access_as_external")):
        grant = step(2, "targeted access_as_external on 'internet' for the smoke project",
                     lambda: net.create_rbac_policy(object_type="network", object_id=ext.id,
                                                    action="access_as_external",
                                                    target_project_id=proj.id))
        CLEANUP.append(("rbac internet", lambda: net.delete_rbac_policy(grant)))

    tnet = step(2, "tenant network (vxlan) as app-cred user", lambda: acon.network.create_network(name=f"smoke-net-{SFX}"))
    CLEANUP.append(("tenant net", lambda: net.delete_network(tnet)))
    tsub = step(2, "tenant subnet", lambda: acon.network.create_subnet(
        network_id=tnet.id, ip_version=4, cidr="10.99.0.0/24", name=f"smoke-sub-{SFX}"))
    CTX.update(tnet=tnet, tsub=tsub)

    def router():
        r = acon.network.create_router(name=f"smoke-r-{SFX}", external_gateway_info={"network_id": ext.id})
        CLEANUP.append(("router", lambda: (net.remove_gateway_from_router(r) if False else None,
                                           net.remove_interface_from_router(r, subnet_id=tsub.id),
                                           net.delete_router(r))))
        acon.network.add_interface_to_router(r, subnet_id=tsub.id)
        r = net.get_router(r.id)
        gw = r.external_gateway_info
        assert gw and gw["network_id"] == ext.id and gw.get("external_fixed_ips"), gw
        return r
    step(2, "router with external gateway + interface", router)

    def secgroup():
        sg = acon.network.create_security_group(name=f"smoke-sg-{SFX}", description="smoke")
        CLEANUP.append(("secgroup", lambda: net.delete_security_group(sg)))
        rule = acon.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0", ethertype="IPv4")
        assert any(r["id"] == rule.id for r in net.get_security_group(sg.id).security_group_rules)
        CTX["sg"] = sg
    step(2, "security group + rule", secgroup)

    def rbac():
        # router:external=True makes neutron add a wildcard access_as_external policy;
        # an orchestrator that wants per-project external nets replaces it by targeted ones.
        extranet = exts["extranet"]
        for p in net.rbac_policies(object_id=extranet.id, action="access_as_external"):
            if p.target_project_id == "*":
                net.delete_rbac_policy(p)
        assert extranet.id not in {n.id for n in acon.network.networks()}, "extranet visible w/o policy"
        p = net.create_rbac_policy(object_type="network", object_id=extranet.id,
                                   action="access_as_external", target_project_id=proj.id)
        CLEANUP.append(("rbac", lambda: net.delete_rbac_policy(p)))
        shared = net.create_network(name=f"smoke-shared-{SFX}")
        CLEANUP.append(("shared net", lambda: net.delete_network(shared)))
        p2 = net.create_rbac_policy(object_type="network", object_id=shared.id,
                                    action="access_as_shared", target_project_id=proj.id)
        CLEANUP.append(("rbac2", lambda: net.delete_rbac_policy(p2)))
        seen = {n.id for n in acon.network.networks()}
        assert shared.id in seen and extranet.id in seen, "RBAC'd networks not visible to tenant"
        r2 = acon.network.create_router(name=f"smoke-r2-{SFX}", external_gateway_info={"network_id": extranet.id})
        acon.network.delete_router(r2)
    step(2, "RBAC: wildcard external policy replaced by targeted access_as_external; access_as_shared", rbac)

    def fip():
        port = acon.network.create_port(network_id=tnet.id, name=f"smoke-port-{SFX}")
        CLEANUP.append(("fip port", lambda: net.delete_port(port)))
        f = acon.network.create_ip(floating_network_id=ext.id, port_id=port.id)
        f = net.get_ip(f.id)
        assert f.port_id == port.id and f.floating_ip_address and f.fixed_ip_address, f
        acon.network.update_ip(f, port_id=None)
        acon.network.delete_ip(f)
    step(2, "floating IP from 'internet' associated to a tenant port, then released", fip)

    def quotas():
        net.update_quota(proj.id, networks=7, ports=33, routers=3, security_groups=11)
        q = net.get_quota(proj.id)
        assert (q.networks, q.ports, q.routers, q.security_groups) == (7, 33, 3, 11), q
    step(2, "network quotas set/get", quotas)


# ------------------------------------------------------------------ 3 placement + nova
def nova():
    proj = CTX["proj"]
    acon = CTX["acon"]

    def placement():
        rps = list(admin.placement.resource_providers())
        assert rps, "no resource providers"
        inv = {i.resource_class: i.total for i in admin.placement.resource_provider_inventories(rps[0])}
        assert "VCPU" in inv, inv
        return rps[0], inv
    rp, inv = step(3, "placement resource provider + inventory", placement)
    print(f"       RP {rp.name}: {inv}")
    flavor = step(3, "create flavor", lambda: admin.compute.create_flavor(
        name=f"smoke-flavor-{SFX}", ram=512, vcpus=1, disk=1))
    CLEANUP.append(("flavor", lambda: admin.compute.delete_flavor(flavor)))

    def quotas():
        admin.compute.update_quota_set(proj.id, instances=4, cores=8, ram=4096)
        q = admin.compute.get_quota_set(proj.id)
        assert (q.instances, q.cores, q.ram) == (4, 8, 4096), q
    step(3, "compute quotas set/get", quotas)

    def image():
        with tempfile.NamedTemporaryFile(suffix=".img") as f:
            f.write(os.urandom(1024 * 1024))
            f.flush()
            img = admin.create_image(f"smoke-img-{SFX}", filename=f.name, disk_format="raw",
                                     container_format="bare", visibility="public", wait=True)
        CLEANUP.append(("image", lambda: admin.image.delete_image(img)))
        return img
    img = step(3, "glance image upload (1 MiB raw)", image)
    CTX["img"] = img

    def boot(networks, label):
        kw = dict(name=f"smoke-vm-{label}-{SFX}", flavor_id=flavor.id, image_id=img.id, networks=networks)
        if CTX.get("sg") and networks != "none":
            kw["security_groups"] = [{"name": CTX["sg"].name}]
        s = acon.compute.create_server(**kw)
        try:
            s = acon.compute.wait_for_server(s, status="ACTIVE", wait=180)
        except Exception as e:
            s2 = admin.compute.get_server(s.id)
            raise RuntimeError(f"{e}; fault={getattr(s2, 'fault', None)}")
        return s

    def boot_net():
        s = boot([{"uuid": CTX["tnet"].id}], "net")
        ports = list(admin.network.ports(device_id=s.id))
        assert ports, "no port for server"
        p = ports[0]
        assert p.binding_vif_type not in ("binding_failed", "unbound"), p.binding_vif_type
        print(f"       server {s.id} ACTIVE on host {s.compute_host}; port {p.id} vif_type={p.binding_vif_type} "
              f"host={p.binding_host_id} status={p.status} ips={[i['ip_address'] for i in p.fixed_ips]}")
        return s
    s = step(3, "boot server on tenant network -> ACTIVE", boot_net)

    def usage():
        q = admin.compute.get_quota_set(proj.id, usage=True)
        assert q.usage["instances"] == 1, q.usage
    step(3, "quota usage reflects server", usage)

    def delete(s):
        acon.compute.delete_server(s)
        acon.compute.wait_for_delete(s, wait=120)
        assert not list(admin.network.ports(device_id=s.id)), "port left behind"
    step(3, "delete server (and its port)", lambda: delete(s))
    s2 = step(3, "boot server with networks='none' -> ACTIVE", lambda: boot("none", "nonet"))
    step(3, "delete server (networks='none')", lambda: (acon.compute.delete_server(s2),
                                                         acon.compute.wait_for_delete(s2, wait=120)))


# ------------------------------------------------------------------ 4 cinder
def cinder():
    bs = admin.block_storage
    proj = CTX["proj"]
    acon = CTX["acon"]
    share = os.path.join(OSBOX_DIR, "data", "cinder", "share")

    def quotas():
        bs.update_quota_set(proj.id, volumes=5, gigabytes=50, snapshots=5)
        q = bs.get_quota_set(proj.id)
        assert (q.volumes, q.gigabytes, q.snapshots) == (5, 50, 5), q
    step(4, "volume quotas set/get", quotas)

    def create():
        v = acon.block_storage.create_volume(size=1, name=f"smoke-vol-{SFX}")
        v = acon.block_storage.wait_for_status(v, "available", failures=["error"], wait=120)
        return v
    v = step(4, "create 1 GiB volume -> available", create)
    CLEANUP.append(("volume", lambda: (bs.delete_volume(v, force=True), bs.wait_for_delete(v, wait=60))))
    path = os.path.join(share, f"volume-{v.id}")

    def on_host():
        st = os.stat(path)
        assert st.st_size == 1024 ** 3, st.st_size
        print(f"       backing file {os.path.relpath(path, OSBOX_DIR)} size={st.st_size} "
              f"allocated={st.st_blocks * 512}")
    step(4, "volume is a file on the host", on_host)

    def extend():
        acon.block_storage.extend_volume(v, 2)
        vv = wait_until(lambda: (lambda x: x if x.size == 2 and x.status == "available" else None)(
            acon.block_storage.get_volume(v.id)), 60, "extend")
        assert os.stat(path).st_size == 2 * 1024 ** 3
        return vv
    step(4, "extend volume to 2 GiB (API + backing file)", extend)

    def snap():
        sn = acon.block_storage.create_snapshot(volume_id=v.id, name=f"smoke-snap-{SFX}")
        sn = acon.block_storage.wait_for_status(sn, "available", failures=["error"], wait=120)
        acon.block_storage.delete_snapshot(sn)
        acon.block_storage.wait_for_delete(sn, wait=120)
    step(4, "snapshot create/delete", snap)

    def delete():
        acon.block_storage.delete_volume(v)
        acon.block_storage.wait_for_delete(v, wait=120)
        assert not os.path.exists(path), "backing file still there"
    step(4, "delete volume (backing file removed)", delete)
    CLEANUP.pop()

    # data path: glance image with random bytes -> volume (written by cinder-volume)
    # -> read the backing file on the host -> upload volume back to glance -> compare
    def data_roundtrip():
        payload = os.urandom(1024 * 1024)
        digest = hashlib.sha256(payload).hexdigest()
        with tempfile.NamedTemporaryFile(suffix=".img") as f:
            f.write(payload)
            f.flush()
            img = admin.create_image(f"smoke-data-{SFX}", filename=f.name, disk_format="raw",
                                     container_format="bare", visibility="public", wait=True)
        CLEANUP.append(("data image", lambda: admin.image.delete_image(img)))
        vol = acon.block_storage.create_volume(size=1, image_id=img.id, name=f"smoke-datavol-{SFX}")
        vol = acon.block_storage.wait_for_status(vol, "available", failures=["error"], wait=180)
        CLEANUP.append(("data volume", lambda: (bs.delete_volume(vol, force=True), bs.wait_for_delete(vol, wait=60))))
        vpath = os.path.join(share, f"volume-{vol.id}")
        with open(vpath, "rb") as fh:
            head = fh.read(len(payload))
        assert hashlib.sha256(head).hexdigest() == digest, "bytes on host differ from image payload"
        print("       host read of backing file == image payload (sha256 match)")
        # host-side write, read back through the service (volume -> image)
        marker = b"OSBOX-WIPE-CHECK-" + SFX.encode()
        with open(vpath, "r+b") as fh:
            fh.seek(4096)
            fh.write(marker)
        r = acon.block_storage.upload_volume_to_image(vol, f"smoke-up-{SFX}", disk_format="raw",
                                                      container_format="bare")
        img2_id = r["image_id"]
        CLEANUP.append(("uploaded image", lambda: admin.image.delete_image(img2_id)))
        wait_until(lambda: admin.image.get_image(img2_id).status == "active", 180, "uploaded image active")
        acon.block_storage.wait_for_status(vol, "available", failures=["error"], wait=120)
        data = admin.image.download_image(img2_id).content
        assert len(data) == 1024 ** 3, len(data)
        assert data[4096:4096 + len(marker)] == marker, "marker written on host not seen via API"
        assert hashlib.sha256(data[:4096]).hexdigest() == hashlib.sha256(payload[:4096]).hexdigest()
        print("       host-written marker read back via volume->image upload + download")
    step(4, "data path: image->volume bytes on host; host write -> volume->image", data_roundtrip)


# ------------------------------------------------------------------ 5 extra: nova <-> cinder
def attach():
    acon = CTX["acon"]
    flavor = step(5, "flavor", lambda: admin.compute.create_flavor(name=f"smoke-att-{SFX}", ram=256, vcpus=1, disk=1))
    CLEANUP.append(("att flavor", lambda: admin.compute.delete_flavor(flavor)))
    img = CTX["img"]
    srv = step(5, "server (networks='none')", lambda: acon.compute.wait_for_server(acon.compute.create_server(
        name=f"smoke-att-vm-{SFX}", flavor_id=flavor.id, image_id=img.id, networks="none"), wait=120))
    CLEANUP.append(("att server", lambda: (admin.compute.delete_server(srv), admin.compute.wait_for_delete(srv, wait=120))))
    vol = step(5, "volume", lambda: acon.block_storage.wait_for_status(
        acon.block_storage.create_volume(size=1, name=f"smoke-att-vol-{SFX}"), "available", failures=["error"], wait=60))
    CLEANUP.append(("att volume", lambda: (admin.block_storage.delete_volume(vol, force=True),
                                           admin.block_storage.wait_for_delete(vol, wait=60))))

    def att():
        acon.compute.create_volume_attachment(srv, volume_id=vol.id)
        v = acon.block_storage.wait_for_status(vol, "in-use", failures=["error", "available"], wait=60)
        acon.compute.delete_volume_attachment(srv, vol.id)
        acon.block_storage.wait_for_status(v, "available", failures=["error"], wait=60)
    step(5, "attach volume to server -> in-use, detach -> available", att)

    def bfv():
        s = acon.compute.create_server(
            name=f"smoke-bfv-{SFX}", flavor_id=flavor.id, networks="none",
            block_device_mapping=[{"boot_index": 0, "uuid": img.id, "source_type": "image",
                                   "destination_type": "volume", "volume_size": 1,
                                   "delete_on_termination": True}])
        s = acon.compute.wait_for_server(s, wait=180)
        vid = s.attached_volumes[0]["id"]
        acon.compute.delete_server(s)
        acon.compute.wait_for_delete(s, wait=120)
        wait_until(lambda: admin.block_storage.find_volume(vid) is None, 60, "BFV volume deleted")
    step(5, "boot from volume (image->volume) -> ACTIVE, delete (volume deleted too)", bfv)


def cleanup():
    print("== cleanup")
    for label, fn in reversed(CLEANUP):
        try:
            fn()
        except Exception as e:
            print(f"  cleanup {label}: {type(e).__name__}: {str(e)[:200]}")


if __name__ == "__main__":
    t0 = time.time()
    try:
        item(1, "keystone (domains, projects, users, roles, app creds, tags)", keystone)
        if RESULTS.get(1):
            item(2, "neutron (provider/external nets, subnets, routers, SGs, RBAC, quotas)", neutron)
            item(3, "placement + nova (flavor, quotas, servers ACTIVE/deleted, fake driver)", nova)
            item(4, "cinder (volumes create/extend/delete, snapshots, quotas, bytes on host)", cinder)
            if RESULTS.get(3) and RESULTS.get(4):
                item(5, "extra, not required: volume attach/detach + boot from volume", attach)
    finally:
        cleanup()
    print("== summary")
    for n in (1, 2, 3, 4, 5):
        print(f"{'PASS' if RESULTS.get(n) else 'FAIL'} {n}{' (extra)' if n == 5 else ''}")
    print(f"total {time.time() - t0:.1f}s")
    sys.exit(0 if all(RESULTS.get(n) for n in (1, 2, 3, 4)) else 1)
