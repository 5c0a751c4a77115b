/**
 * Fleet mode with the state database down (issue 13, acceptance 6): a real jitgated in fleet mode
 * on its own PostgreSQL for state, which the test stops and starts again (the Vault-compatible
 * server's database engine keeps its own PostgreSQL). While it is down: health is NOT_SERVING
 * (gRPC and /healthz), a new request is denied UNAVAILABLE with a clear reason, an approval is
 * refused, and a live grant released meanwhile is still revoked at Vault. Once it is back: SERVING
 * again without a restart, the request left waiting was not granted, and a new request is.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import pg from 'pg';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { accessorAlive, cli, contextFlags, DaemonProcess, eventually, fileExists, leaseAlive, roleExists, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { startStoppablePostgres, type StoppablePostgres } from '../support/stoppable-postgres.js';
import { httpBaseOf } from '../support/web-daemon.js';
import { FLEET_FAULT_POLICIES } from '../support/fleet.js';

const POLICIES = FLEET_FAULT_POLICIES;
const DATABASE = 'jitstate_outage';

type HealthClient = grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

/** The gRPC health status of the daemon on `socket`. */
function health(socket: string): Promise<string | undefined> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } };
  };
  const client = new pkg.grpc.health.v1.Health(`unix:${socket}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.Check({ service: '' }, { deadline: Date.now() + 5_000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res?.status);
    });
  });
}

async function healthz(base: string): Promise<number> {
  const res = await fetch(`${base}/healthz`);
  await res.body?.cancel();
  return res.status;
}

describe('fleet: the state database goes down and comes back', () => {
  let env: VaultWithDatabase;
  let state: StoppablePostgres;
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;
  const runs: Proc[] = [];

  const query = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ host: state.host, port: state.port, user: state.user, password: state.password, database: DATABASE });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };

  const run = async (resource: 'demo-db' | 'demo-token', extra: Record<string, string> = {}): Promise<{ run: Proc; out: string }> => {
    const out = await mkdtemp(join(dir, 'step-'));
    const stepEnv = { ...daemon.env, PGHOST: env.pg.host, PGPORT: String(env.pg.port), OUT_DIR: out, ...extra };
    const proc = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], stepEnv);
    runs.push(proc);
    return { run: proc, out };
  };

  before(async () => {
    env = await startVaultWithDatabase();
    state = await startStoppablePostgres();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-outage-'));
    const admin = new pg.Client({ host: state.host, port: state.port, user: state.user, password: state.password, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    await writeFile(join(dir, 'state-password'), `${state.password}\n`, { mode: 0o600 });
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      state: `state: { postgres: "postgres://${state.user}@${state.host}:${String(state.port)}/${DATABASE}", password_file: ${join(dir, 'state-password')} }`,
      extraConfig: `fleet: { node: solo, heartbeat_interval: 1s, heartbeat_timeout: 3s }
http: { listen: "127.0.0.1:0" }`,
    });
    base = await httpBaseOf(daemon);
  });

  after(async () => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await daemon.close();
    await state.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('denies UNAVAILABLE and reports NOT_SERVING while down, still revokes at release, serves again once back', async () => {
    assert.equal(await health(daemon.socket), 'SERVING');
    assert.equal(await healthz(base), 200);

    // Before the outage: a step holds a grant (it releases during the outage), another waits for approval.
    const held = await run('demo-db', { STEP_SLEEP_MS: '7000' });
    assert.ok(await eventually(() => Promise.resolve(fileExists(join(held.out, 'sleeping'))), 20_000), 'the step runs');
    const [grant] = await query<{ id: string; request_id: string; accessor: string; lease_ids: string[] }>(
      `SELECT id, request_id, accessor, lease_ids FROM grants WHERE status = 'live' ORDER BY created_at DESC LIMIT 1`,
    );
    assert.ok(grant?.accessor && grant.lease_ids[0]);
    const { PGUSER: pgUser } = JSON.parse(await readFile(join(held.out, 'secrets.json'), 'utf8')) as { PGUSER?: string };
    assert.ok(pgUser);
    const waiting = await run('demo-token');
    const [, waitingId] = await waiting.run.waitFor(/request (req_[a-z0-9]+)/);
    assert.ok(waitingId);

    await state.down();
    assert.ok(await eventually(async () => (await health(daemon.socket)) === 'NOT_SERVING', 5_000), 'gRPC health NOT_SERVING');
    assert.equal(await healthz(base), 503);

    const denied = await (await run('demo-db')).run.exited;
    assert.equal(denied.code, 69, denied.stderr);
    assert.match(denied.stderr, /state store unavailable/);
    assert.doesNotMatch(denied.stdout, /step: logged into PostgreSQL/);
    const approval = await cli(['approve', waitingId, '--as', 'bob'], daemon.env);
    assert.notEqual(approval.code, 0, 'no decision is recorded while the database is down');

    // The held step ends during the outage: its release still revokes at Vault.
    const released = await held.run.exited;
    assert.equal(released.code, 0, released.stderr);
    assert.equal(await health(daemon.socket), 'NOT_SERVING', 'still down when the grant was released');
    assert.equal(await accessorAlive(env, grant.accessor), false, 'token revoked');
    assert.equal(await leaseAlive(env, grant.lease_ids[0]), false, 'lease revoked');
    assert.equal(await roleExists(env, pgUser), false, 'database role dropped');

    await state.up();
    assert.ok(await eventually(async () => (await health(daemon.socket)) === 'SERVING', 10_000), 'SERVING again without a restart');
    assert.equal(await healthz(base), 200);
    const [row] = await query<{ status: string }>('SELECT status FROM requests WHERE id = $1', [waitingId]);
    assert.equal(row?.status, 'pending', 'the approval refused during the outage did not count');
    assert.equal(await query(`SELECT 1 FROM approvals WHERE request_id = $1`, [waitingId]).then((r) => r.length), 0);
    assert.equal(waiting.run.child.exitCode, null, 'the waiting step was not granted');

    const after = await (await run('demo-db')).run.exited;
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /step: logged into PostgreSQL/);

    // What the outage left unwritten (the released grant's rows) is settled by the revocation sweep (every 30 s).
    const settled = async (): Promise<boolean> => {
      const [g] = await query<{ status: string }>('SELECT status FROM grants WHERE id = $1', [grant.id]);
      const [r] = await query<{ status: string }>('SELECT status FROM requests WHERE id = $1', [grant.request_id]);
      return g?.status === 'revoked' && r?.status === 'released';
    };
    assert.ok(await eventually(settled, 40_000), 'state catches up with the release made during the outage');
  });

  it('a hung database (every server process paused): NOT_SERVING, UNAVAILABLE, and release revokes at Vault without waiting for it', async () => {
    const held = await run('demo-db', { STEP_SLEEP_MS: '3000' });
    assert.ok(await eventually(() => Promise.resolve(fileExists(join(held.out, 'sleeping'))), 20_000), 'the step runs');
    const sleepingAt = Date.now();
    const [grant] = await query<{ accessor: string; lease_ids: string[] }>(`SELECT accessor, lease_ids FROM grants WHERE status = 'live' ORDER BY created_at DESC LIMIT 1`);
    assert.ok(grant?.accessor && grant.lease_ids[0]);

    await state.pause();
    try {
      assert.ok(await eventually(async () => (await health(daemon.socket)) === 'NOT_SERVING', 4_000), 'a heartbeat unanswered for an interval is NOT_SERVING');
      const denied = (await run('demo-db')).run.exited;
      // The step releases 3 s after it started; the state store's writes hang for their 6 s timeout.
      const revoked = await eventually(
        async () => !(await accessorAlive(env, grant.accessor)) && !(await leaseAlive(env, grant.lease_ids[0] ?? '')),
        sleepingAt + 7_000 - Date.now(),
      );
      assert.ok(revoked, 'revoked at Vault while the database hangs, not after its timeouts');
      const result = await denied;
      assert.equal(result.code, 69, result.stderr);
      assert.match(result.stderr, /state store unavailable/);
      assert.doesNotMatch(result.stdout, /step: logged into PostgreSQL/);
    } finally {
      await state.resume();
    }
    assert.ok(await eventually(async () => (await health(daemon.socket)) === 'SERVING', 15_000), 'SERVING again');
    assert.equal((await held.run.exited).code, 0);
    const after = await (await run('demo-db')).run.exited;
    assert.equal(after.code, 0, after.stderr);
  });
});
