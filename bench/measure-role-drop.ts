import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropPostgresUser } from '../tools/vault-compat/src/database.js';
import { elapsedMs, summarize, type LatencySummary } from './stats.js';

/**
 * The role's `revocation_statements` the bench sets for its release row: privileges and owned
 * objects go with DROP OWNED (in this database), then the role. Vault's default revocation does the
 * same work through information_schema lookups and a REVOKE per object class, at ~15 ms a role.
 */
export const FAST_REVOCATION = ['DROP OWNED BY "{{name}}";', 'DROP ROLE IF EXISTS "{{name}}";'] as const;

/**
 * PostgreSQL alone, no Vault and no gate: the statements that revoking a database lease runs, timed
 * on one open connection. A role is created as the bench's Vault role creates it (LOGIN, password,
 * VALID UNTIL), then dropped by the Vault-compatible server's own revocation
 * (tools/vault-compat/src/database.ts `dropPostgresUser`: lock it, end its sessions, then either
 * Vault's default revocation SQL or FAST_REVOCATION). This is the floor under "release → token +
 * lease revoked, role dropped".
 */
export async function measureRoleDrop(pgUrl: string, revocation: 'default' | 'fast', warmup: number, count: number): Promise<LatencySummary> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const samples: number[] = [];
  try {
    for (let i = 0; i < warmup + count; i++) {
      const name = `bench-drop-${randomBytes(6).toString('hex')}`;
      const ident = client.escapeIdentifier(name);
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      await client.query(`CREATE ROLE ${ident} WITH LOGIN PASSWORD '${randomBytes(12).toString('hex')}' VALID UNTIL '${expires}'`);
      const start = process.hrtime.bigint();
      await dropPostgresUser(client, name, revocation === 'fast' ? FAST_REVOCATION : []);
      const ms = elapsedMs(start);
      if (i >= warmup) samples.push(ms);
    }
  } finally {
    await client.end();
  }
  return summarize(samples);
}
