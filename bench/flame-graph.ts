/**
 * A V8 `.cpuprofile` (from `node --cpu-prof`) as folded stacks, a flame graph SVG and a summary of
 * the top self-time and inclusive-time frames — no dependency, so the bench can make one offline.
 * `node --import tsx bench/flame-graph.ts PROFILE OUT_PREFIX` writes OUT_PREFIX.folded.txt,
 * OUT_PREFIX.svg and OUT_PREFIX.summary.txt. The `(idle)` samples (the loop waiting on I/O) are
 * left out of the graph and the percentages, so they read as shares of busy CPU time.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** `fn path:line`, with paths made short: the repository root and everything up to node_modules/ cut. */
export function frameName(frame: CallFrame): string {
  const fn = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return fn;
  let path = frame.url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) path = path.slice(nm);
  else if (path.startsWith(REPO)) path = path.slice(REPO.length);
  return `${fn} ${path}:${frame.lineNumber + 1}`;
}

/** Where a frame's code lives: an npm package, a Node built-in, the daemon's own file, or V8. */
export function frameArea(name: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(name)?.[1];
  if (pkg) return pkg;
  if (/ node:/.test(name)) return 'node: built-ins';
  if (/ (dist\/)?src\//.test(name)) return 'jitgate src/';
  // No script URL: a native binding (fs write/fsync, socket writev, crypto) or a V8 builtin.
  return name.startsWith('(') ? name : 'native bindings';
}

interface Weighted {
  /** Self time per node id, in microseconds. */
  readonly self: Map<number, number>;
  readonly parent: Map<number, number>;
  readonly byId: Map<number, ProfileNode>;
}

function weigh(profile: CpuProfile): Weighted {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the gap after it.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (id === undefined) continue;
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + Math.max(0, us));
  }
  return { self, parent, byId };
}

function stackOf(w: Weighted, id: number): string[] {
  const names: string[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = w.parent.get(cur)) {
    const node = w.byId.get(cur);
    if (node && node.callFrame.functionName !== '(root)') names.push(frameName(node.callFrame));
  }
  return names.reverse();
}

export interface ProfileSummary {
  readonly folded: Map<string, number>;
  readonly busyUs: number;
  readonly idleUs: number;
  readonly selfByFrame: Map<string, number>;
  readonly inclusiveByFrame: Map<string, number>;
  readonly selfByArea: Map<string, number>;
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const w = weigh(profile);
  const folded = new Map<string, number>();
  const selfByFrame = new Map<string, number>();
  const inclusiveByFrame = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  const add = (m: Map<string, number>, k: string, v: number): void => { m.set(k, (m.get(k) ?? 0) + v); };
  for (const [id, us] of w.self) {
    const stack = stackOf(w, id);
    const leaf = stack.at(-1) ?? '(root)';
    if (leaf === '(idle)') { idleUs += us; continue; }
    busyUs += us;
    add(folded, stack.join(';'), us);
    add(selfByFrame, leaf, us);
    add(selfByArea, frameArea(leaf), us);
    // Recursion: a frame counts once per sample however often it is on the stack.
    for (const name of new Set(stack)) add(inclusiveByFrame, name, us);
  }
  return { folded, busyUs, idleUs, selfByFrame, inclusiveByFrame, selfByArea };
}

interface Tree {
  readonly name: string;
  total: number;
  readonly children: Map<string, Tree>;
}

function toTree(folded: Map<string, number>): Tree {
  const root: Tree = { name: 'all', total: 0, children: new Map() };
  for (const [path, us] of folded) {
    root.total += us;
    let node = root;
    for (const name of path.split(';')) {
      let child = node.children.get(name);
      if (!child) { child = { name, total: 0, children: new Map() }; node.children.set(name, child); }
      child.total += us;
      node = child;
    }
  }
  return root;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function colour(name: string): string {
  const area = frameArea(name);
  let h = 0;
  for (const ch of area) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  if (area === 'jitgate src/') return 'hsl(140,55%,60%)';
  if (area.startsWith('(')) return 'hsl(0,0%,75%)';
  return `hsl(${10 + (h % 50)},${70 + (h % 20)}%,${58 + (h % 12)}%)`;
}

/** A classic flame graph (root at the bottom, width = share of busy time), hover titles for detail. */
export function flameSvg(folded: Map<string, number>, title: string): string {
  const WIDTH = 1600;
  const ROW = 17;
  const tree = toTree(folded);
  let depth = 0;
  const rects: { x: number; w: number; level: number; name: string; pct: number }[] = [];
  const walk = (node: Tree, x: number, level: number): void => {
    depth = Math.max(depth, level);
    let cx = x;
    for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const w = (child.total / tree.total) * WIDTH;
      if (w >= 0.3) {
        rects.push({ x: cx, w, level, name: child.name, pct: (100 * child.total) / tree.total });
        walk(child, cx, level + 1);
      }
      cx += w;
    }
  };
  walk(tree, 0, 0);
  const height = (depth + 1) * ROW + 40;
  const body = rects.map(({ x, w, level, name, pct }) => {
    const y = height - (level + 1) * ROW - 4;
    const chars = Math.floor((w - 4) / 6.5);
    const label = chars >= 3 ? escapeXml(name.length > chars ? `${name.slice(0, chars - 1)}…` : name) : '';
    return `<g><title>${escapeXml(name)} — ${pct.toFixed(2)}%</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${colour(name)}" rx="1"/>` +
      (label ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}">${label}</text>` : '') + '</g>';
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fdfdf6"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function top(m: Map<string, number>, busyUs: number, n: number): string[] {
  return [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, us]) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}

export function summaryText(s: ProfileSummary, source: string): string {
  return [
    `profile: ${source}`,
    `busy ${(s.busyUs / 1000).toFixed(0)} ms, idle ${(s.idleUs / 1000).toFixed(0)} ms; percentages are of busy time`,
    '',
    'top self time, by area:',
    ...top(s.selfByArea, s.busyUs, 15),
    '',
    'top self time, by frame:',
    ...top(s.selfByFrame, s.busyUs, 25),
    '',
    'top inclusive time, by frame:',
    ...top(s.inclusiveByFrame, s.busyUs, 40),
    '',
  ].join('\n');
}

/** Writes PREFIX.folded.txt, PREFIX.svg and PREFIX.summary.txt; returns the summary. */
export async function renderProfile(profileFile: string, prefix: string): Promise<string> {
  const profile = JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile;
  const s = summarizeProfile(profile);
  const folded = [...s.folded.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, us]) => `${k} ${Math.round(us)}`);
  await writeFile(`${prefix}.folded.txt`, `${folded.join('\n')}\n`);
  const name = profileFile.split('/').at(-1) ?? profileFile;
  await writeFile(`${prefix}.svg`, flameSvg(s.folded, `jitgated CPU, bench grant path (${name}), busy ${(s.busyUs / 1000).toFixed(0)} ms`));
  const text = summaryText(s, name);
  await writeFile(`${prefix}.summary.txt`, text);
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, prefix] = process.argv.slice(2);
  if (file === undefined || prefix === undefined) throw new Error('usage: flame-graph.ts PROFILE OUT_PREFIX');
  process.stdout.write(await renderProfile(file, prefix));
}
