import type { RequestContext } from '../../model/context.js';
import { STATUS_TO_STATE } from '../../model/wire-state.js';
import type { AccessUpdate, BreakGlassView, RequestView } from '../../model/request.js';
import type { BreakGlass } from '../../generated/jitgate/v1/BreakGlass.js';
import type { AccessUpdate as WireAccessUpdate } from '../../generated/jitgate/v1/AccessUpdate.js';
import type { Context } from '../../generated/jitgate/v1/Context.js';
import type { Request } from '../../generated/jitgate/v1/Request.js';

/**
 * An epoch-ms value for an int64 field. Views derive a pending request's expiry from the monotonic
 * clock (`performance.now()`, fractional), and protobufjs parses a decimal string with a fraction
 * into a garbage Long (1796289669507.51 → 1796289600069507002): whole milliseconds only.
 */
function wireMs(ms: number): string {
  return Number.isFinite(ms) ? String(Math.floor(ms)) : '0';
}

function toWireContext(c: RequestContext): Context {
  return {
    trust: c.trust,
    issuer: c.issuer ?? '',
    repository: c.repository,
    repositoryId: c.repositoryId ?? '',
    repositoryOwnerId: c.repositoryOwnerId ?? '',
    ref: c.ref,
    refType: c.refType ?? '',
    sha: c.sha,
    actor: c.actor,
    actorId: c.actorId ?? '',
    commitAuthor: c.commitAuthor ?? '',
    environment: c.environment,
    workflow: c.workflow ?? '',
    event: c.event ?? '',
    runnerEnvironment: c.runnerEnvironment ?? '',
    runId: c.runId ?? '',
    runAttempt: c.runAttempt ?? '',
    runUrl: c.runUrl ?? '',
    fork: c.fork,
    sourceRepository: c.sourceRepository ?? '',
  };
}

export function toWireRequest(view: RequestView): Request {
  return {
    id: view.id,
    resource: view.resource,
    reason: view.reason,
    context: toWireContext(view.context),
    status: STATUS_TO_STATE[view.status],
    statusReason: view.statusReason ?? '',
    rule: view.rule ?? '',
    approvalsRequired: view.approvalsRequired,
    approvers: [...view.approvers],
    approvals: view.approvals.map((a) => ({
      subject: a.subject,
      name: a.name,
      trust: a.trust,
      channel: a.channel,
      decision: a.decision,
      comment: a.comment ?? '',
      atMs: wireMs(a.at),
    })),
    createdAtMs: wireMs(view.createdAt),
    expiresAtMs: wireMs(view.expiresAt),
    ttlSeconds: Math.ceil(view.ttlMs / 1000),
    grantId: view.grantId ?? '',
    ...(view.breakGlass !== undefined && { breakGlass: toWireBreakGlass(view.breakGlass) }),
  };
}

function toWireBreakGlass(b: BreakGlassView): BreakGlass {
  return {
    subject: b.subject,
    name: b.name,
    trust: b.trust,
    reason: b.reason,
    atMs: wireMs(b.at),
    reviewedBy: b.review?.name ?? '',
    reviewerSubject: b.review?.subject ?? '',
    reviewerTrust: b.review?.trust ?? '',
    reviewVerdict: b.review?.verdict ?? '',
    reviewNote: b.review?.note ?? '',
    reviewedAtMs: b.review === undefined ? '0' : wireMs(b.review.at),
  };
}

/** The only place credentials are put on the wire: the GRANTED update to the requesting step. */
export function toWireUpdate(update: AccessUpdate): WireAccessUpdate {
  const base = { state: STATUS_TO_STATE[update.kind], request: toWireRequest(update.request) };
  switch (update.kind) {
    case 'granted':
      return {
        ...base,
        grant: {
          grantId: update.grant.id,
          releaseToken: update.grant.releaseToken,
          credentials: { ...update.grant.credentials },
          expiresAtMs: wireMs(update.grant.expiresAt),
          ttlSeconds: Math.ceil(update.grant.ttlMs / 1000),
        },
      };
    case 'denied':
    case 'expired':
      return { ...base, reason: update.reason };
    default:
      return base;
  }
}
