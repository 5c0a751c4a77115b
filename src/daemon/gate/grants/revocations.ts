import { errorMessage } from '../../../common/errors.js';
import type { RequestStatus } from '../../../model/request.js';
import type { AuditEvent } from '../../audit/types.js';
import type { StoredGrant } from '../../state/store.js';
import type { Broker } from '../../vault/broker.js';
import type { GateCore } from '../gate-core.js';
import type { RevocationResult } from '../ports.js';
import { transition } from '../transitions.js';
import type { LiveGrant, LiveGrants } from './live-grants.js';

/**
 * Taking power away: intent, revoke, result, for grants this process holds and for grants found
 * in state (orphans, failed revocations). Revocation is never blocked by a broken audit log.
 */
export class Revocations {
  readonly #core: GateCore;
  readonly #broker: Broker;
  readonly #grants: LiveGrants;
  readonly #listeners: ((result: RevocationResult) => void)[] = [];

  constructor(core: GateCore, broker: Broker, grants: LiveGrants) {
    this.#core = core;
    this.#broker = broker;
    this.#grants = grants;
  }

  /** Registers an observer of revocation outcomes (metrics). Must not throw or block. */
  onRevocation(listener: (result: RevocationResult) => void): void {
    this.#listeners.push(listener);
  }

  /** Revokes a grant this process holds; idempotent, concurrent callers share one revocation. */
  revokeLive(live: LiveGrant, why: string): Promise<void> {
    live.revoking ??= (async () => {
      const { clock, store, log, views } = this.#core;
      if (live.timer) clock.clearTimeout(live.timer);
      const status: RequestStatus = 'released';
      // `request.released` rides in the same fsync as the revocation's result record.
      await this.revokeStored(live.stored, why, {
        type: 'request.released',
        requestId: live.request.id,
        trust: live.request.context.trust,
        reason: why,
      });
      this.#grants.delete(live.stored.id);
      await transition(store, live.request.id, ['granted', 'approved'], { status, statusReason: why, updatedAt: clock.now() }).catch((err: unknown) => {
        log.error({ requestId: live.request.id, err: errorMessage(err) }, 'state update failed');
      });
      views.emit('decided', views.view({ ...live.request, status, statusReason: why }, [], [], live.stored.id));
      live.ended.push(why);
      live.ended.end();
    })();
    return live.revoking;
  }

  /**
   * Intent, revoke, result. A failed revocation is kept for the sweeper; the TTL caps exposure.
   * `then` is appended right after the result record and made durable with it.
   */
  async revokeStored(grant: StoredGrant, why: string, then?: AuditEvent): Promise<void> {
    const { store, audit, clock, log } = this.#core;
    const base = { requestId: grant.requestId, grantId: grant.id, reason: why };
    const finish = async (result: AuditEvent): Promise<void> => {
      this.#tell(result.type === 'grant.revoked' ? 'revoked' : result.type === 'grant.revoke.failed' ? 'failed' : 'skipped');
      const appended = [audit.issue(result)];
      if (then) appended.push(audit.issue(then));
      await audit.settled(appended);
    };
    if (!grant.accessor) {
      // Crashed between recording the intent and Vault answering: nothing to revoke by; the TTL ends it.
      await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
      await finish({ type: 'grant.revoke.skipped', ...base, detail: 'no token was recorded; any token expires at its TTL' });
      return;
    }
    const intent = audit.issue({ type: 'grant.revoke.intent', ...base, accessorHmac: audit.hmac(grant.accessor) });
    // Vault needs no database: a slow or unreachable state store must not hold the revocation back.
    const marking = store.updateGrant(grant.id, { status: 'revoking', updatedAt: clock.now() }).catch(() => undefined);
    await audit.settled([intent]);
    try {
      await this.#broker.revoke(grant.accessor, grant.leaseIds);
    } catch (err) {
      log.error({ grantId: grant.id, err: errorMessage(err) }, 'revocation failed; will retry, TTL caps exposure');
      await marking;
      await store.updateGrant(grant.id, { status: 'revoke_failed', updatedAt: clock.now() }).catch(() => undefined);
      await finish({ type: 'grant.revoke.failed', ...base, error: errorMessage(err) });
      return;
    }
    await marking; // the result row is written after the intent's, never overtaken by it
    await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
    await finish({ type: 'grant.revoked', ...base });
  }

  #tell(outcome: RevocationResult): void {
    for (const listener of this.#listeners) {
      try {
        listener(outcome);
      } catch (err) {
        this.#core.log.error({ err: errorMessage(err) }, 'revocation listener threw');
      }
    }
  }
}
