import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A child process whose stdout and stderr go to `logFile` (appended, so restarts keep the earlier
 * output: the secret scan reads every byte any process printed) and to memory for `waitFor`.
 */
export class Managed {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  output = '';
  done = false;

  constructor(command: string, args: readonly string[], options: { logFile: string; env: NodeJS.ProcessEnv; cwd: string }) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer): void => {
      const text = d.toString();
      this.output = (this.output + text).slice(-64 * 1024);
      appendFileSync(options.logFile, text);
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.done) this.child.kill(signal);
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.done) throw new Error(`process ended before ${String(pattern)}: ${this.output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}: ${this.output.slice(-2000)}`);
      await sleep(25);
    }
  }
}

/** Runs a command to the end; its output goes to `logFile` too. */
export async function runToEnd(command: string, args: readonly string[], options: { logFile: string; env: NodeJS.ProcessEnv; cwd: string }): Promise<Exit & { output: string }> {
  const p = new Managed(command, args, options);
  const exit = await p.exited;
  return { ...exit, output: p.output };
}
