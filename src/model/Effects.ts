/**
 * What must be done outside, derived from events: start or stop a VM on a node, reboot it, power a
 * node down or up, and apply a zone's network plan. The backend (simulated or Xen) carries them out
 * and reports back with observation commands.
 */
import { HashMap } from "effect"
import * as EbsEffects from "./EbsEffects.js"
import type * as Events from "./Events.js"
import type * as Ids from "./Ids.js"
import * as Network from "./Network.js"
import type * as Resources from "./Resources.js"
import * as State from "./State.js"

export interface InstanceSpec {
  readonly id: Ids.InstanceId
  readonly account: Ids.AccountId
  readonly zone: Ids.ZoneName
  readonly node: Ids.NodeId
  readonly vmType: string
  readonly size: Resources.Resources
  readonly imageId: string
  readonly kernelId?: string | undefined
  readonly ramdiskId?: string | undefined
  readonly keyName?: string | undefined
  readonly userData?: string | undefined
  readonly launchIndex: number
  readonly mac: string
  readonly privateIp?: string | undefined
  /** The bridge the instance's interface joins: eucabr<vlan> in MANAGED, the shared bridge otherwise (undefined). */
  readonly bridge?: string | undefined
  readonly vlan?: number | undefined
  readonly lifetimeMs?: number | undefined
  /** EBS: the volumes attached to it (its root first by device name), which its VM gets. */
  readonly volumes?: ReadonlyArray<EbsEffects.BlockDevice> | undefined
}

export type Effect =
  | { readonly _tag: "StartInstance"; readonly instance: InstanceSpec }
  | { readonly _tag: "StopInstance"; readonly instanceId: Ids.InstanceId; readonly node: Ids.NodeId }
  | { readonly _tag: "RebootInstance"; readonly instanceId: Ids.InstanceId; readonly node: Ids.NodeId }
  | { readonly _tag: "PowerDown"; readonly node: Ids.NodeId }
  | { readonly _tag: "PowerUp"; readonly node: Ids.NodeId }
  | { readonly _tag: "ApplyNetwork"; readonly zone: Ids.ZoneName }
  | EbsEffects.StorageEffect

export const specOf = (s: State.State, i: State.Instance): InstanceSpec => withVolumes(s, i, {
  id: i.id,
  account: i.account,
  zone: i.zone,
  node: i.node,
  vmType: i.vmType,
  size: i.size,
  imageId: i.imageId,
  kernelId: i.kernelId,
  ramdiskId: i.ramdiskId,
  keyName: i.keyName,
  userData: i.userData,
  launchIndex: i.launchIndex,
  mac: i.net.mac,
  privateIp: i.net.privateIp,
  bridge: s.network.mode === "MANAGED" && i.net.vlan !== undefined ? Network.bridgeName(i.net.vlan) : undefined,
  vlan: i.net.vlan,
  lifetimeMs: i.lifetimeMs
})

const withVolumes = (s: State.State, i: State.Instance, spec: InstanceSpec): InstanceSpec => {
  const volumes = EbsEffects.blockDevices(s, i.id)
  return volumes === undefined ? spec : { ...spec, volumes }
}

const zonesOfGroup = (s: State.State, g: Ids.GroupId): Array<Ids.ZoneName> => {
  const zones = new Set<Ids.ZoneName>()
  for (const i of HashMap.values(s.instances)) if (i.state !== "terminated" && i.groups.includes(g)) zones.add(i.zone)
  return s.zones.map((z) => z.name).filter((z) => zones.has(z))
}

const liveZones = (s: State.State): Array<Ids.ZoneName> => {
  const zones = new Set<Ids.ZoneName>()
  for (const i of HashMap.values(s.instances)) if (i.state !== "terminated") zones.add(i.zone)
  return s.zones.map((z) => z.name).filter((z) => zones.has(z))
}

/**
 * Effects of one event, given the state before and after it. A network plan is re-applied only in
 * the MANAGED modes (SYSTEM and STATIC leave the site's network alone), and only for zones it touches.
 */
export const of = (before: State.State, e: Events.Event, after: State.State): Array<Effect> => {
  const managed = Network.isManaged(after.network)
  const net = (zones: ReadonlyArray<Ids.ZoneName>): Array<Effect> =>
    managed ? [...new Set(zones)].map((zone) => ({ _tag: "ApplyNetwork", zone }) as const) : []
  switch (e._tag) {
    case "InstancesLaunched": {
      const out: Array<Effect> = e.woken.map((node) => ({ _tag: "PowerUp", node }) as const)
      // A group that just got its network may be the source of other groups' rules in other zones.
      out.push(...net(e.networks.length > 0 ? [e.zone, ...liveZones(after)] : [e.zone]))
      for (const x of e.instances) {
        const i = State.instance(after, x.id)!
        if (i.dispatched) out.push({ _tag: "StartInstance", instance: specOf(after, i) })
      }
      return out
    }
    case "NodeReported": {
      // A node that came up starts the instances that waited for it.
      const out: Array<Effect> = []
      for (const i of State.instances(before)) {
        if (i.node === e.node && !i.dispatched && i.state !== "terminated") out.push({ _tag: "StartInstance", instance: specOf(after, State.instance(after, i.id)!) })
      }
      return out
    }
    case "InstancesTerminating":
      return e.instances.map((id) => ({ _tag: "StopInstance", instanceId: id, node: State.instance(after, id)!.node }) as const)
    case "InstanceRebootRequested":
      return [{ _tag: "RebootInstance", instanceId: e.instance, node: State.instance(after, e.instance)!.node }]
    case "InstanceTerminated": {
      const i = State.instance(before, e.instance)!
      const g = State.homeGroup(i)
      const released = g !== undefined && State.group(before, g)?.vlan !== undefined && State.group(after, g)?.vlan === undefined
      return [...net(released ? [i.zone, ...liveZones(after)] : [i.zone]), ...EbsEffects.ofTermination(before, after, i.id)]
    }
    case "NodePoweredDown":
      return [{ _tag: "PowerDown", node: e.node }]
    case "IngressAuthorized":
    case "IngressRevoked":
    case "EgressAuthorized":
    case "EgressRevoked":
      return net(zonesOfGroup(after, e.group))
    case "AddressAssociated":
    case "AddressDisassociated": {
      const zones: Array<Ids.ZoneName> = [State.instance(after, e.instance)!.zone]
      return net(zones)
    }
    case "InstanceBooted":
    case "InstanceGroupsChanged":
      // Its address is now a source of other groups' rules, wherever they have members.
      return net([State.instance(after, e.instance)!.zone, ...liveZones(after)])
    case "InstanceAttributesChanged":
    case "InstancesForgotten":
    case "NodeLost":
    case "NodeAdded":
    case "NodeRemoved":
    case "GroupCreated":
    case "GroupDeleted":
    case "AddressAllocated":
    case "AddressReleased":
    case "VmTypesChanged":
    case "PolicyChanged":
      return []
    default:
      return EbsEffects.of(before, e, after, specOf)
  }
}
