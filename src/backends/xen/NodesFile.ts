/**
 * The nodes file: which Xen hosts make up each zone, how to reach them over SSH (with their pinned
 * host keys), what to leave to dom0, how to run xl there and where things live on them; and a
 * cluster head per zone for the network plan. JSON, validated as a whole: every problem is reported
 * with the file and the field path (`nodes[1].paths.imageCacheMiB: …`), and nothing is used until
 * the whole file is valid.
 *
 * A top-level `defaults` object is merged under every node (objects merged key by key, arrays and
 * values replaced), so a uniform cluster is written once.
 */
import * as Fs from "node:fs/promises"
import { Effect, Either, ParseResult, Schema } from "effect"
import * as ConfigFile from "../../config/ConfigFile.js"
import * as HostKey from "./HostKey.js"
import * as Ids from "../../model/Ids.js"
import type * as Topology from "../../model/Topology.js"
import * as Units from "../../model/Units.js"

export class NodesFileError extends Schema.TaggedError<NodesFileError>()("NodesFileError", {
  path: Schema.String,
  /** One line per problem, each `<file>: <field>: <what is wrong>`. */
  message: Schema.String
}) {}

const msg = (m: string) => ({ message: () => m })

const AbsPath = Schema.String.pipe(Schema.pattern(/^\/\S*$/), Schema.annotations(msg("must be an absolute path without spaces")))
const Name = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/), Schema.annotations(msg("must be letters, digits, '.', '_' or '-' (not starting with a punctuation mark)")))
const Host = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]+$/), Schema.annotations(msg("must be a host name or an IP address")))
const Port = Schema.Int.pipe(Schema.between(1, 65535), Schema.annotations(msg("must be a port number (1–65535)")))
const User = Schema.String.pipe(Schema.pattern(/^[a-z_][a-z0-9_.-]*\$?$/), Schema.annotations(msg("must be a user name")))
const IfName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.-]{1,15}$/), Schema.annotations(msg("must be a network interface name (at most 15 characters)")))
const PositiveMs = Schema.Int.pipe(Schema.positive(), Schema.annotations(msg("must be a whole number of milliseconds above 0")))
const NonNegative = Schema.Int.pipe(Schema.nonNegative(), Schema.annotations(msg("must be a whole number, 0 or more")))
const Positive = Schema.Int.pipe(Schema.positive(), Schema.annotations(msg("must be a whole number above 0")))
const PinnedKeyLine = Schema.String.pipe(
  Schema.filter((s) => Either.match(HostKey.parse(s), { onLeft: (e) => e, onRight: () => true }))
)
const Command = Schema.NonEmptyArray(Schema.String.pipe(Schema.minLength(1))).pipe(Schema.annotations(msg("must be a non-empty list of non-empty strings")))

export const Timeouts = Schema.Struct({
  /** TCP connect + SSH handshake + authentication. */
  connectMs: Schema.optionalWith(PositiveMs, { default: () => 10_000 }),
  /** Any command not listed below. */
  commandMs: Schema.optionalWith(PositiveMs, { default: () => 30_000 }),
  /** `xl create` (the hypervisor builds the domain; loading a big kernel takes a while). */
  createMs: Schema.optionalWith(PositiveMs, { default: () => 120_000 }),
  /** One SFTP upload (images, configs). */
  uploadMs: Schema.optionalWith(PositiveMs, { default: () => 600_000 })
})
export type Timeouts = typeof Timeouts.Type

export const Paths = Schema.Struct({
  /** Where the guests' xl.cfg files are written. */
  configDir: AbsPath,
  /** One directory per instance with its disks (copies from the cache). */
  instancesDir: AbsPath,
  /** The node's image cache (files named by sha256 digest). */
  imageCacheDir: AbsPath,
  /** The cache's size bound; least-recently-used images are evicted beyond it. */
  imageCacheMiB: Positive,
  /** xenconsoled's guest logs (`guest-<name>.log`; enable with XENCONSOLED_TRACE=guest). */
  consoleLogDir: AbsPath
})
export type Paths = typeof Paths.Type

