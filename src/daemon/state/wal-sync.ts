import { open, type FileHandle } from 'node:fs/promises';
import { UnavailableError, errorMessage } from '../../common/errors.js';

/**
 * Group-committed fdatasync of a SQLite `-wal` file, on the libuv thread pool so the event loop
 * keeps running. `null` (an in-memory database) makes every sync a no-op.
 */
export class WalSync {
  readonly #walFile: string | null;
  #wal: Promise<FileHandle> | undefined;
  #syncing: Promise<void> | undefined;
  #nextSync: Promise<void> | undefined;

  constructor(walFile: string | null) {
    this.#walFile = walFile;
  }

  /**
   * Resolves once every commit made before the call is on disk. A sync already running may have
   * started before the caller's commit, so callers arriving meanwhile share the one after it.
   */
  durable(): Promise<void> {
    if (this.#walFile === null) return Promise.resolve();
    const walFile = this.#walFile;
    if (!this.#syncing) {
      this.#syncing = this.#syncWal(walFile).finally(() => {
        this.#syncing = undefined;
      });
      return this.#syncing;
    }
    this.#nextSync ??= this.#syncing
      .catch(() => undefined)
      .then(() => {
        this.#nextSync = undefined;
        return this.durable();
      });
    return this.#nextSync;
  }

  /** Waits for syncs under way, then closes the file handle. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#syncing, this.#nextSync]);
    const wal = this.#wal;
    this.#wal = undefined;
    if (wal) await wal.then((handle) => handle.close()).catch(() => undefined);
  }

  async #syncWal(walFile: string): Promise<void> {
    try {
      this.#wal ??= open(walFile, 'r');
      const handle = await this.#wal;
      await handle.datasync();
    } catch (err) {
      // Reopen next time: the handle may be what failed. Closing it is best effort.
      const wal = this.#wal;
      this.#wal = undefined;
      void wal?.then((handle) => handle.close()).catch(() => undefined);
      throw new UnavailableError(`state store: syncing ${walFile} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}
