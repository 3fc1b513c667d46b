/** The action table: one entry per EC2 action we answer, no reflection. */
import * as Addresses from "./actions/Addresses.js"
import * as Images from "./actions/Images.js"
import * as ImageAttributes from "./actions/ImageAttributes.js"
import * as InstanceAttributes from "./actions/InstanceAttributes.js"
import * as Instances from "./actions/Instances.js"
import * as KeyPairs from "./actions/KeyPairs.js"
import * as LaunchTemplates from "./actions/LaunchTemplates.js"
import * as SecurityGroups from "./actions/SecurityGroups.js"
import * as Snapshots from "./actions/Snapshots.js"
import * as StopStart from "./actions/StopStart.js"
import * as Tags from "./actions/Tags.js"
import * as Volumes from "./actions/Volumes.js"
import * as Vpcs from "./actions/Vpcs.js"
import * as Zones from "./actions/Zones.js"
import type * as H from "./Handler.js"

export const table: H.Table = {
  DescribeRegions: Zones.DescribeRegions,
  DescribeAvailabilityZones: Zones.DescribeAvailabilityZones,
  DescribeImages: Images.DescribeImages,
  RegisterImage: Images.RegisterImage,
  DeregisterImage: Images.DeregisterImage,
  DescribeImageAttribute: Images.DescribeImageAttribute,
  CreateKeyPair: KeyPairs.CreateKeyPair,
  ImportKeyPair: KeyPairs.ImportKeyPair,
  DescribeKeyPairs: KeyPairs.DescribeKeyPairs,
  DeleteKeyPair: KeyPairs.DeleteKeyPair,
  CreateSecurityGroup: SecurityGroups.CreateSecurityGroup,
  DeleteSecurityGroup: SecurityGroups.DeleteSecurityGroup,
  DescribeSecurityGroups: SecurityGroups.DescribeSecurityGroups,
  AuthorizeSecurityGroupIngress: SecurityGroups.AuthorizeSecurityGroupIngress,
  RevokeSecurityGroupIngress: SecurityGroups.RevokeSecurityGroupIngress,
  RunInstances: Instances.RunInstances,
  DescribeInstances: Instances.DescribeInstances,
  DescribeInstanceStatus: Instances.DescribeInstanceStatus,
  TerminateInstances: Instances.TerminateInstances,
  RebootInstances: Instances.RebootInstances,
  GetConsoleOutput: Instances.GetConsoleOutput,
  DescribeInstanceTypes: Instances.DescribeInstanceTypes,
  CreateTags: Tags.CreateTags,
  DeleteTags: Tags.DeleteTags,
  DescribeTags: Tags.DescribeTags,
  AllocateAddress: Addresses.AllocateAddress,
  AssociateAddress: Addresses.AssociateAddress,
  DisassociateAddress: Addresses.DisassociateAddress,
  ReleaseAddress: Addresses.ReleaseAddress,
  DescribeAddresses: Addresses.DescribeAddresses,
  // Volumes, snapshots, EBS-backed stop/start
  CreateVolume: Volumes.CreateVolume,
  DescribeVolumes: Volumes.DescribeVolumes,
  DeleteVolume: Volumes.DeleteVolume,
  AttachVolume: Volumes.AttachVolume,
  DetachVolume: Volumes.DetachVolume,
  DescribeVolumeStatus: Volumes.DescribeVolumeStatus,
  CreateSnapshot: Snapshots.CreateSnapshot,
  DescribeSnapshots: Snapshots.DescribeSnapshots,
  DeleteSnapshot: Snapshots.DeleteSnapshot,
  DescribeSnapshotAttribute: Snapshots.DescribeSnapshotAttribute,
  ModifySnapshotAttribute: Snapshots.ModifySnapshotAttribute,
  StopInstances: StopStart.StopInstances,
  StartInstances: StopStart.StartInstances,
  DescribeVpcs: Vpcs.DescribeVpcs,
  DescribeSubnets: Vpcs.DescribeSubnets,
  DescribeAccountAttributes: Vpcs.DescribeAccountAttributes,
  DescribeNetworkInterfaces: Vpcs.DescribeNetworkInterfaces,
  CreateVpc: Vpcs.CreateVpc,
  AuthorizeSecurityGroupEgress: Vpcs.AuthorizeSecurityGroupEgress,
  RevokeSecurityGroupEgress: Vpcs.RevokeSecurityGroupEgress,
  DescribeInstanceAttribute: InstanceAttributes.DescribeInstanceAttribute,
  ModifyInstanceAttribute: InstanceAttributes.ModifyInstanceAttribute,
  ResetInstanceAttribute: InstanceAttributes.ResetInstanceAttribute,
  ModifyImageAttribute: ImageAttributes.ModifyImageAttribute,
  ResetImageAttribute: ImageAttributes.ResetImageAttribute,
  DescribeReservedInstances: ImageAttributes.DescribeReservedInstances,
  DescribeReservedInstancesOfferings: ImageAttributes.DescribeReservedInstancesOfferings,
  CreateLaunchTemplate: LaunchTemplates.CreateLaunchTemplate,
  DescribeLaunchTemplates: LaunchTemplates.DescribeLaunchTemplates,
  DeleteLaunchTemplate: LaunchTemplates.DeleteLaunchTemplate,
  CreateLaunchTemplateVersion: LaunchTemplates.CreateLaunchTemplateVersion,
  DescribeLaunchTemplateVersions: LaunchTemplates.DescribeLaunchTemplateVersions,
  ModifyLaunchTemplate: LaunchTemplates.ModifyLaunchTemplate
}
