/**
 * Fleet mode (issue 13), acceptance 1, 2, 3 and 5: three real jitgated processes A, B and C on one
 * PostgreSQL state database, with the Vault-compatible server. A step waits on A; approvers reach
 * B (Slack) and C (CLI over its TCP+TLS listener); A mints and hands the credentials to its step.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { accessorAlive, cli, contextFlags, eventually, leaseAlive, roleExists, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { FLEET_SLACK_SECRET, startFleet, type Fleet } from '../support/fleet.js';
import { signSlack, slackClickBody } from '../daemon/notify/notify-fixture.js';

const POLICIES = `
  - name: db-needs-two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: token-needs-one
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }`;

let fleet: Fleet;
const runs: Proc[] = [];

/** Starts `jitgate run` on node `name`; resolves once its request waits, with its id and output dir. */
async function waitingRun(name: string, resource: 'demo-db' | 'demo-token'): Promise<{ id: string; run: Proc; out: string }> {
  const node = fleet.nodes[name];
  assert.ok(node);
  const out = await mkdtemp(join(fleet.dir, `step-${name}-`));
  const pgEnv = { PGHOST: fleet.env.pg.host, PGPORT: String(fleet.env.pg.port) };
  const run = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...node.daemon.env, ...pgEnv, OUT_DIR: out });
  runs.push(run);
  const [, id] = await run.waitFor(/request (req_[a-z0-9]+)/);
  assert.ok(id);
  return { id, run, out };
}

