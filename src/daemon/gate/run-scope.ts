import type { Clock } from '../../common/clock.js';
import type { RequestContext } from '../../model/context.js';

/** What a scope is keyed on: only verified token fields, the resource and the deciding rule. */
export interface ScopeSubject {
  readonly resource: string;
  /** The rule that decided: an approval under one rule never stands in for another rule's. */
  readonly rule: string | null;
  readonly context: RequestContext;
}

interface Scope {
  /** The request whose approval this is. */
  readonly approvedRequestId: string;
  /** Monotonic time at which the scope lapses. */
  readonly until: number;
}

/**
 * `approval_scope: run`: one approval covers later requests of the same run, in memory only (a
 * restart asks again, which is the safe side). A scope is keyed on the verified issuer,
 * repository, run id, run attempt, commit, resource and rule: a re-run (a new attempt), another
 * commit, another resource or another rule needs its own approval. Time is the monotonic clock, so
 * stepping the wall clock cannot stretch a scope.
 */
export class RunScopes {
  readonly #clock: Pick<Clock, 'monotonic'>;
  readonly #scopes = new Map<string, Scope>();

  constructor(clock: Pick<Clock, 'monotonic'>) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#scopes.size;
  }

  /**
   * Records that `approvedRequestId`'s approval (a quorum of approvers) covers its run for `ttlMs`
   * from now. A subject without a verified run id and attempt gets no scope.
   */
  remember(subject: ScopeSubject, approvedRequestId: string, ttlMs: number): boolean {
    const key = scopeKey(subject);
    if (key === undefined) return false;
    const now = this.#clock.monotonic();
    // Lapsed scopes go whenever one is added: the map holds only what can still be used.
    for (const [k, scope] of this.#scopes) if (scope.until <= now) this.#scopes.delete(k);
    this.#scopes.set(key, { approvedRequestId, until: now + ttlMs });
    return true;
  }

  /** The id of the approved request whose approval covers `subject`, if one still does. */
  covering(subject: ScopeSubject): string | undefined {
    const key = scopeKey(subject);
    if (key === undefined) return undefined;
    const scope = this.#scopes.get(key);
    if (scope === undefined) return undefined;
    if (scope.until <= this.#clock.monotonic()) {
      this.#scopes.delete(key);
      return undefined;
    }
    return scope.approvedRequestId;
  }
}

/** Undefined unless the context is verified (a CI token) and names its run and attempt. */
function scopeKey({ resource, rule, context: c }: ScopeSubject): string | undefined {
  if (c.trust !== 'oidc' || c.issuer === undefined || !c.runId || !c.runAttempt) return undefined;
  return JSON.stringify([c.issuer, c.repositoryId ?? null, c.repository, c.runId, c.runAttempt, c.sha, resource, rule]);
}
