/** A test server config with storage controllers (60 GiB per zone) whose simulated times are given (ms). */
import * as TestServer from "./server.js"

export const storageConfig = (ms: { readonly create?: number; readonly attach?: number; readonly detach?: number; readonly snapshot?: number } = {}) =>
  TestServer.fastConfig({
    cloud: {
      zones: [
        { name: "euca-1a", storageGiB: 60, nodes: [{ prefix: "node-a", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 100 }] },
        { name: "euca-1b", storageGiB: 60, nodes: [{ prefix: "node-b", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 100 }] }
      ]
    },
    backend: {
      kind: "sim",
      bootDelay: { kind: "constant", ms: 300 },
      stopDelay: { kind: "constant", ms: 300 },
      volumeCreateDelay: { kind: "constant", ms: ms.create ?? 400 },
      volumeAttachDelay: { kind: "constant", ms: ms.attach ?? 300 },
      volumeDetachDelay: { kind: "constant", ms: ms.detach ?? 300 },
      snapshotDelay: { kind: "constant", ms: ms.snapshot ?? 1200 },
      seed: 11
    }
  })
