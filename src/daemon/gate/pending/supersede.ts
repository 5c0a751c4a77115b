import type { RequestContext } from '../../../model/context.js';
import type { StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import type { PendingEntry } from './pending-entry.js';
import type { PendingRequests } from './pending-requests.js';

const DECIMAL = /^[0-9]{1,30}$/;

/**
 * Whether `later` (the request that arrived after `earlier`) is the newer one. The verified run id
 * (GitHub `run_id`, GitLab `pipeline_id`) grows with each run, so it decides when both have one and
 * they differ: a re-run of an old commit that arrives late is older, not newer. Without two
 * comparable ids, arrival order decides, and `later` arrived later.
 */
export function isNewerRun(later: Pick<RequestContext, 'runId'>, earlier: Pick<RequestContext, 'runId'>): boolean {
  const a = later.runId;
  const b = earlier.runId;
  if (a === undefined || b === undefined || !DECIMAL.test(a) || !DECIMAL.test(b)) return true;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x === y || x > y;
}

/** A rule's `supersede`, or its default: on for branches, off for tags and anything else. */
export function supersedeEnabled(entry: Pick<PendingEntry, 'require' | 'request'>): boolean {
  return entry.require.supersede ?? entry.request.context.ref.startsWith('refs/heads/');
}

/** The verified fields that make two requests "the same deployment": never anything the client claimed. */
function sameTarget(a: StoredRequest, b: StoredRequest): boolean {
  const x = a.context;
  const y = b.context;
  return (
    a.resource === b.resource &&
    x.trust === y.trust &&
    x.issuer === y.issuer &&
    x.repository === y.repository &&
    x.repositoryId === y.repositoryId &&
    x.workflow === y.workflow &&
    x.ref === y.ref
  );
}

/** Whether `newer`, just arrived, makes the pending `entry` stale. */
export function supersedes(newer: StoredRequest, entry: PendingEntry): boolean {
  const old = entry.request;
  return (
    old.id !== newer.id &&
    old.status === 'pending' &&
    old.context.sha !== newer.context.sha &&
    sameTarget(newer, old) &&
    supersedeEnabled(entry) &&
    isNewerRun(newer.context, old.context)
  );
}

/**
 * Ends pending requests that a newer commit's request replaced: approving one would deploy old
 * code. Each ends denied (SUPERSEDED), audited as `request.superseded` with the request and commit
 * that replaced it, and its notifier messages are edited through the usual `decided` event.
 */
export class Superseder {
  readonly #core: GateCore;
  readonly #pending: PendingRequests;

  constructor(core: GateCore, pending: PendingRequests) {
    this.#core = core;
    this.#pending = pending;
  }

  /**
   * Called once `newer` is recorded and waits for approvers. A linear pass: the pending limits bound
   * the entries, and an index would have to follow every way a request stops pending.
   */
  async supersedeOlder(newer: StoredRequest): Promise<void> {
    const stale = [...this.#pending.entries()].filter((entry) => supersedes(newer, entry));
    await Promise.all(stale.map((entry) => this.#pending.withLock(entry, () => this.#end(entry, newer))));
  }

  async #end(entry: PendingEntry, newer: StoredRequest): Promise<void> {
    if (entry.request.status !== 'pending') return;
    const { audit, log } = this.#core;
    const sha = newer.context.sha.slice(0, 7);
    const reason = `superseded by a newer commit ${sha} (request ${newer.id})`;
    await audit.safe({ type: 'request.superseded', requestId: entry.request.id, trust: entry.request.context.trust, supersededBy: newer.id, sha });
    log.info({ requestId: entry.request.id, supersededBy: newer.id, sha }, 'request superseded');
    await this.#pending.finish(entry, { status: 'denied', reason, code: 'SUPERSEDED' });
  }
}
