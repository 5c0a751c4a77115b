/**
 * The approval web page in a real browser: jitgated with `identity.approvers.web`, a real OpenID
 * Provider, Debian's chromium. The approver opens the link, signs in on the IdP's own login page,
 * approves, sees the outcome, and the `jitgate run` that waited on it goes ahead.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { IDP_CLIENT_SECRET } from '../daemon/web/web-client.js';
import { launchBrowser, signInContext } from '../support/browser.js';
import { DaemonProcess, fileExists, startCli, STEP, contextFlags } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { httpBaseOf, webApproversIdentity } from '../support/web-daemon.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

const CONTEXT = contextFlags('b'.repeat(40));

describe('end to end: approving on the web page in a browser', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let daemon: DaemonProcess;
  let browser: Browser;
  let dir: string;
  let base: string;

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: [{ sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre'] }] });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-web-e2e-'));
    const identity = await webApproversIdentity(idp, dir);
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity,
      extraConfig: 'http: { listen: "127.0.0.1:0" }',
    });
    base = await httpBaseOf(daemon);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
    await daemon.close();
    await idp.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in through the IdP, approves, shows the outcome, and the waiting run proceeds', async () => {
    const out = join(dir, 'step');
    await mkdir(out);
    const run = startCli(['run', '--resource', 'demo-token', '--reason', 'deploy <b>now</b>', ...CONTEXT, '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: out,
    });
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);

    const context = await signInContext(browser, base);
    const page = await context.newPage();
    await page.goto(`${base}/requests/${id}`);
    assert.match(await page.locator('h1').innerText(), new RegExp(id));
    assert.match(await page.locator('body').innerText(), /deploy <b>now<\/b>/);
    await page.screenshot({ path: '/tmp/jitgate-web-signed-out.png', fullPage: true });

    await page.getByRole('link', { name: /sign in/i }).click();
    await page.locator('input[name="login"]').fill('u-carol');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    await page.waitForURL(`${base}/requests/${id}`);
    assert.match(await page.locator('.who').innerText(), /Signed in as carol@acme\.test/);
    await page.screenshot({ path: '/tmp/jitgate-web-signed-in.png', fullPage: true });

    await page.locator('textarea[name="comment"]').fill('ship it');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${base}/requests/${id}`);
    assert.match(await page.locator('.flash').innerText(), /Approved/);
    assert.match(await page.locator('body').innerText(), /approved by carol@acme\.test \(web\)/);
    await page.screenshot({ path: '/tmp/jitgate-web-approved.png', fullPage: true });
    await context.close();

    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(fileExists(join(out, 'ran')), 'the step ran');
    const audit = await daemon.audit();
    assert.ok(audit.some((r) => r.type === 'approver.signed_in' && r.subject === 'u-carol'));
    const approvals = audit.filter((r) => r.type === 'approval.recorded');
    assert.equal(approvals.length, 1);
    assert.equal(await readFile(daemon.auditFile, 'utf8').then((t) => t.includes(IDP_CLIENT_SECRET)), false);
  });
});
