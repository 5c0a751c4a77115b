import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `--import` this into a process to let `takeHeapSnapshot` ask it for snapshots. */
export const HEAP_SNAPSHOT_HOOK = pathToFileURL(fileURLToPath(new URL('./heap-snapshot-hook.mjs', import.meta.url))).href;

/**
 * Asks process `pid` (running HEAP_SNAPSHOT_HOOK) for its `n`-th snapshot (SIGUSR2) and waits for
 * the file: the process writes it synchronously, so it is complete once its size stops changing.
 */
export async function takeHeapSnapshot(pid: number, n: number): Promise<string> {
  const file = join(tmpdir(), `jitgate-heap-${String(pid)}-${String(n)}.heapsnapshot`);
  process.kill(pid, 'SIGUSR2');
  let last = -1;
  for (let i = 0; i < 600; i += 1) {
    await sleep(250);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size > 0 && size === last) return file;
    last = size;
  }
  throw new Error(`no heap snapshot at ${file}`);
}

/** Heap bytes per unit between two snapshot files. */
export async function heapGrowth(before: string, after: string, units: number): Promise<{ name: string; count: number; bytes: number }[]> {
  return censusGrowth(await heapCensus(before), await heapCensus(after), units);
}

/** Live objects of one V8 heap snapshot, by kind and constructor: count and self size (bytes). */
export type HeapCensus = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Reads a `.heapsnapshot` (only live objects are in it: V8 collects garbage before writing). */
export async function heapCensus(file: string): Promise<HeapCensus> {
  const s = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const census: HeapCensus = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] ?? 0] ?? '?';
    const raw = s.strings[s.nodes[i + iName] ?? 0] ?? '';
    // Strings and numbers are named by their value: one bucket each.
    const name = /string$/.test(type) ? '(strings)' : type === 'number' ? '(numbers)' : type === 'code' ? '(compiled code)' : `${type} ${raw.slice(0, 60)}`;
    const entry = census.get(name) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += s.nodes[i + iSize] ?? 0;
    census.set(name, entry);
  }
  return census;
}

/** Per-unit growth from `before` to `after`, largest first. */
export function censusGrowth(before: HeapCensus, after: HeapCensus, units: number): { name: string; count: number; bytes: number }[] {
  const rows: { name: string; count: number; bytes: number }[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, bytes: 0 };
    rows.push({ name, count: (a.count - b.count) / units, bytes: (a.bytes - b.bytes) / units });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
