/**
 * The fuzz suites' knobs, read here (test code only; nothing in src/ reads them). `FUZZ_RUNS` sets
 * the cases per property; without it each property runs its own small default, which keeps every
 * file well under a minute on a loaded 2-core runner. The seed is fixed (2026) so that `npm test`
 * replays the same cases; `FUZZ_SEED` explores others, and a failure prints the seed and path that
 * replay it.
 */
const runs = Number.parseInt(process.env.FUZZ_RUNS ?? '', 10);
const seed = Number.parseInt(process.env.FUZZ_SEED ?? '', 10);

export const FUZZ_SEED = Number.isSafeInteger(seed) ? seed : 2026;

export function fuzzOptions(defaultRuns: number): { seed: number; numRuns: number; endOnFailure: true } {
  return { seed: FUZZ_SEED, numRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : defaultRuns, endOnFailure: true };
}
