"""boto3 against the server: volumes, snapshots and an EBS-backed stop/start, with boto3's own waiters.
Usage: boto3_volumes.py <endpoint> <region>; prints what it saw as JSON."""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, region = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region)
fast = {"Delay": 1, "MaxAttempts": 40}
seen = {}

vol = ec2.create_volume(AvailabilityZone=region + "a", Size=2, TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "via", "Value": "boto3"}]}])
seen["created"] = vol["State"]
ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)
seen["tagged"] = [v["VolumeId"] == vol["VolumeId"] for v in ec2.describe_volumes(Filters=[{"Name": "tag:via", "Values": ["boto3"]}])["Volumes"]]

image = ec2.describe_images(Owners=["eucalyptus"], Filters=[{"Name": "name", "Values": ["debian-12-x86_64"]}])["Images"][0]["ImageId"]
inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": region + "a"})["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[inst], WaiterConfig=fast)
att = ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId=inst, Device="/dev/sdf")
seen["attach"] = att["State"]
ec2.get_waiter("volume_in_use").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)
seen["byInstance"] = [v["VolumeId"] == vol["VolumeId"] for v in ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [inst]}])["Volumes"]]
try:
    ec2.delete_volume(VolumeId=vol["VolumeId"])
    seen["deleteInUse"] = "ok"
except ClientError as e:
    seen["deleteInUse"] = e.response["Error"]["Code"]
try:
    ec2.stop_instances(InstanceIds=[inst])
    seen["stopInstanceStore"] = "ok"
except ClientError as e:
    seen["stopInstanceStore"] = e.response["Error"]["Code"]
ec2.detach_volume(VolumeId=vol["VolumeId"], Force=True)
ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)

snap = ec2.create_snapshot(VolumeId=vol["VolumeId"], Description="from boto3")
seen["snapshot"] = [snap["State"], snap["Progress"]]
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap["SnapshotId"]], WaiterConfig=fast)
seen["mine"] = [(s["SnapshotId"] == snap["SnapshotId"], s["State"], s["Progress"], type(s["StartTime"]).__name__) for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]

ebs = ec2.register_image(Name="boto3-ebs", RootDeviceName="/dev/sda1", BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snap["SnapshotId"]}}])["ImageId"]
seen["rootType"] = ec2.describe_images(ImageIds=[ebs])["Images"][0]["RootDeviceType"]
ebs_inst = ec2.run_instances(ImageId=ebs, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[ebs_inst], WaiterConfig=fast)
seen["stop"] = ec2.stop_instances(InstanceIds=[ebs_inst])["StoppingInstances"][0]["CurrentState"]["Name"]
ec2.get_waiter("instance_stopped").wait(InstanceIds=[ebs_inst], WaiterConfig=fast)
seen["start"] = ec2.start_instances(InstanceIds=[ebs_inst])["StartingInstances"][0]["CurrentState"]["Name"]
ec2.get_waiter("instance_running").wait(InstanceIds=[ebs_inst], WaiterConfig=fast)
bdm = ec2.describe_instances(InstanceIds=[ebs_inst])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
seen["rootMapping"] = [(b["DeviceName"], b["Ebs"]["Status"], b["Ebs"]["DeleteOnTermination"]) for b in bdm]
ec2.terminate_instances(InstanceIds=[inst, ebs_inst])
print(json.dumps(seen))
