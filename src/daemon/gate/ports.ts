import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { ClaimedContext, RequestContext } from '../../model/context.js';
import type { RequestView } from '../../model/request.js';
import type { AuditLog } from '../audit/types.js';
import type { Config } from '../config/types.js';
import type { PolicyDecision } from '../policy/index.js';
import type { StateStore, StoredApproval, StoredRequest } from '../state/store.js';
import type { Broker } from '../vault/broker.js';

/**
 * What the gate needs from the rest of the daemon. Each part is injected (daemon.ts wires the real
 * ones), so tests drive time, faults and identities without reaching into the gate.
 */
export interface AccessGateOptions {
  readonly config: Pick<Config, 'resources' | 'limits' | 'fleet'>;
  readonly contexts: ContextResolver;
  readonly policy: PolicyDecider;
  readonly broker: Broker;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Fleet mode: decisions go through the shared database. Absent on a single host. */
  readonly fleet?: FleetLedger;
}

/** A request and its decisions as the shared database holds them, read under the request's row lock. */
export interface LedgerRow {
  readonly request: StoredRequest | undefined;
  readonly approvals: readonly StoredApproval[];
}

/** What a decision writes, in the same transaction as the read: a decision row, a status change. */
export interface LedgerWrite<T> {
  readonly approval?: StoredApproval;
  readonly status?: { readonly status: 'approved' | 'denied'; readonly statusReason: string };
  readonly result: T;
}

/**
 * Fleet mode (issue 13): every daemon's requests and decisions live in one PostgreSQL database, so
 * an approver reaching any daemon decides any request, counted once across the fleet.
 */
export interface FleetLedger {
  /** This daemon's node id. */
  readonly node: string;
  /**
   * Runs `decide` under request `id`'s row lock on what is stored, then writes what it returns and
   * wakes the request's owner, all in one transaction: racing decisions on several daemons see one
   * another's result. Throws UnavailableError when the database fails (nothing is written).
   */
  decide<T>(id: string, decide: (row: LedgerRow) => Promise<LedgerWrite<T>>): Promise<T>;
}

/** Establishes who is asking: the verified context of a request. */
export interface ContextResolver {
  /** Throws IdentityError (bad token), PermissionDeniedError (claimed ≠ verified), InvalidArgumentError. */
  resolve(idToken: string | undefined, claimed: ClaimedContext): Promise<RequestContext>;
}

export interface PolicyDecider {
  decide(resource: string, context: RequestContext): PolicyDecision;
}

/** Observes request changes (notifiers, metrics). Must not throw or block. */
export type GateListener = (event: { readonly type: GateEventType; readonly request: RequestView }) => void;
/** `break_glass`: granted without quorum (announced by every notifier); `reviewed`: its review recorded. */
export type GateEventType = 'created' | 'approval' | 'escalated' | 'decided' | 'break_glass' | 'reviewed';

/** How one revocation ended (metrics): `failed` leaves the grant to the sweeper and the TTL. */
export type RevocationResult = 'revoked' | 'failed' | 'skipped';
