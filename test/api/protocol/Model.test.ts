import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Shapes from "../../../src/api/protocol/Ec2Shapes.js"
import * as Model from "../../../src/api/protocol/Model.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))

describe("the committed model", () => {
  it("is what scripts/ec2-model/extract.py generates from the installed botocore (JSON and TypeScript)", () => {
    // --check exits non-zero, with the file name, when either file differs.
    execFileSync("python3", [path.join(root, "scripts/ec2-model/extract.py"), "--check"], { stdio: "pipe" })
  })

  it("records its origin and licence", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(root, "src/api/protocol/ec2-model.json"), "utf8")) as { _origin: Record<string, string> }
    expect(raw._origin["licence"]).toBe("Apache-2.0")
    expect(raw._origin["source"]).toContain("botocore/data/ec2/2016-11-15/service-2.json")
  })

  it("holds every operation we serve, with structure inputs", () => {
    expect(Shapes.operationNames).toHaveLength(50)
    for (const name of Shapes.operationNames) {
      const op = Model.operation(name)!
      expect(op.name).toBe(name)
      expect(Model.shape(op.input).type).toBe("structure")
    }
    expect(Model.operation("DescribeVolumes")).toBeUndefined()
    expect(Model.operation("toString")).toBeUndefined()
  })
})

describe("names under the ec2 protocol", () => {
  const member = (shape: string, name: string) => {
    const s = Model.shape(shape)
    if (s.type !== "structure") throw new Error(`${shape} is not a structure`)
    return s.members[name]!
  }

  it("queries by queryName, else capitalised locationName, else the member name", () => {
    expect(Model.queryName("InstanceIds", member("DescribeInstancesRequest", "InstanceIds"))).toBe("InstanceId")
    expect(Model.queryName("DryRun", member("DescribeInstancesRequest", "DryRun"))).toBe("DryRun") // locationName dryRun
    expect(Model.queryName("UserIdGroupPairs", member("IpPermission", "UserIdGroupPairs"))).toBe("Groups") // locationName groups
    expect(Model.queryName("Description", member("CreateSecurityGroupRequest", "Description"))).toBe("GroupDescription")
    expect(Model.queryName("Ipv6Addresses", member("InstanceNetworkInterfaceSpecification", "Ipv6Addresses"))).toBe("Ipv6Addresses") // queryName
    expect(Model.queryName("GroupName", member("CreateSecurityGroupRequest", "GroupName"))).toBe("GroupName")
  })

  it("answers with locationName, else the member name, and <item> for list entries", () => {
    expect(Model.elementName("Reservations", member("DescribeInstancesResult", "Reservations"))).toBe("reservationSet")
    expect(Model.elementName("PublicIpAddress", member("Instance", "PublicIpAddress"))).toBe("ipAddress")
    expect(Model.elementName("AvailabilityZoneId", member("EbsBlockDevice", "AvailabilityZoneId"))).toBe("AvailabilityZoneId")
    const list = Model.shape("InferenceDeviceInfoList")
    if (list.type !== "list") throw new Error("InferenceDeviceInfoList is not a list")
    expect(Model.itemName(list)).toBe("item")
    expect(Model.xmlNamespace()).toBe("http://ec2.amazonaws.com/doc/2016-11-15/")
  })
})
