import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { auditKeyId, canonicalJson, publicKeyToSpkiBase64, recordHash, serializeRecord, signCheckpoint } from '../../src/common/audit-chain.js';
import { describeVerifyResult, verifyAuditFile, verifyAuditLines, type VerifyResult } from '../../src/common/audit-verify.js';
import { ManualClock } from '../../src/common/clock.js';
import { InvalidArgumentError, NotFoundError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { openFileAuditLog } from '../../src/daemon/audit/file-audit-log.js';

let root: string;
let n = 0;
/** A log made by the real writer: 1 header + 25 events with a checkpoint every 5 records + closing checkpoint. */
let sample: { text: string; lines: string[]; publicKeyPem: string };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jitgate-chain-'));
  const dir = join(root, 'sample');
  const clock = new ManualClock();
  const log = await openFileAuditLog({
    file: join(dir, 'audit.jsonl'),
    signingKeyFile: join(dir, 'audit.pem'),
    hmacKeyFile: join(dir, 'hmac.key'),
    checkpointEvery: 5,
    fsync: false,
    clock,
    logger: silentLogger(),
  });
  for (let i = 0; i < 25; i++) {
    clock.advance(1000);
    await log.append({ type: 'request.created', requestId: `r${i}`, trust: 'local', ref: 'refs/heads/main', n: i, tags: ['a', 'ü'] });
  }
  await log.close();
  const text = await readFile(join(dir, 'audit.jsonl'), 'utf8');
  const publicKeyPem = createPublicKey(await readFile(join(dir, 'audit.pem'), 'utf8'))
    .export({ format: 'pem', type: 'spki' })
    .toString();
  sample = { text, lines: text.slice(0, -1).split('\n'), publicKeyPem };
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function verifyText(text: string, publicKeyPem?: string): Promise<VerifyResult> {
  const file = join(root, `log-${++n}.jsonl`);
  await writeFile(file, text);
  return verifyAuditFile(file, publicKeyPem === undefined ? {} : { publicKeyPem });
}

function failure(result: VerifyResult): Extract<VerifyResult, { ok: false }> {
  assert.equal(result.ok, false, 'expected verification to fail');
  return result;
}

/** What a forger who can rewrite the file does: edit records, then recompute every prev and hash. */
function rechain(lines: readonly string[], edit: (record: Record<string, unknown>, index: number) => void): string {
  let prev = '0'.repeat(64);
  const out: string[] = [];
  lines.forEach((line, index) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    delete record.hash;
    record.prev = prev;
    edit(record, index);
    const { line: next, hash } = serializeRecord(record);
    out.push(next);
    prev = hash;
  });
  return `${out.join('\n')}\n`;
}

describe('canonicalJson', () => {
  it('sorts keys recursively, drops whitespace and undefined properties, keeps array order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, 1, { z: null, y: true }], c: 'x' }, u: undefined }),
      '{"a":{"c":"x","d":[3,1,{"y":true,"z":null}]},"b":1}',
    );
    assert.equal(canonicalJson({ '\u00e9': 1, z: 2, B: 3, a: 4 }), '{"B":3,"a":4,"z":2,"é":1}');
    assert.equal(canonicalJson('line\nbreak "q" \u2028'), JSON.stringify('line\nbreak "q" \u2028'));
    assert.equal(canonicalJson([1.5, -0, 1e21, 0.1]), '[1.5,0,1e+21,0.1]');
  });

  it('refuses values that would not survive a JSON round trip', () => {
    assert.throws(() => canonicalJson({ n: Number.NaN }), InvalidArgumentError);
    assert.throws(() => canonicalJson([undefined]), InvalidArgumentError);
    assert.throws(() => canonicalJson({ d: new Date(0) }), InvalidArgumentError);
    assert.throws(() => canonicalJson({ f: () => 1 }), InvalidArgumentError);
  });

  it('hashes a record independently of key order, and serializes with hash last', () => {
    const a = serializeRecord({ seq: 1, type: 'x', prev: '0'.repeat(64), ts: 't' });
    const b = serializeRecord({ ts: 't', prev: '0'.repeat(64), type: 'x', seq: 1 });
    assert.equal(a.hash, b.hash);
    assert.equal(a.line, b.line);
    assert.ok(a.line.endsWith(`,"hash":"${a.hash}"}`));
    assert.equal(recordHash(JSON.parse(a.line) as Record<string, unknown>), a.hash);
  });
});