export const Guest = Schema.Struct({
  type: Schema.optionalWith(Schema.Literal("pv", "pvh"), { default: () => "pv" as const }),
  cmdline: Schema.optionalWith(Schema.String, { default: () => "root=/dev/xvda1 console=hvc0 ro" }),
  /** The bridge for instances without a VLAN segment (SYSTEM/STATIC modes, MANAGED-NOVLAN). */
  defaultBridge: Schema.optionalWith(IfName, { default: () => "xenbr0" })
})
export type Guest = typeof Guest.Type

/**
 * How a security group's segment is made on a host's private interface: 802.1Q VLAN devices
 * (production, the default) or VXLAN with VNI = VLAN id (for kernels without 802.1Q) to one peer.
 */
export const Segment = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("vlan") }),
  Schema.Struct({ kind: Schema.Literal("vxlan"), local: Schema.String, remote: Schema.String, port: Schema.optional(Port) })
)
export type Segment = typeof Segment.Type

/**
 * A KVM node (`euca serve --backend kvm`): how to run virsh and qemu-img there, which domain type
 * to use (`auto` probes whether a KVM guest really starts and falls back to TCG), the guests' kernel
 * command line and bridge. The Xen backend ignores it.
 */
export const Kvm = Schema.Struct({
  virsh: Schema.optionalWith(Command, { default: () => ["virsh", "-c", "qemu:///system"] as const }),
  qemuImg: Schema.optionalWith(Command, { default: () => ["qemu-img"] as const }),
  domainType: Schema.optionalWith(Schema.Literal("auto", "kvm", "qemu"), { default: () => "auto" as const }),
  /** Kernel command line for images with a kernel; `ip=` for the instance's address is appended. */
  cmdline: Schema.optionalWith(Schema.String, { default: () => "console=ttyS0 panic=-1" }),
  /** Gateway and netmask given in `ip=` (the cluster head's address on the instance's segment). */
  gateway: Schema.optional(Schema.String),
  netmask: Schema.optional(Schema.String),
  /**
   * The instances' segment prefix length (32 - log2 of the network's addressesPerNetwork): `ip=`
   * then carries the netmask and, unless `gateway` is given, the segment's gateway (its first address,
   * where the cluster head has it).
   */
  prefixLength: Schema.optional(Schema.Int.pipe(Schema.between(8, 30))),
  /** The guests' NIC MTU (virtio-net tells the guest): 1450 over VXLAN segments. */
  mtu: Schema.optional(Schema.Int.pipe(Schema.between(576, 9000))),
  /** The bridge for instances without a VLAN segment. */
  defaultBridge: Schema.optionalWith(IfName, { default: () => "eucabr0" }),
  /** `acpi` asks the guest (EC2's reboot); `reset` resets it (guests without an ACPI daemon). */
  reboot: Schema.optionalWith(Schema.Literal("acpi", "reset"), { default: () => "acpi" as const }),
  emulator: Schema.optional(AbsPath)
})
export type Kvm = typeof Kvm.Type

export const Node = Schema.Struct({
  /** The node id the controller knows it by. */
  name: Name,
  zone: Name,
  host: Host,
  port: Schema.optionalWith(Port, { default: () => 22 }),
  user: User,
  privateKeyPath: AbsPath,
  /** The node's host key as one known_hosts line; the connection is refused if the host presents another. */
  hostKey: PinnedKeyLine,
  /** What dom0 keeps for itself: subtracted from what `xl info` reports. */
  reserve: Schema.Struct({ memoryMiB: NonNegative, cores: NonNegative }),
  /** How to run xl, e.g. ["sudo", "-n", "/usr/sbin/xl"]. */
  xl: Schema.optionalWith(Command, { default: () => ["xl"] as const }),
  paths: Paths,
  /** Disk offered to instances; default: the size of the instances file system minus the image cache. */
  diskGiB: Schema.optional(NonNegative),
  guest: Schema.optionalWith(Guest, { default: () => Schema.decodeSync(Guest)({}) }),
  timeouts: Schema.optionalWith(Timeouts, { default: () => Schema.decodeSync(Timeouts)({}) }),
  /**
   * MANAGED networking: the interface toward the cluster head on which the node's 802.1Q devices
   * and eucabr<vlan> bridges are made (Eucalyptus's NC did it itself). Omit if the operator makes them.
   */
  privateInterface: Schema.optional(IfName),
  /** Put before ip commands on the node, e.g. ["sudo", "-n"]. */
  commandPrefix: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  segment: Schema.optionalWith(Segment, { default: () => ({ kind: "vlan" as const }) }),
  /** KVM nodes only (see Kvm). */
  kvm: Schema.optionalWith(Kvm, { default: () => Schema.decodeSync(Kvm)({}) })
})
export type Node = typeof Node.Type

