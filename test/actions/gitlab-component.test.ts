/**
 * The GitLab CI/CD component (templates/jitgate.yml): its spec and job parsed with `yaml`, inputs
 * interpolated as GitLab does, and the job's script and after_script run with bash under a
 * GitLab-shaped environment (CI_* variables, the OIDC token in JITGATE_ID_TOKEN) against a real
 * jitgated that trusts only that token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type CiIssuer } from '../support/ci-issuer.js';
import { DaemonProcess, eventually, Proc, ROOT, type CliResult } from '../support/daemon-process.js';
import type { VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';

const POLICIES = `
  - name: token-from-main
    match: { resource: demo-token, repository: acme/api, repository_id: "42", ref: refs/heads/main, ref_type: branch, environment: production }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

interface InputSpec {
  readonly default?: string;
  readonly description?: string;
}
interface Job {
  readonly stage: string;
  readonly id_tokens: Record<string, { aud: string }>;
  readonly variables: Record<string, string | { value: string; expand?: boolean }>;
  readonly script: string[];
  readonly after_script: string[];
}

/** GitLab's `$[[ inputs.x ]]` interpolation, applied to every string (keys too) of the parsed job. */
function interpolate(value: unknown, inputs: Record<string, string>): unknown {
  const fill = (text: string): string =>
    text.replace(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g, (_, name: string) => {
      const v = inputs[name];
      if (v === undefined) throw new Error(`input ${name} not given and without default`);
      return v;
    });
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, inputs));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [fill(k), interpolate(v, inputs)]));
  return value;
}

async function loadComponent(): Promise<{ spec: Record<string, InputSpec>; body: Record<string, unknown> }> {
  const docs = parseAllDocuments(await readFile(join(ROOT, 'templates/jitgate.yml'), 'utf8'));
  assert.ok(Array.isArray(docs) && docs.length === 2, 'a spec header and the job document');
  for (const d of docs) assert.deepEqual(d.errors, []);
  const [header, body] = docs.map((d) => d.toJS() as unknown) as [{ spec: { inputs: Record<string, InputSpec> } }, Record<string, unknown>];
  return { spec: header.spec.inputs, body };
}

async function componentJob(given: Record<string, string>): Promise<{ name: string; job: Job }> {
  const { spec, body } = await loadComponent();
  const inputs: Record<string, string> = {};
  for (const [name, s] of Object.entries(spec)) if (s.default !== undefined) inputs[name] = s.default;
  Object.assign(inputs, given);
  const jobs = interpolate(body, inputs) as Record<string, Job>;
  const [name, job] = Object.entries(jobs)[0] ?? [];
  assert.ok(name !== undefined && job !== undefined);
  return { name, job };
}

