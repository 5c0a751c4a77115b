import type { TrustMode } from '../../model/context.js';

/**
 * One audit event. Records are JSON objects; the writer adds `seq`, `ts`, `prev` and `hash`.
 * Never put secrets here: tokens and lease ids go through `AuditLog.hmac` first.
 */
export interface AuditEvent {
  /** e.g. `request.created`, `policy.decided`, `approval.recorded`, `grant.mint.intent`, `grant.minted`, `grant.revoke.intent`, `grant.revoked`. */
  readonly type: string;
  readonly requestId?: string;
  readonly grantId?: string;
  /** Present on every record about a request: `local` marks self-asserted context. */
  readonly trust?: TrustMode;
  readonly [field: string]: unknown;
}

export interface AppendOptions {
  /**
   * Chain the record now (its seq, ts and place in the chain are fixed at the call) but hold its
   * write back, for at most `DEFER_MS`, until a record that is not deferred or a `flush` arrives, so
   * that it shares that record's fsync. For a record whose durability nobody waits for right
   * away (the caller awaits it later, together with what follows).
   */
  readonly defer?: boolean;
}

export interface AuditLog {
  /**
   * Appends and resolves once the record is durable (fsync, group-committed). Rejects when the
   * write fails; from then on `healthy` is false and every later append rejects too.
   */
  append(event: AuditEvent, options?: AppendOptions): Promise<void>;
  /** Starts writing every record still held back by `defer` now (a no-op when there are none). */
  flush?(): void;
  readonly healthy: boolean;
  /** Called once when the log turns unhealthy. */
  onUnhealthy(listener: (err: Error) => void): void;
  /** Keyed HMAC-SHA256 (hex) of an identifier such as a token accessor or lease id. */
  hmac(value: string): string;
  close(): Promise<void>;
}
