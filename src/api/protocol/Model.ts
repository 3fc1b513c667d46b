/**
 * The official EC2 service model (the slice we serve), as data: ec2-model.json is generated from
 * botocore's service-2.json by scripts/ec2-model/extract.py (Apache-2.0, see its `_origin`). The
 * parser (Query.ts) and the serializer (Xml.ts) are driven by it, so element and parameter names
 * come from the model, not from memory.
 */
import { Schema } from "effect"
import * as Shapes from "./Ec2Shapes.js"
import raw from "./ec2-model.json" with { type: "json" }

const MemberRef = Schema.Struct({
  shape: Schema.String,
  locationName: Schema.optional(Schema.String),
  queryName: Schema.optional(Schema.String),
  idempotencyToken: Schema.optional(Schema.Boolean)
})
export type MemberRef = typeof MemberRef.Type

const Structure = Schema.Struct({
  type: Schema.Literal("structure"),
  members: Schema.Record({ key: Schema.String, value: MemberRef }),
  required: Schema.optional(Schema.Array(Schema.String)),
  locationName: Schema.optional(Schema.String)
})
const List = Schema.Struct({
  type: Schema.Literal("list"),
  member: MemberRef,
  flattened: Schema.optional(Schema.Boolean),
  locationName: Schema.optional(Schema.String)
})
const Integer = Schema.Struct({
  type: Schema.Literal("integer", "long"),
  min: Schema.optional(Schema.Number),
  max: Schema.optional(Schema.Number)
})
const Timestamp = Schema.Struct({ type: Schema.Literal("timestamp"), timestampFormat: Schema.optional(Schema.String) })
const Scalar = Schema.Struct({ type: Schema.Literal("string", "boolean", "blob", "double", "float") })

const Shape = Schema.Union(Structure, List, Integer, Timestamp, Scalar)
export type Shape = typeof Shape.Type
export type StructureShape = typeof Structure.Type
export type ListShape = typeof List.Type

const ModelFile = Schema.Struct({
  _origin: Schema.Struct({ licence: Schema.Literal("Apache-2.0"), package: Schema.String, source: Schema.String }),
  metadata: Schema.Struct({ apiVersion: Schema.String, xmlNamespace: Schema.String }),
  operations: Schema.Record({ key: Schema.String, value: Schema.Struct({ input: Schema.String, output: Schema.optional(Schema.String) }) }),
  shapes: Schema.Record({ key: Schema.String, value: Shape })
})

// Decoded once at load: a hand-edited or truncated model fails loudly here, not mid-request.
const model = Schema.decodeUnknownSync(ModelFile)(raw)

export const apiVersion: string = model.metadata.apiVersion
/** Responses carry the namespace with a trailing slash, as EC2 sends it (the model omits it). */
export const xmlNamespace = (version: string = apiVersion): string => `http://ec2.amazonaws.com/doc/${version}/`

export interface Operation {
  readonly name: Shapes.OperationName
  readonly input: string
  readonly output: string | undefined
}

const operations = new Map<string, Operation>()
for (const name of Shapes.operationNames) {
  const op = model.operations[name]
  if (op === undefined) throw new Error(`ec2-model.json: operation ${name} is missing (regenerate with scripts/ec2-model/extract.py)`)
  operations.set(name, { name, input: op.input, output: op.output })
}

/** The operation named by an `Action` parameter, if we serve it (names are case-sensitive, as in EC2). */
export const operation = (action: string): Operation | undefined => operations.get(action)

export const shape = (name: string): Shape => {
  const s = model.shapes[name]
  if (s === undefined) throw new Error(`ec2-model.json: shape ${name} is referenced but missing`)
  return s
}

/**
 * The query-parameter name of a member under the ec2 protocol (botocore's EC2Serializer):
 * `queryName`, else `locationName` with its first letter capitalised, else the member name.
 */
export const queryName = (memberName: string, ref: MemberRef): string =>
  ref.queryName ?? (ref.locationName !== undefined ? ref.locationName.charAt(0).toUpperCase() + ref.locationName.slice(1) : memberName)

/** The XML element name of a member in a response: `locationName`, else the member name. */
export const elementName = (memberName: string, ref: MemberRef): string => ref.locationName ?? memberName

/**
 * The element wrapping each entry of a list in a response. EC2 uses `item`; every list the model
 * reaches from our outputs says so on its member, except InferenceDeviceInfoList, which carries
 * `locationName: "item"` on the list shape itself (a botocore quirk).
 */
export const itemName = (list: ListShape): string => list.member.locationName ?? "item"
