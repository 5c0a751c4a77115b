import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/free-port.js';
import { startPostgres, type TestPostgres } from '../src/postgres.js';
import { call, configureDatabase, expectStatus, obj, roleExists, str } from './fixtures.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** The CLI on `port` with `--storage file`; resolves once it has printed its root token. */
async function startCli(port: number, file: string): Promise<{ child: ChildProcess; rootToken: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--port', String(port), '--storage', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Api Address:/.test(out)) resolve();
    });
    child.once('exit', (code) => { reject(new Error(`cli exited (${String(code)}): ${out}`)); });
  });
  const rootToken = /Root Token: (\S+)/.exec(out)?.[1];
  assert.ok(rootToken, out);
  return { child, rootToken };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('--storage FILE: a SIGKILLed server started again on the same file', () => {
  let pgServer: TestPostgres;
  let dir: string;
  let child: ChildProcess | null = null;

  before(async () => {
    pgServer = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'vault-storage-'));
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await kill9(child);
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its root token, tokens, leases and database roles, and still revokes and expires them', async () => {
    const port = await freePort('127.0.0.1');
    const file = join(dir, 'state.json');
    const address = `http://127.0.0.1:${port}`;
    const first = await startCli(port, file);
    child = first.child;
    const root = first.rootToken;
    await configureDatabase(address, root, pgServer.url, 'pg', { app: { defaultTtl: '1h', maxTtl: '2h' } });
    expectStatus(await call(address, root, 'POST', 'sys/policies/acl/app-db', { policy: 'path "database/creds/app" { capabilities = ["read"] }' }), 204);
    const long = obj(expectStatus(await call(address, root, 'POST', 'auth/token/create', { policies: ['app-db'], ttl: '1h' }), 200).auth);
    const short = obj(expectStatus(await call(address, root, 'POST', 'auth/token/create', { policies: ['app-db'], ttl: '3s' }), 200).auth);
    const creds = expectStatus(await call(address, str(long.client_token), 'GET', 'database/creds/app'), 200);
    const username = str(obj(creds.data).username);
    const leaseId = str(creds.lease_id);
    assert.equal(await roleExists(pgServer.url, username), true);

    await kill9(first.child);
    const second = await startCli(port, file);
    child = second.child;
    assert.equal(second.rootToken, root, 'the root token survives the restart');

    const accessors = obj(expectStatus(await call(address, root, 'LIST', 'auth/token/accessors'), 200).data).keys as string[];
    assert.ok(accessors.includes(str(long.accessor)), `long-lived token kept: ${accessors.join(',')}`);
    assert.ok(accessors.includes(str(short.accessor)), 'short-lived token kept until it expires');
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: long.accessor }), 200);
    expectStatus(await call(address, root, 'POST', 'sys/leases/lookup', { lease_id: leaseId }), 200);
    const leases = obj(expectStatus(await call(address, root, 'LIST', 'sys/leases/lookup/database/creds/app/'), 200).data).keys as string[];
    assert.deepEqual(leases, [leaseId.slice('database/creds/app/'.length)]);
    // The policy and the database settings came back too: the kept token can mint again.
    expectStatus(await call(address, str(long.client_token), 'GET', 'database/creds/app'), 200);

    // The short token's TTL ran on across the restart.
    await sleep(3500);
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: short.accessor }), 400);

    // Revoking the kept token revokes its leases from before the restart: the role is dropped.
    expectStatus(await call(address, root, 'POST', 'auth/token/revoke-accessor', { accessor: long.accessor }), 204);
    const deadline = Date.now() + 10_000;
    while ((await roleExists(pgServer.url, username)) && Date.now() < deadline) await sleep(100);
    assert.equal(await roleExists(pgServer.url, username), false, 'the database role made before the restart is dropped');
    assert.equal((await call(address, root, 'LIST', 'sys/leases/lookup/database/creds/app/')).status, 404);
    const left = obj(expectStatus(await call(address, root, 'LIST', 'auth/token/accessors'), 200).data).keys as string[];
    assert.equal(left.length, 1, `only the root token is left: ${left.join(',')}`);
  });
});
