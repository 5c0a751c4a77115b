import type { Logger } from '../../../common/logger.js';
import type { ApproverResolver, Gate } from '../../gate/types.js';

/** What the per-RPC handlers need of the daemon: the gate, the approver resolver, the root logger. */
export interface HandlerDeps {
  readonly gate: Gate;
  readonly approvers: ApproverResolver;
  readonly logger: Logger;
}
