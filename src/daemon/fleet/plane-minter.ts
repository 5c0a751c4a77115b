import type { Pool, PoolClient } from 'pg';
import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ownValue } from '../../common/own-keys.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Config } from '../config/types.js';
import { decodeApproval, decodeRequest, type ApprovalRow, type RequestRow } from '../state/row-codec.js';
import type { Broker } from '../vault/broker.js';
import type { WrappingBroker } from '../vault/wrapped-grant.js';
import type { FleetGate } from './fleet-gate.js';

/** Seconds a wrapping token lives: the owner unwraps it the moment it appears. */
const WRAP_TTL_S = 30;

const GRANT = 'SELECT id, request_id, owner_node, accessor, status FROM grants WHERE id = $1';
const REQUEST = 'SELECT * FROM requests WHERE id = $1';
const APPROVALS = 'SELECT * FROM approvals WHERE request_id = $1 ORDER BY at, seq';
const MINTED_FOR_REQUEST = 'SELECT count(*) AS n FROM grants WHERE request_id = $1 AND accessor IS NOT NULL';
// One mint per request, recorded before Vault is called: a table runners cannot write.
const CLAIM_REQUEST = 'INSERT INTO plane_mints (request_id, grant_id, node, at) VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING';
const SET_ACCESSOR = 'UPDATE grants SET accessor = $2 WHERE id = $1 AND accessor IS NULL';
const SET_FACTS = 'UPDATE grants SET lease_ids = $2::jsonb, expires_at = $3 WHERE id = $1';
const STORE_WRAPPED = `
  INSERT INTO wrapped_grants (grant_id, request_id, owner_node, wrapping_token, wrapping_accessor, wrap_expires_at, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

interface GrantRow {
  readonly id: string;
  readonly request_id: string;
  readonly owner_node: string;
  readonly accessor: string | null;
  readonly status: string;
}

/**
 * The approval plane's side of `fleet.mint: plane`: a runner that holds no Vault credentials asks
 * (NOTIFY on `jitgate_mints`) for the grant it recorded; one plane daemon (a session advisory lock
 * per grant) checks the request against its OWN policy and the approvals only planes can write,
 * mints, wraps, and stores just the wrapping token for the owner. Audited in the plane's log.
 */
export class PlaneMinter {
  readonly #o: { pool: Pool; node: string; broker: WrappingBroker & Pick<Broker, 'revoke'>; gate: FleetGate; config: Pick<Config, 'resources'>; audit: AuditTrail; clock: Clock; logger: Logger };

  constructor(options: { pool: Pool; node: string; broker: WrappingBroker & Pick<Broker, 'revoke'>; gate: FleetGate; config: Pick<Config, 'resources'>; audit: AuditTrail; clock: Clock; logger: Logger }) {
    this.#o = options;
  }

  /**
   * The backstop for runners that could not revoke their own grants (`revoke_failed`: Vault was
   * down at release, or the runner restarted and lost the child token): revoked by accessor here.
   */
  async sweepFailed(): Promise<void> {
    const { pool, broker, audit, clock, logger } = this.#o;
    const { rows } = await pool.query<{ id: string; request_id: string; accessor: string | null; lease_ids: string[]; owner_node: string }>(
      `SELECT id, request_id, accessor, lease_ids, owner_node FROM grants WHERE status = 'revoke_failed' AND accessor IS NOT NULL LIMIT 100`,
    );
    for (const grant of rows) {
      if (grant.accessor === null) continue;
      try {
        await audit.orFail({ type: 'grant.revoke.intent', requestId: grant.request_id, grantId: grant.id, owner: grant.owner_node, reason: 'backstop: its owner could not revoke it' });
        await broker.revoke(grant.accessor, grant.lease_ids);
        await pool.query(`UPDATE grants SET status = 'revoked', updated_at = $2 WHERE id = $1 AND status = 'revoke_failed'`, [grant.id, clock.now()]);
        await audit.safe({ type: 'grant.revoked', requestId: grant.request_id, grantId: grant.id, owner: grant.owner_node, reason: 'backstop: its owner could not revoke it' });
      } catch (err) {
        logger.warn({ grantId: grant.id, err: errorMessage(err) }, 'backstop revocation failed; retrying later');
      }
    }
  }

  /** Handles one mint request; never throws (a refusal or failure leaves the owner to time out and deny). */
  async handle(grantId: string): Promise<void> {
    const { pool, logger } = this.#o;
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      logger.warn({ grantId, err: errorMessage(err) }, 'plane mint: database unavailable');
      return;
    }
    const lock = `jitgate-mint:${grantId}`;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lock]);
      if (rows[0]?.ok !== true) return; // another plane daemon has it
      try {
        await this.#mint(grantId, client);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
      }
    } catch (err) {
      logger.error({ grantId, err: errorMessage(err) }, 'plane mint failed');
    } finally {
      client.release();
    }
  }

  async #mint(grantId: string, client: PoolClient): Promise<void> {
    const { broker, gate, config, audit, clock, logger } = this.#o;
    const query = client.query.bind(client);
    const grant = (await query<GrantRow>(GRANT, [grantId])).rows[0];
    if (!grant || grant.status !== 'minting' || grant.accessor !== null) return; // unknown, or minted already
    const row = (await query<RequestRow>(REQUEST, [grant.request_id])).rows[0];
    if (!row) return;
    const request = decodeRequest(row);
    const approvals = (await query<ApprovalRow>(APPROVALS, [request.id])).rows.map(decodeApproval);
    const minted = Number((await query<{ n: string }>(MINTED_FOR_REQUEST, [request.id])).rows[0]?.n ?? 0);
    const refusal =
      request.ownerNode !== grant.owner_node ? 'the grant and its request name different owners'
      : minted > 0 ? 'the request already has a grant'
      : gate.planeMintRefusal(request, approvals);
    const trust = request.context.trust;
    const resource = ownValue(config.resources, request.resource);
    if (refusal !== undefined || !resource) {
      logger.warn({ grantId, requestId: request.id, owner: grant.owner_node, reason: refusal }, 'plane mint refused');
      await audit.safe({ type: 'grant.plane.refused', requestId: request.id, grantId, trust, owner: grant.owner_node, reason: refusal ?? 'unknown resource' });
      return;
    }
    if ((await query(CLAIM_REQUEST, [request.id, grantId, this.#o.node, clock.now()])).rowCount !== 1) {
      logger.warn({ grantId, requestId: request.id, owner: grant.owner_node }, 'plane mint refused: the request was minted for already');
      await audit.safe({ type: 'grant.plane.refused', requestId: request.id, grantId, trust, owner: grant.owner_node, reason: 'the request already has a grant' });
      return;
    }
    // The TTL a runner wrote is capped by this plane's own resource config.
    const ttlMs = Math.min(request.ttlMs, resource.maxTtlMs);
    await audit.orFail({ type: 'grant.plane.intent', requestId: request.id, grantId, trust, owner: grant.owner_node, resource: resource.name, ttlMs });
    const wrapped = await broker.mintWrapped(
      resource,
      ttlMs,
      { jitgate_grant: grantId, jitgate_request: request.id, jitgate_owner: grant.owner_node, repository: request.context.repository, sha: request.context.sha },
      WRAP_TTL_S,
      async (accessor) => {
        await query(SET_ACCESSOR, [grantId, accessor]);
      },
    );
    try {
      await query(SET_FACTS, [grantId, JSON.stringify(wrapped.leaseIds), wrapped.expiresAtMs]);
      const now = clock.now();
      await query(STORE_WRAPPED, [grantId, request.id, grant.owner_node, wrapped.wrappingToken, wrapped.wrappingAccessor, now + wrapped.wrapTtlS * 1000, now]);
    } catch (err) {
      // Never leave a grant at Vault that its owner cannot find.
      await broker.revoke(wrapped.accessor, wrapped.leaseIds).catch((revokeErr: unknown) => {
        logger.error({ grantId, err: errorMessage(revokeErr) }, 'plane mint: revoking the unstored grant failed; its TTL ends it');
      });
      await audit.safe({ type: 'grant.plane.failed', requestId: request.id, grantId, trust, owner: grant.owner_node, reason: errorMessage(err) });
      throw err;
    }
    await query('SELECT pg_notify($1, $2)', ['jitgate_wrapped', grantId]);
    await audit.safe({
      type: 'grant.plane.minted',
      requestId: request.id,
      grantId,
      trust,
      owner: grant.owner_node,
      accessorHmac: audit.hmac(wrapped.accessor),
      leaseHmacs: wrapped.leaseIds.map((l) => audit.hmac(l)),
      ttlMs: wrapped.ttlMs,
    });
    logger.info({ grantId, requestId: request.id, owner: grant.owner_node }, 'minted for the owner, wrapped');
  }
}
