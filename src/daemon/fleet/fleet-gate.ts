import type { GateListener } from '../gate/ports.js';
import type { StoredApproval, StoredRequest } from '../state/store.js';

/** What fleet sync needs of the gate: catching up on a request, and its own changes to announce. */
export interface FleetGate {
  syncRequest(id: string): Promise<boolean>;
  isPendingHere(id: string): boolean;
  onChange(listener: GateListener): void;
  /** `fleet.mint: plane`: why this plane must not mint for the request (undefined: it may). */
  planeMintRefusal(request: StoredRequest, approvals: readonly StoredApproval[]): string | undefined;
}
