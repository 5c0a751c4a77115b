/**
 * Fails on any import cycle between folders (dependency-cruiser's no-circular only sees modules:
 * `gate/a.ts → state/b.ts` and `state/c.ts → gate/d.ts` are no module cycle, yet gate and state
 * can then no longer be read or changed apart).
 *
 *   node --import tsx scripts/check-folder-cycles.ts [--base-dir DIR] [ROOT ...]   (default ROOT: src)
 *
 * Folders are compared level by level: at each depth, every file is counted in its folder at that
 * depth (`src/daemon/gate/pending/x.ts` is in `src/daemon` at depth 2, in `src/daemon/gate` at
 * depth 3), and the folders at that depth must form no cycle. Files lying directly in a shallower
 * folder are left out of that depth: a folder's own files and its subfolders may use each other
 * (a façade and its parts, the parts and the folder's ports), and real cycles among those files
 * are still caught at module level. Exit code: 0 no cycle, 1 cycles found, 2 the check could not run.
 */
import { cruise, type ICruiseResult, type IModule } from 'dependency-cruiser';
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One folder-to-folder edge, with one import that makes it (for the report). */
export interface FolderEdge {
  readonly from: string;
  readonly to: string;
  readonly example: { readonly from: string; readonly to: string };
}

/** A cycle found at one depth: the folders involved and the edges between them. */
export interface FolderCycle {
  readonly depth: number;
  readonly folders: readonly string[];
  readonly edges: readonly FolderEdge[];
}

/** The folder of `file` at `depth` path segments, or undefined when the file lies shallower. */
function folderAt(file: string, depth: number): string | undefined {
  const dirs = posix.dirname(file).split('/');
  return dirs.length >= depth ? dirs.slice(0, depth).join('/') : undefined;
}

function isUnder(file: string, roots: readonly string[]): boolean {
  return roots.some((root) => file.startsWith(`${root}/`));
}

/** File-to-file edges between local modules under the roots. */
export function moduleEdges(modules: readonly IModule[], roots: readonly string[]): [string, string][] {
  const edges: [string, string][] = [];
  for (const module of modules) {
    if (!isUnder(module.source, roots)) continue;
    for (const dep of module.dependencies) {
      if (dep.couldNotResolve || dep.coreModule || !isUnder(dep.resolved, roots)) continue;
      edges.push([module.source, dep.resolved]);
    }
  }
  return edges;
}

/** Folder edges at one depth (see the file comment for which files count). */
export function folderEdgesAt(edges: readonly (readonly [string, string])[], depth: number): FolderEdge[] {
  const byKey = new Map<string, FolderEdge>();
  for (const [fromFile, toFile] of edges) {
    const from = folderAt(fromFile, depth);
    const to = folderAt(toFile, depth);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}\n${to}`;
    if (!byKey.has(key)) byKey.set(key, { from, to, example: { from: fromFile, to: toFile } });
  }
  return [...byKey.values()];
}

/** Strongly connected components with more than one folder (Tarjan), each sorted. */
export function folderCycles(edges: readonly FolderEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    if (!next.has(e.to)) next.set(e.to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) components.push(component.sort());
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** Every folder cycle under the roots, shallowest first. */
export function findFolderCycles(modules: readonly IModule[], roots: readonly string[]): FolderCycle[] {
  const edges = moduleEdges(modules, roots);
  const deepest = Math.max(0, ...edges.flat().map((file) => posix.dirname(file).split('/').length));
  const cycles: FolderCycle[] = [];
  for (let depth = 1; depth <= deepest; depth++) {
    const folderEdges = folderEdgesAt(edges, depth);
    for (const folders of folderCycles(folderEdges)) {
      const members = new Set(folders);
      cycles.push({ depth, folders, edges: folderEdges.filter((e) => members.has(e.from) && members.has(e.to)) });
    }
  }
  return cycles;
}

/** Cruises the roots (relative to baseDir) and returns their folder cycles. */
export async function checkFolderCycles(baseDir: string, roots: readonly string[]): Promise<{ cycles: FolderCycle[]; modules: number }> {
  const normalized = roots.map((root) => posix.normalize(root).replace(/\/+$/, ''));
  const result = await cruise([...normalized], { baseDir, tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' }, validate: false });
  if (typeof result.output === 'string') throw new Error('dependency-cruiser returned text where a cruise result was expected');
  const { modules }: ICruiseResult = result.output;
  return { cycles: findFolderCycles(modules, normalized), modules: modules.filter((m) => isUnder(m.source, normalized)).length };
}

export function formatCycle(cycle: FolderCycle): string {
  const lines = [`folder cycle: ${cycle.folders.join(' ↔ ')}`];
  for (const e of cycle.edges) lines.push(`  ${e.from} → ${e.to}   (e.g. ${e.example.from} → ${e.example.to})`);
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): { baseDir: string; roots: string[] } {
  let baseDir = process.cwd();
  const roots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--base-dir') {
      const value = argv[++i];
      if (value === undefined) throw new Error('--base-dir needs a directory');
      baseDir = value;
    } else if (arg !== undefined) {
      roots.push(arg);
    }
  }
  return { baseDir, roots: roots.length > 0 ? roots : ['src'] };
}

async function main(): Promise<number> {
  const { baseDir, roots } = parseArgs(process.argv.slice(2));
  const { cycles, modules } = await checkFolderCycles(baseDir, roots);
  if (cycles.length === 0) {
    process.stdout.write(`✔ no folder cycles in ${roots.join(', ')} (${modules} modules)\n`);
    return 0;
  }
  process.stderr.write(`${cycles.map(formatCycle).join('\n\n')}\n\nx ${cycles.length} folder cycle(s) in ${roots.join(', ')}\n`);
  return 1;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && realpathSync(invokedPath) === realpathSync(fileURLToPath(import.meta.url))) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`check-folder-cycles: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
