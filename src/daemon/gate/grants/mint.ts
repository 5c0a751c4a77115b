import { AsyncQueue } from '../../../common/async-queue.js';
import { grantStage } from '../../../common/grant-stages.js';
import { ConflictError, errorMessage, JitgateError, UnavailableError } from '../../../common/errors.js';
import { newId, newSecretToken } from '../../../common/ids.js';
import { ownValue } from '../../../common/own-keys.js';
import type { AccessUpdate, ApprovalView, RequestStatus, RequestView } from '../../../model/request.js';
import type { ResourceConfig } from '../../config/types.js';
import type { StoredGrant, StoredRequest } from '../../state/store.js';
import type { Broker, MintedGrant } from '../../vault/broker.js';
import type { GateCore } from '../gate-core.js';
import { transition } from '../transitions.js';
import { handOut } from './hand-out.js';
import type { LiveGrant, LiveGrants } from './live-grants.js';
import type { Revocations } from './revocations.js';

/** Ends an approved request as denied in state and tells the observers; returns the final view. */
type Deny = (reason: string, status?: RequestStatus) => Promise<RequestView>;

/**
 * Approved → credentials. Every step is recorded before the next acts: the mint intent is durable
 * before Vault is called, the token's accessor is in state before the broker reads a secret with
 * it, and the grant is in state and audit before the credentials leave the daemon. Any failure
 * revokes what was created and denies.
 */
export class GrantIssuer {
  readonly #core: GateCore;
  readonly #broker: Broker;
  readonly #grants: LiveGrants;
  readonly #revocations: Revocations;

  constructor(core: GateCore, broker: Broker, grants: LiveGrants, revocations: Revocations) {
    this.#core = core;
    this.#broker = broker;
    this.#grants = grants;
    this.#revocations = revocations;
  }

