"""Operator setup of the test cloud for govcloud (idempotent), run by up.sh with the osbox venv.

- flat provider networks `internet` and `extranet`, external, each with a subnet from a
  documentation range (no agents run, nothing is routed anywhere), and WITHOUT the wildcard
  `access_as_external` RBAC policy Neutron adds to an external network: govcloud grants each
  project its own zone's network through a targeted policy;
- one flavor per compute item of the service catalog, named by its code (e.g. ecs.s2m4);
- small raw images named like the images approvals ask for;
- an unlimited Neutron `rbac_policy` quota for govcloud's own project (it owns the grants).
"""
import os
import sys

import openstack
import yaml

NETWORKS = {"internet": "203.0.113.0/24", "extranet": "198.51.100.0/24"}
IMAGES = ["kylin-v10-sp3", "uos-server-20", "openeuler-22.03", "centos-7.9", "ubuntu-22.04"]

os.environ.setdefault("OS_CLIENT_CONFIG_FILE", os.path.join(os.environ.get(
    "OSBOX_DIR", "/var/tmp/govcloud-osbox"), "clouds.yaml"))
conn = openstack.connect(cloud="govcloud-admin")

for name, cidr in NETWORKS.items():
    net = conn.network.find_network(name)
    if net is None:
        net = conn.network.create_network(name=name, is_router_external=True,
                                          provider_network_type="flat",
                                          provider_physical_network=name)
        print("created network", name)
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(network_id=net.id, name=f"{name}-subnet", cidr=cidr,
                                   ip_version=4, enable_dhcp=False)
    for rbac in conn.network.rbac_policies(object_id=net.id, action="access_as_external"):
        if rbac.target_project_id == "*":
            conn.network.delete_rbac_policy(rbac)
            print("removed wildcard access_as_external on", name)

# govcloud's targeted access_as_external grants (one per tenant project) are owned by its own
# project: Neutron's default quota of 10 RBAC policies would stop the 11th project's router.
me = conn.current_project_id
if conn.network.get_quota(me).rbac_policies != -1:
    conn.network.update_quota(me, rbac_policies=-1)
    print("rbac_policy quota of govcloud's project set to unlimited")

catalog = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
for item in catalog["items"]:
    prov = item["provisions"]
    if prov["kind"] != "flavor" or conn.compute.find_flavor(item["code"]):
        continue
    conn.compute.create_flavor(name=item["code"], vcpus=prov["vcpus"], ram=prov["ram_gb"] * 1024,
                               disk=0, is_public=True)
    print("created flavor", item["code"])

# volume types named like the catalog's block-storage items (all on the one NFS backend here)
for item in catalog["items"]:
    prov = item["provisions"]
    if prov["kind"] == "volume" and not conn.block_storage.find_type(prov["volume_type"]):
        conn.block_storage.create_type(name=prov["volume_type"], is_public=True)
        print("created volume type", prov["volume_type"])

for name in IMAGES:
    if conn.image.find_image(name):
        continue
    img = conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                  visibility="public", data=os.urandom(1 << 20))
    print("created image", name, img.id)
print("bootstrap done")