async function slackClick(name: string, user: string, id: string, action: 'jitgate_approve' | 'jitgate_deny' = 'jitgate_approve'): Promise<number> {
  const node = fleet.nodes[name];
  assert.ok(node);
  const ts = slackTs(id);
  const body = slackClickBody({ user, action, requestId: id, messageTs: ts, channelId: fleet.slack.channelId });
  const res = await fetch(`${node.http}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlack(FLEET_SLACK_SECRET, body, Date.now()) },
    body,
  });
  await res.body?.cancel();
  return res.status;
}

function postedFor(id: string): { ts: string }[] {
  return fleet.slack
    .accepted('chat.postMessage')
    .filter((c) => JSON.stringify(c.args.blocks).includes(id))
    .map((c) => ({ ts: String((c.reply as { ts?: unknown } | undefined)?.ts) }));
}

function slackTs(id: string): string {
  return postedFor(id)[0]?.ts ?? '0';
}

function approveViaTcp(name: string, id: string, as: string): ReturnType<typeof cli> {
  const node = fleet.nodes[name];
  assert.ok(node);
  return cli(['approve', id, '--as', as], node.tcpEnv);
}

async function requestRow(id: string): Promise<{ status: string; owner_node: string; status_reason: string | null }> {
  const [row] = await fleet.query<{ status: string; owner_node: string; status_reason: string | null }>('SELECT status, owner_node, status_reason FROM requests WHERE id = $1', [id]);
  assert.ok(row, `${id} is stored`);
  return row;
}

describe('fleet: three daemons on one PostgreSQL act as one approval service', () => {
  before(async () => {
    fleet = await startFleet({
      names: ['a', 'b', 'c', 'runner', 'plane'],
      policies: POLICIES,
      groups: '  sre: [bob, carol, dave]',
      nodeExtras: { runner: 'role: runner', plane: 'role: plane' },
    });
  });

  after(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await fleet.close();
  });

  it('1: a step on A is approved through B (Slack) and C (CLI over TCP); A mints, the step runs, release revokes; one Slack message, edited', async () => {
    const { id, run, out } = await waitingRun('a', 'demo-db');
    assert.equal((await requestRow(id)).owner_node, 'a');
    assert.ok(await eventually(() => Promise.resolve(postedFor(id).length === 1), 10_000), 'the owner posted the Slack message');

    assert.equal(await slackClick('b', 'U0BOB', id), 200);
    assert.ok(await eventually(async () => (await fleet.query('SELECT 1 FROM approvals WHERE request_id = $1', [id])).length === 1, 10_000));
    const viaC = await approveViaTcp('c', id, 'carol');
    assert.equal(viaC.code, 0, viaC.stderr);

    const ran = await run.exited;
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /approved \(2\/2\)/);
    assert.ok(await readFile(join(out, 'ran'), 'utf8'), 'the step ran');
    const { PGUSER } = JSON.parse(await readFile(join(out, 'secrets.json'), 'utf8')) as { PGUSER: string };

    // Minted on A (its own grant row, its own audit), the approvals recorded on B and C.
    const [grant] = await fleet.query<{ owner_node: string; accessor: string; lease_ids: string[]; status: string }>(
      'SELECT owner_node, accessor, lease_ids, status FROM grants WHERE request_id = $1',
      [id],
    );
    assert.ok(grant);
    assert.equal(grant.owner_node, 'a');
    assert.ok(await eventually(async () => (await fleet.query<{ status: string }>('SELECT status FROM grants WHERE request_id = $1', [id]))[0]?.status === 'revoked', 10_000));
    assert.equal(await accessorAlive(fleet.env, grant.accessor), false, 'the token is revoked at Vault');
    for (const lease of grant.lease_ids) assert.equal(await leaseAlive(fleet.env, lease), false, 'the lease is revoked');
    assert.equal(await roleExists(fleet.env, PGUSER), false, 'the database login is dropped');
    const nodes = await fleet.query<{ subject: string; node: string; channel: string }>('SELECT subject, node, channel FROM approvals WHERE request_id = $1 ORDER BY seq', [id]);
    assert.deepEqual(nodes.map((r) => [r.subject, r.node, r.channel]), [['bob', 'b', 'slack'], ['carol', 'c', 'cli']]);
    const auditA = await fleet.nodes.a?.daemon.audit();
    const auditB = await fleet.nodes.b?.daemon.audit();
    const auditC = await fleet.nodes.c?.daemon.audit();
    assert.ok(auditA?.some((r) => r.type === 'grant.minted' && r.requestId === id), "the mint is in A's log");
    assert.ok(auditB?.some((r) => r.type === 'approval.recorded' && r.requestId === id), "bob's approval is in B's log");
    assert.ok(auditC?.some((r) => r.type === 'approval.recorded' && r.requestId === id), "carol's approval is in C's log");
    assert.ok(auditC?.some((r) => r.type === 'request.approved' && r.requestId === id), 'the quorum is recorded where it was met');
    assert.equal(auditB?.some((r) => r.type === 'grant.minted' && r.requestId === id), false, 'B mints nothing');

    // One Slack message for the fleet, edited in place to show both approvers.
    assert.equal(postedFor(id).length, 1, 'one message, not one per daemon');
    const ts = slackTs(id);
    assert.ok(
      await eventually(() => Promise.resolve(fleet.slack.accepted('chat.update').some((c) => c.args.ts === ts && /bob/.test(JSON.stringify(c.args.blocks)) && /carol/.test(JSON.stringify(c.args.blocks)))), 10_000),
      'the message was edited to show bob and carol',
    );
  });

  it('2: one person through two daemons counts once; the requester is refused anywhere; a racing approve and deny give one final state and at most one mint', async () => {
    const first = await waitingRun('a', 'demo-db');
    assert.equal(await slackClick('b', 'U0BOB', first.id), 200);
    assert.ok(await eventually(async () => (await fleet.query('SELECT 1 FROM approvals WHERE request_id = $1', [first.id])).length === 1, 10_000));
    const again = await approveViaTcp('c', first.id, 'bob');
    assert.equal(again.code, 0, again.stderr);
    await sleep(1500);
    assert.equal((await requestRow(first.id)).status, 'pending', 'bob twice (Slack on B, CLI on C) is one approval of two');
    const own = await approveViaTcp('c', first.id, 'alice');
    assert.equal(own.code, 1);
    assert.match(own.stderr, /the requester cannot approve their own request/);
    const ownOnA = await approveViaTcp('a', first.id, 'alice');
    assert.equal(ownOnA.code, 1, 'refused on the owner too');
    first.run.child.kill('SIGINT');

    // The race: an approval (B) and a denial (C) on a require-1 request, released together.
    for (let round = 0; round < 3; round++) {
      const { id, run } = await waitingRun('a', 'demo-token');
      const [approved, denied] = await Promise.all([approveViaTcp('b', id, 'carol'), cli(['deny', id, '--reason', 'not now', '--as', 'dave'], fleet.nodes.c?.tcpEnv)]);
      const ended = await run.exited;
      const row = await requestRow(id);
      const grants = await fleet.query('SELECT 1 FROM grants WHERE request_id = $1', [id]);
      if (row.status === 'denied') {
        assert.equal(denied.code, 0, denied.stderr);
        assert.equal(approved.code, 1, 'the approval came second: already decided');
        assert.equal(grants.length, 0, 'no mint');
        assert.notEqual(ended.code, 0);
      } else {
        assert.match(row.status, /^(granted|released)$/);
        assert.equal(approved.code, 0, approved.stderr);
        assert.equal(denied.code, 1, 'the denial came second: already decided');
        assert.equal(grants.length, 1, 'exactly one mint');
        assert.equal(ended.code, 0, ended.stderr);
      }
    }
  });

  it('3: jitgate list against any daemon shows the requests of all three', async () => {
    const waiting = await Promise.all(['a', 'b', 'c'].map((name) => waitingRun(name, 'demo-token')));
    for (const name of ['a', 'b', 'c']) {
      const node = fleet.nodes[name];
      assert.ok(node);
      const listed = await cli(['list', '--as', 'bob'], node.tcpEnv);
      assert.equal(listed.code, 0, listed.stderr);
      for (const { id } of waiting) assert.match(listed.stdout, new RegExp(id), `${name} lists ${id}`);
    }
    const owners = await Promise.all(waiting.map(async ({ id }) => (await requestRow(id)).owner_node));
    assert.deepEqual(owners, ['a', 'b', 'c']);
    for (const { run } of waiting) run.child.kill('SIGINT');
  });

  it('WatchRequests on any daemon follows the whole fleet: C sees what waits on A and its approval through B', async () => {
    const c = fleet.nodes.c;
    assert.ok(c);
    const before = await waitingRun('a', 'demo-token');
    const watch = startCli(['watch', '--as', 'bob'], c.tcpEnv);
    runs.push(watch);
    await watch.waitFor(new RegExp(before.id), 10_000);
    const later = await waitingRun('b', 'demo-token');
    await watch.waitFor(new RegExp(later.id), 10_000);
    const approved = await approveViaTcp('b', before.id, 'carol');
    assert.equal(approved.code, 0, approved.stderr);
    await watch.waitFor(new RegExp(`${before.id}\\s+(approved|granted|released)`), 10_000);
    assert.equal((await before.run.exited).code, 0);
    watch.child.kill('SIGINT');
    later.run.child.kill('SIGINT');
  });

  it('fleet.role: a runner takes no decisions, an approval plane serves no build steps', async () => {
    const { id, run } = await waitingRun('a', 'demo-token');
    const onRunner = await approveViaTcp('runner', id, 'carol');
    assert.equal(onRunner.code, 1);
    assert.match(onRunner.stderr, /this daemon is a fleet runner \(fleet.role: runner\): decide on the approval plane/);
    const onPlane = await approveViaTcp('plane', id, 'carol');
    assert.equal(onPlane.code, 0, onPlane.stderr);
    assert.equal((await run.exited).code, 0, 'approved through the plane, minted on A');
    const plane = fleet.nodes.plane;
    assert.ok(plane);
    const step = startCli(['run', '--resource', 'demo-token', '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...plane.daemon.env, OUT_DIR: fleet.dir });
    const refused = await step.exited;
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /this daemon is an approval plane \(fleet.role: plane\): it serves no build steps/);
  });

  it('5: with the LISTEN connection dropped, the approval is still acted on within the reconcile bound', async () => {
    const { id, run } = await waitingRun('a', 'demo-token');
    const a = fleet.nodes.a;
    assert.ok(a);
    // Every jitgated LISTENs on a connection of its own, named so; A's is the one the test cuts.
    const pids = await fleet.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'jitgated-listen' AND datname = current_database()");
    assert.equal(pids.length, 5, 'one LISTEN connection per daemon');
    for (const { pid } of pids) await fleet.query('SELECT pg_terminate_backend($1)', [pid]);
    await a.daemon.proc.waitFor(/fleet notification connection lost/);
    const approved = await approveViaTcp('b', id, 'carol');
    assert.equal(approved.code, 0, approved.stderr);
    // A reconnects after 2 s: only the reconcile (every 1 s) can have told it in this window.
    const minted = await eventually(async () => (await fleet.query('SELECT 1 FROM grants WHERE request_id = $1', [id])).length === 1, 1000 + 500);
    assert.ok(minted, 'minted within the reconcile interval (1 s) and a margin');
    const ended = await run.exited;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(a.daemon.logs, new RegExp(`"requestId":"${id}".*decision found by the reconcile`));
  });
});
