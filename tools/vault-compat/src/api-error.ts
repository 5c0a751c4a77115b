/** An error the Vault test server answers with: `status` and Vault's `{"errors":[...]}` body. */
export class VaultApiError extends Error {
  readonly code = 'ERR_VAULT_API';
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(errors.join('; ') || `HTTP ${status}`, options);
    this.name = 'VaultApiError';
  }
}

export const badRequest = (message: string, options?: { cause?: unknown }): VaultApiError =>
  new VaultApiError(400, [message], options);
export const permissionDenied = (): VaultApiError => new VaultApiError(403, ['permission denied']);
/** Vault's "nothing here" answer: 404 with an empty error list. */
export const notFound = (): VaultApiError => new VaultApiError(404, []);
export const noRoute = (path: string): VaultApiError =>
  new VaultApiError(404, [`no handler for route "${path}". route entry not found.`]);
export const unsupportedOperation = (): VaultApiError => new VaultApiError(405, ['unsupported operation']);

/** The message of a thrown value, for error texts the server returns. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
