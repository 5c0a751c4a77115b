import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import { UnavailableError } from '../../common/errors.js';
import type { Notifier, NotifyEvent } from './notifier.js';
import type { WebhookNotifierConfig } from '../config/types.js';
import { webhookSignatureHeaders } from './signing.js';

/** The JSON body a receiver gets. `delivery_id` stays the same across retries of one event. */
export interface WebhookEventBody {
  readonly delivery_id: string;
  readonly event: NotifyEvent['type'];
  readonly request: NotifyEvent['request'];
}

export interface WebhookNotifierOptions {
  readonly name: string;
  readonly config: WebhookNotifierConfig;
  readonly secret: string;
  readonly clock: Clock;
}

/** Why a connection failed, without the URL (it may carry a token of the receiver's). */
function transportError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : err instanceof Error && err.name === 'AbortError' ? 'aborted' : 'network error';
  return `connection failed: ${code}`;
}

/** POSTs every request event, signed, to one URL. */
export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly #o: WebhookNotifierOptions;
  readonly #deliveryIds = new WeakMap<NotifyEvent, string>();

  constructor(options: WebhookNotifierOptions) {
    this.name = options.name;
    this.#o = options;
  }

  accepts(event: NotifyEvent): boolean {
    this.#deliveryIds.set(event, randomUUID());
    return true;
  }

  async deliver(event: NotifyEvent, signal: AbortSignal): Promise<void> {
    const body: WebhookEventBody = {
      delivery_id: this.#deliveryIds.get(event) ?? randomUUID(),
      event: event.type,
      request: event.request,
    };
    const text = JSON.stringify(body);
    let res: Response;
    try {
      res = await fetch(this.#o.config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'jitgated',
          // Signed at each attempt: a retry carries a fresh timestamp that passes the receiver's window.
          ...webhookSignatureHeaders(this.#o.secret, text, this.#o.clock.now()),
        },
        body: text,
        redirect: 'error',
        signal,
      });
    } catch (err) {
      throw new UnavailableError(transportError(err), { cause: err });
    }
    await res.body?.cancel();
    if (!res.ok) throw new UnavailableError(`receiver answered HTTP ${res.status}`);
  }
}
