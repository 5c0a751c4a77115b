import type { ApproverIdentity } from '../../model/context.js';
import { channelLabel } from '../../common/decision-text.js';
import { displayText } from '../../common/display-text.js';
import { formatDuration } from '../../common/duration.js';
import type { RequestView } from '../../model/request.js';
import { html, layout, raw, type SafeHtml } from './html.js';
import type { Flash } from './session-store.js';

export interface RequestPageInput {
  readonly request: RequestView;
  readonly nowMs: number;
  /** The signed-in approver, if any. */
  readonly identity?: ApproverIdentity;
  readonly csrf?: string;
  readonly flash?: Flash;
  /** Where "Sign in" goes. */
  readonly signInUrl: string;
}

function runLink(url: string | undefined): SafeHtml | string {
  if (url === undefined || url === '') return '—';
  // Only http(s) becomes a link: a `javascript:` URL from a crafted token stays inert text.
  // Nor does one holding bidi or invisible characters: its text would not be the address it opens.
  if (!/^https?:\/\//i.test(url) || displayText(url) !== url) return url;
  return html`<a href="${url}" rel="noreferrer noopener">${url}</a>`;
}

function row(label: string, value: SafeHtml | string | undefined): SafeHtml {
  return html`<tr><th>${label}</th><td>${value === undefined || value === '' ? '—' : value}</td></tr>`;
}

function timeLeft(request: RequestView, nowMs: number): string {
  if (request.status !== 'pending' || request.expiresAt === 0) return '—';
  const left = request.expiresAt - nowMs;
  if (left <= 0) return 'expiring now';
  return `${formatDuration(Math.ceil(left / 1000) * 1000)} (until ${new Date(request.expiresAt).toISOString()})`;
}

export function renderRequestPage(input: RequestPageInput): string {
  const { request: r, identity } = input;
  const c = r.context;
  const approvals = r.approvals.map(
    (a) => html`<li><strong>${a.decision === 'approve' ? 'approved' : 'denied'}</strong> by ${a.name} <code>(${channelLabel(a)})</code> at ${new Date(a.at).toISOString()}${a.comment ? html` — ${a.comment}` : ''}</li>`,
  );
  const link = input.flash?.link;
  const flash = input.flash
    ? html`<p class="flash flash-${input.flash.kind}" role="status">${input.flash.text}${link ? html` <a href="${link.href}">${link.text}</a>` : raw('')}</p>`
    : raw('');
  let actions: SafeHtml;
  if (identity === undefined) {
    actions = html`<p><a class="button" href="${input.signInUrl}">Sign in to approve or deny</a></p>`;
  } else if (r.status === 'pending' && input.csrf !== undefined) {
    const base = `/requests/${encodeURIComponent(r.id)}`;
    actions = html`<div>
<form method="post" action="${base}/approve"><input type="hidden" name="csrf" value="${input.csrf}">
<label>Comment (optional)<textarea name="comment" maxlength="500"></textarea></label><button type="submit">Approve</button></form>
<form method="post" action="${base}/deny"><input type="hidden" name="csrf" value="${input.csrf}">
<label>Reason (required)<textarea name="reason" maxlength="500" required></textarea></label><button type="submit" class="deny">Deny</button></form>
</div>`;
  } else {
    actions = raw('');
  }
  const who = identity ? html`<p class="who">Signed in as ${identity.name} (${identity.subject})${identity.groups.length > 0 ? html`, groups: ${identity.groups.join(', ')}` : ''}.</p>` : raw('');
  const body = html`<h1>Access request <code>${r.id}</code></h1>
<p class="sub">${c.repository} wants <strong>${r.resource}</strong> — <span class="status status-${r.status}">${r.status}</span>${r.statusReason ? html` (${r.statusReason})` : ''}</p>
${flash}
<table>
${row('Resource', r.resource)}
${row('Repository', c.repository)}
${row('Ref', html`<code>${c.ref}</code>`)}
${row('Commit', html`<code>${c.sha}</code>`)}
${row('Workflow', c.workflow)}
${row('Run', runLink(c.runUrl))}
${row('Environment', c.environment)}
${row('Requested by', c.actor)}
${row('Reason', r.reason)}
${row('TTL', formatDuration(r.ttlMs))}
${row('Identity', c.trust === 'local' ? 'self-asserted (local mode, unverified)' : `verified by ${c.issuer ?? 'CI token'}`)}
${row('Policy rule', r.rule ?? '(none)')}
${row('Approvals', `${String(r.approvals.filter((a) => a.decision === 'approve').length)} of ${String(r.approvalsRequired)} needed from ${r.approvers.join(', ') || '—'}`)}
${row('Time left', timeLeft(r, input.nowMs))}
</table>
${approvals.length > 0 ? html`<ul>${approvals}</ul>` : raw('')}
${actions}
${who}`;
  return layout(`jitgate ${r.id}`, body);
}

export function renderMessagePage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`);
}
