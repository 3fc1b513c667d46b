/**
 * CloudSim 3.0.3's PlanetLab experiment set-up (`examples/power/Constants.java`, `Helper.java`,
 * `planetlab/PlanetLabConstants.java`): 800 hosts alternating HP ProLiant ML110 G4 / G5, one VM per
 * workload file, four EC2-like VM types.
 */
import * as PowerModel from "../../model/power/PowerModel.js"
import type * as PlanetLab from "../traces/PlanetLab.js"
import type * as Engine from "./Engine.js"

/** PlanetLabConstants.NUMBER_OF_HOSTS. */
export const numberOfHosts = 800

/** Host types: G4 (2 × 1860 MIPS) and G5 (2 × 2660 MIPS), 4 GB, 1 Gbit/s, 1 GB storage. */
export const hostTypes: ReadonlyArray<Engine.HostSpec> = [
  { peMips: 1860, pes: 2, ram: 4096, bw: 1_000_000, storage: 1_000_000, power: PowerModel.hpProLiantMl110G4Xeon3040 },
  { peMips: 2660, pes: 2, ram: 4096, bw: 1_000_000, storage: 1_000_000, power: PowerModel.hpProLiantMl110G5Xeon3075 }
]

/** VM types (MIPS, RAM MB): High-CPU Medium 2500/870, Extra Large 2000/1740, Small 1000/1740, Micro 500/613; 100 Mbit/s, 2.5 GB. */
export const vmTypes: ReadonlyArray<{ readonly mips: number; readonly ram: number }> = [
  { mips: 2500, ram: 870 },
  { mips: 2000, ram: 1740 },
  { mips: 1000, ram: 1740 },
  { mips: 500, ram: 613 }
]

/** Host i is type i mod 2 (Helper.createHostList). */
export const hosts = (n = numberOfHosts): Array<Engine.HostSpec> => Array.from({ length: n }, (_, i) => hostTypes[i % hostTypes.length]!)

/**
 * VM i gets type ⌊i / ⌈n / 4⌉⌋ (Helper.createVmList in CloudSim 3.0.3: four consecutive blocks, not
 * round robin) and the i-th workload file's utilisation.
 */
export const vms = (day: PlanetLab.PlanetLabDay): Array<Engine.VmSpec> => {
  const n = day.vms.length
  const block = Math.ceil(n / vmTypes.length)
  return day.vms.map((f, i) => {
    const t = vmTypes[Math.trunc(i / block)]!
    return { mips: t.mips, ram: t.ram, bw: 100_000, size: 2500, utilization: f.values }
  })
}

/**
 * The day's VMs in a given file order: CloudSim creates VM i from the i-th entry of
 * `File.listFiles()`, i.e. the directory order of the machine it runs on (on ext4 a hash order, not
 * name order), and VM i's type depends on i. `names` lists every file of the day once.
 */
export const inFileOrder = (day: PlanetLab.PlanetLabDay, names: ReadonlyArray<string>): PlanetLab.PlanetLabDay => {
  const byName = new Map(day.vms.map((v) => [v.name, v] as const))
  if (names.length !== day.vms.length || byName.size !== day.vms.length) {
    throw new Error(`file order for ${day.day}: ${names.length} names for ${day.vms.length} VMs`)
  }
  const vms = names.map((n) => {
    const v = byName.get(n)
    if (v === undefined) throw new Error(`file order for ${day.day}: no workload file named ${n}`)
    byName.delete(n)
    return v
  })
  return { day: day.day, vms }
}
