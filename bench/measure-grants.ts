import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { JitgateClient } from '../src/client/index.js';
import { elapsedMs, summarize, type LatencySummary } from './stats.js';
import { tokenRevoked } from './vault-probe.js';

export interface GrantRun {
  /** request() → credentials in hand. */
  readonly grant: LatencySummary;
  /** release() called → token (and, with a read, the database role) confirmed gone. */
  readonly releaseToRevoked: LatencySummary;
  /** Releases after which the token (or role) was still alive when release() resolved. */
  readonly revokedAfterRelease: number;
  /** The timed samples (ms), for merging interleaved rounds (bench/interleave.ts). */
  readonly samples: { readonly grant: readonly number[]; readonly release: readonly number[] };
}

const REVOKE_WAIT_MS = 5000;

/** Polls until `gone()` is true; returns when (ms since `start`), or throws after REVOKE_WAIT_MS. */
async function waitGone(start: bigint, gone: () => Promise<boolean>, what: string): Promise<number> {
  for (;;) {
    if (await gone()) return elapsedMs(start);
    if (elapsedMs(start) > REVOKE_WAIT_MS) throw new Error(`${what} still alive ${REVOKE_WAIT_MS} ms after release`);
    await sleep(1);
  }
}

/**
 * Sequential auto-approved grants through the SDK: `warmup` untimed, then `count` timed. Each grant
 * is released; the release is timed until Vault answers 403 for the token (and, for a resource
 * with a database read, until PostgreSQL no longer has the role). The daemon's Release answers
 * only after revoking, so normally the first check already succeeds and the figure is release()'s
 * own duration; a later success is counted in `revokedAfterRelease`.
 */
export async function measureGrants(options: {
  client: JitgateClient;
  resource: string;
  vaultAddress: string;
  /** Superuser URL of the database engine's PostgreSQL; checks the role is dropped when set. */
  pgUrl?: string;
  warmup: number;
  count: number;
}): Promise<GrantRun> {
  const { client, resource, vaultAddress } = options;
  const db = options.pgUrl === undefined ? undefined : new pg.Client({ connectionString: options.pgUrl });
  await db?.connect();
  const roleGone = async (name: string): Promise<boolean> => {
    if (!db) return true;
    const res = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    return res.rowCount === 0;
  };
  const grants: number[] = [];
  const releases: number[] = [];
  let late = 0;
  try {
    for (let i = 0; i < options.warmup + options.count; i++) {
      const start = process.hrtime.bigint();
      const grant = await client.request({ resource, reason: 'bench' });
      const grantMs = elapsedMs(start);
      const token = grant.credentials.VAULT_TOKEN;
      if (token === undefined) throw new Error(`${resource}: the grant carries no VAULT_TOKEN`);
      const user = grant.credentials.PGUSER;
      if (db && user === undefined) throw new Error(`${resource}: the grant carries no PGUSER`);
      const releaseStart = process.hrtime.bigint();
      await grant.release();
      const releasedMs = elapsedMs(releaseStart);
      let revokedMs = releasedMs;
      const tokenDead = await tokenRevoked(vaultAddress, token);
      const roleDead = user === undefined || (await roleGone(user));
      if (!tokenDead || !roleDead) {
        late++;
        revokedMs = await waitGone(
          releaseStart,
          async () => (await tokenRevoked(vaultAddress, token)) && (user === undefined || (await roleGone(user))),
          'token or role',
        );
      }
      if (i >= options.warmup) {
        grants.push(grantMs);
        releases.push(revokedMs);
      }
    }
  } finally {
    await db?.end();
  }
  return { grant: summarize(grants), releaseToRevoked: summarize(releases), revokedAfterRelease: late, samples: { grant: grants, release: releases } };
}
