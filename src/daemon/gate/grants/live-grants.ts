import type { AsyncQueue } from '../../../common/async-queue.js';
import type { TimerHandle } from '../../../common/clock.js';
import type { StoredGrant, StoredRequest } from '../../state/store.js';

/** A grant this process handed out (or is about to): what release, revocation and the TTL act on. */
export interface LiveGrant {
  readonly stored: StoredGrant;
  readonly releaseToken: string;
  readonly request: StoredRequest;
  /** Receives why the grant ended, then ends: the step's stream then says `released`. */
  readonly ended: AsyncQueue<string>;
  timer?: TimerHandle;
  revoking?: Promise<void>;
}

/** The grants this process holds, and the mints still at Vault (so shutdown can wait for them). */
export class LiveGrants {
  readonly #grants = new Map<string, LiveGrant>();
  /** Mints in flight: each settles once its grant is held here (or the mint failed). */
  readonly #minting = new Set<Promise<void>>();

  get size(): number {
    return this.#grants.size;
  }

  get(id: string): LiveGrant | undefined {
    return this.#grants.get(id);
  }

  has(id: string): boolean {
    return this.#grants.has(id);
  }

  add(live: LiveGrant): void {
    this.#grants.set(live.stored.id, live);
  }

  delete(id: string): void {
    this.#grants.delete(id);
  }

  all(): LiveGrant[] {
    return [...this.#grants.values()];
  }

  forRequest(requestId: string): LiveGrant | undefined {
    return [...this.#grants.values()].find((g) => g.request.id === requestId);
  }

  /** Marks a mint as in flight; call the returned function once it is held here or has failed. */
  startMint(): () => void {
    let settled!: () => void;
    const minting = new Promise<void>((resolve) => {
      settled = resolve;
    });
    this.#minting.add(minting);
    return () => {
      this.#minting.delete(minting);
      settled();
    };
  }

  /** Resolves when every mint in flight now has settled. */
  async mintsSettled(): Promise<void> {
    await Promise.allSettled([...this.#minting]);
  }
}
