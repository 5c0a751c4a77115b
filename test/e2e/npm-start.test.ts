/**
 * README promise: on a fresh clone, `npm ci` then `npm start` runs a working local jitgate, and the
 * commands it prints work as printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Proc, ROOT } from '../support/daemon-process.js';

function shell(command: string): Proc {
  return new Proc(spawn('bash', ['-c', command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } }));
}

describe('npm start', () => {
  let dir: string;
  let start: Proc;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-dev-'));
    start = new Proc(
      spawn('npm', ['start', '--silent'], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, JITGATE_DEV_DIR: dir },
      }),
    );
  });
  after(async () => {
    if (start.child.exitCode === null && start.child.signalCode === null) process.kill(-(start.child.pid ?? 0), 'SIGINT');
    await start.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('prints commands that request, list, approve and verify, and they work as printed', async () => {
    await start.waitFor(/audit verify .*\n/, 60_000);
    const commands = [...start.stdout.matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1] ?? '');
    assert.equal(commands.length, 4, start.stdout);
    const [runCmd = '', listCmd = '', approveCmd = '', verifyCmd = ''] = commands;

    const run = shell(runCmd);
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    const list = await shell(listCmd).exited;
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(id));
    const approve = await shell(approveCmd.replace('REQUEST_ID', id)).exited;
    assert.equal(approve.code, 0, approve.stderr);
    const ran = await run.exited;
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /demo step: logged into PostgreSQL/);
    const verify = await shell(verifyCmd).exited;
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // Ctrl-C reaches the whole process group; everything it started shuts down cleanly.
    process.kill(-(start.child.pid ?? 0), 'SIGINT');
    await start.exited;
    assert.equal(existsSync(join(dir, 'jitgated.sock')), false, 'the daemon stopped and removed its socket');
    assert.match(start.stderr, /"msg":"stopped"/);
  });
});
