import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/common/errors.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/common/logger.js';
import { checkConfigText } from '../../../src/daemon/config/check-config.js';
import { validateNotifiersConfig } from '../../../src/daemon/config/notifier-settings.js';
import { startNotifications } from '../../../src/daemon/notify/start-notifications.js';
import { MemoryAuditLog } from './notify-fixture.js';

const slack = { token_file: '/etc/jitgated/slack-token', signing_secret_file: '/etc/jitgated/slack-signing', channel: '#deploys', team_id: 'T0ACME', users: { U0BOB: 'bob' } };

function refuses(raw: unknown[], path: string, message: RegExp): void {
  assert.throws(
    () => validateNotifiersConfig(raw),
    (err: unknown) => err instanceof ConfigError && err.path === path && message.test(err.message),
    `expected ConfigError at ${path}`,
  );
}

describe('notifier config', () => {
  it('normalises each kind', () => {
    const out = validateNotifiersConfig([
      { slack },
      { webhook: { url: 'https://hooks.internal/jit', secret_file: '/s', decisions: { identity: 'pager-bot' } } },
      { email: { smtp: { host: 'mail', port: 587, user: 'jit', password_file: '/p' }, from: 'jit@acme.test', to: ['sre@acme.test'] } },
    ]);
    assert.deepEqual(out, [
      { kind: 'slack', tokenFile: slack.token_file, signingSecretFile: slack.signing_secret_file, channel: '#deploys', teamId: 'T0ACME', users: Object.assign(Object.create(null) as Record<string, string>, { U0BOB: 'bob' }) },
      { kind: 'webhook', url: 'https://hooks.internal/jit', secretFile: '/s', decisions: { identity: 'pager-bot' } },
      { kind: 'email', smtp: { host: 'mail', port: 587, tls: 'starttls', user: 'jit', passwordFile: '/p' }, from: 'jit@acme.test', to: ['sre@acme.test'] },
    ]);
  });

  it('names the key path of the first problem', () => {
    refuses([{ slack: { ...slack, channel: '' } }], 'notifiers[0].slack.channel', /must not be empty/);
    refuses([{ webhook: { url: 'https://h/x', secret_file: '/s' } }, { slack: { ...slack, token: 'xoxb-inline' } }], 'notifiers[1].slack.token', /unknown key/);
    refuses([{ slack: { ...slack, team_id: 'acme' } }], 'notifiers[0].slack.team_id', /team id/);
    refuses([{ webhook: { url: 'http://hooks.example.com/x', secret_file: '/s' } }], 'notifiers[0].webhook.url', /https/);
    refuses([{ webhook: { url: 'https://h/x' } }], 'notifiers[0].webhook.secret_file', /./);
    refuses([{ email: { smtp: { host: 'm', port: 25 }, from: 'a@b', to: [] } }], 'notifiers[0].email.to', /at least one/);
    refuses([{ slack, webhook: { url: 'https://h/x', secret_file: '/s' } }], 'notifiers[0]', /exactly one/);
    refuses([{ pager: {} }], 'notifiers[0].pager', /unknown key/);
    refuses([{ email: { smtp: { host: 'm', port: 25, password_file: '/p' }, from: 'a@b', to: ['c@d'] } }], 'notifiers[0].email.smtp.user', /required/);
  });
});

describe('startNotifications refuses to start', () => {
  const start = (notifiers: unknown[], http?: { listen: string }): Promise<unknown> => {
    // Validation happens before the gate is touched; a gate that cannot be subscribed to proves it.
    const gate = {
      onChange() {
        throw new Error('subscribed before validation');
      },
    } as unknown as Parameters<typeof startNotifications>[0]['gate'];
    return startNotifications({
      config: { notifiers: validateNotifiersConfig(notifiers), groups: {}, ...(http ? { http } : {}) },
      gate,
      audit: new MemoryAuditLog(),
      clock: new ManualClock(),
      logger: silentLogger(),
    });
  };

  it('names the *_file key whose secret cannot be read', async () => {
    await assert.rejects(
      start([{ webhook: { url: 'https://h/x', secret_file: '/nonexistent/jitgate-secret' } }]),
      (err: unknown) => err instanceof ConfigError && err.path === 'notifiers[0].webhook.secret_file' && !err.message.includes('ENOENT: '),
    );
  });

  it('requires http when Slack buttons need a callback (checked by checkConfig, before anything starts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-notify-'));
    try {
      await writeFile(join(dir, 't'), 'xoxb-1', { mode: 0o600 });
      await writeFile(join(dir, 's'), 'sign', { mode: 0o600 });
      await writeFile(join(dir, 'vault-token'), 'hvs.x', { mode: 0o600 });
      const entry = { slack: { ...slack, token_file: join(dir, 't'), signing_secret_file: join(dir, 's') } };
      const yaml = [
        'vault: { address: "http://127.0.0.1:8200", auth: { token_file: vault-token } }',
        'resources: { db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s } }',
        `notifiers: [${JSON.stringify(entry)}]`,
      ].join('\n');
      const { problems } = await checkConfigText(yaml, { source: 'c.yaml', baseDir: dir });
      assert.ok(problems.some((p) => p.path === 'http'), JSON.stringify(problems));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
