/**
 * Security 9: SMTP must not silently downgrade. nodemailer upgrades with STARTTLS only when the
 * server offers it, so a network attacker who strips the offer used to get the SMTP password and
 * the mail in clear. Now `notifiers[].email.smtp.tls` defaults to `starttls` (required): against a
 * real smtp-server that offers no STARTTLS the send fails before AUTH or MAIL, and a wiretap in
 * front of the server sees neither the password nor the request; against a STARTTLS-capable
 * server with a self-signed certificate (its CA configured) the mail goes through, encrypted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { validateNotifiersConfig } from '../../src/daemon/config/notifier-settings.js';
import type { EmailNotifierConfig } from '../../src/daemon/config/types.js';
import { EmailNotifier } from '../../src/daemon/notify/email-notifier.js';
import type { RequestView } from '../../src/model/request.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const NOW = Date.UTC(2026, 0, 1);
const PASSWORD = 'smtp-password-must-stay-secret-9';
const REQUEST: RequestView = {
  id: 'req_smtp9secret',
  resource: 'prod-db',
  reason: 'migrate the orders table',
  context: { trust: 'oidc', repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: 'alice', environment: 'production', fork: false },
  ttlMs: 60_000,
  status: 'pending',
  rule: 'r',
  approvalsRequired: 1,
  approvers: ['group:sre'],
  approvals: [],
  createdAt: NOW,
  expiresAt: NOW + 600_000,
};

/** A TCP relay in front of the SMTP server that keeps every byte the client sends, as an attacker on the path would. */
interface Wiretap {
  readonly port: number;
  /** Everything the client sent, as latin1 text. */
  sent(): string;
  close(): Promise<void>;
}

async function startWiretap(target: SmtpSink): Promise<Wiretap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => chunks.push(c));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function emailConfig(port: number, smtp: Record<string, unknown> = {}): EmailNotifierConfig {
  const entry = validateNotifiersConfig([
    { email: { smtp: { host: '127.0.0.1', port, user: 'jitgate', password_file: '/unused', ...smtp }, from: 'jitgate@acme.test', to: ['sre@acme.test'] } },
  ])[0];
  if (entry?.kind !== 'email') throw new Error('expected an email notifier');
  return entry;
}

async function send(config: EmailNotifierConfig, ca?: string): Promise<unknown> {
  const notifier = new EmailNotifier({ name: 'email#0', config, password: PASSWORD, clock: new ManualClock(NOW), ...(ca !== undefined ? { ca } : {}) });
  try {
    await notifier.deliver({ type: 'created', request: REQUEST });
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await notifier.close();
  }
}

/** Nothing that matters crossed the wire in clear: no AUTH (nor the password in any encoding), no envelope, no message. */
function assertNothingInClear(wire: string): void {
  const plain = Buffer.from(`\0jitgate\0${PASSWORD}`).toString('base64');
  for (const secret of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), plain, REQUEST.id, 'migrate the orders table']) {
    assert.equal(wire.includes(secret), false, `the wire carried ${secret} in clear`);
  }
  assert.doesNotMatch(wire, /^(AUTH|MAIL FROM|RCPT TO|DATA)\b/im);
}

describe('security 9: SMTP requires TLS unless the config says otherwise', () => {
  let dir: string;
  let key: string;
  let cert: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-sec09-'));
    const made = spawnSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', join(dir, 'smtp.key'), '-out', join(dir, 'smtp.crt'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    key = await readFile(join(dir, 'smtp.key'), 'utf8');
    cert = await readFile(join(dir, 'smtp.crt'), 'utf8');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('defaults to starttls: port 587 requires STARTTLS, port 465 is implicit TLS', () => {
    assert.equal(emailConfig(587).smtp.tls, 'starttls');
    assert.equal(emailConfig(25).smtp.tls, 'starttls');
    assert.equal(emailConfig(465).smtp.tls, 'implicit');
    assert.throws(() => emailConfig(25, { tls: 'opportunistic' }), /notifiers\[0\]\.email\.smtp\.tls.*starttls, implicit, none/);
    // The old boolean is gone: a config still saying `secure` is refused, not silently reinterpreted.
    assert.throws(() => emailConfig(25, { secure: false }), /notifiers\[0\]\.email\.smtp\.secure.*unknown key.*\btls\b/);
  });

  it('a server that offers no STARTTLS (or an attacker who strips it) gets no password and no mail', async () => {
    const sink = await startSmtpSink();
    const tap = await startWiretap(sink);
    try {
      const err = await send(emailConfig(tap.port));
      assert.ok(err instanceof Error, 'the send must fail');
      assert.match(err.message, /STARTTLS/i);
      assert.equal(err.message.includes(PASSWORD), false);
      assert.deepEqual(sink.auths, []);
      assert.deepEqual(sink.messages, []);
      assertNothingInClear(tap.sent());
      assert.match(tap.sent(), /^EHLO /m, 'the wiretap saw the conversation start');
    } finally {
      await tap.close();
      await sink.close();
    }
  });

  it('a STARTTLS server with a self-signed certificate works when its CA is configured, and nothing goes in clear', async () => {
    const sink = await startSmtpSink({ tls: { key, cert } });
    const tap = await startWiretap(sink);
    try {
      // ca_file is read at start the way start-notifications reads it.
      const config = emailConfig(tap.port, { ca_file: join(dir, 'smtp.crt') });
      assert.equal(config.smtp.caFile, join(dir, 'smtp.crt'));
      assert.equal(await send(config, await readFile(join(dir, 'smtp.crt'), 'utf8')), undefined);
      const [mail, ...more] = sink.messages;
      assert.ok(mail);
      assert.equal(more.length, 0);
      assert.equal(mail.secure, true);
      assert.match(mail.text, new RegExp(REQUEST.id));
      assert.deepEqual(sink.auths, [{ username: 'jitgate', password: PASSWORD, secure: true }]);
      assert.match(tap.sent(), /^STARTTLS\r$/m);
      assertNothingInClear(tap.sent());
    } finally {
      await tap.close();
      await sink.close();
    }
  });

  it('the certificate is verified: without the CA the STARTTLS server is refused', async () => {
    const sink = await startSmtpSink({ tls: { key, cert } });
    try {
      const err = await send(emailConfig(sink.port));
      assert.ok(err instanceof Error, 'the send must fail');
      assert.match(err.message, /self[- ]signed|certificate/i);
      assert.deepEqual(sink.auths, []);
      assert.deepEqual(sink.messages, []);
    } finally {
      await sink.close();
    }
  });

  it('tls: none is the explicit, documented opt-out: mail to a plain relay then goes in clear', async () => {
    const sink = await startSmtpSink();
    try {
      assert.equal(await send(emailConfig(sink.port, { tls: 'none' })), undefined);
      assert.equal(sink.messages.length, 1);
      assert.equal(sink.messages[0]?.secure, false);
    } finally {
      await sink.close();
    }
  });
});