/**
 * DHCP for the instances from the cluster head (MANAGED modes): one dnsmasq per segment, as
 * Eucalyptus's cluster controller ran dhcpd. Off unless present (`"dhcp": {}` takes the defaults).
 */
export const HeadDhcp = Schema.Struct({
  /** The servers' config, hosts, pid and lease files (readable by dnsmasq's unprivileged user). */
  stateDir: Schema.optionalWith(AbsPath, { default: () => "/run/eucalyptus/dhcp" }),
  leaseSeconds: Schema.optional(Schema.Int.pipe(Schema.greaterThanOrEqualTo(120), Schema.annotations(msg("must be a whole number of seconds, at least 120")))),
  /** Offered to the instances as DNS servers (Eucalyptus's VNET_DNS); none when absent. */
  dns: Schema.optional(Schema.Array(Schema.String.pipe(Schema.pattern(/^\d{1,3}(\.\d{1,3}){3}$/), Schema.annotations(msg("must be an IPv4 address"))))),
  /** The dnsmasq binary on the head. */
  dnsmasq: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { default: () => "dnsmasq" })
})
export type HeadDhcp = typeof HeadDhcp.Type

export const ClusterHead = Schema.Struct({
  zone: Name,
  host: Host,
  port: Schema.optionalWith(Port, { default: () => 22 }),
  user: User,
  privateKeyPath: AbsPath,
  hostKey: PinnedKeyLine,
  /** Faces the nodes (VLAN devices are made on it). */
  privateInterface: IfName,
  /** Faces the outside (public addresses, NAT). */
  publicInterface: IfName,
  /** Put before ip/iptables commands, e.g. ["sudo", "-n"]. */
  commandPrefix: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  segment: Schema.optionalWith(Segment, { default: () => ({ kind: "vlan" as const }) }),
  dhcp: Schema.optional(HeadDhcp),
  timeouts: Schema.optionalWith(Timeouts, { default: () => Schema.decodeSync(Timeouts)({}) })
})
export type ClusterHead = typeof ClusterHead.Type

/**
 * A zone's storage controller host (volumes and snapshots, issue 13): reached over SSH like a node,
 * holding each volume as a file in `dir` (`vol-….img`, snapshots `snap-….img`) and exporting an
 * attached volume over NBD with qemu-nbd on `export.address`, one port of `export.ports` per export.
 */
export const Storage = Schema.Struct({
  zone: Name,
  host: Host,
  port: Schema.optionalWith(Port, { default: () => 22 }),
  user: User,
  privateKeyPath: AbsPath,
  hostKey: PinnedKeyLine,
  /** Where the volume and snapshot files live (made if missing). */
  dir: AbsPath,
  /** The volumes' file format: raw (default; sparse files) or qcow2. NBD clients always see raw. */
  format: Schema.optionalWith(Schema.Literal("raw", "qcow2"), { default: () => "raw" as const }),
  /** Where the nodes reach the exports: the address qemu-nbd binds and the ports it may take. */
  export: Schema.Struct({
    address: Host,
    ports: Schema.Struct({ first: Port, last: Port })
  }),
  qemuImg: Schema.optionalWith(Command, { default: () => ["qemu-img"] as const }),
  qemuNbd: Schema.optionalWith(Command, { default: () => ["qemu-nbd"] as const }),
  /** Put before every command on the storage host, e.g. ["sudo", "-n"]. */
  commandPrefix: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  timeouts: Schema.optionalWith(Timeouts, { default: () => Schema.decodeSync(Timeouts)({}) })
})
export type Storage = typeof Storage.Type

