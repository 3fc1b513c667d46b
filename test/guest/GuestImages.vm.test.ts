/**
 * The guest-image builder (scripts/guest-images/build.sh through test/support/GuestImages.ts): the
 * cache by content (the same directory again, at once), the manifest, and what the files hold —
 * the busybox initramfs's /init, dropbear with its libraries, the virtio and Xen PV modules with
 * modules.dep; the cloud-init disk as qcow2 with its kernel. Needs root (skipped with the reason
 * otherwise; a failure under CI=true). A first build takes ~40 s (busybox) and ~7 min (cloudinit);
 * the boot test shares the same cached images.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as GuestImages from "../support/GuestImages.js"

const why = GuestImages.canBuild("cloudinit")
if (why !== undefined && process.env["CI"] === "true") throw new Error(`guest image tests cannot run under CI: ${why}`)
if (why !== undefined) console.warn(`guest image tests skipped: ${why}`)
const describeBuild = why === undefined ? describe : describe.skip

const sh = (cmd: string) => {
  const r = ChildProcess.spawnSync("bash", ["-c", cmd], { encoding: "utf8", maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** A bzImage: the "HdrS" boot protocol magic at 0x202. */
const isBzImage = (p: string) => {
  const b = Buffer.alloc(4)
  const fd = Fs.openSync(p, "r")
  Fs.readSync(fd, b, 0, 4, 0x202)
  Fs.closeSync(fd)
  return b.toString("latin1") === "HdrS"
}

describeBuild("guest images", () => {
  it("an unknown kind is refused with the usage", () => {
    const r = ChildProcess.spawnSync("bash", [GuestImages.BUILD_SCRIPT, "windows"], { encoding: "utf8" })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("usage: build.sh busybox|cloudinit (got 'windows')")
    expect(r.stdout).toBe("")
  })

  it("busybox: cached by content, a kernel and an initramfs with init, dropbear and the drivers", async () => {
    const first = await GuestImages.build("busybox")
    const again = await GuestImages.build("busybox")
    expect(again.dir).toBe(first.dir)
    expect(Path.basename(first.dir)).toMatch(/^busybox-[0-9a-f]{16}$/)
    console.log(`[guest images] busybox: first call ${first.buildMs} ms, cached call ${again.buildMs} ms`)
    expect(again.buildMs).toBeLessThan(10_000)
    expect(first.kernel).toBe(Path.join(first.dir, "vmlinuz"))
    expect(first.ramdisk).toBe(Path.join(first.dir, "initrd.img"))
    expect(first.cmdline).toContain("console=ttyS0")
    expect(first.cmdline).toContain("console=hvc0")
    expect(isBzImage(first.kernel)).toBe(true)
    expect(first.packages.some((p) => /^linux-image-6\.1\.\d+-\d+-amd64=6\.1\./.test(p))).toBe(true)
    for (const p of ["busybox-static=", "dropbear-bin=", "libc6="]) expect(first.packages.some((x) => x.startsWith(p))).toBe(true)
    const files = sh(`zcat '${first.ramdisk}' | cpio -t --quiet`).split("\n")
    expect(files).toContain("init")
    expect(files).toContain("bin/dropbear")
    expect(files).toContain("bin/busybox")
    expect(files).toContain("lib/x86_64-linux-gnu/libtomcrypt.so.1")
    expect(files).toContain("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    expect(files).toContain("usr/share/udhcpc/default.script")
    for (const m of ["virtio_net", "virtio_blk", "virtio_pci", "xen-netfront", "xen-blkfront", "virtio_ring", "failover"]) {
      expect([m, files.some((f) => new RegExp(`^lib/modules/[^/]+/kernel/.*/${m}\\.ko$`).test(f))]).toEqual([m, true])
    }
    expect(files.some((f) => /^lib\/modules\/[^/]+\/modules\.dep$/.test(f))).toBe(true)
    // The dependencies are in modules.dep, so modprobe in the guest loads them in order.
    const dep = sh(`zcat '${first.ramdisk}' | cpio -i --quiet --to-stdout 'lib/modules/*/modules.dep'`)
    expect(dep).toMatch(/virtio_net\.ko: .*virtio_ring\.ko/)
    // The same /init as in the repository, executable.
    const init = sh(`zcat '${first.ramdisk}' | cpio -i --quiet --to-stdout init`)
    expect(init).toBe(Fs.readFileSync(Path.join(Path.dirname(GuestImages.BUILD_SCRIPT), "busybox", "init"), "utf8"))
    expect(sh(`zcat '${first.ramdisk}' | cpio -tv --quiet init`)).toMatch(/^-rwxr-xr-x/)
  }, 600_000)

  it("cloudinit: a qcow2 disk with cloud-init's EC2 settings, and its kernel and initrd", async () => {
    const img = await GuestImages.build("cloudinit")
    expect(Path.basename(img.dir)).toMatch(/^cloudinit-[0-9a-f]{16}$/)
    console.log(`[guest images] cloudinit: call ${img.buildMs} ms`)
    expect(img.format).toBe("qcow2")
    const info = JSON.parse(sh(`qemu-img info --output=json '${img.disk}'`)) as { format: string; "virtual-size": number }
    expect(info.format).toBe("qcow2")
    expect(info["virtual-size"]).toBe(3 * 1024 ** 3)
    expect(isBzImage(img.kernel)).toBe(true)
    expect(img.cmdline).toMatch(/root=LABEL=cloudimg-rootfs/)
    expect(img.packages.some((p) => p.startsWith("cloud-init="))).toBe(true)
    expect(img.packages.some((p) => p.startsWith("openssh-server="))).toBe(true)
    // The initramfs (initramfs-tools, gzip) carries the drivers to find the root disk (virtio and Xen).
    const files = sh(`zcat '${img.ramdisk}' | cpio -t --quiet`)
    for (const m of ["virtio_blk", "virtio_pci", "xen-blkfront", "ext4"]) expect([m, new RegExp(`/${m}\\.ko\\b`).test(files)]).toEqual([m, true])
  }, 1_800_000)
})
