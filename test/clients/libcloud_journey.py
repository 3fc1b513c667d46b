"""Apache Libcloud 3.4 (Debian's python3-libcloud): the Eucalyptus driver (SigV2 on
/services/Eucalyptus) and the EC2 driver (SigV4 on /). Usage: libcloud_journey.py URL REGION. Prints JSON."""
import json, os, sys, time
from urllib.parse import urlparse
import libcloud
from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider, NodeState

url = urlparse(sys.argv[1])
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
out = {"version": libcloud.__version__}

euca = get_driver(Provider.EUCALYPTUS)(key, secret, secure=False, host=url.hostname, port=url.port)
out["sizes"] = sorted((s.id, s.ram, s.disk) for s in euca.list_sizes())
image = [i for i in euca.list_images() if i.name == "debian-12-x86_64"][0]
out["image"] = image.id
pair = euca.create_key_pair("libcloud-key")
out["keyPair"] = euca.get_key_pair("libcloud-key").name  # DescribeKeyPairs&KeyName=… (a flat name)
size = [s for s in euca.list_sizes() if s.id == "m1.small"][0]
node = euca.create_node(name="libcloud-1", image=image, size=size, ex_keyname="libcloud-key")
out["node"] = node.id
euca.ex_create_tags(node, {"via": "libcloud", "team": "euca"})  # ResourceId.0 / Tag.0.Key (lists from 0)
for _ in range(120):
    n = [x for x in euca.list_nodes() if x.id == node.id][0]
    if n.state == NodeState.RUNNING:
        break
    time.sleep(0.5)
out["state"] = n.state
out["tags"] = euca.ex_describe_tags(n)
out["privateIps"] = len(n.private_ips)

# Libcloud's EC2 driver knows only AWS's regions: the operator names us-east-1 as an alias (regionAliases).
ec2 = get_driver(Provider.EC2)(key, secret, region="us-east-1", secure=False, host=url.hostname, port=url.port)
out["ec2Nodes"] = sorted(x.id for x in ec2.list_nodes())
out["ec2Groups"] = sorted(ec2.ex_list_security_groups())
out["destroyed"] = euca.destroy_node(n)
for _ in range(120):
    m = [x for x in euca.list_nodes() if x.id == node.id]
    if not m or m[0].state == NodeState.TERMINATED:
        break
    time.sleep(0.5)
out["finalState"] = m[0].state if m else "gone"
out["keyDeleted"] = euca.delete_key_pair(pair)
print(json.dumps(out))