export const Images = Schema.Struct({
  /** The controller's image store directory. */
  dir: AbsPath,
  defaultKernelId: Schema.optional(Schema.String),
  defaultRamdiskId: Schema.optional(Schema.String)
})
export type Images = typeof Images.Type

export const NodesFile = Schema.Struct({
  nodes: Schema.Array(Node).pipe(Schema.minItems(1, msg("must list at least one node"))),
  clusterHeads: Schema.optionalWith(Schema.Array(ClusterHead), { default: () => [] }),
  /** One storage controller host per zone (zones without one have no volumes on real backends). */
  storage: Schema.optional(Schema.Array(Storage)),
  images: Schema.optional(Images)
})
export type NodesFile = typeof NodesFile.Type

// ── reading ─────────────────────────────────────────────────────────────────────────────────────

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const merge = (base: unknown, over: unknown): unknown => {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v)
  return out
}

const fieldPath = (path: ReadonlyArray<PropertyKey>): string => {
  let s = ""
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? String(p) : `.${String(p)}`
  return s === "" ? "(top level)" : s
}

/** Whole-file checks the per-field schema cannot see. */
const crossCheck = (f: NodesFile): Array<string> => {
  const problems: Array<string> = []
  const seen = new Map<string, number>()
  f.nodes.forEach((n, i) => {
    const prev = seen.get(n.name)
    if (prev !== undefined) problems.push(`nodes[${i}].name: duplicate node name ${JSON.stringify(n.name)} (also nodes[${prev}])`)
    else seen.set(n.name, i)
    const key = Either.getOrThrow(HostKey.parse(n.hostKey))
    if (!HostKey.matchesHost(key, n.host, n.port)) {
      problems.push(`nodes[${i}].hostKey: the line is for ${JSON.stringify(key.hosts)}, not for ${HostKey.hostEntry(n.host, n.port)}`)
    }
  })
  const heads = new Map<string, number>()
  f.clusterHeads.forEach((h, i) => {
    const prev = heads.get(h.zone)
    if (prev !== undefined) problems.push(`clusterHeads[${i}].zone: a second cluster head for zone ${JSON.stringify(h.zone)} (also clusterHeads[${prev}])`)
    else heads.set(h.zone, i)
    if (!f.nodes.some((n) => n.zone === h.zone)) problems.push(`clusterHeads[${i}].zone: no node is in zone ${JSON.stringify(h.zone)}`)
    const key = Either.getOrThrow(HostKey.parse(h.hostKey))
    if (!HostKey.matchesHost(key, h.host, h.port)) {
      problems.push(`clusterHeads[${i}].hostKey: the line is for ${JSON.stringify(key.hosts)}, not for ${HostKey.hostEntry(h.host, h.port)}`)
    }
  })
  const stores = new Map<string, number>()
  for (const [i, st] of (f.storage ?? []).entries()) {
    const prev = stores.get(st.zone)
    if (prev !== undefined) problems.push(`storage[${i}].zone: a second storage host for zone ${JSON.stringify(st.zone)} (also storage[${prev}])`)
    else stores.set(st.zone, i)
    if (!f.nodes.some((n) => n.zone === st.zone)) problems.push(`storage[${i}].zone: no node is in zone ${JSON.stringify(st.zone)}`)
    if (st.export.ports.first > st.export.ports.last) {
      problems.push(`storage[${i}].export.ports: first (${st.export.ports.first}) is above last (${st.export.ports.last})`)
    }
    const key = Either.getOrThrow(HostKey.parse(st.hostKey))
    if (!HostKey.matchesHost(key, st.host, st.port)) {
      problems.push(`storage[${i}].hostKey: the line is for ${JSON.stringify(key.hosts)}, not for ${HostKey.hostEntry(st.host, st.port)}`)
    }
  }
  return problems
}

