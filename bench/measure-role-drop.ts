import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultPostgresRevocation } from '../tools/vault-compat/src/database.js';
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
 * VALID UNTIL), then dropped, after locking it and ending its sessions, either the way Vault's
 * PostgreSQL plugin does without `revocation_statements` (and tools/vault-compat/src/database.ts
 * with it, the same function: look up the schemas it holds grants in, revoke everything, drop it) or with
 * FAST_REVOCATION. This is the floor under "release → token + lease revoked, role dropped".
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
      await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      await client.query(`ALTER ROLE ${ident} NOLOGIN`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [name]);
      await client.query('BEGIN');
      if (revocation === 'fast') {
        for (const statement of FAST_REVOCATION) await client.query(statement.replaceAll('"{{name}}"', ident));
      } else {
        await defaultPostgresRevocation(client, name);
      }
      await client.query('COMMIT');
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [name]);
      const ms = elapsedMs(start);
      if (i >= warmup) samples.push(ms);
    }
  } finally {
    await client.end();
  }
  return summarize(samples);
}
