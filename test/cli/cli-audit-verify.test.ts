/**
 * `jitgate audit verify a.jsonl b.jsonl c.jsonl` (issue 13, acceptance 7): one log per fleet node,
 * each chain checked on its own, one line per file naming the file and its node, non-zero exit when
 * any fails; a single file prints exactly what it always did.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import { loadOrCreateKeys, openFileAuditLog } from '../../src/daemon/audit/file-audit-log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'src/cli/cli.ts');
const NODES = ['runner-a', 'runner-b', 'runner-c'] as const;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('jitgate audit verify with one log per fleet node', () => {
  let dir: string;
  const files: Record<string, string> = {};
  let publicKeyA: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-cli-fleet-audit-'));
    for (const node of NODES) {
      const opts = {
        file: join(dir, `${node}.jsonl`),
        signingKeyFile: join(dir, node, 'audit.pem'),
        hmacKeyFile: join(dir, node, 'hmac.key'),
        checkpointEvery: 2,
        fsync: false,
        clock: new ManualClock(),
        logger: silentLogger(),
        node,
      };
      const log = await openFileAuditLog(opts);
      await log.append({ type: 'request.created', requestId: `req_${node}` });
      await log.append({ type: 'grant.minted', requestId: `req_${node}` });
      await log.append({ type: 'grant.revoked', requestId: `req_${node}` });
      await log.close();
      files[node] = opts.file;
      if (node === 'runner-a') {
        const keys = await loadOrCreateKeys({ signingKeyFile: opts.signingKeyFile, hmacKeyFile: opts.hmacKeyFile, logger: silentLogger() });
        publicKeyA = join(dir, 'runner-a.pub.pem');
        await writeFile(publicKeyA, keys.publicKey.export({ type: 'spki', format: 'pem' }));
      }
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const all = (): string[] => NODES.map((node) => files[node] ?? '');

  it('three good logs: one OK line per file naming file and node, exit 0', async () => {
    const r = await cli(['audit', 'verify', ...all()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    NODES.forEach((node, i) => {
      assert.equal(lines[i]?.startsWith(`${files[node] ?? ''} (node ${node}): OK `), true, lines[i]);
    });
  });

  it('one tampered log: exit 1, its line FAILED naming the file, the others still OK', async () => {
    const tampered = join(dir, 'runner-b-tampered.jsonl');
    const text = await readFile(files['runner-b'] ?? '', 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((line) => line.includes('"grant.minted"'));
    lines[at] = lines[at]?.replace('"node":"runner-b"', '"node":"runner-a"') ?? '';
    await writeFile(tampered, lines.join('\n'));
    const r = await cli(['audit', 'verify', files['runner-a'] ?? '', tampered, files['runner-c'] ?? '']);
    assert.equal(r.code, 1, r.stdout);
    const out = r.stdout.trimEnd().split('\n');
    assert.equal(out.length, 3, r.stdout);
    assert.match(out[0] ?? '', /runner-a\.jsonl \(node runner-a\): OK /);
    assert.equal(out[1]?.startsWith(`${tampered} (node runner-b): FAILED at line ${String(at + 1)} `), true, out[1]);
    assert.match(out[1], /hash mismatch/);
    assert.match(out[2] ?? '', /runner-c\.jsonl \(node runner-c\): OK /);
    assert.match(r.stderr, /1 of 3 audit logs failed verification: .*runner-b-tampered\.jsonl/);
  });

  it('a missing file is that file’s FAILED line; the others are still checked', async () => {
    const missing = join(dir, 'runner-d.jsonl');
    const r = await cli(['audit', 'verify', files['runner-a'] ?? '', missing]);
    assert.equal(r.code, 1);
    const out = r.stdout.trimEnd().split('\n');
    assert.match(out[0] ?? '', /\(node runner-a\): OK /);
    assert.equal(out[1], `${missing}: FAILED audit log ${missing} does not exist`);
  });

  it('--public-key applies to every file: only the log that key signed passes', async () => {
    const r = await cli(['audit', 'verify', '--public-key', publicKeyA, ...all()]);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout.trimEnd().split('\n');
    assert.match(out[0] ?? '', /\(node runner-a\): OK .*checkpoints signed by the given key$/);
    assert.match(out[1] ?? '', /\(node runner-b\): FAILED .*not signed by the given public key/);
    assert.match(out[2] ?? '', /\(node runner-c\): FAILED .*not signed by the given public key/);
  });

  it('one file prints exactly today’s line, without file or node', async () => {
    const r = await cli(['audit', 'verify', files['runner-a'] ?? '']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^OK 6 records, 2 checkpoints, last seq 6; WARNING: checkpoint key taken from the log itself — pass the public key to prove who wrote it\n$/,
    );
  });
});
