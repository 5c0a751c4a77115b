import type { RequestContext } from '../../model/context.js';
import { InvalidArgumentError, UnavailableError } from '../../common/errors.js';
import type { RequireSpec } from '../config/types.js';
import { APPROVAL_CHANNELS, channelFromTrust, type BreakGlassReview, type BreakGlassView, type RequestStatus } from '../../model/request.js';
import type { GrantStatus, StoredApproval, StoredGrant, StoredRequest } from './store.js';

/**
 * Row ↔ record mapping shared by the SQL stores. Column names are the same in SQLite and
 * PostgreSQL; JSON columns arrive as text from SQLite and already parsed from PostgreSQL JSONB.
 * Anything that does not decode is reported as an unavailable store rather than passed on: a
 * half-understood row must never drive a decision.
 */

export interface RequestRow {
  readonly id: string;
  readonly resource: string;
  readonly reason: string;
  readonly context: unknown;
  readonly claimed: unknown;
  readonly ttl_ms: number | string;
  readonly status: string;
  readonly status_reason: string | null;
  readonly rule: string | null;
  readonly require: unknown;
  readonly created_at: number | string;
  readonly expires_at: number | string;
  readonly updated_at: number | string;
  /** PostgreSQL only: the fleet node that owns the request ('' on a single host). */
  readonly owner_node?: string;
}

export interface ApprovalRow {
  readonly request_id: string;
  readonly subject: string;
  readonly name: string;
  readonly trust: string;
  readonly decision: string;
  readonly comment: string | null;
  readonly at: number | string;
  /** NULL for rows stored before channels were recorded. */
  readonly channel?: string | null;
  /** PostgreSQL only: the approver's groups when the decision was recorded (every_group across a fleet). */
  readonly groups?: unknown;
  /** PostgreSQL only: what the approver approved (fleet.mint: plane checks it). */
  readonly request_digest?: string | null;
}

export interface GrantRow {
  readonly id: string;
  readonly request_id: string;
  readonly resource: string;
  readonly accessor: string | null;
  readonly lease_ids: unknown;
  readonly status: string;
  readonly created_at: number | string;
  readonly expires_at: number | string;
  readonly updated_at: number | string;
}

const REQUEST_STATUSES: ReadonlySet<string> = new Set<RequestStatus>(['pending', 'approved', 'granted', 'released', 'denied', 'expired']);
const GRANT_STATUSES: ReadonlySet<string> = new Set<GrantStatus>(['minting', 'live', 'revoking', 'revoked', 'revoke_failed']);
const APPROVER_TRUST: ReadonlySet<string> = new Set<StoredApproval['trust']>(['local', 'idp', 'slack', 'webhook']);

export function isRequestStatus(value: string): value is RequestStatus {
  return REQUEST_STATUSES.has(value);
}

export function isGrantStatus(value: string): value is GrantStatus {
  return GRANT_STATUSES.has(value);
}

function corrupt(what: string): UnavailableError {
  return new UnavailableError(`state store: stored ${what} does not decode`);
}

function json(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new UnavailableError(`state store: stored ${what} is not valid JSON`, { cause: err });
  }
}

function object(value: unknown, what: string): object {
  const parsed = json(value, what);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(what);
  return parsed;
}

/** BIGINT columns come back from `pg` as strings; epoch milliseconds fit a double exactly. */
function int(value: number | string, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw corrupt(what);
  return n;
}

export function decodeRequest(row: RequestRow): StoredRequest {
  if (!isRequestStatus(row.status)) throw corrupt(`status of request ${row.id}`);
  const require = row.require === null ? undefined : (object(row.require, 'request.require') as RequireSpec);
  return {
    id: row.id,
    resource: row.resource,
    reason: row.reason,
    context: object(row.context, 'request.context') as RequestContext,
    claimed: object(row.claimed, 'request.claimed'),
    ttlMs: int(row.ttl_ms, 'request.ttl_ms'),
    status: row.status,
    ...(row.status_reason === null ? {} : { statusReason: row.status_reason }),
    rule: row.rule,
    ...(require === undefined ? {} : { require }),
    createdAt: int(row.created_at, 'request.created_at'),
    expiresAt: int(row.expires_at, 'request.expires_at'),
    updatedAt: int(row.updated_at, 'request.updated_at'),
    ...(row.owner_node ? { ownerNode: row.owner_node } : {}),
  };
}