  /**
   * Mints and hands out a grant. `prior` are audit appends already issued for this request
   * (created, approved): they are awaited together with the mint intent, so one fsync makes all of
   * them durable before Vault is called. `requestRow` writes the request's own row when it is not
   * yet in state (a request approved by policy the moment it arrived): it commits with the grant's
   * row, and Vault waits for both.
   */
  async *grant(
    request: StoredRequest,
    approvals: readonly ApprovalView[],
    approvers: readonly string[],
    signal: AbortSignal,
    prior: readonly Promise<void>[],
    requestRow: () => Promise<void> = () => Promise.resolve(),
  ): AsyncGenerator<AccessUpdate> {
    const { audit, views, lifecycle, config } = this.#core;
    const resource = ownValue(config.resources, request.resource);
    const deny = this.#denier(request, approvals, approvers);
    if (!audit.healthy) {
      // The request's own records may not be durable: an error, exactly as when the intent append
      // itself fails below, not an ordinary denial the client could mistake for a policy answer.
      await requestRow().catch(() => undefined);
      await deny('audit log unavailable');
      throw new UnavailableError('audit log unavailable: no grants until it is repaired', { code: 'AUDIT_UNAVAILABLE' });
    }
    if (!resource || !lifecycle.accepting) {
      const reason = !lifecycle.accepting ? 'shutdown' : 'audit log unavailable';
      await requestRow().catch(() => undefined);
      const view = await deny(reason);
      await audit.safe({ type: 'request.denied', requestId: request.id, trust: request.context.trust, reason });
      yield { kind: 'denied', request: view, reason, code: lifecycle.accepting ? 'ERR_ACCESS_DENIED' : 'SHUTDOWN' };
      return;
    }
    // From this last check until the grant is held (or refused), shutdown waits for this request
    // (issue 11 #14): its final revoke pass must not end while a mint may still start.
    const settleMint = this.#grants.startMint();
    let intended: StoredGrant;
    try {
      intended = await this.#recordIntent(request, resource, prior, requestRow, deny);
    } catch (err) {
      settleMint();
      throw err;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- shutdown may flip it while the intent is written
    if (!lifecycle.accepting) {
      const view = await this.#cancelAtShutdown(request, intended, deny);
      settleMint();
      yield { kind: 'denied', request: view, reason: 'shutdown', code: 'SHUTDOWN' };
      return;
    }
    const { live, minted, tokenCreated } = await this.#mint(request, resource, intended, deny, settleMint);
    grantStage('minted');
    await this.#record(live, minted, tokenCreated, deny);
    grantStage('grant-recorded');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- shutdown may flip it while Vault mints
    if (!lifecycle.accepting || live.revoking) {
      // Shutdown began while Vault was minting: the credentials never leave the daemon.
      await this.#revocations.revokeLive(live, 'shutdown');
      const reason = 'shutdown';
      yield { kind: 'denied', request: views.view({ ...request, status: 'released', statusReason: reason }, approvals, approvers), reason, code: 'SHUTDOWN' };
      return;
    }
    yield* handOut({ core: this.#core, grants: this.#grants, revocations: this.#revocations }, live, minted, approvals, approvers, signal);
  }

  #denier(request: StoredRequest, approvals: readonly ApprovalView[], approvers: readonly string[]): Deny {
    const { store, clock, views } = this.#core;
    return async (reason, status = 'approved') => {
      await transition(store, request.id, [status], { status: 'denied', statusReason: reason, updatedAt: clock.now() }).catch(() => false);
      const view = views.view({ ...request, status: 'denied', statusReason: reason }, approvals, approvers);
      views.emit('decided', view);
      return view;
    };
  }

  /** Intent durable before the side effect: Vault is not called until this batch is on disk. */
  async #recordIntent(
    request: StoredRequest,
    resource: ResourceConfig,
    prior: readonly Promise<void>[],
    requestRow: () => Promise<void>,
    deny: Deny,
  ): Promise<StoredGrant> {
    const { store, audit, clock } = this.#core;
    const trust = request.context.trust;
    const now = clock.now();
    const grant: StoredGrant = {
      id: newId('grant'),
      requestId: request.id,
      resource: resource.name,
      accessor: null,
      leaseIds: [],
      status: 'minting',
      createdAt: now,
      expiresAt: now + request.ttlMs,
      updatedAt: now,
    };
    // The audit write and the state commit run side by side (one waits on the disk, the other on
    // the loop's next turn); Vault is called only once both are done. The state statements run
    // once the audit write has started, so the disk is already busy while SQLite works.
    const intent = audit.issue({ type: 'grant.mint.intent', requestId: request.id, grantId: grant.id, trust, resource: resource.name, ttlMs: request.ttlMs });
    grantStage('intent-issued');
    await audit.writeStarted();
    // The grant row references the request's: issued at once when the store applies writes in
    // order (one commit for both), after the request's otherwise.
    const rowWritten = requestRow();
    const inserted = store.ordersWrites ? store.insertGrant(grant) : rowWritten.then(() => store.insertGrant(grant));
    // A failed request row fails the grant's too (it references it): report the request's.
    const rows = Promise.allSettled([rowWritten, inserted]).then(([row, grantRow]) => {
      if (row.status === 'rejected') throw row.reason;
      if (grantRow.status === 'rejected') throw grantRow.reason;
    });
    const [audited, stored] = await Promise.allSettled([audit.awaitAll([...prior, intent]), rows]);
    grantStage('intent-durable');
    const failed = [audited, stored].find((r) => r.status === 'rejected');
    if (failed) {
      const err: unknown = failed.reason;
      // Nothing was minted; a row that did reach state must not look like a mint in progress (a
      // row that did not: the update finds nothing, and is ignored).
      await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
      const reason = `cannot record the grant: ${errorMessage(err)}`;
      await deny(reason);
      await audit.safe({ type: 'request.denied', requestId: request.id, trust, reason });
      throw err instanceof UnavailableError ? err : new UnavailableError(reason, { cause: err, code: 'STATE_UNAVAILABLE' });
    }
    return grant;
  }

  /** Shutdown began while the intent was written: Vault is never called; the record says so. */
  async #cancelAtShutdown(request: StoredRequest, intended: StoredGrant, deny: Deny): Promise<RequestView> {
    const { store, audit, clock } = this.#core;
    const trust = request.context.trust;
    await store.updateGrant(intended.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
    await audit.safe({ type: 'grant.mint.cancelled', requestId: request.id, grantId: intended.id, trust, reason: 'shutdown' });
    const view = await deny('shutdown');
    await audit.safe({ type: 'request.denied', requestId: request.id, trust, reason: 'shutdown' });
    return view;
  }

  /**
   * Vault creates the token; its accessor is recorded the moment it exists (start-up recovery needs
   * it). `settleMint` is called once the grant is held, or the mint has failed.
   */
  async #mint(
    request: StoredRequest,
    resource: ResourceConfig,
    intended: StoredGrant,
    deny: Deny,
    settleMint: () => void,
  ): Promise<{ live: LiveGrant; minted: MintedGrant; tokenCreated: Promise<void> | undefined }> {
    const { store, audit, clock, log } = this.#core;
    const trust = request.context.trust;
    let grant = intended;
    // Audit of the token's creation may complete alongside `grant.minted` (one fsync for both).
    let tokenCreated: Promise<void> | undefined;
    let minted: MintedGrant;
    try {
      minted = await this.#broker.mint(
        resource,
        request.ttlMs,
        { jitgate_grant: grant.id, jitgate_request: request.id, repository: request.context.repository, sha: request.context.sha },
        async (accessor) => {
          grant = { ...grant, accessor };
          if (!audit.healthy) throw new UnavailableError('audit log unavailable', { code: 'AUDIT_UNAVAILABLE' });
          // Deferred: `grant.minted` follows the state writes in between and shares its fsync.
          tokenCreated = audit.issue({ type: 'grant.token.created', requestId: request.id, grantId: grant.id, trust, accessorHmac: audit.hmac(accessor) }, { defer: true });
          // With nothing to read, no Vault call follows: the grant's own row, written in this same
          // turn (#record), carries the accessor, committed before the credentials leave the daemon.
          if (resource.vault.read !== undefined) await store.updateGrant(grant.id, { accessor, updatedAt: clock.now() });
          grantStage('accessor-recorded');
        },
      );
    } catch (err) {
      settleMint();
      // The broker has already revoked whatever it created; record that nothing is live.
      const reason = errorMessage(err);
      log.warn({ requestId: request.id, grantId: grant.id, reason }, 'mint failed');
      await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
      if (tokenCreated) await audit.settled([tokenCreated]);
      await audit.safe({ type: 'grant.mint.failed', requestId: request.id, grantId: grant.id, trust, reason });
      await deny(reason);
      await audit.safe({ type: 'request.denied', requestId: request.id, trust, reason });
      // A spent wrapping token (fleet.mint: plane) keeps its own code: someone else unwrapped it.
      const code = err instanceof JitgateError && err.code === 'WRAPPING_TOKEN_INVALID' ? 'WRAPPING_TOKEN_INVALID' : 'VAULT_UNAVAILABLE';
      throw new UnavailableError(`denied: ${reason}`, { cause: err, code });
    }
    const expiresAt = clock.now() + minted.ttlMs;
    grant = { ...grant, accessor: minted.accessor, leaseIds: [...minted.leaseIds], status: 'live', expiresAt, updatedAt: clock.now() };
    const live: LiveGrant = { stored: grant, releaseToken: newSecretToken(), request, ended: new AsyncQueue<string>(4) };
    this.#grants.add(live);
    settleMint();
    return { live, minted, tokenCreated };
  }

  /** The grant is in state and audit before the credentials leave the daemon; otherwise it is revoked. */
  async #record(live: LiveGrant, minted: MintedGrant, tokenCreated: Promise<void> | undefined, deny: Deny): Promise<void> {
    const { store, audit, clock } = this.#core;
    const { stored: grant, request } = live;
    try {
      const mintedAudit = audit.issue({
        type: 'grant.minted',
        requestId: request.id,
        grantId: grant.id,
        trust: request.context.trust,
        accessorHmac: audit.hmac(minted.accessor),
        leaseHmacs: minted.leaseIds.map((l) => audit.hmac(l)),
        ttlMs: minted.ttlMs,
        expiresAt: new Date(grant.expiresAt).toISOString(),
      });
      // The state writes follow the start of the audit write, both in the same turn: one
      // transaction, one commit (the store batches a turn's writes).
      await audit.writeStarted();
      const updated = store.updateGrant(grant.id, { accessor: minted.accessor, leaseIds: [...minted.leaseIds], status: 'live', expiresAt: grant.expiresAt, updatedAt: clock.now() });
      const moved = transition(store, request.id, ['approved'], { status: 'granted', updatedAt: clock.now() });
      const [, granted] = await Promise.all([updated, moved]);
      if (!granted) throw new ConflictError('request left the approved state before the grant');
      await audit.awaitAll(tokenCreated ? [tokenCreated, mintedAudit] : [mintedAudit]);
    } catch (err) {
      // The grant is not on record: the credentials must not leave the daemon.
      await this.#revocations.revokeLive(live, 'grant could not be recorded');
      const reason = `cannot record the grant: ${errorMessage(err)}`;
      await deny(reason, 'approved');
      throw err instanceof UnavailableError ? err : new UnavailableError(reason, { cause: err, code: 'STATE_UNAVAILABLE' });
    }
  }
}
