import { Encoder, addExtension } from 'cbor-x'
import { ActorRef } from '../actor-ref.js'
import { TroupeError } from '../errors.js'

/** CBOR tag for an ActorRef inside a message: [node, path, uid]. */
export const REF_TAG = 40_100

/** Turns a decoded [node, path, uid] back into a working ref for the receiving system. */
export type RefResolver = (node: string, path: string, uid: number) => ActorRef

let resolver: RefResolver | null = null

/** Thrown through cbor-x to end a slice; cbor-x sets `lastPosition` to where the item it was handed began. */
const SLICE_END = { lastPosition: 0 }

addExtension({
  Class: ActorRef,
  tag: REF_TAG,
  encode(ref: ActorRef, encode: (value: unknown) => Uint8Array) {
    return encode([ref.node, ref.path, ref.uid])
  },
  decode(data: unknown) {
    if (!Array.isArray(data) || typeof data[0] !== 'string' || typeof data[1] !== 'string' || typeof data[2] !== 'number') {
      throw new TroupeError('CODEC_ERROR', 'malformed actor ref')
    }
    if (resolver === null) throw new TroupeError('CODEC_ERROR', 'actor ref decoded outside a system')
    return resolver(data[0], data[1], data[2])
  },
})

/**
 * CBOR (cbor-x) for envelopes. Refs travel as a tag and decode to refs of the
 * receiving system. `__proto__` keys cannot pollute prototypes (cbor-x renames
 * them); malformed or too deep input becomes a CODEC_ERROR, never a crash.
 */
export class Codec {
  private readonly encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

  constructor(private readonly resolve: RefResolver) {}

  encode(value: unknown): Uint8Array {
    try {
      return this.encoder.encode(value)
    } catch (err) {
      throw new TroupeError('CODEC_ERROR', `cannot encode message: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Decodes a CBOR sequence (one frame of envelopes) from byte `start`,
   * calling `each` per item, for at most `maxItems` items. Returns the offset
   * of the first item not decoded yet, or -1 when the frame is done, so a
   * long frame is taken in slices.
   */
  decodeSequence(bytes: Uint8Array, each: (value: unknown) => void, maxItems = Infinity, start = 0): number {
    const previous = resolver
    resolver = this.resolve
    const source = start === 0 ? bytes : bytes.subarray(start)
    let n = 0
    try {
      this.encoder.decodeMultiple(source, (value: unknown) => {
        // Item maxItems + 1 stops the slice: cbor-x records where it began (as its own stream decoder relies on).
        if (n === maxItems) {
          SLICE_END.lastPosition = 0
          throw SLICE_END
        }
        n++
        each(value)
      })
      return -1
    } catch (err) {
      if (err === SLICE_END) {
        if (SLICE_END.lastPosition > 0) return start + SLICE_END.lastPosition
        throw new TroupeError('CODEC_ERROR', 'cannot resume a sliced frame: the decoder did not report its position')
      }
      if (err instanceof TroupeError) throw err
      throw new TroupeError('CODEC_ERROR', `cannot decode frame: ${(err as Error).message}`, { cause: err })
    } finally {
      resolver = previous
    }
  }

  decode(bytes: Uint8Array): unknown {
    const previous = resolver
    resolver = this.resolve
    try {
      return this.encoder.decode(bytes)
    } catch (err) {
      if (err instanceof TroupeError) throw err
      throw new TroupeError('CODEC_ERROR', `cannot decode frame: ${(err as Error).message}`, { cause: err })
    } finally {
      resolver = previous
    }
  }
}
