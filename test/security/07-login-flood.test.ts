/**
 * Security 7: anonymous `/auth/login` requests used to create a login session each in the same
 * bounded map (10,000) as signed-in approvers, so a flood pushed out approvers' sessions and
 * sign-ins in progress. Now a started sign-in lives in a sealed cookie (nothing held in the
 * daemon) and `/auth/login` is rate-limited per client address (429 with Retry-After). Tested
 * against the real jitgated's HTTP listener with a real OpenID Provider: approvers signed in and
 * mid-login before a flood of more sign-ins than the session bound still approve after it.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrfOf, WebClient } from '../daemon/web/web-client.js';
import { contextFlags, DaemonProcess, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { httpBaseOf, webApproversIdentity } from '../support/web-daemon.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: token-needs-two-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

/** The session bound of the daemon before the fix (SessionStore maxSessions): the flood goes past it. */
const SESSION_BOUND = 10_000;
const FLOOD = SESSION_BOUND + 1;
const USERS = ['carol', 'dave', 'erin', 'frank'];

interface FloodResult {
  readonly statuses: Map<number, number>;
  readonly retryAfter: Set<string>;
}

/** `total` anonymous GET /auth/login, `concurrency` at a time, each from the local address `from(i)`. */
async function flood(base: string, total: number, from: (i: number) => string, concurrency = 16): Promise<FloodResult> {
  const { hostname, port } = new URL(base);
  const agents = new Map<string, Agent>();
  const statuses = new Map<number, number>();
  const retryAfter = new Set<string>();
  const one = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const localAddress = from(i);
      let agent = agents.get(localAddress);
      if (agent === undefined) {
        agent = new Agent({ keepAlive: true, maxSockets: concurrency });
        agents.set(localAddress, agent);
      }
      const req = request({ host: hostname, port, path: '/auth/login?return=%2F', localAddress, agent }, (res) => {
        statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
        const wait = res.headers['retry-after'];
        if (wait !== undefined) retryAfter.add(wait);
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await one(next++);
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
  return { statuses, retryAfter };
}

describe('security 7: a flood of anonymous sign-ins evicts no session and no sign-in in progress', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;
  const runs: Proc[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: USERS.map((name) => ({ sub: `u-${name}`, preferredUsername: name, email: `${name}@acme.test`, groups: ['sre'] })) });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-sec07-'));
    const identity = await webApproversIdentity(idp, dir);
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity,
      extraConfig: 'http: { listen: "127.0.0.1:0" }',
    });
    base = await httpBaseOf(daemon);
  });

  after(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await daemon.close();
    await idp.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A `jitgate run` waiting for two approvals; resolves with its request id. */
  async function waitingRun(): Promise<{ id: string; run: Proc }> {
    const out = await mkdtemp(join(dir, 'step-'));
    const run = startCli(['run', '--resource', 'demo-token', '--reason', 'flood test', ...contextFlags('c'.repeat(40)), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: out,
    });
    runs.push(run);
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    return { id, run };
  }

  /** The approver's session still shows them signed in, and their approval is recorded. */
  async function approves(browser: WebClient, id: string, name: string): Promise<void> {
    const page = await (await browser.fetch(`/requests/${id}`)).text();
    assert.match(page, new RegExp(`Signed in as ${name}@acme\\.test \\(u-${name}\\)`), `${name}'s session survived the flood`);
    const res = await browser.post(`/requests/${id}/approve`, { csrf: csrfOf(page), comment: `${name} ok` });
    assert.equal(res.status, 303);
    await res.body?.cancel();
    assert.match(await (await browser.fetch(`/requests/${id}`)).text(), /Approved: the request is now/, `${name}'s approval was recorded`);
  }

  /** Signed in before the flood, and another approver half-way through signing in. */
  async function beforeFlood(id: string, signedIn: string, midLogin: string): Promise<{ signedIn: WebClient; midLogin: WebClient; callback: string }> {
    const a = new WebClient(base);
    const done = await a.signIn(id, `u-${signedIn}`);
    assert.equal(done.status, 303);
    await done.body?.cancel();
    const b = new WebClient(base);
    const callback = await b.startSignIn(id, `u-${midLogin}`);
    return { signedIn: a, midLogin: b, callback };
  }

  /** After the flood: the mid-login approver finishes signing in, both approve, and the run goes ahead. */
  async function afterFlood(id: string, run: Proc, before: Awaited<ReturnType<typeof beforeFlood>>, names: [string, string]): Promise<void> {
    const finished = await before.midLogin.finishSignIn(before.callback);
    assert.equal(finished.status, 303, `${names[1]} could finish the sign-in started before the flood`);
    assert.equal(finished.headers.get('location'), `/requests/${id}`);
    await finished.body?.cancel();
    await approves(before.signedIn, id, names[0]);
    await approves(before.midLogin, id, names[1]);
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
  }

  // First: the approvers below sign in from 127.0.0.1, whose bucket the single-address flood drains.
  it('a flood from many addresses, each within its limit and together past the session bound, holds nothing and evicts nobody', async () => {
    const { id, run } = await waitingRun();
    const approvers = await beforeFlood(id, 'erin', 'frank');
    // 1,001 addresses (127.1.0.0 – 127.1.3.232) × 10 sign-ins each, none over the per-address burst.
    const total = FLOOD + 9;
    const { statuses } = await flood(base, total, (i) => {
      const host = Math.floor(i / 10);
      return `127.1.${String(host >> 8)}.${String(host & 255)}`;
    });
    assert.deepEqual([...statuses], [[303, total]], 'every anonymous sign-in was started');
    await afterFlood(id, run, approvers, ['erin', 'frank']);
  });
  it('flooding from one address gets 429 with Retry-After; the approvers signed in and mid-login still approve', async () => {
    const { id, run } = await waitingRun();
    const approvers = await beforeFlood(id, 'carol', 'dave');
    const started = performance.now();
    const { statuses, retryAfter } = await flood(base, FLOOD, () => '127.0.0.1');
    const limited = statuses.get(429) ?? 0;
    // The burst (10, less the sign-ins just started from this very address), plus one a 6 s refill.
    const allowed = 10 + Math.ceil((performance.now() - started) / 6000);
    assert.ok((statuses.get(303) ?? 0) <= allowed, `at most ${String(allowed)} sign-ins started: ${JSON.stringify([...statuses])}`);
    assert.equal(limited + (statuses.get(303) ?? 0), FLOOD, JSON.stringify([...statuses]));
    assert.ok(retryAfter.size > 0 && [...retryAfter].every((s) => /^[1-9]\d*$/.test(s)), `Retry-After: ${[...retryAfter].join(',')}`);
    const page = await fetch(new URL('/auth/login', base), { redirect: 'manual' });
    assert.equal(page.status, 429);
    assert.match(page.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.match(await page.text(), /Too many sign-ins/);
    await afterFlood(id, run, approvers, ['carol', 'dave']);
  });

});
