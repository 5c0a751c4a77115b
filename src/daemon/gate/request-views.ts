import { AsyncQueue } from '../../common/async-queue.js';
import type { Clock } from '../../common/clock.js';
import { errorMessage, ResourceExhaustedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ApprovalView, RequestView } from '../../model/request.js';
import type { StoredApproval, StoredRequest } from '../state/store.js';
import type { GateEventType, GateListener } from './ports.js';

export function withoutRequestId(approval: StoredApproval): ApprovalView {
  const { requestId, ...view } = approval;
  return view;
}

/**
 * What the world sees of requests: the views handed to clients, and the two kinds of observer —
 * watchers (WatchRequests streams, bounded queues) and listeners (notifiers, metrics).
 */
export class RequestViews {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #watchers = new Set<AsyncQueue<RequestView>>();
  readonly #listeners: GateListener[] = [];

  constructor(clock: Clock, log: Logger) {
    this.#clock = clock;
    this.#log = log;
  }

  /** Registers an observer of request changes (notifiers). */
  onChange(listener: GateListener): void {
    this.#listeners.push(listener);
  }

  view(
    request: StoredRequest,
    approvals: readonly ApprovalView[],
    approvers: readonly string[],
    grantId?: string,
    monotonicDeadline?: number,
  ): RequestView {
    const clock = this.#clock;
    // Time left comes from the monotonic deadline; the wall-clock figure is for display only.
    const expiresAt =
      request.status === 'pending'
        ? monotonicDeadline !== undefined
          ? clock.now() + Math.max(0, Math.round(monotonicDeadline - clock.monotonic()))
          : request.expiresAt
        : 0;
    return {
      id: request.id,
      resource: request.resource,
      reason: request.reason,
      context: request.context,
      ttlMs: request.ttlMs,
      status: request.status,
      ...(request.statusReason !== undefined ? { statusReason: request.statusReason } : {}),
      rule: request.rule,
      approvalsRequired: request.require?.approvals ?? 0,
      approvers,
      approvals,
      createdAt: request.createdAt,
      expiresAt,
      ...(grantId ? { grantId } : {}),
    };
  }

  emit(type: GateEventType, request: RequestView): void {
    for (const watcher of this.#watchers) watcher.push(request);
    for (const listener of this.#listeners) {
      try {
        listener({ type, request });
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'gate listener threw');
      }
    }
  }

  /** Whether any WatchRequests stream is open (a fleet's remote changes are read only for them). */
  get watched(): boolean {
    return this.#watchers.size > 0;
  }

  /** A change another daemon made: shown to watchers, never announced again (its owner's notifiers do that). */
  showWatchers(request: RequestView): void {
    for (const watcher of this.#watchers) watcher.push(request);
  }

  /** Yields `current` (the pending requests), then each change to any request, until `signal` aborts. */
  async *watch(signal: AbortSignal, current: Iterable<RequestView>): AsyncGenerator<RequestView> {
    const queue = new AsyncQueue<RequestView>(10_000, () => new ResourceExhaustedError('watcher too slow'));
    for (const view of current) queue.push(view);
    this.#watchers.add(queue);
    const onAbort = (): void => {
      queue.end();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* queue;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#watchers.delete(queue);
    }
  }

  /** Shutdown: every watcher's stream ends. */
  endWatchers(): void {
    for (const watcher of this.#watchers) watcher.end();
  }
}
