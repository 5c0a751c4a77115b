import type { FloorRun } from './measure-floor.js';
import type { GrantRun } from './measure-grants.js';
import { summarize } from './stats.js';

/**
 * Gate and floor measured in alternating rounds rather than one phase after the other: on a
 * shared machine the load changes over the tens of seconds each phase takes, and a ratio of two
 * phases measured under different loads says more about the neighbours than about the gate.
 * `count` timed samples of each are split over `rounds`; the order alternates per round (gate
 * first, then floor first) so neither side always runs right after the other's warm-up.
 */
export async function interleaved(
  rounds: number,
  count: number,
  gate: (count: number) => Promise<GrantRun>,
  floor: (count: number) => Promise<FloorRun>,
): Promise<{ gate: GrantRun; floor: FloorRun }> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be a positive integer, not ${rounds}`);
  const g = { grant: [] as number[], release: [] as number[], late: 0 };
  const f = { grant: [] as number[], vault: [] as number[], fsync: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const n = Math.floor(count / rounds) + (r < count % rounds ? 1 : 0);
    if (n === 0) continue;
    const runGate = async (): Promise<void> => {
      const run = await gate(n);
      g.grant.push(...run.samples.grant);
      g.release.push(...run.samples.release);
      g.late += run.revokedAfterRelease;
    };
    const runFloor = async (): Promise<void> => {
      const run = await floor(n);
      f.grant.push(...run.samples.grant);
      f.vault.push(...run.samples.vault);
      f.fsync.push(...run.samples.fsync);
    };
    if (r % 2 === 0) {
      await runGate();
      await runFloor();
    } else {
      await runFloor();
      await runGate();
    }
  }
  return {
    gate: { grant: summarize(g.grant), releaseToRevoked: summarize(g.release), revokedAfterRelease: g.late, samples: { grant: g.grant, release: g.release } },
    floor: { grant: summarize(f.grant), vault: summarize(f.vault), fsync: summarize(f.fsync), samples: f },
  };
}

/** A run without its raw samples, for results.json (the summaries are what the table reads). */
export function withoutSamples<T extends { readonly samples: unknown }>(run: T): Omit<T, 'samples'> {
  const { samples: _samples, ...rest } = run;
  return rest;
}
