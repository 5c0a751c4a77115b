/**
 * Telling the requester who decided: jitgated as a process (SQLite, and once PostgreSQL), `jitgate`
 * as processes, the Vault-compatible server, a stand-in for Slack's Web API that checks views.open
 * as Slack does, and signed callbacks posted the way Slack and a webhook sender post them. The step's
 * output names each approver with the channel the decision came through and their comment; a
 * denial names who and why; the channel is stored and survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { webhookSignatureHeaders } from '../../src/daemon/notify/signing.js';
import { cli, contextFlags, DaemonProcess, fileExists, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { postgresState, type PostgresState } from '../support/postgres-state.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';
import { httpBaseOf } from '../support/web-daemon.js';
import { signSlack, slackClickBody, startHookReceiver, type HookReceiver } from '../daemon/notify/notify-fixture.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: token-needs-two
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 2, from: [user:bob, user:carol, user:dave], expires_after: 5m }
  - name: everything-else
    decision: deny`;

const TOKEN = 'xoxb-4242-tell-requester-token';
const SIGNING_SECRET = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const HOOK_SECRET = 'whsec-tell-0123456789abcdef0123456789ab';
const CONTEXT = contextFlags('c'.repeat(40));

interface StoredApproval {
  name: string;
  channel: string;
  trust: string;
  decision: string;
  comment?: string;
}

/** A daemon with Slack (pointed at the stand-in) and a webhook sender acting as dave. */
async function startDaemon(env: VaultWithDatabase, slack: SlackApiServer, hooks: HookReceiver, dir: string, state?: string): Promise<DaemonProcess> {
  const secret = async (name: string, value: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, `${value}\n`, { mode: 0o600 });
    return path;
  };
  return DaemonProcess.start({
    vaultEnv: env,
    policies: POLICIES,
    ...(state === undefined ? {} : { state }),
    extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack:
      token_file: ${await secret('slack-token', TOKEN)}
      signing_secret_file: ${await secret('slack-signing', SIGNING_SECRET)}
      channel: "#deploys"
      team_id: T0ACME
      users: { U0CAROL: carol, U0BOB: bob }
      api_url: ${slack.url}
  - webhook:
      url: ${hooks.url}
      secret_file: ${await secret('hook-secret', HOOK_SECRET)}
      decisions: { identity: dave }`,
  });
}

/** Posts a form body to the daemon's Slack endpoint, signed with the app's signing secret, as Slack does. */
async function postSlack(base: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlack(SIGNING_SECRET, body, Date.now()) },
    body,
  });
  return { status: res.status, text: await res.text() };
}

async function postDecision(base: string, decision: Record<string, unknown>): Promise<{ status: number; json: unknown }> {
  const body = JSON.stringify(decision);
  const res = await fetch(`${base}/webhook/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...webhookSignatureHeaders(HOOK_SECRET, body, Date.now()) },
    body,
  });
  return { status: res.status, json: await res.json() };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts `jitgate run` and waits for its request to show in Slack; returns the run, the id and the message ts. */
