import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { checkConfigText, type ConfigCheck } from '../../../src/daemon/config/check-config.js';

let dir = '';

function check(listen: Record<string, unknown>): Promise<ConfigCheck> {
  const doc = {
    listen: { socket: join(dir, 'jitgated.sock'), ...listen },
    state: { sqlite: join(dir, 'state.db') },
    audit: { file: join(dir, 'audit.jsonl') },
    vault: { address: 'http://127.0.0.1:1', auth: { token_file: join(dir, 'vault-token') } },
    resources: { db: { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' } },
    policies: [{ name: 'all', decision: 'deny' }],
  };
  return checkConfigText(stringify(doc), { source: 'test.yaml', baseDir: dir });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-sockgroup-'));
  await writeFile(join(dir, 'vault-token'), 'hvs.token\n', { mode: 0o600 });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listen.socket_group', () => {
  it('is optional: without it the socket keeps the daemon\'s group and no gid is resolved', async () => {
    const { config, problems } = await check({});
    assert.deepEqual(problems, []);
    assert.equal(config?.listen.socketGroup, undefined);
    assert.equal(config?.listen.socketGid, undefined);
  });

  it('resolves a group name to its gid in the config phase', async () => {
    // root is gid 0 on every Linux host; the tests run as root, who may use any group.
    const { config, problems } = await check({ socket_group: 'root' });
    assert.deepEqual(problems, []);
    assert.equal(config?.listen.socketGroup, 'root');
    assert.equal(config.listen.socketGid, 0);
  });

  it('takes a numeric gid, as a YAML number or digits', async () => {
    for (const value of [4242, '4242']) {
      const { config, problems } = await check({ socket_group: value });
      assert.deepEqual(problems, [], String(value));
      assert.equal(config?.listen.socketGid, 4242);
    }
  });

  it('refuses a group that does not exist, naming the key and the group', async () => {
    const { config, problems } = await check({ socket_group: 'jitgate-no-such-group' });
    assert.equal(config, undefined);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, 'listen.socket_group');
    assert.match(problems[0].message, /no such group "jitgate-no-such-group"/);
  });

  it('refuses something that is not a group name or gid', async () => {
    for (const value of ['bad name', '-rf', -1, true, '']) {
      const { config, problems } = await check({ socket_group: value });
      assert.equal(config, undefined, String(value));
      assert.equal(problems[0]?.path, 'listen.socket_group', String(value));
      assert.match(problems[0].message, /expected a Unix group name/, String(value));
    }
  });
});
