import type { Pool } from 'pg';
import type { Clock } from '../../common/clock.js';
import { UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ResourceConfig } from '../config/types.js';
import type { Broker, MintedGrant } from '../vault/broker.js';
import type { OwnerVault } from '../vault/owner-vault.js';

/** How often the owner looks for its wrapped grant, and asks again in case no plane heard it. */
const POLL_MS = 50;
const ASK_AGAIN_MS = 2000;

const WRAPPED = `
  SELECT w.wrapping_token, g.accessor FROM wrapped_grants w JOIN grants g ON g.id = w.grant_id WHERE w.grant_id = $1`;
const FORGET_WRAPPED = 'DELETE FROM wrapped_grants WHERE grant_id = $1';

/**
 * A runner daemon's Broker under `fleet.mint: plane`: it holds no Vault token. "Minting" asks the
 * approval plane (NOTIFY `jitgate_mints`) for the grant the gate has just recorded, waits for the
 * wrapping token the plane stores, and unwraps it once (a second unwrap — someone else had the
 * token — fails WRAPPING_TOKEN_INVALID). Revoking uses the child token itself (revoke-self); the
 * plane's sweeper revokes by accessor when this daemon no longer has the token (after a crash).
 */
export class OwnerBroker implements Broker {
  readonly #o: { pool: Pool; vault: OwnerVault; clock: Clock; logger: Logger; waitMs: number };
  /** Child tokens by accessor, for revoke-self; secret, in memory only. */
  readonly #tokens = new Map<string, string>();

  constructor(options: { pool: Pool; vault: OwnerVault; clock: Clock; logger: Logger; waitMs: number }) {
    this.#o = options;
  }

  async mint(_resource: ResourceConfig, _ttlMs: number, meta: Readonly<Record<string, string>>, onAccessor?: (accessor: string) => Promise<void>): Promise<MintedGrant> {
    const grantId = meta.jitgate_grant;
    if (grantId === undefined) throw new UnavailableError('owner broker: no grant id to ask the plane for');
    const { pool, vault, clock, waitMs } = this.#o;
    const deadline = clock.monotonic() + waitMs;
    let askedAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      if (clock.monotonic() - askedAt >= ASK_AGAIN_MS) {
        await pool.query('SELECT pg_notify($1, $2)', ['jitgate_mints', grantId]);
        askedAt = clock.monotonic();
      }
      const row = (await pool.query<{ wrapping_token: string; accessor: string | null }>(WRAPPED, [grantId])).rows[0];
      if (row) {
        // Single use: whatever happens next, the stored token is spent.
        await pool.query(FORGET_WRAPPED, [grantId]);
        const grant = await vault.unwrap(row.wrapping_token, row.accessor ?? undefined);
        this.#tokens.set(grant.accessor, grant.token);
        try {
          await onAccessor?.(grant.accessor);
        } catch (err) {
          await this.revoke(grant.accessor).catch(() => undefined);
          throw err;
        }
        return grant;
      }
      if (clock.monotonic() >= deadline) {
        throw new UnavailableError(`no approval-plane daemon minted the grant within ${String(waitMs)} ms (fleet.mint: plane)`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async revoke(accessor: string): Promise<void> {
    // revoke-self takes the token's leases with it.
    const token = this.#tokens.get(accessor);
    if (token === undefined) {
      throw new UnavailableError('this runner holds no token to revoke the grant with (fleet.mint: plane): the plane revokes it by accessor');
    }
    // 'refused' means Vault no longer knows the token: it is gone already.
    await this.#o.vault.revokeSelf(token);
    this.#tokens.delete(accessor);
  }

  async check(): Promise<void> {
    // Nothing to check: this daemon has no Vault identity of its own.
  }

  close(): Promise<void> {
    this.#tokens.clear();
    this.#o.vault.close();
    return Promise.resolve();
  }
}
