/** DescribeRegions and DescribeAvailabilityZones, with Eucalyptus's `verbose` rows for admins. */
import { Effect } from "effect"
import { Controller } from "../../controller/Controller.js"
import * as Availability from "../../model/Availability.js"
import * as Capacity from "../../model/Capacity.js"
import * as State from "../../model/State.js"
import * as H from "../Handler.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

export const DescribeRegions: H.Handler<"DescribeRegions"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    for (const r of input.RegionNames ?? []) {
      if (r !== rc.region) return yield* Ec2Error.make("InvalidParameterValue", `Invalid region: ${Ec2Error.quote(r)}; this cloud is ${rc.region}`)
    }
    const region: Shapes.Region = { RegionName: rc.region, Endpoint: `ec2.${rc.region}.eucalyptus.cloud`, OptInStatus: "opt-in-not-required" }
    const keep = yield* Filter.compile<Shapes.Region>({ "region-name": (r) => r.RegionName, endpoint: (r) => r.Endpoint, "opt-in-status": (r) => r.OptInStatus }, input.Filters)
    return { Regions: [region].filter(keep) }
  })

const PSEUDO = new Set(["verbose", "certs", "logs", "help", "coredump"])

export const DescribeAvailabilityZones: H.Handler<"DescribeAvailabilityZones"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const s = yield* H.state
    const names = input.ZoneNames ?? []
    const verbose = names.includes("verbose") && rc.account.admin
    const wanted = names.filter((n) => !PSEUDO.has(n))
    for (const n of wanted) {
      if (!s.zones.some((z) => z.name === n)) return yield* Ec2Error.make("InvalidParameterValue", `Invalid availability zone: [${Ec2Error.quote(n)}]`)
    }
    const zoneIds = input.ZoneIds ?? []
    const zones: Array<Shapes.AvailabilityZone> = s.zones
      .map((z, i) => ({ z, i }))
      .filter(({ z, i }) => (wanted.length === 0 || wanted.includes(z.name)) && (zoneIds.length === 0 || zoneIds.includes(`${rc.region}-az${i + 1}`)))
      .map(({ z, i }) => ({
        ZoneName: z.name,
        ZoneId: `${rc.region}-az${i + 1}`,
        State: State.zoneNodes(s, z).some((n) => n.state !== "down") ? "available" : "impaired",
        RegionName: rc.region,
        GroupName: rc.region,
        NetworkBorderGroup: rc.region,
        ZoneType: "availability-zone",
        OptInStatus: "opt-in-not-required",
        Messages: []
      }))
    const keep = yield* Filter.compile<Shapes.AvailabilityZone>(
      {
        "zone-name": (z) => z.ZoneName,
        "zone-id": (z) => z.ZoneId,
        "region-name": (z) => z.RegionName,
        state: (z) => z.State,
        "group-name": (z) => z.GroupName,
        "zone-type": (z) => z.ZoneType,
        "opt-in-status": (z) => z.OptInStatus
      },
      input.Filters
    )
    const shown = zones.filter(keep)
    if (!verbose) return { AvailabilityZones: shown }
    // Eucalyptus's admin view: after each zone, a header row and one "free / max" row per VM type.
    const out: Array<Shapes.AvailabilityZone> = []
    for (const z of shown) {
      out.push(z)
      const zone = s.zones.find((x) => x.name === z.ZoneName)!
      const view = new Capacity.ArrayCapacity(State.nodeRows(s, zone), (yield* policyRatios))
      for (const row of Availability.verboseRows(view, s.vmTypes)) {
        out.push({ ZoneName: row.name, State: row.state, RegionName: rc.region })
      }
    }
    return { AvailabilityZones: out }
  })

const policyRatios = Controller.pipe(Effect.map((c) => c.policy.ratios))
