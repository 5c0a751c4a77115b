import type { ApprovalView } from '../model/request.js';

const CHANNEL_LABELS = { cli: 'CLI', web: 'web', slack: 'Slack', webhook: 'webhook' } as const;

/** How a decision's channel reads in text: `CLI`, `web`, `Slack`, `webhook`; an old record shows its trust. */
export function channelLabel(approval: Pick<ApprovalView, 'channel' | 'trust'>): string {
  return approval.channel === 'unknown' ? approval.trust : CHANNEL_LABELS[approval.channel];
}

/**
 * One decider as the requester reads it: `bob (CLI)`, with a comment `bob (CLI): "ship it"`. The
 * comment is quoted JSON-style so a comma or quote in it cannot pass for another approver. Raw text:
 * whoever shows it escapes it for its medium (`displayText` for terminals, mrkdwn for Slack).
 */
export function decider(approval: Pick<ApprovalView, 'name' | 'channel' | 'trust' | 'comment'>, withComment: boolean): string {
  const who = `${approval.name} (${channelLabel(approval)})`;
  return withComment && approval.comment ? `${who}: ${JSON.stringify(approval.comment)}` : who;
}

/** `alice (Slack), bob (CLI): "ship it"`: each approver once, in the order they approved. */
export function approverSummary(approvals: readonly ApprovalView[], withComments: boolean): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const a of approvals) {
    if (a.decision !== 'approve' || seen.has(a.subject)) continue;
    seen.add(a.subject);
    parts.push(decider(a, withComments));
  }
  return parts.join(', ');
}
