/**
 * Audit across a fleet (issue 13, acceptance 7), through a real jitgated with `fleet: { node:
 * runner-a }` on PostgreSQL state: a request is approved, minted, run and released, and every
 * record of the daemon's audit log names `runner-a`; `jitgate audit verify` passes on the file.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, contextFlags, DaemonProcess, startCli, STEP } from '../support/daemon-process.js';
import { postgresState } from '../support/postgres-state.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: db-needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

describe('fleet audit: a fleet daemon names its node in every audit record', () => {
  let env: VaultWithDatabase;
  let daemon: DaemonProcess;
  let dir: string;

  before(async () => {
    env = await startVaultWithDatabase();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-fleet-audit-'));
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      state: `state: ${(await postgresState(env, dir)).value}`,
      extraConfig: 'fleet: { node: runner-a }',
    });
  });
  after(async () => {
    await daemon.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('every record of a full flow names runner-a, and jitgate audit verify passes', async () => {
    const out = join(dir, 'step');
    await mkdir(out);
    const run = startCli(['run', '--resource', 'demo-db', '--reason', 'migrate', ...contextFlags(), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: out,
      PGHOST: env.pg.host,
      PGPORT: String(env.pg.port),
    });
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    const approved = await cli(['approve', id, '--as', 'bob'], daemon.env);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    const stopped = await daemon.stop();
    assert.equal(stopped.code, 0, stopped.stderr);

    const records = await daemon.audit();
    const types = new Set(records.map((r) => r.type));
    for (const type of ['log.opened', 'request.created', 'approval.recorded', 'grant.minted', 'grant.revoked', 'checkpoint']) {
      assert.ok(types.has(type), `the log has ${type}: ${[...types].join(', ')}`);
    }
    for (const record of records) assert.equal(record.node, 'runner-a', `seq ${String(record.seq)} (${record.type}) names runner-a`);

    const verified = await cli(['audit', 'verify', daemon.auditFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`^OK ${String(records.length)} records, `));
  });
});
