/**
 * `node --import tsx bench/grant-timeline.ts [--daemon dist|tsx] [--grants N]`: where the time of
 * one auto-approved token grant goes. Starts the Vault-compatible server and jitgated with
 * bench/grant-timeline-hook.mjs preloaded (it records the daemon's `jitgate:grant-stage`
 * diagnostics messages), runs N sequential grants (each released before the next), and prints the
 * median time between consecutive stages, what the client saw in total, and the floor baseline's
 * parts measured in the same run. The profile says what the CPU does; this says what a grant
 * waits for.
 */
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonRuntime } from './daemon-process.js';
import { measureFloor } from './measure-floor.js';
import { elapsedMs, summarize } from './stats.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault } from './vault-process.js';

const { values } = parseArgs({ options: { daemon: { type: 'string', default: 'dist' }, grants: { type: 'string', default: '1000' } }, strict: true });
if (values.daemon !== 'dist' && values.daemon !== 'tsx') throw new Error(`--daemon must be dist or tsx, not ${values.daemon}`);
const runtime: DaemonRuntime = values.daemon;
const grants = Number(values.grants);
if (!Number.isInteger(grants) || grants < 10) throw new Error(`--grants must be an integer of at least 10, not ${values.grants}`);

const HOOK = pathToFileURL(fileURLToPath(new URL('./grant-timeline-hook.mjs', import.meta.url))).href;

/** What each step between two stages stands for (src/common/grant-stages.ts). */
const STEPS: Readonly<Record<string, string>> = {
  'received → admitted': 'identity, resource and limits',
  'admitted → request-recorded': 'policy; request.created chained (deferred); its row waits for the intent',
  'request-recorded → intent-issued': 'request.approved and grant.mint.intent chained',
  'intent-issued → intent-durable': 'audit write, O_DSYNC (1 of 2); request and grant rows written and committed meanwhile',
  'intent-durable → vault-sent': 'node-vault: child-token request built and sent',
  'vault-sent → vault-answered': 'Vault answers auth/token/create',
  'vault-answered → token-created': 'answer parsed',
  'token-created → accessor-recorded': 'accessor in state (token only: the grant row below carries it)',
  'accessor-recorded → minted': 'credentials mapped, grant held',
  'minted → grant-recorded': 'audit write, O_DSYNC (2 of 2), grant live + request granted committed',
  'grant-recorded → replied': 'the view, the reply encoded and written (the info log line and observers follow the send)',
};

async function dump(pid: number): Promise<[string, bigint][]> {
  const file = join(tmpdir(), `jitgate-timeline-${String(pid)}.json`);
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i += 1) {
    try {
      const raw = JSON.parse(await readFile(file, 'utf8')) as [string, string][];
      await rm(file, { force: true });
      return raw.map(([s, at]) => [s, BigInt(at)]);
    } catch {
      await sleep(20);
    }
  }
  throw new Error(`the daemon wrote no timeline to ${file}`);
}

const root = await mkdtemp(join(tmpdir(), 'jitgate-timeline-'));
const vault = await startBenchVault();
try {
  const files = await writeDaemonConfig(root, vault, { maxPending: 1000 });
  const daemon = await startDaemonProcess(files, runtime, 30_000, ['--import', HOOK]);
  const client = new JitgateClient({ socket: files.socket, context: BENCH_CONTEXT });
  const totals: number[] = [];
  let stages: [string, bigint][];
  try {
    for (let i = 0; i < 200; i += 1) await (await client.request({ resource: RESOURCE.token, reason: 'warm-up' })).release();
    await dump(daemon.pid);
    for (let i = 0; i < grants; i += 1) {
      const start = process.hrtime.bigint();
      const grant = await client.request({ resource: RESOURCE.token, reason: 'timeline' });
      totals.push(elapsedMs(start));
      await grant.release();
    }
    stages = await dump(daemon.pid);
  } finally {
    client.close();
    await daemon.stop();
  }
  // One window per grant, from `received` to `replied`; the releases in between publish only
  // Vault stages, outside any window.
  const steps = new Map<string, number[]>();
  const inside: number[] = [];
  let window: [string, bigint][] | undefined;
  for (const entry of stages) {
    if (entry[0] === 'received') window = [entry];
    else if (window) {
      window.push(entry);
      if (entry[0] === 'replied') {
        for (let i = 1; i < window.length; i += 1) {
          const prev = window[i - 1];
          const cur = window[i];
          if (!prev || !cur) continue;
          const key = `${prev[0]} → ${cur[0]}`;
          const list = steps.get(key) ?? [];
          list.push(Number(cur[1] - prev[1]) / 1e6);
          steps.set(key, list);
        }
        const first = window[0];
        if (first) inside.push(Number(entry[1] - first[1]) / 1e6);
        window = undefined;
      }
    }
  }
  if (inside.length < grants * 0.9) throw new Error(`only ${String(inside.length)} of ${String(grants)} grants had a whole timeline`);
  const floor = await measureFloor(vault, undefined, 50, grants);
  const ms = (n: number): string => `${n.toFixed(3)} ms`;
  const total = summarize(totals).p50;
  const daemonP50 = summarize(inside).p50;
  const lines = [
    `grant timeline: ${String(grants)} sequential token grants, p50 of each step (${new Date().toISOString()})`,
    '',
    '| step | what happens | p50 |',
    '|---|---|---:|',
    ...[...steps].map(([key, list]) => `| ${key} | ${STEPS[key] ?? ''} | ${ms(summarize(list).p50)} |`),
    `| **in the daemon** (received → replied) | | **${ms(daemonP50)}** |`,
    `| client total | SDK, gRPC both ways, the daemon | **${ms(total)}** |`,
    `| floor: whole call | gRPC unary + Vault + 2 × durable write | ${ms(floor.grant.p50)} |`,
    `| floor: Vault call | | ${ms(floor.vault.p50)} |`,
    `| floor: 2 × durable write | | ${ms(floor.fsync.p50)} |`,
    `| gate / floor | | ${(total / floor.grant.p50).toFixed(2)}× |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  closeVaultProbe();
  await vault.stop();
  await rm(root, { recursive: true, force: true });
}
