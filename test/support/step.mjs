// A build step run by `jitgate run` in end-to-end tests. It proves the credentials work (logs into
// PostgreSQL), hands them to the test through a private file (never stdout), and can linger or fail.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const out = process.env.OUT_DIR;
if (!out) throw new Error('OUT_DIR not set');
writeFileSync(join(out, 'ran'), String(process.pid));
writeFileSync(
  join(out, 'secrets.json'),
  JSON.stringify({ PGUSER: process.env.PGUSER, PGPASSWORD: process.env.PGPASSWORD, VAULT_TOKEN: process.env.VAULT_TOKEN }),
  { mode: 0o600 },
);
let client;
if (process.env.PGUSER) {
  client = new pg.Client({ database: 'postgres' });
  await client.connect();
  await client.query('SELECT 1');
  console.log('step: logged into PostgreSQL');
}
if (process.env.STEP_SLEEP_MS) {
  writeFileSync(join(out, 'sleeping'), '1');
  await new Promise((res) => setTimeout(res, Number(process.env.STEP_SLEEP_MS)));
}
await client?.end().catch(() => undefined);
process.exit(Number(process.env.STEP_EXIT ?? 0));
