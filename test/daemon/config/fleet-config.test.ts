/**
 * The `fleet:` section (issue 13): its defaults, and the refusals that keep a fleet sane — a fleet
 * needs the shared PostgreSQL state, a heartbeat timeout that leaves room for a slow node, and a
 * node id that can name its rows and its audit records.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/common/errors.js';
import { checkConfigText } from '../../../src/daemon/config/check-config.js';
import { parseConfig } from '../../../src/daemon/config/load-config.js';

type Doc = Record<string, unknown>;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function base(fleet: unknown, state: unknown = { postgres: 'postgres://jitgate@db.internal:5432/jitgate', password_file: 'pg-password' }): Doc {
  return {
    state,
    fleet,
    vault: { address: 'https://vault.internal:8200', auth: { token_file: 'vault-token' } },
    resources: { 'deploy-prod': { vault: { policies: ['deploy-prod'] }, env: { VAULT_TOKEN: 'token' }, ttl: '120s' } },
    policies: [{ name: 'everything-else', decision: 'deny' }],
  };
}

function parse(doc: Doc): ReturnType<typeof parseConfig> {
  return parseConfig(stringify(doc), { source: 'fleet.yaml', baseDir: '/etc/jitgated' });
}

function refuses(doc: Doc, path: string, message: RegExp): void {
  assert.throws(
    () => parse(doc),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.path, path, err.message);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      return true;
    },
  );
}

describe('fleet: config section', () => {
  it('defaults: node = the host name (sanitized), heartbeat 5s/30s, reconcile 1s, mint owner, role both', () => {
    const config = parse(base({}));
    assert.ok(config.fleet);
    const { node, ...timers } = config.fleet;
    assert.deepEqual(timers, { heartbeatIntervalMs: 5000, heartbeatTimeoutMs: 30_000, reconcileIntervalMs: 1000, mint: 'owner', role: 'both' });
    assert.match(node, NODE_ID);
    // The host name with anything a node id may not hold replaced by "-", at most 63 characters.
    const expected = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
    assert.equal(node, expected);
    assert.ok(Object.isFrozen(config.fleet));
  });

  it('explicit values are mapped to milliseconds and kept', () => {
    const config = parse(
      base({ node: 'runner-a.eu_1', heartbeat_interval: '2s', heartbeat_timeout: '4s', reconcile_interval: '250ms', mint: 'plane', role: 'plane' }),
    );
    assert.deepEqual(config.fleet, {
      node: 'runner-a.eu_1',
      heartbeatIntervalMs: 2000,
      heartbeatTimeoutMs: 4000,
      reconcileIntervalMs: 250,
      mint: 'plane',
      role: 'plane',
    });
  });

  it('no fleet: section → no fleet (a single host)', () => {
    const doc = base(undefined);
    delete doc.fleet;
    assert.equal(parse(doc).fleet, undefined);
    assert.equal(parse({ ...doc, state: { sqlite: '/var/lib/jitgated/state.db' } }).fleet, undefined);
  });

  it('fleet without state.postgres is refused naming fleet', () => {
    refuses(base({ node: 'runner-a' }, { sqlite: '/var/lib/jitgated/state.db' }), 'fleet', /needs state\.postgres/);
    const noState = base({ node: 'runner-a' });
    delete noState.state;
    refuses(noState, 'fleet', /needs state\.postgres/);
  });

  it('heartbeat_timeout under twice the interval is refused naming fleet.heartbeat_timeout; exactly twice is accepted', () => {
    refuses(base({ heartbeat_interval: '10s', heartbeat_timeout: '19s' }), 'fleet.heartbeat_timeout', /at least twice fleet\.heartbeat_interval/);
    // The default timeout (30s) against a long interval.
    refuses(base({ heartbeat_interval: '20s' }), 'fleet.heartbeat_timeout', /at least twice/);
    // A short timeout against the default interval (5s).
    refuses(base({ heartbeat_timeout: '9s' }), 'fleet.heartbeat_timeout', /at least twice/);
    assert.equal(parse(base({ heartbeat_interval: '10s', heartbeat_timeout: '20s' })).fleet?.heartbeatTimeoutMs, 20_000);
  });

  it('a bad node id is refused naming fleet.node', () => {
    for (const node of ['', 'has space', '-leading-dash', '.hidden', 'a/b', 'x'.repeat(64), 'ünicode', 42]) {
      refuses(base({ node }), 'fleet.node', /./);
    }
    assert.equal(parse(base({ node: 'x'.repeat(63) })).fleet?.node, 'x'.repeat(63));
  });

  it('bad mint, role, timers and unknown keys are refused at their key', () => {
    refuses(base({ mint: 'anyone' }), 'fleet.mint', /./);
    refuses(base({ role: 'leader' }), 'fleet.role', /./);
    refuses(base({ reconcile_interval: 'soon' }), 'fleet.reconcile_interval', /./);
    refuses(base({ heartbeat_interval: '-1s' }), 'fleet.heartbeat_interval', /./);
    refuses(base({ nodes: ['a'] }), 'fleet.nodes', /./);
    refuses(base('runner-a'), 'fleet', /./);
  });

  it('check-config (the daemon’s full check) reports the fleet problems too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-fleet-config-'));
    try {
      await writeFile(join(dir, 'vault-token'), 'not-a-real-token\n', { mode: 0o600 });
      const bad = base({ node: 'bad node', heartbeat_interval: '10s', heartbeat_timeout: '5s' }, { sqlite: join(dir, 'state.db') });
      const { problems, config } = await checkConfigText(stringify(bad), { source: 'fleet.yaml', baseDir: dir });
      assert.equal(config, undefined);
      const paths = problems.map((p) => p.path);
      assert.ok(paths.includes('fleet.node'), JSON.stringify(problems));
      // Otherwise valid, but on SQLite: the one problem is the fleet's.
      const onSqlite = await checkConfigText(stringify(base({ node: 'runner-a' }, { sqlite: join(dir, 'state.db') })), {
        source: 'fleet.yaml',
        baseDir: dir,
      });
      assert.deepEqual(
        onSqlite.problems.map((p) => p.path),
        ['fleet'],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
