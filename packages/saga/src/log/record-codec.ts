import { Encoder } from 'cbor-x'

// Plain CBOR: maps decode to objects, byte strings to Uint8Array, no cbor-x record extension.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

export function encodeValue(value: unknown): Uint8Array {
  return cbor.encode(value)
}

export function decodeValue(data: Uint8Array): unknown {
  return cbor.decode(data)
}

/** A deep copy through CBOR: what a record looks like after a trip through any durable log. */
export function roundTrip<T>(value: T): T {
  return decodeValue(encodeValue(value)) as T
}

/** True when both values encode to the same CBOR bytes. */
export function sameEncoding(a: unknown, b: unknown): boolean {
  return Buffer.from(encodeValue(a)).equals(encodeValue(b))
}
