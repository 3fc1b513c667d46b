"""Terraform's AWS provider (hashicorp/terraform-provider-aws, internal/service/ec2/ec2_instance.go),
resource aws_instance: its create / read / destroy calls replayed with boto3, in its order, reading
what the provider reads (resourceInstanceCreate, resourceInstanceRead, resourceInstanceDelete).
Terraform itself cannot be installed here. Usage: terraform_replay.py URL REGION IMAGE. Prints JSON."""
import json, sys, time, uuid
import boto3

url, region, image = sys.argv[1:4]
sts = boto3.client("sts", endpoint_url=url, region_name=region)
ec2 = boto3.client("ec2", endpoint_url=url, region_name=region)
out = {}

# Provider configure: the caller's identity (account id for ARNs).
ident = sts.get_caller_identity()
out["account"] = ident["Account"]
out["platforms"] = [v["AttributeValue"] for a in ec2.describe_account_attributes(AttributeNames=["supported-platforms"])["AccountAttributes"] for v in a["AttributeValues"]]

# Create: RunInstances with a client token and instance tags; the provider sends UserData base64-encoded
# (UserData64), which boto3 does itself for RunInstances, so the text goes in here.
sg = ec2.create_security_group(GroupName="tf-web", Description="terraform")["GroupId"]
token = str(uuid.uuid4())
run = ec2.run_instances(ImageId=image, InstanceType="m1.small", MinCount=1, MaxCount=1, ClientToken=token,
    SecurityGroupIds=[sg], DisableApiTermination=False, InstanceInitiatedShutdownBehavior="stop",
    UserData="echo hi", TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "tf"}]}])
iid = run["Instances"][0]["InstanceId"]
# WaitInstanceCreated: DescribeInstances by id until running.
for _ in range(240):
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    if inst["State"]["Name"] == "running":
        break
    time.sleep(0.25)

# Read: FindInstanceByID, FindInstanceTypeByName, then the attributes.
inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
itype = ec2.describe_instance_types(InstanceTypes=[inst["InstanceType"]])["InstanceTypes"][0]
nic = [n for n in inst["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0][0]
attr = lambda name: ec2.describe_instance_attribute(InstanceId=iid, Attribute=name)
out["read"] = {
    "instance_state": inst["State"]["Name"],
    "availability_zone": inst["Placement"]["AvailabilityZone"],
    "placement_group": inst["Placement"]["GroupName"],
    "tenancy": inst["Placement"]["Tenancy"],
    "cpu_core_count": inst["CpuOptions"]["CoreCount"],
    "cpu_threads_per_core": inst["CpuOptions"]["ThreadsPerCore"],
    "hibernation": inst["HibernationOptions"]["Configured"],
    "enclave_options": inst["EnclaveOptions"]["Enabled"],
    "metadata_http_tokens": inst["MetadataOptions"]["HttpTokens"],
    "ami": inst["ImageId"],
    "instance_type": inst["InstanceType"],
    "key_name": inst.get("KeyName"),
    "public_dns": inst["PublicDnsName"],
    "public_ip": inst.get("PublicIpAddress"),
    "private_dns": inst["PrivateDnsName"],
    "private_ip": inst["PrivateIpAddress"],
    "device_index": nic["Attachment"]["DeviceIndex"],
    "network_card_index": nic["Attachment"]["NetworkCardIndex"],
    "delete_on_termination": nic["Attachment"]["DeleteOnTermination"],
    "subnet_id": nic["SubnetId"],
    "primary_network_interface_id": nic["NetworkInterfaceId"],
    "ipv6_address_count": len(nic["Ipv6Addresses"]),
    "nic_source_dest_check": nic["SourceDestCheck"],
    "associate_public_ip_address": "Association" in nic,
    "secondary_private_ips": [a["PrivateIpAddress"] for a in nic["PrivateIpAddresses"] if not a["Primary"]],
    "ebs_optimized": inst["EbsOptimized"],
    "instance_subnet_id": inst["SubnetId"],
    "source_dest_check": inst["SourceDestCheck"],
    "monitoring": inst["Monitoring"]["State"],
    "tags": {t["Key"]: t["Value"] for t in inst.get("Tags", [])},
    "vpc_security_group_ids": [g["GroupId"] for g in inst["SecurityGroups"]],
    "vpc_id": inst["VpcId"],
    "root_device_name": inst["RootDeviceName"],
    "root_device_type": inst["RootDeviceType"],
    "block_device_mappings": inst["BlockDeviceMappings"],
    "burstable": itype["BurstablePerformanceSupported"],
    "instance_initiated_shutdown_behavior": attr("instanceInitiatedShutdownBehavior")["InstanceInitiatedShutdownBehavior"]["Value"],
    "disable_api_stop": attr("disableApiStop")["DisableApiStop"]["Value"],
    "disable_api_termination": attr("disableApiTermination")["DisableApiTermination"]["Value"],
    "user_data": attr("userData")["UserData"]["Value"],
}
out["instance"] = iid
out["group"] = sg

# Destroy: TerminateInstances, then WaitInstanceDeleted (DescribeInstances until terminated).
ec2.terminate_instances(InstanceIds=[iid])
for _ in range(240):
    state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]
    if state == "terminated":
        break
    time.sleep(0.25)
out["final"] = state
print(json.dumps(out))
