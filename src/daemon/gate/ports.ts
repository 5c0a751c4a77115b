import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { ClaimedContext, RequestContext } from '../../model/context.js';
import type { RequestView } from '../../model/request.js';
import type { AuditLog } from '../audit/types.js';
import type { Config } from '../config/types.js';
import type { PolicyDecision } from '../policy/index.js';
import type { StateStore } from '../state/store.js';
import type { Broker } from '../vault/broker.js';

/**
 * What the gate needs from the rest of the daemon. Each part is injected (daemon.ts wires the real
 * ones), so tests drive time, faults and identities without reaching into the gate.
 */
export interface AccessGateOptions {
  readonly config: Pick<Config, 'resources' | 'limits'>;
  readonly contexts: ContextResolver;
  readonly policy: PolicyDecider;
  readonly broker: Broker;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
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
