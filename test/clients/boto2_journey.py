"""boto 2.49 (Debian's python3-boto), the Eucalyptus-era client, on /services/Eucalyptus.
boto 2.49 signs EC2 requests with SigV4 and takes the scope's service and region from the host name
(<service>.<region>.amazonaws.com); for an endpoint by address, its auth_service_name and
auth_region_name name them, as for any non-AWS endpoint.
Usage: boto2_journey.py URL REGION (keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Prints JSON."""
import json, os, sys, time
from urllib.parse import urlparse
import boto
from boto.ec2.connection import EC2Connection
from boto.ec2.regioninfo import RegionInfo

url = urlparse(sys.argv[1])
ec2 = EC2Connection(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], is_secure=False,
                    region=RegionInfo(name=sys.argv[2], endpoint=url.hostname), port=url.port, path="/services/Eucalyptus")
ec2.auth_service_name = "ec2"
ec2.auth_region_name = sys.argv[2]
out = {"version": boto.__version__}
out["zones"] = sorted(z.name for z in ec2.get_all_zones())
out["types"] = [(t.name, int(t.cores), int(t.memory), int(t.disk)) for t in ec2.get_all_instance_types()]
image = [i for i in ec2.get_all_images(owners=["eucalyptus"]) if i.name == "debian-12-x86_64"][0]
key = ec2.create_key_pair("boto2-key")
out["keyFingerprint"] = key.fingerprint
out["keys"] = [k.name for k in ec2.get_all_key_pairs(keynames=["boto2-key"])]
group = ec2.create_security_group("boto2-web", "boto 2 web")
group.authorize("tcp", 22, 22, "0.0.0.0/0")
out["groupRules"] = [(r.ip_protocol, r.from_port, r.to_port, [str(g) for g in r.grants]) for r in ec2.get_all_security_groups(groupnames=["boto2-web"])[0].rules]
res = ec2.run_instances(image.id, min_count=2, max_count=2, key_name="boto2-key", security_groups=["boto2-web"], instance_type="m1.small")
ids = [i.id for i in res.instances]
out["ran"] = ids
ec2.create_tags(ids, {"via": "boto2"})
for _ in range(120):
    states = [i.state for i in ec2.get_only_instances(instance_ids=ids)]
    if all(s == "running" for s in states):
        break
    time.sleep(0.5)
out["states"] = states
out["tagged"] = sorted(i.id for i in ec2.get_only_instances(filters={"tag:via": "boto2"}))
out["console"] = ec2.get_console_output(ids[0]).output is not None
addr = ec2.allocate_address()
ec2.associate_address(instance_id=ids[0], public_ip=addr.public_ip)
out["addressOn"] = ec2.get_all_addresses(addresses=[addr.public_ip])[0].instance_id
ec2.disassociate_address(public_ip=addr.public_ip)
ec2.release_address(public_ip=addr.public_ip)
out["terminating"] = sorted(i.id for i in ec2.terminate_instances(ids))
for _ in range(120):
    states = [i.state for i in ec2.get_only_instances(instance_ids=ids)]
    if all(s == "terminated" for s in states):
        break
    time.sleep(0.5)
out["finalStates"] = states
ec2.delete_key_pair("boto2-key")
out["keysAfter"] = [k.name for k in ec2.get_all_key_pairs()]
print(json.dumps(out))
