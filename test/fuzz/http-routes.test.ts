/**
 * Fuzz: random bodies, headers and signatures on the real jitgated's HTTP listener:
 * `/slack/interactions`, `/webhook/decisions`, the web approval routes (`/requests/…`, as an
 * anonymous visitor and as a signed-in approver whose form lacks the right CSRF token) and
 * `/auth/*`. A request waits for one approval all along, and Slack, the webhook sender and the
 * signed-in approver are each allowed to give one of its two. Properties: no answer is 5xx; no
 * approval, denial or grant is recorded (audit log and request page); `/healthz` still answers.
 * At the end the approver's own form and a correctly signed webhook decision are recorded, so the
 * "nothing recorded" checks can see one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { slackSignatureHeaders, webhookSignatureHeaders } from '../../src/daemon/notify/signing.js';
import { csrfOf, WebClient } from '../daemon/web/web-client.js';
import { startHookReceiver, writeSecret, type HookReceiver } from '../daemon/notify/notify-fixture.js';
import { contextFlags, DaemonProcess, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';
import { rawRequest } from '../support/raw-http.js';
import { httpBaseOf, webApproversIdentity } from '../support/web-daemon.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { fuzzOptions } from './fuzz-runs.js';

const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

const SLACK_TOKEN = 'xoxb-fuzz-not-a-real-token';
const SLACK_SIGNING = 'slack-signing-secret-fuzz';
const HOOK_SECRET = 'webhook-secret-fuzz';
/** Audit records that would mean a decision was taken or credentials minted. */
const DECIDED = /^(approval\.recorded|approval\.denied|request\.approved|request\.denied|grant\.)/;

