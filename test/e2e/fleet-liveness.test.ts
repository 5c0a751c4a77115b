/**
 * Fleet liveness (issue 13, acceptance 4): three real jitgated A, B and C on one PostgreSQL, with
 * the Vault-compatible server, heartbeats every 1 s, declared dead after 3 s. A daemon that dies
 * holding a grant and a waiting request is swept by exactly one of the others: the grant revoked
 * at Vault (token, lease, database role), the request denied `owner lost`, all in that sweeper's
 * audit log. A daemon that was declared dead (killed and restarted, or only paused) rejoins.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessorAlive, contextFlags, eventually, fileExists, leaseAlive, roleExists, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { FLEET_FAULT_POLICIES, startFleet, type Fleet } from '../support/fleet.js';

const POLICIES = FLEET_FAULT_POLICIES;

let fleet: Fleet;
const runs: Proc[] = [];

function node(name: string): Fleet['nodes'][string] {
  const found = fleet.nodes[name];
  assert.ok(found, `node ${name}`);
  return found;
}

/** `jitgate run` on node `name`; the step records its credentials in `out` and sleeps `sleepMs`. */
async function run(name: string, resource: 'demo-db' | 'demo-token', sleepMs = 0): Promise<{ run: Proc; out: string }> {
  const out = await mkdtemp(join(fleet.dir, `step-${name}-`));
  const env = { ...node(name).daemon.env, PGHOST: fleet.env.pg.host, PGPORT: String(fleet.env.pg.port), OUT_DIR: out, ...(sleepMs > 0 ? { STEP_SLEEP_MS: String(sleepMs) } : {}) };
  const proc = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], env);
  runs.push(proc);
  return { run: proc, out };
}

interface HeldGrant {
  readonly requestId: string;
  readonly grantId: string;
  readonly accessor: string;
  readonly leaseId: string;
  readonly pgUser: string;
}

/** A step on `name` holding a demo-db grant (token + database lease), its step still running. */
async function holdGrant(name: string): Promise<HeldGrant> {
  const { out } = await run(name, 'demo-db', 120_000);
  assert.ok(await eventually(() => Promise.resolve(fileExists(join(out, 'sleeping'))), 20_000), 'the step runs with its credentials');
  const secrets = JSON.parse(await readFile(join(out, 'secrets.json'), 'utf8')) as { PGUSER?: string };
  assert.ok(secrets.PGUSER);
  const rows = await fleet.query<{ id: string; request_id: string; accessor: string; lease_ids: string[] }>(
    `SELECT id, request_id, accessor, lease_ids FROM grants WHERE owner_node = $1 AND status = 'live' ORDER BY created_at DESC LIMIT 1`,
    [name],
  );
  const grant = rows[0];
  assert.ok(grant?.accessor && grant.lease_ids[0]);
  assert.equal(await accessorAlive(fleet.env, grant.accessor), true);
  assert.equal(await roleExists(fleet.env, secrets.PGUSER), true);
  return { requestId: grant.request_id, grantId: grant.id, accessor: grant.accessor, leaseId: grant.lease_ids[0], pgUser: secrets.PGUSER };
}

/** A step on `name` waiting for approval; resolves with its request id. */
async function waitForApproval(name: string): Promise<{ id: string; run: Proc }> {
  const { run: proc } = await run(name, 'demo-token');
  const [, id] = await proc.waitFor(/request (req_[a-z0-9]+)/);
  assert.ok(id);
  return { id, run: proc };
}

async function requestRow(id: string): Promise<{ status: string; status_reason: string | null }> {
  const [row] = await fleet.query<{ status: string; status_reason: string | null }>('SELECT status, status_reason FROM requests WHERE id = $1', [id]);
  assert.ok(row);
  return row;
}

async function gone(held: HeldGrant): Promise<boolean> {
  return !(await accessorAlive(fleet.env, held.accessor)) && !(await leaseAlive(fleet.env, held.leaseId)) && !(await roleExists(fleet.env, held.pgUser));
}

type Record_ = { type: string; [k: string]: unknown };

/** How many records each daemon's audit log holds now: later checks look only past these. */
async function auditMarks(names: readonly string[]): Promise<Map<string, number>> {
  return new Map(await Promise.all(names.map(async (name) => [name, (await node(name).daemon.audit()).length] as const)));
}

/** The records each daemon wrote since `marks` about the dead node, the grant or the requests. */
async function sweeperRecords(marks: Map<string, number>, held: HeldGrant, waitingId: string): Promise<Map<string, Record_[]>> {
  const found = new Map<string, Record_[]>();
  for (const [name, mark] of marks) {
    const records = (await node(name).daemon.audit())
      .slice(mark)
      .filter((r) => r.grantId === held.grantId || r.requestId === waitingId || r.requestId === held.requestId || r.type === 'fleet.node_dead');
    found.set(name, records);
  }
  return found;
}

