import type { Clock, TimerHandle } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../audit/types.js';
import type { Notifier, NotifyEvent } from './notifier.js';

export interface HubTuning {
  /** Events waiting per notifier; past it the oldest is dropped. */
  readonly queueSize: number;
  /** Attempts per event, the first included. */
  readonly attempts: number;
  /** Backoff before the second attempt; doubles each time up to `maxBackoffMs`. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** An attempt that has not settled by then counts as failed and is aborted. */
  readonly attemptTimeoutMs: number;
}

export const DEFAULT_HUB_TUNING: HubTuning = {
  queueSize: 1000,
  attempts: 5,
  baseBackoffMs: 1000,
  maxBackoffMs: 60_000,
  attemptTimeoutMs: 10_000,
};

export interface NotifierHubOptions {
  readonly notifiers: readonly Notifier[];
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Secret values that must never reach a log line or an audit record (scrubbed from error text). */
  readonly secrets?: readonly string[];
  readonly tuning?: Partial<HubTuning>;
}

interface Lane {
  readonly notifier: Notifier;
  readonly queue: NotifyEvent[];
  running: boolean;
  dropped: number;
}

class AttemptTimeout extends Error {}

/**
 * Fans gate events out to notifiers. The gate's listener only enqueues: each notifier has its own
 * bounded queue and its own worker, so one that hangs, throws or is slow delays nobody else.
 */
export class NotifierHub {
  readonly #o: NotifierHubOptions;
  readonly #t: HubTuning;
  readonly #log: Logger;
  readonly #lanes: Lane[];
  readonly #timers = new Set<TimerHandle>();
  readonly #workers = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(options: NotifierHubOptions) {
    this.#o = options;
    this.#t = { ...DEFAULT_HUB_TUNING, ...options.tuning };
    this.#log = options.logger.child({ component: 'notify' });
    this.#lanes = options.notifiers.map((notifier) => ({ notifier, queue: [], running: false, dropped: 0 }));
  }

  /** Safe to call from the gate's listener: never throws, never waits. */
  enqueue(event: NotifyEvent): void {
    if (this.#closing.signal.aborted) return;
    for (const lane of this.#lanes) {
      let wanted: boolean;
      try {
        wanted = lane.notifier.accepts(event);
      } catch (err) {
        this.#log.error({ notifier: lane.notifier.name, err: this.#scrub(errorMessage(err)) }, 'notifier filter threw');
        continue;
      }
      if (!wanted) continue;
      if (lane.queue.length >= this.#t.queueSize) {
        const dropped = lane.queue.shift();
        lane.dropped++;
        this.#log.warn(
          { notifier: lane.notifier.name, requestId: dropped?.request.id, event: dropped?.type, dropped: lane.dropped },
          'notifier queue full: dropped the oldest event',
        );
        if (dropped) this.#abandon(lane, dropped);
      }
      lane.queue.push(event);
      if (!lane.running) this.#start(lane);
    }
  }

  /** Stops delivering: aborts attempts in flight and drops what is queued. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const timer of this.#timers) this.#o.clock.clearTimeout(timer);
    this.#timers.clear();
    for (const lane of this.#lanes) lane.queue.length = 0;
    await Promise.allSettled([...this.#workers]);
    await Promise.allSettled(this.#lanes.map((lane) => (lane.notifier.close ? lane.notifier.close() : Promise.resolve())));
  }

  #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  #start(lane: Lane): void {
    lane.running = true;
    const worker = this.#drain(lane).finally(() => {
      lane.running = false;
      this.#workers.delete(worker);
    });
    this.#workers.add(worker);
  }

  async #drain(lane: Lane): Promise<void> {
    for (let event = lane.queue.shift(); event; event = lane.queue.shift()) {
      if (this.#closing.signal.aborted) return;
      await this.#deliver(lane, event);
    }
  }

  async #deliver(lane: Lane, event: NotifyEvent): Promise<void> {
    const { notifier } = lane;
    for (let attempt = 1; attempt <= this.#t.attempts; attempt++) {
      if (this.#closing.signal.aborted) return;
      let error: string | undefined;
      try {
        await this.#attempt(notifier, event);
      } catch (err) {
        error = this.#scrub(err instanceof AttemptTimeout ? 'timed out' : errorMessage(err));
      }
      if (this.#closed() && error !== undefined) return; // aborted by close(): not a delivery failure
      await this.#audit(notifier, event, attempt, error);
      if (error === undefined) return;
      const last = attempt === this.#t.attempts;
      this.#log.warn({ notifier: notifier.name, requestId: event.request.id, event: event.type, attempt, err: error }, last ? 'notification failed; giving up' : 'notification failed; will retry');
      if (last) {
        this.#abandon(lane, event);
        return;
      }
      await this.#sleep(Math.min(this.#t.maxBackoffMs, this.#t.baseBackoffMs * 2 ** (attempt - 1)));
    }
  }

  /** One attempt, bounded by the attempt timeout on the injected clock. */
  #attempt(notifier: Notifier, event: NotifyEvent): Promise<void> {
    const controller = new AbortController();
    const onClose = (): void => {
      controller.abort();
    };
    this.#closing.signal.addEventListener('abort', onClose, { once: true });
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#o.clock.setTimeout(() => {
        controller.abort();
        reject(new AttemptTimeout());
      }, this.#t.attemptTimeoutMs);
      timer.unref();
      this.#timers.add(timer);
    });
    const closed = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => {
        reject(new AttemptTimeout());
      });
    });
    let delivery: Promise<void>;
    try {
      delivery = notifier.deliver(event, controller.signal);
    } catch (err) {
      delivery = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return Promise.race([delivery, timeout, closed]).finally(() => {
      if (timer) {
        this.#o.clock.clearTimeout(timer);
        this.#timers.delete(timer);
      }
      this.#closing.signal.removeEventListener('abort', onClose);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closing.signal.aborted) {
        resolve();
        return;
      }
      const timer = this.#o.clock.setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.#timers.add(timer);
      this.#closing.signal.addEventListener('abort', () => {
        resolve();
      }, { once: true });
    });
  }

  #abandon(lane: Lane, event: NotifyEvent): void {
    try {
      lane.notifier.abandon?.(event);
    } catch (err) {
      this.#log.error({ notifier: lane.notifier.name, err: this.#scrub(errorMessage(err)) }, 'notifier abandon threw');
    }
  }

  async #audit(notifier: Notifier, event: NotifyEvent, attempt: number, error: string | undefined): Promise<void> {
    try {
      await this.#o.audit.append({
        type: 'notify.delivery',
        notifier: notifier.name,
        requestId: event.request.id,
        trust: event.request.context.trust,
        event: event.type,
        status: event.request.status,
        attempt,
        ok: error === undefined,
        ...(error !== undefined ? { error } : {}),
      });
    } catch (err) {
      this.#log.error({ notifier: notifier.name, err: errorMessage(err) }, 'audit append failed for a notification');
    }
  }

  /** Error text from libraries may quote what they were given; secrets are cut out before it goes anywhere. */
  #scrub(text: string): string {
    let out = text;
    for (const secret of this.#o.secrets ?? []) {
      if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
    }
    return out.slice(0, 500);
  }
}
