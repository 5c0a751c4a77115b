import { ResourceExhaustedError } from '../../../common/errors.js';
import type { RequestContext } from '../../../model/context.js';
import type { LimitsConfig } from '../../config/types.js';

/** A place in the pending queue, held from intake until the request stops pending. */
export interface PendingSlot {
  /** Gives the place back; idempotent. */
  release(): void;
}

/**
 * How many requests may wait for approvers: in all, per repository and per actor (each keyed by
 * issuer, since names from different CI issuers are different things). A slot is taken before
 * anything is recorded and counted at once, so concurrent requests cannot overshoot a limit.
 */
export class PendingLimits {
  readonly #limits: Pick<LimitsConfig, 'maxPendingRequests' | 'pendingPerRepository' | 'pendingPerActor'>;
  #total = 0;
  readonly #byRepository = new Map<string, number>();
  readonly #byActor = new Map<string, number>();

  constructor(limits: Pick<LimitsConfig, 'maxPendingRequests' | 'pendingPerRepository' | 'pendingPerActor'>) {
    this.#limits = limits;
  }

  /** Takes a slot, or throws ResourceExhaustedError (`TOO_MANY_PENDING`) naming the limit reached. */
  take(context: RequestContext): PendingSlot {
    const { maxPendingRequests, pendingPerRepository, pendingPerActor } = this.#limits;
    const issuer = context.issuer ?? context.trust;
    const repository = `${issuer}\u0000${context.repository}`;
    const actor = `${issuer}\u0000${context.actor}`;
    if (this.#total >= maxPendingRequests) {
      throw new ResourceExhaustedError(`too many pending requests (limit ${maxPendingRequests})`, { code: 'TOO_MANY_PENDING' });
    }
    if ((this.#byRepository.get(repository) ?? 0) >= pendingPerRepository) {
      throw new ResourceExhaustedError(
        `too many pending requests for repository ${context.repository} (limits.pending_per_repository: ${pendingPerRepository}); wait for approvers to decide some`,
        { code: 'TOO_MANY_PENDING' },
      );
    }
    if ((this.#byActor.get(actor) ?? 0) >= pendingPerActor) {
      throw new ResourceExhaustedError(
        `too many pending requests by actor ${context.actor} (limits.pending_per_actor: ${pendingPerActor}); wait for approvers to decide some`,
        { code: 'TOO_MANY_PENDING' },
      );
    }
    this.#total += 1;
    bump(this.#byRepository, repository, 1);
    bump(this.#byActor, actor, 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#total -= 1;
        bump(this.#byRepository, repository, -1);
        bump(this.#byActor, actor, -1);
      },
    };
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next === 0) counts.delete(key);
  else counts.set(key, next);
}
