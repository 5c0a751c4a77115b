import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

export interface PostgresState {
  /** The database's name, for tests that read jitgate's tables themselves. */
  readonly database: string;
  /** The `state:` section's value, e.g. `{ postgres: "postgres://…", password_file: … }`. */
  readonly value: string;
}

/**
 * A fresh database for jitgated's state in the PostgreSQL the Vault server already runs, reached
 * without an inline password (the config refuses those): the password goes into a file in `dir`.
 */
export async function postgresState(env: VaultWithDatabase, dir: string): Promise<PostgresState> {
  const database = `jitstate_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: env.pg.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const passwordFile = join(dir, 'pg-password');
  await writeFile(passwordFile, `${env.pg.password}\n`, { mode: 0o600 });
  const url = `postgres://${encodeURIComponent(env.pg.user)}@${env.pg.host}:${String(env.pg.port)}/${database}`;
  return { database, value: `{ postgres: "${url}", password_file: ${passwordFile} }` };
}

/** Rejects with PostgreSQL's insufficient_privilege (42501) or an RLS WITH CHECK violation (also 42501). */
export async function deniedByPostgres(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof pg.DatabaseError, String(err));
    assert.equal(err.code, '42501', err.message);
    assert.match(err.message, message);
    return true;
  });
}