export function decodeApproval(row: ApprovalRow): StoredApproval {
  if (!APPROVER_TRUST.has(row.trust)) throw corrupt('approval.trust');
  if (row.decision !== 'approve' && row.decision !== 'deny') throw corrupt('approval.decision');
  const trust = row.trust as StoredApproval['trust'];
  const channel = row.channel ?? null;
  if (channel !== null && !APPROVAL_CHANNELS.has(channel)) throw corrupt('approval.channel');
  return {
    requestId: row.request_id,
    subject: row.subject,
    name: row.name,
    trust,
    channel: channel === null ? channelFromTrust(trust) : (channel as StoredApproval['channel']),
    decision: row.decision,
    ...(row.comment === null ? {} : { comment: row.comment }),
    at: int(row.at, 'approval.at'),
    ...(Array.isArray(row.groups) && row.groups.every((g) => typeof g === 'string') ? { groups: row.groups } : {}),
    ...(typeof row.request_digest === 'string' ? { requestDigest: row.request_digest } : {}),
  };
}

export function decodeGrant(row: GrantRow): StoredGrant {
  if (!isGrantStatus(row.status)) throw corrupt(`status of grant ${row.id}`);
  const leaseIds = json(row.lease_ids, 'grant.lease_ids');
  if (!Array.isArray(leaseIds) || !leaseIds.every((l): l is string => typeof l === 'string')) {
    throw corrupt('grant.lease_ids');
  }
  return {
    id: row.id,
    requestId: row.request_id,
    resource: row.resource,
    accessor: row.accessor,
    leaseIds,
    status: row.status,
    createdAt: int(row.created_at, 'grant.created_at'),
    expiresAt: int(row.expires_at, 'grant.expires_at'),
    updatedAt: int(row.updated_at, 'grant.updated_at'),
  };
}

/** Epoch milliseconds and durations are stored as integers; anything else is a caller bug. */
export function checkInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(field, 'must be an integer number of milliseconds');
  }
  return value;
}

export interface BreakGlassRow {
  readonly request_id: string;
  readonly record: unknown;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw corrupt(what);
  return value;
}

function optionalText(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : text(value, what);
}

function reviewOf(value: unknown): BreakGlassReview | undefined {
  if (value === undefined) return undefined;
  const r = object(value, 'break-glass review') as Record<string, unknown>;
  if (!APPROVER_TRUST.has(String(r.trust))) throw corrupt('break-glass review trust');
  if (r.verdict !== 'ok' && r.verdict !== 'concern') throw corrupt('break-glass review verdict');
  const note = optionalText(r.note, 'break-glass review note');
  return {
    subject: text(r.subject, 'break-glass reviewer'),
    name: text(r.name, 'break-glass reviewer name'),
    trust: r.trust as BreakGlassReview['trust'],
    verdict: r.verdict,
    ...(note !== undefined && { note }),
    at: int(typeof r.at === 'number' ? r.at : Number.NaN, 'break-glass review at'),
  };
}

/** A stored break-glass record (JSON), checked field by field: it names who granted without quorum. */
export function decodeBreakGlass(row: BreakGlassRow): BreakGlassView {
  const r = object(row.record, `break-glass record of ${row.request_id}`) as Record<string, unknown>;
  if (!APPROVER_TRUST.has(String(r.trust))) throw corrupt('break-glass trust');
  const review = reviewOf(r.review);
  return {
    subject: text(r.subject, 'break-glass subject'),
    name: text(r.name, 'break-glass name'),
    trust: r.trust as BreakGlassView['trust'],
    reason: text(r.reason, 'break-glass reason'),
    at: int(typeof r.at === 'number' ? r.at : Number.NaN, 'break-glass at'),
    ...(review !== undefined && { review }),
  };
}
