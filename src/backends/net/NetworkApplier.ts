/**
 * Applies network plans to real hosts: the cluster head of each zone (iptables and devices) and,
 * optionally, its nodes (segment devices and bridges), through pluggable Runners.
 *
 * Per apply: the head's rules change in ONE `iptables-restore --noflush` (atomic: a revoke, a
 * terminate or an address move never opens a window), and only when they changed; then the `ip`
 * commands of the device diff on the head, then on each node. Rules go first so a segment never
 * exists without its filter (a segment without rules is dropped by the default DROP, never open).
 * The applier remembers what each host holds after a successful apply; on the first apply, or after
 * any failure, it reads the host (`ip -d -j link show`, `ip -j addr show`, `iptables-save`) and
 * diffs against that — so a restart or a half-done change heals on the next apply.
 */
import { Context, Effect, Either, Layer, Schema } from "effect"
import * as Devices from "../../model/NetworkDevices.js"
import * as NetworkDhcp from "../../model/NetworkDhcp.js"
import * as NetworkDiff from "../../model/NetworkDiff.js"
import * as NetworkPlan from "../../model/NetworkPlan.js"
import * as NetworkRender from "../../model/NetworkRender.js"
import type * as State from "../../model/State.js"
import type * as Ids from "../../model/Ids.js"
import * as Dhcp from "./Dhcp.js"
import type * as Runner from "./Runner.js"

export interface Host {
  readonly runner: Runner.Runner
  readonly segment: NetworkRender.SegmentKind
}

export interface ZoneHosts {
  readonly head: NetworkPlan.Head
  readonly headHost: Host
  /** Nodes whose segment devices and bridges this applier makes (Eucalyptus's NC did it itself). */
  readonly nodes?: ReadonlyArray<{ readonly node: string; readonly host: Host }> | undefined
  /** DHCP for the instances from the head (MANAGED modes): one dnsmasq per segment; none when absent. */
  readonly dhcp?: Dhcp.Options | undefined
}

export interface Options {
  readonly zones: Readonly<Record<string, ZoneHosts>>
  /** e.g. "iptables-legacy-restore"; default "iptables-restore". */
  readonly iptablesRestore?: string | undefined
  readonly iptablesSave?: string | undefined
}

export class NetworkConfigError extends Schema.TaggedError<NetworkConfigError>()("NetworkConfigError", {
  field: Schema.String,
  message: Schema.String
}) {}

