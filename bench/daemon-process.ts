import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stopChild } from './child-process.js';
import type { DaemonFiles } from './daemon-config.js';
import { checkHealth } from './health-probe.js';
import { elapsedMs } from './stats.js';

const SOURCE_MAIN = fileURLToPath(new URL('../src/daemon/main.ts', import.meta.url));
/** What `npm run build` produces (tsconfig.build.json: outDir dist, rootDir the repository). */
export const COMPILED_MAIN = fileURLToPath(new URL('../dist/src/daemon/main.js', import.meta.url));

/**
 * How the daemon runs: `dist` is how it is deployed (compiled JavaScript, `npm run build` first);
 * `tsx` compiles the TypeScript sources at start-up, which dominates cold start.
 */
export type DaemonRuntime = 'dist' | 'tsx';

function daemonArgs(runtime: DaemonRuntime, configFile: string, nodeArgs: readonly string[]): string[] {
  if (runtime === 'dist') {
    if (!existsSync(COMPILED_MAIN)) throw new Error(`${COMPILED_MAIN} is missing: run \`npm run build\` first`);
    return [...nodeArgs, COMPILED_MAIN, '--config', configFile];
  }
  return [...nodeArgs, '--import', 'tsx', SOURCE_MAIN, '--config', configFile];
}

export interface DaemonProcess {
  readonly pid: number;
  /** Spawn → grpc.health.v1 answering SERVING on the socket, in ms. */
  readonly startMs: number;
  /** Resident set size of the daemon process alone, in bytes (Linux /proc). */
  rss(): Promise<number>;
  /** SIGTERM and wait (the daemon revokes live grants and ends pending requests first). */
  stop(): Promise<void>;
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}

/**
 * Starts jitgated as a child process (`node dist/src/daemon/main.js --config F`, or the sources
 * under tsx), its log going to `files.logFile`, and waits until its health check answers SERVING.
 */
export async function startDaemonProcess(
  files: DaemonFiles,
  runtime: DaemonRuntime,
  timeoutMs = 30_000,
  /** Extra Node flags for profiling (`--cpu-prof`, `--heapsnapshot-signal=SIGUSR2`). */
  nodeArgs: readonly string[] = [],
): Promise<DaemonProcess> {
  const args = daemonArgs(runtime, files.configFile, nodeArgs);
  const log = await open(files.logFile, 'a');
  const started = process.hrtime.bigint();
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { stdio: ['ignore', log.fd, log.fd] });
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
  const pid = child.pid;
  let startMs: number | undefined;
  try {
    if (pid === undefined) throw new Error('jitgated did not spawn');
    while (startMs === undefined) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`jitgated exited (${child.exitCode ?? child.signalCode})`);
      if (elapsedMs(started) > timeoutMs) throw new Error(`jitgated not SERVING after ${timeoutMs} ms`);
      if (existsSync(files.socket) && (await checkHealth(files.socket, 500)) === 'SERVING') {
        startMs = elapsedMs(started);
      } else {
        await sleep(2);
      }
    }
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw new Error(`${err instanceof Error ? err.message : String(err)}; log tail:\n${await tail(files.logFile)}`, { cause: err });
  }
  const daemonPid = pid;
  return {
    pid: daemonPid,
    startMs,
    rss: async () => {
      const status = await readFile(`/proc/${daemonPid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
      if (kb === undefined) throw new Error('no VmRSS in /proc status');
      return Number(kb) * 1024;
    },
    stop: () => stopChild(child, 'SIGTERM', 30_000),
  };
}
