import type { SoakSample } from './soak-sample.js';

/**
 * A hand-written SVG of a soak (no plotting dependency): three stacked panels sharing the time
 * axis — memory (RSS and V8 heap in use, MB), open file descriptors, event-loop delay p99 (ms).
 */

interface Line {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

interface Panel {
  readonly title: string;
  readonly lines: readonly Line[];
}

const WIDTH = 900;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 70, right: 20, top: 40, gap: 40, bottom: 40 };
const MB = 1024 * 1024;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function tickLabel(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

function renderPanel(panel: Panel, top: number, minutes: readonly number[], maxMinutes: number): string[] {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const all = panel.lines.flatMap((l) => l.values).filter(Number.isFinite);
  // From zero, so a flat line looks flat and growth is shown at its true scale.
  const yMax = Math.max(...all, 0) * 1.1 || 1;
  const x = (m: number): number => MARGIN.left + (maxMinutes === 0 ? 0 : (m / maxMinutes) * plotWidth);
  const y = (v: number): number => top + PANEL_HEIGHT - (v / yMax) * PANEL_HEIGHT;
  const out = [
    `<text x="${MARGIN.left}" y="${top - 8}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(
      `<line x1="${MARGIN.left}" y1="${y(v).toFixed(1)}" x2="${WIDTH - MARGIN.right}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${tickLabel(v)}</text>`,
    );
  }
  panel.lines.forEach((line, i) => {
    const points = line.values
      .map((v, j) => [minutes[j], v] as const)
      .filter((p): p is readonly [number, number] => p[0] !== undefined && Number.isFinite(p[1]))
      .map(([m, v]) => `${x(m).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ');
    out.push(
      `<polyline fill="none" stroke="${line.color}" stroke-width="1.5" points="${points}"/>`,
      `<text x="${WIDTH - MARGIN.right - 150 * (panel.lines.length - i)}" y="${top - 8}" font-size="12" fill="${line.color}">— ${escapeXml(line.label)}</text>`,
    );
  });
  return out;
}

export function renderSoakSvg(samples: readonly SoakSample[], title: string): string {
  const minutes = samples.map((s) => s.seconds / 60);
  const maxMinutes = Math.max(...minutes, 0);
  const panels: Panel[] = [
    {
      title: 'memory (MB)',
      lines: [
        { label: 'RSS', color: '#d62728', values: samples.map((s) => s.rssBytes / MB) },
        { label: 'V8 heap used', color: '#1f77b4', values: samples.map((s) => s.heapUsedBytes / MB) },
      ],
    },
    { title: 'open file descriptors', lines: [{ label: 'fds', color: '#2ca02c', values: samples.map((s) => s.fds) }] },
    { title: 'event-loop delay p99 (ms)', lines: [{ label: 'p99', color: '#9467bd', values: samples.map((s) => s.eventLoopP99Ms) }] },
  ];
  const height = MARGIN.top + panels.length * PANEL_HEIGHT + (panels.length - 1) * MARGIN.gap + MARGIN.bottom + 20;
  const body = panels.flatMap((p, i) => renderPanel(p, MARGIN.top + 20 + i * (PANEL_HEIGHT + MARGIN.gap), minutes, maxMinutes));
  const axisY = MARGIN.top + 20 + panels.length * PANEL_HEIGHT + (panels.length - 1) * MARGIN.gap;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  for (let i = 0; i <= 6; i++) {
    const m = (maxMinutes * i) / 6;
    body.push(`<text x="${(MARGIN.left + (plotWidth * i) / 6).toFixed(1)}" y="${axisY + 16}" font-size="11" text-anchor="middle">${tickLabel(m)}</text>`);
  }
  body.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${axisY + 34}" font-size="12" text-anchor="middle">minutes</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