async function startRun(daemon: DaemonProcess, slack: SlackApiServer, dir: string): Promise<{ run: Proc; id: string; ts: string; out: string }> {
  const out = await mkdtemp(join(dir, 'step-'));
  await mkdir(out, { recursive: true });
  const run = startCli(['run', '--resource', 'demo-token', '--reason', 'deploy', ...CONTEXT, '--', process.execPath, STEP], { ...daemon.env, OUT_DIR: out });
  const [, id] = await run.waitFor(/request (req_[a-z0-9]+)/);
  assert.ok(id);
  let ts = '';
  await until(() => {
    const posted = slack.accepted('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes(id));
    const postedTs = (posted?.reply as { ts?: unknown } | undefined)?.ts;
    ts = typeof postedTs === 'string' ? postedTs : '';
    return ts !== '';
  }, 'the Slack message');
  return { run, id, ts, out };
}

/**
 * A click on one of the modal buttons, then the modal's submission with `text`: returns the
 * daemon's answer to the submission (empty 200 closes the modal; `response_action: errors` keeps it).
 */
async function slackModalDecision(
  base: string,
  slack: SlackApiServer,
  click: { user: string; action: 'jitgate_approve_comment' | 'jitgate_deny_reason'; id: string; ts: string },
  text: string,
): Promise<{ status: number; text: string }> {
  const opened = slack.views.length;
  const body = slackClickBody({ user: click.user, action: click.action, requestId: click.id, messageTs: click.ts, channelId: slack.channelId, triggerId: slack.issueTrigger() });
  assert.equal((await postSlack(base, body)).status, 200);
  await until(() => slack.views.length === opened + 1, 'views.open');
  const view = slack.views.at(-1);
  assert.ok(view);
  const payload = slack.submission(view.id, click.user, text);
  return postSlack(base, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
}

async function storedApprovals(daemon: DaemonProcess, id: string): Promise<StoredApproval[]> {
  const listed = await cli(['list', '--all', '--json', '--as', 'bob'], daemon.env);
  assert.equal(listed.code, 0, listed.stderr);
  const request = (JSON.parse(listed.stdout) as { id: string; approvals: StoredApproval[] }[]).find((r) => r.id === id);
  assert.ok(request, `${id} is listed`);
  return request.approvals;
}

/**
 * carol approves in Slack through the modal with a comment, bob with `jitgate approve --comment`:
 * the step's output names both with their channels and comments, the audit records the channels,
 * and after a restart ListRequests still shows them.
 */
async function approvedThroughSlackAndCli(daemon: DaemonProcess, slack: SlackApiServer, dir: string): Promise<void> {
  const base = await httpBaseOf(daemon);
  const { run, id, ts, out } = await startRun(daemon, slack, dir);
  const submitted = await slackModalDecision(base, slack, { user: 'U0CAROL', action: 'jitgate_approve_comment', id, ts }, 'lgtm, "tested" on staging');
  assert.deepEqual(submitted, { status: 200, text: '' });
  await run.waitFor(/1\/2 so far/);
  const approved = await cli(['approve', id, '--as', 'bob', '--comment', 'ship it'], daemon.env);
  assert.equal(approved.code, 0, approved.stderr);

  const result = await run.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(fileExists(join(out, 'ran')), 'the step ran');
  assert.match(result.stderr, new RegExp(`request ${id} approved \\(2/2\\) by carol \\(Slack\\): "lgtm, \\\\"tested\\\\" on staging", bob \\(CLI\\): "ship it"; minting credentials`));

  const audit = await daemon.audit();
  const recorded = audit.filter((r) => r.type === 'approval.recorded' && r.requestId === id).map((r) => [(r.approver as { name: string }).name, r.channel, r.comment]);
  assert.deepEqual(recorded, [
    ['carol', 'slack', 'lgtm, "tested" on staging'],
    ['bob', 'cli', 'ship it'],
  ]);

  await daemon.stop();
  await daemon.launch();
  const approvals = await storedApprovals(daemon, id);
  assert.deepEqual(
    approvals.map((a) => [a.name, a.channel, a.trust, a.comment]),
    [
      ['carol', 'slack', 'slack', 'lgtm, "tested" on staging'],
      ['bob', 'cli', 'local', 'ship it'],
    ],
  );
}

describe('end to end: telling the requester who decided', () => {
  let env: VaultWithDatabase;
  let slack: SlackApiServer;
  let hooks: HookReceiver;
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;

  before(async () => {
    env = await startVaultWithDatabase();
    slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
    hooks = await startHookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-tell-'));
    daemon = await startDaemon(env, slack, hooks, dir);
    base = await httpBaseOf(daemon);
  });
  after(async () => {
    await daemon.close();
    await slack.close();
    await hooks.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an approval through Slack (modal with a comment) and the CLI shows both names, channels and comments; the channels survive a restart', async () => {
    await approvedThroughSlackAndCli(daemon, slack, dir);
    base = await httpBaseOf(daemon);
  });

  it('a Slack denial through the modal reaches the step with who and the reason; Slack will not submit it without one', async () => {
    const { run, id, ts } = await startRun(daemon, slack, dir);
    await assert.rejects(slackModalDecision(base, slack, { user: 'U0CAROL', action: 'jitgate_deny_reason', id, ts }, ''), /required/);
    // Text the gate would refuse keeps the modal open with the problem under the field, and records nothing.
    const refused = await postSlack(base, new URLSearchParams({ payload: JSON.stringify(slack.submission(slack.views.at(-1)?.id ?? '', 'U0CAROL', 'no\u0007')) }).toString());
    assert.equal(refused.status, 200);
    assert.deepEqual(JSON.parse(refused.text), { response_action: 'errors', errors: { jitgate_comment: 'Remove the control characters.' } });
    const denied = await slackModalDecision(base, slack, { user: 'U0CAROL', action: 'jitgate_deny_reason', id, ts }, 'wrong commit, use the next one');
    assert.deepEqual(denied, { status: 200, text: '' });

    const result = await run.exited;
    assert.equal(result.code, 77, result.stderr);
    assert.match(result.stderr, new RegExp(`jitgate: access denied: denied by carol \\(Slack\\): wrong commit, use the next one \\(request ${id}\\)`));
    const [denial] = await storedApprovals(daemon, id);
    assert.deepEqual(denial && [denial.name, denial.channel, denial.decision, denial.comment], ['carol', 'slack', 'deny', 'wrong commit, use the next one']);
  });

  it('a webhook decision carries a comment (or a reason) to the step, on the webhook channel', async () => {
    const { run, id } = await startRun(daemon, slack, dir);
    const both = await postDecision(base, { request_id: id, decision: 'approve', comment: 'CHG-1 ok', reason: 'twice' });
    assert.equal(both.status, 400);
    const sent = await postDecision(base, { request_id: id, decision: 'approve', comment: 'CHG-1 ok' });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    await run.waitFor(/1\/2 so far/);
    const approved = await cli(['approve', id, '--as', 'bob'], daemon.env);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`request ${id} approved \\(2/2\\) by dave \\(webhook\\): "CHG-1 ok", bob \\(CLI\\); minting credentials`));

    const second = await startRun(daemon, slack, dir);
    const deny = await postDecision(base, { request_id: second.id, decision: 'deny', reason: 'change freeze' });
    assert.equal(deny.status, 200, JSON.stringify(deny.json));
    const denied = await second.run.exited;
    assert.equal(denied.code, 77, denied.stderr);
    assert.match(denied.stderr, /denied by dave \(webhook\): change freeze/);
  });
});

describe('end to end: telling the requester who decided, on the PostgreSQL store', () => {
  let env: VaultWithDatabase;
  let slack: SlackApiServer;
  let hooks: HookReceiver;
  let daemon: DaemonProcess;
  let dir: string;
  let pgState: PostgresState;

  before(async () => {
    env = await startVaultWithDatabase();
    slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
    hooks = await startHookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-tell-pg-'));
    // The Vault-compatible server's PostgreSQL, with a database of jitgate's own.
    pgState = await postgresState(env, dir);
    daemon = await startDaemon(env, slack, hooks, dir, `state: ${pgState.value}`);
  });
  after(async () => {
    await daemon.close();
    await slack.close();
    await hooks.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an approval through Slack and the CLI shows both in the step; PostgreSQL keeps the channels across a restart', async () => {
    await approvedThroughSlackAndCli(daemon, slack, dir);
    const client = new pg.Client({ connectionString: env.pg.url.replace(/\/postgres$/, `/${pgState.database}`) });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; channel: string }>('SELECT name, channel FROM approvals ORDER BY seq');
      assert.deepEqual(rows.map((r) => [r.name, r.channel]), [['carol', 'slack'], ['bob', 'cli']]);
    } finally {
      await client.end();
    }
  });
});
