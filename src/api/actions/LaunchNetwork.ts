/**
 * Where RunInstances' VPC parameters put a launch: `SubnetId` and `NetworkInterface.N` name one of
 * the account's default subnets, which names a zone; the interface's `Groups` are the instance's
 * security groups and `AssociatePublicIpAddress=false` launches without a public address.
 * Combinations EC2 refuses are refused with its codes; what this cloud cannot do (a second
 * interface, an existing one, a chosen private address) is UnsupportedOperation.
 */
import { Effect } from "effect"
import * as H from "../Handler.js"
import * as Vpc from "../Vpc.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

export interface LaunchNetwork {
  readonly zone: string | undefined
  readonly groupIds: ReadonlyArray<string> | undefined
  readonly addressing: "public" | "private" | undefined
}

export const resolve = (input: Shapes.RunInstancesRequest, rc: H.RequestContext) =>
  Effect.gen(function* () {
    const nics = input.NetworkInterfaces ?? []
    if (nics.length > 1 || nics.some((n) => (n.DeviceIndex ?? 0) !== 0)) {
      return yield* Ec2Error.make("UnsupportedOperation", "An instance here has one network interface (DeviceIndex 0)")
    }
    const nic = nics[0]
    if (nic?.NetworkInterfaceId !== undefined) return yield* Ec2Error.make("UnsupportedOperation", "Launching with an existing network interface is not supported; give SubnetId and Groups instead")
    if (nic?.PrivateIpAddress !== undefined || (nic?.PrivateIpAddresses ?? []).length > 0 || input.PrivateIpAddress !== undefined) {
      return yield* Ec2Error.make("UnsupportedOperation", "Private addresses are chosen by the cloud's networking mode; a PrivateIpAddress cannot be asked for")
    }
    if (nic !== undefined && input.SubnetId !== undefined) {
      return yield* Ec2Error.make("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request")
    }
    if (nic !== undefined && ((input.SecurityGroupIds ?? []).length > 0 || (input.SecurityGroups ?? []).length > 0)) {
      return yield* Ec2Error.make("InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request")
    }
    const subnet = input.SubnetId ?? nic?.SubnetId
    let zone = input.Placement?.AvailabilityZone
    if (subnet !== undefined) {
      const s = yield* H.state
      const z = Vpc.zoneOfSubnet(s, rc.account.id, subnet)
      if (z === undefined) return yield* Ec2Error.make("InvalidSubnetID.NotFound", `The subnet ID '${Ec2Error.quote(subnet)}' does not exist`)
      if (zone !== undefined && zone !== "" && zone !== z) {
        return yield* Ec2Error.make("InvalidParameterValue", `The subnet ${subnet} is in ${z}, not in the availability zone asked for (${Ec2Error.quote(zone)})`)
      }
      zone = z
    }
    if (nic?.Groups !== undefined) yield* H.checkGroupIds(nic.Groups)
    return {
      zone,
      groupIds: nic?.Groups !== undefined && nic.Groups.length > 0 ? nic.Groups : input.SecurityGroupIds,
      addressing: nic?.AssociatePublicIpAddress === false ? "private" : nic?.AssociatePublicIpAddress === true ? "public" : undefined
    } satisfies LaunchNetwork
  })
