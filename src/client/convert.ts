import type { ApproverIdentity, RequestContext } from '../model/context.js';
import { APPROVAL_CHANNELS, channelFromTrust, type ApprovalChannel, type ApprovalView, type BreakGlassView, type RequestStatus } from '../model/request.js';
import type { BreakGlass__Output } from '../generated/jitgate/v1/BreakGlass.js';
import type { Context__Output } from '../generated/jitgate/v1/Context.js';
import type { Request__Output } from '../generated/jitgate/v1/Request.js';
import type { State__Output } from '../generated/jitgate/v1/State.js';
import { JitgateError } from '../common/errors.js';
import { stateToStatus } from '../model/wire-state.js';
import type { RequestInfo } from './types.js';

export { STATUS_TO_STATE } from '../model/wire-state.js';

export function toStatus(state: State__Output): RequestStatus {
  const status = stateToStatus(state);
  if (!status) throw new JitgateError(`jitgated sent an unknown state ${state}`);
  return status;
}

/** Empty proto3 strings mean "absent": dropping them keeps optional fields optional. */
function opt<K extends string>(key: K, value: string): Partial<Record<K, string>> {
  return value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

function toContext(c: Context__Output | null): RequestContext {
  const w = c ?? ({} as Partial<Context__Output>);
  return {
    trust: w.trust === 'oidc' ? 'oidc' : 'local',
    repository: w.repository ?? '',
    ref: w.ref ?? '',
    sha: w.sha ?? '',
    actor: w.actor ?? '',
    environment: w.environment ?? '',
    fork: w.fork ?? false,
    ...opt('issuer', w.issuer ?? ''),
    ...opt('repositoryId', w.repositoryId ?? ''),
    ...opt('repositoryOwnerId', w.repositoryOwnerId ?? ''),
    ...opt('refType', w.refType ?? ''),
    ...opt('actorId', w.actorId ?? ''),
    ...opt('commitAuthor', w.commitAuthor ?? ''),
    ...opt('workflow', w.workflow ?? ''),
    ...opt('event', w.event ?? ''),
    ...opt('runnerEnvironment', w.runnerEnvironment ?? ''),
    ...opt('runId', w.runId ?? ''),
    ...opt('runAttempt', w.runAttempt ?? ''),
    ...opt('runUrl', w.runUrl ?? ''),
    ...opt('sourceRepository', w.sourceRepository ?? ''),
  };
}

function toTrust(trust: string): ApproverIdentity['trust'] {
  return trust === 'idp' || trust === 'slack' || trust === 'webhook' ? trust : 'local';
}

function toBreakGlass(b: BreakGlass__Output | null): { breakGlass?: BreakGlassView } {
  if (b === null || b.name === '') return {};
  const reviewed = b.reviewedBy !== '' && (b.reviewVerdict === 'ok' || b.reviewVerdict === 'concern');
  return {
    breakGlass: {
      subject: b.subject,
      name: b.name,
      trust: toTrust(b.trust),
      reason: b.reason,
      at: Number(b.atMs),
      ...(reviewed && {
        review: {
          subject: b.reviewerSubject,
          name: b.reviewedBy,
          trust: toTrust(b.reviewerTrust),
          verdict: b.reviewVerdict === 'ok' ? 'ok' : 'concern',
          at: Number(b.reviewedAtMs),
          ...opt('note', b.reviewNote),
        },
      }),
    },
  };
}

export function toRequestInfo(r: Request__Output | null): RequestInfo {
  if (!r) throw new JitgateError('jitgated sent an update without its request');
  return {
    id: r.id,
    resource: r.resource,
    reason: r.reason,
    context: toContext(r.context),
    ttlMs: r.ttlSeconds * 1000,
    status: toStatus(r.status),
    rule: r.rule === '' ? null : r.rule,
    approvalsRequired: r.approvalsRequired,
    approvers: r.approvers,
    approvals: r.approvals.map((a) => {
      const trust = toTrust(a.trust);
      // An older daemon sends no channel: judge by trust, as the daemon does for its old records.
      const channel = APPROVAL_CHANNELS.has(a.channel) ? (a.channel as ApprovalChannel) : channelFromTrust(trust);
      return {
      subject: a.subject,
      name: a.name,
      trust,
      channel,
      decision: a.decision === 'approve' ? 'approve' : 'deny',
      at: Number(a.atMs),
      ...opt('comment', a.comment),
    } satisfies ApprovalView;
    }),
    createdAt: Number(r.createdAtMs),
    expiresAt: Number(r.expiresAtMs),
    ...opt('statusReason', r.statusReason),
    ...opt('grantId', r.grantId),
    ...toBreakGlass(r.breakGlass),
  };
}
