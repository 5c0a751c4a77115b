import { hasControlChars } from '../../common/text.js';
import type { Clock } from '../../common/clock.js';
import { ConflictError, errorMessage, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Config } from '../config/types.js';
import type { AccessGate } from '../gate/access-gate.js';
import type { HttpHandler, HttpResponse } from '../http/http-server.js';
import { channelApprover } from './approver-identity.js';
import { ReplayGuard } from './replay-guard.js';
import { SIGNATURE_WINDOW_MS, verifyWebhookSignature } from './signing.js';

/** One configured sender of decisions: its shared secret and the approver it acts as. */
export interface DecisionSender {
  readonly secret: string;
  readonly identity: string;
}

export interface WebhookDecisionsOptions {
  readonly senders: readonly DecisionSender[];
  readonly gate: Pick<AccessGate, 'approve' | 'deny'>;
  readonly groups: Config['groups'];
  readonly clock: Clock;
  readonly logger: Logger;
}

const json = (status: number, body: Record<string, unknown>): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const freeText = (v: unknown): boolean => v === undefined || (typeof v === 'string' && v.length <= 1000 && !hasControlChars(v));

/**
 * `reason` (a denial's) and `comment` (an approval's) are one free-text field: either name is taken
 * for either decision, so a sender need not know which one the other uses. Both at once is refused.
 */
function parseDecision(raw: Buffer): { requestId: string; decision: 'approve' | 'deny'; reason?: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { request_id: requestId, decision, reason, comment } = body as Record<string, unknown>;
  if (typeof requestId !== 'string' || !/^req_[a-z0-9]{1,64}$/.test(requestId)) return undefined;
  if (decision !== 'approve' && decision !== 'deny') return undefined;
  if (!freeText(reason) || !freeText(comment) || (reason !== undefined && comment !== undefined)) return undefined;
  const text = (reason ?? comment) as string | undefined;
  return { requestId, decision, ...(text ? { reason: text } : {}) };
}

/**
 * `POST /webhook/decisions`: an external system approves or denies as its configured identity.
 * Same signing as outbound events, a 5-minute window and a replay guard; then the gate's rules
 * apply exactly as for any other approver. Acts before answering, so the sender learns the result.
 */
export function createWebhookDecisionsHandler(options: WebhookDecisionsOptions): HttpHandler {
  const log = options.logger.child({ component: 'webhook-decisions' });
  const replays = new ReplayGuard(options.clock, SIGNATURE_WINDOW_MS);

  return async (request) => {
    const now = options.clock.now();
    const sender = options.senders.find((s) => verifyWebhookSignature(request.headers, request.rawBody, s.secret, now).ok);
    if (!sender) {
      log.warn('unsigned or tampered webhook decision refused');
      return json(401, { error: 'invalid signature' });
    }
    const decision = parseDecision(request.rawBody);
    if (!decision) return json(400, { error: 'expected {"request_id": "req_…", "decision": "approve"|"deny", "comment"?: string} ("reason" for "comment" also taken)' });
    const signature = request.headers['x-jitgate-signature'];
    const seen = replays.check([`s:${String(signature)}`]);
    if (seen === 'replay') return json(409, { error: 'replayed decision ignored' });
    if (seen === 'full') return json(503, { error: 'busy' });

    const approver = channelApprover(sender.identity, options.groups, 'webhook');
    try {
      const view =
        decision.decision === 'approve'
          ? await options.gate.approve(decision.requestId, approver, { ...(decision.reason ? { comment: decision.reason } : {}), channel: 'webhook' })
          : await options.gate.deny(decision.requestId, approver, decision.reason ?? 'denied by webhook', { channel: 'webhook' });
      log.info({ requestId: decision.requestId, approver: sender.identity, decision: decision.decision }, 'webhook decision recorded');
      return json(200, { request_id: view.id, status: view.status, approvals: view.approvals.length });
    } catch (err) {
      const status =
        err instanceof NotFoundError ? 404
        : err instanceof PermissionDeniedError ? 403
        : err instanceof ConflictError ? 409
        : err instanceof InvalidArgumentError ? 400
        : 503;
      return json(status, { error: errorMessage(err) });
    }
  };
}
