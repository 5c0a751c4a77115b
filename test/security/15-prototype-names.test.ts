import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { InvalidArgumentError, JitgateError } from '../../src/common/errors.js';
import { checkConfigText } from '../../src/daemon/config/check-config.js';
import { parseConfig } from '../../src/daemon/config/load-config.js';
import { accessInput, startGateFixture, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

// Names a plain object answers from Object.prototype; a lookup keyed by one used to find
// `Object` (or a method) and treat it as a configured resource.
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

const POLICIES = `
  - name: token-auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

async function auditText(f: GateFixture): Promise<string> {
  return readFile(f.config.audit.file, 'utf8').catch(() => '');
}

async function refusal(f: GateFixture, resource: string): Promise<unknown> {
  try {
    for await (const update of f.gate.requestAccess(accessInput({ resource }), new AbortController().signal)) {
      return new Error(`unexpected update ${update.kind} for ${JSON.stringify(resource)}`);
    }
  } catch (err) {
    return err;
  }
  return new Error(`no refusal for ${JSON.stringify(resource)}`);
}

describe('security 15: names that are Object.prototype keys', () => {
  describe('a client asking for one gets the unknown-resource answer', () => {
    let env: VaultEnv;
    let f: GateFixture;
    before(async () => {
      env = await startVaultWithDatabase();
      f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    });
    after(async () => {
      await f.close();
      await env.stop();
    });

    it('answers constructor/__proto__/toString/... exactly as an unknown name, and audits nothing about Object', async () => {
      const before = await auditText(f);
      const unknown = await refusal(f, 'no-such-resource');
      assert.ok(unknown instanceof InvalidArgumentError, String(unknown));
      assert.equal(unknown.field, 'resource');
      assert.equal(unknown.code, 'UNKNOWN_RESOURCE');
      assert.equal(unknown.genericCode, 'ERR_INVALID_ARGUMENT');
      assert.equal(await auditText(f), before, 'an unknown resource writes no audit record');
      for (const name of PROTOTYPE_NAMES) {
        const err = await refusal(f, name);
        assert.ok(err instanceof InvalidArgumentError, `${name}: ${String(err)}`);
        assert.ok(err instanceof JitgateError);
        assert.equal(err.field, 'resource', name);
        assert.equal(err.code, unknown.code, name);
        assert.equal(err.message, `resource: unknown resource ${JSON.stringify(name)}`);
      }
      const text = await auditText(f);
      assert.equal(text, before, 'no request record for a resource nobody configured');
      assert.doesNotMatch(text, /"resource":"Object"/);
      // The gate still serves configured resources afterwards.
      const updates = [];
      for await (const update of f.gate.requestAccess(accessInput({ resource: 'demo-token' }), new AbortController().signal)) {
        updates.push(update.kind);
        if (update.kind === 'granted') await f.gate.release(update.grant.id, update.grant.releaseToken);
      }
      assert.ok(updates.includes('granted'), updates.join(','));
      assert.match(await auditText(f), /"resource":"demo-token"/);
    });
  });

  describe('check-config', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jitgate-proto-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const resource = { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' };
    const yaml = (extra: string): string =>
      `${stringify({
        state: { sqlite: ':memory:' },
        audit: { file: join(dir, 'audit.jsonl') },
        vault: { address: 'http://127.0.0.1:1', auth: { token_file: join(dir, 'vault-token') } },
        identity: { local: { context: true, approvers: true } },
        policies: [{ name: 'all', decision: 'deny' }],
      })}${extra}`;

    it('refuses resource, group and notifier approver names that are prototype keys, naming each key path', async () => {
      // Written as YAML text: `__proto__` as a key must reach the checker as the user wrote it.
      const text = yaml(`
resources:
  ok-db: ${JSON.stringify(resource)}
  constructor: ${JSON.stringify(resource)}
  __proto__: ${JSON.stringify(resource)}
  toString: ${JSON.stringify(resource)}
groups:
  sre: [bob]
  hasOwnProperty: [bob]
  __proto__: [bob]
  prototype: [bob]
notifiers:
  - webhook: { url: "https://hooks.example/jit", secret_file: ${JSON.stringify(join(dir, 'hook'))}, decisions: { identity: valueOf } }
  - slack: { token_file: t, signing_secret_file: s, channel: "#d", team_id: T0ACME, users: { U0BOB: bob, U0EVE: constructor } }
`);
      const { problems, config } = await checkConfigText(text, { source: 'test.yaml', baseDir: dir });
      assert.equal(config, undefined);
      const at = (path: string): string | undefined => problems.find((p) => p.path === path)?.message;
      for (const path of [
        'resources.constructor',
        'resources.__proto__',
        'resources.toString',
        'groups.hasOwnProperty',
        'groups.__proto__',
        'groups.prototype',
        'notifiers[0].webhook.decisions.identity',
        'notifiers[1].slack.users.U0EVE',
      ]) {
        assert.match(at(path) ?? `(no problem at ${path}: ${JSON.stringify(problems)})`, /reserved name/, path);
      }
      assert.equal(at('resources.ok-db'), undefined);
      assert.equal(at('groups.sre'), undefined);
      assert.equal(at('notifiers[1].slack.users.U0BOB'), undefined);
    });
  });

  it('parsed name-keyed config tables have no prototype', () => {
    const config = parseConfig(
      `
state: { sqlite: ":memory:" }
audit: { file: /tmp/unused-audit.jsonl }
vault: { address: "http://127.0.0.1:1", auth: { token_file: /tmp/unused-token } }
identity: { local: { context: true, approvers: true } }
groups: { sre: [bob] }
resources:
  db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s }
policies: [{ name: all, decision: deny }]
`,
      { source: 'test.yaml', baseDir: '/tmp' },
    );
    for (const [what, table] of [
      ['resources', config.resources],
      ['groups', config.groups],
      ['resources.db.env', config.resources['db']?.env],
    ] as const) {
      assert.ok(table, what);
      assert.equal(Object.getPrototypeOf(table), null, what);
      for (const name of PROTOTYPE_NAMES) assert.equal(name in table, false, `${what} ${name}`);
    }
    assert.equal(config.resources['db']?.name, 'db');
  });
});
