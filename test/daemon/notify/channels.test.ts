import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../src/common/logger.js';
import type { Notifier } from '../../../src/daemon/notify/notifier.js';
import { hmacSha256Hex, webhookSignatureHeaders } from '../../../src/daemon/notify/signing.js';
import { validateNotifiersConfig } from '../../../src/daemon/config/notifier-settings.js';
import { startNotifications } from '../../../src/daemon/notify/start-notifications.js';
import type { WebhookEventBody } from '../../../src/daemon/notify/webhook-notifier.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../../support/gate-fixture.js';
import { startSlackApiServer } from '../../support/slack-api-server.js';
import { startSmtpSink } from '../../support/smtp-sink.js';
import { startVaultWithDatabase } from '../../../tools/vault-compat/src/start.js';
import { advanceUntil, postSlack, signSlack, slackClickBody, startHookReceiver, waitFor, writeSecret } from './notify-fixture.js';

const POLICIES = `
  - name: demo-db-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: token-auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

const HOOK_SECRET = 'whsec-0123456789abcdef0123456789abcdef';

async function auditRecords(f: GateFixture): Promise<{ type: string; [k: string]: unknown }[]> {
  const text = await readFile(f.config.audit.file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
}

function verifies(hook: { headers: Record<string, unknown>; body: string }, secret: string): boolean {
  const timestamp = String(hook.headers['x-jitgate-timestamp']);
  return hook.headers['x-jitgate-signature'] === `sha256=${hmacSha256Hex(secret, `${timestamp}.${hook.body}`)}`;
}

async function postDecision(address: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://${address}/webhook/decisions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) };
}

describe('webhook, email and isolation of notifiers', () => {
  let env: VaultEnv;

  before(async () => {
    env = await startVaultWithDatabase();
  });
  after(async () => {
    await env.stop();
  });

  it('signs outbound events, retries a failing receiver until it succeeds exactly once, and rejects tampered inbound decisions (acceptance 5)', async () => {
    const f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    const receiver = await startHookReceiver();
    const config = {
      ...f.config,
      http: { listen: '127.0.0.1:0' },
      notifiers: validateNotifiersConfig([{ webhook: { url: receiver.url, secret_file: await writeSecret(f.dir, 'hook-secret', HOOK_SECRET), decisions: { identity: 'dave' } } }]),
    };
    const notifications = await startNotifications({ config, gate: f.gate, audit: f.audit, clock: f.clock, logger: silentLogger() });
    try {
      receiver.failNext(2);
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');

      // Backoff runs on the injected clock: 1s, then 2s.
      await waitFor(() => receiver.received.length === 1, 'the first attempt');
      await advanceUntil(f.clock, () => receiver.received.length === 2, 'the second attempt');
      await advanceUntil(f.clock, () => receiver.received.length === 3, 'the third attempt');
      await waitFor(async () => (await auditRecords(f)).some((r) => r.type === 'notify.delivery' && r.attempt === 3), 'the third attempt audited');
      // Well past every backoff: a delivered event is not sent again.
      for (let i = 0; i < 20; i++) {
        f.clock.advance(5000);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }

      assert.deepEqual(
        receiver.received.map((r) => r.status),
        [500, 500, 204],
      );
      const bodies = receiver.received.map((r) => JSON.parse(r.body) as WebhookEventBody);
      assert.equal(new Set(bodies.map((b) => b.delivery_id)).size, 1, 'one event, retried');
      assert.equal(bodies.filter((b) => b.event === 'created').length, 3);
      for (const hook of receiver.received) assert.ok(verifies(hook, HOOK_SECRET), 'signature verifies with the shared secret');
      assert.ok(!verifies(receiver.received[2] ?? { headers: {}, body: '' }, 'another-secret'));
      const delivered = bodies[2];
      assert.equal(delivered?.request.id, request.id);
      assert.equal(delivered.request.context.repository, 'acme/api');
      const attempts = (await auditRecords(f)).filter((r) => r.type === 'notify.delivery' && r.requestId === request.id);
      assert.deepEqual(
        attempts.map((r) => [r.attempt, r.ok]),
        [
          [1, false],
          [2, false],
          [3, true],
        ],
      );
      assert.ok(attempts.every((r) => !JSON.stringify(r).includes(HOOK_SECRET)));

      // Inbound decisions: tampered or unsigned → 401, nothing recorded.
      const address = notifications.httpAddress ?? '';
      const body = JSON.stringify({ request_id: request.id, decision: 'approve' });
      const headers = webhookSignatureHeaders(HOOK_SECRET, body, f.clock.now());
      const tampered = JSON.stringify({ request_id: request.id, decision: 'deny', reason: 'x' });
      assert.equal((await postDecision(address, tampered, headers)).status, 401);
      assert.equal((await postDecision(address, body, {})).status, 401);
      assert.equal((await postDecision(address, body, webhookSignatureHeaders('wrong', body, f.clock.now()))).status, 401);
      assert.equal((await postDecision(address, body, webhookSignatureHeaders(HOOK_SECRET, body, f.clock.now() - 6 * 60_000))).status, 401);
      assert.equal((await f.gate.getRequest(request.id)).approvals.length, 0);

      const ok = await postDecision(address, body, headers);
      assert.equal(ok.status, 200);
      const view = await f.gate.getRequest(request.id);
      assert.deepEqual(
        view.approvals.map((a) => [a.subject, a.trust]),
        [['dave', 'webhook']],
      );
      assert.equal((await postDecision(address, body, headers)).status, 409, 'a replayed decision is refused');
      probe.controller.abort();
      await probe.done;
    } finally {
      await notifications.close();
      await f.close();
      await receiver.close();
    }
  });

  it('mails the context and the commands to decide; no credential reaches any channel (acceptance 6)', async () => {
    const f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    const smtp = await startSmtpSink();
    const slackToken = 'xoxb-3333-4444-anothertoken';
    const signing = 'signing-secret-for-acceptance-6';
    const slack = await startSlackApiServer({ token: slackToken, channel: '#deploys' });
    const receiver = await startHookReceiver();
    const config = {
      ...f.config,
      http: { listen: '127.0.0.1:0' },
      notifiers: validateNotifiersConfig([
        // A plain SMTP sink on loopback: TLS is opted out explicitly (test/security/09 covers STARTTLS).
        { email: { smtp: { host: smtp.host, port: smtp.port, tls: 'none' }, from: 'jitgate@acme.test', to: ['sre@acme.test', 'dba@acme.test'] } },
        { webhook: { url: receiver.url, secret_file: await writeSecret(f.dir, 'hook', HOOK_SECRET), decisions: { identity: 'dave' } } },
        {
          slack: {
            token_file: await writeSecret(f.dir, 'slack-token', slackToken),
            signing_secret_file: await writeSecret(f.dir, 'slack-signing', signing),
            channel: '#deploys',
            team_id: 'T0ACME',
            users: { U0BOB: 'bob' },
            api_url: slack.url,
          },
        },
      ]),
    };
    const notifications = await startNotifications({ config, gate: f.gate, audit: f.audit, clock: f.clock, logger: silentLogger() });
    try {
      const address = notifications.httpAddress ?? '';
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      await waitFor(() => smtp.messages.length === 1, 'the mail');
      const mail = smtp.messages[0];
      assert.ok(mail);
      assert.deepEqual(mail.to, ['sre@acme.test', 'dba@acme.test']);
      assert.match(mail.subject, new RegExp(`Approval needed: demo-db for acme/api \\(${request.id}\\)`));
      for (const expected of ['acme/api', 'refs/heads/main', 'a'.repeat(40), 'demo-db', 'alice', 'migrate', '1m', `jitgate approve ${request.id}`, `jitgate deny ${request.id} --reason`]) {
        assert.ok(mail.text.includes(expected), `mail shows ${expected}`);
      }
      assert.ok(!/https?:\/\//.test(mail.text), 'no link in the mail can change state by being fetched');

      // Approve through two channels, then hold the credentials in hand.
      await waitFor(() => slack.accepted('chat.postMessage').length === 1, 'the Slack message');
      const ts = String(slack.accepted('chat.postMessage')[0]?.reply.ts);
      const click = slackClickBody({ user: 'U0BOB', action: 'jitgate_approve', requestId: request.id, messageTs: ts, channelId: slack.channelId });
      await postSlack(address, click, signSlack(signing, click, f.clock.now()));
      await waitFor(async () => (await f.gate.getRequest(request.id)).approvals.length === 1, "bob's approval");
      const decision = JSON.stringify({ request_id: request.id, decision: 'approve' });
      assert.equal((await postDecision(address, decision, webhookSignatureHeaders(HOOK_SECRET, decision, f.clock.now()))).status, 200);
      const granted = await probe.next('granted');
      const secrets = [...Object.values(granted.grant.credentials), granted.grant.releaseToken];
      assert.ok(secrets.length >= 3);
      probe.controller.abort();
      await probe.done;
      await waitFor(() => receiver.received.some((r) => r.body.includes('"released"')), 'the webhook told of the release');
      await waitFor(() => slack.accepted('chat.update').some((c) => JSON.stringify(c.args).includes('RELEASED')), 'the Slack message shows the end');

      const captured = [
        ...smtp.messages.map((m) => m.raw),
        ...slack.calls.map((c) => c.raw),
        ...receiver.received.map((r) => `${JSON.stringify(r.headers)}${r.body}`),
        ...(await auditRecords(f)).filter((r) => r.type === 'notify.delivery').map((r) => JSON.stringify(r)),
      ];
      assert.ok(captured.length > 5);
      for (const secret of secrets) {
        for (const message of captured) assert.ok(!message.includes(secret), 'a minted credential reached a notification');
      }
    } finally {
      await notifications.close();
      await f.close();
      await Promise.all([smtp.close(), slack.close(), receiver.close()]);
    }
  });

  it('a notifier that hangs or throws delays neither an auto-approved grant nor the other notifiers (acceptance 7)', async () => {
    const f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    const good = await startHookReceiver();
    const stuck = await startHookReceiver({ hang: true });
    let hung = 0;
    let thrown = 0;
    const hanging: Notifier = {
      name: 'hanging',
      accepts: () => true,
      deliver: () => {
        hung++;
        return new Promise<void>(() => undefined);
      },
    };
    const throwing: Notifier = {
      name: 'throwing',
      accepts: () => true,
      deliver: () => {
        thrown++;
        throw new Error('boom');
      },
    };
    const config = {
      ...f.config,
      notifiers: validateNotifiersConfig([
        { webhook: { url: stuck.url, secret_file: await writeSecret(f.dir, 'stuck', HOOK_SECRET) } },
        { webhook: { url: good.url, secret_file: await writeSecret(f.dir, 'good', HOOK_SECRET) } },
      ]),
    };
    const notifications = await startNotifications({
      config,
      gate: f.gate,
      audit: f.audit,
      clock: f.clock,
      logger: silentLogger(),
      extraNotifiers: [hanging, throwing],
    });
    try {
      const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      // The clock never moves: no attempt timeout can rescue the stuck notifiers, yet the grant arrives.
      const granted = await probe.next('granted');
      assert.equal(granted.request.status, 'granted');
      await waitFor(() => good.received.some((r) => (JSON.parse(r.body) as WebhookEventBody).request.status === 'granted'), 'delivery to the healthy webhook');
      assert.equal(hung, 1, 'the hanging notifier is still on its first event');
      assert.ok(thrown >= 1);
      await waitFor(async () => (await auditRecords(f)).some((r) => r.type === 'notify.delivery' && r.notifier === 'throwing' && r.ok === false), 'the throw audited');
      const second = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      await second.next('granted');
      await waitFor(() => good.received.filter((r) => (JSON.parse(r.body) as WebhookEventBody).request.status === 'granted').length === 2, 'the second grant delivered');
      for (const p of [probe, second]) {
        p.controller.abort();
        await p.done;
      }
    } finally {
      await notifications.close();
      await f.close();
      await Promise.all([good.close(), stuck.close()]);
    }
  });
});
