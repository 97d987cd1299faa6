import type { ActorDef, SpawnOptions } from '../define.js'
import { resolveMailbox } from '../mailbox.js'
import type { ResolvedMailbox } from '../mailbox.js'
import { defaultSupervision, validateSupervision } from '../supervision.js'
import type { SupervisionStrategy } from '../supervision.js'

/** Settings shared by every actor spawned from one definition without overrides. */
export interface CellProps {
  mailbox: ResolvedMailbox
  supervision: SupervisionStrategy
}

const defaultProps = new WeakMap<ActorDef<any, any>, CellProps>()

/** The mailbox and supervision of a new actor: the spawn's options over the definition's over the defaults. */
export function cellProps(def: ActorDef<any, any>, options: SpawnOptions | undefined): CellProps {
  const shared = options?.mailbox === undefined && options?.supervision === undefined
  if (shared) {
    const cached = defaultProps.get(def)
    if (cached) return cached
  }
  const supervision = options?.supervision ?? def.supervision ?? defaultSupervision
  validateSupervision(supervision)
  const props = { mailbox: resolveMailbox(options?.mailbox ?? def.mailbox), supervision }
  if (shared) defaultProps.set(def, props)
  return props
}
