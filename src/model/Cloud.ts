/**
 * A cloud from its settings: topology, VM types, network and policy, validated together, to an
 * initial state. Everything a config file can get wrong comes back as a message naming the field.
 */
import { Either } from "effect"
import * as Network from "./Network.js"
import type * as Policy from "./Policy.js"
import * as State from "./State.js"
import * as Topology from "./Topology.js"
import type * as Units from "./Units.js"
import * as VmType from "./VmType.js"
import type * as Capacity from "./Capacity.js"

export interface CloudSettings {
  readonly topology: Topology.Topology
  readonly vmTypes?: VmType.VmTypeTable | undefined
  readonly network?: Network.NetworkSettings | undefined
  readonly nodeState?: Capacity.NodeState
  readonly at?: Units.Millis
}

export interface CloudError {
  readonly field: string
  readonly message: string
}

export const make = (settings: CloudSettings, policy: Policy.Policy<any>): Either.Either<State.State, CloudError> => {
  const topo = Topology.check(settings.topology)
  if (topo) return Either.left({ field: "cloud", message: topo.message })
  const vmTypes = settings.vmTypes ?? VmType.eucalyptusDefaults
  const v = VmType.validate(vmTypes, { requireTotalOrder: policy.requiresOrderedVmTypes })
  if (Either.isLeft(v)) {
    return Either.left({ field: "vmTypes", message: `${v.left.message}${policy.requiresOrderedVmTypes ? ` (policy ${policy.name} needs ordered types; bestfit and worstfit do not)` : ""}` })
  }
  const n = Network.validate(settings.network ?? Network.systemSettings)
  if (Either.isLeft(n)) return Either.left({ field: `network.${n.left.field}`, message: n.left.message })
  const options: Parameters<typeof State.make>[0] = {
    nodes: Topology.expand(settings.topology),
    vmTypes,
    network: n.right,
    policyName: policy.name,
    policyInitial: policy.initial,
    storage: Topology.storage(settings.topology),
    ...(settings.nodeState ? { nodeState: settings.nodeState } : {}),
    ...(settings.at !== undefined ? { at: settings.at } : {})
  }
  return Either.right(State.make(options))
}
