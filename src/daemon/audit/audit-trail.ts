import { errorMessage, UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AppendOptions, AuditEvent, AuditLog } from './types.js';

/**
 * The ways the gate writes audit records. Two questions decide which to use: must the operation
 * stop when the record cannot be written (`orFail`, `awaitAll`) or go on (`safe`, `settled`), and
 * may the append share an fsync with the records that follow it (`issue`, then await later)?
 */
export class AuditTrail {
  readonly #log: AuditLog;
  readonly #logger: Logger;

  constructor(log: AuditLog, logger: Logger) {
    this.#log = log;
    this.#logger = logger;
  }

  get healthy(): boolean {
    return this.#log.healthy;
  }

  /** Keyed HMAC of an identifier (accessor, lease id): what the records carry instead of the value. */
  hmac(value: string): string {
    return this.#log.hmac(value);
  }

  /**
   * Starts an append without waiting for it. The writer chains records in call order and commits
   * everything queued in one write+fsync, so appends issued back to back share one fsync. The
   * returned promise is already marked handled (a caller that bails out early leaves no unhandled
   * rejection); whoever depends on the record must await it via `awaitAll` or `settled`.
   * `{ defer: true }` also holds the write back until the next record that is not deferred (or
   * `awaitAll`/`settled`, or a few ms), for a record its caller issues the next ones after a state write.
   */
  issue(event: AuditEvent, options?: AppendOptions): Promise<void> {
    let appended: Promise<void>;
    try {
      appended = options === undefined ? this.#log.append(event) : this.#log.append(event, options);
    } catch (err) {
      appended = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    appended.catch(() => undefined);
    return appended;
  }

  /**
   * Resolves once the write of the records issued so far has started: the writer starts it in the
   * microtask its first non-deferred append queued (so that the appends of one synchronous block
   * share it). Work awaited after this runs while the disk works, not before it starts.
   */
  writeStarted(): Promise<void> {
    return Promise.resolve();
  }

  /** Waits for issued appends; any failure is an UnavailableError (the operation must stop). */
  async awaitAll(appends: readonly Promise<void>[]): Promise<void> {
    // Whoever waits now must not also wait out a deferral.
    this.#log.flush?.();
    try {
      await Promise.all(appends);
    } catch (err) {
      throw new UnavailableError('audit log unavailable', { cause: err, code: 'AUDIT_UNAVAILABLE' });
    }
  }

  /** Waits for issued appends; a failure is logged (health already says NOT_SERVING) and returns false. */
  async settled(appends: readonly Promise<void>[]): Promise<boolean> {
    this.#log.flush?.();
    try {
      await Promise.all(appends);
      return true;
    } catch (err) {
      this.#logger.error({ err: errorMessage(err) }, 'audit append failed');
      return false;
    }
  }

  /** Appends or throws UnavailableError: used where a missing record must stop the operation. */
  async orFail(event: AuditEvent): Promise<void> {
    try {
      await this.#log.append(event);
    } catch (err) {
      throw new UnavailableError('audit log unavailable', { cause: err, code: 'AUDIT_UNAVAILABLE' });
    }
  }

  /** Appends; on failure logs and returns false (the log has turned unhealthy and health says so). */
  async safe(event: AuditEvent): Promise<boolean> {
    try {
      await this.#log.append(event);
      return true;
    } catch (err) {
      this.#logger.error({ event: event.type, err: errorMessage(err) }, 'audit append failed');
      return false;
    }
  }
}
