import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** `node --import tsx <script> ...args`, with stdin piped so the child can notice the bench dying. */
export function spawnTs(script: string, args: readonly string[] = [], options: { stderr?: 'inherit' | 'ignore' | 'pipe' } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', options.stderr ?? 'inherit'],
  });
}

/** Resolves with the first stdout line parsed as JSON; rejects if the child exits first or takes too long. */
export function firstJsonLine<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  const stdout = child.stdout;
  if (!stdout) return Promise.reject(new Error(`${what}: no stdout`));
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => {
      finish(new Error(`${what}: no announcement within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(new Error(`${what}: exited (${code ?? signal ?? 'unknown'}) before announcing`));
    };
    const finish = (err: Error | null, value?: T): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.off('line', onLine);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onLine = (line: string): void => {
      try {
        finish(null, JSON.parse(line) as T);
      } catch (err) {
        finish(new Error(`${what}: announced something that is not JSON`, { cause: err }));
      }
    };
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
