import type { Clock } from '../../common/clock.js';
import { errorMessage, JitgateError } from '../../common/errors.js';
import { requestPageUrl } from '../web/request-page-url.js';
import type { Logger } from '../../common/logger.js';
import { ownValue } from '../../common/own-keys.js';
import type { Config, SlackNotifierConfig } from '../config/types.js';
import type { AccessGate } from '../gate/access-gate.js';
import type { HttpHandler, HttpResponse } from '../http/http-server.js';
import { channelApprover } from './approver-identity.js';
import { ReplayGuard } from './replay-guard.js';
import { SIGNATURE_WINDOW_MS, verifySlackSignature } from './signing.js';
import { APPROVE_ACTION, APPROVE_COMMENT_ACTION, DENY_ACTION, DENY_REASON_ACTION, escapeMrkdwn } from './slack-message.js';
import { commentProblem, decisionModal, fieldError, parseViewSubmission } from './slack-modal.js';

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
  /** Opens a modal for the user who clicked (views.open with the click's trigger id). */
  readonly openView: (triggerId: string, view: Record<string, unknown>) => Promise<void>;
  /** Receives the work done after the acknowledgement, so shutdown can wait for it. */
  readonly track: (work: Promise<void>) => void;
  /** `http.public_url` when the approval web page is served: a step-up answer links to it. */
  readonly publicUrl?: string;
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

const DECISION_ACTIONS: ReadonlySet<string> = new Set([APPROVE_ACTION, DENY_ACTION, APPROVE_COMMENT_ACTION, DENY_REASON_ACTION]);

/** One decision from Slack, whichever way it came: a button (no text) or the modal's submission. */
interface SlackDecision {
  readonly requestId: string;
  readonly decision: 'approve' | 'deny';
  readonly userId: string;
  readonly channelId: string;
  readonly text: string;
}

const UNMAPPED_TEXT = 'jitgate: your Slack account is not mapped to an approver; nothing was recorded.';

const jsonReply = (body: Record<string, unknown>): HttpResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const plain = (status: number, body: string): HttpResponse => ({ status, body: body === '' ? '' : `${body}\n` });
const ephemeral = (text: string): HttpResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
});

/** What the two kinds of callback share: the checks' state and the ways to act and to answer. */
interface Interactions {
  readonly options: SlackInteractionsOptions;
  readonly log: Logger;
  readonly replays: ReplayGuard;
}

async function tell(ctx: Interactions, channelId: string, userId: string, text: string): Promise<void> {
  await ctx.options.tellUser(channelId, userId, text).catch((err: unknown) => {
    ctx.log.warn({ err: errorMessage(err) }, 'could not tell the slack user');
  });
}

async function act(ctx: Interactions, decision: SlackDecision, approverName: string): Promise<void> {
  const { options, log } = ctx;
  const approver = channelApprover(approverName, options.groups, 'slack', decision.userId);
  const { requestId, text } = decision;
  try {
    if (decision.decision === 'approve') await options.gate.approve(requestId, approver, { ...(text === '' ? {} : { comment: text }), channel: 'slack' });
    else await options.gate.deny(requestId, approver, text === '' ? SLACK_DENY_REASON : text, { channel: 'slack' });
    log.info({ requestId, approver: approverName, decision: decision.decision }, 'slack decision recorded');
  } catch (err) {
    // The gate's refusals (self-approval, not allowed, already decided) are safe to show the person,
    // escaped like the message: they may quote values from CI.
    log.warn({ requestId, approver: approverName, err: errorMessage(err) }, 'slack decision refused');
    const page = err instanceof JitgateError && err.code === 'STEP_UP_REQUIRED' ? requestPageUrl(options.publicUrl, requestId) : undefined;
    // Step-up: the click does not approve; the answer is the way to the web page's fresh sign-in.
    const link = page === undefined ? '' : ` <${page}|Open the request page>`;
    await tell(ctx, decision.channelId, decision.userId, `jitgate: ${escapeMrkdwn(errorMessage(err))}${link}`);
  }
}

/** After the answer: never inside it, so Slack's 3 seconds hold whatever the gate waits on. */
function later(ctx: Interactions, work: () => Promise<void>): void {
  ctx.options.track(
    new Promise<void>((resolve) => {
      setImmediate(resolve);
    }).then(work),
  );
}

