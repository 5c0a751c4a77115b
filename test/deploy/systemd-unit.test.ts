import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const unit = fileURLToPath(new URL('../../deploy/jitgated.service', import.meta.url));

/** systemd-analyze's own score (0 = locked down, 10 = exposed) for the shipped unit. */
async function exposure(): Promise<number> {
  const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { cwd: '/tmp' });
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(stdout);
  assert.ok(match?.[1], `no score in systemd-analyze output:\n${stdout}`);
  return Number(match[1]);
}

describe('deploy/jitgated.service', () => {
  it('scores at most 2.0 in systemd-analyze security', async () => {
    const score = await exposure();
    assert.ok(score <= 2.0, `exposure ${score} is above 2.0`);
  });

  it('keeps what Node needs and says why', async () => {
    const text = await readFile(unit, 'utf8');
    // V8's JIT writes and then executes code pages; MemoryDenyWriteExecute=yes kills the daemon at start.
    assert.match(text, /^MemoryDenyWriteExecute=no$/m);
    assert.match(text, /^# Node's JIT compiler needs writable\+executable memory/m);
    // Runners reach the socket through the group that owns the runtime directory.
    assert.match(text, /^Group=jitgate$/m);
    assert.match(text, /^RuntimeDirectoryMode=0750$/m);
    assert.match(text, /^CapabilityBoundingSet=$/m);
  });
});
