import type { SoakCounts } from './soak-load.js';
import type { VaultLeftovers } from './soak-leaks.js';
import type { SoakSample } from './soak-sample.js';
import { checkSlope, type SlopeCheck } from './soak-verdict.js';

export interface SoakThresholds {
  readonly minutes: number;
  readonly rate: number;
  readonly maxRssMbPerMin: number;
  readonly maxFdsPerMin: number;
}

export interface SoakRow {
  readonly check: string;
  readonly observed: string;
  readonly ok: boolean;
}

export interface SoakSummary {
  readonly ok: boolean;
  readonly title: string;
  readonly runtime: string;
  readonly state: string;
  readonly samples: number;
  readonly minutes: number;
  readonly rssMb: { readonly start: number; readonly end: number; readonly max: number };
  readonly heapMb: { readonly start: number; readonly end: number; readonly max: number };
  readonly fds: { readonly start: number; readonly end: number; readonly max: number };
  readonly eventLoopP99MsMax: number;
  readonly stateBytesEnd: number;
  readonly counts: SoakCounts;
  readonly slopes: readonly SlopeCheck[];
  readonly leakedTokens: number;
  readonly leakedLeases: number;
  readonly rows: readonly SoakRow[];
  readonly table: string;
}

const MB = 1024 * 1024;

function range(values: readonly number[]): { start: number; end: number; max: number } {
  return { start: values[0] ?? Number.NaN, end: values.at(-1) ?? Number.NaN, max: Math.max(...values) };
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** The soak's verdict: every row must hold. */
export function summarizeSoak(input: {
  samples: readonly SoakSample[];
  counts: SoakCounts;
  leftovers: VaultLeftovers;
  thresholds: SoakThresholds;
  runtime: string;
  state: string;
}): SoakSummary {
  const { samples, counts, leftovers, thresholds } = input;
  const minutes = (samples.at(-1)?.seconds ?? 0) / 60;
  const at = (s: SoakSample): number => s.seconds / 60;
  const rssCheck = checkSlope('RSS', 'MB', samples.map((s) => ({ minutes: at(s), value: s.rssBytes / MB })), thresholds.maxRssMbPerMin);
  const fdCheck = checkSlope('open fds', 'fds', samples.map((s) => ({ minutes: at(s), value: s.fds })), thresholds.maxFdsPerMin);
  const rssMb = range(samples.map((s) => round(s.rssBytes / MB)));
  const heapMb = range(samples.map((s) => round(s.heapUsedBytes / MB)));
  const fds = range(samples.map((s) => s.fds));
  const slopeRow = (c: SlopeCheck): SoakRow => ({
    check: `${c.metric} slope over the last half (${c.points} samples) ≤ ${c.maxPerMinute} ${c.unit}/min`,
    observed: `${c.slopePerMinute.toFixed(3)} ${c.unit}/min`,
    ok: c.ok,
  });
  const rows: SoakRow[] = [
    slopeRow(rssCheck),
    slopeRow(fdCheck),
    { check: 'tokens left at Vault after every release (LIST auth/token/accessors minus root)', observed: String(leftovers.tokens.length), ok: leftovers.tokens.length === 0 },
    { check: 'database leases left at Vault', observed: String(leftovers.leases.length), ok: leftovers.leases.length === 0 },
    { check: 'failed grants or pending requests', observed: `${counts.errors}${counts.firstError ? ` (first: ${counts.firstError})` : ''}`, ok: counts.errors === 0 },
    { check: 'grants completed', observed: `${counts.grants} (${round(counts.grants / Math.max(minutes * 60, 1e-9), 1)}/s; ${counts.shed} shed)`, ok: counts.grants > 0 },
    { check: 'pending requests denied / expired', observed: `${counts.denied} / ${counts.expired}`, ok: true },
    { check: 'RSS start → end (max)', observed: `${rssMb.start} → ${rssMb.end} MB (${rssMb.max})`, ok: true },
    { check: 'V8 heap used start → end (max)', observed: `${heapMb.start} → ${heapMb.end} MB (${heapMb.max})`, ok: true },
    { check: 'open fds start → end (max)', observed: `${fds.start} → ${fds.end} (${fds.max})`, ok: true },
  ];
  const eventLoopP99MsMax = round(Math.max(...samples.map((s) => s.eventLoopP99Ms)));
  const stateBytesEnd = samples.at(-1)?.stateBytes ?? 0;
  rows.push(
    { check: 'event-loop delay p99, worst sample', observed: `${eventLoopP99MsMax} ms`, ok: true },
    { check: `${input.state === 'sqlite' ? 'SQLite state + WAL' : 'PostgreSQL state database'} size at the end`, observed: `${round(stateBytesEnd / MB)} MB`, ok: true },
  );
  const ok = rows.every((r) => r.ok);
  const title = `jitgated soak (${input.state}): ${round(minutes, 1)} min at ${thresholds.rate} grants/s — RSS ${rssMb.start} → ${rssMb.end} MB, slope ${rssCheck.slopePerMinute.toFixed(2)} MB/min, fds ${fds.start} → ${fds.end}`;
  const table = [
    `${title}${ok ? '' : ' — FAILED'}`,
    '',
    '| check | observed | result |',
    '|---|---|:---:|',
    ...rows.map((r) => `| ${r.check} | ${r.observed} | ${r.ok ? 'ok' : '**FAIL**'} |`),
    '',
  ].join('\n');
  return {
    ok,
    title,
    runtime: input.runtime,
    state: input.state,
    samples: samples.length,
    minutes: round(minutes),
    rssMb,
    heapMb,
    fds,
    eventLoopP99MsMax,
    stateBytesEnd,
    counts,
    slopes: [rssCheck, fdCheck],
    leakedTokens: leftovers.tokens.length,
    leakedLeases: leftovers.leases.length,
    rows,
    table,
  };
}
