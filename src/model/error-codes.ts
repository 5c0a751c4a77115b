/**
 * Stable error codes the daemon returns to clients, in the gRPC trailing metadata key
 * {@link ERROR_CODE_METADATA_KEY} and on every denied/expired `AccessUpdate`. Clients branch on
 * these, never on message text. A code, once published, never changes meaning; new ones may be added.
 *
 * Each specific code refines one generic code (`ERR_*`, one per error class), which is what a
 * client sees when no specific code applies.
 */
export const ERROR_CODES = {
  // Policy and input
  POLICY_NO_MATCH: 'no policy rule matched the request (default deny)',
  POLICY_DENY: 'the matching policy rule denies the request',
  TTL_EXCEEDS_MAX: 'the requested TTL exceeds the resource max_ttl and the resource denies excess',
  UNKNOWN_RESOURCE: 'the resource is not configured',
  // Identity
  TOKEN_INVALID: 'the CI token failed verification (signature, issuer, audience, time, claims)',
  TOKEN_REPLAYED: 'the CI token (its jti) was already used',
  CONTEXT_MISMATCH: 'a context field the client claimed differs from the verified token',
  APPROVER_UNAUTHENTICATED: 'the approver presented no acceptable identity',
  // Approvals
  SELF_APPROVAL: 'the requester (or commit author) cannot approve their own request',
  NOT_AN_APPROVER: 'the approver is not among those allowed to decide this request',
  DENIED_BY_APPROVER: 'an approver denied the request',
  EXPIRED: 'the request expired without a decision',
  ALREADY_DECIDED: 'the request is already in a final state',
  CANCELLED: 'the requester cancelled the request',
  BREAK_GLASS_NOT_ALLOWED: 'the rule allows no break-glass, or the approver is not in its break-glass groups',
  NOT_BREAK_GLASS: 'the request was not granted by break-glass, so there is nothing to review',
  ALREADY_REVIEWED: 'the break-glass grant was already reviewed',
  SELF_REVIEW: 'whoever broke the glass cannot review it',
  STEP_UP_REQUIRED: 'the resource needs a fresh IdP sign-in to approve (step-up): approve on the web page',
  SUPERSEDED: 'a request for a newer commit of the same repository, workflow, ref and resource replaced it',
  // Grants
  RELEASE_TOKEN_MISMATCH: 'the release token does not match the grant',
  REQUEST_NOT_FOUND: 'no such request',
  GRANT_NOT_FOUND: 'no such grant',
  // Capacity and dependencies
  TOO_MANY_PENDING: 'the daemon holds too many pending requests',
  SHUTDOWN: 'the daemon is shutting down',
  AUDIT_UNAVAILABLE: 'the audit log cannot be written; no grants until it is repaired',
  STATE_UNAVAILABLE: 'the state store cannot be read or written',
  VAULT_UNAVAILABLE: 'Vault failed or was unreachable while minting',
  WRAPPING_TOKEN_INVALID: 'the wrapping token of a plane-minted grant was already unwrapped, expired or unknown (a second unwrap means someone else had it)',
  // Generic codes, one per error class, when nothing more specific applies
  ERR_INVALID_ARGUMENT: 'a field of the request is malformed (the message names it)',
  ERR_NOT_FOUND: 'not found',
  ERR_IDENTITY: 'the caller’s identity could not be established',
  ERR_PERMISSION_DENIED: 'the caller is known but not allowed',
  ERR_CONFLICT: 'the request is not in a state that allows the operation',
  ERR_RESOURCE_EXHAUSTED: 'a limit was reached',
  ERR_UNAVAILABLE: 'a dependency failed; retryable',
  ERR_ACCESS_DENIED: 'the request ended without credentials',
  ERR_CONFIG: 'the configuration is invalid (the message names the key)',
  ERR_INTERNAL: 'an unexpected error (details are in the daemon log)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The gRPC trailing-metadata key that carries an {@link ErrorCode}. */
export const ERROR_CODE_METADATA_KEY = 'jitgate-error-code';

/** Narrows an untrusted string (e.g. received metadata) to a known code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
