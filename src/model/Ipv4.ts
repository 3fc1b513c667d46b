/** IPv4 arithmetic on unsigned 32-bit integers. */
export const parse = (s: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim())
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0
}

export const format = (n: number): string =>
  `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`

export const prefixToMask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)


export interface Cidr {
  readonly base: number
  readonly prefix: number
}

export const parseCidr = (s: string): Cidr | undefined => {
  const [a, p] = s.trim().split("/")
  const base = a === undefined ? undefined : parse(a)
  if (base === undefined || p === undefined || !/^\d{1,2}$/.test(p)) return undefined
  const prefix = Number(p)
  if (prefix > 32) return undefined
  return { base: (base & prefixToMask(prefix)) >>> 0, prefix }
}

export const formatCidr = (c: Cidr): string => `${format(c.base)}/${c.prefix}`
export const size = (c: Cidr): number => 2 ** (32 - c.prefix)
export const contains = (c: Cidr, ip: number): boolean => ((ip & prefixToMask(c.prefix)) >>> 0) === c.base
