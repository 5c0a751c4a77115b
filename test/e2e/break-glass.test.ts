/**
 * Break-glass (issue 12), through the real daemon: real gRPC on the Unix socket, the
 * Vault-compatible server, the SQLite store and (second suite) the PostgreSQL store. An on-call
 * approver grants a pending request without quorum, with a mandatory reason; every notifier
 * (Slack, mail, webhook) announces it, the audit and the metric record it, the grant's TTL is cut to
 * `max_ttl`, and the request stays on `list --needs-review` until someone else reviews it. The
 * refusals: outside the group, no or a short reason, a rule without break-glass, the requester.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, contextFlags, DaemonProcess, eventually, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { postgresState } from '../support/postgres-state.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { httpBaseOf } from '../support/web-daemon.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: db-needs-two-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
    break_glass: { groups: [oncall], max_ttl: 30s }
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

// alice is the actor of every run below (contextFlags), and on call too: she may not break her own.
const GROUPS = `  sre: [bob, carol]
  oncall: [olga, alice]`;

const TOKEN = 'xoxb-3333-4444-break-glass-test';
const REASON = 'INC-1234: primary db down, approvers asleep';

interface Hooks {
  readonly url: string;
  readonly events: { event: string; request: { id: string; breakGlass?: { name: string; reason: string } } }[];
  close(): Promise<void>;
}

/** A webhook receiver that keeps every delivery. */
async function startHooks(): Promise<Hooks> {
  const events: Hooks['events'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Hooks['events'][number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/hook`,
    events,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Starts `jitgate run` for `resource`; resolves with its request id once it waits. */
async function waitingRun(daemon: DaemonProcess, dir: string, resource: string, runs: Proc[]): Promise<{ id: string; run: Proc; out: string }> {
  const out = await mkdtemp(join(dir, 'step-'));
  const pgEnv = { PGHOST: daemon.vaultEnv.pg.host, PGPORT: String(daemon.vaultEnv.pg.port) };
  const run = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...daemon.env, ...pgEnv, OUT_DIR: out });
  runs.push(run);
  const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
  assert.ok(id);
  return { id, run, out };
}

describe('break-glass on the SQLite store: loud, accountable, reviewed', () => {
  let env: VaultWithDatabase;
  let slack: SlackApiServer;
  let smtp: SmtpSink;
  let hooks: Hooks;
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;
  const runs: Proc[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
    smtp = await startSmtpSink();
    hooks = await startHooks();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-glass-'));
    await writeFile(join(dir, 'slack-token'), `${TOKEN}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'slack-signing'), 'slack-signing-secret-for-glass\n', { mode: 0o600 });
    await writeFile(join(dir, 'hook-secret'), 'webhook-secret-for-glass\n', { mode: 0o600 });
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      groups: GROUPS,
      extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0BOB: bob }, api_url: "${slack.url}" }
  - email: { smtp: { host: ${smtp.host}, port: ${String(smtp.port)}, tls: none }, from: jitgate@acme.test, to: [sre@acme.test] }
  - webhook: { url: "${hooks.url}", secret_file: ${join(dir, 'hook-secret')} }`,
    });
    base = await httpBaseOf(daemon);
  });

  after(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await daemon.close();
    await hooks.close();
    await smtp.close();
    await slack.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an on-call approver grants without quorum: the step runs with a TTL cut to max_ttl, and every notifier, the audit and the metric say so', async () => {
    const { id, run, out } = await waitingRun(daemon, dir, 'demo-db', runs);
    const broke = await cli(['break-glass', id, '--reason', REASON, '--as', 'olga'], daemon.env);
    assert.equal(broke.code, 0, broke.stderr);
    assert.match(broke.stdout, /BREAK-GLASS, needs review/);
    const ran = await run.exited;
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, new RegExp(`request ${id} granted by BREAK-GLASS \\(by olga \\(local\\): ${REASON}\\), without approvals`));
    assert.match(ran.stderr, /granted demo-db for 30s/, 'the TTL is cut from 60s to break_glass.max_ttl');
    assert.equal(await readFile(join(out, 'ran'), 'utf8').then(() => true), true, 'the step ran');

    const audit = await daemon.audit();
    const record = audit.find((r) => r.type === 'request.break_glass' && r.requestId === id);
    assert.ok(record, 'audited as request.break_glass');
    assert.equal(record.reason, REASON);
    assert.deepEqual(record.approver, { subject: 'olga', name: 'olga', trust: 'local' });
    assert.equal(record.ttlMs, 30_000);
    const intent = audit.find((r) => r.type === 'grant.mint.intent' && r.requestId === id);
    assert.equal(intent?.ttlMs, 30_000);

    assert.ok(await eventually(() => Promise.resolve(hooks.events.some((e) => e.event === 'break_glass' && e.request.id === id)), 10_000), 'the webhook announced it');
    const hook = hooks.events.find((e) => e.event === 'break_glass');
    assert.deepEqual([hook?.request.breakGlass?.name, hook?.request.breakGlass?.reason], ['olga', REASON]);
    assert.ok(
      await eventually(() => Promise.resolve(slack.accepted('chat.postMessage').some((c) => JSON.stringify(c.args).includes('BREAK-GLASS'))), 10_000),
      'Slack got a message of its own',
    );
    const announced = JSON.stringify(slack.accepted('chat.postMessage').find((c) => JSON.stringify(c.args).includes('BREAK-GLASS'))?.args);
    assert.ok(announced.includes('olga') && announced.includes('INC-1234'), announced);
    assert.ok(await eventually(() => Promise.resolve(smtp.messages.some((m) => m.subject.includes('BREAK-GLASS'))), 10_000), 'a mail announced it');
    const mail = smtp.messages.find((m) => m.subject.includes('BREAK-GLASS'));
    assert.match(mail?.text ?? '', /granted WITHOUT approvals by olga/);
    assert.match(mail?.text ?? '', /INC-1234/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /jitgate_break_glass_total\{resource="demo-db",rule="db-needs-two-sre"\} 1/);

    // Listed for review until someone other than the breaker reviews it.
    const listed = await cli(['list', '--needs-review', '--as', 'bob'], daemon.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}.*BREAK-GLASS, needs review`));
    const own = await cli(['review', id, '--ok', '--as', 'olga'], daemon.env);
    assert.equal(own.code, 1);
    assert.match(own.stderr, /neither whoever broke the glass nor the requester can review it/);
    const requester = await cli(['review', id, '--ok', '--as', 'alice'], daemon.env);
    assert.equal(requester.code, 1, 'nor the requester');
    const bare = await cli(['review', id, '--as', 'bob'], daemon.env);
    assert.equal(bare.code, 64);
    assert.match(bare.stderr, /--ok\/--concern/);
    const reviewed = await cli(['review', id, '--concern', 'why was nobody paged?', '--as', 'bob'], daemon.env);
    assert.equal(reviewed.code, 0, reviewed.stderr);
    assert.match(reviewed.stdout, /BREAK-GLASS reviewed concern/);
    const again = await cli(['review', id, '--ok', '--as', 'carol'], daemon.env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already reviewed by bob/);
    assert.equal((await cli(['list', '--needs-review', '--as', 'bob'], daemon.env)).stdout, 'no requests\n');
    const shown = await cli(['show', id, '--as', 'carol'], daemon.env);
    assert.match(shown.stdout, new RegExp(`BREAK-GLASS by olga \\(local\\): ${REASON}`));
    assert.match(shown.stdout, /reviewed concern by bob \(local\) at .*: why was nobody paged\?/);
    assert.ok((await daemon.audit()).some((r) => r.type === 'request.reviewed' && r.requestId === id && r.verdict === 'concern'));
  });

  it('refuses break-glass outside the group, without or with a short reason, on a rule without it, and by the requester', async () => {
    const { id, run } = await waitingRun(daemon, dir, 'demo-db', runs);
    const outsider = await cli(['break-glass', id, '--reason', REASON, '--as', 'bob'], daemon.env);
    assert.equal(outsider.code, 1);
    assert.match(outsider.stderr, /bob is not in a break-glass group of this rule \(oncall\)/);
    const missing = await cli(['break-glass', id, '--as', 'olga'], daemon.env);
    assert.equal(missing.code, 64);
    assert.match(missing.stderr, /reason/);
    const short = await cli(['break-glass', id, '--reason', 'urgent', '--as', 'olga'], daemon.env);
    assert.equal(short.code, 64);
    assert.match(short.stderr, /--reason.*at least 10 characters/);
    const self = await cli(['break-glass', id, '--reason', REASON, '--as', 'alice'], daemon.env);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /the requester cannot break the glass on their own request/);
    const shown = await cli(['show', id, '--json', '--as', 'bob'], daemon.env);
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'pending', 'nothing was granted');

    const token = await waitingRun(daemon, dir, 'demo-token', runs);
    const noRule = await cli(['break-glass', token.id, '--reason', REASON, '--as', 'olga'], daemon.env);
    assert.equal(noRule.code, 1);
    assert.match(noRule.stderr, /rule "token-needs-sre" does not allow break-glass/);
    const notGlass = await cli(['review', id, '--ok', '--as', 'bob'], daemon.env);
    assert.equal(notGlass.code, 1);
    assert.match(notGlass.stderr, /was not granted by break-glass/);

    const rejected = (await daemon.audit()).filter((r) => r.type === 'approval.rejected' && r.action === 'break-glass');
    assert.equal(rejected.length, 3, 'each refusal that reached the gate is audited');
    for (const [waiting, reqId] of [[run, id], [token.run, token.id]] as const) {
      const denied = await cli(['deny', reqId, '--reason', 'cleanup', '--as', 'bob'], daemon.env);
      assert.equal(denied.code, 0, denied.stderr);
      assert.equal((await waiting.exited).code, 77);
    }
  });
});

