import { approverSummary, channelLabel } from '../common/decision-text.js';
import { displayText } from '../common/display-text.js';
import { formatDuration } from '../common/duration.js';
import type { AccessProgress, RequestInfo } from '../client/types.js';
import type { BreakGlassView } from '../model/request.js';

function approvalsSoFar(r: RequestInfo): number {
  return new Set(r.approvals.filter((a) => a.decision === 'approve').map((a) => a.subject)).size;
}

function breakGlassText(b: BreakGlassView): string {
  return `by ${b.name} (${b.trust}): ${b.reason}`;
}

function reviewText(b: BreakGlassView): string {
  const r = b.review;
  if (r === undefined) return 'NEEDS REVIEW: jitgate review <id> --ok | --concern "..."';
  return `reviewed ${r.verdict} by ${r.name} (${r.trust}) at ${new Date(r.at).toISOString()}${r.note ? `: ${r.note}` : ''}`;
}

function timeLeft(r: RequestInfo, now: number): string {
  return r.expiresAt > 0 ? formatDuration(Math.max(0, r.expiresAt - now)) : '-';
}

/**
 * One stderr line per progress change of `jitgate run`; never includes credentials. Every formatter
 * here passes its lines through `displayText`: a branch or reason with bidi or zero-width characters
 * shows them as `<U+202E>` instead of reordering the terminal line.
 */
export function formatProgress(p: AccessProgress, now: number): string {
  return displayText(progressLine(p, now));
}

function progressLine(p: AccessProgress, now: number): string {
  const r = p.request;
  switch (p.state) {
    case 'pending': {
      const from = r.approvers.length > 0 ? ` from ${r.approvers.join(', ')}` : '';
      return (
        `jitgate: request ${r.id} for ${r.resource} is waiting for ${r.approvalsRequired} approval(s)${from}; ` +
        `${approvalsSoFar(r)}/${r.approvalsRequired} so far; expires in ${timeLeft(r, now)}. ` +
        `Approve with: jitgate approve ${r.id}`
      );
    }
    case 'approved': {
      if (r.breakGlass) return `jitgate: request ${r.id} granted by BREAK-GLASS (${breakGlassText(r.breakGlass)}), without approvals; minting credentials`;
      // Who approved, through which channel, with what comment: the requester's answer to "who let this run?".
      const by = approverSummary(r.approvals, true);
      return `jitgate: request ${r.id} approved (${approvalsSoFar(r)}/${r.approvalsRequired})${by ? ` by ${by}` : ''}; minting credentials`;
    }
    case 'granted':
      return `jitgate: request ${r.id} granted ${r.resource} for ${formatDuration(r.ttlMs)}`;
    default:
      return `jitgate: request ${r.id} ${p.state}${p.reason ? `: ${p.reason}` : ''}`;
  }
}

/** One line for `list` and `watch`. */
export function formatRequestLine(r: RequestInfo, now: number): string {
  const c = r.context;
  const line = [
    r.id,
    r.status,
    r.resource,
    `${c.repository}@${c.ref}`,
    `by ${c.actor}`,
    `approvals ${approvalsSoFar(r)}/${r.approvalsRequired}`,
    r.status === 'pending' ? `expires in ${timeLeft(r, now)}` : (r.statusReason ?? ''),
    r.breakGlass ? (r.breakGlass.review ? `BREAK-GLASS reviewed ${r.breakGlass.review.verdict}` : 'BREAK-GLASS, needs review') : '',
  ]
    .filter((s) => s !== '')
    .join('  ');
  return displayText(line);
}

/** The full view for `show`: verified context, approvers, approvals, time left. */
export function formatRequestDetails(r: RequestInfo, now: number): string {
  const c = r.context;
  const lines = [
    `request   ${r.id}`,
    `status    ${r.status}${r.statusReason ? ` (${r.statusReason})` : ''}`,
    `resource  ${r.resource} for ${formatDuration(r.ttlMs)}`,
    `reason    ${r.reason}`,
    `rule      ${r.rule ?? '(none: default deny)'}`,
    `context   trust=${c.trust}${c.issuer ? ` issuer=${c.issuer}` : ''}`,
  ];
  const fields: [string, string | undefined][] = [
    ['repository', c.repository + (c.repositoryId ? ` (id ${c.repositoryId})` : '')],
    ['ref', c.ref + (c.refType ? ` (${c.refType})` : '')],
    ['sha', c.sha],
    ['actor', c.actor],
    ['commit author', c.commitAuthor],
    ['environment', c.environment],
    ['workflow', c.workflow],
    ['event', c.event],
    ['run', c.runUrl],
    ['fork', c.fork ? `yes (from ${c.sourceRepository ?? 'unknown'})` : undefined],
  ];
  for (const [label, value] of fields) if (value) lines.push(`  ${label.padEnd(14)}${value}`);
  lines.push(`approvers ${r.approvalsRequired} of ${r.approvers.join(', ') || '(none)'}; ${approvalsSoFar(r)} so far`);
  for (const a of r.approvals) {
    lines.push(`  ${a.decision} by ${a.name} (${channelLabel(a)}, trust ${a.trust}) at ${new Date(a.at).toISOString()}${a.comment ? `: ${a.comment}` : ''}`);
  }
  if (r.breakGlass) {
    lines.push(`BREAK-GLASS ${breakGlassText(r.breakGlass)} at ${new Date(r.breakGlass.at).toISOString()}`);
    lines.push(`  ${reviewText(r.breakGlass).replace('<id>', r.id)}`);
  }
  lines.push(`created   ${new Date(r.createdAt).toISOString()}`);
  if (r.status === 'pending') lines.push(`expires   in ${timeLeft(r, now)}`);
  if (r.grantId) lines.push(`grant     ${r.grantId}`);
  return lines.map(displayText).join('\n');
}
