import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the script and returns its one JSON line. */
async function bare(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-grpc-pending.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('bench/bare-grpc-pending.ts', () => {
  for (const server of ['grpc-js', 'http2']) {
    it(`holds every call open on a bare ${server} server and reports its RSS growth`, async () => {
      const { code, stdout, stderr } = await bare(['--count', '300', '--server', server]);
      assert.equal(code, 0, stderr.slice(-3000));
      const row = JSON.parse(stdout.trim()) as Record<string, unknown>;
      // Every one of the 300 calls got its message (the script waits for each) before RSS is read.
      assert.equal(row.server, server);
      assert.equal(row.count, 300);
      for (const key of ['idleMB', 'heldMB', 'growthMB', 'perCallKiB']) assert.equal(typeof row[key], 'number', key);
      assert.ok((row.heldMB as number) > 0 && (row.idleMB as number) > 0);
    });
  }

  it('names the flag when --server is neither', async () => {
    const { code, stderr } = await bare(['--count', '10', '--server', 'h3']);
    assert.notEqual(code, 0);
    assert.match(stderr, /--server must be grpc-js or http2, not h3/);
  });
});