/** Exactly one of the daemons in `marks` swept `dead`: returns its records; the others have none about it. */
async function oneSweeper(marks: Map<string, number>, dead: string, held: HeldGrant, waitingId: string): Promise<Record_[]> {
  const byNode = await sweeperRecords(marks, held, waitingId);
  const actors = [...byNode].filter(([, records]) => records.some((r) => r.type === 'grant.revoked' && r.grantId === held.grantId));
  assert.equal(actors.length, 1, `exactly one sweeper revoked the grant: ${JSON.stringify([...byNode.keys()])}`);
  const [actor, records] = actors[0] ?? ['', []];
  for (const [name, other] of byNode) {
    if (name !== actor) assert.deepEqual(other, [], `${name} did not act too`);
  }
  assert.ok(records.some((r) => r.type === 'fleet.node_dead' && r.deadNode === dead));
  assert.ok(records.some((r) => r.type === 'grant.revoke.intent' && r.grantId === held.grantId && r.ownerNode === dead));
  assert.ok(records.some((r) => r.type === 'request.denied' && r.requestId === waitingId && r.reason === 'owner lost'));
  assert.ok(records.some((r) => r.type === 'request.released' && r.requestId === held.requestId && r.reason === 'owner lost'));
  return records;
}

describe('fleet liveness: a dead daemon is swept by one other, and rejoins', () => {
  before(async () => {
    fleet = await startFleet({ names: ['a', 'b', 'c'], policies: POLICIES, groups: '  sre: [bob, carol]', fleetExtras: 'heartbeat_interval: 1s, heartbeat_timeout: 3s' });
  });

  after(async () => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const n of Object.values(fleet.nodes)) if (n.daemon.proc.child.signalCode === 'SIGSTOP') n.daemon.proc.child.kill('SIGCONT');
    await fleet.close();
  });

  it('A killed with a grant and a waiting request: within timeout + 5 s one sweeper revokes and denies (owner lost)', async () => {
    const held = await holdGrant('a');
    const waiting = await waitForApproval('a');
    const marks = await auditMarks(['b', 'c']);
    await node('a').daemon.stop('SIGKILL');
    const killedAt = Date.now();
    assert.ok(await eventually(async () => (await gone(held)) && (await requestRow(waiting.id)).status === 'denied', 8_000), 'swept within 3 s + 5 s');
    assert.ok(Date.now() - killedAt <= 8_500);
    assert.deepEqual(await requestRow(waiting.id), { status: 'denied', status_reason: 'owner lost' });
    assert.deepEqual(await requestRow(held.requestId), { status: 'released', status_reason: 'owner lost' });
    const [grant] = await fleet.query<{ status: string }>('SELECT status FROM grants WHERE id = $1', [held.grantId]);
    assert.equal(grant?.status, 'revoked');
    const [row] = await fleet.query<{ dead_at: string | null }>(`SELECT dead_at FROM nodes WHERE id = 'a'`);
    assert.ok(row?.dead_at !== null, 'a is marked dead');
    await oneSweeper(marks, 'a', held, waiting.id);
  });

  it('A restarted after being declared dead rejoins and serves', async () => {
    await node('a').daemon.launch();
    assert.ok(
      await eventually(async () => (await fleet.query<{ dead_at: string | null }>(`SELECT dead_at FROM nodes WHERE id = 'a'`))[0]?.dead_at === null, 5_000),
      'a cleared its dead mark',
    );
    const { run: proc } = await run('a', 'demo-db');
    const result = await proc.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /step: logged into PostgreSQL/);
    const types = (await node('a').daemon.audit()).map((r) => r.type);
    assert.ok(types.includes('fleet.declared_dead') && types.includes('fleet.rejoined'));
  });

  it('A paused past the timeout is swept, and on waking drops what it held, ends its waiting step and rejoins', async () => {
    const held = await holdGrant('a');
    const waiting = await waitForApproval('a');
    const before = (await node('a').daemon.audit()).filter((r) => r.type === 'fleet.rejoined').length;
    const marks = await auditMarks(['b', 'c']);
    node('a').daemon.proc.child.kill('SIGSTOP');
    try {
      assert.ok(await eventually(async () => (await gone(held)) && (await requestRow(waiting.id)).status === 'denied', 8_000), 'swept while paused');
    } finally {
      node('a').daemon.proc.child.kill('SIGCONT');
    }
    await oneSweeper(marks, 'a', held, waiting.id);
    // Awake: its heartbeat finds the dead mark; the waiting step is told, and A rejoins.
    const ended = await waiting.run.exited;
    assert.notEqual(ended.code, 0);
    assert.match(ended.stderr, /owner lost/);
    assert.ok(
      await eventually(async () => (await node('a').daemon.audit()).filter((r) => r.type === 'fleet.rejoined').length > before, 10_000),
      'a rejoined',
    );
    const { run: proc } = await run('a', 'demo-db');
    const result = await proc.exited;
    assert.equal(result.code, 0, result.stderr);
  });

  it('C stopped cleanly (SIGTERM) leaves the fleet: its row goes and no sweeper declares it dead', async () => {
    const marks = await auditMarks(['a', 'b']);
    const stopped = await node('c').daemon.stop('SIGTERM');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(await fleet.query(`SELECT id FROM nodes WHERE id = 'c'`), []);
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // past the 3 s timeout
    for (const [name, mark] of marks) {
      const dead = (await node(name).daemon.audit()).slice(mark).filter((r) => r.type === 'fleet.node_dead');
      assert.deepEqual(dead, [], `${name} declared nobody dead`);
    }
  });
});
