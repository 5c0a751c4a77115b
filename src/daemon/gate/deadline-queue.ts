import type { Clock, TimerHandle } from '../../common/clock.js';

/** Something with a monotonic deadline that a DeadlineQueue can hold. */
export interface Deadlined {
  /** Monotonic milliseconds (`clock.monotonic()`) at which it falls due. */
  readonly deadline: number;
  /** Position in the queue's heap, -1 when not queued. Owned by the queue. */
  slot: number;
}

/** setTimeout's delay is a signed 32-bit int: longer delays fire at once. Waking early is harmless. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Many deadlines, one timer. A per-item timer costs a Timeout, a closure and its context for each
 * of (say) 10,000 pending requests; this holds the items in a binary min-heap ordered by monotonic
 * deadline and keeps a single timer on the injected clock for the earliest one. Items fall due
 * in deadline order (ties in insertion order are not guaranteed). `onDue` runs synchronously for
 * each due item and must not throw.
 */
export class DeadlineQueue<T extends Deadlined> {
  readonly #clock: Clock;
  readonly #onDue: (item: T) => void;
  readonly #heap: T[] = [];
  #timer: TimerHandle | undefined;
  /** Deadline the timer is set for; Infinity when none is set. */
  #timerAt = Infinity;

  constructor(clock: Clock, onDue: (item: T) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#heap.length;
  }

  add(item: T): void {
    if (item.slot !== -1) return;
    item.slot = this.#heap.length;
    this.#heap.push(item);
    this.#up(item.slot);
    if (item.deadline < this.#timerAt) this.#arm();
  }

  /** Removes an item (finished early). The timer is left as is: if it fires early it just re-arms. */
  delete(item: T): void {
    const i = item.slot;
    if (i < 0 || this.#heap[i] !== item) return;
    item.slot = -1;
    const last = this.#heap.pop();
    if (last === undefined || i === this.#heap.length) return;
    this.#heap[i] = last;
    last.slot = i;
    this.#down(i);
    this.#up(last.slot);
  }

  /** Drops every item and the timer (shutdown). */
  clear(): void {
    for (const item of this.#heap) item.slot = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.monotonic();
    for (let top = this.#heap[0]; top !== undefined && top.deadline <= now; top = this.#heap[0]) {
      this.delete(top);
      this.#onDue(top);
    }
    if (this.#heap.length > 0 && this.#timerAt === Infinity) this.#arm();
  }

  #arm(): void {
    const first = this.#heap[0];
    this.#disarm();
    if (first === undefined) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, first.deadline - this.#clock.monotonic()));
    this.#timerAt = first.deadline;
    this.#timer = this.#clock.setTimeout(() => {
      this.#fire();
    }, delay);
    // Like the per-request timers it replaces: pending requests alone do not keep the process up.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #up(start: number): void {
    const heap = this.#heap;
    let i = start;
    const item = heap[i];
    if (item === undefined) return;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent === undefined || parent.deadline <= item.deadline) break;
      heap[i] = parent;
      parent.slot = i;
      i = p;
    }
    heap[i] = item;
    item.slot = i;
  }

  #down(start: number): void {
    const heap = this.#heap;
    const n = heap.length;
    let i = start;
    const item = heap[i];
    if (item === undefined) return;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const left = heap[l];
      const right = heap[l + 1];
      if (left === undefined) break;
      const child = right !== undefined && right.deadline < left.deadline ? right : left;
      const c = child === left ? l : l + 1;
      if (child.deadline >= item.deadline) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = item;
    item.slot = i;
  }
}