/** The approver a Slack user is mapped to; an unmapped one is told (and nothing is recorded). */
function mapped(ctx: Interactions, userId: string, channelId: string, requestId: string): string | undefined {
  const approverName = ownValue(ctx.options.config.users, userId);
  if (approverName === undefined) {
    ctx.log.warn({ requestId, slackUser: userId }, 'unmapped slack user refused');
    ctx.options.track(tell(ctx, channelId, userId, UNMAPPED_TEXT));
  }
  return approverName;
}

function onBlockAction(ctx: Interactions, payload: unknown): HttpResponse {
  const { log } = ctx;
  const action = parseBlockAction(payload);
  if (!action) return plain(400, 'incomplete block_actions payload');
  if (!DECISION_ACTIONS.has(action.actionId)) return plain(200, 'ignored');
  if (!/^req_[a-z0-9]{1,64}$/.test(action.requestId)) return plain(400, 'bad request id');

  // Slack retries a callback it thinks failed; an attacker may resend a captured one. Either way: once.
  const seen = ctx.replays.check([`a:${action.actionTs}:${action.userId}:${action.messageTs}`, `t:${action.triggerId}`]);
  if (seen === 'replay') {
    log.info({ requestId: action.requestId }, 'replayed slack callback ignored');
    return plain(200, 'already handled');
  }
  if (seen === 'full') return plain(503, 'busy');

  const approverName = mapped(ctx, action.userId, action.channelId, action.requestId);
  if (approverName === undefined) return ephemeral(UNMAPPED_TEXT);
  const { requestId, userId, channelId } = action;
  const decision = action.actionId === APPROVE_ACTION || action.actionId === APPROVE_COMMENT_ACTION ? 'approve' : 'deny';
  if (action.actionId === APPROVE_ACTION || action.actionId === DENY_ACTION) {
    later(ctx, () => act(ctx, { requestId, decision, userId, channelId, text: '' }, approverName));
    return plain(200, '');
  }
  // The trigger id is good for 3 seconds: the modal opens right after the answer, never after the gate.
  later(ctx, async () => {
    try {
      await ctx.options.openView(action.triggerId, decisionModal({ requestId, decision, channelId }));
    } catch (err) {
      log.warn({ requestId, err: errorMessage(err) }, 'could not open the slack modal');
      await tell(ctx, channelId, userId, 'jitgate: the comment form could not be opened; nothing was recorded. Try again.');
    }
  });
  return plain(200, '');
}

/** The modal's Approve/Deny: the decision, with the text the requester will read. */
function onViewSubmission(ctx: Interactions, payload: unknown): HttpResponse {
  const submission = parseViewSubmission(payload);
  if (!submission) return plain(200, 'ignored');
  const problem = commentProblem(submission);
  if (problem !== undefined) return jsonReply(fieldError(problem));
  const seen = ctx.replays.check([`v:${submission.viewId}:${submission.userId}`, `t:${submission.triggerId}`]);
  if (seen === 'replay') {
    ctx.log.info({ requestId: submission.requestId }, 'replayed slack submission ignored');
    return plain(200, '');
  }
  if (seen === 'full') return plain(503, 'busy');
  const approverName = mapped(ctx, submission.userId, submission.channelId, submission.requestId);
  if (approverName === undefined) return jsonReply(fieldError('Your Slack account is not mapped to an approver; nothing was recorded.'));
  later(ctx, () => act(ctx, submission, approverName));
  // An empty 200 closes the modal; a refusal by the gate reaches the person as a private message.
  return plain(200, '');
}

/**
 * `POST /slack/interactions`. Everything that decides whether to act is checked before the
 * answer (signature on the raw body, freshness, team, replay, user mapping); the gate is called
 * after it, because Slack wants an answer within 3 seconds and the gate may wait on the audit log.
 *
 * Approve and Deny decide at once. "Approve with comment…" and "Deny with reason…" open a modal
 * (views.open); its `view_submission` is the decision, with the text the requester is shown.
 */
export function createSlackInteractionsHandler(options: SlackInteractionsOptions): HttpHandler {
  const { config, clock } = options;
  const log = options.logger.child({ component: 'slack-interactions' });
  const ctx: Interactions = { options, log, replays: new ReplayGuard(clock, SIGNATURE_WINDOW_MS) };

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
    const type = field(payload, 'type');
    if (type === 'block_actions') return onBlockAction(ctx, payload);
    if (type === 'view_submission') return onViewSubmission(ctx, payload);
    return plain(200, 'ignored');
  };
}
