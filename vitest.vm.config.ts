import { defineConfig } from "vitest/config"

/** The real-hypervisor tests (`*.vm.test.ts`): one file at a time, with a booted host shared within a file. */
export default defineConfig({
  test: {
    include: ["test/**/*.vm.test.ts"],
    exclude: ["dist/**", "node_modules/**"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    pool: "forks",
    passWithNoTests: true
  }
})
