import { InvalidArgumentError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+)(ms|s|m|h|d)/g;

/**
 * Parses Go-style durations ("500ms", "60s", "15m", "1h30m") into milliseconds.
 * A bare number is refused: "60" could mean seconds or milliseconds, and guessing is how TTLs go wrong.
 */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) {
    throw new InvalidArgumentError(field, `invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 60s, 15m, 1h)`);
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART_RE)) {
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  if (!Number.isSafeInteger(total) || total <= 0) {
    throw new InvalidArgumentError(field, `duration ${JSON.stringify(text)} must be positive`);
  }
  return total;
}

/** Formats milliseconds compactly ("90s" → "1m30s"), for messages and CLI output. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
