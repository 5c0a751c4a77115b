/**
 * Fleet mode with `fleet.mint: plane` (issue 13, acceptance 9), through real processes: an
 * approval-plane jitgated (role plane, Vault credentials, login in `jitgate_plane`) and a runner
 * jitgated (role runner, NO Vault credentials, a login in `jitgate_runner` under the row-level
 * security of deploy/fleet/postgres-roles.sql) on one PostgreSQL, with the Vault-compatible server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../src/daemon/state/postgres-store.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { accessorAlive, cli, contextFlags, DaemonProcess, eventually, fileExists, leaseAlive, roleExists, startCli, STEP, transcript, type Proc } from '../support/daemon-process.js';
import { freePort } from '../support/free-port.js';
import { deniedByPostgres as denied } from '../support/postgres-state.js';

const POLICIES = `
  - name: db-needs-two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: token-auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve`;

const DATABASE = `jitplane_${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(12).toString('hex');

let env: VaultWithDatabase;
let dir: string;
let plane: DaemonProcess;
let runner: DaemonProcess;
let planeTcp: Record<string, string>;
const runs: Proc[] = [];
/** The request of the full flow: granted once, released; the replay attacks below reuse it. */
let grantedId = '';

function urlFor(user: string | null, withPassword: boolean): string {
  const url = new URL(env.pg.url);
  url.pathname = `/${DATABASE}`;
  if (user !== null) {
    url.username = encodeURIComponent(user);
    url.password = withPassword ? PASSWORD : '';
  }
  return url.toString();
}

async function superuser<R extends pg.QueryResultRow>(sql: string, values: unknown[] = [], database = DATABASE): Promise<R[]> {
  const url = new URL(env.pg.url);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function asRunner<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: urlFor('runner-a', true) });
  await client.connect();
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end();
  }
}


function stateLine(login: string): string {
  return `state: { postgres: "${urlFor(login, false)}", password_file: ${join(dir, 'pg-password')} }`;
}

async function waitingRun(resource: 'demo-db' | 'demo-token'): Promise<{ id: string; run: Proc; out: string }> {
  const out = await mkdtemp(join(dir, 'step-'));
  const pgEnv = { PGHOST: env.pg.host, PGPORT: String(env.pg.port) };
  const run = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...runner.env, ...pgEnv, OUT_DIR: out });
  runs.push(run);
  const [, id] = await run.waitFor(/request (req_[a-z0-9]+)/);
  assert.ok(id);
  return { id, run, out };
}

