// The build step each chaos client runs under `jitgate run`: proves the credentials work (logs into
// PostgreSQL when it has a login), hands them to the chaos script through a private file (never
// stdout), then lingers for STEP_SLEEP_MS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const out = process.env.OUT_DIR;
if (!out) throw new Error('OUT_DIR not set');
writeFileSync(
  join(out, 'secrets.json'),
  JSON.stringify({ PGUSER: process.env.PGUSER, PGPASSWORD: process.env.PGPASSWORD, VAULT_TOKEN: process.env.VAULT_TOKEN }),
  { mode: 0o600 },
);
let client;
if (process.env.PGUSER) {
  client = new pg.Client({ database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect().catch(() => undefined);
}
writeFileSync(join(out, 'ran'), String(process.pid));
await new Promise((res) => setTimeout(res, Number(process.env.STEP_SLEEP_MS ?? 0)));
await client?.end().catch(() => undefined);
process.exit(0);
