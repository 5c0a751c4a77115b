/**
 * A single-consumer async queue: producers `push`, one consumer iterates. Bounded so a slow
 * consumer cannot grow memory without limit: past `limit` items the queue fails with `overflow`.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: ((result: IteratorResult<T>) => void) | undefined;
  #failWaiter: ((err: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;
  #hasError = false;

  constructor(
    private readonly limit = 10_000,
    private readonly overflow: () => Error = () => new Error('queue overflow'),
  ) {}

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.#failWaiter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.limit) {
      this.fail(this.overflow());
      return;
    }
    this.#items.push(item);
  }

  /** Ends the iteration after the queued items are consumed. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.#failWaiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  /** Ends the iteration with an error, dropping queued items. */
  fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hasError = true;
    this.#error = err;
    this.#items = [];
    if (this.#failWaiter) {
      const fail = this.#failWaiter;
      this.#waiter = undefined;
      this.#failWaiter = undefined;
      fail(err);
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#hasError) return Promise.reject(this.#error instanceof Error ? this.#error : new Error(String(this.#error)));
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        this.#items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
