import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAuditFile } from '../../../src/common/audit-verify.js';
import { ManualClock } from '../../../src/common/clock.js';
import { InvalidArgumentError, UnavailableError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import {
  DEFER_MS,
  loadOrCreateKeys,
  openFileAuditLog,
  type AuditFileHandle,
  type FileAuditLogOptions,
} from '../../../src/daemon/audit/file-audit-log.js';
import { AuditTrail } from '../../../src/daemon/audit/audit-trail.js';
import type { AuditLog } from '../../../src/daemon/audit/types.js';

let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jitgate-audit-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function paths(): { dir: string; file: string; signingKeyFile: string; hmacKeyFile: string } {
  const dir = join(root, `case-${++n}`);
  return { dir, file: join(dir, 'log', 'audit.jsonl'), signingKeyFile: join(dir, 'keys', 'audit.pem'), hmacKeyFile: join(dir, 'keys', 'hmac.key') };
}

function options(p: ReturnType<typeof paths>, extra: Partial<FileAuditLogOptions> = {}): FileAuditLogOptions {
  return {
    file: p.file,
    signingKeyFile: p.signingKeyFile,
    hmacKeyFile: p.hmacKeyFile,
    checkpointEvery: 10,
    fsync: true,
    clock: new ManualClock(),
    logger: silentLogger(),
    ...extra,
  };
}

async function records(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.endsWith('\n'));
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Counts calls through the seam while writing to the real file. */
function countingOpen(counts: { writes: number; syncs: number }): (path: string) => Promise<AuditFileHandle> {
  return async (path) => {
    const real = await open(path, 'a', 0o600);
    return {
      write: (buffer, offset, length) => {
        counts.writes++;
        return real.write(buffer, offset, length);
      },
      sync: () => {
        counts.syncs++;
        return real.sync();
      },
      close: () => real.close(),
    };
  };
}

describe('audit keys', () => {
  it('creates the signing and hmac keys with mode 0600 in 0700 directories, and reloads the same keys', async () => {
    const p = paths();
    const first = await loadOrCreateKeys({ signingKeyFile: p.signingKeyFile, hmacKeyFile: p.hmacKeyFile, logger: silentLogger() });
    assert.equal((await stat(p.signingKeyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(p.hmacKeyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(join(p.dir, 'keys'))).mode & 0o777, 0o700);
    assert.match(await readFile(p.signingKeyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(first.privateKey.asymmetricKeyType, 'ed25519');
    assert.match(first.keyId, /^[0-9a-f]{16}$/);
    const again = await loadOrCreateKeys({ signingKeyFile: p.signingKeyFile, hmacKeyFile: p.hmacKeyFile, logger: silentLogger() });
    assert.equal(again.keyId, first.keyId);
    assert.deepEqual(again.hmacKey, first.hmacKey);
  });

  it('refuses an hmac key shorter than 32 bytes', async () => {
    const p = paths();
    await loadOrCreateKeys({ signingKeyFile: p.signingKeyFile, hmacKeyFile: p.hmacKeyFile, logger: silentLogger() });
    await writeFile(p.hmacKeyFile, 'short\n');
    await assert.rejects(
      loadOrCreateKeys({ signingKeyFile: p.signingKeyFile, hmacKeyFile: p.hmacKeyFile, logger: silentLogger() }),
      (err: unknown) => err instanceof Error && 'code' in err && err.code === 'ERR_CONFIG',
    );
  });
});

describe('file audit log', () => {
  it('writes a log.opened header, chains records with the injected clock, and checkpoints every N records', async () => {
    const p = paths();
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 4, 5, 6));
    const log = await openFileAuditLog(options(p, { clock, checkpointEvery: 3 }));
    assert.equal(log.healthy, true);
    clock.advance(1500);
    await log.append({ type: 'request.created', requestId: 'r1', trust: 'local' });
    await log.append({ type: 'policy.decided', requestId: 'r1', rule: 'staging', accessor: log.hmac('accessor-1') });
    await log.append({ type: 'grant.minted', requestId: 'r1', grantId: 'g1' });
    await log.append({ type: 'grant.revoked', grantId: 'g1' });
    const recs = await records(p.file);
    const header = recs[0];
    assert.ok(header);
    assert.equal(header.type, 'log.opened');
    assert.equal(header.seq, 1);
    assert.equal(header.prev, '0'.repeat(64));
    assert.equal(typeof header.public_key, 'string');
    assert.equal(header.ts, '2026-03-03T04:05:06.000Z');
    assert.equal(recs[1]?.ts, '2026-03-03T04:05:07.500Z');
    assert.deepEqual(
      recs.map((r) => r.type),
      ['log.opened', 'request.created', 'policy.decided', 'checkpoint', 'grant.minted', 'grant.revoked'],
    );
    assert.equal(recs[3]?.upto, 3);
    for (let i = 1; i < recs.length; i++) {
      assert.equal(recs[i]?.seq, i + 1);
      assert.equal(recs[i]?.prev, recs[i - 1]?.hash);
    }
    assert.equal(recs[2]?.accessor, log.hmac('accessor-1'));
    assert.match(log.hmac('accessor-1'), /^[0-9a-f]{64}$/);
    assert.notEqual(log.hmac('accessor-1'), log.hmac('accessor-2'));
    await log.close();
    assert.equal(log.healthy, false);
    // close() signs the unsigned tail.
    const closed = await records(p.file);
    assert.equal(closed.at(-1)?.type, 'checkpoint');
    assert.deepEqual(await verifyAuditFile(p.file), { ok: true, records: 7, checkpoints: 2, keySource: 'log', lastSeq: 7 });
    await assert.rejects(log.append({ type: 'late' }), UnavailableError);
  });

  it('continues the chain when reopened, announcing the key again', async () => {
    const p = paths();
    const first = await openFileAuditLog(options(p));
    await first.append({ type: 'a' });
    await first.append({ type: 'b' });
    await first.close();
    const before = await records(p.file);
    const second = await openFileAuditLog(options(p));
    await second.append({ type: 'c' });
    await second.close();
    const recs = await records(p.file);
    const reopened = recs[before.length];
    assert.equal(reopened?.type, 'log.reopened');
    assert.equal(reopened.seq, (before.at(-1)?.seq as number) + 1);
    assert.equal(reopened.prev, before.at(-1)?.hash);
    assert.equal(recs.filter((r) => r.type === 'log.opened').length, 1);
    const result = await verifyAuditFile(p.file);
    assert.ok(result.ok);
    assert.equal(result.lastSeq, recs.length);
  });

  it('refuses to start on a damaged tail and names the file', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    await log.append({ type: 'a' });
    await log.close();
    const intact = await readFile(p.file, 'utf8');

    await appendFile(p.file, '{"seq":99,"ty');
    await assert.rejects(openFileAuditLog(options(p)), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.ok(err.message.includes(p.file));
      assert.match(err.message, /damaged tail/);
      return true;
    });

    // A complete last line whose content no longer matches its hash is damage too.
    await writeFile(p.file, intact.replace(/"upto":(\d+)/g, (_m, d: string) => `"upto":${Number(d) + 1}`));
    await assert.rejects(openFileAuditLog(options(p)), /damaged tail/);
    assert.equal(await readFile(p.file, 'utf8'), intact.replace(/"upto":(\d+)/g, (_m, d: string) => `"upto":${Number(d) + 1}`));
  });

  it('group-commits 2,000 concurrent appends into far fewer fsyncs, with a valid chain', async () => {
    const p = paths();
    const counts = { writes: 0, syncs: 0 };
    const log = await openFileAuditLog(options(p, { checkpointEvery: 100, openFile: countingOpen(counts) }));
    const before = { ...counts };
    const total = 2000;
    await Promise.all(Array.from({ length: total }, (_, i) => log.append({ type: 'bench', i })));
    const syncs = counts.syncs - before.syncs;
    assert.ok(syncs >= 1);
    assert.ok(syncs < total / 4, `expected far fewer fsyncs than records, got ${syncs}`);
    await log.close();
    const recs = await records(p.file);
    assert.deepEqual(
      recs.filter((r) => r.type === 'bench').map((r) => r.i),
      Array.from({ length: total }, (_, i) => i),
    );
    const result = await verifyAuditFile(p.file);
    assert.ok(result.ok);
    assert.equal(result.records, recs.length);
    assert.equal(result.checkpoints, recs.filter((r) => r.type === 'checkpoint').length);
    assert.ok(result.checkpoints >= total / 100);
  });

  it('holds a deferred append back across a state-write turn so it shares the next append\'s fsync', async () => {
    const p = paths();
    const counts = { writes: 0, syncs: 0 };
    const log = await openFileAuditLog(options(p, { openFile: countingOpen(counts) }));
    const before = { ...counts };
    const created = log.append({ type: 'request.created' }, { defer: true });
    // What the gate does in between: a state write, committed at setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(counts, before, 'nothing written while the record is deferred');
    const intent = log.append({ type: 'grant.mint.intent' });
    await Promise.all([created, intent]);
    assert.equal(counts.writes - before.writes, 1);
    assert.equal(counts.syncs - before.syncs, 1);
    await log.close();
    const recs = await records(p.file);
    assert.deepEqual(recs.map((r) => r.type).slice(1, 3), ['request.created', 'grant.mint.intent']);
    assert.ok((await verifyAuditFile(p.file)).ok);
  });

  it('has started the write of the records issued so far once AuditTrail.writeStarted() resolves', async () => {
    const p = paths();
    const counts = { writes: 0, syncs: 0 };
    const log = await openFileAuditLog(options(p, { openFile: countingOpen(counts) }));
    const trail = new AuditTrail(log, silentLogger());
    const before = { ...counts };
    // As the grant does: a deferred record, then one that is not, then state work after writeStarted().
    const created = trail.issue({ type: 'request.created' }, { defer: true });
    const intent = trail.issue({ type: 'grant.mint.intent' });
    assert.equal(counts.writes, before.writes, 'not yet: the appends of one synchronous block share a write');
    await trail.writeStarted();
    assert.equal(counts.writes - before.writes, 1, 'the write of both records is under way');
    await trail.awaitAll([created, intent]);
    assert.equal(counts.writes - before.writes, 1);
    await log.close();
  });

  it('writes a deferred append on its own after DEFER_MS, and at once on flush()', async () => {
    const p = paths();
    const counts = { writes: 0, syncs: 0 };
    const log = await openFileAuditLog(options(p, { openFile: countingOpen(counts) }));
    const start = performance.now();
    await log.append({ type: 'alone' }, { defer: true });
    assert.ok(performance.now() - start >= DEFER_MS - 0.5, 'the write waited for company');
    assert.equal(counts.syncs, 2, 'log.opened, then the deferred record');
    const later = log.append({ type: 'flushed' }, { defer: true });
    log.flush?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(counts.writes, 3, 'flush() started the write without waiting');
    await later;
    await log.close();
    assert.deepEqual((await records(p.file)).map((r) => r.type).slice(1, 3), ['alone', 'flushed']);
  });

  it('resolves an append only after its batch is fsynced', async () => {
    const p = paths();
    let release: (() => void) | undefined;
    let gate = false;
    const log = await openFileAuditLog(
      options(p, {
        openFile: async (path) => {
          const real = await open(path, 'a', 0o600);
          return {
            write: (b, o, l) => real.write(b, o, l),
            sync: async () => {
              if (gate) await new Promise<void>((resolve) => (release = resolve));
              await real.sync();
            },
            close: () => real.close(),
          };
        },
      }),
    );
    gate = true;
    let done = false;
    const pending = log.append({ type: 'x' }).then(() => (done = true));
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    gate = false;
    release();
    await pending;
    assert.equal(done, true);
    await log.close();
  });

  it('does not fsync when fsync is off', async () => {
    const p = paths();
    const counts = { writes: 0, syncs: 0 };
    const log = await openFileAuditLog(options(p, { fsync: false, openFile: countingOpen(counts) }));
    await log.append({ type: 'x' });
    await log.close();
    assert.equal(counts.syncs, 0);
    assert.ok(counts.writes >= 2);
  });

  function expectUnhealthyAfterFailure(log: AuditLog): { fired: Error[] } {
    const fired: Error[] = [];
    log.onUnhealthy((err) => fired.push(err));
    return { fired };
  }

  it('turns unhealthy on a write error: pending and later appends reject, listeners fire once', async () => {
    const p = paths();
    let failNext = false;
    const log = await openFileAuditLog(
      options(p, {
        openFile: async (path) => {
          const real = await open(path, 'a', 0o600);
          return {
            write: (b, o, l) => {
              if (failNext) return Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
              return real.write(b, o, l);
            },
            sync: () => real.sync(),
            close: () => real.close(),
          };
        },
      }),
    );
    const { fired } = expectUnhealthyAfterFailure(log);
    failNext = true;
    const results = await Promise.allSettled([log.append({ type: 'a' }), log.append({ type: 'b' }), log.append({ type: 'c' })]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof UnavailableError);
    }
    const first = (results[0] as PromiseRejectedResult).reason as UnavailableError;
    assert.equal((first.cause as { code?: string }).code, 'EIO');
    assert.equal(log.healthy, false);
    assert.equal(fired.length, 1);
    assert.ok(fired[0] instanceof UnavailableError);
    failNext = false; // the disk "recovers": the log must stay failed
    await assert.rejects(log.append({ type: 'd' }), UnavailableError);
    assert.equal(fired.length, 1);
    const late: Error[] = [];
    log.onUnhealthy((err) => late.push(err));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(late.length, 1);
    await log.close();
    assert.equal((await records(p.file)).length, 1);
  });

  it('fails closed on a real ENOSPC from /dev/full', async () => {
    const p = paths();
    let full: Awaited<ReturnType<typeof open>> | undefined;
    const log = await openFileAuditLog(
      options(p, {
        openFile: async (path) => {
          const real = await open(path, 'a', 0o600);
          full = await open('/dev/full', 'a');
          let switched = false;
          return {
            // The header goes to the real file; from then on the "disk" is full.
            write: async (b, o, l) => {
              const target = switched ? full : real;
              switched = true;
              assert.ok(target);
              return target.write(b, o, l);
            },
            sync: () => real.sync(),
            close: async () => {
              await real.close();
              await full?.close();
            },
          };
        },
      }),
    );
    const { fired } = expectUnhealthyAfterFailure(log);
    await assert.rejects(log.append({ type: 'grant.mint.intent' }), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.equal((err.cause as { code?: string }).code, 'ENOSPC');
      return true;
    });
    assert.equal(log.healthy, false);
    assert.equal(fired.length, 1);
    await assert.rejects(log.append({ type: 'grant.mint.intent' }), UnavailableError);
    await log.close();
  });

  it('refuses to open at all when the first write fails (disk full at start)', async () => {
    const p = paths();
    await assert.rejects(
      openFileAuditLog(options(p, { openFile: () => open('/dev/full', 'a') })),
      (err: unknown) => err instanceof UnavailableError && (err.cause as { code?: string }).code === 'ENOSPC',
    );
  });

  it('refuses events with secret-named keys at any depth, and writer-owned fields', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    const bad = [
      { type: 'x', token: 'hvs.abc' },
      { type: 'x', details: { password: 'pw' } },
      { type: 'x', list: [{ client_token: 'hvs.abc' }] },
      { type: 'x', nested: { deeper: { Secret: 's' } } },
      { type: 'x', credentials: { username: 'u' } },
      { type: 'x', seq: 5 },
      { type: 'checkpoint' },
    ];
    for (const event of bad) {
      await assert.rejects(log.append(event), InvalidArgumentError);
    }
    await assert.rejects(log.append({ type: 'x', details: { password: 'hunter2' } }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.field, 'event.details.password');
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
    assert.equal(log.healthy, true);
    await log.append({ type: 'ok' });
    await log.close();
    const text = await readFile(p.file, 'utf8');
    assert.ok(!text.includes('hvs.abc'));
    assert.ok(!text.includes('hunter2'));
    assert.deepEqual(
      (await records(p.file)).map((r) => r.type),
      ['log.opened', 'ok', 'checkpoint'],
    );
  });

  it('truncates a 1 MiB string field with a marker', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    await log.append({ type: 'request.created', reason: 'é'.repeat(512 * 1024) });
    await log.close();
    const line = (await readFile(p.file, 'utf8')).split('\n')[1] ?? '';
    assert.ok(Buffer.byteLength(line) < 8 * 1024, `line is ${Buffer.byteLength(line)} bytes`);
    const reason = (JSON.parse(line) as { reason: string }).reason;
    assert.ok(reason.startsWith('éé'));
    assert.ok(reason.endsWith('…[truncated: 1048576 bytes]'));
    assert.ok(!reason.includes('\uFFFD'));
    assert.equal((await verifyAuditFile(p.file)).ok, true);
  });

  it('refuses a record that stays over 64 KiB after truncation, and stays healthy', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(8192)]));
    await assert.rejects(log.append({ type: 'request.created', metadata: many }), InvalidArgumentError);
    assert.equal(log.healthy, true);
    await log.append({ type: 'ok' });
    await log.close();
    assert.deepEqual(
      (await records(p.file)).map((r) => r.type),
      ['log.opened', 'ok', 'checkpoint'],
    );
    assert.equal((await verifyAuditFile(p.file)).ok, true);
  });

  it('keeps a newline inside a field on one line', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    await log.append({ type: 'request.created', ref: 'refs/heads/evil\n{"seq":3}', reason: 'a\r\nb\u2028c' });
    await log.close();
    const lines = (await readFile(p.file, 'utf8')).split('\n');
    assert.equal(lines.length, 4); // header, event, closing checkpoint, and the empty string after the final \n
    assert.equal(lines[3], '');
    const rec = JSON.parse(lines[1] ?? '') as { ref: string; reason: string };
    assert.equal(rec.ref, 'refs/heads/evil\n{"seq":3}');
    assert.equal(rec.reason, 'a\r\nb\u2028c');
    assert.equal((await verifyAuditFile(p.file)).ok, true);
  });

  it('normalizes values without a JSON form and refuses binary data', async () => {
    const p = paths();
    const log = await openFileAuditLog(options(p));
    await log.append({
      type: 'x',
      at: new Date(Date.UTC(2026, 0, 2)),
      big: 10n,
      nan: Number.NaN,
      gone: undefined,
      err: Object.assign(new Error('vault said no'), { code: 'ERR_UNAVAILABLE' }),
    });
    await assert.rejects(log.append({ type: 'x', blob: Buffer.from('raw') }), InvalidArgumentError);
    await log.close();
    const rec = (await records(p.file))[1];
    assert.deepEqual(rec && { at: rec.at, big: rec.big, nan: rec.nan, gone: 'gone' in rec, err: rec.err }, {
      at: '2026-01-02T00:00:00.000Z',
      big: '10',
      nan: 'NaN',
      gone: false,
      err: { name: 'Error', message: 'vault said no', code: 'ERR_UNAVAILABLE' },
    });
    assert.equal((await verifyAuditFile(p.file)).ok, true);
  });
});
