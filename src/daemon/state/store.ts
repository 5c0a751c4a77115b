import type { ClaimedContext, RequestContext } from '../../model/context.js';
import type { RequireSpec } from '../config/types.js';
import type { ApprovalView, BreakGlassView, RequestStatus } from '../../model/request.js';

export interface StoredRequest {
  readonly id: string;
  readonly resource: string;
  readonly reason: string;
  readonly context: RequestContext;
  readonly claimed: ClaimedContext;
  readonly ttlMs: number;
  readonly status: RequestStatus;
  readonly statusReason?: string;
  readonly rule: string | null;
  /** The policy's requirement when the decision was `require`. */
  readonly require?: RequireSpec;
  /** Wall-clock epoch ms. */
  readonly createdAt: number;
  /** Wall-clock epoch ms; 0 when the request never waited for approval. */
  readonly expiresAt: number;
  readonly updatedAt: number;
  /** Fleet mode: the daemon that owns the request (its step waits there). Absent on a single host. */
  readonly ownerNode?: string;
}

/** `groups`: the approver's groups as verified when recorded (a fleet's other daemons judge `every_group` by them). */
export type StoredApproval = ApprovalView & {
  readonly requestId: string;
  readonly groups?: readonly string[];
  /** Fleet mode: the digest of the request as the approver saw it (`gate/request-digest.ts`). */
  readonly requestDigest?: string;
};

export type GrantStatus = 'minting' | 'live' | 'revoking' | 'revoked' | 'revoke_failed';

export interface StoredGrant {
  readonly id: string;
  readonly requestId: string;
  readonly resource: string;
  /** Vault token accessor: lets the daemon revoke after a crash. Null until the mint returned. */
  readonly accessor: string | null;
  readonly leaseIds: readonly string[];
  readonly status: GrantStatus;
  readonly createdAt: number;
  /** Wall-clock epoch ms at which Vault expires the token by itself. */
  readonly expiresAt: number;
  readonly updatedAt: number;
}

/**
 * Durable state. SQLite on a single host; PostgreSQL for a fleet. Every method may throw; callers
 * treat any failure as "deny" (fail closed).
 */
export interface StateStore {
  /**
   * True when writes apply in the order they are issued (one connection, as in SQLite): a caller
   * may then issue a dependent write (a grant of a request) before the first one has settled, and
   * both share a commit. Absent: wait for one write before issuing the next.
   */
  readonly ordersWrites?: true;
  insertRequest(request: StoredRequest): Promise<void>;
  /**
   * Compare-and-set: applies `patch` only if the current status is in `from`.
   * Returns false (and changes nothing) otherwise, so racing decisions produce one final state.
   */
  transitionRequest(
    id: string,
    from: readonly RequestStatus[],
    patch: { readonly status: RequestStatus; readonly statusReason?: string; readonly updatedAt: number },
  ): Promise<boolean>;
  getRequest(id: string): Promise<StoredRequest | undefined>;
  /** Newest first. `own`: only this daemon's (in a fleet; on a single host every request is its own). */
  listRequests(filter: { readonly statuses?: readonly RequestStatus[]; readonly limit?: number; readonly own?: boolean }): Promise<StoredRequest[]>;
  countRequests(statuses: readonly RequestStatus[]): Promise<number>;

  /** Returns false when this subject already has a decision on this request (counts once). */
  addApproval(approval: StoredApproval): Promise<boolean>;
  listApprovals(requestId: string): Promise<StoredApproval[]>;

  /** The break-glass record of a request (one per request: ConflictError on a second). */
  recordBreakGlass(requestId: string, record: BreakGlassView): Promise<void>;
  /** Compare-and-set: stores `record` (now with its review) only if not yet reviewed; false otherwise. */
  reviewBreakGlass(requestId: string, record: BreakGlassView): Promise<boolean>;
  getBreakGlass(requestId: string): Promise<BreakGlassView | undefined>;
  /** Every break-glass record by request id, or only those still waiting for review. */
  listBreakGlass(filter: { readonly unreviewed: boolean }): Promise<Map<string, BreakGlassView>>;

  insertGrant(grant: StoredGrant): Promise<void>;
  updateGrant(
    id: string,
    patch: Partial<Pick<StoredGrant, 'accessor' | 'leaseIds' | 'status' | 'expiresAt'>> & { readonly updatedAt: number },
  ): Promise<void>;
  getGrant(id: string): Promise<StoredGrant | undefined>;
  /** This daemon's grants in these states (in a fleet, other daemons' grants are theirs to revoke). */
  listGrants(statuses: readonly GrantStatus[]): Promise<StoredGrant[]>;

  /**
   * Records a token id (`jti`) until `expiresAt`. Returns false when it was already recorded and
   * has not expired: a replay. Survives restarts.
   */
  rememberTokenId(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;

  close(): Promise<void>;
}
