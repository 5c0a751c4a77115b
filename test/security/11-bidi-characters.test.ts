/**
 * Security 11: bidirectional and zero-width characters in CI- or client-controlled values (a
 * branch name, a reason, a denier's reason) must not reach an approver raw: each channel shows
 * them as a visible `<U+202E>`. Through the real daemon: the Slack Web API stand-in, a real SMTP
 * peer, the web page's HTML, and the CLI's `run`, `list`, `show`, `show --json` and `deny`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, DaemonProcess, eventually, startCli } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { httpBaseOf, webApproversIdentity } from '../support/web-daemon.js';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const RLO = '\u202E';
const ZWSP = '\u200B';
const LRI = '\u2066';
const BOM = '\uFEFF';
/** A branch that, shown raw, reads "refs/heads/fix-exe.txt": the override flips what follows it. */
const REF = `refs/heads/fix-${RLO}txt.exe${ZWSP}`;
const REASON = `hotfix${ZWSP} approved by cto ${RLO}won${LRI}${BOM}`;
const DENY_REASON = `not ${RLO}now`;
/** Every character of the family the daemon or CLI could print; none may appear in any channel. */
const RAW = /[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u2028\u2029]/u;

const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

const TOKEN = 'xoxb-1111-2222-bidi-test-token';

function assertEscaped(what: string, text: string, expected: readonly string[]): void {
  const raw = RAW.exec(text);
  assert.equal(raw, null, `${what} holds a raw U+${(raw?.[0].codePointAt(0) ?? 0).toString(16).toUpperCase()}:\n${text}`);
  for (const piece of expected) assert.ok(text.includes(piece), `${what} shows ${piece}:\n${text}`);
}

describe('security 11: bidi and zero-width characters are shown escaped in every channel', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let slack: SlackApiServer;
  let smtp: SmtpSink;
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: [{ sub: 'u-carol', preferredUsername: 'carol', groups: ['sre'] }] });
    slack = await startSlackApiServer({ token: TOKEN, channel: '#deploys' });
    smtp = await startSmtpSink();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-bidi-'));
    await writeFile(join(dir, 'slack-token'), `${TOKEN}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'slack-signing'), 'slack-signing-secret-for-bidi\n', { mode: 0o600 });
    const identity = await webApproversIdentity(idp, dir, { localApprovers: true });
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity,
      extraConfig: `http: { listen: "127.0.0.1:0" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0BOB: bob }, api_url: "${slack.url}" }
  - email: { smtp: { host: ${smtp.host}, port: ${smtp.port}, tls: none }, from: jitgate@acme.test, to: [sre@acme.test] }`,
    });
    base = await httpBaseOf(daemon);
  });

  after(async () => {
    await daemon.close();
    await smtp.close();
    await slack.close();
    await idp.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a branch and a reason holding U+202E and U+200B reach Slack, mail, the web page and the CLI escaped', async () => {
    const context = ['--repository', 'acme/api', '--ref', REF, '--sha', 'c'.repeat(40), '--actor', 'alice', '--environment', 'production'];
    const run = startCli(['run', '--resource', 'demo-token', '--reason', REASON, ...context, '--', process.execPath, '-e', '0'], daemon.env);
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    const escapedRef = 'refs/heads/fix-<U+202E>txt.exe<U+200B>';
    const escapedReason = 'hotfix<U+200B> approved by cto <U+202E>won<U+2066><U+FEFF>';

    // Slack: the blocks and the fallback text, as the Web API received them.
    assert.ok(await eventually(() => Promise.resolve(slack.accepted('chat.postMessage').length === 1), 10_000), 'the Slack message');
    const posted = slack.accepted('chat.postMessage')[0];
    assert.ok(posted);
    const slackText = JSON.stringify(posted.args);
    // JSON.stringify leaves these characters as they are, so a raw one would show here.
    assertEscaped('the Slack message', slackText, ['refs/heads/fix-&lt;U+202E&gt;txt.exe&lt;U+200B&gt;', 'hotfix&lt;U+200B&gt; approved by cto &lt;U+202E&gt;won&lt;U+2066&gt;&lt;U+FEFF&gt;']);

    // Mail: the decoded body and the subject.
    assert.ok(await eventually(() => Promise.resolve(smtp.messages.length === 1), 10_000), 'the mail');
    const mail = smtp.messages[0];
    assert.ok(mail);
    assertEscaped('the mail', `${mail.subject}\n${mail.text}`, [escapedRef, escapedReason]);

    // The web page, read without signing in (it never changes anything).
    const res = await fetch(`${base}/requests/${id}`);
    assert.equal(res.status, 200);
    const page = await res.text();
    // escapeHtml writes `<` and `>` as numeric character references.
    const asHtml = (text: string): string => text.replace(/</g, '&#60;').replace(/>/g, '&#62;');
    assertEscaped('the web page', page, [asHtml(escapedRef), asHtml(escapedReason)]);

    // The CLI: list, show, and show --json (which still parses back to the exact values).
    const listed = await cli(['list', '--as', 'bob'], daemon.env);
    assert.equal(listed.code, 0, listed.stderr);
    assertEscaped('jitgate list', listed.stdout, [`acme/api@${escapedRef}`]);
    const shown = await cli(['show', id, '--as', 'bob'], daemon.env);
    assert.equal(shown.code, 0, shown.stderr);
    assertEscaped('jitgate show', shown.stdout, [`ref           ${escapedRef}`, `reason    ${escapedReason}`]);
    const json = await cli(['show', id, '--json', '--as', 'bob'], daemon.env);
    assert.equal(json.code, 0, json.stderr);
    assertEscaped('jitgate show --json', json.stdout, ['\\u202e', '\\u200b']);
    const parsed = JSON.parse(json.stdout) as { reason: string; context: { ref: string } };
    assert.equal(parsed.context.ref, REF, '--json keeps the exact value');
    assert.equal(parsed.reason, REASON);

    // A denier's reason comes from another client: the waiting run shows it escaped too.
    const denied = await cli(['deny', id, '--reason', DENY_REASON, '--as', 'bob'], daemon.env);
    assert.equal(denied.code, 0, denied.stderr);
    assertEscaped('jitgate deny', denied.stdout, ['not <U+202E>now']);
    const ran = await run.exited;
    assert.notEqual(ran.code, 0, 'a denied run does not run its command');
    assertEscaped('jitgate run', ran.stdout + ran.stderr, ['not <U+202E>now']);
    assert.ok(
      await eventually(() => Promise.resolve(slack.accepted('chat.update').some((c) => JSON.stringify(c.args).includes('DENIED'))), 10_000),
      'the Slack message is updated with the denial',
    );
    for (const update of slack.accepted('chat.update')) assertEscaped('the updated Slack message', JSON.stringify(update.args), []);
    assert.ok(slack.accepted('chat.update').some((c) => JSON.stringify(c.args).includes('not &lt;U+202E&gt;now')), 'the denial reason shows escaped');
  });
});
