import { JitgateClient, type JitgateClientOptions, type RequestOptions } from './client.js';
import type { Grant } from './grant.js';

/**
 * What {@link requestAccess} needs: the request itself, plus where the daemon is and how the step
 * proves who it is. Approver settings (`approver`, `bearerToken`) are absent: this is the
 * requester's call. `context` is the context claimed for this request.
 */
export interface RequestAccessOptions extends RequestOptions, Omit<JitgateClientOptions, 'approver' | 'bearerToken' | 'context'> {}

/** The connection settings, without keys the caller left out (exactOptionalPropertyTypes). */
function clientOptions(options: RequestAccessOptions): JitgateClientOptions {
  const client: JitgateClientOptions = {};
  if (options.socket !== undefined) client.socket = options.socket;
  if (options.address !== undefined) client.address = options.address;
  if (options.rootCerts !== undefined) client.rootCerts = options.rootCerts;
  if (options.idToken !== undefined) client.idToken = options.idToken;
  if (options.rpcTimeoutMs !== undefined) client.rpcTimeoutMs = options.rpcTimeoutMs;
  return client;
}

/**
 * One-shot access: connects to `jitgated`, asks for the resource, and resolves with the grant once
 * credentials are minted. The connection belongs to the grant: it is closed when the grant ends
 * (released, or revoked by the daemon), or at once when the request fails.
 *
 * ```ts
 * import { requestAccess } from 'jitgate';
 *
 * await using grant = await requestAccess({ resource: 'prod-db', reason: 'migration' });
 * await runMigration(grant.credentials.PGUSER, grant.credentials.PGPASSWORD);
 * // Leaving the scope releases the grant (the credentials are revoked) and closes the connection.
 * ```
 *
 * Rejects like {@link JitgateClient.request}: `AccessDeniedError` when denied or expired, the
 * abort reason when `signal` aborts, otherwise the typed error of the failure.
 */
export async function requestAccess(options: RequestAccessOptions): Promise<Grant> {
  const { socket, address, rootCerts, idToken, rpcTimeoutMs, ...request } = options;
  const client = new JitgateClient(clientOptions(options));
  let grant: Grant;
  try {
    grant = await client.request(request);
  } catch (err) {
    client.close();
    throw err;
  }
  // `ended` never rejects; closing before it would drop the stream, which the daemon reads as a revoke.
  void grant.ended.then(() => {
    client.close();
  });
  return grant;
}
