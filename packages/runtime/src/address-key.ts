// What per-address limits count by. One host usually holds a whole IPv6 /64,
// so counting single IPv6 addresses would cap nothing.

/**
 * The source a per-address bound applies to: an IPv4 address as it is (also
 * when IPv4-mapped), any other IPv6 address by its /64 prefix (zone dropped),
 * and '?' when the address is unknown.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return '?'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!address.includes(':')) return address
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`
}

/** The eight groups of an IPv6 address, leading zeros dropped ('::' expanded). */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...zeros, ...right].map((g) => (g.replace(/^0+(?=.)/, '') || '0').toLowerCase())
}