describe('GitLab CI/CD component templates/jitgate.yml (real daemon)', () => {
  let ci: CiDaemon;
  let env: VaultWithDatabase;
  let issuer: CiIssuer;
  let daemon: DaemonProcess;
  let out: string;
  let bin: string;

  before(async () => {
    ci = await startCiDaemon({ policies: POLICIES, kind: 'gitlab', tmpPrefix: 'jitgate-gitlab-' });
    ({ env, issuer, daemon, out } = ci);
    // The runner's `jitgate`: the CLI from this checkout.
    bin = join(out, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'jitgate'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/jitgate.js')}" "$@"\n`);
    await chmod(join(bin, 'jitgate'), 0o755);
    // The job's command: proves the credentials work, hands the token to the test in a 0600 file.
    await writeFile(
      join(out, 'check.mjs'),
      `import { writeFileSync } from 'node:fs';
const res = await fetch(process.env.VAULT_ADDR + '/v1/auth/token/lookup-self', { headers: { 'X-Vault-Token': process.env.VAULT_TOKEN ?? '' } });
writeFileSync(process.env.OUT_DIR + '/result.json', JSON.stringify({ status: res.status, seesIdToken: 'JITGATE_ID_TOKEN' in process.env }));
writeFileSync(process.env.OUT_DIR + '/token', process.env.VAULT_TOKEN ?? '', { mode: 0o600 });
if (process.env.STEP_SLEEP_MS) { writeFileSync(process.env.OUT_DIR + '/sleeping', '1'); await new Promise((r) => setTimeout(r, Number(process.env.STEP_SLEEP_MS))); }
console.log('command ran');
process.exit(Number(process.env.STEP_EXIT ?? 0));
`,
    );
  });
  after(async () => {
    await ci.close();
  });

  async function tokenAlive(token: string): Promise<boolean> {
    const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } });
    await res.body?.cancel();
    return res.status === 200;
  }

  /** The environment a GitLab runner gives the job: CI_* variables, id_tokens, the job's variables. */
  async function gitlabEnv(job: Job, dir: string, jobId: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const variables = Object.fromEntries(Object.entries(job.variables).map(([k, v]) => [k, typeof v === 'string' ? v : v.value]));
    const idTokens = Object.fromEntries(
      await Promise.all(Object.entries(job.id_tokens).map(async ([name, t]) => [name, await issuer.issue(issuer.gitlabClaims(t.aud))] as const)),
    );
    return {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? '/tmp',
      TMPDIR: dir,
      CI: 'true',
      GITLAB_CI: 'true',
      CI_JOB_ID: jobId,
      CI_PROJECT_PATH: 'acme/api',
      CI_PROJECT_ID: '42',
      CI_COMMIT_REF_NAME: 'main',
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_SHA: 'a'.repeat(40),
      GITLAB_USER_LOGIN: 'alice',
      CI_ENVIRONMENT_NAME: 'production',
      CI_PIPELINE_SOURCE: 'push',
      VAULT_ADDR: env.vault.address,
      OUT_DIR: dir,
      ...variables,
      ...idTokens,
      ...extra,
    };
  }

  /** Runs script lines as GitLab's bash does: one shell, errexit and pipefail. */
  function runLines(lines: readonly string[], jobEnv: Record<string, string>): Proc {
    return new Proc(spawn('bash', ['-c', ['set -eo pipefail', ...lines].join('\n')], { env: jobEnv, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  async function jobDir(name: string): Promise<string> {
    const d = join(out, name);
    await mkdir(d);
    return d;
  }

  function assertNoSecrets(secrets: readonly string[], ...results: CliResult[]): void {
    for (const s of secrets) for (const r of results) assert.ok(!(r.stdout + r.stderr).includes(s), 'a secret shows in the job log');
  }

  it('spec: the inputs, and the job asks for an OIDC token with audience jitgate', async () => {
    const { spec } = await loadComponent();
    assert.deepEqual(Object.keys(spec).sort(), ['audience', 'command', 'jitgate', 'job-name', 'reason', 'resource', 'socket', 'stage', 'ttl']);
    assert.equal(spec.resource?.default, undefined, 'resource is required');
    assert.equal(spec.command?.default, undefined, 'command is required');
    assert.equal(spec.audience?.default, 'jitgate');
    const { name, job } = await componentJob({ resource: 'demo-token', command: 'make deploy' });
    assert.equal(name, 'jitgate');
    assert.deepEqual(job.id_tokens, { JITGATE_ID_TOKEN: { aud: 'jitgate' } });
    assert.deepEqual(job.variables.JITGATE_COMMAND, { value: 'make deploy', expand: false });
    assert.equal(job.variables.JITGATE_RESOURCE, 'demo-token');
    assert.ok(job.script.join('\n').includes('run "$@" --'), 'the command runs under jitgate run');
    assert.ok(job.after_script.length > 0);
  });

  it('runs the command under jitgate run with working credentials; the grant is revoked when it ends', async () => {
    const d = await jobDir('ok');
    const { job } = await componentJob({ resource: 'demo-token', reason: 'deploy', ttl: '30s', socket: daemon.socket, command: 'node "$CHECK" && echo "done with $CI_JOB_ID"' });
    const jobEnv = await gitlabEnv(job, d, '101', { CHECK: join(out, 'check.mjs') });
    const script = await runLines(job.script, jobEnv).exited;
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /command ran\ndone with 101/);
    const result = JSON.parse(await readFile(join(d, 'result.json'), 'utf8')) as { status: number; seesIdToken: boolean };
    assert.equal(result.status, 200, 'the token worked inside the command');
    assert.equal(result.seesIdToken, false, 'the command does not see the OIDC token');
    const token = await readFile(join(d, 'token'), 'utf8');
    assert.equal(await tokenAlive(token), false, 'revoked once the command ended');
    assert.equal(existsSync(join(d, 'jitgate-101.pid')), false);
    const afterScript = await runLines(job.after_script, jobEnv).exited;
    assert.equal(afterScript.code, 0);
    assert.match(afterScript.stdout, /jitgate: nothing to release/);
    assertNoSecrets([token, jobEnv.JITGATE_ID_TOKEN ?? ''], script, afterScript);
  });

  it('a failing command fails the job with its exit code; the grant is revoked', async () => {
    const d = await jobDir('fails');
    const { job } = await componentJob({ resource: 'demo-token', socket: daemon.socket, command: 'node "$CHECK"' });
    const jobEnv = await gitlabEnv(job, d, '102', { CHECK: join(out, 'check.mjs'), STEP_EXIT: '3' });
    const script = await runLines(job.script, jobEnv).exited;
    assert.equal(script.code, 3);
    assert.equal(await tokenAlive(await readFile(join(d, 'token'), 'utf8')), false);
  });

  it('job killed mid-command (the shell gone, jitgate run still holding): after_script releases', async () => {
    const d = await jobDir('killed');
    const { job } = await componentJob({ resource: 'demo-token', socket: daemon.socket, command: 'node "$CHECK"' });
    const jobEnv = await gitlabEnv(job, d, '103', { CHECK: join(out, 'check.mjs'), STEP_SLEEP_MS: '60000' });
    const script = runLines(job.script, jobEnv);
    assert.equal(await eventually(() => Promise.resolve(existsSync(join(d, 'sleeping'))), 20_000), true, script.stderr);
    const token = await readFile(join(d, 'token'), 'utf8');
    // Only the shell: its background `jitgate run` (and the command) keep running, as when a runner
    // loses the job's shell. 'exit', not 'close': the survivors still hold the output pipes.
    const shellGone = new Promise((resolve) => script.child.once('exit', resolve));
    script.child.kill('SIGKILL');
    await shellGone;
    assert.equal(await tokenAlive(token), true, 'jitgate run outlived the shell and still holds the grant');
    const afterScript = await runLines(job.after_script, jobEnv).exited;
    assert.equal(afterScript.code, 0, afterScript.stderr);
    assert.match(afterScript.stdout, /the job ended with its grant still open; releasing[\s\S]*jitgate: released/);
    assert.equal(await tokenAlive(token), false, 'after_script released the grant');
    const revoked = (await daemon.audit()).filter((r) => r.type === 'grant.revoked').at(-1);
    assert.equal(revoked?.reason, 'released');
    assertNoSecrets([token], afterScript);
  });

  it('a token from another branch is denied: the command never runs', async () => {
    const d = await jobDir('denied');
    const { job } = await componentJob({ resource: 'demo-token', socket: daemon.socket, command: 'node "$CHECK"' });
    const jobEnv = await gitlabEnv(job, d, '104', {
      CHECK: join(out, 'check.mjs'),
      CI_COMMIT_REF_NAME: 'feature',
      JITGATE_ID_TOKEN: await issuer.issue(issuer.gitlabClaims('jitgate', { ref: 'feature', ref_path: 'refs/heads/feature' })),
    });
    const script = await runLines(job.script, jobEnv).exited;
    assert.equal(script.code, 77, script.stderr);
    assert.equal(existsSync(join(d, 'result.json')), false);
  });
});
