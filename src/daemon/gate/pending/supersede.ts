import type { StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import { supersedes } from '../newer-request.js';
import type { PendingEntry } from './pending-entry.js';
import type { PendingRequests } from './pending-requests.js';

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
