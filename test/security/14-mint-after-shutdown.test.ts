import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { accessInput, startGateFixture, StreamProbe, type VaultEnv } from '../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const AUTO = `
  - name: auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve`;

describe('security 14: no mint starts after shutdown has revoked everything', () => {
  let env: VaultEnv | undefined;
  before(async () => {
    env = await startVaultWithDatabase();
  });
  after(async () => {
    await env?.stop();
  });

  it('shutdown waits for a grant whose intent is being written, and Vault is never called for it', async () => {
    assert.ok(env);
    // The fsync of the batch holding `grant.mint.intent` is held until the test lets it go: the
    // request has passed the gate's last "still accepting?" check and is about to call Vault.
    let holdIntent = false;
    let intentWritten!: () => void;
    const intentSeen = new Promise<void>((resolve) => (intentWritten = resolve));
    let releaseSync!: () => void;
    const syncReleased = new Promise<void>((resolve) => (releaseSync = resolve));
    const f = await startGateFixture({
      vaultEnv: env,
      policies: AUTO,
      openFile: async (path) => {
        const handle = await open(path, 'a', 0o600);
        return {
          write: (buffer, offset, length) => {
            if (Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).includes('"grant.mint.intent"')) {
              holdIntent = true;
              intentWritten();
            }
            return handle.write(buffer, offset, length);
          },
          sync: async () => {
            if (holdIntent) {
              holdIntent = false;
              await syncReleased;
            }
            await handle.sync();
          },
          close: () => handle.close(),
        };
      },
    });
    try {
      const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      await intentSeen;
      let shutdownDone = false;
      const shutdown = f.gate.shutdown().then(() => (shutdownDone = true));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(shutdownDone, false, 'shutdown waits for the request past its last check');
      releaseSync();
      await shutdown;
      await probe.done;
      assert.deepEqual(
        probe.updates.map((u) => [u.kind, u.kind === 'denied' ? u.code : '']),
        [['denied', 'SHUTDOWN']],
      );
      const types = (await readFile(f.config.audit.file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type);
      assert.ok(!types.includes('grant.token.created'), `no token was created: ${types.join(', ')}`);
      assert.ok(types.includes('grant.mint.cancelled'));
      const grants = await f.store.listGrants(['minting', 'live', 'revoking', 'revoke_failed', 'revoked']);
      assert.deepEqual(
        grants.map((g) => [g.status, g.accessor]),
        [['revoked', null]],
      );
    } finally {
      await f.close();
    }
  });
});
