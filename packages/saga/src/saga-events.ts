import type { ErrorInfo, FailureCause, SagaRecord } from './records.js'

/** What observers of a coordinator see (`coordinator.subscribe`). */
export type SagaEvent =
  /** A transition became durable in the log (every record this coordinator writes). */
  | { type: 'record'; sagaId: string; saga: string; record: SagaRecord }
  | { type: 'completed'; sagaId: string; saga: string; results: Record<string, unknown> }
  | { type: 'compensated'; sagaId: string; saga: string; cause: FailureCause }
  /** A compensation failed past its policy. The saga is neither done nor undone: an operator must look. */
  | { type: 'stuck'; sagaId: string; saga: string; step: string; error: ErrorInfo; cause: FailureCause }
  /** Another coordinator appended to this saga's history; this one stopped driving it. */
  | { type: 'fenced'; sagaId: string; saga: string }
  /** This coordinator cannot drive the saga (the log failed, the definition is unknown or does not match). */
  | { type: 'error'; sagaId: string; saga: string; error: ErrorInfo }

export type SagaListener = (event: SagaEvent) => void

/** A small listener list; a throwing listener is reported, never allowed to break the saga. */
export class Listeners {
  private readonly listeners = new Set<SagaListener>()

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  add(listener: SagaListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  emit(event: SagaEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (err) {
        this.onListenerError(err)
      }
    }
  }
}
