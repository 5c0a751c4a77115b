import type { RequestView } from '../../model/request.js';
import { contextLines, statusText } from './request-summary.js';

export const APPROVE_ACTION = 'jitgate_approve';
export const DENY_ACTION = 'jitgate_deny';

/** Slack treats `<...>` as links and mentions (`<!channel>`): text from CI must not be able to ping or link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function runLink(url: string): string {
  const safe = /^https?:\/\/[^\s|<>]+$/.test(url);
  return safe ? `<${url}|open run>` : escapeMrkdwn(url);
}

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

/** The Block Kit message for a request; buttons only while it is pending. */
export function renderSlackMessage(request: RequestView, nowMs: number, pageUrl?: string): SlackMessage {
  const details = contextLines(request, nowMs)
    .map(([label, value]) => `*${label}:* ${label === 'Run' ? runLink(value) : escapeMrkdwn(clip(value, 300))}`)
    .join('\n');
  const pending = request.status === 'pending';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Access request: ${request.resource}`, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(details, 2900) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Status:* ${escapeMrkdwn(clip(statusText(request), 500))}` } },
  ];
  if (pending) {
    blocks.push({
      type: 'actions',
      block_id: 'jitgate_decision',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: request.id },
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
  const text = `Access request ${request.id} for ${request.resource} by ${request.context.actor}: ${statusText(request)}`;
  return { text: clip(text, 3000), blocks };
}