describe('verifyAuditFile', () => {
  it('accepts a log made by the writer (round trip), with the key from the log or given', async () => {
    assert.equal(sample.lines.length, 32); // 1 header + 25 events + 6 checkpoints
    assert.deepEqual(await verifyText(sample.text), { ok: true, records: 32, checkpoints: 6, keySource: 'log', lastSeq: 32 });
    const withKey = await verifyText(sample.text, sample.publicKeyPem);
    assert.deepEqual(withKey, { ok: true, records: 32, checkpoints: 6, keySource: 'argument', lastSeq: 32 });
    assert.match(describeVerifyResult(withKey), /^OK 32 records, 6 checkpoints, last seq 32; checkpoints signed by the given key$/);
    assert.match(describeVerifyResult(await verifyText(sample.text)), /WARNING: checkpoint key taken from the log/);
  });

  it('accepts records after the last checkpoint', async () => {
    const withoutClosingCheckpoint = sample.lines.slice(0, -1);
    assert.notEqual((JSON.parse(withoutClosingCheckpoint.at(-1) ?? '') as { type: string }).type, 'checkpoint');
    const result = await verifyText(`${withoutClosingCheckpoint.join('\n')}\n`, sample.publicKeyPem);
    assert.ok(result.ok);
    assert.equal(result.lastSeq, 31);
  });

  it('names the line of a changed byte: hash mismatch', async () => {
    const lines = [...sample.lines];
    lines[6] = (lines[6] ?? '').replace('"requestId":"r', '"requestId":"R');
    const result = failure(await verifyText(`${lines.join('\n')}\n`));
    assert.deepEqual(result, {
      ok: false,
      line: 7,
      seq: 7,
      reason: 'line 7 (seq 7): hash mismatch — record was altered',
      records: 6,
    });
    assert.match(describeVerifyResult(result), /^FAILED line 7 \(seq 7\): hash mismatch/);
  });

  it('detects every single-byte change and names the line holding that byte', async () => {
    const { text } = sample;
    const offsets = new Set<number>();
    for (let i = 0; i < text.length; i += 13) offsets.add(i);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) offsets.add(i); // every terminator
    for (const offset of offsets) {
      const original = text[offset] ?? '';
      const changed = `${text.slice(0, offset)}${original === 'x' ? 'y' : 'x'}${text.slice(offset + 1)}`;
      const expectedLine = text.slice(0, offset).split('\n').length;
      const result = await verifyText(changed);
      assert.equal(result.ok, false, `byte ${offset} changed but the log verified`);
      assert.equal(result.line, expectedLine, `byte ${offset}: ${result.reason}`);
    }
  });

  it('refuses a non-canonical line even when its parsed content hashes correctly', async () => {
    const lines = [...sample.lines];
    lines[3] = (lines[3] ?? '').replace('"type":"request.created"', '"type":"request\\u002ecreated"');
    const result = failure(await verifyText(`${lines.join('\n')}\n`));
    assert.equal(result.line, 4);
    assert.match(result.reason, /^line 4 \(seq 4\): record is not in canonical form/);
  });

  it('names a deleted line', async () => {
    const deletedMiddle = sample.lines.filter((_, i) => i !== 9);
    const result = failure(await verifyText(`${deletedMiddle.join('\n')}\n`));
    assert.equal(result.line, 10);
    assert.equal(result.seq, 11);
    assert.equal(result.reason, 'line 10 (seq 11): seq gap: expected seq 10 — 1 record(s) deleted before this line');

    const deletedFirst = failure(await verifyText(`${sample.lines.slice(1).join('\n')}\n`));
    assert.equal(deletedFirst.line, 1);
    assert.equal(deletedFirst.seq, 2);
  });

  it('names a line whose seq was rewritten to hide a deletion (prev mismatch)', async () => {
    // The forger renumbers but cannot recompute prev without also rewriting every later hash.
    const lines = sample.lines.filter((_, i) => i !== 9);
    const record = JSON.parse(lines[9] ?? '') as Record<string, unknown>;
    record.seq = 10;
    delete record.hash;
    lines[9] = serializeRecord(record).line;
    const result = failure(await verifyText(`${lines.join('\n')}\n`));
    assert.equal(result.line, 10);
    assert.match(result.reason, /^line 10 \(seq 10\): prev does not match/);
  });

  it('names a truncated tail', async () => {
    const cut = sample.text.slice(0, sample.text.length - 20);
    const result = failure(await verifyText(cut));
    assert.equal(result.line, 32);
    assert.equal(result.reason, 'line 32: truncated tail — the last line has no newline');
    assert.equal(result.records, 31);

    const cutWithNewline = failure(await verifyText(`${cut}\n`));
    assert.equal(cutWithNewline.line, 32);
    assert.match(cutWithNewline.reason, /not valid JSON/);
  });

  it('names a checkpoint whose signature was forged', async () => {
    const other = generateKeyPairSync('ed25519');
    const checkpointIndex = sample.lines.findIndex((l) => l.includes('"type":"checkpoint"'));
    const forged = rechain(sample.lines, (record, index) => {
      if (index === checkpointIndex) record.sig = signCheckpoint(other.privateKey, record.prev as string);
    });
    for (const key of [undefined, sample.publicKeyPem]) {
      const result = failure(await verifyText(forged, key));
      assert.equal(result.line, checkpointIndex + 1);
      assert.match(result.reason, /checkpoint (signature invalid|was not signed by the given public key)/);
    }
    const result = failure(await verifyText(forged));
    assert.equal(result.reason, `line ${checkpointIndex + 1} (seq ${checkpointIndex + 1}): checkpoint signature invalid — records up to seq ${checkpointIndex} cannot be trusted`);
  });

  it('with the trusted key, catches a full rewrite re-signed by the forger’s own key', async () => {
    const other = generateKeyPairSync('ed25519');
    const forgerKey: KeyObject = other.publicKey;
    const forged = rechain(sample.lines, (record, index) => {
      if (index === 0) record.public_key = publicKeyToSpkiBase64(forgerKey);
      if (index === 2) record.requestId = 'forged';
      if (record.type === 'checkpoint') {
        record.key_id = auditKeyId(forgerKey);
        record.sig = signCheckpoint(other.privateKey, record.prev as string);
      }
    });
    // From the log alone the rewrite is self-consistent: that is why the CLI warns about keySource 'log'.
    assert.equal((await verifyText(forged)).ok, true);
    const result = failure(await verifyText(forged, sample.publicKeyPem));
    assert.equal(result.line, 6);
    assert.match(result.reason, /^line 6 \(seq 6\): checkpoint was not signed by the given public key$/);
  });

  it('reports an empty log and refuses a missing file or a non-Ed25519 key', async () => {
    const empty = failure(await verifyText(''));
    assert.equal(empty.line, 1);
    assert.match(empty.reason, /log is empty/);
    await assert.rejects(verifyAuditFile(join(root, 'missing.jsonl')), NotFoundError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await assert.rejects(verifyText(sample.text, rsa), InvalidArgumentError);
  });

  it('reports an overlong line without reading it whole', async () => {
    const result = failure(await verifyText(`${sample.lines[0] ?? ''}\n${'x'.repeat(200 * 1024)}\n`));
    assert.equal(result.line, 2);
    assert.match(result.reason, /longer than/);
  });
});

describe('verifyAuditLines', () => {
  it('verifies lines from an array and from readline', async () => {
    assert.equal((await verifyAuditLines(sample.lines)).ok, true);
    const file = join(root, `rl-${++n}.jsonl`);
    await writeFile(file, sample.text);
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const result = await verifyAuditLines(rl, { publicKeyPem: sample.publicKeyPem });
    rl.close();
    assert.deepEqual(result, { ok: true, records: 32, checkpoints: 6, keySource: 'argument', lastSeq: 32 });
    const tampered = failure(await verifyAuditLines(sample.lines.filter((_, i) => i !== 4)));
    assert.equal(tampered.line, 5);
  });
});
