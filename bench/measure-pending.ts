import { setTimeout as sleep } from 'node:timers/promises';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT } from './daemon-config.js';
import { elapsedMs } from './stats.js';

export interface PendingRun {
  readonly count: number;
  readonly idleRssBytes: number;
  readonly pendingRssBytes: number;
  readonly growthBytes: number;
  readonly perRequestBytes: number;
  /** Wall time to get every request acknowledged as pending. */
  readonly fillSeconds: number;
}

const CLIENTS = 8;
const WINDOW = 512;

/**
 * Holds `count` require-approval requests open (each a live RequestAccess stream answered
 * `pending`) and reads the daemon's RSS before and after. The requests are cancelled at the end.
 */
export async function measurePending(options: { socket: string; resource: string; count: number; rss: () => Promise<number> }): Promise<PendingRun> {
  const pool = Array.from({ length: CLIENTS }, () => new JitgateClient({ socket: options.socket, context: BENCH_CONTEXT }));
  const controllers: AbortController[] = [];
  const settled: Promise<unknown>[] = [];
  try {
    // Let start-up garbage settle so "idle" means idle.
    await sleep(500);
    const idleRssBytes = await options.rss();
    const start = process.hrtime.bigint();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < options.count) {
        const i = next++;
        const client = pool[i % CLIENTS];
        if (!client) throw new Error('no client');
        const controller = new AbortController();
        controllers.push(controller);
        await new Promise<void>((resolve, reject) => {
          const request = client.request({
            resource: options.resource,
            reason: `bench pending ${i}`,
            signal: controller.signal,
            onUpdate: (u) => {
              if (u.state === 'pending') resolve();
            },
          });
          // Rejects with the abort at the end; before that, any rejection is a failure.
          settled.push(request.then(() => { reject(new Error('a pending request was granted')); }, (err: unknown) => {
            if (!controller.signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
          }));
        });
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    const fillSeconds = elapsedMs(start) / 1000;
    await sleep(500);
    const pendingRssBytes = await options.rss();
    const growthBytes = pendingRssBytes - idleRssBytes;
    return { count: options.count, idleRssBytes, pendingRssBytes, growthBytes, perRequestBytes: growthBytes / options.count, fillSeconds };
  } finally {
    for (const c of controllers) c.abort();
    await Promise.allSettled(settled);
    for (const c of pool) c.close();
  }
}
