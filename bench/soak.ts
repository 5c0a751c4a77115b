/**
 * `npm run soak -- --minutes 30 [--rate 20] [--sample-seconds 10] ...`: steady grant load plus a
 * trickle of pending requests (half denied, half expiring) against a real jitgated (SQLite state,
 * or `--state postgres` on the bench's embedded PostgreSQL; fsynced audit) on the Vault-compatible server with PostgreSQL, sampling the daemon every
 * `--sample-seconds`. Writes bench/out/soak.csv, soak.svg and soak-summary.json (or `--out-dir`).
 * Exits 1 when RSS or open fds grow without bound (slope over the last half of the samples above
 * `--max-rss-mb-per-min` / `--max-fds-per-min`), when any token or lease is left at Vault after
 * every grant is released, or when any grant or pending request failed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../tools/vault-compat/src/free-port.js';
import { writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonProcess } from './daemon-process.js';
import { startSoakLoad } from './soak-load.js';
import { renderSoakSvg } from './soak-plot.js';
import { sampleDaemon, toCsv, type SoakSample } from './soak-sample.js';
import { summarizeSoak, type SoakSummary } from './soak-summary.js';
import { settledLeftovers } from './soak-leaks.js';
import { prepareSoakState, type SoakState } from './soak-state.js';
import { startBenchVault, type BenchVault } from './vault-process.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '20' },
    'sample-seconds': { type: 'string', default: '10' },
    'pending-every-seconds': { type: 'string', default: '5' },
    'pending-expires-seconds': { type: 'string', default: '20' },
    'db-every': { type: 'string', default: '10' },
    'max-rss-mb-per-min': { type: 'string', default: '1' },
    'max-fds-per-min': { type: 'string', default: '1' },
    'out-dir': { type: 'string', default: fileURLToPath(new URL('./out/', import.meta.url)) },
    daemon: { type: 'string', default: 'tsx' },
    state: { type: 'string', default: 'sqlite' },
  },
  strict: true,
});

function positive(flag: keyof typeof values, { integer = false, zero = false } = {}): number {
  const raw = values[flag];
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (zero ? n < 0 : n <= 0) || (integer && !Number.isInteger(n))) {
    process.stderr.write(`soak: --${flag} must be a ${integer ? 'whole ' : ''}number ${zero ? '≥ 0' : '> 0'}, not ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

const opts = {
  minutes: positive('minutes'),
  rate: positive('rate'),
  sampleSeconds: positive('sample-seconds'),
  pendingEverySeconds: positive('pending-every-seconds'),
  pendingExpiresSeconds: positive('pending-expires-seconds', { integer: true }),
  dbEvery: positive('db-every', { integer: true, zero: true }),
  maxRssMbPerMin: positive('max-rss-mb-per-min'),
  maxFdsPerMin: positive('max-fds-per-min'),
};
if (values.daemon !== 'dist' && values.daemon !== 'tsx') {
  process.stderr.write(`soak: --daemon must be dist or tsx, not ${values.daemon}\n`);
  process.exit(2);
}
const runtime = values.daemon;
if (values.state !== 'sqlite' && values.state !== 'postgres') {
  process.stderr.write(`soak: --state must be sqlite or postgres, not ${values.state}\n`);
  process.exit(2);
}
const stateKind = values.state;
const outDir = resolve(values['out-dir']);

function progress(message: string): void {
  process.stderr.write(`soak: ${message}\n`);
}

async function soak(vault: BenchVault, dir: string, daemons: DaemonProcess[]): Promise<SoakSummary> {
  const port = await freePort('127.0.0.1');
  const state = await prepareSoakState(stateKind, dir, vault.pgUrl);
  try {
    return await soakOn(vault, dir, daemons, port, state);
  } finally {
    await state.close();
  }
}

async function soakOn(vault: BenchVault, dir: string, daemons: DaemonProcess[], port: number, state: SoakState): Promise<SoakSummary> {
  const files = await writeDaemonConfig(dir, vault, {
    maxPending: 1000,
    state: state.config,
    httpListen: `127.0.0.1:${port}`,
    pendingExpiresAfter: `${opts.pendingExpiresSeconds}s`,
  });
  progress(`starting jitgated (${runtime}, ${stateKind} state)`);
  const daemon = await startDaemonProcess(files, runtime);
  daemons.push(daemon);
  const target = { pid: daemon.pid, metricsUrl: `http://127.0.0.1:${port}/metrics`, stateBytes: () => state.size() };
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  const record = async (counts: { grants: number; denied: number; expired: number; errors: number }): Promise<SoakSample> => {
    const reading = await sampleDaemon(target);
    const sample = { seconds: (Date.now() - t0) / 1000, ...reading, grants: counts.grants, pendingEnded: counts.denied + counts.expired, errors: counts.errors };
    samples.push(sample);
    return sample;
  };
  await record({ grants: 0, denied: 0, expired: 0, errors: 0 });
  progress(`load: ${opts.rate} grants/s for ${opts.minutes} min, sampling every ${opts.sampleSeconds} s`);
  const load = startSoakLoad({ socket: files.socket, rate: opts.rate, dbEvery: opts.dbEvery, pendingEverySeconds: opts.pendingEverySeconds, denyAfterMs: 1000 });
  const endAt = t0 + opts.minutes * 60_000;
  try {
    for (let next = t0 + opts.sampleSeconds * 1000; next <= endAt; next += opts.sampleSeconds * 1000) {
      await sleep(Math.max(0, next - Date.now()));
      const s = await record(load.counts);
      progress(`${(s.seconds / 60).toFixed(1)} min: RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MB, fds ${s.fds}, grants ${s.grants}, errors ${s.errors}`);
    }
  } finally {
    progress('draining (pending requests still waiting run to their expiry)');
    await load.stop();
  }
  const leftovers = await settledLeftovers(vault.address, vault.rootToken, vault.dbRole, 5000);
  await mkdir(outDir, { recursive: true });
  const summary = summarizeSoak({ samples, counts: load.counts, leftovers, thresholds: opts, runtime, state: stateKind });
  await writeFile(join(outDir, 'soak.csv'), toCsv(samples));
  await writeFile(join(outDir, 'soak.svg'), renderSoakSvg(samples, summary.title));
  await writeFile(join(outDir, 'soak-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

const root = await mkdtemp(join(tmpdir(), 'jitgate-soak-'));
progress('starting the Vault-compatible server and PostgreSQL');
const vault = await startBenchVault();
const daemons: DaemonProcess[] = [];
let summary: SoakSummary | undefined;
try {
  summary = await soak(vault, root, daemons);
} finally {
  for (const d of daemons) await d.stop().catch(() => undefined);
  await vault.stop();
  await rm(root, { recursive: true, force: true });
}
process.stdout.write(summary.table);
progress(`wrote ${join(outDir, 'soak.csv')}, soak.svg and soak-summary.json`);
process.exitCode = summary.ok ? 0 : 1;
