/**
 * A protocol maps each message name to the signature of its handler as seen
 * by a sender: `{ add(by: number): void; get(): number }`. The parameter is the
 * payload; the return type is what `ask` resolves to.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Protocol = { [type: string]: (payload: any) => unknown }

/** The payload type of message `K`; `void` when the handler takes none. */
export type PayloadOf<P extends Protocol, K extends keyof P> = Parameters<P[K]> extends [] ? void : Parameters<P[K]>[0]

/** What `ask(K)` resolves to. */
export type ReplyOf<P extends Protocol, K extends keyof P> = Awaited<ReturnType<P[K]>>

/** A message as a low-level behavior receives it: a tagged union over the protocol. */
export type Message<P extends Protocol> = {
  [K in keyof P & string]: { readonly type: K; readonly payload: PayloadOf<P, K> }
}[keyof P & string]

/** Any protocol accepting anything: for untyped refs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProtocol = { [type: string]: (payload: any) => any }
