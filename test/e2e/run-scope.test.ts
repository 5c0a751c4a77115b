/**
 * Approve once per run (`approval_scope: run`, issue 12), through the real daemon: verified GitHub
 * tokens (run_id, run_attempt, sha) over real gRPC on the Unix socket, the Vault-compatible
 * server, the SQLite and the PostgreSQL state store, and the Slack Web API stand-in (approvers are
 * told once per run).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { AccessDeniedError, type Grant, type JitgateClient } from '../../src/client/index.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';
import type { ClaimOverrides } from '../support/ci-issuer.js';
import { approverClient, askWithToken, type InFlight } from '../support/ci-requests.js';
import { eventually, fileExists } from '../support/daemon-process.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';

const SCOPE_TTL_MS = 3_000;
const POLICIES = `
  - name: staging-short-scope
    match: { resource: demo-token, repository: acme/api, repository_id: "42", environment: staging }
    require: { approvals: 1, from: [group:sre], expires_after: 5m, approval_scope: run, scope_ttl: ${SCOPE_TTL_MS / 1000}s }
  - name: glass-once-per-run
    match: { resource: demo-token, repository: acme/api, repository_id: "42", environment: glass }
    require: { approvals: 1, from: [group:sre], expires_after: 5m, approval_scope: run }
    break_glass: { groups: [sre] }
  - name: deploy-once-per-run
    match: { resource: [demo-token, demo-db], repository: acme/api, repository_id: "42" }
    require: { approvals: 1, from: [group:sre], expires_after: 5m, approval_scope: run, supersede: false }
  - name: everything-else
    decision: deny`;

const TOKEN = 'xoxb-1111-2222-run-scope-test';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

async function granted(result: Promise<Grant | Error>): Promise<Grant> {
  const r = await result;
  if (r instanceof Error) throw r;
  return r;
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`end to end: one approval covers the rest of its run (${store} state)`, () => {
    let ci: CiDaemon;
    let slack: SlackApiServer;
    let approver: JitgateClient;
    let dir = '';

    before(async () => {
      slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
      dir = await mkdtemp(join(tmpdir(), 'jitgate-run-scope-slack-'));
      await writeFile(join(dir, 'slack-token'), `${TOKEN}\n`, { mode: 0o600 });
      await writeFile(join(dir, 'slack-signing'), 'slack-signing-secret-run-scope\n', { mode: 0o600 });
      ci = await startCiDaemon({
        policies: POLICIES,
        kind: 'github',
        tmpPrefix: 'jitgate-run-scope-',
        localApprovers: true,
        postgresState: store === 'postgres',
        extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0BOB: bob }, api_url: "${slack.url}" }`,
      });
      approver = approverClient(ci, 'bob');
    });
    after(async () => {
      approver.close();
      await ci.close();
      await slack.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** Requests that the approvers' channel was asked about (one Slack post each). */
    function slackPosted(id: string): boolean {
      return slack.accepted('chat.postMessage').some((c) => String(c.args.text).includes(id));
    }

    /** A request, approved by bob once it waits; resolves with its id once granted and released. */
    async function approvedRequest(resource: string, claims: ClaimOverrides): Promise<string> {
      const req = await askWithToken(ci, resource, claims);
      const id = await req.id;
      assert.deepEqual(req.states, ['pending']);
      await approver.approve(id);
      await (await granted(req.result)).release();
      return id;
    }

    /** Asserts `req` waits for approvers like any request, then denies it. */
    async function waitsForApproval(req: InFlight, what: string): Promise<void> {
      const id = await req.id;
      assert.deepEqual(req.states, ['pending'], what);
      assert.equal((await approver.getRequest(id)).status, 'pending', what);
      assert.ok(await eventually(() => Promise.resolve(slackPosted(id)), 10_000), `${what}: approvers are asked`);
      await approver.deny(id, { reason: 'not covered' });
      const end = await req.result;
      assert.ok(end instanceof AccessDeniedError && end.code === 'DENIED_BY_APPROVER', `${what}: ${end instanceof Error ? end.message : 'granted'}`);
    }

    it('later requests of the same run, attempt, commit and resource are granted without asking anyone, audited with the approval reused', async () => {
      assert.equal(fileExists(join(ci.daemon.dir, 'state.db')), store === 'sqlite', `the daemon keeps its state in ${store}`);
      const run = { sha: SHA_A, run_id: '5000', run_attempt: '1' };
      const firstId = await approvedRequest('demo-token', run);
      assert.ok(await eventually(() => Promise.resolve(slackPosted(firstId)), 10_000), 'the first request is announced');
      const posts = slack.accepted('chat.postMessage').length;

      for (const step of ['second step', 'third step']) {
        const req = await askWithToken(ci, 'demo-token', run);
        const grant = await granted(req.result);
        assert.ok(grant.credentials.VAULT_TOKEN, step);
        assert.equal(req.states.includes('pending'), false, `${step}: never pending (${req.states.join(', ')})`);
        const id = await req.id;
        await grant.release();
        const audit = await ci.daemon.audit();
        const created = audit.find((r) => r.type === 'request.created' && r.requestId === id);
        assert.equal(created?.reusedApproval, firstId, `${step}: request.created names the approval reused`);
        assert.equal(created.decision, 'require');
        const approved = audit.find((r) => r.type === 'request.approved' && r.requestId === id);
        assert.equal(approved?.by, 'approval-scope', step);
        assert.equal(approved.reusedApproval, firstId, step);
        assert.equal(approved.rule, 'deploy-once-per-run');
        assert.ok(audit.some((r) => r.type === 'grant.minted' && r.requestId === id), `${step}: minted`);
      }
      // Give the notifier time to have posted, had it been told: nobody was asked about those steps.
      await sleep(300);
      assert.equal(slack.accepted('chat.postMessage').length, posts, 'no approver was notified for the covered requests');
    });

    it('a re-run (another run attempt) of the same run and commit asks the approvers again', async () => {
      await approvedRequest('demo-token', { sha: SHA_A, run_id: '5100', run_attempt: '1' });
      await waitsForApproval(await askWithToken(ci, 'demo-token', { sha: SHA_A, run_id: '5100', run_attempt: '2' }), 'attempt 2');
    });

    it('another commit, another resource or another run needs its own approval', async () => {
      await approvedRequest('demo-token', { sha: SHA_A, run_id: '5200', run_attempt: '1' });
      await waitsForApproval(await askWithToken(ci, 'demo-token', { sha: SHA_B, run_id: '5200', run_attempt: '1' }), 'another commit');
      await waitsForApproval(await askWithToken(ci, 'demo-db', { sha: SHA_A, run_id: '5200', run_attempt: '1' }), 'another resource');
      await waitsForApproval(await askWithToken(ci, 'demo-token', { sha: SHA_A, run_id: '5201', run_attempt: '1' }), 'another run');
    });

    it('a break-glass grant makes no scope: the next request of the same run asks the approvers', async () => {
      const run = { sha: SHA_A, run_id: '5400', run_attempt: '1', environment: 'glass' };
      const first = await askWithToken(ci, 'demo-token', run);
      const id = await first.id;
      const broken = await approver.breakGlass(id, { reason: 'INC-77: approvers unreachable' });
      assert.equal(broken.breakGlass?.name, 'bob');
      await (await granted(first.result)).release();
      await waitsForApproval(await askWithToken(ci, 'demo-token', run), 'after a break-glass');
    });

    it('after scope_ttl the same run asks again', async () => {
      const run = { sha: SHA_A, run_id: '5300', run_attempt: '1', environment: 'staging' };
      await approvedRequest('demo-token', run);
      const approvedAt = Date.now();
      // Still inside the scope: covered.
      const covered = await askWithToken(ci, 'demo-token', run);
      await (await granted(covered.result)).release();
      assert.equal(covered.states.includes('pending'), false, covered.states.join(', '));
      await sleep(Math.max(0, approvedAt + SCOPE_TTL_MS + 300 - Date.now()));
      await waitsForApproval(await askWithToken(ci, 'demo-token', run), 'after scope_ttl');
    });
  });
}
