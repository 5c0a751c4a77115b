import { malformed } from './http-errors.js';
import type { VaultClient } from './api.js';
import { asRecord, dataOf, num } from './responses.js';
import type { VaultCall } from './transport.js';

type WrappingApi = Pick<VaultClient, 'wrap' | 'unwrap' | 'revokeSelf'>;

const WRAP = 'sys/wrapping/wrap';
const UNWRAP = 'sys/wrapping/unwrap';
const REVOKE_SELF = 'auth/token/revoke-self';

/** Response wrapping and revoke-self: fleet mode's plane wraps a grant, its owner unwraps and revokes it. */
export function wrappingApi(call: VaultCall): WrappingApi {
  return {
    wrap: (data, wrapTtlS) =>
      call(
        WRAP,
        // Whole seconds, as Vault documents the header; the daemon's own token makes the call.
        (vault) => vault.write(WRAP, data, { headers: { 'X-Vault-Wrap-TTL': String(Math.max(1, Math.ceil(wrapTtlS))) } }),
        (body) => {
          const info = asRecord(asRecord(body)?.wrap_info);
          const token = info?.token;
          if (!info || typeof token !== 'string' || token === '') throw malformed(WRAP, 'wrap_info');
          return {
            token,
            accessor: typeof info.accessor === 'string' ? info.accessor : '',
            ttlS: num(info.ttl),
            creationPath: typeof info.creation_path === 'string' ? info.creation_path : '',
          };
        },
      ),

    unwrap: (wrappingToken) =>
      // The wrapping token as the client token, never in the body: it must not sit in both places
      // (Vault then uses it up without answering), and headers are not logged by Vault's audit.
      call(UNWRAP, (vault) => vault.write(UNWRAP, {}, { headers: { 'X-Vault-Token': wrappingToken } }), (body) => dataOf(UNWRAP, body)),

    revokeSelf: (token) => call(REVOKE_SELF, (vault) => vault.write(REVOKE_SELF, {}, { headers: { 'X-Vault-Token': token } }), () => undefined),
  };
}
