/**
 * The action runs from a checkout without `npm install`, so its bundles are committed; this
 * rebuilds them into a temp dir and fails on any difference (run `npm run build:action`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/daemon-process.js';
import { DIST } from './github-job.js';

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('actions/request-access/dist', () => {
  it('is exactly what `npm run build:action` produces from the current sources', async () => {
    const out = await mkdtemp(join(tmpdir(), 'jitgate-action-build-'));
    try {
      const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-action.ts', '--out', out], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(build.status, 0, build.stderr);
      const fresh = await listFiles(out);
      assert.deepEqual(await listFiles(DIST), fresh, 'the committed dist/ has other files; run npm run build:action');
      assert.ok(fresh.includes('hold.js') && fresh.includes('main.js') && fresh.includes('post.js') && fresh.includes('pre.js'));
      for (const file of fresh) {
        const same = (await readFile(join(DIST, file))).equals(await readFile(join(out, file)));
        assert.ok(same, `dist/${file} is stale; run npm run build:action and commit the result`);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('main, post and pre stay small: only the holder carries the gRPC client', async () => {
    for (const entry of ['main.js', 'post.js', 'pre.js']) {
      const text = await readFile(join(DIST, entry), 'utf8');
      assert.ok(!text.includes('@grpc/grpc-js'), `${entry} bundles gRPC`);
    }
    assert.match(await readFile(join(DIST, 'hold.js'), 'utf8'), /node_modules\/@grpc\/grpc-js\//);
  });
});
