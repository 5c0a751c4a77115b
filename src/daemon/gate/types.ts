import type { ApproverIdentity, ClaimedContext, RequestContext } from '../../common/context.js';

/** Lifecycle of an access request. `granted` ends in `released` (normal) or `revoked` (daemon-side). */
export type RequestStatus = 'pending' | 'approved' | 'granted' | 'released' | 'denied' | 'expired';

export const FINAL_STATUSES: ReadonlySet<RequestStatus> = new Set(['released', 'denied', 'expired']);

export interface ApprovalView {
  readonly subject: string;
  readonly name: string;
  readonly trust: ApproverIdentity['trust'];
  readonly decision: 'approve' | 'deny';
  readonly comment?: string;
  /** Wall-clock epoch ms. */
  readonly at: number;
}

/** What approvers (and the requester's progress display) see of a request. Never holds credentials. */
export interface RequestView {
  readonly id: string;
  readonly resource: string;
  readonly reason: string;
  readonly context: RequestContext;
  readonly ttlMs: number;
  readonly status: RequestStatus;
  /** Why it is in a final state (`shutdown`, `expired`, the policy rule, a denier's reason, ...). */
  readonly statusReason?: string;
  /** The deciding policy rule; null when no rule matched (default deny). */
  readonly rule: string | null;
  readonly approvalsRequired: number;
  /** Principals allowed to approve right now (`group:sre`, `user:bob`), including escalations so far. */
  readonly approvers: readonly string[];
  readonly approvals: readonly ApprovalView[];
  /** Wall-clock epoch ms. */
  readonly createdAt: number;
  /** Wall-clock epoch ms at which a pending request expires; 0 when not pending. */
  readonly expiresAt: number;
  readonly grantId?: string;
}

/** Credentials as handed to the step: env var name → value. Secret; never logged. */
export type Credentials = Readonly<Record<string, string>>;

export interface GrantHandle {
  readonly id: string;
  /** Random nonce that authorises Release of this grant. Not a Vault secret. */
  readonly releaseToken: string;
  readonly credentials: Credentials;
  readonly ttlMs: number;
  /** Wall-clock epoch ms. */
  readonly expiresAt: number;
}

export type AccessUpdate =
  | { readonly kind: 'pending'; readonly request: RequestView }
  | { readonly kind: 'approved'; readonly request: RequestView }
  | { readonly kind: 'granted'; readonly request: RequestView; readonly grant: GrantHandle }
  | { readonly kind: 'released'; readonly request: RequestView }
  | { readonly kind: 'denied'; readonly request: RequestView; readonly reason: string }
  | { readonly kind: 'expired'; readonly request: RequestView; readonly reason: string };

export interface AccessInput {
  readonly resource: string;
  readonly reason: string;
  /** Requested TTL; the resource's default when absent. */
  readonly ttlMs?: number;
  /** The CI's OIDC token; required unless local trust mode is on. */
  readonly idToken?: string;
  /** Context fields the client claims; compared with verified values, never trusted. */
  readonly claimed: ClaimedContext;
}

/**
 * The gate: everything between the transport and the parts (identity, policy, approvals, Vault,
 * state, audit). The gRPC layer only translates messages and maps errors to statuses.
 */
export interface Gate {
  /**
   * Starts a request and yields its progress. After `granted` the iterable stays open until the
   * grant is released (yields `released`, then ends). Aborting `signal` (the step's stream broke)
   * cancels a pending request or revokes a live grant.
   * Throws (before the first update) InvalidArgumentError, IdentityError, ResourceExhaustedError,
   * UnavailableError.
   */
  requestAccess(input: AccessInput, signal: AbortSignal): AsyncIterable<AccessUpdate>;
  /** Revokes a live grant. Throws NotFoundError, PermissionDeniedError (bad release token). */
  release(grantId: string, releaseToken: string): Promise<void>;

  listRequests(filter: { readonly statuses?: readonly RequestStatus[] }): Promise<RequestView[]>;
  getRequest(id: string): Promise<RequestView>;
  /** Yields every current pending request, then each change to any request, until `signal` aborts. */
  watchRequests(signal: AbortSignal): AsyncIterable<RequestView>;
  /** Throws NotFoundError, PermissionDeniedError (not allowed / self-approval), ConflictError (final). */
  approve(id: string, approver: ApproverIdentity, comment?: string): Promise<RequestView>;
  deny(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView>;
}

/** Establishes who is asking: the verified context of a request. */
export interface ContextResolver {
  /** Throws IdentityError (bad token), PermissionDeniedError (claimed ≠ verified), InvalidArgumentError. */
  resolve(idToken: string | undefined, claimed: ClaimedContext): Promise<RequestContext>;
}

/** Establishes who is approving, from transport metadata (already lower-cased header names). */
export interface ApproverResolver {
  /** Throws IdentityError when no acceptable identity is presented. */
  resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity>;
}
