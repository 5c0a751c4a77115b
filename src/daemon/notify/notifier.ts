import type { GateEventType } from '../gate/ports.js';
import type { RequestView } from '../../model/request.js';

/** One change to a request, as the gate reports it. Holds no credentials. */
export interface NotifyEvent {
  readonly type: GateEventType;
  readonly request: RequestView;
}

/**
 * A channel that tells people about requests. The hub calls `deliver` for one event at a time per
 * notifier, in order, retrying when it throws; `signal` aborts when the attempt times out or the
 * hub closes.
 */
export interface Notifier {
  /** Stable name for logs and audit, e.g. `slack#0`. */
  readonly name: string;
  /** Decides synchronously, at enqueue time, whether this notifier cares about the event. */
  accepts(event: NotifyEvent): boolean;
  deliver(event: NotifyEvent, signal: AbortSignal): Promise<void>;
  /** Called after the last attempt for an event failed; lets the notifier drop state it kept. */
  abandon?(event: NotifyEvent): void;
  close?(): Promise<void>;
}