/** Printable ASCII (what fetch lets a header carry). */
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\u0000', '%', '%zz', '&&==', '{"', '[]', 'null', 'a'.repeat(70_000)));

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

describe('fuzz: HTTP routes (Slack, webhook decisions, approval pages, sign-in)', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let slack: SlackApiServer;
  let hooks: HookReceiver;
  let daemon: DaemonProcess;
  let dir = '';
  let base = '';
  let id = '';
  let run: Proc | undefined;
  let approver: WebClient;
  let csrf = '';

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: [{ sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre'] }] });
    slack = await startSlackApiServer({ token: SLACK_TOKEN, channel: '#deploys' });
    hooks = await startHookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-fuzz-http-'));
    const identity = await webApproversIdentity(idp, dir);
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity,
      extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack:
      token_file: ${await writeSecret(dir, 'slack-token', SLACK_TOKEN)}
      signing_secret_file: ${await writeSecret(dir, 'slack-signing', SLACK_SIGNING)}
      channel: "#deploys"
      team_id: T0ACME
      users: { U0BOB: bob }
      api_url: ${slack.url}
  - webhook: { url: ${hooks.url}, secret_file: ${await writeSecret(dir, 'hook-secret', HOOK_SECRET)}, decisions: { identity: bob } }`,
    });
    base = await httpBaseOf(daemon);
    run = startCli(['run', '--resource', 'demo-token', '--reason', 'fuzz target', ...contextFlags('f'.repeat(40)), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: dir,
    });
    const [, found] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(found);
    id = found;
    approver = new WebClient(base);
    const signedIn = await approver.signIn(id, 'u-carol');
    assert.equal(signedIn.status, 303);
    await signedIn.body?.cancel();
    csrf = csrfOf(await (await approver.fetch(`/requests/${id}`)).text());
    assert.ok(csrf.length > 0);
  });

  after(async () => {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    await daemon.close();
    await hooks.close();
    await slack.close();
    await idp.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function send(sent: Sent): Promise<number> {
    const init: RequestInit = { method: sent.method, headers: sent.headers, redirect: 'manual', ...(sent.body === undefined ? {} : { body: sent.body }) };
    const res = await fetch(new URL(sent.path, base), init);
    await res.arrayBuffer();
    return res.status;
  }

  async function assertNothingDecided(): Promise<void> {
    const decided = (await daemon.audit()).filter((e) => DECIDED.test(e.type));
    assert.deepEqual(decided.map((e) => e.type), [], 'no decision and no grant recorded');
    const page = await (await approver.fetch(`/requests/${id}`)).text();
    assert.match(page, /<tr><th>Approvals<\/th><td>0 of 2 needed/, 'the request page shows no approval');
    const health = await fetch(new URL('/healthz', base));
    assert.equal(health.status, 200, 'the daemon still answers /healthz');
    await health.arrayBuffer();
  }

  function notServerError(sent: Sent, status: number): void {
    assert.ok(status < 500, `${sent.method} ${sent.path} answered ${String(status)} (headers ${JSON.stringify(sent.headers)}, body ${JSON.stringify(sent.body?.slice(0, 300))})`);
  }

  /** A Slack button payload with random fields, some aimed at the waiting request from the mapped user. */
  const slackPayload = (): fc.Arbitrary<string> =>
    fc.oneof(
      text,
      fc
        .record(
          {
            type: fc.oneof(fc.constant('block_actions'), printable),
            team: fc.oneof(fc.constant({ id: 'T0ACME' }), fc.jsonValue()),
            user: fc.oneof(fc.constant({ id: 'U0BOB', team_id: 'T0ACME' }), fc.jsonValue()),
            actions: fc.oneof(
              fc.array(fc.record({ action_id: fc.constantFrom('jitgate_approve', 'jitgate_deny', 'x'), value: fc.oneof(fc.constant(id), printable), action_ts: printable }, { requiredKeys: [] }), { maxLength: 3 }),
              fc.jsonValue(),
            ),
            container: fc.jsonValue(),
            channel: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((p) => `payload=${encodeURIComponent(JSON.stringify(p))}`),
    );

  /** Slack's signature headers: missing, random, stale, signed with a guessed secret or over another body. */
  const slackHeaders = (): fc.Arbitrary<(body: string) => Record<string, string>> =>
    fc.oneof(
      fc.constant(() => ({})),
      fc.record({ ts: printable, sig: printable }).map(({ ts, sig }) => () => ({ 'x-slack-request-timestamp': ts, 'x-slack-signature': sig })),
      fc.record({ secret: printable, skewS: fc.integer({ min: -3600, max: 3600 }) }).map(({ secret, skewS }) => (body: string) => slackSignatureHeaders(secret, body, Date.now() + skewS * 1000)),
      fc.integer({ min: 301, max: 10_000 }).map((ageS) => (body: string) => slackSignatureHeaders(SLACK_SIGNING, body, Date.now() - ageS * 1000)),
      fc.constant((body: string) => slackSignatureHeaders(SLACK_SIGNING, `${body}x`, Date.now())),
    );

  it('POST /slack/interactions: random payloads and signatures are never 5xx and never decide', async () => {
    await fc.assert(
      fc.asyncProperty(slackPayload(), slackHeaders(), fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', ''), async (body, sign, type) => {
        const sent: Sent = { method: 'POST', path: '/slack/interactions', headers: { ...(type ? { 'content-type': type } : {}), ...sign(body) }, body };
        notServerError(sent, await send(sent));
      }),
      fuzzOptions(200),
    );
    await assertNothingDecided();
  });

  const decisionBody = (): fc.Arbitrary<string> =>
    fc.oneof(
      text,
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ request_id: fc.oneof(fc.constant(id), printable), decision: fc.oneof(fc.constantFrom('approve', 'deny'), fc.jsonValue()), reason: fc.oneof(text, fc.jsonValue()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
  const webhookHeaders = (): fc.Arbitrary<(body: string) => Record<string, string>> =>
    fc.oneof(
      fc.constant(() => ({})),
      fc.record({ ts: printable, sig: printable }).map(({ ts, sig }) => () => ({ 'x-jitgate-timestamp': ts, 'x-jitgate-signature': sig })),
      fc.record({ secret: printable, skewS: fc.integer({ min: -3600, max: 3600 }) }).map(({ secret, skewS }) => (body: string) => webhookSignatureHeaders(secret, body, Date.now() + skewS * 1000)),
      fc.integer({ min: 301, max: 10_000 }).map((ageS) => (body: string) => webhookSignatureHeaders(HOOK_SECRET, body, Date.now() - ageS * 1000)),
      fc.constant((body: string) => webhookSignatureHeaders(HOOK_SECRET, `${body} `, Date.now())),
    );

  it('POST /webhook/decisions: random bodies and signatures are never 5xx and never decide', async () => {
    await fc.assert(
      fc.asyncProperty(decisionBody(), webhookHeaders(), async (body, sign) => {
        const sent: Sent = { method: 'POST', path: '/webhook/decisions', headers: { 'content-type': 'application/json', ...sign(body) }, body };
        notServerError(sent, await send(sent));
      }),
      fuzzOptions(200),
    );
    await assertNothingDecided();
  });

  const pagePath = (): fc.Arbitrary<string> =>
    fc.oneof(
      fc.constantFrom(`/requests/${id}`, `/requests/${id}/approve`, `/requests/${id}/deny`, `/requests/${id}/approve/x`, `/requests/${id.toUpperCase()}`, '/requests/', '/requests/%00', '/requests/..%2f..%2fetc', '/', '/healthz'),
      fc.tuple(fc.constantFrom('/requests/', `/requests/${id}/`, '/auth/', '/'), printable).map(([prefix, tail]) => prefix + encodeURIComponent(tail)),
    );
  const formBody = (): fc.Arbitrary<string> =>
    fc.oneof(
      text,
      fc.record({ csrf: fc.oneof(printable, fc.constant(`${csrf}x`), fc.constant(csrf.slice(0, -1))), comment: text, reason: text }, { requiredKeys: [] }).map((f) => new URLSearchParams(f).toString()),
    );
  const pageHeaders = (): fc.Arbitrary<Record<string, string>> =>
    fc.record(
      {
        'content-type': fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json', 'text/plain;charset=utf-16'),
        origin: fc.oneof(fc.constant(base), fc.constant('null'), fc.constant('http://evil.example'), printable),
        referer: fc.oneof(fc.constant(`${base}/requests/${id}`), printable),
        cookie: printable,
        'sec-fetch-site': fc.constantFrom('same-origin', 'cross-site', 'none'),
        accept: printable,
      },
      { requiredKeys: [] },
    );

  it('the approval pages, anonymous and signed in with a wrong CSRF token: never 5xx, never decide', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'), pagePath(), pageHeaders(), formBody(), fc.boolean(), async (method, path, headers, body, signedIn) => {
        // The signed-in approver's session cookie replaces any fuzzed one; their own jar stays as it was.
        const sent: Sent = { method, path, headers: signedIn ? { ...headers, cookie: approver.cookieHeader } : headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body }) };
        notServerError(sent, await send(sent));
      }),
      fuzzOptions(250),
    );
    await assertNothingDecided();
  });

  it('/auth/login and /auth/callback with random parameters and cookies: never 5xx, never decide', async () => {
    const query = fc.dictionary(fc.constantFrom('return', 'code', 'state', 'iss', 'error', 'error_description', 'session_state', 'x'), text, { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/auth/login', '/auth/callback', '/auth/logout', '/auth/'), query, pageHeaders(), fc.constantFrom('GET', 'POST'), async (path, params, headers, method) => {
        const sent: Sent = { method, path: `${path}?${new URLSearchParams(params).toString()}`, headers };
        // From many client addresses would need raw sockets; one address hits the sign-in limit (429), which is fine.
        notServerError(sent, await send(sent));
      }),
      fuzzOptions(200),
    );
    await assertNothingDecided();
  });

  it('raw HTTP with headers no client library would send (duplicate lengths, odd encodings, bytes ≥ 0x80): never 5xx, never decide', async () => {
    const headerLine = fc.oneof(
      fc.tuple(fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Content-Type', 'Cookie', 'Origin', 'X-Slack-Signature', 'X-Slack-Request-Timestamp', 'X-Jitgate-Signature', 'X-Jitgate-Timestamp', 'Expect', 'Host'), fc.oneof(printable, fc.constantFrom('chunked', 'gzip, chunked', '-1', '0', '99999999999', '100-continue'))).map(([k, v]) => `${k}: ${v}`),
      fc.string({ unit: 'binary', maxLength: 30 }).map((line) => line.replace(/[\r\n]/g, '')),
    );
    const path = fc.constantFrom('/slack/interactions', '/webhook/decisions', `/requests/${id}`, `/requests/${id}/approve`, '/auth/login', '/auth/callback?code=x&state=y');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'G E T', 'POST\u00ff'), path, fc.array(headerLine, { maxLength: 5 }), text, async (method, target, lines, body) => {
        const request = `${method} ${target} HTTP/1.1\r\nHost: ${new URL(base).host}\r\nConnection: close\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body.slice(0, 2000)}`;
        const reply = await rawRequest(new URL(base).host, Buffer.from(request, 'utf8'));
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1];
        // No reply at all (the parser closed the connection) is a refusal too; a 5xx never is.
        assert.ok(status === undefined || Number(status) < 500, `${JSON.stringify(request.slice(0, 400))} got ${reply.slice(0, 200)}`);
      }),
      fuzzOptions(150),
    );
    await assertNothingDecided();
  });

  it('the controls: the signed-in approver with the right CSRF token, then a correctly signed webhook decision, are recorded', async () => {
    const form = new URLSearchParams({ csrf, comment: 'control' }).toString();
    const web = await send({ method: 'POST', path: `/requests/${id}/approve`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, cookie: approver.cookieHeader }, body: form });
    assert.equal(web, 303);
    assert.match(await (await approver.fetch(`/requests/${id}`)).text(), /<tr><th>Approvals<\/th><td>1 of 2 needed/);
    const body = JSON.stringify({ request_id: id, decision: 'approve' });
    const status = await send({ method: 'POST', path: '/webhook/decisions', headers: { 'content-type': 'application/json', ...webhookSignatureHeaders(HOOK_SECRET, body, Date.now()) }, body });
    assert.equal(status, 200);
    const types = (await daemon.audit()).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'approval.recorded').length, 2, types.join());
    const result = await run?.exited;
    assert.equal(result?.code, 0, result?.stderr);
  });
});
