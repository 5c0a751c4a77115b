import type { GateListener } from '../gate/ports.js';

/** What fleet sync needs of the gate: catching up on a request, and its own changes to announce. */
export interface FleetGate {
  syncRequest(id: string): Promise<boolean>;
  isPendingHere(id: string): boolean;
  onChange(listener: GateListener): void;
}
