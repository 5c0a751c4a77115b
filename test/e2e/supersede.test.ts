/**
 * Superseding stale requests (issue 12), through the real daemon: verified GitHub tokens over
 * real gRPC on the Unix socket, the Vault-compatible server, the SQLite and the PostgreSQL state
 * store, `jitgate run` for the step, and the Slack Web API stand-in for the edited message.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AccessDeniedError, type Grant } from '../../src/client/index.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';
import { approverClient, askWithToken } from '../support/ci-requests.js';
import { eventually, fileExists, startCli, STEP } from '../support/daemon-process.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';

const POLICIES = `
  - name: deploy-needs-sre
    match: { resource: demo-token, repository: acme/api, repository_id: "42" }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

const TOKEN = 'xoxb-1111-2222-supersede-test';
const sha = (c: string): string => c.repeat(40);

async function granted(result: Promise<Grant | Error>): Promise<Grant> {
  const r = await result;
  if (r instanceof Error) throw r;
  return r;
}

async function denial(result: Promise<Grant | Error>): Promise<AccessDeniedError> {
  const r = await result;
  assert.ok(r instanceof AccessDeniedError, `expected a denial, got ${r instanceof Error ? r.message : 'a grant'}`);
  return r;
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`end to end: a newer commit supersedes the pending request of an older one (${store} state)`, () => {
    let ci: CiDaemon;
    let slack: SlackApiServer;
    let dir = '';

    before(async () => {
      slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
      dir = await mkdtemp(join(tmpdir(), 'jitgate-supersede-slack-'));
      await writeFile(join(dir, 'slack-token'), `${TOKEN}\n`, { mode: 0o600 });
      await writeFile(join(dir, 'slack-signing'), 'slack-signing-secret-supersede\n', { mode: 0o600 });
      ci = await startCiDaemon({
        policies: POLICIES,
        kind: 'github',
        tmpPrefix: 'jitgate-supersede-',
        localApprovers: true,
        postgresState: store === 'postgres',
        extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0BOB: bob }, api_url: "${slack.url}" }`,
      });
    });
    after(async () => {
      await ci.close();
      await slack.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** The Slack messages (posted or edited) that name request `id`. */
    function slackTexts(id: string): string[] {
      return [...slack.accepted('chat.postMessage'), ...slack.accepted('chat.update')].map((c) => String(c.args.text)).filter((t) => t.includes(id));
    }

    it('ends the older pending request SUPERSEDED: audited, the Slack message edited, the step exits 77 naming the commit', async () => {
      assert.equal(fileExists(join(ci.daemon.dir, 'state.db')), store === 'sqlite', `the daemon keeps its state in ${store}`);
      const out = join(ci.out, 'newer');
      await mkdir(out, { recursive: true });
      const tokenFile = join(out, 'token');
      await writeFile(tokenFile, await ci.issuer.issue(ci.issuer.githubClaims('jitgate', { sha: sha('a'), run_id: '1000' })));
      const step = startCli(['run', '--resource', 'demo-token', '--id-token-file', tokenFile, '--', process.execPath, STEP], { ...ci.daemon.env, OUT_DIR: out });
      const [, oldId = ''] = await step.waitFor(/request (req_\w+) for demo-token is waiting/);
      assert.ok(await eventually(() => Promise.resolve(slackTexts(oldId).length > 0), 10_000), 'the approvers were told about the first request');

      const newer = await askWithToken(ci, 'demo-token', { sha: sha('b'), run_id: '1001' });
      const newId = await newer.id;
      const ended = await step.exited;
      assert.equal(ended.code, 77, ended.stderr);
      assert.match(ended.stderr, new RegExp(`superseded by a newer commit bbbbbbb \\(request ${newId}\\)`));
      assert.equal(fileExists(join(out, 'ran')), false, 'the superseded step never ran');

      const audit = await ci.daemon.audit();
      const superseded = audit.find((r) => r.type === 'request.superseded' && r.requestId === oldId);
      assert.ok(superseded, 'audited as request.superseded');
      assert.equal(superseded.supersededBy, newId);
      assert.equal(superseded.sha, 'bbbbbbb');
      const deniedRecord = audit.find((r) => r.type === 'request.denied' && r.requestId === oldId);
      assert.match(String(deniedRecord?.reason), /^superseded by a newer commit bbbbbbb/);
      const approver = approverClient(ci, 'bob');
      try {
        const view = await approver.getRequest(oldId);
        assert.equal(view.status, 'denied');
        assert.match(view.statusReason ?? '', /superseded by a newer commit bbbbbbb/);
        assert.ok(
          await eventually(() => Promise.resolve(slackTexts(oldId).some((t) => /DENIED: superseded by a newer commit bbbbbbb/.test(t))), 10_000),
          `the Slack message is edited: ${JSON.stringify(slackTexts(oldId))}`,
        );

        // The SDK sees the code; and the newest request stays the one approvers decide.
        const newest = await askWithToken(ci, 'demo-token', { sha: sha('c'), run_id: '1002' });
        const newestId = await newest.id;
        const replaced = await denial(newer.result);
        assert.equal(replaced.code, 'SUPERSEDED');
        assert.match(replaced.reason, new RegExp(`superseded by a newer commit ccccccc \\(request ${newestId}\\)`));
        await approver.approve(newestId);
        const grant = await granted(newest.result);
        assert.ok(grant.credentials.VAULT_TOKEN);
        await grant.release();
      } finally {
        approver.close();
      }
    });

    it('an older commit (a smaller run id) arriving later does not supersede the newer pending request', async () => {
      const newer = await askWithToken(ci, 'demo-token', { sha: sha('d'), run_id: '2000' });
      const newerId = await newer.id;
      const older = await askWithToken(ci, 'demo-token', { sha: sha('e'), run_id: '1999' });
      const olderId = await older.id;
      const approver = approverClient(ci, 'bob');
      try {
        const pending = (await approver.listRequests({ status: ['pending'] })).map((r) => r.id);
        assert.ok(pending.includes(newerId), 'the newer request still waits');
        assert.ok(pending.includes(olderId));
        assert.equal((await ci.daemon.audit()).some((r) => r.type === 'request.superseded' && r.requestId === newerId), false);
        await approver.approve(newerId);
        await (await granted(newer.result)).release();
        await approver.deny(olderId, { reason: 'old commit' });
        assert.equal((await denial(older.result)).code, 'DENIED_BY_APPROVER');
      } finally {
        approver.close();
      }
    });

    it('tags are not superseded by default: both requests for refs/tags/v1 wait', async () => {
      const tag = { ref: 'refs/tags/v1', ref_type: 'tag', workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/tags/v1' };
      const first = await askWithToken(ci, 'demo-token', { ...tag, sha: sha('1'), run_id: '3000' });
      const firstId = await first.id;
      const second = await askWithToken(ci, 'demo-token', { ...tag, sha: sha('2'), run_id: '3001' });
      const secondId = await second.id;
      const approver = approverClient(ci, 'bob');
      try {
        const pending = (await approver.listRequests({ status: ['pending'] })).map((r) => r.id);
        assert.ok(pending.includes(firstId) && pending.includes(secondId), JSON.stringify(pending));
        for (const id of [firstId, secondId]) await approver.deny(id, { reason: 'test over' });
        assert.equal((await denial(first.result)).code, 'DENIED_BY_APPROVER');
        assert.equal((await denial(second.result)).code, 'DENIED_BY_APPROVER');
      } finally {
        approver.close();
      }
    });
  });
}
