import { constants, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AUDIT_NODE_ID,
  CHECKPOINT_TYPE,
  GENESIS_PREV,
  LOG_OPENED_TYPE,
  LOG_REOPENED_TYPE,
  MAX_RECORD_BYTES,
  serializeRecord,
  signCheckpoint,
} from '../../common/audit-chain.js';
import type { Clock } from '../../common/clock.js';
import { InvalidArgumentError, UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { hmacHex, loadOrCreateKeys, type AuditKeys } from './audit-keys.js';
import { boundEvent } from './event-guard.js';
import { readChainTail } from './log-tail.js';
import type { AppendOptions, AuditEvent, AuditLog } from './types.js';

export { loadOrCreateKeys, type AuditKeys, type LoadOrCreateKeysOptions } from './audit-keys.js';

/**
 * The longest a deferred record (`append(e, { defer: true })`) waits for company before its write
 * starts anyway. Long enough to span the one or two event-loop turns (a state write) between a
 * record and the ones its caller issues next; short next to the fsync it saves (~0.3–1 ms here).
 */
export const DEFER_MS = 2;

/**
 * The default audit file: opened O_APPEND and, with `fsync`, O_DSYNC, so each write returns only once
 * its data (and the file size) are on disk, what write + fdatasync would give in two trips to
 * the libuv pool. One trip instead of two: the write's completion does not wait for the event
 * loop, busy with the state store's commit, to start the fsync. `sync()` then has nothing to do.
 */
export async function openAuditFile(path: string, fsync: boolean): Promise<AuditFileHandle> {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (fsync ? constants.O_DSYNC : 0);
  const handle = await open(path, flags, 0o600);
  return {
    write: (buffer, offset, length) => handle.write(buffer, offset, length),
    sync: () => (fsync ? Promise.resolve() : handle.sync()),
    close: () => handle.close(),
  };
}

/** The part of node:fs/promises FileHandle the writer uses; a test seam for failing disks. */
export interface AuditFileHandle {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileAuditLogOptions {
  readonly file: string;
  readonly signingKeyFile: string;
  readonly hmacKeyFile: string;
  /** A signed checkpoint after every N records. */
  readonly checkpointEvery: number;
  /** fsync before an append resolves. */
  readonly fsync: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * `fleet.node`: written into every record (the log's own included) so that logs shipped from many
   * daemons to one place still say which daemon wrote each line. Absent on a single host, where
   * records stay exactly as before.
   */
  readonly node?: string;
  /** Test seam: open the file for appending through this (default: O_APPEND, O_DSYNC with `fsync`, mode 0600). */
  readonly openFile?: (path: string) => Promise<AuditFileHandle>;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Opens (or continues) the hash-chained audit log. The first record of a new file is `log.opened`,
 * of a continued one `log.reopened`; both carry the signing public key and are durable before this
 * resolves, so a daemon on a full or broken disk fails at start rather than at its first grant.
 */
export async function openFileAuditLog(options: FileAuditLogOptions): Promise<AuditLog> {
  if (!Number.isSafeInteger(options.checkpointEvery) || options.checkpointEvery < 1) {
    throw new InvalidArgumentError('audit.checkpointEvery', 'must be a positive integer');
  }
  if (options.node !== undefined && !AUDIT_NODE_ID.test(options.node)) {
    throw new InvalidArgumentError('fleet.node', 'expected 1-63 letters, digits, ".", "_" or "-"');
  }
  const logger = options.logger.child({ component: 'audit' });
  const keys = await loadOrCreateKeys({ signingKeyFile: options.signingKeyFile, hmacKeyFile: options.hmacKeyFile, logger });
  const tail = await readChainTail(options.file);
  let handle: AuditFileHandle;
  try {
    await mkdir(dirname(options.file), { recursive: true, mode: 0o700 });
    handle = await (options.openFile ?? ((path: string) => openAuditFile(path, options.fsync)))(options.file);
    if (!tail) {
      // A new file's directory entry must be durable too, or a crash could lose the whole log.
      const dir = await open(dirname(options.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  } catch (err) {
    throw new UnavailableError(`cannot open audit log ${options.file}: ${errorMessage(err)}`, { cause: err });
  }
  const log = new FileAuditLog(options.file, handle, keys, options, logger, tail ?? { seq: 0, hash: GENESIS_PREV });
  try {
    await log.appendInternal({
      type: tail ? LOG_REOPENED_TYPE : LOG_OPENED_TYPE,
      public_key: keys.publicKeySpki,
      key_id: keys.keyId,
    });
  } catch (err) {
    await log.close();
    throw err;
  }
  logger.info({ file: options.file, seq: tail?.seq ?? 0, key_id: keys.keyId }, tail ? 'audit log continued' : 'audit log created');
  return log;
}

/**
 * Group commit: records are chained synchronously in call order, then every record queued while a
 * write+fsync is in flight goes out in the next single write+fsync. One fsync thus covers many
 * appends, and each append resolves only when its own batch is durable. A deferred append joins the
 * queue without starting a write (see `DEFER_MS`): a grant's records that are a state write apart
 * (`request.created` … `grant.mint.intent`) then share one fsync instead of taking two in a row.
 */
class FileAuditLog implements AuditLog {
  readonly #file: string;
  readonly #handle: AuditFileHandle;
  readonly #keys: AuditKeys;
  readonly #options: FileAuditLogOptions;
  readonly #logger: Logger;
  #seq: number;
  #prev: string;
  #sinceCheckpoint = 0;
  #lines: string[] = [];
  #waiters: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #deferTimer: NodeJS.Timeout | undefined;
  #failure: UnavailableError | undefined;
  #closed = false;
  #listeners: ((err: Error) => void)[] = [];

  constructor(
    file: string,
    handle: AuditFileHandle,
    keys: AuditKeys,
    options: FileAuditLogOptions,
    logger: Logger,
    tail: { seq: number; hash: string },
  ) {
    this.#file = file;
    this.#handle = handle;
    this.#keys = keys;
    this.#options = options;
    this.#logger = logger;
    this.#seq = tail.seq;
    this.#prev = tail.hash;
  }

  get healthy(): boolean {
    return !this.#failure && !this.#closed;
  }

  append(event: AuditEvent, options?: AppendOptions): Promise<void> {
    if (this.#failure) return Promise.reject(this.#unavailable());
    if (this.#closed) return Promise.reject(new UnavailableError(`audit log ${this.#file} is closed`));
    let body: Record<string, unknown>;
    try {
      body = boundEvent(event);
    } catch (err) {
      this.#logger.error({ err: errorMessage(err), type: event.type }, 'audit event refused');
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.appendInternal(body, options?.defer === true);
  }

  /** Chains and queues a record body that is already bounded; also used for the log's own records. */
  appendInternal(body: Record<string, unknown>, defer = false): Promise<void> {
    if (this.#failure) return Promise.reject(this.#unavailable());
    return new Promise<void>((resolve, reject) => {
      this.#chain(body); // throws inside the executor → this promise rejects, nothing queued
      this.#waiters.push({ resolve, reject });
      if (this.#sinceCheckpoint >= this.#options.checkpointEvery) this.#chainCheckpoint();
      if (!defer) this.flush();
      else if (!this.#flushing) this.#deferTimer ??= setTimeout(() => { this.flush(); }, DEFER_MS);
    });
  }

  flush(): void {
    if (this.#deferTimer) {
      clearTimeout(this.#deferTimer);
      this.#deferTimer = undefined;
    }
    // A flush in flight takes whatever is queued when its write ends: nothing to start.
    if (this.#lines.length) this.#flushing ??= Promise.resolve().then(() => this.#flush());
  }

  onUnhealthy(listener: (err: Error) => void): void {
    const failure = this.#failure;
    if (failure) {
      queueMicrotask(() => {
        this.#notify(listener, failure);
      });
      return;
    }
    this.#listeners.push(listener);
  }

  hmac(value: string): string {
    return hmacHex(this.#keys.hmacKey, value);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // A closing checkpoint signs everything written since the last one, so a clean shutdown leaves
    // no unsigned tail.
    if (!this.#failure && this.#sinceCheckpoint > 0) this.#chainCheckpoint();
    this.#closed = true;
    this.flush();
    while (this.#flushing) await this.#flushing;
    try {
      await this.#handle.close();
    } catch (err) {
      this.#logger.warn({ err: errorMessage(err), file: this.#file }, 'closing the audit log failed');
    }
  }

  #chain(body: Record<string, unknown>): void {
    const seq = this.#seq + 1;
    const { node } = this.#options;
    const { line, hash } = serializeRecord({
      ...body,
      ...(node !== undefined && { node }),
      seq,
      ts: new Date(this.#options.clock.now()).toISOString(),
      prev: this.#prev,
    });
    if (Buffer.byteLength(line, 'utf8') > MAX_RECORD_BYTES) {
      throw new InvalidArgumentError('event', `audit record would be larger than ${MAX_RECORD_BYTES} bytes`);
    }
    this.#lines.push(`${line}\n`);
    this.#seq = seq;
    this.#prev = hash;
    this.#sinceCheckpoint++;
  }

  #chainCheckpoint(): void {
    this.#chain({
      type: CHECKPOINT_TYPE,
      upto: this.#seq,
      key_id: this.#keys.keyId,
      sig: signCheckpoint(this.#keys.privateKey, this.#prev),
    });
    this.#sinceCheckpoint = 0;
  }

  async #flush(): Promise<void> {
    while (this.#lines.length && !this.#failure) {
      const batch = Buffer.from(this.#lines.join(''), 'utf8');
      const waiters = this.#waiters;
      this.#lines = [];
      this.#waiters = [];
      try {
        let offset = 0;
        while (offset < batch.length) {
          const { bytesWritten } = await this.#handle.write(batch, offset, batch.length - offset);
          if (bytesWritten <= 0) throw new Error('write made no progress');
          offset += bytesWritten;
        }
        if (this.#options.fsync) await this.#handle.sync();
      } catch (err) {
        this.#fail(err, waiters);
        break;
      }
      for (const waiter of waiters) waiter.resolve();
    }
    this.#flushing = undefined;
  }

  #fail(err: unknown, inFlight: Waiter[]): void {
    const failure = new UnavailableError(`audit log ${this.#file} write failed: ${errorMessage(err)}`, { cause: err });
    this.#failure = failure;
    const waiters = [...inFlight, ...this.#waiters];
    this.#lines = [];
    this.#waiters = [];
    this.#logger.error({ err: errorMessage(err), file: this.#file }, 'audit log write failed: refusing every further append');
    for (const waiter of waiters) waiter.reject(failure);
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) this.#notify(listener, failure);
  }

  #notify(listener: (err: Error) => void, failure: Error): void {
    try {
      listener(failure);
    } catch (err) {
      this.#logger.error({ err: errorMessage(err) }, 'audit onUnhealthy listener threw');
    }
  }

  #unavailable(): UnavailableError {
    const failure = this.#failure;
    return new UnavailableError(`audit log ${this.#file} is unavailable after a failed write`, failure ? { cause: failure } : undefined);
  }
}
