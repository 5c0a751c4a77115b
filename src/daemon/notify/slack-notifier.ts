import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { Clock } from '../../common/clock.js';
import { FINAL_STATUSES } from '../../model/request.js';
import type { Notifier, NotifyEvent } from './notifier.js';
import type { SlackNotifierConfig } from '../config/types.js';
import { requestPageUrl } from '../web/request-page-url.js';
import { renderSlackMessage } from './slack-message.js';

const SLACK_TIMEOUT_MS = 10_000;

/** The Web API client's own logging is off: the hub logs and audits each attempt itself. */
const quietLogger: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

export interface SlackNotifierOptions {
  readonly name: string;
  readonly config: SlackNotifierConfig;
  readonly token: string;
  readonly clock: Clock;
  /** Base URL of the Web API, e.g. https://slack.com/api/ (the default). */
  readonly apiUrl?: string;
  /** `http.public_url` when the approval web page is served: messages then link to it. */
  readonly publicUrl?: string;
}

/**
 * Posts one Block Kit message per request that waits for approvers and edits it in place as
 * approvals arrive and when the request ends. Requests that never waited (auto-approved, denied
 * by policy) are not posted: the channel is for decisions.
 */
export class SlackNotifier implements Notifier {
  readonly name: string;
  readonly #o: SlackNotifierOptions;
  readonly #client: WebClient;
  /** Requests this notifier follows: from `created` until their final state. */
  readonly #followed = new Set<string>();
  readonly #messages = new Map<string, { channel: string; ts: string }>();

  constructor(options: SlackNotifierOptions) {
    this.name = options.name;
    this.#o = options;
    const base = options.apiUrl ?? 'https://slack.com/api/';
    this.#client = new WebClient(options.token, {
      slackApiUrl: base.endsWith('/') ? base : `${base}/`,
      // Retries belong to the hub (bounded, on the injected clock, audited); the client must not add its own.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: SLACK_TIMEOUT_MS,
      logger: quietLogger,
      allowAbsoluteUrls: false,
    });
  }

  accepts(event: NotifyEvent): boolean {
    // A break-glass is announced whether or not this daemon posted the request.
    if (event.type === 'break_glass' || event.type === 'reviewed') return true;
    if (event.type === 'created') this.#followed.add(event.request.id);
    return this.#followed.has(event.request.id);
  }

  async deliver(event: NotifyEvent): Promise<void> {
    const { request } = event;
    const message = renderSlackMessage(request, this.#o.clock.now(), requestPageUrl(this.#o.publicUrl, request.id));
    const posted = this.#messages.get(request.id);
    if (event.type === 'break_glass' || event.type === 'reviewed') {
      // Loud: a message of its own in the channel (not only an edit of the request's message).
      await this.#client.chat.postMessage({ channel: this.#o.config.channel, text: message.text, blocks: [...message.blocks] as never });
    } else if (posted) {
      await this.#client.chat.update({ channel: posted.channel, ts: posted.ts, text: message.text, blocks: [...message.blocks] as never });
    } else {
      const res = await this.#client.chat.postMessage({ channel: this.#o.config.channel, text: message.text, blocks: [...message.blocks] as never });
      if (typeof res.ts === 'string' && typeof res.channel === 'string') this.#messages.set(request.id, { channel: res.channel, ts: res.ts });
    }
    if (FINAL_STATUSES.has(request.status)) this.#forget(request.id);
  }

  abandon(event: NotifyEvent): void {
    if (FINAL_STATUSES.has(event.request.status)) this.#forget(event.request.id);
  }

  /** Tells one user, privately, why their click did nothing. */
  async tellUser(channel: string, user: string, text: string): Promise<void> {
    await this.#client.chat.postEphemeral({ channel, user, text });
  }

  /** Opens a modal for the person who clicked (views.open); `triggerId` is that click's, valid for 3 seconds. */
  async openView(triggerId: string, view: Record<string, unknown>): Promise<void> {
    await this.#client.views.open({ trigger_id: triggerId, view: view as never });
  }

  #forget(id: string): void {
    this.#followed.delete(id);
    this.#messages.delete(id);
  }
}
