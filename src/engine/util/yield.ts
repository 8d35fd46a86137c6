// Long loops of synchronous TF.js work never return to the event loop, so a
// SIGINT handler, a worker's stop message or a timer that aborts a signal
// cannot run until they end. Awaiting this before each check of
// `signal.aborted` lets them run at that boundary.

/** Resolves after the event loop has run what was waiting (setImmediate). */
export function eventLoopTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
