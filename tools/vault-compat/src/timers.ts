import type { Clock, TimerHandle } from './clock.js';

/** Node clamps longer timeouts to 1 ms, so long TTLs are re-armed in steps. */
const MAX_STEP_MS = 2_147_483_647;

/**
 * Calls `fn` when the clock's monotonic time reaches `atMono`. Returns a cancel function.
 * Timers are unref'd: a pending TTL must not keep a test process alive.
 */
export function scheduleAt(clock: Clock, atMono: number, fn: () => void): () => void {
  let handle: TimerHandle | null = null;
  const arm = (): void => {
    const wait = atMono - clock.monotonic();
    if (wait <= 0) {
      handle = null;
      fn();
      return;
    }
    handle = clock.setTimeout(arm, Math.min(wait, MAX_STEP_MS));
    handle.unref();
  };
  const wait = atMono - clock.monotonic();
  handle = clock.setTimeout(arm, Math.max(0, Math.min(wait, MAX_STEP_MS)));
  handle.unref();
  return () => {
    if (handle) clock.clearTimeout(handle);
    handle = null;
  };
}
