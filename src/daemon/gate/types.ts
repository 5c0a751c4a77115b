import type { ApproverIdentity } from '../../model/context.js';
import type { AccessInput, AccessUpdate, ApprovalChannel, BreakGlassView, RequestStatus, RequestView } from '../../model/request.js';

/** What comes with a decision besides who decides. */
export interface DecisionOptions {
  /** The approver's comment (an approval's; a denial's reason is its own argument). */
  readonly comment?: string;
  /** The edge the decision entered through; judged from the approver's trust when absent. */
  readonly channel?: ApprovalChannel;
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

  /** `needsReview`: only break-glass grants nobody has reviewed yet. */
  listRequests(filter: { readonly statuses?: readonly RequestStatus[]; readonly needsReview?: boolean }): Promise<RequestView[]>;
  getRequest(id: string): Promise<RequestView>;
  /** Yields every current pending request, then each change to any request, until `signal` aborts. */
  watchRequests(signal: AbortSignal): AsyncIterable<RequestView>;
  /** Throws NotFoundError, PermissionDeniedError (not allowed / self-approval), ConflictError (final). */
  approve(id: string, approver: ApproverIdentity, options?: DecisionOptions): Promise<RequestView>;
  deny(id: string, approver: ApproverIdentity, reason: string, options?: Pick<DecisionOptions, 'channel'>): Promise<RequestView>;
  /**
   * Grants a pending request without quorum, for a member of the rule's break-glass groups.
   * Throws InvalidArgumentError (reason under 10 characters), PermissionDeniedError
   * (BREAK_GLASS_NOT_ALLOWED, SELF_APPROVAL), NotFoundError, ConflictError (final).
   */
  breakGlass(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView>;
  /** Reviews a break-glass grant once. Throws PermissionDeniedError (SELF_REVIEW, NOT_AN_APPROVER), ConflictError (NOT_BREAK_GLASS, ALREADY_REVIEWED). */
  review(id: string, reviewer: ApproverIdentity, verdict: 'ok' | 'concern', note?: string): Promise<BreakGlassView>;
}

/** Establishes who is approving, from transport metadata (already lower-cased header names). */
export interface ApproverResolver {
  /** Throws IdentityError when no acceptable identity is presented. */
  resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity>;
}
