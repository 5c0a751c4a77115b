/**
 * Starting the server with a database behind it, for everything that needs "a Vault that mints
 * PostgreSQL logins": `npm start` (scripts/dev-start.ts), the bench (bench/vault-child.ts) and tests.
 */
import type { Clock } from './clock.js';
import { startVaultServer, type VaultTestServer } from './server.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export type { TestPostgres, VaultTestServer };

export interface VaultWithDatabase {
  readonly vault: VaultTestServer;
  readonly pg: TestPostgres;
  /** Database role: `database/creds/<dbRole>` mints PostgreSQL logins. */
  readonly dbRole: string;
  /** ACL policies that allow reading those creds (`jit-demo-db`). */
  readonly policies: string[];
  stop(): Promise<void>;
}

const DB_ROLE = 'jit-demo';
const DB_POLICY = 'jit-demo-db';

/** Calls the Vault HTTP API with the root token; throws with the path and status on any non-2xx. */
export async function vaultApi(
  vault: { address: string; rootToken: string },
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  token = vault.rootToken,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${vault.address}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function mustWrite(vault: VaultTestServer, path: string, body: unknown): Promise<void> {
  const res = await vaultApi(vault, 'POST', path, body);
  if (res.status >= 300) throw new Error(`vault fixture: ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

/**
 * A Vault-compatible server whose database engine manages roles in a real PostgreSQL, with a role
 * `jit-demo` and a policy `jit-demo-db` that may read its creds. Stop it when done.
 */
export async function startVaultWithDatabase(options: { clock?: Clock } = {}): Promise<VaultWithDatabase> {
  const pg = await startPostgres();
  let vault: VaultTestServer | undefined;
  try {
    vault = await startVaultServer(options.clock ? { clock: options.clock } : {});
    await mustWrite(vault, 'database/config/jit-pg', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@${pg.host}:${pg.port}/postgres`,
      username: pg.user,
      password: pg.password,
      allowed_roles: [DB_ROLE],
    });
    await mustWrite(vault, `database/roles/${DB_ROLE}`, {
      db_name: 'jit-pg',
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
      default_ttl: '1h',
      max_ttl: '24h',
    });
    await mustWrite(vault, `sys/policies/acl/${DB_POLICY}`, {
      policy: `path "database/creds/${DB_ROLE}" {\n  capabilities = ["read"]\n}\n`,
    });
  } catch (err) {
    await vault?.close();
    await pg.stop();
    throw err;
  }
  const started = vault;
  return {
    vault: started,
    pg,
    dbRole: DB_ROLE,
    policies: [DB_POLICY],
    stop: async () => {
      try {
        await started.close();
      } finally {
        await pg.stop();
      }
    },
  };
}
