import type { GateCore } from '../gate-core.js';
import { pendingView, type PendingEntry } from './pending-entry.js';

/**
 * Starts the rule's escalation timers for a new pending request. `locked` runs a step under the
 * request's lock, so an escalation never interleaves with a decision.
 */
export function scheduleEscalations(core: GateCore, entry: PendingEntry, locked: (run: () => Promise<void>) => void): void {
  for (const step of entry.require.escalate) {
    const timer = core.clock.setTimeout(() => {
      locked(() => escalate(core, entry, step.to));
    }, step.afterMs);
    timer.unref();
    (entry.escalations ??= []).push(timer);
  }
}

/** Widens who may approve; each principal is added once, and the change is audited and announced. */
async function escalate(core: GateCore, entry: PendingEntry, to: readonly string[]): Promise<void> {
  if (entry.request.status !== 'pending') return;
  const added = to.filter((p) => !entry.approvers.includes(p));
  if (added.length === 0) return;
  entry.approvers = [...entry.approvers, ...added];
  await core.audit.safe({ type: 'request.escalated', requestId: entry.request.id, trust: entry.request.context.trust, to: added });
  entry.outcomes.push({ kind: 'progress' });
  core.views.emit('escalated', pendingView(core.views, entry));
}
