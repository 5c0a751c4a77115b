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

export interface AuditLog {
  /**
   * Appends and resolves once the record is durable (fsync, group-committed). Rejects when the
   * write fails; from then on `healthy` is false and every later append rejects too.
   */
  append(event: AuditEvent): Promise<void>;
  readonly healthy: boolean;
  /** Called once when the log turns unhealthy. */
  onUnhealthy(listener: (err: Error) => void): void;
  /** Keyed HMAC-SHA256 (hex) of an identifier such as a token accessor or lease id. */
  hmac(value: string): string;
  close(): Promise<void>;
}
