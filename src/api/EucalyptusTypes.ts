/**
 * DescribeInstanceTypes in Eucalyptus's own shape, for the clients written against Eucalyptus:
 * boto 2's `get_all_instance_types()` reads `item/name, cpu, memory, disk`, and Libcloud's
 * EucNodeDriver reads `instanceTypeDetails/item` in the `http://msgs.eucalyptus.com/3.3.0`
 * namespace. EC2's shape (instanceTypeSet/item/instanceType) gives them no names.
 *
 * Which requests get it: those on `/services/Eucalyptus` signed the Eucalyptus-era way (Signature
 * Version 2, as boto 2 and Libcloud's Eucalyptus driver sign) or naming an API version before
 * 2016-11-15 (boto 2 sends 2014-10-01). SigV4 clients on that path (the AWS CLI, boto3) get EC2's.
 * This is not in EC2's model, so the few elements are written here.
 */
import type * as State from "../model/State.js"
import * as Xml from "./protocol/Xml.js"

export const NAMESPACE = "http://msgs.eucalyptus.com/3.3.0"

export const wanted = (path: string, signatureVersion: string, version: string): boolean =>
  (path === "/services/Eucalyptus" || path === "/services/Eucalyptus/") && (signatureVersion === "SigV2" || version < "2016-11-15")

/** The answer, for the types named (all when none). */
export const response = (s: State.State, names: ReadonlyArray<string>, requestId: string): string => {
  const items = s.vmTypes
    .filter((t) => names.length === 0 || names.includes(t.name))
    .map((t) => `<item><name>${Xml.escape(t.name)}</name><cpu>${t.cores}</cpu><disk>${t.diskGiB}</disk><memory>${t.memoryMiB}</memory></item>`)
    .join("")
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstanceTypesResponse xmlns="${NAMESPACE}"><requestId>${Xml.escape(requestId)}</requestId><instanceTypeDetails>${items}</instanceTypeDetails></DescribeInstanceTypesResponse>`
}
