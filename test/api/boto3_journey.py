"""A short EC2 journey with boto3 against our server (driven by Boto3.test.ts).

Usage: python3 boto3_journey.py ENDPOINT REGION; credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
Prints one JSON object of what it saw; the test checks it. Exits non-zero on any unexpected error.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, region = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region, config=Config(retries={"max_attempts": 1, "mode": "standard"}))
seen = {}

seen["zones"] = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
images = ec2.describe_images(Owners=["eucalyptus"], Filters=[{"Name": "image-type", "Values": ["machine"]}])["Images"]
emi = sorted(images, key=lambda i: i["Name"])[0]["ImageId"]
key = ec2.create_key_pair(KeyName="boto3-key")
seen["keyMaterialStart"] = key["KeyMaterial"].splitlines()[0]

ran = ec2.run_instances(ImageId=emi, MinCount=1, MaxCount=2, InstanceType="m1.small", KeyName="boto3-key",
                        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "via", "Value": "boto3"}]}])
ids = [i["InstanceId"] for i in ran["Instances"]]
seen["ran"] = ids
seen["ranStates"] = [i["State"]["Name"] for i in ran["Instances"]]
ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

described = ec2.describe_instances(Filters=[{"Name": "tag:via", "Values": ["boto3"]}])
instances = [i for r in described["Reservations"] for i in r["Instances"]]
seen["described"] = sorted(i["InstanceId"] for i in instances)
seen["states"] = sorted({i["State"]["Name"] for i in instances})
seen["keyNames"] = sorted({i.get("KeyName") for i in instances})
seen["launchTimeType"] = type(instances[0]["LaunchTime"]).__name__

# boto3's resource layer parses the same XML.
resource = boto3.resource("ec2", endpoint_url=endpoint, region_name=region)
seen["resourceState"] = resource.Instance(ids[0]).state["Name"]

try:
    ec2.describe_instances(InstanceIds=["i-0000dead"])
    seen["notFound"] = "no error"
except ClientError as e:
    seen["notFound"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]

term = ec2.terminate_instances(InstanceIds=ids)
seen["terminating"] = sorted(t["CurrentState"]["Name"] for t in term["TerminatingInstances"])
ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
final = ec2.describe_instances(InstanceIds=ids)
seen["final"] = sorted({i["State"]["Name"] for r in final["Reservations"] for i in r["Instances"]})
print(json.dumps(seen))
