import { AccessDeniedError, JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE } from './daemon-config.js';

export interface SoakLoadOptions {
  readonly socket: string;
  /** Grant+release pairs started per second. */
  readonly rate: number;
  /** Every Nth grant reads database creds (a real PostgreSQL role); 0 for token-only. */
  readonly dbEvery: number;
  /** A require-approval request every this many seconds; alternately denied and left to expire. */
  readonly pendingEverySeconds: number;
  /** How long after it is pending a request to be denied is denied, ms. */
  readonly denyAfterMs: number;
}

export interface SoakCounts {
  grants: number;
  /** Grants not started because `MAX_IN_FLIGHT` were still running (the daemon falling behind). */
  shed: number;
  denied: number;
  expired: number;
  errors: number;
  firstError: string | undefined;
}

/** Grants running at once; more means the daemon is falling behind, which the counts show. */
const MAX_IN_FLIGHT = 64;
const CLIENTS = 4;
const TICK_MS = 50;

/**
 * Steady load: `rate` grants per second (each released at once) spread over a few SDK clients, plus
 * a trickle of pending requests, half denied by an approver and half left to expire. `stop()`
 * stops starting new work and waits for what is in flight (expiries included).
 */
export function startSoakLoad(options: SoakLoadOptions): { counts: SoakCounts; stop(): Promise<void> } {
  const counts: SoakCounts = { grants: 0, shed: 0, denied: 0, expired: 0, errors: 0, firstError: undefined };
  const pool = Array.from({ length: CLIENTS }, () => new JitgateClient({ socket: options.socket, context: BENCH_CONTEXT }));
  const approver = new JitgateClient({ socket: options.socket, approver: 'approver' });
  const inFlight = new Set<Promise<void>>();
  const fail = (err: unknown): void => {
    counts.errors++;
    counts.firstError ??= err instanceof Error ? err.message : String(err);
  };
  const track = (work: Promise<void>): void => {
    const p = work.catch(fail).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let started = 0;
  let grantsInFlight = 0;
  const grantOnce = async (n: number): Promise<void> => {
    const client = pool[n % CLIENTS];
    if (!client) throw new Error('no client');
    const resource = options.dbEvery > 0 && n % options.dbEvery === 0 ? RESOURCE.db : RESOURCE.token;
    grantsInFlight++;
    try {
      const grant = await client.request({ resource, reason: 'soak' });
      await grant.release();
      counts.grants++;
    } finally {
      grantsInFlight--;
    }
  };
  let pendingN = 0;
  const pendingOnce = async (deny: boolean): Promise<void> => {
    const client = pool[pendingN % CLIENTS];
    if (!client) throw new Error('no client');
    let denyTimer: NodeJS.Timeout | undefined;
    try {
      await client.request({
        resource: RESOURCE.pending,
        reason: `soak pending ${pendingN++}`,
        onUpdate: (u) => {
          if (deny && u.state === 'pending' && denyTimer === undefined) {
            denyTimer = setTimeout(() => {
              track(approver.deny(u.request.id, { reason: 'soak' }).then(() => undefined));
            }, options.denyAfterMs);
          }
        },
      });
      throw new Error('a request that needs an approval was granted');
    } catch (err) {
      if (!(err instanceof AccessDeniedError)) throw err;
      if (err.outcome === 'denied' && deny) counts.denied++;
      else if (err.outcome === 'expired' && !deny) counts.expired++;
      else throw new Error(`pending request ended ${err.outcome}, expected ${deny ? 'denied' : 'expired'}`, { cause: err });
    }
  };
  const t0 = Date.now();
  const grantTimer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) / 1000) * options.rate);
    while (started < due) {
      const n = started++;
      if (grantsInFlight >= MAX_IN_FLIGHT) counts.shed++;
      else track(grantOnce(n));
    }
  }, TICK_MS);
  let pendingCount = 0;
  const pendingTimer = setInterval(() => {
    track(pendingOnce(pendingCount++ % 2 === 0));
  }, options.pendingEverySeconds * 1000);
  return {
    counts,
    async stop() {
      clearInterval(grantTimer);
      clearInterval(pendingTimer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      for (const c of [...pool, approver]) c.close();
    },
  };
}
