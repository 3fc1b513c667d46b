/**
 * A binary min-heap of integers in a plain array: the free-id lists of the event queues (the lowest
 * free entry is reused first, which keeps the queues' storage compact and their order deterministic).
 */

export const idPush = (a: Array<number>, v: number): void => {
  let i = a.length
  a.push(v)
  while (i > 0) {
    const p = (i - 1) >> 1
    if (a[p]! <= v) break
    a[i] = a[p]!
    i = p
  }
  a[i] = v
}

export const idPop = (a: Array<number>): number => {
  const top = a[0]!
  const last = a.pop()!
  const n = a.length
  if (n > 0) {
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && a[c + 1]! < a[c]!) c++
      if (a[c]! >= last) break
      a[i] = a[c]!
      i = c
    }
    a[i] = last
  }
  return top
}
