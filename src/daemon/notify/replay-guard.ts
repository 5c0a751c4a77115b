import type { Clock } from '../../common/clock.js';

/**
 * Remembers keys of signed callbacks for as long as their signature stays acceptable, so a
 * captured or retried callback has no second effect. Bounded: when full of unexpired keys it
 * answers `full` and the caller refuses, rather than forgetting and allowing a replay.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  /** Records every key; `replay` when any of them was seen within the window. */
  check(keys: readonly string[]): 'new' | 'replay' | 'full' {
    const now = this.clock.monotonic();
    if (keys.some((k) => (this.#seen.get(k) ?? -Infinity) > now)) return 'replay';
    if (this.#seen.size + keys.length > this.maxEntries) this.#prune(now);
    if (this.#seen.size + keys.length > this.maxEntries) return 'full';
    // Twice the window: a timestamp may sit up to one window in the past or in the future.
    for (const key of keys) this.#seen.set(key, now + 2 * this.windowMs);
    return 'new';
  }

  #prune(now: number): void {
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key);
  }
}