describe('break-glass on the PostgreSQL store: the review queue survives a restart', () => {
  let env: VaultWithDatabase;
  let daemon: DaemonProcess;
  let dir: string;
  const runs: Proc[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-glass-pg-'));
    const pgState = await postgresState(env, dir);
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      groups: GROUPS,
      state: `state: ${pgState.value}`,
    });
  });

  after(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await daemon.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the break-glass in PostgreSQL, still needs review after a restart, and takes one review', async () => {
    const { id, run } = await waitingRun(daemon, dir, 'demo-db', runs);
    const broke = await cli(['break-glass', id, '--reason', REASON, '--as', 'olga'], daemon.env);
    assert.equal(broke.code, 0, broke.stderr);
    const ran = await run.exited;
    assert.equal(ran.code, 0, ran.stderr);
    await daemon.stop();
    await daemon.launch();
    const listed = await cli(['list', '--needs-review', '--json', '--as', 'bob'], daemon.env);
    assert.equal(listed.code, 0, listed.stderr);
    const requests = JSON.parse(listed.stdout) as { id: string; breakGlass?: { name: string; reason: string } }[];
    assert.deepEqual(requests.map((r) => [r.id, r.breakGlass?.name, r.breakGlass?.reason]), [[id, 'olga', REASON]]);
    const reviewed = await cli(['review', id, '--ok', '--as', 'carol'], daemon.env);
    assert.equal(reviewed.code, 0, reviewed.stderr);
    assert.equal((await cli(['list', '--needs-review', '--as', 'bob'], daemon.env)).stdout, 'no requests\n');
  });
});
