import type { ErrorCode } from './error-codes.js';
import type { ApproverIdentity, ClaimedContext, RequestContext } from './context.js';

/** Lifecycle of an access request. `granted` ends in `released` (normal) or `revoked` (daemon-side). */
export type RequestStatus = 'pending' | 'approved' | 'granted' | 'released' | 'denied' | 'expired';

export const FINAL_STATUSES: ReadonlySet<RequestStatus> = new Set(['released', 'denied', 'expired']);

/**
 * Where a decision entered the daemon, set by that edge (never claimed by the client): `cli` is the
 * ApprovalService gRPC API (CLI and SDK). `unknown` only for approvals stored before channels were
 * recorded, whose trust does not tell (an IdP identity came through the CLI or the web page).
 */
export type ApprovalChannel = 'cli' | 'web' | 'slack' | 'webhook' | 'unknown';

export const APPROVAL_CHANNELS: ReadonlySet<string> = new Set<ApprovalChannel>(['cli', 'web', 'slack', 'webhook', 'unknown']);

/** The channel of a decision recorded without one: what its trust implies, else `unknown`. */
export function channelFromTrust(trust: ApproverIdentity['trust']): ApprovalChannel {
  switch (trust) {
    case 'local':
      return 'cli';
    case 'slack':
      return 'slack';
    case 'webhook':
      return 'webhook';
    default:
      return 'unknown';
  }
}

export interface ApprovalView {
  readonly subject: string;
  readonly name: string;
  readonly trust: ApproverIdentity['trust'];
  readonly channel: ApprovalChannel;
  readonly decision: 'approve' | 'deny';
  readonly comment?: string;
  /** Wall-clock epoch ms. */
  readonly at: number;
}

/** An after-the-fact review of a break-glass grant, by someone other than the breaker. */
export interface BreakGlassReview {
  readonly subject: string;
  readonly name: string;
  readonly trust: ApproverIdentity['trust'];
  readonly verdict: 'ok' | 'concern';
  readonly note?: string;
  /** Wall-clock epoch ms. */
  readonly at: number;
}

/** A request granted without quorum by an on-call approver: loud, accountable, and reviewed later. */
export interface BreakGlassView {
  readonly subject: string;
  readonly name: string;
  readonly trust: ApproverIdentity['trust'];
  readonly reason: string;
  /** Wall-clock epoch ms. */
  readonly at: number;
  /** Absent until someone else reviews it: until then it is listed by `jitgate list --needs-review`. */
  readonly review?: BreakGlassReview;
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
  /** Present when the request was granted by break-glass. */
  readonly breakGlass?: BreakGlassView;
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
  | { readonly kind: 'denied'; readonly request: RequestView; readonly reason: string; readonly code: ErrorCode }
  | { readonly kind: 'expired'; readonly request: RequestView; readonly reason: string; readonly code: ErrorCode };

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

