import { readdir, readFile } from 'node:fs/promises';

/** One reading of the daemon, every `--sample-seconds`. */
export interface SoakSample {
  /** Seconds since the load started. */
  readonly seconds: number;
  /** VmRSS from /proc/<pid>/status. */
  readonly rssBytes: number;
  /** V8 heap in use (prom-client `nodejs_heap_size_used_bytes`). */
  readonly heapUsedBytes: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets its histogram per scrape). */
  readonly eventLoopP99Ms: number;
  /** Entries in /proc/<pid>/fd. */
  readonly fds: number;
  /** The SQLite state database plus its -wal file, or the PostgreSQL state database's size. */
  readonly stateBytes: number;
  /** Grants completed (granted and released) so far. */
  readonly grants: number;
  /** Pending requests that reached their end (denied or expired) so far. */
  readonly pendingEnded: number;
  /** Failed grants or pending requests that ended otherwise, so far. */
  readonly errors: number;
}

export const CSV_COLUMNS = ['seconds', 'rss_bytes', 'heap_used_bytes', 'event_loop_p99_ms', 'fds', 'state_bytes', 'grants', 'pending_ended', 'errors'] as const;

export function toCsv(samples: readonly SoakSample[]): string {
  const rows = samples.map((s) =>
    [s.seconds.toFixed(1), s.rssBytes, s.heapUsedBytes, s.eventLoopP99Ms.toFixed(3), s.fds, s.stateBytes, s.grants, s.pendingEnded, s.errors].join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

/** A sample of prom-client's text exposition: `name value` (no labels), or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) return undefined;
  const value = Number(line.slice(name.length + 1).trim());
  return Number.isFinite(value) ? value : undefined;
}

/** The daemon's own metric names carry the `jitgated_` prefix (src/daemon/metrics.ts). */
const PREFIX = 'jitgated_';

async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

export interface SampleTarget {
  readonly pid: number;
  /** `http://host:port/metrics` of the daemon. */
  readonly metricsUrl: string;
  /** Bytes the state store takes now. */
  readonly stateBytes: () => Promise<number>;
}

/** Reads the daemon's memory, event loop, descriptors and state size now. */
export async function sampleDaemon(target: SampleTarget): Promise<Omit<SoakSample, 'seconds' | 'grants' | 'pendingEnded' | 'errors'>> {
  const res = await fetch(target.metricsUrl);
  if (!res.ok) throw new Error(`GET ${target.metricsUrl} answered ${res.status}`);
  const text = await res.text();
  const heap = metricValue(text, `${PREFIX}nodejs_heap_size_used_bytes`);
  const lag = metricValue(text, `${PREFIX}nodejs_eventloop_lag_p99_seconds`);
  if (heap === undefined || lag === undefined) throw new Error('the daemon metrics lack nodejs_heap_size_used_bytes or nodejs_eventloop_lag_p99_seconds');
  const [rssBytes, fds, stateBytes] = await Promise.all([
    vmRss(target.pid),
    readdir(`/proc/${target.pid}/fd`).then((entries) => entries.length),
    target.stateBytes(),
  ]);
  return { rssBytes, heapUsedBytes: heap, eventLoopP99Ms: lag * 1000, fds, stateBytes };
}
