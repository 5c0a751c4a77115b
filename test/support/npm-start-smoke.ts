/**
 * README promise: on a fresh clone, `npm ci` then `npm start` runs a working local jitgate, and the
 * commands it prints work as printed. Shared by the checkout's own test and the private-checkout test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Proc } from './daemon-process.js';

function shell(root: string, command: string): Proc {
  return new Proc(spawn('bash', ['-c', command], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } }));
}

/** Starts `npm start` in `root` with its dev files in `devDir`; stop it with {@link stopNpmStart}. */
export function startNpmStart(root: string, devDir: string): Proc {
  return new Proc(
    spawn('npm', ['start', '--silent'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, JITGATE_DEV_DIR: devDir },
    }),
  );
}

export async function stopNpmStart(start: Proc): Promise<void> {
  if (start.child.exitCode === null && start.child.signalCode === null) process.kill(-(start.child.pid ?? 0), 'SIGINT');
  await start.exited;
}

/** Runs the four printed commands as printed, then Ctrl-C, and checks everything stopped cleanly. */
export async function checkPrintedCommands(root: string, devDir: string, start: Proc): Promise<void> {
  await start.waitFor(/audit verify .*\n/, 60_000);
  const commands = [...start.stdout.matchAll(/^ {2}\$ (.+)$/gm)].map((m) => m[1] ?? '');
  assert.equal(commands.length, 4, start.stdout);
  const [runCmd = '', listCmd = '', approveCmd = '', verifyCmd = ''] = commands;

  const run = shell(root, runCmd);
  const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
  assert.ok(id);
  const list = await shell(root, listCmd).exited;
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(id));
  const approve = await shell(root, approveCmd.replace('REQUEST_ID', id)).exited;
  assert.equal(approve.code, 0, approve.stderr);
  const ran = await run.exited;
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /demo step: logged into PostgreSQL/);
  const verify = await shell(root, verifyCmd).exited;
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);

  // Ctrl-C reaches the whole process group; everything it started shuts down cleanly.
  process.kill(-(start.child.pid ?? 0), 'SIGINT');
  await start.exited;
  assert.equal(existsSync(join(devDir, 'jitgated.sock')), false, 'the daemon stopped and removed its socket');
  assert.match(start.stderr, /"msg":"stopped"/);
}
