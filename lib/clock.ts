/**
 * Time, as an input. Sessions (timers, flush polls, slow-handler warnings), tokens
 * (expiry), the rate limit and sockets (join deadline, heartbeat, close grace, shutdown)
 * read the clock they are given, so tests move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  setInterval: (fn: () => void, ms: number) => unknown
  clearInterval: (handle: unknown) => void
}

/** The real clock. Its timers do not keep the process alive by themselves. */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout) },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => { clearInterval(handle as NodeJS.Timeout) }
}

/** Lets a real timer not hold the process open (a fake clock's handles are left alone). */
export function unref (handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.()
}
