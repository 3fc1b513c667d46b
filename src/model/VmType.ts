/**
 * VM types: an editable table. Eucalyptus's CLC required the table to be totally ordered by
 * component-wise ≤ on (cpu, memory, disk) because its availability heuristic clamps smaller types
 * to larger ones; we check the same order, but only when the policy in use needs it.
 */
import { Either, Schema } from "effect"
import * as Resources from "./Resources.js"
import * as Units from "./Units.js"

export const VmTypeName = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9.\-_]*$/i), Schema.brand("VmTypeName"))
export type VmTypeName = typeof VmTypeName.Type

export const VmType = Schema.Struct({
  name: VmTypeName,
  cores: Units.Vcpu.pipe(Schema.positive()),
  memoryMiB: Units.MiB.pipe(Schema.positive()),
  diskGiB: Units.GiB
})
export type VmType = typeof VmType.Type

export const VmTypeTable = Schema.Array(VmType)
export type VmTypeTable = ReadonlyArray<VmType>

const t = (name: string, cores: number, memoryMiB: number, diskGiB: number): VmType => ({
  name: name as VmTypeName,
  cores: Units.vcpu(cores),
  memoryMiB: Units.mib(memoryMiB),
  diskGiB: Units.gib(diskGiB)
})

/** Eucalyptus 1.5–3.0's seeded table (StartupChecks / startup.groovy). */
export const eucalyptusDefaults: VmTypeTable = [
  t("m1.small", 1, 128, 2),
  t("c1.medium", 1, 256, 5),
  t("m1.large", 2, 512, 10),
  t("m1.xlarge", 2, 1024, 20),
  t("c1.xlarge", 4, 2048, 20)
]

export const defaultTypeName = "m1.small" as VmTypeName

export const size = (t: VmType): Resources.Resources => Resources.make(t.cores, t.memoryMiB, t.diskGiB)

export const find = (table: VmTypeTable, name: string): VmType | undefined => table.find((x) => x.name === name)

export class VmTypeTableError extends Schema.TaggedError<VmTypeTableError>()("VmTypeTableError", {
  message: Schema.String
}) {}

/**
 * Validates a table: unique names, and (when `requireTotalOrder`) every pair comparable component-wise,
 * as Eucalyptus's `VmTypes.update` demanded ("Proposed VmTypes fail to satisfy well-ordering requirement").
 */
export const validate = (
  table: VmTypeTable,
  options: { readonly requireTotalOrder: boolean }
): Either.Either<VmTypeTable, VmTypeTableError> => {
  if (table.length === 0) return Either.left(new VmTypeTableError({ message: "the VM type table is empty" }))
  const seen = new Set<string>()
  for (const x of table) {
    if (seen.has(x.name)) return Either.left(new VmTypeTableError({ message: `VM type ${x.name} is listed twice` }))
    seen.add(x.name)
  }
  if (options.requireTotalOrder) {
    for (let i = 0; i < table.length; i++) {
      for (let j = i + 1; j < table.length; j++) {
        const a = size(table[i]!)
        const b = size(table[j]!)
        if (!Resources.leq(a, b) && !Resources.leq(b, a)) {
          return Either.left(
            new VmTypeTableError({
              message:
                `VM types ${table[i]!.name} (${Resources.format(a)}) and ${table[j]!.name} (${Resources.format(b)}) ` +
                `are not ordered: every pair must be comparable in (cpu, memory, disk), as Eucalyptus required ` +
                `("Proposed VmTypes fail to satisfy well-ordering requirement")`
            })
          )
        }
      }
    }
  }
  return Either.right(table)
}
