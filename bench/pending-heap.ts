/**
 * `node --import tsx bench/pending-heap.ts [--count N]`: what one pending request keeps alive in
 * jitgated's JavaScript heap. Holds N require-approval requests open (as bench/measure-pending.ts
 * does), takes a V8 heap snapshot before and after (bench/heap-snapshot-hook.mjs, preloaded), and
 * prints the retained bytes per request by constructor, grouped into Node's HTTP/2, grpc-js, the
 * gate, and plain objects. Beside `bench/bare-grpc-pending.ts --heap` (the same streams on a bare
 * grpc-js server, measured the same way) it says which share of the pending-memory row is the gate's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess } from './daemon-process.js';
import { HEAP_SNAPSHOT_HOOK, heapGrowth, takeHeapSnapshot } from './heap-diff.js';
import { measurePending } from './measure-pending.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault } from './vault-process.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' } }, strict: true });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 10) throw new Error(`--count must be an integer of at least 10, not ${values.count}`);

/** Constructor names by owner; anything else is plain objects, arrays, closures and contexts. */
const OWNERS: readonly [string, RegExp][] = [
  ['Node HTTP/2 (nghttp2, Http2Stream, streams)', /Http2Stream|nghttp2|WritableState|ReadableState|BufferList|\bBuffer\b|ArrayBuffer|JSArrayBufferData|StreamBase|kHandle/],
  ['grpc-js (server call, interceptors, metadata, decoder)', /ServerInterceptingCall|ServerWritableStreamImpl|ServerDuplexStreamImpl|Metadata|StreamDecoder|\bCall\b|Listener|InterceptingListener|Deadline|ResponseMetadata/],
  ['jitgate (gate generators, pending entry, queues)', /requestAccess|#awaitApprovers|AsyncQueue|PendingEntry|PendingSlot|Generator|AsyncGeneratorRequest|RpcContext|EventTarget|AbortSignal|AbortController/],
];

const root = await mkdtemp(join(tmpdir(), 'jitgate-pending-heap-'));
const vault = await startBenchVault();
const files: string[] = [];
try {
  const config = await writeDaemonConfig(root, vault, { maxPending: count * 2 });
  const daemon = await startDaemonProcess(config, 'dist', 30_000, ['--import', HEAP_SNAPSHOT_HOOK]);
  try {
    let n = 0;
    await measurePending({
      socket: config.socket,
      resource: RESOURCE.pending,
      count,
      rss: async () => {
        files.push(await takeHeapSnapshot(daemon.pid, n++));
        return daemon.rss();
      },
    });
  } finally {
    await daemon.stop();
  }
  const [before, after] = files;
  if (before === undefined || after === undefined) throw new Error('expected two heap snapshots');
  const rows = await heapGrowth(before, after, count);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const groups = new Map<string, number>();
  for (const r of rows) {
    const owner = OWNERS.find(([, re]) => re.test(r.name))?.[0] ?? 'plain objects, arrays, strings, closures, contexts';
    groups.set(owner, (groups.get(owner) ?? 0) + r.bytes);
  }
  const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;
  const lines = [
    `pending-request heap: ${String(count)} pending requests, live JavaScript heap retained per request (${new Date().toISOString()})`,
    '',
    '| owner | per request |',
    '|---|---:|',
    ...[...groups].sort((a, b) => b[1] - a[1]).map(([owner, bytes]) => `| ${owner} | ${kib(bytes)} |`),
    `| **total** | **${kib(total)}** |`,
    '',
    '| constructor (top 20) | objects per request | bytes per request |',
    '|---|---:|---:|',
    ...rows.slice(0, 20).map((r) => `| ${r.name.replaceAll('|', '\\|')} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const f of files) await rm(f, { force: true });
  closeVaultProbe();
  await vault.stop();
  await rm(root, { recursive: true, force: true });
}
