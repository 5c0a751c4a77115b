import type { TimerHandle } from '../../../common/clock.js';
import { errorMessage } from '../../../common/errors.js';
import type { RequestStatus } from '../../../model/request.js';
import type { GateCore } from '../gate-core.js';
import { transition } from '../transitions.js';
import type { LiveGrants } from './live-grants.js';
import type { Revocations } from './revocations.js';

const REVOKE_SWEEP_MS = 30_000;

/**
 * Grants nobody can vouch for: at start-up, everything the previous process left live; while
 * running, revocations that failed (retried every 30 s; the TTL caps exposure meanwhile).
 */
export class OrphanRecovery {
  readonly #core: GateCore;
  readonly #grants: LiveGrants;
  readonly #revocations: Revocations;
  #sweepTimer: TimerHandle | undefined;

  constructor(core: GateCore, grants: LiveGrants, revocations: Revocations) {
    this.#core = core;
    this.#grants = grants;
    this.#revocations = revocations;
  }

  /**
   * Start-up recovery. The previous process may have died with grants live and requests waiting:
   * nobody can vouch that those steps still run, so every grant still live in state is revoked
   * and every unfinished request is ended.
   */
  async recover(): Promise<void> {
    const { store, clock, audit } = this.#core;
    const orphans = await store.listGrants(['minting', 'live', 'revoking', 'revoke_failed']);
    for (const grant of orphans) {
      await this.#revocations.revokeStored(grant, 'orphaned at start-up');
    }
    const unfinished = await store.listRequests({ statuses: ['pending', 'approved', 'granted'], own: true });
    for (const request of unfinished) {
      const status: RequestStatus = request.status === 'granted' ? 'released' : 'denied';
      const reason = 'daemon restarted';
      if (await transition(store, request.id, [request.status], { status, statusReason: reason, updatedAt: clock.now() })) {
        await audit.safe({ type: `request.${status}`, requestId: request.id, trust: request.context.trust, reason });
      }
    }
    this.#scheduleSweep();
  }

  /** Stops the sweeper (shutdown). */
  stop(): void {
    if (this.#sweepTimer) this.#core.clock.clearTimeout(this.#sweepTimer);
  }

  /**
   * Rows the state store could not update when their grant ended (it was down): still `live` or
   * `revoking` though this process no longer holds the grant. Revoked again (Vault treats "already
   * gone" as success) so that state, and the request, say how it ended.
   */
  async #settleStale(): Promise<void> {
    const { store, clock } = this.#core;
    for (const listed of await store.listGrants(['live', 'revoking'])) {
      if (this.#grants.has(listed.id)) continue;
      // Re-read: a revocation that finished since the list is not stale.
      const grant = await store.getGrant(listed.id);
      if (!grant || (grant.status !== 'live' && grant.status !== 'revoking') || this.#grants.has(grant.id)) continue;
      const why = 'state store was unavailable when it ended';
      await this.#revocations.revokeStored(grant, why);
      await transition(store, grant.requestId, ['granted', 'approved'], { status: 'released', statusReason: why, updatedAt: clock.now() });
    }
  }

  /** Retries revocations that failed earlier; exposure is capped by the TTL meanwhile. */
  #scheduleSweep(): void {
    this.#sweepTimer = this.#core.clock.setTimeout(() => {
      void this.#sweep().finally(() => {
        if (this.#core.lifecycle.accepting) this.#scheduleSweep();
      });
    }, REVOKE_SWEEP_MS);
    this.#sweepTimer.unref();
  }

  async #sweep(): Promise<void> {
    try {
      const failed = await this.#core.store.listGrants(['revoke_failed']);
      for (const grant of failed) {
        if (!this.#grants.has(grant.id)) await this.#revocations.revokeStored(grant, 'retrying failed revocation');
      }
      await this.#settleStale();
    } catch (err) {
      this.#core.log.error({ err: errorMessage(err) }, 'revocation sweep failed');
    }
  }
}
