import { displayText } from '../../common/display-text.js';
import type { RequestView } from '../../model/request.js';
import { contextLines, statusText } from './request-summary.js';

export const APPROVE_ACTION = 'jitgate_approve';
export const DENY_ACTION = 'jitgate_deny';
/** The buttons that open the comment modal (slack-modal.ts) instead of deciding at once. */
export const APPROVE_COMMENT_ACTION = 'jitgate_approve_comment';
export const DENY_REASON_ACTION = 'jitgate_deny_reason';

/**
 * Slack treats `<...>` as links and mentions (`<!channel>`): text from CI must not be able to ping or
 * link. Bidi and invisible characters become visible `<U+202E>` first, so none can reorder the message.
 */
export function escapeMrkdwn(text: string): string {
  return displayText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Escapes, then cuts at `max` characters of *escaped* text without splitting an entity. Clipping
 * the raw value first is not enough: escaping can grow it fivefold (`&` → `&amp;`).
 */
function escapeClipped(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    const piece = escapeMrkdwn(ch);
    if (out.length + piece.length > max - 1) return `${out}…`;
    out += piece;
  }
  return out;
}

/** The lines an approver must always see, whatever the other fields hold: they get their own block. */
const PINNED_LABELS: ReadonlySet<string> = new Set(['Repository', 'Ref', 'Commit', 'Run', 'Trust', 'Fork', 'Requested by']);
/** Per-field cap: 9 fields of at most this (plus labels) stay under Slack's 3,000-character section limit. */
const FIELD_MAX = 300;

function fieldLines(lines: readonly (readonly [string, string])[]): string {
  return lines.map(([label, value]) => `*${label}:* ${label === 'Run' ? runLink(value) : escapeClipped(value, FIELD_MAX)}`).join('\n');
}

function runLink(url: string): string {
  const safe = url.length <= FIELD_MAX && /^https?:\/\/[^\s|<>]+$/.test(url) && displayText(url) === url;
  return safe ? `<${url}|open run>` : escapeClipped(url, FIELD_MAX);
}

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

function headline(request: RequestView): string {
  if (!request.breakGlass) return 'Access request';
  return request.breakGlass.review ? `:rotating_light: BREAK-GLASS reviewed (${request.breakGlass.review.verdict})` : ':rotating_light: BREAK-GLASS';
}

/** The Block Kit message for a request; buttons only while it is pending. */
export function renderSlackMessage(request: RequestView, nowMs: number, pageUrl?: string): SlackMessage {
  const lines = contextLines(request, nowMs);
  const pending = request.status === 'pending';
  // Two sections, each capped field by field, so no field can push another out of the message.
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${headline(request)}: ${displayText(request.resource)}`, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: fieldLines(lines.filter(([label]) => PINNED_LABELS.has(label))) } },
    { type: 'section', text: { type: 'mrkdwn', text: fieldLines(lines.filter(([label]) => !PINNED_LABELS.has(label))) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Status:* ${escapeClipped(statusText(request), 500)}` } },
  ];
  if (pending) {
    blocks.push({
      type: 'actions',
      block_id: 'jitgate_decision',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: request.id },
        // A comment or a reason the requester reads: these open a modal (views.open) with a text field.
        { type: 'button', action_id: APPROVE_COMMENT_ACTION, text: { type: 'plain_text', text: 'Approve with comment…' }, value: request.id },
        { type: 'button', action_id: DENY_REASON_ACTION, text: { type: 'plain_text', text: 'Deny with reason…' }, value: request.id },
        {
          type: 'button',
          action_id: DENY_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Deny' },
          value: request.id,
          confirm: {
            title: { type: 'plain_text', text: 'Deny this request?' },
            text: { type: 'plain_text', text: 'The step will not run.' },
            confirm: { type: 'plain_text', text: 'Deny' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Request \`${escapeMrkdwn(request.id)}\` · CLI: \`jitgate approve ${escapeMrkdwn(request.id)}\`${pageUrl === undefined ? '' : ` · <${pageUrl}|open the web page>`}`,
      },
    ],
  });
  // The fallback text shows in notifications and on clients without blocks: escaped like the blocks.
  const glass = request.breakGlass;
  const text = glass
    ? `${headline(request)} on ${request.id} for ${request.resource} by ${glass.name}: ${glass.reason}`
    : `Access request ${request.id} for ${request.resource} by ${request.context.actor}: ${statusText(request)}`;
  return { text: escapeClipped(text, 3000), blocks };
}
