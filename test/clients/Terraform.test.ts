/**
 * Terraform's aws_instance, which cannot be installed here: the provider's create / read / destroy
 * calls (hashicorp/terraform-provider-aws, internal/service/ec2/ec2_instance.go) replayed with
 * boto3, asserting every field the provider reads.
 */
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { machineImage } from "../api/client.js"
import * as TestServer from "../support/server.js"
import { clientEnv, run } from "./support.js"

let server: TestServer.TestServer

beforeAll(async () => {
  server = await TestServer.start()
})
afterAll(async () => {
  await server?.stop()
})

describe("Terraform aws_instance (replayed)", () => {
  it("create, read every field the provider reads, destroy", async () => {
    const image = await machineImage(server.client())
    const r = JSON.parse((await run("python3", [join(import.meta.dirname, "terraform_replay.py"), server.url, server.region, image], clientEnv(server), 120_000)).trim().split("\n").pop()!)
    expect(r.account).toMatch(/^\d{12}$/)
    expect(r.platforms).toEqual(["VPC"])
    const read = r.read
    expect(read).toMatchObject({
      instance_state: "running",
      placement_group: "",
      tenancy: "default",
      cpu_core_count: 1,
      cpu_threads_per_core: 1,
      hibernation: false,
      enclave_options: false,
      metadata_http_tokens: "optional",
      ami: image,
      instance_type: "m1.small",
      device_index: 0,
      network_card_index: 0,
      delete_on_termination: true,
      ipv6_address_count: 0,
      nic_source_dest_check: true,
      associate_public_ip_address: true,
      secondary_private_ips: [],
      ebs_optimized: false,
      source_dest_check: true,
      monitoring: "disabled",
      tags: { Name: "tf" },
      vpc_security_group_ids: [r.group],
      root_device_name: "/dev/sda1",
      root_device_type: "instance-store",
      block_device_mappings: [],
      burstable: false,
      instance_initiated_shutdown_behavior: "stop",
      disable_api_stop: false,
      disable_api_termination: false,
      user_data: "ZWNobyBoaQ=="
    })
    expect(["euca-1a", "euca-1b"]).toContain(read.availability_zone)
    expect(read.key_name).toBeNull()
    expect(read.public_ip).toMatch(/^198\.51\.100\./)
    expect(read.public_dns).toContain(read.public_ip.replaceAll(".", "-"))
    expect(read.private_ip).toMatch(/^172\.31\./)
    expect(read.private_dns).toContain(read.private_ip.replaceAll(".", "-"))
    expect(read.subnet_id).toMatch(/^subnet-[0-9a-f]{8}$/)
    expect(read.instance_subnet_id).toBe(read.subnet_id)
    expect(read.primary_network_interface_id).toBe(`eni-${r.instance.slice(2)}`)
    expect(read.vpc_id).toMatch(/^vpc-[0-9a-f]{8}$/)
    expect(r.final).toBe("terminated")
  }, 150_000)
})
