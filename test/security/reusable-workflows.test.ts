/**
 * GitHub reusable workflows (security review, "Also"). In a job defined by a called workflow,
 * GitHub sets `GITHUB_WORKFLOW_REF` to the caller (the token's `workflow_ref`) while the token's
 * `job_workflow_ref` names the callee. `jitgate run` claims the former; the daemon must accept a
 * claim equal to either, and policy can pin the callee with `job_workflow_ref` ("only our deploy
 * workflow, at a release tag"). Through the real jitgated and `jitgate run` in a simulated job.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SHA_MAIN, type CiIssuer } from '../support/ci-issuer.js';
import { cli, DaemonProcess, fileExists, STEP } from '../support/daemon-process.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';

const CALLER = 'acme/api/.github/workflows/release.yml@refs/tags/v2.0.0';
const DEPLOY = 'acme/ci/.github/workflows/deploy.yml';

const POLICIES = `
  - name: shared-deploy-workflow-at-v1
    match:
      resource: demo-token
      repository_id: 42
      job_workflow_ref: [${DEPLOY}@refs/tags/v1, "${DEPLOY}@refs/tags/v1.*"]
    decision: auto-approve`;

describe('GitHub reusable workflows', () => {
  let ci: CiDaemon;
  let issuer: CiIssuer;
  let daemon: DaemonProcess;
  let out: string;

  before(async () => {
    ci = await startCiDaemon({ policies: POLICIES, kind: 'github', tmpPrefix: 'jitgate-reusable-' });
    ({ issuer, daemon, out } = ci);
  });
  after(async () => {
    await ci.close();
  });

  /** `jitgate run` as a step of a job whose token says `jobWorkflowRef`, with GitHub's own variables. */
  async function runInJob(name: string, jobWorkflowRef: string, options: { workflowVar?: string; flags?: string[] } = {}) {
    const d = join(out, name);
    await mkdir(d, { recursive: true });
    issuer.actions.claims = { ref: 'refs/tags/v2.0.0', ref_type: 'tag', workflow_ref: CALLER, job_workflow_ref: jobWorkflowRef };
    const result = await cli(['run', '--resource', 'demo-token', ...(options.flags ?? []), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: d,
      ACTIONS_ID_TOKEN_REQUEST_URL: issuer.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.actions.requestToken,
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_REF: 'refs/tags/v2.0.0',
      GITHUB_SHA: SHA_MAIN,
      GITHUB_ACTOR: 'alice',
      GITHUB_WORKFLOW_REF: options.workflowVar ?? CALLER,
    });
    return { code: result.code, stderr: result.stderr, ran: fileExists(join(d, 'ran')) };
  }

  async function lastCreated(): Promise<{ rule: string | null; claimed: { workflow?: string }; context: Record<string, unknown> }> {
    const created = (await daemon.audit()).filter((r) => r.type === 'request.created').at(-1);
    assert.ok(created, 'a request.created record');
    return created as unknown as { rule: string | null; claimed: { workflow?: string }; context: Record<string, unknown> };
  }

  it('a job of the shared deploy workflow at v1, called from the repository\'s release workflow, is granted', async () => {
    const result = await runInJob('called-v1', `${DEPLOY}@refs/tags/v1`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.ran, true);
    const created = await lastCreated();
    assert.equal(created.rule, 'shared-deploy-workflow-at-v1');
    assert.equal(created.claimed.workflow, CALLER, 'the CLI claimed the caller, as GitHub names it');
    assert.equal(created.context.workflow, `${DEPLOY}@refs/tags/v1`, 'the policy judged the verified callee');
    assert.equal(created.context.jobWorkflowRef, `${DEPLOY}@refs/tags/v1`);
    assert.equal(created.context.workflowRef, CALLER);
  });

  it('the glob form of the pin matches within one segment (v1.4), and claiming the callee with --workflow is accepted too', async () => {
    const result = await runInJob('called-v1.4', `${DEPLOY}@refs/tags/v1.4`, { flags: ['--workflow', `${DEPLOY}@refs/tags/v1.4`] });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.ran, true);
    assert.equal((await lastCreated()).claimed.workflow, `${DEPLOY}@refs/tags/v1.4`);
  });

  it('the deploy workflow at another tag or a branch, or another workflow at v1, is not granted (no rule matches)', async () => {
    for (const [name, callee] of [
      ['v2', `${DEPLOY}@refs/tags/v2`],
      ['branch', `${DEPLOY}@refs/heads/main`],
      ['nested-tag', `${DEPLOY}@refs/tags/v1.4/evil`],
      ['other-workflow', 'acme/ci/.github/workflows/anything.yml@refs/tags/v1'],
      ['other-repo', 'evil/ci/.github/workflows/deploy.yml@refs/tags/v1'],
    ] as const) {
      const result = await runInJob(name, callee);
      assert.equal(result.code, 77, `${name}: ${result.stderr}`);
      assert.equal(result.ran, false, name);
      assert.match(result.stderr, /no policy rule matched/, name);
      assert.equal((await lastCreated()).context.jobWorkflowRef, callee);
    }
  });

  it('a claimed workflow that is neither the caller nor the callee is still a context mismatch', async () => {
    const lie = 'acme/api/.github/workflows/other.yml@refs/tags/v2.0.0';
    const result = await runInJob('lie', `${DEPLOY}@refs/tags/v1`, { workflowVar: lie });
    assert.equal(result.code, 77, result.stderr);
    assert.equal(result.ran, false);
    assert.match(result.stderr, /workflow claimed "acme\/api\/\.github\/workflows\/other\.yml@refs\/tags\/v2\.0\.0"/);
    const rejected = (await daemon.audit()).filter((r) => r.type === 'request.rejected').at(-1) as unknown as {
      mismatches: { field: string; claimed: string; verified: string }[];
    };
    assert.deepEqual(rejected.mismatches, [{ field: 'workflow', claimed: lie, verified: `${DEPLOY}@refs/tags/v1` }]);
  });
});
