import { steppedTimers } from './stepped-timer.js';

/**
 * Time is injected everywhere so tests can drive it. Wall time (`now`) is for records and token
 * expiry; deadlines and TTL timers use `monotonic` so a clock stepped backwards cannot extend them.
 */
export interface Clock {
  /** Wall-clock time, epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin; never decreases. */
  monotonic(): number;
  /** Any delay: implementations must not fire early on delays beyond Node's 2^31-1 ms limit. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  /** Lets the process exit while this timer is pending. */
  unref(): void;
}

// Node's own timers overflow past 2^31-1 ms (a 30-day delay fires in 1 ms): longer ones are stepped.
const nodeTimers = steppedTimers({
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
  monotonic: () => performance.now(),
});

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => nodeTimers.setTimeout(fn, ms),
  clearTimeout: (handle) => {
    nodeTimers.clearTimeout(handle);
  },
};

interface ManualTimer extends TimerHandle {
  at: number;
  fn: () => void;
  seq: number;
  cancelled: boolean;
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
    const timer: ManualTimer = {
      at: this.#mono + Math.max(0, ms),
      fn,
      seq: this.#seq++,
      cancelled: false,
      unref: () => undefined,
    };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  /** Moves both clocks forward, firing every timer that falls due. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#wall += due.at - this.#mono;
      this.#mono = due.at;
      due.fn();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
  }

  /** Steps the wall clock only (e.g. backwards), as NTP or an operator might; timers are unaffected. */
  setWall(ms: number): void {
    this.#wall = ms;
  }
}