export class NetworkApplyError extends Schema.TaggedError<NetworkApplyError>()("NetworkApplyError", {
  zone: Schema.String,
  host: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

export interface Applied {
  readonly zone: string
  /** iptables-restore runs: 0 (rules unchanged) or 1. */
  readonly restores: number
  /** `ip` (and first-time sysctl) commands run, per host. */
  readonly commands: ReadonlyArray<{ readonly host: string; readonly argv: ReadonlyArray<string> }>
  /** Hosts read instead of remembered (first apply, or after a failure). */
  readonly observed: ReadonlyArray<string>
}

export interface NetworkApplierShape {
  /** Apply a compiled plan to its zone's hosts; only what changed since the last apply. */
  readonly apply: (plan: NetworkPlan.Plan) => Effect.Effect<Applied, NetworkApplyError>
  /** Compile the zone's plan from the state (with the configured head) and apply it: the ApplyNetwork{zone} effect. */
  readonly applyState: (state: State.State, zone: string) => Effect.Effect<Applied, NetworkApplyError>
  readonly lastApplied: (zone: string) => Effect.Effect<NetworkPlan.Plan | undefined>
  /** Forget what the hosts hold (all zones if none named): the next apply reads them again. */
  readonly forget: (zone?: string) => Effect.Effect<void>
}

export class NetworkApplier extends Context.Tag("eucalyptus/NetworkApplier")<NetworkApplier, NetworkApplierShape>() {}

interface Memory {
  readonly devices: Devices.Devices
  readonly existing: NetworkRender.Existing
  /** undefined: read from the host, content unknown (restore once to be sure). */
  readonly rules: NetworkRender.Rules | undefined
  readonly setUp: boolean
}

const sameExisting = (a: NetworkRender.Existing, b: NetworkRender.Existing) =>
  JSON.stringify([[...a.chains].sort(), [...a.hooks].sort()]) === JSON.stringify([[...b.chains].sort(), [...b.hooks].sort()])

export const make = (options: Options): Effect.Effect<NetworkApplierShape, NetworkConfigError> =>
  Effect.gen(function*() {
    for (const [zone, z] of Object.entries(options.zones)) {
      const head = NetworkPlan.checkHead(z.head)
      if (head) return yield* new NetworkConfigError({ field: `zones.${zone}.${head.field}`, message: head.message })
      const badDhcp = z.dhcp === undefined ? undefined : NetworkDhcp.checkOptions(z.dhcp)
      if (badDhcp) return yield* new NetworkConfigError({ field: `zones.${zone}.dhcp`, message: badDhcp })
      const bad = NetworkRender.checkKind(z.headHost.segment, "head")
      if (bad) return yield* new NetworkConfigError({ field: `zones.${zone}.headHost`, message: bad })
      for (const [k, n] of (z.nodes ?? []).entries()) {
        const badNode = NetworkRender.checkKind(n.host.segment, "node")
        if (badNode) return yield* new NetworkConfigError({ field: `zones.${zone}.nodes[${k}]`, message: badNode })
      }
    }
    const restoreBin = options.iptablesRestore ?? "iptables-restore"
    const saveBin = options.iptablesSave ?? "iptables-save"
    const memory = new Map<string, Memory>()
    /** Per zone: the head's dnsmasq servers after the last successful apply. */
    const dhcpMemory = new Map<string, ReadonlyArray<Dhcp.Running>>()
    const plans = new Map<string, NetworkPlan.Plan>()
    const lock = yield* Effect.makeSemaphore(1)

    const applyZone = (plan: NetworkPlan.Plan): Effect.Effect<Applied, NetworkApplyError> =>
      Effect.gen(function*() {
        const zone = plan.zone
        const hosts = options.zones[zone]
        if (!hosts) return yield* new NetworkApplyError({ zone, host: "-", command: "-", message: `no hosts are configured for zone ${zone}` })
        const commands: Array<{ host: string; argv: ReadonlyArray<string> }> = []
        const observed: Array<string> = []

        const exec = (key: string, host: Host, argv: ReadonlyArray<string>, stdin?: string) =>
          host.runner.run(argv, stdin).pipe(
            Effect.mapError((e) => new NetworkApplyError({ zone, host: host.runner.where, command: e.command, message: e.message })),
            Effect.flatMap((r) =>
              r.code === 0
                ? Effect.succeed(r)
                : Effect.fail(new NetworkApplyError({ zone, host: host.runner.where, command: argv.join(" "), message: `exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}` }))
            ),
            // Whatever failed, the host may now hold anything: read it next time.
            Effect.tapError(() => Effect.sync(() => memory.delete(key)))
          )

        const observe = (key: string, host: Host, role: NetworkRender.Role) =>
          Effect.gen(function*() {
            observed.push(host.runner.where)
            const links = yield* exec(key, host, ["ip", "-d", "-j", "link", "show"])
            const addrs = yield* exec(key, host, ["ip", "-j", "addr", "show"])
            const devices = Devices.observe(links.stdout, addrs.stdout, NetworkRender.ownership(host.segment, role))
            if (Either.isLeft(devices)) {
              return yield* new NetworkApplyError({ zone, host: host.runner.where, command: devices.left.source, message: devices.left.message })
            }
            const existing = role === "head" ? NetworkRender.parseSave((yield* exec(key, host, [saveBin])).stdout) : NetworkRender.nothing
            return { devices: devices.right, existing, rules: undefined, setUp: false } satisfies Memory
          })

        const ipTo = (key: string, host: Host, mem: Memory, target: Devices.Devices) =>
          Effect.gen(function*() {
            for (const argv of NetworkDiff.devices(mem.devices, target)) {
              commands.push({ host: host.runner.where, argv })
              yield* exec(key, host, argv)
            }
            memory.set(key, { ...mem, devices: target })
          })

        // The head: setup once, one restore if the rules changed, then its devices.
        const headKey = `${zone}/head`
        let head = memory.get(headKey) ?? (yield* observe(headKey, hosts.headHost, "head"))
        if (!head.setUp && !NetworkPlan.isEmpty(plan)) {
          for (const argv of NetworkRender.headSetup(plan)) {
            commands.push({ host: hosts.headHost.runner.where, argv })
            yield* exec(headKey, hosts.headHost, argv)
          }
          head = { ...head, setUp: true }
        }
        const rules = NetworkRender.rules(plan)
        const after = NetworkRender.existingAfter(plan)
        let restores = 0
        if (head.rules === undefined || !NetworkRender.sameRules(head.rules, rules) || !sameExisting(head.existing, after)) {
          const input = NetworkRender.restore(plan, head.existing)
          if (input !== undefined) {
            yield* exec(headKey, hosts.headHost, [restoreBin, "--noflush"], input)
            restores = 1
          }
        }
        head = { ...head, rules, existing: after }
        memory.set(headKey, head)
        yield* ipTo(headKey, hosts.headHost, head, NetworkRender.headDevices(plan, hosts.headHost.segment))

        // DHCP after the devices: dnsmasq binds to a bridge (or the private interface) that exists.
        if (hosts.dhcp !== undefined) {
          const dhcpKey = `${zone}/dhcp`
          const forgetDhcp = <A>(e: Effect.Effect<A, NetworkApplyError>) => Effect.tapError(e, () => Effect.sync(() => dhcpMemory.delete(dhcpKey)))
          let running = dhcpMemory.get(dhcpKey)
          if (running === undefined) {
            observed.push(`${hosts.headHost.runner.where} (dhcp)`)
            running = Dhcp.parseList((yield* exec(dhcpKey, hosts.headHost, Dhcp.listCommand(hosts.dhcp.stateDir)).pipe(forgetDhcp)).stdout)
          }
          const wanted = NetworkDhcp.servers(plan, hosts.dhcp)
          for (const argv of Dhcp.commands(hosts.dhcp, running, wanted)) {
            commands.push({ host: hosts.headHost.runner.where, argv })
            yield* exec(dhcpKey, hosts.headHost, argv).pipe(forgetDhcp)
          }
          dhcpMemory.set(dhcpKey, Dhcp.runningAfter(wanted))
        }

        for (const n of hosts.nodes ?? []) {
          const key = `${zone}/node/${n.node}`
          const mem = memory.get(key) ?? (yield* observe(key, n.host, "node"))
          yield* ipTo(key, n.host, mem, NetworkRender.nodeDevices(plan, n.node, n.host.segment))
        }
        plans.set(zone, plan)
        return { zone, restores, commands, observed }
      })

    const shape: NetworkApplierShape = {
      apply: (plan) => lock.withPermits(1)(applyZone(plan)),
      applyState: (state, zone) =>
        Effect.gen(function*() {
          const hosts = options.zones[zone]
          if (!hosts) return yield* new NetworkApplyError({ zone, host: "-", command: "-", message: `no hosts are configured for zone ${zone}` })
          const plan = NetworkPlan.compile(state, zone as Ids.ZoneName, hosts.head)
          if (Either.isLeft(plan)) return yield* new NetworkApplyError({ zone, host: "-", command: "compile", message: `${plan.left.field}: ${plan.left.message}` })
          return yield* shape.apply(plan.right)
        }),
      lastApplied: (zone) => Effect.sync(() => plans.get(zone)),
      forget: (zone) =>
        Effect.sync(() => {
          for (const k of [...memory.keys()]) if (zone === undefined || k.startsWith(`${zone}/`)) memory.delete(k)
          for (const k of [...dhcpMemory.keys()]) if (zone === undefined || k.startsWith(`${zone}/`)) dhcpMemory.delete(k)
          if (zone === undefined) plans.clear()
          else plans.delete(zone)
        })
    }
    return shape
  })

export const layer = (options: Options): Layer.Layer<NetworkApplier, NetworkConfigError> => Layer.effect(NetworkApplier, make(options))
