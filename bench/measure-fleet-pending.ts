import { setTimeout as sleep } from 'node:timers/promises';
import { measurePending, type PendingRun } from './measure-pending.js';

export interface FleetPendingTarget {
  readonly node: string;
  readonly socket: string;
  rss(): Promise<number>;
}

export interface FleetPendingRun {
  readonly perDaemon: readonly (PendingRun & { readonly node: string })[];
  /** Pending requests in the shared database while every daemon's RSS was read, by owner node. */
  readonly pendingInDatabase: Readonly<Record<string, number>>;
}

/** A daemon that fails to fill must not leave the others waiting for it for ever. */
const BARRIER_TIMEOUT_MS = 10 * 60_000;

/** Resolves each caller once `parties` callers have arrived; rejects them all after BARRIER_TIMEOUT_MS. */
function barrier(parties: number, what: string): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  // Marked handled here: each caller still sees the rejection through its own await.
  opened.catch(() => undefined);
  const timer = setTimeout(() => { fail(new Error(`${what}: only ${arrived} of ${parties} daemons arrived`)); }, BARRIER_TIMEOUT_MS);
  timer.unref();
  return async () => {
    arrived++;
    if (arrived === parties) {
      clearTimeout(timer);
      open();
    }
    await opened;
  };
}

/**
 * `count` pending requests on each daemon, all held at the same time: every daemon's idle RSS is
 * read before any daemon fills, and every daemon's loaded RSS after all have filled (while the
 * whole fleet's requests wait in the one database), so a daemon's figure includes whatever the
 * other daemons' requests cost it. The daemons fill one after the other: measurePending keeps 512
 * requests in flight, and four daemons doing that at once on a shared 2-core machine wait longer
 * than the state store's 5 s pool timeout and answer UNAVAILABLE (failing closed). measurePending
 * reads `rss` twice (idle, then loaded); the barriers sit in that callback.
 */
export async function measureFleetPending(options: {
  targets: readonly FleetPendingTarget[];
  resource: string;
  count: number;
  pendingInDatabase: () => Promise<Record<string, number>>;
}): Promise<FleetPendingRun> {
  const n = options.targets.length;
  const idle = barrier(n, 'idle RSS');
  const filled = barrier(n, 'fill');
  const read = barrier(n, 'loaded RSS');
  // turns[k] opens when daemon k may start filling: after every idle read for k = 0, else once daemon k - 1 has filled.
  const opens: (() => void)[] = [];
  const turns = options.targets.map(() => new Promise<void>((resolve) => opens.push(resolve)));
  let counted: Promise<Record<string, number>> | undefined;
  const runs = options.targets.map(async (t, k) => {
    let calls = 0;
    const rss = async (): Promise<number> => {
      calls++;
      if (calls === 1) {
        const bytes = await t.rss();
        await idle();
        if (k === 0) opens[0]?.();
        await turns[k];
        return bytes;
      }
      opens[k + 1]?.();
      await filled();
      // Same settle time as measurePending's own, once the last daemon has filled.
      await sleep(500);
      counted ??= options.pendingInDatabase();
      const bytes = await t.rss();
      // Nobody cancels its requests (measurePending does so when it returns) before all have read.
      await Promise.all([read(), counted]);
      return bytes;
    };
    const run = await measurePending({ socket: t.socket, resource: options.resource, count: options.count, rss });
    return { node: t.node, ...run };
  });
  const perDaemon = await Promise.all(runs);
  if (!counted) throw new Error('the pending requests were never counted');
  return { perDaemon, pendingInDatabase: await counted };
}
