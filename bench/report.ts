import { cpus, release, totalmem } from 'node:os';

export interface Target {
  readonly op: '<=' | '>=';
  readonly value: number;
}

export interface Figure {
  /** Stable key, e.g. `grant.token.p50`. */
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
}

export interface Results {
  readonly command: string;
  /** How the daemon ran: compiled (`dist`, as deployed) or the sources under `tsx`. */
  readonly daemon: 'dist' | 'tsx';
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly figures: readonly (Figure & { readonly pass: boolean | null })[];
  /** Per-measurement raw summaries, for whoever wants more than the table. */
  readonly details: Readonly<Record<string, unknown>>;
}

export function machineInfo(): Machine {
  const all = cpus();
  return {
    cpus: all.length,
    cpuModel: all[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

export function passes(figure: Figure): boolean | null {
  const t = figure.target;
  if (!t) return null;
  if (!Number.isFinite(figure.value)) return false;
  return t.op === '<=' ? figure.value <= t.value : figure.value >= t.value;
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const n = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === '×' ? `${n}×` : `${n} ${unit}`;
}

/** The results as a Markdown table (readable on a terminal, pasteable into the README). */
export function renderTable(results: Results): string {
  const m = results.machine;
  const lines = [
    `jitgate bench (${results.mode}) — ${results.startedAt}, ${results.durationSeconds.toFixed(0)} s`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}`,
    `command: ${results.command} (daemon: ${results.daemon === 'dist' ? 'compiled dist/' : 'sources under tsx'})`,
    '',
    '| figure | value | target | result |',
    '|---|---:|---:|:---:|',
  ];
  for (const f of results.figures) {
    const target = f.target ? `${f.target.op === '<=' ? '≤' : '≥'} ${format(f.target.value, f.unit)}` : '';
    const mark = f.pass === null ? '' : f.pass ? 'pass' : '**MISS**';
    lines.push(`| ${f.label} | ${format(f.value, f.unit)} | ${target} | ${mark} |`);
  }
  return `${lines.join('\n')}\n`;
}
