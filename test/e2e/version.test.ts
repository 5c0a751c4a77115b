import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

describe('--version', () => {
  it('jitgate and jitgated print the package version and exit 0', async () => {
    const { version } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const bin of ['bin/jitgate.js', 'bin/jitgated.js']) {
      const { stdout, stderr } = await run(process.execPath, [new URL(bin, root).pathname, '--version']);
      assert.equal(stdout, `${version}\n`, bin);
      assert.equal(stderr, '', bin);
    }
  });
});
