import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../../../src/common/logger.js';
import { createLocalApproverResolver } from '../../../src/daemon/identity/local-approver-resolver.js';
import { validateNotifiersConfig } from '../../../src/daemon/config/notifier-settings.js';
import { startNotifications, type Notifications } from '../../../src/daemon/notify/start-notifications.js';
import { hmacSha256Hex } from '../../../src/daemon/notify/signing.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../../support/gate-fixture.js';
import { startSlackApiServer, type SlackApiCall, type SlackApiServer } from '../../support/slack-api-server.js';
import { startVaultWithDatabase } from '../../../tools/vault-compat/src/start.js';
import { postSlack, signSlack, slackClickBody, waitFor, writeSecret, type SlackClick } from './notify-fixture.js';

const POLICIES = `
  - name: demo-db-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

const TOKEN = 'xoxb-1111-2222-slacktesttoken';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const USERS = { U0BOB: 'bob', U0DAVE: 'dave', U0ALICE: 'alice' };

function blockText(call: SlackApiCall): string {
  return JSON.stringify(call.args.blocks);
}

describe('Slack notifier and interactions', () => {
  let env: VaultEnv;
  let f: GateFixture;
  let slack: SlackApiServer;
  let notifications: Notifications;
  let address: string;

  before(async () => {
    env = await startVaultWithDatabase();
  });
  after(async () => {
    await env.stop();
  });

  beforeEach(async () => {
    f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
    const config = {
      ...f.config,
      http: { listen: '127.0.0.1:0' },
      notifiers: validateNotifiersConfig([
        {
          slack: {
            token_file: await writeSecret(f.dir, 'slack-token', TOKEN),
            signing_secret_file: await writeSecret(f.dir, 'slack-signing', SIGNING_SECRET),
            channel: '#deploys',
            team_id: 'T0ACME',
            users: USERS,
          },
        },
      ]),
    };
    notifications = await startNotifications({ config, gate: f.gate, audit: f.audit, clock: f.clock, logger: silentLogger(), slackApiUrl: slack.url });
    assert.ok(notifications.httpAddress);
    address = notifications.httpAddress;
  });

  afterEach(async () => {
    await notifications.close();
    await f.close();
    await slack.close();
  });

  /** Starts a require-2 request and waits for its Slack message. */
  async function pendingRequest(): Promise<{ probe: StreamProbe; id: string; message: SlackApiCall; ts: string }> {
    const probe = new StreamProbe(f.gate, accessInput());
    const pending = await probe.next('pending');
    await waitFor(() => slack.accepted('chat.postMessage').length === 1, 'the Slack message');
    const message = slack.accepted('chat.postMessage')[0];
    assert.ok(message);
    const ts = String((message.reply as { ts?: unknown }).ts);
    return { probe, id: pending.request.id, message, ts };
  }

  const click = (c: Omit<SlackClick, 'channelId' | 'messageTs'> & { ts: string }): { body: string; headers: Record<string, string> } => {
    const body = slackClickBody({ ...c, channelId: slack.channelId, messageTs: c.ts });
    return { body, headers: signSlack(SIGNING_SECRET, body, f.clock.now()) };
  };

  const approvals = async (id: string): Promise<number> => (await f.gate.getRequest(id)).approvals.length;

  it('posts one message with the verified context; two mapped approvers grant it; the message shows the outcome and who approved (acceptance 1)', async () => {
    const { probe, id, message, ts } = await pendingRequest();
    assert.equal(message.args.channel, '#deploys');
    const text = blockText(message);
    for (const expected of ['acme/api', 'refs/heads/main', 'a'.repeat(40), 'demo-db', '1m', 'alice', 'migrate', '0 of 2', 'group:sre', 'jitgate_approve', 'jitgate_deny']) {
      assert.ok(text.includes(expected), `message shows ${expected}`);
    }
    const buttons = (message.args.blocks as { type: string; elements?: { value?: string; action_id?: string }[] }[]).find((b) => b.type === 'actions');
    assert.deepEqual(
      buttons?.elements?.map((e) => [e.action_id, e.value]),
      [
        ['jitgate_approve', id],
        ['jitgate_approve_comment', id],
        ['jitgate_deny_reason', id],
        ['jitgate_deny', id],
      ],
    );

    const bob = click({ user: 'U0BOB', action: 'jitgate_approve', requestId: id, ts });
    assert.equal((await postSlack(address, bob.body, bob.headers)).status, 200);
    await waitFor(async () => (await approvals(id)) === 1, "bob's approval");
    await waitFor(() => slack.accepted('chat.update').some((c) => blockText(c).includes('1 of 2: bob (Slack)')), 'the message updated with bob');

    const dave = click({ user: 'U0DAVE', action: 'jitgate_approve', requestId: id, ts });
    assert.equal((await postSlack(address, dave.body, dave.headers)).status, 200);
    const granted = await probe.next('granted');
    assert.equal(granted.request.status, 'granted');

    await waitFor(() => slack.accepted('chat.update').some((c) => blockText(c).includes('GRANTED')), 'the message updated with the outcome');
    const final = slack.accepted('chat.update').find((c) => blockText(c).includes('GRANTED'));
    assert.ok(final);
    assert.equal(final.args.ts, ts);
    assert.equal(final.args.channel, slack.channelId);
    assert.match(blockText(final), /2 of 2: bob \(Slack\), dave \(Slack\)/);
    assert.ok(!blockText(final).includes('jitgate_approve'), 'no buttons once decided');
    assert.equal(slack.accepted('chat.postMessage').length, 1, 'one message per request');
    assert.equal(slack.calls.filter((c) => c.method === 'chat.postMessage').length, 1);
    probe.controller.abort();
    await probe.done;
  });

  it('refuses forged, malformed, stale and foreign callbacks with 401 and keeps serving (acceptance 2)', async () => {
    const { probe, id, ts } = await pendingRequest();
    const good = click({ user: 'U0BOB', action: 'jitgate_approve', requestId: id, ts });
    const timestamp = good.headers['x-slack-request-timestamp'] ?? '';
    const sig = good.headers['x-slack-signature'] ?? '';
    const sixMinutesAgo = signSlack(SIGNING_SECRET, good.body, f.clock.now() - 6 * 60_000);
    const otherTeam = click({ user: 'U0BOB', action: 'jitgate_approve', requestId: id, ts, team: 'T0EVIL' });
    const cases: [string, Record<string, string>, string?][] = [
      ['bad signature', { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${hmacSha256Hex('wrong-secret', `v0:${timestamp}:${good.body}`)}` }],
      ['signature of the wrong length', { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': sig.slice(0, -2) }],
      ['signature too long', { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `${sig}00` }],
      ['no v0= prefix', { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': sig.slice(3) }],
      ['missing signature', { 'x-slack-request-timestamp': timestamp }],
      ['timestamp 6 minutes old', sixMinutesAgo],
      ['body altered after signing', good.headers, good.body.replace('jitgate_approve', 'jitgate_deny')],
      ['another team_id', otherTeam.headers, otherTeam.body],
    ];
    for (const [what, headers, body] of cases) {
      const res = await postSlack(address, body ?? good.body, headers);
      assert.equal(res.status, 401, what);
    }
    const garbage = 'payload=%7Bnot-json';
    assert.equal((await postSlack(address, garbage, signSlack(SIGNING_SECRET, garbage, f.clock.now()))).status, 400);
    assert.equal(await approvals(id), 0, 'no state change');
    assert.equal((await f.gate.getRequest(id)).status, 'pending');

    // Still serving: the genuine callback goes through.
    assert.equal((await postSlack(address, good.body, good.headers)).status, 200);
    await waitFor(async () => (await approvals(id)) === 1, 'the genuine approval');
    probe.controller.abort();
    await probe.done;
  });

  it('acts once on a callback delivered twice (acceptance 3)', async () => {
    const { probe, id, ts } = await pendingRequest();
    const deny = click({ user: 'U0BOB', action: 'jitgate_deny', requestId: id, ts });
    const first = await postSlack(address, deny.body, deny.headers);
    const second = await postSlack(address, deny.body, deny.headers);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.match(second.text, /already handled/);
    // Re-signed with a fresh timestamp, as Slack's own retry would be: still the same action.
    const resent = await postSlack(address, deny.body, signSlack(SIGNING_SECRET, deny.body, f.clock.now() + 1000));
    assert.match(resent.text, /already handled/);
    const denied = await probe.next('denied');
    assert.match(denied.reason, /denied by bob \(Slack\): denied in Slack/);
    await notifications.close(); // waits for work acknowledged but not yet done
    const audit = (await readFile(f.config.audit.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; requestId?: string });
    const mine = audit.filter((r) => r.requestId === id);
    assert.equal(mine.filter((r) => r.type === 'approval.denied').length, 1);
    assert.equal(mine.filter((r) => r.type === 'approval.late').length, 0, 'the replay never reached the gate');
    assert.equal(slack.accepted('chat.postEphemeral').length, 0);
  });

  it('counts one person once across Slack and the CLI, and refuses the requester and unmapped users (acceptance 4)', async () => {
    const { probe, id, ts } = await pendingRequest();
    const bobSlack = click({ user: 'U0BOB', action: 'jitgate_approve', requestId: id, ts });
    await postSlack(address, bobSlack.body, bobSlack.headers);
    await waitFor(async () => (await approvals(id)) === 1, "bob's Slack approval");

    const bobCli = await createLocalApproverResolver(f.config.groups).resolve({ 'x-jitgate-approver': 'bob' });
    const afterCli = await f.gate.approve(id, bobCli);
    assert.equal(afterCli.approvals.length, 1, 'bob on the CLI is the same bob');
    assert.equal(afterCli.status, 'pending');

    const aliceSlack = click({ user: 'U0ALICE', action: 'jitgate_approve', requestId: id, ts });
    assert.equal((await postSlack(address, aliceSlack.body, aliceSlack.headers)).status, 200);
    await waitFor(() => slack.accepted('chat.postEphemeral').some((c) => c.args.user === 'U0ALICE'), 'the refusal sent to alice');
    const toAlice = slack.accepted('chat.postEphemeral').find((c) => c.args.user === 'U0ALICE');
    assert.match(String(toAlice?.args.text), /requester cannot approve/);

    const stranger = click({ user: 'U0MALLORY', action: 'jitgate_approve', requestId: id, ts });
    const res = await postSlack(address, stranger.body, stranger.headers);
    assert.equal(res.status, 200);
    assert.match(res.text, /not mapped/);
    await waitFor(() => slack.accepted('chat.postEphemeral').some((c) => c.args.user === 'U0MALLORY'), 'the refusal sent to the stranger');

    const view = await f.gate.getRequest(id);
    assert.equal(view.status, 'pending');
    assert.deepEqual(
      view.approvals.map((a) => [a.subject, a.trust]),
      [['bob', 'slack']],
    );

    const daveSlack = click({ user: 'U0DAVE', action: 'jitgate_approve', requestId: id, ts });
    await postSlack(address, daveSlack.body, daveSlack.headers);
    await probe.next('granted');
    probe.controller.abort();
    await probe.done;
  });

  it('takes a comment through the modal (views.open, then view_submission), and tells the user when the modal cannot open', async () => {
    const { probe, id, ts } = await pendingRequest();
    const post = (body: string): Promise<{ status: number; text: string }> => postSlack(address, body, signSlack(SIGNING_SECRET, body, f.clock.now()));

    // A trigger id Slack never issued (or one already used): views.open refuses it, nothing is recorded, the user is told.
    const stale = click({ user: 'U0BOB', action: 'jitgate_approve_comment', requestId: id, ts, triggerId: 'trigger.never.issued' });
    assert.equal((await postSlack(address, stale.body, stale.headers)).status, 200);
    await waitFor(() => slack.accepted('chat.postEphemeral').some((c) => String(c.args.text).includes('comment form could not be opened')), 'the user told');
    assert.equal(slack.views.length, 0);

    const open = click({ user: 'U0BOB', action: 'jitgate_approve_comment', requestId: id, ts, triggerId: slack.issueTrigger() });
    assert.equal((await postSlack(address, open.body, open.headers)).status, 200);
    await waitFor(() => slack.views.length === 1, 'the modal');
    const view = slack.views[0];
    assert.ok(view);
    assert.equal(view.view.callback_id, 'jitgate_decision');
    assert.equal(await approvals(id), 0, 'opening the modal decides nothing');

    const submission = new URLSearchParams({ payload: JSON.stringify(slack.submission(view.id, 'U0BOB', 'migration\nreviewed')) }).toString();
    assert.deepEqual(await post(submission), { status: 200, text: '' });
    await waitFor(async () => (await approvals(id)) === 1, "bob's approval");
    const [approval] = (await f.gate.getRequest(id)).approvals;
    assert.deepEqual(approval && [approval.subject, approval.channel, approval.comment], ['bob', 'slack', 'migration reviewed']);

    // A submission from a user the config does not map is refused in the modal itself.
    const second = click({ user: 'U0DAVE', action: 'jitgate_deny_reason', requestId: id, ts, triggerId: slack.issueTrigger() });
    assert.equal((await postSlack(address, second.body, second.headers)).status, 200);
    await waitFor(() => slack.views.length === 2, 'the second modal');
    const foreign = slack.submission(slack.views[1]?.id ?? '', 'U0MALLORY', 'no');
    const refused = await post(new URLSearchParams({ payload: JSON.stringify(foreign) }).toString());
    assert.match(refused.text, /not mapped/);
    assert.equal((await f.gate.getRequest(id)).status, 'pending');
    probe.controller.abort();
    await probe.done;
  });
});
