/**
 * Node's setTimeout takes the delay as a signed 32-bit integer: anything above this fires after
 * 1 ms (with a TimeoutOverflowWarning). A 30-day escalation or TTL would fire at once.
 */
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1;

/** What a timer hands back (structurally clock.ts's TimerHandle; not imported, clock.ts imports this). */
export interface TimerHandle {
  unref(): void;
}

/** The primitive timers a stepped timer is built on (Node's, or a test's). */
export interface TimerHost {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  monotonic(): number;
}

/** A timer longer than one step: it waits in steps of at most MAX_TIMER_STEP_MS. */
class SteppedTimer implements TimerHandle {
  readonly #host: TimerHost;
  readonly #fn: () => void;
  readonly #dueAt: number;
  #current: TimerHandle | undefined;
  #unref = false;

  constructor(host: TimerHost, fn: () => void, ms: number) {
    this.#host = host;
    this.#fn = fn;
    this.#dueAt = host.monotonic() + ms;
    this.#arm();
  }

  #arm(): void {
    // Measured against the monotonic clock each step, so steps that fire late do not add up.
    const remaining = Math.max(0, this.#dueAt - this.#host.monotonic());
    const last = remaining <= MAX_TIMER_STEP_MS;
    this.#current = this.#host.setTimeout(
      () => {
        this.#current = undefined;
        if (last) this.#fn();
        else this.#arm();
      },
      last ? remaining : MAX_TIMER_STEP_MS,
    );
    if (this.#unref) this.#current.unref();
  }

  unref(): void {
    this.#unref = true;
    this.#current?.unref();
  }

  cancel(): void {
    if (this.#current !== undefined) this.#host.clearTimeout(this.#current);
    this.#current = undefined;
  }
}

/**
 * setTimeout/clearTimeout over `host` that take any delay: one host timer when it fits, a chain
 * of steps when it does not.
 */
export function steppedTimers(host: TimerHost): Pick<TimerHost, 'setTimeout' | 'clearTimeout'> {
  return {
    setTimeout(fn, ms) {
      // NaN and short delays go to the host unchanged; Infinity steps forever, i.e. never fires.
      if (!(ms > MAX_TIMER_STEP_MS)) return host.setTimeout(fn, ms);
      return new SteppedTimer(host, fn, ms);
    },
    clearTimeout(handle) {
      if (handle instanceof SteppedTimer) handle.cancel();
      else host.clearTimeout(handle);
    },
  };
}
