/** A token bucket: `rate` tokens a second on average, up to `burst` at once. */
export class TokenBucket {
  readonly #rate: number
  readonly #burst: number
  #tokens: number
  #last: number
  /** Since when takes have been refused (at least once a second), if they are. */
  #overSince: number | undefined
  #lastRefused = 0

  constructor (rate: number, burst: number, now: number) {
    this.#rate = rate / 1000
    this.#burst = Math.max(burst, 1)
    this.#tokens = this.#burst
    this.#last = now
  }

  /** Takes one token at `now` (milliseconds); false when the bucket is empty. */
  take (now: number): boolean {
    // A clock that steps back (the wall clock can) refills nothing, and takes nothing away.
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#last) * this.#rate)
    this.#last = now
    if (this.#tokens < 1) {
      if (this.#overSince === undefined || now - this.#lastRefused > 1000) this.#overSince = now
      this.#lastRefused = now
      return false
    }
    this.#tokens -= 1
    return true
  }

  /** Milliseconds the bucket has been refusing takes, at least once a second, as of the last refusal (0 when not). */
  get overFor (): number { return this.#overSince === undefined ? 0 : this.#lastRefused - this.#overSince }
}
