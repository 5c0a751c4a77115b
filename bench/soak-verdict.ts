/**
 * The soak's pass/fail rule, kept pure so it is unit-tested on synthetic series: a quantity is
 * "growing without bound" when the least-squares slope over the last half of its samples (after
 * start-up and warm-up have settled) is above a threshold per minute.
 */

export interface SeriesPoint {
  /** Minutes since the soak started. */
  readonly minutes: number;
  readonly value: number;
}

/** Least-squares slope (value units per minute); NaN for fewer than two distinct times. */
export function leastSquaresSlope(points: readonly SeriesPoint[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((s, p) => s + p.minutes, 0) / n;
  const meanY = points.reduce((s, p) => s + p.value, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.minutes - meanX) * (p.value - meanY);
    sxx += (p.minutes - meanX) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** The later half of the samples (the earlier half is start-up and warm-up). */
export function lastHalf<T>(samples: readonly T[]): T[] {
  return samples.slice(Math.floor(samples.length / 2));
}

export interface SlopeCheck {
  readonly metric: string;
  readonly unit: string;
  /** Slope over the last half, in `unit` per minute. */
  readonly slopePerMinute: number;
  readonly maxPerMinute: number;
  /** Points the slope was fitted on. */
  readonly points: number;
  readonly ok: boolean;
}

/** Fewer points than this in the last half cannot tell growth from noise: the check fails. */
export const MIN_POINTS = 3;

/**
 * Checks one series. Fails closed: too few points, or a slope that is not a number, is a failure
 * rather than a pass (a soak too short to judge proves nothing).
 */
export function checkSlope(metric: string, unit: string, series: readonly SeriesPoint[], maxPerMinute: number): SlopeCheck {
  const window = lastHalf(series);
  const slopePerMinute = leastSquaresSlope(window);
  const ok = window.length >= MIN_POINTS && Number.isFinite(slopePerMinute) && slopePerMinute <= maxPerMinute;
  return { metric, unit, slopePerMinute, maxPerMinute, points: window.length, ok };
}