/** Parse and validate the text of a nodes file; `path` only names it in errors. */
export const parse = (text: string, path: string): Either.Either<NodesFile, NodesFileError> => {
  const fail = (problems: ReadonlyArray<string>) => Either.left(new NodesFileError({ path, message: problems.map((p) => `${path}: ${p}`).join("\n") }))
  const parsed = ConfigFile.parseJson(text)
  if (Either.isLeft(parsed)) return fail([`not valid JSON at line ${parsed.left.line}, column ${parsed.left.column}: ${parsed.left.message}`])
  let json = parsed.right
  if (isObject(json) && json["defaults"] !== undefined) {
    const { defaults, ...rest } = json
    if (!isObject(defaults)) return fail(["defaults: must be an object"])
    json = { ...rest, nodes: Array.isArray(rest["nodes"]) ? rest["nodes"].map((n) => merge(defaults, n)) : rest["nodes"] }
  }
  const decoded = Schema.decodeUnknownEither(NodesFile, { errors: "all", onExcessProperty: "error" })(json)
  if (Either.isLeft(decoded)) {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
    return fail(issues.map((i) => `${fieldPath(i.path)}: ${i._tag === "Unexpected" ? "unknown field" : i.message}`))
  }
  const problems = crossCheck(decoded.right)
  return problems.length > 0 ? fail(problems) : Either.right(decoded.right)
}

/** Read and validate a nodes file. */
export const load = (path: string): Effect.Effect<NodesFile, NodesFileError> =>
  Effect.tryPromise({
    try: () => Fs.readFile(path, "utf8"),
    catch: (e) => new NodesFileError({ path, message: `${path}: cannot read: ${(e as Error).message}` })
  }).pipe(Effect.flatMap((text) => parse(text, path)))

// ── views ───────────────────────────────────────────────────────────────────────────────────────

/** What an SSH connection needs; nodes and cluster heads are both SSH targets. */
export interface SshTarget {
  /** The pool's key: the node name, `head:<zone>` or `storage:<zone>`. */
  readonly name: string
  readonly host: string
  readonly port: number
  readonly user: string
  readonly privateKeyPath: string
  readonly hostKey: string
  readonly timeouts: Timeouts
}

export const nodeTarget = (n: Node): SshTarget => ({
  name: n.name,
  host: n.host,
  port: n.port,
  user: n.user,
  privateKeyPath: n.privateKeyPath,
  hostKey: n.hostKey,
  timeouts: n.timeouts
})

export const headTargetName = (zone: string): string => `head:${zone}`

export const headTarget = (h: ClusterHead): SshTarget => ({
  name: headTargetName(h.zone),
  host: h.host,
  port: h.port,
  user: h.user,
  privateKeyPath: h.privateKeyPath,
  hostKey: h.hostKey,
  timeouts: h.timeouts
})

export const storageTargetName = (zone: string): string => `storage:${zone}`

export const storageTarget = (st: Storage): SshTarget => ({
  name: storageTargetName(st.zone),
  host: st.host,
  port: st.port,
  user: st.user,
  privateKeyPath: st.privateKeyPath,
  hostKey: st.hostKey,
  timeouts: st.timeouts
})

/** Every SSH target of the file: the nodes, the cluster heads, then the storage hosts. */
export const targets = (f: NodesFile): Array<SshTarget> => [...f.nodes.map(nodeTarget), ...f.clusterHeads.map(headTarget), ...(f.storage ?? []).map(storageTarget)]

/**
 * The cloud's shape as the nodes file lists it: zones in order of first mention, one node group per
 * node, with placeholder capacity until each node reports what it really offers.
 */
export const topology = (f: NodesFile): Topology.Topology => {
  const zones: Array<{ name: Ids.ZoneName; nodes: Array<Topology.NodeGroup> }> = []
  for (const n of f.nodes) {
    let z = zones.find((x) => x.name === n.zone)
    if (!z) zones.push((z = { name: Ids.zoneName(n.zone), nodes: [] }))
    z.nodes.push({ prefix: n.name, count: 1, cores: Units.vcpu(1), memoryMiB: Units.mib(1), diskGiB: Units.gib(1) })
  }
  return { zones }
}
