/**
 * Step-up for sensitive resources (issue 12), through the real daemon, a real OpenID Provider and
 * Debian's chromium: for a `step_up` resource a Slack click does not approve but answers with a link
 * to the request page, where only an IdP sign-in no older than `max_age` approves; a session older
 * than that (a stale IdP sign-in) is sent back to the IdP for a fresh login first. Slack approvals
 * of other resources work as before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, signInContext } from '../support/browser.js';
import { cli, contextFlags, DaemonProcess, eventually, startCli, STEP, type Proc } from '../support/daemon-process.js';
import { freePort } from '../support/free-port.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { postgresState } from '../support/postgres-state.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';
import { webApproversIdentity } from '../support/web-daemon.js';
import { signSlack, slackClickBody } from '../daemon/notify/notify-fixture.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: db-needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

const MAX_AGE_S = 6;
const TOKEN = 'xoxb-5555-6666-step-up-test';
const SIGNING_SECRET = 'slack-signing-secret-for-step-up';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`step-up: a sensitive resource is approved only after a fresh IdP sign-in (${store} state)`, () => {
    let env: VaultWithDatabase;
    let idp: TestIdp;
    let slack: SlackApiServer;
    let daemon: DaemonProcess;
    let browser: Browser;
    let dir: string;
    let base: string;
    const runs: Proc[] = [];

    before(async () => {
      env = await startVaultWithDatabase();
      idp = await startIdp({ users: [{ sub: 'u-carol', email: 'carol@acme.test', groups: ['sre'] }] });
      slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
      dir = await mkdtemp(join(tmpdir(), 'jitgate-step-up-'));
      await writeFile(join(dir, 'slack-token'), `${TOKEN}\n`, { mode: 0o600 });
      await writeFile(join(dir, 'slack-signing'), `${SIGNING_SECRET}\n`, { mode: 0o600 });
      const port = await freePort();
      base = `http://127.0.0.1:${String(port)}`;
      daemon = await DaemonProcess.start({
        vaultEnv: env,
        policies: POLICIES,
        ...(store === 'postgres' && { state: `state: ${(await postgresState(env, dir)).value}` }),
        identity: await webApproversIdentity(idp, dir),
        groups: '  sre: [carol]',
        resourceExtras: { 'demo-db': `step_up: { max_age: ${String(MAX_AGE_S)}s }` },
        extraConfig: `http: { listen: "127.0.0.1:${String(port)}", public_url: "${base}" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0CAROL: carol }, api_url: "${slack.url}" }`,
      });
      browser = await launchBrowser();
    });

    after(async () => {
      for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await browser.close();
      await daemon.close();
      await slack.close();
      await idp.close();
      await env.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function waitingRun(resource: 'demo-db' | 'demo-token'): Promise<{ id: string; run: Proc; ts: string }> {
      const out = await mkdtemp(join(dir, 'step-'));
      const pgEnv = { PGHOST: env.pg.host, PGPORT: String(env.pg.port) };
      const run = startCli(['run', '--resource', resource, '--reason', 'deploy', ...contextFlags(), '--', process.execPath, STEP], { ...daemon.env, ...pgEnv, OUT_DIR: out });
      runs.push(run);
      const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
      assert.ok(id);
      let ts = '';
      assert.ok(
        await eventually(() => {
          const posted = slack.accepted('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes(id));
          const postedTs = (posted?.reply as { ts?: unknown } | undefined)?.ts;
          ts = typeof postedTs === 'string' ? postedTs : '';
          return Promise.resolve(ts !== '');
        }, 10_000),
        'the Slack message',
      );
      return { id, run, ts };
    }

    async function clickApprove(id: string, ts: string): Promise<void> {
      const body = slackClickBody({ user: 'U0CAROL', action: 'jitgate_approve', requestId: id, messageTs: ts, channelId: slack.channelId });
      const res = await fetch(`${base}/slack/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlack(SIGNING_SECRET, body, Date.now()) },
        body,
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }

    async function status(id: string): Promise<string> {
      const shown = await cli(['show', id, '--json', '--approver-token-file', await tokenFile()], daemon.env);
      assert.equal(shown.code, 0, shown.stderr);
      return (JSON.parse(shown.stdout) as { status: string }).status;
    }

    async function tokenFile(): Promise<string> {
      const file = join(dir, 'carol.jwt');
      await writeFile(file, await idp.login('u-carol'), { mode: 0o600 });
      return file;
    }

    /** The IdP's development login (and consent, when it asks), until the browser is back on `url`. */
    async function idpLogin(page: Page, url: string): Promise<void> {
      await page.locator('input[name="login"]').fill('u-carol');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
      for (let i = 0; i < 3 && !page.url().startsWith(url); i++) {
        await Promise.race([page.waitForURL(url), page.locator('button[type="submit"]').waitFor()]);
        if (!page.url().startsWith(url)) await page.locator('button[type="submit"]').click();
      }
      await page.waitForURL(url);
    }

    /** Back on the request page with the step-up notice: its "Sign in again" link leads to the IdP's login form. */
    async function stepUp(page: Page, url: string, why: RegExp = /demo-db needs step-up/): Promise<void> {
      await page.waitForURL(url);
      const flash = page.locator('.flash-error');
      assert.match(await flash.innerText(), why);
      await flash.getByRole('link', { name: 'Sign in again' }).click();
      await page.locator('input[name="login"]').waitFor();
      // The IdP still has this browser's session: only the fresh-login request makes it ask again.
      assert.match(page.url(), new RegExp(`^${idp.issuer}/interaction/`), 'at the IdP login');
    }

    it('a Slack click on a step-up resource answers with the request page and approves nothing; other resources approve from Slack as before', async () => {
      const db = await waitingRun('demo-db');
      await clickApprove(db.id, db.ts);
      assert.ok(
        await eventually(() => Promise.resolve(slack.accepted('chat.postEphemeral').some((c) => JSON.stringify(c.args).includes(db.id))), 10_000),
        'the clicker is told privately',
      );
      const told = JSON.stringify(slack.accepted('chat.postEphemeral').find((c) => JSON.stringify(c.args).includes(db.id))?.args);
      assert.match(told, /demo-db needs step-up/);
      assert.ok(told.includes(`<${base}/requests/${db.id}|Open the request page>`), told);
      assert.equal(await status(db.id), 'pending', 'the click approved nothing');
      const rejected = (await daemon.audit()).find((r) => r.type === 'approval.rejected' && r.requestId === db.id);
      assert.match(String(rejected?.reason), /needs step-up/);

      const token = await waitingRun('demo-token');
      await clickApprove(token.id, token.ts);
      const ran = await token.run.exited;
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stderr, /approved \(1\/1\) by carol \(Slack\)/);
      const denied = await cli(['deny', db.id, '--reason', 'cleanup', '--approver-token-file', await tokenFile()], daemon.env);
      assert.equal(denied.code, 0, denied.stderr);
    });

    it('on the web page: a sign-in without a fresh login, then one older than max_age, each go back to the IdP before approving', async () => {
      const context = await signInContext(browser, base);
      const page = await context.newPage();
      const first = await waitingRun('demo-db');
      const firstPage = `${base}/requests/${first.id}`;
      await page.goto(firstPage);
      await page.getByRole('link', { name: /sign in/i }).click();
      await idpLogin(page, firstPage);
      assert.match(await page.locator('.who').innerText(), /Signed in as carol@acme\.test/);
      // An ordinary sign-in carries no auth_time: approving asks for a fresh login at the IdP first.
      await page.getByRole('button', { name: 'Approve' }).click();
      await stepUp(page, firstPage);
      assert.equal(await status(first.id), 'pending');
      await idpLogin(page, firstPage);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(firstPage);
      assert.match(await page.locator('.flash').innerText(), /Approved/);
      const ran = await first.run.exited;
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stderr, /approved \(1\/1\) by carol@acme\.test \(web\)/);

      // The same session, once its sign-in is older than max_age: stale, so the IdP again, then approved.
      const second = await waitingRun('demo-db');
      const secondPage = `${base}/requests/${second.id}`;
      await new Promise((resolve) => setTimeout(resolve, (MAX_AGE_S + 1) * 1000));
      await page.goto(secondPage);
      assert.match(await page.locator('.who').innerText(), /Signed in as carol@acme\.test/, 'the session itself is still alive');
      await page.getByRole('button', { name: 'Approve' }).click();
      await stepUp(page, secondPage, /your sign-in is \d+s old/);
      assert.equal(await status(second.id), 'pending', 'a stale IdP sign-in approved nothing');
      await idpLogin(page, secondPage);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(secondPage);
      assert.match(await page.locator('.flash').innerText(), /Approved/);
      assert.equal((await second.run.exited).code, 0);
      await context.close();

      const audit = await daemon.audit();
      const stepUps = audit.filter((r) => r.type === 'approval.rejected' && (r.requestId === first.id || r.requestId === second.id));
      assert.equal(stepUps.length, 2, 'each refused approval is audited');
      assert.match(String(stepUps[1]?.reason), /your sign-in is \d+s old/);
    });
  });
}
