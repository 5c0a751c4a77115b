/**
 * Audit across a fleet (issue 13, acceptance 7): with `fleet.node` set, every record the log writes
 * names the node, covered by the hash chain and the checkpoint signatures like any other field;
 * without it records are as before.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeRecord } from '../../../src/common/audit-chain.js';
import { verifyAuditFile, type VerifyResult } from '../../../src/common/audit-verify.js';
import { ManualClock } from '../../../src/common/clock.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import { openFileAuditLog, type FileAuditLogOptions } from '../../../src/daemon/audit/file-audit-log.js';

let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jitgate-audit-node-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(extra: Partial<FileAuditLogOptions> = {}): FileAuditLogOptions {
  const dir = join(root, `case-${++n}`);
  return {
    file: join(dir, 'audit.jsonl'),
    signingKeyFile: join(dir, 'keys', 'audit.pem'),
    hmacKeyFile: join(dir, 'keys', 'hmac.key'),
    checkpointEvery: 3,
    fsync: false,
    clock: new ManualClock(),
    logger: silentLogger(),
    ...extra,
  };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).slice(0, -1).split('\n');
}

async function records(file: string): Promise<Record<string, unknown>[]> {
  return (await lines(file)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Writes a log with a few events (enough for checkpoints in the middle and at close). */
async function writeLog(opts: FileAuditLogOptions): Promise<void> {
  const log = await openFileAuditLog(opts);
  await log.append({ type: 'request.created', requestId: 'req_1' });
  await log.append({ type: 'approval.recorded', requestId: 'req_1', approver: 'bob' });
  await log.append({ type: 'grant.minted', requestId: 'req_1', grantId: 'grt_1' });
  await log.append({ type: 'grant.revoked', requestId: 'req_1', grantId: 'grt_1' });
  await log.close();
}

function failure(result: VerifyResult): Extract<VerifyResult, { ok: false }> {
  assert.ok(!result.ok, 'verification should fail');
  return result;
}

describe('audit records name their fleet node', () => {
  it('writes node on every record, the log’s own included, and verifies', async () => {
    const opts = options({ node: 'runner-a' });
    await writeLog(opts);
    const recs = await records(opts.file);
    const types = new Set(recs.map((r) => r.type));
    for (const type of ['log.opened', 'checkpoint', 'request.created', 'grant.minted', 'grant.revoked']) assert.ok(types.has(type), type);
    for (const rec of recs) assert.equal(rec.node, 'runner-a', `seq ${String(rec.seq)} (${String(rec.type)}) names its node`);
    // Reopened: the continued run names the node too.
    const again = await openFileAuditLog(opts);
    await again.append({ type: 'request.created', requestId: 'req_2' });
    await again.close();
    const continued = await records(opts.file);
    assert.ok(continued.some((r) => r.type === 'log.reopened'));
    for (const rec of continued) assert.equal(rec.node, 'runner-a');
    assert.deepEqual(await verifyAuditFile(opts.file), {
      ok: true,
      records: continued.length,
      checkpoints: continued.filter((r) => r.type === 'checkpoint').length,
      keySource: 'log',
      lastSeq: continued.length,
      nodes: ['runner-a'],
    });
  });

  it('without fleet.node no record carries node and the result names none', async () => {
    const opts = options();
    await writeLog(opts);
    assert.doesNotMatch(await readFile(opts.file, 'utf8'), /"node"/);
    const result = await verifyAuditFile(opts.file);
    assert.ok(result.ok);
    assert.equal('nodes' in result, false);
  });

  it('verify detects a tampered node: by the record’s hash, a mid-run node change, and the checkpoint signature', async () => {
    const opts = options({ node: 'runner-a', checkpointEvery: 100 });
    await writeLog(opts);
    const original = await lines(opts.file);
    const at = original.findIndex((line) => line.includes('"grant.minted"'));
    assert.ok(at > 0);

    // Edited in place: the record no longer hashes to its hash.
    const edited = [...original];
    edited[at] = original[at]?.replace('"node":"runner-a"', '"node":"runner-b"') ?? '';
    assert.notEqual(edited[at], original[at]);
    await writeFile(opts.file, `${edited.join('\n')}\n`);
    const bad = failure(await verifyAuditFile(opts.file));
    assert.equal(bad.line, at + 1);
    assert.match(bad.reason, /hash mismatch/);
    assert.deepEqual(bad.nodes, ['runner-a']);

    // Edited and every later hash recomputed: the node now changes mid-run, which no writer does.
    const rehash = (from: number, node: (type: unknown) => string): string[] => {
      const out = original.slice(0, from);
      let prev = from === 0 ? '0'.repeat(64) : (JSON.parse(original[from - 1] ?? '') as { hash: string }).hash;
      for (const line of original.slice(from)) {
        const { hash: _old, ...body } = JSON.parse(line) as Record<string, unknown>;
        const next = serializeRecord({ ...body, prev, node: node(body.type) });
        out.push(next.line);
        prev = next.hash;
      }
      return out;
    };
    await writeFile(opts.file, `${rehash(at, (type) => (type === 'grant.minted' ? 'runner-b' : 'runner-a')).join('\n')}\n`);
    const spliced = failure(await verifyAuditFile(opts.file));
    assert.equal(spliced.line, at + 1);
    assert.match(spliced.reason, /node runner-b differs from the previous record's runner-a/);

    // The whole log re-hashed as runner-b: the checkpoint signature covers node and fails.
    await writeFile(opts.file, `${rehash(0, () => 'runner-b').join('\n')}\n`);
    const forged = failure(await verifyAuditFile(opts.file));
    assert.match(forged.reason, /checkpoint signature invalid/);
    assert.equal((JSON.parse(original[forged.line - 1] ?? '') as { type: string }).type, 'checkpoint');
  });

  it('a node change is accepted only where a run starts (log.reopened)', async () => {
    const opts = options();
    await writeLog(opts);
    const joined = await openFileAuditLog({ ...opts, node: 'runner-a' });
    await joined.append({ type: 'request.created', requestId: 'req_2' });
    await joined.close();
    const recs = await records(opts.file);
    const reopened = recs.findIndex((r) => r.type === 'log.reopened');
    assert.equal(recs[reopened - 1]?.node, undefined);
    assert.equal(recs[reopened]?.node, 'runner-a');
    const result = await verifyAuditFile(opts.file);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.nodes, ['runner-a']);

    // A correctly chained record from another node appended to this log: spliced.
    const last = recs.at(-1) as { seq: number; hash: string };
    await appendFile(
      opts.file,
      `${serializeRecord({ type: 'grant.minted', node: 'runner-b', seq: last.seq + 1, ts: new Date(0).toISOString(), prev: last.hash }).line}\n`,
    );
    const bad = failure(await verifyAuditFile(opts.file));
    assert.equal(bad.seq, last.seq + 1);
    assert.match(bad.reason, /logs were spliced/);
  });

  it('an event may not set node itself, and a bad node id is refused naming fleet.node', async () => {
    const opts = options({ node: 'runner-a' });
    const log = await openFileAuditLog(opts);
    await assert.rejects(log.append({ type: 'fleet.node.lost', node: 'runner-b' }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /event\.node/);
      return true;
    });
    await log.close();
    assert.doesNotMatch(await readFile(opts.file, 'utf8'), /runner-b/);
    await assert.rejects(openFileAuditLog(options({ node: '-bad node' })), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /fleet\.node/);
      return true;
    });
  });
});
