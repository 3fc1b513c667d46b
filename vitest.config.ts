import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests that boot real guests and hypervisors (QEMU, libvirt, Xen) run after the rest, one file
    // at a time (vitest.vm.config.ts): under TCG they need both cores to themselves.
    exclude: ["dist/**", "node_modules/**", "test/**/*.vm.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
