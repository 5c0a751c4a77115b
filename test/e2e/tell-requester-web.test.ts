/**
 * A denial on the approval web page, in a real browser, reaches the waiting step with who denied,
 * through which channel, and their reason: jitgated with `identity.approvers.web`, a real OpenID
 * Provider, Debian's chromium, `jitgate run` as a process.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, signInContext } from '../support/browser.js';
import { contextFlags, DaemonProcess, fileExists, startCli, STEP } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { httpBaseOf, webApproversIdentity } from '../support/web-daemon.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

describe('end to end: a denial on the web page tells the requester who and why', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let daemon: DaemonProcess;
  let browser: Browser;
  let dir: string;
  let base: string;

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: [{ sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre'] }] });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-tell-web-'));
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity: await webApproversIdentity(idp, dir),
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

  it('carol denies in the browser with a reason; the step exits denied saying "denied by carol@acme.test (web): <reason>"', async () => {
    const out = join(dir, 'step');
    await mkdir(out);
    const run = startCli(['run', '--resource', 'demo-token', '--reason', 'deploy', ...contextFlags('d'.repeat(40)), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: out,
    });
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);

    const context = await signInContext(browser, base);
    const page = await context.newPage();
    await page.goto(`${base}/requests/${id}`);
    await page.getByRole('link', { name: /sign in/i }).click();
    await page.locator('input[name="login"]').fill('u-carol');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    await page.waitForURL(`${base}/requests/${id}`);
    await page.locator('textarea[name="reason"]').fill('not during the freeze,\nask again Monday');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${base}/requests/${id}`);
    assert.match(await page.locator('.flash').innerText(), /Denied/);
    assert.match(await page.locator('body').innerText(), /denied by carol@acme\.test \(web\)/);
    await context.close();

    const result = await run.exited;
    assert.equal(result.code, 77, result.stderr);
    assert.equal(fileExists(join(out, 'ran')), false, 'the step did not run');
    assert.match(result.stderr, new RegExp(`jitgate: access denied: denied by carol@acme\\.test \\(web\\): not during the freeze, ask again Monday \\(request ${id}\\)`));
    const denials = (await daemon.audit()).filter((r) => r.type === 'approval.denied' && r.requestId === id);
    assert.deepEqual(
      denials.map((r) => [r.channel, r.reason]),
      [['web', 'not during the freeze, ask again Monday']],
    );
  });
});