describe('fleet.mint: plane: runner hosts hold no standing power', () => {
  before(async () => {
    env = await startVaultWithDatabase();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-plane-'));
    await superuser(`CREATE DATABASE ${DATABASE}`, [], 'postgres');
    // The schema first (a plane's first start would run the same migrations), then the roles.
    const store = await openPostgresStore({ url: urlFor(null, false) });
    await store.close();
    await superuser(await readFile(join(import.meta.dirname, '../../deploy/fleet/postgres-roles.sql'), 'utf8'));
    await superuser(`CREATE ROLE "plane-1" LOGIN PASSWORD '${PASSWORD}' IN ROLE jitgate_plane`);
    await superuser(`CREATE ROLE "runner-a" LOGIN PASSWORD '${PASSWORD}' IN ROLE jitgate_runner`);
    await writeFile(join(dir, 'pg-password'), `${PASSWORD}\n`, { mode: 0o600 });
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    const tcp = await freePort();
    planeTcp = { JITGATE_ADDRESS: `localhost:${String(tcp)}`, JITGATE_CA_FILE: join(dir, 'tls.crt') };
    plane = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      groups: '  sre: [bob, carol]',
      state: stateLine('plane-1'),
      listenExtras: `tcp: { address: "127.0.0.1:${String(tcp)}", tls: { cert_file: ${join(dir, 'tls.crt')}, key_file: ${join(dir, 'tls.key')} } }`,
      extraConfig: 'fleet: { node: plane-1, role: plane, mint: plane }',
    });
    runner = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      groups: '  sre: [bob, carol]',
      state: stateLine('runner-a'),
      noVaultAuth: true,
      extraConfig: 'fleet: { node: runner-a, role: runner, mint: plane }',
    });
  });

  after(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await runner.close();
    await plane.close();
    await superuser(`DROP DATABASE ${DATABASE} WITH (FORCE)`, [], 'postgres').catch(() => undefined);
    for (const role of ['"plane-1"', '"runner-a"', 'jitgate_plane', 'jitgate_runner']) {
      await superuser(`DROP ROLE IF EXISTS ${role}`, [], 'postgres').catch(() => undefined);
    }
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the runner's own credentials cannot mint: no Vault token at all, and an auto-approved request is refused by the plane", async () => {
    const config = await readFile(runner.configFile, 'utf8');
    assert.doesNotMatch(config, /auth:|token_file|approle/, 'no vault.auth in the runner config');
    assert.equal(fileExists(join(runner.dir, 'vault-token')), false, 'no token file on the runner host');
    const out = await mkdtemp(join(dir, 'auto-'));
    const auto = await startCli(['run', '--resource', 'demo-token', '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...runner.env, OUT_DIR: out }).exited;
    assert.notEqual(auto.code, 0);
    assert.match(auto.stderr, /no approval-plane daemon minted the grant/);
    assert.equal(fileExists(join(out, 'ran')), false, 'nothing ran');
    assert.ok((await plane.audit()).some((r) => r.type === 'grant.plane.refused' && /mints only what approvers approved/.test(String(r.reason))), "the plane's audit says why");
  });

  it("the runner's database role cannot insert an approval, act in another node's name, or change another node's request", async () => {
    const { id, run } = await waitingRun('demo-db');
    await denied(asRunner(`INSERT INTO approvals (request_id, subject, name, trust, decision, at, node) VALUES ($1, 'bob', 'bob', 'local', 'approve', 1, 'runner-a')`, [id]), /permission denied/);
    await denied(
      asRunner(`INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, rule, created_at, expires_at, updated_at, owner_node)
        VALUES ('req_forged', 'demo-db', 'r', '{}', '{}', 60000, 'approved', 'x', 1, 2, 1, 'runner-b')`),
      /row-level security/,
    );
    await superuser(`INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, rule, created_at, expires_at, updated_at, owner_node)
      VALUES ('req_of_b', 'demo-db', 'r', '{}', '{}', 60000, 'pending', 'x', 1, 2, 1, 'runner-b')`);
    const changed = await asRunner(`UPDATE requests SET status = 'denied' WHERE id = 'req_of_b'`);
    assert.equal(changed.rowCount, 0, "runner-b's request is not even visible to runner-a");
    assert.equal((await superuser<{ status: string }>(`SELECT status FROM requests WHERE id = 'req_of_b'`))[0]?.status, 'pending');
    run.child.kill('SIGINT');
  });

  it('the full flow: approved on the plane, minted and wrapped there, unwrapped by the runner, the step runs, revoke-self at release', async () => {
    const { id, run, out } = await waitingRun('demo-db');
    grantedId = id;
    for (const who of ['bob', 'carol']) {
      const approved = await cli(['approve', id, '--as', who], planeTcp);
      assert.equal(approved.code, 0, approved.stderr);
    }
    const ran = await run.exited;
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /approved \(2\/2\)/);
    const { PGUSER, PGPASSWORD } = JSON.parse(await readFile(join(out, 'secrets.json'), 'utf8')) as { PGUSER: string; PGPASSWORD: string };
    assert.equal(transcript.join('').includes(PGPASSWORD), false, 'the minted password is in no output');
    const [grant] = await superuser<{ accessor: string; lease_ids: string[]; status: string; owner_node: string }>('SELECT accessor, lease_ids, status, owner_node FROM grants WHERE request_id = $1', [id]);
    assert.ok(grant);
    assert.equal(grant.owner_node, 'runner-a');
    assert.ok(await eventually(async () => (await superuser<{ status: string }>('SELECT status FROM grants WHERE request_id = $1', [id]))[0]?.status === 'revoked', 10_000));
    assert.equal(await accessorAlive(env, grant.accessor), false, 'revoke-self took the token');
    for (const lease of grant.lease_ids) assert.equal(await leaseAlive(env, lease), false, 'and its lease');
    assert.equal(await roleExists(env, PGUSER), false, 'and the database login');
    assert.equal((await superuser('SELECT 1 FROM wrapped_grants WHERE request_id = $1', [id])).length, 0, 'the spent wrapping token is gone');
    const planeAudit = await plane.audit();
    assert.ok(planeAudit.some((r) => r.type === 'grant.plane.minted' && r.requestId === id), "the mint is in the plane's log");
    assert.ok((await runner.audit()).some((r) => r.type === 'grant.minted' && r.requestId === id), "the hand-out in the runner's");
  });

  it('a runner that rewrites its own rows gets no second grant: not for a changed request, not for the same one again', async () => {
    assert.ok(grantedId, 'the full flow ran');
    const [grant] = await superuser<{ id: string }>('SELECT id FROM grants WHERE request_id = $1', [grantedId]);
    assert.ok(grant);
    const refusals = async (): Promise<string[]> =>
      (await plane.audit()).filter((r) => r.type === 'grant.plane.refused' && r.grantId === grant.id).map((r) => String(r.reason));
    const ask = async (): Promise<void> => {
      await asRunner('SELECT pg_notify($1, $2)', ['jitgate_mints', grant.id]);
    };
    // Root on the runner host: its own grant row back to "minting", its request back to "approved",
    // with a longer TTL than the approvers approved.
    await asRunner(`UPDATE grants SET accessor = NULL, status = 'minting' WHERE id = $1`, [grant.id]);
    await asRunner(`UPDATE requests SET status = 'approved', ttl_ms = 3600000 WHERE id = $1`, [grantedId]);
    await ask();
    assert.ok(await eventually(async () => (await refusals()).some((r) => /not what its approvers approved/.test(r)), 10_000), 'a changed request is refused');
    // The same request as approved, asked again: the plane's own record says it was minted.
    await asRunner('UPDATE requests SET ttl_ms = 60000 WHERE id = $1', [grantedId]);
    await ask();
    assert.ok(await eventually(async () => (await refusals()).some((r) => /already has a grant/.test(r)), 10_000), 'a second mint for one approval is refused');
    assert.equal((await superuser('SELECT 1 FROM wrapped_grants WHERE grant_id = $1', [grant.id])).length, 0, 'nothing was wrapped for it');
    assert.equal((await superuser<{ accessor: string | null }>('SELECT accessor FROM grants WHERE id = $1', [grant.id]))[0]?.accessor, null, 'no token was minted');
  });

  it('a wrapping token unwrapped twice fails the second time, and the runner reports it', async () => {
    // The attacker: a trigger that copies each wrapping token as it is stored and hides the row
    // from the runner until the copy has been used.
    await superuser(`
      CREATE TABLE stolen (token TEXT, grant_id TEXT);
      CREATE FUNCTION steal() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN INSERT INTO stolen VALUES (NEW.wrapping_token, NEW.grant_id); NEW.owner_node := 'hidden'; RETURN NEW; END $$;
      CREATE TRIGGER steal BEFORE INSERT ON wrapped_grants FOR EACH ROW EXECUTE FUNCTION steal();`);
    try {
      const { id, run, out } = await waitingRun('demo-db');
      for (const who of ['bob', 'carol']) assert.equal((await cli(['approve', id, '--as', who], planeTcp)).code, 0);
      assert.ok(await eventually(async () => (await superuser('SELECT 1 FROM stolen')).length === 1, 10_000), 'the token was copied');
      const [copy] = await superuser<{ token: string; grant_id: string }>('SELECT token, grant_id FROM stolen');
      assert.ok(copy);
      const res = await fetch(`${env.vault.address}/v1/sys/wrapping/unwrap`, { method: 'POST', headers: { 'X-Vault-Token': copy.token } });
      await res.body?.cancel();
      assert.equal(res.status, 200, 'the thief unwraps first');
      await superuser(`UPDATE wrapped_grants SET owner_node = 'runner-a' WHERE grant_id = $1`, [copy.grant_id]);
      const ended = await run.exited;
      assert.notEqual(ended.code, 0, 'the step does not run');
      assert.equal(fileExists(join(out, 'ran')), false);
      assert.match(ended.stderr, /wrapping token is invalid: already unwrapped, expired or unknown/);
      assert.match(runner.logs, /the wrapping token was already used, expired or unknown/);
      assert.ok((await runner.audit()).some((r) => r.type === 'grant.mint.failed' && r.requestId === id && /wrapping token is invalid/.test(String(r.reason))));
      // The secret values never reached any output: not the wrapping token, not the child token.
      assert.equal(transcript.join('').includes(copy.token), false, 'the wrapping token is in no output');
    } finally {
      await superuser('DROP TRIGGER steal ON wrapped_grants; DROP FUNCTION steal(); DROP TABLE stolen');
    }
  });
});
