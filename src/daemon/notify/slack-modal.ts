import { hasControlChars } from '../../common/text.js';
import { escapeMrkdwn } from './slack-message.js';

export const DECISION_CALLBACK_ID = 'jitgate_decision';
const INPUT_BLOCK = 'jitgate_comment';
const INPUT_ACTION = 'comment';
/** The gate's limit for an approver's free text. */
export const COMMENT_MAX = 1024;

/** What the modal carries back in `private_metadata`: Slack returns it with the submission. */
export interface ModalDecision {
  readonly requestId: string;
  readonly decision: 'approve' | 'deny';
  /** Where the message was, for telling the person privately when the gate refuses. */
  readonly channelId: string;
}

/**
 * The modal `views.open` shows: the request, one text field (optional for an approval, required for
 * a denial: the requester is told why). Slack's limits hold: title and button texts ≤ 24 characters.
 */
export function decisionModal(decision: ModalDecision): Record<string, unknown> {
  const approve = decision.decision === 'approve';
  return {
    type: 'modal',
    callback_id: DECISION_CALLBACK_ID,
    private_metadata: JSON.stringify({ r: decision.requestId, d: decision.decision, c: decision.channelId }),
    title: { type: 'plain_text', text: approve ? 'Approve request' : 'Deny request' },
    submit: { type: 'plain_text', text: approve ? 'Approve' : 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Request \`${escapeMrkdwn(decision.requestId)}\`. The requester sees your name and this text.` } },
      {
        type: 'input',
        block_id: INPUT_BLOCK,
        optional: approve,
        label: { type: 'plain_text', text: approve ? 'Comment' : 'Reason' },
        element: { type: 'plain_text_input', action_id: INPUT_ACTION, multiline: true, max_length: COMMENT_MAX },
      },
    ],
  };
}

const field = (v: unknown, key: string): unknown => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);

export interface ViewSubmission extends ModalDecision {
  readonly userId: string;
  readonly viewId: string;
  readonly triggerId: string;
  /** The approver's text, trimmed, its line breaks made spaces (one line for the step's log); empty when none. */
  readonly text: string;
}

/** The modal's metadata as we wrote it; undefined when it is not ours. */
function parseMetadata(raw: unknown): ModalDecision | undefined {
  if (typeof raw !== 'string' || raw.length > 3000) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const requestId = str(field(meta, 'r'));
  const decision = field(meta, 'd');
  const channelId = str(field(meta, 'c'));
  if (requestId === undefined || !/^req_[a-z0-9]{1,64}$/.test(requestId) || channelId === undefined) return undefined;
  if (decision !== 'approve' && decision !== 'deny') return undefined;
  return { requestId, decision, channelId };
}

/** Picks out a `view_submission` of our decision modal; undefined when anything is missing or foreign. */
export function parseViewSubmission(payload: unknown): ViewSubmission | undefined {
  const view = field(payload, 'view');
  if (field(view, 'callback_id') !== DECISION_CALLBACK_ID) return undefined;
  const meta = parseMetadata(field(view, 'private_metadata'));
  const userId = str(field(field(payload, 'user'), 'id'));
  const viewId = str(field(view, 'id'));
  const triggerId = str(field(payload, 'trigger_id'));
  if (!meta || !userId || !viewId || !triggerId) return undefined;
  const value = field(field(field(field(view, 'state'), 'values'), INPUT_BLOCK), INPUT_ACTION);
  const raw = field(value, 'value');
  const text = typeof raw === 'string' ? raw.trim().replace(/\s*\r?\n\s*/g, ' ') : '';
  return { ...meta, userId, viewId, triggerId, text };
}

/**
 * Why the text cannot be recorded, as Slack shows it under the field (`response_action: errors`);
 * undefined when it is fine. The gate refuses control characters, so the modal says so first.
 */
export function commentProblem(submission: ViewSubmission): string | undefined {
  if (submission.decision === 'deny' && submission.text === '') return 'A denial needs a reason.';
  if (submission.text.length > COMMENT_MAX) return `Keep it under ${String(COMMENT_MAX)} characters.`;
  if (hasControlChars(submission.text)) return 'Remove the control characters.';
  return undefined;
}

/** Slack's answer that keeps the modal open with `message` under the text field. */
export function fieldError(message: string): Record<string, unknown> {
  return { response_action: 'errors', errors: { [INPUT_BLOCK]: message } };
}
