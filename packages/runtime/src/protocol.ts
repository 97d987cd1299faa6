/**
 * A protocol maps each message name to the signature of its handler as seen
 * by a sender: `{ add(by: number): void; get(): number }`. The parameter is the
 * payload; the return type is what `ask` resolves to.
 */
export type Protocol = object

/** The payload type of message `K`; `void` when the handler takes none. */
export type PayloadOf<P, K extends keyof P> = IsAny<P> extends true ? any : P[K] extends (...args: infer A) => any ? (A extends [] ? void : A[0]) : never

/** What `ask(K)` resolves to. */
export type ReplyOf<P, K extends keyof P> = IsAny<P> extends true ? any : P[K] extends (...args: any[]) => infer R ? Awaited<R> : never

/** A message as a low-level behavior receives it: a tagged union over the protocol. */
export type Message<P> = {
  [K in keyof P & string]: { readonly type: K; readonly payload: PayloadOf<P, K> }
}[keyof P & string]

/** Any protocol accepting anything: for untyped refs. */
export type AnyProtocol = { [type: string]: (payload?: any) => any }

/** Arguments after the message name: the payload may be left out when the handler takes none. */
export type PayloadArgs<P, K extends keyof P> = IsAny<P> extends true ? [payload?: any] : [PayloadOf<P, K>] extends [void] ? [payload?: PayloadOf<P, K>] : [payload: PayloadOf<P, K>]

type IsAny<T> = 0 extends 1 & T ? true : false
