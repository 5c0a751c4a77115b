/**
 * README promise: on a fresh clone, `npm ci` then `npm start` runs a working local jitgate, and the
 * commands it prints work as printed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, type Proc } from '../support/daemon-process.js';
import { checkPrintedCommands, startNpmStart, stopNpmStart } from '../support/npm-start-smoke.js';

describe('npm start', () => {
  let dir: string;
  let start: Proc;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-dev-'));
    start = startNpmStart(ROOT, dir);
  });
  after(async () => {
    await stopNpmStart(start);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints commands that request, list, approve and verify, and they work as printed', async () => {
    await checkPrintedCommands(ROOT, dir, start);
  });
});
