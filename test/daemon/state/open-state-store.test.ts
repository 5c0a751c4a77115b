import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { openStateStore } from '../../../src/daemon/state/open-state-store.js';
import { SqliteStateStore } from '../../../src/daemon/state/sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'jitgate-open-store-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('openStateStore', () => {
  it('opens the SQLite store a `state.sqlite` config names', async () => {
    const path = join(root, 'state.db');
    const store = await openStateStore({ kind: 'sqlite', path }, { clock: new ManualClock() });
    try {
      assert.ok(store instanceof SqliteStateStore);
      assert.equal(statSync(path).isFile(), true);
    } finally {
      await store.close();
    }
  });

  it('fails closed with UnavailableError when PostgreSQL cannot be reached', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(
      openStateStore({ kind: 'postgres', url: 'postgres://jit:secret-pw@127.0.0.1:1/jitgate' }, { clock: new ManualClock() }),
      (err: unknown) => err instanceof UnavailableError && err.message.includes('127.0.0.1:1') && !err.message.includes('secret-pw'),
    );
  });
});
