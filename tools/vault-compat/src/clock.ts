/**
 * The server's own notion of time, so tests can drive TTLs. Kept apart from the daemon's clock on
 * purpose (the tool imports nothing from src/); any object with these methods fits, the daemon's
 * clocks included. Wall time (`now`) is for the times the API reports; expiry timers use
 * `monotonic` so a wall clock stepped backwards cannot extend a TTL.
 */
export interface Clock {
  /** Wall-clock time, epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin; never decreases. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  /** Lets the process exit while this timer is pending. */
  unref(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer extends TimerHandle {
  at: number;
  fn: () => void;
  seq: number;
}

/**
 * A clock that moves only when told. `advance` fires due timers in order, including timers that
 * the fired callbacks schedule inside the advanced window.
 */
export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.#wall = startWallMs;
  }

  now(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.#mono + Math.max(0, ms), fn, seq: this.#seq++, unref: () => undefined };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  /** Moves wall and monotonic time forward together, firing every timer that falls due. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#wall += due.at - this.#mono;
      this.#mono = due.at;
      due.fn();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
  }
}
