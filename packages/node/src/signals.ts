// SIGTERM and SIGINT run the node's shutdown, then exit the process. A
// second signal while shutting down exits at once.
import type { NodeLog } from './node-config.js'
import type { TroupeNode } from './troupe-node.js'

/** Installs the handlers; returns `exit(code)`, which shuts down (if not yet) and exits the process with `code`. */
export function installSignalHandlers(node: TroupeNode, exitCode: number, log: NodeLog): (code: number) => void {
  let exiting = false
  const exit = (code: number): void => {
    if (exiting) return
    exiting = true
    void node.shutdown().then(() => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      process.exit(code)
    })
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (exiting) {
      log('warn', `${signal} again: exiting without finishing the shutdown`)
      process.exit(exitCode || 1)
    }
    log('info', `${signal}: shutting down`)
    void node.shutdown({ reason: signal })
    exit(exitCode)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return exit
}
