import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Config } from '../config/types.js';
import type { StateStore } from '../state/store.js';
import type { FleetLedger } from './ports.js';
import type { RequestViews } from './request-views.js';

/** Whether the gate still takes requests; shutdown flips it once, and every piece reads the same flag. */
export interface Lifecycle {
  accepting: boolean;
}

/** What every piece of the gate shares: its parts, its audit trail, its views and its lifecycle. */
export interface GateCore {
  readonly config: Pick<Config, 'resources' | 'limits' | 'fleet'>;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly audit: AuditTrail;
  readonly views: RequestViews;
  readonly lifecycle: Lifecycle;
  /** Fleet mode: decisions go through the shared database. */
  readonly fleet?: FleetLedger;
}
