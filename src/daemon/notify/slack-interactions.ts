import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ownValue } from '../../common/own-keys.js';
import type { Config, SlackNotifierConfig } from '../config/types.js';
import type { AccessGate } from '../gate/access-gate.js';
import type { HttpHandler, HttpResponse } from '../http/http-server.js';
import { channelApprover } from './approver-identity.js';
import { ReplayGuard } from './replay-guard.js';
import { SIGNATURE_WINDOW_MS, verifySlackSignature } from './signing.js';
import { APPROVE_ACTION, DENY_ACTION, escapeMrkdwn } from './slack-message.js';

export const SLACK_DENY_REASON = 'denied in Slack';

export interface SlackInteractionsOptions {
  readonly config: SlackNotifierConfig;
  readonly signingSecret: string;
  readonly gate: Pick<AccessGate, 'approve' | 'deny'>;
  readonly groups: Config['groups'];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sends a private message to one user (chat.postEphemeral). */
  readonly tellUser: (channel: string, user: string, text: string) => Promise<void>;
  /** Receives the work done after the acknowledgement, so shutdown can wait for it. */
  readonly track: (work: Promise<void>) => void;
}

interface BlockAction {
  readonly teamId: string;
  readonly userId: string;
  readonly actionId: string;
  readonly requestId: string;
  readonly actionTs: string;
  readonly messageTs: string;
  readonly channelId: string;
  readonly triggerId: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);
const field = (v: unknown, key: string): unknown => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined);

/** Picks out what a block_actions payload must carry; undefined when anything is missing. */
function parseBlockAction(payload: unknown): BlockAction | undefined {
  const actions = field(payload, 'actions');
  const action: unknown = Array.isArray(actions) ? actions[0] : undefined;
  const parsed = {
    teamId: str(field(field(payload, 'team'), 'id')),
    userId: str(field(field(payload, 'user'), 'id')),
    actionId: str(field(action, 'action_id')),
    requestId: str(field(action, 'value')),
    actionTs: str(field(action, 'action_ts')),
    messageTs: str(field(field(payload, 'container'), 'message_ts')),
    channelId: str(field(field(payload, 'channel'), 'id')) ?? str(field(field(payload, 'container'), 'channel_id')),
    triggerId: str(field(payload, 'trigger_id')),
  };
  const { teamId, userId, actionId, requestId, actionTs, messageTs, channelId, triggerId } = parsed;
  if (!teamId || !userId || !actionId || !requestId || !actionTs || !messageTs || !channelId || !triggerId) return undefined;
  return { teamId, userId, actionId, requestId, actionTs, messageTs, channelId, triggerId };
}

const plain = (status: number, body: string): HttpResponse => ({ status, body: body === '' ? '' : `${body}\n` });
const ephemeral = (text: string): HttpResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
});

/**
 * `POST /slack/interactions`. Everything that decides whether to act is checked before the
 * answer (signature on the raw body, freshness, team, replay, user mapping); the gate is called
 * after it, because Slack wants an answer within 3 seconds and the gate may wait on the audit log.
 */
export function createSlackInteractionsHandler(options: SlackInteractionsOptions): HttpHandler {
  const { config, clock } = options;
  const log = options.logger.child({ component: 'slack-interactions' });
  const replays = new ReplayGuard(clock, SIGNATURE_WINDOW_MS);

  const act = async (action: BlockAction, approverName: string): Promise<void> => {
    const approver = channelApprover(approverName, options.groups, 'slack', action.userId);
    try {
      if (action.actionId === APPROVE_ACTION) await options.gate.approve(action.requestId, approver);
      else await options.gate.deny(action.requestId, approver, SLACK_DENY_REASON);
      log.info({ requestId: action.requestId, approver: approverName, action: action.actionId }, 'slack decision recorded');
    } catch (err) {
      // The gate's refusals (self-approval, not allowed, already decided) are safe to show the person,
      // escaped like the message: they may quote values from CI.
      log.warn({ requestId: action.requestId, approver: approverName, err: errorMessage(err) }, 'slack decision refused');
      await options.tellUser(action.channelId, action.userId, `jitgate: ${escapeMrkdwn(errorMessage(err))}`).catch((tellErr: unknown) => {
        log.warn({ err: errorMessage(tellErr) }, 'could not tell the slack user');
      });
    }
  };

  return (request) => {
    const check = verifySlackSignature(request.headers, request.rawBody, options.signingSecret, clock.now());
    if (!check.ok) {
      log.warn({ reason: check.reason }, 'slack callback refused');
      return plain(401, 'invalid signature');
    }
    let payload: unknown;
    try {
      const form = new URLSearchParams(request.rawBody.toString('utf8'));
      payload = JSON.parse(form.get('payload') ?? '') as unknown;
    } catch {
      return plain(400, 'expected a form field "payload" with JSON');
    }
    const teamId = str(field(field(payload, 'team'), 'id'));
    if (teamId !== config.teamId) {
      log.warn('slack callback from another team refused');
      return plain(401, 'wrong team');
    }
    if (field(payload, 'type') !== 'block_actions') return plain(200, 'ignored');
    const action = parseBlockAction(payload);
    if (!action) return plain(400, 'incomplete block_actions payload');
    if (action.actionId !== APPROVE_ACTION && action.actionId !== DENY_ACTION) return plain(200, 'ignored');
    if (!/^req_[a-z0-9]{1,64}$/.test(action.requestId)) return plain(400, 'bad request id');

    // Slack retries a callback it thinks failed; an attacker may resend a captured one. Either way: once.
    const seen = replays.check([`a:${action.actionTs}:${action.userId}:${action.messageTs}`, `t:${action.triggerId}`]);
    if (seen === 'replay') {
      log.info({ requestId: action.requestId }, 'replayed slack callback ignored');
      return plain(200, 'already handled');
    }
    if (seen === 'full') return plain(503, 'busy');

    const approverName = ownValue(config.users, action.userId);
    if (approverName === undefined) {
      log.warn({ requestId: action.requestId, slackUser: action.userId }, 'unmapped slack user refused');
      const text = 'jitgate: your Slack account is not mapped to an approver; nothing was recorded.';
      options.track(
        options.tellUser(action.channelId, action.userId, text).catch((err: unknown) => {
          log.warn({ err: errorMessage(err) }, 'could not tell the slack user');
        }),
      );
      return ephemeral(text);
    }
    options.track(
      new Promise<void>((resolve) => {
        setImmediate(resolve);
      }).then(() => act(action, approverName)),
    );
    return plain(200, '');
  };
}
