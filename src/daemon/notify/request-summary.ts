import { channelLabel } from '../../common/decision-text.js';
import { formatDuration } from '../../common/duration.js';
import type { RequestView } from '../../model/request.js';

/** Label/value lines every channel shows, in the order approvers read them. */
export function contextLines(request: RequestView, nowMs: number): [label: string, value: string][] {
  const c = request.context;
  const lines: [string, string][] = [
    ['Resource', request.resource],
    ['Repository', c.repository],
    ['Ref', c.ref],
    ['Commit', c.sha],
  ];
  if (c.workflow) lines.push(['Workflow', c.workflow]);
  if (c.runUrl) lines.push(['Run', c.runUrl]);
  lines.push(['Environment', c.environment], ['Requested by', c.actor], ['Reason', request.reason], ['TTL', formatDuration(request.ttlMs)]);
  if (c.trust === 'local') lines.push(['Trust', 'LOCAL (self-asserted context, development only)']);
  if (c.fork) lines.push(['Fork', c.sourceRepository ?? 'yes']);
  lines.push(['Approvals', approvalsText(request)]);
  const glass = request.breakGlass;
  if (glass) {
    lines.push(['BREAK-GLASS', `by ${glass.name} (${glass.trust}): ${glass.reason}`]);
    const review = glass.review;
    lines.push(['Review', review ? `${review.verdict} by ${review.name}${review.note ? `: ${review.note}` : ''}` : `needed: jitgate review ${request.id} --ok | --concern "..."`]);
  }
  if (request.status === 'pending') {
    lines.push(['Approvers', request.approvers.join(', ') || '-'], ['Time left', formatDuration(Math.max(0, request.expiresAt - nowMs))]);
  }
  return lines;
}

export function approvalsText(request: RequestView): string {
  const approvedBy = request.approvals.filter((a) => a.decision === 'approve').map((a) => `${a.name} (${channelLabel(a)})`);
  const count = `${approvedBy.length} of ${request.approvalsRequired}`;
  return approvedBy.length > 0 ? `${count}: ${approvedBy.join(', ')}` : count;
}

/** One-line outcome, e.g. "GRANTED", "DENIED: denied by bob (CLI): not now". */
export function statusText(request: RequestView): string {
  const label = request.status.toUpperCase();
  return request.statusReason ? `${label}: ${request.statusReason}` : label;
}
