import { UnavailableError } from '../../../common/errors.js';

/**
 * A Vault call failed. `status` is the HTTP status, or null when no answer came (refused, reset,
 * timed out). Messages carry the path and status only: Vault's own error text is kept out because
 * some endpoints echo parts of their input.
 */
export class VaultHttpError extends UnavailableError {
  constructor(
    readonly path: string,
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth another attempt: no answer at all, or a server-side failure. 4xx will not change. */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429;
  }

  /** Vault's `errors[0]`, for recognising "already gone" answers; never put into messages. */
  vaultMessage = '';
}

interface NodeVaultError {
  message?: unknown;
  code?: unknown;
  response?: { statusCode?: unknown; body?: unknown };
}

/**
 * A stand-in for the original error: axios errors carry the request config, headers included (the
 * X-Vault-Token), so they must not travel up as `cause` where a logger could serialise them.
 */
function safeCause(err: unknown): Error {
  const e = (err ?? {}) as NodeVaultError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  const text = status !== undefined ? `HTTP ${status}` : code ?? 'request failed';
  const cause = new Error(text);
  if (code !== undefined) Object.assign(cause, { code });
  return cause;
}

function describeFailure(err: unknown): string {
  const e = (err ?? {}) as NodeVaultError;
  if (typeof e.code === 'string') {
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return 'timed out';
    return `unreachable (${e.code})`;
  }
  return 'unreachable';
}

/** node-vault's failure of a call to `path`, as a `VaultHttpError` that is safe to log and show. */
export function toVaultError(path: string, err: unknown): VaultHttpError {
  const e = (err ?? {}) as NodeVaultError;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : null;
  const message = status === null ? `vault: ${path} ${describeFailure(err)}` : `vault: ${path} answered ${status}`;
  const wrapped = new VaultHttpError(path, status, message, { cause: safeCause(err) });
  const body = e.response?.body as { errors?: unknown } | undefined;
  if (body && Array.isArray(body.errors) && typeof body.errors[0] === 'string') {
    wrapped.vaultMessage = body.errors[0];
  }
  return wrapped;
}

/** A 200 answer that lacks what the call needs. */
export function malformed(path: string, what: string): VaultHttpError {
  return new VaultHttpError(path, 200, `vault: ${path} answered without ${what}`);
}

/** A 400 whose Vault message matches `gone`: the thing to revoke or look up no longer exists. */
export function isGone(err: unknown, gone: RegExp): boolean {
  return err instanceof VaultHttpError && err.status === 400 && gone.test(err.vaultMessage);
}
