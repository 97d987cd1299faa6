// What the per-address caps count by: an IPv4 address as it is, an
// IPv4-mapped IPv6 address as its IPv4 address, and any other IPv6 address
// by its /64 prefix (one host usually holds a whole /64, so counting single
// IPv6 addresses would cap nothing).

export function addressKey(remote: string | undefined): string {
  if (remote === undefined || remote === '') return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote)
  if (mapped) return mapped[1]!
  if (!remote.includes(':')) return remote
  return `${expandIpv6(remote).slice(0, 4).join(':')}::/64`
}

/** The eight groups of an IPv6 address, leading zeros dropped ('::' expanded). */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...zeros, ...right].map((g) => (g.replace(/^0+(?=.)/, '') || '0').toLowerCase())
}
