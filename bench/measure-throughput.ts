import { setTimeout as sleep } from 'node:timers/promises';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT } from './daemon-config.js';
import { elapsedMs } from './stats.js';

export interface ThroughputRun {
  readonly clients: number;
  /** Completed grant+release pairs per second. */
  readonly perSecond: number;
  readonly completed: number;
  readonly errors: number;
  readonly seconds: number;
}

/**
 * `clients` SDK clients (one connection each), each looping grant → release for `seconds`.
 * Grants still in flight at the end are finished but not counted.
 */
export async function measureThroughput(socket: string, resource: string, clients: number, seconds: number): Promise<ThroughputRun> {
  const pool = Array.from({ length: clients }, () => new JitgateClient({ socket, context: BENCH_CONTEXT }));
  let completed = 0;
  let errors = 0;
  let firstError: unknown;
  try {
    // Connect every client first, so connection set-up is not part of the window.
    await Promise.all(pool.map(async (c) => (await c.request({ resource, reason: 'bench warm-up' })).release()));
    const start = process.hrtime.bigint();
    const endMs = seconds * 1000;
    await Promise.all(
      pool.map(async (client) => {
        while (elapsedMs(start) < endMs) {
          try {
            const grant = await client.request({ resource, reason: 'bench' });
            await grant.release();
            if (elapsedMs(start) <= endMs) completed++;
          } catch (err) {
            errors++;
            firstError ??= err;
            // A failing daemon must not turn into a hot loop.
            await sleep(10);
          }
        }
      }),
    );
    const elapsed = Math.max(elapsedMs(start), endMs) / 1000;
    if (completed === 0 && firstError !== undefined) throw new Error('every grant failed', { cause: firstError });
    return { clients, perSecond: completed / elapsed, completed, errors, seconds: elapsed };
  } finally {
    for (const c of pool) c.close();
  }
}
