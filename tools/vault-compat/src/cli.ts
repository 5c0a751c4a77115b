/**
 * `npm run dev:vault`: the Vault test server standalone, announced like `vault server -dev`.
 *   --port N          listen port (default 8200; 0 = any free port)
 *   --host ADDR       listen address (default 127.0.0.1)
 *   --root-token T    root token (default: random)
 *   --postgres        also start embedded PostgreSQL and configure database/config/dev + role dev
 *   --storage FILE    keep tokens, leases, policies and database settings in FILE (storage.ts)
 */
import { parseArgs } from 'node:util';
import { startVaultServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8200' },
    host: { type: 'string', default: '127.0.0.1' },
    'root-token': { type: 'string' },
    postgres: { type: 'boolean', default: false },
    storage: { type: 'string' },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${JSON.stringify(values.port)}\n`);
  process.exit(2);
}

const vault = await startVaultServer({
  port,
  host: values.host,
  ...(values['root-token'] ? { rootToken: values['root-token'] } : {}),
  ...(values.storage ? { storageFile: values.storage } : {}),
});
let stopPostgres: (() => Promise<void>) | null = null;

async function api(method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${vault.address}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

try {
  if (values.postgres) {
    const { startPostgres } = await import('./postgres.js');
    const pg = await startPostgres();
    stopPostgres = () => pg.stop();
    await api('POST', 'database/config/dev', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@${pg.host}:${pg.port}/postgres?sslmode=disable`,
      username: pg.user,
      password: pg.password,
      allowed_roles: ['dev'],
    });
    await api('POST', 'database/roles/dev', {
      db_name: 'dev',
      creation_statements: ['CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';'],
      default_ttl: '1h',
      max_ttl: '24h',
    });
    process.stdout.write(`PostgreSQL: ${pg.host}:${pg.port} (database/config/dev, role dev)\n`);
  }
} catch (err) {
  process.stderr.write(`startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await vault.close();
  await stopPostgres?.();
  process.exit(1);
}

process.stdout.write(
  [
    values.storage ? `WARNING! jitgate Vault test server: state in ${values.storage}, for tests and local development only.` : 'WARNING! jitgate Vault test server: in-memory, for tests and local development only.',
    '',
    'You may need to set the following environment variables:',
    '',
    `    $ export VAULT_ADDR='${vault.address}'`,
    `    $ export VAULT_TOKEN='${vault.rootToken}'`,
    '',
    `Root Token: ${vault.rootToken}`,
    `Api Address: ${vault.address}`,
    '',
    '',
  ].join('\n'),
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vault.close();
  await stopPostgres?.();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
