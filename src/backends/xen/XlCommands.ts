/**
 * Argument vectors for the xl subcommands the node agent runs. The prefix comes from the nodes file
 * (`["xl"]`, `["sudo", "-n", "/usr/sbin/xl"]`, …); quoting happens later, in Shell.commandLine.
 */

export type Prefix = ReadonlyArray<string>

/** A domain is named by its name or its numeric id. Names starting with `-` would be read as options. */
const dom = (d: string | number): string => {
  const s = String(d)
  if (s === "" || s.startsWith("-")) throw new TypeError(`not a domain identifier: ${JSON.stringify(s)}`)
  return s
}

const path = (p: string): string => {
  if (!p.startsWith("/")) throw new TypeError(`xl config paths must be absolute: ${JSON.stringify(p)}`)
  return p
}

export const list = (xl: Prefix, domain?: string | number): Array<string> => [...xl, "list", ...(domain === undefined ? [] : [dom(domain)])]

export const listLong = (xl: Prefix, domain?: string | number): Array<string> => [...xl, "list", "-l", ...(domain === undefined ? [] : [dom(domain)])]

export const listVerbose = (xl: Prefix): Array<string> => [...xl, "list", "-v"]

export const info = (xl: Prefix, field?: string): Array<string> => {
  if (field !== undefined && !/^[a-z_]+$/.test(field)) throw new TypeError(`not an xl info field: ${JSON.stringify(field)}`)
  return [...xl, "info", ...(field === undefined ? [] : [field])]
}

export const domid = (xl: Prefix, name: string): Array<string> => [...xl, "domid", dom(name)]

export const domname = (xl: Prefix, id: number): Array<string> => [...xl, "domname", dom(id)]

/** `xl create <cfg>`: returns once the domain is built; prints no domid (ask `xl domid`). */
export const create = (xl: Prefix, cfgPath: string, options: { readonly paused?: boolean } = {}): Array<string> => [
  ...xl,
  "create",
  ...(options.paused === true ? ["-p"] : []),
  path(cfgPath)
]

export const destroy = (xl: Prefix, domain: string | number): Array<string> => [...xl, "destroy", dom(domain)]

export const reboot = (xl: Prefix, domain: string | number, options: { readonly force?: boolean } = {}): Array<string> => [
  ...xl,
  "reboot",
  ...(options.force === true ? ["-F"] : []),
  dom(domain)
]

export const shutdown = (xl: Prefix, domain: string | number, options: { readonly wait?: boolean; readonly force?: boolean } = {}): Array<string> => [
  ...xl,
  "shutdown",
  ...(options.wait === true ? ["-w"] : []),
  ...(options.force === true ? ["-F"] : []),
  dom(domain)
]
